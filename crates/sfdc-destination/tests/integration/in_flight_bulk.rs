//! `max_in_flight` bounds Bulk API calls too (issue 12, gap 3): Bulk ingests and REST writes of
//! one batch never have more calls in flight than the bound (the emulator's peak of
//! simultaneous requests, a count).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::Value;
use sfdc_destination::{ExecutorSettings, OutcomeStatus};
use support::*;

#[tokio::test]
async fn bulk_and_rest_calls_share_the_in_flight_bound() {
    let emu = emulator_with_latency(20).await;
    let dest = destination_with(
        &emu,
        ExecutorSettings::default()
            .with_max_in_flight(2)
            .with_preflight(false),
        vec![
            sub(r#"action = "lead""#),
            // One Bulk job per row: four ingests run at once, each making its calls in turn.
            sub(r#"
                action = "lead"
                [bulk]
                enabled = true
                batch_size = 1
            "#),
        ],
    );
    let events: Vec<Value> = (0..4)
        .map(|i| identify(&format!("bound{i}@example.com"), "B"))
        .collect();
    emu.reset_peak_concurrent_requests();
    let out = dest.send(&events).await;
    let created = out
        .iter()
        .flat_map(|o| &o.results)
        .filter(|r| r.status == OutcomeStatus::Created)
        .count();
    assert_eq!(created, 8, "{out:#?}");
    assert_eq!(emu.records("Lead").len(), 8);
    assert_eq!(emu.bulk_jobs().len(), 4);
    // Four ingests and a REST create would put five calls in flight; the bound holds them
    // to two.
    assert_eq!(emu.peak_concurrent_requests(), 2);
}
