//! Exactly-once creates (issue 13): a create with an idempotency key is an upsert by that
//! external-id, unique field, so a create whose response was lost is safe to resend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventStatus, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};
use sfdc_test_support::RecordingSleeper;
use support::{calls, calls_since, identify, only, sub};

pub(crate) const KEYED_LEAD: &str = r#"
    action = "lead"
    name = "leads"
    idempotency_key = { field = "Event_Id__c" }
"#;

/// An emulator whose Lead has `Event_Id__c` defined by `field`.
async fn emulator_with(config: EmulatorConfig, field: FieldDef) -> Emulator {
    let emu = Emulator::start(config).await.unwrap();
    emu.add_field("Lead", field).unwrap();
    emu
}

pub(crate) fn key_field() -> FieldDef {
    FieldDef::new("Event_Id__c", FieldType::String)
        .length(255)
        .external_id()
        .unique()
}

/// A destination whose client makes `attempts` attempts per request, without sleeping.
fn destination(emu: &Emulator, attempts: u32, subscriptions: &[&str]) -> Destination {
    let client = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .retry(sfdc_rest::RetryConfig {
            max_attempts: attempts,
            ..Default::default()
        })
        .sleeper(Arc::new(RecordingSleeper::default()))
        .build()
        .unwrap();
    Destination::builder()
        .client(client)
        .subscriptions(subscriptions.iter().map(|s| sub(s)))
        .bulk_poll(PollConfig::fixed(
            Duration::from_millis(5),
            Duration::from_secs(60),
        ))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_keyed_create_writes_the_key_and_a_resend_updates_the_same_record() {
    let emu = emulator_with(EmulatorConfig::default(), key_field()).await;
    let dest = destination(&emu, 1, &[KEYED_LEAD]);
    let event = identify("once@example.com", "Once");
    let first = dest.send(std::slice::from_ref(&event)).await;
    let r = only(&first[0]);
    assert_eq!(r.status, OutcomeStatus::Created, "{r:?}");
    assert_eq!(r.operation, sfdc_actions::Operation::Create);
    let id = r.record_id.clone().unwrap();
    let second = dest.send(std::slice::from_ref(&event)).await;
    let r = only(&second[0]);
    assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
    assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 1, "{leads:?}");
    assert_eq!(leads[0]["Event_Id__c"], "m-once@example.com:leads");
    // One describe (cached), then one upsert-by-external-id Collections call per send; no
    // lookup query.
    let c = calls(&emu);
    assert_eq!(c.get("describe"), Some(&1), "{c:?}");
    assert_eq!(c.get("collections"), Some(&2), "{c:?}");
    assert_eq!(c.get("query"), None, "{c:?}");
}

/// The emulator commits the upsert and drops the connection; the outcome is a retryable
/// failure (not OUTCOME_UNKNOWN, not pending), and `Destination::retry` resends it: one record,
/// `Updated` with its id.
#[tokio::test]
async fn a_keyed_create_whose_response_is_lost_is_retryable_and_retry_settles_it() {
    let mut settled = 0;
    for seed in 0..64 {
        let mut config = EmulatorConfig::default();
        config.faults.drop_after_commit = 0.5;
        config.seed = seed;
        let emu = emulator_with(config, key_field()).await;
        let dest = destination(&emu, 1, &[KEYED_LEAD]);
        let events = [identify("lost@example.com", "Lost")];
        let first = dest.send(&events).await;
        let r = only(&first[0]);
        if r.status != OutcomeStatus::Failed {
            continue; // this seed answered the first upsert
        }
        assert!(r.retryable, "{r:?}");
        assert_ne!(
            r.error_code.as_ref().map(|c| c.as_str()),
            Some("OUTCOME_UNKNOWN"),
            "{r:?}"
        );
        assert!(first[0].has_retryable_actions());
        assert_eq!(emu.records("Lead").len(), 1, "the lost write was committed");
        let retried = dest.retry(&events, &first).await;
        let r = only(&retried[0]);
        if r.status == OutcomeStatus::Failed {
            continue; // the resend was dropped too; another seed answers it
        }
        assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
        assert_eq!(retried[0].status, EventStatus::Succeeded);
        let leads = emu.records("Lead");
        assert_eq!(leads.len(), 1, "no duplicate: {leads:?}");
        assert_eq!(r.record_id.as_deref(), leads[0]["Id"].as_str());
        settled += 1;
    }
    assert!(
        settled > 0,
        "no seed dropped the first upsert and answered the resend"
    );
}

#[tokio::test]
async fn the_client_resends_a_lost_keyed_create_itself_and_it_comes_back_with_its_id() {
    let mut config = EmulatorConfig::default();
    config.faults.drop_after_commit = 1.0;
    let emu = emulator_with(config, key_field()).await;
    // Every answer is dropped: the client's own resends (3 attempts) cannot create a second
    // Lead, and the outcome stays a retryable failure.
    let dest = destination(&emu, 3, &[KEYED_LEAD]);
    let out = dest.send(&[identify("x@example.com", "X")]).await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
    assert!(r.retryable, "{r:?}");
    assert_eq!(emu.records("Lead").len(), 1);
    assert_eq!(calls(&emu).get("collections"), Some(&3));
}

