//! Throughput and peak memory of the CSV writer + job splitter (spooling to temp files).
//!
//! Run: `cargo bench -p sfdc-bulk --bench writer_splitter`
//! Rows: `SFDC_BULK_BENCH_ROWS` (default 1,000,000). Records are generated on the fly, as a
//! streaming source would deliver them, and pushed through a `ChunkWriter` with the default
//! limits (100 MB / 250,000 rows per job), then with 100 MB jobs and no row limit (split by
//! bytes), then with 10 MB jobs.
//! Each finished chunk is dropped at once (standing in for the upload), which deletes its spool
//! file. Peak resident memory is the process's VmHWM from /proc/self/status.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use serde_json::{Value, json};
use sfdc_bulk::{ChunkConfig, ChunkWriter, Record, SplitLimits};

fn record(i: u64) -> Record {
    let v = json!({
        "Ext__c": format!("EXT-{i:010}"),
        "Name": format!("Company {i}, \"Ltd\""),
        "Email": format!("user{i}@example.com"),
        "Phone": if i.is_multiple_of(7) { Value::Null } else { json!(format!("+1 555 {:07}", i % 10_000_000)) },
        "AnnualRevenue": (i as f64) * 1.25,
        "IsActive__c": i.is_multiple_of(2),
        "Description": if i.is_multiple_of(11) { json!("multi\nline") } else { json!("plain text") },
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn run(rows: u64, limits: SplitLimits) -> (f64, u64, usize) {
    let mut writer = ChunkWriter::new(ChunkConfig {
        limits,
        ..Default::default()
    })
    .unwrap();
    let mut bytes = 0u64;
    let mut chunks = 0usize;
    let start = Instant::now();
    for i in 0..rows {
        if let Some(chunk) = writer.push(&record(i)).await.unwrap() {
            assert!(chunk.bytes() as usize <= limits.max_bytes);
            bytes += chunk.bytes();
            chunks += 1;
        }
    }
    if let Some(chunk) = writer.finish().await.unwrap() {
        bytes += chunk.bytes();
        chunks += 1;
    }
    (start.elapsed().as_secs_f64(), bytes, chunks)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`, which passes no
    // flag to a harness-less bench) is a quick smoke run.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rows: u64 = std::env::var("SFDC_BULK_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 1_000 } else { 1_000_000 });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = vm_hwm_kib();
    for (label, limits) in [
        (
            "default limits (100 MB / 250,000 rows)",
            SplitLimits::default(),
        ),
        (
            "100 MB jobs, no row limit",
            SplitLimits {
                max_bytes: 100_000_000,
                max_records: usize::MAX,
            },
        ),
        (
            "10 MB jobs",
            SplitLimits {
                max_bytes: 10_000_000,
                ..SplitLimits::default()
            },
        ),
    ] {
        let (secs, bytes, chunks) = rt.block_on(run(rows, limits));
        println!(
            "writer_splitter [{label}]: {rows} rows, {:.1} MB CSV in {chunks} job(s), {secs:.2} s, {:.0} rows/s, {:.1} MB/s",
            bytes as f64 / 1e6,
            rows as f64 / secs,
            bytes as f64 / 1e6 / secs,
        );
    }
    match (before, vm_hwm_kib()) {
        (Some(b), Some(a)) => println!(
            "writer_splitter: peak resident memory (VmHWM) {:.1} MB (at start {:.1} MB)",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        ),
        _ => println!("writer_splitter: VmHWM not available on this platform"),
    }
}
