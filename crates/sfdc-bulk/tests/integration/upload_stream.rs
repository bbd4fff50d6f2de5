//! Wire tests of the streamed file upload: exact bytes and `Content-Length`, no replay once sent,
//! the whole file again after a 401 token refresh, and a missing file failing before any call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::Write;
use std::sync::Arc;

use httpmock::Method::{POST, PUT};
use httpmock::MockServer;
use sfdc_bulk::BulkClient;
use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
use sfdc_rest::{FixedJitter, RetryConfig};
use support::{API, RecordingSleeper, bulk_client};

const JOB: &str = "750R0000000zlh9IAA";
const INVALID_SESSION: &str =
    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;

/// A spool-like CSV file of about 1.3 MB (many 64 KiB reads).
fn csv_file() -> (tempfile::NamedTempFile, String) {
    let mut csv = String::from("Name,Ext__c\n");
    for i in 0..50_000 {
        csv.push_str(&format!("\"Acme, {i}\",EXT-{i:08}\n"));
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(csv.as_bytes()).unwrap();
    file.flush().unwrap();
    (file, csv)
}

fn batches() -> String {
    format!("{API}/jobs/ingest/{JOB}/batches")
}

#[tokio::test]
async fn upload_file_streams_the_exact_file_and_is_not_replayed_once_sent() {
    let server = MockServer::start_async().await;
    let (file, csv) = csv_file();
    let put = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(batches())
                .header("content-type", "text/csv")
                .header("content-length", csv.len().to_string())
                .body(csv.as_str());
            then.status(201);
        })
        .await;
    let bulk = bulk_client(&server.base_url(), Arc::new(RecordingSleeper::default()));
    bulk.upload_file(JOB, file.path()).await.unwrap();
    put.assert_calls_async(1).await;

    // A gateway error (502) after sending: not replayed even with retries on (one call).
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(PUT).path(batches()).body(csv.as_str());
            then.status(502);
        })
        .await;
    let rest = sfdc_rest::Client::builder()
        .instance_url(server.base_url())
        .access_token("test-token")
        .allow_insecure_loopback(true)
        .retry(RetryConfig {
            max_attempts: 3,
            ..Default::default()
        })
        .sleeper(Arc::new(RecordingSleeper::default()))
        .build()
        .unwrap();
    let err = BulkClient::new(rest)
        .upload_file(JOB, file.path())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    failing.assert_calls_async(1).await;
}

#[tokio::test]
async fn upload_file_after_token_refresh_sends_the_whole_file_again() {
    const OLD: &str = "00Dxx!OLD-ACCESS-TOKEN";
    const NEW: &str = "00Dxx!NEW-ACCESS-TOKEN";
    let server = MockServer::start_async().await;
    let (file, csv) = csv_file();
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(200)
                .header("content-type", "application/json")
                .body(sfdc_test_support::token_body(NEW, &server.base_url()));
        })
        .await;
    let expired = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(batches())
                .header("authorization", format!("Bearer {OLD}"));
            then.status(401)
                .header("content-type", "application/json")
                .body(INVALID_SESSION);
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(batches())
                .header("authorization", format!("Bearer {NEW}"))
                .header("content-length", csv.len().to_string())
                .body(csv.as_str());
            then.status(201);
        })
        .await;
    let tokens = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(server.url("/services/oauth2/token")).unwrap(),
        )
        .client_id("3MVG9client")
        .client_secret("client-secret")
        .refresh_token("5Aep861REFRESH")
        .instance_url(server.base_url().parse().unwrap())
        .access_token(OLD)
        .build()
        .unwrap();
    let rest = sfdc_rest::Client::builder()
        .instance_url(server.base_url())
        .allow_insecure_loopback(true)
        .token_source(tokens)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .build()
        .unwrap();
    let bulk = BulkClient::new(rest.clone());
    bulk.upload_file(JOB, file.path()).await.unwrap();
    token.assert_calls_async(1).await;
    expired.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    assert_eq!(rest.api_calls(), 2);
}

#[tokio::test]
async fn missing_file_fails_before_any_call() {
    let server = MockServer::start_async().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path(batches());
            then.status(201);
        })
        .await;
    let bulk = bulk_client(&server.base_url(), Arc::new(RecordingSleeper::default()));
    let dir = tempfile::tempdir().unwrap();
    let err = bulk
        .upload_file(JOB, &dir.path().join("gone.csv"))
        .await
        .unwrap_err();
    assert!(matches!(err, sfdc_bulk::Error::Spool { .. }), "{err:?}");
    put.assert_calls_async(0).await;
}
