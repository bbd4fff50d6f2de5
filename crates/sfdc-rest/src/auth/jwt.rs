//! The OAuth JWT bearer grant (server-to-server as a named user, RS256-signed assertion).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::AccessToken;
use super::endpoint::EndpointBase;
use super::endpoint::{ClientAuth, TokenEndpoint, required, required_client_id, required_secret};
use super::single_flight::TokenCache;
use crate::{Error, Result};

/// Salesforce rejects assertions whose `exp` is more than three minutes ahead.
const MAX_LIFETIME: Duration = Duration::from_secs(180);

/// The grant type of the JWT bearer flow (RFC 7523).
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Tokens from the OAuth JWT bearer grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
///
/// For unattended server-to-server access as a named user. Upload the certificate of an RSA key
/// pair to the connected app, pre-authorise the user (or profile), and give this source the private
/// key. Each token request signs a fresh assertion with RS256 (header `{"typ":"JWT","alg":"RS256"}`)
/// and the claims:
///
/// | Claim | Value |
/// |---|---|
/// | `iss` | the connected app's consumer key (`client_id`) |
/// | `sub` | the Salesforce username |
/// | `aud` | [`JwtBearerSourceBuilder::audience`], default [`LoginHost::default_jwt_audience`](super::LoginHost::default_jwt_audience) |
/// | `exp` | now + the assertion lifetime (default and maximum 3 minutes), in epoch seconds |
///
/// The request body is `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`. No
/// refresh token is issued; a refresh signs a new assertion.
///
/// # Examples
///
/// ```no_run
/// use sfdc_rest::auth::{JwtBearerSource, LoginHost, TokenSource};
///
/// # async fn run() -> sfdc_rest::Result<()> {
/// let pem = std::fs::read_to_string("/run/secrets/salesforce.key").unwrap_or_default();
/// let source = JwtBearerSource::builder()
///     .login_host(LoginHost::production())
///     .client_id("3MVG9...")
///     .username("integration@example.com")
///     .private_key_pem(pem)
///     .build()?;
/// let token = source.token().await?;
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
pub struct JwtBearerSource {
    client_id: String,
    username: String,
    audience: String,
    lifetime: Duration,
    key: EncodingKey,
    endpoint: TokenEndpoint,
    cache: TokenCache,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

impl JwtBearerSource {
    /// Returns a builder; `client_id`, `username` and `private_key_pem` are required.
    pub fn builder() -> JwtBearerSourceBuilder {
        JwtBearerSourceBuilder::default()
    }

    /// Signs an assertion expiring `lifetime` from now.
    fn assertion(&self) -> Result<SecretString> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::config("the system clock is before 1970; cannot sign a JWT"))?;
        let claims = Claims {
            iss: &self.client_id,
            sub: &self.username,
            aud: &self.audience,
            exp: (now + self.lifetime).as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| Error::config(format!("could not sign the JWT bearer assertion: {e}")))
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let assertion = self.assertion()?;
        let form = [
            ("grant_type", GRANT_TYPE),
            ("assertion", assertion.expose_secret()),
        ];
        self.endpoint.request_token(&form, ClientAuth::None).await
    }
}

cached_token_source!(JwtBearerSource, "jwt_bearer");

impl fmt::Debug for JwtBearerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerSource")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("private_key", &"[REDACTED]")
            .field("token_url", &self.endpoint.url().as_str())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Builder for [`JwtBearerSource`]; setters never fail, [`build`](Self::build) validates.
#[cfg_attr(docsrs, doc(cfg(feature = "jwt")))]
#[derive(Default)]
pub struct JwtBearerSourceBuilder {
    client_id: Option<String>,
    username: Option<String>,
    private_key_pem: Option<SecretString>,
    audience: Option<String>,
    lifetime: Option<Duration>,
    base: EndpointBase,
}

impl JwtBearerSourceBuilder {
    endpoint_setters!();

    /// Sets the connected app's consumer key, sent as `iss` (required).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Sets the Salesforce username, sent as `sub` (required).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the RSA private key in PEM form, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8
    /// (`BEGIN PRIVATE KEY`), at least 2048 bits (required).
    pub fn private_key_pem(mut self, pem: impl Into<SecretString>) -> Self {
        self.private_key_pem = Some(pem.into());
        self
    }

    /// Overrides the `aud` claim (default [`LoginHost::default_jwt_audience`](super::LoginHost::default_jwt_audience)); e.g. an Experience
    /// Cloud site URL.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets how far ahead `exp` is (default and maximum 3 minutes, as Salesforce requires).
    pub fn assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Builds the source, parsing the private key.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `client_id`, `username` or `private_key_pem` is missing, the key is
    /// not an RSA private key in PEM form, or the assertion lifetime is zero or over 3 minutes; a
    /// transport error when no HTTP client was given and one cannot be created.
    pub fn build(self) -> Result<JwtBearerSource> {
        let client_id = required_client_id(self.client_id)?;
        let username = required(self.username, "username", "the Salesforce username")?;
        let pem = required_secret(
            self.private_key_pem,
            "private_key_pem",
            "the RSA private key whose certificate is uploaded to the connected app",
        )?;
        let lifetime = self.lifetime.unwrap_or(MAX_LIFETIME);
        if lifetime.is_zero() || lifetime > MAX_LIFETIME {
            return Err(Error::config(format!(
                "assertion_lifetime must be between 1 s and 180 s (Salesforce rejects JWTs expiring more than 3 minutes ahead); got {lifetime:?}"
            )));
        }
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            // Several TLS features select several signing backends, and jsonwebtoken then has no
            // default: take the one of the TLS backend in use (aws-lc-rs when `rustls` is on).
            #[cfg(feature = "rustls")]
            let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
            #[cfg(not(feature = "rustls"))]
            let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        }
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err(Error::config(
                "JWT signing has no crypto backend: enable a TLS feature of sfdc-rest (`rustls`, `rustls-ring` or `native-tls`), which selects it",
            ));
        }
        let key = EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|_| {
            Error::config(
                "private_key_pem is not an RSA private key in PEM form (expected `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN PRIVATE KEY-----`)",
            )
        })?;
        let audience = self
            .audience
            .unwrap_or_else(|| self.base.login_host.default_jwt_audience());
        Ok(JwtBearerSource {
            client_id,
            username,
            audience,
            lifetime,
            key,
            endpoint: self.base.into_endpoint()?,
            cache: TokenCache::new(None),
        })
    }
}

impl fmt::Debug for JwtBearerSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerSourceBuilder")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "[REDACTED]"),
            )
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("base", &self.base)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_key_and_lifetime_without_echoing_the_key() {
        let err = JwtBearerSource::builder()
            .client_id("id")
            .username("u@example.com")
            .private_key_pem(
                "-----BEGIN PRIVATE KEY-----\nNOTAKEYSECRET\n-----END PRIVATE KEY-----\n",
            )
            .build()
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("private_key_pem"), "{shown}");
        assert!(!shown.contains("NOTAKEYSECRET"), "{shown}");

        let err = JwtBearerSource::builder()
            .client_id("id")
            .username("u@example.com")
            .private_key_pem("x")
            .assertion_lifetime(Duration::from_secs(181))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("3 minutes"), "{err}");
    }
}
