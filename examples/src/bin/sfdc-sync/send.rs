//! `sfdc-sync send`: events from a file or stdin through `Destination::send`, in batches, with
//! an outcomes file, a dead-letter file, progress and a summary.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sfdc_destination::{EventOutcome, EventStatus};

use crate::checkpoint::{Checkpoint, PendingEvent};
use crate::connect::connect;
use crate::error::CliError;
use crate::input::{EventReader, InputEvent};
use crate::progress::Progress;

/// Arguments of `send`.
#[derive(Debug, clap::Args)]
pub(crate) struct SendArgs {
    /// Events file (NDJSON, JSON array or `{"batch": [...]}`); `-` or nothing reads stdin.
    pub(crate) file: Option<PathBuf>,
    /// Settings file (TOML, or JSON when it ends in `.json`). Without it the embedded emulator
    /// is started with the example subscriptions.
    #[arg(long)]
    pub(crate) settings: Option<PathBuf>,
    /// Events per `Destination::send` call.
    #[arg(long = "batch", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) batch: u32,
    /// Write one NDJSON outcome per event (with its input line and message_id) here (appended
    /// to with `--checkpoint`).
    #[arg(long)]
    pub(crate) outcomes: Option<PathBuf>,
    /// Write the events that failed retryably here, as NDJSON that `send` accepts again.
    #[arg(long = "dead-letter")]
    pub(crate) dead_letter: Option<PathBuf>,
    /// Plan only: report per subscription how many events trigger it and the estimated calls,
    /// without connecting (no API call, no describe).
    #[arg(long = "dry-run", conflicts_with_all = ["outcomes", "dead_letter", "checkpoint"])]
    pub(crate) dry_run: bool,
    /// Record the input position (and the events pending on Bulk jobs) here after each fully
    /// outcomed batch; when the file exists, settle its pending events and resume after its
    /// last batch, so only the batch in flight at a crash is sent again.
    #[arg(long)]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Tests: stop (exit 2) after this many batches were sent and checkpointed, as a crash
    /// would.
    #[arg(long = "stop-after-batches", hide = true, requires = "checkpoint")]
    pub(crate) stop_after_batches: Option<usize>,
}

/// Where the outcomes of a run go: the tally, the outcomes file and the dead-letter file.
struct Sinks {
    tally: Tally,
    outcomes: Option<BufWriter<File>>,
    dead: Option<BufWriter<File>>,
}

impl Sinks {
    /// Records the outcome of the event at input position `index` (line `line`).
    fn record(
        &mut self,
        outcome: &EventOutcome,
        index: usize,
        line: usize,
        event: &serde_json::Value,
    ) -> Result<(), CliError> {
        self.tally.add(outcome, line);
        if let Some(out) = self.outcomes.as_mut() {
            let mut value =
                serde_json::to_value(outcome).map_err(|e| CliError::Io(format!("outcome: {e}")))?;
            if let Some(map) = value.as_object_mut() {
                map.insert("index".into(), index.into());
                map.insert("line".into(), line.into());
            }
            writeln!(out, "{value}").map_err(io_err)?;
        }
        if outcome.status == EventStatus::Failed
            && outcome.is_retryable()
            && let Some(out) = self.dead.as_mut()
        {
            self.tally.dead_lettered += 1;
            writeln!(out, "{event}").map_err(io_err)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CliError> {
        for out in [self.outcomes.as_mut(), self.dead.as_mut()]
            .into_iter()
            .flatten()
        {
            out.flush().map_err(io_err)?;
        }
        Ok(())
    }
}

/// Whether an outcome waits on a Bulk job (and so goes into the checkpoint).
fn pending_on_bulk(outcome: &EventOutcome) -> bool {
    outcome.status == EventStatus::Pending
        && outcome
            .results
            .iter()
            .any(|r| r.is_pending() && r.bulk_job_id.is_some())
}

/// Settles the checkpoint's pending events; those still pending stay in it.
async fn settle_checkpoint(
    destination: &sfdc_destination::Destination,
    checkpoint: &mut Checkpoint,
    sinks: &mut Sinks,
) -> Result<(), CliError> {
    let pending = std::mem::take(&mut checkpoint.pending);
    if pending.is_empty() {
        return Ok(());
    }
    let events: Vec<serde_json::Value> = pending.iter().map(|p| p.event.clone()).collect();
    let outcomes: Vec<EventOutcome> = pending
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut outcome = p.outcome.clone();
            outcome.index = i;
            outcome
        })
        .collect();
    let settled = destination.settle(&events, &outcomes).await;
    let mut done = 0;
    for (mut outcome, mut entry) in settled.into_iter().zip(pending) {
        outcome.index = entry.index;
        if pending_on_bulk(&outcome) {
            entry.outcome = outcome;
            checkpoint.pending.push(entry);
        } else {
            done += 1;
            sinks.record(&outcome, entry.index, entry.line, &entry.event)?;
        }
    }
    eprintln!(
        "checkpoint: settled {done} pending events, {} still pending; resuming after event {}",
        checkpoint.pending.len(),
        checkpoint.events_done
    );
    Ok(())
}

