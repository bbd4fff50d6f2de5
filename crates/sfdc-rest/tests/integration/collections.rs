//! Wire tests of sObject Collections: create, update, upsert, delete, chunking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::{DELETE, PATCH, POST};
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use serde_json::{Value, json};
use sfdc_rest::{ErrorCode, Record};
use support::{DATA, JSON, client};

const CREATE_MIXED: &str = include_str!("../fixtures/collections/create_mixed.json");
const ROLLED_BACK: &str =
    include_str!("../fixtures/collections/create_all_or_none_rolled_back.json");
const UPSERT_MIXED: &str = include_str!("../fixtures/collections/upsert_mixed.json");
const DELETE_MIXED: &str = include_str!("../fixtures/collections/delete_mixed.json");
const LIMIT: &str = include_str!("../fixtures/errors/request_limit_403.json");

fn rec(v: Value) -> Record {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn create_many_mixed_results_in_input_order() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body(json!({
                    "allOrNone": false,
                    "records": [
                        {"attributes": {"type": "Account"}, "Name": "A"},
                        {"attributes": {"type": "Account"}},
                        {"attributes": {"type": "Account"}, "Name": "C"},
                    ]
                }));
            then.status(200)
                .header("content-type", JSON)
                .body(CREATE_MIXED);
        })
        .await;
    let records = [
        rec(json!({"Name": "A"})),
        rec(json!({})),
        rec(json!({"Name": "C"})),
    ];
    let results = client(&server)
        .create_many("Account", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0].success);
    assert_eq!(results[0].id.as_deref(), Some("001000000000001AAA"));
    assert!(!results[1].success);
    assert_eq!(results[1].id, None);
    assert_eq!(
        results[1].errors[0].error_code,
        ErrorCode::RequiredFieldMissing
    );
    assert_eq!(results[1].errors[0].fields, vec!["Name".to_owned()]);
    assert_eq!(results[2].id.as_deref(), Some("001000000000003AAA"));
    mock.assert_async().await;
}

#[tokio::test]
async fn create_many_all_or_none_rolled_back() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body_includes(r#"{"allOrNone": true}"#);
            then.status(200)
                .header("content-type", JSON)
                .body(ROLLED_BACK);
        })
        .await;
    let records = [rec(json!({"Name": "A"})), rec(json!({}))];
    let results = client(&server)
        .create_many("Account", &records, true)
        .await
        .unwrap();
    assert_eq!(
        results[0].errors[0].error_code,
        ErrorCode::AllOrNoneOperationRolledBack
    );
    assert_eq!(
        results[1].errors[0].error_code,
        ErrorCode::RequiredFieldMissing
    );
    mock.assert_async().await;
}

/// Answers a Collections create by echoing one success per record, id = "id-" + Name.
fn echo(req: &HttpMockRequest) -> HttpMockResponse {
    let body: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
    let results: Vec<Value> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"id": format!("id-{}", r["Name"].as_str().unwrap()), "success": true, "errors": []}))
        .collect();
    http::Response::builder()
        .status(200)
        .header("content-type", JSON)
        .body(serde_json::to_string(&results).unwrap())
        .unwrap()
        .into()
}

#[tokio::test]
async fn create_many_chunks_at_200_and_keeps_order() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .is_true(|req| {
                    let body: Value = serde_json::from_slice(req.body().as_ref()).unwrap();
                    body["records"].as_array().unwrap().len() <= 200
                });
            then.respond_with(echo);
        })
        .await;
    let records: Vec<Record> = (0..450)
        .map(|i| rec(json!({"Name": format!("n{i}")})))
        .collect();
    let client = client(&server);
    let results = client
        .create_many("Account", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 450);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.id.as_deref(), Some(format!("id-n{i}").as_str()));
    }
    mock.assert_calls_async(3).await;
    assert_eq!(client.api_calls(), 3);
}

#[tokio::test]
async fn later_chunk_failure_keeps_earlier_results() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body_includes(r#"{"records": [{"Name": "n0"}]}"#);
            then.respond_with(echo);
        })
        .await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body_includes(r#"{"records": [{"Name": "n200"}]}"#);
            then.status(403).header("content-type", JSON).body(LIMIT);
        })
        .await;
    let records: Vec<Record> = (0..450)
        .map(|i| rec(json!({"Name": format!("n{i}")})))
        .collect();
    let results = client(&server)
        .create_many("Account", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 450);
    assert!(results[..200].iter().all(|r| r.success));
    assert!(
        results[200..]
            .iter()
            .all(|r| !r.success && r.errors[0].error_code == ErrorCode::RequestLimitExceeded)
    );
    first.assert_calls_async(1).await;
    // Throttled: the third chunk is not sent.
    throttled.assert_calls_async(1).await;
}

