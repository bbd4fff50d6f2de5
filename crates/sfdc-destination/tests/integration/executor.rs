//! The executor: exact API calls with and without Composite, order by record key within a
//! batch and across concurrent sends, isolation of bad records, bounded concurrency (the
//! emulator's peak of simultaneous requests), Bulk alongside REST. Counts, never times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventStatus, ExecutorSettings, OutcomeStatus};
use sfdc_emulator::{Emulator, FieldDef, FieldType};
use support::*;

fn count(out: &[sfdc_destination::EventOutcome], status: OutcomeStatus) -> usize {
    out.iter()
        .flat_map(|o| &o.results)
        .filter(|r| r.status == status)
        .count()
}

#[tokio::test]
async fn benchmark_workload_takes_fifteen_calls_with_composite() {
    // 5,000 identify → Lead upsert by Email, half the Leads exist, batches of 1,000.
    let emu = emulator().await;
    for i in (0..5000).step_by(2) {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": format!("b{i}@example.com")}),
        )
        .unwrap();
    }
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let events: Vec<Value> = (0..5000)
        .map(|i| identify(&format!("b{i}@example.com"), "New"))
        .collect();
    let mut created = 0;
    let mut updated = 0;
    for batch in events.chunks(1000) {
        let out = dest.send(batch).await;
        created += count(&out, OutcomeStatus::Created);
        updated += count(&out, OutcomeStatus::Updated);
    }
    assert_eq!((created, updated), (2500, 2500));
    // Per batch: 1 lookup query (1,000 e-mails fit one SOQL statement in a body-less query), and
    // 6 Collections writes of ≤200 (3 updates, 3 creates): 2 Composite calls of 3 each, filled
    // evenly so neither runs 1,000 records serially on the server. The describe, once, goes
    // with the first batch's lookup in one Composite call.
    assert_eq!(
        calls(&emu),
        [("composite".to_owned(), 11), ("query".to_owned(), 4)].into()
    );
    assert_eq!(dest.api_calls(), 15);
    assert_eq!(emu.records("Lead").len(), 5000);
    assert!(emu.records("Lead").iter().all(|l| l["LastName"] == "New"));
}

#[tokio::test]
async fn same_workload_without_composite_takes_plain_calls() {
    let emu = emulator().await;
    for i in (0..1000).step_by(2) {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": format!("p{i}@example.com")}),
        )
        .unwrap();
    }
    let dest = destination_plain(&emu, LEAD_UPSERT_BY_EMAIL);
    let events: Vec<Value> = (0..1000)
        .map(|i| identify(&format!("p{i}@example.com"), "New"))
        .collect();
    let planned = dest.explain(&events);
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 500);
    let counts = calls(&emu);
    // Plain queries are bound by the 16 KiB URI: more than one for 1,000 e-mails, exactly
    // those `explain` plans.
    let queries = counts["query"];
    let planned_queries = planned.calls.iter().filter(|c| c.kind == "query").count();
    assert_eq!(queries, planned_queries as u64);
    assert!(queries > 1, "{queries}");
    assert_eq!(counts["collections"], 6);
    assert_eq!(counts["describe"], 1);
    assert_eq!(counts.get("composite"), None);
}

#[tokio::test]
async fn upsert_by_external_id_and_plain_create_take_one_call_per_thousand() {
    let emu = emulator().await;
    emu.add_field(
        "Contact",
        FieldDef::new("Ext_Id__c", FieldType::String)
            .length(40)
            .external_id()
            .unique(),
    )
    .unwrap();
    let upsert = destination_for(
        &emu,
        r#"
            action = "contact"
            trigger = 'type = "identify"'
            operation = "upsert"
            record_matchers = { Ext_Id__c = { "@path" = "$.userId" } }
        "#,
    );
    let events: Vec<Value> = (0..1000)
        .map(|i| identify(&format!("x{i}@example.com"), "Ext"))
        .collect();
    let out = upsert.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 1000, "{:?}", out[0]);
    assert_eq!(
        calls(&emu),
        [("composite".to_owned(), 1), ("describe".to_owned(), 1)].into()
    );
    let before = emu.api_call_counts();
    let out = upsert.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Updated), 1000);
    assert_eq!(
        calls_since(&emu, &before),
        [("composite".to_owned(), 1)].into()
    );

    let create = destination_for(&emu, r#"action = "lead""#);
    let before = emu.api_call_counts();
    let out = create.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 1000);
    assert_eq!(
        calls_since(&emu, &before),
        [("composite".to_owned(), 1), ("describe".to_owned(), 1)].into()
    );
    assert_eq!(emu.records("Lead").len(), 1000);
}

