//! Issue 13 "Done means": mixed events against an emulator with seeded faults (503s,
//! `UNABLE_TO_LOCK_ROW`, connections dropped after commit, token expiry with refresh-token
//! rotation), redelivered at least once through `Destination::retry` for at most 5 rounds.
//!
//! Asserts 0 duplicates, 0 missing, the final org state equal to the fault-free expectation
//! field by field, an outcome for every event, 0 wrong outcomes, and (every create has an
//! idempotency key) 0 events pending. The same events are also sent to a fault-free emulator
//! to compare API calls.
//!
//! `FAULT_SUITE_EVENTS` sets the event count (default [`DEFAULT_EVENTS`], kept small for debug
//! builds; the issue's figure is 20,000: `FAULT_SUITE_EVENTS=20000`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use sfdc_destination::{Destination, EventOutcome, EventStatus, OutcomeStatus};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};
use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
use sfdc_test_support::RecordingSleeper;
use support::sub;

/// Events per run unless `FAULT_SUITE_EVENTS` says otherwise.
const DEFAULT_EVENTS: usize = 20_000;
/// Events per `send` call.
const BATCH: usize = 20;
/// Redelivery rounds through `Destination::retry`.
const MAX_ROUNDS: usize = 5;

fn event_count() -> usize {
    std::env::var("FAULT_SUITE_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_EVENTS)
}

/// The subscriptions, in order (their index is the outcome's `subscription`).
const SUBSCRIPTIONS: [&str; 6] = [
    // 0: Lead create, exactly once by its idempotency key.
    r#"
        action = "lead"
        name = "new-leads"
        trigger = 'type = "identify" and traits.kind = "new"'
        idempotency_key = { field = "Event_Id__c" }
    "#,
    // 1: Account upsert by external id, from the same identify.
    r#"
        action = "account"
        trigger = 'type = "identify" and traits.kind = "new"'
        operation = "upsert"
        record_matchers = { Ext_Id__c = { "@path" = "$.traits.company_id" } }
        fields = { name = { "@path" = "$.traits.company" } }
    "#,
    // 2: Lead upsert by Email (the Leads exist: updates).
    r#"
        action = "lead"
        trigger = 'type = "identify" and traits.kind = "known"'
        operation = "upsert"
        record_matchers = { Email = { "@path" = "$.traits.email" } }
    "#,
    // 3: Contact update by Email, from the same identify.
    r#"
        action = "contact"
        trigger = 'type = "identify" and traits.kind = "known"'
        operation = "update"
        record_matchers = { Email = { "@path" = "$.traits.email" } }
        other_fields = { Title = { "@path" = "$.traits.title" } }
    "#,
    // 4: Contact update by Email from a track.
    r#"
        action = "contact"
        trigger = 'type = "track" and event = "Contact Updated"'
        operation = "update"
        record_matchers = { Email = { "@path" = "$.properties.email" } }
        other_fields = { Title = { "@path" = "$.properties.title" } }
    "#,
    // 5: Case delete by Id.
    r#"
        action = "case"
        trigger = 'type = "track" and event = "Case Closed"'
        operation = "delete"
        record_matchers = { Id = { "@path" = "$.properties.case_id" } }
    "#,
];

/// The seeded org: records the events update or delete, by event index.
struct Seed {
    leads: HashMap<usize, String>,
    contacts: HashMap<usize, String>,
    cases: HashMap<usize, String>,
}

async fn org(faults: bool) -> Emulator {
    let mut config = EmulatorConfig::default();
    config.daily_api_limit = 10_000_000;
    config.rotate_refresh_tokens = true;
    config.seed = 13;
    if faults {
        config.faults.server_unavailable = 0.05;
        config.faults.unable_to_lock_row = 0.02;
        config.faults.drop_after_commit = 0.01;
        config.faults.expire_token_every = Some(29);
    }
    let emu = Emulator::start(config).await.unwrap();
    let key = |name: &str| {
        FieldDef::new(name, FieldType::String)
            .length(255)
            .external_id()
            .unique()
    };
    emu.add_field("Lead", key("Event_Id__c")).unwrap();
    emu.add_field("Account", key("Ext_Id__c")).unwrap();
    emu
}

fn seed(emu: &Emulator, n: usize) -> Seed {
    let mut seed = Seed {
        leads: HashMap::new(),
        contacts: HashMap::new(),
        cases: HashMap::new(),
    };
    for i in 0..n {
        match i % 4 {
            1 => {
                let email = format!("known{i}@example.com");
                let lead =
                    json!({"LastName": format!("Known{i}"), "Company": "Seed", "Email": email});
                seed.leads
                    .insert(i, emu.insert_record("Lead", lead).unwrap());
                let contact = json!({"LastName": format!("Known{i}"), "Email": email});
                seed.contacts
                    .insert(i, emu.insert_record("Contact", contact).unwrap());
            }
            2 => {
                let contact = json!({"LastName": format!("Track{i}"), "Email": format!("track{i}@example.com")});
                seed.contacts
                    .insert(i, emu.insert_record("Contact", contact).unwrap());
            }
            3 => {
                let case = json!({"Subject": format!("Case {i}")});
                seed.cases
                    .insert(i, emu.insert_record("Case", case).unwrap());
            }
            _ => {}
        }
    }
    // A control Case no event touches.
    emu.insert_record("Case", json!({"Subject": "untouched"}))
        .unwrap();
    seed
}

fn events(n: usize, seed: &Seed) -> Vec<Value> {
    (0..n)
        .map(|i| match i % 4 {
            0 => json!({
                "type": "identify", "messageId": format!("msg-{i}"), "userId": format!("u{i}"),
                "traits": {"kind": "new", "last_name": format!("New{i}"), "email": format!("new{i}@example.com"),
                           "company": format!("Company {i}"), "company_id": format!("A-{i}")}
            }),
            1 => json!({
                "type": "identify", "messageId": format!("msg-{i}"), "userId": format!("u{i}"),
                "traits": {"kind": "known", "last_name": format!("Known{i}"), "first_name": format!("F{i}"),
                           "email": format!("known{i}@example.com"), "title": format!("T{i}")}
            }),
            2 => json!({
                "type": "track", "event": "Contact Updated", "messageId": format!("msg-{i}"),
                "properties": {"email": format!("track{i}@example.com"), "title": format!("Track title {i}")}
            }),
            _ => json!({
                "type": "track", "event": "Case Closed", "messageId": format!("msg-{i}"),
                "properties": {"case_id": seed.cases[&i]}
            }),
        })
        .collect()
}

/// A destination on `emu` authenticating with the refresh-token grant (rotation on), whose
/// client makes 1 attempt per request (so every fault reaches the outcomes and the resend path)
/// and does not sleep between them.
async fn destination(emu: &Emulator) -> Destination {
    let source = RefreshTokenSource::builder()
        .login_host(LoginHost::insecure_loopback_token_url(emu.token_url()).unwrap())
        .client_id(emu.config().client_id.clone())
        .client_secret(emu.config().client_secret.clone())
        .refresh_token(emu.refresh_token())
        .build()
        .unwrap();
    let client = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .token_source(source)
        .allow_insecure_loopback(true)
        .retry(sfdc_rest::RetryConfig {
            max_attempts: 1,
            ..Default::default()
        })
        .sleeper(Arc::new(RecordingSleeper::default()))
        .build()
        .unwrap();
    Destination::builder()
        .client(client)
        .subscriptions(SUBSCRIPTIONS.iter().map(|s| sub(s)))
        .build()
        .unwrap()
}

/// Sends every batch, then resends what the outcomes call retryable, at most
/// [`MAX_ROUNDS`] times per batch. Returns the final outcomes and the rounds used.
async fn deliver(dest: &Destination, events: &[Value]) -> (Vec<EventOutcome>, usize) {
    let mut all = Vec::with_capacity(events.len());
    let mut rounds_used = 0;
    for batch in events.chunks(BATCH) {
        let mut outcomes = dest.send(batch).await;
        let mut round = 0;
        while round < MAX_ROUNDS && outcomes.iter().any(EventOutcome::has_retryable_actions) {
            outcomes = dest.retry(batch, &outcomes).await;
            round += 1;
        }
        rounds_used = rounds_used.max(round);
        all.extend(outcomes);
    }
    (all, rounds_used)
}

fn by_field<'a>(
    records: &'a [Map<String, Value>],
    field: &str,
) -> HashMap<String, Vec<&'a Map<String, Value>>> {
    let mut map: HashMap<String, Vec<&Map<String, Value>>> = HashMap::new();
    for r in records {
        if let Some(v) = r.get(field).and_then(Value::as_str) {
            map.entry(v.to_lowercase()).or_default().push(r);
        }
    }
    map
}

