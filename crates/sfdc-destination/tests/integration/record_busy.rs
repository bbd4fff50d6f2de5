//! Two concurrent sends whose lookups each resolve a record the other holds (by its `Id`): one
//! of them would wait for the other forever, so its write is refused `409 RECORD_BUSY`
//! (retryable, not sent), and so is every later write of that batch sharing one of its keys,
//! which would otherwise overtake the refused write when the pipeline resends it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_destination::{Destination, EventOutcome, OutcomeStatus};
use sfdc_emulator::Emulator;
use support::*;

/// Upsert by Email (`identify`), upsert by Email AND LastName (`track Add`), update by Id
/// (`track Rename`).
fn lead_destination(emu: &Emulator) -> Destination {
    destination(
        emu,
        vec![
            sub(&format!(
                "{LEAD_UPSERT_BY_EMAIL}\ntrigger = 'type = \"identify\"'"
            )),
            sub(r#"
                action = "lead"
                operation = "upsert"
                trigger = 'type = "track" and event = "Add"'
                match_operator = "and"
                record_matchers = { Email = { "@path" = "$.properties.email" }, LastName = { "@path" = "$.properties.name" } }
                other_fields = { LastName = { "@path" = "$.properties.name" }, Company = { "@path" = "$.properties.company" } }
            "#),
            sub(LEAD_RENAME_BY_ID),
        ],
    )
}

fn add(email: &str, name: &str) -> Value {
    json!({"type": "track", "event": "Add", "userId": "u",
           "properties": {"email": email, "name": name, "company": "Acme"}})
}

/// A send's events: an upsert of the Lead `email` finds (the other send's Lead), a follower
/// sharing that e-mail key whose lookup finds nothing (a create, no record lock needed), and a
/// rename by id of the send's own Lead (so the send holds that Lead from its start).
fn batch(email: &str, own: &str, tag: &str) -> Vec<Value> {
    vec![
        identify(email, &format!("{tag}-up")),
        add(email, &format!("{tag}-new")),
        rename(own, &format!("{tag}-ren")),
    ]
}

fn codes(out: &[EventOutcome]) -> Vec<(OutcomeStatus, u16, Option<String>, bool)> {
    out.iter()
        .map(|o| {
            let r = only(o);
            (
                r.status,
                r.http_status,
                r.error_code.as_ref().map(|c| c.as_str().to_owned()),
                r.retryable,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_write_refused_record_busy_refuses_the_later_writes_of_its_keys() {
    let emu = emulator_with_latency(20).await;
    let lead = |email: &str| {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": email}),
        )
        .unwrap()
    };
    let (ra, rb) = (lead("a@example.com"), lead("b@example.com"));
    let dest = lead_destination(&emu);
    // A holds RA (its rename) and finds RB by e-mail; B holds RB and finds RA. Both take
    // their first keys before any I/O, so each lookup resolves a record the other holds: the
    // second to ask would close a cycle and is refused, whichever it is.
    let a = batch("b@example.com", &ra, "A");
    let b = batch("a@example.com", &rb, "B");
    let (out_a, out_b) = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::join!(dest.send(&a), dest.send(&b))
    })
    .await
    .expect("the two sends deadlocked");
    let busy = (
        OutcomeStatus::Failed,
        409,
        Some("RECORD_BUSY".to_owned()),
        true,
    );
    let ok = |status, http_status| (status, http_status, None, false);
    let refused = [busy.clone(), busy, ok(OutcomeStatus::Updated, 200)];
    let went = [
        ok(OutcomeStatus::Updated, 200),
        ok(OutcomeStatus::Created, 201),
        ok(OutcomeStatus::Updated, 200),
    ];
    // (the Lead the refused send found, its own Lead, the other send's tag, the refused
    // send's tag, the e-mail the other send upserted)
    let (loser_found, loser_own, winner_tag, loser_tag, winner_email) = if codes(&out_a) == refused
    {
        assert_eq!(codes(&out_b), went, "{out_b:#?}");
        (&rb, &ra, "B", "A", "a@example.com")
    } else {
        assert_eq!(codes(&out_b), refused, "{out_a:#?}\n{out_b:#?}");
        assert_eq!(codes(&out_a), went, "{out_a:#?}");
        (&ra, &rb, "A", "B", "b@example.com")
    };
    let name = |id: &str| emu.record("Lead", id).unwrap()["LastName"].clone();
    // The refused send wrote only its rename; the other send's upsert waited for it and came
    // after it on that Lead. The Lead the refused upsert found keeps the other send's rename.
    assert_eq!(name(loser_own), format!("{winner_tag}-up"));
    assert_eq!(name(loser_found), format!("{winner_tag}-ren"));
    // The winner's follower created its Lead; the refused follower created nothing.
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 3, "{leads:#?}");
    assert!(
        leads
            .iter()
            .any(|l| l["Email"] == winner_email && l["LastName"] == format!("{winner_tag}-new"))
    );
    assert!(
        !leads
            .iter()
            .any(|l| l["LastName"] == format!("{loser_tag}-new"))
    );
}
