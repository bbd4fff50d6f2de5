//! The refresh-token source with a token store: stored tokens win, rotations are saved, the
//! concurrent-refresh races are retryable and never make it resend a spent refresh token.
//! Counts which refresh token each token request carried (httpmock) and, against the emulator
//! with rotation on, that no spent token is ever presented (which revokes the grant).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::Method::POST;
use httpmock::{Mock, MockServer};
use secrecy::{ExposeSecret, SecretString};
use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_rest::auth::{
    FileTokenStore, LoginHost, ProcessingRetry, RefreshTokenSource, TokenSource, TokenStore,
};

const TOKEN_PATH: &str = "/services/oauth2/token";
const BUSY: &str =
    r#"{"error":"invalid_grant","error_description":"token request is already being processed"}"#;
const EXPIRED_CODE: &str =
    r#"{"error":"invalid_grant","error_description":"expired authorization code"}"#;
const NO_DELAY: ProcessingRetry = ProcessingRetry {
    max_retries: 3,
    delay: Duration::ZERO,
};

/// A store that answers `load` from a script (the last entry repeats) and records saves: it
/// stands for another process writing the shared store between our requests.
#[derive(Debug, Default)]
struct ScriptedStore {
    loads: Mutex<Vec<Option<&'static str>>>,
    saved: Mutex<Vec<String>>,
}

impl ScriptedStore {
    fn new(loads: &[Option<&'static str>]) -> Arc<Self> {
        let mut script = loads.to_vec();
        script.reverse();
        Arc::new(Self {
            loads: Mutex::new(script),
            saved: Mutex::default(),
        })
    }

    fn saved(&self) -> Vec<String> {
        self.saved.lock().unwrap().clone()
    }
}

impl TokenStore for ScriptedStore {
    fn load(&self) -> sfdc_rest::Result<Option<SecretString>> {
        let mut loads = self.loads.lock().unwrap();
        let next = if loads.len() > 1 {
            loads.pop().flatten()
        } else {
            loads.last().copied().flatten()
        };
        Ok(next.map(|t| SecretString::from(t.to_owned())))
    }

    fn save(&self, token: &SecretString) -> sfdc_rest::Result<()> {
        self.saved
            .lock()
            .unwrap()
            .push(token.expose_secret().to_owned());
        Ok(())
    }
}

fn source(server: &MockServer, store: Arc<dyn TokenStore>) -> RefreshTokenSource {
    RefreshTokenSource::builder()
        .login_host(LoginHost::insecure_loopback_token_url(server.url(TOKEN_PATH)).unwrap())
        .client_id("cid")
        .refresh_token("rt-configured")
        .token_store(store)
        .processing_retry(NO_DELAY)
        .build()
        .unwrap()
}

fn token_json(access: &str, rotated: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "access_token": access,
        "instance_url": "https://acme.my.salesforce.com",
        "token_type": "Bearer",
    });
    if let Some(rt) = rotated {
        body["refresh_token"] = rt.into();
    }
    body.to_string()
}

/// A token endpoint answering requests that carry `refresh_token` with `status` / `body`.
async fn answer<'a>(
    server: &'a MockServer,
    refresh_token: &str,
    status: u16,
    body: &str,
) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(TOKEN_PATH)
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", refresh_token);
            then.status(status)
                .header("content-type", "application/json")
                .body(body);
        })
        .await
}

#[tokio::test]
async fn both_races_without_a_newer_token_are_retryable_and_send_the_token_once() {
    for race in [BUSY, EXPIRED_CODE] {
        let server = MockServer::start_async().await;
        let first = answer(&server, "rt-1", 400, race).await;
        let configured = answer(&server, "rt-configured", 200, &token_json("AT", None)).await;
        let store = ScriptedStore::new(&[Some("rt-1")]);
        let err = source(&server, store.clone()).token().await.unwrap_err();
        assert!(err.is_auth(), "{err}");
        assert!(err.is_retryable(), "{race}: {err}");
        // The stored token won over the configured one, and was sent exactly once.
        first.assert_calls_async(1).await;
        configured.assert_calls_async(0).await;
        assert!(store.saved().is_empty());
    }
}

#[tokio::test]
async fn a_race_with_a_newer_stored_token_tries_once_with_it() {
    let server = MockServer::start_async().await;
    let first = answer(&server, "rt-1", 400, EXPIRED_CODE).await;
    let second = answer(&server, "rt-2", 200, &token_json("AT-2", Some("rt-3"))).await;
    // build, before the request, after the race: another process saved rt-2 meanwhile.
    let store = ScriptedStore::new(&[Some("rt-1"), Some("rt-1"), Some("rt-2"), Some("rt-3")]);
    let src = source(&server, store.clone());
    let token = src.token().await.unwrap();
    assert_eq!(token.secret().expose_secret(), "AT-2");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    assert_eq!(store.saved(), vec!["rt-3".to_owned()]);
    assert_eq!(src.current_refresh_token().await.expose_secret(), "rt-3");
}

