//! The REST path of a batch, over all its REST groups at once: describes, then rounds by
//! record key, each round one set of lookups (all groups' queries together) and one set of
//! Collections writes (all groups' requests together), every set sent concurrently.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;
use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_match::{Lookup, LookupPlan, Resolution, Schema};
use sfdc_rest::{CollectionResult, Record, SObjectDescribe};

use super::calls::{CHUNK, Calls, RecordResult, WriteCall, WriteKind};
use super::preflight;
use crate::execute::failure::already_deleted;
use crate::execute::lookup::{self, lookup_of, matcher_key};
use crate::execute::{Failure, Group, Job, Sink, converted, other_fields};
use crate::outcome::OutcomeStatus;
use crate::plan::keys::{into_rounds, key, keys_of};

/// How one job finds its record.
#[derive(Debug)]
enum Path {
    /// A create: no record to find.
    Create,
    /// The record id is known (an `Id` matcher).
    Id(String),
    /// An upsert by this external-id field (`upsert_many`, no lookup).
    External(String),
    /// A lookup by record matchers.
    Lookup(Lookup),
}

#[derive(Debug)]
struct Prepared<'j> {
    job: &'j Job,
    path: Path,
}

/// One record of a Collections write.
#[derive(Debug)]
struct Item<'j> {
    job: &'j Job,
    kind: WriteKind,
    record: Record,
    /// The record id written (update, delete), for the outcome and the order of writes.
    id: Option<String>,
}

/// Records written earlier in the batch, by object and matcher values: a later event with the
/// same matcher values targets the same record without another lookup.
type Known = HashMap<String, String>;

fn known_key(job: &Job) -> String {
    let mut key: String = job
        .plan
        .object
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    key.push('\u{1d}');
    key.push_str(&matcher_key(job));
    key
}

/// Objects whose describe the REST groups need (lookups, upserts, pre-flight, Other Fields).
pub(crate) fn needs_describe(group: &Group<'_>, preflight: bool) -> bool {
    let Some(first) = group.jobs.first() else {
        return false;
    };
    preflight
        || group
            .jobs
            .iter()
            .any(|j| !j.plan.other_fields_object_keys.is_empty())
        || match first.plan.operation {
            Operation::Create => false,
            Operation::Upsert => true,
            Operation::Update | Operation::Delete => !lookup::all_by_id(&group.jobs),
        }
}

/// Runs the REST groups of a batch.
pub(crate) async fn run(calls: &Calls, groups: &[Group<'_>], sink: &Sink<'_>) {
    if groups.is_empty() {
        return;
    }
    let describes = describe_all(calls, groups).await;
    let mut prepared: Vec<Prepared<'_>> = Vec::new();
    for group in groups {
        let checked = other_fields::checked(&calls.client, group, sink).await;
        let describe = describes.get(&group.object.to_ascii_lowercase());
        // Built once per group, not per job (it indexes every field of the describe).
        let schema = describe
            .and_then(|d| d.as_ref().ok())
            .map(|d| lookup::schema_of(d));
        for job in checked.jobs {
            if let Some(p) = prepare(calls, job, describe, schema.as_ref(), sink) {
                prepared.push(p);
            }
        }
    }
    // One global order: event order, then subscription order.
    prepared.sort_by_key(|p| (p.job.event, p.job.slot));
    let keys: Vec<Vec<String>> = prepared.iter().map(|p| keys_of(p.job)).collect();
    let mut known = Known::new();
    for round in into_rounds(prepared, &keys) {
        let items = resolve_round(calls, round, &known, sink).await;
        write_round(calls, items, &mut known, sink).await;
    }
    for group in groups {
        converted::settle(calls, group, sink).await;
    }
}

async fn describe_all(
    calls: &Calls,
    groups: &[Group<'_>],
) -> HashMap<String, Result<Arc<SObjectDescribe>, Failure>> {
    let mut objects: Vec<&str> = groups
        .iter()
        .filter(|g| needs_describe(g, calls.settings.preflight))
        .map(|g| g.object.as_str())
        .collect();
    objects.sort_by_key(|o| o.to_ascii_lowercase());
    objects.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let answers = join_all(objects.iter().map(|o| calls.describe(o))).await;
    objects
        .into_iter()
        .zip(answers)
        .map(|(o, a)| (o.to_ascii_lowercase(), a.map_err(|e| Failure::request(&e))))
        .collect()
}

/// Pre-flight and path of one job; `None` when it failed already (recorded in `sink`).
fn prepare<'j>(
    calls: &Calls,
    job: &'j Job,
    describe: Option<&Result<Arc<SObjectDescribe>, Failure>>,
    schema: Option<&Schema>,
    sink: &Sink<'_>,
) -> Option<Prepared<'j>> {
    let described = describe.and_then(|d| d.as_ref().ok());
    if calls.settings.preflight
        && let Some(d) = described
        && let Some(f) = preflight::refusal(d, &job.plan.fields)
    {
        sink.fail(job, &f);
        return None;
    }
    let op = job.plan.operation;
    if op == Operation::Create {
        return Some(Prepared {
            job,
            path: Path::Create,
        });
    }
    let needs_schema = op == Operation::Upsert || !lookup::all_by_id(&[job]);
    if needs_schema && schema.is_none() {
        let failure = match describe {
            Some(Err(f)) => f.clone(),
            _ => Failure::not_executed(),
        };
        sink.fail(job, &failure);
        return None;
    }
    let l = match lookup_of(job, schema) {
        Ok(l) => l,
        Err(f) => {
            sink.fail(job, &f);
            return None;
        }
    };
    let path = match l.plan() {
        LookupPlan::DirectById { id } => Path::Id(id),
        LookupPlan::UpsertByExternalId { .. } if op == Operation::Upsert => {
            match job.plan.matchers.first() {
                Some(m) => Path::External(m.field.clone()),
                None => Path::Lookup(l),
            }
        }
        _ => Path::Lookup(l),
    };
    Some(Prepared { job, path })
}

