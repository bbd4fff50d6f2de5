//! CSV encoding of records for Bulk API 2.0 ingest (UTF-8, comma, LF, RFC 4180 quoting).
//!
//! Cell rules (see `docs/sfdc-bulk.md`):
//! - explicit JSON `null` → `#N/A` (Salesforce sets the field to null);
//! - a field absent from the record → empty cell (Salesforce leaves the field unchanged);
//! - an empty string → empty cell by default ([`EmptyString::Unchanged`]) or `#N/A`
//!   ([`EmptyString::Null`]): CSV cannot tell an empty string from "absent";
//! - booleans → `true` / `false`; integers as written; other numbers in plain decimal notation
//!   (never exponent notation);
//! - strings are written verbatim (dates and datetimes must already be in Salesforce's formats;
//!   [`format_date`] and [`format_datetime`] produce them);
//! - an array of scalars → its items joined with `;` (multi-select picklist);
//! - a nested object `{"Account": {"Ext__c": "A1"}}` → relationship column `Account.Ext__c`.
//!
//! A cell is quoted only when it contains the delimiter, a double quote, CR or LF; an embedded
//! `"` is doubled.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

use crate::Record;

/// The cell Salesforce reads as "set this field to null".
pub const NULL_CELL: &str = "#N/A";

/// How an empty string value is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmptyString {
    /// As an empty cell, which Salesforce treats like an absent field: the stored value is left
    /// unchanged on update and upsert (and the field stays empty on insert). The default, because
    /// it can never destroy data.
    #[default]
    Unchanged,
    /// As `#N/A`, which sets the field to null (what the REST API does with `""`).
    Null,
}

/// Formats a date the way Bulk API 2.0 expects: `yyyy-MM-dd`.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Formats a datetime the way Bulk API 2.0 expects, in UTC with milliseconds:
/// `yyyy-MM-ddTHH:mm:ss.SSSZ`.
pub fn format_datetime<Tz: TimeZone>(datetime: &DateTime<Tz>) -> String {
    datetime
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Why a record cannot be written as a CSV row. The record gets a client-side
/// [`Outcome::Failed`](crate::Outcome::Failed) and is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowError {
    /// The record has a field that is not in the job's declared column set.
    UndeclaredField(String),
    /// A field name is not a plausible Salesforce field API name (letters, digits, `_`, and `.`
    /// / `:` for relationship columns).
    InvalidFieldName(String),
    /// A value has a shape that cannot be a CSV cell (an object nested two levels deep, or an
    /// array holding objects or arrays).
    UnsupportedValue {
        /// The column.
        field: String,
        /// What was found.
        found: &'static str,
    },
    /// The encoded row alone would make a job pass the size limit.
    TooLarge {
        /// Encoded row size in bytes.
        bytes: usize,
        /// The configured job size limit in bytes (including the header).
        limit: usize,
    },
}

impl RowError {
    /// Returns the client-side error code reported in the record's outcome.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UndeclaredField(_) => "CLIENT_UNDECLARED_FIELD",
            Self::InvalidFieldName(_) => "CLIENT_INVALID_FIELD_NAME",
            Self::UnsupportedValue { .. } => "CLIENT_UNSUPPORTED_VALUE",
            Self::TooLarge { .. } => "CLIENT_ROW_TOO_LARGE",
        }
    }

    /// Returns the field concerned, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::UndeclaredField(f) | Self::InvalidFieldName(f) => Some(f),
            Self::UnsupportedValue { field, .. } => Some(field),
            Self::TooLarge { .. } => None,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UndeclaredField(name) => write!(
                f,
                "field `{name}` is not in the job's declared columns; add it to the columns or remove it from the record"
            ),
            Self::InvalidFieldName(name) => write!(
                f,
                "`{name}` is not a valid field API name (letters, digits, `_`, `.`, `:` only)"
            ),
            Self::UnsupportedValue { field, found } => write!(
                f,
                "field `{field}` holds {found}, which cannot be written as a CSV cell; send a scalar, an array of scalars, or a one-level relationship object"
            ),
            Self::TooLarge { bytes, limit } => write!(
                f,
                "the encoded row is {bytes} bytes, which with the header does not fit the job size limit of {limit} bytes; raise the limit"
            ),
        }
    }
}

