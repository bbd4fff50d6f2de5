//! Wire tests of the send loop: retries, backoff, idempotency, throttling, raw requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use httpmock::Method::{GET, PATCH, POST};
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::{Error, ErrorCode, Idempotency, RetryConfig};
use support::{DATA, JSON, RecordingSleeper, builder, client};

const LIMIT: &str = include_str!("../fixtures/errors/request_limit_403.json");
const LOCK: &str = include_str!("../fixtures/errors/unable_to_lock_row_400.json");
const PROXY_502: &str = include_str!("../fixtures/errors/proxy_502.html");
const RETRIEVE_200: &str = include_str!("../fixtures/sobjects/retrieve_200.json");

const RECORD_PATH: &str = "/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ";

#[tokio::test]
async fn get_503_twice_then_200_with_exponential_backoff() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(503).up_to_n_times(2);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(200)
                .header("content-type", JSON)
                .body(RETRIEVE_200);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let client = builder(&server, &sleeper).build().unwrap();
    let record = client
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap();
    assert_eq!(record["Name"], "Acme");
    failing.assert_calls_async(2).await;
    ok.assert_calls_async(1).await;
    assert_eq!(
        sleeper.delays(),
        [Duration::from_millis(100), Duration::from_millis(200)]
    );
    assert_eq!(client.api_calls(), 3);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(500)
                .header("content-type", "text/html")
                .body(PROXY_502);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let err = builder(&server, &sleeper)
        .build()
        .unwrap()
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    // max_attempts = 4 in the test config.
    mock.assert_calls_async(4).await;
    assert_eq!(sleeper.delays().len(), 3);
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    // Non-JSON body still gives a useful message.
    let msg = err.to_string();
    assert!(
        msg.contains("502 Bad Gateway") && msg.contains("corporate-proxy"),
        "{msg}"
    );
    assert_eq!(err.error_code().unwrap().as_str(), "ERROR_HTTP_500");
}

#[tokio::test]
async fn post_create_is_not_retried_after_a_gateway_5xx() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(502);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let err = builder(&server, &sleeper)
        .build()
        .unwrap()
        .create("Account", &json!({"Name": "A"}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert!(err.is_outcome_unknown() && !err.is_retryable());
    mock.assert_calls_async(1).await;
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn post_create_is_retried_after_503_a_refusal() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(503);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let err = builder(&server, &sleeper)
        .build()
        .unwrap()
        .create("Account", &json!({"Name": "A"}))
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    mock.assert_calls_async(4).await;
}

#[tokio::test]
async fn request_limit_exceeded_is_surfaced_without_retry_or_refresh() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(403).header("content-type", JSON).body(LIMIT);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let err = builder(&server, &sleeper)
        .build()
        .unwrap()
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    // A static token cannot refresh: had the client tried, the error would be Error::Auth.
    assert!(matches!(err, Error::Api { .. }));
    assert!(err.is_throttled());
    assert!(!err.is_auth() && !err.is_retryable());
    assert_eq!(err.error_code(), Some(&ErrorCode::RequestLimitExceeded));
    assert_eq!(err.api_errors()[0].message, "TotalRequests Limit exceeded.");
    mock.assert_calls_async(1).await;
    assert!(sleeper.delays().is_empty());
}

#[tokio::test]
async fn unable_to_lock_row_is_retried_for_patch() {
    let server = MockServer::start_async().await;
    let locked = server
        .mock_async(|when, then| {
            when.method(PATCH).path(RECORD_PATH);
            then.status(400)
                .header("content-type", JSON)
                .body(LOCK)
                .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(PATCH).path(RECORD_PATH);
            then.status(204);
        })
        .await;
    client(&server)
        .update("Account", "001D000000IqhSLIAZ", &json!({"Name": "B"}))
        .await
        .unwrap();
    locked.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start_async().await;
    let busy = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(503).header("retry-after", "3").up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(200)
                .header("content-type", JSON)
                .body(RETRIEVE_200);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    builder(&server, &sleeper)
        .build()
        .unwrap()
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap();
    assert_eq!(sleeper.delays(), [Duration::from_secs(3)]);
    busy.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

/// A loopback port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn connection_refused_is_retried_even_for_post() {
    let sleeper = RecordingSleeper::default();
    let client = sfdc_rest::Client::builder()
        .instance_url(format!("http://127.0.0.1:{}", closed_port()))
        .allow_insecure_loopback(true)
        .access_token(support::TOKEN)
        .retry(support::retry_config())
        .sleeper(std::sync::Arc::new(sleeper.clone()))
        .jitter(std::sync::Arc::new(sfdc_rest::FixedJitter(0.0)))
        .build()
        .unwrap();
    let err = client
        .create("Account", &json!({"Name": "A"}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    assert!(!err.was_sent());
    assert!(
        err.is_retryable() && !err.is_outcome_unknown(),
        "a create that never left the client is safe to resend: {err:?}"
    );
    assert_eq!(
        sleeper.delays().len(),
        3,
        "not sent: retried up to the limit"
    );
    assert_eq!(client.api_calls(), 0, "nothing reached the API");
}

#[tokio::test]
async fn timeout_after_send_is_not_replayed_for_post_but_is_for_get() {
    let server = MockServer::start_async().await;
    let slow_post = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(201).delay(Duration::from_millis(1500));
        })
        .await;
    let slow_get = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(200).delay(Duration::from_millis(1500));
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let client = builder(&server, &sleeper)
        .timeout(Duration::from_millis(150))
        .retry(RetryConfig {
            max_attempts: 2,
            ..support::retry_config()
        })
        .build()
        .unwrap();
    let err = client
        .create("Account", &json!({"Name": "A"}))
        .await
        .unwrap_err();
    assert!(err.was_sent(), "{err:?}");
    assert!(err.is_outcome_unknown() && !err.is_retryable(), "{err:?}");
    slow_post.assert_calls_async(1).await;
    let err = client
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    assert!(err.was_sent());
    assert!(!err.is_outcome_unknown() && err.is_retryable(), "{err:?}");
    slow_get.assert_calls_async(2).await;
    assert_eq!(sleeper.delays().len(), 1);
}

