//! End-to-end tests against the in-process emulator: whole ingest flows with real jobs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use sfdc_bulk::job::CreateJobRequest;
use sfdc_bulk::{BulkClient, IngestRequest, JobState, Operation, Outcome, PollConfig, SplitLimits};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};
use support::{GatedSleeper, records};

async fn emulator(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.unwrap()
}

fn bulk(emu: &Emulator) -> BulkClient {
    let rest = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .build()
        .unwrap();
    BulkClient::new(rest).poll_config(PollConfig::fixed(
        Duration::from_millis(5),
        Duration::from_secs(30),
    ))
}

fn failed_code(o: &Outcome) -> Option<&str> {
    match o {
        Outcome::Failed { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

fn stream(value: serde_json::Value) -> impl futures::Stream<Item = sfdc_bulk::Record> {
    futures::stream::iter(records(value))
}

#[tokio::test]
async fn insert_with_mixed_good_and_bad_rows_reports_each_record() {
    let emu = emulator(EmulatorConfig::default()).await;
    let bulk = bulk(&emu);
    let input = json!([
        {"Name": "Acme", "Phone": "555-0100"},
        {"Phone": "no name"},
        {"Name": "Comma, \"Quoted\"\nInc.", "Phone": null},
        {"Name": "Acme", "Phone": "555-0100"}
    ]);
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            stream(input),
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    assert!(matches!(&outcomes[0], Outcome::Created(_)), "{outcomes:?}");
    assert_eq!(failed_code(&outcomes[1]), Some("REQUIRED_FIELD_MISSING"));
    match &outcomes[1] {
        Outcome::Failed { fields, .. } => assert_eq!(fields, &vec!["Name".to_string()]),
        other => panic!("{other:?}"),
    }
    let quoted = emu.record("Account", outcomes[2].id().unwrap()).unwrap();
    assert_eq!(quoted["Name"], json!("Comma, \"Quoted\"\nInc."));
    // Two identical rows get two different ids, each a real record.
    let (a, b) = (outcomes[0].id().unwrap(), outcomes[3].id().unwrap());
    assert_ne!(a, b);
    for id in [a, b] {
        assert_eq!(emu.record("Account", id).unwrap()["Name"], json!("Acme"));
    }
    assert_eq!(emu.records("Account").len(), 3);
}

#[tokio::test]
async fn update_sends_rows_without_id_and_reports_them_failed() {
    let emu = emulator(EmulatorConfig::default()).await;
    let id1 = emu
        .insert_record("Account", json!({"Name": "One", "Phone": "1", "Fax": "f1"}))
        .unwrap();
    let id2 = emu
        .insert_record("Account", json!({"Name": "Two", "Phone": "2", "Fax": "f2"}))
        .unwrap();
    let bulk = bulk(&emu);
    let input = json!([
        {"Id": id1, "Phone": "11"},
        {"Phone": "orphan"},
        {"Id": id2, "Fax": null}
    ]);
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Update),
            stream(input),
        )
        .await
        .unwrap();
    assert_eq!(outcomes[0], Outcome::Updated(id1.clone()));
    assert!(failed_code(&outcomes[1]).is_some(), "{outcomes:?}");
    assert_eq!(outcomes[2], Outcome::Updated(id2.clone()));
    let one = emu.record("Account", &id1).unwrap();
    assert_eq!(one["Phone"], json!("11"));
    // Absent field (Fax) left unchanged, not cleared.
    assert_eq!(one["Fax"], json!("f1"));
    let two = emu.record("Account", &id2).unwrap();
    assert!(
        two.get("Fax").is_none_or(|v| v.is_null()),
        "#N/A clears: {two:?}"
    );
    assert_eq!(two["Phone"], json!("2"));
}

#[tokio::test]
async fn upsert_creates_and_updates_by_external_id() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.add_field(
        "Account",
        FieldDef::new("Ext__c", FieldType::String)
            .length(40)
            .external_id()
            .unique(),
    )
    .unwrap();
    let existing = emu
        .insert_record(
            "Account",
            json!({"Name": "Old", "Ext__c": "E1", "Phone": "keep"}),
        )
        .unwrap();
    let bulk = bulk(&emu);
    let input = json!([
        {"Ext__c": "E2", "Name": "Fresh"},
        {"Ext__c": "E1", "Name": "Renamed"}
    ]);
    let request = IngestRequest::new("Account", Operation::Upsert)
        .external_id_field("Ext__c")
        .delete_jobs(true);
    let outcomes = bulk.ingest(request, stream(input)).await.unwrap();
    assert!(emu.bulk_jobs().is_empty(), "the finished job was deleted");
    assert_eq!(outcomes[1], Outcome::Updated(existing.clone()));
    let Outcome::Created(new_id) = &outcomes[0] else {
        panic!("{outcomes:?}")
    };
    assert_eq!(
        emu.record("Account", new_id).unwrap()["Name"],
        json!("Fresh")
    );
    let updated = emu.record("Account", &existing).unwrap();
    assert_eq!(updated["Name"], json!("Renamed"));
    assert_eq!(updated["Phone"], json!("keep"));
}

