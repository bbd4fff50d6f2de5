//! Shared helpers: fixture loading and plan comparison.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::path::PathBuf;

use serde_json::Value;
use sfdc_actions::{Action, ActionConfig};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/events")
        .join(name)
}

/// Reads `tests/fixtures/events/<name>` as text.
pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Reads `tests/fixtures/events/<name>` as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Reads the configuration of a case: `<case>.config.toml`, else `<case>.config.json`.
pub fn case_config(case: &str) -> ActionConfig {
    let toml_name = format!("{case}.config.toml");
    if fixture_path(&toml_name).exists() {
        return toml::from_str(&fixture_text(&toml_name))
            .unwrap_or_else(|e| panic!("{toml_name}: {e}"));
    }
    let json_name = format!("{case}.config.json");
    serde_json::from_str(&fixture_text(&json_name)).unwrap_or_else(|e| panic!("{json_name}: {e}"))
}

/// Compiles the configuration of a case.
pub fn case_action(case: &str) -> Action {
    case_config(case)
        .compile()
        .unwrap_or_else(|e| panic!("{case}: {e}"))
}

/// Plans `<case>.json` with the case's action and compares with `<case>.plan.json` as JSON values.
pub fn assert_case(case: &str) {
    let action = case_action(case);
    let event = fixture_json(&format!("{case}.json"));
    assert!(
        action.is_triggered_by(&event),
        "{case}: the trigger `{}` should match the event",
        action.trigger().map(|t| t.as_str()).unwrap_or("")
    );
    let plan = action
        .plan(&event)
        .unwrap_or_else(|e| panic!("{case}: planning failed: {e}"));
    let actual = serde_json::to_value(&plan).unwrap();
    let expected = fixture_json(&format!("{case}.plan.json"));
    assert_eq!(
        actual,
        expected,
        "{case}: plan differs\nactual:   {}\nexpected: {}",
        serde_json::to_string_pretty(&actual).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap()
    );
}
