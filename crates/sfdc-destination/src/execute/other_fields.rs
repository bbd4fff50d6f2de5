//! Run-time check of Other Fields mapped as one object: each key the event brought must be an
//! existing, writable field of the object (per describe), not a relationship and not
//! `attributes`. An invalid key fails that event only, naming the key; it is never stripped.

use serde_json::Value;
use sfdc_actions::{Operation, PlannedOperation};
use sfdc_rest::SObjectDescribe;

use super::{Failure, Group, Job, Sink};

/// Returns the group without the jobs whose Other Fields object has an invalid key (those are
/// failed in `sink`). Describes the object (cached per client) only when a job has such keys.
pub(crate) async fn checked<'a>(
    client: &sfdc_rest::Client,
    group: &Group<'a>,
    sink: &Sink<'_>,
) -> Group<'a> {
    let mut jobs = group.jobs.clone();
    if jobs
        .iter()
        .any(|j| !j.plan.other_fields_object_keys.is_empty())
    {
        match client.describe(&group.object).await {
            Ok(describe) => jobs.retain(|job| match refusal(&describe, &job.plan) {
                Some(failure) => {
                    sink.fail(job, &failure);
                    false
                }
                None => true,
            }),
            Err(e) => {
                let failure = Failure::request(&e);
                jobs.retain(|job: &&Job| {
                    if job.plan.other_fields_object_keys.is_empty() {
                        return true;
                    }
                    sink.fail(job, &failure);
                    false
                });
            }
        }
    }
    Group {
        object: group.object.clone(),
        jobs,
    }
}

/// Why the plan's first invalid Other Fields key cannot be written, if one is invalid.
///
/// Create needs `createable`, update `updateable`, upsert both (whether the record exists is
/// only known later).
pub(crate) fn refusal(describe: &SObjectDescribe, plan: &PlannedOperation) -> Option<Failure> {
    let (create, update) = match plan.operation {
        Operation::Create => (true, false),
        Operation::Update => (false, true),
        Operation::Upsert => (true, true),
        Operation::Delete => return None,
    };
    let object = &describe.name;
    for key in &plan.other_fields_object_keys {
        let reason = if key.eq_ignore_ascii_case("attributes") {
            Some("`attributes` is record metadata in Salesforce answers, not a field".to_owned())
        } else if matches!(plan.fields.get(key), Some(Value::Object(_))) || key.contains('.') {
            Some("it is a relationship; Other Fields writes only the record's own fields (set the reference field's Id instead)".to_owned())
        } else {
            match describe.field(key) {
                None if is_relationship_name(describe, key) => Some(
                    "it is a relationship name; Other Fields writes only the record's own fields (set the reference field's Id instead)".to_owned(),
                ),
                None => Some(format!("{object} has no field named {key}")),
                Some(f) if create && !f.createable => {
                    Some(format!("{object}.{} is not createable", f.name))
                }
                Some(f) if update && !f.updateable => {
                    Some(format!("{object}.{} is not updateable", f.name))
                }
                Some(_) => None,
            }
        };
        if let Some(reason) = reason {
            return Some(Failure {
                http_status: 400,
                code: crate::code::OutcomeCode::InvalidOtherField,
                message: format!(
                    "Other Fields key `{key}` cannot be written to {object} ({operation}): {reason}",
                    operation = plan.operation
                ),
                retryable: false,
                pending: false,
                bulk_job_id: None,
            });
        }
    }
    None
}

fn is_relationship_name(describe: &SObjectDescribe, key: &str) -> bool {
    describe.fields.iter().any(|f| {
        f.other
            .get("relationshipName")
            .and_then(Value::as_str)
            .is_some_and(|r| r.eq_ignore_ascii_case(key))
    })
}
