//! DML: create, update, upsert and delete, with the field checks every write path shares.

use serde_json::{Map, Value};

use super::{
    FieldType, ObjectSchema, Org, Record, SfError, WriteFields, check_id, invalid_field,
    is_deleted, now_string, same_value,
};
use crate::ids;

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

/// Whether a write creates a record or changes an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    Create,
    Update,
}

/// The values a write gives, by field position in the schema (ascending, one per field: a
/// field given twice, under two spellings, has the later value).
#[derive(Debug)]
pub(super) struct Given(Vec<(usize, Value)>);

impl Given {
    /// From the values in body order.
    fn new(mut values: Vec<(usize, Value)>) -> Self {
        // Stable: a field given twice keeps its body order, then the later value wins.
        values.sort_by_key(|(i, _)| *i);
        let mut out: Vec<(usize, Value)> = Vec::with_capacity(values.len());
        for (i, v) in values {
            match out.last_mut() {
                Some((j, w)) if *j == i => *w = v,
                _ => out.push((i, v)),
            }
        }
        Given(out)
    }

    /// The value given for the field at `position`.
    fn get(&self, position: usize) -> Option<&Value> {
        self.0
            .binary_search_by_key(&position, |(i, _)| *i)
            .ok()
            .map(|at| &self.0[at].1)
    }
}

/// `REQUIRED_FIELD_MISSING` for required fields a write leaves empty: on create, those absent or
/// null; on update, those explicitly set to null (absent ones keep their value).
fn require_fields(o: &ObjectSchema, given: &Given, write: Write) -> Result<(), SfError> {
    let missing: Vec<String> = o
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.required)
        .filter(|(i, _)| match (write, given.get(*i)) {
            (Write::Create, value) => value.is_none_or(Value::is_null),
            (Write::Update, value) => value.is_some_and(Value::is_null),
        })
        .map(|(_, f)| f.name.clone())
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

/// 404 for an upsert (or lookup) by a field that is not an external id of the object.
pub(crate) fn no_external_id_field(field: &str) -> SfError {
    SfError::new(
        axum::http::StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )
}

pub(super) fn no_such_column(field: &str, object: &str) -> SfError {
    invalid_field(format!(
        "No such column '{field}' on sobject of type {object}"
    ))
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
        (false, false) => {
            let mut name = String::with_capacity(first.len() + 1 + last.len());
            name.push_str(first);
            name.push(' ');
            name.push_str(last);
            name
        }
    };
    if name.is_empty() {
        rec.shift_remove("Name");
    } else {
        rec.insert("Name", Value::String(name));
    }
}

impl Org {
    /// Resolves a write body to canonical field names and stored values: skips `attributes`
    /// (and `Id`, which callers check), resolves parent references given by external id, and
    /// rejects unknown (`INVALID_FIELD`) or read-only (`INVALID_FIELD_FOR_INSERT_UPDATE`) fields.
    pub(super) fn writable_values(
        &self,
        o: &ObjectSchema,
        fields: &(impl WriteFields + ?Sized),
        write: Write,
    ) -> Result<Given, SfError> {
        let mut given: Vec<(usize, Value)> = Vec::with_capacity(fields.key_count());
        for (k, v) in fields.pairs() {
            if k == "attributes" || k.eq_ignore_ascii_case("Id") {
                continue;
            }
            if let Some((f, id)) = self.foreign_reference(o, k, v)? {
                if let Some(i) = o.field_position(&f.name) {
                    given.push((i, Value::String(id)));
                }
                continue;
            }
            let i = o
                .field_position(k)
                .ok_or_else(|| no_such_column(k, &o.name))?;
            let f = &o.fields[i];
            let writable = match write {
                Write::Create => f.createable(),
                Write::Update => f.updateable(),
            };
            if !writable {
                return Err(not_writable(&f.name));
            }
            given.push((i, self.coerce(o, f, v)?));
        }
        Ok(Given::new(given))
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
        fields: &(impl WriteFields + ?Sized),
    ) -> Result<String, SfError> {
        let prepared = self.prepare_create(object, fields)?;
        self.apply_create(prepared)
    }