/// Runs the round's lookups (all groups together) and turns every job into its write, or
/// fails it (not found for an update or delete: 404; several records: 300).
async fn resolve_round<'j>(
    calls: &Calls,
    round: Vec<Prepared<'j>>,
    known: &Known,
    sink: &Sink<'_>,
) -> Vec<Item<'j>> {
    let mut resolved: Vec<Option<Resolution>> = Vec::with_capacity(round.len());
    let mut lookups: Vec<Lookup> = Vec::new();
    let mut queried: Vec<usize> = Vec::new();
    let mut jobs: Vec<(&Job, Path)> = Vec::with_capacity(round.len());
    for (i, p) in round.into_iter().enumerate() {
        let mut r = None;
        let path = match p.path {
            Path::Lookup(l) => match known.get(&known_key(p.job)) {
                Some(id) => {
                    r = Some(Resolution::Found(id.clone()));
                    Path::Lookup(l)
                }
                None => {
                    queried.push(i);
                    lookups.push(l);
                    Path::Create
                }
            },
            other => other,
        };
        resolved.push(r);
        jobs.push((p.job, path));
    }
    let answers = lookup::resolve(calls, lookups).await;
    for (i, answer) in queried.into_iter().zip(answers) {
        match answer {
            Ok(r) => resolved[i] = Some(r),
            Err(f) => {
                if let Some((job, _)) = jobs.get(i) {
                    sink.fail(job, &f);
                }
            }
        }
    }
    let mut items = Vec::new();
    for ((job, path), resolution) in jobs.into_iter().zip(resolved) {
        let op = job.plan.operation;
        let object = &job.plan.object;
        let found = match (&path, resolution) {
            (Path::Id(id), _) => Some(id.clone()),
            (Path::External(field), _) => {
                let mut record = job.plan.fields.clone();
                let value = job
                    .plan
                    .matchers
                    .first()
                    .map_or(Value::Null, |m| m.value.clone());
                record.insert(field.clone(), value);
                items.push(Item {
                    job,
                    kind: WriteKind::Upsert(field.clone()),
                    record,
                    id: None,
                });
                continue;
            }
            (_, _) if op == Operation::Create => None,
            (_, Some(Resolution::Found(id))) => Some(id),
            (_, Some(Resolution::NotFound)) if op == Operation::Upsert => None,
            (_, Some(Resolution::NotFound)) => {
                sink.fail(job, &Failure::not_found(object));
                continue;
            }
            (_, Some(Resolution::Multiple(ids))) => {
                sink.fail(job, &Failure::multiple(object, &ids));
                continue;
            }
            // The lookup failed: recorded above.
            (_, None) => continue,
        };
        let item = match (op, found) {
            (Operation::Delete, Some(id)) => Item {
                job,
                kind: WriteKind::Delete,
                record: Record::new(),
                id: Some(id),
            },
            (_, Some(id)) => {
                let mut record = job.plan.fields.clone();
                record.retain(|k, _| !k.eq_ignore_ascii_case("id"));
                record.insert("Id".to_owned(), Value::String(id.clone()));
                Item {
                    job,
                    kind: WriteKind::Update,
                    record,
                    id: Some(id),
                }
            }
            (_, None) => Item {
                job,
                kind: WriteKind::Create,
                record: job.plan.fields.clone(),
                id: None,
            },
        };
        items.push(item);
    }
    items
}

