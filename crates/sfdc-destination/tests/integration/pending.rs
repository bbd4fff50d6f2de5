//! Pending outcomes (issue 13): neither success nor failure, never resent, carrying what is
//! needed to settle them. A Bulk job still running when polling stops leaves its rows pending
//! with the job id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::json;
use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventStatus, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::{client, only, sub};

#[tokio::test]
async fn a_bulk_job_still_running_when_polling_stops_leaves_its_rows_pending_with_the_job_id() {
    let mut config = EmulatorConfig::default();
    // The job commits its rows, then takes 2 s per row to report them complete.
    config.record_cost = Duration::from_secs(2);
    let emu = Emulator::start(config).await.unwrap();
    let dest = Destination::builder()
        .client(client(&emu))
        .subscriptions(vec![sub(r#"
            action = "lead"
            [bulk]
            enabled = true
        "#)])
        .bulk_poll(PollConfig::fixed(Duration::from_millis(5), Duration::ZERO))
        .build()
        .unwrap();
    let events =
        [json!({"type": "identify", "traits": {"last_name": "Ada", "company": "Engines"}})];
    let out = dest.send(&events).await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Pending, "{r:?}");
    assert_eq!(out[0].status, EventStatus::Pending);
    assert!(!r.retryable && !r.is_failed() && !r.is_success());
    assert!(!out[0].is_retryable() && !out[0].has_retryable_actions());
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(r.bulk_job_id.as_deref(), Some(jobs[0].id.as_str()));
    // The retry path leaves it alone: no second job, no second Lead.
    let again = dest.retry(&events, &out).await;
    assert_eq!(again, out);
    assert_eq!(emu.bulk_jobs().len(), 1);
}
