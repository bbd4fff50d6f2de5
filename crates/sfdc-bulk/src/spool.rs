//! Streaming chunk writer: encodes records into CSV and spools each job's CSV to a temporary
//! file, starting a new file before a limit would be passed. Memory held is one row buffer, a
//! write buffer and one `usize` per spooled row, whatever the input size.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use tempfile::TempPath;
use tokio::io::{AsyncWriteExt, BufWriter};

use crate::csv::{Columns, EmptyString, RowEncoder, RowError, is_valid_field_name, record_columns};
use crate::split::{Placement, SplitLimits, Splitter};
use crate::{Error, Record, Result};

const WRITE_BUFFER: usize = 256 * 1024;

/// How the columns of a job are chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColumnMode {
    /// The union of the fields seen so far (the default). The first record's fields make the
    /// first job's header; a record with a field not seen before closes the open job and starts
    /// a new one whose header is the union of all fields seen. A misspelled field therefore
    /// reaches Salesforce and fails the whole job it lands in (`InvalidBatch : Field name not
    /// found`); declare the columns to prevent that.
    #[default]
    Infer,
    /// A fixed header declared by the caller. A record with a field outside it fails on the
    /// client with `CLIENT_UNDECLARED_FIELD` and is not sent.
    Declared(Vec<String>),
}

/// Settings of a [`ChunkWriter`].
#[derive(Debug, Clone, Default)]
pub struct ChunkConfig {
    /// Column selection.
    pub columns: ColumnMode,
    /// Skip fields outside the declared columns instead of failing the row (delete jobs).
    pub ignore_undeclared: bool,
    /// How empty strings are written.
    pub empty_string: EmptyString,
    /// Job size limits.
    pub limits: SplitLimits,
    /// Directory for spool files; the system temp directory when `None`.
    pub spool_dir: Option<PathBuf>,
}

/// One job's worth of spooled CSV plus the input positions it covers.
///
/// The spool file is deleted when the chunk is dropped.
pub struct SpooledChunk {
    path: Option<TempPath>,
    bytes: u64,
    columns: Columns,
    rows: usize,
    rejected: Vec<(usize, RowError)>,
    range: Range<usize>,
}

impl fmt::Debug for SpooledChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpooledChunk")
            .field("path", &self.path())
            .field("bytes", &self.bytes)
            .field("columns", &self.columns.names())
            .field("rows", &self.rows)
            .field("rejected", &self.rejected.len())
            .field("range", &self.range)
            .finish()
    }
}

impl SpooledChunk {
    /// The spool file (header first), or `None` when every record in the range was rejected on
    /// the client and there is nothing to upload.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Size of the spooled CSV in bytes (0 without a file).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The header columns.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Number of spooled rows.
    pub fn row_count(&self) -> usize {
        self.rows
    }

    /// Input positions of the spooled rows, in file order: the range minus the rejected
    /// positions (kept implicit, so a chunk costs no memory per row).
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        let mut rejected = self.rejected.iter().map(|(i, _)| *i).peekable();
        self.range.clone().filter(move |i| {
            while rejected.next_if(|r| r < i).is_some() {}
            rejected.next_if_eq(i).is_none()
        })
    }

    /// Records of the range rejected on the client, with the reason.
    pub fn rejected(&self) -> &[(usize, RowError)] {
        &self.rejected
    }

    /// The input positions this chunk accounts for (spooled or rejected).
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }
}

struct OpenChunk {
    file: BufWriter<tokio::fs::File>,
    path: TempPath,
    bytes: u64,
    rows: usize,
}

/// Encodes records and spools them into job-sized CSV files.
///
/// Call [`push`](Self::push) per record; whenever a record has to start a new job, the
/// previous job's [`SpooledChunk`] is returned. [`finish`](Self::finish) returns the last one.
pub struct ChunkWriter {
    config: ChunkConfig,
    declared: bool,
    splitter: Splitter,
    encoder: RowEncoder,
    header: Vec<u8>,
    open: Option<OpenChunk>,
    rejected: Vec<(usize, RowError)>,
    range_start: usize,
    next_index: usize,
    row_buf: Vec<u8>,
}

