//! Ingest job model: wire enums (spelled as Salesforce spells them), the job record, and its
//! JobInfo JSON.

use serde_json::{Map, Value, json};

/// `operation` of an ingest job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `insert`
    Insert,
    /// `update`
    Update,
    /// `upsert`
    Upsert,
    /// `delete`
    Delete,
    /// `hardDelete`
    HardDelete,
}

impl Operation {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }

    /// Parses the wire spelling (exact case, as Salesforce requires).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [
            Operation::Insert,
            Operation::Update,
            Operation::Upsert,
            Operation::Delete,
            Operation::HardDelete,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// Job `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobState {
    /// Accepting data.
    Open,
    /// Closed by the client; waiting to be processed.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Processed (individual rows may have failed).
    JobComplete,
    /// The whole job failed (e.g. a bad header); see `errorMessage`.
    Failed,
    /// Aborted by the client.
    Aborted,
}

impl JobState {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobState::Open => "Open",
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
        }
    }

    /// Words used in "Aborting already Completed Job not allowed".
    pub(crate) fn past_tense(self) -> &'static str {
        match self {
            JobState::JobComplete => "Completed",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
            JobState::Open => "Open",
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
        }
    }
}

/// `lineEnding` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnding {
    /// `LF` (default).
    Lf,
    /// `CRLF`.
    Crlf,
}

impl LineEnding {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::Crlf => "CRLF",
        }
    }

    /// Parses the wire spelling.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "LF" => Some(LineEnding::Lf),
            "CRLF" => Some(LineEnding::Crlf),
            _ => None,
        }
    }
}

/// `columnDelimiter` of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnDelimiter {
    /// `` ` ``
    Backquote,
    /// `^`
    Caret,
    /// `,` (default)
    Comma,
    /// `|`
    Pipe,
    /// `;`
    Semicolon,
    /// tab
    Tab,
}

impl ColumnDelimiter {
    const ALL: [ColumnDelimiter; 6] = [
        ColumnDelimiter::Backquote,
        ColumnDelimiter::Caret,
        ColumnDelimiter::Comma,
        ColumnDelimiter::Pipe,
        ColumnDelimiter::Semicolon,
        ColumnDelimiter::Tab,
    ];

    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ColumnDelimiter::Backquote => "BACKQUOTE",
            ColumnDelimiter::Caret => "CARET",
            ColumnDelimiter::Comma => "COMMA",
            ColumnDelimiter::Pipe => "PIPE",
            ColumnDelimiter::Semicolon => "SEMICOLON",
            ColumnDelimiter::Tab => "TAB",
        }
    }

    /// The delimiter byte.
    pub(crate) fn byte(self) -> u8 {
        match self {
            ColumnDelimiter::Backquote => b'`',
            ColumnDelimiter::Caret => b'^',
            ColumnDelimiter::Comma => b',',
            ColumnDelimiter::Pipe => b'|',
            ColumnDelimiter::Semicolon => b';',
            ColumnDelimiter::Tab => b'\t',
        }
    }

    /// Parses the wire spelling.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// What a job was created with (immutable after creation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobSpec {
    /// Canonical object API name.
    pub(crate) object: String,
    /// Operation.
    pub(crate) operation: Operation,
    /// Canonical external id field name (upsert only).
    pub(crate) external_id_field: Option<String>,
    /// Line ending.
    pub(crate) line_ending: LineEnding,
    /// Column delimiter.
    pub(crate) delimiter: ColumnDelimiter,
}

/// A success row's record id: an 18-character id held inline (no heap block per row of a
/// large job); any other text (never produced by the store) is kept boxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowId {
    /// 18 ASCII characters.
    Inline([u8; 18]),
    /// Anything else.
    Other(Box<str>),
}

impl RowId {
    /// The id text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            RowId::Inline(b) => std::str::from_utf8(b).unwrap_or_default(),
            RowId::Other(s) => s,
        }
    }
}

impl From<&str> for RowId {
    fn from(id: &str) -> Self {
        match <[u8; 18]>::try_from(id.as_bytes()) {
            Ok(b) if id.is_ascii() => RowId::Inline(b),
            _ => RowId::Other(id.into()),
        }
    }
}

