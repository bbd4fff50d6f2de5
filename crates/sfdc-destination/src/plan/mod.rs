//! The pure scheduler: a batch's jobs laid out as the API calls the runner (`crate::run`)
//! makes, with their dependencies, without any I/O ([`crate::Destination::explain`]).
//!
//! Layout: describes (one per object needing one; with Composite packing in one call with the
//! first round's lookups) → rounds by record key ([`keys`]); each
//! round is one set of lookups (every group's queries, packed ≤5 per Composite call) and then
//! one set of writes (Collections requests of ≤200 records, packed ≤5 per Composite call),
//! each depending on the set before. Bulk groups run alongside, their ingests in rounds by
//! record key too.

pub(crate) mod keys;

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use sfdc_actions::Operation;
use sfdc_match::{BatchPlan, LookupPlan};

use crate::execute::lookup::{self, lookup_of};
use crate::execute::{Group, Job, group_jobs};
use crate::executor_settings::ExecutorSettings;
use crate::run::rest::known_key;
use keys::into_rounds;

/// Estimated API calls of one Bulk ingest: create, upload, close, one status poll, and the
/// three result files (more polls for a job that takes longer).
pub const BULK_INGEST_CALLS: u64 = 7;

/// Most Collections or query subrequests in one Composite call.
const COMPOSITE_HEAVY: usize = sfdc_rest::composite::COMPOSITE_MAX_HEAVY;

/// What [`crate::Destination::explain`] found: the API calls a batch would take.
///
/// Planned without I/O, so it assumes what only describe could tell: every matcher field is
/// text, and it is an external id exactly when an upsert matches by one custom (`__c`) field
/// (shown as an `upsert` without lookup; other upserts are shown with their lookup), every
/// record passes pre-flight and Other Fields checks, and every lookup finds its record (an
/// upsert's writes are shown as one write of all its records: found records are updated and
/// the others created, which can take one more Collections request per group). Describes are
/// listed even though the client caches them per object for its lifetime; with Composite
/// packing they travel with the first round's lookups, as a destination's first batch sends
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    /// Events in the batch.
    pub events: usize,
    /// Planned operations (event × triggered subscription, planning errors excluded).
    pub operations: usize,
    /// The calls, in an order that respects `depends_on`.
    pub calls: Vec<PlannedCall>,
    /// Estimated API calls in all (a Bulk ingest counts [`BULK_INGEST_CALLS`]).
    pub api_calls: u64,
    /// What the plan assumed.
    pub assumptions: Vec<String>,
}

/// One API call of an [`Explanation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlannedCall {
    /// Position in [`Explanation::calls`].
    pub id: usize,
    /// `describe`, `query`, `collections`, `composite` or `bulk_ingest`.
    pub kind: String,
    /// The object (none for a Composite call over several objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The operation of a write or Bulk ingest: `create`, `update`, `upsert`, `delete`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Records written (or looked up).
    pub records: usize,
    /// The SOQL of a lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soql: Option<String>,
    /// The subrequests of a Composite call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subrequests: Vec<PlannedSubrequest>,
    /// Calls that must finish first (ids).
    pub depends_on: Vec<usize>,
    /// Round by record key (REST lookups and writes, Bulk ingests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round: Option<usize>,
    /// Estimated API calls (1, or [`BULK_INGEST_CALLS`] for a Bulk ingest).
    pub api_calls: u64,
}

/// One subrequest of a Composite call (or the single request of a plain call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlannedSubrequest {
    /// `describe`, `query`, `create`, `update`, `upsert` (by external id), `delete`, or
    /// `update_or_create` (an upsert by lookup).
    pub kind: String,
    /// The object.
    pub object: String,
    /// Records (or looked-up events).
    pub records: usize,
    /// The SOQL of a query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soql: Option<String>,
}

struct Builder {
    calls: Vec<PlannedCall>,
}

impl Builder {
    fn push(&mut self, mut call: PlannedCall) -> usize {
        call.id = self.calls.len();
        self.calls.push(call);
        self.calls.len() - 1
    }

