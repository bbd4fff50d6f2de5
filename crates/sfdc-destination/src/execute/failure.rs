//! [`Failure`]: why one action failed for one event, mapped from every error source.
//!
//! Whether a failure may be resent comes from `sfdc-rest`'s one retry table
//! ([`sfdc_rest::retry::classify`], through [`sfdc_rest::Error::verdict`] and
//! [`ErrorCode::verdict`]); nothing here reads error codes to decide.

use sfdc_rest::retry::Verdict;
use sfdc_rest::{ApiError, ErrorCode};

use crate::code::OutcomeCode;

/// The failure part of an [`crate::ActionOutcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) http_status: u16,
    pub(crate) code: OutcomeCode,
    pub(crate) message: String,
    pub(crate) retryable: bool,
    /// `true` when the effect is not known yet: the outcome is [`crate::OutcomeStatus::Pending`]
    /// (a create whose response was lost, a Bulk job still running when polling stopped).
    pub(crate) pending: bool,
    /// The Bulk API job of a pending Bulk row.
    pub(crate) bulk_job_id: Option<String>,
}

/// HTTP-style status of an outcome-unknown failure (a create sent, response lost): 409, because the
/// record may already exist. Deliberately not 5xx, so a pipeline keyed on the status does not resend.
pub(crate) const OUTCOME_UNKNOWN_STATUS: u16 = 409;

impl Failure {
    /// A planning error from `sfdc-actions`: 400, not retryable; a matcher without value is
    /// `INVALID_RECORD_MATCHER`, the others `INVALID_EVENT`.
    pub(crate) fn planning(e: &sfdc_actions::Error) -> Failure {
        let code = if e.is_matcher_error() {
            OutcomeCode::InvalidRecordMatcher
        } else {
            OutcomeCode::InvalidEvent
        };
        Failure {
            http_status: e.status(),
            code,
            message: e.to_string(),
            retryable: e.is_retryable(),
            pending: false,
            bulk_job_id: None,
        }
    }

    /// A matcher error from `sfdc-match`: 400, not retryable.
    pub(crate) fn matcher(e: &sfdc_match::Error) -> Failure {
        Failure {
            http_status: 400,
            code: OutcomeCode::InvalidRecordMatcher,
            message: e.to_string(),
            retryable: e.is_retryable(),
            pending: false,
            bulk_job_id: None,
        }
    }

    /// No record matched: 404, not retryable.
    pub(crate) fn not_found(object: &str) -> Failure {
        Failure {
            http_status: 404,
            code: ErrorCode::NotFound.into(),
            message: format!("no {object} record matches the record matchers"),
            retryable: false,
            pending: false,
            bulk_job_id: None,
        }
    }

    /// Several records matched: 300, not retryable.
    pub(crate) fn multiple(object: &str, ids: &[String]) -> Failure {
        Failure {
            http_status: 300,
            code: OutcomeCode::MultipleMatches,
            message: format!(
                "{} {object} records match the record matchers ({}); the operation was not performed: make the matchers unique",
                ids.len(),
                ids.join(", ")
            ),
            retryable: false,
            pending: false,
            bulk_job_id: None,
        }
    }

    /// The action was planned but not (yet) executed.
    pub(crate) fn not_executed() -> Failure {
        Failure {
            http_status: 500,
            code: OutcomeCode::NotExecuted,
            message: "the operation was planned but not executed".to_owned(),
            retryable: true,
            pending: false,
            bulk_job_id: None,
        }
    }

    /// A whole request failed: every event of the request gets this.
    ///
    /// Retryable when the retry table says resending is safe ([`Verdict::is_resendable`]: retry
    /// now, or once a throttled org's allocation recovers). A create that was sent but whose
    /// response was lost ([`Verdict::OutcomeUnknown`]) is `OUTCOME_UNKNOWN`, not retryable: the
    /// record may exist, and resending the event could duplicate it.
    pub(crate) fn request(e: &sfdc_rest::Error) -> Failure {
        Failure::request_with(e, e.verdict())
    }

    /// Like [`Failure::request`], for a part of the request (a Composite subrequest) of class
    /// `idempotency` ([`sfdc_rest::Error::verdict_as`]): an update inside a Composite call that
    /// carried a create and lost its answer is retryable, not outcome-unknown.
    pub(crate) fn request_as(e: &sfdc_rest::Error, idempotency: sfdc_rest::Idempotency) -> Failure {
        Failure::request_with(e, e.verdict_as(idempotency))
    }

    fn request_with(e: &sfdc_rest::Error, verdict: Verdict) -> Failure {
        if verdict == Verdict::OutcomeUnknown {
            return Failure {
                http_status: OUTCOME_UNKNOWN_STATUS,
                code: ErrorCode::OutcomeUnknown.into(),
                message: format!(
                    "the create was sent to Salesforce but its response was lost, so the record may have been created; it was not sent again: look the record up before sending this event again ({e})"
                ),
                retryable: false,
                pending: true,
                bulk_job_id: None,
            };
        }
        let code = match e.error_code() {
            Some(code) => code.clone().into(),
            None if e.is_throttled() => ErrorCode::RequestLimitExceeded.into(),
            None if e.is_auth() => OutcomeCode::AuthFailed,
            None if verdict.is_resendable() => ErrorCode::RequestFailed.into(),
            None => ErrorCode::RequestRejected.into(),
        };
        Failure {
            http_status: request_status(e.status().map(|s| s.as_u16()), verdict, e.is_throttled()),
            code,
            message: e.to_string(),
            retryable: verdict.is_resendable(),
            pending: false,
            bulk_job_id: None,
        }
    }

