//! Building and resolving a 10,000-event batch.
//!
//! Run: `cargo bench -p sfdc-match --bench batch`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use sfdc_match::{BatchPlan, Lookup, MatchOperator, QueryLimits, Schema};

const EVENTS: usize = 10_000;

fn schema() -> Schema {
    [("Email", "email"), ("Phone", "phone")]
        .into_iter()
        .collect()
}

/// 10,000 events on Email (every 10th repeats an earlier value, every 3rd in upper case).
fn email_lookups(schema: &Schema) -> Vec<Lookup> {
    (0..EVENTS)
        .map(|i| {
            let n = if i % 10 == 9 { i / 2 } else { i };
            let email = format!("user{n:05}@example.com");
            let email = if i % 3 == 0 {
                email.to_uppercase()
            } else {
                email
            };
            Lookup::builder("Lead")
                .schema(schema)
                .matcher("Email", json!(email))
                .build()
                .unwrap()
        })
        .collect()
}

/// 10,000 events on Email OR Phone.
fn or_lookups(schema: &Schema) -> Vec<Lookup> {
    (0..EVENTS)
        .map(|i| {
            Lookup::builder("Lead")
                .schema(schema)
                .operator(MatchOperator::Or)
                .matcher("Email", json!(format!("user{i:05}@example.com")))
                .matcher("Phone", json!(format!("+1 555 {i:07}")))
                .build()
                .unwrap()
        })
        .collect()
}

/// What the queries would return: one record per distinct email, some duplicated.
fn records() -> Vec<Map<String, Value>> {
    (0..EVENTS + 500)
        .map(|i| {
            let n = if i >= EVENTS { i - EVENTS } else { i };
            json!({
                "attributes": {"type": "Lead"},
                "Id": format!("00Q{i:012}AAA"),
                "Email": format!("user{n:05}@example.com"),
                "Phone": format!("+1 555 {n:07}"),
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let schema = schema();
    let limits = QueryLimits::default();
    let emails = email_lookups(&schema);
    let ors = or_lookups(&schema);
    let records = records();
    let plan = BatchPlan::build(&emails, &limits).unwrap();
    let or_plan = BatchPlan::build(&ors, &limits).unwrap();
    eprintln!(
        "email batch: {} events -> {} queries; email-or-phone batch: {} events -> {} queries",
        emails.len(),
        plan.queries().len(),
        ors.len(),
        or_plan.queries().len()
    );

    let mut group = c.benchmark_group("10k_events");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("validate_lookups", |b| {
        b.iter(|| black_box(email_lookups(&schema)))
    });
    group.bench_function("build_email_in", |b| {
        b.iter(|| BatchPlan::build(black_box(&emails), &limits).unwrap())
    });
    group.bench_function("resolve_email_in", |b| {
        b.iter(|| black_box(plan.resolve(records.iter())))
    });
    group.bench_function("build_and_resolve_email_in", |b| {
        b.iter(|| {
            let plan = BatchPlan::build(black_box(&emails), &limits).unwrap();
            black_box(plan.resolve(records.iter()))
        })
    });
    group.bench_function("build_and_resolve_email_or_phone", |b| {
        b.iter(|| {
            let plan = BatchPlan::build(black_box(&ors), &limits).unwrap();
            black_box(plan.resolve(records.iter()))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