#[tokio::test]
async fn delete_reports_deleted_and_failed_rows() {
    let emu = emulator(EmulatorConfig::default()).await;
    let a = emu.insert_record("Account", json!({"Name": "A"})).unwrap();
    let b = emu.insert_record("Account", json!({"Name": "B"})).unwrap();
    let bulk = bulk(&emu);
    let input = json!([
        {"Id": b, "Name": "ignored: delete CSVs carry only Id"},
        {"Id": "001000000000000AAA"},
        {"Id": a}
    ]);
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Delete),
            stream(input),
        )
        .await
        .unwrap();
    assert_eq!(outcomes[0], Outcome::Deleted(b.clone()));
    assert!(failed_code(&outcomes[1]).is_some(), "{outcomes:?}");
    assert_eq!(outcomes[2], Outcome::Deleted(a.clone()));
    for id in [&a, &b] {
        assert_eq!(emu.record("Account", id).unwrap()["IsDeleted"], json!(true));
    }
    assert!(emu.records("Account").is_empty(), "no live records left");
}

#[tokio::test]
async fn a_small_size_limit_splits_the_input_into_several_jobs() {
    let emu = emulator(EmulatorConfig::default()).await;
    let bulk = bulk(&emu);
    let input: Vec<serde_json::Value> = (0..7).map(|i| json!({"Name": format!("N{i}")})).collect();
    // Header "Name\n" (5 bytes) + three rows "Nx\n" (3 bytes each) = 14 bytes per job.
    let request = IngestRequest::new("Account", Operation::Insert).limits(SplitLimits {
        max_bytes: 14,
        max_records: 1_000,
    });
    let reports: Vec<_> = bulk
        .ingest_stream(request, stream(json!(input)))
        .collect()
        .await;
    let reports: Vec<_> = reports.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        reports
            .iter()
            .map(|r| (r.first_index, r.outcomes.len()))
            .collect::<Vec<_>>(),
        vec![(0, 3), (3, 3), (6, 1)]
    );
    let ids: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.outcomes.iter())
        .map(|o| o.id().unwrap())
        .collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            emu.record("Account", id).unwrap()["Name"],
            json!(format!("N{i}"))
        );
    }
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j.state == "JobComplete"));
}

