//! [`Failure`]: why one action failed for one event, mapped from every error source.

use sfdc_rest::{ApiError, ErrorCode};

/// The failure part of an [`crate::ActionOutcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) http_status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) retryable: bool,
}

/// Error code of an event the action could not plan (missing field, bad value, ...).
pub(crate) const INVALID_EVENT: &str = "INVALID_EVENT";
/// Error code of a record matcher `sfdc-match` rejected (bad field name, value type, length).
pub(crate) const INVALID_RECORD_MATCHER: &str = "INVALID_RECORD_MATCHER";
/// Error code of an update, delete or upsert-by-Id whose lookup found no record.
pub(crate) const NOT_FOUND: &str = "NOT_FOUND";
/// Error code of a lookup that found several records (status 300).
pub(crate) const MULTIPLE_MATCHES: &str = "MULTIPLE_MATCHES";
/// Error code of a Bulk API record that Salesforce did not process.
pub(crate) const UNPROCESSED: &str = "BULK_UNPROCESSED";
/// HTTP-style status of an outcome-unknown failure (a create sent, response lost): 409, because the
/// record may already exist. Deliberately not 5xx, so a pipeline keyed on the status does not resend.
pub(crate) const OUTCOME_UNKNOWN_STATUS: u16 = 409;

impl Failure {
    /// A planning error from `sfdc-actions`: 400, not retryable; a matcher without value is
    /// `INVALID_RECORD_MATCHER`, the others `INVALID_EVENT`.
    pub(crate) fn planning(e: &sfdc_actions::Error) -> Failure {
        let code = if e.is_matcher_error() {
            INVALID_RECORD_MATCHER
        } else {
            INVALID_EVENT
        };
        Failure {
            http_status: e.status(),
            code: code.to_owned(),
            message: e.to_string(),
            retryable: e.is_retryable(),
        }
    }

    /// A matcher error from `sfdc-match`: 400, not retryable.
    pub(crate) fn matcher(e: &sfdc_match::Error) -> Failure {
        Failure {
            http_status: 400,
            code: INVALID_RECORD_MATCHER.to_owned(),
            message: e.to_string(),
            retryable: e.is_retryable(),
        }
    }

    /// No record matched: 404, not retryable.
    pub(crate) fn not_found(object: &str) -> Failure {
        Failure {
            http_status: 404,
            code: NOT_FOUND.to_owned(),
            message: format!("no {object} record matches the record matchers"),
            retryable: false,
        }
    }

    /// Several records matched: 300, not retryable.
    pub(crate) fn multiple(object: &str, ids: &[String]) -> Failure {
        Failure {
            http_status: 300,
            code: MULTIPLE_MATCHES.to_owned(),
            message: format!(
                "{} {object} records match the record matchers ({}); the operation was not performed: make the matchers unique",
                ids.len(),
                ids.join(", ")
            ),
            retryable: false,
        }
    }

    /// A whole request failed: every event of the request gets this.
    ///
    /// Retryable when the client says so ([`sfdc_rest::Error::is_retryable`]) or when the org
    /// is throttling ([`sfdc_rest::Error::is_throttled`]: the event itself is fine, send it
    /// again once the allocation recovers). A create that was sent but whose response was lost
    /// ([`sfdc_rest::Error::is_outcome_unknown`]) is `OUTCOME_UNKNOWN`, not retryable: the
    /// record may exist, and resending the event could duplicate it.
    pub(crate) fn request(e: &sfdc_rest::Error) -> Failure {
        if e.is_outcome_unknown() {
            return Failure {
                http_status: OUTCOME_UNKNOWN_STATUS,
                code: ErrorCode::OutcomeUnknown.as_str().to_owned(),
                message: format!(
                    "the create was sent to Salesforce but its response was lost, so the record may have been created; it was not sent again: look the record up before sending this event again ({e})"
                ),
                retryable: false,
            };
        }
        let code = match e.error_code() {
            Some(code) => code.as_str().to_owned(),
            None if e.is_throttled() => "REQUEST_LIMIT_EXCEEDED".to_owned(),
            None if e.is_auth() => "AUTH_FAILED".to_owned(),
            None if e.is_retryable() => "REQUEST_FAILED".to_owned(),
            None => "REQUEST_REJECTED".to_owned(),
        };
        Failure {
            http_status: request_status(
                e.status().map(|s| s.as_u16()),
                e.is_throttled(),
                e.is_retryable(),
            ),
            code,
            message: e.to_string(),
            retryable: e.is_retryable() || e.is_throttled(),
        }
    }

    /// A whole Bulk API ingest failed: every event of the job gets this.
    pub(crate) fn bulk(e: &sfdc_bulk::Error) -> Failure {
        let code = match e.error_code() {
            Some(code) => code.as_str().to_owned(),
            None if e.is_throttled() => "REQUEST_LIMIT_EXCEEDED".to_owned(),
            None if e.is_job_failed() => "BULK_JOB_FAILED".to_owned(),
            None if e.is_timeout() => "BULK_POLL_TIMEOUT".to_owned(),
            None => "BULK_REQUEST_FAILED".to_owned(),
        };
        Failure {
            http_status: request_status(
                e.status().map(|s| s.as_u16()),
                e.is_throttled(),
                e.is_retryable(),
            ),
            code,
            message: e.to_string(),
            retryable: e.is_retryable() || e.is_throttled(),
        }
    }

