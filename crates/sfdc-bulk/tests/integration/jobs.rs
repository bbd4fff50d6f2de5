//! Wire tests: the exact request of each Bulk API 2.0 ingest call, against httpmock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use httpmock::Method::{self, DELETE, GET, PATCH, POST, PUT};
use httpmock::{Mock, MockServer};
use serde_json::json;
use sfdc_bulk::job::CreateJobRequest;
use sfdc_bulk::{BulkClient, IngestRequest, JobState, Operation, Outcome, SplitLimits};
use support::{API, GatedSleeper, RecordingSleeper, bulk_client, records};

const JOB: &str = "7505fEXAMPLE4C2AAM";
const INFO_FAILED: &str = include_str!("../fixtures/jobs/info_failed.json");
const CREATE_OPEN: &str = include_str!("../fixtures/jobs/create_insert_open.json");

fn job_json(state: &str) -> serde_json::Value {
    json!({"id": JOB, "operation": "insert", "object": "Account", "state": state})
}

/// The path of the ingest jobs collection.
fn jobs_path() -> String {
    format!("{API}/jobs/ingest")
}

/// The path of job `JOB` followed by `rest` (e.g. `/batches`).
fn job_path(rest: &str) -> String {
    format!("{API}/jobs/ingest/{JOB}{rest}")
}

/// A bulk client for the mock server whose sleeps are recorded and skipped.
fn client(server: &MockServer) -> BulkClient {
    bulk_client(&server.base_url(), Arc::new(RecordingSleeper::default()))
}

/// A mock answering every `method path` request with `status` and the text `body`.
async fn reply<'a>(
    server: &'a MockServer,
    method: Method,
    path: String,
    status: u16,
    body: &str,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(status).body(body);
        })
        .await
}

/// A mock answering every `method path` request with `status` and the JSON `body`.
async fn reply_json<'a>(
    server: &'a MockServer,
    method: Method,
    path: String,
    status: u16,
    body: serde_json::Value,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(status).json_body(body);
        })
        .await
}

/// Mocks creating job `JOB` (answering `Open`; the returned mock counts creations) and closing it.
async fn create_and_close(server: &MockServer) -> Mock<'_> {
    reply_json(server, PATCH, job_path(""), 200, job_json("UploadComplete")).await;
    reply_json(server, POST, jobs_path(), 200, job_json("Open")).await
}

/// A mock answering any request with 500; tests assert it is never called.
async fn fail_any_request(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await
}

#[tokio::test]
async fn create_job_posts_exact_json() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(jobs_path())
                .header("content-type", "application/json")
                .header("authorization", "Bearer test-token")
                .json_body(
                    json!({"object": "Account", "operation": "insert", "contentType": "CSV",
                                  "lineEnding": "LF", "columnDelimiter": "COMMA"}),
                );
            then.status(200)
                .header("content-type", "application/json;charset=UTF-8")
                .body(CREATE_OPEN);
        })
        .await;
    let bulk = client(&server);
    let info = bulk
        .create_job(&CreateJobRequest::new("Account", Operation::Insert))
        .await
        .unwrap();
    create.assert_async().await;
    assert_eq!(info.id, JOB);
    assert_eq!(info.state, JobState::Open);
    assert_eq!(info.api_version, Some(62.0));
}

#[tokio::test]
async fn create_upsert_job_sends_external_id_and_requires_it() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path(jobs_path()).json_body(
                json!({"object": "Contact", "operation": "upsert",
                                  "externalIdFieldName": "Ext__c", "contentType": "CSV",
                                  "lineEnding": "LF", "columnDelimiter": "COMMA"}),
            );
            then.status(200)
                .json_body(json!({"id": "750u", "operation": "upsert",
                "object": "Contact", "state": "Open", "externalIdFieldName": "Ext__c"}));
        })
        .await;
    let bulk = client(&server);
    let mut req = CreateJobRequest::new("Contact", Operation::Upsert);
    let err = bulk.create_job(&req).await.unwrap_err();
    assert!(err.to_string().contains("externalIdFieldName"), "{err}");
    create.assert_calls_async(0).await;
    req.external_id_field_name = Some("Ext__c".into());
    let info = bulk.create_job(&req).await.unwrap();
    create.assert_calls_async(1).await;
    assert_eq!(info.external_id_field_name.as_deref(), Some("Ext__c"));
}

#[tokio::test]
async fn upload_puts_csv_and_expects_201() {
    let server = MockServer::start_async().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(job_path("/batches"))
                .header("content-type", "text/csv")
                .body("Name\nAcme\n");
            then.status(201);
        })
        .await;
    let bulk = client(&server);
    bulk.upload(JOB, "Name\nAcme\n".into()).await.unwrap();
    put.assert_async().await;

    let odd = reply(
        &server,
        PUT,
        format!("{API}/jobs/ingest/750odd/batches"),
        200,
        "",
    )
    .await;
    let err = bulk.upload("750odd", "Name\n".into()).await.unwrap_err();
    odd.assert_async().await;
    assert_eq!(err.status(), Some(http::StatusCode::OK));
}

