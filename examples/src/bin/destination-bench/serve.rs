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
/// EOF of stdin prints the emulator's API calls, the connections accepted and the bytes
/// each way (of connections closed by then).
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
    // Bytes client → emulator and back, as on the wire (compressed bodies compressed).
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let (counter, up_count, down_count) = (accepted.clone(), up.clone(), down.clone());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            let (up, down) = (up_count.clone(), down_count.clone());
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    if let Ok((sent, received)) =
                        tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                    {
                        up.fetch_add(sent, Ordering::Relaxed);
                        down.fetch_add(received, Ordering::Relaxed);
                    }
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
    // Give the proxy's copies a moment to see the client's connections close.
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!(
        "api_calls={} connections={} bytes_up={} bytes_down={}",
        emu.api_calls(),
        accepted.load(Ordering::Relaxed),
        up.load(Ordering::Relaxed),
        down.load(Ordering::Relaxed)
    );
    Ok(())
}
