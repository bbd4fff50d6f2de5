//! The Bulk job snapshot the library API reports.

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
