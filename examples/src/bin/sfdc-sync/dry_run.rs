//! `send --dry-run`: plans the events with the compiled subscriptions and estimates the calls,
//! without connecting (no token request, no API call, no describe).

use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

use sfdc_destination::{Operation, Settings};
use sfdc_examples::SETTINGS_TOML;

use crate::connect::load_settings;
use crate::error::CliError;
use crate::input::EventReader;

/// Records per sObject Collections call.
const COLLECTIONS_PER_CALL: usize = 200;

/// What one subscription would do over the input.
#[derive(Debug, Default)]
struct Planned {
    triggered: usize,
    invalid: usize,
    bulk: usize,
    calls: usize,
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
    for (i, config) in settings.subscriptions.into_iter().enumerate() {
        actions.push(
            config
                .compile()
                .map_err(|e| CliError::Usage(format!("subscription #{i}: {e}")))?,
        );
    }
    let mut planned: Vec<Planned> = actions.iter().map(|_| Planned::default()).collect();
    let mut reader = EventReader::new(input);
    let mut events = 0usize;
    loop {
        // Per subscription in this batch: (Collections records, needs a lookup, bulk records).
        let mut in_batch = vec![(0usize, false, 0usize); actions.len()];
        let mut n = 0;
        for event in reader.by_ref().take(batch) {
            let event = event.map_err(|e| CliError::Usage(e.to_string()))?;
            n += 1;
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
                            in_batch[i].2 += 1;
                        } else {
                            in_batch[i].0 += 1;
                            if op.operation != Operation::Create && !op.matchers.is_empty() {
                                in_batch[i].1 = true;
                            }
                        }
                    }
                }
            }
        }
        if n == 0 {
            break;
        }
        events += n;
        for (i, (records, lookup, bulk)) in in_batch.into_iter().enumerate() {
            planned[i].calls += records.div_ceil(COLLECTIONS_PER_CALL) + usize::from(lookup);
            if bulk > 0 {
                // Create, upload, close, one status poll, results.
                planned[i].bulk += bulk;
                planned[i].calls += 5;
            }
        }
    }
    println!("(dry run: no describe, string types assumed)");
    println!("subscription                      operation  triggered  invalid  est. calls");
    for (action, p) in actions.iter().zip(&planned) {
        let name = format!("{} ({})", action.kind(), action.object());
        println!(
            "{name:<33} {:<10} {:>9} {:>8} {:>11}{}",
            action.operation().as_str(),
            p.triggered,
            p.invalid,
            p.calls,
            if p.bulk > 0 { "  (Bulk API)" } else { "" }
        );
    }
    let calls: usize = planned.iter().map(|p| p.calls).sum();
    println!("{events} events planned: {calls} calls; 0 API calls");
    Ok(ExitCode::SUCCESS)
}
