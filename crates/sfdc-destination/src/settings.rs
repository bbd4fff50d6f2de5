//! [`Settings`]: the destination configuration (serde: TOML or JSON) and how it becomes a
//! REST client.

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use serde::Deserialize;
use sfdc_actions::ActionConfig;
#[cfg(feature = "jwt")]
use sfdc_rest::auth::JwtBearerSource;
use sfdc_rest::auth::{
    ClientCredentialsSource, FileTokenStore, LoginHost, RefreshTokenSource, TokenSource, TokenStore,
};

use crate::client_settings::ClientSettings;
use crate::error::{Error, Result};
use crate::transport_settings::TransportSettings;

/// The destination settings: where the org is, how to authenticate, and the subscriptions.
///
/// Secrets are [`SecretString`]s: `Debug` shows `[REDACTED]` for them, and they are never
/// logged.
///
/// ```
/// let settings = sfdc_destination::Settings::from_toml_str(r#"
///     is_sandbox = true
///
///     [auth]
///     type = "refresh_token"
///     client_id = "3MVG9..."
///     client_secret = "secret"
///     refresh_token = "5Aep861..."
///
///     [[subscriptions]]
///     action = "lead"
///     operation = "upsert"
///     record_matchers = { Email = { "@path" = "$.traits.email" } }
/// "#)?;
/// assert_eq!(settings.login_host()?.token_endpoint(), "https://test.salesforce.com/services/oauth2/token");
/// assert!(!format!("{settings:?}").contains("secret\""));
/// # Ok::<(), sfdc_destination::Error>(())
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// The org's instance URL, e.g. `https://acme.my.salesforce.com`. Optional: without it the
    /// URL is taken from the OAuth token response (required with [`AuthSettings::AccessToken`]).
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Authenticate against a sandbox: the token host becomes `test.salesforce.com`. Default
    /// `false` (`login.salesforce.com`). Ignored when `login_host` or `token_url` is set.
    #[serde(default)]
    pub is_sandbox: bool,
    /// A My Domain host issuing tokens (`acme.my.salesforce.com`); required by the
    /// client-credentials flow. Overrides `is_sandbox`.
    #[serde(default)]
    pub login_host: Option<String>,
    /// An explicit token endpoint URL (`https://…/services/oauth2/token`). Overrides
    /// `login_host` and `is_sandbox`. Plain `http` is accepted only on loopback and only with
    /// `allow_insecure_loopback` (tests, the emulator).
    #[serde(default)]
    pub token_url: Option<String>,
    /// Allow plain `http` instance and token URLs on loopback addresses (the emulator). Default
    /// `false`.
    #[serde(default)]
    pub allow_insecure_loopback: bool,
    /// The REST API version, e.g. `62.0`. Default: the `sfdc-rest` default (62.0).
    #[serde(default)]
    pub api_version: Option<String>,
    /// How to obtain access tokens.
    pub auth: AuthSettings,
    /// The subscriptions: one action configuration each, with its trigger.
    #[serde(default)]
    pub subscriptions: Vec<ActionConfig>,
    /// Trust a `login_host` or `token_url` outside the Salesforce domains (a site on its own
    /// domain, a proxy you run): the explicit opt-in to send credentials there. Default `false`:
    /// they must be on a Salesforce domain, like instance URLs.
    #[serde(default)]
    pub trusted_login_host: bool,
    /// `[client]`: the REST client's knobs (API budget, retries, connect and read-idle
    /// timeouts, user agent, Salesforce headers); see [`ClientSettings`].
    #[serde(default)]
    pub client: ClientSettings,
    /// `[transport]`: overrides of the transport guards (header deadlines, minimum throughput,
    /// body caps, query page cap); see [`TransportSettings`].
    #[serde(default)]
    pub transport: TransportSettings,
    /// `[executor]`: concurrency, Composite packing, pre-flight and bisection; see
    /// [`crate::ExecutorSettings`].
    #[serde(default)]
    pub executor: crate::ExecutorSettings,
    /// A token store set in code ([`Settings::with_token_store`]); wins over `auth.token_store`.
    #[serde(skip)]
    token_store: Option<Arc<dyn TokenStore>>,
}

