//! [`BulkClient`]: Bulk API 2.0 ingest job calls over an [`sfdc_rest::Client`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::TryStreamExt;
use http::{Method, StatusCode};
use sfdc_rest::backoff::{Jitter, RandomJitter, Sleeper, TokioSleeper};
use sfdc_rest::{Backoff, BodyFactory, Idempotency, RequestBuilder};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::io::ReaderStream;
use tracing::instrument;

use crate::job::{CreateJobRequest, JobInfo, JobList, JobState, StateChange};
use crate::poll::PollConfig;
use crate::results::ResultKind;
use crate::{Error, Result};

/// Bulk API 2.0 ingest client. Cheap to clone; shares the REST client's auth, retries, API-call
/// counting and error mapping.
#[derive(Clone)]
pub struct BulkClient {
    rest: sfdc_rest::Client,
    poll: PollConfig,
    sleeper: Arc<dyn Sleeper>,
    jitter: Arc<dyn Jitter>,
    /// Permits every HTTP call takes while in flight ([`BulkClient::in_flight`]).
    permits: Option<Arc<Semaphore>>,
}

impl fmt::Debug for BulkClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkClient")
            .field("rest", &self.rest)
            .field("poll", &self.poll)
            .field("in_flight_bound", &self.permits.is_some())
            .finish_non_exhaustive()
    }
}

impl BulkClient {
    /// Wraps a REST client with default polling (see [`PollConfig`]).
    pub fn new(rest: sfdc_rest::Client) -> Self {
        Self {
            rest,
            poll: PollConfig::default(),
            sleeper: Arc::new(TokioSleeper),
            jitter: Arc::new(RandomJitter),
            permits: None,
        }
    }

    /// Makes every HTTP call of this client (job create, upload, close, abort, delete, status
    /// poll, job list page, result file download) hold a permit of `permits` while it is in
    /// flight, retries inside the call included; never while waiting between status polls.
    /// Share the semaphore with other callers to bound all calls together (the destination
    /// facade passes its `max_in_flight` bound). Default: no bound.
    pub fn in_flight(mut self, permits: Arc<Semaphore>) -> Self {
        self.permits = Some(permits);
        self
    }

