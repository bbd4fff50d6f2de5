//! Authentication: the [`TokenSource`] trait, [`AccessToken`], and the OAuth 2.0 flows Salesforce
//! offers for server-side integrations.
//!
//! A client asks its token source for a token before each call and, when Salesforce answers
//! HTTP 401, calls [`TokenSource::refresh`] with the rejected token and replays the request once.
//! All token sources here cache the current token and make refreshes *single-flight*: any number of
//! concurrent `refresh(&rejected)` calls cause exactly one token request, and a refresh for a token
//! that was already replaced returns the newer token without a request.
//!
//! # Which flow to choose
//!
//! | Situation | Source | Needs |
//! |---|---|---|
//! | You already hold an access token (tests, short scripts, a token minted elsewhere) | [`StaticToken`] | token, instance URL |
//! | A user authorised your connected app (web-server flow, e.g. "Connect to Salesforce" button) | [`RefreshTokenSource`] | client id (+ secret), refresh token |
//! | Server-to-server as a named user, no user interaction | `JwtBearerSource` (feature `jwt`) | client id, username, RSA private key whose certificate is uploaded to the connected app |
//! | Server-to-server as the connected app's "Run As" user | [`ClientCredentialsSource`] | client id + secret, **My Domain** host |
//! | Legacy: username + password | [`PasswordSource`] (**deprecated by Salesforce**) | client id + secret, username, password (+ security token) |
//!
//! Prefer the JWT bearer or client-credentials flow for unattended integrations: neither stores a
//! long-lived user secret, and neither depends on refresh-token policies. Use the refresh-token flow
//! when a user connected their org interactively. Avoid the username-password flow: Salesforce blocks
//! it by default in new orgs and connected apps and is retiring it.
//!
//! # Where tokens come from
//!
//! Every OAuth flow POSTs an `application/x-www-form-urlencoded` body to
//! `{login host}/services/oauth2/token`. The [`LoginHost`] says which host: `login.salesforce.com`
//! (production and Developer Edition), `test.salesforce.com` (sandboxes), or the org's My Domain.
//! Token calls are made with their own HTTP requests and never count as API calls.
//!
//! # Errors
//!
//! An OAuth error answer (`{"error","error_description"}`, HTTP 400 or 401) becomes
//! [`Error::Auth`](crate::Error::Auth) with the code, description and grant;
//! [`Error::is_auth`](crate::Error::is_auth) is true. Whether it is retryable is decided by the
//! token rows of the one retry table ([`crate::retry::classify`]): the concurrent-refresh races
//! (`invalid_grant` with "token request is already being processed", and for the refresh-token
//! grant also "expired authorization code") are retryable; `expired authorization code` of the
//! `authorization_code` grant and every other `invalid_grant` are permanent. The JWT,
//! client-credentials and password sources resend "already being processed" themselves
//! ([`ProcessingRetry`]); the [`RefreshTokenSource`] never resends a refresh token and re-reads
//! its [`TokenStore`] instead.
//!
//! # Keeping a refresh token across restarts
//!
//! [`TokenStore`] (trait) and [`FileTokenStore`] (a file written atomically, mode 0600) hold the
//! newest refresh token of a [`RefreshTokenSource`]; see
//! [`RefreshTokenSourceBuilder::token_store`].
//!
//! # Secrets
//!
//! Access tokens, refresh tokens, client secrets, passwords and private keys are held in
//! [`SecretString`]. No `Debug` or `Display` output of this module and no tracing event contains
//! them.

use std::fmt;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::Result;

/// Setters shared by every OAuth flow builder (on its `base: EndpointBase` field).
macro_rules! endpoint_setters {
    () => {
        /// Sets the host that issues tokens (default [`LoginHost::production`](crate::auth::LoginHost::production)).
        pub fn login_host(mut self, host: crate::auth::LoginHost) -> Self {
            self.base.login_host = host;
            self
        }

        /// Reuses an existing `reqwest::Client` for token calls (default: a new client with rustls,
        /// 10 s connect timeout, 60 s request timeout and no redirects). Build it with
        /// `reqwest::redirect::Policy::none()`; a redirect that reaches the source is refused with
        /// [`Error::Redirect`](crate::Error::Redirect) and nothing is re-sent.
        ///
        /// # Optional
        /// Needs the non-default feature `reqwest-client`: an explicit escape hatch that ties
        /// the caller to this crate's reqwest version.
        #[cfg(feature = "reqwest-client")]
        #[cfg_attr(docsrs, doc(cfg(feature = "reqwest-client")))]
        pub fn http_client(mut self, client: reqwest::Client) -> Self {
            self.base.http = Some(client);
            self
        }

        /// Sets how "token request is already being processed" answers are retried (default
        /// [`ProcessingRetry::default`](crate::auth::ProcessingRetry::default)).
        pub fn processing_retry(mut self, retry: crate::auth::ProcessingRetry) -> Self {
            self.base.retry = retry;
            self
        }

        /// Sets the guards of token calls: the header deadline
        /// ([`Timeouts::token_headers`](crate::Timeouts::token_headers)) and minimum throughput of
        /// `timeouts`, and the body cap [`BodyLimits::token_body`](crate::BodyLimits::token_body)
        /// of `limits` (defaults: 60 s, 1 KiB/s over 10 s, 1 MiB).
        pub fn guards(mut self, timeouts: crate::Timeouts, limits: crate::BodyLimits) -> Self {
            self.base.guards = crate::guard::TokenGuards { timeouts, limits };
            self
        }
    };
}

