//! The nesting limit of event values.
//!
//! Salesforce records are shallow JSON; an event nested thousands deep would overflow the stack
//! of the recursive code that clones, compares, serialises and drops `serde_json::Value`s. Every
//! event is checked first, by an iterative walk that stops as soon as the limit is passed, so the
//! check itself cannot overflow and its work is bounded by the event's size.

use serde_json::Value;

use crate::error::{Error, Result};

/// The deepest nesting of objects and arrays accepted in an event (the event object itself is
/// depth 1). Deeper events fail with [`Error::InvalidEvent`].
pub const MAX_EVENT_DEPTH: usize = 64;

/// Fails with [`Error::InvalidEvent`] when `event` nests objects or arrays deeper than
/// [`MAX_EVENT_DEPTH`].
pub(crate) fn check_depth(event: &Value) -> Result<()> {
    check_depth_from(event, 1)
}

/// As [`check_depth`] for a value found at depth `depth` of an event.
pub(crate) fn check_depth_from(value: &Value, depth: usize) -> Result<()> {
    // Only objects and arrays go on the stack: scalars cannot nest (no allocation per
    // container, and none at all for a flat value).
    let nests = |v: &&Value| v.is_object() || v.is_array();
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    if nests(&value) {
        stack.push((value, depth));
    }
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_EVENT_DEPTH {
            return Err(Error::InvalidEvent {
                message: format!(
                    "the event nests objects or arrays deeper than {MAX_EVENT_DEPTH} levels"
                ),
            });
        }
        match value {
            Value::Object(map) => {
                stack.extend(map.values().filter(nests).map(|child| (child, depth + 1)));
            }
            Value::Array(items) => {
                stack.extend(items.iter().filter(nests).map(|child| (child, depth + 1)));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Drops a value without recursion (serde_json's own drop recurses through every level).
pub(crate) fn drop_iteratively(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// A value nested just past the limit (as the value of an event field): fails [`check_depth`].
pub(crate) fn over_the_limit() -> Value {
    let mut v = Value::Null;
    for _ in 0..MAX_EVENT_DEPTH {
        v = Value::Array(vec![v]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize) -> Value {
        let mut v = json!(1);
        for i in 0..depth {
            v = if i % 2 == 0 {
                json!([v])
            } else {
                json!({ "a": v })
            };
        }
        v
    }

    #[test]
    fn limit_is_inclusive() {
        assert!(check_depth(&nested(MAX_EVENT_DEPTH)).is_ok());
        let err = check_depth(&nested(MAX_EVENT_DEPTH + 1)).unwrap_err();
        assert!(err.is_event_error());
        assert!(check_depth(&json!({"a": 1, "b": [1, 2, {"c": null}]})).is_ok());
        let marker = json!({ "traits": over_the_limit() });
        assert!(check_depth(&marker).is_err());
    }
}
