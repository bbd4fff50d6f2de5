//! Issue 13, defect 2: 32 concurrent sends while the org expires the session every 50 calls.
//! A replay after a refresh may meet the next expiry; the client refreshes again as long as each
//! refresh gives a new token, and a session error left after that is retryable. No event may
//! fail with a non-retryable `INVALID_SESSION_ID`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use sfdc_destination::{Destination, OutcomeStatus, Settings};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::identify;

const TASKS: usize = 32;
const SENDS_PER_TASK: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_under_token_expiry_have_no_non_retryable_session_failures() {
    let mut config = EmulatorConfig::default();
    config.faults.expire_token_every = Some(50);
    config.daily_api_limit = 1_000_000;
    let emu = Emulator::start(config).await.unwrap();
    let mut settings = Settings::from_toml_str(&format!(
        r#"
        token_url = "{}"
        allow_insecure_loopback = true

        [auth]
        type = "refresh_token"
        client_id = "emulator-client-id"
        client_secret = "emulator-client-secret"
        refresh_token = "{}"

        [[subscriptions]]
        action = "lead"
        "#,
        emu.token_url(),
        emu.refresh_token()
    ))
    .unwrap();
    settings.is_sandbox = true;
    let dest = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .unwrap();
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let dest: Destination = dest.clone();
        handles.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..SENDS_PER_TASK {
                let event = identify(&format!("t{task}-{i}@example.com"), "Session");
                outcomes.extend(dest.send(&[event]).await);
            }
            outcomes
        }));
    }
    let mut created = 0;
    let mut non_retryable_session = Vec::new();
    let mut other = Vec::new();
    for h in handles {
        for o in h.await.unwrap() {
            let r = &o.results[0];
            match r.status {
                OutcomeStatus::Created => created += 1,
                _ if r.error_code.as_ref().map(|c| c.as_str()) == Some("INVALID_SESSION_ID")
                    && !r.retryable =>
                {
                    non_retryable_session.push(r.clone());
                }
                _ => other.push(r.clone()),
            }
        }
    }
    assert!(
        non_retryable_session.is_empty(),
        "{} non-retryable session failures, e.g. {:?}",
        non_retryable_session.len(),
        non_retryable_session.first()
    );
    // Every other failure (if any) is a retryable session error, never a lost event.
    assert!(other.iter().all(|r| r.retryable), "{:?}", other.first());
    assert_eq!(created + other.len(), TASKS * SENDS_PER_TASK);
    assert_eq!(emu.records("Lead").len(), created);
    // The org expired the session many times: the test exercised the refresh path.
    assert!(emu.token_requests() > 20, "{}", emu.token_requests());
}
