//! The token endpoint: one form POST per attempt, OAuth error mapping, and the bounded retry of
//! "token request is already being processed".

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::token_response::{self, TokenResponse};
use super::{AccessToken, LoginHost};
use crate::guard::{TimeoutPhase, TokenGuards, read_capped};
use crate::transport::{body_error, redirect_error};
use crate::{Error, Idempotency, Result};

/// The idempotency class of a token request: it changes no data (a replay only issues another
/// token), so a lost response never leaves a record in an unknown state.
const TOKEN_REQUEST: Idempotency = Idempotency::Idempotent;

/// How a token source retries the transient OAuth answer `invalid_grant` / "token request is already
/// being processed".
///
/// Salesforce sends it when another request with the same grant (for example the same refresh
/// token) is still being handled. The source waits `delay` and sends the token request again, at most
/// `max_retries` times; after that the error is returned ([`Error::is_retryable`] is true for it).
/// No other token error is retried here.
///
/// The refresh-token flow is different: resending a refresh token that a concurrent request may
/// just have spent would make Salesforce revoke the grant (with rotation), so
/// [`RefreshTokenSource`](super::RefreshTokenSource) waits `delay`, re-reads its token store and
/// tries once only with a newer token; `max_retries` does not apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingRetry {
    /// Retries after the first attempt (0 disables the retry). Default 3.
    pub max_retries: u32,
    /// Wait before each retry. Default 500 ms; tests use `Duration::ZERO`.
    pub delay: Duration,
}

impl Default for ProcessingRetry {
    fn default() -> Self {
        Self {
            max_retries: 3,
            delay: Duration::from_millis(500),
        }
    }
}

/// Client authentication sent with a token request.
pub(crate) enum ClientAuth<'a> {
    /// Nothing beyond the form fields.
    None,
    /// HTTP Basic `client_id:client_secret`.
    Basic {
        client_id: &'a str,
        client_secret: &'a SecretString,
    },
}

/// What every OAuth flow builder shares: the host that issues tokens, the HTTP client, the retry
/// of "already being processed" answers and the guards of token calls. The flow builders embed
/// it, set it through `endpoint_setters!` and turn it into their [`TokenEndpoint`] in `build()`.
#[derive(Default)]
pub(crate) struct EndpointBase {
    pub(crate) login_host: LoginHost,
    pub(crate) http: Option<reqwest::Client>,
    pub(crate) retry: ProcessingRetry,
    pub(crate) guards: TokenGuards,
}

impl EndpointBase {
    /// Builds the token endpoint of a flow.
    pub(crate) fn into_endpoint(self) -> Result<TokenEndpoint> {
        TokenEndpoint::new(&self.login_host, self.http, self.retry, self.guards)
    }
}

impl std::fmt::Debug for EndpointBase {
    /// Shows the login host and retry policy; the HTTP client and guards are not interesting.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointBase")
            .field("login_host", &self.login_host)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A configured token endpoint shared by the OAuth flows.
#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    http: reqwest::Client,
    url: Url,
    retry: ProcessingRetry,
    guards: TokenGuards,
}

impl TokenEndpoint {
    /// Resolves the endpoint URL and the HTTP client (the given one, or a new rustls client).
    pub(crate) fn new(
        host: &LoginHost,
        http: Option<reqwest::Client>,
        retry: ProcessingRetry,
        guards: TokenGuards,
    ) -> Result<Self> {
        let url = host.token_endpoint_url()?;
        let http = match http {
            Some(client) => client,
            None => default_client()?,
        };
        Ok(Self {
            http,
            url,
            retry,
            guards,
        })
    }

