//! Wire tests of streaming request bodies: exact bytes and `Content-Length`, a fresh body per
//! attempt on a retry and on the replay after a token refresh, no replay where the idempotency
//! class forbids it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Method, StatusCode};
use httpmock::Method::{POST, PUT};
use httpmock::MockServer;
use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
use sfdc_rest::{BodyFactory, Client, FixedJitter, Idempotency};
use support::{JSON, RecordingSleeper, client};

const INVALID_SESSION: &str = include_str!("../fixtures/errors/invalid_session_401.json");
const BATCHES: &str = "/services/data/v62.0/jobs/ingest/750R0000000zlh9IAA/batches";
const BATCHES_REL: &str = "jobs/ingest/750R0000000zlh9IAA/batches";
const ROWS: usize = 20_000;

/// The CSV the factory streams, as one string (about 440 KB).
fn expected_csv() -> String {
    let mut s = String::from("Name,Ext__c\n");
    for i in 0..ROWS {
        s.push_str(&format!("\"Acme, {i}\",EXT-{i:08}\n"));
    }
    s
}

/// A factory streaming [`expected_csv`] row by row (many small chunks), counting its calls.
fn counting_factory() -> (BodyFactory, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let factory: BodyFactory = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let chunks = std::iter::once(Bytes::from_static(b"Name,Ext__c\n"))
            .chain((0..ROWS).map(|i| Bytes::from(format!("\"Acme, {i}\",EXT-{i:08}\n"))))
            .map(Ok::<_, std::io::Error>);
        Box::pin(futures::stream::iter(chunks)) as sfdc_rest::BodyStream
    });
    (factory, calls)
}

#[tokio::test]
async fn server_receives_exactly_the_streamed_bytes_with_content_length() {
    let server = MockServer::start_async().await;
    let csv = expected_csv();
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(BATCHES)
                .header("content-type", "text/csv")
                .header("content-length", csv.len().to_string())
                .body(csv.as_str());
            then.status(201);
        })
        .await;
    let client = client(&server);
    let (factory, calls) = counting_factory();
    let resp = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", csv.len() as u64, factory)
        .idempotency(Idempotency::NotIdempotent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    mock.assert_calls_async(1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(client.api_calls(), 1);
}

#[tokio::test]
async fn retry_calls_the_factory_again_and_resends_the_full_body() {
    let server = MockServer::start_async().await;
    let csv = expected_csv();
    let failing = server
        .mock_async(|when, then| {
            when.method(PUT).path(BATCHES).body(csv.as_str());
            then.status(503).up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(BATCHES)
                .header("content-length", csv.len().to_string())
                .body(csv.as_str());
            then.status(201);
        })
        .await;
    let sleeper = RecordingSleeper::default();
    let client = support::builder(&server, &sleeper).build().unwrap();
    let (factory, calls) = counting_factory();
    // PUT defaults to Idempotent, so a 503 is retried.
    let resp = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", csv.len() as u64, factory)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    failing.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one fresh body per attempt"
    );
    assert_eq!(sleeper.delays().len(), 1);
}

#[tokio::test]
async fn not_idempotent_stream_is_not_replayed_after_a_response() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PUT).path(BATCHES);
            then.status(502);
        })
        .await;
    let client = client(&server);
    let (factory, calls) = counting_factory();
    let err = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", expected_csv().len() as u64, factory)
        .idempotency(Idempotency::NotIdempotent)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    mock.assert_calls_async(1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn not_sent_failure_is_retried_with_a_fresh_body() {
    // Nothing listens on the port (bound, then released), so every attempt fails to connect:
    // `NotSent`, retried even for a not-idempotent request, each with a fresh body.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sleeper = RecordingSleeper::default();
    let client = Client::builder()
        .instance_url(format!("http://127.0.0.1:{port}"))
        .allow_insecure_loopback(true)
        .access_token(support::TOKEN)
        .retry(support::retry_config())
        .sleeper(Arc::new(sleeper.clone()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .build()
        .unwrap();
    let (factory, calls) = counting_factory();
    let err = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", expected_csv().len() as u64, factory)
        .idempotency(Idempotency::NotIdempotent)
        .send()
        .await
        .unwrap_err();
    assert!(!err.was_sent(), "{err}");
    // max_attempts = 4 in the test config: four attempts, four bodies, nothing counted.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(sleeper.delays().len(), 3);
    assert_eq!(client.api_calls(), 0);
}

#[tokio::test]
async fn token_refresh_replay_calls_the_factory_again_with_the_full_body() {
    const OLD: &str = "00Dxx!OLD-ACCESS-TOKEN";
    const NEW: &str = "00Dxx!NEW-ACCESS-TOKEN";
    let server = MockServer::start_async().await;
    let csv = expected_csv();
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(200)
                .header("content-type", JSON)
                .body(sfdc_test_support::token_body(NEW, &server.base_url()));
        })
        .await;
    let expired = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(BATCHES)
                .header("authorization", format!("Bearer {OLD}"));
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path(BATCHES)
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
        .instance_url(url::Url::parse(&server.base_url()).unwrap())
        .access_token(OLD)
        .build()
        .unwrap();
    let client = Client::builder()
        .instance_url(server.base_url())
        .allow_insecure_loopback(true)
        .token_source(tokens)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .build()
        .unwrap();
    let (factory, calls) = counting_factory();
    // Not idempotent: the refresh replay is still allowed (the session was refused, so nothing
    // was applied).
    let resp = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", csv.len() as u64, factory)
        .idempotency(Idempotency::NotIdempotent)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    token.assert_calls_async(1).await;
    expired.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(client.api_calls(), 2);
}

#[tokio::test]
async fn debug_shows_the_body_length_only() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    let (factory, calls) = counting_factory();
    let builder = client
        .request(Method::PUT, BATCHES_REL)
        .body_stream("text/csv", 1234, factory);
    let debug = format!("{builder:?}");
    assert!(debug.contains("body_len: Some(1234)"), "{debug}");
    assert!(!debug.contains("Acme"), "{debug}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no body is made before send"
    );
}