#[tokio::test]
async fn two_subscriptions_creating_leads_from_one_event_create_two_records() {
    let emu = emulator_with(EmulatorConfig::default(), key_field()).await;
    let other = r#"
        action = "lead"
        idempotency_key = { field = "Event_Id__c" }
    "#;
    let dest = destination(&emu, 1, &[KEYED_LEAD, other]);
    let events = [identify("two@example.com", "Two")];
    for _ in 0..2 {
        let out = dest.send(&events).await;
        assert_eq!(out[0].status, EventStatus::Succeeded, "{out:?}");
        assert_eq!(out[0].results.len(), 2);
    }
    let mut keys: Vec<String> = emu
        .records("Lead")
        .iter()
        .map(|l| l["Event_Id__c"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["m-two@example.com:lead-1", "m-two@example.com:leads"],
        "one record per subscription, sent twice"
    );
}

#[tokio::test]
async fn a_key_field_that_is_not_unique_or_not_external_fails_every_event_without_writing() {
    for (field, needle) in [
        (
            FieldDef::new("Event_Id__c", FieldType::String).external_id(),
            "not unique",
        ),
        (
            FieldDef::new("Event_Id__c", FieldType::String).unique(),
            "not an external id",
        ),
    ] {
        let emu = emulator_with(EmulatorConfig::default(), field).await;
        let dest = destination(&emu, 1, &[KEYED_LEAD]);
        let out = dest
            .send(&[
                identify("a@example.com", "A"),
                identify("b@example.com", "B"),
            ])
            .await;
        for o in &out {
            let r = only(o);
            assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
            assert_eq!(
                r.error_code.as_ref().map(|c| c.as_str()),
                Some("INVALID_IDEMPOTENCY_KEY")
            );
            assert!(!r.retryable);
            let message = r.message.as_deref().unwrap();
            assert!(message.contains(needle), "{message}");
            assert!(message.contains("Lead.Event_Id__c"), "{message}");
        }
        assert!(emu.records("Lead").is_empty());
        let c = calls(&emu);
        assert_eq!(c.get("describe"), Some(&1), "{c:?}");
        assert_eq!(c.get("collections"), None, "{c:?}");
    }
}

#[tokio::test]
async fn a_missing_key_field_or_message_id_fails_clearly() {
    let emu = support::emulator().await;
    let dest = destination(&emu, 1, &[KEYED_LEAD]);
    let out = dest.send(&[identify("a@example.com", "A")]).await;
    let message = only(&out[0]).message.clone().unwrap();
    assert!(
        message.contains("Lead has no field named Event_Id__c"),
        "{message}"
    );

    let emu = emulator_with(EmulatorConfig::default(), key_field()).await;
    let dest = destination(&emu, 1, &[KEYED_LEAD]);
    let mut event = identify("a@example.com", "A");
    event.as_object_mut().unwrap().remove("messageId");
    let out = dest.send(&[event]).await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Failed);
    assert_eq!(
        r.error_code.as_ref().map(|c| c.as_str()),
        Some("INVALID_EVENT")
    );
    assert!(r.message.as_deref().unwrap().contains("messageId"), "{r:?}");
    assert!(emu.records("Lead").is_empty());
    assert_eq!(emu.api_calls(), 0, "nothing is looked up or written");
}

#[tokio::test]
async fn a_keyed_bulk_create_is_a_bulk_upsert_and_a_resend_creates_nothing_new() {
    let emu = emulator_with(EmulatorConfig::default(), key_field()).await;
    let bulk = r#"
        action = "lead"
        idempotency_key = { field = "Event_Id__c" }
        bulk = { enabled = true }
    "#;
    let dest = destination(&emu, 1, &[bulk]);
    let events = [
        identify("b1@example.com", "B1"),
        identify("b2@example.com", "B2"),
    ];
    let first = dest.send(&events).await;
    assert!(
        first
            .iter()
            .all(|o| only(o).status == OutcomeStatus::Created),
        "{first:?}"
    );
    let before = emu.api_call_counts();
    let second = dest.send(&events).await;
    assert!(
        second
            .iter()
            .all(|o| only(o).status == OutcomeStatus::Updated),
        "{second:?}"
    );
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(only(a).record_id, only(b).record_id);
    }
    assert_eq!(emu.records("Lead").len(), 2);
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 2);
    assert!(calls_since(&emu, &before).contains_key("bulk_ingest"));
    assert!(
        format!("{:?}", jobs[0]).to_lowercase().contains("upsert"),
        "{jobs:?}"
    );
}
