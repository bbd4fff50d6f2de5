//! The Composite client against the emulator (one API call per Composite, results mapped by
//! reference id, failures isolated per subrequest, retries by the weakest idempotency) and
//! against a mock (the exact wire body).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use crate::support;

use std::sync::Arc;

use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::{Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig};
use sfdc_rest::composite::{CompositeRequest, Subrequest};
use sfdc_rest::{Client, ErrorCode, FixedJitter, Record, RetryConfig};
use sfdc_test_support::RecordingSleeper;
use support::{DATA, JSON};

fn rec(v: Value) -> Record {
    serde_json::from_value(v).unwrap()
}

async fn start(faults: FaultConfig) -> Emulator {
    let mut config = EmulatorConfig::default();
    config.faults = faults;
    Emulator::start(config).await.unwrap()
}

fn connect(emulator: &Emulator, max_attempts: u32) -> Client {
    let mut retry = RetryConfig::default();
    retry.max_attempts = max_attempts;
    Client::builder()
        .instance_url(emulator.instance_url())
        .access_token(emulator.access_token())
        .allow_insecure_loopback(true)
        .retry(retry)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .build()
        .unwrap()
}

fn lead(last: &str, email: &str) -> Value {
    json!({"LastName": last, "Company": "Acme", "Email": email})
}

