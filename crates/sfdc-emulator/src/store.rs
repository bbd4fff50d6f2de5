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

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Number, Value};

pub(crate) use crate::error::SfError;
use crate::ids;
pub(crate) use crate::schema::{FieldDef, FieldType, ObjectSchema};
use crate::schema::{ObjectDef, Schema};

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

#[derive(Debug)]
enum Undo {
    Created {
        object: String,
        id: String,
    },
    Replaced {
        object: String,
        id: String,
        old: Record,
    },
}

/// The org: schema, records per object, id counter, and an optional undo log.
#[derive(Debug)]
pub(crate) struct Org {
    schema: Schema,
    /// Canonical object name → id → record (ids sort in creation order).
    tables: HashMap<String, BTreeMap<String, Record>>,
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
        Org {
            schema: Schema::standard(),
            tables: HashMap::new(),
            next_id: 1,
            next_case_number: 1001,
            undo: None,
        }
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
        self.schema.add_object(def)
    }

    /// Adds a custom field to an object.
    pub(crate) fn add_field(
        &mut self,
        object: &str,
        f: FieldDef,
    ) -> Result<(), crate::EmulatorError> {
        self.schema.add_field(object, f)
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
    /// text compared case-insensitively, numbers numerically, ids in either length).
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
        for entry in log.into_iter().rev() {
            match entry {
                Undo::Created { object, id } => {
                    if let Some(t) = self.tables.get_mut(&object) {
                        t.remove(&id);
                    }
                }
                Undo::Replaced { object, id, old } => {
                    self.tables.entry(object).or_default().insert(id, old);
                }
            }
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
        if let Some(log) = &mut self.undo {
            log.push(Undo::Created {
                object: object_name.clone(),
                id: id.clone(),
            });
        }
        self.tables
            .entry(object_name)
            .or_default()
            .insert(id.clone(), rec);
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
        let old = if self.undo.is_some() {
            Some(current.clone())
        } else {
            None
        };
        for (k, v) in given {
            rec.insert(k.to_owned(), v);
        }
        let now = now_string();
        rec.insert("LastModifiedDate".into(), Value::String(now.clone()));
        rec.insert("SystemModstamp".into(), Value::String(now));
        compute_name(o, &mut rec);
        let object_name = o.name.clone();
        if let (Some(log), Some(old)) = (&mut self.undo, old) {
            log.push(Undo::Replaced {
                object: object_name.clone(),
                id: id18.clone(),
                old,
            });
        }
        self.tables
            .entry(object_name)
            .or_default()
            .insert(id18.clone(), rec);
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
        let rec = self
            .tables
            .get_mut(&object_name)
            .and_then(|t| t.get_mut(&id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(rec) {
            return Err(SfError::entity_is_deleted());
        }
        let old = if self.undo.is_some() {
            Some(rec.clone())
        } else {
            None
        };
        rec.insert("IsDeleted".into(), Value::Bool(true));
        let now = now_string();
        rec.insert("LastModifiedDate".into(), Value::String(now.clone()));
        rec.insert("SystemModstamp".into(), Value::String(now));
        if let (Some(log), Some(old)) = (&mut self.undo, old) {
            log.push(Undo::Replaced {
                object: object_name,
                id: id18.clone(),
                old,
            });
        }
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
            let dup = self.live_records(&o.name).find(|r| {
                r.get(&f.name)
                    .is_some_and(|x| same_value(f.field_type, x, v))
                    && r.get("Id").and_then(Value::as_str) != except
            });
            if let Some(r) = dup {
                let other = r.get("Id").and_then(Value::as_str).unwrap_or_default();
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
        if f.field_type == FieldType::Reference {
            if let Value::String(id) = &v {
                self.check_reference(o, f, id)?;
            }
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
            _ => x.eq_ignore_ascii_case(y) || x.to_lowercase() == y.to_lowercase(),
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
