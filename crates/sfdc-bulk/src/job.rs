//! Bulk API 2.0 ingest job wire types, spelled exactly as Salesforce spells them.
//!
//! Operations are camelCase (`hardDelete`), states PascalCase (`UploadComplete`), line endings and
//! delimiters upper case (`LF`, `COMMA`). Unknown operations and states deserialize into an
//! `Other(String)` variant so a job list containing something new never fails to parse.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The DML operation an ingest job performs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum Operation {
    /// `insert`: creates records; rows carry no `Id`.
    Insert,
    /// `update`: updates records by `Id`.
    Update,
    /// `upsert`: creates or updates by the job's `externalIdFieldName`.
    Upsert,
    /// `delete`: moves records to the recycle bin; the CSV has only an `Id` column.
    Delete,
    /// `hardDelete`: deletes permanently (needs the "Bulk API Hard Delete" permission).
    HardDelete,
    /// Any other operation Salesforce reports (for example in a job list).
    Other(String),
}

impl Operation {
    /// Returns the wire spelling (`insert`, `hardDelete`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Upsert => "upsert",
            Self::Delete => "delete",
            Self::HardDelete => "hardDelete",
            Self::Other(s) => s,
        }
    }

    /// Returns true for `delete` and `hardDelete`, whose CSV carries only the `Id` column.
    pub fn is_delete(&self) -> bool {
        matches!(self, Self::Delete | Self::HardDelete)
    }
}