#[tokio::test]
async fn close_and_abort_patch_the_state() {
    let server = MockServer::start_async().await;
    let close = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(job_path(""))
                .header("content-type", "application/json")
                .json_body(json!({"state": "UploadComplete"}));
            then.status(200).json_body(job_json("UploadComplete"));
        })
        .await;
    let abort = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(job_path(""))
                .json_body(json!({"state": "Aborted"}));
            then.status(200).json_body(job_json("Aborted"));
        })
        .await;
    let bulk = client(&server);
    assert_eq!(
        bulk.close_job(JOB).await.unwrap().state,
        JobState::UploadComplete
    );
    assert_eq!(bulk.abort_job(JOB).await.unwrap().state, JobState::Aborted);
    close.assert_async().await;
    abort.assert_async().await;
}

#[tokio::test]
async fn abort_of_completed_job_surfaces_salesforce_error() {
    let server = MockServer::start_async().await;
    reply_json(
        &server,
        PATCH,
        job_path(""),
        400,
        json!([{"errorCode": "INVALIDJOBSTATE",
                "message": "Aborting already Completed Job not allowed"}]),
    )
    .await;
    let bulk = client(&server);
    let err = bulk.abort_job(JOB).await.unwrap_err();
    assert_eq!(
        err.error_code().map(|c| c.as_str()),
        Some("INVALIDJOBSTATE")
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn delete_job_sends_delete_and_maps_404() {
    let server = MockServer::start_async().await;
    let del = reply(&server, DELETE, job_path(""), 204, "").await;
    let gone = reply_json(
        &server,
        DELETE,
        format!("{API}/jobs/ingest/750gone"),
        404,
        json!([{"errorCode": "NOT_FOUND",
                "message": "The requested resource does not exist"}]),
    )
    .await;
    let bulk = client(&server);
    bulk.delete_job(JOB).await.unwrap();
    let err = bulk.delete_job("750gone").await.unwrap_err();
    del.assert_async().await;
    gone.assert_async().await;
    assert!(err.is_not_found());
}

#[tokio::test]
async fn job_info_and_list_follow_next_records_url() {
    let server = MockServer::start_async().await;
    let info = reply(&server, GET, job_path(""), 200, INFO_FAILED).await;
    let page1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(jobs_path())
                .query_param_missing("queryLocator");
            then.status(200)
                .json_body(json!({"done": false, "records": [job_json("Open")],
                "nextRecordsUrl": format!("{API}/jobs/ingest?queryLocator=01gB")}));
        })
        .await;
    let page2 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(jobs_path())
                .query_param("queryLocator", "01gB");
            then.status(200).json_body(json!({"done": true, "records": [
                {"id": "750b", "operation": "delete", "object": "Lead", "state": "JobComplete"}],
                "nextRecordsUrl": null}));
        })
        .await;
    let bulk = client(&server);
    let got = bulk.job_info(JOB).await.unwrap();
    info.assert_async().await;
    assert_eq!(got.state, JobState::Failed);
    assert_eq!(got.number_records_processed, Some(0));
    let jobs = bulk.list_jobs().await.unwrap();
    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, vec![JOB, "750b"]);
    assert_eq!(page1.calls_async().await + page2.calls_async().await, 2);
    page2.assert_async().await;
}

#[tokio::test]
async fn wait_polls_with_backoff_until_complete() {
    let server = MockServer::start_async().await;
    let in_progress = reply_json(&server, GET, job_path(""), 200, job_json("InProgress")).await;
    let (sleeper, mut sleeps, gate) = GatedSleeper::new();
    let bulk = bulk_client(&server.base_url(), Arc::new(sleeper));
    let wait = tokio::spawn(async move { bulk.wait_for_job(JOB).await });

    // Two polls see InProgress; then the job completes.
    assert_eq!(sleeps.recv().await, Some(Duration::from_secs(10)));
    gate.add_permits(1);
    assert_eq!(sleeps.recv().await, Some(Duration::from_secs(10)));
    in_progress.delete_async().await;
    let complete = reply_json(&server, GET, job_path(""), 200, job_json("JobComplete")).await;
    gate.add_permits(1);
    let info = wait.await.unwrap().unwrap();
    assert_eq!(info.state, JobState::JobComplete);
    complete.assert_calls_async(1).await;
}

