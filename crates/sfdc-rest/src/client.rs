//! The [`Client`] handle and its shared state.

use std::fmt;
use std::sync::Arc;

use http::Method;
use url::Url;

use crate::auth::TokenSource;
use crate::backoff::{Jitter, Sleeper};
use crate::config::{ApiVersion, ClientBuilder};
use crate::describe::DescribeCache;
use crate::error::{Error, Result};
use crate::guard::{BodyLimits, Timeouts};
use crate::limits::{ApiBudget, ApiUsage, PerAppApiUsage, UsageTracker};
use crate::retry::RetryConfig;
use crate::transport::RequestBuilder;

/// A Salesforce REST client for one org.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`; clones share the token source, the API call
/// counter, the last seen API usage and the describe cache. `Debug` never shows tokens.
///
/// Two tiers: typed operations ([`Client::create`], [`Client::query_stream`], [`Client::create_many`],
/// …) and the raw [`Client::request`], which reuses auth, retries, limit tracking and error mapping.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) instance_url: Url,
    pub(crate) data_url: Url,
    pub(crate) api_version: ApiVersion,
    pub(crate) tokens: Arc<dyn TokenSource>,
    pub(crate) retry: RetryConfig,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) jitter: Arc<dyn Jitter>,
    pub(crate) usage: UsageTracker,
    pub(crate) describe: DescribeCache,
    pub(crate) body_limits: BodyLimits,
    pub(crate) timeouts: Timeouts,
    pub(crate) default_headers: http::HeaderMap,
    /// JSON bodies of at least this many bytes are sent gzip-compressed.
    pub(crate) request_compression: Option<usize>,
}

/// Everything [`ClientBuilder`] hands over.
pub(crate) struct Parts {
    pub(crate) http: reqwest::Client,
    pub(crate) instance_url: Url,
    pub(crate) api_version: ApiVersion,
    pub(crate) tokens: Arc<dyn TokenSource>,
    pub(crate) retry: RetryConfig,
    pub(crate) budget: Option<ApiBudget>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) jitter: Arc<dyn Jitter>,
    pub(crate) body_limits: BodyLimits,
    pub(crate) timeouts: Timeouts,
    pub(crate) default_headers: http::HeaderMap,
    /// JSON bodies of at least this many bytes are sent gzip-compressed.
    pub(crate) request_compression: Option<usize>,
}

impl Client {
    /// Returns a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_parts(parts: Parts) -> Result<Self> {
        let data_url = parts
            .instance_url
            .join(&format!(
                "/services/data/{}/",
                parts.api_version.path_segment()
            ))
            .map_err(|e| Error::config(format!("cannot build the API base URL: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: parts.http,
                instance_url: parts.instance_url,
                data_url,
                api_version: parts.api_version,
                tokens: parts.tokens,
                retry: parts.retry,
                sleeper: parts.sleeper,
                jitter: parts.jitter,
                usage: UsageTracker::new(parts.budget),
                describe: DescribeCache::default(),
                body_limits: parts.body_limits,
                timeouts: parts.timeouts,
                default_headers: parts.default_headers,
                request_compression: parts.request_compression,
            }),
        })
    }

    /// Starts a raw request.
    ///
    /// `path` is relative to `/services/data/v{version}/` (e.g. `"jobs/ingest"`) unless it starts
    /// with `/`, in which case it is relative to the instance URL (e.g.
    /// `"/services/data/v62.0/query/01g-2000"`). The request reuses auth (one token refresh on 401
    /// `INVALID_SESSION_ID`), the retry policy, limit tracking and error mapping. Its
    /// [`crate::Idempotency`] defaults from the method.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path)
    }

    /// Returns the number of HTTP calls this client (and its clones) sent to the API, retries and
    /// replays after a token refresh included; token requests are not counted.
    pub fn api_calls(&self) -> u64 {
        self.inner.usage.calls()
    }

    /// Returns the org's API usage from the last `Sforce-Limit-Info` header seen, if any.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.inner.usage.last()
    }

    /// Returns the connected app's usage from the last `Sforce-Limit-Info` header that carried a
    /// `per-app-api-usage` part, if any.
    pub fn per_app_api_usage(&self) -> Option<PerAppApiUsage> {
        self.inner.usage.last_per_app()
    }

    /// Returns the API version in use.
    pub fn api_version(&self) -> &ApiVersion {
        &self.inner.api_version
    }

    /// Returns the instance URL requests go to.
    pub fn instance_url(&self) -> &Url {
        &self.inner.instance_url
    }

    /// Returns the token source.
    pub fn token_source(&self) -> &Arc<dyn TokenSource> {
        &self.inner.tokens
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("instance_url", &self.inner.instance_url.as_str())
            .field("api_version", &self.inner.api_version)
            .field("token_source", &self.inner.tokens)
            .field("api_calls", &self.api_calls())
            .field("api_usage", &self.api_usage())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + 'static>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn client_and_futures_are_send() {
        let client = Client::builder()
            .instance_url("https://acme.my.salesforce.com")
            .access_token("00D!x")
            .build()
            .unwrap();
        assert_send_sync(&client);
        let value = serde_json::json!({"Name": "A"});
        assert_send(&client.create("Account", &value));
        assert_send(&client.upsert("Account", "Ext__c", "1", &value));
        assert_send(&client.create_many("Account", &[], false));
        assert_send(&client.request(Method::GET, "limits").send());
        assert_send(&client.describe("Account"));
        assert_eq!(client.api_version().to_string(), "62.0");
        assert_eq!(
            client.inner.data_url.as_str(),
            "https://acme.my.salesforce.com/services/data/v62.0/"
        );
    }
}
