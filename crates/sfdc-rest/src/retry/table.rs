//! The retry table: idempotency class × failure → [`Verdict`].
//!
//! [`classify`] is the one rule of the workspace for "may this be sent again?". The client's retry
//! loop ([`super::decide`]), the predicates of [`crate::Error`] (`is_retryable`,
//! `is_outcome_unknown`), `sfdc-bulk` and the destination facade all ask it; nothing else reads
//! error codes or statuses to decide.
//!
//! | failure | safe / idempotent | not idempotent (POST create) |
//! |---|---|---|
//! | not sent (DNS, connect, TLS) | retry | retry |
//! | sent, no response (timeout, reset) | retry | **outcome unknown** |
//! | 2xx answer that cannot be read (truncated JSON, wrong shape, wrong count) | retry | **outcome unknown** |
//! | `UNABLE_TO_LOCK_ROW`, `SERVER_UNAVAILABLE`, HTTP 503, 420, 429 | retry | retry (refused before it was applied) |
//! | HTTP 500, 502, 504 | retry | **outcome unknown** (a gateway may answer after the commit) |
//! | `REQUEST_LIMIT_EXCEEDED` (403) | retry later | retry later |
//! | 401 `INVALID_SESSION_ID` left after the client's bounded refreshes | retry | retry (refused, nothing applied) |
//! | any other 4xx, 501 and other statuses | permanent | permanent |
//!
//! OAuth token errors ([`Failure::Token`], the answer of the token endpoint) are classified by
//! grant and cause:
//!
//! | grant | `invalid_grant` description | verdict |
//! |---|---|---|
//! | `authorization_code` | any (e.g. `expired authorization code`: the code was used or is too old) | permanent |
//! | `refresh_token` | `token request is already being processed`, `expired authorization code` (a concurrent refresh with the same token) | retry |
//! | any other | `token request is already being processed` | retry |
//! | any | anything else (`expired access/refresh token`, `authentication failure`, ...), and every other OAuth `error` | permanent |
//!
//! A retryable refresh race never means "send the same refresh token again":
//! [`RefreshTokenSource`](crate::auth::RefreshTokenSource) re-reads the current token instead.
//!
//! A per-record failure inside a successful answer ([`Failure::Record`]: a Collections item, a
//! Bulk result row) was reported by Salesforce, so nothing of it was applied: lock contention and
//! rollbacks caused by another record (`ALL_OR_NONE_OPERATION_ROLLED_BACK`, `PROCESSING_HALTED`)
//! are retried, throttling retried later, the client-side codes (`REQUEST_FAILED`,
//! `REQUEST_REJECTED`, `OUTCOME_UNKNOWN`, `ERROR_HTTP_<status>`) mean what they say, and any
//! other code is permanent.

use http::StatusCode;

use super::{Failure, Idempotency};
use crate::error::ErrorCode;

/// What a failure means for sending the same request (or record) again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// Sending it again is safe and may succeed; the client's loop retries within its budget.
    Retry,
    /// Sending it again is safe but useful only once the org's API allocation recovers
    /// (throttling); the client does not wait for that.
    RetryLater,
    /// The request may have been applied and its answer is unknown: sending it again may
    /// duplicate data. Look the record up (or upsert by an external id) instead.
    OutcomeUnknown,
    /// Sending the same request again cannot help: fix the input, the configuration or the
    /// credentials.
    Permanent,
}

impl Verdict {
    /// Returns `true` for [`Verdict::Retry`] and [`Verdict::RetryLater`]: resending is safe.
    pub fn is_resendable(self) -> bool {
        matches!(self, Self::Retry | Self::RetryLater)
    }
}