    /// A whole Bulk API ingest failed: every event of the job gets this.
    pub(crate) fn bulk(e: &sfdc_bulk::Error) -> Failure {
        let verdict = e.verdict();
        let code = match e.error_code() {
            Some(code) => code.clone().into(),
            None if e.is_throttled() => ErrorCode::RequestLimitExceeded.into(),
            None if e.is_job_failed() => OutcomeCode::BulkJobFailed,
            None if e.is_timeout() => OutcomeCode::BulkPollTimeout,
            None => OutcomeCode::BulkRequestFailed,
        };
        Failure {
            http_status: request_status(e.status().map(|s| s.as_u16()), verdict, e.is_throttled()),
            code,
            message: e.to_string(),
            // A job still running when polling stopped may complete: its rows are pending (not
            // resent, which could duplicate inserts), with the job id to settle them later.
            retryable: verdict.is_resendable() && !e.is_timeout(),
            pending: e.is_timeout(),
            bulk_job_id: e
                .is_timeout()
                .then(|| e.job_id().map(str::to_owned))
                .flatten(),
        }
    }

    /// A per-record failure (Collections item or Bulk result row).
    pub(crate) fn record(errors: &[ApiError]) -> Failure {
        let Some(first) = errors.first() else {
            return Failure {
                http_status: 400,
                code: OutcomeCode::UnknownError,
                message: "Salesforce reported a failure without error details".to_owned(),
                retryable: false,
                pending: false,
                bulk_job_id: None,
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

    /// A per-record failure from its code and message: status and retryability from
    /// [`ErrorCode::http_status`] and the retry table ([`ErrorCode::verdict`]).
    pub(crate) fn code(code: &ErrorCode, message: String) -> Failure {
        Failure {
            http_status: code.http_status().as_u16(),
            code: code.clone().into(),
            message,
            retryable: code.verdict().is_resendable(),
            pending: code.verdict() == Verdict::OutcomeUnknown,
            bulk_job_id: None,
        }
    }

    /// A Bulk API row Salesforce never processed (job aborted, or no result row).
    pub(crate) fn unprocessed() -> Failure {
        Failure {
            http_status: 500,
            code: OutcomeCode::BulkUnprocessed,
            message: "the Bulk API job did not process this record (job aborted or no result row)"
                .to_owned(),
            retryable: true,
            pending: false,
            bulk_job_id: None,
        }
    }

    /// The record a lookup found is held by a concurrent send that waits for a record this
    /// send holds (waiting would deadlock): 409, retryable, nothing sent.
    pub(crate) fn record_busy() -> Failure {
        Failure {
            http_status: 409,
            code: OutcomeCode::RecordBusy,
            message: "a concurrent send on this destination holds this record and waits for one this send holds; the write was not sent: send the event again".to_owned(),
            retryable: true,
            pending: false,
            bulk_job_id: None,
        }
    }

    /// A response that does not have one result per record (should not happen).
    pub(crate) fn missing_result() -> Failure {
        Failure {
            http_status: 502,
            code: OutcomeCode::MissingResult,
            message: "Salesforce returned no result for this record".to_owned(),
            retryable: true,
            pending: false,
            bulk_job_id: None,
        }
    }
}

/// Returns `true` when a delete's per-record errors say only that the record is already
/// deleted (`ENTITY_IS_DELETED`): the delete's effect holds, so the outcome is `Deleted`.
///
/// The rule applies to every delete by id, not only to a client-side resend after a lost
/// response: Salesforce's delete is idempotent in effect (the record is in the Recycle Bin
/// either way), records found by matchers are live when looked up, so the answer means this or
/// a concurrent delete removed it, and either way the event's intent is met. `NOT_FOUND` (an id
/// that never existed or was purged) stays a failure.
pub(crate) fn already_deleted(errors: &[ApiError]) -> bool {
    !errors.is_empty()
        && errors
            .iter()
            .all(|e| e.error_code == ErrorCode::EntityIsDeleted)
}

/// Returns `true` when a write request failed as a whole because of its body (Salesforce could
/// not deserialize a record: `JSON_PARSER_ERROR`; or the body was too large: HTTP 413), so a
/// smaller request with the same records may succeed: such a request is bisected. Never for
/// auth, throttling, not-found or transport failures.
pub(crate) fn splittable(e: &sfdc_rest::Error) -> bool {
    if e.is_auth() || e.is_throttled() || e.is_not_found() {
        return false;
    }
    e.status().is_some_and(|s| s.as_u16() == 413)
        || e.error_code() == Some(&ErrorCode::JsonParserError)
}

fn request_status(status: Option<u16>, verdict: Verdict, throttled: bool) -> u16 {
    match status {
        Some(s) => s,
        None if throttled => 429,
        None if verdict.is_resendable() => 503,
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
            ("SERVER_UNAVAILABLE", true, 503),
            ("ALL_OR_NONE_OPERATION_ROLLED_BACK", true, 400),
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

    #[test]
    fn an_unreadable_answer_to_a_create_is_outcome_unknown() {
        let unreadable = |idempotency| sfdc_rest::Error::UnreadableAnswer {
            status: http::StatusCode::OK,
            idempotency,
            message: "sObject Collections returned 0 results for 1 records".into(),
        };
        let f = Failure::request(&unreadable(sfdc_rest::Idempotency::NotIdempotent));
        assert_eq!(f.code, "OUTCOME_UNKNOWN");
        assert_eq!(
            (f.http_status, f.retryable),
            (OUTCOME_UNKNOWN_STATUS, false)
        );
        let f = Failure::request(&unreadable(sfdc_rest::Idempotency::Idempotent));
        assert_eq!(f.code, "REQUEST_FAILED");
        assert!(f.retryable);
    }
}
