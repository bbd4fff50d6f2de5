//! The retry decision: a pure function of the request's idempotency, the failure and the attempt.
//!
//! [`decide`] is the only place the client decides whether to resend a request. It does no I/O:
//! the send loop in the transport passes what happened and a jitter sample, and sleeps for the
//! returned delay.
//!
//! What is retried is what the one retry table, [`classify`], calls [`Verdict::Retry`] (see the
//! table in its module docs), within [`RetryConfig::max_attempts`] and
//! [`RetryConfig::max_elapsed`], honouring `Retry-After`. Never retried by the loop: throttling
//! (`403 REQUEST_LIMIT_EXCEEDED`, [`Verdict::RetryLater`]: surfaced at once), a request whose
//! outcome is unknown (a create sent without an answer), 401 (the transport refreshes the token
//! instead), any other 4xx, and a `Retry-After` longer than the maximum backoff delay.

use std::time::Duration;

use http::{Method, StatusCode};

use crate::backoff::BackoffConfig;
use crate::error::ErrorCode;

mod table;

pub use table::{Verdict, classify};

/// Whether a request can safely be sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Idempotency {
    /// Reads (GET, HEAD): no effect on the server.
    Safe,
    /// Writes that give the same result when repeated: PUT, PATCH by id, upsert by external id,
    /// DELETE.
    Idempotent,
    /// Writes that may duplicate data when repeated: POST create, Collections create.
    NotIdempotent,
}

impl Idempotency {
    /// Returns the default class of an HTTP method: GET/HEAD/OPTIONS are safe, PUT/PATCH/DELETE
    /// idempotent, anything else (POST) not idempotent.
    pub fn from_method(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD | Method::OPTIONS => Self::Safe,
            Method::PUT | Method::PATCH | Method::DELETE => Self::Idempotent,
            _ => Self::NotIdempotent,
        }
    }

    /// Returns the weaker of two classes: what a request doing both is. Anything not idempotent
    /// makes it not idempotent; it is safe only when both are safe; otherwise idempotent.
    ///
    /// ```
    /// use sfdc_rest::Idempotency;
    ///
    /// assert_eq!(Idempotency::Safe.weakest(Idempotency::Safe), Idempotency::Safe);
    /// assert_eq!(Idempotency::Safe.weakest(Idempotency::Idempotent), Idempotency::Idempotent);
    /// assert_eq!(
    ///     Idempotency::Idempotent.weakest(Idempotency::NotIdempotent),
    ///     Idempotency::NotIdempotent
    /// );
    /// ```
    #[must_use]
    pub fn weakest(self, other: Self) -> Self {
        match (self, other) {
            (Self::NotIdempotent, _) | (_, Self::NotIdempotent) => Self::NotIdempotent,
            (Self::Safe, Self::Safe) => Self::Safe,
            _ => Self::Idempotent,
        }
    }
}

/// Retry settings: bounded attempts plus the backoff between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    /// Maximum number of attempts, the first one included (1 disables retries). Default: 4.
    pub max_attempts: u32,
    /// Optional bound on the total time spent on one request, retries included. Default: 2 minutes.
    pub max_elapsed: Option<Duration>,
    /// Delays between attempts.
    pub backoff: BackoffConfig,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Some(Duration::from_secs(120)),
            backoff: BackoffConfig::default(),
        }
    }
}

impl RetryConfig {
    /// Returns a configuration that never retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure<'a> {
    /// The connection failed before the request was sent (DNS, connect refused, TLS handshake).
    NotSent,
    /// The request may have been sent but no response arrived (timeout, connection reset).
    NoResponse,
    /// Salesforce answered with an error status.
    Response {
        /// The HTTP status.
        status: StatusCode,
        /// The first Salesforce error code of the body, if any.
        error_code: Option<&'a ErrorCode>,
        /// The `Retry-After` delay, if the response carried one in seconds.
        retry_after: Option<Duration>,
    },
    /// Salesforce answered with a success status, so it processed the request, but the answer
    /// could not be read (truncated JSON, wrong shape, wrong number of results).
    Unreadable,
    /// Salesforce answered, and reported this record (a Collections item, a Bulk result row) as
    /// failed with this code; nothing of the record was applied.
    Record {
        /// The record's first error code.
        error_code: &'a ErrorCode,
    },
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Give up and surface the failure.
    Stop,
    /// Wait this long, then send the request again.
    RetryAfter(Duration),
}

