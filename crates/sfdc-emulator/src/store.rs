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
//! Every record holds every field of its object (absent = null), in schema order.

mod index;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Number, Value};

pub(crate) use crate::error::SfError;
use crate::ids;
pub(crate) use crate::schema::{FieldDef, FieldType, ObjectSchema};
use crate::schema::{ObjectDef, Schema};
use index::FieldIndex;

/// A stored record: canonical field name → value.
pub(crate) type Record = Map<String, Value>;

/// A Bulk API 2.0 ingest job as the library API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkJobSnapshot {
    /// Job id (`750...`).
    pub id: String,
    /// Object API name.
    pub object: String,
    /// `insert`, `update`, `upsert`, `delete` or `hardDelete`.
    pub operation: String,
    /// `Open`, `UploadComplete`, `InProgress`, `JobComplete`, `Failed` or `Aborted`.
    pub state: String,
    /// External id field for upsert jobs.
    pub external_id_field_name: Option<String>,
    /// Rows processed (successful + failed).
    pub number_records_processed: u64,
    /// Rows that failed.
    pub number_records_failed: u64,
}

impl BulkJobSnapshot {
    /// A snapshot with zero counts.
    pub fn new(
        id: impl Into<String>,
        object: impl Into<String>,
        operation: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        BulkJobSnapshot {
            id: id.into(),
            object: object.into(),
            operation: operation.into(),
            state: state.into(),
            external_id_field_name: None,
            number_records_processed: 0,
            number_records_failed: 0,
        }
    }
}

/// Why an upsert did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpsertError {
    /// Several live records carry the external id value: their 18-character ids.
    MultipleMatches(Vec<String>),
    /// Any other failure.
    Failed(SfError),
}

impl From<SfError> for UpsertError {
    fn from(e: SfError) -> Self {
        UpsertError::Failed(e)
    }
}

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
    tables: HashMap<String, BTreeMap<String, Record>>,
    /// Canonical object name → canonical field name → index of the live records, for
    /// every field that is an external id or unique.
    indexes: HashMap<String, HashMap<String, FieldIndex>>,
    next_id: u64,
    next_case_number: u64,
    undo: Option<Vec<Undo>>,
}

impl Default for Org {
    fn default() -> Self {
        Org::new()
    }
}

/// Current time in Salesforce's datetime output format.
pub(crate) fn now_string() -> String {
    format_datetime(Utc::now())
}

/// Formats a datetime as `YYYY-MM-DDTHH:MM:SS.sss+0000`.
pub(crate) fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn invalid_field(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALID_FIELD", message)
}

/// Whether a write creates a record or changes an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}

/// `REQUIRED_FIELD_MISSING` for required fields a write leaves empty: on create, those absent or
/// null; on update, those explicitly set to null (absent ones keep their value).
fn require_fields(
    o: &ObjectSchema,
    given: &HashMap<&str, Value>,
    write: Write,
) -> Result<(), SfError> {
    let missing: Vec<String> = o
        .fields
        .iter()
        .filter(|f| f.required)
        .filter(|f| match (write, given.get(f.name.as_str())) {
            (Write::Create, value) => value.is_none_or(Value::is_null),
            (Write::Update, value) => value.is_some_and(Value::is_null),
        })
        .map(|f| f.name.clone())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(SfError::bad_request(
        "REQUIRED_FIELD_MISSING",
        format!("Required fields are missing: [{}]", missing.join(", ")),
    )
    .with_fields(missing))
}

fn not_writable(field: &str) -> SfError {
    SfError::bad_request(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        format!(
            "Unable to create/update fields: {field}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
        ),
    )
    .with_fields([field])
}

fn no_such_column(field: &str, object: &str) -> SfError {
    invalid_field(format!(
        "No such column '{field}' on sobject of type {object}"
    ))
}

