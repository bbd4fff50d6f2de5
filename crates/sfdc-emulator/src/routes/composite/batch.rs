//! Composite Batch (`/composite/batch`): up to 25 independent subrequests, each counted
//! as an API call, run in order, with no shared transaction and no references;
//! `haltOnError` answers the rest `412 BATCH_PROCESSING_HALTED` after a failure.

use axum::Extension;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::dispatch::{self, Dispatcher, Outgoing, SubBody, SubCall};
use crate::error::{SfError, json_response};
use crate::extract::{SfJson, body_object};

/// At most this many subrequests per batch.
pub(crate) const MAX_BATCH: usize = 25;

fn invalid(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALID_INPUT", message)
}

/// `POST /composite/batch`.
pub(crate) async fn batch(
    Extension(d): Extension<Dispatcher>,
    headers: HeaderMap,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    let m = body_object(body)?;
    let halt_on_error = m
        .get("haltOnError")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(Value::Array(list)) = m.get("batchRequests") else {
        return Err(invalid("batchRequests: the request has no subrequests"));
    };
    if list.is_empty() {
        return Err(invalid("batchRequests: the request has no subrequests"));
    }
    if list.len() > MAX_BATCH {
        return Err(SfError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "Limit Exceeded: a batch request can contain at most {MAX_BATCH} subrequests; it has {}.",
                list.len()
            ),
        ));
    }
    let mut subs = Vec::with_capacity(list.len());
    for item in list {
        let s = item
            .as_object()
            .ok_or_else(|| invalid("Each subrequest must be a JSON object"))?;
        let method = s
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("method: a subrequest needs a method"))?;
        let url = s
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("url: a subrequest needs a url"))?;
        // Relative to /services/data/ ("v62.0/sobjects/..."), or the absolute path.
        let url = if url.starts_with("/services/data/") {
            url.to_owned()
        } else {
            format!("/services/data/{}", url.trim_start_matches('/'))
        };
        subs.push((method.to_owned(), url, s.get("richInput").cloned()));
    }
    let auth = headers.get(header::AUTHORIZATION);
    let no_headers = Map::new();
    let mut results = Vec::with_capacity(subs.len());
    let mut has_errors = false;
    for (method, url, body) in &subs {
        if has_errors && halt_on_error {
            results.push(json!({
                "statusCode": 412,
                "result": [{"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}],
            }));
            continue;
        }
        let out = Outgoing {
            method,
            url,
            body: body.clone().map(SubBody::Value),
            headers: &no_headers,
        };
        let a = dispatch::run(&d, SubCall::Batch, auth, out).await;
        has_errors |= !a.ok();
        let mut r = Map::with_capacity(2);
        r.insert("statusCode".into(), Value::from(a.status));
        r.insert("result".into(), a.body);
        results.push(Value::Object(r));
    }
    Ok(json_response(StatusCode::OK, {
        // Moved in (`json!` would copy the results).
        let mut m = Map::with_capacity(2);
        m.insert("hasErrors".into(), Value::Bool(has_errors));
        m.insert("results".into(), Value::Array(results));
        Value::Object(m)
    }))
}