    /// Returns the token endpoint URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// POSTs `form` like [`request`](Self::request) and returns only the access token.
    pub(crate) async fn request_token(
        &self,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<AccessToken> {
        Ok(self.request(form, auth).await?.token)
    }

    /// Returns how "already being processed" answers are retried.
    pub(crate) fn processing_retry(&self) -> ProcessingRetry {
        self.retry
    }

    /// POSTs `form` once and parses the answer, with no retry at all: the refresh-token flow,
    /// which must never send a possibly spent refresh token again, decides itself.
    pub(crate) async fn request_once(
        &self,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<TokenResponse> {
        self.attempt(form, &auth).await
    }

    /// POSTs `form` (URL-encoded, in the given order) and parses the answer, retrying
    /// "already being processed" as configured.
    pub(crate) async fn request(
        &self,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<TokenResponse> {
        let mut retries = 0;
        loop {
            match self.attempt(form, &auth).await {
                Err(err)
                    if token_response::is_already_processing(&err)
                        && retries < self.retry.max_retries =>
                {
                    retries += 1;
                    tracing::debug!(
                        retry = retries,
                        max_retries = self.retry.max_retries,
                        "token request already being processed by Salesforce; retrying"
                    );
                    if !self.retry.delay.is_zero() {
                        tokio::time::sleep(self.retry.delay).await;
                    }
                }
                other => return other,
            }
        }
    }

    async fn attempt(&self, form: &[(&str, &str)], auth: &ClientAuth<'_>) -> Result<TokenResponse> {
        let mut request = self
            .http
            .post(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(form);
        if let ClientAuth::Basic {
            client_id,
            client_secret,
        } = auth
        {
            request = request.basic_auth(client_id, Some(client_secret.expose_secret()));
        }
        let timeouts = &self.guards.timeouts;
        let response = match tokio::time::timeout(timeouts.token_headers, request.send()).await {
            Ok(result) => result.map_err(|e| {
                let sent = !(e.is_connect() || e.is_builder());
                Error::transport(e, sent, TOKEN_REQUEST)
            })?,
            Err(_) => {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Headers,
                    sent: true,
                    idempotency: TOKEN_REQUEST,
                });
            }
        };
        let status = response.status();
        if status.is_redirection() {
            return Err(redirect_error(status, response.headers()));
        }
        let cap = self.guards.limits.token_body;
        let body = read_capped(response, cap, timeouts)
            .await
            .map_err(|e| body_error(e, "OAuth token response", status, cap, TOKEN_REQUEST))?;
        tracing::debug!(status = status.as_u16(), "token endpoint answered");
        if status.is_success() {
            token_response::parse_success(status, &body)
        } else {
            let grant = form
                .iter()
                .find(|(name, _)| *name == "grant_type")
                .map(|(_, value)| *value);
            Err(token_response::parse_failure(status, &body, grant))
        }
    }
}

/// Builds the default HTTP client for token calls (rustls when the `rustls` feature is on).
fn default_client() -> Result<reqwest::Client> {
    crate::guard::no_redirects(crate::tls::client_builder()?)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| Error::transport(e, false, TOKEN_REQUEST))
}

/// Returns the value, or a configuration error naming the missing builder field.
pub(crate) fn required(value: Option<String>, field: &str, what: &str) -> Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(Error::config(format!(
            "{field} is required ({what}); set it on the builder"
        ))),
    }
}

/// Returns the secret, or a configuration error naming the missing builder field.
pub(crate) fn required_secret(
    value: Option<SecretString>,
    field: &str,
    what: &str,
) -> Result<SecretString> {
    match value {
        Some(v) if !v.expose_secret().is_empty() => Ok(v),
        _ => Err(Error::config(format!(
            "{field} is required ({what}); set it on the builder"
        ))),
    }
}

/// Returns the connected app's consumer key, or a configuration error saying it is missing.
pub(crate) fn required_client_id(value: Option<String>) -> Result<String> {
    required(value, "client_id", "the connected app's consumer key")
}

/// Returns the connected app's consumer secret, or a configuration error saying it is missing.
pub(crate) fn required_client_secret(value: Option<SecretString>) -> Result<SecretString> {
    required_secret(
        value,
        "client_secret",
        "the connected app's consumer secret",
    )
}
