//! Bulk and REST writes of one record key in one batch follow event order (issue 12, gap 5):
//! a REST update by `Id`, a Bulk update of the same id, and a REST update after it; and REST
//! writes of a key before its Bulk row, which the row waits for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_destination::{Destination, OutcomeStatus};
use sfdc_emulator::Emulator;
use support::*;

fn bulk_update(id: &str, name: &str) -> Value {
    json!({"type": "identify", "userId": "u",
           "traits": {"sf_id": id, "last_name": name, "company": "Acme"}})
}

/// REST renames by `Id` (`track Rename`) and Bulk updates by record id (`identify`) of Leads.
fn rename_and_bulk_update(emu: &Emulator) -> Destination {
    destination(
        emu,
        vec![
            sub(LEAD_RENAME_BY_ID),
            sub(r#"
                action = "lead"
                operation = "update"
                trigger = 'type = "identify"'
                [bulk]
                enabled = true
                update_record_id = { "@path" = "$.traits.sf_id" }
            "#),
        ],
    )
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
    let dest = rename_and_bulk_update(&emu);
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

#[tokio::test]
async fn a_bulk_row_after_rest_writes_of_its_key_lands_last() {
    // With latency every call costs the same: the eight REST renames of X (a describe, then
    // one write per step, since they share X's key) take nine calls, while the Bulk job would
    // have committed its row by its third (create, upload, close) had it not waited for them.
    let emu = emulator_with_latency(10).await;
    let x = emu
        .insert_record("Lead", json!({"LastName": "Old", "Company": "Acme"}))
        .unwrap();
    let dest = rename_and_bulk_update(&emu);
    let mut events: Vec<Value> = (0..8).map(|i| rename(&x, &format!("R{i}"))).collect();
    events.push(bulk_update(&x, "B"));
    let out = dest.send(&events).await;
    let statuses: Vec<OutcomeStatus> = out.iter().map(|o| only(o).status).collect();
    assert_eq!(statuses, [OutcomeStatus::Updated; 9], "{out:#?}");
    // The Bulk row is the last event of X: its value is the one left.
    assert_eq!(emu.record("Lead", &x).unwrap()["LastName"], "B");
    let jobs = emu.bulk_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].number_records_processed, 1);
    // One describe, then each rename its own write (one step per rename of the one key).
    let c = calls(&emu);
    assert_eq!(c["describe"], 1, "{c:?}");
    let writes = ["composite", "collections"].map(|k| c.get(k).copied().unwrap_or(0));
    assert_eq!(writes.iter().sum::<u64>(), 8, "{c:?}");
}