#[tokio::test]
async fn wait_reports_failed_job_with_error_message() {
    let server = MockServer::start_async().await;
    reply(&server, GET, job_path(""), 200, INFO_FAILED).await;
    let bulk = client(&server);
    let err = bulk.wait_for_job(JOB).await.unwrap_err();
    assert!(err.is_job_failed());
    assert_eq!(err.job_id(), Some(JOB));
    assert!(
        err.to_string()
            .contains("InvalidBatch : Field name not found : Foo__c"),
        "{err}"
    );
}

#[tokio::test]
async fn wait_reports_aborted_job() {
    let server = MockServer::start_async().await;
    reply_json(&server, GET, job_path(""), 200, job_json("Aborted")).await;
    let bulk = client(&server);
    let err = bulk.wait_for_job(JOB).await.unwrap_err();
    assert!(matches!(
        &err,
        sfdc_bulk::Error::JobFailed {
            state: JobState::Aborted,
            ..
        }
    ));
}

#[tokio::test]
async fn wait_times_out_after_the_configured_virtual_time() {
    let server = MockServer::start_async().await;
    let poll = reply_json(&server, GET, job_path(""), 200, job_json("InProgress")).await;
    let sleeper = RecordingSleeper::default();
    let bulk = bulk_client(&server.base_url(), Arc::new(sleeper.clone()));
    let err = bulk.wait_for_job(JOB).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Polls at 0, 10, ..., 100 virtual seconds; ten 10 s sleeps in between.
    poll.assert_calls_async(11).await;
    assert_eq!(sleeper.delays(), vec![Duration::from_secs(10); 10]);
}

/// The whole ingest flow over the wire: create, PUT the exact CSV, close, poll, read all three
/// result files (rows out of order) and map them back to the input.
#[tokio::test]
async fn ingest_flow_maps_shuffled_results_to_input_order() {
    let server = MockServer::start_async().await;
    let create = reply(&server, POST, jobs_path(), 200, CREATE_OPEN).await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(job_path("/batches"))
                .header("content-type", "text/csv")
                .body("Name,Phone\nAcme,#N/A\n,555\n\"Gamma, Inc.\",\n");
            then.status(201);
        })
        .await;
    let close = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(job_path(""))
                .json_body(json!({"state": "UploadComplete"}));
            then.status(200).json_body(job_json("UploadComplete"));
        })
        .await;
    let info = reply_json(&server, GET, job_path(""), 200, job_json("JobComplete")).await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path(job_path("/successfulResults/"));
            then.status(200)
                .header("content-type", "text/csv")
                .body(include_str!("../fixtures/jobs/successful_results.csv"));
        })
        .await;
    let failed = reply(
        &server,
        GET,
        job_path("/failedResults/"),
        200,
        include_str!("../fixtures/jobs/failed_results.csv"),
    )
    .await;
    let unprocessed = reply(
        &server,
        GET,
        job_path("/unprocessedrecords/"),
        200,
        "\"Name\",\"Phone\"\n",
    )
    .await;
    let bulk = client(&server);
    let input = records(json!([
        {"Name": "Acme", "Phone": null},
        {"Name": "", "Phone": "555"},
        {"Name": "Gamma, Inc."}
    ]));
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            futures::stream::iter(input),
        )
        .await
        .unwrap();
    for m in [&create, &put, &close, &info, &ok, &failed, &unprocessed] {
        m.assert_async().await;
    }
    assert_eq!(
        outcomes,
        vec![
            Outcome::Created("001xx0000000001AAA".into()),
            Outcome::Failed {
                code: "REQUIRED_FIELD_MISSING".into(),
                message: "Required fields are missing: [Name]".into(),
                fields: vec!["Name".into()],
            },
            Outcome::Created("001xx0000000003AAA".into()),
        ]
    );
}

/// A small byte limit splits the input into two jobs, each uploaded once with its own header.
#[tokio::test]
async fn ingest_stream_splits_by_size_into_two_jobs() {
    let server = MockServer::start_async().await;
    let create = create_and_close(&server).await;
    let put1 = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(job_path("/batches"))
                .body("Name\naaaa\nbbbb\n");
            then.status(201);
        })
        .await;
    let put2 = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(job_path("/batches"))
                .body("Name\ncccc\n");
            then.status(201);
        })
        .await;
    reply_json(&server, GET, job_path(""), 200, job_json("JobComplete")).await;
    let results = server
        .mock_async(|when, then| {
            when.method(GET).path_prefix(job_path("/")).path_suffix("/");
            then.status(200).body("\"Name\"\n");
        })
        .await;
    let bulk = client(&server);
    let input = records(json!([{"Name": "aaaa"}, {"Name": "bbbb"}, {"Name": "cccc"}]));
    let request = IngestRequest::new("Account", Operation::Insert).limits(SplitLimits {
        max_bytes: 15,
        max_records: 100,
    });
    let reports: Vec<_> = bulk
        .ingest_stream(request, futures::stream::iter(input))
        .collect()
        .await;
    assert_eq!(reports.len(), 2);
    let first = reports[0].as_ref().unwrap();
    let second = reports[1].as_ref().unwrap();
    assert_eq!((first.first_index, first.outcomes.len()), (0, 2));
    assert_eq!((second.first_index, second.outcomes.len()), (2, 1));
    // No result rows: every record is reported Unprocessed, none is lost.
    assert!(
        first
            .outcomes
            .iter()
            .chain(&second.outcomes)
            .all(|o| *o == Outcome::Unprocessed)
    );
    create.assert_calls_async(2).await;
    put1.assert_calls_async(1).await;
    put2.assert_calls_async(1).await;
    results.assert_calls_async(6).await;
}