/// The consumer-key and consumer-secret setters of an OAuth flow builder (fields `client_id`,
/// `client_secret`); the argument documents `client_secret`.
macro_rules! client_setters {
    ($secret_doc:literal) => {
        /// Sets the connected app's consumer key (required).
        pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
            self.client_id = Some(client_id.into());
            self
        }

        #[doc = $secret_doc]
        pub fn client_secret(mut self, secret: impl Into<secrecy::SecretString>) -> Self {
            self.client_secret = Some(secret.into());
            self
        }
    };
}

/// Implements [`TokenSource`] for a flow with a `cache: TokenCache` field and an
/// `async fn fetch(&self) -> Result<AccessToken>`: `token()` and `refresh()` go through the
/// single-flight cache, in spans `sfdc_rest::auth::token` / `sfdc_rest::auth::refresh` with the
/// field `flow`.
macro_rules! cached_token_source {
    ($source:ty, $flow:literal) => {
        #[async_trait::async_trait]
        impl crate::auth::TokenSource for $source {
            #[tracing::instrument(name = "sfdc_rest::auth::token", skip_all, fields(flow = $flow))]
            async fn token(&self) -> crate::Result<crate::auth::AccessToken> {
                self.cache.get(|| self.fetch()).await
            }

            #[tracing::instrument(name = "sfdc_rest::auth::refresh", skip_all, fields(flow = $flow))]
            async fn refresh(
                &self,
                rejected: &crate::auth::AccessToken,
            ) -> crate::Result<crate::auth::AccessToken> {
                self.cache.refresh(rejected, || self.fetch()).await
            }
        }
    };
}

mod client_credentials;
mod endpoint;
#[cfg(feature = "jwt")]
mod jwt;
mod login_host;
mod password;
mod refresh_token;
mod single_flight;
mod static_token;
mod token_response;
mod token_store;

pub use client_credentials::{ClientCredentialsSource, ClientCredentialsSourceBuilder};
pub use endpoint::ProcessingRetry;
#[cfg(feature = "jwt")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub use jwt::{JwtBearerSource, JwtBearerSourceBuilder};
pub use login_host::LoginHost;
pub use password::{PasswordSource, PasswordSourceBuilder};
pub use refresh_token::{RefreshTokenSource, RefreshTokenSourceBuilder, RotationCallback};
pub use static_token::StaticToken;
pub use token_store::{FileTokenStore, TokenStore};

/// An OAuth access token with the instance URL and issue time Salesforce returned with it.
///
/// The token value is a [`SecretString`]; `Debug` prints `AccessToken { secret: "[REDACTED]", .. }`.
/// Cloning is cheap enough for per-request use (one small allocation).
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    instance_url: Option<Url>,
    identity_url: Option<Url>,
    issued_at: SystemTime,
}

impl AccessToken {
    /// Creates a token from its secret value, issued now, without an instance URL.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self {
            secret: secret.into(),
            instance_url: None,
            identity_url: None,
            issued_at: SystemTime::now(),
        }
    }

    /// Sets the instance URL (the org's API host) returned with the token.
    pub fn with_instance_url(mut self, url: Url) -> Self {
        self.instance_url = Some(url);
        self
    }

    /// Sets the identity URL (`id` field of the token response, `.../id/{orgId}/{userId}`).
    pub fn with_identity_url(mut self, url: Url) -> Self {
        self.identity_url = Some(url);
        self
    }

    /// Sets the time the token was issued.
    pub fn with_issued_at(mut self, issued_at: SystemTime) -> Self {
        self.issued_at = issued_at;
        self
    }

    /// Returns the secret token value; send it as `Authorization: Bearer <token>`.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// Returns the instance URL returned with the token, if any.
    pub fn instance_url(&self) -> Option<&Url> {
        self.instance_url.as_ref()
    }

    /// Returns the identity URL (`id` of the token response), if Salesforce sent one.
    pub fn identity_url(&self) -> Option<&Url> {
        self.identity_url.as_ref()
    }

    /// Returns when the token was issued: the response's `issued_at` (epoch milliseconds) or, when
    /// absent, the time it was received or created locally.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// Returns `true` when both tokens hold the same secret value.
    ///
    /// Token sources use this to decide whether a rejected token is still the current one.
    pub fn same_secret(&self, other: &AccessToken) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[REDACTED]")
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("identity_url", &self.identity_url.as_ref().map(Url::as_str))
            .field("issued_at", &self.issued_at)
            .finish()
    }
}

/// A source of Salesforce access tokens, shared by every request of a client.
///
/// Implementations must be cheap to call on every request (cache the token) and must make
/// [`TokenSource::refresh`] single-flight.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// Returns the cached token, fetching one first if none is cached.
    ///
    /// # Errors
    ///
    /// Fails when a token has to be fetched and the token request fails: an OAuth error answer
    /// ([`Error::is_auth`](crate::Error::is_auth)), a transport failure, or an unreadable response.
    async fn token(&self) -> Result<AccessToken>;

    /// Returns a token other than `rejected`, fetching a new one only if the cached token *is*
    /// `rejected` (or nothing is cached).
    ///
    /// Call it after Salesforce rejected `rejected` with HTTP 401. Concurrent calls with the same
    /// rejected token wait for one shared token request.
    ///
    /// # Errors
    ///
    /// As for [`TokenSource::token`]; a [`StaticToken`] cannot refresh and returns an
    /// [`Error::Auth`](crate::Error::Auth) with code `token_not_refreshable`.
    async fn refresh(&self, rejected: &AccessToken) -> Result<AccessToken>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_same_secret_compares_values() {
        let a = AccessToken::new("00Dsecret!value");
        let b = AccessToken::new("00Dsecret!value".to_owned());
        let c = AccessToken::new("other");
        let debug = format!("{a:?}");
        assert!(!debug.contains("00Dsecret"), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
        assert!(a.same_secret(&b));
        assert!(!a.same_secret(&c));
    }
}