impl From<&str> for Operation {
    fn from(s: &str) -> Self {
        match s {
            "insert" => Self::Insert,
            "update" => Self::Update,
            "upsert" => Self::Upsert,
            "delete" => Self::Delete,
            "hardDelete" => Self::HardDelete,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<String> for Operation {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<Operation> for String {
    fn from(op: Operation) -> Self {
        op.as_str().to_owned()
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of an ingest job.
///
/// `Open` → `UploadComplete` → `InProgress` → `JobComplete` | `Failed`; `Aborted` from `Open`
/// or `UploadComplete`. A job whose rows all fail is still `JobComplete`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum JobState {
    /// `Open`: accepting its one CSV upload.
    Open,
    /// `UploadComplete`: closed by the client, queued for processing.
    UploadComplete,
    /// `InProgress`: being processed.
    InProgress,
    /// `JobComplete`: processed; per-row outcomes are in the result CSVs.
    JobComplete,
    /// `Failed`: the whole job failed (for example a bad CSV header); see `errorMessage`.
    Failed,
    /// `Aborted`: aborted by a client.
    Aborted,
    /// Any other state Salesforce reports.
    Other(String),
}

impl JobState {
    /// Returns the wire spelling (`Open`, `UploadComplete`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "Open",
            Self::UploadComplete => "UploadComplete",
            Self::InProgress => "InProgress",
            Self::JobComplete => "JobComplete",
            Self::Failed => "Failed",
            Self::Aborted => "Aborted",
            Self::Other(s) => s,
        }
    }

    /// Returns true for `JobComplete`, `Failed` and `Aborted`: the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }
}

impl From<&str> for JobState {
    fn from(s: &str) -> Self {
        match s {
            "Open" => Self::Open,
            "UploadComplete" => Self::UploadComplete,
            "InProgress" => Self::InProgress,
            "JobComplete" => Self::JobComplete,
            "Failed" => Self::Failed,
            "Aborted" => Self::Aborted,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl From<String> for JobState {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<JobState> for String {
    fn from(state: JobState) -> Self {
        state.as_str().to_owned()
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The line ending of a job's CSV. This crate always writes `LF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LineEnding {
    /// `LF` (the default).
    #[serde(rename = "LF")]
    Lf,
    /// `CRLF`.
    #[serde(rename = "CRLF")]
    Crlf,
}

/// The column delimiter of a job's CSV. This crate always writes `COMMA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ColumnDelimiter {
    /// `` ` `` (`BACKQUOTE`).
    Backquote,
    /// `^` (`CARET`).
    Caret,
    /// `,` (`COMMA`, the default).
    Comma,
    /// `|` (`PIPE`).
    Pipe,
    /// `;` (`SEMICOLON`).
    Semicolon,
    /// Tab (`TAB`).
    Tab,
}

/// The content type of a job. Bulk API 2.0 ingest supports only CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ContentType {
    /// `CSV`.
    #[serde(rename = "CSV")]
    Csv,
}

/// Body of `POST /jobs/ingest`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJobRequest {
    /// sObject API name.
    pub object: String,
    /// The operation.
    pub operation: Operation,
    /// External-id field for `upsert` (may be `Id`); omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id_field_name: Option<String>,
    /// Always `CSV`.
    pub content_type: ContentType,
    /// Always `LF` from this crate.
    pub line_ending: LineEnding,
    /// Always `COMMA` from this crate.
    pub column_delimiter: ColumnDelimiter,
    /// Assignment rule to apply (API v49+); omitted when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_rule_id: Option<String>,
}

impl CreateJobRequest {
    /// Builds a request for `object`/`operation` with LF line endings and comma delimiters.
    pub fn new(object: impl Into<String>, operation: Operation) -> Self {
        Self {
            object: object.into(),
            operation,
            external_id_field_name: None,
            content_type: ContentType::Csv,
            line_ending: LineEnding::Lf,
            column_delimiter: ColumnDelimiter::Comma,
            assignment_rule_id: None,
        }
    }
}

/// Body of `PATCH /jobs/ingest/{id}` (close or abort).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange {
    /// `UploadComplete` to close, `Aborted` to abort.
    pub state: JobState,
}

/// Job information as returned by create, close/abort, get and list.
///
/// Fields missing from a response (the short form returned by create/close lacks the counters)
/// are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JobInfo {
    /// Job id (starts `750`).
    pub id: String,
    /// Operation.
    pub operation: Operation,
    /// sObject API name.
    pub object: String,
    /// Current state.
    pub state: JobState,
    /// External-id field of an upsert job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id_field_name: Option<String>,
    /// Creating user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_id: Option<String>,
    /// Creation time as sent (`2022-01-02T21:33:43.000+0000`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    /// Last modification time as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_modstamp: Option<String>,
    /// `Parallel` or `Serial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_mode: Option<String>,
    /// Content type (`CSV`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    /// API version; Salesforce sends a number, some servers a string: both are accepted.
    #[serde(
        default,
        deserialize_with = "de_api_version",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<f64>,
    /// Upload URL without a leading slash (present while `Open`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    /// Line ending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_ending: Option<LineEnding>,
    /// Column delimiter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_delimiter: Option<ColumnDelimiter>,
    /// `V2Ingest` for Bulk API 2.0 jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    /// Rows processed so far (successes and failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_records_processed: Option<u64>,
    /// Rows that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_records_failed: Option<u64>,
    /// Internal batch retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// Total processing time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_processing_time: Option<u64>,
    /// API active processing time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_active_processing_time: Option<u64>,
    /// Apex processing time in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apex_processing_time: Option<u64>,
    /// Why the job failed (present when `Failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Response of `GET /jobs/ingest`: one page of jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JobList {
    /// True on the last page.
    pub done: bool,
    /// Jobs on this page (at most 1000).
    pub records: Vec<JobInfo>,
    /// Path of the next page, when not done.
    #[serde(default)]
    pub next_records_url: Option<String>,
}

fn de_api_version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        Num(f64),
        Str(String),
    }
    match Option::<NumOrStr>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Str(s)) => s
            .trim_start_matches('v')
            .parse::<f64>()
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operation_wire_spelling() {
        for (op, wire) in [
            (Operation::Insert, "insert"),
            (Operation::Update, "update"),
            (Operation::Upsert, "upsert"),
            (Operation::Delete, "delete"),
            (Operation::HardDelete, "hardDelete"),
        ] {
            assert_eq!(serde_json::to_value(&op).unwrap(), json!(wire));
            assert_eq!(
                serde_json::from_value::<Operation>(json!(wire)).unwrap(),
                op
            );
            assert_eq!(op.to_string(), wire);
        }
        assert_eq!(
            serde_json::from_value::<Operation>(json!("query")).unwrap(),
            Operation::Other("query".into())
        );
        assert!(Operation::HardDelete.is_delete());
        assert!(!Operation::Upsert.is_delete());
    }

    #[test]
    fn state_wire_spelling_and_terminality() {
        for (state, wire, terminal) in [
            (JobState::Open, "Open", false),
            (JobState::UploadComplete, "UploadComplete", false),
            (JobState::InProgress, "InProgress", false),
            (JobState::JobComplete, "JobComplete", true),
            (JobState::Failed, "Failed", true),
            (JobState::Aborted, "Aborted", true),
        ] {
            assert_eq!(serde_json::to_value(&state).unwrap(), json!(wire));
            assert_eq!(
                serde_json::from_value::<JobState>(json!(wire)).unwrap(),
                state
            );
            assert_eq!(state.is_terminal(), terminal, "{wire}");
        }
        let other: JobState = serde_json::from_value(json!("Paused")).unwrap();
        assert_eq!(other, JobState::Other("Paused".into()));
        assert!(!other.is_terminal());
    }

