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
use crate::worker::Worker;
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
    worker: Worker,
    stopped: bool,
}

impl BulkClient {
    /// Ingests records and returns one outcome per record, in input order.
    ///
    /// Convenience over [`BulkClient::ingest_stream`] that collects every report. The result
    /// holds about 100 bytes per record (a 72-byte [`Outcome`] plus its id), so it grows with
    /// the input; for large inputs use the stream, whose memory does not.
    ///
    /// # Errors
    /// As [`BulkClient::ingest_stream`]. The outcomes of the jobs that finished before the error
    /// are not lost: the error is then [`Error::Incomplete`] and [`Error::completed_outcomes`]
    /// returns them (records from the first one on, in input order); a failed job's own rows
    /// are in [`Error::partial_report`].
    #[tracing::instrument(skip_all, fields(object = %request.object, operation = %request.operation))]
    pub async fn ingest<S>(&self, request: IngestRequest, records: S) -> Result<Vec<Outcome>>
    where
        S: Stream<Item = Record> + Send + 'static,
    {
        let mut reports = std::pin::pin!(self.ingest_stream(request, records));
        let mut outcomes: Vec<Outcome> = Vec::new();
        while let Some(report) = reports.next().await {
            match report {
                Ok(report) => outcomes.extend(report.outcomes),
                Err(e) if outcomes.is_empty() => return Err(e),
                Err(e) => {
                    return Err(Error::Incomplete {
                        completed: outcomes,
                        source: Box::new(e),
                    });
                }
            }
        }
        // Growth by doubling may leave up to half the slots unused; return them.
        outcomes.shrink_to_fit();
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
            worker: Worker::default(),
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

impl BulkClient {
    /// Settles a job started earlier, e.g. one whose polling timed out
    /// ([`Error::PollTimeout`], reported as pending by the facade): returns `None` while the job
    /// is still running, else its [`JobReport`] with one outcome per record, in input order.
    ///
    /// One status call (`GET jobs/ingest/{id}`); once the job is terminal, the three result
    /// files (3 calls). `request` and `records` must be those the job was created from (the
    /// same records in the same order): result rows are tied back to records through them, as
    /// in [`BulkClient::ingest_stream`]. When the records would not all fit one job (the
    /// [`SplitLimits`] or, in infer mode, an unseen column start another), the job held only
    /// the first ones: the report covers those (`outcomes.len()` of them), and the later records
    /// were never sent by that ingest. A job that ended `Failed` or `Aborted` is reported,
    /// not an error: [`JobReport::job`] says so, and rows Salesforce did not reach are
    /// [`Outcome::Unprocessed`].
    ///
    /// # Errors
    /// [`Error::Rest`] (e.g. [`Error::is_not_found`] for an unknown or deleted job);
    /// [`Error::Config`] for an invalid request; [`Error::Spool`], [`Error::Results`].
    #[tracing::instrument(skip_all, fields(job_id = %job_id))]
    pub async fn job_outcomes<S>(
        &self,
        job_id: &str,
        request: IngestRequest,
        records: S,
    ) -> Result<Option<JobReport>>
    where
        S: Stream<Item = Record> + Send,
    {
        request.validate()?;
        let info = self.job_info(job_id).await?;
        if !info.state.is_terminal() {
            tracing::debug!(state = %info.state, "bulk job still running");
            return Ok(None);
        }
        let mut writer = ChunkWriter::new(request.chunk_config())?;
        let mut records = std::pin::pin!(records);
        let mut first_job = None;
        while let Some(record) = records.next().await {
            if let Some(chunk) = writer.push(&record).await? {
                // The job held the records up to here; the rest would have gone to later jobs.
                first_job = Some(chunk);
                break;
            }
        }
        let chunk = match first_job {
            Some(chunk) => Some(chunk),
            None => writer.finish().await?,
        };
        let Some(chunk) = chunk else {
            return Ok(Some(JobReport {
                job: Some(info),
                first_index: 0,
                outcomes: Vec::new(),
                unmatched_results: 0,
            }));
        };
        if chunk.path().is_none() {
            return Ok(Some(assemble(Some(info), &chunk, Vec::new(), 0)));
        }
        let mut worker = Worker::default();
        let (outcomes, unmatched) = self
            .correlate(&request, &chunk, job_id, &mut worker)
            .await?;
        Ok(Some(assemble(Some(info), &chunk, outcomes, unmatched)))
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
        Some(
            self.client
                .run_chunk(&self.request, chunk, &mut self.worker)
                .await,
        )
    }
}

impl BulkClient {
    async fn run_chunk(
        &self,
        request: &IngestRequest,
        chunk: SpooledChunk,
        worker: &mut Worker,
    ) -> Result<JobReport> {
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
            let correlated = self.correlate(request, &chunk, &job_id, worker).await;
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
    /// Every blocking step runs on the ingest's one [`Worker`] thread.
    async fn correlate(
        &self,
        request: &IngestRequest,
        chunk: &SpooledChunk,
        job_id: &str,
        worker: &mut Worker,
    ) -> Result<(Vec<Outcome>, u64)> {
        let path = chunk
            .path()
            .map(std::path::Path::to_path_buf)
            .ok_or_else(|| Error::config("chunk without spool file"))?;
        let operation = request.operation.clone();
        let ext = request.external_id_field.clone();
        let spool = path.clone();
        let rows = chunk.row_count();
        let mut correlator = worker
            .run(move || {
                let file = std::fs::File::open(&spool).map_err(Error::spool)?;
                let input = std::io::BufReader::new(file);
                Correlator::new(operation, ext.as_deref(), rows, input).map_err(|source| {
                    Error::Results {
                        job_id: String::new(),
                        file: "spool file",
                        source,
                    }
                })
            })
            .await??;

        for kind in [
            ResultKind::Successful,
            ResultKind::Failed,
            ResultKind::Unprocessed,
        ] {
            // The permit is held until the body has been read.
            let permit = self.permit().await;
            let response = self.result_file(job_id, kind).await?;
            let stream = response.bytes_stream().map_err(std::io::Error::other);
            let bridge = SyncIoBridge::new(StreamReader::new(stream));
            let id = job_id.to_owned();
            correlator = worker
                .run(move || {
                    correlator
                        .apply(kind, bridge)
                        .map(|()| correlator)
                        .map_err(|source| Error::Results {
                            job_id: id,
                            file: kind.path_segment(),
                            source,
                        })
                })
                .await??;
            drop(permit);
        }
        debug_assert_eq!(correlator.len(), chunk.row_count());
        let id = job_id.to_owned();
        worker
            .run(move || {
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
            .await?
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
    let rejected = chunk.rejected().iter().map(|(pos, err)| {
        (
            pos.saturating_sub(range.start),
            Outcome::from_row_error(err),
        )
    });
    JobReport {
        job,
        first_index: range.start,
        outcomes: spread(row_outcomes, chunk.row_count(), range.len(), rejected),
        unmatched_results: unmatched,
    }
}

/// Places `rows` outcomes of the spooled rows and the `rejected` ones (relative position,
/// ascending) into one vector of `len`, in place: with no rejections the vector is returned as
/// is, otherwise it grows once and the row outcomes move back to their positions. Positions
/// left without an outcome are `Unprocessed`.
fn spread(
    mut outcomes: Vec<Outcome>,
    rows: usize,
    len: usize,
    rejected: impl DoubleEndedIterator<Item = (usize, Outcome)>,
) -> Vec<Outcome> {
    outcomes.truncate(rows);
    let mut rejected = rejected.rev().peekable();
    if rejected.peek().is_none() && outcomes.len() == len {
        return outcomes;
    }
    let mut src = outcomes.len();
    outcomes.resize_with(len, || Outcome::Unprocessed);
    for dst in (0..len).rev() {
        if let Some((_, outcome)) = rejected.next_if(|(pos, _)| *pos == dst) {
            outcomes[dst] = outcome;
        } else if let Some(from) = src.checked_sub(1) {
            // `from <= dst`: fewer row outcomes than positions up to `dst`.
            outcomes.swap(from, dst);
            src = from;
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(id: &str) -> Outcome {
        Outcome::Created(id.to_owned())
    }

    fn rejected(code: &str) -> Outcome {
        Outcome::Failed {
            code: crate::ErrorCode::from(code),
            message: String::new(),
            fields: Vec::new(),
        }
    }

    #[test]
    fn spread_without_rejections_keeps_the_same_allocation() {
        let rows = vec![created("a"), created("b")];
        let ptr = rows.as_ptr();
        let out = spread(rows, 2, 2, std::iter::empty());
        assert_eq!(out, vec![created("a"), created("b")]);
        assert_eq!(out.as_ptr(), ptr, "no copy of the outcomes");
    }

    #[test]
    fn spread_puts_rejections_between_rows_in_input_order() {
        let rows = vec![created("a"), created("b"), created("c")];
        let rej = vec![
            (0, rejected("X0")),
            (2, rejected("X2")),
            (5, rejected("X5")),
        ];
        let out = spread(rows, 3, 6, rej.into_iter());
        assert_eq!(
            out,
            vec![
                rejected("X0"),
                created("a"),
                rejected("X2"),
                created("b"),
                created("c"),
                rejected("X5"),
            ]
        );
        let all = spread(
            Vec::new(),
            0,
            2,
            vec![(0, rejected("A")), (1, rejected("B"))].into_iter(),
        );
        assert_eq!(all, vec![rejected("A"), rejected("B")]);
    }

    #[test]
    fn spread_fills_missing_row_outcomes_with_unprocessed() {
        let out = spread(
            vec![created("a")],
            2,
            3,
            vec![(1, rejected("X"))].into_iter(),
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[1], rejected("X"));
        assert_eq!(
            out.iter().filter(|o| **o == Outcome::Unprocessed).count(),
            1
        );
        assert!(out.contains(&created("a")));
    }
}
