//! The pieces the runner (`crate::run`) executes a batch with.
//!
//! - [`group`]: jobs grouped by (object, operation, matcher fields, operator, bulk key), in
//!   order of first appearance.
//! - `lookup`: describe → `sfdc-match` schema, batched lookups, resolutions.
//! - `bulk`: Bulk API 2.0 insert, update, upsert and delete.
//! - `failure`: every error source mapped to an outcome.
//! - `other_fields`: run-time check of Other Fields mapped as one object, against describe.

pub(crate) mod bulk;
pub(crate) mod failure;
mod group;
pub(crate) mod lookup;
pub(crate) mod other_fields;

use std::sync::Mutex;

use sfdc_actions::PlannedOperation;

use crate::outcome::{EventOutcome, OutcomeStatus};
pub(crate) use failure::Failure;
pub(crate) use group::{Group, group_jobs};

/// One planned operation of one event, and where its outcome goes.
#[derive(Debug)]
pub(crate) struct Job {
    /// Index of the event in the batch.
    pub(crate) event: usize,
    /// Index of the action outcome inside the event's results.
    pub(crate) slot: usize,
    /// What to do.
    pub(crate) plan: PlannedOperation,
}

/// Writes outcomes of jobs into the batch's event outcomes; shared by the concurrent parts
/// of a run (the lock is never held across an `.await`).
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    outcomes: Mutex<&'a mut [EventOutcome]>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(outcomes: &'a mut [EventOutcome]) -> Sink<'a> {
        Sink {
            outcomes: Mutex::new(outcomes),
        }
    }

    /// Records a success: status, record id, 201 for a creation, 200 otherwise.
    pub(crate) fn ok(&self, job: &Job, status: OutcomeStatus, record_id: Option<String>) {
        self.with_slot(job, |out| {
            out.status = status;
            out.record_id = record_id;
            out.http_status = if status == OutcomeStatus::Created {
                201
            } else {
                200
            };
            out.error_code = None;
            out.message = None;
            out.retryable = false;
            out.bulk_job_id = None;
        });
    }

    /// Records a failure, or a pending outcome ([`Failure::pending`]).
    pub(crate) fn fail(&self, job: &Job, failure: &Failure) {
        self.with_slot(job, |out| {
            out.status = if failure.pending {
                OutcomeStatus::Pending
            } else {
                OutcomeStatus::Failed
            };
            out.http_status = failure.http_status;
            out.error_code = Some(failure.code.clone());
            out.message = Some(failure.message.clone());
            out.retryable = failure.retryable;
            out.bulk_job_id.clone_from(&failure.bulk_job_id);
        });
    }

    fn with_slot(&self, job: &Job, f: impl FnOnce(&mut crate::outcome::ActionOutcome)) {
        let mut outcomes = self
            .outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(out) = outcomes
            .get_mut(job.event)
            .and_then(|e| e.results.get_mut(job.slot))
        {
            f(out);
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn record_identity_unifies_15_and_18_character_ids() {
        use sfdc_match::canonical_id;
        assert_eq!(
            canonical_id("00Q000000000001EAA"),
            canonical_id("00Q000000000001")
        );
    }
}
