//! [`Destination::settle`]: pending Bulk API outcomes turned into their final status once the
//! job has finished.

use futures::stream;
use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_bulk::{BulkClient, IngestRequest, Outcome};

use crate::destination::Destination;
use crate::execute::Job;
use crate::execute::Sink;
use crate::execute::bulk::{apply, record_of};
use crate::outcome::{EventOutcome, OutcomeStatus};

/// The pending actions of one Bulk job, in the order their rows were sent.
struct PendingJob {
    job_id: String,
    object: String,
    jobs: Vec<Job>,
}

impl Destination {
    /// Settles the [`OutcomeStatus::Pending`] actions that carry a Bulk job id
    /// ([`ActionOutcome::bulk_job_id`](crate::ActionOutcome::bulk_job_id): the job was still
    /// running when polling stopped) and returns the merged outcomes, one per event, in the
    /// order of `outcomes`.
    ///
    /// `events` is the batch given to [`Destination::send`] (or [`Destination::retry`]) and
    /// `outcomes` what it returned (matched by [`EventOutcome::index`]). For each job, one
    /// status call; when the job has finished, its three result files (3 calls), and each of
    /// its actions becomes `created`, `updated`, `deleted` or `failed` as Salesforce reported
    /// the row (rows a failed or aborted job never reached, and rows of the same batch that the
    /// stopped ingest never sent: failed, retryable, `BULK_UNPROCESSED`). An action whose
    /// job is still running, cannot be read, or cannot be rebuilt stays pending: call `settle`
    /// again later. Every other action is carried over unchanged, and no record is written.
    ///
    /// The rows are tied back to the actions by planning the events again with the same
    /// subscriptions, so pass the same events and settings. Deletes whose record was found by
    /// record matchers (`resolve_matchers`) are not rebuilt and stay pending.
    pub async fn settle(&self, events: &[Value], outcomes: &[EventOutcome]) -> Vec<EventOutcome> {
        let mut settled = outcomes.to_vec();
        let pending = self.pending_jobs(events, &settled);
        if pending.is_empty() {
            return settled;
        }
        let bulk = BulkClient::new(self.client().clone());
        let sink = Sink::new(&mut settled);
        for job in &pending {
            let Some(request) = ingest_request(&job.object, &job.jobs) else {
                continue;
            };
            let external = request_external_field(&job.jobs);
            let records: Vec<_> = job
                .jobs
                .iter()
                .map(|j| record_of(j, external.as_deref()))
                .collect();
            match bulk
                .job_outcomes(&job.job_id, request, stream::iter(records))
                .await
            {
                Ok(Some(report)) => {
                    let jobs: Vec<&Job> = job.jobs.iter().collect();
                    // Rows past the job's own were left pending with its id although the ingest
                    // stopped before sending them: not processed, resendable.
                    let mut outcomes = report.outcomes;
                    outcomes.resize(jobs.len(), Outcome::Unprocessed);
                    apply(&sink, &jobs, &outcomes);
                }
                Ok(None) => tracing::debug!(job_id = %job.job_id, "bulk job still running"),
                Err(e) => {
                    tracing::warn!(job_id = %job.job_id, error = %e, "could not settle a bulk job; its actions stay pending");
                }
            }
        }
        drop(sink);
        for outcome in &mut settled {
            outcome.finish();
        }
        settled
    }

    /// Groups the pending Bulk actions by job id, in order of first appearance, each planned
    /// again; `Job::event` is the position in `outcomes`.
    fn pending_jobs(&self, events: &[Value], outcomes: &[EventOutcome]) -> Vec<PendingJob> {
        let mut pending: Vec<PendingJob> = Vec::new();
        for (position, outcome) in outcomes.iter().enumerate() {
            let Some(event) = events.get(outcome.index) else {
                continue;
            };
            for (slot, result) in outcome.results.iter().enumerate() {
                let Some(job_id) = result.bulk_job_id.as_ref() else {
                    continue;
                };
                if result.status != OutcomeStatus::Pending {
                    continue;
                }
                let Some(Ok(plan)) = self
                    .subscriptions()
                    .get(result.subscription)
                    .and_then(|action| action.plan_if_triggered(event))
                else {
                    continue;
                };
                if plan.bulk.as_ref().is_none_or(|b| b.resolve_matchers) {
                    continue;
                }
                let job = Job::new(position, slot, plan);
                match pending.iter_mut().find(|p| &p.job_id == job_id) {
                    Some(p) => p.jobs.push(job),
                    None => pending.push(PendingJob {
                        job_id: job_id.clone(),
                        object: result.object.clone(),
                        jobs: vec![job],
                    }),
                }
            }
        }
        pending
    }
}

/// The external-id field the job's upsert rows carry, as the Bulk path sends them.
fn request_external_field(jobs: &[Job]) -> Option<String> {
    jobs.first()
        .and_then(|j| j.plan.bulk.as_ref())
        .and_then(|b| b.external_id.as_ref())
        .map(|e| e.field.clone())
}

/// The ingest request the Bulk path built for these jobs (same object, operation and
/// external-id field).
fn ingest_request(object: &str, jobs: &[Job]) -> Option<IngestRequest> {
    let first = jobs.first()?;
    let operation = match first.plan.operation {
        Operation::Upsert => sfdc_bulk::Operation::Upsert,
        Operation::Update => sfdc_bulk::Operation::Update,
        Operation::Create => sfdc_bulk::Operation::Insert,
        Operation::Delete => sfdc_bulk::Operation::Delete,
    };
    let mut request = IngestRequest::new(object.to_owned(), operation.clone());
    if let (sfdc_bulk::Operation::Upsert, Some(field)) = (&operation, request_external_field(jobs))
    {
        request = request.external_id_field(field);
    }
    Some(request)
}
