//! Bulk API 2.0 ingest routes, relative to `/services/data/{version}`.
//!
//! | Method | Path | Handler |
//! |---|---|---|
//! | POST | `/jobs/ingest` | [`bulk_job_create`] |
//! | GET | `/jobs/ingest` | [`bulk_job_list`] |
//! | GET | `/jobs/ingest/{id}` | [`bulk_job_get`] |
//! | PATCH | `/jobs/ingest/{id}` | [`bulk_job_patch`] (close or abort) |
//! | DELETE | `/jobs/ingest/{id}` | [`bulk_job_delete`] |
//! | PUT | `/jobs/ingest/{id}/batches` | [`bulk_job_upload`] |
//! | GET | `/jobs/ingest/{id}/{successfulResults,failedResults,unprocessedrecords}` | [`bulk_job_results`] |
//!
//! Auth, counting (`bulk_ingest`), latency, faults, trailing-slash stripping and
//! `Sforce-Limit-Info` come from the server's middleware.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::bulk::job::{
    ColumnDelimiter, Job, JobResults, JobSpec, JobState, LineEnding, Operation,
};
use crate::bulk::results::{self, ResultKind};
use crate::bulk::{process, spawn_processing};

use crate::app::ApiVersion;
use crate::error::{SfError, json_response};
use crate::state::AppState;
use crate::store::{FieldType, now_string};

pub(crate) use crate::bulk::BulkState;

/// Largest accepted upload (Salesforce: 150 MB after base64 encoding).
const MAX_UPLOAD_BYTES: usize = 150 * 1024 * 1024;

/// The Bulk API 2.0 ingest routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs/ingest", get(bulk_job_list).post(bulk_job_create))
        .route(
            "/jobs/ingest/{id}",
            get(bulk_job_get)
                .patch(bulk_job_patch)
                .delete(bulk_job_delete),
        )
        .route(
            "/jobs/ingest/{id}/batches",
            put(bulk_job_upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/jobs/ingest/{id}/{kind}", get(bulk_job_results))
}

#[derive(Debug, Deserialize)]
struct JobPath {
    id: String,
}

#[derive(Debug, Deserialize)]
struct ResultPath {
    id: String,
    kind: String,
}

fn invalid_job(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALIDJOB", message)
}

fn invalid_value(property: &str, value: &str) -> SfError {
    SfError::bad_request(
        "API_ERROR",
        format!("Invalid value: '{value}' supplied for property: '{property}'"),
    )
}

fn invalid_state(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALIDJOBSTATE", message)
}

fn parse_json(body: &[u8]) -> Result<serde_json::Map<String, Value>, SfError> {
    if body.is_empty() {
        return Err(SfError::json_parser(
            "The HTTP entity body is required, but this request has no entity body.",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(SfError::json_parser(
            "Cannot deserialize instance of JobInfo: expected a JSON object",
        )),
        Err(e) => Err(SfError::json_parser(format!(
            "{e} at [line:{}, column:{}]",
            e.line(),
            e.column()
        ))),
    }
}

/// A string property of a request body (`None` when absent or null).
fn property<'a>(
    m: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, SfError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid_value(name, &other.to_string())),
    }
}

/// `POST /jobs/ingest`: validates the job definition and creates an `Open` job (200 JobInfo).
#[tracing::instrument(skip_all, fields(object))]
async fn bulk_job_create(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    body: Bytes,
) -> Result<Response, SfError> {
    let m = parse_json(&body)?;
    let operation_text = property(&m, "operation")?.unwrap_or("");
    let operation = Operation::parse(operation_text)
        .ok_or_else(|| invalid_value("operation", operation_text))?;
    let object_text = property(&m, "object")?.unwrap_or("");
    tracing::Span::current().record("object", object_text);
    if let Some(ct) = property(&m, "contentType")?
        && ct != "CSV"
    {
        return Err(invalid_value("contentType", ct));
    }
    let line_ending = match property(&m, "lineEnding")? {
        None => LineEnding::Lf,
        Some(s) => LineEnding::parse(s).ok_or_else(|| invalid_value("lineEnding", s))?,
    };
    let delimiter = match property(&m, "columnDelimiter")? {
        None => ColumnDelimiter::Comma,
        Some(s) => ColumnDelimiter::parse(s).ok_or_else(|| invalid_value("columnDelimiter", s))?,
    };
    let ext_text = property(&m, "externalIdFieldName")?;
    let (object, external_id_field) = {
        let org = state.read();
        let o = org.object(object_text).ok_or_else(|| {
            invalid_job(format!("InvalidJob : Unable to find object: {object_text}"))
        })?;
        let ext = if operation == Operation::Upsert {
            let name = ext_text.filter(|s| !s.is_empty()).ok_or_else(|| {
                invalid_job(format!(
                    "InvalidJob : External ID was blank for {}. An External ID must be specified for upsert.",
                    o.name
                ))
            })?;
            let f = o
                .field(name)
                .filter(|f| f.external_id || f.field_type == FieldType::Id)
                .ok_or_else(|| {
                    invalid_job(format!(
                        "InvalidJob : Field name provided, {name} does not match an External ID for {}",
                        o.name
                    ))
                })?;
            Some(f.name.clone())
        } else {
            None
        };
        (o.name.clone(), ext)
    };
    let now = now_string();
    let created_by = state.shared.user_id.clone();
    let job = state.bulk.create(|id| Job {
        id,
        spec: JobSpec {
            object,
            operation,
            external_id_field,
            line_ending,
            delimiter,
        },
        api_version: version.0.to_owned(),
        created_by,
        created_date: now.clone(),
        system_modstamp: now,
        state: JobState::Open,
        data: None,
        results: Default::default(),
        error_message: None,
        processed: 0,
        failed: 0,
        processing_ms: 0,
    });
    tracing::debug!(job_id = %job.id, "bulk ingest job created");
    Ok(json_response(StatusCode::OK, job.info()))
}