    #[test]
    fn line_ending_delimiter_content_type_spelling() {
        assert_eq!(serde_json::to_value(LineEnding::Lf).unwrap(), json!("LF"));
        assert_eq!(
            serde_json::to_value(LineEnding::Crlf).unwrap(),
            json!("CRLF")
        );
        for (d, wire) in [
            (ColumnDelimiter::Backquote, "BACKQUOTE"),
            (ColumnDelimiter::Caret, "CARET"),
            (ColumnDelimiter::Comma, "COMMA"),
            (ColumnDelimiter::Pipe, "PIPE"),
            (ColumnDelimiter::Semicolon, "SEMICOLON"),
            (ColumnDelimiter::Tab, "TAB"),
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), json!(wire));
            assert_eq!(
                serde_json::from_value::<ColumnDelimiter>(json!(wire)).unwrap(),
                d
            );
        }
        assert_eq!(
            serde_json::to_value(ContentType::Csv).unwrap(),
            json!("CSV")
        );
    }

    #[test]
    fn create_request_exact_json() {
        let insert = CreateJobRequest::new("Account", Operation::Insert);
        assert_eq!(
            serde_json::to_value(&insert).unwrap(),
            json!({"object":"Account","operation":"insert","contentType":"CSV",
                   "lineEnding":"LF","columnDelimiter":"COMMA"})
        );
        let mut upsert = CreateJobRequest::new("Contact", Operation::Upsert);
        upsert.external_id_field_name = Some("Ext__c".into());
        upsert.assignment_rule_id = Some("01Q000000000001".into());
        assert_eq!(
            serde_json::to_value(&upsert).unwrap(),
            json!({"object":"Contact","operation":"upsert","externalIdFieldName":"Ext__c",
                   "contentType":"CSV","lineEnding":"LF","columnDelimiter":"COMMA",
                   "assignmentRuleId":"01Q000000000001"})
        );
        let close = StateChange {
            state: JobState::UploadComplete,
        };
        assert_eq!(
            serde_json::to_value(&close).unwrap(),
            json!({"state":"UploadComplete"})
        );
    }

    #[test]
    fn job_info_parses_create_response_with_numeric_api_version() {
        let body = json!({
            "id": "7505fEXAMPLE4C2AAM", "operation": "insert", "object": "Account",
            "createdById": "0055fEXAMPLEtG4AAI", "createdDate": "2022-01-02T21:33:43.000+0000",
            "systemModstamp": "2022-01-02T21:33:43.000+0000", "state": "Open",
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": 66.0,
            "contentUrl": "services/data/v66.0/jobs/ingest/7505fEXAMPLE4C2AAM/batches",
            "lineEnding": "LF", "columnDelimiter": "COMMA"
        });
        let info: JobInfo = serde_json::from_value(body).unwrap();
        assert_eq!(info.id, "7505fEXAMPLE4C2AAM");
        assert_eq!(info.state, JobState::Open);
        assert_eq!(info.api_version, Some(66.0));
        assert_eq!(info.line_ending, Some(LineEnding::Lf));
        assert_eq!(info.column_delimiter, Some(ColumnDelimiter::Comma));
        assert_eq!(info.number_records_failed, None);
    }

    #[test]
    fn job_info_parses_full_info_with_string_api_version() {
        let body = json!({
            "id": "750x", "operation": "upsert", "object": "Contact", "state": "Failed",
            "externalIdFieldName": "Ext__c", "apiVersion": "62.0", "jobType": "V2Ingest",
            "numberRecordsProcessed": 3, "numberRecordsFailed": 1, "retries": 0,
            "totalProcessingTime": 12, "apiActiveProcessingTime": 5, "apexProcessingTime": 0,
            "errorMessage": "InvalidBatch : Field name not found : Foo__c"
        });
        let info: JobInfo = serde_json::from_value(body).unwrap();
        assert_eq!(info.operation, Operation::Upsert);
        assert_eq!(info.api_version, Some(62.0));
        assert_eq!(info.number_records_processed, Some(3));
        assert_eq!(
            info.error_message.as_deref(),
            Some("InvalidBatch : Field name not found : Foo__c")
        );
    }

    #[test]
    fn job_list_parses() {
        let body = json!({"done": true, "records": [
            {"id": "750a", "operation": "hardDelete", "object": "Lead", "state": "Aborted"}
        ], "nextRecordsUrl": null});
        let list: JobList = serde_json::from_value(body).unwrap();
        assert!(list.done);
        assert_eq!(list.records[0].operation, Operation::HardDelete);
        assert_eq!(list.next_records_url, None);
    }
}
