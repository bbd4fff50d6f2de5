//! Parsing of the token endpoint's JSON answers: the token response and the OAuth error object.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use super::AccessToken;
use crate::{Error, Result};

/// A successful token response, reduced to what the flows use (`Debug` is redacted: both fields
/// redact their secrets).
#[derive(Debug)]
pub(crate) struct TokenResponse {
    pub(crate) token: AccessToken,
    /// A new refresh token (only when Salesforce rotates refresh tokens).
    pub(crate) refresh_token: Option<SecretString>,
}

/// The wire shape. Secrets are read straight into `SecretString`; everything else is kept loose so
/// that decoding errors are produced here (without echoing values) rather than by serde.
#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<SecretString>,
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    instance_url: Option<String>,
    #[serde(default)]
    id: Option<String>,
    /// Epoch milliseconds, as a string (`"1410978727765"`); tolerated as a number too.
    #[serde(default)]
    issued_at: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Parses a 2xx token response body.
pub(crate) fn parse_success(status: StatusCode, body: &[u8]) -> Result<TokenResponse> {
    let raw: RawTokenResponse =
        serde_json::from_slice(body).map_err(|e| Error::decode("OAuth token response", e))?;
    let Some(secret) = raw.access_token else {
        return Err(Error::UnexpectedResponse {
            status,
            message: "the OAuth token response has no access_token".to_owned(),
        });
    };
    let mut token = AccessToken::new(secret);
    if let Some(instance) = raw.instance_url.filter(|s| !s.is_empty()) {
        let url = Url::parse(&instance).map_err(|e| Error::UnexpectedResponse {
            status,
            message: format!(
                "the OAuth token response has an invalid instance_url {instance:?}: {e}"
            ),
        })?;
        token = token.with_instance_url(url);
    }
    if let Some(id) = raw.id.as_deref().and_then(|s| Url::parse(s).ok()) {
        token = token.with_identity_url(id);
    }
    if let Some(issued) = raw.issued_at.as_ref().and_then(issued_at) {
        token = token.with_issued_at(issued);
    }
    Ok(TokenResponse {
        token,
        refresh_token: raw.refresh_token,
    })
}

/// Maps a non-2xx token response to an error: an OAuth error object becomes [`Error::Auth`]
/// (with the request's `grant_type`, which the retry table needs), anything else (an HTML error
/// page, a 5xx) becomes [`Error::Api`] via [`Error::from_response`].
pub(crate) fn parse_failure(status: StatusCode, body: &[u8], grant: Option<&str>) -> Error {
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => Error::Auth {
            code: e.error,
            description: e.error_description,
            status: Some(status),
            grant: grant.map(str::to_owned),
        },
        Err(_) => Error::from_response(status, body),
    }
}

/// Returns `true` for the transient answer `invalid_grant` / "token request is already being
/// processed" (Salesforce is still handling a concurrent request with the same grant).
pub(crate) fn is_already_processing(err: &Error) -> bool {
    matches!(err, Error::Auth { code, description, .. }
        if code == "invalid_grant"
            && description.to_ascii_lowercase().contains("already being processed"))
}

/// Returns `true` for a refresh-token grant answered with one of the concurrent-refresh races
/// (`invalid_grant` with "token request is already being processed" or "expired authorization
/// code"): the errors the retry table calls retryable for that grant.
pub(crate) fn is_refresh_race(err: &Error) -> bool {
    matches!(err, Error::Auth { grant: Some(grant), .. } if grant == "refresh_token")
        && err.is_retryable()
}

fn issued_at(value: &serde_json::Value) -> Option<SystemTime> {
    let millis = match value {
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok()?,
        serde_json::Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    UNIX_EPOCH.checked_add(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn parses_documented_shape() {
        let body = br#"{
            "access_token": "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog",
            "signature": "6hHh+hI9cV+VRyHW0y6oPr3m2RYv5ZLSHy2Z3tC3Pnc=",
            "scope": "refresh_token api full",
            "instance_url": "https://MyDomainName.my.salesforce.com",
            "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
            "token_type": "Bearer",
            "issued_at": "1410978727765"
        }"#;
        let parsed = parse_success(StatusCode::OK, body).unwrap();
        let token = parsed.token;
        assert_eq!(
            token.secret().expose_secret(),
            "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog"
        );
        assert_eq!(
            token.instance_url().unwrap().as_str(),
            "https://mydomainname.my.salesforce.com/"
        );
        assert_eq!(
            token.identity_url().unwrap().path(),
            "/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS"
        );
        assert_eq!(
            token.issued_at(),
            UNIX_EPOCH + Duration::from_millis(1_410_978_727_765)
        );
        assert!(parsed.refresh_token.is_none());
    }

    #[test]
    fn missing_issued_at_means_now_and_rotation_is_read() {
        let before = SystemTime::now();
        let body = br#"{"access_token":"a","instance_url":"https://x.my.salesforce.com","refresh_token":"r2"}"#;
        let parsed = parse_success(StatusCode::OK, body).unwrap();
        assert!(parsed.token.issued_at() >= before);
        assert_eq!(parsed.refresh_token.unwrap().expose_secret(), "r2");
    }

    #[test]
    fn bad_success_bodies_do_not_echo_secrets() {
        let err = parse_success(StatusCode::OK, br#"{"token_type":"Bearer"}"#).unwrap_err();
        assert!(err.to_string().contains("no access_token"), "{err}");
        let err = parse_success(
            StatusCode::OK,
            br#"{"access_token":"SECRETX","instance_url":"not a url"}"#,
        )
        .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("SECRETX"));
        let err = parse_success(StatusCode::OK, b"<html>").unwrap_err();
        assert!(matches!(err, Error::Decode { .. }));
    }

    #[test]
    fn oauth_errors_become_auth_errors() {
        let err = parse_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"authentication failure"}"#,
            Some("password"),
        );
        assert!(err.is_auth());
        assert!(!err.is_retryable());
        assert!(!is_already_processing(&err));
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        let busy = parse_failure(
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"token request is already being processed"}"#,
            Some("refresh_token"),
        );
        assert!(is_already_processing(&busy));
        assert!(is_refresh_race(&busy));
        assert!(busy.is_retryable());
        let expired =
            br#"{"error":"invalid_grant","error_description":"expired authorization code"}"#;
        let race = parse_failure(StatusCode::BAD_REQUEST, expired, Some("refresh_token"));
        assert!(is_refresh_race(&race));
        let code = parse_failure(StatusCode::BAD_REQUEST, expired, Some("authorization_code"));
        assert!(!is_refresh_race(&code));
        assert!(!code.is_retryable());
        assert!(!is_refresh_race(&err));
        let html = parse_failure(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>", None);
        assert!(html.is_retryable());
        assert!(!html.is_auth());
    }
}
