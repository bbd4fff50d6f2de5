//! Per-event outcomes: what happened to each event and each action it triggered.

use serde::{Deserialize, Serialize};
use sfdc_actions::{ActionKind, Operation};

use crate::code::OutcomeCode;

/// What one action did for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutcomeStatus {
    /// A record was created (create, or an upsert that found no record).
    Created,
    /// A record was updated (update, or an upsert that found its record).
    Updated,
    /// A record was deleted.
    Deleted,
    /// Nothing was done: an update of a converted Lead under `converted_lead = "skip"`
    /// (`record_id` is the converted Contact, `message` says why). Not a failure: the event
    /// counts as succeeded.
    Skipped,
    /// The action failed for this event; see `http_status`, `error_code`, `retryable`.
    Failed,
    /// Neither success nor failure: the effect is not known yet. A create whose response was
    /// lost (`error_code` `OUTCOME_UNKNOWN`: the record may exist; look it up before creating
    /// it again), or a Bulk row of a job that had not finished when polling stopped
    /// (`bulk_job_id` names the job; it may still complete). Never resent by
    /// [`crate::Destination::retry`].
    Pending,
}

/// The summary status of one event over all the actions it triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventStatus {
    /// Every triggered action succeeded.
    Succeeded,
    /// No subscription's trigger matched the event.
    Skipped,
    /// At least one triggered action failed.
    Failed,
    /// No action failed, but at least one is [`OutcomeStatus::Pending`]: not known yet,
    /// neither success nor failure.
    Pending,
}

/// The outcome of one action (subscription) for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionOutcome {
    /// Position of the subscription in the settings.
    pub subscription: usize,
    /// The action.
    pub action: ActionKind,
    /// Object API name, e.g. `Lead`.
    pub object: String,
    /// The configured operation.
    pub operation: Operation,
    /// What happened.
    pub status: OutcomeStatus,
    /// The record written, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// HTTP-style status: 201 created, 200 updated or deleted, 400 bad input, 404 no record
    /// found, 300 several records found, 409 `OUTCOME_UNKNOWN` (a create whose response was
    /// lost), or the status of a failed request.
    pub http_status: u16,
    /// Salesforce (or destination) error code of a failure, e.g. `REQUIRED_FIELD_MISSING`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<OutcomeCode>,
    /// Error message of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `true` when resending *this action* is safe and may succeed (lock contention, server
    /// errors, throttling, transport failures of requests that were not sent or are safe to
    /// resend): [`crate::Destination::retry`] re-runs exactly these. Always `false` for
    /// successes, and `false` for `OUTCOME_UNKNOWN`: a create that was sent but whose response
    /// was lost may have been committed, so look the record up before creating it again.
    ///
    /// Whether the whole *event* may be resent is [`EventOutcome::is_retryable`]: an event
    /// with one succeeded and one retryable action is not, because resending it would repeat
    /// the success.
    pub retryable: bool,
    /// The Bulk API job that carried this action, when its outcome is
    /// [`OutcomeStatus::Pending`] because the job had not finished when polling stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk_job_id: Option<String>,
}

impl ActionOutcome {
    /// Returns `true` for [`OutcomeStatus::Failed`].
    pub fn is_failed(&self) -> bool {
        self.status == OutcomeStatus::Failed
    }

    /// Returns `true` for [`OutcomeStatus::Pending`]: the effect is not known yet.
    pub fn is_pending(&self) -> bool {
        self.status == OutcomeStatus::Pending
    }

    /// Returns `true` when the action wrote (or deleted) its record: [`OutcomeStatus::Created`],
    /// [`OutcomeStatus::Updated`] or [`OutcomeStatus::Deleted`].
    pub fn is_success(&self) -> bool {
        matches!(
            self.status,
            OutcomeStatus::Created | OutcomeStatus::Updated | OutcomeStatus::Deleted
        )
    }

    /// Returns `true` when the action failed and resending it is safe and may succeed: what
    /// [`crate::Destination::retry`] re-runs.
    pub fn needs_retry(&self) -> bool {
        self.is_failed() && self.retryable
    }
}

/// The outcome of one input event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventOutcome {
    /// 0-based position of the event in the input slice.
    pub index: usize,
    /// The event's `messageId`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Summary over `results`.
    pub status: EventStatus,
    /// One entry per subscription the event triggered, in subscription order; empty when
    /// skipped.
    pub results: Vec<ActionOutcome>,
}

impl EventOutcome {
    /// Returns `true` when resending the *whole event* (e.g. by a pipeline's redelivery) is
    /// safe and useful: at least one action failed, every failed action is retryable, and no
    /// action succeeded or is pending (resending would repeat a success, e.g. create a second
    /// Lead, or duplicate a create whose response was lost).
    ///
    /// An event with successes and retryable failures is not retryable as a whole: pass it
    /// with its outcome to [`crate::Destination::retry`], which re-runs only the failed,
    /// retryable actions ([`EventOutcome::has_retryable_actions`]).
    pub fn is_retryable(&self) -> bool {
        let mut failed = self.results.iter().filter(|r| r.is_failed()).peekable();
        failed.peek().is_some()
            && failed.all(|r| r.retryable)
            && !self
                .results
                .iter()
                .any(|r| r.is_success() || r.is_pending())
    }

    /// Returns `true` when at least one action failed and may be resent on its own
    /// ([`ActionOutcome::needs_retry`]): [`crate::Destination::retry`] has work for this event.
    pub fn has_retryable_actions(&self) -> bool {
        self.results.iter().any(ActionOutcome::needs_retry)
    }

    pub(crate) fn finish(&mut self) {
        self.status = if self.results.is_empty() {
            EventStatus::Skipped
        } else if self.results.iter().any(ActionOutcome::is_failed) {
            EventStatus::Failed
        } else if self.results.iter().any(ActionOutcome::is_pending) {
            EventStatus::Pending
        } else {
            EventStatus::Succeeded
        };
    }
}
