//! Where OAuth token requests go: production, sandbox, My Domain, or an explicit token URL.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::{Error, Result};

const PRODUCTION: &str = "https://login.salesforce.com";
const SANDBOX: &str = "https://test.salesforce.com";
const TOKEN_PATH: &str = "/services/oauth2/token";

/// The host that issues tokens: `login.salesforce.com`, `test.salesforce.com`, the org's My Domain,
/// or an explicit token URL.
///
/// Token requests go to `{host}/services/oauth2/token`. The default is [`LoginHost::production`].
///
/// | Org | Constructor |
/// |---|---|
/// | Production, Developer Edition | [`LoginHost::production`] |
/// | Sandbox | [`LoginHost::sandbox`] (or [`LoginHost::from_sandbox_flag`]`(true)`) |
/// | My Domain (`acme.my.salesforce.com`, `acme--uat.sandbox.my.salesforce.com`), Experience Cloud site | [`LoginHost::my_domain`] |
/// | A specific token endpoint on a Salesforce domain | [`LoginHost::token_url`] |
/// | A trusted custom host (own-domain site, proxy): explicit opt-in | [`LoginHost::trusted_my_domain`], [`LoginHost::trusted_token_url`] |
/// | Local emulator / mock over plain HTTP on loopback | [`LoginHost::insecure_loopback_token_url`] |
///
/// # Examples
///
/// ```
/// use sfdc_rest::auth::LoginHost;
///
/// # fn run() -> sfdc_rest::Result<()> {
/// let host = LoginHost::from_sandbox_flag(true);
/// assert_eq!(host.token_endpoint(), "https://test.salesforce.com/services/oauth2/token");
///
/// let host = LoginHost::my_domain("acme.my.salesforce.com")?;
/// assert_eq!(host.token_endpoint(), "https://acme.my.salesforce.com/services/oauth2/token");
/// # Ok(()) }
/// # run().unwrap();
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct LoginHost {
    kind: Kind,
    /// Base URL without trailing slash (`https://login.salesforce.com`), or for [`Kind::TokenUrl`]
    /// the full token URL.
    url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Production,
    Sandbox,
    MyDomain,
    TokenUrl,
}

impl LoginHost {
    /// Returns `https://login.salesforce.com`, for production orgs and Developer Edition.
    pub fn production() -> Self {
        Self {
            kind: Kind::Production,
            url: PRODUCTION.to_owned(),
        }
    }

    /// Returns `https://test.salesforce.com`, for sandboxes.
    pub fn sandbox() -> Self {
        Self {
            kind: Kind::Sandbox,
            url: SANDBOX.to_owned(),
        }
    }

    /// Returns [`LoginHost::sandbox`] when `is_sandbox` is true, else [`LoginHost::production`]
    /// (the "Is Sandbox" setting).
    pub fn from_sandbox_flag(is_sandbox: bool) -> Self {
        if is_sandbox {
            Self::sandbox()
        } else {
            Self::production()
        }
    }

    /// Returns the org's My Domain host (or an Experience Cloud site URL).
    ///
    /// Accepts a bare host (`acme.my.salesforce.com`) or an `https://` URL, optionally with a path
    /// prefix for Experience Cloud sites (`https://acme.my.site.com/partners`). The host must be
    /// on a Salesforce domain, as for instance URLs ([`crate::validate_instance_url`]); for a
    /// custom domain opt in with [`LoginHost::trusted_my_domain`]. Required for the
    /// client-credentials flow.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the value is not an `https` URL with a host, or has a query, fragment
    /// or user info.
    pub fn my_domain(host: impl AsRef<str>) -> Result<Self> {
        let host = Self::trusted_my_domain(host)?;
        check_allowed(&host.url, "My Domain host", "LoginHost::trusted_my_domain")?;
        Ok(host)
    }