impl std::error::Error for RowError {}

/// Returns true if `name` is a Bulk API column: a field API name or relationship path
/// (`Account.External_Id__c`), optionally prefixed by the object type of a polymorphic relationship
/// (`User:Owner.Email`). Names are checked by the workspace's one validator, `sfdc-match`.
pub(crate) fn is_valid_field_name(name: &str) -> bool {
    match name.split_once(':') {
        Some((object, path)) => {
            sfdc_match::SObjectName::new(object).is_ok() && sfdc_match::FieldName::new(path).is_ok()
        }
        None => sfdc_match::FieldName::new(name).is_ok(),
    }
}

/// An ordered set of column names (field API names) with fast lookup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Columns {
    /// Builds a column set; duplicates keep their first position.
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut cols = Self::default();
        for n in names {
            cols.push(n.into());
        }
        cols
    }

    /// Appends a column unless present; returns true if it was added.
    pub fn push(&mut self, name: String) -> bool {
        if self.index.contains_key(&name) {
            return false;
        }
        self.index.insert(name.clone(), self.names.len());
        self.names.push(name);
        true
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Position of a column.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Returns true if the column is present.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

/// Lists the column names a record would fill, in the record's order (relationship objects
/// expand to `Rel.Field`).
pub fn record_columns(record: &Record) -> Vec<String> {
    let mut out = Vec::with_capacity(record.len());
    for (key, value) in record {
        match value {
            Value::Object(inner) => {
                for sub in inner.keys() {
                    out.push(format!("{key}.{sub}"));
                }
            }
            _ => out.push(key.clone()),
        }
    }
    out
}

/// Encodes records into CSV rows against a fixed column set.
///
/// The encoder owns a reusable buffer, so encoding allocates little per row.
pub struct RowEncoder {
    columns: Columns,
    empty_string: EmptyString,
    ignore_undeclared: bool,
    builder: ::csv::WriterBuilder,
}

impl fmt::Debug for RowEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowEncoder")
            .field("columns", &self.columns.names())
            .field("empty_string", &self.empty_string)
            .field("ignore_undeclared", &self.ignore_undeclared)
            .finish_non_exhaustive()
    }
}

impl RowEncoder {
    /// Creates an encoder for `columns`.
    ///
    /// With `ignore_undeclared`, fields outside the column set are skipped silently (used for
    /// delete jobs, whose CSV carries only `Id`); otherwise they make the row fail with
    /// [`RowError::UndeclaredField`].
    pub fn new(columns: Columns, empty_string: EmptyString, ignore_undeclared: bool) -> Self {
        let mut builder = ::csv::WriterBuilder::new();
        builder
            .delimiter(b',')
            .quote(b'"')
            .double_quote(true)
            .quote_style(::csv::QuoteStyle::Necessary)
            .terminator(::csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .buffer_capacity(1024);
        Self {
            columns,
            empty_string,
            ignore_undeclared,
            builder,
        }
    }

    /// The column set.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Appends the header row to `out`.
    pub fn encode_header(&mut self, out: &mut Vec<u8>) -> std::io::Result<()> {
        let names = self.columns.names.iter().map(String::as_bytes);
        self.write(names, out)
    }

    /// Appends one record as a CSV row to `out`. On error nothing is appended.
    pub fn encode_row(&mut self, record: &Record, out: &mut Vec<u8>) -> Result<(), RowError> {
        let cells = self.cells(record)?;
        let start = out.len();
        // Writing to a Vec cannot fail; map defensively instead of unwrapping.
        self.write(cells.iter().map(|c| c.as_bytes()), out)
            .map_err(|_| {
                out.truncate(start);
                RowError::UnsupportedValue {
                    field: String::new(),
                    found: "a value the CSV writer rejected",
                }
            })
    }

    fn write<'a>(
        &self,
        fields: impl Iterator<Item = &'a [u8]>,
        out: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let mut writer = self.builder.from_writer(out);
        writer.write_record(fields)?;
        writer.flush()
    }

