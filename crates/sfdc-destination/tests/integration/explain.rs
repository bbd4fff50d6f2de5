//! `explain`: the calls a batch would take, planned without any server or I/O.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::{BULK_INGEST_CALLS, Destination, ExecutorSettings};
use support::*;

fn emails(n: usize, tag: &str) -> Vec<Value> {
    (0..n)
        .map(|i| identify(&format!("{tag}{i}@example.com"), "X"))
        .collect()
}

#[test]
fn thousand_upserts_by_email_plan_the_describe_with_the_lookup_and_one_composite_write() {
    let planner = Destination::builder().subscription(sub(LEAD_UPSERT_BY_EMAIL));
    let plan = planner.explain(&emails(1000, "e")).unwrap();
    let kinds: Vec<&str> = plan.calls.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(kinds, ["composite", "composite"]);
    assert_eq!(plan.api_calls, 2);
    assert_eq!((plan.events, plan.operations), (1000, 1000));
    // The describe and the lookup in one call, as a fresh destination sends them.
    let reads = &plan.calls[0];
    assert_eq!(reads.records, 1000);
    assert!(reads.depends_on.is_empty());
    let subs: Vec<(&str, &str, usize)> = reads
        .subrequests
        .iter()
        .map(|s| (s.kind.as_str(), s.object.as_str(), s.records))
        .collect();
    assert_eq!(subs, [("describe", "Lead", 0), ("query", "Lead", 1000)]);
    let soql = reads.subrequests[1].soql.as_deref().unwrap();
    assert!(soql.starts_with("SELECT Id, Email FROM Lead WHERE Email IN ('e0@example.com',"));
    let write = &plan.calls[1];
    assert_eq!(write.depends_on, [0]);
    assert_eq!(write.subrequests.len(), 5);
    assert!(
        write
            .subrequests
            .iter()
            .all(|s| s.kind == "update_or_create" && s.records == 200)
    );
    let text = plan.to_string();
    assert!(
        text.ends_with("1000 events, 1000 operations: 2 calls, ~2 API calls"),
        "{text}"
    );
    assert!(text.contains("    describe Lead 0 records\n"), "{text}");
    assert!(text.contains("(assumed: no describe was read"));
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["calls"][1]["subrequests"][0]["object"], "Lead");
}

#[test]
fn without_composite_lookups_are_uri_bound_and_writes_plain() {
    let planner = Destination::builder()
        .subscription(sub(LEAD_UPSERT_BY_EMAIL))
        .executor(ExecutorSettings::default().with_composite(false));
    let plan = planner.explain(&emails(1000, "e")).unwrap();
    let queries = plan.calls.iter().filter(|c| c.kind == "query").count();
    assert!((2..=4).contains(&queries), "{queries}");
    let writes: Vec<_> = plan
        .calls
        .iter()
        .filter(|c| c.kind == "collections")
        .collect();
    assert_eq!(writes.len(), 5);
    // Every write waits for every lookup of its round.
    assert!(writes.iter().all(|w| w.depends_on.len() == queries));
    assert_eq!(plan.api_calls, 1 + queries as u64 + 5);
}

#[test]
fn pack_writes_off_keeps_lookups_packed_and_sends_each_write_chunk_plain() {
    let planner = Destination::builder()
        .subscription(sub(LEAD_UPSERT_BY_EMAIL))
        .executor(ExecutorSettings::default().with_pack_writes(false));
    let plan = planner.explain(&emails(1000, "e")).unwrap();
    let kinds: Vec<&str> = plan.calls.iter().map(|c| c.kind.as_str()).collect();
    // The describe and the 1,000-value lookup are still one Composite call (no URI bound
    // inside Composite); the writes are 5 plain Collections calls of 200 instead of 1 Composite.
    assert_eq!(
        kinds,
        [
            "composite",
            "collections",
            "collections",
            "collections",
            "collections",
            "collections"
        ]
    );
    assert_eq!(plan.calls[0].records, 1000);
    assert!(
        plan.calls[1..]
            .iter()
            .all(|w| w.records == 200 && w.depends_on == [0])
    );
    assert_eq!(plan.api_calls, 6);
}