/// Counts over the run.
#[derive(Debug, Default)]
struct Tally {
    events: usize,
    succeeded: usize,
    failed: usize,
    skipped: usize,
    pending: usize,
    dead_lettered: usize,
    by_action: BTreeMap<String, usize>,
    sample_failure: Option<String>,
}

impl Tally {
    fn add(&mut self, outcome: &EventOutcome, line: usize) {
        self.events += 1;
        match outcome.status {
            EventStatus::Succeeded => self.succeeded += 1,
            EventStatus::Failed => self.failed += 1,
            EventStatus::Pending => self.pending += 1,
            _ => self.skipped += 1,
        }
        for r in &outcome.results {
            let status = serde_json::to_value(r.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            *self
                .by_action
                .entry(format!("{} {}", r.action, status))
                .or_default() += 1;
            if r.is_failed() && self.sample_failure.is_none() {
                self.sample_failure = Some(format!(
                    "line {line} ({}): {} {} {}: {}",
                    outcome.message_id.as_deref().unwrap_or("-"),
                    r.action,
                    r.http_status,
                    r.error_code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
                    r.message.as_deref().unwrap_or("-")
                ));
            }
        }
    }
}

/// Creates (or, for a resumable run, appends to) an output file.
fn create(path: &PathBuf, append: bool) -> Result<BufWriter<File>, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    options
        .open(path)
        .map(BufWriter::new)
        .map_err(|e| CliError::Usage(format!("cannot create {}: {e}", path.display())))
}

