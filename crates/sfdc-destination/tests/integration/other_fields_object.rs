//! Other Fields mapped as one object: each key checked against describe at run time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::OutcomeStatus;
use support::*;

const CASE_WITH_OBJECT: &str = r#"
    action = "case"
    trigger = 'type = "track"'
    other_fields = { "@path" = "$.properties.salesforce" }
"#;

fn track(salesforce: Value) -> Value {
    json!({"type": "track", "event": "Ticket", "properties": {"salesforce": salesforce}})
}

#[tokio::test]
async fn valid_keys_are_written_and_each_invalid_key_fails_its_event() {
    let emu = emulator().await;
    let dest = destination_for(&emu, CASE_WITH_OBJECT);
    let events = [
        track(json!({"Subject": "Printer on fire", "priority": "High"})),
        track(json!({"Subject": "x", "Nope__c": "y"})),
        track(json!({"Subject": "x", "attributes": {"type": "Case"}})),
        track(json!({"Subject": "x", "CaseNumber": "42"})),
        track(json!({"Subject": "x", "Account": "001000000000001AAA"})),
        track(json!({"Subject": "x", "Owner": {"Email": "a@b.c"}})),
    ];
    let out = dest.send(&events).await;
    let ok = only(&out[0]);
    assert_eq!(ok.status, OutcomeStatus::Created, "{ok:?}");
    let cases = emu.records("Case");
    assert_eq!(cases.len(), 1, "only the valid event is written");
    assert_eq!(cases[0]["Subject"], "Printer on fire");
    assert_eq!(cases[0]["Priority"], "High");

    let expected = [
        "Other Fields key `Nope__c` cannot be written to Case (create): Case has no field named Nope__c",
        "Other Fields key `attributes` cannot be written to Case (create): `attributes` is record metadata in Salesforce answers, not a field",
        "Other Fields key `CaseNumber` cannot be written to Case (create): Case.CaseNumber is not createable",
        "Other Fields key `Account` cannot be written to Case (create): it is a relationship name",
        "Other Fields key `Owner` cannot be written to Case (create): it is a relationship;",
    ];
    for (o, message) in out[1..].iter().zip(expected) {
        let r = only(o);
        assert_eq!(r.status, OutcomeStatus::Failed);
        assert_eq!(
            (
                r.http_status,
                r.error_code.as_ref().map(|c| c.as_str()),
                r.retryable
            ),
            (400, Some("INVALID_OTHER_FIELD"), false)
        );
        let got = r.message.as_deref().unwrap();
        assert!(got.starts_with(message), "{got}");
    }
    // One describe for the whole batch, one Collections create for the valid event.
    assert_eq!(
        calls(&emu),
        [("collections".to_owned(), 1), ("describe".to_owned(), 1)].into()
    );
}

#[tokio::test]
async fn update_checks_updateable_and_no_object_means_no_describe() {
    let emu = emulator().await;
    let id = emu
        .insert_record("Case", json!({"Subject": "Old"}))
        .unwrap();
    // Pre-flight off: it would read the describe for every batch's object.
    let dest = destination_with(
        &emu,
        sfdc_destination::ExecutorSettings::default().with_preflight(false),
        vec![sub(r#"
            action = "case"
            trigger = 'type = "track"'
            operation = "update"
            record_matchers = { Id = { "@path" = "$.properties.case_id" } }
            other_fields = { "@path" = "$.properties.salesforce" }
        "#)],
    );
    let event =
        |sf: Value| json!({"type": "track", "properties": {"case_id": id, "salesforce": sf}});
    // Without an object in the event there is nothing to check: no describe.
    let out = dest
        .send(&[json!({"type": "track", "properties": {"case_id": id, "description": "d"}})])
        .await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated);
    assert_eq!(calls(&emu), [("collections".to_owned(), 1)].into());

    let out = dest
        .send(&[
            event(json!({"CaseNumber": "9"})),
            event(json!({"Subject": "New"})),
        ])
        .await;
    let r = only(&out[0]);
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .ends_with("Case.CaseNumber is not updateable"),
        "{r:?}"
    );
    assert_eq!(only(&out[1]).status, OutcomeStatus::Updated);
    assert_eq!(emu.record("Case", &id).unwrap()["Subject"], "New");
}