/// How the destination obtains access tokens, tagged by `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum AuthSettings {
    /// OAuth refresh-token flow (what the OAuth service stores): refreshed on expiry.
    RefreshToken {
        /// The connected app's consumer key.
        client_id: String,
        /// The connected app's consumer secret (optional for apps that do not require it).
        #[serde(default)]
        client_secret: Option<SecretString>,
        /// The refresh token. Optional when `token_store` names a file that holds one (written by
        /// `sfdc-sync login`, or by an earlier rotation): a stored token wins.
        #[serde(default)]
        refresh_token: Option<SecretString>,
        /// A file keeping the newest refresh token across restarts (a
        /// [`FileTokenStore`]: written atomically, mode 0600): read at start (it wins over
        /// `refresh_token`) and before each refresh, and rewritten on every rotation. Needed
        /// when the app rotates refresh tokens, else the next start presents a spent token and
        /// Salesforce revokes the grant.
        #[serde(default)]
        token_store: Option<PathBuf>,
    },
    /// A fixed access token (needs `instance_url`); not refreshed.
    AccessToken {
        /// The access token.
        access_token: SecretString,
    },
    /// OAuth client-credentials flow (needs `login_host` = My Domain, or `token_url`).
    ClientCredentials {
        /// The connected app's consumer key.
        client_id: String,
        /// The connected app's consumer secret.
        client_secret: SecretString,
    },
    /// OAuth JWT bearer flow.
    JwtBearer {
        /// The connected app's consumer key.
        client_id: String,
        /// The Salesforce username to act as.
        username: String,
        /// The RSA private key, PEM.
        private_key_pem: SecretString,
    },
    /// OAuth username-password flow. **Legacy**: Salesforce is deprecating it and blocks it in new
    /// orgs; prefer `jwt_bearer` (servers) or `client_credentials`. Needs the non-default feature
    /// `password-flow`.
    #[cfg(feature = "password-flow")]
    #[cfg_attr(docsrs, doc(cfg(feature = "password-flow")))]
    Password {
        /// The connected app's consumer key.
        client_id: String,
        /// The connected app's consumer secret (optional for apps that do not require it).
        #[serde(default)]
        client_secret: Option<SecretString>,
        /// The Salesforce username.
        username: String,
        /// The user's password.
        password: SecretString,
        /// The user's security token, appended to the password as Salesforce requires when the
        /// login IP is not trusted (optional).
        #[serde(default)]
        security_token: Option<SecretString>,
    },
}

impl Settings {
    /// Creates settings from an auth method, with every other setting at its default and no
    /// subscription.
    pub fn new(auth: AuthSettings) -> Settings {
        Settings {
            instance_url: None,
            is_sandbox: false,
            login_host: None,
            token_url: None,
            allow_insecure_loopback: false,
            api_version: None,
            auth,
            subscriptions: Vec::new(),
            trusted_login_host: false,
            client: ClientSettings::default(),
            transport: TransportSettings::default(),
            executor: crate::ExecutorSettings::default(),
            token_store: None,
        }
    }

    /// Keeps the refresh token of `auth.type = "refresh_token"` in `store` (your own secret
    /// store) instead of the `auth.token_store` file; see
    /// [`RefreshTokenSourceBuilder::token_store`](sfdc_rest::auth::RefreshTokenSourceBuilder::token_store).
    /// Ignored by the other auth types.
    pub fn with_token_store(mut self, store: Arc<dyn TokenStore>) -> Settings {
        self.token_store = Some(store);
        self
    }

