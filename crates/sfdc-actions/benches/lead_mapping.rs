//! Throughput of planning a typical identify event into a Lead upsert (default mappings).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use sfdc_actions::{LeadConfig, Mapping, Operation};

fn identify_event() -> Value {
    json!({
        "type": "identify",
        "messageId": "ajs-next-1764324000000-4f1c2d3e",
        "userId": "user-9042",
        "anonymousId": "5a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "timestamp": "2026-11-28T10:00:00.000Z",
        "context": {
            "ip": "203.0.113.7",
            "library": {"name": "analytics.js", "version": "2.11.1"},
            "locale": "en-GB",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)"
        },
        "traits": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "company": "Analytical Engines Ltd",
            "phone": "+44 20 7946 0000",
            "plan": "enterprise",
            "address": {
                "street": "12 St James's Square",
                "city": "London",
                "state": "Greater London",
                "postal_code": "SW1Y 4JH",
                "country": "United Kingdom"
            }
        }
    })
}

fn lead_mapping(c: &mut Criterion) {
    let action = LeadConfig::default()
        .operation(Operation::Upsert)
        .record_matcher("Email", Mapping::path("$.traits.email"))
        .other_field("Plan__c", Mapping::path("$.traits.plan"))
        .compile()
        .unwrap();
    let event = identify_event();
    let text = event.to_string();
    assert_eq!(action.plan(&event).unwrap().fields.len(), 10);

    let mut group = c.benchmark_group("lead_mapping");
    group.throughput(Throughput::Elements(1));
    group.bench_function("plan_identify_value", |b| {
        b.iter(|| action.plan(black_box(&event)).unwrap())
    });
    group.bench_function("parse_and_plan_identify_json", |b| {
        b.iter(|| action.plan_json(black_box(&text)).unwrap())
    });
    group.bench_function("trigger_identify", |b| {
        b.iter(|| action.is_triggered_by(black_box(&event)))
    });
    group.finish();
}

criterion_group!(benches, lead_mapping);
criterion_main!(benches);