#[test]
fn operations_on_one_key_go_in_successive_rounds() {
    let planner = Destination::builder()
        .subscription(sub(&format!(
            "{LEAD_UPSERT_BY_EMAIL}\ntrigger = 'type = \"identify\"'"
        )))
        .subscription(sub(r#"
            action = "lead"
            operation = "delete"
            trigger = 'type = "track"'
            record_matchers = { Email = { "@path" = "$.properties.email" } }
        "#));
    let events = vec![
        identify("a@example.com", "A"),
        json!({"type": "track", "event": "Forget", "properties": {"email": "A@EXAMPLE.COM"}}),
        identify("b@example.com", "B"),
    ];
    let plan = planner.explain(&events).unwrap();
    let rounds: Vec<(String, Option<String>, Option<usize>, usize)> = plan
        .calls
        .iter()
        .map(|c| (c.kind.clone(), c.operation.clone(), c.round, c.records))
        .collect();
    assert_eq!(
        rounds,
        [
            // The describe and the round-0 lookup in one call.
            ("composite".into(), None, Some(0), 2),
            (
                "collections".into(),
                Some("update_or_create".into()),
                Some(0),
                2
            ),
            // The delete reuses the id the round-0 write returns: no second lookup.
            ("collections".into(), Some("delete".into()), Some(1), 1),
        ]
    );
}

#[test]
fn creates_pack_and_bulk_ingests_run_alongside() {
    let planner = Destination::builder()
        .subscription(sub(r#"action = "lead""#))
        .subscription(sub(r#"
            action = "contact"
            trigger = 'type = "identify"'
            [bulk]
            enabled = true
            batch_size = 400
        "#));
    let plan = planner.explain(&emails(1000, "c")).unwrap();
    let kinds: Vec<&str> = plan.calls.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "describe",
            "composite",
            "bulk_ingest",
            "bulk_ingest",
            "bulk_ingest"
        ]
    );
    let bulk: Vec<_> = plan
        .calls
        .iter()
        .filter(|c| c.kind == "bulk_ingest")
        .collect();
    assert_eq!(
        bulk.iter().map(|c| c.records).collect::<Vec<_>>(),
        [400, 400, 200]
    );
    assert!(bulk.iter().all(|c| c.depends_on.is_empty()));
    assert_eq!(plan.api_calls, 2 + 3 * BULK_INGEST_CALLS);
}

#[tokio::test]
async fn a_destinations_explain_makes_no_api_call() {
    let emu = emulator().await;
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let plan = dest.explain(&emails(10, "n"));
    // The describe with the lookup, then one Collections write.
    assert_eq!(plan.api_calls, 2);
    assert_eq!(emu.api_calls(), 0);
    assert_eq!(dest.api_calls(), 0);
}

#[test]
fn an_upsert_by_one_custom_field_is_planned_as_by_external_id_without_lookup() {
    let planner = Destination::builder().subscription(sub(r#"
        action = "contact"
        trigger = 'type = "identify"'
        operation = "upsert"
        record_matchers = { Ext_Id__c = { "@path" = "$.userId" } }
    "#));
    let plan = planner.explain(&emails(1000, "x")).unwrap();
    let calls: Vec<(&str, Option<&str>)> = plan
        .calls
        .iter()
        .map(|c| (c.kind.as_str(), c.operation.as_deref()))
        .collect();
    // As the executor sends it (`executor::upsert_by_external_id_…`): the describe, then the
    // 5 upserts of 200 in one Composite call.
    assert_eq!(calls, [("describe", None), ("composite", None)], "{plan}");
    assert!(
        plan.calls[1]
            .subrequests
            .iter()
            .all(|s| s.kind == "upsert" && s.records == 200)
    );
    assert_eq!(plan.api_calls, 2);
}