#[tokio::test]
async fn operations_on_one_email_apply_in_event_order_across_groups() {
    let emu = emulator().await;
    let dest = destination(
        &emu,
        vec![
            sub(&format!(
                "{LEAD_UPSERT_BY_EMAIL}\ntrigger = 'type = \"identify\"'"
            )),
            sub(r#"
                action = "lead"
                operation = "delete"
                trigger = 'type = "track" and event = "Forget"'
                record_matchers = { Email = { "@path" = "$.properties.email" } }
            "#),
        ],
    );
    let forget = |email: &str| {
        json!({"type": "track", "event": "Forget", "userId": email,
               "properties": {"email": email}})
    };
    let events = vec![
        identify("a@example.com", "First"),
        forget("A@example.com"),
        identify("a@example.com", "Again"),
        identify("b@example.com", "B1"),
        identify("B@Example.com", "B2"),
        forget("c@example.com"),
    ];
    let out = dest.send(&events).await;
    let status: Vec<OutcomeStatus> = out.iter().map(|o| only(o).status).collect();
    assert_eq!(
        status,
        [
            OutcomeStatus::Created,
            OutcomeStatus::Deleted,
            OutcomeStatus::Created,
            OutcomeStatus::Created,
            OutcomeStatus::Updated,
            OutcomeStatus::Failed,
        ]
    );
    assert_eq!(only(&out[5]).http_status, 404);
    let mut names: Vec<String> = emu
        .records("Lead")
        .iter()
        .map(|l| l["LastName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["Again", "B2"]);
    assert_ne!(only(&out[0]).record_id, only(&out[2]).record_id);
}

#[tokio::test]
async fn eight_concurrent_sends_of_the_same_fifty_new_emails_make_fifty_leads() {
    let emu = emulator_with_latency(2).await;
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let events: Vec<Value> = (0..50)
        .map(|i| identify(&format!("race{i}@example.com"), "Race"))
        .collect();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let dest = dest.clone();
            let events = events.clone();
            tokio::spawn(async move { dest.send(&events).await })
        })
        .collect();
    let mut created = 0;
    let mut updated = 0;
    for t in tasks {
        let out = t.await.unwrap();
        assert!(out.iter().all(|o| o.status == EventStatus::Succeeded));
        created += count(&out, OutcomeStatus::Created);
        updated += count(&out, OutcomeStatus::Updated);
    }
    assert_eq!((created, updated), (50, 350));
    assert_eq!(emu.records("Lead").len(), 50);
}

#[tokio::test]
async fn sends_with_disjoint_keys_run_concurrently_under_one_shared_bound() {
    let emu = emulator_with_latency(30).await;
    // Each send makes one call at a time (describe, lookup, write): four sends alone would
    // put four calls in flight at once; the destination's bound of 3 is shared by them.
    let dest = destination_with(
        &emu,
        ExecutorSettings::default().with_max_in_flight(3),
        vec![sub(LEAD_UPSERT_BY_EMAIL)],
    );
    emu.reset_peak_concurrent_requests();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let dest = dest.clone();
            let events: Vec<Value> = (0..5)
                .map(|i| identify(&format!("d{t}-{i}@example.com"), "D"))
                .collect();
            tokio::spawn(async move { dest.send(&events).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(count(&t.await.unwrap(), OutcomeStatus::Created), 5);
    }
    assert_eq!(emu.records("Lead").len(), 20);
    // Serialised sends would peak at 1, a bound per send at 4.
    assert_eq!(emu.peak_concurrent_requests(), 3);
}

#[tokio::test]
async fn in_flight_calls_never_pass_max_in_flight() {
    let emu = emulator_with_latency(30).await;
    let dest = destination_with(
        &emu,
        ExecutorSettings::default()
            .with_composite(false)
            .with_max_in_flight(3),
        vec![sub(r#"action = "lead""#)],
    );
    let events: Vec<Value> = (0..1000)
        .map(|i| identify(&format!("f{i}@example.com"), "F"))
        .collect();
    emu.reset_peak_concurrent_requests();
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 1000);
    // Five Collections creates of 200, at most 3 at a time, and more than one at a time.
    assert_eq!(calls(&emu)["collections"], 5);
    assert_eq!(emu.peak_concurrent_requests(), 3);
}

fn employees(email: &str, n: Value) -> Value {
    let mut e = identify(email, "Emp");
    e["traits"]["employees"] = n;
    e
}

const LEAD_WITH_EMPLOYEES: &str = r#"
    action = "lead"
    other_fields = { NumberOfEmployees = { "@path" = "$.traits.employees" } }
"#;

#[tokio::test]
async fn one_wrongly_typed_record_among_twenty_fails_alone_before_sending() {
    let emu = emulator().await;
    let dest = destination_for(&emu, LEAD_WITH_EMPLOYEES);
    let mut events: Vec<Value> = (0..20)
        .map(|i| employees(&format!("g{i}@example.com"), json!(5)))
        .collect();
    events.insert(10, employees("bad@example.com", json!("many")));
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 20);
    let bad = only(&out[10]);
    assert_eq!(bad.status, OutcomeStatus::Failed);
    assert_eq!(bad.error_code.as_ref().unwrap().as_str(), "INVALID_EVENT");
    assert!(
        bad.message
            .as_deref()
            .unwrap()
            .contains("NumberOfEmployees")
    );
    assert!(!bad.retryable);
    assert_eq!(emu.records("Lead").len(), 20);
    // Describe, then one Collections create of the 20 good records.
    assert_eq!(
        calls(&emu),
        [("collections".to_owned(), 1), ("describe".to_owned(), 1)].into()
    );
}

#[tokio::test]
async fn without_preflight_bisection_isolates_the_record_salesforce_cannot_parse() {
    let emu = emulator().await;
    let dest = destination_with(
        &emu,
        ExecutorSettings::default()
            .with_preflight(false)
            .with_composite(false),
        vec![sub(LEAD_WITH_EMPLOYEES)],
    );
    let mut events: Vec<Value> = (0..20)
        .map(|i| employees(&format!("h{i}@example.com"), json!(5)))
        .collect();
    events.insert(10, employees("bad@example.com", json!("many")));
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 20);
    let bad = only(&out[10]);
    assert_eq!(
        bad.error_code.as_ref().unwrap().as_str(),
        "JSON_PARSER_ERROR"
    );
    assert!(!bad.retryable);
    assert_eq!(emu.records("Lead").len(), 20);
    // 21 records rejected whole → 10 + 11 → the 11 → 5 + 6 → the 5 → 2 + 3 → the 2 → 1 + 1:
    // 1 + 2 + 2 + 2 + 2 requests, 8 of them extra (within the default budget of 16).
    assert_eq!(calls(&emu), [("collections".to_owned(), 9)].into());

    // A budget of 2 extra calls: one split, then the half holding the culprit fails whole.
    let emu = emulator().await;
    let dest = destination_with(
        &emu,
        ExecutorSettings::default()
            .with_preflight(false)
            .with_composite(false)
            .with_bisect_calls(2),
        vec![sub(LEAD_WITH_EMPLOYEES)],
    );
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 10);
    assert_eq!(calls(&emu), [("collections".to_owned(), 3)].into());
}