    fn cells<'r>(&self, record: &'r Record) -> Result<Vec<Cow<'r, str>>, RowError> {
        let mut cells: Vec<Cow<'r, str>> = vec![Cow::Borrowed(""); self.columns.len()];
        for (key, value) in record {
            match value {
                Value::Object(inner) => {
                    for (sub, v) in inner {
                        let name = format!("{key}.{sub}");
                        if let Some(i) = self.slot(&name)? {
                            cells[i] = self.scalar(&name, v)?;
                        }
                    }
                }
                _ => {
                    if let Some(i) = self.slot(key)? {
                        cells[i] = self.scalar(key, value)?;
                    }
                }
            }
        }
        Ok(cells)
    }

    fn slot(&self, name: &str) -> Result<Option<usize>, RowError> {
        match self.columns.position(name) {
            Some(i) => Ok(Some(i)),
            None if self.ignore_undeclared => Ok(None),
            None if !is_valid_field_name(name) => Err(RowError::InvalidFieldName(name.to_owned())),
            None => Err(RowError::UndeclaredField(name.to_owned())),
        }
    }

    fn scalar<'r>(&self, field: &str, value: &'r Value) -> Result<Cow<'r, str>, RowError> {
        match value {
            Value::Null => Ok(Cow::Borrowed(NULL_CELL)),
            Value::String(s) if s.is_empty() => Ok(Cow::Borrowed(match self.empty_string {
                EmptyString::Unchanged => "",
                EmptyString::Null => NULL_CELL,
            })),
            Value::String(s) => Ok(Cow::Borrowed(s)),
            Value::Bool(b) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
            Value::Number(n) => Ok(Cow::Owned(format_number(n))),
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => parts.push(Cow::Borrowed(s.as_str())),
                        Value::Bool(b) => {
                            parts.push(Cow::Borrowed(if *b { "true" } else { "false" }))
                        }
                        Value::Number(n) => parts.push(Cow::Owned(format_number(n))),
                        Value::Null => {}
                        Value::Array(_) | Value::Object(_) => {
                            return Err(RowError::UnsupportedValue {
                                field: field.to_owned(),
                                found: "an array holding arrays or objects",
                            });
                        }
                    }
                }
                Ok(Cow::Owned(parts.join(";")))
            }
            Value::Object(_) => Err(RowError::UnsupportedValue {
                field: field.to_owned(),
                found: "an object nested inside a relationship object",
            }),
        }
    }
}

