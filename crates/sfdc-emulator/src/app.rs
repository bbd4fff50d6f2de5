//! The router: route table, path normalisation, and the API middleware (version check,
//! auth, allocation, counting, latency, faults, `Sforce-Limit-Info`), and gzip on the wire.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceExt;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::conn::ConnKill;
use crate::error::SfError;
use crate::routes;
use crate::routes::composite::dispatch::{Dispatcher, SubCall};
use crate::state::{AppState, Kind};

/// API versions served, oldest first.
pub(crate) const VERSIONS: [&str; 36] = [
    "31.0", "32.0", "33.0", "34.0", "35.0", "36.0", "37.0", "38.0", "39.0", "40.0", "41.0", "42.0",
    "43.0", "44.0", "45.0", "46.0", "47.0", "48.0", "49.0", "50.0", "51.0", "52.0", "53.0", "54.0",
    "55.0", "56.0", "57.0", "58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0", "65.0", "66.0",
];

/// The validated API version of a request (request extension), e.g. `"62.0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApiVersion(pub(crate) &'static str);

impl ApiVersion {
    /// The major version number, e.g. 62.
    pub(crate) fn major(self) -> u32 {
        self.0
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

const DATA_PREFIX: &str = "/services/data/";

/// Largest accepted JSON request body. Salesforce documents 50 MB of text for a non-multipart
/// REST request (sObject Blob notes: "up to 50 MB of text data"); the web framework's 2 MB
/// default would fail large but valid requests with a parser error no org gives. Bulk
/// uploads have their own 150 MB limit.
pub(crate) const MAX_BODY_BYTES: usize = 50 * 1024 * 1024;

/// Builds the emulator's router over `state`.
pub(crate) fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(routes::versions::api_routes())
        .merge(routes::sobjects::routes())
        .merge(routes::query::routes())
        .merge(routes::collections::routes())
        .merge(routes::composite::routes())
        .merge(routes::limits::routes())
        .merge(routes::bulk::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), api_layer));
    let inner = Router::new()
        .route("/services/data", get(routes::versions::versions_list))
        .route("/services/oauth2/token", post(routes::oauth::token))
        .route(
            "/services/oauth2/authorize",
            get(routes::oauth_code::authorize),
        )
        .route("/services/oauth2/revoke", post(routes::oauth::revoke))
        .nest("/services/data/{version}", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    let normalized = tower::service_fn(move |req: Request| {
        let inner = inner.clone();
        async move {
            let mut req = normalize(req);
            // Composite handlers run their subrequests through this same router.
            req.extensions_mut().insert(Dispatcher(inner.clone()));
            let resp = inner.oneshot(req).await.into_response();
            // Handlers answer JSON as values; the text is written once, here.
            Ok::<_, Infallible>(crate::error::write_json_body(resp))
        }
    });
    // gzip on the wire, as Salesforce REST does: request bodies sent with
    // `Content-Encoding: gzip` are decompressed before any handler (the body limit applies to
    // the decompressed size), and responses are compressed when the client sends
    // `Accept-Encoding: gzip` (fastest level: the emulator's CPU is often the benchmark's bound).
    Router::new()
        .fallback_service(normalized)
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(RequestDecompressionLayer::new())
}

/// Strips trailing slashes and applies the `_HttpMethod` override of POST requests.
pub(crate) fn normalize(mut req: Request) -> Request {
    let uri = req.uri();
    let path = uri.path();
    let trimmed = path.trim_end_matches('/');
    let needs_path = trimmed.len() != path.len() && !trimmed.is_empty();
    let override_method = if req.method() == Method::POST {
        uri.query().and_then(|q| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == "_HttpMethod")
                    .then(|| Method::from_bytes(v.as_bytes()).ok())
                    .flatten()
            })
        })
    } else {
        None
    };
    if needs_path {
        let new = match uri.query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(u) = new.parse::<Uri>() {
            *req.uri_mut() = u;
        }
    }
    if let Some(m) = override_method {
        *req.method_mut() = m;
    }
    req
}

async fn not_found() -> SfError {
    SfError::not_found()
}

async fn method_not_allowed(method: Method) -> SfError {
    SfError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed. Allowed are HEAD,GET,PATCH,DELETE"),
    )
}

