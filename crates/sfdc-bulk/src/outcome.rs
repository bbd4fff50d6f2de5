//! Per-record outcomes of an ingest.

use crate::ErrorCode;
use crate::csv::RowError;
use crate::job::JobInfo;

/// What happened to one input record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Inserted (insert, or an upsert that created); carries the new record id.
    Created(String),
    /// Updated (update, or an upsert that matched); carries the record id.
    Updated(String),
    /// Deleted (delete or hardDelete); carries the record id.
    Deleted(String),
    /// Rejected, by Salesforce (`sf__Error`) or on the client before sending (codes starting
    /// `CLIENT_`, see [`RowError::code`]).
    Failed {
        /// Status code, e.g. `REQUIRED_FIELD_MISSING`.
        code: ErrorCode,
        /// Salesforce's (or the client's) message.
        message: String,
        /// Fields named by the error (may be empty).
        fields: Vec<String>,
    },
    /// Not processed: the job was aborted or failed before reaching it, or Salesforce returned
    /// no result row for it.
    Unprocessed,
}

impl Outcome {
    /// Returns true for `Created`, `Updated` and `Deleted`.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Created(_) | Self::Updated(_) | Self::Deleted(_))
    }

    /// Returns the record id of a success.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Created(id) | Self::Updated(id) | Self::Deleted(id) => Some(id),
            _ => None,
        }
    }

    pub(crate) fn from_row_error(e: &RowError) -> Self {
        Self::Failed {
            code: ErrorCode::from(e.code()),
            message: e.to_string(),
            fields: e.field().map(|f| vec![f.to_owned()]).unwrap_or_default(),
        }
    }
}

/// The outcomes of one job (one chunk of the input).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobReport {
    /// The job, or `None` when every record of the chunk failed on the client and no job was
    /// created.
    pub job: Option<JobInfo>,
    /// Input position of `outcomes[0]`.
    pub first_index: usize,
    /// One outcome per input record of the chunk, in input order.
    pub outcomes: Vec<Outcome>,
    /// Result rows that matched no input record (should be 0; a warning is logged otherwise).
    pub unmatched_results: u64,
}

impl JobReport {
    /// Number of successful records.
    pub fn succeeded(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_success()).count()
    }

    /// Number of failed records.
    pub fn failed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failed { .. }))
            .count()
    }
}
