//! `send --dry-run`: plans the events with the compiled subscriptions and lays out the calls
//! with the destination's own planner ([`sfdc_destination::DestinationBuilder::explain`]),
//! without connecting (no token request, no API call, no describe).

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use std::collections::HashSet;

use sfdc_destination::{Destination, Settings};
use sfdc_examples::SETTINGS_TOML;

use crate::connect::load_settings;
use crate::error::CliError;
use crate::input::EventReader;

/// What one subscription would do over the input.
#[derive(Debug, Default)]
struct Planned {
    triggered: usize,
    invalid: usize,
    bulk: usize,
}

/// Runs the dry run over `input` in batches of `batch`.
pub(crate) fn run(
    input: Box<dyn BufRead>,
    settings: Option<&Path>,
    batch: usize,
) -> Result<ExitCode, CliError> {
    let settings = match settings {
        Some(path) => load_settings(path)?,
        None => Settings::from_toml_str(SETTINGS_TOML)
            .map_err(|e| CliError::Usage(format!("example settings: {e}")))?,
    };
    let mut actions = Vec::new();
    for (i, config) in settings.subscriptions.iter().enumerate() {
        actions.push(
            config
                .compile()
                .map_err(|e| CliError::Usage(format!("subscription #{i}: {e}")))?,
        );
    }
    let planner = Destination::builder().settings(settings);
    let mut planned: Vec<Planned> = actions.iter().map(|_| Planned::default()).collect();
    let mut reader = EventReader::new(input);
    let mut events = 0usize;
    let mut calls = 0u64;
    // The client caches describes for its lifetime: count each object's describe once.
    let mut described: HashSet<String> = HashSet::new();
    let mut first: Option<String> = None;
    loop {
        let mut values = Vec::with_capacity(batch);
        for event in reader.by_ref().take(batch) {
            let event = event.map_err(|e| CliError::Usage(e.to_string()))?;
            for (i, action) in actions.iter().enumerate() {
                match action.plan_if_triggered(&event.value) {
                    None => {}
                    Some(Err(_)) => {
                        planned[i].triggered += 1;
                        planned[i].invalid += 1;
                    }
                    Some(Ok(op)) => {
                        planned[i].triggered += 1;
                        if op.is_bulk() {
                            planned[i].bulk += 1;
                        }
                    }
                }
            }
            values.push(event.value);
        }
        if values.is_empty() {
            break;
        }
        events += values.len();
        let explanation = planner
            .explain(&values)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        for call in &explanation.calls {
            let again = call.kind == "describe"
                && !described.insert(call.object.clone().unwrap_or_default().to_lowercase());
            if !again {
                calls += call.api_calls;
            }
            // A describe that travelled in a Composite call with the first lookups is cached
            // as well.
            for sub in call.subrequests.iter().filter(|s| s.kind == "describe") {
                described.insert(sub.object.to_lowercase());
            }
        }
        if first.is_none() {
            first = Some(explanation.to_string());
        }
    }
    println!("(dry run: no describe, string types assumed)");
    println!("subscription                      operation  triggered  invalid");
    for (action, p) in actions.iter().zip(&planned) {
        let name = format!("{} ({})", action.kind(), action.object());
        println!(
            "{name:<33} {:<10} {:>9} {:>8}{}",
            action.operation().as_str(),
            p.triggered,
            p.invalid,
            if p.bulk > 0 { "  (Bulk API)" } else { "" }
        );
    }
    if let Some(first) = first {
        println!("first batch:");
        println!("{first}");
    }
    println!("{events} events planned: {calls} calls; 0 API calls");
    Ok(ExitCode::SUCCESS)
}
