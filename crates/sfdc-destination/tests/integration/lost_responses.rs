//! Writes whose response is lost after Salesforce committed them (the emulator's
//! `drop_after_commit` fault): a create must come back as not retryable (resending it would
//! duplicate the record), an update stays retryable (resending it is harmless).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;

use serde_json::json;
use sfdc_destination::{Destination, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig};
use sfdc_test_support::RecordingSleeper;
use support::{calls, identify, only, sub};

/// An emulator that commits every write and then drops the connection without answering.
async fn dropping_emulator() -> Emulator {
    let mut faults = FaultConfig::default();
    faults.drop_after_commit = 1.0;
    let mut config = EmulatorConfig::default();
    config.faults = faults;
    Emulator::start(config).await.unwrap()
}

/// A destination whose client allows 2 attempts per request and does not sleep between them,
/// with `object` described already: every write call of these emulators loses its answer, and
/// a destination's first lookup would otherwise travel with its describe in such a call.
async fn destination(emu: &Emulator, object: &str, subscription_toml: &str) -> Destination {
    let client = support::described_client(emu, 2, object).await;
    Destination::builder()
        .client(client)
        .subscriptions(vec![sub(subscription_toml)])
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_create_whose_response_is_lost_is_not_retryable() {
    let emu = dropping_emulator().await;
    let dest = destination(&emu, "Lead", r#"action = "lead""#).await;
    let out = dest.send(&[identify("lost@example.com", "Lost")]).await;
    let r = only(&out[0]);
    // Neither success nor failure: pending, with the OUTCOME_UNKNOWN code.
    assert_eq!(r.status, OutcomeStatus::Pending, "{r:?}");
    assert_eq!(out[0].status, sfdc_destination::EventStatus::Pending);
    assert!(!out[0].has_retryable_actions());
    assert_eq!(
        r.error_code.as_ref().map(|c| c.as_str()),
        Some("OUTCOME_UNKNOWN"),
        "{r:?}"
    );
    assert!(!r.retryable, "{r:?}");
    assert!(!out[0].is_retryable());
    assert_eq!(r.http_status, 409);
    let message = r.message.as_deref().unwrap();
    assert!(message.contains("may have been created"), "{message}");
    assert!(message.contains("look the record up"), "{message}");
    // Salesforce committed it once; the client did not resend it.
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 1, "{leads:?}");
    assert_eq!(leads[0]["Email"], "lost@example.com");
    assert_eq!(calls(&emu).get("collections"), Some(&1));
}

#[tokio::test]
async fn an_update_whose_response_is_lost_stays_retryable() {
    let emu = dropping_emulator().await;
    let id = emu
        .insert_record("Account", json!({"Name": "Acme", "AccountNumber": "G-1"}))
        .unwrap();
    let dest = destination(
        &emu,
        "Account",
        r#"
            action = "account"
            operation = "update"
            record_matchers = { AccountNumber = { "@path" = "$.groupId" } }
        "#,
    )
    .await;
    let event = json!({"type": "group", "groupId": "G-1", "traits": {"name": "Acme Corp"}});
    let out = dest.send(&[event]).await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
    assert!(r.retryable, "an idempotent update is safe to resend: {r:?}");
    assert!(out[0].is_retryable());
    assert_ne!(
        r.error_code.as_ref().map(|c| c.as_str()),
        Some("OUTCOME_UNKNOWN"),
        "{r:?}"
    );
    // The update was applied (and resent once, harmlessly); still one record.
    let accounts = emu.records("Account");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["Id"], id.as_str());
    assert_eq!(accounts[0]["Name"], "Acme Corp");
    assert_eq!(calls(&emu).get("collections"), Some(&2));
}

/// Defect 3 of issue 13: a delete whose response was lost is resent by the client, and the
/// resend is answered `ENTITY_IS_DELETED` for the same id: the record is gone, so `Deleted`.
#[tokio::test]
async fn a_delete_whose_response_is_lost_and_is_resent_comes_back_deleted() {
    let delete = r#"
        action = "case"
        trigger = 'type = "track"'
        operation = "delete"
        record_matchers = { Id = { "@path" = "$.properties.case_id" } }
    "#;
    // A seed whose first delete call is dropped after the commit and whose resend is answered.
    for seed in 0..64 {
        let mut config = EmulatorConfig::default();
        config.faults.drop_after_commit = 0.5;
        config.seed = seed;
        let emu = Emulator::start(config).await.unwrap();
        let id = emu
            .insert_record("Case", json!({"Subject": "Broken"}))
            .unwrap();
        let client = sfdc_rest::Client::builder()
            .instance_url(emu.instance_url())
            .access_token(emu.access_token())
            .allow_insecure_loopback(true)
            .retry(sfdc_rest::RetryConfig {
                max_attempts: 3,
                ..Default::default()
            })
            .sleeper(Arc::new(RecordingSleeper::default()))
            .build()
            .unwrap();
        let dest = Destination::builder()
            .client(client)
            .subscriptions(vec![sub(delete)])
            .build()
            .unwrap();
        let out = dest
            .send(&[json!({"type": "track", "properties": {"case_id": id}})])
            .await;
        // Two calls: the first was dropped after its commit, the second answered.
        if calls(&emu).get("collections") != Some(&2) {
            continue;
        }
        let r = only(&out[0]);
        assert_eq!(r.status, OutcomeStatus::Deleted, "{r:?}");
        assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
        assert_eq!(r.http_status, 200);
        assert!(!r.retryable);
        assert!(emu.records("Case").is_empty());
        return;
    }
    panic!("no seed dropped the first delete and answered the second");
}
