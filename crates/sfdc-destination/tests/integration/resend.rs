//! The pipeline's resend path: an event whose actions partly succeeded is not retryable as a
//! whole, and [`Destination::retry`] re-runs only its failed, retryable actions, so a success
//! (a created Lead) is never repeated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;

use sfdc_destination::{Destination, EventOutcome, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig};
use sfdc_test_support::RecordingSleeper;
use support::{identify, sub};

/// An emulator answering half its write calls `UNABLE_TO_LOCK_ROW` (seeded).
async fn locking_emulator(seed: u64) -> Emulator {
    let mut faults = FaultConfig::default();
    faults.unable_to_lock_row = 0.5;
    let mut config = EmulatorConfig::default();
    config.faults = faults;
    config.seed = seed;
    Emulator::start(config).await.unwrap()
}

/// Lead create and Contact create, both triggered by `identify`; one attempt per request.
fn destination(emu: &Emulator) -> Destination {
    let client = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .retry(sfdc_rest::RetryConfig {
            max_attempts: 1,
            ..Default::default()
        })
        .sleeper(Arc::new(RecordingSleeper::default()))
        .build()
        .unwrap();
    Destination::builder()
        .client(client)
        .subscriptions(vec![
            sub(r#"action = "lead""#),
            sub(r#"
                action = "contact"
                trigger = 'type = "identify"'
            "#),
        ])
        .build()
        .unwrap()
}

fn status_of(outcome: &EventOutcome, subscription: usize) -> OutcomeStatus {
    outcome
        .results
        .iter()
        .find(|r| r.subscription == subscription)
        .map(|r| r.status)
        .unwrap()
}

#[tokio::test]
async fn retry_resends_only_the_failed_action_and_never_repeats_the_created_lead() {
    let events = vec![identify("split@example.com", "Split")];
    // Find a seed whose first send creates the Lead and fails the Contact with a lock.
    let mut found = None;
    for seed in 0..64 {
        let emu = locking_emulator(seed).await;
        let dest = destination(&emu);
        let out = dest.send(&events).await;
        if status_of(&out[0], 0) == OutcomeStatus::Created
            && status_of(&out[0], 1) == OutcomeStatus::Failed
        {
            found = Some((emu, dest, out));
            break;
        }
    }
    let (emu, dest, mut out) = found.expect("a seed splitting the two creates");
    let contact = &out[0].results[1];
    assert!(contact.retryable, "{contact:?}");
    assert!(contact.needs_retry());
    assert!(!out[0].results[0].needs_retry());
    // Resending the whole event would create a second Lead: not retryable as a whole.
    assert!(!out[0].is_retryable(), "{:?}", out[0]);
    assert!(out[0].has_retryable_actions());
    assert_eq!(emu.records("Lead").len(), 1);

    let lead_id = out[0].results[0].record_id.clone();
    let mut rounds = 0;
    while out[0].has_retryable_actions() {
        rounds += 1;
        assert!(rounds <= 20, "still failing after 20 rounds: {:?}", out[0]);
        out = dest.retry(&events, &out).await;
        assert_eq!(out.len(), 1);
        // The Lead's outcome is carried over, never resent.
        assert_eq!(out[0].results[0].status, OutcomeStatus::Created);
        assert_eq!(out[0].results[0].record_id, lead_id);
        assert_eq!(emu.records("Lead").len(), 1);
    }
    assert_eq!(status_of(&out[0], 1), OutcomeStatus::Created);
    assert_eq!(emu.records("Lead").len(), 1);
    assert_eq!(emu.records("Contact").len(), 1);
    assert!(!out[0].is_retryable());
}

#[tokio::test]
async fn an_event_with_no_earlier_outcome_is_sent_in_full_and_a_finished_one_not_at_all() {
    let emu = support::emulator().await;
    let dest = support::destination(&emu, vec![sub(r#"action = "lead""#)]);
    let events = vec![
        identify("a@example.com", "A"),
        identify("b@example.com", "B"),
    ];
    let first = dest.send(&events[..1]).await;
    assert_eq!(first[0].results[0].status, OutcomeStatus::Created);
    let calls = emu.api_calls();
    // Event 0 is done and carried over; event 1 was never sent, so it is sent now.
    let out = dest.retry(&events, &first).await;
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], first[0]);
    assert_eq!(out[1].results[0].status, OutcomeStatus::Created);
    assert_eq!(emu.records("Lead").len(), 2);
    assert_eq!(emu.api_calls() - calls, 1);
    // Nothing left to do: no API call.
    let again = dest.retry(&events, &out).await;
    assert_eq!(again, out);
    assert_eq!(emu.api_calls() - calls, 1);
}
