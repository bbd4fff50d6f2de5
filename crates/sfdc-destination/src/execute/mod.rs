//! Executing the planned operations of one batch: grouping, then one executor per path.
//!
//! - [`group`]: jobs grouped by (object, operation, matcher fields, operator, bulk key), in
//!   order of first appearance.
//! - `rest`: create, update, delete and upsert through sObject Collections.
//! - `lookup`: describe → `sfdc-match` schema, batched lookups, resolutions.
//! - `bulk`: Bulk API 2.0 insert, update, upsert and delete.
//! - `failure`: every error source mapped to an outcome.
//! - `other_fields`: run-time check of Other Fields mapped as one object, against describe.
//! - `converted`: the converted-Lead policies (skip, redirect) after a Lead group ran.
//! - `idempotency`: run-time check that a create's idempotency key field is an external id and
//!   unique, against describe.

pub(crate) mod bulk;
mod converted;
pub(crate) mod failure;
mod group;
mod idempotency;
mod lookup;
mod other_fields;
mod rest;

use std::collections::HashMap;
use std::hash::Hash;

use sfdc_actions::{Operation, PlannedOperation};

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

/// Writes outcomes of jobs into the batch's event outcomes.
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    outcomes: &'a mut [EventOutcome],
    /// The record a failed write addressed, by (event, slot): what the converted-Lead policy
    /// needs to find the Lead.
    targets: HashMap<(usize, usize), String>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(outcomes: &'a mut [EventOutcome]) -> Sink<'a> {
        Sink {
            outcomes,
            targets: HashMap::new(),
        }
    }

    /// Records a failure of a write to the known record `id`.
    pub(crate) fn fail_at(&mut self, job: &Job, failure: &Failure, id: Option<&String>) {
        self.fail(job, failure);
        if let Some(id) = id {
            self.targets.insert((job.event, job.slot), id.clone());
        }
    }

    /// The record a failed write of `job` addressed, when known.
    pub(crate) fn target(&self, job: &Job) -> Option<&str> {
        self.targets.get(&(job.event, job.slot)).map(String::as_str)
    }

    /// The job's outcome so far.
    pub(crate) fn get(&self, job: &Job) -> Option<&crate::outcome::ActionOutcome> {
        self.outcomes
            .get(job.event)
            .and_then(|e| e.results.get(job.slot))
    }

    /// Records a deliberate skip (200, not retryable) of the record `record_id`, with why.
    pub(crate) fn skip(&mut self, job: &Job, record_id: String, message: String) {
        if let Some(out) = self.slot(job) {
            out.status = OutcomeStatus::Skipped;
            out.record_id = Some(record_id);
            out.http_status = 200;
            out.error_code = None;
            out.message = Some(message);
            out.retryable = false;
            out.bulk_job_id = None;
        }
    }

    /// Adds an explanatory message to a success.
    pub(crate) fn note(&mut self, job: &Job, message: String) {
        if let Some(out) = self.slot(job) {
            out.message = Some(message);
        }
    }

    /// Records a success: status, record id, 201 for a creation, 200 otherwise.
    pub(crate) fn ok(&mut self, job: &Job, status: OutcomeStatus, record_id: Option<String>) {
        if let Some(out) = self.slot(job) {
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
        }
    }

    /// Records a failure, or a pending outcome ([`Failure::pending`]).
    pub(crate) fn fail(&mut self, job: &Job, failure: &Failure) {
        if let Some(out) = self.slot(job) {
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
        }
    }

    fn slot(&mut self, job: &Job) -> Option<&mut crate::outcome::ActionOutcome> {
        self.outcomes
            .get_mut(job.event)
            .and_then(|e| e.results.get_mut(job.slot))
    }
}

/// Runs one group with the path its plans call for.
pub(crate) async fn run_group(
    client: &sfdc_rest::Client,
    bulk: &sfdc_bulk::BulkClient,
    group: &Group<'_>,
    sink: &mut Sink<'_>,
) {
    let checked = other_fields::checked(client, group, sink).await;
    let checked = idempotency::checked(client, &checked, sink).await;
    let group = &checked;
    let Some(first) = group.jobs.first() else {
        return;
    };
    if first.plan.bulk.is_some() {
        bulk::run(client, bulk, group, sink).await;
        return;
    }
    match first.plan.operation {
        Operation::Create => rest::create(client, group, sink).await,
        Operation::Update | Operation::Delete => {
            rest::update_or_delete(client, group, sink).await;
        }
        Operation::Upsert => rest::upsert(client, group, sink).await,
    }
    converted::settle(client, group, sink).await;
}

/// Splits items into rounds so that no round holds two items with the same key; an item goes
/// to the first round that does not hold its key yet, so items with one key keep their order
/// across rounds.
pub(crate) fn rounds_by_key<T, K, F>(items: Vec<T>, key: F) -> Vec<Vec<T>>
where
    K: Eq + Hash,
    F: Fn(&T) -> K,
{
    let mut rounds: Vec<Vec<T>> = Vec::new();
    let mut next_round: HashMap<K, usize> = HashMap::new();
    for item in items {
        let slot = next_round.entry(key(&item)).or_insert(0);
        let round = *slot;
        *slot += 1;
        if rounds.len() <= round {
            rounds.push(Vec::new());
        }
        rounds[round].push(item);
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_never_repeat_a_key_and_keep_key_order() {
        let items = vec![("a", 1), ("b", 2), ("a", 3), ("a", 4), ("c", 5)];
        let rounds = rounds_by_key(items, |(k, _)| *k);
        assert_eq!(
            rounds,
            vec![
                vec![("a", 1), ("b", 2), ("c", 5)],
                vec![("a", 3)],
                vec![("a", 4)]
            ]
        );
        assert!(rounds_by_key(Vec::<u8>::new(), |x| *x).is_empty());
    }

    #[test]
    fn record_identity_unifies_15_and_18_character_ids() {
        use sfdc_match::canonical_id;
        assert_eq!(
            canonical_id("00Q000000000001EAA"),
            canonical_id("00Q000000000001")
        );
    }
}