/// `GET /jobs/ingest`: all jobs, oldest first, in one page.
async fn bulk_job_list(State(state): State<AppState>) -> Response {
    let records: Vec<Value> = state.bulk.all().iter().map(Job::info).collect();
    json_response(
        StatusCode::OK,
        json!({"done": true, "records": records, "nextRecordsUrl": null}),
    )
}

/// `GET /jobs/ingest/{id}`: full JobInfo with counts.
async fn bulk_job_get(
    State(state): State<AppState>,
    Path(p): Path<JobPath>,
) -> Result<Response, SfError> {
    let info = state
        .bulk
        .with_job(&p.id, |j| j.full_info())
        .ok_or_else(SfError::not_found)?;
    Ok(json_response(StatusCode::OK, info))
}

/// `PUT /jobs/ingest/{id}/batches`: stores the CSV (once per job); 201 with an empty body.
#[tracing::instrument(skip_all, fields(job_id = %p.id, bytes = body.len()))]
async fn bulk_job_upload(
    State(state): State<AppState>,
    Path(p): Path<JobPath>,
    body: Bytes,
) -> Result<Response, SfError> {
    state
        .bulk
        .with_job(&p.id, |j| {
            if j.data.is_some() {
                return Err(SfError::bad_request(
                    "BULK_API_ERROR",
                    format!(
                        "Found multipe contents for job: <{}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure there is only one content per job.",
                        j.id
                    ),
                ));
            }
            if j.state != JobState::Open {
                return Err(invalid_state(format!(
                    "Data can only be uploaded to an Open job; job {} is {}",
                    j.id,
                    j.state.as_str()
                )));
            }
            j.data = Some(body);
            j.system_modstamp = now_string();
            Ok(())
        })
        .ok_or_else(SfError::not_found)??;
    Ok(StatusCode::CREATED.into_response())
}

/// `PATCH /jobs/ingest/{id}` with `{"state":"UploadComplete"}` (close: processing starts in
/// the background) or `{"state":"Aborted"}`.
#[tracing::instrument(skip_all, fields(job_id = %p.id))]
async fn bulk_job_patch(
    State(state): State<AppState>,
    Path(p): Path<JobPath>,
    body: Bytes,
) -> Result<Response, SfError> {
    let m = parse_json(&body)?;
    let wanted = property(&m, "state")?.unwrap_or("").to_owned();
    let (info, close) = state
        .bulk
        .with_job(&p.id, |j| -> Result<(Value, bool), SfError> {
            match wanted.as_str() {
                "UploadComplete" => {
                    if j.state != JobState::Open {
                        return Err(invalid_state(format!(
                            "Closing already {} Job not allowed",
                            j.state.past_tense()
                        )));
                    }
                    j.state = JobState::UploadComplete;
                    j.system_modstamp = now_string();
                    Ok((j.state_change_info(), true))
                }
                "Aborted" => {
                    if !matches!(j.state, JobState::Open | JobState::UploadComplete) {
                        return Err(invalid_state(format!(
                            "Aborting already {} Job not allowed",
                            j.state.past_tense()
                        )));
                    }
                    j.state = JobState::Aborted;
                    j.system_modstamp = now_string();
                    j.results = std::sync::Arc::new(unprocessed(j));
                    Ok((j.state_change_info(), false))
                }
                other => Err(invalid_state(format!(
                    "Invalid state: '{other}'. Use UploadComplete to close a job or Aborted to abort it."
                ))),
            }
        })
        .ok_or_else(SfError::not_found)??;
    if close {
        spawn_processing(state.clone(), p.id.clone());
    }
    Ok(json_response(StatusCode::OK, info))
}

/// The uploaded rows of an aborted job, all unprocessed.
fn unprocessed(j: &Job) -> JobResults {
    let Some(data) = &j.data else {
        return JobResults::default();
    };
    match process::parse_csv(&j.spec, data) {
        Ok((header, rows)) => JobResults {
            header,
            rows: Vec::new(),
            unprocessed: rows,
        },
        Err(_) => JobResults::default(),
    }
}

/// `DELETE /jobs/ingest/{id}`: 204; only for jobs that are not `Open` or `InProgress`.
#[tracing::instrument(skip_all, fields(job_id = %p.id))]
async fn bulk_job_delete(
    State(state): State<AppState>,
    Path(p): Path<JobPath>,
) -> Result<Response, SfError> {
    let job_state = state
        .bulk
        .with_job(&p.id, |j| j.state)
        .ok_or_else(SfError::not_found)?;
    if matches!(job_state, JobState::Open | JobState::InProgress) {
        return Err(SfError::bad_request(
            "API_ERROR",
            "Error encountered when deleting the job because the job is not terminated",
        ));
    }
    state.bulk.remove(&p.id).ok_or_else(SfError::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords` (any casing).
async fn bulk_job_results(
    State(state): State<AppState>,
    Path(p): Path<ResultPath>,
) -> Result<Response, SfError> {
    let kind = ResultKind::parse(&p.kind).ok_or_else(SfError::not_found)?;
    // The file is built while it is sent, a slice of rows at a time, from the job's results
    // and upload (shared, not copied): a large job's result file is never held whole.
    let (rows, data, delimiter) = state
        .bulk
        .with_job(&p.id, |j| {
            (
                j.results.clone(),
                j.data.clone().unwrap_or_default(),
                j.spec.delimiter.byte(),
            )
        })
        .ok_or_else(SfError::not_found)?;
    let body = axum::body::Body::from_stream(results::stream(rows, data, kind, delimiter));
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
    Ok(resp)
}
