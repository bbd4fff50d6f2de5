//! Client configuration: [`ClientBuilder`], [`ApiVersion`] and instance URL validation.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use url::{Host, Url};

use crate::auth::{AccessToken, StaticToken, TokenSource};
use crate::backoff::{Jitter, RandomJitter, Sleeper, TokioSleeper};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::guard::{BodyLimits, Timeouts};
use crate::limits::ApiBudget;
use crate::retry::RetryConfig;
use crate::sforce_headers::SalesforceHeaders;

/// The API version used when none is configured.
pub const DEFAULT_API_VERSION: ApiVersion = ApiVersion {
    major: 62,
    minor: 0,
};

/// The oldest API version Salesforce still serves (7.0–30.0 are retired and answer 410).
const OLDEST_SUPPORTED: u16 = 31;

/// Registrable domains Salesforce serves orgs, My Domains and sites from. An instance URL's host
/// must be a subdomain of one of them (or be configured with [`ClientBuilder::trusted_host`]).
const SALESFORCE_DOMAINS: &[&str] = &[
    "salesforce.com",
    "force.com",
    "cloudforce.com",
    "salesforce-setup.com",
    "database.com",
    "salesforce-sites.com",
    "site.com",
    "salesforce.mil",
    "force.mil",
    "cloudforce.mil",
    "sfcrmapps.cn",
    "sfcrmproducts.cn",
];

/// A Salesforce REST API version such as `62.0`.
///
/// Parses `"62.0"`, `"v62.0"` and `"62"`; displays as `62.0`. Versions below 31.0 are rejected
/// (Salesforce retired them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

impl ApiVersion {
    /// Creates a version from its major number, e.g. `ApiVersion::new(62)` for `62.0`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when `major` is below 31 (retired versions).
    pub fn new(major: u16) -> Result<Self> {
        if major < OLDEST_SUPPORTED {
            return Err(Error::config(format!(
                "API version {major}.0 is retired; use {OLDEST_SUPPORTED}.0 or later (default {DEFAULT_API_VERSION})"
            )));
        }
        Ok(Self { major, minor: 0 })
    }

    /// Returns the major number (62 for `62.0`).
    pub fn major(&self) -> u16 {
        self.major
    }

    /// Returns the path segment used in URLs, e.g. `v62.0`.
    pub fn path_segment(&self) -> String {
        format!("v{self}")
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        DEFAULT_API_VERSION
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::config(format!(
                "invalid API version {s:?}: expected a number such as \"{DEFAULT_API_VERSION}\""
            ))
        };
        let t = s.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let (major, minor) = t.split_once('.').unwrap_or((t, "0"));
        let major: u16 = major.parse().map_err(|_| bad())?;
        let minor: u16 = minor.parse().map_err(|_| bad())?;
        let mut v = Self::new(major)?;
        v.minor = minor;
        Ok(v)
    }
}

/// Checks an instance URL and returns it normalised (no path, query or trailing slash content).
///
/// Accepted: `https` URLs whose parsed host is a subdomain of a Salesforce domain (`*.salesforce.com`,
/// `*.force.com`, `*.cloudforce.com`, `*.salesforce-setup.com`, `*.database.com`,
/// `*.salesforce-sites.com`, `*.site.com`, `*.salesforce.mil`, `*.force.mil`, `*.cloudforce.mil`,
/// `*.sfcrmapps.cn`, `*.sfcrmproducts.cn`) or one of `trusted_hosts` (exact match). With
/// `allow_insecure_loopback`, `http` or `https` to `127.0.0.0/8`, `::1` or `localhost` is accepted too
/// (for the local emulator).
///
/// The check runs on the parsed host, so `https://evil.tld/x.salesforce.com` and
/// `https://x.salesforce.com.evil.tld` are rejected.
///
/// # Errors
///
/// [`Error::Config`] explaining which rule failed.
pub fn validate_instance_url(
    raw: &str,
    allow_insecure_loopback: bool,
    trusted_hosts: &[String],
) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::config(format!("invalid instance URL {raw:?}: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "instance URL must not contain user info; authenticate with a token source instead",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "instance URL {raw:?} must not have a query or fragment; use e.g. \"https://acme.my.salesforce.com\""
        )));
    }
    if !matches!(url.path(), "" | "/") {
        return Err(Error::config(format!(
            "instance URL {raw:?} must not have a path; use only scheme and host, e.g. \"https://acme.my.salesforce.com\""
        )));
    }
    let loopback = is_loopback(url.host());
    match (url.scheme(), loopback) {
        ("https", true) | ("http", true) if allow_insecure_loopback => return Ok(url),
        ("http", true) => {
            return Err(Error::config(format!(
                "instance URL {raw:?} uses plain http on loopback; call ClientBuilder::allow_insecure_loopback(true) to allow it (emulator only)"
            )));
        }
        ("https", _) => {}
        (scheme, _) => {
            return Err(Error::config(format!(
                "instance URL {raw:?} must use https (got {scheme:?})"
            )));
        }
    }
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_ascii_lowercase(),
        _ => {
            return Err(Error::config(format!(
                "instance URL {raw:?} must name a Salesforce host, not an IP address"
            )));
        }
    };
    let host = host.trim_end_matches('.');
    let trusted =
        trusted_hosts.iter().any(|t| t.eq_ignore_ascii_case(host)) || is_salesforce_host(host);
    if !trusted {
        return Err(Error::config(format!(
            "instance URL host {host:?} is not a Salesforce domain (e.g. *.my.salesforce.com); \
             for a custom domain call ClientBuilder::trusted_host({host:?})"
        )));
    }
    Ok(url)
}

