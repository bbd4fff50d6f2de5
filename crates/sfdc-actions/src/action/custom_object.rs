//! The Custom Object action: any standard or custom object, fields from Other Fields only.

use serde::{Deserialize, Serialize};

use super::{ActionFields, ActionKind, ActionSettings, FieldSpec};

/// The "typed fields" of the Custom Object action: only the object API name.
///
/// For a Person Account, set `object` to `Account` and map `LastName` / `FirstName` in Other
/// Fields.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CustomObjectFields {
    /// Object API name, e.g. `Invoice__c` or `Account` (required).
    pub object: String,
}

impl CustomObjectFields {
    /// Creates the fields for an object API name.
    pub fn new(object: impl Into<String>) -> CustomObjectFields {
        CustomObjectFields {
            object: object.into(),
        }
    }
}

impl ActionFields for CustomObjectFields {
    const KIND: ActionKind = ActionKind::CustomObject;
    const DEFAULT_TRIGGER: Option<&'static str> = None;
    const REQUIRED: &'static [&'static str] = &[];

    fn object(&self) -> &str {
        &self.object
    }

    fn fields(&self) -> Vec<FieldSpec<'_>> {
        Vec::new()
    }
}

/// Settings of the Custom Object action.
pub type CustomObjectConfig = ActionSettings<CustomObjectFields>;