/// 250 records: the first chunk (n0..n199) is echoed, the second (n200..) answers only after the
/// client's 150 ms timeout, so that request is sent but its response is lost.
async fn second_chunk_times_out<'a>(
    server: &'a MockServer,
    method: &'static str,
) -> [httpmock::Mock<'a>; 2] {
    let first = server
        .mock_async(|when, then| {
            when.method(method)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body_includes(r#"{"records": [{"Name": "n0"}]}"#);
            then.respond_with(echo);
        })
        .await;
    let lost = server
        .mock_async(|when, then| {
            when.method(method)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body_includes(r#"{"records": [{"Name": "n200"}]}"#);
            then.status(200)
                .header("content-type", JSON)
                .body("[]")
                .delay(std::time::Duration::from_millis(1500));
        })
        .await;
    [first, lost]
}

fn timeout_client(server: &MockServer) -> sfdc_rest::Client {
    support::builder(server, &support::RecordingSleeper::default())
        .timeout(std::time::Duration::from_millis(150))
        .build()
        .unwrap()
}

#[tokio::test]
async fn lost_create_chunk_gives_outcome_unknown_not_retryable_failures() {
    let server = MockServer::start_async().await;
    let [first, lost] = second_chunk_times_out(&server, "POST").await;
    let records: Vec<Record> = (0..250)
        .map(|i| rec(json!({"Name": format!("n{i}")})))
        .collect();
    let results = timeout_client(&server)
        .create_many("Account", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 250);
    assert!(results[..200].iter().all(|r| r.success));
    for r in &results[200..] {
        assert!(!r.success);
        assert_eq!(r.errors[0].error_code, ErrorCode::OutcomeUnknown, "{r:?}");
        assert_eq!(r.errors[0].error_code.as_str(), "OUTCOME_UNKNOWN");
        assert!(
            r.errors[0].message.contains("may have been created"),
            "{r:?}"
        );
    }
    first.assert_calls_async(1).await;
    // Not idempotent: the lost chunk is never resent.
    lost.assert_calls_async(1).await;
}

#[tokio::test]
async fn lost_update_chunk_stays_request_failed() {
    let server = MockServer::start_async().await;
    let [first, lost] = second_chunk_times_out(&server, "PATCH").await;
    let records: Vec<Record> = (0..250)
        .map(|i| rec(json!({"Id": format!("001{i:015}"), "Name": format!("n{i}")})))
        .collect();
    let results = timeout_client(&server)
        .update_many("Account", &records, false)
        .await
        .unwrap();
    assert!(results[..200].iter().all(|r| r.success));
    for r in &results[200..] {
        assert!(!r.success);
        assert_eq!(r.errors[0].error_code.as_str(), "REQUEST_FAILED", "{r:?}");
    }
    first.assert_calls_async(1).await;
    // Idempotent: resent up to the 4 attempts of the retry policy.
    lost.assert_calls_async(4).await;
}

#[tokio::test]
async fn lost_first_create_chunk_is_an_outcome_unknown_error() {
    let server = MockServer::start_async().await;
    let lost = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/composite/sobjects"));
            then.status(200)
                .header("content-type", JSON)
                .body("[]")
                .delay(std::time::Duration::from_millis(1500));
        })
        .await;
    let err = timeout_client(&server)
        .create_many("Account", &[rec(json!({"Name": "A"}))], false)
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown() && !err.is_retryable(), "{err:?}");
    lost.assert_calls_async(1).await;
}