fn emails(emulator: &Emulator) -> Vec<String> {
    let mut v: Vec<String> = emulator
        .records("Lead")
        .iter()
        .filter_map(|r| r.get("Email").and_then(Value::as_str).map(str::to_owned))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn one_call_carries_a_query_two_creates_an_update_and_a_delete() {
    let emulator = start(FaultConfig::default()).await;
    let kept = emulator
        .insert_record("Lead", lead("Kept", "kept@x.y"))
        .unwrap();
    let gone = emulator
        .insert_record("Lead", lead("Gone", "gone@x.y"))
        .unwrap();
    let client = connect(&emulator, 4);
    let (client_before, server_before) = (client.api_calls(), emulator.api_calls());

    let mut request = CompositeRequest::new().collate_subrequests(false);
    request
        .push(
            Subrequest::query(
                "known",
                "SELECT Id, Email FROM Lead WHERE Email IN ('kept@x.y', 'gone@x.y') ORDER BY Email",
            )
            .unwrap(),
        )
        .unwrap();
    request
        .push(
            Subrequest::create_many(
                "newLeads",
                "Lead",
                &[rec(lead("A", "a@x.y")), rec(lead("B", "b@x.y"))],
            )
            .unwrap(),
        )
        .unwrap();
    request
        .push(
            Subrequest::create_many("newAccount", "Account", &[rec(json!({"Name": "Acme"}))])
                .unwrap(),
        )
        .unwrap();
    request
        .push(
            Subrequest::update_many(
                "renamed",
                "Lead",
                &[rec(json!({"Id": kept, "Email": "kept2@x.y"}))],
            )
            .unwrap(),
        )
        .unwrap();
    request
        .push(Subrequest::delete_many("deleted", std::slice::from_ref(&gone)).unwrap())
        .unwrap();
    assert_eq!(request.heavy_count(), 5);

    let response = client.composite(&request).await.unwrap();

    // One API call, on both sides, and the emulator counted it as a Composite call.
    assert_eq!(client.api_calls() - client_before, 1);
    assert_eq!(emulator.api_calls() - server_before, 1);
    assert_eq!(emulator.api_call_counts().get("composite"), Some(&1));

    let ids: Vec<&str> = response
        .results
        .iter()
        .map(|r| r.reference_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["known", "newLeads", "newAccount", "renamed", "deleted"]
    );
    assert!(
        response.results.iter().all(|r| r.is_success()),
        "{response:?}"
    );

    let page = response.get("known").unwrap().query_page().unwrap();
    assert_eq!(page.total_size, 2);
    assert_eq!(page.records[0]["Email"], "gone@x.y");
    assert_eq!(page.records[1]["Email"], "kept@x.y");

    let created = response
        .get("newLeads")
        .unwrap()
        .collection_results()
        .unwrap();
    assert_eq!(created.len(), 2);
    for r in &created {
        assert!(r.success, "{r:?}");
        let id = r.id.as_deref().unwrap();
        assert!(emulator.record("Lead", id).is_some());
    }
    let account = response
        .get("newAccount")
        .unwrap()
        .collection_results()
        .unwrap();
    assert_eq!(
        emulator
            .record("Account", account[0].id.as_deref().unwrap())
            .unwrap()["Name"],
        "Acme"
    );
    let updated = response
        .get("renamed")
        .unwrap()
        .collection_results()
        .unwrap();
    assert!(updated[0].success);
    let deleted = response
        .get("deleted")
        .unwrap()
        .collection_results()
        .unwrap();
    assert!(deleted[0].success);

    assert_eq!(emails(&emulator), ["a@x.y", "b@x.y", "kept2@x.y"]);
}

#[tokio::test]
async fn a_failed_subrequest_does_not_fail_the_others() {
    let emulator = start(FaultConfig::default()).await;
    let client = connect(&emulator, 4);
    let before = client.api_calls();

    let mut request = CompositeRequest::new();
    request
        .push(Subrequest::query("bad", "SELECT Id FROM Lead WHERE").unwrap())
        .unwrap();
    request
        .push(Subrequest::create_many("nowhere", "Nope__c", &[rec(json!({"Name": "x"}))]).unwrap())
        .unwrap();
    request
        .push(
            Subrequest::create_many(
                "leads",
                "Lead",
                &[
                    rec(lead("Good", "good@x.y")),
                    rec(json!({"LastName": "NoCompany"})),
                ],
            )
            .unwrap(),
        )
        .unwrap();

    let response = client.composite(&request).await.unwrap();
    assert_eq!(client.api_calls() - before, 1);

    let bad = response.get("bad").unwrap();
    assert_eq!(bad.http_status, 400);
    assert_eq!(bad.errors()[0].error_code, ErrorCode::MalformedQuery);
    let err = bad.query_page().unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::MalformedQuery));
    assert!(!err.is_retryable());

    let nowhere = response.get("nowhere").unwrap();
    assert!(!nowhere.is_success());
    assert!(nowhere.collection_results().is_err());
    assert!(!nowhere.errors().is_empty());

    // The good subrequest committed, with its per-record failure isolated.
    let leads = response.get("leads").unwrap().collection_results().unwrap();
    assert_eq!(leads.len(), 2);
    assert!(leads[0].success);
    assert!(!leads[1].success);
    assert_eq!(
        leads[1].errors[0].error_code,
        ErrorCode::RequiredFieldMissing
    );
    assert_eq!(emails(&emulator), ["good@x.y"]);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_subrequest() {
    let emulator = start(FaultConfig::default()).await;
    let client = connect(&emulator, 4);
    let mut request = CompositeRequest::new()
        .all_or_none(true)
        .collate_subrequests(false);
    request
        .push(Subrequest::create_many("ok", "Lead", &[rec(lead("A", "a@x.y"))]).unwrap())
        .unwrap();
    request
        .push(Subrequest::query("bad", "SELECT Id FROM Nope__c").unwrap())
        .unwrap();
    let response = client.composite(&request).await.unwrap();
    let ok = response.get("ok").unwrap();
    assert!(!ok.is_success());
    assert_eq!(ok.errors()[0].error_code, ErrorCode::ProcessingHalted);
    assert!(ok.collection_results().unwrap_err().is_retryable());
    assert!(emails(&emulator).is_empty());
}

