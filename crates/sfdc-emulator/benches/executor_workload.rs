//! Emulator CPU for the facade executor's benchmark workload (issue 12).
//!
//! The workload: 5,000 `identify` events → Lead upsert by Email, half the Leads existing,
//! batches of 1,000. Per batch: one lookup `SELECT Id, Email FROM Lead WHERE Email IN
//! (<1,000 values>)`, then an sObject Collections update of the 500 found and a create of
//! the 500 new (200 records per Collections request). Every request goes through the router
//! in-process (`tower::ServiceExt::oneshot`, no socket, one thread), so the time measured
//! is the emulator's own CPU for the request.
//!
//! Each round starts a fresh emulator with `BENCH_EXISTING` Leads and runs the five batches
//! twice over: once with plain requests (query GET, Collections POST / PATCH of 200) and
//! once packed in Composite calls (one call with the lookup, one with the three update
//! subrequests, one with the three create subrequests). Prints, per operation, the median
//! over the rounds of the per-1,000-record (or per 1,000-value query) time.
//!
//! Run: `cargo bench -p sfdc-emulator --bench executor_workload`
//! Tune: `BENCH_EXISTING` (default 2500), `BENCH_ROUNDS` (default 9), `BENCH_MODE`
//! (`plain` or `composite`: that half only, e.g. for instruction counts under
//! `valgrind --tool=callgrind --toggle-collect='executor_workload::timed*'`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, header};
use serde_json::{Value, json};
use sfdc_emulator::{EmulatorConfig, router};
use tower::ServiceExt;

const V: &str = "v62.0";
const BATCH: usize = 1000;
const CHUNK: usize = 200;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

struct Emu {
    app: axum::Router,
    token: String,
}

