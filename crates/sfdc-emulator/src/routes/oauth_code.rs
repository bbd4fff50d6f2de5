//! The web-server (authorization code) flow: `GET /services/oauth2/authorize` approves at once
//! (there is no user to ask) and redirects to `redirect_uri` with `code` and `state`; the
//! token endpoint's `authorization_code` grant redeems the code once, checking the client, the
//! redirect URI and, when the authorize call carried a `code_challenge`, the PKCE
//! `code_verifier` (`S256`: `BASE64URL(SHA-256(verifier))`; `plain`: the verifier itself).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::state::{AppState, CodeGrant};

/// How long an authorization code can be redeemed (Salesforce: 15 minutes).
pub(crate) const CODE_TTL: Duration = Duration::from_secs(15 * 60);

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    format!("{uri}{sep}{query}")
}

/// `GET /services/oauth2/authorize?response_type=code&client_id=&redirect_uri=&state=
/// [&code_challenge=&code_challenge_method=S256]`.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    let Some(redirect_uri) = get("redirect_uri").filter(|u| !u.is_empty()) else {
        return super::oauth::oauth_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        );
    };
    if get("client_id") != Some(state.config().client_id.as_str()) {
        return super::oauth::oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_id",
            "client identifier invalid",
        );
    }
    let mut back: Vec<(&str, &str)> = Vec::new();
    if get("response_type") != Some("code") {
        back.push(("error", "unsupported_response_type"));
        back.push(("error_description", "response type not supported"));
    } else {
        let code = state.issue_code(CodeGrant {
            redirect_uri: redirect_uri.to_owned(),
            challenge: get("code_challenge").map(str::to_owned),
            method: get("code_challenge_method").unwrap_or("plain").to_owned(),
            issued: Instant::now(),
        });
        return redirect(&with_params(
            redirect_uri,
            &[
                ("code", code.as_str()),
                ("state", get("state").unwrap_or("")),
            ],
        ));
    }
    if let Some(s) = get("state") {
        back.push(("state", s));
    }
    redirect(&with_params(redirect_uri, &back))
}

/// Checks a PKCE verifier against the challenge of the authorize call.
pub(crate) fn verifier_matches(grant: &CodeGrant, verifier: Option<&str>) -> bool {
    let Some(challenge) = &grant.challenge else {
        return true;
    };
    let Some(verifier) = verifier else {
        return false;
    };
    if grant.method.eq_ignore_ascii_case("S256") {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref()) == *challenge
    } else {
        verifier == challenge
    }
}