    /// Returns the token store of the refresh-token flow: the one set with
    /// [`Settings::with_token_store`], else a [`FileTokenStore`] for `auth.token_store`.
    pub fn token_store(&self) -> Option<Arc<dyn TokenStore>> {
        if let Some(store) = &self.token_store {
            return Some(store.clone());
        }
        match &self.auth {
            AuthSettings::RefreshToken {
                token_store: Some(path),
                ..
            } => Some(Arc::new(FileTokenStore::new(path.clone()))),
            _ => None,
        }
    }

    /// Parses settings from TOML text.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] with the line, column, key path and the parser's explanation when the text
    /// is not valid. It never contains value text: quoted fragments and source excerpts of the
    /// parser's message are removed, so a mistyped or unterminated secret is not printed.
    pub fn from_toml_str(text: &str) -> Result<Settings> {
        toml::from_str(text).map_err(|e| crate::parse_error::from_toml(&e, text))
    }

    /// Parses settings from JSON text.
    ///
    /// # Errors
    ///
    /// [`Error::Parse`] as for [`Settings::from_toml_str`]: line, column, key, never value text.
    pub fn from_json_str(text: &str) -> Result<Settings> {
        serde_json::from_str(text).map_err(|e| crate::parse_error::from_json(&e, text))
    }

    /// Returns the host that issues tokens: `token_url` if set, else `login_host` (My Domain),
    /// else `test.salesforce.com` when `is_sandbox`, else `login.salesforce.com`.
    ///
    /// # Errors
    ///
    /// [`Error::Settings`] when `token_url` or `login_host` is not a valid URL or host (an
    /// `http` token URL needs `allow_insecure_loopback` and a loopback address; a host outside
    /// the Salesforce domains needs `trusted_login_host = true`).
    pub fn login_host(&self) -> Result<LoginHost> {
        let host = if let Some(url) = &self.token_url {
            if self.allow_insecure_loopback {
                LoginHost::insecure_loopback_token_url(url)
            } else if self.trusted_login_host {
                LoginHost::trusted_token_url(url)
            } else {
                LoginHost::token_url(url)
            }
        } else if let Some(host) = &self.login_host {
            if self.trusted_login_host {
                LoginHost::trusted_my_domain(host)
            } else {
                LoginHost::my_domain(host)
            }
        } else {
            Ok(LoginHost::from_sandbox_flag(self.is_sandbox))
        };
        host.map_err(|e| Error::settings(e.to_string()))
    }

    /// Builds the REST client these settings describe; without `instance_url`, fetches a token
    /// first and uses the instance URL of the token response.
    pub(crate) async fn connect(&self) -> Result<sfdc_rest::Client> {
        let mut builder = sfdc_rest::Client::builder()
            .allow_insecure_loopback(self.allow_insecure_loopback)
            .timeouts(self.transport.timeouts())
            .body_limits(self.transport.body_limits());
        builder = self.client.apply(builder);
        if let Some(url) = &self.instance_url {
            builder = builder.instance_url(url.clone());
        }
        if let Some(version) = &self.api_version {
            builder = builder.api_version(version);
        }
        builder = match &self.auth {
            AuthSettings::AccessToken { access_token } => {
                if self.instance_url.is_none() {
                    return Err(Error::settings(
                        "auth type access_token needs instance_url: set it to the org's URL, e.g. https://acme.my.salesforce.com",
                    ));
                }
                builder.access_token(access_token.clone())
            }
            other => builder.token_source_arc(self.token_source(other)?),
        };
        builder.connect().await.map_err(Error::Connect)
    }