impl Emu {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/services/data/{V}/{path}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .app
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

fn lookup_soql(batch: usize) -> String {
    let list: Vec<String> = (batch * BATCH..(batch + 1) * BATCH)
        .map(|i| format!("'{}'", email(i)))
        .collect();
    format!(
        "SELECT Id, Email FROM Lead WHERE Email IN ({})",
        list.join(",")
    )
}

fn create_records(batch: usize) -> Vec<Value> {
    (batch * BATCH + BATCH / 2..(batch + 1) * BATCH)
        .map(|i| {
            json!({"attributes": {"type": "Lead"}, "LastName": format!("L{i}"), "FirstName": "F",
                   "Company": "C", "Email": email(i), "Title": "Engineer", "Phone": "+1 555 0100"})
        })
        .collect()
}

fn update_records(found: &[(String, String)]) -> Vec<Value> {
    found
        .iter()
        .map(|(id, e)| {
            json!({"attributes": {"type": "Lead"}, "Id": id, "LastName": format!("U {e}"),
                   "FirstName": "G", "Title": "Manager", "Phone": "+1 555 0199"})
        })
        .collect()
}

fn found_of(body: &Value) -> Vec<(String, String)> {
    body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().to_owned(),
                r["Email"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn seed(emu: &Emu, existing: usize) {
    // Half the 5,000 e-mails exist: the first 500 of each batch.
    let mut recs = Vec::new();
    for batch in 0..5 {
        for i in batch * BATCH..batch * BATCH + BATCH / 2 {
            recs.push(
                json!({"attributes": {"type": "Lead"}, "LastName": format!("S{i}"),
                             "Company": "C", "Email": email(i)}),
            );
        }
    }
    // More Leads than the workload's own, if asked, with e-mails it never looks up.
    for i in recs.len()..existing {
        recs.push(
            json!({"attributes": {"type": "Lead"}, "LastName": format!("X{i}"),
                         "Company": "C", "Email": format!("other{i}@example.org")}),
        );
    }
    for chunk in recs.chunks(CHUNK) {
        let (s, _) = emu
            .call(
                Method::POST,
                "composite/sobjects",
                Some(json!({"records": chunk})),
            )
            .await;
        assert_eq!(s, 200);
    }
}

fn sub(method: &str, url: String, reference: String, body: Option<Value>) -> Value {
    let mut s = json!({"method": method, "url": url, "referenceId": reference});
    if let Some(b) = body {
        s["body"] = b;
    }
    s
}

type Times = BTreeMap<&'static str, Vec<Duration>>;

async fn timed(
    times: &mut Times,
    key: &'static str,
    emu: &Emu,
    m: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let started = Instant::now();
    let (status, out) = emu.call(m, path, body).await;
    *times.entry(key).or_default().last_mut().unwrap() += started.elapsed();
    assert!(status < 300, "{key}: {status} {out}");
    out
}

async fn plain_batch(emu: &Emu, batch: usize, times: &mut Times) {
    let q = format!("query?q={}", encode(&lookup_soql(batch)));
    let out = timed(
        times,
        "plain: 1,000-value IN query",
        emu,
        Method::GET,
        &q,
        None,
    )
    .await;
    let found = found_of(&out);
    assert_eq!(found.len(), BATCH / 2);
    for chunk in update_records(&found).chunks(CHUNK) {
        let body = json!({"allOrNone": false, "records": chunk});
        let out = timed(
            times,
            "plain: Collections update, 1,000 records",
            emu,
            Method::PATCH,
            "composite/sobjects",
            Some(body),
        )
        .await;
        assert!(out.as_array().unwrap().iter().all(|r| r["success"] == true));
    }
    for chunk in create_records(batch).chunks(CHUNK) {
        let body = json!({"allOrNone": false, "records": chunk});
        let out = timed(
            times,
            "plain: Collections create, 1,000 records",
            emu,
            Method::POST,
            "composite/sobjects",
            Some(body),
        )
        .await;
        assert!(out.as_array().unwrap().iter().all(|r| r["success"] == true));
    }
}

async fn composite_batch(emu: &Emu, batch: usize, times: &mut Times) {
    let url = format!("/services/data/{V}/query?q={}", encode(&lookup_soql(batch)));
    let body = json!({"compositeRequest": [sub("GET", url, "q0".into(), None)]});
    let out = timed(
        times,
        "composite: 1,000-value IN query",
        emu,
        Method::POST,
        "composite",
        Some(body),
    )
    .await;
    let found = found_of(&out["compositeResponse"][0]["body"]);
    assert_eq!(found.len(), BATCH / 2);
    let writes = |method: &str, recs: Vec<Value>| {
        let subs: Vec<Value> = recs
            .chunks(CHUNK)
            .enumerate()
            .map(|(k, c)| {
                sub(
                    method,
                    format!("/services/data/{V}/composite/sobjects"),
                    format!("w{k}"),
                    Some(json!({"allOrNone": false, "records": c})),
                )
            })
            .collect();
        json!({"collateSubrequests": false, "compositeRequest": subs})
    };
    for (key, method, recs) in [
        (
            "composite: Collections update, 1,000 records",
            "PATCH",
            update_records(&found),
        ),
        (
            "composite: Collections create, 1,000 records",
            "POST",
            create_records(batch),
        ),
    ] {
        let out = timed(
            times,
            key,
            emu,
            Method::POST,
            "composite",
            Some(writes(method, recs)),
        )
        .await;
        for s in out["compositeResponse"].as_array().unwrap() {
            assert_eq!(s["httpStatusCode"], 200, "{s}");
        }
    }
}

fn main() {
    let existing = env("BENCH_EXISTING", 2_500);
    let rounds = env("BENCH_ROUNDS", 9);
    let mode = std::env::var("BENCH_MODE").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Per key, per round: the time summed over the round's five batches.
        let mut per_round: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
        for _ in 0..rounds {
            for packed in [false, true] {
                if (packed && mode == "plain") || (!packed && mode == "composite") {
                    continue;
                }
                let mut config = EmulatorConfig::default();
                config.daily_api_limit = u64::MAX;
                let (app, token) = router(config).unwrap();
                let emu = Emu { app, token };
                seed(&emu, existing).await;
                let mut times: Times = BTreeMap::new();
                for k in [
                    "plain: 1,000-value IN query",
                    "plain: Collections update, 1,000 records",
                    "plain: Collections create, 1,000 records",
                    "composite: 1,000-value IN query",
                    "composite: Collections update, 1,000 records",
                    "composite: Collections create, 1,000 records",
                ] {
                    times.insert(k, vec![Duration::ZERO]);
                }
                for batch in 0..5 {
                    if packed {
                        composite_batch(&emu, batch, &mut times).await;
                    } else {
                        plain_batch(&emu, batch, &mut times).await;
                    }
                }
                for (k, v) in times {
                    if !v[0].is_zero() {
                        // Five queries; 2,500 records updated and 2,500 created.
                        let per_1000 = if k.ends_with("query") { v[0] / 5 } else { v[0] * 2 / 5 };
                        per_round.entry(k).or_default().push(per_1000);
                    }
                }
            }
        }
        println!("executor_workload: {existing} Leads seeded, 5 batches of 1,000, {rounds} rounds");
        let mut batch_total = [Duration::ZERO; 2];
        for (k, mut v) in per_round {
            v.sort();
            let median = v[v.len() / 2];
            // A batch is one query, 500 updates and 500 creates.
            let share = if k.ends_with("query") { median } else { median / 2 };
            batch_total[usize::from(k.starts_with("composite"))] += share;
            println!(
                "  {k:<46} median {:>7.2} ms (min {:.2}, max {:.2})",
                median.as_secs_f64() * 1e3,
                v[0].as_secs_f64() * 1e3,
                v[v.len() - 1].as_secs_f64() * 1e3
            );
        }
        println!(
            "  per 1,000-event batch (lookup + 500 updates + 500 creates): plain {:.2} ms, composite {:.2} ms",
            batch_total[0].as_secs_f64() * 1e3,
            batch_total[1].as_secs_f64() * 1e3
        );
    });
}
