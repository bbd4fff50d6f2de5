//! The Bulk API 2.0 path: insert (create), upsert by the bulk external id, update by the bulk
//! record id, delete by the bulk record id or by record matchers resolved first.

use futures::StreamExt;
use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_bulk::{IngestRequest, Outcome, Record};
use sfdc_match::Resolution;

use super::lookup::{self, lookup_of};
use super::{Failure, Group, Job, Sink};
use crate::outcome::OutcomeStatus;
use crate::plan::keys::into_rounds;
use crate::run::calls::Calls;
use crate::run::order::Order;
use std::collections::HashSet;

/// Runs a bulk group: rows in rounds by record key (rows for one record go in successive
/// jobs, since Bulk keeps no row order), each round as ingests of `batch_size` rows run
/// concurrently; outcomes tied back to events by input order. Each ingest declares the union
/// of its records' columns, so records with different optional fields share one job (a field
/// a record lacks is an empty cell: Salesforce leaves it unchanged; JSON `null` is `#N/A`).
///
/// Rows on a record key the REST path also writes follow event order with it ([`Order`]): a
/// row waits for the earlier REST jobs of its key, and the REST jobs after it wait for its job.
pub(crate) async fn run(
    calls: &Calls,
    bulk: &sfdc_bulk::BulkClient,
    group: &Group<'_>,
    sink: &Sink<'_>,
    order: &Order,
) {
    run_rows(calls, bulk, group, sink, order).await;
    order.bulk_done(group.jobs.iter().copied());
}