    /// Adds a set of subrequests as calls: packed ≤5 per Composite call when `pack`, a
    /// single subrequest always as its plain call.
    fn set(
        &mut self,
        subs: Vec<PlannedSubrequest>,
        pack: bool,
        depends_on: &[usize],
        round: usize,
    ) -> Vec<usize> {
        let size = if pack { pack_size(subs.len()) } else { 1 };
        let mut ids = Vec::new();
        for chunk in subs.chunks(size) {
            let call = match chunk {
                [one] => plain(one),
                many => PlannedCall {
                    id: 0,
                    kind: "composite".into(),
                    object: None,
                    operation: None,
                    records: many.iter().map(|s| s.records).sum(),
                    soql: None,
                    subrequests: many.to_vec(),
                    depends_on: Vec::new(),
                    round: None,
                    api_calls: 1,
                },
            };
            ids.push(self.push(PlannedCall {
                depends_on: depends_on.to_vec(),
                round: Some(round),
                ..call
            }));
        }
        ids
    }
}

fn plain(sub: &PlannedSubrequest) -> PlannedCall {
    let (kind, operation) = match sub.kind.as_str() {
        "query" => ("query", None),
        other => ("collections", Some(other.to_owned())),
    };
    PlannedCall {
        id: 0,
        kind: kind.into(),
        object: Some(sub.object.clone()),
        operation,
        records: sub.records,
        soql: sub.soql.clone(),
        subrequests: Vec::new(),
        depends_on: Vec::new(),
        round: None,
        api_calls: 1,
    }
}

