//! Wire tests of the client side of auth: refresh once on 401 INVALID_SESSION_ID, concurrent 401s
//! sharing one token request (real refresh-token flow against an httpmock token endpoint), and the
//! instance URL taken from the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use httpmock::Method::{self, GET, POST};
use httpmock::{Mock, MockServer};
use serde_json::json;
use sfdc_rest::auth::{LoginHost, RefreshTokenSource, RefreshTokenSourceBuilder};
use sfdc_rest::{Client, ErrorCode, FixedJitter};
use support::{DATA, JSON, RecordingSleeper};

const INVALID_SESSION: &str = include_str!("../fixtures/errors/invalid_session_401.json");
const RETRIEVE_200: &str = include_str!("../fixtures/sobjects/retrieve_200.json");
const TOKEN_PATH: &str = "/services/oauth2/token";
const RECORD_PATH: &str = "/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ";
const OLD: &str = "00Dxx!OLD-ACCESS-TOKEN";
const NEW: &str = "00Dxx!NEW-ACCESS-TOKEN";

fn token_body(server: &MockServer, access_token: &str) -> String {
    sfdc_test_support::token_body(access_token, &server.base_url())
}

/// A refresh-token builder for the test app and refresh token, using the mock token endpoint.
fn source_builder(server: &MockServer) -> RefreshTokenSourceBuilder {
    RefreshTokenSource::builder()
        .login_host(LoginHost::insecure_loopback_token_url(server.url(TOKEN_PATH)).unwrap())
        .client_id("3MVG9client")
        .refresh_token("5Aep861REFRESH")
}

fn source(server: &MockServer, seed: Option<&str>) -> RefreshTokenSource {
    let mut b = source_builder(server)
        .client_secret("client-secret")
        .instance_url(url::Url::parse(&server.base_url()).unwrap());
    if let Some(seed) = seed {
        b = b.access_token(seed);
    }
    b.build().unwrap()
}

/// A token-endpoint mock answering every POST with 200 and `body` as JSON.
async fn token_endpoint(server: &MockServer, body: String) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(200).header("content-type", JSON).body(body);
        })
        .await
}

/// A mock answering `method path` with `status` and a JSON `body`; with `token`, only requests
/// sent with `Bearer {token}`.
async fn api_mock<'a>(
    server: &'a MockServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    status: u16,
    body: &str,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            let when = when.method(method).path(path);
            if let Some(token) = token {
                when.header("authorization", format!("Bearer {token}"));
            }
            then.status(status).header("content-type", JSON).body(body);
        })
        .await
}

fn client(server: &MockServer, tokens: RefreshTokenSource) -> Client {
    Client::builder()
        .instance_url(server.base_url())
        .allow_insecure_loopback(true)
        .token_source(tokens)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn expired_session_refreshes_once_then_succeeds() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", "5Aep861REFRESH");
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW));
        })
        .await;
    let expired = api_mock(&server, GET, RECORD_PATH, Some(OLD), 401, INVALID_SESSION).await;
    let fresh = api_mock(&server, GET, RECORD_PATH, Some(NEW), 200, RETRIEVE_200).await;
    let client = client(&server, source(&server, Some(OLD)));
    let record = client
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap();
    assert_eq!(record["Name"], "Acme");
    token.assert_calls_async(1).await;
    expired.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
    assert_eq!(client.api_calls(), 2, "token calls are not API calls");
}

#[tokio::test]
async fn concurrent_401s_share_one_token_request() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            // Slow token endpoint: every request gets its 401 while the refresh is in flight.
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW))
                .delay(Duration::from_millis(300));
        })
        .await;
    let accounts = format!("{DATA}/sobjects/Account");
    let expired = api_mock(&server, POST, &accounts, Some(OLD), 401, INVALID_SESSION).await;
    let created = r#"{"id":"001D000000IqhSLIAZ","errors":[],"success":true}"#;
    let fresh = api_mock(&server, POST, &accounts, Some(NEW), 201, created).await;
    let client = client(&server, source(&server, Some(OLD)));
    let calls = (0..5).map(|i| {
        let client = client.clone();
        async move {
            client
                .create("Account", &json!({"Name": format!("n{i}")}))
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    for r in results {
        assert_eq!(r.unwrap(), "001D000000IqhSLIAZ");
    }
    token.assert_calls_async(1).await;
    expired.assert_calls_async(5).await;
    fresh.assert_calls_async(5).await;
    assert_eq!(client.api_calls(), 10);
}

#[tokio::test]
async fn second_401_after_refresh_is_an_auth_error() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, token_body(&server, NEW)).await;
    let api = api_mock(&server, GET, RECORD_PATH, None, 401, INVALID_SESSION).await;
    let err = client(&server, source(&server, Some(OLD)))
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidSessionId));
    // The second refresh gave the same token again: no third call with it.
    token.assert_calls_async(2).await;
    api.assert_calls_async(2).await;
}

#[tokio::test]
async fn static_token_401_is_an_auth_error_without_replay() {
    let server = MockServer::start_async().await;
    let api = api_mock(&server, GET, RECORD_PATH, None, 401, INVALID_SESSION).await;
    let err = support::client(&server)
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    assert!(err.is_auth());
    api.assert_calls_async(1).await;
}

#[tokio::test]
async fn connect_takes_instance_url_from_token() {
    let server = MockServer::start_async().await;
    let token = token_endpoint(&server, token_body(&server, NEW)).await;
    let tokens = source_builder(&server).build().unwrap();
    let client = Client::builder()
        .token_source(tokens)
        .allow_insecure_loopback(true)
        .connect()
        .await
        .unwrap();
    assert_eq!(
        client.instance_url().as_str().trim_end_matches('/'),
        server.base_url()
    );
    token.assert_calls_async(1).await;
    assert_eq!(client.api_calls(), 0);
}

#[tokio::test]
async fn connect_validates_the_token_instance_url() {
    let server = MockServer::start_async().await;
    token_endpoint(
        &server,
        json!({"access_token": NEW, "instance_url": "https://evil.tld/x.salesforce.com", "token_type": "Bearer"})
            .to_string(),
    )
    .await;
    let tokens = source_builder(&server).build().unwrap();
    let err = Client::builder()
        .token_source(tokens)
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, sfdc_rest::Error::Config { .. }), "{err}");
    // build() without an instance URL explains how to fix it.
    let err = Client::builder().access_token("x").build().unwrap_err();
    assert!(err.to_string().contains("connect()"));
}
