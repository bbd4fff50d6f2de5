//! Bulk API 2.0 for every operation: insert (create) and delete, by record id or by record
//! matchers resolved first, with one outcome per event including failed rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::OutcomeStatus;
use support::*;

fn lead(i: usize) -> serde_json::Value {
    json!({"LastName": format!("L{i}"), "Company": "Acme", "Email": format!("l{i}@example.com")})
}

#[tokio::test]
async fn bulk_insert_creates_each_record_and_reports_a_failed_row() {
    let emu = emulator().await;
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            [bulk]
            enabled = true
        "#,
    );
    let events = [
        json!({"type": "identify", "traits": {"last_name": "Ada", "company": "Engines"}}),
        // No Company: Salesforce rejects this row only.
        json!({"type": "identify", "traits": {"last_name": "NoCompany"}}),
        json!({"type": "identify", "traits": {"last_name": "Grace", "company": "Navy"}}),
    ];
    let out = dest.send(&events).await;
    for i in [0, 2] {
        let r = only(&out[i]);
        assert_eq!(
            (r.status, r.http_status),
            (OutcomeStatus::Created, 201),
            "{r:?}"
        );
        let id = r.record_id.as_deref().unwrap();
        assert_eq!(
            emu.record("Lead", id).unwrap()["LastName"],
            events[i]["traits"]["last_name"]
        );
    }
    let failed = only(&out[1]);
    assert_eq!(failed.status, OutcomeStatus::Failed);
    assert_eq!(
        failed.error_code.as_ref().map(|c| c.as_str()),
        Some("REQUIRED_FIELD_MISSING")
    );
    assert!(!failed.retryable);
    assert_eq!(emu.records("Lead").len(), 2);
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].operation, "insert");
    assert_eq!(
        (
            jobs[0].number_records_processed,
            jobs[0].number_records_failed
        ),
        (3, 1)
    );
    let counts = calls(&emu);
    assert!(!counts.contains_key("collections"), "{counts:?}");
    assert!(!counts.contains_key("query"), "{counts:?}");
    assert!(!counts.contains_key("describe"), "{counts:?}");
}

#[tokio::test]
async fn bulk_delete_by_record_id_reports_unknown_and_missing_ids_as_failed_rows() {
    let emu = emulator().await;
    let ids: Vec<String> = (0..2)
        .map(|i| emu.insert_record("Lead", lead(i)).unwrap())
        .collect();
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            operation = "delete"
            [bulk]
            enabled = true
            delete_record_id = { "@path" = "$.traits.sf_id" }
        "#,
    );
    let event = |id: Option<&str>| json!({"type": "identify", "traits": {"sf_id": id}});
    let out = dest
        .send(&[
            event(Some(&ids[0])),
            event(Some("00Q000000000099AAA")),
            event(None),
            event(Some(&ids[1])),
        ])
        .await;
    for (i, id) in [(0, &ids[0]), (3, &ids[1])] {
        let r = only(&out[i]);
        assert_eq!(
            (r.status, r.http_status),
            (OutcomeStatus::Deleted, 200),
            "{r:?}"
        );
        assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    }
    for i in [1, 2] {
        let r = only(&out[i]);
        assert_eq!(r.status, OutcomeStatus::Failed, "{r:?}");
        assert!(r.error_code.is_some());
        assert!(!r.retryable);
    }
    assert!(emu.records("Lead").is_empty());
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].operation, "delete");
    assert_eq!(
        (
            jobs[0].number_records_processed,
            jobs[0].number_records_failed
        ),
        (4, 2)
    );
    let counts = calls(&emu);
    assert!(!counts.contains_key("query"), "{counts:?}");
    assert!(!counts.contains_key("describe"), "{counts:?}");
}

#[tokio::test]
async fn bulk_delete_by_matchers_resolves_the_records_first() {
    let emu = emulator().await;
    let ids: Vec<String> = (0..3)
        .map(|i| emu.insert_record("Lead", lead(i)).unwrap())
        .collect();
    emu.insert_record(
        "Lead",
        json!({"LastName": "Twin1", "Company": "A", "Email": "twin@example.com"}),
    )
    .unwrap();
    emu.insert_record(
        "Lead",
        json!({"LastName": "Twin2", "Company": "A", "Email": "twin@example.com"}),
    )
    .unwrap();
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            operation = "delete"
            record_matchers = { Email = { "@path" = "$.traits.email" } }
            [bulk]
            enabled = true
        "#,
    );
    let event = |email: &str| json!({"type": "identify", "traits": {"email": email}});
    let out = dest
        .send(&[
            event("l0@example.com"),
            event("nobody@example.com"),
            event("L2@example.com"),
            event("twin@example.com"),
        ])
        .await;
    for (i, id) in [(0, &ids[0]), (2, &ids[2])] {
        let r = only(&out[i]);
        assert_eq!(r.status, OutcomeStatus::Deleted, "{r:?}");
        assert_eq!(r.record_id.as_deref(), Some(id.as_str()));
    }
    let none = only(&out[1]);
    assert_eq!(
        (
            none.status,
            none.http_status,
            none.error_code.as_ref().map(|c| c.as_str())
        ),
        (OutcomeStatus::Failed, 404, Some("NOT_FOUND"))
    );
    let twins = only(&out[3]);
    assert_eq!(
        (
            twins.http_status,
            twins.error_code.as_ref().map(|c| c.as_str())
        ),
        (300, Some("MULTIPLE_MATCHES"))
    );
    let left: Vec<_> = emu
        .records("Lead")
        .into_iter()
        .map(|l| l["Id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left.len(), 3);
    assert!(left.contains(&ids[1]));
    // One describe and one batched query find the records; one bulk job deletes the two found.
    let counts = calls(&emu);
    assert_eq!(counts.get("describe"), Some(&1));
    assert_eq!(counts.get("query"), Some(&1));
    assert!(!counts.contains_key("collections"), "{counts:?}");
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].operation.as_str(), jobs[0].number_records_processed),
        ("delete", 2)
    );
}

#[tokio::test]
async fn bulk_insert_checks_other_fields_object_keys_before_the_job() {
    let emu = emulator().await;
    let dest = destination_for(
        &emu,
        r#"
            action = "lead"
            trigger = 'type = "track"'
            other_fields = { "@path" = "$.properties.salesforce" }
            [bulk]
            enabled = true
        "#,
    );
    let event = |sf: serde_json::Value| json!({"type": "track", "properties": {"last_name": "Doe", "company": "Acme", "salesforce": sf}});
    let out = dest
        .send(&[
            event(json!({"Rating": "Hot"})),
            event(json!({"IsConverted": true})),
        ])
        .await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created, "{out:?}");
    let refused = only(&out[1]);
    assert_eq!(
        refused.error_code.as_ref().map(|c| c.as_str()),
        Some("INVALID_OTHER_FIELD")
    );
    assert!(
        refused
            .message
            .as_deref()
            .unwrap()
            .ends_with("Lead.IsConverted is not createable"),
        "{refused:?}"
    );
    // The refused event never reached the job.
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs[0].number_records_processed, 1);
    assert_eq!(emu.records("Lead")[0]["Rating"], "Hot");
}
