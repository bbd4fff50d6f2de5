//! Peak memory and throughput of a whole ingest into the emulator, with the default limits
//! (100 MB / 250,000 rows per job), the upload streamed from the spool file.
//!
//! Run: `cargo bench -p sfdc-bulk --bench ingest_memory`
//! Rows: `SFDC_BULK_BENCH_ROWS` (default 300,000). Modes: `SFDC_BULK_BENCH_MODES`, a comma list
//! (default `ingest,upload-file,upload-bytes,in-process`):
//!
//! - `ingest`: `BulkClient::ingest_stream` (spool, streamed upload, close, poll, results,
//!   correlation); each job's report is dropped once counted. Prints the peak after each job.
//! - `ingest-vec`: `BulkClient::ingest`, which returns the outcomes of the whole input in one
//!   `Vec` (grows with the input by design).
//! - `upload-file` / `upload-bytes`: the same chunks through the low-level calls (create, upload,
//!   close, wait; no result download), uploading with `upload_file` (streamed) or by reading the
//!   spool file into one `Bytes` and calling `upload` (what `ingest` did before). The difference
//!   of the two is the cost of holding a job's CSV in memory.
//! - `in-process`: `ingest` with the emulator in the same process (client + emulator together).
//!
//! VmHWM (peak resident memory, from /proc/self/status) is per process and never goes down, so
//! each mode runs in a fresh process, and the emulator (started with `Emulator::start`) runs in a
//! separate child process, except in `in-process`. The client's figure is then the client alone;
//! the emulator reports its own. The bench re-executes its own binary for both roles.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use sfdc_bulk::job::CreateJobRequest;
use sfdc_bulk::{
    BulkClient, ChunkConfig, ChunkWriter, IngestRequest, Operation, Outcome, PollConfig, Record,
};
use sfdc_emulator::{Emulator, EmulatorConfig};

const ROLE: &str = "SFDC_BULK_BENCH_ROLE";

fn record(i: u64) -> Record {
    let v = json!({
        "Name": format!("Company {i}, \"Ltd\""),
        "AccountNumber": format!("ACC-{i:010}"),
        "Phone": if i.is_multiple_of(7) { Value::Null } else { json!(format!("+1 555 {:07}", i % 10_000_000)) },
        "Website": format!("https://example.com/{i}"),
        "AnnualRevenue": (i as f64) * 1.25,
        "NumberOfEmployees": i % 5000,
        "Description": if i.is_multiple_of(11) { json!("multi\nline") } else { json!("plain text") },
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn records(rows: u64) -> impl futures::Stream<Item = Record> + Send + 'static {
    futures::stream::iter(0..rows).map(record)
}

fn vm_hwm_kib() -> u64 {
    vm_kib("VmHWM:")
}

fn vm_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn bulk(instance_url: &str, token: &str) -> BulkClient {
    let rest = sfdc_rest::Client::builder()
        .instance_url(instance_url)
        .access_token(token)
        .allow_insecure_loopback(true)
        .build()
        .unwrap();
    BulkClient::new(rest).poll_config(PollConfig::fixed(
        Duration::from_millis(50),
        Duration::from_secs(600),
    ))
}

struct Run {
    secs: f64,
    jobs: usize,
    created: usize,
    api_calls: u64,
}

async fn run_ingest(bulk: &BulkClient, rows: u64) -> Run {
    let start = Instant::now();
    let mut reports = std::pin::pin!(bulk.ingest_stream(
        IngestRequest::new("Account", Operation::Insert),
        records(rows)
    ));
    let (mut jobs, mut created, mut total) = (0, 0, 0);
    while let Some(report) = reports.next().await {
        let report = report.unwrap();
        jobs += 1;
        total += report.outcomes.len();
        created += report
            .outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Created(_)))
            .count();
        eprintln!(
            "ingest_memory [ingest] after job {jobs}: peak RSS (VmHWM) {:.1} MB, now (VmRSS) {:.1} MB",
            mb(vm_hwm_kib()),
            mb(vm_kib("VmRSS:")),
        );
    }
    assert_eq!(total as u64, rows);
    Run {
        secs: start.elapsed().as_secs_f64(),
        jobs,
        created,
        api_calls: bulk.rest().api_calls(),
    }
}

async fn run_ingest_vec(bulk: &BulkClient, rows: u64) -> Run {
    let start = Instant::now();
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            records(rows),
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len() as u64, rows);
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Created(_)))
        .count();
    eprintln!(
        "ingest_memory [ingest-vec] holding {} outcomes: VmRSS {:.1} MB, Vec capacity {:.1} MB + ids",
        outcomes.len(),
        mb(vm_kib("VmRSS:")),
        (outcomes.capacity() * std::mem::size_of::<Outcome>()) as f64 / 1024.0 / 1024.0,
    );
    Run {
        secs: start.elapsed().as_secs_f64(),
        // `ingest` does not report jobs; this is the count at the default 250,000 rows per job.
        jobs: rows.div_ceil(250_000) as usize,
        created,
        api_calls: bulk.rest().api_calls(),
    }
}

