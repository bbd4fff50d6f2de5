//! Throughput of simple REST requests on loopback, no latency injected.
//!
//! Starts the emulator in-process, seeds one Account, then drives `CONCURRENCY`
//! keep-alive reqwest tasks through a bounded number of requests per phase:
//! `GET /sobjects/Account/{id}` (retrieve), `POST /sobjects/Lead` (create) and
//! `PATCH /sobjects/Account/{id}` (update). Prints requests per second per phase.
//!
//! Run: `cargo bench -p sfdc-emulator --bench throughput`
//! Tune: `BENCH_REQUESTS` (per phase, default 100000), `BENCH_CONCURRENCY` (default 32).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde_json::json;
use sfdc_emulator::{Emulator, EmulatorConfig};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Phase {
    Retrieve,
    Create,
    Update,
}

async fn run_phase(emu: &Emulator, id: &str, phase: Phase, total: u64, concurrency: u64) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .unwrap();
    let token = emu.access_token();
    let base = format!("{}/services/data/v62.0/sobjects", emu.instance_url());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, token, base, next, id) = (
            http.clone(),
            token.clone(),
            base.clone(),
            next.clone(),
            id.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let rb = match phase {
                    Phase::Retrieve => http.get(format!("{base}/Account/{id}")),
                    Phase::Create => http
                        .post(format!("{base}/Lead"))
                        .json(&json!({"LastName":"Bench","Company":"B"})),
                    Phase::Update => http
                        .patch(format!("{base}/Account/{id}"))
                        .json(&json!({"Phone":"555"})),
                };
                let r = rb.bearer_auth(&token).send().await.unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await.unwrap();
                if status < 300 {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(ok, total, "every request must succeed");
    total as f64 / secs
}

fn main() {
    let total = env("BENCH_REQUESTS", 100_000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut cfg = EmulatorConfig::default();
        cfg.daily_api_limit = u64::MAX;
        let emu = Emulator::start(cfg).await.unwrap();
        let id = emu
            .insert_record("Account", json!({"Name":"Bench"}))
            .unwrap();
        // Warm-up.
        run_phase(&emu, &id, Phase::Retrieve, 2_000, concurrency).await;
        for (name, phase) in [
            ("retrieve (GET)", Phase::Retrieve),
            ("create (POST)", Phase::Create),
            ("update (PATCH)", Phase::Update),
        ] {
            let rps = run_phase(&emu, &id, phase, total, concurrency).await;
            println!("{name:<16} {total} requests, {concurrency} connections: {rps:>9.0} req/s");
        }
        println!("api calls counted: {}", emu.api_calls());
    });
}