    /// A permit of the in-flight bound (none without one, or once the semaphore is closed).
    pub(crate) async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        match &self.permits {
            Some(p) => Arc::clone(p).acquire_owned().await.ok(),
            None => None,
        }
    }

    /// Sets how jobs are polled.
    pub fn poll_config(mut self, poll: PollConfig) -> Self {
        self.poll = poll;
        self
    }

    /// Sets what waits between polls (inject a non-sleeping one in tests).
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Sets the jitter source of poll delays (e.g. `FixedJitter` in tests).
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The underlying REST client.
    pub fn rest(&self) -> &sfdc_rest::Client {
        &self.rest
    }

    /// Creates an ingest job (`POST jobs/ingest`); the job starts `Open`.
    ///
    /// # Errors
    /// [`Error::Rest`] with Salesforce's error (e.g. `INVALIDJOB` for an unknown object or an
    /// external-id field that is not one); [`Error::Config`] when an upsert has no
    /// `externalIdFieldName`.
    #[instrument(skip_all, fields(object = %request.object, operation = %request.operation, job_id))]
    pub async fn create_job(&self, request: &CreateJobRequest) -> Result<JobInfo> {
        if request.operation == crate::Operation::Upsert
            && request
                .external_id_field_name
                .as_deref()
                .is_none_or(str::is_empty)
        {
            return Err(Error::config(
                "an upsert job needs externalIdFieldName (the external-id field, or `Id`)",
            ));
        }
        let _permit = self.permit().await;
        let info: JobInfo = self
            .rest
            .request(Method::POST, "jobs/ingest")
            .json(request)
            .send()
            .await?
            .json()
            .await?;
        tracing::Span::current().record("job_id", info.id.as_str());
        Ok(info)
    }

    /// Uploads the job's CSV (`PUT jobs/ingest/{id}/batches`, `text/csv`) from memory. Salesforce
    /// accepts one upload per job. A failure after the body may have been sent is not retried,
    /// because a second upload would be refused. For large CSVs prefer
    /// [`upload_file`](Self::upload_file), which never holds the CSV in memory.
    ///
    /// # Errors
    /// [`Error::Rest`] for HTTP errors; [`Error::UnexpectedResponse`] for a status other than 201.
    #[instrument(skip_all, fields(job_id = %job_id, bytes = csv.len()))]
    pub async fn upload(&self, job_id: &str, csv: Bytes) -> Result<()> {
        self.send_upload(self.upload_request(job_id).body(csv, "text/csv"))
            .await
    }

    /// Uploads the job's CSV from a file, streaming it in 64 KiB reads (`PUT
    /// jobs/ingest/{id}/batches`, `text/csv`, `Content-Length` from the file size): memory use is
    /// independent of the file size. The file is reopened for every attempt, so the attempts the
    /// retry policy allows (a failure before anything was sent, the replay after a 401 token
    /// refresh) carry the whole file again; as with [`upload`](Self::upload), a failure after the
    /// body may have been sent is not retried. The file must not change during the upload.
    ///
    /// # Errors
    /// [`Error::Spool`] when the file's size cannot be read (nothing sent); [`Error::Rest`] for
    /// HTTP errors, including a read error while streaming (a transport error);
    /// [`Error::UnexpectedResponse`] for a status other than 201.
    #[instrument(skip_all, fields(job_id = %job_id, bytes = tracing::field::Empty))]
    pub async fn upload_file(&self, job_id: &str, path: &Path) -> Result<()> {
        let len = tokio::fs::metadata(path).await.map_err(Error::spool)?.len();
        tracing::Span::current().record("bytes", len);
        let factory = file_body(path.to_path_buf());
        self.send_upload(
            self.upload_request(job_id)
                .body_stream("text/csv", len, factory),
        )
        .await
    }

    fn upload_request(&self, job_id: &str) -> RequestBuilder {
        self.rest
            .request(Method::PUT, &format!("jobs/ingest/{job_id}/batches"))
            .idempotency(Idempotency::NotIdempotent)
    }

    async fn send_upload(&self, request: RequestBuilder) -> Result<()> {
        let _permit = self.permit().await;
        let resp = request.send().await?;
        if resp.status() != StatusCode::CREATED {
            return Err(Error::UnexpectedResponse {
                status: resp.status(),
                message: "a job upload should answer 201 Created".to_owned(),
            });
        }
        Ok(())
    }

    /// Closes the job (`PATCH` state `UploadComplete`) so Salesforce processes it.
    ///
    /// # Errors
    /// [`Error::Rest`], e.g. when the job is not `Open`.
    #[instrument(skip_all, fields(job_id = %job_id))]
    pub async fn close_job(&self, job_id: &str) -> Result<JobInfo> {
        self.set_state(job_id, JobState::UploadComplete).await
    }

    /// Aborts the job (`PATCH` state `Aborted`); rows not yet processed are not processed.
    ///
    /// # Errors
    /// [`Error::Rest`], e.g. `INVALIDJOBSTATE` when the job already completed.
    #[instrument(skip_all, fields(job_id = %job_id))]
    pub async fn abort_job(&self, job_id: &str) -> Result<JobInfo> {
        self.set_state(job_id, JobState::Aborted).await
    }

    async fn set_state(&self, job_id: &str, state: JobState) -> Result<JobInfo> {
        let _permit = self.permit().await;
        Ok(self
            .rest
            .request(Method::PATCH, &format!("jobs/ingest/{job_id}"))
            .json(&StateChange { state })
            .send()
            .await?
            .json()
            .await?)
    }

    /// Deletes the job and its data (`DELETE jobs/ingest/{id}`, 204). Allowed once the job is
    /// closed, complete, aborted or failed.
    ///
    /// # Errors
    /// [`Error::Rest`]; [`Error::is_not_found`] for an unknown or already deleted job.
    #[instrument(skip_all, fields(job_id = %job_id))]
    pub async fn delete_job(&self, job_id: &str) -> Result<()> {
        let _permit = self.permit().await;
        self.rest
            .request(Method::DELETE, &format!("jobs/ingest/{job_id}"))
            .send()
            .await?;
        Ok(())
    }

    /// Returns the job's current information (`GET jobs/ingest/{id}`).
    ///
    /// # Errors
    /// [`Error::Rest`]; [`Error::is_not_found`] for an unknown job.
    #[instrument(skip_all, fields(job_id = %job_id))]
    pub async fn job_info(&self, job_id: &str) -> Result<JobInfo> {
        let _permit = self.permit().await;
        Ok(self
            .rest
            .request(Method::GET, &format!("jobs/ingest/{job_id}"))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Lists the org's ingest jobs (`GET jobs/ingest`), following `nextRecordsUrl` across pages.
    ///
    /// # Errors
    /// [`Error::Rest`].
    #[instrument(skip_all)]
    pub async fn list_jobs(&self) -> Result<Vec<JobInfo>> {
        let mut jobs = Vec::new();
        let mut path = "jobs/ingest".to_owned();
        loop {
            let permit = self.permit().await;
            let page: JobList = self
                .rest
                .request(Method::GET, &path)
                .send()
                .await?
                .json()
                .await?;
            drop(permit);
            jobs.extend(page.records);
            match page.next_records_url {
                Some(next) if !page.done && !next.is_empty() => {
                    if next == path {
                        return Err(Error::UnexpectedResponse {
                            status: StatusCode::OK,
                            message: format!(
                                "the job list points to the page just read ({next}) as its next page"
                            ),
                        });
                    }
                    path = next;
                }
                _ => return Ok(jobs),
            }
        }
    }

    /// Polls the job until it is `JobComplete`, with backoff and an overall timeout
    /// ([`PollConfig`]).
    ///
    /// # Errors
    /// [`Error::JobFailed`] when the job ends `Failed` or `Aborted` (with Salesforce's
    /// `errorMessage`); [`Error::PollTimeout`] when the timeout passes first; [`Error::Rest`].
    #[instrument(skip_all, fields(job_id = %job_id))]
    pub async fn wait_for_job(&self, job_id: &str) -> Result<JobInfo> {
        let info = self.poll_until_terminal(job_id).await?;
        match info.state {
            JobState::Failed | JobState::Aborted => Err(job_failed(&info)),
            _ => Ok(info),
        }
    }

    /// Polls until the job is in a terminal state and returns that state's info.
    pub(crate) async fn poll_until_terminal(&self, job_id: &str) -> Result<JobInfo> {
        let start = Instant::now();
        let mut slept = Duration::ZERO;
        let mut backoff = Backoff::new(self.poll.backoff, None, Arc::clone(&self.jitter));
        let mut polls: u32 = 0;
        loop {
            let info = self.job_info(job_id).await?;
            polls += 1;
            if info.state.is_terminal() {
                tracing::debug!(polls, state = %info.state, "bulk job finished");
                return Ok(info);
            }
            let waited = start.elapsed().max(slept);
            if waited >= self.poll.timeout {
                return Err(Error::PollTimeout {
                    job_id: job_id.to_owned(),
                    state: info.state,
                    waited,
                });
            }
            let delay = backoff
                .next()
                .unwrap_or(self.poll.backoff.max_delay)
                .min(self.poll.timeout.saturating_sub(waited));
            self.sleeper.sleep(delay).await;
            slept += delay;
        }
    }

    /// Starts downloading one result file of a job. Takes no permit: the caller holds one
    /// ([`BulkClient::permit`]) until it has read the body.
    pub(crate) async fn result_file(
        &self,
        job_id: &str,
        kind: ResultKind,
    ) -> Result<sfdc_rest::Response> {
        Ok(self
            .rest
            .request(
                Method::GET,
                &format!("jobs/ingest/{job_id}/{}/", kind.path_segment()),
            )
            .send()
            .await?)
    }
}

/// The error for a job that ended `Failed` or `Aborted`.
pub(crate) fn job_failed(info: &JobInfo) -> Error {
    let message = info.error_message.clone().unwrap_or_else(|| {
        format!(
            "the job was {} (Salesforce sent no errorMessage)",
            info.state
        )
    });
    Error::JobFailed {
        job_id: info.id.clone(),
        state: info.state.clone(),
        message,
        partial: None,
    }
}

/// Bytes read from a spool file per body chunk.
const UPLOAD_READ_CHUNK: usize = 64 * 1024;

/// A body factory that opens `path` when the attempt starts sending and streams it in
/// [`UPLOAD_READ_CHUNK`] reads.
fn file_body(path: PathBuf) -> BodyFactory {
    Arc::new(move || {
        let stream = futures::stream::once(tokio::fs::File::open(path.clone()))
            .map_ok(|file| ReaderStream::with_capacity(file, UPLOAD_READ_CHUNK))
            .try_flatten();
        Box::pin(stream) as sfdc_rest::BodyStream
    })
}
