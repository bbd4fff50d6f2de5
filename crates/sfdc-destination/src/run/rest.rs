//! The REST path of a batch, over all its REST groups at once: describes, then steps by
//! record key (see [`run`]), each step one set of lookups (all groups' queries together) and
//! one set of Collections writes (all groups' requests together), every set sent concurrently.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::future::join_all;
use serde_json::Value;
use sfdc_actions::Operation;
use sfdc_match::{Lookup, LookupPlan, Resolution, Schema};
use sfdc_rest::composite::{COMPOSITE_MAX_HEAVY, COMPOSITE_MAX_SUBREQUESTS};
use sfdc_rest::{CollectionResult, Record, SObjectDescribe};

use super::calls::{CHUNK, Calls, RecordResult, WriteCall, WriteKind};
use super::preflight;
use crate::execute::failure::already_deleted;
use crate::execute::lookup::{self, Prefetched, lookup_of, matcher_key};
use crate::execute::{Failure, Group, Job, Sink, converted, other_fields};
use crate::outcome::OutcomeStatus;
use crate::plan::keys::key;
use crate::run::locks::{Busy, Held};
use crate::run::order::Order;

/// How one job finds its record.
#[derive(Debug)]
enum Path {
    /// A create: no record to find.
    Create,
    /// The record id is known (an `Id` matcher).
    Id(String),
    /// An upsert by this external-id field (`upsert_many`, no lookup).
    External(String),
    /// A lookup by record matchers (taken when it is sent).
    Lookup(Option<Lookup>),
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

pub(crate) fn known_key(job: &Job) -> String {
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
///
/// Jobs go in event order through a loop of steps. Each step takes the **front**: every
/// pending job that no earlier pending job shares a key with (keys known before I/O, plus the
/// record id a lookup resolved), and that no earlier Bulk row of a shared key still holds
/// ([`Order`]); looks the unresolved ones up (all together); takes the lock of each resolved
/// record id ([`Held::take`], across concurrent sends); and writes the front's jobs that are
/// still free now that their records are known. A job whose lookup revealed a record an
/// earlier pending job also writes waits for it (an update found by `Email` and a later delete
/// by `Id` of the same Lead run in event order); all other jobs of a step run concurrently.
pub(crate) async fn run(
    calls: &Calls,
    groups: &[Group<'_>],
    sink: &Sink<'_>,
    held: &Held,
    order: &Order,
) {
    if groups.is_empty() {
        return;
    }
    let mut prefetched = Prefetched::new();
    let describes = describe_all(calls, groups, &mut prefetched).await;
    // Built once per object, not per job (it indexes every field of the describe); a job
    // looked up again after a delete reuses it.
    let schemas: Schemas = describes
        .iter()
        .filter_map(|(object, d)| Some((object.clone(), lookup::schema_of(d.as_ref().ok()?))))
        .collect();
    let mut prepared: Vec<Prepared<'_>> = Vec::new();
    for group in groups {
        let checked = other_fields::checked(&calls.client, group, sink).await;
        let object = group.object.to_ascii_lowercase();
        let describe = describes.get(&object);
        let schema = schemas.get(&object);
        for job in checked.jobs {
            if let Some(p) = prepare(calls, job, describe, schema, sink) {
                prepared.push(p);
            }
        }
    }
    // One global order: event order, then subscription order.
    prepared.sort_by_key(|p| (p.job.event, p.job.slot));
    let mut pending: Vec<Pending<'_>> = prepared.into_iter().map(Pending::new).collect();
    order.rest_start(pending.iter().map(|p| p.job));
    let mut known = Known::new();
    while !pending.is_empty() {
        // Armed before the check, so a Bulk row finishing in between is not missed.
        let bulk_done = order.changed();
        tokio::pin!(bulk_done);
        bulk_done.as_mut().enable();
        let front = free(&pending, order);
        if !front.iter().any(|f| *f) {
            // Every pending job waits for an earlier Bulk row of its key.
            bulk_done.await;
            continue;
        }
        let looked_up = resolve(
            calls,
            &mut pending,
            &front,
            &known,
            &schemas,
            &mut prefetched,
            sink,
        )
        .await;
        // Answers read ahead serve the first step only: later steps see the batch's writes.
        prefetched.clear();
        let relocked = lock_records(held, &mut pending, &front, sink).await;
        let mut finished: Vec<&Job> = pending.iter().filter(|p| p.done).map(|p| p.job).collect();
        pending.retain(|p| !p.done);
        let now = free(&pending, order);
        let mut writes = Vec::new();
        let mut rest = Vec::with_capacity(pending.len());
        for (p, free) in pending.into_iter().zip(now) {
            if free && p.resolved() {
                writes.push(p);
            } else {
                rest.push(p);
            }
        }
        pending = rest;
        if writes.is_empty() && !looked_up && !relocked {
            // Nothing moved: the front waits for deferred jobs that wait for Bulk rows.
            bulk_done.await;
            continue;
        }
        let (items, written) = items_of(writes, sink);
        finished.extend(written);
        // What a step's writes teach later steps (records written, created, deleted) is kept
        // only when jobs are left for them.
        let later = (!pending.is_empty()).then_some(&mut known);
        let written = write_round(calls, items, later, sink).await;
        forget_deleted(&mut pending, &written.deleted);
        if !pending.is_empty() {
            // A later step may write a record created now: hold it against concurrent sends
            // that find it by other matchers (free unless one already did; a refusal leaves
            // it unheld).
            let created: Vec<&str> = written.created.iter().map(String::as_str).collect();
            let _ = held.take_all(&created).await;
        }
        order.rest_done(finished.iter().copied());
    }
    order.rest_finish();
    for group in groups {
        converted::settle(calls, group, sink).await;
    }
}

/// A job on its way through [`run`]'s steps.
#[derive(Debug)]
struct Pending<'j> {
    job: &'j Job,
    path: Path,
    /// What its lookup found (a [`Path::Lookup`] job).
    resolution: Option<Resolution>,
    /// The key of the record id it writes, once known.
    id_key: Option<String>,
    /// Failed (recorded in the sink): leaves the loop.
    done: bool,
}

impl<'j> Pending<'j> {
    fn new(p: Prepared<'j>) -> Pending<'j> {
        let id_key = match &p.path {
            Path::Id(id) => Some(id_key(p.job, id)),
            _ => None,
        };
        Pending {
            job: p.job,
            path: p.path,
            resolution: None,
            id_key,
            done: false,
        }
    }

    /// `true` when the job knows what to write (no lookup left to run).
    fn resolved(&self) -> bool {
        !matches!(self.path, Path::Lookup(_)) || self.resolution.is_some()
    }

    fn all_keys(&self) -> impl Iterator<Item = &String> {
        self.job.keys.iter().chain(self.id_key.iter())
    }
}

fn id_key(job: &Job, id: &str) -> String {
    key(&job.plan.object, "Id", &Value::String(id.to_owned()))
}

/// Which pending jobs are free to go: no earlier pending job shares a key with it, and no
/// earlier Bulk row of a shared key is unfinished.
fn free(pending: &[Pending<'_>], order: &Order) -> Vec<bool> {
    // Sized for every job's keys up front (no rehash while it fills).
    let mut seen: HashSet<&str> =
        HashSet::with_capacity(pending.iter().map(|p| p.job.keys.len() + 1).sum());
    pending
        .iter()
        .map(|p| {
            let free = p.all_keys().all(|k| !seen.contains(k.as_str()))
                && !order.rest_waits(p.job, &p.job.keys);
            seen.extend(p.all_keys().map(String::as_str));
            free
        })
        .collect()
}

/// Resolves the unresolved jobs of the front: from a record written earlier in the batch
/// (same matcher values), else by the lookups, all together. Not found for an update or
/// delete: 404; several records: 300; a failed lookup: its error. Returns `true` when some
/// job was resolved or failed.
async fn resolve(
    calls: &Calls,
    pending: &mut [Pending<'_>],
    front: &[bool],
    known: &Known,
    schemas: &Schemas,
    prefetched: &mut Prefetched,
    sink: &Sink<'_>,
) -> bool {
    let mut moved = false;
    let mut lookups: Vec<Lookup> = Vec::new();
    let mut queried: Vec<usize> = Vec::new();
    for (i, p) in pending.iter_mut().enumerate() {
        if !front[i] || p.resolved() {
            continue;
        }
        moved = true;
        let written = (!known.is_empty())
            .then(|| known.get(&known_key(p.job)))
            .flatten();
        if let Some(id) = written {
            p.resolution = Some(Resolution::Found(id.clone()));
        } else if let Path::Lookup(l) = &mut p.path {
            match l.take().map_or_else(|| relookup(p.job, schemas), Ok) {
                Ok(l) => {
                    queried.push(i);
                    lookups.push(l);
                }
                Err(f) => {
                    sink.fail(p.job, &f);
                    p.done = true;
                }
            }
        }
    }
    let answers = lookup::resolve(calls, lookups, prefetched).await;
    for (i, answer) in queried.into_iter().zip(answers) {
        let p = &mut pending[i];
        match answer {
            Ok(r) => p.resolution = Some(r),
            Err(f) => {
                sink.fail(p.job, &f);
                p.done = true;
            }
        }
    }
    for (i, p) in pending.iter_mut().enumerate() {
        if !front[i] || p.done {
            continue;
        }
        let object = &p.job.plan.object;
        let op = p.job.plan.operation;
        match &p.resolution {
            Some(Resolution::Found(id)) => p.id_key = Some(id_key(p.job, id)),
            Some(Resolution::NotFound) if op != Operation::Upsert => {
                sink.fail(p.job, &Failure::not_found(object));
                p.done = true;
            }
            Some(Resolution::Multiple(ids)) => {
                sink.fail(p.job, &Failure::multiple(object, ids));
                p.done = true;
            }
            _ => {}
        }
    }
    moved
}

/// The lookup of a job whose earlier resolution was invalidated (its record was deleted by an
/// earlier event of the batch).
fn relookup(job: &Job, schemas: &Schemas) -> Result<Lookup, Failure> {
    lookup_of(job, schemas.get(&job.plan.object.to_ascii_lowercase()))
}

/// Takes, across concurrent sends, the lock of each record id the front will write (in sorted
/// order). A job whose lock had to wait for another send looks its record up again (that send
/// may have changed or deleted it); a lock that would deadlock with another send fails the
/// job: retryable, not sent. Returns `true` when some job was reset or failed.
async fn lock_records(
    held: &Held,
    pending: &mut [Pending<'_>],
    front: &[bool],
    sink: &Sink<'_>,
) -> bool {
    let mut moved = false;
    let mut wanted: Vec<(String, usize)> = pending
        .iter()
        .enumerate()
        .filter(|(i, p)| front[*i] && !p.done)
        .filter_map(|(i, p)| p.id_key.clone().map(|k| (k, i)))
        .collect();
    wanted.sort_unstable();
    let mut keys: Vec<&str> = wanted.iter().map(|(k, _)| k.as_str()).collect();
    keys.dedup();
    let answers = held.take_all(&keys).await;
    let mut refused = Vec::new();
    // `wanted` is sorted, `keys` its distinct keys in the same order.
    let mut at = 0;
    for (key, i) in &wanted {
        while keys.get(at).is_some_and(|k| *k != key.as_str()) {
            at += 1;
        }
        let taken = answers.get(at).copied().unwrap_or(Err(Busy));
        let p = &mut pending[*i];
        match taken {
            Ok(false) => {}
            Ok(true) if matches!(p.path, Path::Lookup(_)) => {
                p.resolution = None;
                p.id_key = None;
                moved = true;
            }
            Ok(true) => {}
            Err(Busy) => {
                sink.fail(p.job, &Failure::record_busy());
                p.done = true;
                refused.push(*i);
                moved = true;
            }
        }
    }
    refuse_followers(pending, &refused, sink);
    moved
}

/// A later job sharing a key with a job refused as busy is refused too (retryable, not sent):
/// written now, it would overtake the refused one, which the pipeline resends later.
fn refuse_followers(pending: &mut [Pending<'_>], refused: &[usize], sink: &Sink<'_>) {
    let Some(&first) = refused.iter().min() else {
        return;
    };
    let mut keys: HashSet<String> = refused
        .iter()
        .flat_map(|&i| pending[i].all_keys().cloned())
        .collect();
    for p in pending.iter_mut().skip(first + 1) {
        if p.done || !p.all_keys().any(|k| keys.contains(k)) {
            continue;
        }
        keys.extend(p.all_keys().cloned());
        sink.fail(p.job, &Failure::record_busy());
        p.done = true;
    }
}

/// Jobs whose resolution points at a record deleted in this batch look it up again.
fn forget_deleted(pending: &mut [Pending<'_>], deleted: &HashSet<String>) {
    if deleted.is_empty() {
        return;
    }
    for p in pending.iter_mut() {
        let stale = matches!(p.path, Path::Lookup(_))
            && p.id_key.as_ref().is_some_and(|k| deleted.contains(k));
        if stale {
            p.resolution = None;
            p.id_key = None;
        }
    }
}

type Describes = HashMap<String, super::calls::Described>;

/// The `sfdc-match` schema of each described object, by lowercase name.
type Schemas = HashMap<String, Schema>;

/// Describes the objects the REST groups need (cached by the client after the first time).
///
/// With Composite packing, describes not cached yet go out in **one** Composite call, and
/// with them the queries of the first step's lookups ([`first_queries`]), which would
/// otherwise wait a round trip for the describes: their answers land in `prefetched`.
async fn describe_all(
    calls: &Calls,
    groups: &[Group<'_>],
    prefetched: &mut Prefetched,
) -> Describes {
    let mut objects: Vec<&str> = groups
        .iter()
        .filter(|g| needs_describe(g, calls.settings.preflight))
        .map(|g| g.object.as_str())
        .collect();
    objects.sort_by_key(|o| o.to_ascii_lowercase());
    objects.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let uncached: Vec<&str> = objects
        .iter()
        .copied()
        .filter(|o| calls.client.cached_describe(o).is_none())
        .collect();
    let soqls = if calls.packs_queries() && !uncached.is_empty() {
        first_queries(calls, groups)
    } else {
        Vec::new()
    };
    let folded: Vec<&str> = if calls.packs_queries() && (!soqls.is_empty() || uncached.len() > 1) {
        let room = COMPOSITE_MAX_SUBREQUESTS - soqls.len();
        uncached.into_iter().take(room).collect()
    } else {
        Vec::new()
    };
    let plain: Vec<&str> = objects
        .iter()
        .copied()
        .filter(|o| !folded.iter().any(|f| f.eq_ignore_ascii_case(o)))
        .collect();
    let together = async {
        if folded.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            calls.describes_with_queries(&folded, &soqls).await
        }
    };
    let alone = join_all(plain.iter().map(|o| calls.describe(o)));
    let ((described, pages), answers) = futures::join!(together, alone);
    prefetched.extend(soqls.into_iter().zip(pages));
    let alone = plain
        .into_iter()
        .zip(answers)
        .map(|(o, a)| (o, a.map_err(|e| Failure::request(&e))));
    folded
        .into_iter()
        .zip(described)
        .chain(alone)
        .map(|(o, a)| (o.to_ascii_lowercase(), a))
        .collect()
}

/// The SOQL of the first step's lookups as they would be typed from the values alone (no
/// describe yet), at most one Composite call's worth: [`describe_all`] sends them with the
/// describes. The first step takes an answer only for a query whose text, typed by describe,
/// is the same (a text field such as `Email`, the common case); any other it sends itself,
/// so a wrong guess costs server time, never a wrong answer or an extra call.
fn first_queries(calls: &Calls, groups: &[Group<'_>]) -> Vec<String> {
    let mut jobs: Vec<&Job> = groups.iter().flat_map(|g| g.jobs.iter().copied()).collect();
    jobs.sort_by_key(|j| (j.event, j.slot));
    let mut seen: HashSet<&str> = HashSet::new();
    let mut lookups = Vec::new();
    for job in jobs {
        let first = job.keys.iter().all(|k| !seen.contains(k.as_str()));
        if first
            && job.plan.operation != Operation::Create
            && !lookup::presumed_external_id(job)
            && let Ok(l) = lookup_of(job, None)
            && l.plan() == LookupPlan::Query
        {
            lookups.push(l);
        }
        seen.extend(job.keys.iter().map(String::as_str));
    }
    let mut soqls = lookup::soqls_of(calls, lookups);
    soqls.truncate(COMPOSITE_MAX_HEAVY);
    soqls
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
                None => Path::Lookup(Some(l)),
            }
        }
        _ => Path::Lookup(Some(l)),
    };
    Some(Prepared { job, path })
}

/// Turns each resolved job into its write; returns the items and every job that left the loop.
fn items_of<'j>(writes: Vec<Pending<'j>>, sink: &Sink<'_>) -> (Vec<Item<'j>>, Vec<&'j Job>) {
    let mut items = Vec::with_capacity(writes.len());
    let mut finished = Vec::with_capacity(writes.len());
    for p in writes {
        finished.push(p.job);
        let job = p.job;
        let op = job.plan.operation;
        let found = match (&p.path, p.resolution) {
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
            _ if op == Operation::Create => None,
            (_, Some(Resolution::Found(id))) => Some(id),
            (_, Some(Resolution::NotFound)) if op == Operation::Upsert => None,
            // Failed in `resolve` (not found, several, lookup error): never here.
            (_, _) => {
                sink.fail(job, &Failure::missing_result());
                continue;
            }
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
    (items, finished)
}

/// Sends a step's writes (never two of one record: [`run`] keeps them in successive steps) as
/// Collections requests of at most 200 records per object and operation, concurrently.
/// With `known` (later steps follow), records what they wrote there and returns the keys of
/// the record ids deleted and created; without, returns nothing.
async fn write_round(
    calls: &Calls,
    items: Vec<Item<'_>>,
    mut known: Option<&mut Known>,
    sink: &Sink<'_>,
) -> Written {
    let mut written = Written::default();
    // [`run`] never puts two writes of one record in one step: one set of requests.
    {
        let set = items;
        // Requests by (operation, object without case) in order of first appearance.
        let mut buckets: Vec<Vec<Item<'_>>> = Vec::new();
        for item in set {
            let object = &item.job.plan.object;
            let at = buckets.iter().position(|b| {
                b.first().is_some_and(|first| {
                    first.kind == item.kind && first.job.plan.object.eq_ignore_ascii_case(object)
                })
            });
            match at {
                Some(at) => buckets[at].push(item),
                None => buckets.push(vec![item]),
            }
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
        for item in chunks.iter().flatten() {
            if creates(item) {
                sink.sending(item.job, false);
            }
        }
        let answers = calls.writes(write_calls).await;
        for (chunk, results) in chunks.into_iter().zip(answers) {
            for (item, result) in chunk.into_iter().zip(results) {
                sink.answered(item.job);
                let applied = apply(&item, result, known.as_deref_mut(), sink);
                if known.is_none() {
                    continue;
                }
                match applied {
                    Some((OutcomeStatus::Deleted, Some(id))) => {
                        written.deleted.insert(id_key(item.job, &id));
                    }
                    Some((OutcomeStatus::Created, Some(id))) => {
                        written.created.push(id_key(item.job, &id));
                    }
                    _ => {}
                }
            }
        }
    }
    written
}

/// The record keys a step's writes deleted and created.
#[derive(Debug, Default)]
struct Written {
    deleted: HashSet<String>,
    created: Vec<String>,
}

/// `true` when the write may create a record: a create, or a create with an idempotency key
/// (sent as an upsert by the key).
fn creates(item: &Item<'_>) -> bool {
    item.kind == WriteKind::Create || item.job.plan.idempotency_key.is_some()
}

/// Maps one record's Collections result onto its job (and, given `known`, what it wrote for
/// later steps); returns the status and record id of a success.
fn apply(
    item: &Item<'_>,
    result: RecordResult,
    known: Option<&mut Known>,
    sink: &Sink<'_>,
) -> Option<(OutcomeStatus, Option<String>)> {
    let r: CollectionResult = match result {
        Ok(r) => r,
        Err(f) => {
            sink.fail(item.job, &f);
            return None;
        }
    };
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
            r.id.or_else(|| item.id.clone())
        };
        if let Some(known) = known {
            remember(item, id.as_deref(), known);
        }
        sink.ok(item.job, status, id.clone());
        Some((status, id))
    } else {
        sink.fail_at(item.job, &Failure::record(&r.errors), item.id.as_ref());
        None
    }
}

/// Records a successful write of `item` (record `id`) for later steps: a delete is forgotten
/// under every matcher that found it, a write is remembered under the job's matcher values.
fn remember(item: &Item<'_>, id: Option<&str>, known: &mut Known) {
    if item.kind == WriteKind::Delete
        && let Some(gone) = id
    {
        // Every matcher that found the deleted record forgets it (not only this job's), so a
        // later job of one of them looks its values up again.
        let gone = sfdc_match::canonical_id(gone);
        let mut canonical = String::with_capacity(gone.len());
        known.retain(|_, v| {
            canonical.clear();
            sfdc_match::push_canonical_id(&mut canonical, v);
            canonical != gone
        });
    }
    if !item.job.plan.matchers.is_empty() {
        match (&item.kind, id) {
            (WriteKind::Delete, _) => {
                known.remove(&known_key(item.job));
            }
            (_, Some(id)) => {
                known.insert(known_key(item.job), id.to_owned());
            }
            _ => {}
        }
    }
}
