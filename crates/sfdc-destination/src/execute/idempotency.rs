//! Exactly-once creates: the check, at first use, that a create's idempotency key field can
//! carry the key. The planner (`sfdc-actions`) already turned such a create into an upsert by
//! the key field, which the REST and Bulk paths run like any upsert by external id.
//!
//! The field must be an external id (Salesforce upserts only by external ids) **and** unique: a
//! non-unique external id lets two concurrent upserts with one key each create a record, the
//! duplicate the key exists to prevent.

use sfdc_rest::SObjectDescribe;

use super::{Failure, Group, Job, Sink};
use crate::code::OutcomeCode;
use crate::run::calls::Calls;

/// Returns the group without the jobs whose idempotency key field fails the check (those are
/// failed in `sink`, nothing is written for them). Describes the object (cached per client)
/// only when a job has a key.
pub(crate) async fn checked<'a>(calls: &Calls, group: &Group<'a>, sink: &Sink<'_>) -> Group<'a> {
    let mut jobs = group.jobs.clone();
    if jobs.iter().any(|j| j.plan.idempotency_key.is_some()) {
        let describe = calls.describe(&group.object).await;
        jobs.retain(|job: &&Job| {
            let Some(key) = &job.plan.idempotency_key else {
                return true;
            };
            let refusal = match &describe {
                Ok(describe) => refusal(describe, &key.field),
                Err(e) => Some(Failure::request(e)),
            };
            match refusal {
                Some(failure) => {
                    sink.fail(job, &failure);
                    false
                }
                None => true,
            }
        });
    }
    Group {
        object: group.object.clone(),
        jobs,
    }
}

/// Why `field` cannot be the idempotency key of `describe`'s object, if it cannot.
pub(crate) fn refusal(describe: &SObjectDescribe, field: &str) -> Option<Failure> {
    let object = &describe.name;
    let reason = match describe.field(field) {
        None => format!("{object} has no field named {field}"),
        Some(f) if !f.external_id && !f.unique => {
            format!("{object}.{} is neither an external id nor unique", f.name)
        }
        Some(f) if !f.external_id => format!(
            "{object}.{} is not an external id, so records cannot be upserted by it",
            f.name
        ),
        Some(f) if !f.unique => format!(
            "{object}.{} is an external id but not unique, so two concurrent upserts with one key could each create a record",
            f.name
        ),
        Some(_) => return None,
    };
    Some(Failure {
        http_status: 400,
        code: OutcomeCode::InvalidIdempotencyKey,
        message: format!(
            "idempotency key {field} cannot make creates exactly-once: {reason}; nothing was written (mark the field External ID and Unique in Salesforce Setup)"
        ),
        retryable: false,
        pending: false,
        bulk_job_id: None,
    })
}
