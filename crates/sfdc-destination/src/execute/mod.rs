//! The pieces the runner (`crate::run`) executes a batch with.
//!
//! - [`group`]: jobs grouped by (object, operation, matcher fields, operator, bulk key), in
//!   order of first appearance.
//! - `lookup`: describe → `sfdc-match` schema, batched lookups, resolutions.
//! - `bulk`: Bulk API 2.0 insert, update, upsert and delete.
//! - `failure`: every error source mapped to an outcome.
//! - `other_fields`: run-time check of Other Fields mapped as one object, against describe.
//! - `converted`: the converted-Lead policies (skip, redirect) after a Lead group ran.
//! - `idempotency`: run-time check that a create's idempotency key field is an external id and
//!   unique, against describe.

pub(crate) mod bulk;
pub(crate) mod converted;
pub(crate) mod failure;
mod group;
pub(crate) mod idempotency;
pub(crate) mod lookup;
pub(crate) mod other_fields;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sfdc_actions::PlannedOperation;

use crate::abandoned::AbandonedCreate;
use crate::outcome::{ActionOutcome, EventOutcome, OutcomeStatus};
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
    /// The record a failed write addressed, by (event, slot): what the converted-Lead policy
    /// needs to find the Lead.
    targets: Mutex<HashMap<(usize, usize), String>>,
    /// Creates sent and not answered yet ([`Sink::tracking`]).
    in_flight: Option<InFlight>,
}

/// A destination's list of abandoned creates, shared by its clones.
pub(crate) type Abandoned = Arc<Mutex<Vec<AbandonedCreate>>>;

/// One send's creates sent and not answered yet, by (event, slot).
pub(crate) type InFlight = Arc<Mutex<HashMap<(usize, usize), AbandonedCreate>>>;

/// Moves the creates still in flight to the destination's abandoned list when dropped: held
/// by a send for as long as it runs, so a dropped send future leaves its unanswered creates
/// there (a completed send has none left).
#[derive(Debug)]
pub(crate) struct AbandonGuard {
    pub(crate) in_flight: InFlight,
    pub(crate) abandoned: Abandoned,
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        let mut left: Vec<AbandonedCreate> =
            lock(&self.in_flight).drain().map(|(_, c)| c).collect();
        if left.is_empty() {
            return;
        }
        left.sort_by_key(|c| (c.index, c.subscription));
        lock(&self.abandoned).extend(left);
    }
}

impl<'a> Sink<'a> {
    pub(crate) fn new(outcomes: &'a mut [EventOutcome]) -> Sink<'a> {
        Sink {
            outcomes: Mutex::new(outcomes),
            targets: Mutex::new(HashMap::new()),
            in_flight: None,
        }
    }

    /// A sink that registers the creates it sends in `in_flight` until they are answered.
    pub(crate) fn tracking(outcomes: &'a mut [EventOutcome], in_flight: InFlight) -> Sink<'a> {
        Sink {
            outcomes: Mutex::new(outcomes),
            targets: Mutex::new(HashMap::new()),
            in_flight: Some(in_flight),
        }
    }

    /// Records that the create of `job` is being sent (bulk: as a Bulk insert row).
    pub(crate) fn sending(&self, job: &Job, bulk: bool) {
        let Some(in_flight) = &self.in_flight else {
            return;
        };
        let create = {
            let outcomes = lock(&self.outcomes);
            let Some(event) = outcomes.get(job.event) else {
                return;
            };
            let Some(out) = event.results.get(job.slot) else {
                return;
            };
            AbandonedCreate {
                index: job.event,
                message_id: event.message_id.clone(),
                subscription: out.subscription,
                action: out.action,
                object: job.plan.object.clone(),
                idempotency_key: job
                    .plan
                    .idempotency_key
                    .as_ref()
                    .map(|k| (k.field.clone(), k.value.clone())),
                bulk,
            }
        };
        lock(in_flight).insert((job.event, job.slot), create);
    }

    /// Records that the answer for `job`'s create was read (its outcome is set).
    pub(crate) fn answered(&self, job: &Job) {
        if let Some(in_flight) = &self.in_flight {
            lock(in_flight).remove(&(job.event, job.slot));
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

    /// Records a failure of a write to the known record `id`.
    pub(crate) fn fail_at(&self, job: &Job, failure: &Failure, id: Option<&String>) {
        self.fail(job, failure);
        if let Some(id) = id {
            lock(&self.targets).insert((job.event, job.slot), id.clone());
        }
    }

    /// The record a failed write of `job` addressed, when known.
    pub(crate) fn target(&self, job: &Job) -> Option<String> {
        lock(&self.targets).get(&(job.event, job.slot)).cloned()
    }

    /// Answers `f` about the job's outcome so far (`false` when the job has no slot).
    pub(crate) fn check(&self, job: &Job, f: impl FnOnce(&ActionOutcome) -> bool) -> bool {
        lock(&self.outcomes)
            .get(job.event)
            .and_then(|e| e.results.get(job.slot))
            .is_some_and(f)
    }

    /// Records a deliberate skip (200, not retryable) of the record `record_id`, with why.
    pub(crate) fn skip(&self, job: &Job, record_id: String, message: String) {
        self.with_slot(job, |out| {
            out.status = OutcomeStatus::Skipped;
            out.record_id = Some(record_id);
            out.http_status = 200;
            out.error_code = None;
            out.message = Some(message);
            out.retryable = false;
            out.bulk_job_id = None;
        });
    }

    /// Adds an explanatory message to a success.
    pub(crate) fn note(&self, job: &Job, message: String) {
        self.with_slot(job, |out| out.message = Some(message));
    }

    fn with_slot(&self, job: &Job, f: impl FnOnce(&mut ActionOutcome)) {
        let mut outcomes = lock(&self.outcomes);
        if let Some(out) = outcomes
            .get_mut(job.event)
            .and_then(|e| e.results.get_mut(job.slot))
        {
            f(out);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
