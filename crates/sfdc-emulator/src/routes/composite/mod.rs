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
use crate::extract::SfBody;
use crate::state::AppState;
use dispatch::{Dispatcher, Outgoing, SubBody, SubCall, SubResponse};
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
        json!({
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

/// Per subrequest: whether it holds any reference, and the indexes of the earlier
/// subrequests it references.
fn dependencies(subs: &[Sub]) -> Vec<(bool, Vec<usize>)> {
    subs.iter()
        .enumerate()
        .map(|(i, s)| {
            let refs = refs::references(&s.url, s.body.as_ref().and_then(SubBody::as_value));
            let deps = refs
                .iter()
                .filter_map(|r| subs[..i].iter().position(|x| x.reference_id == r.id))
                .collect();
            (!refs.is_empty(), deps)
        })
        .collect()
}

/// `POST /composite`.
async fn composite(
    State(state): State<AppState>,
    Extension(d): Extension<Dispatcher>,
    Extension(v): Extension<ApiVersion>,
    sub: Option<Extension<SubCall>>,
    headers: HeaderMap,
    body: SfBody,
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
    // A Composite call inside a Batch call is part of it.
    let _in_tx = sub.is_none().then(|| state.enter_transaction());
    let tx = call.all_or_none.then(|| Tx::begin(&state));

    let (has_refs, deps): (Vec<bool>, Vec<Vec<usize>>) =
        dependencies(&call.subs).into_iter().unzip();
    // Only results a later subrequest references are kept for substitution.
    let referenced: std::collections::HashSet<usize> = deps.iter().flatten().copied().collect();
    let order = order::plan(&deps, call.collate, || state.draw());
    let mut subs = call.subs;
    let mut answers: Vec<Option<SubResponse>> = vec![None; subs.len()];
    let mut results: HashMap<String, Value> = HashMap::new();
    let mut failed = false;
    for i in order {
        if failed && call.all_or_none {
            break;
        }
        let s = &mut subs[i];
        // A subrequest without references runs with its own body, moved (not copied).
        let substituted = if has_refs[i] {
            match s.body.take() {
                Some(SubBody::Value(b)) => refs::substitute(&s.url, Some(&b), &results)
                    .map(|(url, b)| (url, b.map(SubBody::Value))),
                // A body kept as text holds no reference.
                text => refs::substitute(&s.url, None, &results).map(|(url, _)| (url, text)),
            }
        } else {
            Ok((s.url.clone(), s.body.take()))
        };
        let answer = match substituted {
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
    // Built from the answers' values (moved; `json!` would copy them), written once.
    let out: Vec<Value> = subs
        .into_iter()
        .zip(answers)
        .map(|(s, a)| {
            let a = a.unwrap_or_else(rolled_back);
            let mut h = Map::new();
            if let Some(l) = a.location {
                h.insert("Location".into(), Value::String(l));
            }
            let mut m = Map::with_capacity(4);
            m.insert("body".into(), a.body);
            m.insert("httpHeaders".into(), Value::Object(h));
            m.insert("httpStatusCode".into(), Value::from(a.status));
            m.insert("referenceId".into(), Value::String(s.reference_id));
            Value::Object(m)
        })
        .collect();
    let mut body = Map::with_capacity(1);
    body.insert("compositeResponse".into(), Value::Array(out));
    Ok(json_response(StatusCode::OK, Value::Object(body)))
}