/// Returns `true` when `host` (lower case, no trailing dot) is a subdomain of a Salesforce domain:
/// the one allow-list of instance URLs and login hosts.
pub(crate) fn is_salesforce_host(host: &str) -> bool {
    SALESFORCE_DOMAINS.iter().any(|domain| {
        host.strip_suffix(domain)
            .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
    })
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Builds a [`Client`]. Setters never fail; [`ClientBuilder::build`] / [`ClientBuilder::connect`]
/// validate.
///
/// # Instance URL rule
///
/// The instance URL set with [`ClientBuilder::instance_url`] always wins. Without one,
/// [`ClientBuilder::connect`] fetches a token first and uses the `instance_url` that came with it
/// (validated by the same rules); [`ClientBuilder::build`] then fails. An `instance_url` carried by
/// later (refreshed) tokens is ignored: a client talks to one instance for its whole life.
#[must_use]
pub struct ClientBuilder {
    instance_url: Option<String>,
    api_version: Option<String>,
    token_source: Option<Arc<dyn TokenSource>>,
    access_token: Option<SecretString>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    read_timeout: Option<Duration>,
    user_agent: String,
    http: Option<reqwest::Client>,
    retry: RetryConfig,
    budget: Option<ApiBudget>,
    allow_insecure_loopback: bool,
    trusted_hosts: Vec<String>,
    sleeper: Arc<dyn Sleeper>,
    jitter: Arc<dyn Jitter>,
    body_limits: BodyLimits,
    timeouts: Timeouts,
    salesforce_headers: SalesforceHeaders,
    request_compression: Option<usize>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("instance_url", &self.instance_url)
            .field("api_version", &self.api_version)
            .field("token_source", &self.token_source)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("budget", &self.budget)
            .field("allow_insecure_loopback", &self.allow_insecure_loopback)
            .field("trusted_hosts", &self.trusted_hosts)
            .field("body_limits", &self.body_limits)
            .field("timeouts", &self.timeouts)
            .field("request_compression", &self.request_compression)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            instance_url: None,
            api_version: None,
            token_source: None,
            access_token: None,
            timeout: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Some(Duration::from_secs(120)),
            user_agent: concat!("sfdc-rest/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
            retry: RetryConfig::default(),
            budget: None,
            allow_insecure_loopback: false,
            trusted_hosts: Vec::new(),
            sleeper: Arc::new(TokioSleeper),
            jitter: Arc::new(RandomJitter),
            body_limits: BodyLimits::default(),
            timeouts: Timeouts::default(),
            salesforce_headers: SalesforceHeaders::default(),
            request_compression: Some(crate::body::DEFAULT_REQUEST_COMPRESSION),
        }
    }
}

impl ClientBuilder {
    /// Creates a builder with defaults (API 62.0, 10 s connect timeout, 120 s read timeout, no total
    /// timeout, [`RetryConfig::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the org's instance URL, e.g. `https://acme.my.salesforce.com` (see the type docs for the
    /// rule when it is not set).
    pub fn instance_url(mut self, url: impl Into<String>) -> Self {
        self.instance_url = Some(url.into());
        self
    }

