//! The crate error type.

use std::time::Duration;

use http::StatusCode;
use sfdc_rest::{ApiError, ErrorCode};

use crate::job::JobState;
use crate::outcome::{JobReport, Outcome};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a bulk ingest.
///
/// Ask the predicates ([`Error::is_retryable`], [`Error::is_auth`], [`Error::is_throttled`],
/// [`Error::is_not_found`], [`Error::is_job_failed`], [`Error::is_timeout`]) rather than matching
/// variants: the enum is `#[non_exhaustive]`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A REST call failed (auth, transport, HTTP status >= 400, decoding); see the source.
    #[error(transparent)]
    Rest(Box<sfdc_rest::Error>),

    /// The job ended `Failed` or `Aborted`. `message` is Salesforce's `errorMessage`.
    #[error("bulk job {job_id} ended {state}: {message}")]
    JobFailed {
        /// The job id.
        job_id: String,
        /// `Failed` or `Aborted`.
        state: JobState,
        /// Salesforce's `errorMessage` (or a note when it sent none).
        message: String,
        /// Per-record outcomes read from the job's result files, when an ingest could read
        /// them: rows processed before the failure are committed in Salesforce and appear here
        /// with their ids; the rest are `Unprocessed`.
        partial: Option<Box<JobReport>>,
    },

    /// The job did not reach a terminal state within the poll timeout. It may still finish:
    /// call `wait_for_job` again, or abort it.
    #[error(
        "bulk job {job_id} was still {state} after waiting {waited:?}; raise PollConfig::timeout or check the job in Setup > Bulk Data Load Jobs"
    )]
    PollTimeout {
        /// The job id.
        job_id: String,
        /// The last state seen.
        state: JobState,
        /// How long was waited.
        waited: Duration,
    },

    /// The ingest was configured with an invalid value; nothing was sent.
    #[error("invalid bulk configuration: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A spool file could not be created, written or read (check the spool directory's free
    /// space and permissions).
    #[error("bulk spool file error: {source}")]
    Spool {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A result CSV could not be read.
    #[error("could not read {file} of bulk job {job_id}: {source}")]
    Results {
        /// The job id.
        job_id: String,
        /// Which file (`successfulResults`, ...).
        file: &'static str,
        /// The CSV (or underlying I/O) error.
        #[source]
        source: ::csv::Error,
    },

    /// [`BulkClient::ingest`](crate::BulkClient::ingest) stopped at `source` after earlier jobs
    /// had finished: their outcomes are kept in `completed` (records from the first one on, in
    /// input order). Every predicate and accessor answers for `source`.
    #[error("{source} (after {} records of earlier jobs were reported)", completed.len())]
    Incomplete {
        /// The outcomes of the jobs that finished before the error.
        completed: Vec<Outcome>,
        /// What stopped the ingest.
        source: Box<Error>,
    },

    /// Salesforce answered with a status or body this crate cannot interpret.
    #[error("unexpected bulk API response (HTTP {status}): {message}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: StatusCode,
        /// What was unexpected.
        message: String,
    },
}

