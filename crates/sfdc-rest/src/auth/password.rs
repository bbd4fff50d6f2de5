//! The OAuth username-password grant (deprecated by Salesforce).

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::AccessToken;
use super::endpoint::EndpointBase;
use super::endpoint::{
    ClientAuth, TokenEndpoint, required, required_client_id, required_client_secret,
    required_secret,
};
use super::single_flight::TokenCache;
use crate::Result;

/// Tokens from the OAuth username-password grant (`grant_type=password`).
///
/// **Deprecated by Salesforce.** The flow is blocked by default in new orgs and new connected apps
/// and is being retired; it cannot satisfy MFA. Prefer the JWT bearer flow (`JwtBearerSource`, feature `jwt`) or
/// [`ClientCredentialsSource`](super::ClientCredentialsSource) for unattended access, or
/// [`RefreshTokenSource`](super::RefreshTokenSource) after an interactive authorisation. It is kept
/// for existing integrations.
///
/// Request body, in this order: `grant_type=password`, `client_id`, `client_secret`, `username`,
/// `password` (the password with the security token appended when one is set; the security token is
/// needed when the caller's IP is not trusted by the org). No refresh token is issued; a refresh
/// logs in again.
///
/// # Examples
///
/// ```no_run
/// use sfdc_rest::auth::{LoginHost, PasswordSource, TokenSource};
///
/// # async fn run() -> sfdc_rest::Result<()> {
/// let source = PasswordSource::builder()
///     .login_host(LoginHost::sandbox())
///     .client_id("3MVG9...")
///     .client_secret(std::env::var("SF_CLIENT_SECRET").unwrap_or_default())
///     .username("integration@example.com.uat")
///     .password(std::env::var("SF_PASSWORD").unwrap_or_default())
///     .security_token(std::env::var("SF_SECURITY_TOKEN").unwrap_or_default())
///     .build()?;
/// let token = source.token().await?;
/// # Ok(()) }
/// ```
pub struct PasswordSource {
    client_id: String,
    client_secret: SecretString,
    username: String,
    /// Password with the security token already appended.
    password: SecretString,
    endpoint: TokenEndpoint,
    cache: TokenCache,
}

impl PasswordSource {
    /// Returns a builder; `client_id`, `client_secret`, `username` and `password` are required.
    pub fn builder() -> PasswordSourceBuilder {
        PasswordSourceBuilder::default()
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let form = [
            ("grant_type", "password"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("username", self.username.as_str()),
            ("password", self.password.expose_secret()),
        ];
        self.endpoint.request_token(&form, ClientAuth::None).await
    }
}

cached_token_source!(PasswordSource, "password");

impl fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSource")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("token_url", &self.endpoint.url().as_str())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Builder for [`PasswordSource`]; setters never fail, [`build`](Self::build) validates.
#[derive(Default)]
pub struct PasswordSourceBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    username: Option<String>,
    password: Option<SecretString>,
    security_token: Option<SecretString>,
    base: EndpointBase,
}

impl PasswordSourceBuilder {
    endpoint_setters!();

    client_setters!("Sets the connected app's consumer secret (required).");

    /// Sets the Salesforce username (required).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the user's password (required).
    pub fn password(mut self, password: impl Into<SecretString>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the user's security token, appended to the password when sent (optional; an empty
    /// value means none).
    pub fn security_token(mut self, token: impl Into<SecretString>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// Builds the source.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) when `client_id`, `client_secret`, `username` or
    /// `password` is missing; a transport error when no HTTP client was given and one cannot be
    /// created.
    pub fn build(self) -> Result<PasswordSource> {
        let client_id = required_client_id(self.client_id)?;
        let client_secret = required_client_secret(self.client_secret)?;
        let username = required(self.username, "username", "the Salesforce username")?;
        let password = required_secret(self.password, "password", "the user's password")?;
        let password = match self.security_token {
            Some(token) if !token.expose_secret().is_empty() => SecretString::from(format!(
                "{}{}",
                password.expose_secret(),
                token.expose_secret()
            )),
            _ => password,
        };
        Ok(PasswordSource {
            client_id,
            client_secret,
            username,
            password,
            endpoint: self.base.into_endpoint()?,
            cache: TokenCache::new(None),
        })
    }
}

impl fmt::Debug for PasswordSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordSourceBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("base", &self.base)
            .finish()
    }
}
