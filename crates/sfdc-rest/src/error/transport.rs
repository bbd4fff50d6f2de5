//! [`TransportError`]: what failed in an HTTP exchange, without exposing the HTTP library.

use std::fmt;

use http::StatusCode;

/// The underlying failure of an [`Error::Transport`](crate::Error::Transport): DNS, connect, TLS,
/// timeout, connection reset, or an unreadable body.
///
/// The HTTP library's error is kept as the [`std::error::Error::source`] (with its URL stripped:
/// URLs can carry record ids), so it can be walked or logged, but it is not part of this crate's
/// API: ask the predicates instead.
pub struct TransportError(reqwest::Error);

impl TransportError {
    pub(crate) fn new(source: reqwest::Error) -> Self {
        Self(source.without_url())
    }

    /// Returns `true` when the exchange timed out.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }

    /// Returns `true` when the connection could not be established (DNS, refused, TLS handshake).
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }

    /// Returns `true` when the response body could not be read or decoded.
    pub fn is_body(&self) -> bool {
        self.0.is_body() || self.0.is_decode()
    }

    /// Returns the HTTP status, when the failure came after a response status was received.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status()
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TransportError").field(&self.0).finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
