//! OAuth token endpoint and API authentication.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sfdc_emulator::EmulatorConfig;
use support::{assert_json, into_resp, start, start_with};

async fn token(ctx: &support::Ctx, form: &[(&str, &str)]) -> support::Resp {
    into_resp(
        ctx.http
            .post(ctx.emu.token_url())
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn password_grant_returns_salesforce_token_shape() {
    let ctx = start().await;
    let c = ctx.emu.config().clone();
    let r = token(
        &ctx,
        &[
            ("grant_type", "password"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("username", &c.username),
            ("password", &c.password),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_json(&r);
    let b = &r.body;
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["instance_url"], json!(ctx.emu.instance_url()));
    assert!(b.get("refresh_token").is_none());
    let id = b["id"].as_str().unwrap();
    let parts: Vec<&str> = id.rsplitn(4, '/').collect();
    assert!(parts[1].starts_with("00D") && parts[1].len() == 18, "{id}");
    assert!(parts[0].starts_with("005") && parts[0].len() == 18, "{id}");
    assert_eq!(parts[2], "id");
    let issued = b["issued_at"].as_str().unwrap();
    assert_eq!(issued.len(), 13);
    assert!(issued.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(
        STANDARD
            .decode(b["signature"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );

    // The token works, and token calls are counted apart from API calls.
    let mut ctx = ctx;
    ctx.token = b["access_token"].as_str().unwrap().to_owned();
    assert_eq!(ctx.get("limits").await.status, 200);
    assert_eq!(ctx.emu.token_requests(), 1);
    assert_eq!(ctx.emu.api_calls(), 1);
}

#[tokio::test]
async fn bad_grants_are_400_with_oauth_error_body() {
    let ctx = start().await;
    let c = ctx.emu.config().clone();
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            vec![
                ("grant_type", "password"),
                ("client_id", &c.client_id),
                ("client_secret", &c.client_secret),
                ("username", &c.username),
                ("password", "wrong"),
            ],
            "invalid_grant",
            "authentication failure",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", "nope"),
                ("client_secret", "x"),
            ],
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &c.client_id),
                ("client_secret", "bad"),
            ],
            "invalid_client",
            "invalid client credentials",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", &c.client_id),
                ("refresh_token", "unknown"),
            ],
            "invalid_grant",
            "expired access/refresh token",
        ),
        (
            vec![("grant_type", "authorization_magic")],
            "unsupported_grant_type",
            "grant type not supported",
        ),
    ];
    for (form, error, description) in cases {
        let r = token(&ctx, &form).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_json(&r);
        assert_eq!(
            r.body,
            json!({"error": error, "error_description": description})
        );
    }
    assert_eq!(ctx.emu.token_requests(), 5);
    assert_eq!(ctx.emu.api_calls(), 0);
}

#[tokio::test]
async fn refresh_and_client_credentials_grants() {
    let ctx = start().await;
    let c = ctx.emu.config().clone();
    let rt = ctx.emu.refresh_token();
    let r = token(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body.get("refresh_token").is_none(),
        "no rotation by default"
    );
    // Same refresh token keeps working without rotation.
    let r = token(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(r.status, 200);

    // client_credentials with HTTP Basic.
    let r = into_resp(
        ctx.http
            .post(ctx.emu.token_url())
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["access_token"].as_str().unwrap().starts_with("00D"));
}

#[tokio::test]
async fn refresh_token_rotation_invalidates_the_used_token_and_reuse_revokes_the_grant() {
    let mut cfg = EmulatorConfig::default();
    cfg.rotate_refresh_tokens = true;
    let ctx = start_with(cfg).await;
    let c = ctx.emu.config().clone();
    let old = ctx.emu.refresh_token();
    let r = token(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("refresh_token", &old),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    let new = r.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(ctx.emu.refresh_token(), new);
    let r = token(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("refresh_token", &old),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_grant");
    // Reusing the invalidated token revoked the grant: the newest token is dead too.
    assert_eq!(ctx.emu.refresh_token_reuses(), 1);
    let r = token(
        &ctx,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("refresh_token", &new),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_grant");
}

fn jwt(claims: &Value) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{h}.{c}.c2ln")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn jwt_bearer_checks_claims_without_a_key() {
    let ctx = start().await;
    let c = ctx.emu.config().clone();
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let good = json!({"iss": c.client_id, "sub": c.username, "aud": "https://login.salesforce.com", "exp": now() + 170});
    let r = token(&ctx, &[("grant_type", grant), ("assertion", &jwt(&good))]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("refresh_token").is_none());
    assert_eq!(r.body["token_type"], "Bearer");

    let mut bad_aud = good.clone();
    bad_aud["aud"] = json!("https://example.com");
    let r = token(
        &ctx,
        &[("grant_type", grant), ("assertion", &jwt(&bad_aud))],
    )
    .await;
    assert_eq!(
        r.body,
        json!({"error":"invalid_grant","error_description":"audience is invalid"})
    );

    let mut far = good.clone();
    far["exp"] = json!(now() + 3600);
    let r = token(&ctx, &[("grant_type", grant), ("assertion", &jwt(&far))]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_grant");

    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("other-app");
    let r = token(
        &ctx,
        &[("grant_type", grant), ("assertion", &jwt(&wrong_iss))],
    )
    .await;
    assert_eq!(r.body["error"], "invalid_client_id");

    let r = token(&ctx, &[("grant_type", grant), ("assertion", "not-a-jwt")]).await;
    assert_eq!(r.body["error_description"], "invalid assertion");
}

#[tokio::test]
async fn jwt_bearer_verifies_the_signature_when_a_key_is_configured() {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut cfg = EmulatorConfig::default();
    cfg.jwt_public_key_pem = Some(key.public_key_pem());
    let ctx = start_with(cfg).await;
    let c = ctx.emu.config().clone();
    let claims = json!({"iss": c.client_id, "sub": c.username, "aud": "https://test.salesforce.com", "exp": now() + 120});
    let enc = jsonwebtoken::EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes()).unwrap();
    let signed = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &enc,
    )
    .unwrap();
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let r = token(&ctx, &[("grant_type", grant), ("assertion", &signed)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Same claims, forged signature.
    let r = token(&ctx, &[("grant_type", grant), ("assertion", &jwt(&claims))]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_description"], "invalid assertion");
}

#[tokio::test]
async fn api_auth_errors_are_401_json_arrays() {
    let ctx = start().await;
    let url = ctx.url("limits");
    let r = into_resp(ctx.http.get(&url).send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    assert_json(&r);
    assert_eq!(
        r.body,
        json!([{"message":"INVALID_HEADER_TYPE","errorCode":"INVALID_AUTH_HEADER"}])
    );
    let r = into_resp(
        ctx.http
            .get(&url)
            .header("authorization", "Basic abc")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.error_code(), "INVALID_AUTH_HEADER");
    let r = into_resp(
        ctx.http
            .get(&url)
            .bearer_auth("00Dnope!AQxyz")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])
    );
    // `OAuth <token>` is accepted like Bearer.
    let r = into_resp(
        ctx.http
            .get(&url)
            .header("authorization", format!("OAuth {}", ctx.token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    // Only the authorised call counted.
    assert_eq!(ctx.emu.api_calls(), 1);
}

#[tokio::test]
async fn tokens_expire_after_the_configured_ttl() {
    let mut cfg = EmulatorConfig::default();
    cfg.token_ttl = Some(Duration::ZERO);
    let ctx = start_with(cfg).await;
    let r = ctx.get("limits").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "INVALID_SESSION_ID");
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let ctx = start().await;
    assert_eq!(ctx.get("limits").await.status, 200);
    ctx.emu.expire_tokens();
    assert_eq!(ctx.get("limits").await.error_code(), "INVALID_SESSION_ID");
    let fresh = ctx.emu.access_token();
    assert_ne!(fresh, ctx.token);
}

#[tokio::test]
async fn debug_output_contains_no_secrets() {
    let mut cfg = EmulatorConfig::default();
    cfg.client_secret = "top-secret-value".into();
    cfg.password = "hunter2-password".into();
    cfg.refresh_token = "refresh-secret-value".into();
    let ctx = start_with(cfg).await;
    let shown = format!("{:?} {:?}", ctx.emu, ctx.emu.config());
    for secret in [
        "top-secret-value",
        "hunter2-password",
        "refresh-secret-value",
        ctx.token.as_str(),
    ] {
        assert!(!shown.contains(secret), "Debug leaks {secret}: {shown}");
    }
    assert!(shown.contains("emulator-client-id"));
}

/// RFC 7636 appendix B: the S256 challenge of this verifier.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Calls `/services/oauth2/authorize` without following the redirect; returns the
/// `Location` query parameters.
async fn authorize(ctx: &support::Ctx, params: &[(&str, &str)]) -> (u16, Vec<(String, String)>) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!(
            "{}/services/oauth2/authorize",
            ctx.emu.instance_url()
        ))
        .query(params)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    (status, serde_urlencoded::from_str(query).unwrap())
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn authorization_code_flow_with_pkce() {
    let ctx = start().await;
    let client_id = ctx.emu.config().client_id.clone();
    let redirect = "http://localhost:1717/callback";
    let (status, params) = authorize(
        &ctx,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", redirect),
            ("state", "xyz 1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(status, 302);
    assert_eq!(param(&params, "state"), Some("xyz 1"));
    let code = param(&params, "code").unwrap().to_owned();

    // Redeem with the verifier whose S256 hash is the challenge.
    let exchange = |code: String, verifier: &'static str| {
        let ctx = &ctx;
        let client_id = client_id.clone();
        async move {
            token(
                ctx,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", &client_id),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let r = exchange(code.clone(), VERIFIER).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["access_token"].is_string());
    assert_eq!(r.body["refresh_token"], json!(ctx.emu.refresh_token()));
    let api = ctx
        .http
        .get(format!(
            "{}/services/data/v62.0/limits",
            ctx.emu.instance_url()
        ))
        .bearer_auth(r.body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 200);

    // A code is redeemable once.
    let r = exchange(code, VERIFIER).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!({"error": "invalid_grant", "error_description": "expired authorization code"})
    );

    // A verifier that does not hash to the challenge.
    let (_, params) = authorize(
        &ctx,
        &[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", redirect),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let r = exchange(
        param(&params, "code").unwrap().to_owned(),
        "not-the-verifier",
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let r = exchange("never-issued".into(), VERIFIER).await;
    assert_eq!(r.body["error_description"], "expired authorization code");

    // Unknown client: no redirect.
    let (status, _) = authorize(
        &ctx,
        &[
            ("response_type", "code"),
            ("client_id", "nope"),
            ("redirect_uri", redirect),
        ],
    )
    .await;
    assert_eq!(status, 400);
}
