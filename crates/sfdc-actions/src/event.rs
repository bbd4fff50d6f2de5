//! The Segment-spec event model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The `type` of a Segment-spec event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EventType {
    /// Who the user is (`traits`).
    Identify,
    /// What the user did (`event`, `properties`).
    Track,
    /// The group (account) the user belongs to (`groupId`, `traits`).
    Group,
    /// A web page view.
    Page,
    /// A mobile screen view.
    Screen,
    /// Merges two user identities (`previousId`).
    Alias,
}

/// A Segment-spec event.
///
/// Unknown top-level fields are kept in [`Event::extra`], so mappings can still reach them
/// (`$.sentAt`, `$.integrations.Salesforce`). Actions plan from the JSON form
/// ([`Event::to_value`]); integrators with their own JSON can skip this type and plan any
/// `serde_json::Value` directly.
///
/// ```
/// let event = sfdc_actions::Event::from_json(r#"{"type": "identify", "userId": "u1",
///     "traits": {"email": "a@b.c"}, "sentAt": "2026-11-28T10:00:00Z"}"#)?;
/// assert_eq!(event.user_id.as_deref(), Some("u1"));
/// assert_eq!(event.extra["sentAt"], "2026-11-28T10:00:00Z");
/// # Ok::<(), sfdc_actions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The event type.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The unique id of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The known user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The anonymous (device or cookie) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The group id (group events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The previous id (alias events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_id: Option<String>,
    /// The event name (track events), e.g. `Order Completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The page or screen name (page and screen events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// User traits (identify) or group traits (group).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub traits: Map<String, Value>,
    /// Event properties (track, page, screen).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// Context: library, ip, locale, `context.traits`, ...
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub context: Map<String, Value>,
    /// When the event happened, as sent (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Every other top-level field, unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// Creates an event of the given type with no other field.
    pub fn new(kind: EventType) -> Event {
        Event {
            kind,
            message_id: None,
            user_id: None,
            anonymous_id: None,
            group_id: None,
            previous_id: None,
            event: None,
            name: None,
            traits: Map::new(),
            properties: Map::new(),
            context: Map::new(),
            timestamp: None,
            extra: Map::new(),
        }
    }

    /// Reads an event from JSON text.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] ([`Error::is_event_error`]) when the text is not JSON or not a
    /// Segment-spec event (missing or unknown `type`, a field of the wrong JSON type).
    pub fn from_json(text: &str) -> Result<Event> {
        serde_json::from_str(text).map_err(|e| Error::InvalidEvent {
            message: e.to_string(),
        })
    }

    /// Reads an event from a JSON value.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] as for [`Event::from_json`].
    /// An event nested deeper than [`crate::MAX_EVENT_DEPTH`] is refused before it is read.
    pub fn from_value(value: Value) -> Result<Event> {
        if let Err(e) = crate::depth::check_depth(&value) {
            crate::depth::drop_iteratively(value);
            return Err(e);
        }
        serde_json::from_value(value).map_err(|e| Error::InvalidEvent {
            message: e.to_string(),
        })
    }

    /// Returns the event as JSON, the form mappings and triggers read.
    ///
    /// An event nested deeper than [`crate::MAX_EVENT_DEPTH`] is not serialised (that would
    /// recurse through every level): its JSON form has only the scalar fields and a `traits`
    /// value just over the limit, so planning it fails with [`Error::InvalidEvent`].
    pub fn to_value(&self) -> Value {
        let maps = [&self.traits, &self.properties, &self.context, &self.extra];
        let too_deep = maps.iter().any(|m| {
            m.values()
                .any(|v| crate::depth::check_depth_from(v, 2).is_err())
        });
        if !too_deep {
            // Serializing this type cannot fail: every field is JSON already and keys are strings.
            return serde_json::to_value(self).unwrap_or(Value::Null);
        }
        let mut shallow = Event {
            message_id: self.message_id.clone(),
            user_id: self.user_id.clone(),
            anonymous_id: self.anonymous_id.clone(),
            group_id: self.group_id.clone(),
            previous_id: self.previous_id.clone(),
            event: self.event.clone(),
            name: self.name.clone(),
            timestamp: self.timestamp.clone(),
            ..Event::new(self.kind)
        };
        shallow
            .traits
            .insert("too_deep".to_owned(), crate::depth::over_the_limit());
        serde_json::to_value(&shallow).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_spec_field_and_keeps_unknown_ones() {
        let value = json!({
            "type": "group", "messageId": "m1", "userId": "u1", "anonymousId": "a1",
            "groupId": "g1", "traits": {"name": "Acme"}, "context": {"ip": "1.2.3.4"},
            "timestamp": "2026-11-28T10:00:00Z", "integrations": {"All": true}, "version": 2
        });
        let event = Event::from_value(value.clone()).unwrap();
        assert_eq!(event.kind, EventType::Group);
        assert_eq!(event.group_id.as_deref(), Some("g1"));
        assert_eq!(event.traits["name"], "Acme");
        assert_eq!(event.extra["integrations"], json!({"All": true}));
        assert_eq!(event.extra["version"], 2);
        assert_eq!(event.to_value(), value);
    }

    #[test]
    fn every_type_reads_and_bad_events_are_event_errors() {
        for t in ["identify", "track", "group", "page", "screen", "alias"] {
            let e = Event::from_value(json!({"type": t})).unwrap();
            assert_eq!(serde_json::to_value(e.kind).unwrap(), json!(t));
        }
        for bad in [
            json!({"type": "login"}),
            json!({"userId": "x"}),
            json!({"type": "track", "traits": 3}),
        ] {
            let err = Event::from_value(bad).unwrap_err();
            assert!(err.is_event_error());
            assert_eq!(err.status(), 400);
        }
        assert!(Event::from_json("{not json").unwrap_err().is_event_error());
    }
}