/// Sends the round's writes: items on one record id in successive sets (event order), each
/// set as Collections requests of at most 200 records per object and operation, concurrently.
async fn write_round(calls: &Calls, items: Vec<Item<'_>>, known: &mut Known, sink: &Sink<'_>) {
    let keys: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            i.id.iter()
                .map(|id| key(&i.job.plan.object, "Id", &Value::String(id.clone())))
                .collect()
        })
        .collect();
    for set in into_rounds(items, &keys) {
        // Requests by (operation, object) in order of first appearance.
        let mut order: Vec<(WriteKind, String)> = Vec::new();
        let mut buckets: Vec<Vec<Item<'_>>> = Vec::new();
        for item in set {
            let k = (item.kind.clone(), item.job.plan.object.to_ascii_lowercase());
            let at = match order.iter().position(|o| *o == k) {
                Some(at) => at,
                None => {
                    order.push(k);
                    buckets.push(Vec::new());
                    buckets.len() - 1
                }
            };
            buckets[at].push(item);
        }
        let mut requests: Vec<(WriteCall, Vec<Item<'_>>)> = Vec::new();
        for bucket in buckets {
            let mut bucket = bucket.into_iter().peekable();
            while bucket.peek().is_some() {
                let mut chunk: Vec<Item<'_>> = bucket.by_ref().take(CHUNK).collect();
                let Some(first) = chunk.first() else { break };
                let kind = first.kind.clone();
                let object = first.job.plan.object.clone();
                let delete = kind == WriteKind::Delete;
                let call = WriteCall {
                    kind,
                    object,
                    // Moved into the call (the item keeps what `apply` needs: job, kind, id).
                    records: if delete {
                        Vec::new()
                    } else {
                        chunk
                            .iter_mut()
                            .map(|i| std::mem::take(&mut i.record))
                            .collect()
                    },
                    ids: if delete {
                        chunk.iter().filter_map(|i| i.id.clone()).collect()
                    } else {
                        Vec::new()
                    },
                };
                requests.push((call, chunk));
            }
        }
        let (write_calls, chunks): (Vec<WriteCall>, Vec<Vec<Item<'_>>>) =
            requests.into_iter().unzip();
        let answers = calls.writes(write_calls).await;
        for (chunk, results) in chunks.into_iter().zip(answers) {
            for (item, result) in chunk.into_iter().zip(results) {
                apply(&item, result, known, sink);
            }
        }
    }
}

/// Maps one record's Collections result onto its job.
fn apply(item: &Item<'_>, result: RecordResult, known: &mut Known, sink: &Sink<'_>) {
    let r: CollectionResult = match result {
        Ok(r) => r,
        Err(f) => return sink.fail(item.job, &f),
    };
    let remember = !item.job.plan.matchers.is_empty();
    if r.success || (item.kind == WriteKind::Delete && already_deleted(&r.errors)) {
        let status = match &item.kind {
            WriteKind::Create => OutcomeStatus::Created,
            WriteKind::Update => OutcomeStatus::Updated,
            WriteKind::Delete => OutcomeStatus::Deleted,
            WriteKind::Upsert(_) if r.created == Some(true) => OutcomeStatus::Created,
            WriteKind::Upsert(_) => OutcomeStatus::Updated,
        };
        let id = if item.kind == WriteKind::Delete {
            item.id.clone()
        } else {
            r.id.clone().or_else(|| item.id.clone())
        };
        if remember {
            match (&item.kind, &id) {
                (WriteKind::Delete, _) => {
                    known.remove(&known_key(item.job));
                }
                (_, Some(id)) => {
                    known.insert(known_key(item.job), id.clone());
                }
                _ => {}
            }
        }
        sink.ok(item.job, status, id);
    } else {
        sink.fail_at(item.job, &Failure::record(&r.errors), item.id.as_ref());
    }
}
