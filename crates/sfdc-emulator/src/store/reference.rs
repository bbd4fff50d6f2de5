//! Parent references: resolution by external id and existence checks.

use serde_json::Value;

use super::dml::no_such_column;
use super::values::cannot_deserialize;
use super::{
    FieldDef, FieldType, ObjectSchema, Org, SfError, coerce_value, invalid_field, is_deleted,
};

impl Org {
    /// Resolves a parent reference by external id written as a relationship:
    /// `{"Account": {"Ext__c": "A1"}}` for `AccountId`, `{"Parent__r": {...}}` for
    /// `Parent__c`. Returns `None` when `key` is not a relationship name with an object
    /// value (the caller then treats it as a field).
    ///
    /// Errors: key field not `Id` or an external id of the parent → `INVALID_FIELD`;
    /// no parent matches → `INVALID_FIELD` `Foreign key external ID: … not found …`;
    /// several match → `DUPLICATE_EXTERNAL_ID`.
    pub(crate) fn foreign_reference<'o>(
        &self,
        o: &'o ObjectSchema,
        key: &str,
        v: &Value,
    ) -> Result<Option<(&'o FieldDef, String)>, SfError> {
        let Value::Object(inner) = v else {
            return Ok(None);
        };
        let Some(f) = o.fields.iter().find(|f| {
            f.field_type == FieldType::Reference
                && f.relationship_name()
                    .is_some_and(|r| r.eq_ignore_ascii_case(key))
        }) else {
            return Ok(None);
        };
        let target_name = inner
            .get("attributes")
            .and_then(|a| a.get("type"))
            .and_then(Value::as_str)
            .or_else(|| f.reference_to.first().map(String::as_str))
            .unwrap_or_default();
        let target = self
            .schema
            .object(target_name)
            .ok_or_else(|| no_such_column(key, &o.name))?;
        let mut pairs = inner.iter().filter(|(k, _)| *k != "attributes");
        let (Some((ext, value)), None) = (pairs.next(), pairs.next()) else {
            return Err(invalid_field(format!(
                "The relationship {key} must name exactly one external id field of {}",
                target.name
            )));
        };
        let ext_field = target
            .field(ext)
            .filter(|x| x.external_id || x.field_type == FieldType::Id)
            .ok_or_else(|| {
                invalid_field(format!(
                    "Field name provided, {ext} is not an External ID or indexed field for {}",
                    target.name
                ))
            })?;
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => return Err(cannot_deserialize("string", other)),
        };
        let matches = self.find_by_field(&target.name, &ext_field.name, &value)?;
        match matches.as_slice() {
            [id] => Ok(Some((f, id.clone()))),
            [] => Err(invalid_field(format!(
                "Foreign key external ID: {value} not found for field {} in entity {}",
                ext_field.name, target.name
            ))
            .with_fields(Vec::<String>::new())),
            _ => Err(SfError::bad_request(
                "DUPLICATE_EXTERNAL_ID",
                format!(
                    "Foreign key external ID: {value} matched more than one record for field {} in entity {}",
                    ext_field.name, target.name
                ),
            )
            .with_fields(Vec::<String>::new())),
        }
    }

    /// Converts a JSON body value to the stored value of field `f`.
    pub(super) fn coerce(
        &self,
        o: &ObjectSchema,
        f: &FieldDef,
        v: &Value,
    ) -> Result<Value, SfError> {
        let v = coerce_value(f, v)?;
        if f.field_type == FieldType::Reference
            && let Value::String(id) = &v
        {
            self.check_reference(o, f, id)?;
        }
        Ok(v)
    }

    pub(super) fn check_reference(
        &self,
        _o: &ObjectSchema,
        f: &FieldDef,
        id18: &str,
    ) -> Result<(), SfError> {
        let label = f.label_text();
        let target = self.schema.object_by_prefix(&id18[..3]);
        let allowed = target.is_some_and(|t| {
            f.reference_to
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&t.name))
        });
        if !allowed {
            return Err(SfError::bad_request(
                "FIELD_INTEGRITY_EXCEPTION",
                format!("{label}: id value of incorrect type: {id18}"),
            )
            .with_fields([f.name.clone()]));
        }
        let exists = self.find(id18).is_some_and(|(_, r)| !is_deleted(r));
        if !exists {
            return Err(SfError::bad_request(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
            )
            .with_fields([f.name.clone()]));
        }
        Ok(())
    }
}