/// Classifies a failure of a request of the given idempotency class. Pure.
pub fn classify(idempotency: Idempotency, failure: &Failure<'_>) -> Verdict {
    let replayable = idempotency != Idempotency::NotIdempotent;
    match failure {
        Failure::NotSent => Verdict::Retry,
        Failure::NoResponse if replayable => Verdict::Retry,
        Failure::NoResponse => Verdict::OutcomeUnknown,
        Failure::Unreadable if replayable => Verdict::Retry,
        Failure::Unreadable => Verdict::OutcomeUnknown,
        Failure::Response {
            status, error_code, ..
        } => match error_code.and_then(code_verdict) {
            Some(verdict) => verdict,
            None => status_verdict(*status, replayable),
        },
        Failure::Token {
            grant,
            error,
            description,
        } => token_verdict(*grant, error, description),
        Failure::Record { error_code } => match code_verdict(error_code) {
            Some(verdict) => verdict,
            None => match error_code.synthetic_status() {
                Some(status) => status_verdict(status, replayable),
                None => Verdict::Permanent,
            },
        },
    }
}

/// The verdict an error code decides on its own, whatever the status.
fn code_verdict(code: &ErrorCode) -> Option<Verdict> {
    match code {
        ErrorCode::UnableToLockRow
        | ErrorCode::ServerUnavailable
        | ErrorCode::AllOrNoneOperationRolledBack
        | ErrorCode::ProcessingHalted
        | ErrorCode::RequestFailed => Some(Verdict::Retry),
        ErrorCode::RequestLimitExceeded => Some(Verdict::RetryLater),
        // A session that expired again after the client's bounded refreshes (concurrent
        // expiries): a later attempt gets a fresh token. A bad credential fails the refresh
        // itself with an `Auth` error, which stays permanent.
        ErrorCode::InvalidSessionId => Some(Verdict::Retry),
        ErrorCode::OutcomeUnknown => Some(Verdict::OutcomeUnknown),
        ErrorCode::RequestRejected => Some(Verdict::Permanent),
        _ => None,
    }
}

/// The token rows: an OAuth error of a token request, by grant and cause.
fn token_verdict(grant: Option<&str>, error: &str, description: &str) -> Verdict {
    if error != "invalid_grant" {
        return Verdict::Permanent;
    }
    let description = description.to_ascii_lowercase();
    let busy = description.contains("already being processed");
    let expired_code = description.contains("expired authorization code");
    match grant {
        Some("authorization_code") => Verdict::Permanent,
        Some("refresh_token") if busy || expired_code => Verdict::Retry,
        _ if busy => Verdict::Retry,
        _ => Verdict::Permanent,
    }
}