#[tokio::test]
async fn bisection_works_inside_composite_calls_too() {
    let emu = emulator().await;
    let dest = destination_with(
        &emu,
        ExecutorSettings::default().with_preflight(false),
        vec![sub(LEAD_WITH_EMPLOYEES)],
    );
    let mut events: Vec<Value> = (0..20)
        .map(|i| employees(&format!("k{i}@example.com"), json!(5)))
        .collect();
    events.insert(10, employees("bad@example.com", json!("many")));
    let out = dest.send(&events).await;
    assert_eq!(count(&out, OutcomeStatus::Created), 20);
    assert_eq!(emu.records("Lead").len(), 20);
    // The first request alone is plain; each later level's two halves share one Composite.
    assert_eq!(
        calls(&emu),
        [("collections".to_owned(), 1), ("composite".to_owned(), 4)].into()
    );
}

fn bulk_destination(
    emu: &Emulator,
    subs: Vec<sfdc_actions::ActionConfig>,
    poll_ms: u64,
) -> Destination {
    Destination::builder()
        .client(client(emu))
        .subscriptions(subs)
        .bulk_poll(PollConfig::fixed(
            Duration::from_millis(poll_ms),
            Duration::from_secs(60),
        ))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_bulk_group_does_not_hold_rest_work_behind_it() {
    let emu = emulator().await;
    // The Bulk subscription comes first: run group after group, the REST group would wait for
    // the Bulk job's first status poll, a second away.
    let dest = bulk_destination(
        &emu,
        vec![
            sub(r#"
                action = "lead"
                [bulk]
                enabled = true
                batch_size = 1000
            "#),
            sub(r#"
                action = "contact"
                trigger = 'type = "identify"'
            "#),
        ],
        1000,
    );
    let events: Vec<Value> = (0..5)
        .map(|i| identify(&format!("bulk{i}@example.com"), "Both"))
        .collect();
    let task = tokio::spawn({
        let dest = dest.clone();
        async move { dest.send(&events).await }
    });
    let mut contacts = 0;
    for _ in 0..200 {
        contacts = emu.records("Contact").len();
        if contacts == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(contacts, 5, "the REST creates landed");
    assert!(
        !task.is_finished(),
        "while the Bulk job was still being polled"
    );
    let out = task.await.unwrap();
    assert_eq!(emu.bulk_jobs().len(), 1);
    assert!(
        out.iter().all(|o| o.status == EventStatus::Succeeded),
        "{:?}",
        out[0]
    );
    assert_eq!(emu.records("Lead").len(), 5);
}

#[tokio::test]
async fn bulk_records_with_different_optional_fields_share_one_job() {
    let emu = emulator().await;
    let dest = bulk_destination(
        &emu,
        vec![sub(r#"
            action = "lead"
            other_fields = { Title = { "@path" = "$.traits.title" }, Phone = { "@path" = "$.traits.phone" } }
            [bulk]
            enabled = true
            batch_size = 1000
        "#)],
        5,
    );
    let mut a = identify("o1@example.com", "Titled");
    a["traits"]["title"] = json!("CEO");
    let mut b = identify("o2@example.com", "Phoned");
    b["traits"]["phone"] = json!("555-0100");
    let c = identify("o3@example.com", "Plain");
    let out = dest.send(&[a, b, c]).await;
    assert!(
        out.iter().all(|o| o.status == EventStatus::Succeeded),
        "{out:?}"
    );
    assert_eq!(emu.bulk_jobs().len(), 1);
    let leads = emu.records("Lead");
    let by_name = |n: &str| leads.iter().find(|l| l["LastName"] == n).unwrap().clone();
    assert_eq!(by_name("Titled")["Title"], "CEO");
    assert!(by_name("Titled")["Phone"].is_null());
    assert_eq!(by_name("Phoned")["Phone"], "555-0100");
    assert!(by_name("Plain")["Title"].is_null());
}

#[tokio::test]
async fn bulk_rows_for_one_record_go_in_successive_jobs() {
    let emu = emulator().await;
    emu.add_field(
        "Lead",
        FieldDef::new("Ext_Id__c", FieldType::String)
            .length(40)
            .external_id()
            .unique(),
    )
    .unwrap();
    let dest = bulk_destination(
        &emu,
        vec![sub(r#"
            action = "lead"
            operation = "upsert"
            [bulk]
            enabled = true
            batch_size = 1000
            upsert_external_id_name = "Ext_Id__c"
            upsert_external_id_value = { "@path" = "$.userId" }
        "#)],
        5,
    );
    let ev = |user: &str, name: &str| json!({"type": "identify", "userId": user, "traits": {"last_name": name, "company": "Acme"}});
    let out = dest
        .send(&[ev("u1", "One"), ev("u2", "Two"), ev("u1", "OneAgain")])
        .await;
    assert!(
        out.iter().all(|o| o.status == EventStatus::Succeeded),
        "{out:?}"
    );
    assert_eq!(emu.bulk_jobs().len(), 2);
    let mut names: Vec<String> = emu
        .records("Lead")
        .iter()
        .map(|l| l["LastName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["OneAgain", "Two"]);
}

#[tokio::test]
async fn lookups_of_two_objects_in_one_round_resolve_each_against_its_own_records() {
    // A Lead and a Contact with the same e-mail: the two subscriptions' lookups go out together,
    // and neither may see the other object's record as a second match.
    let emu = emulator().await;
    let lead = emu
        .insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": "both@example.com"}),
        )
        .unwrap();
    let contact = emu
        .insert_record(
            "Contact",
            json!({"LastName": "Old", "Email": "both@example.com"}),
        )
        .unwrap();
    let dest = Destination::builder()
        .client(client(&emu))
        .subscriptions(vec![
            sub(LEAD_UPSERT_BY_EMAIL),
            sub(r#"
                action = "contact"
                operation = "update"
                trigger = 'type = "identify"'
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
        ])
        .build()
        .unwrap();
    let out = dest.send(&[identify("both@example.com", "New")]).await;
    let results = &out[0].results;
    assert_eq!(results.len(), 2, "{out:?}");
    assert!(
        results.iter().all(|r| r.status == OutcomeStatus::Updated),
        "{out:?}"
    );
    assert_eq!(results[0].record_id.as_deref(), Some(lead.as_str()));
    assert_eq!(results[1].record_id.as_deref(), Some(contact.as_str()));
}
