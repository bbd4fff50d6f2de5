//! Runs an uploaded CSV through the store's DML, row by row, and collects per-row outcomes.
//!
//! Whole-job failures (bad CSV, unknown column, ragged rows) leave every row unprocessed and
//! produce an `errorMessage`; row failures are recorded as `CODE:message:fields --`.

use serde_json::{Map, Value};

use super::job::{JobResults, JobSpec, Operation, RowOutcome};
use crate::store::{FieldDef, FieldType, ObjectSchema, Org, SfError, UpsertError, csv_value};

/// How processing ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every row was attempted (`JobComplete`); rows may still have failed.
    Complete(JobResults),
    /// The job failed as a whole (`Failed`); rows are in `unprocessed`.
    Failed {
        /// The job's `errorMessage`.
        message: String,
        /// Header and unprocessed rows (when the CSV could be read).
        results: JobResults,
    },
}

/// Parses `data` into a header and rows using the job's delimiter. LF and CRLF line endings
/// are both accepted; blank lines are skipped.
pub(crate) fn parse_csv(
    spec: &JobSpec,
    data: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let (header, rows) = parse_csv_at(spec, data)?;
    Ok((header, rows.into_iter().map(|(_, r)| r).collect()))
}

/// A data row: its byte offset in the upload and its cells.
type Row = (u64, Vec<String>);

/// As [`parse_csv`], with each row's byte offset in `data`.
fn parse_csv_at(spec: &JobSpec, data: &[u8]) -> Result<(Vec<String>, Vec<Row>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(spec.delimiter.byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut n = 0;
    loop {
        let at = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(format!(
                    "InvalidBatch : Failed to parse CSV row {}: {e}",
                    n + 1
                ));
            }
        }
        n += 1;
        // The record starts where the reader stood, unless blank lines were skipped.
        let start = record.position().map_or(at, csv::Position::byte);
        rows.push((start, record.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    if rows.is_empty() {
        return Err("InvalidBatch : The uploaded CSV has no header row".to_owned());
    }
    let (_, header) = rows.remove(0);
    Ok((header, rows))
}

/// The cells of the row at byte `offset` of `data` (as [`parse_csv`] read it).
pub(crate) fn row_at(delimiter: u8, data: &[u8], offset: u64) -> Vec<String> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1024)
        .from_reader(&data[start..]);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record.iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Formats a row error as Bulk result files do: `CODE:message:f1,f2 --` or `CODE:message:--`.
pub(crate) fn error_text(e: &SfError) -> String {
    let fields = e.fields.clone().unwrap_or_default();
    if fields.is_empty() {
        format!("{}:{}:--", e.error_code, e.message)
    } else {
        format!("{}:{}:{} --", e.error_code, e.message, fields.join(","))
    }
}

/// What a first pass over the upload found: the header, the number of data rows, and the
/// first row whose length differs from the header's (1-based row number, its length).
struct Scan {
    header: Vec<String>,
    rows: usize,
    ragged: Option<(usize, usize)>,
}

/// Reads the upload once without keeping its cells: the header, the row count and the
/// first ragged row; a CSV syntax error fails the job.
fn scan(spec: &JobSpec, data: &[u8]) -> Result<Scan, String> {
    let mut reader = csv_reader(spec.delimiter.byte(), data);
    let mut record = csv::StringRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0;
    let mut ragged = None;
    let mut n = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(format!(
                    "InvalidBatch : Failed to parse CSV row {}: {e}",
                    n + 1
                ));
            }
        }
        n += 1;
        match &header {
            None => header = Some(record.iter().map(str::to_owned).collect()),
            Some(h) => {
                rows += 1;
                if ragged.is_none() && record.len() != h.len() {
                    ragged = Some((rows, record.len()));
                }
            }
        }
    }
    let header =
        header.ok_or_else(|| "InvalidBatch : The uploaded CSV has no header row".to_owned())?;
    Ok(Scan {
        header,
        rows,
        ragged,
    })
}

