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
    /// The operation's record keys known before I/O ([`crate::plan::keys::keys_of`]), built
    /// once: key locks, the REST steps and the Bulk/REST order all read them.
    pub(crate) keys: Vec<String>,
}

impl Job {
    /// The job of `plan`, outcome at (`event`, `slot`), with its record keys.
    pub(crate) fn new(event: usize, slot: usize, plan: PlannedOperation) -> Job {
        let keys = crate::plan::keys::keys_of(&plan);
        Job {
            event,
            slot,
            plan,
            keys,
        }
    }
}

/// Writes outcomes of jobs into the batch's event outcomes; shared by the concurrent parts
/// of a run (the lock is never held across an `.await`).
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    outcomes: Mutex<&'a mut [EventOutcome]>,
    /// The record a failed write addressed, by (event, slot): what the converted-Lead policy
    /// needs to find the Lead.
    targets: Mutex<HashMap<(usize, usize), String>>,
    /// Creates sent and not answered yet, by (event, slot) ([`Sink::tracking`]).
    in_flight: Mutex<HashMap<(usize, usize), InFlight>>,
    /// Where the creates still in flight go when the sink is dropped before they are answered
    /// (the send future was dropped mid-flight); `None`: not tracked.
    abandoned: Option<Abandoned>,
}

/// A destination's list of abandoned creates, shared by its clones.
pub(crate) type Abandoned = Arc<Mutex<Vec<AbandonedCreate>>>;

/// What a create in flight needs beyond its outcome slot to be listed as abandoned.
#[derive(Debug)]
struct InFlight {
    bulk: bool,
    idempotency_key: Option<(String, serde_json::Value)>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(outcomes: &'a mut [EventOutcome]) -> Sink<'a> {
        Sink {
            outcomes: Mutex::new(outcomes),
            targets: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            abandoned: None,
        }
    }

    /// A sink that registers the creates it sends until they are answered; those left when it
    /// is dropped go to `abandoned`.
    pub(crate) fn tracking(outcomes: &'a mut [EventOutcome], abandoned: Abandoned) -> Sink<'a> {
        Sink {
            outcomes: Mutex::new(outcomes),
            targets: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            abandoned: Some(abandoned),
        }
    }

    /// Records that the create of `job` is being sent (bulk: as a Bulk insert row).
    pub(crate) fn sending(&self, job: &Job, bulk: bool) {
        if self.abandoned.is_none() {
            return;
        }
        let idempotency_key = job
            .plan
            .idempotency_key
            .as_ref()
            .map(|k| (k.field.clone(), k.value.clone()));
        lock(&self.in_flight).insert(
            (job.event, job.slot),
            InFlight {
                bulk,
                idempotency_key,
            },
        );
    }

    /// Records that the answer for `job`'s create was read (its outcome is set).
    pub(crate) fn answered(&self, job: &Job) {
        if self.abandoned.is_some() {
            lock(&self.in_flight).remove(&(job.event, job.slot));
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

impl Drop for Sink<'_> {
    /// Lists the creates still in flight (a send future dropped mid-flight) as abandoned.
    fn drop(&mut self) {
        let Some(abandoned) = &self.abandoned else {
            return;
        };
        let in_flight = std::mem::take(&mut *lock(&self.in_flight));
        if in_flight.is_empty() {
            return;
        }
        let outcomes = lock(&self.outcomes);
        let mut left: Vec<AbandonedCreate> = in_flight
            .into_iter()
            .filter_map(|((event, slot), f)| {
                let e = outcomes.get(event)?;
                let out = e.results.get(slot)?;
                Some(AbandonedCreate {
                    index: event,
                    message_id: e.message_id.clone(),
                    subscription: out.subscription,
                    action: out.action,
                    object: out.object.clone(),
                    idempotency_key: f.idempotency_key,
                    bulk: f.bulk,
                })
            })
            .collect();
        left.sort_by_key(|c| (c.index, c.subscription));
        lock(abandoned).extend(left);
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
