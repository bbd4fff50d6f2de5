//! The REST path: sObject Collections writes, with batched lookups where records must be found.

use std::collections::HashMap;

use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_match::{LookupPlan, Resolution, Schema};
use sfdc_rest::{CollectionResult, Record};

use super::failure::already_deleted;
use super::lookup::{self, lookup_of, matcher_key};
use super::{Failure, Group, Job, Sink, rounds_by_key};
use crate::outcome::OutcomeStatus;

/// What a Collections call did, to name the success status.
#[derive(Debug, Clone, Copy)]
enum Write {
    Create,
    Update,
    Delete,
    Upsert,
}

/// Create: `create_many`, one call per 200 records, no lookup.
pub(super) async fn create(client: &sfdc_rest::Client, group: &Group<'_>, sink: &mut Sink<'_>) {
    create_jobs(client, &group.object, &group.jobs, sink).await;
}

/// Records written in earlier rounds of a group, by matcher key: a later event with the same
/// matcher values targets the same record without another lookup.
type Known = HashMap<String, String>;

fn remember(known: &mut Known, written: Vec<(&Job, String)>) {
    for (job, id) in written {
        known.insert(matcher_key(job), id);
    }
}

async fn create_jobs<'j>(
    client: &sfdc_rest::Client,
    object: &str,
    jobs: &[&'j Job],
    sink: &mut Sink<'_>,
) -> Vec<(&'j Job, String)> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let records: Vec<Record> = jobs.iter().map(|j| j.plan.fields.clone()).collect();
    let result = client.create_many(object, &records, false).await;
    let written = apply(sink, jobs, &[], Write::Create, result);
    successes(jobs, written)
}

fn successes<'j>(jobs: &[&'j Job], written: Vec<Option<String>>) -> Vec<(&'j Job, String)> {
    jobs.iter()
        .zip(written)
        .filter_map(|(j, id)| id.map(|id| (*j, id)))
        .collect()
}

/// Update or delete: `Id` matchers address records directly; other matchers are looked up in
/// one batched query per round, then found records are written with `update_many` /
/// `delete_many`.
pub(super) async fn update_or_delete(
    client: &sfdc_rest::Client,
    group: &Group<'_>,
    sink: &mut Sink<'_>,
) {
    let schema = if lookup::all_by_id(&group.jobs) {
        None
    } else {
        match lookup::schema(client, &group.object).await {
            Ok(schema) => Some(schema),
            Err(f) => return fail_all(sink, &group.jobs, &f),
        }
    };
    let delete = group
        .jobs
        .first()
        .is_some_and(|j| j.plan.operation == Operation::Delete);
    let mut known = Known::new();
    for round in rounds_by_key(group.jobs.clone(), |j| matcher_key(j)) {
        let mut found: Vec<(&Job, String)> = Vec::new();
        for (job, resolution) in find(client, &round, schema.as_ref(), &known, sink).await {
            match resolution {
                Resolution::Found(id) => found.push((job, id)),
                Resolution::NotFound => sink.fail(job, &Failure::not_found(&group.object)),
                Resolution::Multiple(ids) => {
                    sink.fail(job, &Failure::multiple(&group.object, &ids));
                }
            }
        }
        if delete {
            delete_found(client, found, sink).await;
        } else {
            let written = update_found(client, &group.object, found, sink).await;
            remember(&mut known, written);
        }
    }
}

/// Upsert: a single external-id matcher (per describe) goes through `upsert_many` by that
/// field with no lookup; otherwise one batched lookup per round, then found → `update_many`,
/// not found → `create_many`, several → 300.
pub(super) async fn upsert(client: &sfdc_rest::Client, group: &Group<'_>, sink: &mut Sink<'_>) {
    let schema = match lookup::schema(client, &group.object).await {
        Ok(schema) => schema,
        Err(f) => return fail_all(sink, &group.jobs, &f),
    };
    let mut known = Known::new();
    for round in rounds_by_key(group.jobs.clone(), |j| matcher_key(j)) {
        let mut by_external_id: Vec<&Job> = Vec::new();
        let mut external_field: Option<String> = None;
        let mut rest: Vec<&Job> = Vec::new();
        for job in round {
            match lookup_of(job, Some(&schema)) {
                Err(f) => sink.fail(job, &f),
                Ok(l) => match l.plan() {
                    LookupPlan::UpsertByExternalId { .. } => {
                        if external_field.is_none() {
                            external_field = job.plan.matchers.first().map(|m| m.field.clone());
                        }
                        by_external_id.push(job);
                    }
                    _ => rest.push(job),
                },
            }
        }
        if let Some(field) = external_field {
            let records: Vec<Record> = by_external_id
                .iter()
                .map(|j| {
                    let mut record = j.plan.fields.clone();
                    let value = j
                        .plan
                        .matchers
                        .first()
                        .map_or(Value::Null, |m| m.value.clone());
                    record.insert(field.clone(), value);
                    record
                })
                .collect();
            let result = client
                .upsert_many(&group.object, &field, &records, false)
                .await;
            let _ = apply(sink, &by_external_id, &[], Write::Upsert, result);
        }
        let mut found: Vec<(&Job, String)> = Vec::new();
        let mut missing: Vec<&Job> = Vec::new();
        for (job, resolution) in find(client, &rest, Some(&schema), &known, sink).await {
            match resolution {
                Resolution::Found(id) => found.push((job, id)),
                Resolution::NotFound => missing.push(job),
                Resolution::Multiple(ids) => {
                    sink.fail(job, &Failure::multiple(&group.object, &ids));
                }
            }
        }
        let updated = update_found(client, &group.object, found, sink).await;
        remember(&mut known, updated);
        let created = create_jobs(client, &group.object, &missing, sink).await;
        remember(&mut known, created);
    }
}

