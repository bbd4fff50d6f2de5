//! Wire tests of the OAuth token flows against an httpmock server on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use httpmock::Method::POST;
use httpmock::{Mock, MockServer};
use secrecy::{ExposeSecret, SecretString};
use sfdc_rest::auth::{
    AccessToken, ClientCredentialsSource, LoginHost, PasswordSource, ProcessingRetry,
    RefreshTokenSource, RefreshTokenSourceBuilder, StaticToken, TokenSource,
};

const TOKEN_PATH: &str = "/services/oauth2/token";
const FORM: &str = "application/x-www-form-urlencoded";
const REFRESH_OK: &str = include_str!("../fixtures/auth/token_refresh_success.json");
const INVALID_GRANT: &str = include_str!("../fixtures/auth/error_invalid_grant.json");
const BUSY: &str = include_str!("../fixtures/auth/error_already_processing.json");
const INVALID_CLIENT: &str = include_str!("../fixtures/auth/error_invalid_client.json");

/// Retries "already being processed" without sleeping.
const NO_DELAY: ProcessingRetry = ProcessingRetry {
    max_retries: 3,
    delay: Duration::ZERO,
};

fn host(server: &MockServer) -> LoginHost {
    LoginHost::insecure_loopback_token_url(server.url(TOKEN_PATH)).unwrap()
}

fn token_json(access_token: &str, refresh_token: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "access_token": access_token,
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
    });
    if let Some(rt) = refresh_token {
        body["refresh_token"] = rt.into();
    }
    body.to_string()
}

/// A refresh-token builder for the confidential test app, pointed at the mock server.
fn refresh_builder(server: &MockServer) -> RefreshTokenSourceBuilder {
    RefreshTokenSource::builder()
        .login_host(host(server))
        .client_id("3MVG9client")
        .client_secret("client-secret-1")
}

fn refresh_source(server: &MockServer, refresh_token: &str) -> RefreshTokenSource {
    refresh_builder(server)
        .refresh_token(refresh_token)
        .processing_retry(NO_DELAY)
        .build()
        .unwrap()
}

/// A public-client source (no secret) for `client_id` with refresh token `rt`, on `login_host`.
fn public_refresh_source(
    login_host: LoginHost,
    client_id: &str,
    retry: ProcessingRetry,
) -> RefreshTokenSource {
    RefreshTokenSource::builder()
        .login_host(login_host)
        .client_id(client_id)
        .refresh_token("rt")
        .processing_retry(retry)
        .build()
        .unwrap()
}

/// A token-endpoint mock answering every POST with `status` and `body`.
async fn token_endpoint<'a>(server: &'a MockServer, status: u16, body: &str) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(status).body(body);
        })
        .await
}