    /// A per-record failure (Collections item or Bulk result row).
    pub(crate) fn record(errors: &[ApiError]) -> Failure {
        let Some(first) = errors.first() else {
            return Failure {
                http_status: 400,
                code: "UNKNOWN_ERROR".to_owned(),
                message: "Salesforce reported a failure without error details".to_owned(),
                retryable: false,
            };
        };
        let message = errors
            .iter()
            .map(|e| {
                if e.fields.is_empty() {
                    e.message.clone()
                } else {
                    format!("{} [{}]", e.message, e.fields.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        Failure::code(&first.error_code, message)
    }

    /// A per-record failure from its code and message.
    pub(crate) fn code(code: &ErrorCode, message: String) -> Failure {
        Failure {
            http_status: code_status(code),
            code: code.as_str().to_owned(),
            message,
            retryable: code_is_retryable(code),
        }
    }

    /// A Bulk API row Salesforce never processed (job aborted, or no result row).
    pub(crate) fn unprocessed() -> Failure {
        Failure {
            http_status: 500,
            code: UNPROCESSED.to_owned(),
            message: "the Bulk API job did not process this record (job aborted or no result row)"
                .to_owned(),
            retryable: true,
        }
    }

    /// A response that does not have one result per record (should not happen).
    pub(crate) fn missing_result() -> Failure {
        Failure {
            http_status: 502,
            code: "MISSING_RESULT".to_owned(),
            message: "Salesforce returned no result for this record".to_owned(),
            retryable: true,
        }
    }
}

/// Whether a per-record error code is worth retrying: lock contention, server-side failures,
/// throttling, and `REQUEST_FAILED` (which `sfdc-rest` gives only to chunk failures whose error
/// [`sfdc_rest::Error::is_retryable`] or [`sfdc_rest::Error::is_throttled`]).
///
/// Never for `OUTCOME_UNKNOWN` (a create chunk sent, response lost: the records may exist) nor
/// `REQUEST_REJECTED`.
pub(crate) fn code_is_retryable(code: &ErrorCode) -> bool {
    match code {
        ErrorCode::UnableToLockRow | ErrorCode::RequestLimitExceeded | ErrorCode::RequestFailed => {
            true
        }
        ErrorCode::OutcomeUnknown | ErrorCode::RequestRejected => false,
        other => {
            let s = other.as_str();
            s == "SERVER_UNAVAILABLE"
                || matches!(
                    s.strip_prefix("ERROR_HTTP_"),
                    Some("500" | "502" | "503" | "504" | "420" | "429")
                )
        }
    }
}

/// The HTTP-style status recorded for a per-record error code.
pub(crate) fn code_status(code: &ErrorCode) -> u16 {
    match code {
        ErrorCode::NotFound | ErrorCode::EntityIsDeleted => 404,
        ErrorCode::RequestLimitExceeded => 403,
        ErrorCode::InvalidSessionId | ErrorCode::InvalidAuthHeader => 401,
        ErrorCode::UnableToLockRow => 409,
        ErrorCode::OutcomeUnknown => OUTCOME_UNKNOWN_STATUS,
        ErrorCode::RequestFailed => 503,
        other => {
            let s = other.as_str();
            if let Some(status) = s.strip_prefix("ERROR_HTTP_").and_then(|n| n.parse().ok()) {
                status
            } else if s == "SERVER_UNAVAILABLE" {
                503
            } else {
                400
            }
        }
    }
}

fn request_status(status: Option<u16>, throttled: bool, retryable: bool) -> u16 {
    match status {
        Some(s) => s,
        None if throttled => 429,
        None if retryable => 503,
        None => 400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_follows_the_code() {
        for (code, retryable, status) in [
            ("UNABLE_TO_LOCK_ROW", true, 409),
            ("REQUIRED_FIELD_MISSING", false, 400),
            ("DUPLICATE_VALUE", false, 400),
            ("ENTITY_IS_DELETED", false, 404),
            ("REQUEST_LIMIT_EXCEEDED", true, 403),
            ("ERROR_HTTP_503", true, 503),
            ("ERROR_HTTP_400", false, 400),
            ("REQUEST_FAILED", true, 503),
            ("OUTCOME_UNKNOWN", false, 409),
            ("REQUEST_REJECTED", false, 400),
        ] {
            let f = Failure::code(&ErrorCode::from(code), "m".into());
            assert_eq!((f.retryable, f.http_status), (retryable, status), "{code}");
            assert_eq!(f.code, code);
        }
    }

    #[test]
    fn record_failure_joins_messages_and_fields() {
        let errors: Vec<ApiError> = serde_json::from_value(serde_json::json!([
            {"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing", "fields": ["Company"]},
            {"statusCode": "INVALID_FIELD", "message": "bad", "fields": []}
        ]))
        .unwrap();
        let f = Failure::record(&errors);
        assert_eq!(f.code, "REQUIRED_FIELD_MISSING");
        assert_eq!(f.message, "Required fields are missing [Company]; bad");
        assert!(!f.retryable);
    }

    #[test]
    fn whole_request_failures_keep_status_and_retryability() {
        let throttled = sfdc_rest::Error::from_response(
            http::StatusCode::FORBIDDEN,
            br#"[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]"#,
        );
        let f = Failure::request(&throttled);
        assert_eq!((f.http_status, f.retryable), (403, true));
        assert_eq!(f.code, "REQUEST_LIMIT_EXCEEDED");
        let bad = sfdc_rest::Error::from_response(
            http::StatusCode::BAD_REQUEST,
            br#"[{"errorCode":"INVALID_TYPE","message":"sObject type 'Nope' is not supported."}]"#,
        );
        let f = Failure::request(&bad);
        assert_eq!((f.http_status, f.retryable), (400, false));
        let unavailable =
            sfdc_rest::Error::from_response(http::StatusCode::SERVICE_UNAVAILABLE, b"down");
        assert!(Failure::request(&unavailable).retryable);
    }
}