/// Plans the calls of `jobs` (a batch of `events` events).
pub(crate) fn explain(
    jobs: &[Job],
    settings: &ExecutorSettings,
    api_version: &sfdc_rest::ApiVersion,
    events: usize,
) -> Explanation {
    let groups = group_jobs(jobs);
    let (bulk_groups, rest_groups): (Vec<Group<'_>>, Vec<Group<'_>>) = groups
        .into_iter()
        .partition(|g| g.jobs.first().is_some_and(|j| j.plan.bulk.is_some()));
    let mut b = Builder { calls: Vec::new() };
    let pack_queries = settings.composite;
    let pack_writes = settings.composite && settings.pack_writes;

    // Describes.
    let mut described: Vec<(String, usize)> = Vec::new();
    // With Composite packing the REST groups' describes travel with the first round's lookups,
    // as the runner sends them (`run::rest`); without, each is a call of its own.
    let mut rest_describes: Vec<String> = Vec::new();
    for g in &rest_groups {
        if crate::run::needs_describe(g, settings.preflight)
            && !rest_describes
                .iter()
                .any(|o| o.eq_ignore_ascii_case(&g.object))
        {
            rest_describes.push(g.object.clone());
        }
    }
    let mut rest_deps = Vec::new();
    if !pack_queries {
        for o in std::mem::take(&mut rest_describes) {
            rest_deps.push(describe(&mut b, &mut described, &o));
        }
    }

    // REST rounds.
    let mut rest_jobs: Vec<&Job> = rest_groups.iter().flat_map(|g| g.jobs.clone()).collect();
    rest_jobs.sort_by_key(|j| (j.event, j.slot));
    let keys: Vec<Vec<String>> = rest_jobs.iter().map(|j| j.keys.clone()).collect();
    let limits = lookup::limits(api_version, pack_queries);
    let mut known: HashSet<String> = HashSet::new();
    let mut before = rest_deps;
    for (r, round) in into_rounds(rest_jobs, &keys).into_iter().enumerate() {
        let mut lookups = Vec::new();
        let mut writes: Vec<PlannedSubrequest> = Vec::new();
        for job in &round {
            let object = &job.plan.object;
            let kind = match job.plan.operation {
                Operation::Create => "create",
                Operation::Update => "update",
                Operation::Delete => "delete",
                Operation::Upsert => "update_or_create",
            };
            let external = lookup::presumed_external_id(job);
            let needs_lookup = job.plan.operation != Operation::Create
                && !external
                && !known.contains(&known_key(job))
                && match lookup_of(job, None) {
                    Ok(l) => !matches!(l.plan(), LookupPlan::DirectById { .. }),
                    Err(_) => continue,
                };
            if needs_lookup && let Ok(l) = lookup_of(job, None) {
                lookups.push(l);
            }
            let kind = match (kind, needs_lookup) {
                _ if external => "upsert",
                ("update_or_create", false) if !job.plan.matchers.is_empty() => "update",
                (k, _) => k,
            };
            add_write(&mut writes, kind, object);
            if !job.plan.matchers.is_empty() {
                if job.plan.operation == Operation::Delete {
                    known.remove(&known_key(job));
                } else {
                    known.insert(known_key(job));
                }
            }
        }
        let mut queries = match BatchPlan::build(&lookups, &limits) {
            Ok(plan) if !lookups.is_empty() => query_subrequests(&plan),
            _ => Vec::new(),
        };
        if !rest_describes.is_empty() {
            let objects = std::mem::take(&mut rest_describes);
            if queries.is_empty() && objects.len() == 1 {
                before = objects
                    .iter()
                    .map(|o| describe(&mut b, &mut described, o))
                    .collect();
            } else {
                let rest = queries.split_off(queries.len().min(COMPOSITE_HEAVY));
                let id = b.push(describes_with_queries(&objects, queries, r));
                described.extend(objects.into_iter().map(|o| (o, id)));
                before = vec![id];
                queries = rest;
            }
        }
        if !queries.is_empty() {
            before = b.set(queries, pack_queries, &before, r);
        }
        let writes = split_chunks(writes);
        if !writes.is_empty() {
            before = b.set(writes, pack_writes, &before, r);
        }
    }

    // Bulk groups, alongside.
    for g in &bulk_groups {
        let Some(first) = g.jobs.first() else {
            continue;
        };
        let mut deps = Vec::new();
        let by_matchers = first.plan.operation == Operation::Delete
            && g.jobs
                .iter()
                .any(|j| j.plan.bulk.as_ref().is_some_and(|b| b.resolve_matchers));
        if by_matchers {
            let d = describe(&mut b, &mut described, &g.object);
            let lookups: Vec<_> = g
                .jobs
                .iter()
                .filter_map(|j| lookup_of(j, None).ok())
                .collect();
            deps = vec![d];
            if let Ok(plan) = BatchPlan::build(&lookups, &limits) {
                deps = b.set(query_subrequests(&plan), pack_queries, &deps, 0);
            }
        }
        let batch = first.plan.bulk.as_ref().map_or(1, |s| {
            usize::try_from(s.batch_size.max(1)).unwrap_or(usize::MAX)
        });
        let keys: Vec<Vec<String>> = g.jobs.iter().map(|j| j.keys.clone()).collect();
        for (r, round) in into_rounds(g.jobs.clone(), &keys).into_iter().enumerate() {
            let mut ids = Vec::new();
            for chunk in round.chunks(batch) {
                ids.push(b.push(PlannedCall {
                    id: 0,
                    kind: "bulk_ingest".into(),
                    object: Some(g.object.clone()),
                    operation: Some(first.plan.operation.as_str().to_owned()),
                    records: chunk.len(),
                    soql: None,
                    subrequests: Vec::new(),
                    depends_on: deps.clone(),
                    round: Some(r),
                    api_calls: BULK_INGEST_CALLS,
                }));
            }
            deps = ids;
        }
    }

    let api_calls = b.calls.iter().map(|c| c.api_calls).sum();
    Explanation {
        events,
        operations: jobs.len(),
        calls: b.calls,
        api_calls,
        assumptions: vec![
            "no describe was read: matcher fields are assumed to be text, and external ids \
             exactly when an upsert matches by one custom field"
                .into(),
            "every record passes pre-flight and every lookup finds its record".into(),
        ],
    }
}

/// Counts one record into the write subrequest of its (kind, object), in order.
fn add_write(writes: &mut Vec<PlannedSubrequest>, kind: &str, object: &str) {
    match writes
        .iter_mut()
        .find(|w| w.kind == kind && w.object.eq_ignore_ascii_case(object))
    {
        Some(w) => w.records += 1,
        None => writes.push(PlannedSubrequest {
            kind: kind.to_owned(),
            object: object.to_owned(),
            records: 1,
            soql: None,
        }),
    }
}