/// Decides whether to retry after a failed attempt.
///
/// `attempt` is the 1-based number of the attempt that just failed, `elapsed` the time spent on the
/// request so far, and `jitter` a sample in `0.0..=1.0` for the backoff. Pure: no clock, no
/// randomness, no I/O.
///
/// Guarantees (property-tested): a [`Idempotency::NotIdempotent`] request is never retried once
/// it may have been sent; the result is [`Decision::Stop`] once `attempt >= max_attempts`; a delay
/// never exceeds `backoff.max_delay`.
pub fn decide(
    idempotency: Idempotency,
    failure: &Failure<'_>,
    attempt: u32,
    elapsed: Duration,
    config: &RetryConfig,
    jitter: f64,
) -> Decision {
    if attempt >= config.max_attempts {
        return Decision::Stop;
    }
    if classify(idempotency, failure) != Verdict::Retry {
        return Decision::Stop;
    }
    let backoff = config.backoff.delay(attempt, jitter);
    let delay = match failure {
        Failure::Response {
            retry_after: Some(wait),
            ..
        } if *wait > config.backoff.max_delay => None,
        Failure::Response {
            retry_after: Some(wait),
            ..
        } => Some(backoff.max(*wait)),
        _ => Some(backoff),
    };
    match delay {
        Some(delay)
            if config
                .max_elapsed
                .is_none_or(|max| elapsed.saturating_add(delay) <= max) =>
        {
            Decision::RetryAfter(delay.min(config.backoff.max_delay))
        }
        _ => Decision::Stop,
    }
}