fn csv_reader(delimiter: u8, data: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(data)
}

/// Processes a job's uploaded CSV against `org`, without fault.
#[cfg(test)]
pub(crate) fn process(org: &mut Org, spec: &JobSpec, data: Option<&[u8]>) -> Outcome {
    process_until(org, spec, data, None)
}

/// Processes a job's uploaded CSV against `org`, one row at a time: a first pass checks the
/// CSV and the row lengths without keeping cells, the second converts and writes each row
/// and keeps only its offset and outcome. With `fail_after = Some(n)` a job of more than `n`
/// rows commits its first `n` rows and then fails as a whole (`Failed`), the rest
/// unprocessed: the fault [`crate::FaultConfig::bulk_fail_after_rows`].
pub(crate) fn process_until(
    org: &mut Org,
    spec: &JobSpec,
    data: Option<&[u8]>,
    fail_after: Option<u64>,
) -> Outcome {
    let Some(data) = data else {
        return Outcome::Failed {
            message: "InvalidBatch : No data was uploaded for this job".to_owned(),
            results: JobResults::default(),
        };
    };
    let Scan {
        header,
        rows: row_count,
        ragged,
    } = match scan(spec, data) {
        Ok(s) => s,
        Err(message) => {
            return Outcome::Failed {
                message,
                results: JobResults::default(),
            };
        }
    };
    // A whole-job failure: every row is unprocessed (read again, rare path).
    let fail = |message: String, header: Vec<String>| Outcome::Failed {
        message,
        results: JobResults {
            header,
            rows: Vec::new(),
            unprocessed: parse_csv_at(spec, data)
                .map(|(_, rows)| rows.into_iter().map(|(_, r)| r).collect())
                .unwrap_or_default(),
        },
    };
    let Some(object) = org.object(&spec.object) else {
        return fail(
            format!("InvalidJob : Unable to find object: {}", spec.object),
            header,
        );
    };
    let mut columns = Vec::with_capacity(header.len());
    for name in &header {
        match resolve_column(org, object, name) {
            Some(c) => columns.push(c),
            None => {
                return fail(
                    format!("InvalidBatch : Field name not found : {name}"),
                    header,
                );
            }
        }
    }
    if let Some((n, found)) = ragged {
        return fail(
            format!(
                "InvalidBatch : Wrong number of columns in row {n}: found {found}, the header has {}",
                header.len()
            ),
            header,
        );
    }
    let object_name = object.name.clone();
    let mut processed = Vec::with_capacity(row_count);
    let mut reader = csv_reader(spec.delimiter.byte(), data);
    let mut record = csv::StringRecord::new();
    let mut first = true;
    let limit = fail_after.and_then(|n| usize::try_from(n).ok());
    let mut unprocessed = Vec::new();
    loop {
        let at = reader.position().byte();
        // The first pass read every row already: no error can occur here.
        if !matches!(reader.read_record(&mut record), Ok(true)) {
            break;
        }
        if std::mem::take(&mut first) {
            continue;
        }
        if limit.is_some_and(|limit| processed.len() >= limit) {
            unprocessed.push(record.iter().map(str::to_owned).collect());
            continue;
        }
        // The record starts where the reader stood, unless blank lines were skipped.
        let offset = record.position().map_or(at, csv::Position::byte);
        let outcome = process_row(org, spec, &object_name, &columns, &record);
        processed.push((offset, outcome));
    }
    if !unprocessed.is_empty() {
        return Outcome::Failed {
            message: format!(
                "InternalError : the job failed after processing {} records",
                processed.len()
            ),
            results: JobResults {
                header,
                rows: processed,
                unprocessed,
            },
        };
    }
    Outcome::Complete(JobResults {
        header,
        rows: processed,
        unprocessed: Vec::new(),
    })
}

/// What one CSV column writes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// A field of the job's object (canonical name).
    Field(String),
    /// `Relationship.IndexedField` (optionally `Type:Relationship.IndexedField`): the parent
    /// is looked up by `parent_field` and its id written to `reference_field`.
    Relation {
        reference_field: String,
        parent: String,
        parent_field: String,
    },
}

