//! The `[transport]` settings table: overrides of `sfdc-rest`'s transport guards
//! ([`sfdc_rest::Timeouts`], [`sfdc_rest::BodyLimits`]). Every key is optional; an unset key keeps
//! the `sfdc-rest` default.
//!
//! ```toml
//! [transport.timeouts]
//! read_headers_ms = 60000          # headers of reads (query, describe): default 60 s
//! write_headers_ms = 600000        # headers of writes (Composite, Collections): default 10 min
//! token_headers_ms = 60000         # headers of OAuth token calls: default 60 s
//! min_throughput_bytes_per_sec = 1024  # body throughput floor: default 1 KiB/s (0 disables)
//! throughput_window_ms = 10000     # window of the throughput floor: default 10 s
//!
//! [transport.body_limits]
//! error_body_bytes = 1048576       # default 1 MiB
//! token_body_bytes = 1048576       # default 1 MiB
//! response_body_bytes = 67108864   # buffered success bodies: default 64 MiB
//! max_query_pages = 10000          # pages one query stream follows: default 10,000
//! ```

use std::time::Duration;

use serde::Deserialize;
use sfdc_rest::{BodyLimits, Timeouts};

/// The `[transport]` table of [`crate::Settings`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TransportSettings {
    /// `[transport.timeouts]`.
    #[serde(default)]
    pub timeouts: TimeoutSettings,
    /// `[transport.body_limits]`.
    #[serde(default)]
    pub body_limits: BodyLimitSettings,
}

/// `[transport.timeouts]`: header deadlines and the minimum-throughput guard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TimeoutSettings {
    /// Deadline for the response headers of a read call, in ms (default 60,000).
    pub read_headers_ms: Option<u64>,
    /// Deadline for the response headers of a write call, in ms (default 600,000).
    pub write_headers_ms: Option<u64>,
    /// Deadline for the response headers of an OAuth token call, in ms (default 60,000).
    pub token_headers_ms: Option<u64>,
    /// Minimum body throughput in bytes per second (default 1,024; 0 disables the guard).
    pub min_throughput_bytes_per_sec: Option<u64>,
    /// Window over which the minimum throughput is measured, in ms (default 10,000).
    pub throughput_window_ms: Option<u64>,
}

/// `[transport.body_limits]`: caps on buffered bodies and on query pagination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BodyLimitSettings {
    /// Largest error body read, in bytes (default 1 MiB).
    pub error_body_bytes: Option<usize>,
    /// Largest OAuth token response read, in bytes (default 1 MiB).
    pub token_body_bytes: Option<usize>,
    /// Largest buffered success body, in bytes (default 64 MiB).
    pub response_body_bytes: Option<usize>,
    /// Most pages one query stream follows (default 10,000).
    pub max_query_pages: Option<u64>,
}

impl TransportSettings {
    /// Returns the [`Timeouts`]: the `sfdc-rest` defaults with the keys set here.
    pub fn timeouts(&self) -> Timeouts {
        let t = &self.timeouts;
        let d = Timeouts::default();
        let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        Timeouts {
            read_headers: ms(t.read_headers_ms, d.read_headers),
            write_headers: ms(t.write_headers_ms, d.write_headers),
            token_headers: ms(t.token_headers_ms, d.token_headers),
            min_throughput: t.min_throughput_bytes_per_sec.unwrap_or(d.min_throughput),
            throughput_window: ms(t.throughput_window_ms, d.throughput_window),
        }
    }

    /// Returns the [`BodyLimits`]: the `sfdc-rest` defaults with the keys set here.
    pub fn body_limits(&self) -> BodyLimits {
        let b = &self.body_limits;
        let d = BodyLimits::default();
        BodyLimits {
            error_body: b.error_body_bytes.unwrap_or(d.error_body),
            token_body: b.token_body_bytes.unwrap_or(d.token_body),
            response_body: b.response_body_bytes.unwrap_or(d.response_body),
            max_query_pages: b.max_query_pages.unwrap_or(d.max_query_pages),
        }
    }
}
