//! Bulk API 2.0 ingest: the job registry, the asynchronous processor, CSV handling and
//! result files. The HTTP surface is in `crate::routes::bulk`.
//!
//! Lifecycle: `Open` → (upload once) → close → `UploadComplete` → (after
//! `bulk_processing_delay`) `InProgress` → (after the delay again) rows go through the store's
//! DML → `JobComplete` (rows may have failed) or `Failed` (the job as a whole, e.g. an unknown
//! column). `Aborted` is reachable from `Open` and `UploadComplete`.

pub(crate) mod job;
pub(crate) mod process;
pub(crate) mod results;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use job::{Job, JobState};
use process::Outcome;

use crate::ids;
use crate::state::AppState;
use crate::store::BulkJobSnapshot;

/// All ingest jobs of the org. Cheap to clone; the lock is never held across `.await`.
#[derive(Debug, Clone, Default)]
pub(crate) struct BulkState {
    inner: Arc<Mutex<Registry>>,
}

#[derive(Debug, Default)]
struct Registry {
    /// Jobs in creation order (deleted jobs are removed).
    jobs: Vec<Job>,
    /// Number of jobs ever created (for ids).
    created: u64,
}

impl BulkState {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Snapshots of all jobs, oldest first.
    pub(crate) fn snapshots(&self) -> Vec<BulkJobSnapshot> {
        self.lock()
            .jobs
            .iter()
            .map(|j| {
                let mut s = BulkJobSnapshot::new(
                    j.id.clone(),
                    j.spec.object.clone(),
                    j.spec.operation.as_str(),
                    j.state.as_str(),
                );
                s.external_id_field_name = j.spec.external_id_field.clone();
                s.number_records_processed = j.processed;
                s.number_records_failed = j.failed;
                s
            })
            .collect()
    }

    /// Adds a job built by `make` from a fresh `750...` id and returns a copy of it.
    pub(crate) fn create(&self, make: impl FnOnce(String) -> Job) -> Job {
        let mut reg = self.lock();
        reg.created += 1;
        let job = make(ids::make_id("750", reg.created));
        reg.jobs.push(job.clone());
        job
    }

    /// Runs `f` on the job with this id (15 or 18 characters); `None` when unknown.
    pub(crate) fn with_job<R>(&self, id: &str, f: impl FnOnce(&mut Job) -> R) -> Option<R> {
        let id18 = ids::to_18(id)?;
        let mut reg = self.lock();
        reg.jobs.iter_mut().find(|j| j.id == id18).map(f)
    }

    /// Copies of all jobs, oldest first.
    pub(crate) fn all(&self) -> Vec<Job> {
        self.lock().jobs.clone()
    }

    /// Removes a job; returns it when it existed.
    pub(crate) fn remove(&self, id: &str) -> Option<Job> {
        let id18 = ids::to_18(id)?;
        let mut reg = self.lock();
        let pos = reg.jobs.iter().position(|j| j.id == id18)?;
        Some(reg.jobs.remove(pos))
    }
}

/// Processes a closed job in the background: waits `bulk_processing_delay` in
/// `UploadComplete` (abortable), moves to `InProgress`, waits the delay again, then runs the
/// rows through the store.
pub(crate) fn spawn_processing(state: AppState, job_id: String) {
    tokio::spawn(async move {
        let delay = state.config().bulk_processing_delay;
        tokio::time::sleep(delay).await;
        let started = state.bulk.with_job(&job_id, |j| {
            if j.state != JobState::UploadComplete {
                return false;
            }
            j.state = JobState::InProgress;
            j.system_modstamp = crate::store::now_string();
            true
        });
        if started != Some(true) {
            // Aborted or deleted meanwhile.
            return;
        }
        tokio::time::sleep(delay).await;
        let worker = state.clone();
        let id = job_id.clone();
        // Not during an all-or-none Composite call (its undo log must see only its writes).
        let shared = state.tx_gate.clone().read_owned().await;
        let done = tokio::task::spawn_blocking(move || {
            run(&worker, &id);
            drop(shared);
        })
        .await;
        if done.is_err() {
            // The processor panicked: report the job as failed rather than leave it hanging.
            state.bulk.with_job(&job_id, |j| {
                j.state = JobState::Failed;
                j.error_message = Some("InternalError : processing aborted unexpectedly".into());
            });
        }
    });
}

/// Puts result rows in a seeded order (from the emulator seed and the job id), so a run
/// is reproducible but no client can rely on input order.
fn shuffle_rows<T>(rows: &mut [T], seed: u64, job_id: &str) {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let salt = job_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ salt);
    rows.shuffle(&mut rng);
}

/// Processes an `InProgress` job synchronously and records the outcome.
fn run(state: &AppState, job_id: &str) {
    let Some(Some((spec, data))) = state.bulk.with_job(job_id, |j| {
        (j.state == JobState::InProgress).then(|| (j.spec.clone(), j.data.clone()))
    }) else {
        return;
    };
    let started = Instant::now();
    let mut outcome = {
        let mut org = state.write();
        let fail_after = state.config().faults.bulk_fail_after_rows;
        process::process_until(&mut org, &spec, data.as_deref(), fail_after)
    };
    if !state.config().bulk_results_in_input_order
        && let Outcome::Complete(results) = &mut outcome
    {
        shuffle_rows(&mut results.rows, state.config().seed, job_id);
    }
    // Per-record server time, serial over the job's rows (on a blocking thread).
    let rows = match &outcome {
        Outcome::Complete(r) | Outcome::Failed { results: r, .. } => r.rows.len(),
    };
    let cost = state.config().record_cost;
    if !cost.is_zero() {
        std::thread::sleep(cost.saturating_mul(u32::try_from(rows).unwrap_or(u32::MAX)));
    }
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    state.bulk.with_job(job_id, |j| {
        j.processing_ms = elapsed;
        j.system_modstamp = crate::store::now_string();
        match outcome {
            Outcome::Complete(results) => {
                let failed = results
                    .rows
                    .iter()
                    .filter(|(_, o)| matches!(o, job::RowOutcome::Failure { .. }))
                    .count();
                j.processed = results.rows.len() as u64;
                j.failed = failed as u64;
                j.results = std::sync::Arc::new(results);
                j.state = JobState::JobComplete;
            }
            Outcome::Failed { message, results } => {
                j.processed = results.rows.len() as u64;
                j.results = std::sync::Arc::new(results);
                j.error_message = Some(message);
                j.state = JobState::Failed;
            }
        }
    });
}