impl From<String> for RowId {
    fn from(id: String) -> Self {
        RowId::from(id.as_str())
    }
}

/// One processed row: the original cells plus its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RowOutcome {
    /// `sf__Id`, `sf__Created`.
    Success {
        /// Record id.
        id: RowId,
        /// True when the row created a record.
        created: bool,
    },
    /// `sf__Id` (empty for failed inserts), `sf__Error`.
    Failure {
        /// Record id when known.
        id: String,
        /// `CODE:message:fields --`.
        error: String,
    },
}

/// Rows of a job after processing (or the unprocessed rows of a failed/aborted job).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JobResults {
    /// The uploaded header, as written.
    pub(crate) header: Vec<String>,
    /// Processed rows: the byte offset of each row in the uploaded CSV (its cells are read
    /// back from there when a result file is built, so they are not held twice) and its
    /// outcome, in result-file order.
    pub(crate) rows: Vec<(u64, RowOutcome)>,
    /// Rows that were never processed, in input order.
    pub(crate) unprocessed: Vec<Vec<String>>,
}

/// One ingest job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// Job id (`750...`).
    pub(crate) id: String,
    /// Creation settings.
    pub(crate) spec: JobSpec,
    /// API version the job was created with, e.g. `62.0`.
    pub(crate) api_version: String,
    /// Creating user id.
    pub(crate) created_by: String,
    /// Creation time (Salesforce datetime format).
    pub(crate) created_date: String,
    /// Last change time (Salesforce datetime format).
    pub(crate) system_modstamp: String,
    /// Current state.
    pub(crate) state: JobState,
    /// The uploaded CSV, if any.
    pub(crate) data: Option<bytes::Bytes>,
    /// Results once processed (or unprocessed rows once failed/aborted).
    pub(crate) results: std::sync::Arc<JobResults>,
    /// Why the job failed.
    pub(crate) error_message: Option<String>,
    /// Rows processed (successful + failed).
    pub(crate) processed: u64,
    /// Rows failed.
    pub(crate) failed: u64,
    /// Milliseconds spent processing.
    pub(crate) processing_ms: u64,
}

impl Job {
    /// The short JobInfo returned by create, close/abort and list.
    pub(crate) fn info(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("operation".into(), json!(self.spec.operation.as_str()));
        m.insert("object".into(), json!(self.spec.object));
        m.insert("createdById".into(), json!(self.created_by));
        m.insert("createdDate".into(), json!(self.created_date));
        m.insert("systemModstamp".into(), json!(self.system_modstamp));
        m.insert("state".into(), json!(self.state.as_str()));
        if let Some(ext) = &self.spec.external_id_field {
            m.insert("externalIdFieldName".into(), json!(ext));
        }
        m.insert("concurrencyMode".into(), json!("Parallel"));
        m.insert("contentType".into(), json!("CSV"));
        m.insert("apiVersion".into(), api_version_number(&self.api_version));
        if self.state == JobState::Open {
            m.insert(
                "contentUrl".into(),
                json!(format!(
                    "services/data/v{}/jobs/ingest/{}/batches",
                    self.api_version, self.id
                )),
            );
        }
        m.insert("lineEnding".into(), json!(self.spec.line_ending.as_str()));
        m.insert(
            "columnDelimiter".into(),
            json!(self.spec.delimiter.as_str()),
        );
        Value::Object(m)
    }

    /// The short JobInfo a close or abort answers: it ends at `apiVersion` (no
    /// `contentUrl`, `lineEnding`, `columnDelimiter`, `jobType` or counters).
    pub(crate) fn state_change_info(&self) -> Value {
        let mut v = self.info();
        if let Some(m) = v.as_object_mut() {
            for k in ["contentUrl", "lineEnding", "columnDelimiter"] {
                m.remove(k);
            }
        }
        v
    }

