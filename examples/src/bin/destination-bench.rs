//! `cargo run --release -p sfdc-examples --bin destination-bench [-- EVENTS]`
//!
//! Events per second and API calls per event of each execution path of `sfdc-destination`
//! against the embedded emulator (no latency injected): Lead create, upsert by an external
//! id, upsert by Email (lookup; half the records exist), and Bulk API upsert. Each path runs
//! on a fresh emulator, in batches of 1,000 events. Prints a Markdown table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sfdc_bulk::PollConfig;
use sfdc_destination::{Destination, EventStatus, Settings};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};

const BATCH: usize = 1_000;

struct Path {
    name: &'static str,
    subscription: &'static str,
    existing: bool,
}

const PATHS: &[Path] = &[
    Path {
        name: "create (Collections)",
        subscription: r#"action = "lead""#,
        existing: false,
    },
    Path {
        name: "upsert by external id (upsert_many)",
        subscription: r#"
            action = "lead"
            operation = "upsert"
            record_matchers = { Ext_Id__c = { "@path" = "$.userId" } }
        "#,
        existing: true,
    },
    Path {
        name: "upsert by Email (lookup + update/create)",
        subscription: r#"
            action = "lead"
            operation = "upsert"
            record_matchers = { Email = { "@path" = "$.traits.email" } }
        "#,
        existing: true,
    },
    Path {
        name: "bulk upsert by external id (Bulk API 2.0)",
        subscription: r#"
            action = "lead"
            operation = "upsert"
            [subscriptions.bulk]
            enabled = true
            batch_size = 1000
            upsert_external_id_name = "Ext_Id__c"
            upsert_external_id_value = { "@path" = "$.userId" }
        "#,
        existing: true,
    },
];

fn event(i: usize) -> Value {
    json!({"type": "identify", "userId": format!("user-{i}"), "traits": {
        "email": format!("user{i}@example.com"), "last_name": format!("Last{i}"),
        "first_name": "Bench", "company": "Acme"}})
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(5_000);
    println!("| path | events | API calls | calls/event | events/s |");
    println!("|---|---:|---:|---:|---:|");
    for path in PATHS {
        let emu = Emulator::start(EmulatorConfig::default()).await?;
        emu.add_field(
            "Lead",
            FieldDef::new("Ext_Id__c", FieldType::String)
                .length(40)
                .external_id()
                .unique(),
        )?;
        if path.existing {
            // Half of the users already exist, so upserts both update and create.
            for i in (0..n).step_by(2) {
                emu.insert_record(
                    "Lead",
                    json!({"LastName": "Old", "Company": "Acme", "Email": format!("user{i}@example.com"),
                           "Ext_Id__c": format!("user-{i}")}),
                )?;
            }
        }
        let mut settings = Settings::from_toml_str(&format!(
            "instance_url = \"{}\"\nallow_insecure_loopback = true\n[auth]\ntype = \"access_token\"\naccess_token = \"{}\"\n[[subscriptions]]\n{}",
            emu.instance_url(),
            emu.access_token(),
            path.subscription
        ))?;
        settings.api_version = None;
        let destination = Destination::builder()
            .settings(settings)
            .bulk_poll(PollConfig::fixed(
                Duration::from_millis(10),
                Duration::from_secs(300),
            ))
            .connect()
            .await?;
        let events: Vec<Value> = (0..n).map(event).collect();
        let started = Instant::now();
        let mut failed = 0;
        for batch in events.chunks(BATCH) {
            failed += destination
                .send(batch)
                .await
                .iter()
                .filter(|o| o.status != EventStatus::Succeeded)
                .count();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let calls = destination.api_calls();
        if failed > 0 {
            return Err(format!("{}: {failed} events did not succeed", path.name).into());
        }
        println!(
            "| {} | {n} | {calls} | {:.4} | {:.0} |",
            path.name,
            calls as f64 / n as f64,
            n as f64 / elapsed
        );
    }
    Ok(())
}