#[tokio::test]
async fn refresh_token_grant_sends_exact_form_and_parses_response() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                // `!`, `=` and `+` in the refresh token must be percent-encoded.
                .body("grant_type=refresh_token&refresh_token=5Aep861%21rt%3D1%2B2&client_id=3MVG9client&client_secret=client-secret-1");
            then.status(200)
                .header("content-type", "application/json")
                .body(REFRESH_OK);
        })
        .await;
    let source = refresh_source(&server, "5Aep861!rt=1+2");

    let token = source.token().await.unwrap();
    assert_eq!(
        token.secret().expose_secret(),
        "00Dxx0000001gPL!AR8AQ.fresh-access-token-from-refresh"
    );
    assert_eq!(
        token.instance_url().unwrap().as_str(),
        "https://acme.my.salesforce.com/"
    );
    assert_eq!(
        token.identity_url().unwrap().as_str(),
        "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS"
    );
    assert_eq!(
        token.issued_at(),
        UNIX_EPOCH + Duration::from_millis(1_410_978_727_765)
    );
    // Cached: a second call makes no request.
    let again = source.token().await.unwrap();
    assert!(again.same_secret(&token));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn public_client_omits_client_secret() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .body("grant_type=refresh_token&refresh_token=rt&client_id=public-app");
            then.status(200).body(token_json("AT", None));
        })
        .await;
    let source = public_refresh_source(host(&server), "public-app", ProcessingRetry::default());
    source.token().await.unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_grant_becomes_auth_error() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(400)
                .header("content-type", "application/json")
                .body(INVALID_GRANT);
        })
        .await;
    let source = refresh_source(&server, "revoked");
    let err = source.token().await.unwrap_err();
    match &err {
        sfdc_rest::Error::Auth {
            code,
            description,
            status,
            ..
        } => {
            assert_eq!(code, "invalid_grant");
            assert_eq!(description, "expired access/refresh token");
            assert_eq!(*status, Some(http::StatusCode::BAD_REQUEST));
        }
        other => panic!("expected Error::Auth, got {other:?}"),
    }
    assert!(err.is_auth());
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("expired access/refresh token"));
    // Not retried: only "already being processed" is.
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn invalid_client_401_becomes_auth_error() {
    let server = MockServer::start_async().await;
    token_endpoint(&server, 401, INVALID_CLIENT).await;
    let err = refresh_source(&server, "rt").token().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

#[tokio::test]
async fn non_oauth_5xx_is_retryable_api_error() {
    let server = MockServer::start_async().await;
    let mock = token_endpoint(
        &server,
        503,
        "<html><body>Service Unavailable</body></html>",
    )
    .await;
    let err = refresh_source(&server, "rt").token().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!err.is_auth());
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn rotated_refresh_token_goes_to_callback_and_is_used_next() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .body("grant_type=refresh_token&refresh_token=rt-1&client_id=3MVG9client&client_secret=client-secret-1");
            then.status(200).body(token_json("AT-1", Some("rt-2")));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .body("grant_type=refresh_token&refresh_token=rt-2&client_id=3MVG9client&client_secret=client-secret-1");
            then.status(200).body(token_json("AT-2", None));
        })
        .await;
    let rotated: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = rotated.clone();
    let source = refresh_builder(&server)
        .refresh_token("rt-1")
        .on_refresh_token_rotated(move |rt: SecretString| {
            seen.lock().unwrap().push(rt.expose_secret().to_owned());
        })
        .build()
        .unwrap();

    let t1 = source.token().await.unwrap();
    assert_eq!(t1.secret().expose_secret(), "AT-1");
    assert_eq!(*rotated.lock().unwrap(), vec!["rt-2".to_owned()]);
    assert_eq!(source.current_refresh_token().await.expose_secret(), "rt-2");

    let t2 = source.refresh(&t1).await.unwrap();
    assert_eq!(t2.secret().expose_secret(), "AT-2");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    // The second response carried no refresh token: no further rotation.
    assert_eq!(rotated.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_refreshes_make_one_token_request() {
    let server = MockServer::start_async().await;
    let mock = token_endpoint(&server, 200, &token_json("AT-new", None)).await;
    let source = Arc::new(
        refresh_builder(&server)
            .refresh_token("rt")
            .access_token("AT-old")
            .instance_url(url::Url::parse("https://acme.my.salesforce.com").unwrap())
            .build()
            .unwrap(),
    );
    // The seeded token is served without a request.
    let rejected = source.token().await.unwrap();
    assert_eq!(rejected.secret().expose_secret(), "AT-old");
    mock.assert_calls_async(0).await;

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (source, rejected) = (source.clone(), rejected.clone());
            tokio::spawn(async move { source.refresh(&rejected).await })
        })
        .collect();
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        assert_eq!(token.secret().expose_secret(), "AT-new");
    }
    mock.assert_calls_async(1).await;

    // A late refresh of the old token is a no-op too.
    let late = source.refresh(&rejected).await.unwrap();
    assert_eq!(late.secret().expose_secret(), "AT-new");
    mock.assert_calls_async(1).await;
}

