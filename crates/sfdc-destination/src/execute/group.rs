//! Grouping a batch's jobs so each group runs with as few API calls as possible.

use std::collections::HashMap;

use sfdc_actions::{MatchOperator, Operation};

use super::Job;

/// Jobs that share object, operation, matcher fields (in order), operator and bulk key.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    /// Object API name as the first job spelled it.
    pub(crate) object: String,
    /// The jobs, in event order.
    pub(crate) jobs: Vec<&'a Job>,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    object: String,
    operation: Operation,
    matcher_fields: Vec<String>,
    operator: MatchOperator,
    /// `None` for REST; for bulk the external id field (upsert) or `Id` (update) and the
    /// batch size.
    bulk: Option<(String, u32)>,
}

fn key(job: &Job) -> Key {
    let plan = &job.plan;
    Key {
        object: plan.object.to_ascii_lowercase(),
        operation: plan.operation,
        matcher_fields: if plan.bulk.is_some() {
            Vec::new()
        } else {
            plan.matchers
                .iter()
                .map(|m| m.field.to_ascii_lowercase())
                .collect()
        },
        operator: plan.match_operator,
        bulk: plan.bulk.as_ref().map(|b| {
            let field = b
                .external_id
                .as_ref()
                .map_or_else(|| "Id".to_owned(), |e| e.field.to_ascii_lowercase());
            (field, b.batch_size)
        }),
    }
}

/// `true` when every input of [`key`] is spelled the same in both jobs, so their keys are
/// equal without building either (a batch is mostly runs of one subscription's jobs).
fn same_inputs(a: &Job, b: &Job) -> bool {
    fn bulk_key(p: &sfdc_actions::PlannedOperation) -> Option<(Option<&str>, u32)> {
        p.bulk.as_ref().map(|b| {
            let field = b.external_id.as_ref().map(|e| e.field.as_str());
            (field, b.batch_size)
        })
    }
    let (a, b) = (&a.plan, &b.plan);
    a.object == b.object
        && a.operation == b.operation
        && a.match_operator == b.match_operator
        && a.matchers.len() == b.matchers.len()
        && a.matchers
            .iter()
            .zip(&b.matchers)
            .all(|(x, y)| x.field == y.field)
        && bulk_key(a) == bulk_key(b)
}

/// Groups jobs in order of first appearance.
pub(crate) fn group_jobs(jobs: &[Job]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut previous: Option<(&Job, usize)> = None;
    for job in jobs {
        if let Some((before, g)) = previous
            && same_inputs(before, job)
        {
            groups[g].jobs.push(job);
            continue;
        }
        let g = *index.entry(key(job)).or_insert_with(|| {
            groups.push(Group {
                object: job.plan.object.clone(),
                jobs: Vec::new(),
            });
            groups.len() - 1
        });
        groups[g].jobs.push(job);
        previous = Some((job, g));
    }
    groups
}