    /// The part of [`Org::create`] that reads the org only (field checks, value conversion,
    /// the record built), so a caller can run it under a shared lock and [`Org::apply_create`]
    /// under the exclusive one. Errors as `create`, but for `DUPLICATE_VALUE` (checked on apply).
    pub(crate) fn prepare_create(
        &self,
        object: &str,
        fields: &(impl WriteFields + ?Sized),
    ) -> Result<PreparedCreate, SfError> {
        let o = self.object_or_404(object)?;
        if fields.pairs().any(|(k, _)| k.eq_ignore_ascii_case("Id")) {
            return Err(invalid_field(
                "The Id field should not be specified in the sobject data.",
            ));
        }
        let given = self.writable_values(o, fields, Write::Create)?;
        require_fields(o, &given, Write::Create)?;
        let checks = Checks::of(o, &given);
        let now = now_string();
        let mut stored: Vec<(super::Name, Value)> = Vec::with_capacity(o.fields.len());
        // The given values in field order, taken as their fields come.
        let mut given = given.0.into_iter().peekable();
        for (i, (interned, f)) in o.named_fields().enumerate() {
            let here = given.next_if(|(j, _)| *j == i).map(|(_, v)| v);
            let v = match f.name.as_str() {
                // Placeholders, set on apply (they must stay in their place).
                "Id" => Value::String(String::new()),
                "CaseNumber" if !o.custom => Value::String(String::new()),
                "IsDeleted" => Value::Bool(false),
                "CreatedDate" | "LastModifiedDate" | "SystemModstamp" => Value::String(now.clone()),
                _ => match here {
                    Some(v) => v,
                    None => f.default_on_create.clone().unwrap_or(Value::Null),
                },
            };
            // Records are sparse: a null field is not stored (readers treat absent as null).
            if !v.is_null() {
                stored.push((interned, v));
            }
        }
        // Sized to what is stored (plus a computed Name), not to the object's field count.
        let mut rec = Record::with_capacity(stored.len() + 1);
        for (name, v) in stored {
            rec.push_new(name, v);
        }
        compute_name(o, &mut rec);
        rec.shrink();
        Ok(PreparedCreate {
            object: o.name.clone(),
            rec,
            checks,
        })
    }

    /// Stores a prepared create: checks uniqueness (and that its parents still exist),
    /// assigns the id, and returns it.
    pub(crate) fn apply_create(&mut self, p: PreparedCreate) -> Result<String, SfError> {
        let PreparedCreate {
            object,
            mut rec,
            checks,
        } = p;
        let o = self.object_or_404(&object)?;
        checks.run(self, o, None)?;
        let id = ids::make_id(&o.key_prefix, self.next_id);
        rec.insert("Id", Value::String(id.clone()));
        if !o.custom && o.field("CaseNumber").is_some() {
            rec.insert(
                "CaseNumber",
                Value::String(format!("{:08}", self.next_case_number)),
            );
        }
        if object == "Case" {
            self.next_case_number += 1;
        }
        self.next_id += 1;
        self.set_record(&object, &id, Some(rec));
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
        fields: &(impl WriteFields + ?Sized),
    ) -> Result<String, SfError> {
        let prepared = self.prepare_update(object, id, fields)?;
        self.apply_update(prepared)
    }