    fn token_source(&self, auth: &AuthSettings) -> Result<Arc<dyn TokenSource>> {
        let host = self.login_host()?;
        let (timeouts, limits) = (self.transport.timeouts(), self.transport.body_limits());
        let source: Arc<dyn TokenSource> = match auth {
            AuthSettings::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
                ..
            } => {
                let mut b = RefreshTokenSource::builder()
                    .client_id(client_id.clone())
                    .login_host(host)
                    .guards(timeouts, limits);
                if let Some(token) = refresh_token {
                    b = b.refresh_token(token.clone());
                }
                if let Some(secret) = client_secret {
                    b = b.client_secret(secret.clone());
                }
                if let Some(store) = self.token_store() {
                    b = b.token_store(store);
                }
                Arc::new(b.build().map_err(Error::Connect)?)
            }
            AuthSettings::ClientCredentials {
                client_id,
                client_secret,
            } => Arc::new(
                ClientCredentialsSource::builder()
                    .client_id(client_id.clone())
                    .client_secret(client_secret.clone())
                    .login_host(host)
                    .guards(timeouts, limits)
                    .build()
                    .map_err(Error::Connect)?,
            ),
            #[cfg(not(feature = "jwt"))]
            AuthSettings::JwtBearer { .. } => {
                return Err(Error::settings(
                    "auth type jwt_bearer needs the `jwt` feature of sfdc-destination (on by default)",
                ));
            }
            #[cfg(feature = "jwt")]
            AuthSettings::JwtBearer {
                client_id,
                username,
                private_key_pem,
            } => Arc::new(
                JwtBearerSource::builder()
                    .client_id(client_id.clone())
                    .username(username.clone())
                    .private_key_pem(private_key_pem.clone())
                    .login_host(host)
                    .guards(timeouts, limits)
                    .build()
                    .map_err(Error::Connect)?,
            ),
            #[cfg(feature = "password-flow")]
            AuthSettings::Password {
                client_id,
                client_secret,
                username,
                password,
                security_token,
            } => {
                let mut b = sfdc_rest::auth::PasswordSource::builder()
                    .client_id(client_id.clone())
                    .username(username.clone())
                    .password(password.clone())
                    .login_host(host)
                    .guards(timeouts, limits);
                if let Some(secret) = client_secret {
                    b = b.client_secret(secret.clone());
                }
                if let Some(token) = security_token {
                    b = b.security_token(token.clone());
                }
                Arc::new(b.build().map_err(Error::Connect)?)
            }
            AuthSettings::AccessToken { .. } => {
                return Err(Error::settings("access_token auth has no token source"));
            }
        };
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_TOML: &str = r#"
        [auth]
        type = "refresh_token"
        client_id = "cid"
        client_secret = "very-secret-client-secret"
        refresh_token = "very-secret-refresh-token"
    "#;

