//! [`Action`]: a compiled action that plans events.

use serde_json::{Map, Value};

use super::idempotency::CompiledKey;
use super::{ActionFields, ActionKind, ActionSettings, ConvertedLeadPolicy};
use crate::coerce::{FieldType, coerce};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::mapping::{Mapping, Node, compile_entries, is_blank};
use crate::plan::{
    BulkPlan, ExternalId, MatchOperator, Operation, PlannedOperation, RecordMatcher,
};
use crate::trigger::Trigger;

/// A compiled action: turns events into [`PlannedOperation`]s without I/O.
///
/// Build it with [`ActionSettings::compile`] or [`crate::ActionConfig::compile`]. It is
/// immutable, `Send + Sync` and cheap to share; planning one event never affects another.
#[derive(Debug, Clone)]
pub struct Action {
    kind: ActionKind,
    object: String,
    trigger: Option<Trigger>,
    operation: Operation,
    match_operator: MatchOperator,
    match_empty_values: bool,
    fields: Vec<CompiledField>,
    /// Other Fields as one object mapping: each key of its value becomes a field.
    other_object: Option<Node>,
    matchers: Vec<(String, Node)>,
    required: &'static [&'static str],
    requires_any_field: bool,
    bulk: Option<CompiledBulk>,
    /// The subscription name (configured, or `<action>-<index>`).
    name: String,
    /// `true` when the name was configured (not replaced by [`Action::with_index`]).
    named: bool,
    idempotency_key: Option<CompiledKey>,
    converted_lead: ConvertedLeadPolicy,
}

#[derive(Debug, Clone)]
struct CompiledField {
    api_name: String,
    field_type: FieldType,
    node: Node,
}

#[derive(Debug, Clone)]
struct CompiledBulk {
    batch_size: u32,
    external_id: Option<(String, Node)>,
    record_id: Option<Node>,
    /// Bulk delete by record matchers (no `delete_record_id`).
    resolve_matchers: bool,
}

