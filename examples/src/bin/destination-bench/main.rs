//! `cargo run --release -p sfdc-examples --bin destination-bench -- [OPTIONS]`
//!
//! Events per second, API calls, client CPU and peak RSS of each execution path of
//! `sfdc-destination` against the embedded emulator, at a chosen latency, optionally side by
//! side with a jsforce contender (`--contender`) on the same workload in the same run.
//!
//! Each measurement starts a fresh emulator in this process and runs the client in a child
//! process (this binary with `client`, or Node.js with `examples/bench/jsforce_contender.js`), so
//! the client's CPU and memory are its own. API calls are counted by the emulator. Prints a
//! Markdown table of medians over `--runs` runs and, with a contender, the per-run ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod contender;
mod phases;
mod proc_stats;
mod report;
mod serve;
mod workload;

use std::time::Duration;

use clap::{Parser, Subcommand};

use report::{Measurement, Table};
use workload::{PATHS, Workload};

#[derive(Parser, Debug)]
#[command(about = "Benchmarks sfdc-destination's execution paths against the embedded emulator")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Events per path and run.
    #[arg(long, default_value_t = 5_000)]
    events: usize,
    /// Events per `send` call.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Latency the emulator adds to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Server time per written record, in microseconds (the emulator's `record_cost`).
    #[arg(long, default_value_t = 0)]
    record_cost_us: u64,
    /// Runs per path; the table shows medians.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Only paths whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Extra settings (TOML) for the facade, e.g. `[executor]` options; placed before the
    /// subscriptions.
    #[arg(long, default_value = "")]
    settings_extra: String,
    /// `send` calls the facade's client keeps in flight at once (batches overlap; the facade
    /// orders operations on one record key across them).
    #[arg(long, default_value_t = 1)]
    concurrent_sends: usize,
    /// Batches the jsforce contender processes at once (its calls still share 10 in flight);
    /// defaults to `--concurrent-sends`, so both sides overlap the same number of batches.
    #[arg(long)]
    contender_concurrent_batches: Option<usize>,
    /// Also run the jsforce contender on the upsert-by-Email path (needs Node.js and jsforce 3).
    #[arg(long)]
    contender: bool,
    /// Where jsforce is installed (`npm install --prefix DIR jsforce@3` puts it in DIR/node_modules).
    #[arg(long, default_value = "/tmp/jsf/node_modules")]
    node_modules: String,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Internal: runs one path's client against a running emulator and prints one JSON line.
    #[command(hide = true)]
    Client(client::ClientArgs),
    /// Starts one path's seeded emulator behind a connection-counting proxy until stdin
    /// closes, for profiling `client` alone (see `docs/benchmarks.md`).
    Serve(serve::ServeArgs),
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Client(args)) => return client::run(args).await,
        Some(Command::Serve(args)) => return serve::run(args).await,
        None => {}
    }
    let contender_batches = cli
        .contender_concurrent_batches
        .unwrap_or(cli.concurrent_sends);
    let conditions = format!(
        "{} events, batches of {}, latency {} ms, record cost {} µs, {} runs, {} concurrent sends \
         ({} concurrent batches for the contender), settings {:?}",
        cli.events,
        cli.batch,
        cli.latency_ms,
        cli.record_cost_us,
        cli.runs,
        cli.concurrent_sends,
        contender_batches,
        cli.settings_extra
    );
    let mut table = Table::new(conditions);
    for run in 0..cli.runs {
        for path in PATHS {
            if cli.only.as_deref().is_some_and(|o| !path.name.contains(o)) {
                continue;
            }
            let workload = Workload {
                path,
                events: cli.events,
                batch: cli.batch,
                latency: Duration::from_millis(cli.latency_ms),
                record_cost: Duration::from_micros(cli.record_cost_us),
            };
            let ours = measure_ours(&workload, &cli.settings_extra, cli.concurrent_sends).await?;
            table.add(path.name, "sfdc-destination", run, ours);
            if cli.contender && path.contender {
                let theirs =
                    contender::measure(&workload, &cli.node_modules, contender_batches).await?;
                table.add(path.name, "jsforce 3 (10 in flight)", run, theirs);
            }
        }
    }
    print!("{table}");
    Ok(())
}

/// Runs this binary's `client` subcommand against a fresh emulator.
async fn measure_ours(
    workload: &Workload,
    settings_extra: &str,
    concurrent_sends: usize,
) -> Result<Measurement, Box<dyn std::error::Error>> {
    let emu = workload.start_emulator().await?;
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("client")
        .arg("--instance-url")
        .arg(emu.instance_url())
        .arg("--token")
        .arg(emu.access_token())
        .arg("--path")
        .arg(workload.path.name)
        .arg("--events")
        .arg(workload.events.to_string())
        .arg("--batch")
        .arg(workload.batch.to_string())
        .arg("--settings-extra")
        .arg(settings_extra)
        .arg("--concurrent-sends")
        .arg(concurrent_sends.to_string());
    report::run_child(command, &emu).await
}
