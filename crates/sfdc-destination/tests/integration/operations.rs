//! Every operation of every action against the emulator, and per-event outcome mapping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::{EventStatus, OutcomeStatus};
use sfdc_emulator::{FieldDef, FieldType, ObjectDef};
use support::*;

#[tokio::test]
async fn lead_upsert_by_email_creates_then_updates() {
    let emu = emulator().await;
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let out = dest.send(&[identify("ada@example.com", "Lovelace")]).await;
    let r = only(&out[0]);
    assert_eq!((r.status, r.http_status), (OutcomeStatus::Created, 201));
    assert_eq!(out[0].message_id.as_deref(), Some("m-ada@example.com"));
    let id = r.record_id.clone().unwrap();

    let out = dest.send(&[identify("ADA@example.com", "King")]).await;
    let r = only(&out[0]);
    assert_eq!((r.status, r.http_status), (OutcomeStatus::Updated, 200));
    assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["LastName"], "King");
}

#[tokio::test]
async fn same_matcher_twice_in_one_batch_creates_once_then_updates() {
    let emu = emulator().await;
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let out = dest
        .send(&[
            identify("dup@example.com", "First"),
            identify("other@example.com", "Other"),
            identify("dup@example.com", "Second"),
        ])
        .await;
    let statuses: Vec<_> = out.iter().map(|o| only(o).status).collect();
    assert_eq!(
        statuses,
        [
            OutcomeStatus::Created,
            OutcomeStatus::Created,
            OutcomeStatus::Updated
        ]
    );
    assert_eq!(only(&out[0]).record_id, only(&out[2]).record_id);
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 2);
    let dup = leads
        .iter()
        .find(|l| l["Email"] == "dup@example.com")
        .unwrap();
    assert_eq!(dup["LastName"], "Second");
    // One lookup, with the describe in one Composite call: the repeat reuses the id created
    // in the first round; then create, update.
    assert_eq!(
        calls(&emu),
        [("collections".to_owned(), 2), ("composite".to_owned(), 1)].into()
    );
}

