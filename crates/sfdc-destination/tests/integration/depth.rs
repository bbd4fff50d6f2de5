//! An event nested 10,000 deep fails with INVALID_EVENT through `Destination::send`; the process
//! survives and the other events of the batch go on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Map, Value, json};
use sfdc_destination::OutcomeStatus;
use support::*;

/// An identify event with `traits.deep` nested `depth` levels, built without recursion (`json!`
/// would serialise the interpolated value recursively).
fn deep_identify(depth: usize) -> Value {
    let mut v = json!("leaf");
    for i in 0..depth {
        v = if i % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Object(Map::from_iter([("k".to_owned(), v)]))
        };
    }
    let mut event = identify("deep@example.com", "Deep");
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

#[tokio::test]
async fn ten_thousand_deep_event_fails_with_invalid_event() {
    let emu = emulator().await;
    let dest = destination_for(
        &emu,
        r#"
        action = "lead"
        other_fields = { Deep__c = { "@path" = "$.traits.deep" } }
        "#,
    );
    let events = vec![deep_identify(10_000), identify("fine@example.com", "Fine")];
    let before = emu.api_calls();
    let out = dest.send(&events).await;
    let deep = only(&out[0]);
    assert_eq!(deep.status, OutcomeStatus::Failed, "{deep:?}");
    assert_eq!(
        deep.error_code.as_ref().map(|c| c.as_str()),
        Some("INVALID_EVENT")
    );
    assert_eq!(deep.http_status, 400);
    assert!(!deep.retryable);
    assert_eq!(only(&out[1]).status, OutcomeStatus::Created);
    let leads = emu.records("Lead");
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["LastName"], "Fine");
    assert_eq!(
        emu.api_calls() - before,
        2,
        "the describe pre-flight reads, and one create for the shallow event only"
    );
    for event in events {
        dismantle(event);
    }
}