#[tokio::test]
async fn a_lost_answer_to_a_composite_with_a_create_is_outcome_unknown_and_not_resent() {
    let mut faults = FaultConfig::default();
    faults.drop_after_commit = 1.0;
    let emulator = start(faults).await;
    let client = connect(&emulator, 3);
    let before = client.api_calls();
    let mut request = CompositeRequest::new();
    request
        .push(Subrequest::query("q", "SELECT Id FROM Lead").unwrap())
        .unwrap();
    request
        .push(Subrequest::create_many("c", "Lead", &[rec(lead("Once", "once@x.y"))]).unwrap())
        .unwrap();
    let err = client.composite(&request).await.unwrap_err();
    assert!(err.was_sent(), "{err:?}");
    assert!(err.is_outcome_unknown(), "{err:?}");
    assert!(!err.is_retryable(), "{err:?}");
    // Sent once, committed once.
    assert_eq!(client.api_calls() - before, 1);
    assert_eq!(emulator.api_call_counts().get("composite"), Some(&1));
    assert_eq!(emails(&emulator), ["once@x.y"]);
}

#[tokio::test]
async fn a_lost_answer_to_queries_only_is_retried() {
    let mut faults = FaultConfig::default();
    faults.drop_after_commit = 1.0;
    let emulator = start(faults).await;
    let client = connect(&emulator, 3);
    let before = client.api_calls();
    let mut request = CompositeRequest::new();
    request
        .push(Subrequest::query("q1", "SELECT Id FROM Lead").unwrap())
        .unwrap();
    request
        .push(Subrequest::query("q2", "SELECT Id FROM Account").unwrap())
        .unwrap();
    let err = client.composite(&request).await.unwrap_err();
    assert!(!err.is_outcome_unknown(), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
    // Every attempt the retry policy allows was made.
    assert_eq!(client.api_calls() - before, 3);
    assert_eq!(emulator.api_call_counts().get("composite"), Some(&3));
}

#[tokio::test]
async fn an_empty_request_sends_nothing() {
    let emulator = start(FaultConfig::default()).await;
    let client = connect(&emulator, 4);
    let err = client
        .composite(&CompositeRequest::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, sfdc_rest::Error::InvalidInput { .. }),
        "{err:?}"
    );
    assert_eq!(client.api_calls(), 0);
}

#[tokio::test]
async fn the_wire_body_and_answer_match_the_documented_shapes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/composite")).json_body(json!({
                "allOrNone": false,
                "collateSubrequests": false,
                "compositeRequest": [
                    {"method": "GET", "url": format!("{DATA}/query?q=SELECT+Id+FROM+Lead"), "referenceId": "q"},
                    {"method": "PATCH", "url": format!("{DATA}/composite/sobjects/Lead/Ext__c"), "referenceId": "u",
                     "body": {"allOrNone": false, "records": [{"Ext__c": "e1", "attributes": {"type": "Lead"}}]}},
                ]
            }));
            then.status(200).header("content-type", JSON).body(
                r#"{"compositeResponse":[
                    {"body":{"totalSize":0,"done":true,"records":[]},"httpHeaders":{},"httpStatusCode":200,"referenceId":"q"},
                    {"body":[{"id":"00Q000000000001AAA","success":true,"errors":[],"created":true}],"httpHeaders":{},"httpStatusCode":200,"referenceId":"u"}]}"#,
            );
        })
        .await;
    let client = support::client(&server);
    let mut request = CompositeRequest::new().collate_subrequests(false);
    request
        .push(Subrequest::query("q", "SELECT Id FROM Lead").unwrap())
        .unwrap();
    request
        .push(
            Subrequest::upsert_many("u", "Lead", "Ext__c", &[rec(json!({"Ext__c": "e1"}))])
                .unwrap(),
        )
        .unwrap();
    let response = client.composite(&request).await.unwrap();
    mock.assert_async().await;
    assert_eq!(
        response.get("q").unwrap().query_page().unwrap().total_size,
        0
    );
    let upserted = response.get("u").unwrap().collection_results().unwrap();
    assert_eq!(upserted[0].created, Some(true));
}
