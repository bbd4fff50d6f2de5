//! STABLE SEAM: used by bulk ingest (and by the REST and Collections routes).
//!
//! The org state: schema plus records, and the crate-internal DML every write path
//! goes through, so REST, Collections and Bulk validate identically.
//!
//! Seam summary (signatures are kept stable; add, don't change):
//! - [`Org::create`], [`Org::update`], [`Org::upsert`] (→ [`UpsertError::MultipleMatches`]),
//!   [`Org::delete`], [`Org::retrieve`];
//! - field maps are JSON objects keyed by field names in any casing; an `attributes`
//!   key is ignored; values are JSON as a REST body would carry them; a parent may be
//!   given by external id as `{"Account": {"Ext__c": "A1"}}` (see [`Org::foreign_reference`]),
//!   which is how a Bulk `Account.Ext__c` column can be passed on;
//! - schema lookups: [`Org::object`] (case-insensitive) → [`ObjectSchema::field`]
//!   (case-insensitive) → [`FieldDef`] (`field_type`, `max_length()`, `required`,
//!   `external_id`, `unique`, `createable()`, `updateable()`);
//! - CSV cells: [`csv_value`] turns one Bulk CSV cell into `None` (empty: leave the field
//!   unchanged) or `Some(value)` (`#N/A` → `Some(Null)`), ready for create/update/upsert;
//! - transactions: [`Org::begin`] / [`Org::commit`] / [`Org::rollback`] (all-or-none);
//! - [`SfError`] (`status`, `error_code`, `message`, `fields`) renders as the REST error
//!   array; `to_item_json()` gives the Collections per-item (`statusCode`) form;
//! - [`BulkJobSnapshot`]: what `Emulator::bulk_jobs()` returns.
//!
//! Stored value formats (what SOQL sees): text and ids as JSON strings (ids always in
//! 18-character form), numbers as JSON numbers, booleans as JSON booleans, dates as
//! `"YYYY-MM-DD"`, datetimes as `"YYYY-MM-DDTHH:MM:SS.sss+0000"` (UTC), null as null.
//! Records are sparse: a field whose value is null is not stored (every reader treats an
//! absent field as null; [`full_record`] and [`render_record`] fill every field in schema
//! order), so a record costs memory for the fields it holds only.

mod convert;
mod dml;
mod fields;
mod index;
mod lookup;
mod reads;
mod record;
mod reference;
mod render;
mod snapshot;
mod values;

use std::collections::BTreeMap;

use serde_json::Value;

pub(crate) use crate::error::SfError;
use crate::fasthash::FastMap;
use crate::ids;
pub(crate) use crate::schema::{FieldDef, FieldType, ObjectSchema};
use crate::schema::{ObjectDef, Schema};
pub use convert::LeadConversion;
pub(crate) use dml::UpsertError;
pub(crate) use fields::{RecordBody, WriteFields};
use index::FieldIndex;
pub(crate) use render::{full_record, render_record};
pub use snapshot::BulkJobSnapshot;
use values::same_value;
pub(crate) use values::{coerce_value, csv_value, now_string};

pub(crate) use record::{Name, Record, intern};

/// One undo-log entry: what the slot `object`/`id` held before a write (`None`: no record).
#[derive(Debug)]
struct Undo {
    object: String,
    id: String,
    old: Option<Record>,
}

/// The org: schema, records per object, field indexes, id counter, and an optional undo log.
///
/// `tables` and `indexes` change only in [`Org::set_record`] (records) and
/// [`Org::sync_indexes`] (new indexed fields), so the indexes cannot fall out of step.
#[derive(Debug)]
pub(crate) struct Org {
    schema: Schema,
    /// Canonical object name → id → record (ids sort in creation order).
    tables: FastMap<String, BTreeMap<String, Record>>,
    /// Canonical object name → canonical field name → index of the live records, for
    /// every field that is an external id, unique, or an e-mail field.
    indexes: FastMap<String, FastMap<String, FieldIndex>>,
    next_id: u64,
    next_case_number: u64,
    /// Undo log of the open transactions (empty when none is open).
    undo: Vec<Undo>,
    /// Start of each open transaction in `undo` (savepoints; innermost last).
    marks: Vec<usize>,
}

impl Default for Org {
    fn default() -> Self {
        Org::new()
    }
}

fn invalid_field(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALID_FIELD", message)
}

impl Org {
    /// An org with the standard objects and no records.
    pub(crate) fn new() -> Self {
        let mut org = Org {
            schema: Schema::standard(),
            tables: FastMap::default(),
            indexes: FastMap::default(),
            next_id: 1,
            next_case_number: 1001,
            undo: Vec::new(),
            marks: Vec::new(),
        };
        org.sync_indexes();
        org
    }

    // ----- schema -----

    /// All objects, in definition order.
    pub(crate) fn objects(&self) -> &[ObjectSchema] {
        self.schema.objects()
    }

    /// Looks an object up case-insensitively.
    pub(crate) fn object(&self, name: &str) -> Option<&ObjectSchema> {
        self.schema.object(name)
    }

    /// Adds a custom object (or extends an existing object with its fields).
    pub(crate) fn add_object(&mut self, def: ObjectDef) -> Result<(), crate::EmulatorError> {
        let added = self.schema.add_object(def);
        // Extending an object may have added some fields before failing on another.
        self.sync_indexes();
        added
    }