/// A job that ends Failed is an error carrying Salesforce's message and the rows' outcomes.
#[tokio::test]
async fn ingest_of_failed_job_returns_error_with_partial_report() {
    let server = MockServer::start_async().await;
    create_and_close(&server).await;
    reply(&server, PUT, job_path("/batches"), 201, "").await;
    reply(&server, GET, job_path(""), 200, INFO_FAILED).await;
    reply(
        &server,
        GET,
        job_path("/unprocessedrecords/"),
        200,
        "Foo__c\nx\n",
    )
    .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path_suffix("Results/");
            then.status(200)
                .body("\"sf__Id\",\"sf__Error\",\"Foo__c\"\n");
        })
        .await;
    let bulk = client(&server);
    let err = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            futures::stream::iter(records(json!([{"Foo__c": "x"}]))),
        )
        .await
        .unwrap_err();
    assert!(err.is_job_failed());
    assert!(err.to_string().contains("Field name not found"), "{err}");
    let partial = err.partial_report().expect("partial report");
    assert_eq!(partial.outcomes, vec![Outcome::Unprocessed]);
}

#[tokio::test]
async fn upsert_without_external_id_fails_before_any_call() {
    let server = MockServer::start_async().await;
    let any = fail_any_request(&server).await;
    let bulk = client(&server);
    let err = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Upsert),
            futures::stream::iter(records(json!([{"Name": "x"}]))),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, sfdc_bulk::Error::Config { .. }), "{err}");
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn empty_input_makes_no_call_and_debug_hides_the_token() {
    let server = MockServer::start_async().await;
    let any = fail_any_request(&server).await;
    let bulk = client(&server);
    let outcomes = bulk
        .ingest(
            IngestRequest::new("Account", Operation::Insert),
            futures::stream::iter(Vec::new()),
        )
        .await
        .unwrap();
    assert!(outcomes.is_empty());
    any.assert_calls_async(0).await;
    let debug = format!("{bulk:?}");
    assert!(debug.contains("BulkClient"));
    assert!(!debug.contains("test-token"), "{debug}");
}

#[tokio::test]
async fn declared_columns_must_hold_the_matching_key() {
    let server = MockServer::start_async().await;
    let bulk = client(&server);
    let update = IngestRequest::new("Account", Operation::Update).columns(["Name"]);
    let err = bulk
        .ingest(
            update,
            futures::stream::iter(records(json!([{"Name": "x"}]))),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`Id`"), "{err}");
    let upsert = IngestRequest::new("Account", Operation::Upsert)
        .external_id_field("Ext__c")
        .columns(["Name"]);
    let err = bulk
        .ingest(
            upsert,
            futures::stream::iter(records(json!([{"Name": "x"}]))),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`Ext__c`"), "{err}");
}

/// The upload is never replayed once sent (a second upload to a job is refused), while closing
/// is idempotent and retried by sfdc-rest's policy.
#[tokio::test]
async fn upload_is_not_replayed_but_close_is_retried() {
    let server = MockServer::start_async().await;
    // A gateway error may come after the upload was applied: never replayed.
    let put = reply(&server, PUT, job_path("/batches"), 502, "").await;
    let patch = reply(&server, PATCH, job_path(""), 503, "").await;
    let retry = sfdc_rest::RetryConfig {
        max_attempts: 3,
        ..Default::default()
    };
    let rest = sfdc_rest::Client::builder()
        .instance_url(server.base_url())
        .access_token("test-token")
        .allow_insecure_loopback(true)
        .retry(retry)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .build()
        .unwrap();
    let bulk = sfdc_bulk::BulkClient::new(rest);
    let err = bulk.upload(JOB, "Name\nA\n".into()).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert_eq!(err.verdict(), sfdc_rest::retry::Verdict::OutcomeUnknown);
    put.assert_calls_async(1).await;
    let err = bulk.close_job(JOB).await.unwrap_err();
    assert!(err.is_retryable());
    patch.assert_calls_async(3).await;
}