    /// Like [`LoginHost::my_domain`] but for a trusted custom host outside the Salesforce domains
    /// (an Experience Cloud site on its own domain, e.g. `https://example.com/partners`): the
    /// explicit opt-in. Tokens and credentials go to this host; use it only for a host you trust.
    ///
    /// # Errors
    ///
    /// As [`LoginHost::my_domain`], except for the allow-list.
    pub fn trusted_my_domain(host: impl AsRef<str>) -> Result<Self> {
        let raw = host.as_ref().trim();
        let with_scheme = if raw.contains("://") {
            raw.to_owned()
        } else {
            format!("https://{raw}")
        };
        let url = parse(&with_scheme, "My Domain host")?;
        check_plain(&url, "My Domain host")?;
        if url.scheme() != "https" {
            return Err(Error::config(format!(
                "My Domain host {raw:?} must use https (e.g. \"https://acme.my.salesforce.com\")"
            )));
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            kind: Kind::MyDomain,
            url: base,
        })
    }

    /// Returns an explicit token endpoint, used as given (`https://…/services/oauth2/token`).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the URL is not `https` or has a query, fragment or user info. For plain
    /// HTTP on loopback use [`LoginHost::insecure_loopback_token_url`].
    pub fn token_url(url: impl AsRef<str>) -> Result<Self> {
        let host = Self::trusted_token_url(url)?;
        check_allowed(&host.url, "token URL", "LoginHost::trusted_token_url")?;
        Ok(host)
    }

    /// Like [`LoginHost::token_url`] but for a trusted custom host outside the Salesforce domains
    /// (e.g. a proxy you run): the explicit opt-in. Credentials are posted to this URL; use it
    /// only for a host you trust.
    ///
    /// # Errors
    ///
    /// As [`LoginHost::token_url`], except for the allow-list.
    pub fn trusted_token_url(url: impl AsRef<str>) -> Result<Self> {
        let url = parse(url.as_ref(), "token URL")?;
        check_plain(&url, "token URL")?;
        if url.scheme() != "https" {
            return Err(Error::config(format!(
                "token URL {:?} must use https; plain http is only allowed on loopback via LoginHost::insecure_loopback_token_url",
                url.as_str()
            )));
        }
        Ok(Self {
            kind: Kind::TokenUrl,
            url: url.into(),
        })
    }

    /// Returns an explicit token endpoint that may use plain `http`, but only on a loopback address
    /// (`127.0.0.0/8`, `::1`, `localhost`). Meant for tests against a local mock or emulator.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the URL is `http` on a non-loopback host, uses another scheme, or has
    /// a query, fragment or user info.
    pub fn insecure_loopback_token_url(url: impl AsRef<str>) -> Result<Self> {
        let url = parse(url.as_ref(), "token URL")?;
        check_plain(&url, "token URL")?;
        match url.scheme() {
            "https" | "http" if is_loopback(&url) => {}
            "https" => check_allowed(url.as_str(), "token URL", "LoginHost::trusted_token_url")?,
            _ => {
                return Err(Error::config(format!(
                    "token URL {:?} must be https, or http on a loopback address (127.0.0.1, ::1, localhost)",
                    url.as_str()
                )));
            }
        }
        Ok(Self {
            kind: Kind::TokenUrl,
            url: url.into(),
        })
    }

    /// Returns the full token endpoint URL, e.g. `https://login.salesforce.com/services/oauth2/token`.
    pub fn token_endpoint(&self) -> String {
        match self.kind {
            Kind::TokenUrl => self.url.clone(),
            _ => format!("{}{TOKEN_PATH}", self.url),
        }
    }

    /// Returns `true` for a My Domain (or Experience Cloud) host.
    pub fn is_my_domain(&self) -> bool {
        self.kind == Kind::MyDomain
    }

    /// Returns `true` for an explicit token URL ([`LoginHost::token_url`] or
    /// [`LoginHost::insecure_loopback_token_url`]).
    pub fn is_explicit_token_url(&self) -> bool {
        self.kind == Kind::TokenUrl
    }

    /// Returns the JWT `aud` claim used when none is set explicitly.
    ///
    /// `https://login.salesforce.com` for production; `https://test.salesforce.com` for sandboxes and
    /// for My Domain hosts ending in `.sandbox.my.salesforce.com`; `https://login.salesforce.com` for
    /// other My Domain hosts (Salesforce documents the generic login hosts as the accepted
    /// audiences); the scheme, host and port of an explicit token URL.
    pub fn default_jwt_audience(&self) -> String {
        match self.kind {
            Kind::Production => PRODUCTION.to_owned(),
            Kind::Sandbox => SANDBOX.to_owned(),
            Kind::MyDomain => {
                let sandbox = Url::parse(&self.url)
                    .ok()
                    .and_then(|u| {
                        u.host_str()
                            .map(|h| h.ends_with(".sandbox.my.salesforce.com"))
                    })
                    .unwrap_or(false);
                if sandbox { SANDBOX } else { PRODUCTION }.to_owned()
            }
            Kind::TokenUrl => Url::parse(&self.url)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| self.url.clone()),
        }
    }

    /// Parses the token endpoint (validated at construction, so this only fails on a bug).
    pub(crate) fn token_endpoint_url(&self) -> Result<Url> {
        parse(&self.token_endpoint(), "token URL")
    }
}

impl Default for LoginHost {
    fn default() -> Self {
        Self::production()
    }
}

impl fmt::Debug for LoginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LoginHost").field(&self.url).finish()
    }
}

impl fmt::Display for LoginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

fn parse(raw: &str, what: &str) -> Result<Url> {
    Url::parse(raw).map_err(|e| Error::config(format!("invalid {what} {raw:?}: {e}")))
}