async fn run_low_level(bulk: &BulkClient, rows: u64, buffered: bool) -> Run {
    let start = Instant::now();
    let mut writer = ChunkWriter::new(ChunkConfig::default()).unwrap();
    let mut chunks = Vec::new();
    let mut jobs = 0;
    let mut created = 0;
    for i in 0..=rows {
        let chunk = if i < rows {
            writer.push(&record(i)).await.unwrap()
        } else {
            std::mem::replace(
                &mut writer,
                ChunkWriter::new(ChunkConfig::default()).unwrap(),
            )
            .finish()
            .await
            .unwrap()
        };
        let Some(chunk) = chunk else { continue };
        let path = chunk.path().unwrap();
        let job = bulk
            .create_job(&CreateJobRequest::new("Account", Operation::Insert))
            .await
            .unwrap();
        if buffered {
            let body = tokio::fs::read(path).await.unwrap();
            bulk.upload(&job.id, Bytes::from(body)).await.unwrap();
        } else {
            bulk.upload_file(&job.id, path).await.unwrap();
        }
        bulk.close_job(&job.id).await.unwrap();
        let info = bulk.wait_for_job(&job.id).await.unwrap();
        let processed = info.number_records_processed.unwrap_or(0);
        created += (processed - info.number_records_failed.unwrap_or(0)) as usize;
        jobs += 1;
        chunks.push(chunk.row_count());
        drop(chunk);
    }
    assert_eq!(chunks.iter().sum::<usize>() as u64, rows);
    Run {
        secs: start.elapsed().as_secs_f64(),
        jobs,
        created,
        api_calls: bulk.rest().api_calls(),
    }
}

fn report(mode: &str, rows: u64, run: &Run, start_kib: u64) {
    println!(
        "ingest_memory [{mode}] client: {rows} rows, {} job(s), {} created, {} API calls, {:.2} s, {:.0} rows/s, peak RSS (VmHWM) {:.1} MB (at start {:.1} MB)",
        run.jobs,
        run.created,
        run.api_calls,
        run.secs,
        rows as f64 / run.secs,
        mb(vm_hwm_kib()),
        mb(start_kib),
    );
}

/// Child role: serves an emulator until stdin closes, then reports its own peak memory.
fn emulator_role() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start_kib = vm_hwm_kib();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::default()))
        .unwrap();
    println!("READY {} {}", emu.instance_url(), emu.access_token());
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    let hwm = vm_hwm_kib();
    let jobs = emu.bulk_jobs();
    let processed: u64 = jobs.iter().map(|j| j.number_records_processed).sum();
    println!(
        "ingest_memory emulator: {} job(s), {processed} records processed, {} API calls counted, peak RSS (VmHWM) {:.1} MB (at start {:.1} MB)",
        jobs.len(),
        emu.api_calls(),
        mb(hwm),
        mb(start_kib),
    );
}

/// Child role: runs one client mode against the emulator at `SFDC_BULK_BENCH_URL`.
fn client_role(mode: &str, rows: u64) {
    let start_kib = vm_hwm_kib();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = std::env::var("SFDC_BULK_BENCH_URL").unwrap();
    let token = std::env::var("SFDC_BULK_BENCH_TOKEN").unwrap();
    let bulk = bulk(&url, &token);
    let run = match mode {
        "ingest" => rt.block_on(run_ingest(&bulk, rows)),
        "ingest-vec" => rt.block_on(run_ingest_vec(&bulk, rows)),
        "upload-file" => rt.block_on(run_low_level(&bulk, rows, false)),
        "upload-bytes" => rt.block_on(run_low_level(&bulk, rows, true)),
        other => panic!("unknown mode {other}"),
    };
    assert_eq!(run.created as u64, rows);
    report(mode, rows, &run, start_kib);
}

/// Client and emulator in this one process.
fn in_process(rows: u64) {
    let start_kib = vm_hwm_kib();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::default()))
        .unwrap();
    let bulk = bulk(&emu.instance_url(), &emu.access_token());
    let run = rt.block_on(run_ingest(&bulk, rows));
    assert_eq!(run.created as u64, rows);
    report("in-process", rows, &run, start_kib);
}

fn spawn_self(rows: u64, envs: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.env("SFDC_BULK_BENCH_ROWS", rows.to_string());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.env_remove("SFDC_BULK_BENCH_MODES");
    cmd
}

fn orchestrate(mode: &str, rows: u64) {
    if mode == "in-process" {
        let status = spawn_self(rows, &[(ROLE, "in-process".into())])
            .status()
            .unwrap();
        assert!(status.success());
        return;
    }
    let mut emu = spawn_self(rows, &[(ROLE, "emulator".into())])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(emu.stdout.take().unwrap());
    let mut ready = String::new();
    out.read_line(&mut ready).unwrap();
    let mut parts = ready.split_whitespace().skip(1);
    let (url, token) = (parts.next().unwrap(), parts.next().unwrap());
    let status = spawn_self(
        rows,
        &[
            (ROLE, "client".into()),
            ("SFDC_BULK_BENCH_MODE", mode.into()),
            ("SFDC_BULK_BENCH_URL", url.into()),
            ("SFDC_BULK_BENCH_TOKEN", token.into()),
        ],
    )
    .status()
    .unwrap();
    drop(emu.stdin.take());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    print!("{rest}");
    assert!(emu.wait().unwrap().success());
    assert!(status.success(), "client mode {mode} failed");
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`, which passes no
    // flag to a harness-less bench) is a quick smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rows: u64 = std::env::var("SFDC_BULK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1_000 } else { 300_000 });
    match std::env::var(ROLE).as_deref() {
        Ok("emulator") => emulator_role(),
        Ok("client") => client_role(&std::env::var("SFDC_BULK_BENCH_MODE").unwrap(), rows),
        Ok("in-process") => in_process(rows),
        _ => {
            let modes = std::env::var("SFDC_BULK_BENCH_MODES")
                .unwrap_or_else(|_| "ingest,upload-file,upload-bytes,in-process".into());
            for mode in modes.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                orchestrate(mode, rows);
            }
        }
    }
}
