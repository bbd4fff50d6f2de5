//! `POST /services/oauth2/token` (refresh_token, password, client_credentials, JWT
//! bearer and authorization_code grants) and `POST /services/oauth2/revoke`. Token calls are not API calls.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::error::json_response;
use crate::state::AppState;

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Audiences accepted in JWT assertions (besides the emulator's own instance URL).
const JWT_AUDIENCES: [&str; 2] = [
    "https://login.salesforce.com",
    "https://test.salesforce.com",
];

pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({"error": error, "error_description": description}),
    )
}

fn bad_grant(description: &str) -> Response {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Client credentials from the form or HTTP Basic.
fn client_credentials<'a>(
    form: &'a HashMap<String, String>,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        && let Some((id, secret)) = basic.split_once(':')
    {
        return (Some(id.to_owned()), Some(secret.to_owned()));
    }
    let get = |k: &str| form.get(k).cloned();
    let _: &'a HashMap<String, String> = form;
    (get("client_id"), get("client_secret"))
}

/// Checks the client; `secret_required` for confidential flows.
fn check_client(
    state: &AppState,
    id: Option<&str>,
    secret: Option<&str>,
    secret_required: bool,
) -> Result<(), Box<Response>> {
    let cfg = state.config();
    match id {
        Some(id) if id == cfg.client_id => {}
        _ => {
            return Err(Box::new(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_client_id",
                "client identifier invalid",
            )));
        }
    }
    match secret {
        Some(s) if s == cfg.client_secret => Ok(()),
        None if !secret_required => Ok(()),
        _ => Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "invalid client credentials",
        ))),
    }
}

fn signature(id_url: &str, issued_at: &str, secret: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
    ctx.update(id_url.as_bytes());
    ctx.update(issued_at.as_bytes());
    STANDARD.encode(ctx.sign().as_ref())
}

fn token_response(
    state: &AppState,
    refresh_token: Option<String>,
    with_signature: bool,
) -> Response {
    let access = state.issue_token();
    let instance = state.instance_url().to_owned();
    let id_url = format!(
        "{instance}/id/{}/{}",
        state.shared.org_id, state.shared.user_id
    );
    let issued_at = chrono::Utc::now().timestamp_millis().to_string();
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), Value::String(access));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), Value::String(rt));
    }
    if with_signature {
        body.insert(
            "signature".into(),
            Value::String(signature(
                &id_url,
                &issued_at,
                &state.config().client_secret,
            )),
        );
    }
    body.insert("scope".into(), Value::String("api refresh_token".into()));
    body.insert("instance_url".into(), Value::String(instance));
    body.insert("id".into(), Value::String(id_url));
    body.insert("token_type".into(), Value::String("Bearer".into()));
    body.insert("issued_at".into(), Value::String(issued_at));
    json_response(StatusCode::OK, Value::Object(body))
}