/// Splits write subrequests into Collections requests of at most 200 records.
fn split_chunks(writes: Vec<PlannedSubrequest>) -> Vec<PlannedSubrequest> {
    let mut out = Vec::new();
    for w in writes {
        let mut left = w.records;
        while left > 0 {
            let n = left.min(crate::run::calls::CHUNK);
            out.push(PlannedSubrequest {
                records: n,
                ..w.clone()
            });
            left -= n;
        }
    }
    out
}

impl fmt::Display for Explanation {
    /// One line per call (`#id kind object operation records [after #..]`, SOQL of lookups
    /// indented), then the assumptions and a total line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.calls {
            write!(f, "#{} {}", c.id, c.kind)?;
            if let Some(o) = &c.object {
                write!(f, " {o}")?;
            }
            if let Some(op) = &c.operation {
                write!(f, " {op}")?;
            }
            if c.records > 0 {
                write!(f, " {} records", c.records)?;
            }
            if let Some(r) = c.round {
                write!(f, " round {r}")?;
            }
            if !c.depends_on.is_empty() {
                let deps: Vec<String> = c.depends_on.iter().map(|d| format!("#{d}")).collect();
                write!(f, " after {}", deps.join(","))?;
            }
            if c.api_calls != 1 {
                write!(f, " (~{} API calls)", c.api_calls)?;
            }
            writeln!(f)?;
            if let Some(soql) = &c.soql {
                writeln!(f, "    {soql}")?;
            }
            for s in &c.subrequests {
                write!(f, "    {} {} {} records", s.kind, s.object, s.records)?;
                match &s.soql {
                    Some(soql) => writeln!(f, ": {soql}")?,
                    None => writeln!(f)?,
                }
            }
        }
        for a in &self.assumptions {
            writeln!(f, "(assumed: {a})")?;
        }
        write!(
            f,
            "{} events, {} operations: {} calls, ~{} API calls",
            self.events,
            self.operations,
            self.calls.len(),
            self.api_calls
        )
    }
}
/// The describe call of `object` (one per object: a second ask gets the first's id).
fn describe(b: &mut Builder, described: &mut Vec<(String, usize)>, object: &str) -> usize {
    if let Some((_, id)) = described
        .iter()
        .find(|(o, _)| o.eq_ignore_ascii_case(object))
    {
        return *id;
    }
    let id = b.push(PlannedCall {
        id: 0,
        kind: "describe".into(),
        object: Some(object.to_owned()),
        operation: None,
        records: 0,
        soql: None,
        subrequests: Vec::new(),
        depends_on: Vec::new(),
        round: None,
        api_calls: 1,
    });
    described.push((object.to_owned(), id));
    id
}

/// One Composite call of describes and the first lookups (`run::rest`'s `describe_all`).
fn describes_with_queries(
    objects: &[String],
    queries: Vec<PlannedSubrequest>,
    round: usize,
) -> PlannedCall {
    let mut subrequests: Vec<PlannedSubrequest> = objects
        .iter()
        .map(|o| PlannedSubrequest {
            kind: "describe".into(),
            object: o.clone(),
            records: 0,
            soql: None,
        })
        .collect();
    subrequests.extend(queries);
    PlannedCall {
        id: 0,
        kind: "composite".into(),
        object: None,
        operation: None,
        records: subrequests.iter().map(|s| s.records).sum(),
        soql: None,
        subrequests,
        depends_on: Vec::new(),
        round: Some(round),
        api_calls: 1,
    }
}

/// The planned query subrequests of a lookup plan, one per query.
fn query_subrequests(plan: &BatchPlan) -> Vec<PlannedSubrequest> {
    plan.queries()
        .iter()
        .map(|q| PlannedSubrequest {
            kind: "query".into(),
            object: q.object().to_string(),
            records: q.events().len(),
            soql: Some(q.soql().to_owned()),
        })
        .collect()
}

/// Subrequests per Composite call for `n` heavy subrequests: as few calls as the limit of 5
/// allows, filled evenly (6 → 3 + 3, not 5 + 1), since Salesforce runs a Composite call's
/// subrequests one after another and the calls of a set run in parallel.
pub(crate) fn pack_size(n: usize) -> usize {
    let calls = n.div_ceil(COMPOSITE_HEAVY).max(1);
    n.div_ceil(calls).max(1)
}
