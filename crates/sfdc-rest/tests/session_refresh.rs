//! Wire tests of the client side of auth: refresh once on 401 INVALID_SESSION_ID, concurrent 401s
//! sharing one token request (real refresh-token flow against an httpmock token endpoint), and the
//! instance URL taken from the token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
use sfdc_rest::{Client, ErrorCode, FixedJitter};
use support::{DATA, JSON, RecordingSleeper};

const INVALID_SESSION: &str = include_str!("fixtures/errors/invalid_session_401.json");
const RETRIEVE_200: &str = include_str!("fixtures/sobjects/retrieve_200.json");
const RECORD_PATH: &str = "/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ";
const OLD: &str = "00Dxx!OLD-ACCESS-TOKEN";
const NEW: &str = "00Dxx!NEW-ACCESS-TOKEN";

fn token_body(server: &MockServer, access_token: &str) -> String {
    json!({
        "access_token": access_token,
        "instance_url": server.base_url(),
        "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
        "signature": "c2ln"
    })
    .to_string()
}

fn source(server: &MockServer, seed: Option<&str>) -> RefreshTokenSource {
    let mut b = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(server.url("/services/oauth2/token")).unwrap(),
        )
        .client_id("3MVG9client")
        .client_secret("client-secret")
        .refresh_token("5Aep861REFRESH")
        .instance_url(url::Url::parse(&server.base_url()).unwrap());
    if let Some(seed) = seed {
        b = b.access_token(seed);
    }
    b.build().unwrap()
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
                .path("/services/oauth2/token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", "5Aep861REFRESH");
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW));
        })
        .await;
    let expired = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(RECORD_PATH)
                .header("authorization", format!("Bearer {OLD}"));
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(RECORD_PATH)
                .header("authorization", format!("Bearer {NEW}"));
            then.status(200)
                .header("content-type", JSON)
                .body(RETRIEVE_200);
        })
        .await;
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
            when.method(POST).path("/services/oauth2/token");
            // Slow token endpoint: every request gets its 401 while the refresh is in flight.
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW))
                .delay(Duration::from_millis(300));
        })
        .await;
    let expired = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/sobjects/Account"))
                .header("authorization", format!("Bearer {OLD}"));
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/sobjects/Account"))
                .header("authorization", format!("Bearer {NEW}"));
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"001D000000IqhSLIAZ","errors":[],"success":true}"#);
        })
        .await;
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
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
    let err = client(&server, source(&server, Some(OLD)))
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidSessionId));
    token.assert_calls_async(1).await;
    api.assert_calls_async(2).await;
}

#[tokio::test]
async fn static_token_401_is_an_auth_error_without_replay() {
    let server = MockServer::start_async().await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET).path(RECORD_PATH);
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
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
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(200)
                .header("content-type", JSON)
                .body(token_body(&server, NEW));
        })
        .await;
    let tokens = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(server.url("/services/oauth2/token")).unwrap(),
        )
        .client_id("3MVG9client")
        .refresh_token("5Aep861REFRESH")
        .build()
        .unwrap();
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
    server
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(200).header("content-type", JSON).body(
                json!({"access_token": NEW, "instance_url": "https://evil.tld/x.salesforce.com", "token_type": "Bearer"})
                    .to_string(),
            );
        })
        .await;
    let tokens = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(server.url("/services/oauth2/token")).unwrap(),
        )
        .client_id("3MVG9client")
        .refresh_token("5Aep861REFRESH")
        .build()
        .unwrap();
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
