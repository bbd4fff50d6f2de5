//! Shared helpers of the example binaries: the settings file and deterministic events.
//!
//! - [`SETTINGS_TOML`]: `examples/sync-events.toml`, compiled in.
//! - [`generate_events`]: a deterministic mix of identify, group, track and page events.

use serde_json::{Value, json};

/// The settings file of `sync-events` (`examples/sync-events.toml`).
pub const SETTINGS_TOML: &str = include_str!("../sync-events.toml");

/// A generated batch and how many of its events are invalid on purpose.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The events, in order.
    pub events: Vec<Value>,
    /// Events that must fail (identify or track without a last name).
    pub invalid: usize,
    /// Events no subscription triggers (page views).
    pub skipped: usize,
}

/// Generates `n` deterministic events: 60% identify (users cycle modulo 700, so repeats update),
/// 20% group (10 distinct accounts), 18% track "Signed Up", 2% page; every 97th identify and
/// every 89th track has no last name and fails planning.
pub fn generate_events(n: usize) -> Generated {
    let mut events = Vec::with_capacity(n);
    let (mut invalid, mut skipped) = (0, 0);
    for i in 0..n {
        let message_id = format!("msg-{i:05}");
        let event = match i % 50 {
            49 => {
                skipped += 1;
                json!({"type": "page", "messageId": message_id, "name": "Pricing"})
            }
            k if k % 5 < 3 => {
                let user = i % 700;
                let mut traits = json!({
                    "email": format!("user{user}@example.com"),
                    "first_name": format!("First{user}"),
                    "last_name": format!("Last{user}"),
                    "company": format!("Company {}", user % 50),
                    "address": {"city": "London", "country": "UK"},
                });
                if i % 97 == 0 {
                    invalid += 1;
                    if let Some(t) = traits.as_object_mut() {
                        t.remove("last_name");
                    }
                }
                json!({"type": "identify", "userId": format!("u{user}"), "messageId": message_id, "traits": traits})
            }
            k if k % 5 == 3 => {
                let g = i % 50;
                json!({"type": "group", "groupId": format!("ACC-{g:03}"), "messageId": message_id,
                       "traits": {"name": format!("Company {g}"), "employees": 10 + g, "website": "https://example.com"}})
            }
            _ => {
                let mut props = json!({"email": format!("signup{i}@example.com"), "last_name": format!("Signup{i}"), "first_name": "Sam"});
                if i % 89 == 0 {
                    invalid += 1;
                    if let Some(p) = props.as_object_mut() {
                        p.remove("last_name");
                    }
                }
                json!({"type": "track", "event": "Signed Up", "messageId": message_id, "properties": props})
            }
        };
        events.push(event);
    }
    Generated {
        events,
        invalid,
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_counts_its_invalid_events() {
        let a = generate_events(2000);
        let b = generate_events(2000);
        assert_eq!(a.events, b.events);
        assert_eq!(a.skipped, 40);
        let no_last_name = a
            .events
            .iter()
            .filter(|e| {
                let t = e.get("traits").or_else(|| e.get("properties"));
                e["type"] != "page"
                    && e["type"] != "group"
                    && t.is_some_and(|t| t.get("last_name").is_none())
            })
            .count();
        assert_eq!(no_last_name, a.invalid);
        assert!(a.invalid > 0);
    }

    #[test]
    fn the_shipped_settings_parse() {
        let settings = sfdc_destination::Settings::from_toml_str(SETTINGS_TOML).unwrap();
        assert_eq!(settings.subscriptions.len(), 3);
        assert!(!format!("{settings:?}").contains("emulator-client-secret"));
    }
}
