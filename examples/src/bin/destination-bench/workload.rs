//! The benchmarked paths, their events and the emulator each run starts on.

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};

/// One execution path of the facade: a subscription and whether half the records exist.
pub(crate) struct Path {
    /// Name in the table (and `--only` filter).
    pub(crate) name: &'static str,
    /// The subscription, as TOML inside `[[subscriptions]]`.
    pub(crate) subscription: &'static str,
    /// Half of the users already exist as Leads (so upserts both update and create).
    pub(crate) existing: bool,
    /// The jsforce contender implements this path.
    pub(crate) contender: bool,
}

/// The paths, in table order.
pub(crate) const PATHS: &[Path] = &[
    Path {
        name: "create (Collections)",
        subscription: r#"action = "lead""#,
        existing: false,
        contender: false,
    },
    Path {
        name: "upsert by external id",
        subscription: r#"
            action = "lead"
            operation = "upsert"
            record_matchers = { Ext_Id__c = { "@path" = "$.userId" } }
        "#,
        existing: true,
        contender: false,
    },
    Path {
        name: "upsert by Email (lookup + update/create)",
        subscription: r#"
            action = "lead"
            operation = "upsert"
            record_matchers = { Email = { "@path" = "$.traits.email" } }
        "#,
        existing: true,
        contender: true,
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
        contender: false,
    },
];

/// Finds a path by name.
pub(crate) fn path(name: &str) -> Option<&'static Path> {
    PATHS.iter().find(|p| p.name == name)
}

/// The `i`-th event: an identify with e-mail, names and company (the contender builds the same).
pub(crate) fn event(i: usize) -> Value {
    json!({"type": "identify", "userId": format!("user-{i}"), "traits": {
        "email": format!("user{i}@example.com"), "last_name": format!("Last{i}"),
        "first_name": "Bench", "company": "Acme"}})
}

/// One measurement's conditions.
pub(crate) struct Workload {
    pub(crate) path: &'static Path,
    pub(crate) events: usize,
    pub(crate) batch: usize,
    pub(crate) latency: Duration,
    pub(crate) record_cost: Duration,
}

impl Workload {
    /// Starts a fresh emulator with this workload's latency and record cost, the `Ext_Id__c`
    /// field on Lead, and (for paths with existing records) every second user as a Lead.
    pub(crate) async fn start_emulator(&self) -> Result<Emulator, Box<dyn std::error::Error>> {
        let mut config = EmulatorConfig::default();
        config.latency = self.latency;
        config.record_cost = self.record_cost;
        config.daily_api_limit = 1_000_000;
        let emu = Emulator::start(config).await?;
        emu.add_field(
            "Lead",
            FieldDef::new("Ext_Id__c", FieldType::String)
                .length(40)
                .external_id()
                .unique(),
        )?;
        if self.path.existing {
            for i in (0..self.events).step_by(2) {
                emu.insert_record(
                    "Lead",
                    json!({"LastName": "Old", "Company": "Acme", "Email": format!("user{i}@example.com"),
                           "Ext_Id__c": format!("user-{i}")}),
                )?;
            }
        }
        Ok(emu)
    }
}
