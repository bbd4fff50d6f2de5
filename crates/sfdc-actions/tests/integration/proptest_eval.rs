//! Property tests: compiled mappings, templates, triggers and actions never panic on arbitrary
//! JSON, and parsers never panic on arbitrary text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sfdc_actions::{
    AccountConfig, LeadConfig, Mapping, Operation, OpportunityConfig, Path, Template, Trigger,
};

const KEYS: &[&str] = &[
    "traits",
    "properties",
    "email",
    "a",
    "0",
    "first name",
    "address",
    "é",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 :.-]{0,8}".prop_map(Value::from),
        "\\PC{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

#[derive(Debug, Clone)]
enum Step {
    Key(&'static str),
    Index(usize),
}

fn render_path(steps: &[Step], root: bool) -> String {
    let mut out = if root { "$".to_owned() } else { String::new() };
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Key(k) if k.contains(' ') => out.push_str(&format!("['{k}']")),
            Step::Key(k) if i == 0 && !root => out.push_str(k),
            Step::Key(k) => out.push_str(&format!(".{k}")),
            Step::Index(n) => out.push_str(&format!("[{n}]")),
        }
    }
    out
}

fn arb_steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(KEYS).prop_map(Step::Key),
            (0usize..4).prop_map(Step::Index),
        ],
        0..5,
    )
}

fn arb_path() -> impl Strategy<Value = String> {
    arb_steps().prop_map(|steps| render_path(&steps, true))
}

fn arb_template() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-z ]{0,5}",
            arb_steps()
                .prop_filter("non-empty", |s| matches!(s.first(), Some(Step::Key(_))))
                .prop_map(|s| format!("{{{{ {} }}}}", render_path(&s, false))),
        ],
        0..5,
    )
    .prop_map(|parts| parts.concat())
}

fn arb_mapping() -> impl Strategy<Value = Mapping> {
    let leaf = prop_oneof![
        arb_path().prop_map(Mapping::path),
        arb_template().prop_map(Mapping::template),
        arb_json().prop_map(Mapping::literal),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Mapping::fallback),
            prop::collection::vec(("[A-Z][a-z]{0,4}", inner), 0..4).prop_map(Mapping::object),
        ]
    })
}

fn arb_trigger() -> impl Strategy<Value = String> {
    let literal = prop_oneof![
        "[a-z ]{0,5}".prop_map(|s| format!("\"{s}\"")),
        any::<i32>().prop_map(|n| n.to_string()),
        Just("true".to_owned()),
        Just("null".to_owned()),
    ];
    let comparison = (
        arb_steps().prop_filter("starts with a key", |s| {
            matches!(s.first(), Some(Step::Key(_)))
        }),
        prop::sample::select(&["=", "!=", "=="][..]),
        literal,
    )
        .prop_map(|(steps, op, lit)| {
            // A bare all-digit path would read as a number: root it.
            let path = render_path(&steps, false);
            let path = if path.parse::<f64>().is_ok() {
                format!("$.{path}")
            } else {
                path
            };
            format!("{path} {op} {lit}")
        });
    comparison.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["and", "or", "AND"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

/// Walks from the root along existing children, recording the steps.
fn walk(value: &Value, choices: &[usize]) -> (Vec<Step>, Value) {
    let mut steps = Vec::new();
    let mut current = value;
    for &choice in choices {
        match current {
            Value::Object(map) if !map.is_empty() => {
                let (key, child) = map.iter().nth(choice % map.len()).unwrap();
                let key: &'static str = KEYS.iter().find(|k| **k == key).unwrap();
                steps.push(Step::Key(key));
                current = child;
            }
            Value::Array(items) if !items.is_empty() => {
                steps.push(Step::Index(choice % items.len()));
                current = &items[choice % items.len()];
            }
            _ => break,
        }
    }
    (steps, current.clone())
}

proptest! {
    // 256 cases (about a second in a debug build). No
    // regression files are written into the source tree.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    })]

    #[test]
    fn compiled_mappings_never_panic(mapping in arb_mapping(), event in arb_json()) {
        let compiled = mapping.compile().unwrap();
        let _ = compiled.evaluate(&event);
        let _ = compiled.evaluate(&json!({"traits": event.clone(), "properties": [event]}));
    }

    #[test]
    fn a_path_to_an_existing_value_resolves_to_it(event in arb_json(), choices in prop::collection::vec(0usize..8, 0..5)) {
        let (steps, expected) = walk(&event, &choices);
        let path = Path::parse(&render_path(&steps, true)).unwrap();
        prop_assert_eq!(path.resolve(&event), Some(&expected));
        let blank = matches!(&expected, Value::String(s) if s.trim().is_empty());
        let evaluated = Mapping::path(path.as_str()).compile().unwrap().evaluate(&event);
        prop_assert_eq!(evaluated, (!blank).then_some(expected));
    }

    #[test]
    fn templates_and_triggers_never_panic(template in arb_template(), trigger in arb_trigger(), event in arb_json()) {
        let _ = Template::parse(&template).unwrap().render(&event);
        let _ = Trigger::parse(&trigger).unwrap().matches(&event);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "\\PC{0,24}", near in "[$.\\[\\]'\"a-z0-9 {}()=!]{0,16}") {
        for input in [&text, &near] {
            if let Err(e) = Path::parse(input) {
                prop_assert!(e.position().unwrap() <= input.chars().count());
            }
            if let Err(e) = Template::parse(input) {
                prop_assert!(e.position().unwrap() <= input.chars().count());
            }
            if let Err(e) = Trigger::parse(input) {
                prop_assert!(e.position().unwrap() <= input.chars().count());
            }
        }
    }

    #[test]
    fn actions_never_panic_and_only_return_event_errors(traits in arb_json(), properties in arb_json()) {
        let event = json!({"type": "identify", "userId": "u", "groupId": "g", "traits": traits, "properties": properties});
        let actions = [
            LeadConfig::default().compile().unwrap(),
            LeadConfig::default().operation(Operation::Upsert)
                .record_matcher("Email", Mapping::path("$.traits.email")).compile().unwrap(),
            AccountConfig::default().compile().unwrap(),
            OpportunityConfig::default().compile().unwrap(),
        ];
        for action in &actions {
            if let Err(e) = action.plan(&event) {
                prop_assert!(e.is_event_error());
                prop_assert_eq!(e.status(), 400);
            }
        }
    }
}