    /// The state checks of an update, in the order `update` reports them.
    fn updatable<'a>(&'a self, o: &ObjectSchema, id18: &str) -> Result<&'a Record, SfError> {
        let current = self
            .tables
            .get(&o.name)
            .and_then(|t| t.get(id18))
            .ok_or_else(SfError::not_found)?;
        if is_deleted(current) {
            return Err(SfError::entity_is_deleted());
        }
        if o.name == "Lead" && super::convert::is_converted(current) {
            return Err(super::convert::converted_lead());
        }
        Ok(current)
    }

    /// The part of [`Org::update`] that reads the org only (the record's state, field checks
    /// and value conversion); [`Org::apply_update`] checks the state again and writes.
    pub(crate) fn prepare_update(
        &self,
        object: &str,
        id: &str,
        fields: &(impl WriteFields + ?Sized),
    ) -> Result<PreparedUpdate, SfError> {
        let o = self.object_or_404(object)?;
        let id18 = check_id(o, id)?;
        self.updatable(o, &id18)?;
        let given = self.writable_values(o, fields, Write::Update)?;
        require_fields(o, &given, Write::Update)?;
        let checks = Checks::of(o, &given);
        Ok(PreparedUpdate {
            object: o.name.clone(),
            id18,
            given: given
                .0
                .into_iter()
                .filter_map(|(i, v)| Some((*o.interned_name(i)?, v)))
                .collect(),
            checks,
            now: now_string(),
        })
    }

    /// Writes a prepared update: the record's state and uniqueness are checked again.
    pub(crate) fn apply_update(&mut self, p: PreparedUpdate) -> Result<String, SfError> {
        let o = self.object_or_404(&p.object)?;
        let current = self.updatable(o, &p.id18)?;
        p.checks.run(self, o, Some(&p.id18))?;
        // Room for every given field and the two timestamps, which now differ from CreatedDate.
        let mut rec = current.clone_with_room(p.given.len() + 2);
        for (k, v) in p.given {
            if v.is_null() {
                rec.shift_remove(k);
            } else {
                rec.insert(k, v);
            }
        }
        rec.insert("LastModifiedDate", Value::String(p.now.clone()));
        rec.insert("SystemModstamp", Value::String(p.now));
        compute_name(o, &mut rec);
        rec.shrink();
        self.set_record(&p.object, &p.id18, Some(rec));
        Ok(p.id18)
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
        fields: &(impl WriteFields + ?Sized),
    ) -> Result<(String, bool), UpsertError> {
        let o = self.object_or_404(object)?;
        let f = o
            .field(ext_field)
            .filter(|f| f.external_id || f.field_type == FieldType::Id)
            .ok_or_else(|| no_external_id_field(ext_field))?;
        if f.field_type == FieldType::Id {
            if value.is_empty() {
                return Ok((self.create(object, fields)?, true));
            }
            return Ok((self.update(object, value, fields)?, false));
        }
        let ext_name = f.name.clone();
        let mut body = Map::with_capacity(fields.key_count() + 1);
        for (k, v) in fields.pairs() {
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
            body.insert(k.to_owned(), v.clone());
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
        rec.insert("IsDeleted", Value::Bool(true));
        let now = now_string();
        rec.insert("LastModifiedDate", Value::String(now.clone()));
        rec.insert("SystemModstamp", Value::String(now));
        self.set_record(&object_name, &id18, Some(rec));
        Ok(id18)
    }

    // ----- validation helpers -----

    pub(super) fn check_unique(
        &self,
        o: &ObjectSchema,
        given: &[(&str, Value)],
        except: Option<&str>,
    ) -> Result<(), SfError> {
        for (name, v) in given {
            let Some(f) = o.field(name).filter(|_| !v.is_null()) else {
                continue;
            };
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
}

/// What a prepared write checks against the org when it is applied: the values of its
/// unique fields (`DUPLICATE_VALUE`), and the parents it points to (still there).
#[derive(Debug)]
pub(crate) struct Checks {
    /// Unique fields given a non-null value, in schema order.
    unique: Vec<(&'static str, Value)>,
    /// Reference fields given an id.
    parents: Vec<(&'static str, String)>,
}

impl Checks {
    fn of(o: &ObjectSchema, given: &Given) -> Self {
        let unique = o
            .named_fields()
            .enumerate()
            .filter(|(_, (_, f))| f.unique)
            .filter_map(|(i, (name, _))| {
                let v = given.get(i).filter(|v| !v.is_null())?;
                Some((*name, v.clone()))
            })
            .collect();
        let parents = o
            .named_fields()
            .enumerate()
            .filter(|(_, (_, f))| f.field_type == FieldType::Reference)
            .filter_map(|(i, (name, _))| {
                let id = given.get(i)?.as_str()?;
                Some((*name, id.to_owned()))
            })
            .collect();
        Checks { unique, parents }
    }

    fn run(&self, org: &Org, o: &ObjectSchema, except: Option<&str>) -> Result<(), SfError> {
        for (name, id) in &self.parents {
            if let Some(f) = o.field(name) {
                org.check_reference(o, f, id)?;
            }
        }
        org.check_unique(o, &self.unique, except)
    }
}

/// A create checked and built by [`Org::prepare_create`], for [`Org::apply_create`].
#[derive(Debug)]
pub(crate) struct PreparedCreate {
    object: String,
    /// The record; `Id` (and `CaseNumber`) hold placeholders until applied.
    rec: Record,
    checks: Checks,
}

/// An update checked and converted by [`Org::prepare_update`], for [`Org::apply_update`].
#[derive(Debug)]
pub(crate) struct PreparedUpdate {
    object: String,
    id18: String,
    /// Canonical field name → stored value (null removes the field).
    given: Vec<(&'static str, Value)>,
    checks: Checks,
    /// The modification time.
    now: String,
}
