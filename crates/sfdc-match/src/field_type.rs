//! Salesforce field types (from describe) and a per-object schema of matcher fields.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How a field's values are written in SOQL and compared, derived from its describe `type`.
///
/// ```
/// use sfdc_match::FieldType;
///
/// assert_eq!(FieldType::from_salesforce_type("email"), FieldType::Text);
/// assert_eq!(FieldType::from_salesforce_type("currency"), FieldType::Double);
/// assert_eq!(FieldType::from_salesforce_type("reference"), FieldType::Reference);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldType {
    /// `id`: a record id (15 and 18 characters name the same record).
    Id,
    /// `reference`: a lookup holding a record id.
    Reference,
    /// Text-like types: `string`, `email`, `phone`, `url`, `picklist`, `multipicklist`,
    /// `combobox`, `textarea`, `encryptedstring`. Compared case-insensitively.
    Text,
    /// `int` and `long`.
    Integer,
    /// `double`, `currency` and `percent`.
    Double,
    /// `boolean`.
    Boolean,
    /// `date`.
    Date,
    /// `datetime`.
    DateTime,
    /// Types SOQL cannot filter on in a matcher: `base64`, `address`, `location`, `time`,
    /// `complexvalue`, `json`. Holds the describe type string.
    Unfilterable(String),
    /// Any other describe type; values are written by their JSON kind. Holds the type string.
    Other(String),
}

impl FieldType {
    /// Maps a describe `type` string (case-insensitive) to a field type. Unknown strings become
    /// [`FieldType::Other`], whose values are written by their JSON kind.
    pub fn from_salesforce_type(sf_type: &str) -> FieldType {
        match sf_type.to_ascii_lowercase().as_str() {
            "id" => FieldType::Id,
            "reference" => FieldType::Reference,
            "string" | "email" | "phone" | "url" | "picklist" | "multipicklist" | "combobox"
            | "textarea" | "encryptedstring" => FieldType::Text,
            "int" | "long" => FieldType::Integer,
            "double" | "currency" | "percent" => FieldType::Double,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" => FieldType::DateTime,
            "base64" | "address" | "location" | "time" | "complexvalue" | "json" => {
                FieldType::Unfilterable(sf_type.to_owned())
            }
            _ => FieldType::Other(sf_type.to_owned()),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::Text => "text",
            FieldType::Integer => "int",
            FieldType::Double => "double",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Unfilterable(s) | FieldType::Other(s) => s,
        };
        f.write_str(name)
    }
}

/// What is known about one field of an object (from describe).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldInfo {
    /// The field's type.
    pub field_type: FieldType,
    /// Whether the field is an external id (`externalId: true` in describe), so that an upsert
    /// can find the record itself.
    pub external_id: bool,
}

/// Field types of one object, looked up case-insensitively by field API name.
///
/// An empty schema is valid: values are then written by their JSON kind (and `Id` is always
/// treated as an id). With describe information, values are written by the field's type.
///
/// ```
/// use sfdc_match::{FieldType, Schema};
///
/// let schema = Schema::new()
///     .field("Email", FieldType::Text)
///     .external_id("Ext_Id__c", FieldType::Text);
/// assert_eq!(schema.get("email").map(|f| &f.field_type), Some(&FieldType::Text));
/// assert!(schema.get("EXT_ID__C").is_some_and(|f| f.external_id));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    fields: HashMap<String, FieldInfo>,
}

impl Schema {
    /// Creates an empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a field of the given type.
    pub fn field(mut self, name: &str, field_type: FieldType) -> Self {
        self.insert(
            name,
            FieldInfo {
                field_type,
                external_id: false,
            },
        );
        self
    }

    /// Adds (or replaces) an external-id field of the given type.
    pub fn external_id(mut self, name: &str, field_type: FieldType) -> Self {
        self.insert(
            name,
            FieldInfo {
                field_type,
                external_id: true,
            },
        );
        self
    }

    /// Adds (or replaces) a field.
    pub fn insert(&mut self, name: &str, info: FieldInfo) {
        self.fields.insert(name.to_ascii_lowercase(), info);
    }

    /// Looks a field up by API name, ignoring case.
    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(&name.to_ascii_lowercase())
    }

    /// Returns the number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Returns true when no field is known.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for Schema {
    /// Builds a schema from `(field API name, describe type string)` pairs.
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        let mut schema = Schema::new();
        for (name, sf_type) in iter {
            schema.insert(
                name,
                FieldInfo {
                    field_type: FieldType::from_salesforce_type(sf_type),
                    external_id: false,
                },
            );
        }
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_describe_type() {
        let cases = [
            ("id", FieldType::Id),
            ("reference", FieldType::Reference),
            ("string", FieldType::Text),
            ("email", FieldType::Text),
            ("phone", FieldType::Text),
            ("url", FieldType::Text),
            ("picklist", FieldType::Text),
            ("multipicklist", FieldType::Text),
            ("combobox", FieldType::Text),
            ("textarea", FieldType::Text),
            ("encryptedstring", FieldType::Text),
            ("int", FieldType::Integer),
            ("long", FieldType::Integer),
            ("double", FieldType::Double),
            ("currency", FieldType::Double),
            ("percent", FieldType::Double),
            ("boolean", FieldType::Boolean),
            ("date", FieldType::Date),
            ("datetime", FieldType::DateTime),
            ("DateTime", FieldType::DateTime),
            ("base64", FieldType::Unfilterable("base64".into())),
            ("address", FieldType::Unfilterable("address".into())),
            ("anyType", FieldType::Other("anyType".into())),
        ];
        for (s, want) in cases {
            assert_eq!(FieldType::from_salesforce_type(s), want, "{s}");
        }
    }

    #[test]
    fn schema_from_pairs_is_case_insensitive() {
        let schema: Schema = [("Email", "email"), ("NumberOfEmployees", "int")]
            .into_iter()
            .collect();
        assert_eq!(schema.len(), 2);
        assert_eq!(
            schema.get("numberofemployees").map(|f| &f.field_type),
            Some(&FieldType::Integer)
        );
        assert!(schema.get("Phone").is_none());
    }
}
