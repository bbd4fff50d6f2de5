//! Events nested deeper than the limit fail with INVALID_EVENT, never by overflowing the stack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Map, Value, json};
use sfdc_actions::{ActionConfig, Error, LeadConfig, MAX_EVENT_DEPTH};

/// An identify event whose `traits.deep` nests `depth` arrays and objects, built without recursion.
/// (`json!` would serialise the interpolated value recursively.)
fn deep_event(depth: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..depth {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Object(Map::from_iter([("k".to_owned(), v)]))
        };
    }
    let mut event =
        json!({"type": "identify", "traits": {"email": "d@example.com", "last_name": "Deep"}});
    event["traits"]
        .as_object_mut()
        .unwrap()
        .insert("deep".to_owned(), v);
    event
}

/// Drops a value without recursion (serde_json's own drop recurses).
fn dismantle(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[test]
fn ten_thousand_deep_event_is_an_invalid_event() {
    let action = ActionConfig::from(LeadConfig::default()).compile().unwrap();
    let event = deep_event(10_000);
    let err = action.plan_if_triggered(&event).unwrap().unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err:?}");
    assert!(err.is_event_error());
    assert!(err.to_string().contains(&MAX_EVENT_DEPTH.to_string()));
    let err = action.plan(&event).unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }));
    dismantle(event);
}

#[test]
fn events_at_the_limit_still_plan() {
    let action = ActionConfig::from(LeadConfig::default()).compile().unwrap();
    // The event object is depth 1 and `traits` depth 2: `deep` may nest 62 more levels.
    let event = deep_event(MAX_EVENT_DEPTH - 2);
    let plan = action.plan_if_triggered(&event).unwrap().unwrap();
    assert_eq!(plan.fields["LastName"], "Deep");
    let too_deep = deep_event(MAX_EVENT_DEPTH - 1);
    assert!(action.plan(&too_deep).is_err());
}

#[test]
fn deep_typed_events_are_refused_without_recursion() {
    let action = ActionConfig::from(LeadConfig::default()).compile().unwrap();
    let err = sfdc_actions::Event::from_value(deep_event(10_000)).unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err:?}");

    let mut event = sfdc_actions::Event::new(sfdc_actions::EventType::Identify);
    event.user_id = Some("u1".into());
    let Value::Object(mut map) = deep_event(10_000) else {
        unreachable!()
    };
    let Some(Value::Object(traits)) = map.remove("traits") else {
        unreachable!()
    };
    event.traits = traits;
    let value = event.to_value();
    assert_eq!(value["userId"], "u1");
    let err = action.plan_if_triggered(&value).unwrap().unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }), "{err:?}");
    dismantle(Value::Object(std::mem::take(&mut event.traits)));
}
