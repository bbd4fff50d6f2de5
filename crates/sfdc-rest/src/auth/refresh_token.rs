//! The OAuth refresh-token grant, with refresh-token rotation.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use url::Url;

use super::endpoint::EndpointBase;
use super::endpoint::{ClientAuth, TokenEndpoint, required_client_id, required_secret};
use super::single_flight::TokenCache;
use super::token_response::{TokenResponse, is_refresh_race};
use super::{AccessToken, TokenStore};
use crate::Result;

/// How many spent refresh tokens a source remembers, so that a stale store never makes it send
/// one again.
const SPENT_MEMORY: usize = 32;

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
/// connected app rotates refresh tokens), the new one is used for every later refresh, saved to
/// the [`token_store`](RefreshTokenSourceBuilder::token_store) if one is set, and handed to the
/// [`on_refresh_token_rotated`](RefreshTokenSourceBuilder::on_refresh_token_rotated) callback;
/// the old one stops working. Salesforce revokes the whole grant when an invalidated refresh
/// token is presented again, so the source never sends a token it knows to be spent.
///
/// **Token store:** with [`token_store`](RefreshTokenSourceBuilder::token_store), a stored token
/// wins over the configured one at build time, the store is re-read before every refresh (another
/// process sharing it may have rotated the token), and every rotation is saved before the new
/// access token is used.
///
/// **Refresh races:** a refresh answered `400 invalid_grant` with "token request is already being
/// processed" or "expired authorization code" means another request with the same refresh token
/// (another process, a second instance) is being or was just served. The source waits the
/// [`ProcessingRetry::delay`](super::ProcessingRetry), re-reads the current token from the store
/// and, if it differs from the one just sent, tries **once** with it; otherwise it returns the
/// error, which [`Error::is_retryable`](crate::Error::is_retryable) calls retryable (the one
/// retry table's token rows). It never resends the token it just used.
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
    grant: Mutex<Grant>,
    store: Option<Arc<dyn TokenStore>>,
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
        self.grant.lock().await.current.clone()
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let mut grant = self.grant.lock().await;
        self.adopt_stored(&mut grant);
        let used = grant.current.clone();
        let (used, response) = match self.exchange(&used).await {
            Err(err) if is_refresh_race(&err) => {
                let delay = self.endpoint.processing_retry().delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                self.adopt_stored(&mut grant);
                if grant.current.expose_secret() == used.expose_secret() {
                    tracing::warn!(
                        "refresh race (token request already being processed, or expired authorization code) and no newer refresh token; not resending it, the failure is retryable"
                    );
                    return Err(err);
                }
                tracing::info!("refresh race; trying once with the newer stored refresh token");
                let newer = grant.current.clone();
                let response = self.exchange(&newer).await?;
                (newer, response)
            }
            other => (used, other?),
        };
        if let Some(rotated) = response.refresh_token
            && rotated.expose_secret() != used.expose_secret()
        {
            tracing::info!("Salesforce rotated the refresh token; using the new one");
            grant.spend(used, rotated.clone());
            if let Some(store) = &self.store
                && let Err(err) = store.save(&rotated)
            {
                tracing::error!(error = %err, "could not save the rotated refresh token; it is kept in memory only");
            }
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

    /// One token request with `refresh_token`, never retried here.
    async fn exchange(&self, refresh_token: &SecretString) -> Result<TokenResponse> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
        self.endpoint.request_once(&form, ClientAuth::None).await
    }

    /// Takes the stored token when it is newer than the current one (another process rotated
    /// it) and not known to be spent. A store that cannot be read leaves the current token.
    fn adopt_stored(&self, grant: &mut Grant) {
        let Some(store) = &self.store else { return };
        match store.load() {
            Ok(Some(stored)) if grant.is_new(&stored) => {
                tracing::debug!("the token store holds a newer refresh token; using it");
                grant.current = stored;
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "could not read the token store; using the refresh token in memory");
            }
        }
    }
}

/// The refresh token in use and the ones this source already spent (rotated away).
struct Grant {
    current: SecretString,
    spent: Vec<SecretString>,
}

impl Grant {
    /// Whether `token` is neither the current token nor a spent one.
    fn is_new(&self, token: &SecretString) -> bool {
        let value = token.expose_secret();
        value != self.current.expose_secret()
            && !self.spent.iter().any(|s| s.expose_secret() == value)
    }

    /// Records `used` as spent and makes `rotated` current.
    fn spend(&mut self, used: SecretString, rotated: SecretString) {
        if self.spent.len() == SPENT_MEMORY {
            self.spent.remove(0);
        }
        self.spent.push(used);
        self.current = rotated;
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
            .field("token_store", &self.store)
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
    store: Option<Arc<dyn TokenStore>>,
    base: EndpointBase,
}

impl RefreshTokenSourceBuilder {
    endpoint_setters!();

    client_setters!("Sets the connected app's consumer secret (omit for public clients).");

    /// Sets the refresh token (required unless the [`token_store`](Self::token_store) holds one,
    /// which then wins).
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

    /// Keeps the refresh token in `store`: a stored token wins over
    /// [`refresh_token`](Self::refresh_token), the store is re-read before each refresh, and
    /// every rotated token is saved (see [`RefreshTokenSource`]). [`build`](Self::build) loads it
    /// once.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Builds the source.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) when `client_id` is missing or empty, or no refresh
    /// token was given and the token store holds none; [`Error::TokenStore`](crate::Error::TokenStore)
    /// when the store cannot be read; a transport error when no HTTP client was given and one
    /// cannot be created.
    pub fn build(self) -> Result<RefreshTokenSource> {
        let client_id = required_client_id(self.client_id)?;
        let stored = match &self.store {
            Some(store) => store.load()?,
            None => None,
        };
        let refresh_token = match stored {
            Some(token) => {
                tracing::debug!("using the refresh token of the token store");
                token
            }
            None => required_secret(
                self.refresh_token,
                "refresh_token",
                "the refresh token from the user's authorisation, or a token store holding one",
            )?,
        };
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
            grant: Mutex::new(Grant {
                current: refresh_token,
                spent: Vec::new(),
            }),
            store: self.store,
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
            .field("token_store", &self.store)
            .field("base", &self.base)
            .finish()
    }
}
