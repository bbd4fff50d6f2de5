//! The `serve` subcommand: one path's seeded emulator on a fixed port, behind a TCP proxy that
//! counts the connections clients open, until stdin closes. For profiling the `client`
//! subcommand alone (e.g. under `valgrind --tool=callgrind`) against an emulator in another
//! process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use tokio::net::{TcpListener, TcpStream};

use crate::workload::{Workload, path};

/// Arguments of the `serve` subcommand.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The path whose emulator to start (its name, as in the table).
    #[arg(long, default_value = "upsert by Email (lookup + update/create)")]
    path: String,
    /// Events the workload is seeded for (half of them exist for upsert paths).
    #[arg(long, default_value_t = 5_000)]
    events: usize,
    /// Latency the emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Server time per written record, in microseconds.
    #[arg(long, default_value_t = 0)]
    record_cost_us: u64,
    /// Port of the counting proxy clients connect to (on 127.0.0.1).
    #[arg(long, default_value_t = 18_080)]
    port: u16,
}

/// Starts the emulator and the proxy, prints the client's `--instance-url` and `--token`, and on
/// EOF of stdin prints the emulator's API calls and the connections accepted.
pub(crate) async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let path = path(&args.path).ok_or_else(|| format!("unknown path {:?}", args.path))?;
    let workload = Workload {
        path,
        events: args.events,
        batch: 1,
        latency: Duration::from_millis(args.latency_ms),
        record_cost: Duration::from_micros(args.record_cost_us),
    };
    let emu = workload.start_emulator().await?;
    let upstream = emu.local_addr();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    println!(
        "--instance-url http://127.0.0.1:{} --token {}",
        args.port,
        emu.access_token()
    );
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
    })
    .await??;
    println!(
        "api_calls={} connections={}",
        emu.api_calls(),
        accepted.load(Ordering::Relaxed)
    );
    Ok(())
}