    /// Sets the API version, e.g. `"62.0"` or an [`ApiVersion`] (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl fmt::Display) -> Self {
        self.api_version = Some(version.to_string());
        self
    }

    /// Sets the token source (any flow of [`crate::auth`], or your own [`TokenSource`]).
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.token_source = Some(Arc::new(source));
        self.access_token = None;
        self
    }

    /// Sets a shared token source (e.g. one source used by several clients).
    pub fn token_source_arc(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.token_source = Some(source);
        self.access_token = None;
        self
    }

    /// Uses a fixed access token (a [`StaticToken`]); it cannot be refreshed, so a 401 surfaces as an
    /// error. Requires [`ClientBuilder::instance_url`].
    pub fn access_token(mut self, token: impl Into<SecretString>) -> Self {
        self.access_token = Some(token.into());
        self.token_source = None;
        self
    }

    /// Sets a total timeout per HTTP attempt, body included (default: none; beware of large
    /// downloads). Salesforce itself stops any call after 10 minutes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the idle read timeout between received chunks (default 120 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Sets the Salesforce headers sent with every API call (default: none, Salesforce's
    /// defaults apply), e.g. `Sforce-Duplicate-Rule-Header` and `Sforce-Auto-Assign`.
    pub fn salesforce_headers(mut self, headers: SalesforceHeaders) -> Self {
        self.salesforce_headers = headers;
        self
    }

    /// Sets the `User-Agent` header (default `sfdc-rest/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Uses an existing `reqwest::Client`; the timeout and user-agent setters are then ignored.
    /// Build it with `reqwest::redirect::Policy::none()`: a redirect it follows is not seen by
    /// this client (redirects that reach the client are refused with [`Error::Redirect`]).
    ///
    /// # Optional
    /// Needs the non-default feature `reqwest-client`: an explicit escape hatch that ties the
    /// caller to this crate's reqwest version.
    #[cfg(feature = "reqwest-client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest-client")))]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sets the retry policy (default [`RetryConfig::default`]; [`RetryConfig::disabled`] turns retries
    /// off).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Refuses new calls with [`Error::BudgetExceeded`] once `max_share` (0.0–1.0) of the daily API
    /// allocation is used, as reported by the last `Sforce-Limit-Info` header.
    pub fn api_budget(mut self, max_share: f64) -> Self {
        self.budget = Some(ApiBudget { max_share });
        self
    }

    /// Allows `http` (and `https`) instance URLs on loopback addresses: only for the local emulator or
    /// tests. Default `false`.
    pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
        self.allow_insecure_loopback = allow;
        self
    }

    /// Trusts an additional exact host name (a custom domain serving the org over https).
    pub fn trusted_host(mut self, host: impl Into<String>) -> Self {
        self.trusted_hosts.push(host.into());
        self
    }

    /// Sets the caps on buffered response bodies and query pagination (default
    /// [`BodyLimits::default`]: 1 MiB error and token bodies, 64 MiB success bodies, 10,000 query
    /// pages).
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = limits;
        self
    }

    /// Sets the header deadlines and the minimum-throughput guard (default
    /// [`Timeouts::default`]: 60 s for reads, 10 minutes for writes, 1 KiB/s over 10 s windows).
    /// They apply to clients given with `ClientBuilder::http_client` (feature `reqwest-client`) too.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the size from which JSON request bodies are sent gzip-compressed
    /// (`Content-Encoding: gzip`, which Salesforce REST decompresses before processing); `None`
    /// never compresses. Default `Some(32 KiB)` ([`crate::DEFAULT_REQUEST_COMPRESSION`]): a
    /// Collections request of 200 records or a packed Composite request shrinks several times,
    /// while small calls are not worth the CPU. Only JSON bodies set with
    /// [`crate::RequestBuilder::json`] are compressed, once per request (retries resend the same
    /// bytes); raw and streamed bodies (Bulk CSV uploads, for which Bulk API 2.0 documents no
    /// request compression) are sent as given.
    ///
    /// Responses are always asked for with `Accept-Encoding: gzip` and decoded; the caps of
    /// [`BodyLimits`] apply to the decoded size.
    pub fn request_compression(mut self, threshold: Option<usize>) -> Self {
        self.request_compression = threshold;
        self
    }

    /// Injects the sleep used between retries (tests pass a recording sleeper that returns at once).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Injects the jitter source of the backoff (tests pass [`crate::FixedJitter`]).
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// Builds the client without any network call.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when no instance URL is set (use [`ClientBuilder::connect`] to take it from
    /// the token), the instance URL or API version is invalid, no token source or access token is set,
    /// or the HTTP client cannot be created.
    pub fn build(self) -> Result<Client> {
        let Some(raw) = self.instance_url.clone() else {
            return Err(Error::config(
                "no instance URL: set ClientBuilder::instance_url, or use ClientBuilder::connect() to take it from the token response",
            ));
        };
        let url = validate_instance_url(&raw, self.allow_insecure_loopback, &self.trusted_hosts)?;
        self.finish(url)
    }

    /// Builds the client; without an instance URL, first fetches a token and uses its `instance_url`.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`]; also the token source's errors ([`Error::is_auth`]) and
    /// [`Error::Config`] when the token carries no instance URL.
    pub async fn connect(self) -> Result<Client> {
        if self.instance_url.is_some() {
            return self.build();
        }
        let source = self.token_source.clone().ok_or_else(no_token_source)?;
        let token = source.token().await?;
        let Some(url) = token.instance_url() else {
            return Err(Error::config(
                "the token response has no instance_url; set ClientBuilder::instance_url",
            ));
        };
        let url = validate_instance_url(
            url.as_str(),
            self.allow_insecure_loopback,
            &self.trusted_hosts,
        )?;
        self.finish(url)
    }

    fn finish(self, instance_url: Url) -> Result<Client> {
        let api_version = match &self.api_version {
            Some(v) => v.parse()?,
            None => DEFAULT_API_VERSION,
        };
        let tokens: Arc<dyn TokenSource> = match (self.token_source, self.access_token) {
            (Some(source), _) => source,
            (None, Some(secret)) => Arc::new(StaticToken::from_token(
                AccessToken::new(secret).with_instance_url(instance_url.clone()),
            )),
            (None, None) => return Err(no_token_source()),
        };
        let http = match self.http {
            Some(http) => http,
            None => {
                crate::tls::require_backend_for(&instance_url, "the instance URL")?;
                let mut b = crate::guard::no_redirects(crate::tls::client_builder()?)
                    .user_agent(self.user_agent)
                    .gzip(true)
                    .connect_timeout(self.connect_timeout);
                if let Some(t) = self.timeout {
                    b = b.timeout(t);
                }
                if let Some(t) = self.read_timeout {
                    b = b.read_timeout(t);
                }
                tracing::debug!(tls = crate::tls::BACKEND, "building the HTTP client");
                b.build()
                    .map_err(|e| Error::config(format!("cannot create the HTTP client: {e}")))?
            }
        };
        Client::from_parts(crate::client::Parts {
            http,
            instance_url,
            api_version,
            tokens,
            retry: self.retry,
            budget: self.budget,
            sleeper: self.sleeper,
            jitter: self.jitter,
            body_limits: self.body_limits,
            timeouts: self.timeouts,
            default_headers: self.salesforce_headers.to_header_map()?,
            request_compression: self.request_compression,
        })
    }
}