impl fmt::Debug for ChunkWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkWriter")
            .field("columns", &self.encoder.columns().names())
            .field("limits", &self.splitter.limits())
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
}

impl ChunkWriter {
    /// Creates a writer.
    ///
    /// # Errors
    /// [`Error::Config`] when the limits are out of range or a declared column is empty or not a
    /// field API name.
    pub fn new(config: ChunkConfig) -> Result<Self> {
        config.limits.validate().map_err(Error::config)?;
        let (declared, columns) = match &config.columns {
            ColumnMode::Infer => (false, Columns::default()),
            ColumnMode::Declared(names) => {
                if names.is_empty() {
                    return Err(Error::config("declared columns must not be empty"));
                }
                if let Some(bad) = names.iter().find(|n| !is_valid_field_name(n)) {
                    return Err(Error::config(format!(
                        "declared column `{bad}` is not a field API name or relationship path (e.g. `Name`, `Account.External_Id__c`)"
                    )));
                }
                (true, Columns::new(names.iter().cloned()))
            }
        };
        let encoder = RowEncoder::new(columns, config.empty_string, config.ignore_undeclared);
        let mut writer = Self {
            splitter: Splitter::new(config.limits),
            config,
            declared,
            encoder,
            header: Vec::new(),
            open: None,
            rejected: Vec::new(),
            range_start: 0,
            next_index: 0,
            row_buf: Vec::with_capacity(1024),
        };
        writer.refresh_header()?;
        Ok(writer)
    }

    /// Number of records pushed so far.
    pub fn pushed(&self) -> usize {
        self.next_index
    }

    fn refresh_header(&mut self) -> Result<()> {
        self.header.clear();
        if !self.encoder.columns().is_empty() {
            self.encoder
                .encode_header(&mut self.header)
                .map_err(Error::spool)?;
        }
        Ok(())
    }

    /// Adds one record (its input position is the number of records pushed before it).
    ///
    /// Returns the previous job's chunk when this record starts a new job.
    ///
    /// # Errors
    /// [`Error::Spool`] when the spool file cannot be created or written.
    pub async fn push(&mut self, record: &Record) -> Result<Option<SpooledChunk>> {
        let index = self.next_index;
        self.next_index += 1;
        let mut emitted = None;

        if !self.declared {
            let names = record_columns(record);
            if let Some(bad) = names.iter().find(|n| !is_valid_field_name(n)) {
                self.rejected
                    .push((index, RowError::InvalidFieldName(bad.clone())));
                return Ok(None);
            }
            let unseen: Vec<String> = names
                .into_iter()
                .filter(|n| !self.encoder.columns().contains(n))
                .collect();
            if !unseen.is_empty() {
                if self.open.is_some() {
                    emitted = self.close_open(index).await?;
                }
                let mut columns = self.encoder.columns().clone();
                for name in unseen {
                    columns.push(name);
                }
                self.encoder = RowEncoder::new(columns, self.config.empty_string, false);
                self.refresh_header()?;
                self.splitter.close();
            }
        }
        if self.encoder.columns().is_empty() {
            self.rejected.push((
                index,
                RowError::UnsupportedValue {
                    field: String::new(),
                    found: "no fields at all",
                },
            ));
            return Ok(emitted);
        }

        self.row_buf.clear();
        if let Err(e) = self.encoder.encode_row(record, &mut self.row_buf) {
            self.rejected.push((index, e));
            return Ok(emitted);
        }
        match self.splitter.place(self.header.len(), self.row_buf.len()) {
            Placement::TooLarge => {
                let bytes = self.row_buf.len();
                let limit = self.splitter.limits().max_bytes;
                self.rejected
                    .push((index, RowError::TooLarge { bytes, limit }));
            }
            Placement::Append => {
                if let Some(open) = self.open.as_mut() {
                    open.file
                        .write_all(&self.row_buf)
                        .await
                        .map_err(Error::spool)?;
                    open.bytes += self.row_buf.len() as u64;
                    open.rows += 1;
                }
            }
            Placement::StartNew => {
                if self.open.is_some() {
                    emitted = self.close_open(index).await?;
                }
                let mut open = self.create_file().await?;
                open.file
                    .write_all(&self.header)
                    .await
                    .map_err(Error::spool)?;
                open.file
                    .write_all(&self.row_buf)
                    .await
                    .map_err(Error::spool)?;
                open.bytes = (self.header.len() + self.row_buf.len()) as u64;
                open.rows += 1;
                self.open = Some(open);
            }
        }
        Ok(emitted)
    }

