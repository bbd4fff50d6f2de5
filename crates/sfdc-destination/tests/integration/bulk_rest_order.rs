//! Bulk and REST writes of one record key in one batch follow event order (issue 12, gap 5):
//! a REST update by `Id`, a Bulk update of the same id, and a REST update after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::OutcomeStatus;
use support::*;

fn rename(id: &str, name: &str) -> Value {
    json!({"type": "track", "event": "Rename", "userId": "u",
           "properties": {"lead_id": id, "name": name}})
}

fn bulk_update(id: &str, name: &str) -> Value {
    json!({"type": "identify", "userId": "u",
           "traits": {"sf_id": id, "last_name": name, "company": "Acme"}})
}

#[tokio::test]
async fn a_bulk_row_waits_for_the_earlier_rest_write_of_its_key_and_the_later_one_waits_for_it() {
    let emu = emulator().await;
    let lead = |name: &str| {
        emu.insert_record("Lead", json!({"LastName": name, "Company": "Acme"}))
            .unwrap()
    };
    let x = lead("Old");
    let y = lead("OldY");
    let dest = destination(
        &emu,
        vec![
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "track" and event = "Rename"'
                record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
                other_fields = { LastName = { "@path" = "$.properties.name" } }
            "#),
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "identify"'
                [bulk]
                enabled = true
                update_record_id = { "@path" = "$.traits.sf_id" }
            "#),
        ],
    );
    let events = vec![
        rename(&x, "R1"),
        bulk_update(&x, "B2"),
        rename(&x, "R3"),
        rename(&y, "RY"),
    ];
    let out = dest.send(&events).await;
    let statuses: Vec<OutcomeStatus> = out.iter().map(|o| only(o).status).collect();
    assert_eq!(statuses, [OutcomeStatus::Updated; 4], "{out:#?}");
    let last_name = |id: &str| emu.record("Lead", id).unwrap()["LastName"].clone();
    // The REST rename after the Bulk row is the last write of X (the Bulk job, slower than
    // two REST calls, would otherwise land last).
    assert_eq!(last_name(&x), "R3");
    assert_eq!(last_name(&y), "RY");
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].number_records_processed, 1);
}
