//! Streaming ingest: records in, one job per chunk, per-record outcomes out.

use std::path::PathBuf;
use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use tokio_util::io::{StreamReader, SyncIoBridge};
use tracing::Instrument;

use crate::client::{BulkClient, job_failed};
use crate::csv::EmptyString;
use crate::job::{CreateJobRequest, JobInfo, JobState, Operation};
use crate::outcome::{JobReport, Outcome};
use crate::results::{Correlator, ResultKind};
use crate::split::SplitLimits;
use crate::spool::{ChunkConfig, ChunkWriter, ColumnMode, SpooledChunk};
use crate::{Error, Record, Result};

/// What to ingest and how: object, operation and CSV/job settings.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    object: String,
    operation: Operation,
    external_id_field: Option<String>,
    assignment_rule_id: Option<String>,
    columns: ColumnMode,
    empty_string: EmptyString,
    limits: SplitLimits,
    spool_dir: Option<PathBuf>,
    delete_jobs: bool,
}

impl IngestRequest {
    /// Starts a request for `object` and `operation` with defaults: inferred columns, empty
    /// strings left unchanged, 100 MB / 250,000 rows per job, system temp dir, jobs kept.
    pub fn new(object: impl Into<String>, operation: Operation) -> Self {
        Self {
            object: object.into(),
            operation,
            external_id_field: None,
            assignment_rule_id: None,
            columns: ColumnMode::Infer,
            empty_string: EmptyString::default(),
            limits: SplitLimits::default(),
            spool_dir: None,
            delete_jobs: false,
        }
    }

    /// Sets the external-id field of an upsert (required for upsert; may be `Id`).
    pub fn external_id_field(mut self, field: impl Into<String>) -> Self {
        self.external_id_field = Some(field.into());
        self
    }

    /// Sets the assignment rule (API v49+).
    pub fn assignment_rule_id(mut self, id: impl Into<String>) -> Self {
        self.assignment_rule_id = Some(id.into());
        self
    }

