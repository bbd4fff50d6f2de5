//! Secrets never appear in `Debug`/`Display` output of auth types and errors, nor in tracing output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use httpmock::Method::POST;
use httpmock::MockServer;
use secrecy::ExposeSecret;
use sfdc_rest::auth::{
    AccessToken, ClientCredentialsSource, LoginHost, PasswordSource, ProcessingRetry,
    RefreshTokenSource, StaticToken, TokenSource,
};

const TOKEN_PATH: &str = "/services/oauth2/token";
const BUSY: &str = include_str!("fixtures/auth/error_already_processing.json");
const INVALID_GRANT: &str = include_str!("fixtures/auth/error_invalid_grant.json");
const PRIVATE_KEY: &str = include_str!("fixtures/auth/throwaway_test_rsa_private_key.pem");

// Every secret used below; none may show up in any formatted output or log line.
const CLIENT_SECRET: &str = "SECRET-client-secret-7f3a";
const REFRESH_TOKEN: &str = "SECRET-refresh-token-1b9c";
const ROTATED_REFRESH_TOKEN: &str = "SECRET-rotated-refresh-2d4e";
const ACCESS_TOKEN: &str = "SECRET-access-token-00Dxx!AQ";
const SEEDED_ACCESS_TOKEN: &str = "SECRET-seeded-access-5e6f";
const PASSWORD: &str = "SECRET-password-8a8a";
const SECURITY_TOKEN: &str = "SECRET-security-token-9b9b";

fn secrets() -> Vec<String> {
    let key_line = PRIVATE_KEY.lines().nth(5).unwrap();
    [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ROTATED_REFRESH_TOKEN,
        ACCESS_TOKEN,
        SEEDED_ACCESS_TOKEN,
        PASSWORD,
        SECURITY_TOKEN,
        // The common prefix of every secret above: catches partial or combined values
        // (e.g. password + security token).
        "SECRET-",
        // A JWT (header `{"typ":"JWT",...}` base64url-encoded starts with this).
        "eyJ",
        // A line from the middle of the private key body.
        key_line,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn assert_clean(what: &str, text: &str) {
    for secret in secrets() {
        assert!(!text.contains(&secret), "{what} leaks {secret:?}:\n{text}");
    }
}

fn token_body(access: &str, refresh: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "access_token": access,
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
    });
    if let Some(rt) = refresh {
        body["refresh_token"] = rt.into();
    }
    body.to_string()
}

const NO_DELAY: ProcessingRetry = ProcessingRetry {
    max_retries: 1,
    delay: Duration::ZERO,
};