/// Which counter an API path belongs to (`rest` is the path after the version).
fn classify(method: &Method, rest: &str) -> Kind {
    let mut seg = rest.split('/').filter(|s| !s.is_empty());
    let first = seg.next();
    let second = seg.next();
    let third = seg.next();
    let fourth = seg.next();
    match first {
        None => Kind::VERSIONS,
        Some("sobjects") => match (second, third, fourth) {
            (None, _, _) => Kind::DESCRIBE,
            (Some(_), None, _) => {
                if *method == Method::POST {
                    Kind::CREATE
                } else {
                    Kind::DESCRIBE
                }
            }
            (Some(_), Some("describe"), None) => Kind::DESCRIBE,
            (Some(_), Some(_), rest4) => match *method {
                Method::GET | Method::HEAD => Kind::RETRIEVE,
                Method::DELETE => Kind::DELETE,
                Method::POST if rest4.is_none() => Kind::CREATE,
                Method::PATCH if rest4.is_none() => Kind::UPDATE,
                _ => Kind::UPSERT,
            },
        },
        Some("query") | Some("queryAll") => {
            if second.is_some() {
                Kind::QUERY_MORE
            } else {
                Kind::QUERY
            }
        }
        Some("composite") => match second {
            None => Kind::COMPOSITE,
            Some("batch") => Kind::BATCH,
            Some(_) => Kind::COLLECTIONS,
        },
        Some("jobs") => Kind::BULK,
        Some("limits") => Kind::LIMITS,
        Some(_) => Kind(usize::MAX),
    }
}

fn session_invalid() -> Response {
    SfError::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_SESSION_ID",
        "Session expired or invalid",
    )
    .into_response()
}

fn limit_header(used: u64, max: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("api-usage={used}/{max}"))
        .unwrap_or(HeaderValue::from_static("api-usage=0/0"))
}

/// Extracts the token of `Authorization: Bearer <t>` or `OAuth <t>`.
fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    ((scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
        && !token.is_empty())
    .then_some(token)
}