impl Action {
    pub(super) fn compile<F: ActionFields>(settings: &ActionSettings<F>) -> Result<Action> {
        let object = settings.fields.object().to_owned();
        validate_name(&object, false, OBJECT_NAME).map_err(|e| e.at("fields.object"))?;

        let trigger = if settings.trigger.trim().is_empty() {
            None
        } else {
            Some(Trigger::parse(&settings.trigger).map_err(|e| e.at("trigger"))?)
        };

        let specs = settings.fields.fields();
        let mut fields = Vec::with_capacity(specs.len() + settings.other_fields.len());
        for spec in &specs {
            if let Some(mapping) = spec.mapping {
                fields.push(CompiledField {
                    api_name: spec.api_name.to_owned(),
                    field_type: spec.field_type,
                    node: compile_one(mapping).map_err(|e| e.at(format!("fields.{}", spec.key)))?,
                });
            }
        }
        for (name, node) in
            compile_entries(settings.other_fields.entries()).map_err(|e| e.at("other_fields"))?
        {
            validate_name(&name, false, "field API name")
                .map_err(|e| e.at(format!("other_fields.{name}")))?;
            // A standard field named in Other Fields keeps its type.
            let field_type = specs
                .iter()
                .find(|s| s.api_name == name)
                .map_or(FieldType::Any, |s| s.field_type);
            fields.push(CompiledField {
                api_name: name,
                field_type,
                node,
            });
        }

        let other_object = match settings.other_fields.object_mapping() {
            None => None,
            Some(_) if settings.other_fields.iter().next().is_some() => {
                return Err(Error::config(
                    "other_fields is either one mapping of an object (e.g. { \"@path\" = \"$.properties.salesforce\" }) or field API names to mappings, not both",
                )
                .at("other_fields"));
            }
            Some(mapping) => Some(compile_one(mapping).map_err(|e| e.at("other_fields"))?),
        };
        if settings.record_matchers.object_mapping().is_some() {
            return Err(Error::config(
                "record_matchers must name each matcher field (e.g. { Email = { \"@path\" = \"$.traits.email\" } }), not map a whole object",
            )
            .at("record_matchers"));
        }

        // Stable: for equal names the standard field stays before its Other Fields override.
        fields.sort_by(|a, b| a.api_name.cmp(&b.api_name));

        let matchers = compile_entries(settings.record_matchers.entries())
            .map_err(|e| e.at("record_matchers"))?;
        for (name, _) in &matchers {
            validate_name(name, true, "field API name")
                .map_err(|e| e.at(format!("record_matchers.{name}")))?;
        }

        let name = match settings.name.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(Error::config(
                    "name must not be blank (leave it out for the default `<action>-<index>`)",
                )
                .at("name"));
            }
            Some(name) => Some(name.to_owned()),
        };
        let idempotency_key = match &settings.idempotency_key {
            None => None,
            Some(_) if settings.operation != Operation::Create => {
                return Err(Error::config(format!(
                    "an idempotency key makes a create safe to resend; operation `{}` does not create records blindly (remove idempotency_key, or use operation = \"create\")",
                    settings.operation
                ))
                .at("idempotency_key"));
            }
            Some(key) => {
                validate_name(&key.field, false, "field API name")
                    .map_err(|e| e.at("idempotency_key.field"))?;
                Some(CompiledKey::compile(key).map_err(|e| e.at("idempotency_key"))?)
            }
        };
        let converted_lead = match settings.converted_lead {
            Some(policy) if F::KIND != ActionKind::Lead => {
                return Err(Error::config(format!(
                    "converted_lead = \"{}\" applies to Lead subscriptions only, not {}",
                    policy.as_str(),
                    F::KIND
                ))
                .at("converted_lead"));
            }
            policy => policy.unwrap_or_default(),
        };

        Ok(Action {
            kind: F::KIND,
            object,
            trigger,
            operation: settings.operation,
            match_operator: settings.match_operator,
            match_empty_values: settings.match_empty_values,
            fields,
            other_object,
            matchers,
            required: F::REQUIRED,
            requires_any_field: F::KIND == ActionKind::CustomObject,
            bulk: compile_bulk(settings).map_err(|e| e.at("bulk"))?,
            named: name.is_some(),
            name: name.unwrap_or_else(|| format!("{}-0", F::KIND)),
            idempotency_key,
            converted_lead,
        })
    }

    /// Gives an unnamed subscription its default name `<action>-<index>` (the destination
    /// calls it with the subscription's position); a configured name is kept.
    #[must_use]
    pub fn with_index(mut self, index: usize) -> Action {
        if !self.named {
            self.name = format!("{}-{index}", self.kind);
        }
        self
    }

    /// Returns the subscription's name: configured, or `<action>-<index>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the idempotency key field of a create, when one is configured.
    pub fn idempotency_key_field(&self) -> Option<&str> {
        self.idempotency_key.as_ref().map(CompiledKey::field)
    }

    /// Returns the converted-Lead policy ([`ConvertedLeadPolicy::Fail`] unless configured).
    pub fn converted_lead(&self) -> ConvertedLeadPolicy {
        self.converted_lead
    }

    /// Returns the action.
    pub fn kind(&self) -> ActionKind {
        self.kind
    }

    /// Returns the object API name the action writes to.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// Returns the operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// Returns the trigger, if one is set.
    pub fn trigger(&self) -> Option<&Trigger> {
        self.trigger.as_ref()
    }

    /// Returns `true` when the action's trigger matches the event; `false` when it does not or
    /// when no trigger is set.
    pub fn is_triggered_by(&self, event: &Value) -> bool {
        self.trigger.as_ref().is_some_and(|t| t.matches(event))
    }

    /// Plans the event if the trigger matches it: `None` when it does not.
    ///
    /// An event nested deeper than [`crate::MAX_EVENT_DEPTH`] is `Some(Err(`[`Error::InvalidEvent`]`))`
    /// whatever the trigger: it is refused before anything walks it.
    pub fn plan_if_triggered(&self, event: &Value) -> Option<Result<PlannedOperation>> {
        if let Err(e) = crate::depth::check_depth(event) {
            return Some(Err(e));
        }
        self.is_triggered_by(event)
            .then(|| self.plan_checked(event))
    }

    /// Plans one event given as JSON (any `serde_json::Value`, Segment-spec or not). The trigger
    /// is not consulted.
    ///
    /// # Errors
    ///
    /// Per-event errors ([`Error::is_event_error`], status 400, never retryable):
    /// [`Error::Coercion`] when a value does not fit its field type, [`Error::MissingField`] when
    /// a create or upsert lacks a required field (Lead and Contact `LastName`, Account `Name`,
    /// Opportunity `Name`, `StageName`, `CloseDate`), [`Error::NoFields`] for a Custom Object
    /// create, update or upsert without any field, [`Error::InvalidMatcherValue`] for a matcher
    /// that is an object or array, [`Error::MissingMatcherValue`] for a matcher without value
    /// (missing, blank or null) unless `match_empty_values` is set, [`Error::MissingMatchers`]
    /// for an update, upsert or delete
    /// (not through the Bulk API) without any matcher value, and [`Error::MissingExternalId`]
    /// for a bulk upsert without external id value; [`Error::InvalidEvent`] for an event nested
    /// deeper than [`crate::MAX_EVENT_DEPTH`] (checked first, without recursion).
    pub fn plan(&self, event: &Value) -> Result<PlannedOperation> {
        crate::depth::check_depth(event)?;
        self.plan_checked(event)
    }

    /// [`Action::plan`] of an event whose depth was checked already (walked once, not twice).
    fn plan_checked(&self, event: &Value) -> Result<PlannedOperation> {
        let operation = self.operation;
        let (fields, other_fields_object_keys) = if operation == Operation::Delete {
            (Map::new(), Vec::new())
        } else {
            let mut fields = self.eval_fields(event)?;
            let keys = self.eval_other_object(event, &mut fields)?;
            (fields, keys)
        };
        if matches!(operation, Operation::Create | Operation::Upsert) {
            for required in self.required {
                if fields.get(*required).is_none_or(Value::is_null) {
                    return Err(Error::MissingField {
                        object: self.object.clone(),
                        operation,
                        field: (*required).to_owned(),
                    });
                }
            }
        }
        if self.requires_any_field && operation != Operation::Delete && fields.is_empty() {
            return Err(Error::NoFields {
                object: self.object.clone(),
                operation,
            });
        }

        // Matchers find records for the REST path and for a bulk delete without record id; the
        // other Bulk API paths address records by external id or record id.
        let uses_matchers = self.bulk.as_ref().is_none_or(|b| b.resolve_matchers);
        let mut matchers = Vec::new();
        if operation != Operation::Create {
            for (field, node) in &self.matchers {
                let value = node.eval(event).unwrap_or(Value::Null);
                check_scalar(field, &value)?;
                if value.is_null() {
                    if !uses_matchers {
                        continue;
                    }
                    if !self.match_empty_values {
                        return Err(Error::MissingMatcherValue {
                            object: self.object.clone(),
                            field: field.clone(),
                        });
                    }
                }
                matchers.push(RecordMatcher {
                    field: field.clone(),
                    value,
                });
            }
            if uses_matchers && matchers.is_empty() {
                return Err(Error::MissingMatchers {
                    object: self.object.clone(),
                    operation,
                });
            }
        }

        let mut bulk = match &self.bulk {
            None => None,
            Some(bulk) => Some(self.plan_bulk(bulk, event)?),
        };

        // Exactly-once create: an upsert by the key field (REST: the key is the only matcher;
        // Bulk: the key is the external id of an upsert job).
        let mut operation = operation;
        let idempotency_key = match &self.idempotency_key {
            Some(key) if operation == Operation::Create => {
                let key = key.eval(event, &self.name)?;
                operation = Operation::Upsert;
                match bulk.as_mut() {
                    Some(bulk) => bulk.external_id = Some(key.clone()),
                    None => {
                        matchers = vec![RecordMatcher {
                            field: key.field.clone(),
                            value: key.value.clone(),
                        }]
                    }
                }
                Some(key)
            }
            _ => None,
        };

        Ok(PlannedOperation {
            action: self.kind,
            object: self.object.clone(),
            operation,
            fields,
            matchers,
            match_operator: self.match_operator,
            bulk,
            other_fields_object_keys,
            idempotency_key,
            converted_lead: self.converted_lead,
        })
    }

    /// Evaluates the fields. `self.fields` is sorted by API name, a standard field before an
    /// Other Fields entry of the same name, so an override is the next entry and the sorted
    /// entries build the map without per-key searches.
    fn eval_fields(&self, event: &Value) -> Result<Map<String, Value>> {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            if let Some(value) = field.node.eval(event) {
                let value = coerce(&field.api_name, field.field_type, value)?;
                match entries.last_mut() {
                    Some(last) if last.0 == field.api_name => last.1 = value,
                    _ => entries.push((field.api_name.clone(), value)),
                }
            }
        }
        Ok(entries.into_iter().collect())
    }

    /// Merges the keys of the Other Fields object (when configured and present) over `fields`
    /// and returns them, for the facade's run-time check against describe. Blank strings are
    /// absent, as everywhere; a missing or null object adds nothing.
    fn eval_other_object(
        &self,
        event: &Value,
        fields: &mut Map<String, Value>,
    ) -> Result<Vec<String>> {
        let Some(node) = &self.other_object else {
            return Ok(Vec::new());
        };
        let object = match node.eval(event) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Object(object)) => object,
            Some(other) => {
                return Err(Error::OtherFieldsNotObject {
                    kind: json_kind(&other),
                });
            }
        };
        let mut keys = Vec::with_capacity(object.len());
        for (key, value) in object {
            if is_blank(&value) {
                continue;
            }
            keys.push(key.clone());
            fields.insert(key, value);
        }
        Ok(keys)
    }

    fn plan_bulk(&self, bulk: &CompiledBulk, event: &Value) -> Result<BulkPlan> {
        let external_id = match &bulk.external_id {
            Some((field, node)) => {
                let value = node.eval(event).filter(|v| !v.is_null()).ok_or_else(|| {
                    Error::MissingExternalId {
                        field: field.clone(),
                    }
                })?;
                check_scalar(field, &value)?;
                Some(ExternalId {
                    field: field.clone(),
                    value,
                })
            }
            None => None,
        };
        let record_id = match &bulk.record_id {
            Some(node) => match node.eval(event) {
                Some(value) => {
                    check_scalar("Id", &value)?;
                    Some(value).filter(|v| !v.is_null())
                }
                None => None,
            },
            None => None,
        };
        Ok(BulkPlan {
            batch_size: bulk.batch_size,
            external_id,
            record_id,
            resolve_matchers: bulk.resolve_matchers,
        })
    }

    /// Plans one event given as JSON text.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEvent`] when the text is not JSON; otherwise as [`Action::plan`].
    pub fn plan_json(&self, text: &str) -> Result<PlannedOperation> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::InvalidEvent {
            message: e.to_string(),
        })?;
        self.plan(&value)
    }

    /// Plans one typed [`Event`].
    ///
    /// # Errors
    ///
    /// As [`Action::plan`].
    pub fn plan_event(&self, event: &Event) -> Result<PlannedOperation> {
        self.plan(&event.to_value())
    }

    /// Plans every event independently: one result per event, in input order. A bad event gets
    /// its own error and never affects the others. The trigger is not consulted.
    pub fn plan_batch<'a>(
        &self,
        events: impl IntoIterator<Item = &'a Value>,
    ) -> Vec<Result<PlannedOperation>> {
        events.into_iter().map(|event| self.plan(event)).collect()
    }
}