impl Org {
    /// An org with the standard objects and no records.
    pub(crate) fn new() -> Self {
        let mut org = Org {
            schema: Schema::standard(),
            tables: HashMap::new(),
            indexes: HashMap::new(),
            next_id: 1,
            next_case_number: 1001,
            undo: None,
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
            for f in o.fields.iter().filter(|f| f.external_id || f.unique) {
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
        if let Some(log) = &mut self.undo {
            log.push(Undo {
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

    // ----- reads -----

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

    // ----- transactions -----

    /// Starts recording an undo log (all-or-none). Nested calls are not supported.
    pub(crate) fn begin(&mut self) {
        self.undo = Some(Vec::new());
    }

    /// Keeps the changes since [`Org::begin`].
    pub(crate) fn commit(&mut self) {
        self.undo = None;
    }

    /// Reverts every change since [`Org::begin`].
    pub(crate) fn rollback(&mut self) {
        let Some(log) = self.undo.take() else { return };
        // The log is taken, so these writes are not logged again.
        for Undo { object, id, old } in log.into_iter().rev() {
            self.set_record(&object, &id, old);
        }
    }

    /// Resolves a write body to canonical field names and stored values: skips `attributes`
    /// (and `Id`, which callers check), resolves parent references given by external id, and
    /// rejects unknown (`INVALID_FIELD`) or read-only (`INVALID_FIELD_FOR_INSERT_UPDATE`) fields.
    fn writable_values<'o>(
        &self,
        o: &'o ObjectSchema,
        fields: &Map<String, Value>,
        write: Write,
    ) -> Result<HashMap<&'o str, Value>, SfError> {
        let mut given: HashMap<&str, Value> = HashMap::with_capacity(fields.len());
        for (k, v) in fields {
            if k == "attributes" || k.eq_ignore_ascii_case("Id") {
                continue;
            }
            if let Some((f, id)) = self.foreign_reference(o, k, v)? {
                given.insert(f.name.as_str(), Value::String(id));
                continue;
            }
            let f = o.field(k).ok_or_else(|| no_such_column(k, &o.name))?;
            let writable = match write {
                Write::Create => f.createable(),
                Write::Update => f.updateable(),
            };
            if !writable {
                return Err(not_writable(&f.name));
            }
            given.insert(f.name.as_str(), self.coerce(o, f, v)?);
        }
        Ok(given)
    }

    // ----- DML -----

    /// Creates a record and returns its 18-character id.
    ///
    /// Errors: `NOT_FOUND` (unknown object), `INVALID_FIELD` (`Id` given, unknown field),
    /// `INVALID_FIELD_FOR_INSERT_UPDATE` (system field), `JSON_PARSER_ERROR` (wrong type),
    /// `STRING_TOO_LONG`, `INVALID_EMAIL_ADDRESS`, `MALFORMED_ID` /
    /// `INVALID_CROSS_REFERENCE_KEY` (bad lookup), `REQUIRED_FIELD_MISSING`, `DUPLICATE_VALUE`.
    pub(crate) fn create(
        &mut self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<String, SfError> {
        let o = self.object_or_404(object)?;
        if fields.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
            return Err(invalid_field(
                "The Id field should not be specified in the sobject data.",
            ));
        }
        let mut given = self.writable_values(o, fields, Write::Create)?;
        require_fields(o, &given, Write::Create)?;
        self.check_unique(o, &given, None)?;

        let id = ids::make_id(&o.key_prefix, self.next_id);
        let now = now_string();
        let mut rec = Record::with_capacity(o.fields.len());
        for f in &o.fields {
            let v = match f.name.as_str() {
                "Id" => Value::String(id.clone()),
                "IsDeleted" => Value::Bool(false),
                "CreatedDate" | "LastModifiedDate" | "SystemModstamp" => Value::String(now.clone()),
                "CaseNumber" if !o.custom => Value::String(format!("{:08}", self.next_case_number)),
                name => match given.remove(name) {
                    Some(v) => v,
                    None => f.default_on_create.clone().unwrap_or(Value::Null),
                },
            };
            rec.insert(f.name.clone(), v);
        }
        compute_name(o, &mut rec);
        let object_name = o.name.clone();
        if object_name == "Case" {
            self.next_case_number += 1;
        }
        self.next_id += 1;
        self.set_record(&object_name, &id, Some(rec));
        Ok(id)
    }

    /// Updates a record and returns its 18-character id.
    ///
    /// An `Id` key in `fields` is ignored (Collections bodies carry it). Errors as
    /// [`Org::create`], plus `MALFORMED_ID`, `NOT_FOUND`, `ENTITY_IS_DELETED`; setting a
    /// required field to null gives `REQUIRED_FIELD_MISSING`.
    pub(crate) fn update(
        &mut self,
        object: &str,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<String, SfError> {
        let o = self.object_or_404(object)?;
        let id18 = check_id(o, id)?;
        let current = self
            .tables
            .get(&o.name)
            .and_then(|t| t.get(&id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(current) {
            return Err(SfError::entity_is_deleted());
        }
        let given = self.writable_values(o, fields, Write::Update)?;
        require_fields(o, &given, Write::Update)?;
        self.check_unique(o, &given, Some(&id18))?;
        let mut rec = current.clone();
        for (k, v) in given {
            rec.insert(k.to_owned(), v);
        }
        let now = now_string();
        rec.insert("LastModifiedDate".into(), Value::String(now.clone()));
        rec.insert("SystemModstamp".into(), Value::String(now));
        compute_name(o, &mut rec);
        let object_name = o.name.clone();
        self.set_record(&object_name, &id18, Some(rec));
        Ok(id18)
    }

    /// Upserts by external id: returns `(id, created)`.
    ///
    /// `ext_field` may be `Id` (an empty `value` then creates). Errors: `NOT_FOUND` 404 when
    /// the field does not exist or is not an external id; `INVALID_FIELD` when `fields`
    /// carries `Id` or a different value for the external id field;
    /// [`UpsertError::MultipleMatches`] when several records match; otherwise as
    /// create/update.
    pub(crate) fn upsert(
        &mut self,
        object: &str,
        ext_field: &str,
        value: &str,
        fields: &Map<String, Value>,
    ) -> Result<(String, bool), UpsertError> {
        let o = self.object_or_404(object)?;
        let f = o.field(ext_field).ok_or_else(SfError::not_found)?;
        if f.field_type == FieldType::Id {
            if value.is_empty() {
                return Ok((self.create(object, fields)?, true));
            }
            return Ok((self.update(object, value, fields)?, false));
        }
        if !f.external_id {
            return Err(SfError::not_found().into());
        }
        let ext_name = f.name.clone();
        let mut body = Map::with_capacity(fields.len() + 1);
        for (k, v) in fields {
            if k.eq_ignore_ascii_case("Id") {
                return Err(invalid_field(
                    "Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                )
                .into());
            }
            if k.eq_ignore_ascii_case(&ext_name) {
                let same = match v {
                    Value::String(s) => s.eq_ignore_ascii_case(value),
                    Value::Number(n) => n.to_string() == value,
                    _ => false,
                };
                if !same {
                    return Err(invalid_field(format!(
                        "Unable to create/update fields: {ext_name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."
                    ))
                    .with_fields([ext_name.clone()])
                    .into());
                }
                continue;
            }
            body.insert(k.clone(), v.clone());
        }
        let matches = self.find_by_field(object, &ext_name, value)?;
        match matches.len() {
            0 => {
                body.insert(ext_name, Value::String(value.to_owned()));
                Ok((self.create(object, &body)?, true))
            }
            1 => {
                let id = matches.into_iter().next().unwrap_or_default();
                Ok((self.update(object, &id, &body)?, false))
            }
            _ => Err(UpsertError::MultipleMatches(matches)),
        }
    }

    /// Deletes (soft-deletes: `IsDeleted` true, kept for queryAll) a record by id and
    /// returns its 18-character id.
    ///
    /// Errors: `MALFORMED_ID` (not an id of a known object), `NOT_FOUND`, `ENTITY_IS_DELETED`.
    pub(crate) fn delete(&mut self, id: &str) -> Result<String, SfError> {
        let object = ids::to_18(id)
            .and_then(|id18| {
                self.schema
                    .object_by_prefix(&id18[..3])
                    .map(|o| o.name.clone())
            })
            .ok_or_else(|| SfError::malformed_id("Record", id))?;
        self.delete_in(&object, id)
    }

    /// Deletes a record of `object` (REST path form: the id must belong to `object`).
    pub(crate) fn delete_in(&mut self, object: &str, id: &str) -> Result<String, SfError> {
        let o = self.object_or_404(object)?;
        let id18 = check_id(o, id)?;
        let object_name = o.name.clone();
        let current = self
            .tables
            .get(&object_name)
            .and_then(|t| t.get(&id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(current) {
            return Err(SfError::entity_is_deleted());
        }
        let mut rec = current.clone();
        rec.insert("IsDeleted".into(), Value::Bool(true));
        let now = now_string();
        rec.insert("LastModifiedDate".into(), Value::String(now.clone()));
        rec.insert("SystemModstamp".into(), Value::String(now));
        self.set_record(&object_name, &id18, Some(rec));
        Ok(id18)
    }

    // ----- validation helpers -----

    fn check_unique(
        &self,
        o: &ObjectSchema,
        given: &HashMap<&str, Value>,
        except: Option<&str>,
    ) -> Result<(), SfError> {
        for f in o.fields.iter().filter(|f| f.unique) {
            let Some(v) = given.get(f.name.as_str()) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let dup = match self.indexed_matches(&o.name, &f.name, v) {
                Some(ids) => ids.into_iter().find(|id| Some(id.as_str()) != except),
                None => self
                    .live_records(&o.name)
                    .filter(|r| {
                        r.get(&f.name)
                            .is_some_and(|x| same_value(f.field_type, x, v))
                    })
                    .filter_map(|r| r.get("Id").and_then(Value::as_str))
                    .find(|id| Some(*id) != except)
                    .map(str::to_owned),
            };
            if let Some(other) = dup {
                return Err(SfError::bad_request(
                    "DUPLICATE_VALUE",
                    format!(
                        "duplicate value found: {} duplicates value on record with id: {other}",
                        f.name
                    ),
                )
                .with_fields(Vec::<String>::new()));
            }
        }
        Ok(())
    }

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
    fn coerce(&self, o: &ObjectSchema, f: &FieldDef, v: &Value) -> Result<Value, SfError> {
        let v = coerce_value(f, v)?;
        if f.field_type == FieldType::Reference
            && let Value::String(id) = &v
        {
            self.check_reference(o, f, id)?;
        }
        Ok(v)
    }

    fn check_reference(&self, _o: &ObjectSchema, f: &FieldDef, id18: &str) -> Result<(), SfError> {
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

fn compute_name(o: &ObjectSchema, rec: &mut Record) {
    if o.custom || !(o.name == "Lead" || o.name == "Contact") {
        return;
    }
    let first = rec.get("FirstName").and_then(Value::as_str).unwrap_or("");
    let last = rec.get("LastName").and_then(Value::as_str).unwrap_or("");
    let name = match (first.is_empty(), last.is_empty()) {
        (true, _) => last.to_owned(),
        (false, true) => first.to_owned(),
        (false, false) => format!("{first} {last}"),
    };
    rec.insert(
        "Name".into(),
        if name.is_empty() {
            Value::Null
        } else {
            Value::String(name)
        },
    );
}

/// External-id / unique comparison of two stored (or raw string) values.
fn same_value(ft: FieldType, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => match ft {
            FieldType::Id | FieldType::Reference => x == y,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
                x.parse::<f64>().ok() == y.parse::<f64>().ok()
            }
            // Case-insensitive; allocate lower-cased copies only when a side is not ASCII.
            _ => {
                x.eq_ignore_ascii_case(y)
                    || (!(x.is_ascii() && y.is_ascii()) && x.to_lowercase() == y.to_lowercase())
            }
        },
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            y.parse::<f64>().ok() == x.as_f64()
        }
        _ => a == b,
    }
}

fn token_name(v: &Value) -> (&'static str, String) {
    match v {
        Value::Null => ("VALUE_NULL", "null".into()),
        Value::Bool(true) => ("VALUE_TRUE", "true".into()),
        Value::Bool(false) => ("VALUE_FALSE", "false".into()),
        Value::Number(n) if n.is_f64() => ("VALUE_NUMBER_FLOAT", n.to_string()),
        Value::Number(n) => ("VALUE_NUMBER_INT", n.to_string()),
        Value::String(s) => ("VALUE_STRING", s.clone()),
        Value::Array(_) => ("START_ARRAY", "[".into()),
        Value::Object(_) => ("START_OBJECT", "{".into()),
    }
}

fn cannot_deserialize(kind: &str, v: &Value) -> SfError {
    let (token, text) = token_name(v);
    SfError::json_parser(format!(
        "Cannot deserialize instance of {kind} from {token} value {text} or request may be missing a required field"
    ))
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Converts a JSON value (REST body form) to the stored value of field `f`, checking
/// type, length and format. Reference existence is checked by the store.
pub(crate) fn coerce_value(f: &FieldDef, v: &Value) -> Result<Value, SfError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let ft = f.field_type;
    match ft {
        _ if ft.is_text() => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(cannot_deserialize("string", v)),
            };
            let max = f.max_length() as usize;
            if max > 0 && s.chars().count() > max {
                return Err(SfError::bad_request(
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {s} (max length={max})",
                        f.label_text()
                    ),
                )
                .with_fields([f.name.clone()]));
            }
            if ft == FieldType::Email && !s.is_empty() && !valid_email(&s) {
                return Err(SfError::bad_request(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", f.label_text()),
                )
                .with_fields([f.name.clone()]));
            }
            if s.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::String(s))
        }
        FieldType::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                    Ok(Value::Number(Number::from(x as i64)))
                }
                _ => Err(cannot_deserialize("int", v)),
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .map_err(|_| cannot_deserialize("int", v)),
            _ => Err(cannot_deserialize("int", v)),
        },
        FieldType::Double | FieldType::Currency | FieldType::Percent => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| cannot_deserialize("double", v)),
            _ => Err(cannot_deserialize("double", v)),
        },
        FieldType::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(cannot_deserialize("boolean", v)),
        },
        FieldType::Date => match v {
            Value::String(s) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .or_else(|| parse_datetime(s).map(|t| t.date_naive()));
                date.map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                    .ok_or_else(|| cannot_deserialize("date", v))
            }
            _ => Err(cannot_deserialize("date", v)),
        },
        FieldType::Datetime => match v {
            Value::String(s) => parse_datetime(s)
                .map(|t| Value::String(format_datetime(t)))
                .ok_or_else(|| cannot_deserialize("datetime", v)),
            _ => Err(cannot_deserialize("datetime", v)),
        },
        FieldType::Id | FieldType::Reference => match v {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => ids::to_18(s).map(Value::String).ok_or_else(|| {
                SfError::bad_request(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {s}", f.label_text()),
                )
                .with_fields([f.name.clone()])
            }),
            _ => Err(cannot_deserialize("id", v)),
        },
        _ => Err(cannot_deserialize("string", v)),
    }
}

