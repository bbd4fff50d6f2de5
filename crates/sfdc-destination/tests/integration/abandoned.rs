//! A dropped `send` future (issue 12, gap 4): the creates it had sent and not answered are
//! listed by `Destination::take_abandoned`; a completed send leaves the list empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_destination::{ActionKind, ExecutorSettings, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::*;

#[tokio::test]
async fn a_dropped_send_lists_exactly_its_creates_in_flight() {
    let mut config = EmulatorConfig::default();
    config.latency = Duration::from_millis(400);
    let emu = Emulator::start(config).await.unwrap();
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
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "track" and event = "Rename"'
                record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
                other_fields = { LastName = { "@path" = "$.properties.name" } }
            "#),
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