/// Formats a JSON number without exponent notation.
fn format_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        // f64's Display never uses exponent notation and prints the shortest round-trip digits.
        Some(f) if f.is_finite() => {
            let s = f.to_string();
            if s == "-0" { "0".to_owned() } else { s }
        }
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_use_the_one_validator() {
        for ok in [
            "Name",
            "Account.External_Id__c",
            "User:Owner.Email",
            "ns__X__c",
        ] {
            assert!(is_valid_field_name(ok), "{ok}");
        }
        for bad in ["attributes", "bad name", "A.B.C", "Us er:Owner.Email", ""] {
            assert!(!is_valid_field_name(bad), "{bad}");
        }
    }
    use serde_json::json;

    fn rec(v: Value) -> Record {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn encode(cols: &[&str], records: &[Value], empty: EmptyString) -> String {
        let mut enc = RowEncoder::new(Columns::new(cols.iter().copied()), empty, false);
        let mut out = Vec::new();
        enc.encode_header(&mut out).unwrap();
        for r in records {
            enc.encode_row(&rec(r.clone()), &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn null_absent_and_empty_string() {
        let csv = encode(
            &["Name", "Phone", "Fax"],
            &[json!({"Name": "Acme", "Phone": null}), json!({"Fax": ""})],
            EmptyString::Unchanged,
        );
        assert_eq!(csv, "Name,Phone,Fax\nAcme,#N/A,\n,,\n");
        let csv = encode(&["Name", "Fax"], &[json!({"Fax": ""})], EmptyString::Null);
        assert_eq!(csv, "Name,Fax\n,#N/A\n");
    }

    #[test]
    fn quoting_per_rfc4180() {
        let csv = encode(
            &["A", "B", "C", "D", "E"],
            &[json!({"A": "x,y", "B": "say \"hi\"", "C": "l1\nl2", "D": " pad ", "E": "cr\rx"})],
            EmptyString::Unchanged,
        );
        assert_eq!(
            csv,
            "A,B,C,D,E\n\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\", pad ,\"cr\rx\"\n"
        );
    }

    #[test]
    fn numbers_booleans_arrays_relationships() {
        let csv = encode(
            &["I", "F", "Big", "Tiny", "T", "Pick", "Account.Ext__c"],
            &[
                json!({"I": -42, "F": 1.5, "Big": 1e21, "Tiny": 1e-7, "T": true,
                     "Pick": ["a", "b", 3], "Account": {"Ext__c": "A-1"}}),
            ],
            EmptyString::Unchanged,
        );
        assert_eq!(
            csv,
            "I,F,Big,Tiny,T,Pick,Account.Ext__c\n-42,1.5,1000000000000000000000,0.0000001,true,a;b;3,A-1\n"
        );
    }

    #[test]
    fn date_and_datetime_formats() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(format_date(d), "2024-02-29");
        let dt = chrono::FixedOffset::east_opt(2 * 3600)
            .unwrap()
            .with_ymd_and_hms(2024, 1, 1, 12, 30, 5)
            .unwrap();
        assert_eq!(format_datetime(&dt), "2024-01-01T10:30:05.000Z");
    }

    #[test]
    fn undeclared_invalid_and_unsupported_fields_fail_the_row() {
        let mut enc = RowEncoder::new(Columns::new(["Name"]), EmptyString::Unchanged, false);
        let mut out = Vec::new();
        let err = enc
            .encode_row(&rec(json!({"Other__c": 1})), &mut out)
            .unwrap_err();
        assert_eq!(err, RowError::UndeclaredField("Other__c".into()));
        assert_eq!(err.code(), "CLIENT_UNDECLARED_FIELD");
        let err = enc
            .encode_row(&rec(json!({"bad name": 1})), &mut out)
            .unwrap_err();
        assert_eq!(err, RowError::InvalidFieldName("bad name".into()));
        let err = enc
            .encode_row(&rec(json!({"Name": [[1]]})), &mut out)
            .unwrap_err();
        assert!(matches!(err, RowError::UnsupportedValue { .. }));
        assert!(out.is_empty(), "failed rows append nothing");
    }

    #[test]
    fn ignore_undeclared_keeps_only_declared_columns() {
        let mut enc = RowEncoder::new(Columns::new(["Id"]), EmptyString::Unchanged, true);
        let mut out = Vec::new();
        enc.encode_row(&rec(json!({"Id": "001", "Name": "x"})), &mut out)
            .unwrap();
        assert_eq!(out, b"001\n");
    }

    #[test]
    fn record_columns_expand_relationships() {
        let cols = record_columns(&rec(json!({"Name": 1, "Owner": {"Email": "a@b"}})));
        assert_eq!(cols, vec!["Name".to_string(), "Owner.Email".to_string()]);
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Any Unicode text (quotes, commas, CR/LF, control characters, emoji) survives a write
        /// followed by a parse with a standard CSV reader; absent fields read back empty.
        #[test]
        fn any_unicode_round_trips(
            rows in proptest::collection::vec(
                proptest::collection::vec(proptest::option::of(any::<String>()), 3), 1..20)
        ) {
            let cols = ["A", "B__c", "Rel.Ext__c"];
            let mut enc = RowEncoder::new(Columns::new(cols), EmptyString::Unchanged, true);
            let mut out = Vec::new();
            enc.encode_header(&mut out).unwrap();
            for row in &rows {
                let mut record = Record::new();
                for (col, value) in cols.iter().zip(row) {
                    if let Some(v) = value {
                        record.insert((*col).to_owned(), Value::String(v.clone()));
                    }
                }
                enc.encode_row(&record, &mut out).unwrap();
            }
            let mut reader = ::csv::ReaderBuilder::new().from_reader(out.as_slice());
            prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), cols.to_vec());
            let parsed: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                .collect();
            prop_assert_eq!(parsed.len(), rows.len());
            for (got, want) in parsed.iter().zip(&rows) {
                let want: Vec<String> = want.iter().map(|v| v.clone().unwrap_or_default()).collect();
                prop_assert_eq!(got, &want);
            }
        }
    }
}
