//! A dropped `send` future (issue 12, gap 4): the creates it had sent and not answered are
//! listed by `Destination::take_abandoned` (REST creates, Bulk insert rows with the `bulk` flag,
//! keyed creates with their idempotency key); a completed send leaves the list empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::idempotency_key::{KEYED_LEAD, key_field};
use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_destination::{ActionKind, ExecutorSettings, OutcomeStatus};
use support::*;

#[tokio::test]
async fn a_dropped_send_lists_exactly_its_creates_in_flight() {
    let emu = emulator_with_latency(400).await;
    let existing = emu
        .insert_record("Lead", json!({"LastName": "Old", "Company": "Acme"}))
        .unwrap();
    let dest = destination_with(
        &emu,
        ExecutorSettings::default().with_preflight(false),
        vec![
            sub(r#"
                action = "lead"
                trigger = 'type = "identify"'
            "#),
            sub(LEAD_RENAME_BY_ID),
        ],
    );
    let mut events: Vec<Value> = (0..3)
        .map(|i| identify(&format!("gone{i}@example.com"), "Gone"))
        .collect();
    // An update by id in the same write call: not a create, never listed.
    events.insert(
        1,
        json!({"type": "track", "event": "Rename", "userId": "u", "messageId": "m-rename",
               "properties": {"lead_id": existing, "name": "New"}}),
    );
    // No describe, no lookup: the one write call goes out at once and is answered after the
    // emulator's 400 ms; the send is dropped long before.
    let dropped = tokio::time::timeout(Duration::from_millis(100), dest.send(&events)).await;
    assert!(dropped.is_err(), "the send should still be waiting");
    let abandoned = dest.take_abandoned();
    let listed: Vec<(usize, Option<&str>)> = abandoned
        .iter()
        .map(|a| (a.index, a.message_id.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            (0, Some("m-gone0@example.com")),
            (2, Some("m-gone1@example.com")),
            (3, Some("m-gone2@example.com")),
        ]
    );
    assert!(abandoned.iter().all(|a| a.object == "Lead"
        && a.action == ActionKind::Lead
        && a.subscription == 0
        && a.idempotency_key.is_none()
        && !a.bulk));
    // Taken: the list is empty now.
    assert!(dest.take_abandoned().is_empty());

    // A send that completes leaves nothing behind.
    let out = dest.send(&[identify("kept@example.com", "Kept")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    assert!(dest.take_abandoned().is_empty());
}

#[tokio::test]
async fn a_dropped_send_lists_its_bulk_insert_rows_with_the_bulk_flag() {
    let emu = emulator_with_latency(400).await;
    // Each `identify` is a REST create and a row of a Bulk insert job.
    let dest = destination_with(
        &emu,
        ExecutorSettings::default().with_preflight(false),
        vec![
            sub(r#"action = "lead""#),
            sub(r#"
                action = "lead"
                [bulk]
                enabled = true
            "#),
        ],
    );
    let events: Vec<Value> = (0..2)
        .map(|i| identify(&format!("bulk{i}@example.com"), "Bulk"))
        .collect();
    // No describe: the Collections create and the Bulk job's first call go out at once and are
    // answered after 400 ms; the send is dropped long before.
    let dropped = tokio::time::timeout(Duration::from_millis(100), dest.send(&events)).await;
    assert!(dropped.is_err(), "the send should still be waiting");
    let listed: Vec<(usize, usize, bool)> = dest
        .take_abandoned()
        .iter()
        .map(|a| {
            assert_eq!((a.object.as_str(), a.action), ("Lead", ActionKind::Lead));
            assert_eq!(a.idempotency_key, None);
            (a.index, a.subscription, a.bulk)
        })
        .collect();
    assert_eq!(
        listed,
        [(0, 0, false), (0, 1, true), (1, 0, false), (1, 1, true)]
    );
    assert!(dest.take_abandoned().is_empty());
}

#[tokio::test]
async fn a_dropped_keyed_create_lists_its_idempotency_key() {
    let emu = emulator_with_latency(200).await;
    emu.add_field("Lead", key_field()).unwrap();
    let dest = destination(&emu, vec![sub(KEYED_LEAD)]);
    // A completed send reads (and caches) the describe the key check needs and lists nothing.
    let out = dest.send(&[identify("first@example.com", "First")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    assert!(dest.take_abandoned().is_empty());
    // Now the upsert by the key is the send's first call; it is answered after 200 ms.
    let events = [
        identify("k0@example.com", "Keyed"),
        identify("k1@example.com", "Keyed"),
    ];
    let dropped = tokio::time::timeout(Duration::from_millis(50), dest.send(&events)).await;
    assert!(dropped.is_err(), "the send should still be waiting");
    let listed: Vec<_> = dest
        .take_abandoned()
        .into_iter()
        .map(|a| (a.index, a.idempotency_key, a.bulk))
        .collect();
    let key = |v: &str| Some(("Event_Id__c".to_owned(), json!(v)));
    assert_eq!(
        listed,
        [
            (0, key("m-k0@example.com:leads"), false),
            (1, key("m-k1@example.com:leads"), false),
        ]
    );
}
