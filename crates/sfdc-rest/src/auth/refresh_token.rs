//! The OAuth refresh-token grant, with refresh-token rotation.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use super::AccessToken;
use super::endpoint::EndpointBase;
use super::endpoint::{ClientAuth, TokenEndpoint, required_client_id, required_secret};
use super::single_flight::TokenCache;
use crate::Result;

/// A callback that receives a rotated refresh token; see
/// [`RefreshTokenSourceBuilder::on_refresh_token_rotated`].
pub type RotationCallback = Arc<dyn Fn(SecretString) + Send + Sync>;

/// Tokens from the OAuth refresh-token grant (`grant_type=refresh_token`).
///
/// Use it when a user authorised your connected app interactively (web-server flow) and you stored
/// the refresh token. The first [`TokenSource::token`](super::TokenSource::token) call fetches an
/// access token unless one was seeded with [`RefreshTokenSourceBuilder::access_token`].
///
/// Request body, in this order: `grant_type=refresh_token`, `refresh_token`, `client_id`, and
/// `client_secret` when one is configured (public clients have none).
///
/// **Rotation:** when the response carries a `refresh_token` different from the current one (the
/// connected app rotates refresh tokens), the new one is used for every later refresh and handed
/// to the [`on_refresh_token_rotated`](RefreshTokenSourceBuilder::on_refresh_token_rotated)
/// callback, so that you can persist it; the old one stops working.
///
/// # Examples
///
/// ```no_run
/// use sfdc_rest::auth::{LoginHost, RefreshTokenSource, TokenSource};
///
/// # async fn run() -> sfdc_rest::Result<()> {
/// let source = RefreshTokenSource::builder()
///     .login_host(LoginHost::from_sandbox_flag(false))
///     .client_id("3MVG9...")
///     .client_secret(std::env::var("SF_CLIENT_SECRET").unwrap_or_default())
///     .refresh_token(std::env::var("SF_REFRESH_TOKEN").unwrap_or_default())
///     .on_refresh_token_rotated(|new_token| {
///         // persist `new_token` (a SecretString) for the next process start
///         drop(new_token);
///     })
///     .build()?;
/// let token = source.token().await?;
/// println!("instance: {:?}", token.instance_url());
/// # Ok(()) }
/// ```
pub struct RefreshTokenSource {
    client_id: String,
    client_secret: Option<SecretString>,
    refresh_token: Mutex<SecretString>,
    instance_url: Option<Url>,
    on_rotated: Option<RotationCallback>,
    endpoint: TokenEndpoint,
    cache: TokenCache,
}

impl RefreshTokenSource {
    /// Returns a builder; `client_id` and `refresh_token` are required.
    pub fn builder() -> RefreshTokenSourceBuilder {
        RefreshTokenSourceBuilder::default()
    }

    /// Returns the refresh token currently in use (the latest rotated one, if any).
    pub async fn current_refresh_token(&self) -> SecretString {
        self.refresh_token.lock().await.clone()
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let mut current = self.refresh_token.lock().await;
        let response = {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", current.expose_secret()),
                ("client_id", self.client_id.as_str()),
            ];
            if let Some(secret) = &self.client_secret {
                form.push(("client_secret", secret.expose_secret()));
            }
            self.endpoint.request(&form, ClientAuth::None).await?
        };
        if let Some(rotated) = response.refresh_token
            && rotated.expose_secret() != current.expose_secret()
        {
            tracing::info!("Salesforce rotated the refresh token; using the new one");
            *current = rotated.clone();
            if let Some(callback) = &self.on_rotated {
                callback(rotated);
            }
        }
        let mut token = response.token;
        if token.instance_url().is_none()
            && let Some(url) = &self.instance_url
        {
            token = token.with_instance_url(url.clone());
        }
        Ok(token)
    }
}

cached_token_source!(RefreshTokenSource, "refresh_token");

impl fmt::Debug for RefreshTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenSource")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("refresh_token", &"[REDACTED]")
            .field("token_url", &self.endpoint.url().as_str())
            .field("on_refresh_token_rotated", &self.on_rotated.is_some())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Builder for [`RefreshTokenSource`]; setters never fail, [`build`](Self::build) validates.
#[derive(Default)]
pub struct RefreshTokenSourceBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    refresh_token: Option<SecretString>,
    access_token: Option<SecretString>,
    instance_url: Option<Url>,
    on_rotated: Option<RotationCallback>,
    base: EndpointBase,
}

impl RefreshTokenSourceBuilder {
    endpoint_setters!();

    client_setters!("Sets the connected app's consumer secret (omit for public clients).");

    /// Sets the refresh token (required).
    pub fn refresh_token(mut self, token: impl Into<SecretString>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// Seeds the cache with an access token you already hold, so that no token request is made
    /// until Salesforce rejects it.
    pub fn access_token(mut self, token: impl Into<SecretString>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Sets the instance URL known from the original authorisation; used for the seeded access
    /// token and whenever a token response lacks `instance_url`.
    pub fn instance_url(mut self, url: Url) -> Self {
        self.instance_url = Some(url);
        self
    }

    /// Registers a callback that receives the new refresh token when Salesforce rotates it.
    ///
    /// It runs inside the token request (keep it short and non-blocking: e.g. send the value to a
    /// channel). The source already uses the new token for later refreshes.
    pub fn on_refresh_token_rotated(
        mut self,
        callback: impl Fn(SecretString) + Send + Sync + 'static,
    ) -> Self {
        self.on_rotated = Some(Arc::new(callback));
        self
    }

    /// Builds the source.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) when `client_id` or `refresh_token` is missing or empty; a transport error
    /// when no HTTP client was given and one cannot be created.
    pub fn build(self) -> Result<RefreshTokenSource> {
        let client_id = required_client_id(self.client_id)?;
        let refresh_token = required_secret(
            self.refresh_token,
            "refresh_token",
            "the refresh token from the user's authorisation",
        )?;
        let initial = self.access_token.map(|secret| {
            let token = AccessToken::new(secret);
            match &self.instance_url {
                Some(url) => token.with_instance_url(url.clone()),
                None => token,
            }
        });
        Ok(RefreshTokenSource {
            client_id,
            client_secret: self.client_secret,
            refresh_token: Mutex::new(refresh_token),
            instance_url: self.instance_url,
            on_rotated: self.on_rotated,
            endpoint: self.base.into_endpoint()?,
            cache: TokenCache::new(initial),
        })
    }
}

impl fmt::Debug for RefreshTokenSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenSourceBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("instance_url", &self.instance_url.as_ref().map(Url::as_str))
            .field("on_refresh_token_rotated", &self.on_rotated.is_some())
            .field("base", &self.base)
            .finish()
    }
}