#[tokio::test]
async fn raw_request_tier() {
    let server = MockServer::start_async().await;
    let csv = server
        .mock_async(|when, then| {
            when.method("PUT")
                .path(format!("{DATA}/jobs/ingest/750xx0000000001AAA/batches"))
                .header("content-type", "text/csv")
                .header("x-custom", "1")
                .body("Name\nAcme\n");
            then.status(201);
        })
        .await;
    let absolute = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/services/data/v62.0/query/01g-2000")
                .query_param("a", "b c");
            then.status(300)
                .header("content-type", JSON)
                .header("sforce-limit-info", "api-usage=7/15000")
                .body(r#"["x"]"#);
        })
        .await;
    let client = client(&server);
    let resp = client
        .request(Method::PUT, "jobs/ingest/750xx0000000001AAA/batches")
        .body(Bytes::from_static(b"Name\nAcme\n"), "text/csv")
        .header("x-custom", "1")
        .idempotency(Idempotency::Idempotent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), http::StatusCode::CREATED);
    let resp = client
        .request(Method::GET, "/services/data/v62.0/query/01g-2000")
        .query(&[("a", "b c")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), http::StatusCode::MULTIPLE_CHOICES);
    assert_eq!(resp.headers()["sforce-limit-info"], "api-usage=7/15000");
    let body: Vec<String> = resp.json().await.unwrap();
    assert_eq!(body, ["x"]);
    csv.assert_async().await;
    absolute.assert_async().await;
    assert_eq!(client.api_usage().unwrap().used, 7);
}

#[tokio::test]
async fn bytes_stream_streams_the_body() {
    use futures::TryStreamExt;
    let server = MockServer::start_async().await;
    let big = "x".repeat(200_000);
    let body = big.clone();
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(format!("{DATA}/jobs/ingest/750/successfulResults"));
            then.status(200)
                .header("content-type", "text/csv")
                .body(body);
        })
        .await;
    let chunks: Vec<Bytes> = client(&server)
        .request(Method::GET, "jobs/ingest/750/successfulResults")
        .send()
        .await
        .unwrap()
        .bytes_stream()
        .try_collect()
        .await
        .unwrap();
    let total: usize = chunks.iter().map(Bytes::len).sum();
    assert_eq!(total, big.len());
}

#[tokio::test]
async fn builder_errors_are_reported_at_send_without_a_call() {
    let server = MockServer::start_async().await;
    let catch_all = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let client = client(&server);
    let err = client
        .request(Method::GET, "limits")
        .header("bad header name", "x")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput { kind: "header", .. }),
        "{err}"
    );
    let err = client
        .request(Method::GET, "//evil.tld/services/data")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                kind: "request path",
                ..
            }
        ),
        "{err}"
    );
    catch_all.assert_calls_async(0).await;
    assert_eq!(client.api_calls(), 0);
}

#[tokio::test]
async fn response_text_and_default_headers() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/jobs/ingest/750/failedResults"))
                .header("accept", "text/csv")
                .header(
                    "user-agent",
                    concat!("sfdc-rest/", env!("CARGO_PKG_VERSION")),
                );
            then.status(200)
                .header("content-type", "text/csv; charset=UTF-8")
                .body("\"sf__Id\",\"sf__Error\"\n");
        })
        .await;
    let text = client(&server)
        .request(Method::GET, "jobs/ingest/750/failedResults")
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "\"sf__Id\",\"sf__Error\"\n");
    mock.assert_async().await;
}
