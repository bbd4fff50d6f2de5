//! The six actions: their settings (serde configuration), typed fields and default mappings.

mod account;
mod case;
mod compiled;
mod config;
mod contact;
mod converted_lead;
mod custom_object;
mod defaults;
mod idempotency;
mod lead;
mod opportunity;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use account::{AccountConfig, AccountFields};
pub use case::{CaseConfig, CaseFields};
pub use compiled::Action;
pub use config::ActionConfig;
pub use contact::{ContactConfig, ContactFields};
pub use converted_lead::ConvertedLeadPolicy;
pub use custom_object::{CustomObjectConfig, CustomObjectFields};
pub use idempotency::IdempotencyKey;
pub use lead::{LeadConfig, LeadFields};
pub use opportunity::{OpportunityConfig, OpportunityFields};

use crate::coerce::FieldType;
use crate::error::Result;
use crate::mapping::{FieldMappings, Mapping};
use crate::plan::{MatchOperator, Operation};
use defaults::{address, traits_else_properties};

/// Which of the six actions planned an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Lead: create, update, upsert or delete leads.
    Lead,
    /// Account: create, update, upsert or delete accounts.
    Account,
    /// Contact: create, update, upsert or delete contacts.
    Contact,
    /// Case: create, update, upsert or delete cases.
    Case,
    /// Opportunity: create, update, upsert or delete opportunities.
    Opportunity,
    /// Custom Object: any standard or custom object, fields from Other Fields only.
    CustomObject,
}

impl ActionKind {
    /// Returns the snake_case name used in configuration (`lead`, ..., `custom_object`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Lead => "lead",
            ActionKind::Account => "account",
            ActionKind::Contact => "contact",
            ActionKind::Case => "case",
            ActionKind::Opportunity => "opportunity",
            ActionKind::CustomObject => "custom_object",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One typed field of an action: its Salesforce API name, type and configured mapping.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec<'a> {
    /// Configuration key under `fields`, e.g. `last_name`.
    pub key: &'static str,
    /// Salesforce field API name, e.g. `LastName`.
    pub api_name: &'static str,
    /// The field type values are coerced to.
    pub field_type: FieldType,
    /// The configured mapping; `None` leaves the field out.
    pub mapping: Option<&'a Mapping>,
}

/// The typed fields of one action (implemented by [`LeadFields`], [`AccountFields`], ...).
pub trait ActionFields:
    Default + Clone + fmt::Debug + PartialEq + Serialize + DeserializeOwned
{
    /// The action.
    const KIND: ActionKind;
    /// The default trigger condition, if the action has one.
    const DEFAULT_TRIGGER: Option<&'static str>;
    /// Field API names a create or upsert must have a (non-null) value for.
    const REQUIRED: &'static [&'static str];

    /// Returns the object API name the action writes to.
    fn object(&self) -> &str;

    /// Returns the typed fields with their mappings, in order.
    fn fields(&self) -> Vec<FieldSpec<'_>>;
}

/// Bulk API 2.0 settings of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BulkSettings {
    /// Send records through the Bulk API 2.0 (every operation: create as `insert`, update,
    /// upsert, delete). Default `false`.
    pub enabled: bool,
    /// Events collected per bulk job. Default 1000; must be at least 1.
    pub batch_size: u32,
    /// The external id field API name a bulk upsert matches on, e.g. `External_Id__c`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upsert_external_id_name: Option<String>,
    /// The external id value of each record (bulk upsert).
    #[serde(with = "crate::mapping::opt_mapping")]
    pub upsert_external_id_value: Option<Mapping>,
    /// The Salesforce Id of each record (bulk update).
    #[serde(with = "crate::mapping::opt_mapping")]
    pub update_record_id: Option<Mapping>,
    /// The Salesforce Id of each record (bulk delete). Without it, a bulk delete finds each
    /// record by the record matchers first (batched lookups), then deletes the found ids.
    #[serde(with = "crate::mapping::opt_mapping")]
    pub delete_record_id: Option<Mapping>,
}

