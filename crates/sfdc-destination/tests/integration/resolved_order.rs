//! Order by the record a lookup resolved (issue 12, gap 1): operations on one record reached
//! through different matchers (an e-mail and the record id, an e-mail and a phone) apply in
//! event order, within a batch and across concurrent sends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_destination::{Destination, OutcomeStatus};
use sfdc_emulator::Emulator;
use support::*;

/// Lead update by Email (`identify`), update by Id (`track Rename`), delete by Id (`track
/// Forget`), update by Phone (`track Call`).
fn lead_destination(emu: &Emulator) -> Destination {
    destination(
        emu,
        vec![
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "identify"'
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
            sub(LEAD_RENAME_BY_ID),
            sub(r#"
                action = "lead"
                operation = "delete"
                trigger = 'type = "track" and event = "Forget"'
                record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
            "#),
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "track" and event = "Call"'
                record_matchers = { Phone = { "@path" = "$.properties.phone" } }
                other_fields = { LastName = { "@path" = "$.properties.name" } }
            "#),
        ],
    )
}

fn forget(id: &str) -> Value {
    json!({"type": "track", "event": "Forget", "userId": "u", "properties": {"lead_id": id}})
}

fn call(phone: &str, name: &str) -> Value {
    json!({"type": "track", "event": "Call", "userId": "u",
           "properties": {"phone": phone, "name": name}})
}

fn lead(emu: &Emulator, email: &str, phone: &str) -> String {
    emu.insert_record(
        "Lead",
        json!({"LastName": "Old", "Company": "Acme", "Email": email, "Phone": phone}),
    )
    .unwrap()
}

fn statuses(out: &[sfdc_destination::EventOutcome]) -> Vec<OutcomeStatus> {
    out.iter().map(|o| only(o).status).collect()
}

/// The LastName of a live Lead (`None` once deleted).
fn last_name(emu: &Emulator, id: &str) -> Option<String> {
    emu.records("Lead")
        .into_iter()
        .find(|r| r["Id"] == id)
        .map(|r| r["LastName"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_email_and_the_record_id_of_one_lead_apply_in_event_order_in_one_batch() {
    let emu = emulator().await;
    let x = lead(&emu, "x@example.com", "100");
    let y = lead(&emu, "y@example.com", "200");
    let dest = lead_destination(&emu);
    let events = vec![
        identify("x@example.com", "X1"),
        identify("X@example.com", "X2"),
        // The 15-character form of X's id: the same record.
        forget(&x[..15]),
        identify("y@example.com", "Y1"),
        identify("y@example.com", "Y2"),
        rename(&y, "Y3"),
    ];
    let out = dest.send(&events).await;
    // Keys known before I/O put events 2 and 5 in a second round and events 3 and 6 in the
    // first; the lookups show that 3 and 6 write the records of 1–2 and 4–5, so they wait.
    assert_eq!(
        statuses(&out),
        [
            OutcomeStatus::Updated,
            OutcomeStatus::Updated,
            OutcomeStatus::Deleted,
            OutcomeStatus::Updated,
            OutcomeStatus::Updated,
            OutcomeStatus::Updated,
        ],
        "{out:#?}"
    );
    assert_eq!(last_name(&emu, &x), None, "X deleted last");
    assert_eq!(
        last_name(&emu, &y).as_deref(),
        Some("Y3"),
        "the rename came last"
    );
    for o in &out[..3] {
        assert_eq!(
            only(o).record_id.as_deref().map(sfdc_match::canonical_id),
            Some(sfdc_match::canonical_id(&x))
        );
    }
}

#[tokio::test]
async fn two_matchers_on_different_fields_finding_one_lead_apply_in_event_order() {
    let emu = emulator().await;
    let x = lead(&emu, "p@example.com", "555-0100");
    let other = lead(&emu, "q@example.com", "555-0199");
    let dest = lead_destination(&emu);
    let events = vec![
        identify("p@example.com", "E1"),
        identify("p@example.com", "E2"),
        call("555-0100", "Phoned"),
        call("555-0199", "Other"),
    ];
    let out = dest.send(&events).await;
    assert!(
        statuses(&out).iter().all(|s| *s == OutcomeStatus::Updated),
        "{out:#?}"
    );
    // The call by phone is the last event on X: it wins over the second e-mail update.
    assert_eq!(last_name(&emu, &x).as_deref(), Some("Phoned"));
    assert_eq!(last_name(&emu, &other).as_deref(), Some("Other"));
}

#[tokio::test]
async fn a_send_by_email_and_a_concurrent_delete_by_id_of_one_lead_do_not_interleave() {
    let emu = emulator_with_latency(40).await;
    let x = lead(&emu, "c@example.com", "300");
    let dest = lead_destination(&emu);
    // Warm the describe cache, so the sends below make only lookups and writes.
    let warm = lead(&emu, "warm@example.com", "0");
    dest.send(&[identify("warm@example.com", "W")]).await;
    assert_eq!(last_name(&emu, &warm).as_deref(), Some("W"));

    // A: two updates by e-mail (a lookup, a write, a second write after it). B: a delete by
    // id, started while A's first write is in flight. Their keys (an e-mail, an id) differ,
    // so only the record A's lookup resolved can order them.
    let a = {
        let dest = dest.clone();
        tokio::spawn(async move {
            dest.send(&[
                identify("c@example.com", "A1"),
                identify("c@example.com", "A2"),
            ])
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    let b = {
        let dest = dest.clone();
        let x = x.clone();
        tokio::spawn(async move { dest.send(&[forget(&x)]).await })
    };
    let a = a.await.unwrap();
    let b = b.await.unwrap();
    assert_eq!(statuses(&b), [OutcomeStatus::Deleted]);
    // Either A ran first (both updates land, then the delete) or B did (A finds no Lead):
    // never the delete between A's two updates.
    let a = statuses(&a);
    assert!(
        a == [OutcomeStatus::Updated, OutcomeStatus::Updated]
            || a == [OutcomeStatus::Failed, OutcomeStatus::Failed],
        "{a:?}"
    );
    assert_eq!(last_name(&emu, &x), None);
}

/// An upsert by Email after a delete by Id of the Lead that e-mail found earlier in the batch
/// creates a new Lead: the deleted id is forgotten under every matcher that found it, so the
/// upsert looks the e-mail up again instead of writing to the deleted record.
#[tokio::test]
async fn an_upsert_after_a_delete_of_its_record_by_id_creates_a_new_record() {
    let emu = emulator().await;
    let x = lead(&emu, "z@example.com", "300");
    let dest = destination(
        &emu,
        vec![
            sub(r#"
                action = "lead"
                operation = "upsert"
                trigger = 'type = "identify"'
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
            sub(r#"
                action = "lead"
                operation = "delete"
                trigger = 'type = "track" and event = "Forget"'
                record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
            "#),
        ],
    );
    let events = vec![
        identify("z@example.com", "Z1"),
        forget(&x),
        identify("z@example.com", "Z2"),
    ];
    let out = dest.send(&events).await;
    assert_eq!(
        statuses(&out),
        [
            OutcomeStatus::Updated,
            OutcomeStatus::Deleted,
            OutcomeStatus::Created
        ],
        "{out:#?}"
    );
    let new_id = only(&out[2]).record_id.clone().unwrap();
    assert_ne!(
        sfdc_match::canonical_id(&new_id),
        sfdc_match::canonical_id(&x)
    );
    assert_eq!(last_name(&emu, &x), None, "the old Lead stays deleted");
    assert_eq!(last_name(&emu, &new_id).as_deref(), Some("Z2"));
}
