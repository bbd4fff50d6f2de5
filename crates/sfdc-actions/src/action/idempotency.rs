//! The idempotency key of a create: an external-id field whose value names the event, so a
//! create becomes an upsert by that field and can be resent without duplicating its record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::mapping::{Mapping, Node};
use crate::plan::ExternalId;

/// `idempotency_key = { field = "Event_Id__c" }`: turns a `create` into an upsert by `field`.
///
/// `field` must be an external id **and** unique in Salesforce (the facade checks describe at
/// first use). Its value per event is `value` when mapped, else the event's `messageId` joined
/// to the subscription's name (`<messageId>:<name>`), so two subscriptions creating the same
/// object from one event never share a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyKey {
    /// API name of the external-id, unique field, e.g. `Event_Id__c`.
    pub field: String,
    /// The key of each record; default `$.messageId` joined to the subscription name.
    #[serde(
        default,
        with = "crate::mapping::opt_mapping",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Mapping>,
}

impl IdempotencyKey {
    /// A key on `field` with the default value (`<messageId>:<subscription name>`).
    pub fn new(field: impl Into<String>) -> IdempotencyKey {
        IdempotencyKey {
            field: field.into(),
            value: None,
        }
    }

    /// Sets the value mapping (used as is, without the subscription name), for chaining.
    pub fn value(mut self, mapping: Mapping) -> IdempotencyKey {
        self.value = Some(mapping);
        self
    }
}

/// A compiled idempotency key.
#[derive(Debug, Clone)]
pub(super) struct CompiledKey {
    field: String,
    value: Option<Node>,
}

impl CompiledKey {
    pub(super) fn compile(key: &IdempotencyKey) -> Result<CompiledKey> {
        let value = match &key.value {
            Some(mapping) => Some(Node::compile(mapping).map_err(|e| e.at("value"))?),
            None => None,
        };
        Ok(CompiledKey {
            field: key.field.clone(),
            value,
        })
    }

    pub(super) fn field(&self) -> &str {
        &self.field
    }

    /// The key of one event for the subscription named `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingIdempotencyKey`] when the value (or, by default, the `messageId`) is
    /// missing, blank or null; [`Error::InvalidMatcherValue`] when it is an object or array.
    pub(super) fn eval(&self, event: &Value, name: &str) -> Result<ExternalId> {
        let value = match &self.value {
            Some(node) => node.eval(event).filter(|v| !v.is_null()),
            None => event
                .get("messageId")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|id| Value::String(format!("{id}:{name}"))),
        };
        let value = value.ok_or_else(|| Error::MissingIdempotencyKey {
            field: self.field.clone(),
            source_path: if self.value.is_some() {
                "the idempotency_key value mapping"
            } else {
                "messageId"
            },
        })?;
        super::compiled::check_scalar(&self.field, &value)?;
        Ok(ExternalId {
            field: self.field.clone(),
            value,
        })
    }
}
