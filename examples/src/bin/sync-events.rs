//! `cargo run --release -p sfdc-examples --bin sync-events`
//!
//! Starts the embedded Salesforce emulator, connects a destination to it through the OAuth
//! refresh-token flow (settings in `examples/sync-events.toml`), sends 2,000 deterministic
//! events in batches of 500 and prints a summary: outcomes by status, a sample failure, API
//! calls total and per event, events per second. Exits 1 if the failures are not exactly the
//! deliberately invalid events. No network, no setup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use sfdc_destination::{Destination, EventStatus, Settings};
use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_examples::{SETTINGS_TOML, generate_events};

const EVENTS: usize = 2_000;
const BATCH: usize = 500;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sync-events: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let emu = Emulator::start(EmulatorConfig::default()).await?;
    let mut settings = Settings::from_toml_str(SETTINGS_TOML)?;
    settings.token_url = Some(emu.token_url());
    let destination = Destination::builder().settings(settings).connect().await?;
    println!(
        "emulator at {} (OAuth refresh-token flow, {} token request)",
        emu.instance_url(),
        emu.token_requests()
    );

    let generated = generate_events(EVENTS);
    let calls_before = destination.api_calls();
    let started = Instant::now();
    let mut outcomes = Vec::with_capacity(EVENTS);
    for batch in generated.events.chunks(BATCH) {
        let offset = outcomes.len();
        outcomes.extend(destination.send(batch).await.into_iter().map(|mut o| {
            o.index += offset;
            o
        }));
    }
    let elapsed = started.elapsed();
    let calls = destination.api_calls() - calls_before;

    let mut by_event: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
    let mut sample_failure = None;
    for outcome in &outcomes {
        *by_event.entry(format!("{:?}", outcome.status)).or_default() += 1;
        for r in &outcome.results {
            *by_action
                .entry(format!("{} {:?}", r.action, r.status))
                .or_default() += 1;
            if r.is_failed() && sample_failure.is_none() {
                sample_failure = Some(format!(
                    "event #{} ({}): {} {}: {}",
                    outcome.index,
                    outcome.message_id.as_deref().unwrap_or("-"),
                    r.http_status,
                    r.error_code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
                    r.message.as_deref().unwrap_or("-")
                ));
            }
        }
    }
    let failed = by_event.get("Failed").copied().unwrap_or(0);
    let skipped = outcomes
        .iter()
        .filter(|o| o.status == EventStatus::Skipped)
        .count();

    println!("events sent:      {EVENTS} in batches of {BATCH}");
    println!("events by status: {by_event:?}");
    println!("actions:          {by_action:?}");
    if let Some(sample) = &sample_failure {
        println!("sample failure:   {sample}");
    }
    println!(
        "records in org:   {} leads, {} accounts, {} contacts",
        emu.records("Lead").len(),
        emu.records("Account").len(),
        emu.records("Contact").len()
    );
    let by_endpoint: BTreeMap<String, u64> = emu
        .api_call_counts()
        .into_iter()
        .filter(|(_, v)| *v > 0)
        .collect();
    println!("API calls:        {calls} {by_endpoint:?}");
    println!("API calls/event:  {:.4}", calls as f64 / EVENTS as f64);
    println!(
        "throughput:       {:.0} events/s ({:.1} ms)",
        EVENTS as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0
    );

    if failed != generated.invalid || skipped != generated.skipped {
        eprintln!(
            "unexpected: {failed} failed events (expected {}), {skipped} skipped (expected {})",
            generated.invalid, generated.skipped
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
