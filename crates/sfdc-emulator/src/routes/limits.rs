//! `GET /limits` and `GET /limits/recordCount`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::json_response;
use crate::state::AppState;

/// Limit routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/limits", get(limits_get))
        .route("/limits/recordCount", get(limits_record_count))
}

fn entry(max: u64, used: u64) -> Value {
    json!({"Max": max, "Remaining": max.saturating_sub(used)})
}

async fn limits_get(State(state): State<AppState>) -> Response {
    let max = state.config().daily_api_limit;
    let used = state.api_calls();
    let bulk_jobs = state.bulk.snapshots().len() as u64;
    let mut m = Map::new();
    m.insert("ConcurrentAsyncGetReportInstances".into(), entry(200, 0));
    m.insert("DailyApiRequests".into(), entry(max, used));
    m.insert("DailyAsyncApexExecutions".into(), entry(250_000, 0));
    m.insert("DailyBulkApiBatches".into(), entry(15_000, bulk_jobs));
    m.insert("DailyBulkV2QueryFileStorageMB".into(), entry(976_562, 0));
    m.insert("DailyBulkV2QueryJobs".into(), entry(10_000, 0));
    m.insert("DataStorageMB".into(), entry(5, 0));
    m.insert("FileStorageMB".into(), entry(20, 0));
    m.insert("HourlyTimeBasedWorkflow".into(), entry(50, 0));
    m.insert("MassEmail".into(), entry(10, 0));
    m.insert(
        "PermissionSets".into(),
        json!({"Max": 1500, "Remaining": 1500}),
    );
    m.insert("SingleEmail".into(), entry(15, 0));
    json_response(StatusCode::OK, &Value::Object(m))
}

#[derive(Debug, Deserialize)]
struct RecordCountParams {
    #[serde(rename = "sObjects", default)]
    sobjects: Option<String>,
}

async fn limits_record_count(
    State(state): State<AppState>,
    Query(p): Query<RecordCountParams>,
) -> Response {
    let org = state.read();
    let wanted: Vec<String> = match &p.sobjects {
        Some(list) => list
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => org.objects().iter().map(|o| o.name.clone()).collect(),
    };
    let items: Vec<Value> = wanted
        .iter()
        .filter_map(|name| {
            org.object(name)
                .map(|o| json!({"count": org.count(&o.name), "name": o.name}))
        })
        .collect();
    drop(org);
    json_response(StatusCode::OK, &json!({"sObjects": items}))
}
