//! The crate error type and its predicates; Salesforce error bodies are in `api_error`, error codes
//! in `code`, transport failures in `transport`.
//!
//! Every failure of this crate is an [`Error`]. Callers should ask the predicates
//! ([`Error::is_retryable`], [`Error::is_outcome_unknown`], [`Error::is_auth`],
//! [`Error::is_throttled`], [`Error::is_not_found`]) and accessors ([`Error::status`], [`Error::api_errors`], [`Error::error_code`]) rather than match
//! variants: the enum is `#[non_exhaustive]`.

use http::StatusCode;

use crate::retry::{Failure, Idempotency, Verdict, classify};

mod api_error;
mod code;
mod transport;

pub use api_error::ApiError;
#[cfg(test)]
use api_error::BODY_EXCERPT_CHARS;
use api_error::DisplayErrors;
pub(crate) use api_error::parse_error_body;
pub use code::ErrorCode;
pub use transport::TransportError;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Salesforce.
///
/// Secrets (access tokens, refresh tokens, client secrets) never appear in this type's `Debug` or
/// `Display` output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An OAuth token request failed (`{"error","error_description"}` bodies), or no token could be
    /// obtained.
    #[error("authentication failed: {code}: {description}")]
    Auth {
        /// The OAuth `error` value, e.g. `invalid_grant`.
        code: String,
        /// The OAuth `error_description` value, e.g. `authentication failure`.
        description: String,
        /// The HTTP status of the token response, when there was one.
        status: Option<StatusCode>,
        /// The `grant_type` of the token request that failed (`refresh_token`,
        /// `authorization_code`, ...), when the error came from a token request: the retry table
        /// classifies OAuth errors by grant and cause.
        grant: Option<String>,
    },

    /// A token store ([`crate::auth::TokenStore`]) could not load or save a refresh token. The
    /// message names the store (e.g. its file path) and the I/O failure, never the token.
    #[error("token store failed: {message}")]
    TokenStore {
        /// What failed and where.
        message: String,
    },

    /// The HTTP exchange itself failed: DNS, connect, TLS, timeout, connection reset, body read.
    ///
    /// When `sent` is true and `idempotency` is [`Idempotency::NotIdempotent`] (e.g. a POST create
    /// whose response was lost), Salesforce may have committed the request:
    /// [`Error::is_outcome_unknown`] is true and [`Error::is_retryable`] is false.
    #[error("HTTP transport error ({}): {source}", transport_state(*.sent, *.idempotency))]
    Transport {
        /// What failed (its URL is stripped: URLs can carry record ids).
        #[source]
        source: TransportError,
        /// `true` when the request may have reached Salesforce (timeout, reset after send, or a
        /// response whose body could not be read), so it may have been applied.
        sent: bool,
        /// The idempotency class of the failed request, set by the transport: whether sending it
        /// again is harmless even if the first attempt was applied.
        idempotency: Idempotency,
    },

    /// The client or an auth flow was configured with an invalid value; fix the configuration.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// Salesforce answered with an HTTP status >= 400 (the parsed error array is kept).
    #[error("Salesforce API error (HTTP {status}): {}", DisplayErrors(errors))]
    Api {
        /// The HTTP status of the response.
        status: StatusCode,
        /// The parsed Salesforce errors; for a non-JSON body (e.g. an HTML proxy page) one
        /// synthesised entry with code `ERROR_HTTP_<status>` and an excerpt of the body.
        errors: Vec<ApiError>,
        /// The idempotency class of the request that got this answer, which decides with the
        /// status and code whether it may be sent again ([`Error::verdict`]).
        idempotency: Idempotency,
    },

    /// The client refused to make a call because the configured share of the daily API allocation
    /// is used up (see `ClientBuilder::api_budget`). No request was sent.
    #[error(
        "API budget exhausted: {used} of {max} daily API calls used, the client is configured to stop at {limit}; raise the budget or wait for the allocation to recover"
    )]
    BudgetExceeded {
        /// Calls used in the last 24 hours, from the last `Sforce-Limit-Info` header.
        used: u64,
        /// The org's daily allocation.
        max: u64,
        /// The number of used calls at which this client stops.
        limit: u64,
    },

    /// A response body could not be decoded into the expected shape.
    #[error("could not decode {context}: {source}")]
    Decode {
        /// What was being decoded, e.g. `query response`.
        context: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },

    /// An object name, field name, record id or other input is not acceptable; nothing was sent.
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidInput {
        /// What kind of value, e.g. `object name`.
        kind: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// Salesforce answered a request with a success status, so it processed it, but the body is
    /// not the answer the operation expects (truncated or invalid JSON, a wrong shape, a wrong
    /// number of results). For a non-idempotent request (a create) the outcome is unknown
    /// ([`Verdict::OutcomeUnknown`]: records may have been created); a safe or idempotent
    /// request may be sent again ([`Verdict::Retry`]).
    #[error("unreadable answer (HTTP {status}) to a processed request: {message}")]
    UnreadableAnswer {
        /// The (success) HTTP status of the answer.
        status: StatusCode,
        /// The idempotency class of the request that was answered.
        idempotency: Idempotency,
        /// What could not be read.
        message: String,
    },

    /// The response had a status or shape that the operation cannot interpret.
    #[error("unexpected response (HTTP {status}): {message}")]
    UnexpectedResponse {
        /// The HTTP status of the response.
        status: StatusCode,
        /// What was unexpected.
        message: String,
    },

    /// The server answered with a redirect (a 3xx other than Salesforce's `300 Multiple
    /// Choices`). Salesforce APIs do not redirect API calls; the client follows no redirect and
    /// re-sent nothing. Not retryable.
    #[error(
        "refused redirect (HTTP {status}) to {location:?}: Salesforce APIs do not redirect API calls, nothing was re-sent; check the instance URL or login host"
    )]
    Redirect {
        /// The HTTP status of the response.
        status: StatusCode,
        /// The `Location` header, as received (empty when absent).
        location: String,
    },

    /// A buffered response body was larger than its cap ([`crate::BodyLimits`]); reading stopped
    /// and the body was refused. Not retryable.
    #[error(
        "response body truncated: {context} (HTTP {status}) is larger than the {limit}-byte cap; raise it with ClientBuilder::body_limits"
    )]
    BodyTooLarge {
        /// Which body, e.g. `error body` or `response of query`.
        context: String,
        /// The HTTP status of the response.
        status: StatusCode,
        /// The cap in bytes.
        limit: usize,
    },

    /// A transport guard ended the call ([`crate::Timeouts`]): no complete headers within the
    /// deadline, or a body slower than the minimum throughput.
    ///
    /// Like [`Error::Transport`]: a non-idempotent request (a create) that timed out after being
    /// sent is [`Error::is_outcome_unknown`]; other timed-out calls are [`Error::is_retryable`].
    #[error("call timed out ({}): {phase}", transport_state(*.sent, *.idempotency))]
    Timeout {
        /// Which guard fired.
        phase: crate::guard::TimeoutPhase,
        /// `true` when the request may have reached Salesforce.
        sent: bool,
        /// The idempotency class of the request.
        idempotency: Idempotency,
    },
}

