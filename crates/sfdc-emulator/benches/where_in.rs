//! Emulator CPU per 1,000-value `IN` query over 100,000 records.
//!
//! Seeds 100,000 Leads (unique e-mails) through sObject Collections, then runs
//! `SELECT Id FROM Lead WHERE Email IN (<1,000 values>)` through the router in-process
//! (`tower::ServiceExt::oneshot`, no socket, one thread), so the time measured is the
//! emulator's own work for the request. Prints the median and the spread of the runs.
//!
//! Run: `cargo bench -p sfdc-emulator --bench where_in`
//! Tune: `BENCH_RECORDS` (default 100000), `BENCH_VALUES` (default 1000), `BENCH_RUNS` (default 15).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use serde_json::{Value, json};
use sfdc_emulator::{EmulatorConfig, router};
use tower::ServiceExt;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn call(app: &axum::Router, token: &str, req: Request<Body>) -> Value {
    let mut req = req;
    req.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let resp = app.clone().oneshot(req).await.unwrap();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn main() {
    let records = env("BENCH_RECORDS", 100_000);
    let values = env("BENCH_VALUES", 1_000);
    let runs = env("BENCH_RUNS", 15);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut config = EmulatorConfig::default();
        config.daily_api_limit = u64::MAX;
        let (app, token) = router(config).unwrap();
        for chunk in (0..records).collect::<Vec<_>>().chunks(200) {
            let recs: Vec<Value> = chunk
                .iter()
                .map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("L{i}"), "Company": "C", "Email": format!("user{i}@example.com")}))
                .collect();
            let req = Request::post("/services/data/v62.0/composite/sobjects")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"records": recs}).to_string()))
                .unwrap();
            let out = call(&app, &token, req).await;
            assert_eq!(out.as_array().map(Vec::len), Some(chunk.len()));
        }
        let step = (records / values).max(1);
        let list: Vec<String> = (0..values)
            .map(|k| format!("'USER{}@example.com'", k * step))
            .collect();
        let soql = format!("SELECT Id FROM Lead WHERE Email IN ({})", list.join(","));
        let uri = format!("/services/data/v62.0/query?q={}", encode(&soql));
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        for _ in 0..runs {
            let req = Request::get(uri.as_str()).body(Body::empty()).unwrap();
            let started = Instant::now();
            let out = call(&app, &token, req).await;
            times.push(started.elapsed());
            assert_eq!(out["totalSize"], json!(values), "{out}");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "where_in: {records} Leads, {values}-value Email IN: median {:.2} ms per query (min {:.2}, max {:.2}, {runs} runs)",
            ms(times[runs / 2]),
            ms(times[0]),
            ms(times[runs - 1])
        );
    });
}