impl Column {
    fn field_name(&self) -> &str {
        match self {
            Column::Field(f) => f,
            Column::Relation {
                reference_field, ..
            } => reference_field,
        }
    }
}

/// The relationship name of a lookup field: `AccountId` → `Account`, `Foo__c` → `Foo__r`.
fn relationship_name(field: &str) -> Option<String> {
    if let Some(base) = field.strip_suffix("__c") {
        return Some(format!("{base}__r"));
    }
    let base = field
        .strip_suffix("Id")
        .or_else(|| field.strip_suffix("ID"))?;
    (!base.is_empty()).then(|| base.to_owned())
}

/// Resolves a header name; `None` when the object has no such field or relationship.
fn resolve_column(org: &Org, object: &ObjectSchema, name: &str) -> Option<Column> {
    if let Some(f) = object.field(name) {
        return Some(Column::Field(f.name.clone()));
    }
    let (type_prefix, path) = match name.split_once(':') {
        Some((t, p)) => (Some(t), p),
        None => (None, name),
    };
    let (relationship, parent_field) = path.split_once('.')?;
    let reference = object.fields.iter().find(|f| {
        f.field_type == FieldType::Reference
            && relationship_name(&f.name).is_some_and(|r| r.eq_ignore_ascii_case(relationship))
    })?;
    let parent_name = match type_prefix {
        Some(t) => reference
            .reference_to
            .iter()
            .find(|r| r.eq_ignore_ascii_case(t))?,
        None => reference.reference_to.first()?,
    };
    let parent = org.object(parent_name)?;
    let pf = parent
        .field(parent_field)
        .filter(|f| f.external_id || f.field_type == FieldType::Id)?;
    Some(Column::Relation {
        reference_field: reference.name.clone(),
        parent: parent.name.clone(),
        parent_field: pf.name.clone(),
    })
}

/// Column index of the plain field `field`.
fn column(columns: &[Column], field: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| matches!(c, Column::Field(f) if f.eq_ignore_ascii_case(field)))
}

fn missing_argument(message: String) -> SfError {
    SfError::bad_request("MISSING_ARGUMENT", message)
}

/// A cell whose text is not a value of the field's type: Bulk reports it as
/// `INVALID_FIELD:Failed to deserialize field at col N. Due to, '<value>' is not a valid
/// value for the type xsd:date:<Field> --` (N is the 1-based column); other conversion
/// errors (`STRING_TOO_LONG`, …) are kept.
fn deserialize_error(e: SfError, f: &FieldDef, index: usize, raw: &str) -> SfError {
    if e.error_code != "JSON_PARSER_ERROR" {
        return e;
    }
    SfError::bad_request(
        "INVALID_FIELD",
        format!(
            "Failed to deserialize field at col {}. Due to, '{raw}' is not a valid value for the type {}",
            index + 1,
            f.field_type.soap_type()
        ),
    )
    .with_fields([f.name.clone()])
}