impl Error {
    /// Builds an [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }

    /// Builds an [`Error::Transport`] for a request of class `idempotency`, stripping the URL from
    /// the HTTP library's error.
    ///
    /// `sent` is `true` when the request may have reached Salesforce.
    pub(crate) fn transport(source: reqwest::Error, sent: bool, idempotency: Idempotency) -> Self {
        Self::Transport {
            source: TransportError::new(source),
            sent,
            idempotency,
        }
    }

    /// Builds an [`Error::Decode`].
    pub fn decode(context: impl Into<String>, source: serde_json::Error) -> Self {
        Self::Decode {
            context: context.into(),
            source,
        }
    }

    /// Builds an [`Error::Api`] from a status and a raw response body.
    ///
    /// The body is parsed as the Salesforce error array (`errorCode` or `statusCode` keys), as a
    /// single error object, or as an OAuth-style `{"error","error_description"}` object; anything else
    /// (HTML from a proxy, plain text, empty) becomes one error with code `ERROR_HTTP_<status>` and a
    /// short excerpt of the body.
    ///
    /// The error is classified as the answer to an idempotent request; the transport uses
    /// [`Error::from_response_to`] with the request's real class.
    pub fn from_response(status: StatusCode, body: &[u8]) -> Self {
        Self::from_response_to(status, body, Idempotency::Idempotent)
    }

