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

/// The limits a current org's `/limits` lists (REST guide, Limits resource), with
/// Developer-Edition-like maxima. `DailyApiRequests` and `DailyBulkApiBatches` are live; the
/// others report nothing used.
const STATIC_LIMITS: [(&str, u64); 50] = [
    ("ActiveScratchOrgs", 3),
    ("AnalyticsExternalDataSizeMB", 40_960),
    ("ConcurrentAsyncGetReportInstances", 200),
    ("ConcurrentEinsteinDataInsightsStoryCreation", 5),
    ("ConcurrentEinsteinDiscoveryStoryCreation", 2),
    ("ConcurrentSyncReportRuns", 20),
    ("DailyAnalyticsDataflowJobExecutions", 60),
    ("DailyAnalyticsUploadedFilesSizeMB", 51_200),
    ("DailyAsyncApexExecutions", 250_000),
    ("DailyAsyncApexTests", 500),
    ("DailyBulkV2QueryFileStorageMB", 976_562),
    ("DailyBulkV2QueryJobs", 10_000),
    ("DailyDeliveredPlatformEvents", 10_000),
    ("DailyDurableGenericStreamingApiEvents", 10_000),
    ("DailyDurableStreamingApiEvents", 10_000),
    ("DailyEinsteinDataInsightsStoryCreation", 1_000),
    ("DailyEinsteinDiscoveryPredictAPICalls", 50_000),
    ("DailyEinsteinDiscoveryPredictionsByCDC", 500_000),
    ("DailyEinsteinDiscoveryStoryCreation", 100),
    ("DailyFunctionsApiCallLimit", 235_000),
    ("DailyGenericStreamingApiEvents", 10_000),
    ("DailyScratchOrgs", 6),
    ("DailyStandardVolumePlatformEvents", 10_000),
    ("DailyStreamingApiEvents", 10_000),
    ("DailyWorkflowEmails", 1_000),
    ("DataStorageMB", 5),
    ("DurableStreamingApiConcurrentClients", 20),
    ("FileStorageMB", 20),
    ("HourlyAsyncReportRuns", 1_200),
    ("HourlyDashboardRefreshes", 200),
    ("HourlyDashboardResults", 5_000),
    ("HourlyDashboardStatuses", 999_999_999),
    ("HourlyLongTermIdMapping", 100_000),
    ("HourlyManagedContentPublicRequests", 50_000),
    ("HourlyODataCallout", 10_000),
    ("HourlyPublishedPlatformEvents", 50_000),
    ("HourlyPublishedStandardVolumePlatformEvents", 1_000),
    ("HourlyShortTermIdMapping", 100_000),
    ("HourlySyncReportRuns", 500),
    ("HourlyTimeBasedWorkflow", 50),
    ("MassEmail", 10),
    ("MonthlyEinsteinDiscoveryStoryCreation", 500),
    ("MonthlyPlatformEventsUsageEntitlement", 0),
    ("Package2VersionCreates", 6),
    ("Package2VersionCreatesWithoutValidation", 500),
    ("PermissionSets", 1_500),
    ("PrivateConnectOutboundCalloutHourlyLimitMB", 0),
    ("PublishCallbackUsageInApex", 5_000_000),
    ("SingleEmail", 15),
    ("StreamingApiConcurrentClients", 20),
];

async fn limits_get(State(state): State<AppState>) -> Response {
    let max = state.config().daily_api_limit;
    let used = state.api_calls();
    let bulk_jobs = state.bulk.snapshots().len() as u64;
    let mut m = Map::new();
    for (name, limit) in STATIC_LIMITS {
        m.insert(name.into(), entry(limit, 0));
    }
    m.insert("DailyApiRequests".into(), entry(max, used));
    m.insert("DailyBulkApiBatches".into(), entry(15_000, bulk_jobs));
    m.sort_keys();
    json_response(StatusCode::OK, Value::Object(m))
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
    json_response(StatusCode::OK, json!({"sObjects": items}))
}
