//! Converted Leads: what a Lead subscription's `converted_lead` policy does with an update
//! Salesforce refused because the Lead has been converted (`CANNOT_UPDATE_CONVERTED_LEAD`).
//!
//! The refusal itself is the signal (no extra field in every lookup): after a Lead group ran,
//! its jobs failed with that code and a policy other than `fail` are settled here, through the
//! runner's calls (in-flight bound, Composite packing), in one
//! query for all their Leads' `ConvertedContactId` (per 200 Leads) and, for `redirect`, one
//! Contact describe (cached) and one Collections update (per 200 Contacts):
//!
//! - `fail` (default): left as it is, failed and not retryable.
//! - `skip`: outcome `skipped` with the converted Contact's id and a message.
//! - `redirect`: the mapped fields that exist (and are updateable) on Contact are written to
//!   the converted Contact; the outcome is `updated` with the Contact's id, and its message
//!   names the Lead-only fields dropped (e.g. `Company`).

use std::collections::HashMap;

use serde_json::Value;
use sfdc_actions::ConvertedLeadPolicy;
use sfdc_match::{canonical_id, quote_string};
use sfdc_rest::{Record, SObjectDescribe};

use super::{Failure, Group, Job, Sink};
use crate::outcome::OutcomeStatus;
use crate::plan::keys::into_rounds;
use crate::run::calls::{CHUNK, Calls, WriteCall, WriteKind};

/// The Salesforce code of an update of a converted Lead.
const CONVERTED: &str = "CANNOT_UPDATE_CONVERTED_LEAD";
/// Settles the group's converted-Lead refusals by their subscriptions' policies.
pub(crate) async fn settle(calls: &Calls, group: &Group<'_>, sink: &Sink<'_>) {
    if !group.object.eq_ignore_ascii_case("Lead") {
        return;
    }
    let refused: Vec<(&Job, String)> = group
        .jobs
        .iter()
        .filter(|j| j.plan.converted_lead != ConvertedLeadPolicy::Fail)
        .filter(|j| {
            sink.check(j, |o| {
                o.is_failed()
                    && o.error_code
                        .as_ref()
                        .is_some_and(|c| c.as_str() == CONVERTED)
            })
        })
        .filter_map(|j| sink.target(j).map(|id| (*j, id)))
        .collect();
    if refused.is_empty() {
        return;
    }
    let contacts = match converted_contacts(calls, &refused).await {
        Ok(contacts) => contacts,
        Err(failure) => {
            for (job, _) in &refused {
                sink.fail(job, &failure);
            }
            return;
        }
    };
    let mut redirect: Vec<(&Job, String)> = Vec::new();
    for (job, lead) in refused {
        let Some(contact) = contacts.get(&canonical_id(&lead)) else {
            continue; // no ConvertedContactId: the refusal stands
        };
        match job.plan.converted_lead {
            ConvertedLeadPolicy::Skip => sink.skip(
                job,
                contact.clone(),
                format!(
                    "Lead {lead} has been converted (ConvertedContactId {contact}); the update was skipped (converted_lead = \"skip\")"
                ),
            ),
            _ => redirect.push((job, contact.clone())),
        }
    }
    if !redirect.is_empty() {
        redirect_updates(calls, redirect, sink).await;
    }
}

/// `ConvertedContactId` of each Lead (canonical id → Contact id), one query per 200 Leads,
/// sent through the runner (in-flight bound, Composite packing) like every other lookup.
async fn converted_contacts(
    calls: &Calls,
    refused: &[(&Job, String)],
) -> Result<HashMap<String, String>, Failure> {
    let mut ids: Vec<&str> = refused.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let soqls: Vec<String> = ids
        .chunks(CHUNK)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(|id| quote_string(id)).collect();
            format!(
                "SELECT Id, ConvertedContactId FROM Lead WHERE Id IN ({}) AND IsConverted = true",
                list.join(", ")
            )
        })
        .collect();
    let mut contacts = HashMap::new();
    for answer in calls.queries(&soqls).await {
        for record in answer? {
            if let (Some(Value::String(lead)), Some(Value::String(contact))) =
                (record.get("Id"), record.get("ConvertedContactId"))
            {
                contacts.insert(canonical_id(lead), contact.clone());
            }
        }
    }
    Ok(contacts)
}

/// Updates the converted Contacts with the fields Contact has, through the runner's writes
/// (200 per request, concurrent, packed); two Leads converted into one Contact are written in
/// successive rounds, in event order.
async fn redirect_updates(calls: &Calls, jobs: Vec<(&Job, String)>, sink: &Sink<'_>) {
    let describe = match calls.describe("Contact").await {
        Ok(describe) => describe,
        Err(e) => {
            let failure = Failure::request(&e);
            for (job, _) in &jobs {
                sink.fail(job, &failure);
            }
            return;
        }
    };
    let keys: Vec<Vec<String>> = jobs.iter().map(|(_, id)| vec![canonical_id(id)]).collect();
    for round in into_rounds(jobs, &keys) {
        let mut requests = Vec::new();
        let mut dropped = Vec::with_capacity(round.len());
        for chunk in round.chunks(CHUNK) {
            let mut records = Vec::with_capacity(chunk.len());
            for (job, contact) in chunk {
                let (record, gone) = contact_record(&describe, job, contact);
                records.push(record);
                dropped.push(gone);
            }
            requests.push(WriteCall {
                kind: WriteKind::Update,
                object: "Contact".to_owned(),
                records,
                ids: Vec::new(),
            });
        }
        let answers = calls.writes(requests).await.into_iter().flatten();
        for (((job, contact), dropped), answer) in round.iter().zip(&dropped).zip(answers) {
            match answer {
                Ok(r) if r.success => {
                    let note = if dropped.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; fields Contact does not have were dropped: {}",
                            dropped.join(", ")
                        )
                    };
                    sink.ok(job, OutcomeStatus::Updated, Some(contact.clone()));
                    sink.note(
                        job,
                        format!(
                            "the Lead has been converted: the update went to its Contact {contact} (converted_lead = \"redirect\"){note}"
                        ),
                    );
                }
                Ok(r) => sink.fail(job, &Failure::record(&r.errors)),
                Err(f) => sink.fail(job, &f),
            }
        }
    }
}

/// The Contact update for one job: the plan's fields that are updateable Contact fields, and
/// the names of those dropped.
fn contact_record(describe: &SObjectDescribe, job: &Job, contact: &str) -> (Record, Vec<String>) {
    let mut record = Record::new();
    let mut dropped = Vec::new();
    for (name, value) in &job.plan.fields {
        if name.eq_ignore_ascii_case("id") {
            continue;
        }
        match describe.field(name) {
            Some(f) if f.updateable => {
                record.insert(f.name.clone(), value.clone());
            }
            _ => dropped.push(name.clone()),
        }
    }
    record.insert("Id".to_owned(), Value::String(contact.to_owned()));
    (record, dropped)
}