    /// Like [`Error::from_response`], for a request of the given idempotency class.
    pub fn from_response_to(status: StatusCode, body: &[u8], idempotency: Idempotency) -> Self {
        Self::Api {
            status,
            errors: parse_error_body(status, body),
            idempotency,
        }
    }

    /// Returns what this failure means for sending the same request again, from the one retry
    /// table ([`crate::retry::classify`]); every predicate below agrees with it.
    pub fn verdict(&self) -> Verdict {
        self.verdict_of(None)
    }

    /// Returns what this failure means for resending **part** of the request, whose own
    /// idempotency class is `idempotency`: the same failure looked up in the retry table
    /// ([`crate::retry::classify`]) with that class. For a Composite call that carried a create
    /// and lost its answer, [`Error::verdict`] is outcome-unknown, while its update subrequests
    /// (`verdict_as(Idempotency::Idempotent)`) may be resent. Errors that carry no idempotency
    /// class answer as [`Error::verdict`].
    pub fn verdict_as(&self, idempotency: Idempotency) -> Verdict {
        self.verdict_of(Some(idempotency))
    }

    fn verdict_of(&self, part: Option<Idempotency>) -> Verdict {
        match self {
            Self::Transport {
                sent, idempotency, ..
            }
            | Self::Timeout {
                sent, idempotency, ..
            } => {
                let failure = if *sent {
                    Failure::NoResponse
                } else {
                    Failure::NotSent
                };
                classify(part.unwrap_or(*idempotency), &failure)
            }
            Self::Api {
                status,
                errors,
                idempotency,
            } => classify(
                part.unwrap_or(*idempotency),
                &Failure::Response {
                    status: *status,
                    error_code: errors.first().map(|e| &e.error_code),
                    retry_after: None,
                },
            ),
            Self::Auth {
                code,
                description,
                grant,
                ..
            } => classify(
                Idempotency::Idempotent,
                &Failure::Token {
                    grant: grant.as_deref(),
                    error: code,
                    description,
                },
            ),
            Self::BudgetExceeded { .. } => Verdict::RetryLater,
            Self::UnreadableAnswer { idempotency, .. } => {
                classify(part.unwrap_or(*idempotency), &Failure::Unreadable)
            }
            _ => Verdict::Permanent,
        }
    }

    /// Returns `true` when sending the same request again later may succeed and cannot duplicate
    /// data.
    ///
    /// True when [`Error::verdict`] is [`Verdict::Retry`]: HTTP 503, 420, 429; `UNABLE_TO_LOCK_ROW`;
    /// HTTP 500/502/504 of safe and idempotent requests; transport failures before the request
    /// was sent, and after it may have been sent for safe and idempotent requests (reads,
    /// updates, upserts, deletes); and the OAuth `invalid_grant` concurrent-refresh races ("token
    /// request is already being processed"; for the `refresh_token` grant also "expired
    /// authorization code"), see the token rows of [`crate::retry::classify`].
    ///
    /// [`Error::Timeout`] (a transport guard ended the call) follows the same rule as a transport
    /// failure after sending. False for [`Error::Redirect`] and [`Error::BodyTooLarge`]: the
    /// server would answer the same way again.
    ///
    /// False for a transport failure or a gateway status (500/502/504) after a non-idempotent
    /// request (POST create, Collections create) may have been sent: Salesforce may have applied
    /// it, and resending may create a duplicate; see [`Error::is_outcome_unknown`]. False for throttling
    /// (`REQUEST_LIMIT_EXCEEDED`, [`Error::BudgetExceeded`]): waiting minutes or hours is needed.
    pub fn is_retryable(&self) -> bool {
        self.verdict() == Verdict::Retry
    }