fn open_input(file: Option<&PathBuf>) -> Result<Box<dyn BufRead>, CliError> {
    match file {
        None => Ok(Box::new(BufReader::new(std::io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(std::io::stdin()))),
        Some(p) => File::open(p)
            .map(|f| Box::new(BufReader::with_capacity(1 << 16, f)) as Box<dyn BufRead>)
            .map_err(|e| CliError::Usage(format!("cannot open {}: {e}", p.display()))),
    }
}

fn io_err(e: std::io::Error) -> CliError {
    CliError::Io(format!("write error: {e}"))
}

/// Runs `send`.
pub(crate) async fn run(args: SendArgs) -> Result<ExitCode, CliError> {
    let input = open_input(args.file.as_ref())?;
    if args.dry_run {
        return crate::dry_run::run(input, args.settings.as_deref(), args.batch as usize);
    }
    // With a checkpoint, the outcomes and dead-letter files continue across restarts.
    let resumable = args.checkpoint.is_some();
    let mut sinks = Sinks {
        tally: Tally::default(),
        outcomes: args
            .outcomes
            .as_ref()
            .map(|p| create(p, resumable))
            .transpose()?,
        dead: args
            .dead_letter
            .as_ref()
            .map(|p| create(p, resumable))
            .transpose()?,
    };
    let mut checkpoint = match &args.checkpoint {
        Some(path) => Some(Checkpoint::load(path)?),
        None => None,
    };
    let connection = connect(args.settings.as_deref()).await?;
    let destination = &connection.destination;

    let calls_before = destination.api_calls();
    let started = Instant::now();
    let mut progress = Progress::new();
    let mut reader = EventReader::new(input);
    let mut position = 0;
    if let Some(cp) = checkpoint.as_mut() {
        settle_checkpoint(destination, cp, &mut sinks).await?;
        for _ in 0..cp.events_done {
            match reader.next() {
                Some(Ok(_)) => position += 1,
                Some(Err(e)) => return Err(CliError::Usage(e.to_string())),
                None => break,
            }
        }
    }
    let batch_size = args.batch as usize;
    let mut batches = 0;
    loop {
        let mut batch: Vec<InputEvent> = Vec::with_capacity(batch_size.min(10_000));
        for event in reader.by_ref().take(batch_size) {
            batch.push(event.map_err(|e| CliError::Usage(e.to_string()))?);
        }
        if batch.is_empty() {
            break;
        }
        let values: Vec<serde_json::Value> = batch.iter().map(|e| e.value.clone()).collect();
        let results = destination.send(&values).await;
        for outcome in &results {
            let Some(input) = batch.get(outcome.index) else {
                continue;
            };
            let index = position + outcome.index;
            sinks.record(outcome, index, input.line, &input.value)?;
            if let Some(cp) = checkpoint.as_mut()
                && pending_on_bulk(outcome)
            {
                cp.pending.push(PendingEvent {
                    line: input.line,
                    index,
                    event: input.value.clone(),
                    outcome: outcome.clone(),
                });
            }
        }
        position += batch.len();
        batches += 1;
        progress.update(sinks.tally.events, sinks.tally.failed);
        if let (Some(cp), Some(path)) = (checkpoint.as_mut(), args.checkpoint.as_ref()) {
            // The outcomes of the batch are on disk before the checkpoint moves past it.
            sinks.flush()?;
            cp.events_done = position;
            cp.batches_done += 1;
            cp.save(path)?;
            if args.stop_after_batches == Some(batches) {
                progress.finish();
                return Err(CliError::Usage(format!(
                    "stopped after {batches} batches (--stop-after-batches); the checkpoint {} resumes after event {position}",
                    path.display()
                )));
            }
        }
    }
    progress.finish();
    sinks.flush()?;
    let tally = sinks.tally;
    let elapsed = started.elapsed();
    let calls = destination.api_calls() - calls_before;

    println!("by action:");
    for (action, n) in &tally.by_action {
        println!("  {action:<24} {n}");
    }
    if let Some(sample) = &tally.sample_failure {
        println!("sample failure: {sample}");
    }
    if args.dead_letter.is_some() {
        println!(
            "dead-lettered (retryable failures): {}",
            tally.dead_lettered
        );
    }
    if tally.events > 0 {
        println!("API calls/event: {:.4}", calls as f64 / tally.events as f64);
        println!(
            "throughput: {:.0} events/s",
            tally.events as f64 / elapsed.as_secs_f64().max(1e-9)
        );
    }
    if let Some(emu) = &connection.emulator {
        println!(
            "records in the emulator: {} leads, {} accounts, {} contacts",
            emu.records("Lead").len(),
            emu.records("Account").len(),
            emu.records("Contact").len()
        );
    }
    if let Some(usage) = destination.client().api_usage() {
        println!(
            "daily API allocation: {} of {} remaining",
            usage.max.saturating_sub(usage.used),
            usage.max
        );
    }
    println!(
        "{} events: {} succeeded, {} failed, {} skipped, {} pending; {calls} API calls",
        tally.events, tally.succeeded, tally.failed, tally.skipped, tally.pending
    );
    drop(connection);
    Ok(if tally.failed > 0 || tally.pending > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
