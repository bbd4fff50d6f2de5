//! Record matcher values: a missing or null value never becomes a lookup unless the subscription
//! opts in with `match_empty_values`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::OutcomeStatus;
use support::*;

#[tokio::test]
async fn a_missing_or_null_matcher_fails_the_event_and_makes_no_lookup() {
    let emu = emulator().await;
    // The one Lead without e-mail, which a `Email = null` lookup would find and overwrite.
    let id = emu
        .insert_record("Lead", json!({"LastName": "NoMail", "Company": "Acme"}))
        .unwrap();
    let dest = destination_for(&emu, LEAD_UPSERT_BY_EMAIL);
    let before = calls(&emu);
    let out = dest
        .send(&[
            json!({"type": "identify", "traits": {"last_name": "Null", "email": null}}),
            json!({"type": "identify", "traits": {"last_name": "Missing"}}),
        ])
        .await;
    for o in &out {
        let r = only(o);
        assert_eq!(r.status, OutcomeStatus::Failed);
        assert_eq!(r.http_status, 400);
        assert_eq!(
            r.error_code.as_ref().map(|c| c.as_str()),
            Some("INVALID_RECORD_MATCHER")
        );
        assert!(
            r.message
                .as_deref()
                .unwrap()
                .contains("record matcher Email has no value")
        );
        assert!(!r.retryable);
    }
    // No describe, no query, no write.
    assert!(
        calls_since(&emu, &before).is_empty(),
        "{:?}",
        calls_since(&emu, &before)
    );
    assert_eq!(emu.records("Lead").len(), 1);
    assert_eq!(emu.record("Lead", &id).unwrap()["LastName"], "NoMail");
}

#[tokio::test]
async fn match_empty_values_looks_up_records_with_an_empty_field() {
    let emu = emulator().await;
    let id = emu
        .insert_record("Lead", json!({"LastName": "NoMail", "Company": "Acme"}))
        .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            operation = "update"
            match_empty_values = true
            record_matchers = { Email = { "@path" = "$.traits.email" } }
        "#,
    );
    let out = dest
        .send(&[json!({"type": "identify", "traits": {"last_name": "Found", "email": null}})])
        .await;
    let r = only(&out[0]);
    assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
    assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    assert_eq!(emu.record("Lead", &id).unwrap()["LastName"], "Found");
    // The lookup (`Email = null`) travelled with the describe: one Composite call, no query.
    let c = calls(&emu);
    assert_eq!(c.get("composite"), Some(&1), "{c:?}");
    assert_eq!(c.get("query"), None, "{c:?}");
}

#[tokio::test]
async fn a_matcher_on_a_field_describe_marks_unfilterable_fails_before_any_write() {
    let emu = emulator().await;
    emu.insert_record(
        "Lead",
        json!({"LastName": "Doe", "Company": "Acme", "Description": "vip"}),
    )
    .unwrap();
    // Lead.Description is a long text area: type `textarea`, like a filterable short one, but
    // describe says `filterable: false`.
    for operation in ["update", "upsert", "delete"] {
        let dest = destination_for(
            &emu,
            &format!(
                r#"
                    action = "lead"
                    operation = "{operation}"
                    record_matchers = {{ Description = {{ "@path" = "$.traits.description" }} }}
                "#
            ),
        );
        let before = calls(&emu);
        let out = dest
            .send(&[
                json!({"type": "identify", "traits": {"last_name": "A", "description": "vip"}}),
                json!({"type": "identify", "traits": {"last_name": "B", "description": "x"}}),
            ])
            .await;
        for o in &out {
            let r = only(o);
            assert_eq!(r.status, OutcomeStatus::Failed, "{operation}");
            assert_eq!(
                r.error_code.as_ref().map(|c| c.as_str()),
                Some("INVALID_RECORD_MATCHER")
            );
            let message = r.message.as_deref().unwrap();
            assert!(
                message.starts_with("record matcher Description is a textarea (filterable: false in describe) field, which SOQL cannot filter on"),
                "{message}"
            );
        }
        // One call (each destination has its own client and describe cache): the describe,
        // with the lookup's query typed from the values alone. Its answer is not used: the
        // matcher check against describe fails the events (the message above), and nothing
        // is written.
        let made = calls_since(&emu, &before);
        assert_eq!(made, [("composite".to_owned(), 1)].into(), "{operation}");
    }
    assert_eq!(emu.records("Lead").len(), 1);
}