fn client_credentials_source(
    server: &MockServer,
    retry: ProcessingRetry,
) -> ClientCredentialsSource {
    ClientCredentialsSource::builder()
        .login_host(host(server))
        .client_id("cc-client-id")
        .client_secret("cc-secret")
        .processing_retry(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn already_being_processed_is_retried_then_succeeds() {
    let server = MockServer::start_async().await;
    let busy = server
        .mock_async(|when, then| {
            when.method(POST).path(TOKEN_PATH);
            then.status(400).body(BUSY).up_to_n_times(1);
        })
        .await;
    let ok = token_endpoint(&server, 200, &token_json("AT-after-busy", None)).await;
    let token = client_credentials_source(&server, NO_DELAY)
        .token()
        .await
        .unwrap();
    assert_eq!(token.secret().expose_secret(), "AT-after-busy");
    busy.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    assert_eq!(busy.calls_async().await + ok.calls_async().await, 2);
}

#[tokio::test]
async fn already_being_processed_gives_up_after_max_retries() {
    let server = MockServer::start_async().await;
    let busy = token_endpoint(&server, 400, BUSY).await;
    let source = client_credentials_source(
        &server,
        ProcessingRetry {
            max_retries: 2,
            delay: Duration::ZERO,
        },
    );
    let err = source.token().await.unwrap_err();
    assert!(err.is_retryable());
    assert!(err.is_auth());
    busy.assert_calls_async(3).await;
}

#[tokio::test]
async fn refresh_flow_never_resends_its_refresh_token_after_busy() {
    let server = MockServer::start_async().await;
    let busy = token_endpoint(&server, 400, BUSY).await;
    let source = public_refresh_source(
        host(&server),
        "c",
        ProcessingRetry {
            max_retries: 2,
            delay: Duration::ZERO,
        },
    );
    let err = source.token().await.unwrap_err();
    assert!(err.is_retryable());
    assert!(err.is_auth());
    // One request: the same refresh token is not sent again (no store holds a newer one).
    busy.assert_calls_async(1).await;
}

#[tokio::test]
async fn client_credentials_uses_basic_auth_and_minimal_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                // base64("cc-client-id:CC-SECRET-do-not-log")
                .header(
                    "authorization",
                    "Basic Y2MtY2xpZW50LWlkOkNDLVNFQ1JFVC1kby1ub3QtbG9n",
                )
                .body("grant_type=client_credentials");
            then.status(200).body(token_json("AT-cc-1", None));
        })
        .await;
    let source = ClientCredentialsSource::builder()
        .login_host(host(&server))
        .client_id("cc-client-id")
        .client_secret("CC-SECRET-do-not-log")
        .build()
        .unwrap();
    let token = source.token().await.unwrap();
    assert_eq!(token.secret().expose_secret(), "AT-cc-1");
    // A refresh of the current token requests a new one with the same grant.
    source.refresh(&token).await.unwrap();
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn password_grant_sends_exact_form_with_security_token_appended() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .header("content-type", FORM)
                .body("grant_type=password&client_id=pw-client&client_secret=pw-secret&username=user%40example.com&password=p%40ss+wordSECTOKEN");
            then.status(200).body(token_json("AT-pw", None));
        })
        .await;
    let source = PasswordSource::builder()
        .login_host(host(&server))
        .client_id("pw-client")
        .client_secret("pw-secret")
        .username("user@example.com")
        .password("p@ss word")
        .security_token("SECTOKEN")
        .build()
        .unwrap();
    assert_eq!(
        source.token().await.unwrap().secret().expose_secret(),
        "AT-pw"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn static_token_never_calls_the_endpoint() {
    let source = StaticToken::new(
        "STATIC",
        url::Url::parse("https://acme.my.salesforce.com").unwrap(),
    );
    let token = source.token().await.unwrap();
    assert_eq!(token.secret().expose_secret(), "STATIC");
    let err = source.refresh(&token).await.unwrap_err();
    assert!(err.is_auth());
    match err {
        sfdc_rest::Error::Auth { code, .. } => assert_eq!(code, "token_not_refreshable"),
        other => panic!("expected Error::Auth, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_a_transport_error() {
    // Bind and drop a listener to get a loopback port that refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let source = public_refresh_source(
        LoginHost::insecure_loopback_token_url(format!("http://127.0.0.1:{port}{TOKEN_PATH}"))
            .unwrap(),
        "c",
        ProcessingRetry::default(),
    );
    let err = source.token().await.unwrap_err();
    assert!(
        matches!(err, sfdc_rest::Error::Transport { sent: false, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn builders_report_missing_fields() {
    let err = RefreshTokenSource::builder()
        .client_id("c")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("refresh_token"), "{err}");
    let err = PasswordSource::builder()
        .client_id("c")
        .client_secret("s")
        .password("p")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("username"), "{err}");
    let _ = AccessToken::new("unused");
}

#[cfg(feature = "jwt")]
mod jwt {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use sfdc_rest::auth::{JwtBearerSource, JwtBearerSourceBuilder};

    const PRIVATE_KEY: &str = include_str!("../fixtures/auth/throwaway_test_rsa_private_key.pem");
    const PUBLIC_KEY: &str = include_str!("../fixtures/auth/throwaway_test_rsa_public_key.pem");
    const JWT_OK: &str = include_str!("../fixtures/auth/token_jwt_success.json");
    const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    #[derive(serde::Deserialize)]
    struct Claims {
        iss: String,
        sub: String,
        aud: String,
        exp: u64,
    }

    /// A JWT source for `client_id` / `username` signing with the test key, pointed at the mock.
    fn jwt_builder(server: &MockServer, client_id: &str, username: &str) -> JwtBearerSourceBuilder {
        JwtBearerSource::builder()
            .login_host(host(server))
            .client_id(client_id)
            .username(username)
            .private_key_pem(PRIVATE_KEY)
    }

    /// Verifies `assertion` with the test public key and `validation`, returning its claims.
    fn verified_claims(assertion: &str, validation: &Validation) -> Claims {
        let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
        jsonwebtoken::decode::<Claims>(assertion, &key, validation)
            .unwrap()
            .claims
    }

    fn now_secs() -> u64 {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[tokio::test]
    async fn jwt_bearer_assertion_is_signed_with_expected_claims() {
        let server = MockServer::start_async().await;
        let captured: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let sink = captured.clone();
        let mock = server
            .mock_async(move |when, then| {
                when.method(POST)
                    .path(TOKEN_PATH)
                    .header("content-type", FORM)
                    .form_urlencoded_tuple("grant_type", GRANT)
                    .form_urlencoded_tuple_exists("assertion")
                    .is_true(move |req| {
                        let pairs: Vec<(String, String)> =
                            url::form_urlencoded::parse(req.body().as_ref())
                                .into_owned()
                                .collect();
                        *sink.lock().unwrap() = pairs;
                        true
                    });
                then.status(200).body(JWT_OK);
            })
            .await;
        let source = jwt_builder(&server, "3MVG9jwt-consumer-key", "integration@example.com")
            .audience("https://login.salesforce.com")
            .build()
            .unwrap();

        let before = now_secs();
        let token = source.token().await.unwrap();
        let after = now_secs();
        assert_eq!(
            token.secret().expose_secret(),
            "00Dxx0000001gPL!AR8AQ.access-token-from-jwt-bearer"
        );
        mock.assert_calls_async(1).await;

        let pairs = captured.lock().unwrap().clone();
        let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["grant_type", "assertion"]);
        let assertion = &pairs[1].1;

        let header = jsonwebtoken::decode_header(assertion).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["https://login.salesforce.com"]);
        validation.set_issuer(&["3MVG9jwt-consumer-key"]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let claims = verified_claims(assertion, &validation);
        assert_eq!(claims.iss, "3MVG9jwt-consumer-key");
        assert_eq!(claims.sub, "integration@example.com");
        assert_eq!(claims.aud, "https://login.salesforce.com");
        assert!(
            claims.exp >= before + 180,
            "exp {} before {before}",
            claims.exp
        );
        assert!(
            claims.exp <= after + 180,
            "exp {} is more than 3 minutes ahead",
            claims.exp
        );
    }

    #[tokio::test]
    async fn jwt_default_audience_and_custom_lifetime() {
        // Default audience for a sandbox My Domain is test.salesforce.com; checked offline
        // through LoginHost, and the signed claim for an explicit lifetime.
        assert_eq!(
            LoginHost::my_domain("acme--uat.sandbox.my.salesforce.com")
                .unwrap()
                .default_jwt_audience(),
            "https://test.salesforce.com"
        );
        let server = MockServer::start_async().await;
        let captured: Arc<Mutex<String>> = Arc::default();
        let sink = captured.clone();
        server
            .mock_async(move |when, then| {
                when.method(POST).path(TOKEN_PATH).is_true(move |req| {
                    *sink.lock().unwrap() = url::form_urlencoded::parse(req.body().as_ref())
                        .find(|(k, _)| k == "assertion")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    true
                });
                then.status(200).body(JWT_OK);
            })
            .await;
        let source = jwt_builder(&server, "id", "u@example.com")
            .assertion_lifetime(Duration::from_secs(60))
            .build()
            .unwrap();
        let before = now_secs();
        source.token().await.unwrap();
        let after = now_secs();
        let assertion = captured.lock().unwrap().clone();
        let mut validation = Validation::new(Algorithm::RS256);
        // Default audience of an explicit token URL is its origin.
        validation.set_audience(&[server.base_url()]);
        let claims = verified_claims(&assertion, &validation);
        assert!(claims.exp >= before + 60 && claims.exp <= after + 60);
    }
}