/// `POST /services/oauth2/token`.
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.count_token_request();
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        "password" => {
            let (id, secret) = client_credentials(&form, &headers);
            if let Err(r) = check_client(&state, id.as_deref(), secret.as_deref(), true) {
                return *r;
            }
            let cfg = state.config();
            let ok = form.get("username") == Some(&cfg.username)
                && form.get("password") == Some(&cfg.password);
            if !ok {
                return bad_grant("authentication failure");
            }
            token_response(&state, None, true)
        }
        "refresh_token" => {
            let (id, secret) = client_credentials(&form, &headers);
            if let Err(r) = check_client(&state, id.as_deref(), secret.as_deref(), false) {
                return *r;
            }
            let Some(rt) = form.get("refresh_token") else {
                return bad_grant("expired access/refresh token");
            };
            if !state.refresh_token_valid(rt) {
                // With rotation, presenting an invalidated refresh token again revokes the
                // current refresh token and its access tokens (Salesforce Help, "Refresh Token
                // Rotation": reuse of an invalidated token revokes the grant).
                if state.refresh_token_spent(rt) {
                    state.revoke_refresh_grant();
                }
                return bad_grant("expired access/refresh token");
            }
            let rotated = state
                .config()
                .rotate_refresh_tokens
                .then(|| state.rotate_refresh_token(rt));
            token_response(&state, rotated, true)
        }
        "authorization_code" => {
            let (id, secret) = client_credentials(&form, &headers);
            // A PKCE client may omit the secret; the verifier then proves possession.
            let pkce = form.contains_key("code_verifier");
            if let Err(r) = check_client(&state, id.as_deref(), secret.as_deref(), !pkce) {
                return *r;
            }
            let grant = form
                .get("code")
                .and_then(|c| state.take_code(c))
                .filter(|g| g.issued.elapsed() < super::oauth_code::CODE_TTL);
            let Some(grant) = grant else {
                return bad_grant("expired authorization code");
            };
            if form.get("redirect_uri") != Some(&grant.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                );
            }
            if !super::oauth_code::verifier_matches(
                &grant,
                form.get("code_verifier").map(String::as_str),
            ) {
                return bad_grant("invalid code verifier");
            }
            token_response(&state, Some(state.current_refresh_token()), true)
        }
        "client_credentials" => {
            let (id, secret) = client_credentials(&form, &headers);
            if let Err(r) = check_client(&state, id.as_deref(), secret.as_deref(), true) {
                return *r;
            }
            token_response(&state, None, true)
        }
        JWT_GRANT => match form.get("assertion") {
            Some(a) => match check_assertion(&state, a) {
                Ok(()) => token_response(&state, None, false),
                Err(r) => *r,
            },
            None => oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "assertion is required",
            ),
        },
        "" => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type not supported",
        ),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type not supported",
        ),
    }
}

fn decode_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Checks a JWT bearer assertion: RS256 header; `iss` = client id; `sub` (or `prn`) =
/// username; `aud` = login/test.salesforce.com or the instance URL; `exp` in the future
/// and at most 3 minutes (plus 60 s leeway) ahead. The signature is verified only when
/// `jwt_public_key_pem` is configured.
fn check_assertion(state: &AppState, assertion: &str) -> Result<(), Box<Response>> {
    let invalid = || Box::new(bad_grant("invalid assertion"));
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let header = decode_part(h).ok_or_else(invalid)?;
    let claims = decode_part(c).ok_or_else(invalid)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(Box::new(bad_grant(
            "invalid assertion: algorithm must be RS256",
        )));
    }
    let cfg = state.config();
    if claims.get("iss").and_then(Value::as_str) != Some(cfg.client_id.as_str()) {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_id",
            "client identifier invalid",
        )));
    }
    let sub = claims
        .get("prn")
        .or_else(|| claims.get("sub"))
        .and_then(Value::as_str);
    if sub != Some(cfg.username.as_str()) {
        return Err(Box::new(bad_grant("user hasn't approved this consumer")));
    }
    let instance = state.instance_url();
    let aud_ok = |a: &str| {
        let a = a.trim_end_matches('/');
        JWT_AUDIENCES.contains(&a) || a == instance
    };
    let aud_valid = match claims.get("aud") {
        Some(Value::String(a)) => aud_ok(a),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(aud_ok),
        _ => false,
    };
    if !aud_valid {
        return Err(Box::new(bad_grant("audience is invalid")));
    }
    let now = chrono::Utc::now().timestamp();
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now && exp <= now + 240 => {}
        Some(exp) if exp <= now => return Err(Box::new(bad_grant("expired authorization code"))),
        _ => return Err(invalid()),
    }
    if let Some(pem) = &cfg.jwt_public_key_pem {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
            Box::new(bad_grant(
                "invalid assertion: the configured public key is not an RSA PEM",
            ))
        })?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|_| invalid())?;
    }
    Ok(())
}

/// `POST /services/oauth2/revoke` with `token=`: revokes an access or refresh token.
pub(crate) async fn revoke(State(state): State<AppState>, body: Bytes) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    match form.get("token") {
        Some(t) => {
            state.revoke_token(t);
            StatusCode::OK.into_response()
        }
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            "this token type is not supported",
        ),
    }
}
