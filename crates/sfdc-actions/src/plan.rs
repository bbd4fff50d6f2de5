//! [`PlannedOperation`]: what should happen in Salesforce for one event, never how.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::action::{ActionKind, ConvertedLeadPolicy};

/// The record operation an action performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Create a new record (the default).
    #[default]
    Create,
    /// Update the records found by the record matchers.
    Update,
    /// Update the record found by the record matchers, or create one when none is found.
    Upsert,
    /// Delete the records found by the record matchers.
    Delete,
}

impl Operation {
    /// Returns the lowercase name: `create`, `update`, `upsert` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How several record matchers combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchOperator {
    /// A record matches when any matcher matches (the default).
    #[default]
    #[serde(alias = "OR")]
    Or,
    /// A record matches only when every matcher matches.
    #[serde(alias = "AND")]
    And,
}

/// One record matcher: a field API name and the value to look for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordMatcher {
    /// Field API name, e.g. `Email`, `Id` or `External_Id__c`.
    pub field: String,
    /// The value to match: a string, number, boolean or null (never an object or array).
    pub value: Value,
}

/// A Bulk API external id: the field to upsert on and this record's value for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalId {
    /// External id field API name, e.g. `External_Id__c`.
    pub field: String,
    /// This record's value for the field (a string, number or boolean).
    pub value: Value,
}

/// How the record goes through the Bulk API 2.0 instead of the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkPlan {
    /// How many events to collect into one bulk job (default 1000).
    pub batch_size: u32,
    /// For a bulk upsert: the external id field and this record's value. The field is not repeated
    /// in [`PlannedOperation::fields`]; the bulk writer adds the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// For a bulk update or delete: this record's Salesforce Id. `None` when the mapping found no value; the
    /// record is still sent and Salesforce rejects that row only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<Value>,
    /// For a bulk delete without `delete_record_id`: find the record by
    /// [`PlannedOperation::matchers`] first (batched lookups), then delete the id found.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolve_matchers: bool,
}

/// What should happen in Salesforce for one event.
///
/// `fields` follows the null-versus-absent rule: a key with JSON null sets the field to null; a
/// field that is not a key is left untouched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedOperation {
    /// The action that planned the operation.
    pub action: ActionKind,
    /// Object API name, e.g. `Lead` or `Invoice__c`.
    pub object: String,
    /// The operation.
    pub operation: Operation,
    /// Field API names and values to write; empty for a delete.
    pub fields: Map<String, Value>,
    /// Record matchers in configuration order; empty for a create.
    pub matchers: Vec<RecordMatcher>,
    /// How the matchers combine.
    pub match_operator: MatchOperator,
    /// `Some` when the record goes through the Bulk API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkPlan>,
    /// The keys of `fields` that came from Other Fields mapped as one object (event data, not
    /// configuration): the facade checks each against describe (an existing, writable field,
    /// not a relationship, not `attributes`) before writing. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_fields_object_keys: Vec<String>,
    /// A create with an idempotency key: the key field and this event's value. `operation` is
    /// then [`Operation::Upsert`] by that field (REST: `matchers` holds only the key; Bulk:
    /// [`BulkPlan::external_id`] is the key), so resending the create cannot duplicate it. The
    /// facade checks at first use that describe shows the field as external id and unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<ExternalId>,
    /// What to do when the Lead to update has been converted (Lead subscriptions; the default
    /// [`ConvertedLeadPolicy::Fail`] for every other action).
    #[serde(default, skip_serializing_if = "is_default_policy")]
    pub converted_lead: ConvertedLeadPolicy,
}

fn is_default_policy(policy: &ConvertedLeadPolicy) -> bool {
    *policy == ConvertedLeadPolicy::default()
}

impl PlannedOperation {
    /// Returns `true` when the record goes through the Bulk API instead of the REST API.
    pub fn is_bulk(&self) -> bool {
        self.bulk.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_and_operator_use_lowercase_wire_names() {
        for (op, name) in [
            (Operation::Create, "create"),
            (Operation::Update, "update"),
            (Operation::Upsert, "upsert"),
            (Operation::Delete, "delete"),
        ] {
            assert_eq!(serde_json::to_value(op).unwrap(), json!(name));
            assert_eq!(op.to_string(), name);
            assert_eq!(
                serde_json::from_value::<Operation>(json!(name)).unwrap(),
                op
            );
        }
        assert_eq!(
            serde_json::to_value(MatchOperator::Or).unwrap(),
            json!("or")
        );
        assert_eq!(
            serde_json::from_value::<MatchOperator>(json!("AND")).unwrap(),
            MatchOperator::And
        );
    }

    #[test]
    fn planned_operation_round_trips_through_json() {
        let plan = PlannedOperation {
            action: ActionKind::Lead,
            object: "Lead".into(),
            operation: Operation::Upsert,
            fields: json!({"LastName": "Doe", "Phone": null})
                .as_object()
                .cloned()
                .unwrap(),
            matchers: vec![RecordMatcher {
                field: "Email".into(),
                value: json!("a@b.c"),
            }],
            match_operator: MatchOperator::Or,
            bulk: Some(BulkPlan {
                batch_size: 1000,
                external_id: Some(ExternalId {
                    field: "Ext__c".into(),
                    value: json!("x1"),
                }),
                record_id: None,
                resolve_matchers: false,
            }),
            other_fields_object_keys: Vec::new(),
            idempotency_key: None,
            converted_lead: ConvertedLeadPolicy::Fail,
        };
        let v = serde_json::to_value(&plan).unwrap();
        assert_eq!(
            v["bulk"],
            json!({"batch_size": 1000, "external_id": {"field": "Ext__c", "value": "x1"}})
        );
        assert_eq!(serde_json::from_value::<PlannedOperation>(v).unwrap(), plan);
        assert!(plan.is_bulk());
    }
}