impl From<sfdc_rest::Error> for Error {
    fn from(e: sfdc_rest::Error) -> Self {
        Self::Rest(Box::new(e))
    }
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }

    pub(crate) fn spool(source: std::io::Error) -> Self {
        Self::Spool { source }
    }

    /// The error itself, or for [`Error::Incomplete`] the error that stopped the ingest.
    fn root(&self) -> &Error {
        match self {
            Self::Incomplete { source, .. } => source.root(),
            other => other,
        }
    }

    /// Returns the outcomes of the jobs that finished before an [`Error::Incomplete`] (empty
    /// for any other error).
    pub fn completed_outcomes(&self) -> &[Outcome] {
        match self {
            Self::Incomplete { completed, .. } => completed,
            _ => &[],
        }
    }

    /// Returns the underlying REST error, if this is one.
    pub fn rest(&self) -> Option<&sfdc_rest::Error> {
        match self.root() {
            Self::Rest(e) => Some(e),
            _ => None,
        }
    }

    /// Returns true when the same call may succeed if made again later: delegates to
    /// [`sfdc_rest::Error::is_retryable`] for REST failures (5xx, `UNABLE_TO_LOCK_ROW`,
    /// transport). False for job failures, timeouts and configuration or spool errors.
    pub fn is_retryable(&self) -> bool {
        self.verdict() == sfdc_rest::retry::Verdict::Retry
    }

    /// Returns what this failure means for sending the same request again: the `sfdc-rest` retry
    /// table's verdict for a request error, [`sfdc_rest::retry::Verdict::Permanent`] for anything
    /// else (a failed job, a poll timeout, bad input).
    pub fn verdict(&self) -> sfdc_rest::retry::Verdict {
        self.rest().map_or(
            sfdc_rest::retry::Verdict::Permanent,
            sfdc_rest::Error::verdict,
        )
    }

    /// Returns true for authentication failures (token request failed, or 401 after a refresh).
    /// Fix the credentials; retrying does not help.
    pub fn is_auth(&self) -> bool {
        self.rest().is_some_and(sfdc_rest::Error::is_auth)
    }

    /// Returns true when Salesforce throttled the call (`REQUEST_LIMIT_EXCEEDED`) or the client's
    /// API budget stopped it. Wait for the allocation to recover.
    pub fn is_throttled(&self) -> bool {
        self.rest().is_some_and(sfdc_rest::Error::is_throttled)
    }

    /// Returns true when the job (or another resource) does not exist (HTTP 404 `NOT_FOUND`),
    /// e.g. a deleted job or one older than the 7-day retention.
    pub fn is_not_found(&self) -> bool {
        self.rest().is_some_and(sfdc_rest::Error::is_not_found)
    }

    /// Returns true when a job ended `Failed` or `Aborted` ([`Error::JobFailed`]).
    pub fn is_job_failed(&self) -> bool {
        matches!(self.root(), Self::JobFailed { .. })
    }

    /// Returns true when polling gave up before the job finished ([`Error::PollTimeout`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self.root(), Self::PollTimeout { .. })
    }

    /// Returns the job id the error is about, when known.
    pub fn job_id(&self) -> Option<&str> {
        match self.root() {
            Self::JobFailed { job_id, .. }
            | Self::PollTimeout { job_id, .. }
            | Self::Results { job_id, .. } => Some(job_id),
            _ => None,
        }
    }

    /// Returns the outcomes read from a failed or aborted job, when an ingest could read them.
    pub fn partial_report(&self) -> Option<&JobReport> {
        match self.root() {
            Self::JobFailed { partial, .. } => partial.as_deref(),
            _ => None,
        }
    }

    /// Returns the HTTP status of a failed REST call or unexpected response.
    pub fn status(&self) -> Option<StatusCode> {
        match self.root() {
            Self::Rest(e) => e.status(),
            Self::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Returns the Salesforce errors of a failed REST call (empty otherwise).
    pub fn api_errors(&self) -> &[ApiError] {
        self.rest().map(sfdc_rest::Error::api_errors).unwrap_or(&[])
    }

    /// Returns the first Salesforce error code of a failed REST call.
    pub fn error_code(&self) -> Option<&ErrorCode> {
        self.rest().and_then(sfdc_rest::Error::error_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let e = Error::JobFailed {
            job_id: "750x".into(),
            state: JobState::Failed,
            message: "InvalidBatch : Field name not found : Foo__c".into(),
            partial: None,
        };
        assert!(e.is_job_failed() && !e.is_retryable() && !e.is_timeout());
        assert_eq!(e.job_id(), Some("750x"));
        assert!(e.to_string().contains("Field name not found : Foo__c"));
        let e = Error::PollTimeout {
            job_id: "750y".into(),
            state: JobState::InProgress,
            waited: Duration::from_secs(1),
        };
        assert!(e.is_timeout() && !e.is_job_failed());
        let e = Error::from(sfdc_rest::Error::from_response(
            StatusCode::NOT_FOUND,
            br#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
        ));
        assert!(e.is_not_found());
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(e.error_code().map(ErrorCode::as_str), Some("NOT_FOUND"));
        assert_eq!(e.api_errors().len(), 1);
        let e = Error::Incomplete {
            completed: vec![Outcome::Created("001x".into())],
            source: Box::new(Error::PollTimeout {
                job_id: "750z".into(),
                state: JobState::InProgress,
                waited: Duration::from_secs(1),
            }),
        };
        assert!(e.is_timeout() && !e.is_retryable());
        assert_eq!(e.job_id(), Some("750z"));
        assert_eq!(e.completed_outcomes().len(), 1);
        assert!(e.to_string().contains("after 1 records"), "{e}");
    }
}
