//! End to end against the emulator: 1,000 events resolved with the fewest queries the limits
//! allow, over plain HTTP (reqwest), counted by the emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_match::{BatchPlan, FieldType, Lookup, QueryLimits, Resolution, Schema, encoded_len};

const API: &str = "/services/data/v62.0";

/// Runs one SOQL query, following `nextRecordsUrl`; returns the records and the page count.
async fn run_query(
    http: &reqwest::Client,
    emulator: &Emulator,
    soql: &str,
    uri_budget: usize,
) -> (Vec<Map<String, Value>>, usize) {
    let base = emulator.instance_url();
    let token = emulator.access_token();
    let request = http
        .get(format!("{base}{API}/query"))
        .query(&[("q", soql)])
        .bearer_auth(&token)
        .build()
        .unwrap();
    let url = request.url();
    let uri_len = url.path().len() + 1 + url.query().unwrap().len();
    assert!(uri_len <= uri_budget, "request URI of {uri_len} bytes");
    let mut body: Value = http
        .execute(request)
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut records = Vec::new();
    let mut pages = 1;
    loop {
        for r in body["records"].as_array().unwrap() {
            records.push(r.as_object().unwrap().clone());
        }
        let Some(next) = body["nextRecordsUrl"].as_str() else {
            break;
        };
        body = http
            .get(format!("{base}{next}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        pages += 1;
    }
    (records, pages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_events_resolve_with_the_minimum_number_of_queries() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();

    // Seed 1,000 Leads. Every 7th is stored upper-cased; leads 0..10 get a second record
    // whose email differs only in case, so those events must resolve to Multiple.
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for i in 0..990 {
        let email = format!("lead{i:04}@example.com");
        let stored = if i % 7 == 0 {
            email.to_uppercase()
        } else {
            email.clone()
        };
        let id = emulator
            .insert_record(
                "Lead",
                json!({"LastName": format!("L{i}"), "Company": "Acme", "Email": stored}),
            )
            .unwrap();
        expected.entry(email).or_default().push(id);
    }
    for i in 0..10 {
        let email = format!("lead{i:04}@example.com");
        let id = emulator
            .insert_record("Lead", json!({"LastName": "Dup", "Company": "Acme", "Email": email.replace("lead", "LEAD")}))
            .unwrap();
        expected.get_mut(&email).unwrap().push(id);
    }
    assert_eq!(emulator.records("Lead").len(), 1_000);

    // 1,000 events: 880 hits (every 3rd in another case than stored), 10 duplicates (Multiple),
    // 60 misses, and 50 repeats of earlier events (same value, deduplicated in the query).
    let mut events: Vec<String> = Vec::new();
    for i in 0..890 {
        let email = format!("lead{i:04}@example.com");
        events.push(if i % 3 == 0 {
            email.replace("example", "EXAMPLE")
        } else {
            email
        });
    }
    for i in 0..60 {
        events.push(format!("miss{i:04}@example.com"));
    }
    for i in 0..50 {
        events.push(events[i * 17].clone());
    }
    assert_eq!(events.len(), 1_000);

    let schema: Schema = [("Email", "email")].into_iter().collect();
    assert_eq!(schema.get("Email").unwrap().field_type, FieldType::Text);
    let lookups: Vec<Lookup> = events
        .iter()
        .map(|e| {
            Lookup::builder("Lead")
                .schema(&schema)
                .matcher("Email", json!(e))
                .build()
                .unwrap()
        })
        .collect();
    let limits = QueryLimits::default();
    let plan = BatchPlan::build(&lookups, &limits).unwrap();

    // The minimum: every distinct value has the same encoded size, so a query holds
    // `per_query` of them and ceil(distinct / per_query) queries are needed.
    let mut distinct: Vec<&String> = events.iter().collect();
    distinct.sort();
    distinct.dedup();
    let value_bytes = encoded_len("'lead0000@example.com'");
    assert!(
        distinct
            .iter()
            .all(|d| encoded_len(&format!("'{d}'")) == value_bytes)
    );
    let head = encoded_len("SELECT Id, Email FROM Lead WHERE Email IN ()");
    let budget = limits.uri_budget().unwrap() - limits.uri_prefix.len();
    let per_query = (budget - head + 3) / (value_bytes + 3);
    let minimum = distinct.len().div_ceil(per_query);
    assert!(
        minimum > 1,
        "the batch must need several queries to test splitting"
    );
    eprintln!(
        "{} events, {} distinct values, {per_query} values per query -> {} queries (minimum {minimum}); \
         largest request URI {} bytes",
        events.len(),
        distinct.len(),
        plan.queries().len(),
        plan.queries().iter().map(|q| q.uri_bytes()).max().unwrap()
    );
    assert_eq!(plan.queries().len(), minimum);
    assert_eq!(plan.rejected().count(), 0);

    let http = reqwest::Client::new();
    let mut records = Vec::new();
    let mut pages = 0;
    for q in plan.queries() {
        let (r, p) = run_query(&http, &emulator, q.soql(), limits.uri_budget().unwrap()).await;
        records.extend(r);
        pages += p;
    }
    let counts = emulator.api_call_counts();
    assert_eq!(
        counts.get("query").copied().unwrap_or(0),
        plan.queries().len() as u64
    );
    assert_eq!(
        counts.get("query_more").copied().unwrap_or(0),
        (pages - plan.queries().len()) as u64
    );
    assert_eq!(emulator.api_calls(), pages as u64);

    let resolved: Vec<Resolution> = plan
        .resolve(records.iter())
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let (mut found, mut multiple, mut missing) = (0, 0, 0);
    for (event, resolution) in events.iter().zip(&resolved) {
        let want = expected
            .get(&event.to_lowercase())
            .cloned()
            .unwrap_or_default();
        match resolution {
            Resolution::NotFound => {
                assert!(want.is_empty(), "{event} not found");
                missing += 1;
            }
            Resolution::Found(id) => {
                assert_eq!(want.as_slice(), std::slice::from_ref(id), "{event}");
                found += 1;
            }
            Resolution::Multiple(ids) => {
                let mut ids = ids.clone();
                ids.sort();
                let mut want = want.clone();
                want.sort();
                assert_eq!(ids, want, "{event}");
                assert_eq!(resolution.status(), 300);
                assert!(!resolution.is_retryable());
                multiple += 1;
            }
        }
    }
    // 880 distinct hits + 10 Multiple + 60 misses, plus the 50 repeats (indices 0, 17, ...,
    // 833: the first is a Multiple, the rest hits).
    assert_eq!((found, multiple, missing), (880 + 49, 10 + 1, 60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_lookup_soql_runs_on_the_emulator() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let id = emulator
        .insert_record("Lead", json!({"LastName": "O'Hara", "Company": "50%_off \\ \"quoted\"", "Email": "o'hara@example.com"}))
        .unwrap();
    let lookup = Lookup::builder("Lead")
        .matcher("Email", json!("O'HARA@example.com"))
        .matcher("Company", json!("nothing"))
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let (records, _) = run_query(&http, &emulator, &lookup.to_soql(), 16_384).await;
    let ids = records.iter().map(|r| r["Id"].as_str().unwrap().to_owned());
    assert_eq!(Resolution::from_ids(ids), Resolution::Found(id.clone()));

    let lookup = Lookup::builder("Lead")
        .operator(sfdc_match::MatchOperator::And)
        .matcher("Company", json!("50%_OFF \\ \"QUOTED\""))
        .matcher("LastName", json!("o'hara"))
        .build()
        .unwrap();
    let (records, _) = run_query(&http, &emulator, &lookup.to_soql(), 16_384).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["Id"], json!(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_field_batches_resolve_like_the_org() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // 40 leads: email i, phone i % 20 (so each phone is shared by two leads).
    let mut seeded = Vec::new();
    for i in 0..40 {
        let email = format!("m{i:02}@example.com");
        let phone = format!("555-{:04}", i % 20);
        let id = emulator
            .insert_record(
                "Lead",
                json!({"LastName": "M", "Company": "Acme", "Email": email, "Phone": phone}),
            )
            .unwrap();
        seeded.push((id, email, phone));
    }
    let schema: Schema = [("Email", "email"), ("Phone", "phone")]
        .into_iter()
        .collect();
    let mut lookups = Vec::new();
    let mut oracle: Vec<Vec<String>> = Vec::new();
    for i in 0..60 {
        let email = format!("M{:02}@EXAMPLE.com", i % 45);
        let phone = format!("555-{:04}", (i * 7) % 25);
        for op in [
            sfdc_match::MatchOperator::Or,
            sfdc_match::MatchOperator::And,
        ] {
            lookups.push(
                Lookup::builder("Lead")
                    .schema(&schema)
                    .operator(op)
                    .matcher("Email", json!(email))
                    .matcher("Phone", json!(phone))
                    .build()
                    .unwrap(),
            );
            let hits = seeded.iter().filter(|(_, e, p)| {
                let (em, pm) = (e.eq_ignore_ascii_case(&email), *p == phone);
                if op == sfdc_match::MatchOperator::Or {
                    em || pm
                } else {
                    em && pm
                }
            });
            oracle.push(hits.map(|(id, _, _)| id.clone()).collect());
        }
    }
    // Tight limits force several queries per shape.
    let limits = QueryLimits {
        max_uri_bytes: 1_500,
        reserved_uri_bytes: 0,
        ..QueryLimits::default()
    };
    let plan = BatchPlan::build(&lookups, &limits).unwrap();
    assert!(plan.queries().len() > 2);
    let http = reqwest::Client::new();
    let mut records = Vec::new();
    for q in plan.queries() {
        records.extend(run_query(&http, &emulator, q.soql(), 1_500).await.0);
    }
    assert_eq!(
        emulator.api_call_counts().get("query").copied(),
        Some(plan.queries().len() as u64)
    );
    let resolved = plan.resolve(records.iter());
    for (i, (got, want)) in resolved.into_iter().zip(oracle).enumerate() {
        let sorted = |r: Resolution| match r {
            Resolution::Multiple(mut ids) => {
                ids.sort();
                Resolution::Multiple(ids)
            }
            other => other,
        };
        assert_eq!(
            sorted(got.unwrap()),
            sorted(Resolution::from_ids(want)),
            "event {i}"
        );
    }
}
