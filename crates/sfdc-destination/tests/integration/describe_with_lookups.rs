//! A destination's first lookups travel with the describes they need, in one Composite call
//! (`run/rest.rs`, `describe_all`): the queries are typed from the values alone, and the first
//! step uses an answer only when describe types its query to the same text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::{EventStatus, OutcomeStatus};
use support::{calls, calls_since, destination, destination_for, emulator, identify, only, sub};

#[tokio::test]
async fn a_guess_describe_types_differently_is_not_used_and_the_typed_lookup_is_sent() {
    let emu = emulator().await;
    let id = emu
        .insert_record("Account", json!({"Name": "Acme", "NumberOfEmployees": 42}))
        .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "account"
            operation = "update"
            record_matchers = { NumberOfEmployees = { "@path" = "$.traits.size" } }
        "#,
    );
    // The value is text; describe says the field is an integer, so the typed query says
    // `42` where the guess said `'42'`.
    let out = dest
        .send(&[
            json!({"type": "group", "groupId": "G-1", "traits": {"name": "Renamed", "size": "42"}}),
        ])
        .await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
    assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    assert_eq!(emu.record("Account", &id).unwrap()["Name"], "Renamed");
    // The describe with the guessed query, the typed query, the update: no more calls than
    // describe, query and update sent one after another.
    let c = calls(&emu);
    assert_eq!(
        c,
        [
            ("collections".to_owned(), 1),
            ("composite".to_owned(), 1),
            ("query".to_owned(), 1)
        ]
        .into()
    );
}

#[tokio::test]
async fn two_objects_are_described_and_looked_up_in_one_call_then_only_looked_up() {
    let emu = emulator().await;
    let lead = emu
        .insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": "ann@example.com"}),
        )
        .unwrap();
    let dest = destination(
        &emu,
        vec![
            sub(support::LEAD_UPSERT_BY_EMAIL),
            sub(r#"
                action = "contact"
                operation = "upsert"
                trigger = 'type = "identify"'
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
        ],
    );
    let events = [identify("ann@example.com", "New")];
    // The plan says what the first batch does.
    let plan = dest.explain(&events);
    let kinds: Vec<&str> = plan.calls.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["composite", "composite"], "{plan}");
    let reads: Vec<&str> = plan.calls[0]
        .subrequests
        .iter()
        .map(|s| s.kind.as_str())
        .collect();
    assert_eq!(reads, ["describe", "describe", "query", "query"], "{plan}");
    let out = dest.send(&events).await;
    assert_eq!(out[0].status, EventStatus::Succeeded, "{:?}", out[0]);
    let statuses: Vec<_> = out[0].results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [OutcomeStatus::Updated, OutcomeStatus::Created]);
    assert_eq!(out[0].results[0].record_id.as_deref(), Some(lead.as_str()));
    // Both describes and both lookups in one Composite call, then the two writes in another.
    assert_eq!(calls(&emu), [("composite".to_owned(), 2)].into());
    // Described once: the next batch only looks up (one Composite of both queries) and writes.
    let before = emu.api_call_counts();
    let out = dest.send(&[identify("bob@example.com", "Bob")]).await;
    assert_eq!(out[0].status, EventStatus::Succeeded, "{:?}", out[0]);
    assert_eq!(
        calls_since(&emu, &before),
        [("composite".to_owned(), 2)].into()
    );
    assert_eq!(emu.records("Contact").len(), 2);
    assert_eq!(emu.records("Lead").len(), 2);
}