    /// Returns `true` for authentication failures: [`Error::Auth`], HTTP 401, or the codes
    /// `INVALID_SESSION_ID` / `INVALID_AUTH_HEADER`.
    ///
    /// The client already refreshed the token once before returning such an error; check the
    /// credentials (or the connected app's policies) rather than retrying.
    pub fn is_auth(&self) -> bool {
        match self {
            Self::Auth { .. } => true,
            Self::Api { status, errors, .. } => {
                *status == StatusCode::UNAUTHORIZED
                    || errors.iter().any(|e| {
                        matches!(
                            e.error_code,
                            ErrorCode::InvalidSessionId | ErrorCode::InvalidAuthHeader
                        )
                    })
            }
            _ => false,
        }
    }

    /// Returns `true` when Salesforce (or this client's budget guard) refuses calls because of API
    /// limits: `REQUEST_LIMIT_EXCEEDED` (HTTP 403), HTTP 420 / 429, or [`Error::BudgetExceeded`].
    ///
    /// Do not re-authenticate and do not retry immediately: the daily allocation recovers over a
    /// rolling 24 hours; reduce traffic or use Bulk API.
    pub fn is_throttled(&self) -> bool {
        match self {
            Self::BudgetExceeded { .. } => true,
            Self::Api { status, errors, .. } => {
                matches!(status.as_u16(), 420 | 429)
                    || errors
                        .iter()
                        .any(|e| e.error_code == ErrorCode::RequestLimitExceeded)
            }
            _ => false,
        }
    }

    /// Returns `true` when the resource does not exist: HTTP 404 (`NOT_FOUND`, `ENTITY_IS_DELETED`,
    /// unknown object or external-id field) or a `NOT_FOUND` / `ENTITY_IS_DELETED` code.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api { status, errors, .. } => {
                *status == StatusCode::NOT_FOUND
                    || errors.iter().any(|e| {
                        matches!(
                            e.error_code,
                            ErrorCode::NotFound | ErrorCode::EntityIsDeleted
                        )
                    })
            }
            _ => false,
        }
    }

    /// Returns `true` when a [`Error::Transport`] failure happened after the request may have been
    /// sent (timeout, connection reset after send, unreadable response body). Such a request may
    /// have been applied.
    pub fn was_sent(&self) -> bool {
        matches!(
            self,
            Self::Transport { sent: true, .. } | Self::Timeout { sent: true, .. }
        )
    }

    /// Returns `true` when a non-idempotent request (POST create, Collections create, or a request
    /// marked [`Idempotency::NotIdempotent`]) may have been applied by Salesforce but no usable
    /// response arrived: a [`Error::Transport`] failure or an [`Error::Timeout`] after the request
    /// was sent, or a gateway status (500, 502, 504) that may have come after the commit
    /// ([`Verdict::OutcomeUnknown`]).
    ///
    /// The outcome is unknown: the record may exist. Do **not** resend the request (it may create a
    /// duplicate; [`Error::is_retryable`] is false). Look the record up instead, e.g. by an
    /// external id or another unique field, and create it only if it is not there (or use an
    /// upsert by external id, which is safe to resend).
    pub fn is_outcome_unknown(&self) -> bool {
        self.verdict() == Verdict::OutcomeUnknown
    }

    /// Returns the HTTP status of the response that caused this error, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. }
            | Self::UnexpectedResponse { status, .. }
            | Self::UnreadableAnswer { status, .. }
            | Self::Redirect { status, .. }
            | Self::BodyTooLarge { status, .. } => Some(*status),
            Self::Auth { status, .. } => *status,
            Self::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Returns the parsed Salesforce errors (empty unless this is an [`Error::Api`]).
    pub fn api_errors(&self) -> &[ApiError] {
        match self {
            Self::Api { errors, .. } => errors,
            _ => &[],
        }
    }

    /// Returns the first Salesforce error code, when this is an [`Error::Api`] with errors.
    pub fn error_code(&self) -> Option<&ErrorCode> {
        self.api_errors().first().map(|e| &e.error_code)
    }
}

