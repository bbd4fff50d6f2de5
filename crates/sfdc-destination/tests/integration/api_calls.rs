//! API calls per event, counted by the emulator and asserted exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::{EventStatus, OutcomeStatus};
use sfdc_emulator::{FieldDef, FieldType};
use sfdc_match::{BatchPlan, Lookup, QueryLimits, Schema};
use support::*;

#[tokio::test]
async fn thousand_lead_creates_take_five_collections_calls_without_composite() {
    let emu = emulator().await;
    let dest = destination_plain(&emu, r#"action = "lead""#);
    let events: Vec<_> = (0..1000)
        .map(|i| identify(&format!("c{i}@example.com"), "Create"))
        .collect();
    let out = dest.send(&events).await;
    assert!(out.iter().all(|o| only(o).status == OutcomeStatus::Created));
    // Pre-flight reads the describe once per object per destination lifetime.
    assert_eq!(
        calls(&emu),
        [("collections".to_owned(), 5), ("describe".to_owned(), 1)].into()
    );
    assert_eq!(dest.api_calls(), 6);
    assert_eq!(emu.records("Lead").len(), 1000);
}

#[tokio::test]
async fn thousand_upserts_by_email_take_one_describe_few_lookups_and_chunked_writes_without_composite()
 {
    let emu = emulator().await;
    // 400 of the 1,000 emails already exist: they are updated, the other 600 created.
    for i in 0..400 {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": format!("u{i}@example.com")}),
        )
        .unwrap();
    }
    let dest = destination_plain(&emu, LEAD_UPSERT_BY_EMAIL);
    let emails: Vec<String> = (0..1000).map(|i| format!("u{i}@example.com")).collect();
    let events: Vec<_> = emails.iter().map(|e| identify(e, "New")).collect();
    let out = dest.send(&events).await;
    let created = out
        .iter()
        .filter(|o| only(o).status == OutcomeStatus::Created)
        .count();
    let updated = out
        .iter()
        .filter(|o| only(o).status == OutcomeStatus::Updated)
        .count();
    assert_eq!((created, updated), (600, 400));

    // The lookups the destination must have run: the same batch plan, typed by describe.
    let schema = Schema::new().field(
        "Email",
        sfdc_match::FieldType::from_salesforce_type("email"),
    );
    let lookups: Vec<Lookup> = emails
        .iter()
        .map(|e| {
            Lookup::builder("Lead")
                .schema(&schema)
                .matcher("Email", json!(e))
                .build()
                .unwrap()
        })
        .collect();
    let queries = BatchPlan::build(&lookups, &QueryLimits::default())
        .unwrap()
        .queries()
        .len() as u64;
    assert!(
        (2..=4).contains(&queries),
        "{queries} lookups for 1,000 emails"
    );
    // Writes: update_many of 400 = 2 calls, create_many of 600 = 3 calls.
    assert_eq!(
        calls(&emu),
        [
            ("collections".to_owned(), 5),
            ("describe".to_owned(), 1),
            ("query".to_owned(), queries)
        ]
        .into()
    );
    assert_eq!(dest.api_calls(), 6 + queries);
    assert_eq!(emu.records("Lead").len(), 1000);
    assert!(emu.records("Lead").iter().all(|l| l["LastName"] == "New"));

    // Describe is cached: a second batch costs lookups and writes only.
    let before = emu.api_call_counts();
    dest.send(&events[..10]).await;
    assert_eq!(
        calls_since(&emu, &before),
        [("collections".to_owned(), 1), ("query".to_owned(), 1)].into()
    );
}

#[tokio::test]
async fn thousand_upserts_by_email_with_composite_take_one_lookup_and_one_packed_write() {
    let emu = emulator().await;
    for i in 0..400 {
        emu.insert_record(
            "Lead",
            json!({"LastName": "Old", "Company": "Acme", "Email": format!("u{i}@example.com")}),
        )
        .unwrap();
    }
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let events: Vec<_> = (0..1000)
        .map(|i| identify(&format!("u{i}@example.com"), "New"))
        .collect();
    let out = dest.send(&events).await;
    assert!(out.iter().all(|o| o.status == EventStatus::Succeeded));
    // The describe and the one query (inside Composite a lookup is bound by SOQL length only)
    // in one Composite call, then 2 updates + 3 creates of 200 in another.
    assert_eq!(calls(&emu), [("composite".to_owned(), 2)].into());
    assert_eq!(dest.api_calls(), 2);
    // Batch sizes: 200 creates are one plain Collections call; 201 are a Composite of two.
    let before = emu.api_call_counts();
    let fresh = |n: usize, tag: &str| -> Vec<_> {
        (0..n)
            .map(|i| identify(&format!("{tag}{i}@example.com"), "N"))
            .collect()
    };
    dest.send(&fresh(200, "s")).await;
    assert_eq!(
        calls_since(&emu, &before),
        [("collections".to_owned(), 1), ("query".to_owned(), 1)].into()
    );
    let before = emu.api_call_counts();
    dest.send(&fresh(201, "t")).await;
    assert_eq!(
        calls_since(&emu, &before),
        [("composite".to_owned(), 1), ("query".to_owned(), 1)].into()
    );
    assert_eq!(emu.records("Lead").len(), 1401);
}