/// Resolves each job's record: `Id` matchers and matcher values written in an earlier round
/// directly, the others through one batched lookup. Jobs that fail (bad matcher, failed
/// query) are recorded in `sink` and left out; the rest come back in job order.
async fn find<'j>(
    client: &sfdc_rest::Client,
    jobs: &[&'j Job],
    schema: Option<&Schema>,
    known: &Known,
    sink: &mut Sink<'_>,
) -> Vec<(&'j Job, Resolution)> {
    let mut resolved: Vec<Option<Resolution>> = vec![None; jobs.len()];
    let mut queried: Vec<usize> = Vec::new();
    let mut lookups = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        if let Some(id) = known.get(&matcher_key(job)) {
            resolved[i] = Some(Resolution::Found(id.clone()));
            continue;
        }
        match lookup_of(job, schema) {
            Err(f) => sink.fail(job, &f),
            Ok(l) => match l.plan() {
                LookupPlan::DirectById { id } => resolved[i] = Some(Resolution::Found(id)),
                _ => {
                    queried.push(i);
                    lookups.push(l);
                }
            },
        }
    }
    let answers = lookup::resolve(client, &lookups).await;
    for (i, answer) in queried.into_iter().zip(answers) {
        match answer {
            Ok(r) => resolved[i] = Some(r),
            Err(f) => {
                if let Some(job) = jobs.get(i) {
                    sink.fail(job, &f);
                }
            }
        }
    }
    jobs.iter()
        .zip(resolved)
        .filter_map(|(job, r)| r.map(|r| (*job, r)))
        .collect()
}

/// `update_many` of found records; two events for one record go in successive requests, in
/// event order.
async fn update_found<'j>(
    client: &sfdc_rest::Client,
    object: &str,
    found: Vec<(&'j Job, String)>,
    sink: &mut Sink<'_>,
) -> Vec<(&'j Job, String)> {
    let mut written = Vec::new();
    for round in rounds_by_key(found, |(_, id)| sfdc_match::canonical_id(id)) {
        let (jobs, ids): (Vec<&Job>, Vec<String>) = round.into_iter().unzip();
        let records: Vec<Record> = jobs
            .iter()
            .zip(&ids)
            .map(|(j, id)| {
                let mut record = j.plan.fields.clone();
                record.retain(|k, _| !k.eq_ignore_ascii_case("id"));
                record.insert("Id".to_owned(), Value::String(id.clone()));
                record
            })
            .collect();
        let result = client.update_many(object, &records, false).await;
        let ok = apply(sink, &jobs, &ids, Write::Update, result);
        written.extend(successes(&jobs, ok));
    }
    written
}

/// `delete_many` of found records; a record two events delete is deleted once per round.
async fn delete_found(client: &sfdc_rest::Client, found: Vec<(&Job, String)>, sink: &mut Sink<'_>) {
    for round in rounds_by_key(found, |(_, id)| sfdc_match::canonical_id(id)) {
        let (jobs, ids): (Vec<&Job>, Vec<String>) = round.into_iter().unzip();
        let result = client.delete_many(&ids, false).await;
        let _ = apply(sink, &jobs, &ids, Write::Delete, result);
    }
}

fn fail_all(sink: &mut Sink<'_>, jobs: &[&Job], failure: &Failure) {
    for job in jobs {
        sink.fail(job, failure);
    }
}

/// Maps a Collections answer onto the jobs it was sent for (same order).
/// Returns, per job, the record id of a success (`None` for failures).
fn apply(
    sink: &mut Sink<'_>,
    jobs: &[&Job],
    known_ids: &[String],
    write: Write,
    result: sfdc_rest::Result<Vec<CollectionResult>>,
) -> Vec<Option<String>> {
    let mut written = vec![None; jobs.len()];
    let results = match result {
        Ok(results) => results,
        Err(e) => {
            fail_all(sink, jobs, &Failure::request(&e));
            return written;
        }
    };
    for (i, job) in jobs.iter().enumerate() {
        match results.get(i) {
            None => sink.fail(job, &Failure::missing_result()),
            Some(r) if r.success => {
                let status = match write {
                    Write::Create => OutcomeStatus::Created,
                    Write::Update => OutcomeStatus::Updated,
                    Write::Delete => OutcomeStatus::Deleted,
                    Write::Upsert if r.created == Some(true) => OutcomeStatus::Created,
                    Write::Upsert => OutcomeStatus::Updated,
                };
                let id = r.id.clone().or_else(|| known_ids.get(i).cloned());
                written[i] = id.clone();
                sink.ok(job, status, id);
            }
            Some(r) if matches!(write, Write::Delete) && already_deleted(&r.errors) => {
                let id = known_ids.get(i).cloned();
                written[i] = id.clone();
                sink.ok(job, OutcomeStatus::Deleted, id);
            }
            Some(r) => sink.fail_at(job, &Failure::record(&r.errors), known_ids.get(i)),
        }
    }
    written
}