    /// Adds a custom field to an object.
    pub(crate) fn add_field(
        &mut self,
        object: &str,
        f: FieldDef,
    ) -> Result<(), crate::EmulatorError> {
        self.schema.add_field(object, f)?;
        self.sync_indexes();
        Ok(())
    }

    /// Builds the index of every external-id or unique field that has none yet, from the
    /// object's live records. Schema changes only add fields (a field's flags never
    /// change), so existing indexes stay valid.
    fn sync_indexes(&mut self) {
        for o in self.schema.objects() {
            for f in o.fields.iter().filter(|f| is_indexed(f)) {
                let fields = self.indexes.entry(o.name.clone()).or_default();
                if fields.contains_key(&f.name) {
                    continue;
                }
                let mut idx = FieldIndex::new(f.field_type);
                let live = self
                    .tables
                    .get(&o.name)
                    .into_iter()
                    .flatten()
                    .filter(|(_, r)| !is_deleted(r));
                for (id, r) in live {
                    idx.replace(id, None, r.get(&f.name));
                }
                fields.insert(f.name.clone(), idx);
            }
        }
    }

    /// The single place records change: puts `rec` in slot `object`/`id` (`None` removes
    /// the record), moves the record between the slots of every index of the object
    /// (deleted records are not indexed), and logs the slot's old content while a
    /// transaction is open. `object` is the canonical object name.
    fn set_record(&mut self, object: &str, id: &str, rec: Option<Record>) {
        if !self.tables.contains_key(object) {
            self.tables.insert(object.to_owned(), BTreeMap::new());
        }
        let Some(table) = self.tables.get_mut(object) else {
            return;
        };
        if let Some(fields) = self.indexes.get_mut(object) {
            let live = |r: &&Record| !is_deleted(r);
            let before = table.get(id).filter(live);
            let after = rec.as_ref().filter(live);
            for (name, idx) in fields.iter_mut() {
                idx.replace(
                    id,
                    before.and_then(|r| r.get(name)),
                    after.and_then(|r| r.get(name)),
                );
            }
        }
        let old = match rec {
            Some(rec) => table.insert(id.to_owned(), rec),
            None => table.remove(id),
        };
        if !self.marks.is_empty() {
            self.undo.push(Undo {
                object: object.to_owned(),
                id: id.to_owned(),
                old,
            });
        }
    }

    /// Live record ids of `object` whose `field` matches `wanted` (per `same_value`), in
    /// creation order, from the field's index; `None` when the field has no index or the
    /// index cannot answer for this value (the caller then scans).
    fn indexed_matches(&self, object: &str, field: &str, wanted: &Value) -> Option<Vec<String>> {
        let idx = self.indexes.get(object)?.get(field)?;
        let candidates = idx.candidates(wanted)?;
        let table = self.tables.get(object);
        Some(
            candidates
                .into_iter()
                .filter(|id| {
                    table.and_then(|t| t.get(*id)).is_some_and(|r| {
                        !is_deleted(r)
                            && r.get(field)
                                .is_some_and(|v| same_value(idx.field_type(), v, wanted))
                    })
                })
                .map(str::to_owned)
                .collect(),
        )
    }

    fn object_or_404(&self, name: &str) -> Result<&ObjectSchema, SfError> {
        self.schema.object(name).ok_or_else(SfError::not_found)
    }

    // ----- transactions -----

    /// Opens a transaction (all-or-none). Transactions nest: an inner one (a Collections
    /// request inside an all-or-none Composite call) is a savepoint of the outer one.
    pub(crate) fn begin(&mut self) {
        self.marks.push(self.undo.len());
    }

    /// Keeps the changes since the matching [`Org::begin`] (they stay revertible by an
    /// enclosing transaction).
    pub(crate) fn commit(&mut self) {
        self.marks.pop();
        if self.marks.is_empty() {
            self.undo.clear();
        }
    }

    /// Reverts every change since the matching [`Org::begin`].
    pub(crate) fn rollback(&mut self) {
        let Some(mark) = self.marks.pop() else { return };
        let log = self.undo.split_off(mark);
        // Replayed with no transaction open at this level, then the outer log is restored,
        // so these writes are not logged twice.
        let outer = std::mem::take(&mut self.marks);
        for Undo { object, id, old } in log.into_iter().rev() {
            self.set_record(&object, &id, old);
        }
        self.marks = outer;
    }
}

/// Whether a field has a value index: external ids and unique fields (upserts, references,
/// `DUPLICATE_VALUE`) and e-mail fields (standard lookup fields SOQL filters on).
fn is_indexed(f: &FieldDef) -> bool {
    f.external_id || f.unique || f.field_type == FieldType::Email
}

/// Whether a stored record is soft-deleted.
pub(crate) fn is_deleted(r: &Record) -> bool {
    matches!(r.get("IsDeleted"), Some(Value::Bool(true)))
}

/// Normalises `id` as an id of object `o`, or `MALFORMED_ID`.
pub(crate) fn check_id(o: &ObjectSchema, id: &str) -> Result<String, SfError> {
    match ids::to_18(id) {
        Some(id18) if id18.starts_with(o.key_prefix.as_str()) => Ok(id18),
        _ => Err(SfError::malformed_id(&o.label, id)),
    }
}

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod tests;
