//! Reads: record iteration, lookup by id, and lookup by field value.

use serde_json::Value;

use super::{FieldType, ObjectSchema, Org, Record, SfError, check_id, is_deleted, same_value};
use crate::ids;

impl Org {
    /// Every record of the object, deleted ones included, in creation order.
    pub(crate) fn all_records<'a>(&'a self, object: &str) -> impl Iterator<Item = &'a Record> + 'a {
        let name = self
            .schema
            .object(object)
            .map(|o| o.name.as_str())
            .unwrap_or("");
        self.tables.get(name).into_iter().flat_map(|t| t.values())
    }

    /// Live (not deleted) records of the object, in creation order.
    pub(crate) fn live_records<'a>(
        &'a self,
        object: &str,
    ) -> impl Iterator<Item = &'a Record> + 'a {
        self.all_records(object).filter(|r| !is_deleted(r))
    }

    /// Number of live records of the object.
    pub(crate) fn count(&self, object: &str) -> usize {
        self.live_records(object).count()
    }

    /// Any record by id (15 or 18 characters), deleted ones included; `None` if unknown.
    pub(crate) fn find(&self, id: &str) -> Option<(&ObjectSchema, &Record)> {
        let id18 = ids::to_18(id)?;
        let object = self.schema.object_by_prefix(&id18[..3])?;
        let rec = self.tables.get(&object.name)?.get(&id18)?;
        Some((object, rec))
    }

    /// Resolves a record id of `object` for REST: `MALFORMED_ID` when the text is not an
    /// id of this object, `NOT_FOUND` when unknown, `ENTITY_IS_DELETED` when deleted.
    pub(crate) fn retrieve(&self, object: &str, id: &str) -> Result<&Record, SfError> {
        let o = self.object_or_404(object)?;
        let id18 = check_id(o, id)?;
        let rec = self
            .tables
            .get(&o.name)
            .and_then(|t| t.get(&id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(rec) {
            return Err(SfError::entity_is_deleted());
        }
        Ok(rec)
    }

    /// Live records of `object` whose `field` equals `value` (external-id semantics:
    /// text compared case-insensitively, numbers numerically, ids in either length), in
    /// creation order. External-id and unique fields are answered from their index, `Id`
    /// from the table; other fields are scanned.
    pub(crate) fn find_by_field(
        &self,
        object: &str,
        field: &str,
        value: &str,
    ) -> Result<Vec<String>, SfError> {
        let o = self.object_or_404(object)?;
        let f = o.field(field).ok_or_else(SfError::not_found)?;
        let name = f.name.clone();
        let ft = f.field_type;
        let wanted = match ft {
            FieldType::Id | FieldType::Reference => match ids::to_18(value) {
                Some(v) => Value::String(v),
                None => return Ok(Vec::new()),
            },
            _ => Value::String(value.to_owned()),
        };
        if name == "Id" {
            // Records are keyed by their 18-character id.
            let id = wanted.as_str().unwrap_or_default();
            let hit = self
                .tables
                .get(&o.name)
                .and_then(|t| t.get(id))
                .is_some_and(|r| {
                    !is_deleted(r) && r.get(&name).is_some_and(|v| same_value(ft, v, &wanted))
                });
            return Ok(if hit { vec![id.to_owned()] } else { Vec::new() });
        }
        if let Some(ids) = self.indexed_matches(&o.name, &name, &wanted) {
            return Ok(ids);
        }
        Ok(self
            .live_records(&o.name)
            .filter(|r| r.get(&name).is_some_and(|v| same_value(ft, v, &wanted)))
            .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }
}