fn compile_one(mapping: &Mapping) -> Result<Node> {
    Node::compile(mapping)
}

fn compile_bulk<F: ActionFields>(settings: &ActionSettings<F>) -> Result<Option<CompiledBulk>> {
    let bulk = &settings.bulk;
    if !bulk.enabled {
        return Ok(None);
    }
    if bulk.batch_size == 0 {
        return Err(
            Error::config("batch_size must be at least 1 (the default is 1000)").at("batch_size"),
        );
    }
    let mut compiled = CompiledBulk {
        batch_size: bulk.batch_size,
        external_id: None,
        record_id: None,
        resolve_matchers: false,
    };
    match settings.operation {
        Operation::Upsert => {
            let name = bulk.upsert_external_id_name.as_deref().unwrap_or_default();
            if name.is_empty() {
                return Err(Error::config(
                    "a bulk upsert needs upsert_external_id_name, the API name of an external id field (e.g. External_Id__c)",
                ));
            }
            validate_name(name, false, "field API name")
                .map_err(|e| e.at("upsert_external_id_name"))?;
            let mapping = bulk.upsert_external_id_value.as_ref().ok_or_else(|| {
                Error::config("a bulk upsert needs upsert_external_id_value, the mapping of each record's external id")
            })?;
            compiled.external_id = Some((
                name.to_owned(),
                compile_one(mapping).map_err(|e| e.at("upsert_external_id_value"))?,
            ));
        }
        Operation::Update => {
            let mapping = bulk.update_record_id.as_ref().ok_or_else(|| {
                Error::config("a bulk update needs update_record_id, the mapping of each record's Salesforce Id")
            })?;
            compiled.record_id = Some(compile_one(mapping).map_err(|e| e.at("update_record_id"))?);
        }
        Operation::Create => {}
        Operation::Delete => match bulk.delete_record_id.as_ref() {
            Some(mapping) => {
                compiled.record_id =
                    Some(compile_one(mapping).map_err(|e| e.at("delete_record_id"))?);
            }
            None if settings.record_matchers.iter().next().is_some() => {
                compiled.resolve_matchers = true;
            }
            None => {
                return Err(Error::config(
                    "a bulk delete needs delete_record_id (the mapping of each record's Salesforce Id) or record_matchers to find the records first",
                ));
            }
        },
    }
    Ok(Some(compiled))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Refuses an object or array where a matcher or key value must be a scalar.
pub(super) fn check_scalar(field: &str, value: &Value) -> Result<()> {
    let kind = match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        _ => return Ok(()),
    };
    Err(Error::InvalidMatcherValue {
        field: field.to_owned(),
        kind,
    })
}

/// Checks a Salesforce API name with the workspace's one validator ([`sfdc_match::FieldName`],
/// [`sfdc_match::SObjectName`]); `dotted` admits relationship paths such as `Account.Name`.
fn validate_name(name: &str, dotted: bool, what: &str) -> Result<()> {
    let checked = match what {
        OBJECT_NAME => sfdc_match::SObjectName::new(name).map(drop),
        _ if dotted => sfdc_match::FieldName::new(name).map(drop),
        _ => sfdc_match::FieldName::new_plain(name).map(drop),
    };
    checked.map_err(|e| {
        let reason = e.reason().map_or_else(|| e.to_string(), str::to_owned);
        Error::config(format!(
            "`{name}` is not a valid {what}: {reason}; use the API name as shown in Salesforce Setup (custom names end in __c)"
        ))
    })
}

const OBJECT_NAME: &str = "object API name";