    #[test]
    fn sandbox_flag_picks_the_test_login_host() {
        let mut s = Settings::from_toml_str(SECRET_TOML).unwrap();
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        s.is_sandbox = true;
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "https://test.salesforce.com/services/oauth2/token"
        );
        s.login_host = Some("acme.my.salesforce.com".into());
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "https://acme.my.salesforce.com/services/oauth2/token"
        );
    }

    #[test]
    fn insecure_token_url_needs_the_loopback_opt_in() {
        let mut s = Settings::from_toml_str(SECRET_TOML).unwrap();
        s.token_url = Some("http://127.0.0.1:9/services/oauth2/token".into());
        assert!(matches!(s.login_host(), Err(Error::Settings { .. })));
        s.allow_insecure_loopback = true;
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "http://127.0.0.1:9/services/oauth2/token"
        );
    }

    #[test]
    fn custom_login_hosts_need_the_trusted_opt_in() {
        let mut s = Settings::from_toml_str(SECRET_TOML).unwrap();
        s.login_host = Some("login.example.com".into());
        let err = s.login_host().unwrap_err();
        assert!(err.to_string().contains("trusted"), "{err}");
        s.login_host = Some("acme.my.salesforce.com.evil.tld".into());
        assert!(s.login_host().is_err());
        s.login_host = Some("login.example.com".into());
        s.trusted_login_host = true;
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "https://login.example.com/services/oauth2/token"
        );
        s.token_url = Some("https://proxy.example.com/token".into());
        assert_eq!(
            s.login_host().unwrap().token_endpoint(),
            "https://proxy.example.com/token"
        );
        s.trusted_login_host = false;
        assert!(s.login_host().is_err());
    }

    #[test]
    fn transport_table_overrides_the_guards() {
        let text = format!(
            "{SECRET_TOML}\n[transport.timeouts]\nread_headers_ms = 1500\nmin_throughput_bytes_per_sec = 0\n[transport.body_limits]\nmax_query_pages = 7\n"
        );
        let s = Settings::from_toml_str(&text).unwrap();
        let t = s.transport.timeouts();
        assert_eq!(t.read_headers, std::time::Duration::from_millis(1500));
        assert_eq!(t.min_throughput, 0);
        assert_eq!(
            t.write_headers,
            sfdc_rest::Timeouts::default().write_headers
        );
        let b = s.transport.body_limits();
        assert_eq!(b.max_query_pages, 7);
        assert_eq!(b.error_body, sfdc_rest::BodyLimits::default().error_body);
        let json = Settings::from_json_str(
            r#"{"auth": {"type": "access_token", "access_token": "t"},
                "transport": {"body_limits": {"response_body_bytes": 4096}}}"#,
        )
        .unwrap();
        assert_eq!(json.transport.body_limits().response_body, 4096);
        assert_eq!(json.transport.timeouts(), sfdc_rest::Timeouts::default());
        let err = Settings::from_toml_str(&format!(
            "{SECRET_TOML}\n[transport.timeouts]\nread_header_ms = 1\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("read_header_ms"), "{err}");
    }

    #[test]
    fn debug_hides_every_secret() {
        let s = Settings::from_toml_str(SECRET_TOML).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(debug.contains("cid"));
        let s = Settings::from_json_str(
            r#"{"instance_url": "https://x.my.salesforce.com",
                "auth": {"type": "access_token", "access_token": "00D!very-secret-token"}}"#,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("very-secret"));
        let s = Settings::new(AuthSettings::JwtBearer {
            client_id: "c".into(),
            username: "u".into(),
            private_key_pem: "very-secret-pem".into(),
        });
        assert!(!format!("{s:?}").contains("very-secret"));
    }

    #[test]
    fn token_store_file_or_custom_store() {
        let s = Settings::from_toml_str(
            "[auth]\ntype = \"refresh_token\"\nclient_id = \"c\"\ntoken_store = \"/var/lib/app/rt\"\n",
        )
        .unwrap();
        let store = s.token_store().unwrap();
        assert!(format!("{store:?}").contains("/var/lib/app/rt"));
        let custom: Arc<dyn TokenStore> = Arc::new(FileTokenStore::new("/elsewhere"));
        let s = s.with_token_store(custom);
        assert!(format!("{:?}", s.token_store().unwrap()).contains("/elsewhere"));
        let s = Settings::from_toml_str(SECRET_TOML).unwrap();
        assert!(s.token_store().is_none());
    }

    #[tokio::test]
    async fn no_refresh_token_and_an_empty_store_is_a_connect_error_without_secrets() {
        let dir = std::env::temp_dir().join(format!("sfdc-dest-store-{}", std::process::id()));
        let text = format!(
            "[auth]\ntype = \"refresh_token\"\nclient_id = \"c\"\nclient_secret = \"very-secret-x\"\ntoken_store = {:?}\n",
            dir.join("absent").display().to_string()
        );
        let s = Settings::from_toml_str(&text).unwrap();
        let err = s.connect().await.unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("refresh_token"), "{shown}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn unknown_keys_and_bad_subscriptions_are_parse_errors() {
        let err = Settings::from_toml_str(
            "is_sandboxx = true\n[auth]\ntype = \"access_token\"\naccess_token = \"t\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("is_sandboxx"), "{err}");
        let err = Settings::from_toml_str(
            "[auth]\ntype = \"access_token\"\naccess_token = \"t\"\n[[subscriptions]]\naction = \"nope\"",
        )
        .unwrap_err();
        assert!(matches!(err, Error::Parse { .. }));
    }
}