#[tokio::test]
async fn first_chunk_failure_is_an_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/composite/sobjects"));
            then.status(403).header("content-type", JSON).body(LIMIT);
        })
        .await;
    let err = client(&server)
        .create_many("Account", &[rec(json!({"Name": "A"}))], false)
        .await
        .unwrap_err();
    assert!(err.is_throttled());
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn update_many_requires_ids_and_patches() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(format!("{DATA}/composite/sobjects"))
                .json_body(json!({
                    "allOrNone": true,
                    "records": [{"attributes": {"type": "Account"}, "Id": "001000000000001AAA", "Name": "A2"}]
                }));
            then.status(200)
                .header("content-type", JSON)
                .body(r#"[{"id":"001000000000001AAA","success":true,"errors":[]}]"#);
        })
        .await;
    let client = client(&server);
    let err = client
        .update_many("Account", &[rec(json!({"Name": "no id"}))], true)
        .await
        .unwrap_err();
    assert!(matches!(err, sfdc_rest::Error::InvalidInput { .. }));
    let results = client
        .update_many(
            "Account",
            &[rec(json!({"Id": "001000000000001AAA", "Name": "A2"}))],
            true,
        )
        .await
        .unwrap();
    assert!(results[0].success);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn upsert_many_reports_created_flags() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(format!("{DATA}/composite/sobjects/Account/Ext_Id__c"))
                .json_body(json!({
                    "allOrNone": false,
                    "records": [
                        {"attributes": {"type": "Account"}, "Ext_Id__c": "e1", "Name": "A"},
                        {"attributes": {"type": "Account"}, "Ext_Id__c": "e2", "Name": "B"},
                        {"attributes": {"type": "Account"}, "Ext_Id__c": "e3", "Name": "xxxxxxxx"},
                    ]
                }));
            then.status(200)
                .header("content-type", JSON)
                .body(UPSERT_MIXED);
        })
        .await;
    let records = [
        rec(json!({"Ext_Id__c": "e1", "Name": "A"})),
        rec(json!({"Ext_Id__c": "e2", "Name": "B"})),
        rec(json!({"Ext_Id__c": "e3", "Name": "xxxxxxxx"})),
    ];
    let results = client(&server)
        .upsert_many("Account", "Ext_Id__c", &records, false)
        .await
        .unwrap();
    assert_eq!(results[0].created, Some(true));
    assert_eq!(results[1].created, Some(false));
    assert_eq!(results[2].errors[0].error_code, ErrorCode::StringTooLong);
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_many_sends_ids_and_all_or_none() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(format!("{DATA}/composite/sobjects"))
                .query_param("ids", "001000000000001AAA,001000000000002AAA")
                .query_param("allOrNone", "false");
            then.status(200)
                .header("content-type", JSON)
                .body(DELETE_MIXED);
        })
        .await;
    let results = client(&server)
        .delete_many(&["001000000000001AAA", "001000000000002AAA"], false)
        .await
        .unwrap();
    assert!(results[0].success);
    assert_eq!(results[1].id.as_deref(), Some("001000000000002AAA"));
    assert_eq!(results[1].errors[0].error_code, ErrorCode::EntityIsDeleted);
    mock.assert_async().await;
}

/// Issue 13, defect 4: a 2xx answer to a create that cannot be read as one result per record
/// (truncated JSON, wrong shape, `[]` for one record) means Salesforce processed the request:
/// the outcome is unknown, not a rejection.
#[tokio::test]
async fn undecodable_2xx_to_a_create_is_outcome_unknown() {
    for body in [
        r#"[{"id":"001000000000001AAA","success":tr"#,
        r#"{"id":"001000000000001AAA","success":true}"#,
        "[]",
    ] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST).path(format!("{DATA}/composite/sobjects"));
                then.status(200).header("content-type", JSON).body(body);
            })
            .await;
        let err = client(&server)
            .create_many("Account", &[rec(json!({"Name": "A"}))], false)
            .await
            .unwrap_err();
        assert_eq!(
            err.verdict(),
            sfdc_rest::retry::Verdict::OutcomeUnknown,
            "{body}: {err:?}"
        );
        assert!(err.is_outcome_unknown() && !err.is_retryable(), "{body}");
        mock.assert_calls_async(1).await;
    }
}

/// The same answers to an update (idempotent) are safe to resend: retryable.
#[tokio::test]
async fn undecodable_2xx_to_an_update_is_retryable() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(format!("{DATA}/composite/sobjects"));
            then.status(200).header("content-type", JSON).body("[]");
        })
        .await;
    let err = client(&server)
        .update_many(
            "Account",
            &[rec(json!({"Id": "001000000000001AAA", "Name": "A"}))],
            false,
        )
        .await
        .unwrap_err();
    assert!(err.is_retryable() && !err.is_outcome_unknown(), "{err:?}");
    mock.assert_calls_async(1).await;
}
