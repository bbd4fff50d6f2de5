//! The Bulk API 2.0 path: upsert by the bulk external id, update by the bulk record id.

use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_bulk::{IngestRequest, Outcome, Record};

use super::{Failure, Group, Job, Sink};
use crate::outcome::OutcomeStatus;

/// Runs a bulk group: one `ingest` per `batch_size` events (each ingest is one job unless the
/// CSV passes the Bulk API size limits), outcomes tied back to events by input order.
pub(super) async fn run(bulk: &sfdc_bulk::BulkClient, group: &Group<'_>, sink: &mut Sink<'_>) {
    let Some(first) = group.jobs.first() else {
        return;
    };
    let Some(settings) = first.plan.bulk.as_ref() else {
        return;
    };
    let batch_size = usize::try_from(settings.batch_size.max(1)).unwrap_or(usize::MAX);
    let external_field = settings.external_id.as_ref().map(|e| e.field.clone());
    let operation = match first.plan.operation {
        Operation::Upsert => sfdc_bulk::Operation::Upsert,
        Operation::Update => sfdc_bulk::Operation::Update,
        Operation::Create => sfdc_bulk::Operation::Insert,
        Operation::Delete => sfdc_bulk::Operation::Delete,
    };
    for chunk in group.jobs.chunks(batch_size) {
        let records: Vec<Record> = chunk
            .iter()
            .map(|j| record_of(j, external_field.as_deref()))
            .collect();
        let mut request = IngestRequest::new(group.object.clone(), operation.clone());
        if let (sfdc_bulk::Operation::Upsert, Some(field)) = (&operation, &external_field) {
            request = request.external_id_field(field.clone());
        }
        match bulk.ingest(request, futures::stream::iter(records)).await {
            Ok(outcomes) => apply(sink, chunk, &outcomes),
            Err(e) => {
                let failure = Failure::bulk(&e);
                for job in chunk {
                    sink.fail(job, &failure);
                }
            }
        }
    }
}

/// The CSV record of one job: its fields plus the external id (upsert) or `Id` (update). A
/// bulk update without record id is still sent; Salesforce rejects that row only.
fn record_of(job: &Job, external_field: Option<&str>) -> Record {
    let mut record = job.plan.fields.clone();
    let Some(bulk) = job.plan.bulk.as_ref() else {
        return record;
    };
    match (external_field, &bulk.external_id) {
        (Some(field), Some(external)) => {
            record.insert(field.to_owned(), external.value.clone());
        }
        _ => {
            if let Some(id) = &bulk.record_id {
                let id = match id {
                    Value::String(s) => Value::String(s.clone()),
                    other => Value::String(other.to_string()),
                };
                record.insert("Id".to_owned(), id);
            }
        }
    }
    record
}

fn apply(sink: &mut Sink<'_>, jobs: &[&Job], outcomes: &[Outcome]) {
    for (i, job) in jobs.iter().enumerate() {
        match outcomes.get(i) {
            Some(Outcome::Created(id)) => sink.ok(job, OutcomeStatus::Created, Some(id.clone())),
            Some(Outcome::Updated(id)) => sink.ok(job, OutcomeStatus::Updated, Some(id.clone())),
            Some(Outcome::Deleted(id)) => sink.ok(job, OutcomeStatus::Deleted, Some(id.clone())),
            Some(Outcome::Failed {
                code,
                message,
                fields,
            }) => {
                let message = if fields.is_empty() {
                    message.clone()
                } else {
                    format!("{message} [{}]", fields.join(", "))
                };
                sink.fail(job, &Failure::code(code, message));
            }
            Some(_) => sink.fail(job, &Failure::unprocessed()),
            None => sink.fail(job, &Failure::missing_result()),
        }
    }
}
