//! Shared setup: an emulator started in-process and a destination pointed at it.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_actions::ActionConfig;
use sfdc_bulk::PollConfig;
use sfdc_destination::{ActionOutcome, Destination, EventOutcome, ExecutorSettings};
use sfdc_emulator::{Emulator, EmulatorConfig};

pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.unwrap()
}

/// An emulator that waits `ms` milliseconds before answering each API call.
pub async fn emulator_with_latency(ms: u64) -> Emulator {
    let mut config = EmulatorConfig::default();
    config.latency = Duration::from_millis(ms);
    Emulator::start(config).await.unwrap()
}

/// A REST client on the emulator with its static access token.
pub fn client(emu: &Emulator) -> sfdc_rest::Client {
    sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .build()
        .unwrap()
}

/// A client on `emu` that allows `attempts` per request, never sleeps between them, and has
/// `object` described already (so a first lookup is a plain query, not a Composite call that
/// carries the describe: for emulators that lose the answer of every POST).
pub async fn described_client(emu: &Emulator, attempts: u32, object: &str) -> sfdc_rest::Client {
    let client = sfdc_rest::Client::builder()
        .instance_url(emu.instance_url())
        .access_token(emu.access_token())
        .allow_insecure_loopback(true)
        .retry(sfdc_rest::RetryConfig {
            max_attempts: attempts,
            ..Default::default()
        })
        .sleeper(std::sync::Arc::new(
            sfdc_test_support::RecordingSleeper::default(),
        ))
        .build()
        .unwrap();
    client.describe(object).await.unwrap();
    client
}

/// A destination on `emu` with these subscriptions (TOML array-of-tables text, or configs).
pub fn destination(emu: &Emulator, subscriptions: Vec<ActionConfig>) -> Destination {
    Destination::builder()
        .client(client(emu))
        .subscriptions(subscriptions)
        .bulk_poll(PollConfig::fixed(
            Duration::from_millis(5),
            Duration::from_secs(60),
        ))
        .build()
        .unwrap()
}

/// A destination on `emu` with these executor settings and subscriptions.
pub fn destination_with(
    emu: &Emulator,
    executor: ExecutorSettings,
    subscriptions: Vec<ActionConfig>,
) -> Destination {
    Destination::builder()
        .client(client(emu))
        .subscriptions(subscriptions)
        .executor(executor)
        .bulk_poll(PollConfig::fixed(
            Duration::from_millis(5),
            Duration::from_secs(60),
        ))
        .build()
        .unwrap()
}

/// A destination with Composite packing off (plain Collections and queries).
pub fn destination_plain(emu: &Emulator, subscription_toml: &str) -> Destination {
    destination_with(
        emu,
        ExecutorSettings::default().with_composite(false),
        vec![sub(subscription_toml)],
    )
}

/// A destination on `emu` with the one subscription in `subscription_toml`.
pub fn destination_for(emu: &Emulator, subscription_toml: &str) -> Destination {
    destination(emu, vec![sub(subscription_toml)])
}

/// A lead subscription that upserts by `Email`, looked up from `$.traits.email`.
pub const LEAD_UPSERT_BY_EMAIL: &str = r#"
    action = "lead"
    operation = "upsert"
    record_matchers = { Email = { "@path" = "$.traits.email" } }
"#;

/// A lead subscription that updates the Lead `$.properties.lead_id` on `track Rename` events
/// ([`rename`]), setting `LastName` to `$.properties.name`.
pub const LEAD_RENAME_BY_ID: &str = r#"
    action = "lead"
    operation = "update"
    trigger = 'type = "track" and event = "Rename"'
    record_matchers = { Id = { "@path" = "$.properties.lead_id" } }
    other_fields = { LastName = { "@path" = "$.properties.name" } }
"#;

/// A `track Rename` event: the Lead `id` is to be named `name` ([`LEAD_RENAME_BY_ID`]).
pub fn rename(id: &str, name: &str) -> Value {
    json!({"type": "track", "event": "Rename", "userId": "u",
           "properties": {"lead_id": id, "name": name}})
}

/// Parses one subscription from TOML.
pub fn sub(toml_text: &str) -> ActionConfig {
    toml::from_str(toml_text).unwrap()
}

pub fn identify(email: &str, last_name: &str) -> Value {
    json!({
        "type": "identify",
        "userId": email,
        "messageId": format!("m-{email}"),
        "traits": {"email": email, "last_name": last_name, "company": "Acme", "first_name": "Ann"}
    })
}

/// The only action outcome of an event.
pub fn only(outcome: &EventOutcome) -> &ActionOutcome {
    assert_eq!(outcome.results.len(), 1, "{outcome:?}");
    &outcome.results[0]
}

/// Calls per endpoint kind since the emulator started (kinds with no call left out).
pub fn calls(emu: &Emulator) -> std::collections::BTreeMap<String, u64> {
    calls_since(emu, &std::collections::BTreeMap::new())
}

/// Calls per endpoint kind since `before`.
pub fn calls_since(
    emu: &Emulator,
    before: &std::collections::BTreeMap<String, u64>,
) -> std::collections::BTreeMap<String, u64> {
    emu.api_call_counts()
        .into_iter()
        .map(|(k, v)| {
            let b = before.get(&k).copied().unwrap_or(0);
            (k, v - b)
        })
        .filter(|(_, v)| *v > 0)
        .collect()
}
