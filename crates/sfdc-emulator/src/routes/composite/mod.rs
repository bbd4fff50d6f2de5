//! The Composite resource (`/composite`): up to 25 subrequests in one API call, with
//! `@{ref.path}` references, `allOrNone` and `collateSubrequests`; and Composite Batch
//! (`/composite/batch`, in [`batch`]). Subrequests run through the emulator's own router
//! ([`dispatch`]), so each behaves, fails and is faulted as the same plain request.

pub(crate) mod batch;
pub(crate) mod dispatch;
mod order;
mod refs;
mod request;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::app::ApiVersion;
use crate::error::{SfError, json_response};
use crate::extract::SfJson;
use crate::state::AppState;
use dispatch::{Dispatcher, Outgoing, SubCall, SubResponse};
use refs::Reference;
use request::Sub;

/// `/composite`, `/composite/batch`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/composite", get(resources).post(composite))
        .route("/composite/batch", post(batch::batch))
}

/// `GET /composite`: the Composite sub-resources.
async fn resources(Extension(v): Extension<ApiVersion>) -> Response {
    let base = format!("/services/data/v{}/composite", v.0);
    json_response(
        StatusCode::OK,
        &json!({
            "batch": format!("{base}/batch"),
            "sobjects": format!("{base}/sobjects"),
        }),
    )
}

fn halted(message: String) -> SubResponse {
    SubResponse {
        status: 400,
        body: json!([{"errorCode": "PROCESSING_HALTED", "message": message}]),
        location: None,
    }
}

fn rolled_back() -> SubResponse {
    halted(
        "The transaction was rolled back since another operation in the same transaction failed."
            .into(),
    )
}

fn bad_reference(r: &Reference) -> SubResponse {
    halted(format!(
        "Invalid reference specified. No value for {} found in {}. Provided referenceId ('{}') is unknown, refers to a later or failed subrequest, or its result has no such field.",
        r.text(),
        r.id,
        r.id
    ))
}

/// Rolls an all-or-none Composite call back unless [`Tx::finish`] is reached, so a call
/// cancelled half-way (client gone) leaves no half-applied changes.
struct Tx<'a> {
    state: &'a AppState,
    open: bool,
}

impl<'a> Tx<'a> {
    fn begin(state: &'a AppState) -> Self {
        state.write().begin();
        Tx { state, open: true }
    }

    fn finish(mut self, commit: bool) {
        let mut org = self.state.write();
        if commit {
            org.commit();
        } else {
            org.rollback();
        }
        self.open = false;
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            self.state.write().rollback();
        }
    }
}

/// A created record's URL in `httpHeaders.Location`, as Salesforce reports creates.
fn with_location(mut a: SubResponse, url: &str) -> SubResponse {
    if a.status == 201
        && a.location.is_none()
        && let Some(id) = a.body.get("id").and_then(Value::as_str)
    {
        let path = url.split('?').next().unwrap_or(url).trim_end_matches('/');
        a.location = Some(format!("{path}/{id}"));
    }
    a
}

/// Indexes of the earlier subrequests each subrequest references.
fn dependencies(subs: &[Sub]) -> Vec<Vec<usize>> {
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            refs::references(&s.url, s.body.as_ref())
                .iter()
                .filter_map(|r| subs[..i].iter().position(|x| x.reference_id == r.id))
                .collect()
        })
        .collect()
}

/// `POST /composite`.
async fn composite(
    State(state): State<AppState>,
    Extension(d): Extension<Dispatcher>,
    Extension(v): Extension<ApiVersion>,
    headers: HeaderMap,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    let call = request::parse(body, v)?;
    let auth = headers.get(header::AUTHORIZATION);
    let gate = state.tx_gate.clone();
    // All-or-none: no other request runs until this one commits or rolls back.
    let (_shared, _exclusive) = if call.all_or_none {
        (None, Some(gate.write_owned().await))
    } else {
        (Some(gate.read_owned().await), None)
    };
    let tx = call.all_or_none.then(|| Tx::begin(&state));

    let deps = dependencies(&call.subs);
    // Only results a later subrequest references are kept for substitution.
    let referenced: std::collections::HashSet<usize> = deps.iter().flatten().copied().collect();
    let order = order::plan(&deps, call.collate, || state.draw());
    let mut answers: Vec<Option<SubResponse>> = vec![None; call.subs.len()];
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut failed = false;
    for i in order {
        if failed && call.all_or_none {
            break;
        }
        let s = &call.subs[i];
        let answer = match refs::substitute(&s.url, s.body.as_ref(), &results) {
            Err(r) => bad_reference(&r),
            Ok((url, body)) => {
                let out = Outgoing {
                    method: &s.method,
                    url: &url,
                    body,
                    headers: &s.headers,
                };
                with_location(dispatch::run(&d, SubCall::Composite, auth, out).await, &url)
            }
        };
        if answer.ok() {
            if referenced.contains(&i) {
                results.insert(s.reference_id.clone(), answer.body.clone());
            }
        } else {
            failed = true;
        }
        answers[i] = Some(answer);
    }
    if let Some(tx) = tx {
        tx.finish(!failed);
        if failed {
            for a in &mut answers {
                if a.as_ref().is_none_or(SubResponse::ok) {
                    *a = Some(rolled_back());
                }
            }
        }
    }
    let out: Vec<Value> = call
        .subs
        .iter()
        .zip(answers)
        .map(|(s, a)| {
            let a = a.unwrap_or_else(rolled_back);
            let mut h = Map::new();
            if let Some(l) = a.location {
                h.insert("Location".into(), Value::String(l));
            }
            json!({
                "body": a.body,
                "httpHeaders": h,
                "httpStatusCode": a.status,
                "referenceId": s.reference_id,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "compositeResponse": out }),
    ))
}
