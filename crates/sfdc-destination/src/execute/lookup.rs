//! Record lookups: describe → `sfdc-match` [`Schema`], batched SOQL, 0/1/many resolution.

use std::collections::HashMap;

use sfdc_actions::MatchOperator as ActionsOperator;
use sfdc_match::{
    BatchPlan, FieldInfo, FieldType, Lookup, MatchOperator, Matcher, QueryLimits, Resolution,
    Schema,
};
use sfdc_rest::{Record, SObjectDescribe};

use crate::run::calls::Calls;

use super::{Failure, Job};

/// Builds the `sfdc-match` schema of `object` from its describe (cached per client: one API
/// call per object per destination lifetime).
pub(crate) async fn schema(calls: &Calls, object: &str) -> Result<Schema, Failure> {
    let describe = calls
        .describe(object)
        .await
        .map_err(|e| Failure::request(&e))?;
    Ok(schema_of(&describe))
}

/// The `sfdc-match` schema of a describe. Fields describe marks `filterable: false` are
/// [`FieldType::Unfilterable`], so a matcher on one fails before any query.
pub(crate) fn schema_of(describe: &SObjectDescribe) -> Schema {
    let mut schema = Schema::new();
    for field in &describe.fields {
        // Describe's `filterable` flag decides, not only the type (a long text area is a
        // `textarea` like a short one): `sfdc-match` then refuses the matcher before any query.
        let field_type = if field.filterable {
            FieldType::from_salesforce_type(&field.field_type)
        } else {
            FieldType::Unfilterable(format!(
                "{} (filterable: false in describe)",
                field.field_type
            ))
        };
        schema.insert(
            &field.name,
            FieldInfo {
                field_type,
                external_id: field.external_id,
            },
        );
    }
    schema
}

/// Returns `true` when every job of the group finds its record by a single `Id` matcher, so no
/// describe and no query is needed.
pub(crate) fn all_by_id(jobs: &[&Job]) -> bool {
    jobs.iter().all(
        |j| matches!(j.plan.matchers.as_slice(), [only] if only.field.eq_ignore_ascii_case("Id")),
    )
}

/// `true` for an upsert by a lone custom field: most likely by an external id, which needs
/// no lookup. Only describe can tell; the plan ([`crate::Destination::explain`]) and the
/// lookups sent before describe ([`crate::run::rest`]) presume it.
pub(crate) fn presumed_external_id(job: &Job) -> bool {
    job.plan.operation == sfdc_actions::Operation::Upsert
        && matches!(job.plan.matchers.as_slice(), [only] if only.field.ends_with("__c"))
}

/// Validates one job's matchers into a [`Lookup`], typed by `schema` when given.
pub(crate) fn lookup_of(job: &Job, schema: Option<&Schema>) -> Result<Lookup, Failure> {
    let operator = match job.plan.match_operator {
        ActionsOperator::And => MatchOperator::And,
        _ => MatchOperator::Or,
    };
    let matchers: Vec<Matcher> = job
        .plan
        .matchers
        .iter()
        .map(|m| Matcher::new(m.field.clone(), m.value.clone()))
        .collect();
    Lookup::new(&job.plan.object, operator, &matchers, schema).map_err(|e| Failure::matcher(&e))
}

/// A key equal for two jobs whose matchers have the same values (text compared without case,
/// as SOQL does), so they certainly find the same records.
pub(crate) fn matcher_key(job: &Job) -> String {
    let mut key = String::with_capacity(64);
    for m in &job.plan.matchers {
        key.extend(m.field.chars().map(|c| c.to_ascii_lowercase()));
        key.push('\u{1f}');
        match &m.value {
            // Text (tagged, so the text "1" and the number 1 stay apart), without JSON quoting.
            serde_json::Value::String(s) => {
                key.push('s');
                key.push_str(&s.to_lowercase());
            }
            other => {
                key.push('v');
                key.push_str(&other.to_string().to_lowercase());
            }
        }
        key.push('\u{1e}');
    }
    key
}

/// The query limits lookups are planned with: a plain query is bound by the request URI of
/// the client's API version; inside a Composite call the query travels in the body, so only
/// the SOQL length binds (`max_uri_bytes` set far above it).
pub(crate) fn limits(api_version: &sfdc_rest::ApiVersion, in_composite: bool) -> QueryLimits {
    let mut limits = QueryLimits {
        uri_prefix: format!("/services/data/{}/query?q=", api_version.path_segment()),
        ..QueryLimits::default()
    };
    if in_composite {
        limits.max_uri_bytes = 64 * limits.max_soql_chars;
    }
    limits
}

/// The queries of a set of lookups, planned by [`BatchPlan`] per object.
struct Planned {
    /// Per object: the plan, the items' positions in the lookups, its queries' range in `soqls`.
    plans: Vec<(BatchPlan, Vec<usize>, std::ops::Range<usize>)>,
    soqls: Vec<String>,
    /// Items already answered (their object's plan could not be built).
    answers: Vec<Option<Result<Resolution, Failure>>>,
}