/// Describes the `sent` state of a transport failure for its `Display` message.
fn transport_state(sent: bool, idempotency: Idempotency) -> &'static str {
    match (sent, idempotency) {
        (false, _) => "request not sent",
        (true, Idempotency::NotIdempotent) => {
            "request may have been applied: look the record up before sending it again"
        }
        (true, _) => "request may have been sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_of_a_request_is_classified_with_its_own_idempotency() {
        let lost = Error::from_response_to(
            StatusCode::BAD_GATEWAY,
            b"<html>",
            Idempotency::NotIdempotent,
        );
        assert_eq!(lost.verdict(), Verdict::OutcomeUnknown);
        assert_eq!(lost.verdict_as(Idempotency::Idempotent), Verdict::Retry);
        assert_eq!(
            lost.verdict_as(Idempotency::NotIdempotent),
            Verdict::OutcomeUnknown
        );
        let refused = Error::from_response_to(
            StatusCode::BAD_REQUEST,
            b"<html>",
            Idempotency::NotIdempotent,
        );
        assert_eq!(
            refused.verdict_as(Idempotency::Idempotent),
            Verdict::Permanent
        );
    }

    #[test]
    fn predicates_follow_the_one_retry_table() {
        use crate::retry::{Decision, RetryConfig, decide};
        for (status, idem, verdict) in [
            (502, Idempotency::NotIdempotent, Verdict::OutcomeUnknown),
            (502, Idempotency::Idempotent, Verdict::Retry),
            (503, Idempotency::NotIdempotent, Verdict::Retry),
            (400, Idempotency::Safe, Verdict::Permanent),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            let err = Error::from_response_to(status, b"<html>", idem);
            assert_eq!(err.verdict(), verdict, "{status} {idem:?}");
            assert_eq!(err.is_retryable(), verdict == Verdict::Retry);
            assert_eq!(err.is_outcome_unknown(), verdict == Verdict::OutcomeUnknown);
            let failure = Failure::Response {
                status,
                error_code: err.error_code(),
                retry_after: None,
            };
            let looped = decide(
                idem,
                &failure,
                1,
                Default::default(),
                &RetryConfig::default(),
                0.0,
            );
            assert_eq!(
                matches!(looped, Decision::RetryAfter(_)),
                err.is_retryable()
            );
        }
        let throttled = Error::from_response(
            StatusCode::FORBIDDEN,
            br#"[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"x"}]"#,
        );
        assert_eq!(throttled.verdict(), Verdict::RetryLater);
        assert!(!throttled.is_retryable() && throttled.verdict().is_resendable());
    }

    #[test]
    fn parses_rest_error_array() {
        let body =
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        let err = Error::from_response(StatusCode::UNAUTHORIZED, body);
        assert!(err.is_auth());
        // Left after the transport's bounded refreshes: a later attempt gets a fresh token.
        assert!(err.is_retryable());
        assert_eq!(err.error_code(), Some(&ErrorCode::InvalidSessionId));
        assert_eq!(err.api_errors()[0].message, "Session expired or invalid");
        assert!(err.api_errors()[0].fields.is_empty());
    }

    #[test]
    fn parses_collections_status_code_key() {
        let body = br#"[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Name]","fields":["Name"]}]"#;
        let errors = parse_error_body(StatusCode::BAD_REQUEST, body);
        assert_eq!(errors[0].error_code, ErrorCode::RequiredFieldMissing);
        assert_eq!(errors[0].fields, vec!["Name".to_owned()]);
    }

    #[test]
    fn throttling_is_not_auth_nor_retryable() {
        let body = br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        let err = Error::from_response(StatusCode::FORBIDDEN, body);
        assert!(err.is_throttled());
        assert!(!err.is_auth());
        assert!(!err.is_retryable());
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    }

    #[test]
    fn html_body_gives_useful_error() {
        let body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>\n<p>upstream   timed out</p></body></html>";
        let err = Error::from_response(StatusCode::BAD_GATEWAY, body);
        assert!(err.is_retryable());
        assert_eq!(
            err.error_code(),
            Some(&ErrorCode::Other("ERROR_HTTP_502".into()))
        );
        let msg = err.to_string();
        assert!(msg.contains("Bad Gateway"), "{msg}");
        assert!(msg.contains("upstream timed out"), "{msg}");
        assert!(!msg.contains('<'), "{msg}");
    }

    #[test]
    fn empty_body_gives_useful_error() {
        let err = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, b"");
        assert!(err.to_string().contains("503"));
        assert!(err.is_retryable());
    }

    #[test]
    fn long_body_is_truncated() {
        let body = "x".repeat(10_000);
        let errors = parse_error_body(StatusCode::INTERNAL_SERVER_ERROR, body.as_bytes());
        assert!(errors[0].message.chars().count() < BODY_EXCERPT_CHARS + 100);
    }

    #[test]
    fn error_code_round_trips() {
        for code in ["UNABLE_TO_LOCK_ROW", "MALFORMED_ID", "SOMETHING_NEW"] {
            let parsed: ErrorCode = code.parse().unwrap_or_else(|e| match e {});
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
        }
        assert_eq!(ErrorCode::from("NOT_FOUND"), ErrorCode::NotFound);
        assert_eq!(
            ErrorCode::from("SOMETHING_NEW".to_owned()),
            ErrorCode::Other("SOMETHING_NEW".into())
        );
    }

    #[test]
    fn lock_row_is_retryable_and_not_found_predicates() {
        let lock = Error::from_response(
            StatusCode::BAD_REQUEST,
            br#"[{"errorCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record","fields":[]}]"#,
        );
        assert!(lock.is_retryable());
        let gone = Error::from_response(
            StatusCode::NOT_FOUND,
            br#"[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]"#,
        );
        assert!(gone.is_not_found());
        assert!(!gone.is_retryable());
    }

    /// A real reqwest error without any I/O: building a request with an invalid URL fails.
    fn reqwest_error() -> reqwest::Error {
        reqwest::Client::new().get("not a url").build().unwrap_err()
    }

    #[test]
    fn transport_not_sent_is_retryable_for_every_class() {
        for class in [
            Idempotency::Safe,
            Idempotency::Idempotent,
            Idempotency::NotIdempotent,
        ] {
            let err = Error::transport(reqwest_error(), false, class);
            assert!(err.is_retryable(), "{class:?}");
            assert!(!err.was_sent() && !err.is_outcome_unknown(), "{class:?}");
            assert!(err.to_string().contains("request not sent"), "{err}");
        }
    }

    #[test]
    fn transport_sent_idempotent_is_retryable() {
        for class in [Idempotency::Safe, Idempotency::Idempotent] {
            let err = Error::transport(reqwest_error(), true, class);
            assert!(err.is_retryable(), "{class:?}");
            assert!(err.was_sent(), "{class:?}");
            assert!(!err.is_outcome_unknown(), "{class:?}");
        }
    }

    #[test]
    fn transport_sent_not_idempotent_is_outcome_unknown_not_retryable() {
        let err = Error::transport(reqwest_error(), true, Idempotency::NotIdempotent);
        assert!(!err.is_retryable());
        assert!(err.was_sent());
        assert!(err.is_outcome_unknown());
        let msg = err.to_string();
        assert!(msg.contains("may have been applied"), "{msg}");
        assert!(msg.contains("look the record up"), "{msg}");
    }

    #[test]
    fn outcome_unknown_code_round_trips() {
        assert_eq!(
            ErrorCode::from("OUTCOME_UNKNOWN"),
            ErrorCode::OutcomeUnknown
        );
        assert_eq!(ErrorCode::OutcomeUnknown.as_str(), "OUTCOME_UNKNOWN");
    }

    #[test]
    fn oauth_busy_is_retryable() {
        let err = Error::Auth {
            code: "invalid_grant".into(),
            description: "token request is already being processed".into(),
            status: Some(StatusCode::BAD_REQUEST),
            grant: Some("refresh_token".into()),
        };
        assert!(err.is_retryable());
        assert!(err.is_auth());
        let code_grant = Error::Auth {
            code: "invalid_grant".into(),
            description: "expired authorization code".into(),
            status: Some(StatusCode::BAD_REQUEST),
            grant: Some("authorization_code".into()),
        };
        assert!(!code_grant.is_retryable());
        assert_eq!(code_grant.verdict(), Verdict::Permanent);
        let store = Error::TokenStore {
            message: "cannot write /tmp/x".into(),
        };
        assert_eq!(store.verdict(), Verdict::Permanent);
    }
}
