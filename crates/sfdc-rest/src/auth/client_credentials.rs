//! The OAuth client-credentials grant (server-to-server as the connected app's "Run As" user).

use std::fmt;

use secrecy::SecretString;

use super::AccessToken;
use super::endpoint::EndpointBase;
use super::endpoint::{ClientAuth, TokenEndpoint, required_client_id, required_client_secret};
use super::single_flight::TokenCache;
use crate::{Error, Result};

/// Tokens from the OAuth client-credentials grant (`grant_type=client_credentials`).
///
/// The token runs as the "Run As" user configured on the connected app. Salesforce serves this flow
/// only on the org's **My Domain** host ([`LoginHost::my_domain`](super::LoginHost::my_domain)); `login.salesforce.com` and
/// `test.salesforce.com` answer `invalid_grant` / "request not supported on this domain", so
/// [`build`](ClientCredentialsSourceBuilder::build) rejects them.
///
/// **Client authentication:** the client id and secret are sent with HTTP Basic
/// (`Authorization: Basic base64(client_id:client_secret)`, as RFC 6749 §2.3.1 recommends), not in
/// the body. The body is exactly `grant_type=client_credentials`. No refresh token is issued; a
/// refresh simply requests a new token.
///
/// # Examples
///
/// ```no_run
/// use sfdc_rest::auth::{ClientCredentialsSource, LoginHost, TokenSource};
///
/// # async fn run() -> sfdc_rest::Result<()> {
/// let source = ClientCredentialsSource::builder()
///     .login_host(LoginHost::my_domain("acme.my.salesforce.com")?)
///     .client_id("3MVG9...")
///     .client_secret(std::env::var("SF_CLIENT_SECRET").unwrap_or_default())
///     .build()?;
/// let token = source.token().await?;
/// # Ok(()) }
/// ```
pub struct ClientCredentialsSource {
    client_id: String,
    client_secret: SecretString,
    endpoint: TokenEndpoint,
    cache: TokenCache,
}

impl ClientCredentialsSource {
    /// Returns a builder; `login_host` (My Domain), `client_id` and `client_secret` are required.
    pub fn builder() -> ClientCredentialsSourceBuilder {
        ClientCredentialsSourceBuilder::default()
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let auth = ClientAuth::Basic {
            client_id: &self.client_id,
            client_secret: &self.client_secret,
        };
        self.endpoint
            .request_token(&[("grant_type", "client_credentials")], auth)
            .await
    }
}

cached_token_source!(ClientCredentialsSource, "client_credentials");

impl fmt::Debug for ClientCredentialsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsSource")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("token_url", &self.endpoint.url().as_str())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Builder for [`ClientCredentialsSource`]; setters never fail, [`build`](Self::build) validates.
#[derive(Default)]
pub struct ClientCredentialsSourceBuilder {
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    base: EndpointBase,
}

impl ClientCredentialsSourceBuilder {
    endpoint_setters!();

    client_setters!("Sets the connected app's consumer secret (required).");

    /// Builds the source.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `client_id` or `client_secret` is missing, or the login host is
    /// `login.salesforce.com` / `test.salesforce.com` (use [`LoginHost::my_domain`](super::LoginHost::my_domain)); a transport
    /// error when no HTTP client was given and one cannot be created.
    pub fn build(self) -> Result<ClientCredentialsSource> {
        let client_id = required_client_id(self.client_id)?;
        let client_secret = required_client_secret(self.client_secret)?;
        if !(self.base.login_host.is_my_domain() || self.base.login_host.is_explicit_token_url()) {
            return Err(Error::config(format!(
                "the client-credentials flow only works on the org's My Domain host, not {}; set \
                 login_host(LoginHost::my_domain(\"yourdomain.my.salesforce.com\")?)",
                self.base.login_host
            )));
        }
        Ok(ClientCredentialsSource {
            client_id,
            client_secret,
            endpoint: self.base.into_endpoint()?,
            cache: TokenCache::new(None),
        })
    }
}

impl fmt::Debug for ClientCredentialsSourceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsSourceBuilder")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("base", &self.base)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::LoginHost;

    #[test]
    fn rejects_generic_login_hosts() {
        for host in [LoginHost::production(), LoginHost::sandbox()] {
            let err = ClientCredentialsSource::builder()
                .client_id("id")
                .client_secret("SECRET-CC")
                .login_host(host)
                .build()
                .unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("My Domain"), "{msg}");
            assert!(!msg.contains("SECRET-CC"));
        }
        let err = ClientCredentialsSource::builder()
            .client_id("id")
            .login_host(LoginHost::my_domain("acme.my.salesforce.com").unwrap())
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("client_secret"), "{err}");
    }
}