fn check_plain(url: &Url, what: &str) -> Result<()> {
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!(
            "{what} {:?} has no host",
            url.as_str()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(format!(
            "{what} must not contain user info; pass credentials to the flow's builder instead"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "{what} {:?} must not have a query or fragment",
            url.as_str()
        )));
    }
    Ok(())
}

/// Applies the instance-URL allow-list ([`crate::validate_instance_url`]) to a login host.
fn check_allowed(raw: &str, what: &str, opt_in: &str) -> Result<()> {
    let url = parse(raw, what)?;
    let host = url
        .host_str()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .trim_end_matches('.')
        .to_owned();
    if crate::config::is_salesforce_host(&host) {
        return Ok(());
    }
    Err(Error::config(format!(
        "{what} host {host:?} is not a Salesforce domain (e.g. acme.my.salesforce.com); \
         for a trusted custom host use {opt_in}"
    )))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_hosts() {
        assert_eq!(
            LoginHost::production().token_endpoint(),
            "https://login.salesforce.com/services/oauth2/token"
        );
        assert_eq!(LoginHost::from_sandbox_flag(false), LoginHost::production());
        assert_eq!(
            LoginHost::from_sandbox_flag(true).token_endpoint(),
            "https://test.salesforce.com/services/oauth2/token"
        );
        assert_eq!(LoginHost::default(), LoginHost::production());
    }

    #[test]
    fn my_domain_accepts_host_or_url() {
        for input in [
            "acme.my.salesforce.com",
            "https://acme.my.salesforce.com",
            "https://acme.my.salesforce.com/",
            " acme.my.salesforce.com ",
        ] {
            let host = LoginHost::my_domain(input).unwrap();
            assert!(host.is_my_domain());
            assert_eq!(
                host.token_endpoint(),
                "https://acme.my.salesforce.com/services/oauth2/token",
                "{input}"
            );
            assert_eq!(host.default_jwt_audience(), "https://login.salesforce.com");
        }
        let err = LoginHost::my_domain("https://example.com/partners/").unwrap_err();
        assert!(err.to_string().contains("trusted_my_domain"), "{err}");
        let site = LoginHost::trusted_my_domain("https://example.com/partners/").unwrap();
        assert_eq!(
            site.token_endpoint(),
            "https://example.com/partners/services/oauth2/token"
        );
        let sandbox = LoginHost::my_domain("acme--uat.sandbox.my.salesforce.com").unwrap();
        assert_eq!(
            sandbox.default_jwt_audience(),
            "https://test.salesforce.com"
        );
    }

    #[test]
    fn my_domain_rejects_http_and_junk() {
        for input in [
            "http://acme.my.salesforce.com",
            "https://user:pw@acme.my.salesforce.com",
            "https://acme.my.salesforce.com/?x=1",
            "",
        ] {
            let err = LoginHost::my_domain(input).unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{input}: {err:?}");
        }
    }

    #[test]
    fn token_url_requires_https_unless_loopback_opt_in() {
        let err = LoginHost::token_url("http://127.0.0.1:8080/services/oauth2/token").unwrap_err();
        assert!(
            err.to_string().contains("insecure_loopback_token_url"),
            "{err}"
        );
        let err = LoginHost::token_url("https://proxy.example.com/oauth/token").unwrap_err();
        assert!(err.to_string().contains("trusted_token_url"), "{err}");
        for lookalike in [
            "https://login.salesforce.com.evil.tld/services/oauth2/token",
            "https://evil.tld/login.salesforce.com/services/oauth2/token",
        ] {
            assert!(LoginHost::token_url(lookalike).is_err(), "{lookalike}");
            assert!(LoginHost::my_domain(lookalike).is_err(), "{lookalike}");
            assert!(LoginHost::insecure_loopback_token_url(lookalike).is_err());
        }
        assert!(
            LoginHost::token_url("https://acme.my.salesforce.com/services/oauth2/token").is_ok()
        );
        let ok = LoginHost::trusted_token_url("https://proxy.example.com/oauth/token").unwrap();
        assert_eq!(ok.token_endpoint(), "https://proxy.example.com/oauth/token");
        assert!(ok.is_explicit_token_url());

        for url in [
            "http://127.0.0.1:8080/services/oauth2/token",
            "http://localhost:1/services/oauth2/token",
            "http://[::1]:9/services/oauth2/token",
        ] {
            let host = LoginHost::insecure_loopback_token_url(url).unwrap();
            assert_eq!(host.token_endpoint(), url);
        }
        for url in [
            "http://10.0.0.1/services/oauth2/token",
            "http://login.salesforce.com/services/oauth2/token",
            "ftp://127.0.0.1/x",
        ] {
            assert!(
                LoginHost::insecure_loopback_token_url(url).is_err(),
                "{url}"
            );
        }
        let local = LoginHost::insecure_loopback_token_url("http://127.0.0.1:8080/t").unwrap();
        assert_eq!(local.default_jwt_audience(), "http://127.0.0.1:8080");
    }
}