impl Default for BulkSettings {
    fn default() -> BulkSettings {
        BulkSettings {
            enabled: false,
            batch_size: 1000,
            upsert_external_id_name: None,
            upsert_external_id_value: None,
            update_record_id: None,
            delete_record_id: None,
        }
    }
}

/// The configuration of one action; `F` holds its typed fields ([`LeadFields`], ...).
///
/// Every key is optional in serialized form and defaults to [`Default::default`], which carries
/// the action's default trigger and default mappings. Compile it with
/// [`ActionSettings::compile`].
///
/// ```
/// use sfdc_actions::{LeadConfig, Mapping, Operation};
/// let action = LeadConfig::default()
///     .operation(Operation::Upsert)
///     .record_matcher("Email", Mapping::path("$.traits.email"))
///     .other_field("Score__c", Mapping::path("$.traits.score"))
///     .compile()?;
/// assert_eq!(action.object(), "Lead");
/// # Ok::<(), sfdc_actions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    default,
    deny_unknown_fields,
    bound(serialize = "F: Serialize", deserialize = "F: ActionFields")
)]
pub struct ActionSettings<F> {
    /// The subscription's name: stable across restarts, it is part of the default idempotency
    /// key (`<messageId>:<name>`). Default `<action>-<index>` (e.g. `lead-0`), the position of
    /// the subscription in the destination's list: name subscriptions that use an
    /// idempotency key, so reordering the list does not change their keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The trigger condition ([`crate::Trigger`] syntax); empty means the action matches no
    /// event. Defaults to the action's default trigger, or empty.
    pub trigger: String,
    /// The operation. Default [`Operation::Create`].
    pub operation: Operation,
    /// Record matchers: field API name → mapping, used by update, upsert and delete.
    pub record_matchers: FieldMappings,
    /// How record matchers combine. Default [`MatchOperator::Or`].
    pub match_operator: MatchOperator,
    /// Match records whose matcher field is empty when the event has no value (missing, blank
    /// or null) for a matcher: the lookup is `Field = null`. Default `false`: such an event
    /// fails with [`crate::Error::MissingMatcherValue`] and nothing is looked up.
    pub match_empty_values: bool,
    /// The action's typed fields.
    pub fields: F,
    /// Other Fields: field API name → mapping (custom fields keep their `__c`), merged over the
    /// typed fields; or one mapping of an object whose keys are the field names
    /// ([`FieldMappings::from_object`], opt-in).
    pub other_fields: FieldMappings,
    /// Bulk API settings.
    pub bulk: BulkSettings,
    /// Exactly-once creates: a `create` with a key becomes an upsert by the key field (REST
    /// Collections, or a Bulk `upsert` instead of `insert`). Only for `operation = "create"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<IdempotencyKey>,
    /// Lead subscriptions: what to do when the Lead to update has been converted. Default
    /// [`ConvertedLeadPolicy::Fail`]; refused on other actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_lead: Option<ConvertedLeadPolicy>,
}

impl<F: ActionFields> Default for ActionSettings<F> {
    fn default() -> ActionSettings<F> {
        ActionSettings {
            name: None,
            trigger: F::DEFAULT_TRIGGER.unwrap_or_default().to_owned(),
            operation: Operation::default(),
            record_matchers: FieldMappings::new(),
            match_operator: MatchOperator::default(),
            match_empty_values: false,
            fields: F::default(),
            other_fields: FieldMappings::new(),
            bulk: BulkSettings::default(),
            idempotency_key: None,
            converted_lead: None,
        }
    }
}

impl<F: ActionFields> ActionSettings<F> {
    /// Sets the trigger condition (empty: match no event), for chaining.
    pub fn trigger(mut self, condition: impl Into<String>) -> Self {
        self.trigger = condition.into();
        self
    }

    /// Sets the operation, for chaining.
    pub fn operation(mut self, operation: Operation) -> Self {
        self.operation = operation;
        self
    }

