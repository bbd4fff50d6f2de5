//! The `client` subcommand: one path's events through `Destination::send`, in a child process
//! so its CPU and memory are measured alone.

use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventStatus, Settings};

use crate::phases::Phases;
use crate::proc_stats;
use crate::workload::{event, path};

/// Arguments of the hidden `client` subcommand.
#[derive(Args, Debug)]
pub(crate) struct ClientArgs {
    #[arg(long)]
    instance_url: String,
    #[arg(long)]
    token: String,
    #[arg(long)]
    path: String,
    #[arg(long)]
    events: usize,
    #[arg(long)]
    batch: usize,
    #[arg(long, default_value = "")]
    settings_extra: String,
    #[arg(long, default_value_t = 1)]
    concurrent_sends: usize,
    /// Times the library's tracing spans and prints them to stderr (see `phases`).
    #[arg(long)]
    phases: bool,
    /// Sends request bodies uncompressed (`ClientBuilder::request_compression(None)`), to
    /// measure what request gzip costs and saves.
    #[arg(long)]
    no_request_compression: bool,
}

/// Sends the events and prints `{events, seconds, failed, cpu_ms, peak_rss_kib}`.
pub(crate) async fn run(args: ClientArgs) -> Result<(), Box<dyn std::error::Error>> {
    let phases = args.phases.then(Phases::install);
    let path = path(&args.path).ok_or_else(|| format!("unknown path {:?}", args.path))?;
    let mut settings = Settings::from_toml_str(&format!(
        "instance_url = \"{}\"\nallow_insecure_loopback = true\n[auth]\ntype = \"access_token\"\naccess_token = \"{}\"\n{}\n[[subscriptions]]\n{}",
        args.instance_url, args.token, args.settings_extra, path.subscription
    ))?;
    settings.api_version = None;
    let mut builder = Destination::builder();
    if args.no_request_compression {
        builder = builder.client(
            sfdc_destination::rest::Client::builder()
                .instance_url(&args.instance_url)
                .access_token(args.token.as_str())
                .allow_insecure_loopback(true)
                .request_compression(None)
                .build()?,
        );
    }
    let destination = builder
        .settings(settings)
        .bulk_poll(PollConfig::fixed(
            Duration::from_millis(10),
            Duration::from_secs(300),
        ))
        .connect()
        .await?;
    let events: std::sync::Arc<[Value]> = (0..args.events).map(event).collect();
    let started = Instant::now();
    // Up to `concurrent_sends` batches in flight on clones of one destination (which orders
    // operations on one record key across them).
    let mut failed = 0;
    let mut running = tokio::task::JoinSet::new();
    let size = args.batch.max(1);
    for start in (0..events.len()).step_by(size) {
        if running.len() >= args.concurrent_sends.max(1)
            && let Some(done) = running.join_next().await
        {
            failed += done?;
        }
        let destination = destination.clone();
        // The batch is a range of the shared events (no copy of them per batch).
        let events = events.clone();
        let batch = start..(start + size).min(events.len());
        running.spawn(async move {
            destination
                .send(&events[batch])
                .await
                .iter()
                .filter(|o| o.status != EventStatus::Succeeded)
                .count()
        });
    }
    while let Some(done) = running.join_next().await {
        failed += done?;
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(phases) = &phases {
        phases.print(args.events.div_ceil(args.batch.max(1)));
    }
    let stats = proc_stats::own();
    println!(
        "{}",
        json!({"events": args.events, "seconds": seconds, "failed": failed,
               "cpu_ms": stats.cpu_ms, "peak_rss_kib": stats.peak_rss_kib})
    );
    Ok(())
}