#[tokio::test]
async fn client_rejections_stay_at_their_input_positions_across_jobs() {
    let emu = emulator(EmulatorConfig::default()).await;
    let bulk = bulk(&emu);
    let rejected = [0, 3, 4, 8];
    let input: Vec<serde_json::Value> = (0..9)
        .map(|i| {
            if rejected.contains(&i) {
                json!({"Name": format!("N{i}"), "Undeclared__c": i})
            } else {
                json!({"Name": format!("N{i}")})
            }
        })
        .collect();
    let request = IngestRequest::new("Account", Operation::Insert)
        .columns(["Name"])
        .limits(SplitLimits {
            max_bytes: 1_000,
            max_records: 2,
        });
    let reports: Vec<_> = bulk
        .ingest_stream(request, stream(json!(input)))
        .collect()
        .await;
    let reports: Vec<_> = reports.into_iter().map(Result::unwrap).collect();
    assert!(reports.len() >= 3, "5 sent rows at 2 per job");
    let mut next = 0;
    for r in &reports {
        assert_eq!(r.first_index, next, "reports cover consecutive ranges");
        next += r.outcomes.len();
    }
    let outcomes: Vec<&Outcome> = reports.iter().flat_map(|r| r.outcomes.iter()).collect();
    assert_eq!(outcomes.len(), 9);
    for (i, outcome) in outcomes.iter().enumerate() {
        if rejected.contains(&i) {
            assert_eq!(failed_code(outcome), Some("CLIENT_UNDECLARED_FIELD"), "{i}");
        } else {
            let id = outcome.id().unwrap();
            assert_eq!(
                emu.record("Account", id).unwrap()["Name"],
                json!(format!("N{i}"))
            );
        }
    }
    assert_eq!(emu.records("Account").len(), 5);
}

#[tokio::test]
async fn aborted_job_is_an_error_with_unprocessed_records() {
    let emu = emulator({
        let mut config = EmulatorConfig::default();
        config.bulk_processing_delay = Duration::from_secs(60);
        config
    })
    .await;
    let (sleeper, mut sleeps, gate) = GatedSleeper::new();
    let bulk = bulk(&emu).sleeper(Arc::new(sleeper));
    let other = self::bulk(&emu);
    let input = json!([{"Name": "never"}, {"Name": "written"}]);
    let ingest = tokio::spawn(async move {
        bulk.ingest(
            IngestRequest::new("Account", Operation::Insert),
            stream(input),
        )
        .await
    });
    // The first poll saw the job waiting; abort it before the next poll.
    sleeps.recv().await.unwrap();
    let job_id = emu.bulk_jobs()[0].id.clone();
    let aborted = other.abort_job(&job_id).await.unwrap();
    assert_eq!(aborted.state, JobState::Aborted);
    gate.add_permits(1);
    let err = ingest.await.unwrap().unwrap_err();
    assert!(err.is_job_failed(), "{err}");
    assert_eq!(err.job_id(), Some(job_id.as_str()));
    let partial = err.partial_report().expect("results of the aborted job");
    assert_eq!(
        partial.outcomes,
        vec![Outcome::Unprocessed, Outcome::Unprocessed]
    );
    assert!(emu.records("Account").is_empty());
}

#[tokio::test]
async fn low_level_job_calls_against_the_emulator() {
    let emu = emulator({
        let mut config = EmulatorConfig::default();
        config.bulk_processing_delay = Duration::from_secs(60);
        config
    })
    .await;
    let bulk = bulk(&emu);
    let info = bulk
        .create_job(&CreateJobRequest::new("Account", Operation::Insert))
        .await
        .unwrap();
    assert_eq!(info.state, JobState::Open);
    bulk.upload(&info.id, "Name\nX\n".into()).await.unwrap();
    assert_eq!(
        bulk.close_job(&info.id).await.unwrap().state,
        JobState::UploadComplete
    );
    assert_eq!(
        bulk.abort_job(&info.id).await.unwrap().state,
        JobState::Aborted
    );
    let err = bulk.wait_for_job(&info.id).await.unwrap_err();
    assert!(matches!(
        &err,
        sfdc_bulk::Error::JobFailed {
            state: JobState::Aborted,
            ..
        }
    ));
    assert!(
        bulk.list_jobs()
            .await
            .unwrap()
            .iter()
            .any(|j| j.id == info.id)
    );
    bulk.delete_job(&info.id).await.unwrap();
    assert!(bulk.job_info(&info.id).await.unwrap_err().is_not_found());
    assert_eq!(emu.api_call_counts().get("bulk_ingest").copied(), Some(8));
}