/// Parses a `Retry-After` header given in seconds (HTTP dates are ignored).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> RetryConfig {
        RetryConfig {
            max_attempts: 4,
            max_elapsed: None,
            backoff: BackoffConfig {
                initial_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(10),
                multiplier: 2.0,
                jitter: 0.0,
            },
        }
    }

    fn resp(status: u16, code: Option<&ErrorCode>) -> Failure<'_> {
        Failure::Response {
            status: StatusCode::from_u16(status).unwrap(),
            error_code: code,
            retry_after: None,
        }
    }

    use Idempotency::{Idempotent, NotIdempotent, Safe};

    #[test]
    fn decision_table() {
        let lock = ErrorCode::UnableToLockRow;
        let limit = ErrorCode::RequestLimitExceeded;
        let session = ErrorCode::InvalidSessionId;
        let malformed = ErrorCode::MalformedQuery;
        let retry = Decision::RetryAfter(Duration::from_millis(100));
        let cases: Vec<(Idempotency, Failure<'_>, Decision)> = vec![
            (NotIdempotent, Failure::NotSent, retry),
            (Safe, Failure::NotSent, retry),
            (NotIdempotent, Failure::NoResponse, Decision::Stop),
            (Idempotent, Failure::NoResponse, retry),
            (Safe, Failure::NoResponse, retry),
            (Safe, resp(500, None), retry),
            (Idempotent, resp(502, None), retry),
            (Idempotent, resp(503, None), retry),
            (Safe, resp(504, None), retry),
            // Refused before it was applied: safe to resend even for a create.
            (NotIdempotent, resp(503, None), retry),
            (NotIdempotent, resp(502, None), Decision::Stop),
            (Idempotent, resp(400, Some(&lock)), retry),
            (NotIdempotent, resp(400, Some(&lock)), retry),
            (Safe, resp(403, Some(&limit)), Decision::Stop),
            // A session error left after the transport's refreshes: retried (with the cached token).
            (Safe, resp(401, Some(&session)), retry),
            (Safe, resp(400, Some(&malformed)), Decision::Stop),
            (Safe, resp(404, None), Decision::Stop),
            (Safe, resp(429, None), retry),
            (Safe, resp(501, None), Decision::Stop),
        ];
        for (i, (idem, failure, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                decide(idem, &failure, 1, Duration::ZERO, &cfg(), 0.0),
                want,
                "case {i}: {idem:?} {failure:?}"
            );
        }
    }

    #[test]
    fn honours_retry_after_within_max() {
        let f = Failure::Response {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error_code: None,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            decide(Safe, &f, 1, Duration::ZERO, &cfg(), 0.0),
            Decision::RetryAfter(Duration::from_secs(3))
        );
        let too_long = Failure::Response {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error_code: None,
            retry_after: Some(Duration::from_secs(60)),
        };
        assert_eq!(
            decide(Safe, &too_long, 1, Duration::ZERO, &cfg(), 0.0),
            Decision::Stop
        );
    }

    #[test]
    fn stops_at_attempt_limit_and_elapsed_budget() {
        assert_eq!(
            decide(Safe, &Failure::NotSent, 4, Duration::ZERO, &cfg(), 0.0),
            Decision::Stop
        );
        let mut c = cfg();
        c.max_elapsed = Some(Duration::from_secs(1));
        assert_eq!(
            decide(
                Safe,
                &Failure::NotSent,
                1,
                Duration::from_millis(950),
                &c,
                0.0
            ),
            Decision::Stop
        );
    }

    #[test]
    fn default_idempotency_per_method() {
        assert_eq!(Idempotency::from_method(&Method::GET), Safe);
        assert_eq!(Idempotency::from_method(&Method::PATCH), Idempotent);
        assert_eq!(Idempotency::from_method(&Method::DELETE), Idempotent);
        assert_eq!(Idempotency::from_method(&Method::POST), NotIdempotent);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    fn any_idem() -> impl Strategy<Value = Idempotency> {
        prop_oneof![Just(Safe), Just(Idempotent), Just(NotIdempotent)]
    }

    fn any_code() -> impl Strategy<Value = Option<ErrorCode>> {
        prop_oneof![
            Just(None),
            Just(Some(ErrorCode::UnableToLockRow)),
            Just(Some(ErrorCode::RequestLimitExceeded)),
            Just(Some(ErrorCode::InvalidSessionId)),
            "[A-Z_]{1,20}".prop_map(|s| Some(ErrorCode::from(s))),
        ]
    }

    fn any_config() -> impl Strategy<Value = RetryConfig> {
        (
            1u32..10,
            proptest::option::of(0u64..600_000),
            0u64..5_000,
            0u64..120_000,
            0.0f64..10.0,
            0.0f64..=1.0,
        )
            .prop_map(
                |(max_attempts, elapsed, init, max, mult, jitter)| RetryConfig {
                    max_attempts,
                    max_elapsed: elapsed.map(Duration::from_millis),
                    backoff: BackoffConfig {
                        initial_delay: Duration::from_millis(init),
                        max_delay: Duration::from_millis(max),
                        multiplier: mult,
                        jitter,
                    },
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn invariants(
            idem in any_idem(),
            kind in 0u8..3,
            status in 400u16..600,
            code in any_code(),
            retry_after in proptest::option::of(0u64..1_000),
            attempt in 1u32..20,
            elapsed in 0u64..1_000_000,
            config in any_config(),
            jitter in -1.0f64..2.0,
        ) {
            let status = StatusCode::from_u16(status).unwrap();
            let failure = match kind {
                0 => Failure::NotSent,
                1 => Failure::NoResponse,
                _ => Failure::Response {
                    status,
                    error_code: code.as_ref(),
                    retry_after: retry_after.map(Duration::from_secs),
                },
            };
            let d = decide(idem, &failure, attempt, Duration::from_millis(elapsed), &config, jitter);
            if let Decision::RetryAfter(delay) = d {
                // The loop retries exactly what the table calls Retry.
                prop_assert_eq!(classify(idem, &failure), Verdict::Retry);
                // NotIdempotent is never retried once it may have been applied.
                prop_assert!(idem != NotIdempotent || failure != Failure::NoResponse);
                // The attempt limit is never exceeded.
                prop_assert!(attempt < config.max_attempts);
                // No delay is above the maximum.
                prop_assert!(delay <= config.backoff.max_delay);
                // Throttling is never retried.
                prop_assert!(code != Some(ErrorCode::RequestLimitExceeded) || kind != 2);
            }
        }
    }
}