    /// Adds a record matcher (field API name → mapping), for chaining.
    pub fn record_matcher(mut self, field: impl Into<String>, mapping: Mapping) -> Self {
        self.record_matchers.insert(field, mapping);
        self
    }

    /// Sets how record matchers combine, for chaining.
    pub fn match_operator(mut self, operator: MatchOperator) -> Self {
        self.match_operator = operator;
        self
    }

    /// Sets whether a missing or null matcher value matches records whose field is empty
    /// (`Field = null`) instead of failing the event, for chaining.
    pub fn match_empty_values(mut self, enabled: bool) -> Self {
        self.match_empty_values = enabled;
        self
    }

    /// Sets the typed fields, for chaining.
    pub fn fields(mut self, fields: F) -> Self {
        self.fields = fields;
        self
    }

    /// Adds an Other Fields mapping (field API name → mapping), for chaining.
    pub fn other_field(mut self, field: impl Into<String>, mapping: Mapping) -> Self {
        self.other_fields.insert(field, mapping);
        self
    }

    /// Maps Other Fields as one object (e.g. `Mapping::path("$.properties.salesforce")`):
    /// each key of the event's object there becomes a field, checked at run time against
    /// describe by the facade. Replaces any named Other Fields. For chaining.
    pub fn other_fields_object(mut self, mapping: Mapping) -> Self {
        self.other_fields = FieldMappings::from_object(mapping);
        self
    }

    /// Sets the Bulk API settings, for chaining.
    pub fn bulk(mut self, bulk: BulkSettings) -> Self {
        self.bulk = bulk;
        self
    }

    /// Sets the subscription's name (part of the default idempotency key), for chaining.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the idempotency key of a create, for chaining.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Sets the converted-Lead policy (Lead subscriptions only), for chaining.
    pub fn converted_lead(mut self, policy: ConvertedLeadPolicy) -> Self {
        self.converted_lead = Some(policy);
        self
    }

    /// Compiles the settings into an [`Action`]: parses the trigger, every path and template,
    /// and checks names and bulk options once.
    ///
    /// # Errors
    ///
    /// Configuration errors ([`crate::Error::is_config_error`]): trigger, path or template syntax
    /// (with [`crate::Error::position`]), an invalid field or object API name, or bulk settings
    /// that cannot work (a batch size of 0, a bulk upsert without external id name or value, a
    /// bulk update without record id mapping, a bulk delete with neither record id mapping nor
    /// record matchers). Each is
    /// wrapped in [`crate::Error::At`] naming the configuration key.
    pub fn compile(&self) -> Result<Action> {
        Action::compile(self)
    }
}

/// Declares an action's typed fields struct, its `Default` (the default mappings) and its
/// [`ActionFields`] implementation.
macro_rules! action_fields {
    (
        $(#[$meta:meta])*
        pub struct $name:ident;
        kind = $kind:expr;
        object = $object:literal;
        trigger = $trigger:expr;
        required = [$($required:literal),*];
        fields {
            $(
                $(#[$field_meta:meta])*
                $field:ident => $api:literal, $field_type:ident, $default:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(with = "crate::mapping::opt_mapping")]
                pub $field: Option<crate::mapping::Mapping>,
            )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name {
                    $($field: $default,)*
                }
            }
        }

        impl crate::action::ActionFields for $name {
            const KIND: crate::action::ActionKind = $kind;
            const DEFAULT_TRIGGER: Option<&'static str> = $trigger;
            const REQUIRED: &'static [&'static str] = &[$($required),*];

            fn object(&self) -> &str {
                $object
            }

            fn fields(&self) -> Vec<crate::action::FieldSpec<'_>> {
                vec![$(crate::action::FieldSpec {
                    key: stringify!($field),
                    api_name: $api,
                    field_type: crate::coerce::FieldType::$field_type,
                    mapping: self.$field.as_ref(),
                },)*]
            }
        }
    };
}
pub(crate) use action_fields;
