//! Settling jobs later by id, and `ingest` keeping finished jobs' outcomes when a later job
//! fails; against the in-process emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::json;
use sfdc_bulk::{BulkClient, IngestRequest, JobState, Operation, Outcome, PollConfig};
use sfdc_emulator::{Emulator, EmulatorConfig};
use support::records;

fn bulk(emu: &Emulator, poll_timeout: Duration) -> BulkClient {
    let rest = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .build()
        .unwrap();
    BulkClient::new(rest).poll_config(PollConfig::fixed(Duration::from_millis(5), poll_timeout))
}

fn bulk_calls(emu: &Emulator) -> u64 {
    emu.api_call_counts()
        .get("bulk_ingest")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_timed_out_job_is_settled_later_by_its_id() {
    let emu = Emulator::start({
        let mut config = EmulatorConfig::default();
        config.bulk_processing_delay = Duration::from_secs(2);
        config
    })
    .await
    .unwrap();
    let bulk = bulk(&emu, Duration::from_millis(30));
    let input = json!([
        {"Name": "First", "Phone": "1"},
        {"Phone": "no name"},
        {"Name": "Third", "Phone": "3"}
    ]);
    // Declared columns: one job for the three rows (an unseen column would start another).
    let request = IngestRequest::new("Account", Operation::Insert).columns(["Name", "Phone"]);
    let err = bulk
        .ingest(
            request.clone(),
            futures::stream::iter(records(input.clone())),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    let job_id = err.job_id().unwrap().to_owned();

    // Still running: one status call, no result files.
    let before = bulk_calls(&emu);
    let early = bulk
        .job_outcomes(
            &job_id,
            request.clone(),
            futures::stream::iter(records(input.clone())),
        )
        .await
        .unwrap();
    assert!(early.is_none());
    assert_eq!(bulk_calls(&emu) - before, 1);

    let mut report = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = bulk_calls(&emu);
        report = bulk
            .job_outcomes(
                &job_id,
                request.clone(),
                futures::stream::iter(records(input.clone())),
            )
            .await
            .unwrap();
        if report.is_some() {
            // The status and the three result files.
            assert_eq!(bulk_calls(&emu) - before, 4);
            break;
        }
    }
    let report = report.expect("the job finished");
    assert_eq!(report.job.as_ref().unwrap().state, JobState::JobComplete);
    assert_eq!(report.outcomes.len(), 3);
    let first = emu
        .record("Account", report.outcomes[0].id().unwrap())
        .unwrap();
    assert_eq!(first["Name"], json!("First"));
    assert!(
        matches!(&report.outcomes[1], Outcome::Failed { code, .. } if code.as_str() == "REQUIRED_FIELD_MISSING"),
        "{:?}",
        report.outcomes
    );
    let third = emu
        .record("Account", report.outcomes[2].id().unwrap())
        .unwrap();
    assert_eq!(third["Name"], json!("Third"));
    assert_eq!(emu.records("Account").len(), 2);

    // Records past the job's own (an unseen column would have started another job) are not
    // part of its report.
    let mut more = input.as_array().unwrap().clone();
    more.push(json!({"Name": "Fourth", "Website": "x.example"}));
    let inferred = IngestRequest::new("Account", Operation::Insert);
    let report = bulk
        .job_outcomes(
            &job_id,
            inferred,
            futures::stream::iter(records(json!(more))),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.outcomes.len(), 3);
}

#[tokio::test]
async fn a_later_job_failure_keeps_the_earlier_jobs_outcomes() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let bulk = bulk(&emu, Duration::from_secs(30));
    // A new column starts a second job; Salesforce fails it (the field does not exist).
    let input = json!([
        {"Name": "A"},
        {"Name": "B"},
        {"Name": "C", "Bogus__c": "x"}
    ]);
    let err = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            futures::stream::iter(records(input)),
        )
        .await
        .unwrap_err();
    assert!(err.is_job_failed(), "{err}");
    let kept = err.completed_outcomes();
    assert_eq!(kept.len(), 2, "{err}");
    for (outcome, name) in kept.iter().zip(["A", "B"]) {
        let id = match outcome {
            Outcome::Created(id) => id,
            other => panic!("{other:?}"),
        };
        assert_eq!(emu.record("Account", id).unwrap()["Name"], json!(name));
    }
    assert_eq!(emu.bulk_jobs().len(), 2);
}