    /// The full JobInfo returned by `GET /jobs/ingest/{id}`. Before any data is uploaded
    /// it carries no `numberRecords*` counters.
    pub(crate) fn full_info(&self) -> Value {
        let mut v = self.info();
        if let Some(m) = v.as_object_mut() {
            m.insert("jobType".into(), json!("V2Ingest"));
            if self.data.is_some() || self.state != JobState::Open {
                m.insert("numberRecordsProcessed".into(), json!(self.processed));
                m.insert("numberRecordsFailed".into(), json!(self.failed));
            }
            m.insert("retries".into(), json!(0));
            m.insert("totalProcessingTime".into(), json!(self.processing_ms));
            m.insert("apiActiveProcessingTime".into(), json!(self.processing_ms));
            m.insert("apexProcessingTime".into(), json!(0));
            if let Some(e) = &self.error_message {
                m.insert("errorMessage".into(), json!(e));
            }
        }
        v
    }
}

/// `"62.0"` as the JSON number `62.0`.
fn api_version_number(v: &str) -> Value {
    v.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| json!(v), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: JobState) -> Job {
        Job {
            id: "750Em0000000001AAA".into(),
            spec: JobSpec {
                object: "Account".into(),
                operation: Operation::Upsert,
                external_id_field: Some("Ext__c".into()),
                line_ending: LineEnding::Crlf,
                delimiter: ColumnDelimiter::Pipe,
            },
            api_version: "62.0".into(),
            created_by: "005Em0000000001AAA".into(),
            created_date: "2024-01-01T00:00:00.000+0000".into(),
            system_modstamp: "2024-01-01T00:00:00.000+0000".into(),
            state,
            data: None,
            results: Default::default(),
            error_message: None,
            processed: 0,
            failed: 0,
            processing_ms: 0,
        }
    }

    #[test]
    fn wire_spellings_round_trip() {
        for s in ["insert", "update", "upsert", "delete", "hardDelete"] {
            assert_eq!(Operation::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(Operation::parse("Insert"), None);
        assert_eq!(Operation::parse("harddelete"), None);
        for s in ["BACKQUOTE", "CARET", "COMMA", "PIPE", "SEMICOLON", "TAB"] {
            assert_eq!(ColumnDelimiter::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(LineEnding::parse("CRLF"), Some(LineEnding::Crlf));
        assert_eq!(LineEnding::parse("lf"), None);
    }

    #[test]
    fn info_has_the_documented_shape() {
        let v = job(JobState::Open).info();
        assert_eq!(v["apiVersion"], json!(62.0));
        assert!(v["apiVersion"].is_f64());
        assert_eq!(
            v["contentUrl"],
            json!("services/data/v62.0/jobs/ingest/750Em0000000001AAA/batches")
        );
        assert_eq!(v["externalIdFieldName"], json!("Ext__c"));
        assert_eq!(v["lineEnding"], json!("CRLF"));
        assert_eq!(v["columnDelimiter"], json!("PIPE"));
        assert_eq!(v["state"], json!("Open"));
        assert_eq!(v["contentType"], json!("CSV"));
    }

    #[test]
    fn full_info_adds_counts_and_drops_content_url_after_open() {
        let mut j = job(JobState::Failed);
        j.error_message = Some("InvalidBatch : Field name not found : Foo__c".into());
        j.processed = 3;
        j.failed = 1;
        let v = j.full_info();
        assert_eq!(v["jobType"], json!("V2Ingest"));
        assert_eq!(v["numberRecordsProcessed"], json!(3));
        assert_eq!(v["numberRecordsFailed"], json!(1));
        assert_eq!(
            v["errorMessage"],
            json!("InvalidBatch : Field name not found : Foo__c")
        );
        assert!(v.get("contentUrl").is_none());
    }

    #[test]
    fn close_info_is_short_and_open_jobs_without_data_have_no_counters() {
        let v = job(JobState::UploadComplete).state_change_info();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "operation",
                "object",
                "createdById",
                "createdDate",
                "systemModstamp",
                "state",
                "externalIdFieldName",
                "concurrencyMode",
                "contentType",
                "apiVersion"
            ]
        );
        let open = job(JobState::Open).full_info();
        assert!(open.get("numberRecordsProcessed").is_none());
        assert!(open.get("numberRecordsFailed").is_none());
        let mut uploaded = job(JobState::Open);
        uploaded.data = Some(bytes::Bytes::from_static(b"Name\nA\n"));
        assert_eq!(uploaded.full_info()["numberRecordsProcessed"], json!(0));
    }
}