#[tokio::test]
async fn account_on_group_create_update_delete_by_account_number() {
    let emu = emulator().await;
    let group = |name: &str| json!({"type": "group", "groupId": "G-1", "traits": {"name": name, "employees": "42"}});
    let create = destination_for(&emu, r#"action = "account""#);
    let out = create.send(&[group("Acme")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    let accounts = emu.records("Account");
    assert_eq!(accounts[0]["AccountNumber"], "G-1");
    assert_eq!(accounts[0]["NumberOfEmployees"], 42);

    let update = destination_for(
        &emu,
        r#"
            action = "account"
            operation = "update"
            record_matchers = { AccountNumber = { "@path" = "$.groupId" } }
        "#,
    );
    let out = update.send(&[group("Acme Corp")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated);
    assert_eq!(emu.records("Account")[0]["Name"], "Acme Corp");

    let delete = destination_for(
        &emu,
        r#"
            action = "account"
            operation = "delete"
            record_matchers = { AccountNumber = { "@path" = "$.groupId" } }
        "#,
    );
    let out = delete.send(&[group("ignored")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Deleted);
    assert!(emu.records("Account").is_empty());
}

#[tokio::test]
async fn contact_create_carries_account_id() {
    let emu = emulator().await;
    let account_id = emu
        .insert_record("Account", json!({"Name": "Acme"}))
        .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "contact"
            trigger = 'type = "track" and event = "Signed Up"'
            fields = { account_id = { "@path" = "$.properties.account_id" } }
        "#,
    );
    let event = json!({"type": "track", "event": "Signed Up", "properties": {
        "last_name": "Doe", "email": "doe@example.com", "account_id": account_id}});
    let out = dest.send(&[event]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    let contacts = emu.records("Contact");
    assert_eq!(contacts[0]["AccountId"], account_id.as_str());
    assert_eq!(contacts[0]["LastName"], "Doe");
}

#[tokio::test]
async fn case_create_then_update_and_delete_by_id_without_lookups() {
    let emu = emulator().await;
    let create = destination_for(
        &emu,
        r#"
            action = "case"
            trigger = 'type = "track"'
            other_fields = { Subject = { "@path" = "$.properties.subject" } }
        "#,
    );
    let out = create
        .send(&[json!({"type": "track", "event": "Ticket", "properties": {"subject": "Broken", "description": "it broke"}})])
        .await;
    let id = only(&out[0]).record_id.clone().unwrap();
    assert_eq!(emu.records("Case")[0]["Subject"], "Broken");

    let update = destination_for(
        &emu,
        r#"
            action = "case"
            trigger = 'type = "track"'
            operation = "update"
            record_matchers = { Id = { "@path" = "$.properties.case_id" } }
            other_fields = { Status = "Closed" }
        "#,
    );
    let before = emu.api_call_counts();
    let out = update
        .send(&[json!({"type": "track", "properties": {"case_id": id}})])
        .await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated);
    assert_eq!(emu.records("Case")[0]["Status"], "Closed");
    // By Id: no query, one Collections call (and the describe pre-flight reads once per
    // object per destination lifetime).
    assert_eq!(
        calls_since(&emu, &before),
        [("collections".to_owned(), 1), ("describe".to_owned(), 1)].into()
    );

    let delete = destination_for(
        &emu,
        r#"
            action = "case"
            trigger = 'type = "track"'
            operation = "delete"
            record_matchers = { Id = { "@path" = "$.properties.case_id" } }
        "#,
    );
    let out = delete
        .send(&[json!({"type": "track", "properties": {"case_id": id}})])
        .await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Deleted);
    assert!(emu.records("Case").is_empty());
}

#[tokio::test]
async fn opportunity_create_and_update_by_name() {
    let emu = emulator().await;
    let dest = destination(
        &emu,
        vec![
            sub(r#"
                action = "opportunity"
                trigger = 'type = "track" and event = "Deal Opened"'
            "#),
            sub(r#"
                action = "opportunity"
                trigger = 'type = "track" and event = "Deal Won"'
                operation = "update"
                record_matchers = { Name = { "@path" = "$.properties.name" } }
                fields = { name = { "@path" = "$.properties.name" }, stage_name = "Closed Won" }
            "#),
        ],
    );
    let opened = json!({"type": "track", "event": "Deal Opened", "properties": {
        "name": "Big deal", "stage_name": "Prospecting", "close_date": "2026-12-31", "amount": 1200.5}});
    let won = json!({"type": "track", "event": "Deal Won", "properties": {"name": "big DEAL"}});
    let out = dest.send(&[opened]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    let out = dest.send(&[won]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated);
    let opps = emu.records("Opportunity");
    assert_eq!(opps[0]["StageName"], "Closed Won");
    assert_eq!(opps[0]["CloseDate"], "2026-12-31");
}

#[tokio::test]
async fn custom_object_upsert_by_external_id_uses_no_lookup() {
    let emu = emulator().await;
    emu.add_object(
        ObjectDef::new("Invoice__c")
            .field(
                FieldDef::new("Invoice_Number__c", FieldType::String)
                    .length(40)
                    .external_id()
                    .unique(),
            )
            .field(FieldDef::new("Total__c", FieldType::Double)),
    )
    .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "custom_object"
            trigger = 'type = "track" and event = "Invoice Paid"'
            operation = "upsert"
            fields = { object = "Invoice__c" }
            record_matchers = { Invoice_Number__c = { "@path" = "$.properties.number" } }
            other_fields = { Total__c = { "@path" = "$.properties.total" }, Name = { "@path" = "$.properties.number" } }
        "#,
    );
    let paid = |n: &str, total: f64| json!({"type": "track", "event": "Invoice Paid", "properties": {"number": n, "total": total}});
    let before = emu.api_call_counts();
    let out = dest.send(&[paid("INV-1", 10.0), paid("INV-2", 20.0)]).await;
    assert!(out.iter().all(|o| only(o).status == OutcomeStatus::Created));
    let out = dest.send(&[paid("INV-1", 11.0)]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated);
    // One describe (cached afterwards), one upsert_many per batch, never a query.
    assert_eq!(
        calls_since(&emu, &before),
        [("collections".to_owned(), 2), ("describe".to_owned(), 1)].into()
    );
    let invoices = emu.records("Invoice__c");
    assert_eq!(invoices.len(), 2);
    let inv1 = invoices
        .iter()
        .find(|r| r["Invoice_Number__c"] == "INV-1")
        .unwrap();
    assert_eq!(inv1["Total__c"], 11.0);
}

#[tokio::test]
async fn update_and_delete_of_missing_records_fail_with_404() {
    let emu = emulator().await;
    let dest = destination(
        &emu,
        vec![
            sub(r#"
                action = "lead"
                operation = "update"
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
            sub(r#"
                action = "contact"
                trigger = 'type = "identify"'
                operation = "delete"
                record_matchers = { Email = { "@path" = "$.traits.email" } }
            "#),
        ],
    );
    let out = dest.send(&[identify("nobody@example.com", "X")]).await;
    assert_eq!(out[0].status, EventStatus::Failed);
    assert_eq!(out[0].results.len(), 2);
    for r in &out[0].results {
        assert_eq!(r.status, OutcomeStatus::Failed);
        assert_eq!(r.http_status, 404);
        assert_eq!(r.error_code.as_ref().map(|c| c.as_str()), Some("NOT_FOUND"));
        assert!(!r.retryable);
    }
    assert!(!out[0].is_retryable());
}

#[tokio::test]
async fn several_matches_are_300_and_not_retried() {
    let emu = emulator().await;
    for _ in 0..2 {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Twin", "Company": "A", "Email": "twin@example.com"}),
        )
        .unwrap();
    }
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let out = dest.send(&[identify("twin@example.com", "Twin")]).await;
    let r = only(&out[0]);
    assert_eq!((r.status, r.http_status), (OutcomeStatus::Failed, 300));
    assert_eq!(
        r.error_code.as_ref().map(|c| c.as_str()),
        Some("MULTIPLE_MATCHES")
    );
    assert!(!r.retryable);
    assert_eq!(emu.records("Lead").len(), 2, "nothing written");
}

#[tokio::test]
async fn one_bad_event_fails_alone() {
    let emu = emulator().await;
    let dest = destination_for(&emu, r#"action = "lead""#);
    let mut events: Vec<_> = (0..5)
        .map(|i| identify(&format!("u{i}@example.com"), "Good"))
        .collect();
    events[2] = json!({"type": "identify", "traits": {"email": "nolastname@example.com", "company": "Acme"}});
    // Company missing: planned fine, rejected by Salesforce per record.
    events[4] = json!({"type": "identify", "traits": {"last_name": "NoCompany"}});
    let out = dest.send(&events).await;
    let statuses: Vec<_> = out.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            EventStatus::Succeeded,
            EventStatus::Succeeded,
            EventStatus::Failed,
            EventStatus::Succeeded,
            EventStatus::Failed
        ]
    );
    let planning = only(&out[2]);
    assert_eq!(
        (
            planning.http_status,
            planning.error_code.as_ref().map(|c| c.as_str())
        ),
        (400, Some("INVALID_EVENT"))
    );
    assert!(planning.message.as_deref().unwrap().contains("LastName"));
    assert!(!planning.retryable);
    let rejected = only(&out[4]);
    assert_eq!(
        rejected.error_code.as_ref().map(|c| c.as_str()),
        Some("REQUIRED_FIELD_MISSING")
    );
    assert!(!rejected.retryable);
    assert_eq!(emu.records("Lead").len(), 3);
}

#[tokio::test]
async fn events_no_subscription_triggers_are_skipped() {
    let emu = emulator().await;
    let dest = destination_for(&emu, r#"action = "lead""#);
    let out = dest
        .send(&[
            json!({"type": "page", "name": "Home"}),
            json!({"type": "track", "event": "Clicked"}),
        ])
        .await;
    assert!(
        out.iter()
            .all(|o| o.status == EventStatus::Skipped && o.results.is_empty())
    );
    assert_eq!(emu.api_calls(), 0);
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["status"], "skipped");
}

#[tokio::test]
async fn a_failing_group_does_not_stop_the_others() {
    let emu = emulator().await;
    let dest = destination(
        &emu,
        vec![
            sub(r#"
                action = "custom_object"
                trigger = 'type = "identify"'
                fields = { object = "Missing__c" }
                other_fields = { Name = "x" }
            "#),
            sub(r#"action = "lead""#),
        ],
    );
    let out = dest.send(&[identify("a@example.com", "A")]).await;
    let [missing, lead] = out[0].results.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(missing.status, OutcomeStatus::Failed);
    assert!(
        missing.http_status >= 400 && missing.http_status < 500,
        "{missing:?}"
    );
    assert!(!missing.retryable);
    assert_eq!(lead.status, OutcomeStatus::Created);
    assert_eq!(emu.records("Lead").len(), 1);
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["results"][1]["status"], "created");
    assert_eq!(json["results"][1]["action"], "lead");
}

#[tokio::test]
async fn typed_events_are_sent_too() {
    let emu = emulator().await;
    let dest = destination_for(&emu, r#"action = "lead""#);
    let event = sfdc_actions::Event::from_value(identify("t@example.com", "Typed")).unwrap();
    let out = dest.send_events(&[event]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
}

#[tokio::test]
async fn a_throttled_request_fails_its_events_as_retryable() {
    let mut config = sfdc_emulator::EmulatorConfig::default();
    config.daily_api_limit = 2;
    let emu = sfdc_emulator::Emulator::start(config).await.unwrap();
    let dest = destination_for(&emu, r#"action = "lead""#);
    // The describe (pre-flight, once per object) and the first Collections call use the whole
    // allocation; the second Collections call is refused.
    let first = dest.send(&[identify("a@example.com", "A")]).await;
    assert_eq!(only(&first[0]).status, OutcomeStatus::Created);
    let events: Vec<_> = (0..3)
        .map(|i| identify(&format!("t{i}@example.com"), "T"))
        .collect();
    let out = dest.send(&events).await;
    for o in &out {
        let r = only(o);
        assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
        assert_eq!(
            r.error_code.as_ref().map(|c| c.as_str()),
            Some("REQUEST_LIMIT_EXCEEDED")
        );
        assert_eq!(r.http_status, 403);
        assert!(r.retryable);
        assert!(o.is_retryable());
    }
    assert_eq!(emu.records("Lead").len(), 1);
}