/// Converts the row's cells (except `skip` columns) to a field map for the store.
fn field_map(
    org: &Org,
    object: &str,
    columns: &[Column],
    row: &csv::StringRecord,
    skip: &[&str],
) -> Result<Map<String, Value>, SfError> {
    let mut map = Map::new();
    let Some(o) = org.object(object) else {
        return Err(SfError::not_found());
    };
    for (index, (col, raw)) in columns.iter().zip(row).enumerate() {
        if skip
            .iter()
            .any(|s| s.eq_ignore_ascii_case(col.field_name()))
        {
            continue;
        }
        match col {
            Column::Field(name) => {
                let Some(f) = o.field(name) else {
                    continue;
                };
                if f.field_type == FieldType::Id {
                    // Only insert reaches here with an Id column: let create reject it.
                    if !raw.is_empty() {
                        map.insert(f.name.clone(), Value::String(raw.to_owned()));
                    }
                    continue;
                }
                let value = csv_value(f, raw).map_err(|e| deserialize_error(e, f, index, raw))?;
                if let Some(v) = value {
                    map.insert(f.name.clone(), v);
                }
            }
            Column::Relation {
                reference_field,
                parent,
                parent_field,
            } => {
                if raw.is_empty() {
                    continue;
                }
                if raw == "#N/A" {
                    map.insert(reference_field.clone(), Value::Null);
                    continue;
                }
                let found = org.find_by_field(parent, parent_field, raw)?;
                let id = match found.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        return Err(SfError::bad_request(
                            "INVALID_FIELD",
                            format!(
                                "Foreign key external ID: {raw} not found for field {parent_field} in entity {parent}"
                            ),
                        ));
                    }
                    _ => {
                        return Err(SfError::bad_request(
                            "INVALID_FIELD",
                            format!(
                                "Foreign key external ID: {raw} matched more than one record for field {parent_field} in entity {parent}"
                            ),
                        ));
                    }
                };
                map.insert(reference_field.clone(), Value::String(id));
            }
        }
    }
    Ok(map)
}