#[tokio::test]
async fn a_second_race_with_the_newer_token_is_not_retried_again() {
    let server = MockServer::start_async().await;
    let first = answer(&server, "rt-1", 400, BUSY).await;
    let second = answer(&server, "rt-2", 400, BUSY).await;
    let store = ScriptedStore::new(&[Some("rt-1"), Some("rt-1"), Some("rt-2"), Some("rt-3")]);
    let err = source(&server, store).token().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_stale_store_never_makes_it_resend_a_spent_token() {
    let server = MockServer::start_async().await;
    let first = answer(&server, "rt-1", 200, &token_json("AT-1", Some("rt-2"))).await;
    let second = answer(&server, "rt-2", 200, &token_json("AT-2", Some("rt-3"))).await;
    // The store keeps answering rt-1 (its writes were lost): rt-1 is spent after the first
    // refresh and must not come back.
    let store = ScriptedStore::new(&[Some("rt-1")]);
    let src = source(&server, store.clone());
    let t1 = src.token().await.unwrap();
    let t2 = src.refresh(&t1).await.unwrap();
    assert_eq!(t2.secret().expose_secret(), "AT-2");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    assert_eq!(store.saved(), vec!["rt-2".to_owned(), "rt-3".to_owned()]);
}

#[tokio::test]
async fn other_invalid_grants_stay_permanent() {
    let server = MockServer::start_async().await;
    let revoked = answer(
        &server,
        "rt-1",
        400,
        r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
    )
    .await;
    let store = ScriptedStore::new(&[Some("rt-1"), Some("rt-1"), Some("rt-2")]);
    let err = source(&server, store).token().await.unwrap_err();
    assert!(err.is_auth());
    assert!(!err.is_retryable(), "{err}");
    revoked.assert_calls_async(1).await;
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfdc-rest-race-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn emulator_source(
    emu: &Emulator,
    store: &Arc<FileTokenStore>,
    configured: &str,
) -> RefreshTokenSource {
    RefreshTokenSource::builder()
        .login_host(LoginHost::insecure_loopback_token_url(emu.token_url()).unwrap())
        .client_id(emu.config().client_id.clone())
        .client_secret(emu.config().client_secret.clone())
        .refresh_token(configured.to_owned())
        .token_store(store.clone())
        .processing_retry(NO_DELAY)
        .build()
        .unwrap()
}

/// Two processes (two sources) share one file store against an org that rotates refresh
/// tokens; each refreshes in turn. Without the store re-read, the second would present the token
/// the first already spent and Salesforce would revoke the grant.
#[tokio::test]
async fn sources_sharing_a_file_store_never_present_a_spent_token() {
    let mut config = EmulatorConfig::default();
    config.rotate_refresh_tokens = true;
    let emu = Emulator::start(config).await.unwrap();
    let dir = temp_dir("shared");
    let store = Arc::new(FileTokenStore::new(dir.join("refresh_token")));
    let initial = emu.refresh_token();
    let a = emulator_source(&emu, &store, &initial);
    let b = emulator_source(&emu, &store, &initial);
    let mut tokens = Vec::new();
    for round in 0..3 {
        for source in [&a, &b] {
            let current = source.token().await.unwrap();
            let fresh = source.refresh(&current).await.unwrap();
            tokens.push(fresh);
            assert_eq!(emu.refresh_token_reuses(), 0, "round {round}");
        }
    }
    // Each refresh rotated: the store holds the org's newest token, and it still works.
    assert_eq!(
        store.load().unwrap().unwrap().expose_secret(),
        emu.refresh_token()
    );
    let restarted = emulator_source(&emu, &store, &initial);
    restarted.token().await.unwrap();
    assert_eq!(emu.refresh_token_reuses(), 0);
    assert_eq!(tokens.len(), 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The model the test above relies on: presenting a spent token revokes the grant.
#[tokio::test]
async fn without_a_store_the_second_process_would_revoke_the_grant() {
    let mut config = EmulatorConfig::default();
    config.rotate_refresh_tokens = true;
    let emu = Emulator::start(config).await.unwrap();
    let dir = temp_dir("unshared");
    let initial = emu.refresh_token();
    let a = emulator_source(
        &emu,
        &Arc::new(FileTokenStore::new(dir.join("a"))),
        &initial,
    );
    let b = emulator_source(
        &emu,
        &Arc::new(FileTokenStore::new(dir.join("b"))),
        &initial,
    );
    a.token().await.unwrap();
    let err = b.token().await.unwrap_err();
    assert!(err.is_auth());
    assert!(!err.is_retryable());
    assert_eq!(emu.refresh_token_reuses(), 1);
    let current = a.token().await.unwrap();
    assert!(a.refresh(&current).await.is_err(), "the grant is revoked");
    std::fs::remove_dir_all(&dir).unwrap();
}