/// Checks the org against the fault-free expectation and every outcome against the org;
/// returns the list of problems (empty when all is well).
fn check(emu: &Emulator, seed: &Seed, n: usize, outcomes: &[EventOutcome]) -> Vec<String> {
    let mut problems = Vec::new();
    let leads = emu.records("Lead");
    let contacts = emu.records("Contact");
    let accounts = emu.records("Account");
    let cases = emu.records("Case");
    let leads_by_email = by_field(&leads, "Email");
    let contacts_by_email = by_field(&contacts, "Email");
    let accounts_by_ext = by_field(&accounts, "Ext_Id__c");
    let new = (0..n).filter(|i| i % 4 == 0).count();
    let known = (0..n).filter(|i| i % 4 == 1).count();
    let tracked = (0..n).filter(|i| i % 4 == 2).count();
    for (what, got, want) in [
        ("Leads", leads.len(), new + known),
        ("Accounts", accounts.len(), new),
        ("Contacts", contacts.len(), known + tracked),
        ("Cases", cases.len(), 1),
    ] {
        if got != want {
            problems.push(format!("{got} {what}, expected {want}"));
        }
    }

    if outcomes.len() != n {
        problems.push(format!("{} outcomes for {n} events", outcomes.len()));
    }
    let one =
        |map: &HashMap<String, Vec<&Map<String, Value>>>, key: &str, problems: &mut Vec<String>| {
            match map.get(&key.to_lowercase()).map(Vec::as_slice) {
                Some([only]) => Some((*only).clone()),
                Some(many) => {
                    problems.push(format!("{} records for {key} (duplicates)", many.len()));
                    None
                }
                None => {
                    problems.push(format!("no record for {key} (missing)"));
                    None
                }
            }
        };
    let expect =
        |problems: &mut Vec<String>, record: &Map<String, Value>, fields: &[(&str, String)]| {
            for (field, value) in fields {
                if record.get(*field).and_then(Value::as_str) != Some(value.as_str()) {
                    problems.push(format!(
                        "{field} = {:?}, expected {value:?} in {record:?}",
                        record.get(*field)
                    ));
                }
            }
        };
    for (i, outcome) in outcomes.iter().enumerate() {
        if outcome.index != i % BATCH || outcome.status != EventStatus::Succeeded {
            problems.push(format!("event {i}: {outcome:?}"));
            continue;
        }
        let subs: Vec<usize> = outcome.results.iter().map(|r| r.subscription).collect();
        let statuses =
            |ok: &[OutcomeStatus]| outcome.results.iter().all(|r| ok.contains(&r.status));
        let id = |slot: usize| outcome.results[slot].record_id.clone().unwrap_or_default();
        match i % 4 {
            0 => {
                if subs != [0, 1] || !statuses(&[OutcomeStatus::Created, OutcomeStatus::Updated]) {
                    problems.push(format!("event {i}: wrong outcome {outcome:?}"));
                    continue;
                }
                if let Some(lead) = one(
                    &leads_by_email,
                    &format!("new{i}@example.com"),
                    &mut problems,
                ) {
                    expect(
                        &mut problems,
                        &lead,
                        &[
                            ("LastName", format!("New{i}")),
                            ("Event_Id__c", format!("msg-{i}:new-leads")),
                            ("Id", id(0)),
                        ],
                    );
                }
                if let Some(account) = one(&accounts_by_ext, &format!("A-{i}"), &mut problems) {
                    expect(
                        &mut problems,
                        &account,
                        &[("Name", format!("Company {i}")), ("Id", id(1))],
                    );
                }
            }
            1 => {
                if subs != [2, 3] || !statuses(&[OutcomeStatus::Updated]) {
                    problems.push(format!("event {i}: wrong outcome {outcome:?}"));
                    continue;
                }
                let email = format!("known{i}@example.com");
                if let Some(lead) = one(&leads_by_email, &email, &mut problems) {
                    expect(
                        &mut problems,
                        &lead,
                        &[
                            ("FirstName", format!("F{i}")),
                            ("LastName", format!("Known{i}")),
                            ("Company", "Seed".to_owned()),
                            ("Id", seed.leads[&i].clone()),
                        ],
                    );
                    if id(0) != seed.leads[&i] {
                        problems.push(format!(
                            "event {i}: lead id {} is not the seeded one",
                            id(0)
                        ));
                    }
                }
                if let Some(contact) = one(&contacts_by_email, &email, &mut problems) {
                    expect(
                        &mut problems,
                        &contact,
                        &[
                            ("Title", format!("T{i}")),
                            ("FirstName", format!("F{i}")),
                            ("Id", id(1)),
                        ],
                    );
                }
            }
            2 => {
                if subs != [4] || !statuses(&[OutcomeStatus::Updated]) {
                    problems.push(format!("event {i}: wrong outcome {outcome:?}"));
                    continue;
                }
                if let Some(contact) = one(
                    &contacts_by_email,
                    &format!("track{i}@example.com"),
                    &mut problems,
                ) {
                    expect(
                        &mut problems,
                        &contact,
                        &[
                            ("Title", format!("Track title {i}")),
                            ("LastName", format!("Track{i}")),
                            ("Id", seed.contacts[&i].clone()),
                            ("Id", id(0)),
                        ],
                    );
                }
            }
            _ => {
                if subs != [5] || !statuses(&[OutcomeStatus::Deleted]) || id(0) != seed.cases[&i] {
                    problems.push(format!("event {i}: wrong outcome {outcome:?}"));
                }
            }
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_events_under_faults_end_exactly_as_without_faults() {
    let n = event_count();

    let clean = org(false).await;
    let clean_seed = seed(&clean, n);
    let clean_dest = destination(&clean).await;
    let (clean_outcomes, clean_rounds) = deliver(&clean_dest, &events(n, &clean_seed)).await;
    let clean_problems = check(&clean, &clean_seed, n, &clean_outcomes);
    assert!(
        clean_problems.is_empty(),
        "fault-free run: {:?}",
        &clean_problems[..clean_problems.len().min(10)]
    );
    assert_eq!(clean_rounds, 0, "nothing to resend without faults");

    let faulty = org(true).await;
    let faulty_seed = seed(&faulty, n);
    let dest = destination(&faulty).await;
    let (outcomes, rounds) = deliver(&dest, &events(n, &faulty_seed)).await;
    let problems = check(&faulty, &faulty_seed, n, &outcomes);
    assert!(
        problems.is_empty(),
        "{} problems, e.g. {:?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    let pending = outcomes
        .iter()
        .filter(|o| o.status == EventStatus::Pending)
        .count();
    assert_eq!(pending, 0);
    let (with, without) = (faulty.api_calls(), clean.api_calls());
    eprintln!(
        "fault suite: {n} events, API calls without faults {without}, with faults {with} ({:.3}x), token requests {} vs {}, max rounds {rounds}, calls {:?}",
        with as f64 / without as f64,
        faulty.token_requests(),
        clean.token_requests(),
        faulty.api_call_counts()
    );
    // The faults happened: resends were needed, and tokens were refreshed (with rotation).
    assert!(rounds >= 1, "the faults never caused a retryable outcome");
    assert!(faulty.token_requests() > clean.token_requests());
    assert!(with > without);
}

/// A Bulk job that fails after committing some rows (the emulator's `bulk_fail_after_rows`):
/// the committed rows keep their own outcomes (created, with the ids in the org), the others
/// are retryable, and `Destination::retry` finishes them without duplicating the committed ones.
#[tokio::test]
async fn a_failed_bulk_job_keeps_the_outcomes_of_the_rows_it_committed() {
    let mut config = EmulatorConfig::default();
    config.faults.bulk_fail_after_rows = Some(3);
    let emu = Emulator::start(config).await.unwrap();
    let dest = Destination::builder()
        .client(support::client(&emu))
        .subscription(sub(r#"
            action = "account"
            trigger = 'type = "group"'
            bulk = { enabled = true }
        "#))
        .bulk_poll(sfdc_bulk::PollConfig::fixed(
            std::time::Duration::from_millis(5),
            std::time::Duration::from_secs(60),
        ))
        .build()
        .unwrap();
    let events: Vec<Value> = (0..5)
        .map(|i| json!({"type": "group", "groupId": format!("g{i}"), "traits": {"name": format!("Bulk {i}")}}))
        .collect();
    let first = dest.send(&events).await;
    let accounts = emu.records("Account");
    assert_eq!(accounts.len(), 3, "the job committed 3 rows before failing");
    let mut committed = 0;
    for o in &first {
        let r = &o.results[0];
        match r.status {
            OutcomeStatus::Created => {
                committed += 1;
                let id = r.record_id.as_deref().unwrap();
                let name = &events[o.index]["traits"]["name"];
                assert_eq!(&emu.record("Account", id).unwrap()["Name"], name, "{r:?}");
            }
            OutcomeStatus::Failed => {
                assert!(r.retryable, "{r:?}");
                assert_eq!(
                    r.error_code.as_ref().map(|c| c.as_str()),
                    Some("BULK_UNPROCESSED")
                );
            }
            _ => panic!("unexpected outcome {r:?}"),
        }
    }
    assert_eq!(committed, 3);
    let second = dest.retry(&events, &first).await;
    assert!(
        second
            .iter()
            .all(|o| o.results[0].status == OutcomeStatus::Created),
        "{second:?}"
    );
    let mut names: Vec<String> = emu
        .records("Account")
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Bulk 0", "Bulk 1", "Bulk 2", "Bulk 3", "Bulk 4"]);
    assert_eq!(
        emu.bulk_jobs().len(),
        2,
        "the retry sent only the 2 unprocessed rows"
    );
}