    /// Declares the CSV header instead of inferring it (see [`ColumnMode`]). Ignored for delete
    /// and hardDelete, whose CSV is always just `Id`.
    pub fn columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.columns = ColumnMode::Declared(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Sets how empty strings are written (see [`EmptyString`]).
    pub fn empty_string(mut self, policy: EmptyString) -> Self {
        self.empty_string = policy;
        self
    }

    /// Sets the per-job size limits.
    pub fn limits(mut self, limits: SplitLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the directory for spool files (default: the system temp directory).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Deletes each job after its results were read (default: keep, Salesforce retains them
    /// for 7 days).
    pub fn delete_jobs(mut self, delete: bool) -> Self {
        self.delete_jobs = delete;
        self
    }

    fn chunk_config(&self) -> ChunkConfig {
        let (columns, ignore_undeclared) = if self.operation.is_delete() {
            (ColumnMode::Declared(vec!["Id".to_owned()]), true)
        } else {
            (self.columns.clone(), false)
        };
        ChunkConfig {
            columns,
            ignore_undeclared,
            empty_string: self.empty_string,
            limits: self.limits,
            spool_dir: self.spool_dir.clone(),
        }
    }

    fn job_request(&self) -> CreateJobRequest {
        let mut req = CreateJobRequest::new(self.object.clone(), self.operation.clone());
        if self.operation == Operation::Upsert {
            req.external_id_field_name = self.external_id_field.clone();
        }
        req.assignment_rule_id = self.assignment_rule_id.clone();
        req
    }

    fn validate(&self) -> Result<()> {
        if self.object.is_empty() {
            return Err(Error::config("the object name is empty"));
        }
        if self.operation == Operation::Upsert
            && self.external_id_field.as_deref().is_none_or(str::is_empty)
        {
            return Err(Error::config(
                "an upsert needs external_id_field(...) (the external-id field, or `Id`)",
            ));
        }
        if let ColumnMode::Declared(columns) = &self.columns {
            let key = match self.operation {
                Operation::Update => Some("Id"),
                Operation::Upsert => self.external_id_field.as_deref(),
                _ => None,
            };
            if let Some(key) = key
                && !columns.iter().any(|c| c.eq_ignore_ascii_case(key))
            {
                return Err(Error::config(format!(
                    "the declared columns must include `{key}`, the column {} matches records by",
                    self.operation
                )));
            }
        }
        if let Operation::Other(op) = &self.operation {
            return Err(Error::config(format!(
                "`{op}` is not an ingest operation; use insert, update, upsert, delete or hardDelete"
            )));
        }
        Ok(())
    }
}

struct IngestState {
    client: BulkClient,
    request: IngestRequest,
    writer: Option<ChunkWriter>,
    input: Pin<Box<dyn Stream<Item = Record> + Send>>,
    stopped: bool,
}

impl BulkClient {
    /// Ingests records and returns one outcome per record, in input order.
    ///
    /// Convenience over [`BulkClient::ingest_stream`] that collects every report; for inputs
    /// too large to hold all outcomes, use the stream.
    ///
    /// # Errors
    /// As [`BulkClient::ingest_stream`]; outcomes of jobs finished before the error are lost
    /// (the stream keeps them).
    #[tracing::instrument(skip_all, fields(object = %request.object, operation = %request.operation))]
    pub async fn ingest<S>(&self, request: IngestRequest, records: S) -> Result<Vec<Outcome>>
    where
        S: Stream<Item = Record> + Send + 'static,
    {
        let mut reports = std::pin::pin!(self.ingest_stream(request, records));
        let mut outcomes = Vec::new();
        while let Some(report) = reports.next().await {
            outcomes.extend(report?.outcomes);
        }
        Ok(outcomes)
    }

    /// Ingests records as a stream of per-job reports.
    ///
    /// Records are encoded and spooled to a temporary file until the next record would pass a
    /// [`SplitLimits`] limit (or bring an unseen column in infer mode); that chunk then goes
    /// through one job: create, upload, close, poll, read the three result files, correlate. The
    /// job's [`JobReport`] is yielded before the next chunk is read, so memory is bounded by one
    /// chunk. Reports cover consecutive input ranges, in order.
    ///
    /// The stream ends after the first error.
    ///
    /// # Errors
    /// Each item may be an error: [`Error::Config`] (bad request, nothing sent),
    /// [`Error::JobFailed`] (the job ended `Failed`/`Aborted`; [`Error::partial_report`] holds
    /// what the result files said), [`Error::PollTimeout`], [`Error::Spool`],
    /// [`Error::Results`] and [`Error::Rest`] (see its predicates).
    pub fn ingest_stream<S>(
        &self,
        request: IngestRequest,
        records: S,
    ) -> impl Stream<Item = Result<JobReport>> + Send + 'static
    where
        S: Stream<Item = Record> + Send + 'static,
    {
        let setup = request
            .validate()
            .and_then(|()| ChunkWriter::new(request.chunk_config()));
        let (writer, first_error) = match setup {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(e)),
        };
        let state = IngestState {
            client: self.clone(),
            request,
            writer,
            input: Box::pin(records),
            stopped: false,
        };
        let first = futures::stream::iter(first_error.map(Err));
        let rest = futures::stream::unfold(state, |mut st| async move {
            let item = st.next_report().await?;
            if item.is_err() {
                st.stopped = true;
            }
            Some((item, st))
        });
        first.chain(rest)
    }
}

impl IngestState {
    async fn next_report(&mut self) -> Option<Result<JobReport>> {
        if self.stopped {
            return None;
        }
        let chunk = loop {
            let writer = self.writer.as_mut()?;
            match self.input.next().await {
                Some(record) => match writer.push(&record).await {
                    Ok(Some(chunk)) => break chunk,
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                },
                None => {
                    let writer = self.writer.take()?;
                    match writer.finish().await {
                        Ok(Some(chunk)) => break chunk,
                        Ok(None) => return None,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        };
        Some(self.client.run_chunk(&self.request, chunk).await)
    }
}

impl BulkClient {
    async fn run_chunk(&self, request: &IngestRequest, chunk: SpooledChunk) -> Result<JobReport> {
        let range = chunk.range();
        let span = tracing::info_span!(
            "sfdc_bulk.job",
            object = %request.object,
            operation = %request.operation,
            first_index = range.start,
            records = chunk.row_count(),
            bytes = chunk.bytes(),
            job_id = tracing::field::Empty,
        );
        async move {
            let Some(path) = chunk.path() else {
                return Ok(assemble(None, &chunk, Vec::new(), 0));
            };
            // Check the spool before creating the job, so an I/O error leaves no orphan job.
            tokio::fs::metadata(path).await.map_err(Error::spool)?;
            let info = self.create_job(&request.job_request()).await?;
            tracing::Span::current().record("job_id", info.id.as_str());
            let job_id = info.id.clone();
            if let Err(e) = self.upload_file(&job_id, path).await {
                self.abort_quietly(&job_id).await;
                return Err(e);
            }
            if let Err(e) = self.close_job(&job_id).await {
                self.abort_quietly(&job_id).await;
                return Err(e);
            }
            let info = self.poll_until_terminal(&job_id).await?;
            let failed = matches!(info.state, JobState::Failed | JobState::Aborted);
            let correlated = self.correlate(request, &chunk, &job_id).await;
            let report = match correlated {
                Ok((outcomes, unmatched)) => {
                    Some(assemble(Some(info.clone()), &chunk, outcomes, unmatched))
                }
                Err(e) if failed => {
                    tracing::warn!(error = %e, "could not read the results of a failed job");
                    None
                }
                Err(e) => return Err(e),
            };
            if failed {
                let mut error = job_failed(&info);
                if let Error::JobFailed { partial, .. } = &mut error {
                    *partial = report.map(Box::new);
                }
                return Err(error);
            }
            if request.delete_jobs {
                self.delete_job(&job_id).await?;
            }
            report.ok_or_else(|| Error::UnexpectedResponse {
                status: http::StatusCode::OK,
                message: "job results missing".to_owned(),
            })
        }
        .instrument(span)
        .await
    }

    async fn abort_quietly(&self, job_id: &str) {
        if let Err(e) = self.abort_job(job_id).await {
            tracing::warn!(error = %e, "could not abort the job after a failed upload");
        }
    }

    /// Builds the index from the spool file, then streams the three result files through it.
    async fn correlate(
        &self,
        request: &IngestRequest,
        chunk: &SpooledChunk,
        job_id: &str,
    ) -> Result<(Vec<Outcome>, u64)> {
        let path = chunk
            .path()
            .map(std::path::Path::to_path_buf)
            .ok_or_else(|| Error::config("chunk without spool file"))?;
        let operation = request.operation.clone();
        let ext = request.external_id_field.clone();
        let spool = path.clone();
        let mut correlator = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(&spool).map_err(Error::spool)?;
            Correlator::new(operation, ext.as_deref(), std::io::BufReader::new(file)).map_err(
                |source| Error::Results {
                    job_id: String::new(),
                    file: "spool file",
                    source,
                },
            )
        })
        .await
        .map_err(|e| Error::spool(std::io::Error::other(e)))??;

        for kind in [
            ResultKind::Successful,
            ResultKind::Failed,
            ResultKind::Unprocessed,
        ] {
            let response = self.result_file(job_id, kind).await?;
            let stream = response.bytes_stream().map_err(std::io::Error::other);
            let bridge = SyncIoBridge::new(StreamReader::new(stream));
            let id = job_id.to_owned();
            correlator = tokio::task::spawn_blocking(move || {
                correlator
                    .apply(kind, bridge)
                    .map(|()| correlator)
                    .map_err(|source| Error::Results {
                        job_id: id,
                        file: kind.path_segment(),
                        source,
                    })
            })
            .await
            .map_err(|e| Error::spool(std::io::Error::other(e)))??;
        }
        debug_assert_eq!(correlator.len(), chunk.row_count());
        let id = job_id.to_owned();
        tokio::task::spawn_blocking(move || {
            let input = if correlator.needs_fallback() {
                let file = std::fs::File::open(&path).map_err(Error::spool)?;
                Some(std::io::BufReader::new(file))
            } else {
                None
            };
            correlator.finish(input).map_err(|source| Error::Results {
                job_id: id,
                file: "spool file",
                source,
            })
        })
        .await
        .map_err(|e| Error::spool(std::io::Error::other(e)))?
    }
}

/// Merges the job's per-row outcomes and the client-side rejections into range order.
fn assemble(
    job: Option<JobInfo>,
    chunk: &SpooledChunk,
    row_outcomes: Vec<Outcome>,
    unmatched: u64,
) -> JobReport {
    let range = chunk.range();
    let mut slots: Vec<Option<Outcome>> = vec![None; range.len()];
    for (pos, outcome) in chunk.rows().zip(row_outcomes) {
        slots[pos - range.start] = Some(outcome);
    }
    for (pos, err) in chunk.rejected() {
        slots[pos - range.start] = Some(Outcome::from_row_error(err));
    }
    JobReport {
        job,
        first_index: range.start,
        outcomes: slots
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Unprocessed))
            .collect(),
        unmatched_results: unmatched,
    }
}
