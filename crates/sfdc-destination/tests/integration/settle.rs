//! `Destination::settle` (issue 13): Bulk outcomes left pending by a poll timeout become their
//! final status once the job has finished, without writing anything again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::json;
use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventOutcome, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::{client, only, sub};

fn statuses(out: &[EventOutcome]) -> Vec<OutcomeStatus> {
    out.iter().map(|o| only(o).status).collect()
}

#[tokio::test]
async fn pending_bulk_rows_settle_to_created_and_failed_per_row() {
    let mut config = EmulatorConfig::default();
    // The job commits its rows, then takes 300 ms per row to report them complete.
    config.record_cost = Duration::from_millis(300);
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
    let events = [
        json!({"type": "identify", "traits": {"last_name": "Ada", "company": "Engines"}}),
        json!({"type": "identify", "traits": {"last_name": "No company"}}),
        json!({"type": "identify", "traits": {"last_name": "Grace", "company": "Navy"}}),
    ];
    let out = dest.send(&events).await;
    assert_eq!(statuses(&out), vec![OutcomeStatus::Pending; 3]);
    let job_id = only(&out[0]).bulk_job_id.clone().unwrap();
    assert!(
        out.iter()
            .all(|o| only(o).bulk_job_id.as_deref() == Some(job_id.as_str()))
    );

    // Still running: one status call, everything still pending.
    let before = dest.api_calls();
    let early = dest.settle(&events, &out).await;
    assert_eq!(dest.api_calls() - before, 1);
    assert_eq!(statuses(&early), vec![OutcomeStatus::Pending; 3]);

    let mut settled = early;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = dest.api_calls();
        settled = dest.settle(&events, &settled).await;
        if statuses(&settled) != vec![OutcomeStatus::Pending; 3] {
            // The status and the three result files.
            assert_eq!(dest.api_calls() - before, 4);
            break;
        }
    }
    assert_eq!(
        statuses(&settled),
        vec![
            OutcomeStatus::Created,
            OutcomeStatus::Failed,
            OutcomeStatus::Created
        ],
        "{settled:?}"
    );
    for (i, name) in [(0, "Ada"), (2, "Grace")] {
        let r = only(&settled[i]);
        assert_eq!(r.bulk_job_id, None);
        let lead = emu.record("Lead", r.record_id.as_deref().unwrap()).unwrap();
        assert_eq!(lead["LastName"], json!(name));
    }
    let failed = only(&settled[1]);
    assert_eq!(
        failed
            .error_code
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("REQUIRED_FIELD_MISSING"),
        "{failed:?}"
    );
    // Settling wrote nothing: one job, two Leads.
    assert_eq!(emu.bulk_jobs().len(), 1);
    assert_eq!(emu.records("Lead").len(), 2);
    // Settled outcomes are final: settling again makes no call.
    let before = dest.api_calls();
    assert_eq!(dest.settle(&events, &settled).await, settled);
    assert_eq!(dest.api_calls(), before);
}