/// Converts one Bulk CSV cell for field `f`.
///
/// Returns `Ok(None)` for an empty cell (leave the field unchanged / unset),
/// `Ok(Some(Value::Null))` for `#N/A`, and otherwise the value to put in the field map
/// given to create/update/upsert. Booleans accept `true`/`false`/`1`/`0` in any case;
/// numbers, dates and datetimes use the Bulk CSV formats. Errors use the same codes as
/// REST (`JSON_PARSER_ERROR` for a value of the wrong type, `STRING_TOO_LONG`, ...).
pub(crate) fn csv_value(f: &FieldDef, raw: &str) -> Result<Option<Value>, SfError> {
    if raw.is_empty() {
        return Ok(None);
    }
    if raw == "#N/A" {
        return Ok(Some(Value::Null));
    }
    let v = match f.field_type {
        FieldType::Boolean => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => {
                return Err(cannot_deserialize(
                    "boolean",
                    &Value::String(raw.to_owned()),
                ));
            }
        },
        _ => Value::String(raw.to_owned()),
    };
    coerce_value(f, &v).map(Some)
}

/// A record with `attributes` first, for REST output; `fields` limits the keys
/// (case-insensitive; `None` = all).
pub(crate) fn render_record(
    o: &ObjectSchema,
    rec: &Record,
    version: &str,
    fields: Option<&[&str]>,
) -> Result<Value, SfError> {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::with_capacity(rec.len() + 1);
    let mut attrs = Map::with_capacity(2);
    attrs.insert("type".into(), Value::String(o.name.clone()));
    attrs.insert(
        "url".into(),
        Value::String(format!(
            "/services/data/v{version}/sobjects/{}/{id}",
            o.name
        )),
    );
    out.insert("attributes".into(), Value::Object(attrs));
    match fields {
        None => {
            for (k, v) in rec {
                out.insert(k.clone(), v.clone());
            }
        }
        Some(list) => {
            for name in list {
                let f = o.field(name.trim()).ok_or_else(|| {
                    invalid_field(format!("No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name.trim(), o.name))
                })?;
                out.insert(
                    f.name.clone(),
                    rec.get(&f.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn create_validates_like_salesforce() {
        let mut org = Org::new();
        let e = org
            .create("Lead", &obj(json!({"FirstName":"A"})))
            .unwrap_err();
        assert_eq!(e.error_code, "REQUIRED_FIELD_MISSING");
        assert_eq!(
            e.message,
            "Required fields are missing: [LastName, Company]"
        );
        let e = org
            .create("Lead", &obj(json!({"Id":"x","LastName":"A","Company":"C"})))
            .unwrap_err();
        assert_eq!(e.error_code, "INVALID_FIELD");
        let e = org.create("Lead", &obj(json!({"Foo__c":1}))).unwrap_err();
        assert_eq!(e.message, "No such column 'Foo__c' on sobject of type Lead");
        let e = org
            .create(
                "Lead",
                &obj(json!({"LastName":"A","Company":"C","NumberOfEmployees":"many"})),
            )
            .unwrap_err();
        assert_eq!(e.error_code, "JSON_PARSER_ERROR");
        let e = org
            .create(
                "Lead",
                &obj(json!({"LastName":"A","Company":"x".repeat(256)})),
            )
            .unwrap_err();
        assert_eq!(e.error_code, "STRING_TOO_LONG");
        let id = org
            .create("lead", &obj(json!({"lastname":"Doe","Company":"C","FirstName":"Jo","NumberOfEmployees":"12"})))
            .unwrap();
        assert!(id.starts_with("00Q") && id.len() == 18);
        let (_, rec) = org.find(&id[..15]).unwrap();
        assert_eq!(rec["Name"], json!("Jo Doe"));
        assert_eq!(rec["NumberOfEmployees"], json!(12));
        assert_eq!(rec["Status"], json!("Open - Not Contacted"));
        assert_eq!(rec["Description"], Value::Null);
    }

    #[test]
    fn upsert_creates_updates_and_reports_multiple() {
        let mut org = Org::new();
        org.add_field(
            "Account",
            FieldDef::new("Ext__c", FieldType::String).external_id(),
        )
        .unwrap();
        let (id, created) = org
            .upsert("Account", "Ext__c", "k1", &obj(json!({"Name":"A"})))
            .unwrap();
        assert!(created);
        let (id2, created) = org
            .upsert("Account", "ext__c", "K1", &obj(json!({"Name":"B"})))
            .unwrap();
        assert_eq!((id2.as_str(), created), (id.as_str(), false));
        org.create("Account", &obj(json!({"Name":"C","Ext__c":"k1"})))
            .unwrap();
        assert!(matches!(
            org.upsert("Account", "Ext__c", "k1", &obj(json!({"Name":"D"}))),
            Err(UpsertError::MultipleMatches(v)) if v.len() == 2
        ));
        assert!(matches!(
            org.upsert("Account", "Name", "x", &Map::new()),
            Err(UpsertError::Failed(e)) if e.error_code == "NOT_FOUND"
        ));
    }

    #[test]
    fn unique_fields_reject_duplicates_and_rollback_restores() {
        let mut org = Org::new();
        org.add_field(
            "Account",
            FieldDef::new("Code__c", FieldType::String).unique(),
        )
        .unwrap();
        let a = org
            .create("Account", &obj(json!({"Name":"A","Code__c":"X"})))
            .unwrap();
        let e = org
            .create("Account", &obj(json!({"Name":"B","Code__c":"x"})))
            .unwrap_err();
        assert_eq!(e.error_code, "DUPLICATE_VALUE");
        assert!(e.message.ends_with(&a));
        org.begin();
        org.update("Account", &a, &obj(json!({"Name":"A2"})))
            .unwrap();
        org.create("Account", &obj(json!({"Name":"C"}))).unwrap();
        org.delete(&a).unwrap();
        org.rollback();
        assert_eq!(org.count("Account"), 1);
        assert_eq!(org.retrieve("Account", &a).unwrap()["Name"], json!("A"));
    }

    #[test]
    fn delete_and_retrieve_errors() {
        let mut org = Org::new();
        let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
        org.delete(&a).unwrap();
        assert_eq!(org.delete(&a).unwrap_err().error_code, "ENTITY_IS_DELETED");
        assert_eq!(
            org.retrieve("Account", &a).unwrap_err().error_code,
            "ENTITY_IS_DELETED"
        );
        assert_eq!(
            org.retrieve("Account", "001xx").unwrap_err().error_code,
            "MALFORMED_ID"
        );
        let other = ids::make_id("001", 999);
        assert_eq!(
            org.retrieve("Account", &other).unwrap_err().error_code,
            "NOT_FOUND"
        );
        assert_eq!(org.all_records("Account").count(), 1);
        assert_eq!(org.live_records("Account").count(), 0);
    }

    #[test]
    fn references_are_checked() {
        let mut org = Org::new();
        let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
        org.create(
            "Contact",
            &obj(json!({"LastName":"L","AccountId":&a[..15]})),
        )
        .unwrap();
        let e = org
            .create("Contact", &obj(json!({"LastName":"L","AccountId":"abc"})))
            .unwrap_err();
        assert_eq!(e.error_code, "MALFORMED_ID");
        let e = org
            .create(
                "Contact",
                &obj(json!({"LastName":"L","AccountId":ids::make_id("001", 4242)})),
            )
            .unwrap_err();
        assert_eq!(e.error_code, "INVALID_CROSS_REFERENCE_KEY");
    }

    #[test]
    fn parents_resolve_by_external_id() {
        let mut org = Org::new();
        org.add_field(
            "Account",
            FieldDef::new("Ext__c", FieldType::String).external_id(),
        )
        .unwrap();
        let a = org
            .create("Account", &obj(json!({"Name":"A","Ext__c":"A1"})))
            .unwrap();
        let c = org
            .create(
                "Contact",
                &obj(json!({"LastName":"L","Account":{"Ext__c":"a1"}})),
            )
            .unwrap();
        assert_eq!(org.find(&c).unwrap().1["AccountId"], json!(a));
        let e = org
            .create(
                "Contact",
                &obj(json!({"LastName":"L","Account":{"Ext__c":"zz"}})),
            )
            .unwrap_err();
        assert_eq!(e.error_code, "INVALID_FIELD");
        let e = org
            .create(
                "Contact",
                &obj(json!({"LastName":"L","Account":{"Name":"A"}})),
            )
            .unwrap_err();
        assert!(e.message.contains("not an External ID"), "{}", e.message);
    }

    #[test]
    fn csv_cells_convert() {
        let org = Org::new();
        let o = org.object("Opportunity").unwrap();
        assert_eq!(csv_value(o.field("Amount").unwrap(), "").unwrap(), None);
        assert_eq!(
            csv_value(o.field("Amount").unwrap(), "#N/A").unwrap(),
            Some(Value::Null)
        );
        assert_eq!(
            csv_value(o.field("Amount").unwrap(), "12.5").unwrap(),
            Some(json!(12.5))
        );
        assert_eq!(
            csv_value(o.field("CloseDate").unwrap(), "2024-02-03").unwrap(),
            Some(json!("2024-02-03"))
        );
        assert_eq!(
            csv_value(
                o.field("CreatedDate").unwrap(),
                "2024-02-03T04:05:06.789-01:00"
            )
            .unwrap(),
            Some(json!("2024-02-03T05:05:06.789+0000"))
        );
        let lead = org.object("Lead").unwrap();
        assert_eq!(
            csv_value(lead.field("HasOptedOutOfEmail").unwrap(), "1").unwrap(),
            Some(json!(true))
        );
        assert!(csv_value(lead.field("NumberOfEmployees").unwrap(), "x").is_err());
    }
}

#[cfg(test)]
mod index_tests {
    //! The field indexes answer exactly as a scan with `same_value` would.
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Text values of the external-id field: case variants, non-ASCII, and the Kelvin
    /// sign (non-ASCII, lower-cases to ASCII `k`).
    const TEXTS: &[&str] = &[
        "a1", "A1", "b", "B", "Straße", "STRASSE", "straße", "\u{212A}", "k", "ǅ", "ǆ", "ΣΑΣ",
        "σας",
    ];
    /// Values of the unique number field.
    const NUMBERS: &[f64] = &[0.0, -0.0, 1.0, 2.5, 1e20];
    /// Number lookups as find_by_field receives them (text).
    const NUMBER_TEXTS: &[&str] = &["0", "-0", "1", "1.0", "1e0", "2.5", "1e20", "x", "NaN"];

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn org_with_fields() -> Org {
        let mut org = Org::new();
        org.add_field(
            "Account",
            FieldDef::new("Ext__c", FieldType::String).external_id(),
        )
        .unwrap();
        org.add_field(
            "Account",
            FieldDef::new("Num__c", FieldType::Double).unique(),
        )
        .unwrap();
        org
    }

    /// The brute-force answer: live records of `object` whose `field` is `same_value` as `wanted`.
    fn scan(org: &Org, object: &str, field: &str, wanted: &Value) -> Vec<String> {
        let ft = org.object(object).unwrap().field(field).unwrap().field_type;
        org.live_records(object)
            .filter(|r| r.get(field).is_some_and(|v| same_value(ft, v, wanted)))
            .map(|r| r["Id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The id `check_unique` names for `value` in `Num__c` (`None`: no duplicate).
    fn unique_conflict(org: &Org, value: Value) -> Option<String> {
        let o = org.object("Account").unwrap();
        let given = HashMap::from([("Num__c", value)]);
        org.check_unique(o, &given, None)
            .err()
            .map(|e| e.message.rsplit(' ').next().unwrap().to_owned())
    }

    /// Every lookup agrees with the scan, and the maintained indexes equal indexes
    /// rebuilt from the records.
    fn assert_index_matches_scan(org: &Org) {
        for t in TEXTS {
            assert_eq!(
                org.find_by_field("Account", "Ext__c", t).unwrap(),
                scan(org, "Account", "Ext__c", &json!(t)),
                "Ext__c = {t}"
            );
        }
        for t in NUMBER_TEXTS {
            assert_eq!(
                org.find_by_field("Account", "Num__c", t).unwrap(),
                scan(org, "Account", "Num__c", &json!(t)),
                "Num__c = {t}"
            );
        }
        for n in NUMBERS {
            let v = json!(n);
            assert_eq!(
                unique_conflict(org, v.clone()),
                scan(org, "Account", "Num__c", &v).into_iter().next(),
                "unique Num__c = {n}"
            );
        }
        let mut fresh = Org {
            schema: org.schema.clone(),
            tables: org.tables.clone(),
            indexes: HashMap::new(),
            next_id: 0,
            next_case_number: 0,
            undo: None,
        };
        fresh.sync_indexes();
        assert_eq!(fresh.indexes, org.indexes);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create {
            ext: Option<usize>,
            num: Option<usize>,
        },
        /// `None`: leave the field; `Some(None)`: set it to null.
        Update {
            target: usize,
            ext: Option<Option<usize>>,
            num: Option<Option<usize>>,
        },
        Delete {
            target: usize,
        },
        Upsert {
            ext: usize,
            num: Option<usize>,
        },
    }

    #[derive(Debug, Clone)]
    enum Step {
        One(Op),
        /// An all-or-none batch, committed or rolled back.
        Batch(Vec<Op>, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let ext = || proptest::option::of(0..TEXTS.len());
        let num = || proptest::option::of(0..NUMBERS.len());
        prop_oneof![
            3 => (ext(), num()).prop_map(|(ext, num)| Op::Create { ext, num }),
            3 => (any::<usize>(), proptest::option::of(ext()), proptest::option::of(num()))
                .prop_map(|(target, ext, num)| Op::Update { target, ext, num }),
            1 => any::<usize>().prop_map(|target| Op::Delete { target }),
            2 => (0..TEXTS.len(), num()).prop_map(|(ext, num)| Op::Upsert { ext, num }),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => op().prop_map(Step::One),
            1 => (proptest::collection::vec(op(), 1..6), any::<bool>())
                .prop_map(|(ops, commit)| Step::Batch(ops, commit)),
        ]
    }

    fn text(i: Option<usize>) -> Value {
        i.map_or(Value::Null, |i| json!(TEXTS[i]))
    }

    fn number(i: Option<usize>) -> Value {
        i.map_or(Value::Null, |i| json!(NUMBERS[i]))
    }

    /// Applies `op`; failures (duplicates, deleted targets) are part of the sequence.
    fn apply(org: &mut Org, ids: &mut Vec<String>, op: &Op) {
        match op {
            Op::Create { ext, num } => {
                let body = obj(json!({"Name": "n", "Ext__c": text(*ext), "Num__c": number(*num)}));
                if let Ok(id) = org.create("Account", &body) {
                    ids.push(id);
                }
            }
            Op::Update { target, ext, num } => {
                if ids.is_empty() {
                    return;
                }
                let id = ids[target % ids.len()].clone();
                let mut body = obj(json!({"Name": "u"}));
                if let Some(ext) = ext {
                    body.insert("Ext__c".into(), text(*ext));
                }
                if let Some(num) = num {
                    body.insert("Num__c".into(), number(*num));
                }
                let _ = org.update("Account", &id, &body);
            }
            Op::Delete { target } => {
                if !ids.is_empty() {
                    let _ = org.delete(&ids[target % ids.len()]);
                }
            }
            Op::Upsert { ext, num } => {
                let body = obj(json!({"Name": "p", "Num__c": number(*num)}));
                if let Ok((id, true)) = org.upsert("Account", "Ext__c", TEXTS[*ext], &body) {
                    ids.push(id);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn index_lookups_equal_scans(steps in proptest::collection::vec(step(), 1..40)) {
            let mut org = org_with_fields();
            let mut ids = Vec::new();
            for step in &steps {
                match step {
                    Step::One(op) => apply(&mut org, &mut ids, op),
                    Step::Batch(ops, commit) => {
                        let mut before = org.tables.clone();
                        before.retain(|_, t| !t.is_empty());
                        let ids_before = ids.len();
                        org.begin();
                        for op in ops {
                            apply(&mut org, &mut ids, op);
                            assert_index_matches_scan(&org);
                        }
                        if *commit {
                            org.commit();
                        } else {
                            org.rollback();
                            // Rolling back a create may leave an empty table behind.
                            let mut after = org.tables.clone();
                            after.retain(|_, t| !t.is_empty());
                            prop_assert_eq!(after, before);
                            ids.truncate(ids_before);
                        }
                    }
                }
                assert_index_matches_scan(&org);
            }
        }

    }

    /// Index keys agree with `same_value` for every pair of a stored value and a probe,
    /// exhaustively over the test values (text, ids, numbers as numbers and as text).
    #[test]
    fn keys_agree_with_same_value() {
        let text: Vec<Value> = TEXTS.iter().map(|t| json!(t)).collect();
        let ids: Vec<Value> = ["001000000000001AAA", "001000000000001aaa"]
            .iter()
            .map(|t| json!(t))
            .collect();
        let numbers: Vec<Value> = NUMBERS.iter().map(|n| json!(n)).collect();
        let probes: Vec<Value> = NUMBER_TEXTS
            .iter()
            .map(|t| json!(t))
            .chain(numbers.iter().cloned())
            .collect();
        let cases = [
            (FieldType::String, &text, &text),
            (FieldType::Email, &text, &text),
            (FieldType::Reference, &ids, &ids),
            (FieldType::Double, &numbers, &probes),
        ];
        let mut hits = 0;
        for (ft, stored, probes) in cases {
            for a in stored {
                let mut idx = index::FieldIndex::new(ft);
                idx.replace("r", None, Some(a));
                for b in probes {
                    let hit = idx.candidates(b).unwrap() == ["r"];
                    assert_eq!(hit, same_value(ft, a, b), "{ft:?}: {a} vs {b}");
                    hits += usize::from(hit);
                }
            }
        }
        // Not vacuous: case variants, -0 / 0 and 1 / "1e0" do match.
        assert!(hits > 40, "{hits}");
    }

    #[test]
    fn upsert_finds_by_index_and_rollback_restores_it() {
        let mut org = org_with_fields();
        let (a, created) = org
            .upsert("Account", "Ext__c", "Straße", &obj(json!({"Name":"A"})))
            .unwrap();
        assert!(created);
        let (same, created) = org
            .upsert("Account", "Ext__c", "STRASSE", &obj(json!({"Name":"B"})))
            .unwrap();
        assert!(created, "ß does not lower-case to ss");
        assert_ne!(same, a);
        assert_eq!(
            org.upsert("Account", "Ext__c", "straße", &obj(json!({"Name":"C"}))),
            Ok((a.clone(), false))
        );
        org.begin();
        org.update("Account", &a, &obj(json!({"Ext__c":"moved"})))
            .unwrap();
        assert_eq!(
            org.find_by_field("Account", "Ext__c", "STRAßE").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            org.find_by_field("Account", "Ext__c", "MOVED").unwrap(),
            vec![a.clone()]
        );
        org.rollback();
        assert_eq!(
            org.find_by_field("Account", "Ext__c", "STRAßE").unwrap(),
            vec![a.clone()]
        );
        assert_eq!(
            org.find_by_field("Account", "Ext__c", "moved").unwrap(),
            Vec::<String>::new()
        );
        org.delete(&a).unwrap();
        assert_eq!(
            org.find_by_field("Account", "Ext__c", "straße").unwrap(),
            Vec::<String>::new()
        );
        assert_index_matches_scan(&org);
    }

    #[test]
    fn unique_numbers_compare_numerically() {
        let mut org = org_with_fields();
        let a = org
            .create("Account", &obj(json!({"Name":"A","Num__c":-0.0})))
            .unwrap();
        let e = org
            .create("Account", &obj(json!({"Name":"B","Num__c":"0"})))
            .unwrap_err();
        assert_eq!(e.error_code, "DUPLICATE_VALUE");
        assert!(e.message.ends_with(&a));
        // Updating a record to its own value is not a duplicate.
        org.update("Account", &a, &obj(json!({"Num__c":0})))
            .unwrap();
        assert_eq!(
            org.find_by_field("Account", "Num__c", "0.0").unwrap(),
            vec![a.clone()]
        );
        assert_eq!(
            org.find_by_field("Account", "Num__c", "zero").unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn fields_added_later_are_indexed() {
        let mut org = Org::new();
        let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
        let b = org.create("Account", &obj(json!({"Name":"B"}))).unwrap();
        org.add_field(
            "Account",
            FieldDef::new("Late__c", FieldType::String).external_id(),
        )
        .unwrap();
        assert!(org.indexes["Account"].contains_key("Late__c"));
        org.update("Account", &b, &obj(json!({"Late__c":"L"})))
            .unwrap();
        assert_eq!(
            org.find_by_field("Account", "Late__c", "l").unwrap(),
            vec![b.clone()]
        );
        assert_eq!(
            org.upsert("Account", "Late__c", "L", &obj(json!({"Name":"B2"}))),
            Ok((b, false))
        );
        assert_eq!(
            org.find_by_field("Account", "Id", &a[..15]).unwrap(),
            vec![a.clone()]
        );
        org.delete(&a).unwrap();
        assert_eq!(
            org.find_by_field("Account", "Id", &a).unwrap(),
            Vec::<String>::new()
        );
    }
}
