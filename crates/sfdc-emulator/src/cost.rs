//! Per-record server time ([`crate::EmulatorConfig::record_cost`]): handlers mark how many
//! records a response wrote, and the API layer waits that many record costs before
//! answering, inside the request (so requests are serial within, concurrent between).

use std::time::Duration;

use axum::response::Response;

/// Response extension: the number of records the request wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordsWritten(pub(crate) usize);

/// Marks `resp` as having written `n` records.
pub(crate) fn mark(mut resp: Response, n: usize) -> Response {
    resp.extensions_mut().insert(RecordsWritten(n));
    resp
}

/// The server time `resp` stands for at `per_record`.
pub(crate) fn time_of(resp: &Response, per_record: Duration) -> Duration {
    let n = resp.extensions().get::<RecordsWritten>().map_or(0, |r| r.0);
    per_record.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
}
