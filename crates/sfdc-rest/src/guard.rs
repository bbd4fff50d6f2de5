//! Transport guards against hostile or broken servers: capped buffered bodies, a deadline for the
//! response headers per call class, and a minimum-throughput guard on bodies.
//!
//! The knobs are [`BodyLimits`] and [`Timeouts`] ([`crate::ClientBuilder::body_limits`],
//! [`crate::ClientBuilder::timeouts`]); the send loop and [`crate::Response`] apply them.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::header::CONTENT_LENGTH;
use tokio::time::Instant;

const MIB: usize = 1024 * 1024;

/// Caps on buffered response bodies and on query pagination. Streams (e.g.
/// [`crate::Response::bytes_stream`]) are not capped.
///
/// Construct with struct update syntax: `BodyLimits { error_body: 4096, ..BodyLimits::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest error body (status >= 400) read, in bytes. Default 1 MiB.
    pub error_body: usize,
    /// Largest OAuth token response read, in bytes. Default 1 MiB.
    pub token_body: usize,
    /// Largest buffered success body (query pages of 2,000 records, large describes, Collections
    /// answers), in bytes. Default 64 MiB.
    pub response_body: usize,
    /// Most pages one query stream follows before it ends with an error. Default 10,000
    /// (20 million records at 2,000 per page).
    pub max_query_pages: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            error_body: MIB,
            token_body: MIB,
            response_body: 64 * MIB,
            max_query_pages: 10_000,
        }
    }
}

/// Deadlines and the minimum-throughput guard of every call.
///
/// - Buffered calls must receive their complete response headers within `read_headers`
///   (GET/HEAD: queries, describe, limits), `write_headers` (other methods: Composite and
///   Collections writes, which Salesforce may spend up to 10 minutes on) or `token_headers` (OAuth
///   token requests) of sending.
/// - Once headers arrived, every body (buffered or streamed) must bring at least
///   `min_throughput` bytes per second, measured over windows of `throughput_window`, or the call
///   ends with [`crate::Error::Timeout`].
/// - A streamed upload ([`crate::RequestBuilder::body_stream`]) has no fixed deadline: it gets
///   `write_headers` plus the time its length takes at `min_throughput`, so a 100 MB upload is not
///   cut off; the reqwest read-idle timeout ([`crate::ClientBuilder::read_timeout`]) still applies.
///
/// Construct with struct update syntax: `Timeouts { read_headers: d, ..Timeouts::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Deadline for the response headers of a read call. Default 60 s.
    pub read_headers: Duration,
    /// Deadline for the response headers of a write call. Default 10 minutes.
    pub write_headers: Duration,
    /// Deadline for the response headers of an OAuth token request. Default 60 s.
    pub token_headers: Duration,
    /// Minimum body throughput in bytes per second. Default 1,024 (1 KiB/s); 0 disables the guard.
    pub min_throughput: u64,
    /// Window over which `min_throughput` is measured. Default 10 s.
    pub throughput_window: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            read_headers: Duration::from_secs(60),
            write_headers: Duration::from_secs(600),
            token_headers: Duration::from_secs(60),
            min_throughput: 1024,
            throughput_window: Duration::from_secs(10),
        }
    }
}

impl Timeouts {
    /// The header deadline of a streamed upload of `len` bytes.
    pub(crate) fn upload_deadline(&self, len: u64) -> Duration {
        match len.checked_div(self.min_throughput) {
            Some(secs) => self.write_headers.saturating_add(Duration::from_secs(secs)),
            None => Duration::MAX,
        }
    }

    fn min_per_window(&self) -> u64 {
        let per_ms = u128::from(self.min_throughput) * self.throughput_window.as_millis();
        u64::try_from(per_ms / 1000).unwrap_or(u64::MAX)
    }
}

/// Which guard ended a call (see [`crate::Error::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// The complete response headers did not arrive within the call's deadline.
    Headers,
    /// The body arrived slower than the minimum throughput.
    Throughput,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Headers => "no complete response headers within the call's deadline",
            Self::Throughput => "response body slower than the minimum throughput",
        })
    }
}

/// Why a guarded body read failed.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed.
    Transport(reqwest::Error),
    /// The body is larger than the cap.
    TooLarge,
    /// The body trickled.
    Slow,
}