/// The middleware in front of every `/services/data/vXX.X/...` route.
async fn api_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // `Uri` clones share their bytes: no per-request string copy.
    let uri = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| req.uri().clone());
    let full = uri.path();
    let after = full.strip_prefix(DATA_PREFIX).unwrap_or("");
    let (ver_seg, rest) = after.split_once('/').unwrap_or((after, ""));
    let Some(version) = ver_seg
        .strip_prefix('v')
        .and_then(|v| VERSIONS.iter().find(|x| **x == v))
    else {
        let retired = ver_seg
            .strip_prefix('v')
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|v| v < 31.0);
        if retired {
            return SfError::new(
                StatusCode::GONE,
                "GONE",
                "The requested version has been retired.",
            )
            .into_response();
        }
        return SfError::not_found().into_response();
    };

    // Auth.
    let Some(token) = bearer(&req) else {
        return SfError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTH_HEADER",
            "INVALID_HEADER_TYPE",
        )
        .into_response();
    };
    if !state.token_valid(token) {
        return session_invalid();
    }
    // A subrequest of a Composite or Batch call: the enclosing call had the
    // token-expiry, latency, 503 and dropped-connection faults already.
    let sub = req.extensions().get::<SubCall>().copied();
    // Top-level requests only (a subrequest is part of its call), held through the latency
    // and per-record sleeps.
    let _in_flight = sub.is_none().then(|| state.enter_request());
    let faults = &state.config().faults;
    if sub.is_none()
        && let Some(n) = faults.expire_token_every.filter(|n| *n > 0)
        && state.next_authed_call() % n == 0
    {
        state.revoke_token(token);
        return session_invalid();
    }

    // Allocation and counting.
    let max = state.config().daily_api_limit;
    let kind = classify(req.method(), rest);
    // A Composite call counts once (its subrequests not at all); a Batch call not at all
    // (each of its subrequests counts).
    let counted = kind != Kind::BATCH && sub != Some(SubCall::Composite);
    let counting = if counted {
        state.count_call(kind)
    } else {
        Ok(state.api_calls())
    };
    let used = match counting {
        Ok(u) => u,
        Err(u) => {
            let mut r = SfError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            )
            .into_response();
            r.headers_mut()
                .insert("sforce-limit-info", limit_header(u, max));
            return r;
        }
    };

    // Latency and faults.
    let latency = state.config().latency;
    if sub.is_none() && !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let is_write = matches!(
        *req.method(),
        Method::POST | Method::PATCH | Method::PUT | Method::DELETE
    );
    let mut drop_connection = false;
    // Lock contention hits the records a request writes: a Composite or Batch call's
    // subrequests, not the enclosing call.
    let envelope = kind == Kind::COMPOSITE || kind == Kind::BATCH;
    if !faults.is_none() {
        if sub.is_none()
            && faults.server_unavailable > 0.0
            && state.draw() < faults.server_unavailable
        {
            let mut r = SfError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVER_UNAVAILABLE",
                "Server is unavailable. Please try again later.",
            )
            .into_response();
            r.headers_mut()
                .insert("sforce-limit-info", limit_header(used, max));
            return r;
        }
        if is_write
            && !envelope
            && faults.unable_to_lock_row > 0.0
            && state.draw() < faults.unable_to_lock_row
        {
            let id = rest
                .split('/')
                .nth(2)
                .and_then(crate::ids::to_18)
                .unwrap_or_default();
            let mut r = SfError::bad_request(
                "UNABLE_TO_LOCK_ROW",
                format!("unable to obtain exclusive access to this record or 1 records: {id}"),
            )
            .with_fields(Vec::<String>::new())
            .into_response();
            r.headers_mut()
                .insert("sforce-limit-info", limit_header(used, max));
            return r;
        }
        if is_write
            && sub.is_none()
            && faults.drop_after_commit > 0.0
            && state.draw() < faults.drop_after_commit
        {
            drop_connection = true;
        }
    }

    req.extensions_mut().insert(ApiVersion(version));
    let kill = if drop_connection {
        req.extensions().get::<ConnKill>().cloned()
    } else {
        None
    };
    // Every request holds the transaction gate shared while it runs, except subrequests
    // (their call holds it) and Composite calls (which take it themselves, exclusively
    // when all-or-none).
    let gate = (sub.is_none() && kind != Kind::COMPOSITE).then(|| state.tx_gate.clone());
    let shared = match gate {
        Some(g) => Some((g.read_owned().await, state.enter_transaction())),
        None => None,
    };
    let single_write = [Kind::CREATE, Kind::UPDATE, Kind::DELETE, Kind::UPSERT].contains(&kind);
    let mut resp = next.run(req).await;
    // The handler is done writing: the per-record wait below holds no lock or gate.
    drop(shared);
    let cost = state.config().record_cost;
    if !cost.is_zero() {
        if single_write && resp.status().is_success() {
            resp = crate::cost::mark(resp, 1);
        }
        let spend = crate::cost::time_of(&resp, cost);
        if !spend.is_zero() {
            tokio::time::sleep(spend).await;
        }
    }
    if let Some(k) = kill {
        k.kill();
    }
    resp.headers_mut()
        .insert("sforce-limit-info", limit_header(used, max));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        assert_eq!(classify(&Method::GET, ""), Kind::VERSIONS);
        assert_eq!(classify(&Method::GET, "sobjects"), Kind::DESCRIBE);
        assert_eq!(classify(&Method::POST, "sobjects/Lead"), Kind::CREATE);
        assert_eq!(
            classify(&Method::GET, "sobjects/Lead/describe"),
            Kind::DESCRIBE
        );
        assert_eq!(classify(&Method::GET, "sobjects/Lead/00Q"), Kind::RETRIEVE);
        assert_eq!(classify(&Method::PATCH, "sobjects/Lead/00Q"), Kind::UPDATE);
        assert_eq!(
            classify(&Method::PATCH, "sobjects/Lead/Ext__c/1"),
            Kind::UPSERT
        );
        assert_eq!(classify(&Method::GET, "query/01g-200"), Kind::QUERY_MORE);
        assert_eq!(
            classify(&Method::PUT, "jobs/ingest/750/batches"),
            Kind::BULK
        );
    }
}