/// Plans the queries of `lookups` within the SOQL limit (and, for plain queries, the URI
/// limit). One plan per object: a plan resolves its items against every record it is given,
/// so records of one object must never meet another object's lookups.
fn plan(calls: &Calls, lookups: Vec<Lookup>) -> Planned {
    let limits = limits(calls.client.api_version(), calls.packs_queries());
    let total = lookups.len();
    let mut objects: Vec<String> = Vec::new();
    // Per object: the items' positions in `lookups` and the lookups themselves (moved).
    let mut members: Vec<(Vec<usize>, Vec<Lookup>)> = Vec::new();
    for (i, l) in lookups.into_iter().enumerate() {
        let object = l.object().as_str().to_ascii_lowercase();
        let at = match objects.iter().position(|o| *o == object) {
            Some(at) => at,
            None => {
                objects.push(object);
                members.push((Vec::new(), Vec::new()));
                members.len() - 1
            }
        };
        members[at].0.push(i);
        members[at].1.push(l);
    }
    let mut planned = Planned {
        plans: Vec::new(),
        soqls: Vec::new(),
        answers: vec![None; total],
    };
    for (indices, object_lookups) in members {
        match BatchPlan::build(&object_lookups, &limits) {
            Ok(plan) => {
                let first = planned.soqls.len();
                planned
                    .soqls
                    .extend(plan.queries().iter().map(|q| q.soql().to_owned()));
                let range = first..planned.soqls.len();
                planned.plans.push((plan, indices, range));
            }
            Err(e) => {
                let f = Failure::matcher(&e);
                for i in indices {
                    planned.answers[i] = Some(Err(f.clone()));
                }
            }
        }
    }
    planned
}

/// The SOQL statements [`resolve`] would send for `lookups`, in the same order.
pub(crate) fn soqls_of(calls: &Calls, lookups: Vec<Lookup>) -> Vec<String> {
    plan(calls, lookups).soqls
}

/// Query answers obtained ahead of the lookups that need them, by SOQL text (see
/// [`crate::run::rest`]: the first step's queries travel with the describes).
pub(crate) type Prefetched = HashMap<String, Result<Vec<Record>, Failure>>;

/// Runs the batched lookups of `lookups` (one per item), all queries concurrently (packed
/// into Composite calls when the executor packs), and returns each item's resolution.
///
/// Queries are planned by [`BatchPlan`] within the SOQL limit (and, for plain queries, the
/// URI limit); a query that fails fails the items it held, with that request's error. A
/// query whose exact text is in `prefetched` is taken from there instead of being sent.
#[tracing::instrument(level = "debug", name = "sfdc_destination.lookups", skip_all, fields(items = lookups.len()))]
pub(crate) async fn resolve(
    calls: &Calls,
    lookups: Vec<Lookup>,
    prefetched: &mut Prefetched,
) -> Vec<Result<Resolution, Failure>> {
    if lookups.is_empty() {
        return Vec::new();
    }
    let planning = tracing::debug_span!("sfdc_destination.lookups.soql").entered();
    let Planned {
        plans,
        soqls,
        mut answers,
    } = plan(calls, lookups);
    drop(planning);
    // Prefetched answers first; all other queries go out together (packed into Composite
    // calls where enabled).
    let mut pages: Vec<Option<Result<Vec<Record>, Failure>>> =
        soqls.iter().map(|q| prefetched.remove(q)).collect();
    let missing: Vec<String> = soqls
        .iter()
        .zip(&pages)
        .filter(|(_, p)| p.is_none())
        .map(|(q, _)| q.clone())
        .collect();
    let mut sent = if missing.is_empty() {
        Vec::new()
    } else {
        calls.queries(&missing).await
    }
    .into_iter();
    for page in pages.iter_mut().filter(|p| p.is_none()) {
        *page = sent.next();
    }
    let _resolving = tracing::debug_span!("sfdc_destination.lookups.resolve").entered();
    for (plan, indices, range) in plans {
        let mut records: Vec<Record> = Vec::new();
        let mut failed: Vec<Option<Failure>> = vec![None; range.len()];
        for (q, slot) in range.clone().enumerate() {
            match pages.get_mut(slot).and_then(Option::take) {
                Some(Ok(found)) => records.extend(found),
                Some(Err(f)) => failed[q] = Some(f),
                None => failed[q] = Some(Failure::missing_result()),
            }
        }
        for (k, resolved) in plan.resolve(records.iter()).into_iter().enumerate() {
            let answer = match plan
                .query_of(k)
                .and_then(|q| failed.get(q).cloned().flatten())
            {
                Some(f) => Err(f),
                None => resolved.map_err(|e| Failure::matcher(&e)),
            };
            if let Some(&i) = indices.get(k) {
                answers[i] = Some(answer);
            }
        }
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(Failure::missing_result())))
        .collect()
}