/// Counts bytes per window and fails a window that brought fewer than the minimum.
#[derive(Debug)]
struct Throughput {
    window: Duration,
    min: u64,
    start: Instant,
    bytes: u64,
}

impl Throughput {
    fn new(t: &Timeouts) -> Self {
        Self {
            window: t.throughput_window,
            min: if t.min_throughput == 0 || t.throughput_window.is_zero() {
                0
            } else {
                t.min_per_window().max(1)
            },
            start: Instant::now(),
            bytes: 0,
        }
    }

    /// Closes the current window if it is over; `false` when it brought too few bytes.
    fn roll(&mut self, now: Instant) -> bool {
        if now < self.start + self.window {
            return true;
        }
        let ok = self.bytes >= self.min;
        self.start = now;
        self.bytes = 0;
        ok
    }

    /// Awaits the next item of `stream` under the guard.
    async fn next<S, T>(&mut self, stream: &mut S) -> Result<Option<T>, BodyError>
    where
        S: Stream<Item = reqwest::Result<T>> + Unpin,
        T: AsRef<[u8]>,
    {
        if self.min == 0 {
            return stream
                .next()
                .await
                .transpose()
                .map_err(BodyError::Transport);
        }
        loop {
            let deadline = self.start + self.window;
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(item) => {
                    let item = item.transpose().map_err(BodyError::Transport)?;
                    if let Some(chunk) = &item {
                        self.bytes = self.bytes.saturating_add(chunk.as_ref().len() as u64);
                    }
                    if !self.roll(Instant::now()) {
                        return Err(BodyError::Slow);
                    }
                    return Ok(item);
                }
                Err(_) => {
                    if !self.roll(Instant::now()) {
                        return Err(BodyError::Slow);
                    }
                }
            }
        }
    }
}

/// Reads a whole body, at most `cap` bytes, under the throughput guard.
pub(crate) async fn read_capped(
    resp: reqwest::Response,
    cap: usize,
    timeouts: &Timeouts,
) -> Result<Bytes, BodyError> {
    let declared = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut guard = Throughput::new(timeouts);
    let mut stream = Box::pin(resp.bytes_stream());
    let mut buf = BytesMut::new();
    while let Some(chunk) = guard.next(&mut stream).await? {
        if buf.len().saturating_add(chunk.len()) > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Streams a body under the throughput guard (no cap).
pub(crate) fn guarded_stream(
    resp: reqwest::Response,
    timeouts: Timeouts,
) -> impl Stream<Item = Result<Bytes, BodyError>> + Send + 'static {
    let state = (
        Box::pin(resp.bytes_stream()),
        Throughput::new(&timeouts),
        false,
    );
    futures::stream::unfold(state, |(mut stream, mut guard, failed)| async move {
        if failed {
            return None;
        }
        match guard.next(&mut stream).await {
            Ok(Some(chunk)) => Some((Ok(chunk), (stream, guard, false))),
            Ok(None) => None,
            Err(e) => Some((Err(e), (stream, guard, true))),
        }
    })
    .boxed()
}

/// The guards of OAuth token calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TokenGuards {
    pub(crate) timeouts: Timeouts,
    pub(crate) limits: BodyLimits,
}

/// Builds the default reqwest client settings shared by the API and token clients: no redirects.
pub(crate) fn no_redirects(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder.redirect(reqwest::redirect::Policy::none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let t = Timeouts::default();
        assert_eq!(t.min_per_window(), 10 * 1024);
        assert_eq!(
            t.upload_deadline(100 * 1024 * 1024),
            Duration::from_secs(600 + 100 * 1024)
        );
        let l = BodyLimits::default();
        assert_eq!(l.error_body, MIB);
        assert_eq!(l.response_body, 64 * MIB);
    }

    #[test]
    fn window_below_minimum_fails() {
        let t = Timeouts {
            min_throughput: 100,
            throughput_window: Duration::from_secs(1),
            ..Timeouts::default()
        };
        let mut g = Throughput::new(&t);
        let start = g.start;
        g.bytes = 99;
        assert!(g.roll(start + Duration::from_millis(500)));
        assert!(!g.roll(start + Duration::from_secs(1)));
        g.bytes = 100;
        assert!(g.roll(start + Duration::from_secs(3)));
    }
}