/// Runs every flow through success, rotation, retry and failure paths, collecting `Debug` and
/// `Display` output of everything involved along the way.
async fn exercise_all_flows(server: &MockServer, shown: &mut Vec<String>) {
    let host = LoginHost::insecure_loopback_token_url(server.url(TOKEN_PATH)).unwrap();

    // Refresh-token flow: seeded access token, rotation on refresh, then a failing refresh.
    let rotate = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("refresh_token", REFRESH_TOKEN);
            then.status(200)
                .body(token_body(ACCESS_TOKEN, Some(ROTATED_REFRESH_TOKEN)));
        })
        .await;
    let rotated_seen: Arc<Mutex<Option<String>>> = Arc::default();
    let sink = rotated_seen.clone();
    let builder = RefreshTokenSource::builder()
        .login_host(host.clone())
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .refresh_token(REFRESH_TOKEN)
        .access_token(SEEDED_ACCESS_TOKEN)
        .instance_url(url::Url::parse("https://acme.my.salesforce.com").unwrap())
        .processing_retry(NO_DELAY)
        .on_refresh_token_rotated(move |rt| {
            *sink.lock().unwrap() = Some(rt.expose_secret().to_owned());
        });
    shown.push(format!("{builder:?}"));
    let source = builder.build().unwrap();
    shown.push(format!("{source:?}"));
    let seeded = source.token().await.unwrap();
    shown.push(format!("{seeded:?}"));
    let fresh = source.refresh(&seeded).await.unwrap();
    shown.push(format!("{fresh:?} {source:?}"));
    assert_eq!(fresh.secret().expose_secret(), ACCESS_TOKEN);
    assert_eq!(
        rotated_seen.lock().unwrap().as_deref(),
        Some(ROTATED_REFRESH_TOKEN)
    );
    rotate.assert_calls_async(1).await;

    // Now the rotated token is rejected; then "already being processed" is not resent.
    let rejected = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("refresh_token", ROTATED_REFRESH_TOKEN)
                .form_urlencoded_tuple("client_id", "client-id");
            then.status(400).body(INVALID_GRANT).up_to_n_times(1);
        })
        .await;
    let err = source.refresh(&fresh).await.unwrap_err();
    shown.push(format!("{err} {err:?}"));
    rejected.assert_calls_async(1).await;
    let busy = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("refresh_token", ROTATED_REFRESH_TOKEN);
            then.status(400).body(BUSY);
        })
        .await;
    let err = source.refresh(&fresh).await.unwrap_err();
    assert!(err.is_retryable());
    shown.push(format!("{err} {err:?}"));
    busy.assert_calls_async(1).await;

    // Password flow.
    let pw = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "password");
            then.status(200).body(token_body(ACCESS_TOKEN, None));
        })
        .await;
    let builder = PasswordSource::builder()
        .login_host(host.clone())
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .username("user@example.com")
        .password(PASSWORD)
        .security_token(SECURITY_TOKEN);
    shown.push(format!("{builder:?}"));
    let source = builder.build().unwrap();
    let token = source.token().await.unwrap();
    shown.push(format!("{source:?} {token:?}"));
    pw.assert_calls_async(1).await;

    // Client credentials flow, failing with a 401.
    let cc = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "client_credentials");
            then.status(401).body(
                r#"{"error":"invalid_client","error_description":"invalid client credentials"}"#,
            );
        })
        .await;
    let builder = ClientCredentialsSource::builder()
        .login_host(host.clone())
        .client_id("client-id")
        .client_secret(CLIENT_SECRET);
    shown.push(format!("{builder:?}"));
    let source = builder.build().unwrap();
    let err = source.token().await.unwrap_err();
    shown.push(format!("{source:?} {err} {err:?}"));
    cc.assert_calls_async(1).await;

    // Config errors built from secret-bearing builders.
    let err = ClientCredentialsSource::builder()
        .client_id("client-id")
        .client_secret(CLIENT_SECRET)
        .build()
        .unwrap_err();
    shown.push(format!("{err} {err:?}"));

    // Static token.
    let source = StaticToken::new(
        ACCESS_TOKEN,
        url::Url::parse("https://acme.my.salesforce.com").unwrap(),
    );
    let token = source.token().await.unwrap();
    let err = source.refresh(&token).await.unwrap_err();
    shown.push(format!("{source:?} {token:?} {err} {err:?}"));
    shown.push(format!("{:?}", AccessToken::new(ACCESS_TOKEN)));
    shown.push(format!("{host} {host:?} {NO_DELAY:?}"));

    #[cfg(feature = "jwt")]
    {
        use sfdc_rest::auth::JwtBearerSource;
        let jwt = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path(TOKEN_PATH)
                    .form_urlencoded_tuple_exists("assertion");
                then.status(200).body(token_body(ACCESS_TOKEN, None));
            })
            .await;
        let builder = JwtBearerSource::builder()
            .login_host(host.clone())
            .client_id("client-id")
            .username("user@example.com")
            .private_key_pem(PRIVATE_KEY);
        shown.push(format!("{builder:?}"));
        let source = builder.build().unwrap();
        let token = source.token().await.unwrap();
        shown.push(format!("{source:?} {token:?}"));
        jwt.assert_calls_async(1).await;
        let err = JwtBearerSource::builder()
            .client_id("client-id")
            .username("user@example.com")
            .private_key_pem(PRIVATE_KEY.replace("PRIVATE KEY", "GARBAGE"))
            .build()
            .unwrap_err();
        shown.push(format!("{err} {err:?}"));
    }
}

#[tokio::test]
async fn debug_and_display_never_show_secrets() {
    capture();
    let server = MockServer::start_async().await;
    let mut shown = Vec::new();
    exercise_all_flows(&server, &mut shown).await;
    assert!(shown.len() >= 15, "expected every type to be formatted");
    for text in &shown {
        assert_clean("formatted output", text);
    }
    // The formatting actually happened, and redacts rather than omits.
    assert!(shown.iter().any(|s| s.contains("REDACTED")));
    assert!(shown.iter().any(|s| s.contains("invalid_grant")));
}

/// A `MakeWriter` that appends every log line to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per test binary) a global TRACE subscriber writing into a shared buffer.
///
/// Global rather than thread-scoped: tracing caches per-callsite interest, so a scoped subscriber
/// can miss events whose callsites were first hit by another test thread.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace,httpmock=off"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

#[tokio::test]
async fn tracing_output_never_shows_secrets() {
    let capture = capture();
    let server = MockServer::start_async().await;
    let mut shown = Vec::new();
    exercise_all_flows(&server, &mut shown).await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // The capture works: our spans and events are in it.
    assert!(logs.contains("sfdc_rest::auth::refresh"), "{logs}");
    assert!(logs.contains("token endpoint answered"), "{logs}");
    assert!(logs.contains("rotated the refresh token"), "{logs}");
    assert!(logs.contains("already being processed"), "{logs}");
    assert_clean("tracing output", &logs);
}
