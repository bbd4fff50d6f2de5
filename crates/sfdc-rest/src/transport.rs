//! The raw request tier: [`RequestBuilder`], [`Response`] and the send loop.
//!
//! The send loop is the one place a response with status >= 400 becomes an [`Error`]. Per request
//! it: checks the API budget; gets a token; sends; records `Sforce-Limit-Info` and the call count;
//! on 401 `INVALID_SESSION_ID` calls [`crate::auth::TokenSource::refresh`] with the rejected token
//! and replays while each refresh gives a new token (at most 3 times); otherwise asks [`crate::retry::decide`] whether to retry and sleeps with the
//! injected sleeper.

use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use crate::auth::AccessToken;
use crate::body::{BodyFactory, RequestBody};
use crate::client::Client;
use crate::error::{Error, ErrorCode, Result};
use crate::guard::{BodyError, TimeoutPhase, Timeouts, guarded_stream, read_capped};
use crate::limits::LIMIT_INFO_HEADER;
use crate::retry::{Decision, Failure, Idempotency, decide, parse_retry_after};

/// A request being prepared; send it with [`RequestBuilder::send`].
///
/// Setters never fail: an invalid header or an unserialisable body is reported by `send`.
#[must_use]
pub struct RequestBuilder {
    client: Client,
    method: Method,
    path: String,
    template: Option<Cow<'static, str>>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<RequestBody>,
    idempotency: Option<Idempotency>,
    error: Option<Error>,
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.template_str())
            .field("idempotency", &self.idempotency_class())
            .field("body_len", &self.body.as_ref().map(RequestBody::len))
            .finish_non_exhaustive()
    }
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, path: &str) -> Self {
        let headers = client.inner.default_headers.clone();
        Self {
            client,
            method,
            path: path.to_owned(),
            template: None,
            query: Vec::new(),
            headers,
            body: None,
            idempotency: None,
            error: None,
        }
    }

    /// Sets the path template recorded in traces (e.g. `sobjects/{object}/{id}`), instead of the
    /// real path with ids.
    pub(crate) fn path_template(mut self, template: &'static str) -> Self {
        self.template = Some(Cow::Borrowed(template));
        self
    }

    /// Appends query parameters (percent-encoded).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        self.query.extend(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self
    }

    /// Sets a JSON body (and `Content-Type: application/json`).
    ///
    /// A body of at least [`crate::ClientBuilder::request_compression`] bytes (default 32 KiB)
    /// is gzip-compressed here, once, and sent with `Content-Encoding: gzip`.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Self {
        let _encode = tracing::debug_span!("sfdc.request.encode").entered();
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                let threshold = self.client.inner.request_compression;
                let packed = threshold
                    .filter(|t| bytes.len() >= *t)
                    .and_then(|_| crate::body::gzip(&bytes).ok());
                let bytes = match packed {
                    Some(packed) => {
                        self.headers
                            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                        packed
                    }
                    None => {
                        self.headers.remove(CONTENT_ENCODING);
                        bytes
                    }
                };
                self.body = Some(RequestBody::Buffered(Bytes::from(bytes)));
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Err(e) => self.error = Some(Error::decode("request body (JSON serialisation)", e)),
        }
        self
    }

    /// Sets a raw body with its content type (e.g. `text/csv`).
    ///
    /// The whole body is held in memory; for large bodies see [`RequestBuilder::body_stream`].
    pub fn body(self, body: Bytes, content_type: &str) -> Self {
        self.with_body(RequestBody::Buffered(body), content_type)
    }

    /// Sets a streaming body of `content_length` bytes with its content type, so a large upload
    /// (e.g. a Bulk API CSV spooled to a file) is never held in memory.
    ///
    /// `factory` is called once per attempt to make a fresh [`reqwest::Body`]: for the first
    /// send, for each retry the policy allows for this request's [`Idempotency`] class, and for
    /// the one replay after a 401 `INVALID_SESSION_ID` token refresh. Every body it makes must
    /// yield exactly `content_length` bytes (sent as `Content-Length`; a stream yielding a
    /// different number fails the attempt as [`Error::Transport`]). A stream error (e.g. an I/O
    /// error while reading a file) also fails the attempt as [`Error::Transport`], with `sent`
    /// true. Body content is never logged or shown by `Debug`; only its length is.
    ///
    /// # Example
    ///
    /// A CSV generated on the fly, one row at a time, never held whole. To stream a file, reopen
    /// it inside the factory (e.g. `tokio::fs::File` + `tokio_util::io::ReaderStream`), as
    /// `sfdc-bulk` does for its job uploads.
    ///
    /// ```no_run
    /// use std::sync::Arc;
    ///
    /// use bytes::Bytes;
    /// use http::Method;
    /// use sfdc_rest::{BodyFactory, Client, Idempotency};
    ///
    /// # async fn run(client: Client) -> sfdc_rest::Result<()> {
    /// const HEADER: &str = "Name\n";
    /// let rows: u64 = 1_000_000;
    /// let row = |i: u64| format!("Account {i:08}\n"); // 17 bytes each
    /// let len = HEADER.len() as u64 + 17 * rows;
    /// let factory: BodyFactory = Arc::new(move || {
    ///     let chunks = std::iter::once(Bytes::from_static(HEADER.as_bytes()))
    ///         .chain((0..rows).map(move |i| Bytes::from(row(i))))
    ///         .map(Ok::<_, std::io::Error>);
    ///     Box::pin(futures::stream::iter(chunks))
    /// });
    /// client
    ///     .request(Method::PUT, "jobs/ingest/750R0000000zlh9IAA/batches")
    ///     .body_stream("text/csv", len, factory)
    ///     .idempotency(Idempotency::NotIdempotent)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn body_stream(
        self,
        content_type: &str,
        content_length: u64,
        factory: BodyFactory,
    ) -> Self {
        self.with_body(
            RequestBody::Streamed {
                len: content_length,
                factory,
            },
            content_type,
        )
    }

    fn with_body(mut self, body: RequestBody, content_type: &str) -> Self {
        match HeaderValue::from_str(content_type) {
            Ok(v) => {
                self.headers.insert(CONTENT_TYPE, v);
                self.body = Some(body);
            }
            Err(_) => {
                self.error = Some(Error::InvalidInput {
                    kind: "content type",
                    value: content_type.to_owned(),
                    reason: "not a valid header value".to_owned(),
                });
            }
        }
        self
    }

    /// Sets a request header (e.g. `Sforce-Query-Options`). `Authorization` is set by the client.
    pub fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        HeaderValue: TryFrom<V>,
    {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                self.headers.insert(name, value);
            }
            _ => {
                self.error = Some(Error::InvalidInput {
                    kind: "header",
                    value: String::new(),
                    reason: "invalid header name or value".to_owned(),
                });
            }
        }
        self
    }

    /// Overrides the idempotency class that decides which failures are retried (default from the
    /// method: GET/HEAD safe, PUT/PATCH/DELETE idempotent, POST not idempotent).
    pub fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = Some(idempotency);
        self
    }

    fn idempotency_class(&self) -> Idempotency {
        self.idempotency
            .unwrap_or_else(|| Idempotency::from_method(&self.method))
    }

    fn template_str(&self) -> String {
        match &self.template {
            Some(t) => t.to_string(),
            None => redact_path(&self.path),
        }
    }

    /// Sends the request, retrying per the client's policy.
    ///
    /// Returns `Ok` for every status below 400 except redirects: `300 Multiple Choices` (an
    /// upsert matching several records) is `Ok`; any other 3xx is [`Error::Redirect`], never
    /// followed.
    ///
    /// # Errors
    ///
    /// - [`Error::Api`] for status >= 400 with the parsed Salesforce errors: check
    ///   [`Error::is_auth`] (401 even after the refreshes), [`Error::is_throttled`]
    ///   (`REQUEST_LIMIT_EXCEEDED`), [`Error::is_not_found`], [`Error::is_retryable`] (retries were
    ///   exhausted or not allowed for this idempotency class).
    /// - [`Error::Transport`] when no response arrived: [`Error::was_sent`] tells whether it may have
    ///   been applied; for a [`Idempotency::NotIdempotent`] request that was sent,
    ///   [`Error::is_outcome_unknown`] is true and [`Error::is_retryable`] false (look the record up
    ///   rather than resend).
    /// - [`Error::BudgetExceeded`] when the API budget guard refused the call (nothing sent).
    /// - the token source's errors ([`Error::is_auth`]), and [`Error::InvalidInput`] /
    ///   [`Error::Decode`] for a bad path, header or body.
    pub async fn send(self) -> Result<Response> {
        let template = self.template_str();
        let span = tracing::debug_span!(
            "sfdc.request",
            method = %self.method,
            path = %template,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        self.send_inner(template).instrument(span).await
    }

    async fn send_inner(self, template: String) -> Result<Response> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let inner = &self.client.inner;
        let idempotency = self.idempotency_class();
        let mut url = resolve(&inner.instance_url, &inner.data_url, &self.path)?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(self.query.iter());
        }
        inner.usage.check_budget()?;

        let started = Instant::now();
        let mut token = inner.tokens.token().await?;
        let mut refreshes: u32 = 0;
        let mut attempt: u32 = 1;
        let span = tracing::Span::current();
        loop {
            span.record("attempt", attempt);
            let request = build_request(
                &inner.http,
                &self.method,
                &url,
                &self.headers,
                self.body.as_ref(),
                &token,
                idempotency,
            )?;
            let deadline = match self.body.as_ref() {
                Some(body) if body.is_streamed() => inner.timeouts.upload_deadline(body.len()),
                _ if idempotency == Idempotency::Safe => inner.timeouts.read_headers,
                _ => inner.timeouts.write_headers,
            };
            let result = match tokio::time::timeout(deadline, inner.http.execute(request)).await {
                Ok(Ok(resp)) => Ok(resp),
                Ok(Err(e)) => {
                    let sent = !(e.is_connect() || e.is_builder());
                    if sent {
                        inner.usage.count_call();
                    }
                    tracing::debug!(attempt, sent, "request failed without a response");
                    Err(Error::transport(e, sent, idempotency))
                }
                Err(_) => {
                    inner.usage.count_call();
                    tracing::debug!(attempt, "no complete response headers within the deadline");
                    Err(Error::Timeout {
                        phase: TimeoutPhase::Headers,
                        sent: true,
                        idempotency,
                    })
                }
            };
            let (failure_error, retry_after, status) = match result {
                Err(e) => (e, None, None),
                Ok(resp) => {
                    inner.usage.count_call();
                    if let Some(v) = resp
                        .headers()
                        .get(LIMIT_INFO_HEADER)
                        .and_then(|v| v.to_str().ok())
                    {
                        inner.usage.record(v);
                    }
                    let status = resp.status();
                    span.record("status", status.as_u16());
                    if status.is_redirection() && status != StatusCode::MULTIPLE_CHOICES {
                        return Err(redirect_error(status, resp.headers()));
                    }
                    if status.as_u16() < 400 {
                        tracing::debug!(attempt, status = status.as_u16(), "response");
                        return Ok(Response {
                            inner: resp,
                            template,
                            idempotency,
                            limit: inner.body_limits.response_body,
                            timeouts: inner.timeouts,
                        });
                    }
                    let retry_after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let cap = inner.body_limits.error_body;
                    let body = match read_capped(resp, cap, &inner.timeouts).await {
                        Ok(b) => b,
                        Err(e) => {
                            return Err(body_error(e, "error body", status, cap, idempotency));
                        }
                    };
                    let err = Error::from_response_to(status, &body, idempotency);
                    tracing::debug!(attempt, status = status.as_u16(), code = ?err.error_code().map(ErrorCode::as_str), "error response");
                    if status == StatusCode::UNAUTHORIZED
                        && err.error_code() == Some(&ErrorCode::InvalidSessionId)
                    {
                        if refreshes < MAX_SESSION_REFRESHES {
                            refreshes += 1;
                            tracing::debug!(refreshes, "session rejected; refreshing the token");
                            let fresh = inner.tokens.refresh(&token).await?;
                            // Replay only with a token that differs from the rejected one:
                            // the same token would be rejected again.
                            if fresh.secret().expose_secret() != token.secret().expose_secret() {
                                token = fresh;
                                continue;
                            }
                        }
                        // Refreshes exhausted or no new token: surface it (the retry table
                        // makes it resendable later; nothing was applied).
                        return Err(err);
                    }
                    (err, retry_after, Some(status))
                }
            };
            let failure = match (&failure_error, status) {
                (Error::Transport { sent: false, .. }, _) => Failure::NotSent,
                (Error::Transport { .. } | Error::Timeout { .. }, _) => Failure::NoResponse,
                (err, Some(status)) => Failure::Response {
                    status,
                    error_code: err.error_code(),
                    retry_after,
                },
                (_, None) => return Err(failure_error),
            };
            let decision = decide(
                idempotency,
                &failure,
                attempt,
                started.elapsed(),
                &inner.retry,
                inner.jitter.sample(),
            );
            match decision {
                Decision::Stop => return Err(failure_error),
                Decision::RetryAfter(delay) => {
                    tracing::debug!(
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying"
                    );
                    inner.sleeper.sleep(delay).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }
}

/// How many token refreshes one request may go through after 401 `INVALID_SESSION_ID`, each
/// followed by a replay with the new token: under concurrency a replay may meet the next expiry.
/// A session error that survives them is left to the retry table (resendable).
const MAX_SESSION_REFRESHES: u32 = 3;

fn build_request(
    http: &reqwest::Client,
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    body: Option<&RequestBody>,
    token: &AccessToken,
    idempotency: Idempotency,
) -> Result<reqwest::Request> {
    let mut auth = HeaderValue::try_from(format!("Bearer {}", token.secret().expose_secret()))
        .map_err(|_| {
            Error::config(
                "the access token contains characters that are not allowed in an HTTP header",
            )
        })?;
    auth.set_sensitive(true);
    let mut builder = http
        .request(method.clone(), url.clone())
        .headers(headers.clone())
        .header(AUTHORIZATION, auth);
    if let Some(body) = body {
        if body.is_streamed() {
            builder = builder.header(CONTENT_LENGTH, body.len());
        }
        builder = builder.body(body.for_attempt());
    }
    builder
        .build()
        .map_err(|e| Error::transport(e, false, idempotency))
}

/// Resolves a request path against the data URL (relative) or the instance URL (leading `/`), and
/// refuses any result on another origin.
pub(crate) fn resolve(instance: &Url, data: &Url, path: &str) -> Result<Url> {
    let invalid = |reason: &str| Error::InvalidInput {
        kind: "request path",
        value: path.to_owned(),
        reason: reason.to_owned(),
    };
    if path.starts_with("//") || path.contains('\\') {
        return Err(invalid("must not start with '//' or contain '\\'"));
    }
    let url = if path.starts_with('/') {
        instance.join(path)
    } else {
        data.join(path)
    }
    .map_err(|e| invalid(&e.to_string()))?;
    if url.origin() != instance.origin() {
        return Err(invalid("resolves outside the instance URL"));
    }
    Ok(url)
}

/// Replaces path segments that look like record ids or locators with `{id}` for traces.
fn redact_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|seg| {
            let idish = seg.len() >= 15
                && seg.chars().any(|c| c.is_ascii_digit())
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if idish || seg.contains('%') {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A response with status < 400.
pub struct Response {
    inner: reqwest::Response,
    template: String,
    /// The idempotency class of the request, carried into body-read errors: a create whose `201`
    /// body cannot be read was applied.
    idempotency: Idempotency,
    /// The cap of buffered reads ([`crate::BodyLimits::response_body`]).
    limit: usize,
    timeouts: Timeouts,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.inner.status())
            .field("path", &self.template)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// Returns the HTTP status.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// Returns the response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// Reads the whole body, at most [`crate::BodyLimits::response_body`] bytes, under the
    /// minimum-throughput guard ([`crate::Timeouts`]).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] (with `sent` true) when the body cannot be read; for a non-idempotent
    /// request (a create) [`Error::is_outcome_unknown`] is then true, because Salesforce answered
    /// with a success status. [`Error::BodyTooLarge`] when the body is over the cap (reading stops
    /// there); [`Error::Timeout`] when it trickles.
    pub async fn bytes(self) -> Result<Bytes> {
        let context = format!("response of {}", self.template);
        let status = self.inner.status();
        read_capped(self.inner, self.limit, &self.timeouts)
            .await
            .map_err(|e| body_error(e, &context, status, self.limit, self.idempotency))
    }

    /// Reads the whole body as UTF-8 text (invalid sequences replaced), like [`Response::bytes`].
    ///
    /// # Errors
    ///
    /// As [`Response::bytes`].
    pub async fn text(self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads the body and decodes it as JSON.
    ///
    /// # Errors
    ///
    /// As [`Response::bytes`]; [`Error::UnreadableAnswer`] when it is not the expected JSON (the
    /// request was processed: the retry table makes that outcome-unknown for a create).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let context = format!("response of {}", self.template);
        let (status, idempotency) = (self.inner.status(), self.idempotency);
        let bytes = self
            .bytes()
            .instrument(tracing::debug_span!("sfdc.response.read"))
            .await?;
        let _parse = tracing::debug_span!("sfdc.response.parse", bytes = bytes.len()).entered();
        serde_json::from_slice(&bytes).map_err(|e| Error::UnreadableAnswer {
            status,
            idempotency,
            message: format!("could not decode {context}: {e}"),
        })
    }

    /// Streams the body in chunks without buffering or capping it, under the minimum-throughput
    /// guard ([`crate::Timeouts`]: a trickling stream ends with [`Error::Timeout`]).
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let idempotency = self.idempotency;
        let status = self.inner.status();
        guarded_stream(self.inner, self.timeouts)
            .map_err(move |e| body_error(e, "response stream", status, usize::MAX, idempotency))
    }
}

/// Maps a guarded body read failure to the crate error.
pub(crate) fn body_error(
    e: BodyError,
    context: &str,
    status: StatusCode,
    limit: usize,
    idempotency: Idempotency,
) -> Error {
    match e {
        BodyError::Transport(e) => Error::transport(e, true, idempotency),
        BodyError::TooLarge => Error::BodyTooLarge {
            context: context.to_owned(),
            status,
            limit,
        },
        BodyError::Slow => Error::Timeout {
            phase: TimeoutPhase::Throughput,
            sent: true,
            idempotency,
        },
    }
}

/// The error for a redirect: names the `Location`, follows nothing.
pub(crate) fn redirect_error(status: StatusCode, headers: &HeaderMap) -> Error {
    let location = headers
        .get(http::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    tracing::debug!(status = status.as_u16(), "redirect refused");
    Error::Redirect { status, location }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_relative_and_absolute() {
        let inst = Url::parse("https://acme.my.salesforce.com").unwrap();
        let data = inst.join("/services/data/v62.0/").unwrap();
        assert_eq!(
            resolve(&inst, &data, "jobs/ingest").unwrap().as_str(),
            "https://acme.my.salesforce.com/services/data/v62.0/jobs/ingest"
        );
        assert_eq!(
            resolve(&inst, &data, "/services/data/v62.0/query/01g-2000")
                .unwrap()
                .as_str(),
            "https://acme.my.salesforce.com/services/data/v62.0/query/01g-2000"
        );
        assert!(resolve(&inst, &data, "//evil.tld/x").is_err());
        assert!(resolve(&inst, &data, "https://evil.tld/x").is_err());
        assert!(resolve(&inst, &data, "/\\evil.tld").is_err());
    }

    #[test]
    fn redacts_ids_in_paths() {
        assert_eq!(
            redact_path("sobjects/Account/001D000000IqhSLIAZ?fields=Name"),
            "sobjects/Account/{id}"
        );
        assert_eq!(
            redact_path("jobs/ingest/7505g000001abcdAAA/batches"),
            "jobs/ingest/{id}/batches"
        );
        assert_eq!(
            redact_path("/services/data/v62.0/query/01gD0000002HU6KIAW-2000"),
            "/services/data/v62.0/query/{id}"
        );
    }
}