fn process_row(
    org: &mut Org,
    spec: &JobSpec,
    object: &str,
    columns: &[Column],
    row: &csv::StringRecord,
) -> RowOutcome {
    let cell = |field: &str| {
        column(columns, field)
            .and_then(|i| row.get(i))
            .map(str::to_owned)
    };
    let failure = |id: &str, e: &SfError| RowOutcome::Failure {
        id: id.to_owned(),
        error: error_text(e),
    };
    match spec.operation {
        Operation::Insert => {
            let result = field_map(org, object, columns, row, &[])
                .and_then(|fields| org.create(object, &fields));
            match result {
                Ok(id) => RowOutcome::Success {
                    id: id.into(),
                    created: true,
                },
                Err(e) => failure("", &e),
            }
        }
        Operation::Update => {
            let id = cell("Id").unwrap_or_default();
            if id.is_empty() {
                return failure(
                    "",
                    &missing_argument("Id not specified in an update call".to_owned()),
                );
            }
            let result = field_map(org, object, columns, row, &["Id"])
                .and_then(|fields| org.update(object, &id, &fields));
            match result {
                Ok(id) => RowOutcome::Success {
                    id: id.into(),
                    created: false,
                },
                Err(e) => failure(&id, &e),
            }
        }
        Operation::Upsert => {
            let ext = spec
                .external_id_field
                .clone()
                .unwrap_or_else(|| "Id".to_owned());
            let value = cell(&ext).unwrap_or_default();
            let is_id = ext.eq_ignore_ascii_case("Id");
            if value.is_empty() && !is_id {
                return failure(
                    "",
                    &missing_argument(format!("{ext} not specified")).with_fields([ext.clone()]),
                );
            }
            let fields = match field_map(org, object, columns, row, &[ext.as_str(), "Id"]) {
                Ok(f) => f,
                Err(e) => return failure(if is_id { &value } else { "" }, &e),
            };
            match org.upsert(object, &ext, &value, &fields) {
                Ok((id, created)) => RowOutcome::Success {
                    id: id.into(),
                    created,
                },
                Err(UpsertError::MultipleMatches(ids)) => failure(
                    "",
                    &SfError::bad_request(
                        "DUPLICATE_EXTERNAL_ID",
                        format!(
                            "{ext}: more than one record found for external id field: [{}]",
                            ids.join(", ")
                        ),
                    )
                    .with_fields([ext.clone()]),
                ),
                Err(UpsertError::Failed(e)) => failure(if is_id { &value } else { "" }, &e),
            }
        }
        Operation::Delete | Operation::HardDelete => {
            let id = cell("Id").unwrap_or_default();
            if id.is_empty() {
                return failure(
                    "",
                    &missing_argument("Id not specified in a delete call".to_owned()),
                );
            }
            match org.delete_in(object, &id) {
                Ok(id) => RowOutcome::Success {
                    id: id.into(),
                    created: false,
                },
                Err(e) => failure(&id, &e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulk::job::{ColumnDelimiter, LineEnding};

    fn spec(operation: Operation) -> JobSpec {
        JobSpec {
            object: "Account".into(),
            operation,
            external_id_field: None,
            line_ending: LineEnding::Lf,
            delimiter: ColumnDelimiter::Comma,
        }
    }

    #[test]
    fn error_text_formats_with_and_without_fields() {
        let e = SfError::bad_request(
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Name]",
        )
        .with_fields(["Name"]);
        assert_eq!(
            error_text(&e),
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
        );
        let e = SfError::bad_request("X", "m").with_fields(["A", "B"]);
        assert_eq!(error_text(&e), "X:m:A,B --");
        assert_eq!(
            error_text(&SfError::entity_is_deleted()),
            "ENTITY_IS_DELETED:entity is deleted:--"
        );
    }

    #[test]
    fn csv_parsing_handles_quotes_crlf_and_blank_lines() {
        let (header, rows) = parse_csv(
            &spec(Operation::Insert),
            b"Name,Note\r\n\"a,b\",\"x\"\"y\"\r\n\r\nc,\n",
        )
        .unwrap();
        assert_eq!(header, vec!["Name", "Note"]);
        assert_eq!(rows, vec![vec!["a,b", "x\"y"], vec!["c", ""]]);
        assert!(parse_csv(&spec(Operation::Insert), b"").is_err());
    }

    #[test]
    fn relationship_names() {
        assert_eq!(relationship_name("AccountId").as_deref(), Some("Account"));
        assert_eq!(relationship_name("Parent__c").as_deref(), Some("Parent__r"));
        assert_eq!(relationship_name("Id"), None);
        assert_eq!(relationship_name("Name"), None);
    }

    #[test]
    fn ragged_rows_and_missing_data_fail_the_job() {
        let mut org = Org::new();
        let out = process(&mut org, &spec(Operation::Insert), Some(b"Name,Site\nA\n"));
        assert!(
            matches!(&out, Outcome::Failed { message, .. } if message.contains("Wrong number of columns in row 1")),
            "{out:?}"
        );
        let out = process(&mut org, &spec(Operation::Insert), None);
        assert!(matches!(out, Outcome::Failed { .. }));
        assert_eq!(org.count("Account"), 0);
    }

    #[test]
    fn insert_rows_go_through_store_validation() {
        let mut org = Org::new();
        let out = process(
            &mut org,
            &spec(Operation::Insert),
            Some(b"Name\nA\n\n#N/A\n"),
        );
        let Outcome::Complete(results) = out else {
            panic!("{out:?}")
        };
        assert_eq!(results.rows.len(), 2);
        assert!(matches!(
            results.rows[0].1,
            RowOutcome::Success { created: true, .. }
        ));
        assert!(
            matches!(&results.rows[1].1, RowOutcome::Failure { id, error } if id.is_empty() && error.starts_with("REQUIRED_FIELD_MISSING"))
        );
        assert_eq!(org.count("Account"), 1);
    }

    #[test]
    fn fail_after_commits_the_first_rows_then_fails_the_job() {
        let mut org = Org::new();
        let data = b"Name\nA\nB\nC\n";
        let out = process_until(&mut org, &spec(Operation::Insert), Some(data), Some(2));
        let Outcome::Failed { message, results } = out else {
            panic!("{out:?}");
        };
        assert!(message.contains("after processing 2 records"), "{message}");
        assert_eq!(results.rows.len(), 2);
        assert_eq!(results.unprocessed.len(), 1);
        assert_eq!(org.count("Account"), 2);
        // A job no longer than the limit completes.
        let out = process_until(
            &mut org,
            &spec(Operation::Insert),
            Some(b"Name\nD\n"),
            Some(2),
        );
        assert!(matches!(out, Outcome::Complete(_)), "{out:?}");
    }
}
