//! Issue 14 point 8: a Lead subscription's `converted_lead` policy when the Lead it updates has
//! been converted (`CANNOT_UPDATE_CONVERTED_LEAD`), end to end against the emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::{EventStatus, OutcomeStatus};
use sfdc_emulator::{Emulator, LeadConversion};
use support::{calls, calls_since, destination_for, emulator, only};

fn lead_update(policy: Option<&str>) -> String {
    let policy = policy.map_or(String::new(), |p| format!("converted_lead = \"{p}\""));
    format!(
        r#"
            action = "lead"
            operation = "update"
            record_matchers = {{ Email = {{ "@path" = "$.traits.email" }} }}
            {policy}
        "#
    )
}

fn update_event(email: &str, last_name: &str) -> Value {
    json!({
        "type": "identify",
        "messageId": format!("m-{email}"),
        "traits": {"email": email, "last_name": last_name, "first_name": "Ann", "company": "Acme Ltd"}
    })
}

/// Two Leads, both converted, and one live Lead.
async fn org() -> (Emulator, Vec<(String, LeadConversion)>, String) {
    let emu = emulator().await;
    let mut converted = Vec::new();
    for email in ["c1@example.com", "c2@example.com"] {
        let id = emu
            .insert_record(
                "Lead",
                json!({"LastName": "Old", "Company": "Old Co", "Email": email}),
            )
            .unwrap();
        let conversion = emu.convert_lead(&id).unwrap();
        converted.push((id, conversion));
    }
    let live = emu
        .insert_record(
            "Lead",
            json!({"LastName": "Live", "Company": "Live Co", "Email": "live@example.com"}),
        )
        .unwrap();
    (emu, converted, live)
}

fn events() -> Vec<Value> {
    vec![
        update_event("c1@example.com", "New1"),
        update_event("live@example.com", "NewLive"),
        update_event("c2@example.com", "New2"),
    ]
}

fn code(r: &sfdc_destination::ActionOutcome) -> Option<&str> {
    r.error_code.as_ref().map(|c| c.as_str())
}

#[tokio::test]
async fn fail_is_the_default_and_is_not_retryable() {
    for policy in [None, Some("fail")] {
        let (emu, converted, live) = org().await;
        let dest = destination_for(&emu, &lead_update(policy));
        let out = dest.send(&events()).await;
        for i in [0, 2] {
            let r = only(&out[i]);
            assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
            assert_eq!(code(r), Some("CANNOT_UPDATE_CONVERTED_LEAD"));
            assert!(!r.retryable);
            assert!(!out[i].has_retryable_actions());
        }
        assert_eq!(only(&out[1]).status, OutcomeStatus::Updated);
        assert_eq!(emu.record("Lead", &live).unwrap()["LastName"], "NewLive");
        for (_, c) in &converted {
            assert_eq!(
                emu.record("Contact", &c.contact_id).unwrap()["FirstName"],
                Value::Null
            );
        }
        // No extra query for the policy: one call in all before the update, the lookup
        // travelling with the Lead describe.
        let c = calls(&emu);
        assert_eq!(c.get("query"), None, "{c:?}");
        assert_eq!(c.get("composite"), Some(&1), "{c:?}");
    }
}

#[tokio::test]
async fn skip_reports_skipped_with_the_converted_contact() {
    let (emu, converted, _) = org().await;
    let dest = destination_for(&emu, &lead_update(Some("skip")));
    let before = emu.api_call_counts();
    let out = dest.send(&events()).await;
    for (i, (lead, conversion)) in [0, 2].into_iter().zip(&converted) {
        let r = only(&out[i]);
        assert_eq!(r.status, OutcomeStatus::Skipped, "{r:?}");
        assert_eq!(r.record_id.as_deref(), Some(conversion.contact_id.as_str()));
        assert!(!r.retryable);
        assert_eq!(code(r), None);
        let message = r.message.as_deref().unwrap();
        assert!(message.contains("converted"), "{message}");
        assert!(message.contains(lead.as_str()), "{message}");
        assert_eq!(out[i].status, EventStatus::Succeeded);
        assert!(!out[i].has_retryable_actions());
    }
    assert_eq!(only(&out[1]).status, OutcomeStatus::Updated);
    // Nothing was written to the Contacts.
    for (_, c) in &converted {
        assert_eq!(
            emu.record("Contact", &c.contact_id).unwrap()["FirstName"],
            Value::Null
        );
    }
    // One lookup (with the describe, in one Composite call), one update, one query for both
    // Leads' ConvertedContactId.
    let c = calls_since(&emu, &before);
    assert_eq!(c.get("composite"), Some(&1), "{c:?}");
    assert_eq!(c.get("query"), Some(&1), "{c:?}");
    assert_eq!(c.get("collections"), Some(&1), "{c:?}");
}

#[tokio::test]
async fn redirect_updates_the_converted_contacts_with_the_fields_contact_has() {
    let (emu, converted, live) = org().await;
    let dest = destination_for(&emu, &lead_update(Some("redirect")));
    let before = emu.api_call_counts();
    let out = dest.send(&events()).await;
    for (i, (_, conversion)) in [0, 2].into_iter().zip(&converted) {
        let r = only(&out[i]);
        assert_eq!(r.status, OutcomeStatus::Updated, "{r:?}");
        assert_eq!(r.record_id.as_deref(), Some(conversion.contact_id.as_str()));
        assert_eq!(out[i].status, EventStatus::Succeeded);
        let message = r.message.as_deref().unwrap();
        assert!(message.contains("dropped: Company"), "{message}");
        let contact = emu.record("Contact", &conversion.contact_id).unwrap();
        assert_eq!(contact["FirstName"], "Ann");
        assert_eq!(contact["LastName"], if i == 0 { "New1" } else { "New2" });
    }
    assert_eq!(emu.record("Lead", &live).unwrap()["LastName"], "NewLive");
    // The converted Leads are untouched.
    for (lead, _) in &converted {
        assert_eq!(emu.record("Lead", lead).unwrap()["LastName"], "Old");
    }
    // Lead describe with the lookup (one Composite call); the ConvertedContactId query and the
    // Contact describe; the Lead update and one Contact update for both.
    let c = calls_since(&emu, &before);
    assert_eq!(c.get("composite"), Some(&1), "{c:?}");
    assert_eq!(c.get("describe"), Some(&1), "{c:?}");
    assert_eq!(c.get("query"), Some(&1), "{c:?}");
    assert_eq!(c.get("collections"), Some(&2), "{c:?}");
}