async fn run_rows(
    calls: &Calls,
    bulk: &sfdc_bulk::BulkClient,
    group: &Group<'_>,
    sink: &Sink<'_>,
    order: &Order,
) {
    let checked = super::other_fields::checked(&calls.client, group, sink).await;
    let group = &checked;
    let Some(first) = group.jobs.first() else {
        return;
    };
    // Each job with the id its CSV row carries: a delete by record matchers finds it first.
    let rows: Vec<(&Job, Option<Value>)> = if first.plan.operation == Operation::Delete {
        resolve_deletes(calls, group, sink).await
    } else {
        group.jobs.iter().map(|j| (*j, None)).collect()
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
    let sent: HashSet<(usize, usize)> = rows.iter().map(|(j, _)| (j.event, j.slot)).collect();
    order.bulk_done(
        group
            .jobs
            .iter()
            .copied()
            .filter(|j| !sent.contains(&(j.event, j.slot))),
    );
    let keys: Vec<Vec<String>> = rows
        .iter()
        .map(|(j, id)| {
            let mut k = j.keys.clone();
            if let Some(id) = id {
                k.push(crate::plan::keys::key(&j.plan.object, "Id", id));
            }
            k
        })
        .collect();
    let rows: Vec<(Row<'_>, Vec<String>)> = rows.into_iter().zip(keys.clone()).collect();
    for mut left in into_rounds(rows, &keys) {
        while !left.is_empty() {
            // Armed before the check, so a REST job finishing in between is not missed.
            let rest_done = order.changed();
            tokio::pin!(rest_done);
            rest_done.as_mut().enable();
            let (round, waiting): (Vec<_>, Vec<_>) = left
                .into_iter()
                .partition(|((j, _), k)| !order.bulk_waits(j, k));
            left = waiting;
            if round.is_empty() {
                rest_done.await;
                continue;
            }
            let round: Vec<(&Job, Option<Value>)> = round.into_iter().map(|(row, _)| row).collect();
            let ingests = round.chunks(batch_size).map(|rows| {
                let records: Vec<Record> = rows
                    .iter()
                    .map(|(j, id)| match id {
                        Some(id) => Record::from_iter([("Id".to_owned(), id.clone())]),
                        None => record_of(j, external_field.as_deref()),
                    })
                    .collect();
                let chunk: Vec<&Job> = rows.iter().map(|(j, _)| *j).collect();
                let mut request = IngestRequest::new(group.object.clone(), operation.clone());
                if let (sfdc_bulk::Operation::Upsert, Some(field)) = (&operation, &external_field) {
                    request = request.external_id_field(field.clone());
                }
                if !operation.is_delete() {
                    request = request.columns(union_of_columns(&records));
                }
                let inserts = operation == sfdc_bulk::Operation::Insert;
                ingest(bulk, request, records, chunk, sink, inserts)
            });
            futures::future::join_all(ingests).await;
            order.bulk_done(round.iter().map(|(j, _)| *j));
        }
    }
}

/// A job with the id its CSV row carries.
type Row<'j> = (&'j Job, Option<Value>);

/// The columns of all records, in order of first appearance.
fn union_of_columns(records: &[Record]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for record in records {
        for name in sfdc_bulk::csv::record_columns(record) {
            if seen.insert(name.to_ascii_lowercase()) {
                out.push(name);
            }
        }
    }
    out
}

/// One ingest (one job unless the CSV passes the Bulk API size limits), applied job by job:
/// each finished job's report is applied as it arrives, so a later job's failure leaves the
/// outcomes of the jobs before it.
async fn ingest(
    bulk: &sfdc_bulk::BulkClient,
    request: IngestRequest,
    records: Vec<Record>,
    chunk: Vec<&Job>,
    sink: &Sink<'_>,
    inserts: bool,
) {
    let chunk = chunk.as_slice();
    if inserts {
        for job in chunk {
            sink.sending(job, true);
        }
    }
    let mut reports = std::pin::pin!(bulk.ingest_stream(request, futures::stream::iter(records)));
    let mut done = 0;
    while let Some(item) = reports.next().await {
        match item {
            Ok(report) => {
                let rows = chunk.get(report.first_index..).unwrap_or_default();
                let n = rows.len().min(report.outcomes.len());
                apply(sink, &rows[..n], &report.outcomes[..n]);
                done = done.max(report.first_index + n);
            }
            Err(e) => {
                let failure = Failure::bulk(&e);
                for job in chunk.get(done..).unwrap_or_default() {
                    sink.fail(job, &failure);
                }
                // Rows Salesforce processed before the job failed are committed: report
                // them from the job's result files, not as failed.
                if let Some(report) = e.partial_report() {
                    let rows = chunk.get(report.first_index..).unwrap_or_default();
                    let n = rows.len().min(report.outcomes.len());
                    apply(sink, &rows[..n], &report.outcomes[..n]);
                }
                break;
            }
        }
    }
    if inserts {
        for job in chunk {
            sink.answered(job);
        }
    }
}

/// Finds the record of each delete job: the bulk record id when mapped (sent as is, even when
/// missing: Salesforce rejects that row only), else the record matchers through the REST
/// lookups (one describe, batched queries). Not found → 404, several → 300, as on the REST
/// path; those jobs are failed here and left out.
async fn resolve_deletes<'j>(
    calls: &Calls,
    group: &Group<'j>,
    sink: &Sink<'_>,
) -> Vec<(&'j Job, Option<Value>)> {
    let by_matchers = |j: &Job| j.plan.bulk.as_ref().is_some_and(|b| b.resolve_matchers);
    let mut rows: Vec<(&Job, Option<Value>)> = Vec::with_capacity(group.jobs.len());
    let mut pending: Vec<&Job> = Vec::new();
    for job in &group.jobs {
        if by_matchers(job) {
            pending.push(job);
        } else {
            let id = job.plan.bulk.as_ref().and_then(|b| b.record_id.clone());
            rows.push((job, Some(id_text(id))));
        }
    }
    if pending.is_empty() {
        return rows;
    }
    let schema = match lookup::schema(calls, &group.object).await {
        Ok(schema) => schema,
        Err(f) => {
            for job in pending {
                sink.fail(job, &f);
            }
            return rows;
        }
    };
    let mut lookups = Vec::new();
    let mut queried: Vec<&Job> = Vec::new();
    for job in pending {
        match lookup_of(job, Some(&schema)) {
            Ok(l) => {
                lookups.push(l);
                queried.push(job);
            }
            Err(f) => sink.fail(job, &f),
        }
    }
    let answers = lookup::resolve(calls, lookups, &mut lookup::Prefetched::new()).await;
    for (job, answer) in queried.into_iter().zip(answers) {
        match answer {
            Ok(Resolution::Found(id)) => rows.push((job, Some(Value::String(id)))),
            Ok(Resolution::NotFound) => sink.fail(job, &Failure::not_found(&group.object)),
            Ok(Resolution::Multiple(ids)) => {
                sink.fail(job, &Failure::multiple(&group.object, &ids));
            }
            Err(f) => sink.fail(job, &f),
        }
    }
    rows
}

/// A record id as CSV text; a missing id is an empty cell, which Salesforce rejects.
fn id_text(id: Option<Value>) -> Value {
    match id {
        Some(Value::String(s)) => Value::String(s),
        Some(Value::Null) | None => Value::String(String::new()),
        Some(other) => Value::String(other.to_string()),
    }
}

/// The CSV record of one job: its fields plus the external id (upsert) or `Id` (update). A
/// bulk update without record id is still sent; Salesforce rejects that row only.
pub(crate) fn record_of(job: &Job, external_field: Option<&str>) -> Record {
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

pub(crate) fn apply(sink: &Sink<'_>, jobs: &[&Job], outcomes: &[Outcome]) {
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