#[tokio::test]
async fn five_hundred_bulk_upserts_get_one_outcome_each() {
    let emu = emulator().await;
    emu.add_field(
        "Lead",
        FieldDef::new("Ext_Id__c", FieldType::String)
            .length(40)
            .external_id()
            .unique(),
    )
    .unwrap();
    emu.insert_record(
        "Lead",
        json!({"LastName": "Old", "Company": "Acme", "Ext_Id__c": "user-7"}),
    )
    .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            operation = "upsert"
            [bulk]
            enabled = true
            batch_size = 1000
            upsert_external_id_name = "Ext_Id__c"
            upsert_external_id_value = { "@path" = "$.userId" }
        "#,
    );
    let mut events: Vec<_> = (0..500)
        .map(|i| {
            json!({"type": "identify", "userId": format!("user-{i}"),
                   "traits": {"last_name": format!("L{i}"), "company": "Acme"}})
        })
        .collect();
    // Planning error (no LastName) and a row Salesforce rejects (no Company).
    events[10] = json!({"type": "identify", "userId": "user-10", "traits": {"company": "Acme"}});
    events[20] =
        json!({"type": "identify", "userId": "user-20", "traits": {"last_name": "NoCompany"}});
    let out = dest.send(&events).await;
    assert_eq!(out.len(), 500);
    assert_eq!(only(&out[7]).status, OutcomeStatus::Updated);
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    assert_eq!(
        only(&out[10]).error_code.as_ref().map(|c| c.as_str()),
        Some("INVALID_EVENT")
    );
    assert_eq!(
        only(&out[20]).error_code.as_ref().map(|c| c.as_str()),
        Some("REQUIRED_FIELD_MISSING")
    );
    let ok = out
        .iter()
        .filter(|o| o.status == EventStatus::Succeeded)
        .count();
    assert_eq!(ok, 498);
    assert_eq!(emu.records("Lead").len(), 498);
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    let counts = emu.api_call_counts();
    assert_eq!(counts.get("collections").copied().unwrap_or(0), 0);
    assert_eq!(counts.get("query").copied().unwrap_or(0), 0);
    // Fixed: create, upload, close, successful + failed + unprocessed results (6 calls);
    // plus the status polls, whose number depends on how long the job takes (poll every 5 ms
    // here). Either way far below one call per event.
    let bulk_calls = counts["bulk_ingest"];
    assert!(bulk_calls >= 7, "{bulk_calls}");
    assert!(bulk_calls < 250, "{bulk_calls} calls for 500 events");
    assert_eq!(dest.api_calls(), emu.api_calls());
}

#[tokio::test]
async fn bulk_update_by_record_id_reports_rows_without_id_as_failed() {
    let emu = emulator().await;
    let ids: Vec<String> = (0..3)
        .map(|i| {
            emu.insert_record(
                "Lead",
                json!({"LastName": format!("Old{i}"), "Company": "Acme"}),
            )
            .unwrap()
        })
        .collect();
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            operation = "update"
            [bulk]
            enabled = true
            batch_size = 2
            update_record_id = { "@path" = "$.traits.sf_id" }
        "#,
    );
    let mut events: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"type": "identify", "traits": {"sf_id": id, "last_name": "Bulked", "company": "Acme"}})
        })
        .collect();
    events.push(json!({"type": "identify", "traits": {"last_name": "NoId", "company": "Acme"}}));
    let out = dest.send(&events).await;
    for (o, id) in out.iter().zip(&ids) {
        let r = only(o);
        assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
        assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    }
    let missing = only(&out[3]);
    assert_eq!(missing.status, OutcomeStatus::Failed, "{missing:?}");
    assert!(!missing.retryable);
    // batch_size 2: two ingests, two jobs.
    assert_eq!(emu.bulk_jobs().len(), 2);
    assert!(
        emu.records("Lead")
            .iter()
            .all(|l| l["LastName"] == "Bulked")
    );
}

#[tokio::test]
async fn clones_share_the_client_and_its_call_counter() {
    let emu = emulator().await;
    let dest = destination_for(&emu, r#"action = "lead""#);
    let clone = dest.clone();
    let task =
        tokio::spawn(async move { clone.send(&[identify("clone@example.com", "Clone")]).await });
    let out = task.await.unwrap();
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    // The clone's calls (describe for pre-flight, the create) are counted by the original:
    // one client behind both.
    assert_eq!(dest.api_calls(), 2);
    assert_eq!(dest.api_calls(), emu.api_calls());
}