fn status_verdict(status: StatusCode, replayable: bool) -> Verdict {
    match status.as_u16() {
        420 | 429 | 503 => Verdict::Retry,
        500 | 502 | 504 if replayable => Verdict::Retry,
        500 | 502 | 504 => Verdict::OutcomeUnknown,
        _ => Verdict::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Idempotency::{Idempotent, NotIdempotent, Safe};
    use Verdict::{OutcomeUnknown, Permanent, Retry, RetryLater};

    fn resp(status: u16, code: Option<&ErrorCode>) -> Failure<'_> {
        Failure::Response {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            error_code: code,
            retry_after: None,
        }
    }

    #[test]
    fn the_table() {
        let lock = ErrorCode::UnableToLockRow;
        let limit = ErrorCode::RequestLimitExceeded;
        let session = ErrorCode::InvalidSessionId;
        let required = ErrorCode::RequiredFieldMissing;
        let cases: Vec<(Idempotency, Failure<'_>, Verdict)> = vec![
            (Safe, Failure::NotSent, Retry),
            (NotIdempotent, Failure::NotSent, Retry),
            (Safe, Failure::NoResponse, Retry),
            (Idempotent, Failure::NoResponse, Retry),
            (NotIdempotent, Failure::NoResponse, OutcomeUnknown),
            (NotIdempotent, Failure::Unreadable, OutcomeUnknown),
            (Idempotent, Failure::Unreadable, Retry),
            (Safe, Failure::Unreadable, Retry),
            (Safe, resp(500, None), Retry),
            (Idempotent, resp(502, None), Retry),
            (Idempotent, resp(504, None), Retry),
            (NotIdempotent, resp(500, None), OutcomeUnknown),
            (NotIdempotent, resp(502, None), OutcomeUnknown),
            (NotIdempotent, resp(504, None), OutcomeUnknown),
            (NotIdempotent, resp(503, None), Retry),
            (Safe, resp(429, None), Retry),
            (NotIdempotent, resp(420, None), Retry),
            (NotIdempotent, resp(400, Some(&lock)), Retry),
            (Idempotent, resp(400, Some(&lock)), Retry),
            (Safe, resp(403, Some(&limit)), RetryLater),
            (NotIdempotent, resp(403, Some(&limit)), RetryLater),
            (Safe, resp(401, Some(&session)), Retry),
            (NotIdempotent, resp(401, Some(&session)), Retry),
            (Safe, resp(400, Some(&required)), Permanent),
            (Safe, resp(404, None), Permanent),
            (Safe, resp(501, None), Permanent),
        ];
        for (i, (idem, failure, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                classify(idem, &failure),
                want,
                "case {i}: {idem:?} {failure:?}"
            );
        }
    }

    #[test]
    fn per_record_codes() {
        let cases = [
            ("UNABLE_TO_LOCK_ROW", Retry),
            ("ALL_OR_NONE_OPERATION_ROLLED_BACK", Retry),
            ("PROCESSING_HALTED", Retry),
            ("SERVER_UNAVAILABLE", Retry),
            ("REQUEST_FAILED", Retry),
            ("REQUEST_LIMIT_EXCEEDED", RetryLater),
            ("OUTCOME_UNKNOWN", OutcomeUnknown),
            ("REQUEST_REJECTED", Permanent),
            ("REQUIRED_FIELD_MISSING", Permanent),
            ("ENTITY_IS_DELETED", Permanent),
            ("ERROR_HTTP_503", Retry),
            ("ERROR_HTTP_429", Retry),
            ("ERROR_HTTP_400", Permanent),
            ("SOMETHING_NEW", Permanent),
        ];
        for (code, want) in cases {
            let code = ErrorCode::from(code);
            let got = classify(Idempotent, &Failure::Record { error_code: &code });
            assert_eq!(got, want, "{code}");
            assert_eq!(code.verdict(), want, "{code}");
        }
        // A gateway status on a create chunk may have been applied.
        let gateway = ErrorCode::from("ERROR_HTTP_502");
        assert_eq!(
            classify(
                NotIdempotent,
                &Failure::Record {
                    error_code: &gateway
                }
            ),
            OutcomeUnknown
        );
    }

    #[test]
    fn token_rows() {
        let busy = "token request is already being processed";
        let expired_code = "expired authorization code";
        let cases = [
            (Some("refresh_token"), "invalid_grant", busy, Retry),
            (Some("refresh_token"), "invalid_grant", expired_code, Retry),
            (
                Some("refresh_token"),
                "invalid_grant",
                "Expired Authorization Code",
                Retry,
            ),
            (
                Some("refresh_token"),
                "invalid_grant",
                "expired access/refresh token",
                Permanent,
            ),
            (
                Some("authorization_code"),
                "invalid_grant",
                expired_code,
                Permanent,
            ),
            (Some("authorization_code"), "invalid_grant", busy, Permanent),
            (Some("password"), "invalid_grant", busy, Retry),
            (
                Some("password"),
                "invalid_grant",
                "authentication failure",
                Permanent,
            ),
            (
                Some("urn:ietf:params:oauth:grant-type:jwt-bearer"),
                "invalid_grant",
                expired_code,
                Permanent,
            ),
            (None, "invalid_grant", busy, Retry),
            (Some("refresh_token"), "invalid_client_id", busy, Permanent),
        ];
        for (grant, error, description, want) in cases {
            let failure = Failure::Token {
                grant,
                error,
                description,
            };
            assert_eq!(
                classify(Idempotent, &failure),
                want,
                "{grant:?} {error} {description}"
            );
        }
    }

    #[test]
    fn resendable() {
        assert!(Retry.is_resendable());
        assert!(RetryLater.is_resendable());
        assert!(!OutcomeUnknown.is_resendable());
        assert!(!Permanent.is_resendable());
    }
}