    /// Flushes and returns the last chunk, if any record is not yet accounted for.
    ///
    /// # Errors
    /// [`Error::Spool`] when the spool file cannot be flushed.
    pub async fn finish(mut self) -> Result<Option<SpooledChunk>> {
        let end = self.next_index;
        if self.open.is_some() {
            return self.close_open(end).await;
        }
        if self.range_start < end {
            let chunk = SpooledChunk {
                path: None,
                bytes: 0,
                columns: self.encoder.columns().clone(),
                rows: 0,
                rejected: std::mem::take(&mut self.rejected),
                range: self.range_start..end,
            };
            self.range_start = end;
            return Ok(Some(chunk));
        }
        Ok(None)
    }

    async fn create_file(&self) -> Result<OpenChunk> {
        let dir = self.config.spool_dir.clone();
        let named = tokio::task::spawn_blocking(move || {
            let mut builder = tempfile::Builder::new();
            builder.prefix("sfdc-bulk-").suffix(".csv");
            match dir {
                Some(d) => builder.tempfile_in(d),
                None => builder.tempfile(),
            }
        })
        .await
        .map_err(|e| Error::spool(std::io::Error::other(e)))?
        .map_err(Error::spool)?;
        let (file, path) = named.into_parts();
        Ok(OpenChunk {
            file: BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(file)),
            path,
            bytes: 0,
            rows: 0,
        })
    }

    async fn close_open(&mut self, end: usize) -> Result<Option<SpooledChunk>> {
        let Some(mut open) = self.open.take() else {
            return Ok(None);
        };
        open.file.flush().await.map_err(Error::spool)?;
        open.file.shutdown().await.map_err(Error::spool)?;
        let chunk = SpooledChunk {
            path: Some(open.path),
            bytes: open.bytes,
            columns: self.encoder.columns().clone(),
            rows: open.rows,
            rejected: std::mem::take(&mut self.rejected),
            range: self.range_start..end,
        };
        self.range_start = end;
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn rec(v: Value) -> Record {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    async fn spool_all(config: ChunkConfig, records: &[Record]) -> Vec<SpooledChunk> {
        let mut w = ChunkWriter::new(config).unwrap();
        let mut chunks = Vec::new();
        for r in records {
            if let Some(c) = w.push(r).await.unwrap() {
                chunks.push(c);
            }
        }
        if let Some(c) = w.finish().await.unwrap() {
            chunks.push(c);
        }
        chunks
    }

    fn read(chunk: &SpooledChunk) -> String {
        std::fs::read_to_string(chunk.path().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn infer_mode_starts_a_new_job_on_an_unseen_column() {
        let records = vec![
            rec(json!({"Name": "a"})),
            rec(json!({"Name": "b"})),
            rec(json!({"Name": "c", "Phone": "1"})),
            rec(json!({"Phone": "2"})),
        ];
        let chunks = spool_all(ChunkConfig::default(), &records).await;
        assert_eq!(chunks.len(), 2);
        assert_eq!(read(&chunks[0]), "Name\na\nb\n");
        assert_eq!(chunks[0].range(), 0..2);
        assert_eq!(read(&chunks[1]), "Name,Phone\nc,1\n,2\n");
        assert_eq!(chunks[1].rows().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(chunks[1].range(), 2..4);
        assert_eq!(chunks[1].bytes(), read(&chunks[1]).len() as u64);
    }

    #[tokio::test]
    async fn declared_mode_rejects_undeclared_fields_and_keeps_going() {
        let config = ChunkConfig {
            columns: ColumnMode::Declared(vec!["Name".into()]),
            ..Default::default()
        };
        let records = vec![
            rec(json!({"Oops__c": 1})),
            rec(json!({"Name": "a"})),
            rec(json!({"Name": "b", "X": 1})),
        ];
        let chunks = spool_all(config, &records).await;
        assert_eq!(chunks.len(), 1);
        assert_eq!(read(&chunks[0]), "Name\na\n");
        assert_eq!(chunks[0].range(), 0..3);
        let rejected: Vec<usize> = chunks[0].rejected().iter().map(|(i, _)| *i).collect();
        assert_eq!(rejected, vec![0, 2]);
        assert_eq!(chunks[0].rows().collect::<Vec<_>>(), vec![1]);
        assert_eq!(chunks[0].row_count(), 1);
    }

    #[tokio::test]
    async fn all_rejected_gives_a_chunk_without_file() {
        let config = ChunkConfig {
            columns: ColumnMode::Declared(vec!["Name".into()]),
            ..Default::default()
        };
        let chunks = spool_all(config, &[rec(json!({"X": 1}))]).await;
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].path().is_none());
        assert_eq!(chunks[0].range(), 0..1);
    }

    #[tokio::test]
    async fn spool_file_is_removed_on_drop() {
        let chunks = spool_all(ChunkConfig::default(), &[rec(json!({"Name": "a"}))]).await;
        let path = chunks[0].path().unwrap().to_path_buf();
        assert!(path.exists());
        drop(chunks);
        assert!(!path.exists());
    }

    #[test]
    fn bad_config_is_rejected() {
        let bad = ChunkConfig {
            columns: ColumnMode::Declared(vec!["a,b".into()]),
            ..Default::default()
        };
        assert!(
            ChunkWriter::new(bad)
                .unwrap_err()
                .to_string()
                .contains("a,b")
        );
        let empty = ChunkConfig {
            columns: ColumnMode::Declared(vec![]),
            ..Default::default()
        };
        assert!(ChunkWriter::new(empty).is_err());
    }

    fn field_name() -> impl Strategy<Value = String> {
        prop_oneof![Just("Name"), Just("Phone"), Just("Note__c"), Just("Ext__c")]
            .prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Every record lands in exactly one job (or is reported rejected), jobs never pass the
        /// limits, and each spool file parses back to the records' values.
        #[test]
        fn splitting_keeps_every_record_once_within_limits(
            values in proptest::collection::vec(
                proptest::collection::btree_map(field_name(), "\\PC{0,12}", 1..4), 0..60),
            max_bytes in 30usize..300,
            max_records in 1usize..10,
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let records: Vec<Record> = values
                .iter()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
                .collect();
            let config = ChunkConfig {
                limits: SplitLimits { max_bytes, max_records },
                ..Default::default()
            };
            let chunks = rt.block_on(spool_all(config, &records));
            let mut seen = Vec::new();
            let mut next = 0;
            for chunk in &chunks {
                prop_assert_eq!(chunk.range().start, next);
                next = chunk.range().end;
                seen.extend(chunk.rejected().iter().map(|(i, _)| *i));
                for (i, e) in chunk.rejected() {
                    prop_assert!(matches!(e, RowError::TooLarge { .. }), "{i}: {e}");
                }
                let Some(path) = chunk.path() else { continue };
                let text = std::fs::read(path).unwrap();
                prop_assert!(text.len() <= max_bytes);
                prop_assert_eq!(text.len() as u64, chunk.bytes());
                prop_assert!(chunk.row_count() <= max_records);
                prop_assert_eq!(chunk.rows().count(), chunk.row_count());
                let mut reader = ::csv::Reader::from_reader(text.as_slice());
                let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
                prop_assert_eq!(&header, chunk.columns().names());
                for (row, input) in reader.records().zip(chunk.rows()) {
                    let row = row.unwrap();
                    for (col, cell) in header.iter().zip(row.iter()) {
                        let expected = values[input].get(col).map(String::as_str).unwrap_or("");
                        prop_assert_eq!(cell, expected);
                    }
                    seen.push(input);
                }
            }
            prop_assert_eq!(next, records.len());
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..records.len()).collect::<Vec<_>>());
        }
    }
}
