//! A fixed access token that is never refreshed.

use secrecy::SecretString;
use url::Url;

use super::{AccessToken, TokenSource};
use crate::{Error, Result};

/// A fixed access token (for example a session id minted elsewhere); it cannot be refreshed.
///
/// When Salesforce rejects it, [`TokenSource::refresh`] fails with [`Error::Auth`] code
/// `token_not_refreshable`, so the caller sees the authentication failure instead of a retry loop.
///
/// # Examples
///
/// ```
/// use sfdc_rest::auth::{StaticToken, TokenSource};
///
/// # async fn run() -> sfdc_rest::Result<()> {
/// let instance = url::Url::parse("https://acme.my.salesforce.com").unwrap();
/// let source = StaticToken::new("00D...!AQ...", instance);
/// let token = source.token().await?;
/// assert_eq!(token.instance_url().map(|u| u.as_str()), Some("https://acme.my.salesforce.com/"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StaticToken {
    token: AccessToken,
}

impl StaticToken {
    /// Creates a source that always returns `token` for the org at `instance_url`.
    pub fn new(token: impl Into<SecretString>, instance_url: Url) -> Self {
        Self {
            token: AccessToken::new(token).with_instance_url(instance_url),
        }
    }

    /// Creates a source from an existing [`AccessToken`] (its instance URL may be absent).
    pub fn from_token(token: AccessToken) -> Self {
        Self { token }
    }
}

#[async_trait::async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<AccessToken> {
        Ok(self.token.clone())
    }

    async fn refresh(&self, rejected: &AccessToken) -> Result<AccessToken> {
        if !self.token.same_secret(rejected) {
            return Ok(self.token.clone());
        }
        Err(Error::Auth {
            code: "token_not_refreshable".to_owned(),
            description:
                "Salesforce rejected the static access token and a static token cannot be \
                          refreshed; supply a new token or use a refreshable flow (refresh token, \
                          JWT bearer or client credentials)"
                    .to_owned(),
            // `refresh` is only called after Salesforce rejected the token with HTTP 401.
            status: Some(http::StatusCode::UNAUTHORIZED),
            grant: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_token_and_refuses_refresh() {
        let url = Url::parse("https://acme.my.salesforce.com").unwrap();
        let source = StaticToken::new("STATIC-SECRET", url);
        let token = source.token().await.unwrap();
        let err = source.refresh(&token).await.unwrap_err();
        assert!(err.is_auth());
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(http::StatusCode::UNAUTHORIZED));
        assert!(!format!("{err} {err:?} {source:?}").contains("STATIC-SECRET"));
        // A refresh for some other token returns the static one.
        let other = source.refresh(&AccessToken::new("x")).await.unwrap();
        assert!(other.same_secret(&token));
    }
}
