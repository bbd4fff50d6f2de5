//! Peak resident memory of a 1,000,000-row Bulk upsert of 7-field Accounts, result files
//! included.
//!
//! Starts the emulator in-process, adds an external-id field `Ext__c` to Account, uploads one
//! upsert job of `BENCH_ROWS` rows (`Ext__c,Name,Phone,Website,Industry,BillingCity,NumberOfEmployees`),
//! waits for `JobComplete`, downloads `successfulResults`, and prints the process's peak RSS
//! (`VmHWM` from `/proc/self/status`, Linux) and that peak per row. The figure includes the
//! client's CSV text (until it is sent); the result file is counted as it streams in (until
//! 2026-12-02 the bench held the downloaded file whole, about 130 MB more).
//!
//! Run: `cargo bench -p sfdc-emulator --bench bulk_memory`
//! Tune: `BENCH_ROWS` (default 1000000).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    emu.add_field(
        "Account",
        FieldDef::new("Ext__c", FieldType::String)
            .length(20)
            .external_id(),
    )
    .unwrap();
    let mut csv = String::with_capacity(rows * 110);
    csv.push_str("Ext__c,Name,Phone,Website,Industry,BillingCity,NumberOfEmployees\n");
    for i in 0..rows {
        let _ = writeln!(
            csv,
            "E{i},Account {i},+1 555 {:07},https://a{i}.example.com,Technology,Springfield,{}",
            i % 10_000_000,
            i % 5000
        );
    }
    let http = reqwest::Client::new();
    let token = emu.access_token();
    let base = format!("{}/services/data/v62.0/jobs/ingest", emu.instance_url());
    let job: Value = http
        .post(&base)
        .bearer_auth(&token)
        .json(&json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c", "lineEnding": "LF"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    let put = http
        .put(format!("{base}/{id}/batches"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 201);
    http.patch(format!("{base}/{id}"))
        .bearer_auth(&token)
        .json(&json!({"state": "UploadComplete"}))
        .send()
        .await
        .unwrap();
    loop {
        let info: Value = http
            .get(format!("{base}/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if info["state"] == "JobComplete" {
            assert_eq!(info["numberRecordsProcessed"], json!(rows));
            assert_eq!(info["numberRecordsFailed"], json!(0));
            break;
        }
        assert_ne!(info["state"], "Failed", "{info}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The result file is read as it arrives and its lines counted: what is measured is the
    // emulator building and sending it, not a client holding a copy.
    let mut results = http
        .get(format!("{base}/{id}/successfulResults"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let mut lines = 0;
    while let Some(chunk) = results.chunk().await.unwrap() {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines, rows + 1);
    let kib = peak_rss_kib();
    println!(
        "bulk_memory: {rows}-row upsert of 7-field Accounts: peak RSS {:.0} MiB ({:.0} bytes per row)",
        kib as f64 / 1024.0,
        kib as f64 * 1024.0 / rows as f64
    );
}