fn no_token_source() -> Error {
    Error::config(
        "no credentials: set ClientBuilder::token_source (a flow from sfdc_rest::auth) or ClientBuilder::access_token",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> bool {
        validate_instance_url(url, false, &[]).is_ok()
    }

    #[test]
    fn accepts_salesforce_hosts() {
        for url in [
            "https://acme.my.salesforce.com",
            "https://acme.my.salesforce.com/",
            "https://na1.salesforce.com",
            "https://acme--dev.sandbox.my.salesforce.com",
            "https://acme.lightning.force.com",
            "https://acme.my.salesforce-setup.com",
            "https://acme.my.salesforce.mil",
            "https://acme.cloudforce.com",
            "https://ACME.MY.SALESFORCE.COM",
        ] {
            assert!(ok(url), "{url}");
        }
    }

    #[test]
    fn rejects_lookalikes_and_bad_shapes() {
        for url in [
            "https://evil.tld/x.salesforce.com",
            "https://x.salesforce.com.evil.tld",
            "https://evilsalesforce.com",
            "https://salesforce.com",
            "http://acme.my.salesforce.com",
            "https://user:pw@acme.my.salesforce.com",
            "https://acme.my.salesforce.com/services/data",
            "https://acme.my.salesforce.com?x=1",
            "https://1.2.3.4",
            "ftp://acme.my.salesforce.com",
            "not a url",
            "http://127.0.0.1:8080",
        ] {
            assert!(!ok(url), "{url}");
        }
    }

    #[test]
    fn loopback_needs_opt_in() {
        assert!(validate_instance_url("http://127.0.0.1:8080", true, &[]).is_ok());
        assert!(validate_instance_url("http://[::1]:8080", true, &[]).is_ok());
        assert!(validate_instance_url("http://localhost:1", true, &[]).is_ok());
        assert!(validate_instance_url("http://10.0.0.1:8080", true, &[]).is_err());
        let err = validate_instance_url("http://127.0.0.1:8080", false, &[]).unwrap_err();
        assert!(err.to_string().contains("allow_insecure_loopback"));
    }

    #[test]
    fn trusted_custom_host() {
        let hosts = vec!["crm.example.com".to_owned()];
        assert!(validate_instance_url("https://crm.example.com", false, &hosts).is_ok());
        assert!(validate_instance_url("https://other.example.com", false, &hosts).is_err());
    }

    #[test]
    fn api_version_parsing() {
        assert_eq!("62.0".parse::<ApiVersion>().unwrap().to_string(), "62.0");
        assert_eq!("v66.0".parse::<ApiVersion>().unwrap().major(), 66);
        assert_eq!("64".parse::<ApiVersion>().unwrap().path_segment(), "v64.0");
        assert!("30.0".parse::<ApiVersion>().is_err());
        assert!("abc".parse::<ApiVersion>().is_err());
        assert_eq!(ApiVersion::default().to_string(), "62.0");
    }
}
