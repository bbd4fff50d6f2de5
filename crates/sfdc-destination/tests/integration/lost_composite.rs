//! A Composite call carrying a create, an update and a delete whose answer is lost after
//! Salesforce committed it (the emulator's `drop_after_commit` fault; issue 12, gap 2): only
//! the create may have committed without a trace (pending, `OUTCOME_UNKNOWN`); the update and
//! the delete are resent in a new call and get real outcomes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::{Destination, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::{calls, identify, only, sub};

async fn dropping(share: f64, seed: u64) -> Emulator {
    let mut config = EmulatorConfig::default();
    config.faults.drop_after_commit = share;
    config.seed = seed;
    Emulator::start(config).await.unwrap()
}

/// Lead upsert by Email, Lead delete by Id; 2 attempts per request, no sleeping. Lead is
/// described already, so the lookup is a plain query and the one Composite call of the batch
/// is the write call whose answer these tests lose.
async fn destination(emu: &Emulator) -> Destination {
    let client = support::described_client(emu, 2, "Lead").await;
    Destination::builder()
        .client(client)
        .subscriptions(vec![
            sub(&format!(
                "{}\ntrigger = 'type = \"identify\"'",
                support::LEAD_UPSERT_BY_EMAIL
            )),
            sub(r#"
                action = "lead"
                operation = "delete"
                trigger = 'type = "track" and event = "Forget"'
                record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
            "#),
        ])
        .build()
        .unwrap()
}

struct Org {
    old: String,
    gone: String,
}

fn seed(emu: &Emulator) -> Org {
    let lead = |email: &str| {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": email}),
        )
        .unwrap()
    };
    Org {
        old: lead("old@example.com"),
        gone: lead("gone@example.com"),
    }
}

fn events(org: &Org) -> Vec<Value> {
    vec![
        identify("new@example.com", "New"),
        identify("old@example.com", "Renamed"),
        json!({"type": "track", "event": "Forget", "userId": "u",
               "properties": {"lead_id": org.gone}}),
    ]
}

fn counts(pairs: &[(&str, u64)]) -> std::collections::BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// The org after the batch, whatever was answered: every write committed exactly once.
fn assert_committed_once(emu: &Emulator, org: &Org) {
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 2, "{leads:?}");
    assert!(leads.iter().any(|l| l["Email"] == "new@example.com"));
    assert!(
        leads
            .iter()
            .any(|l| l["Id"] == org.old.as_str() && l["LastName"] == "Renamed")
    );
    assert!(leads.iter().all(|l| l["Id"] != org.gone.as_str()));
}

#[tokio::test]
async fn only_the_create_of_a_lost_composite_is_pending_the_rest_is_resent_and_answered() {
    // A seed whose first Composite call loses its answer and whose resend is answered on its
    // first attempt (two Composite calls in all).
    for s in 0..64 {
        let emu = dropping(0.5, s).await;
        let org = seed(&emu);
        let dest = destination(&emu).await;
        let out = dest.send(&events(&org)).await;
        if only(&out[0]).status != OutcomeStatus::Pending
            || calls(&emu).get("composite") != Some(&2)
        {
            continue;
        }
        let create = only(&out[0]);
        assert_eq!(
            create.error_code.as_ref().map(|c| c.as_str()),
            Some("OUTCOME_UNKNOWN")
        );
        assert!(!create.retryable);
        let update = only(&out[1]);
        assert_eq!(update.status, OutcomeStatus::Updated, "{update:?}");
        assert_eq!(update.record_id.as_deref(), Some(org.old.as_str()));
        let delete = only(&out[2]);
        assert_eq!(delete.status, OutcomeStatus::Deleted, "{delete:?}");
        // Describe, one lookup query, the lost Composite (create, update, delete), and the
        // resend of the update and the delete.
        assert_eq!(
            calls(&emu),
            counts(&[("composite", 2), ("describe", 1), ("query", 1)])
        );
        assert_eq!(dest.api_calls(), 4);
        assert_committed_once(&emu, &org);
        return;
    }
    panic!("no seed lost the first Composite answer and answered the resend");
}

#[tokio::test]
async fn a_resend_that_loses_its_answer_too_fails_retryably_and_the_create_stays_pending() {
    let emu = dropping(1.0, 0).await;
    let org = seed(&emu);
    let dest = destination(&emu).await;
    let out = dest.send(&events(&org)).await;
    let create = only(&out[0]);
    assert_eq!(create.status, OutcomeStatus::Pending, "{create:?}");
    assert_eq!(
        create.error_code.as_ref().map(|c| c.as_str()),
        Some("OUTCOME_UNKNOWN")
    );
    for r in [only(&out[1]), only(&out[2])] {
        assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
        assert!(r.retryable, "an idempotent write is safe to resend: {r:?}");
        assert_ne!(
            r.error_code.as_ref().map(|c| c.as_str()),
            Some("OUTCOME_UNKNOWN")
        );
    }
    // The lost Composite, then the resend of the update and the delete in one Composite call,
    // which the client itself retries once (2 attempts): 3 Composite calls; the create is
    // never resent.
    assert_eq!(
        calls(&emu),
        counts(&[("composite", 3), ("describe", 1), ("query", 1)])
    );
    assert_committed_once(&emu, &org);
}
