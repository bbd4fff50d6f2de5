//! Runs one subrequest of a Composite or Composite Batch call through the emulator's own
//! router, so it is validated, faulted and answered exactly as the same plain request.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tower::ServiceExt;

use crate::error::JsonBody;

/// Request extension marking a subrequest, and whose: the API layer then skips what
/// belongs to the enclosing call (authentication faults, latency, 503, dropped
/// connections) and counts it only for `Batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubCall {
    /// A subrequest of `/composite`: not counted (the call counts once).
    Composite,
    /// A subrequest of `/composite/batch`: counted as the plain request would be.
    Batch,
}

/// Request extension: the router, for handlers that run subrequests.
#[derive(Clone)]
pub(crate) struct Dispatcher(pub(crate) Router);

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dispatcher")
    }
}

/// Request extension: a subrequest's JSON body as already parsed by its Composite or Batch
/// call (the request also carries it as text).
#[derive(Debug, Clone)]
pub(crate) struct ParsedBody(pub(crate) Value);

/// What a subrequest answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubResponse {
    /// HTTP status.
    pub(crate) status: u16,
    /// Parsed JSON body (`null` when empty).
    pub(crate) body: Value,
    /// The `Location` header, if any.
    pub(crate) location: Option<String>,
}

impl SubResponse {
    /// Whether the subrequest succeeded (status below 400).
    pub(crate) fn ok(&self) -> bool {
        self.status < 400
    }
}

/// A subrequest's JSON body: parsed, or as text (a body without references, which its
/// handler reads itself).
#[derive(Debug, Clone)]
pub(crate) enum SubBody {
    /// The parsed value.
    Value(Value),
    /// The JSON text, as in the enclosing call's body.
    Text(Box<RawValue>),
}

impl SubBody {
    /// The parsed value, if parsed.
    pub(crate) fn as_value(&self) -> Option<&Value> {
        match self {
            SubBody::Value(v) => Some(v),
            SubBody::Text(_) => None,
        }
    }

    /// The body as a value (the text was checked as JSON when the call was read).
    pub(crate) fn into_value(self) -> Value {
        match self {
            SubBody::Value(v) => v,
            SubBody::Text(t) => serde_json::from_str(t.get()).unwrap_or(Value::Null),
        }
    }
}

/// One subrequest to run: method, absolute path (`/services/data/vXX.X/...`, query
/// included), JSON body and extra headers.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a str,
    pub(crate) url: &'a str,
    pub(crate) body: Option<SubBody>,
    pub(crate) headers: &'a Map<String, Value>,
}

/// Whether the handler of `url` reads its body as text (Bulk job requests) rather than
/// through [`crate::extract::SfJson`], which takes the [`ParsedBody`].
fn wants_text(url: &str) -> bool {
    super::request::api_path(url).is_none_or(|p| p.starts_with("jobs"))
}

/// Runs `out` with the caller's `Authorization` header.
pub(crate) async fn run(
    d: &Dispatcher,
    mode: SubCall,
    auth: Option<&HeaderValue>,
    out: Outgoing<'_>,
) -> SubResponse {
    let uri = out.url.replace(' ', "%20");
    let method = Method::from_bytes(out.method.as_bytes()).unwrap_or(Method::GET);
    let mut b = Request::builder().method(method).uri(uri.as_str());
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a.clone());
    }
    for (k, v) in out.headers {
        if let Some(v) = v.as_str() {
            b = b.header(k.as_str(), v);
        }
    }
    let mut parsed = None;
    let body = match out.body {
        Some(SubBody::Text(text)) if !wants_text(out.url) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            // The handler reads the text (a Collections body straight into its records).
            Body::from(String::from(Box::<str>::from(text)))
        }
        Some(body) => {
            let v = body.into_value();
            b = b.header(header::CONTENT_TYPE, "application/json");
            // JSON handlers take the value itself; only the handlers that read the raw body
            // (Bulk job requests) need it as text too.
            let text = if wants_text(out.url) {
                Body::from(v.to_string())
            } else {
                Body::empty()
            };
            parsed = Some(ParsedBody(v));
            text
        }
        None => Body::empty(),
    };
    let Ok(mut req) = b.body(body) else {
        return SubResponse {
            status: 400,
            body: Value::Array(vec![
                crate::error::SfError::bad_request("INVALID_INPUT", "invalid subrequest url")
                    .to_rest_json(),
            ]),
            location: None,
        };
    };
    req.extensions_mut().insert(mode);
    if let Some(p) = parsed {
        // JSON handlers take the value as is instead of parsing the text again; handlers that
        // read the raw body (Bulk uploads) still have it.
        req.extensions_mut().insert(p);
    }
    let req = crate::app::normalize(req);
    let resp = match d.0.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = resp;
    // A JSON answer is taken as the value the handler built (no text in between).
    let body = match resp.extensions_mut().remove::<JsonBody>() {
        Some(JsonBody(v)) => v,
        None => {
            let bytes = to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
        }
    };
    SubResponse {
        status,
        body,
        location,
    }
}
