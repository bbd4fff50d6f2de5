//! Daily allocation, `Sforce-Limit-Info`, `/limits`, and fault injection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::json;
use sfdc_emulator::{EmulatorConfig, FaultConfig};
use support::{assert_json, into_resp, start_with};

fn faults(f: impl FnOnce(&mut FaultConfig)) -> EmulatorConfig {
    let mut cfg = EmulatorConfig::default();
    f(&mut cfg.faults);
    cfg
}

#[tokio::test]
async fn allocation_is_enforced_with_limit_info_headers() {
    let mut cfg = EmulatorConfig::default();
    cfg.daily_api_limit = 3;
    let ctx = start_with(cfg).await;
    for n in 1..=3 {
        let r = ctx.get("sobjects").await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("sforce-limit-info"),
            Some(format!("api-usage={n}/3").as_str())
        );
    }
    let r = ctx.get("sobjects").await;
    assert_eq!(r.status, 403);
    assert_json(&r);
    assert_eq!(
        r.body,
        json!([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(r.header("sforce-limit-info"), Some("api-usage=3/3"));
    // Versions list and token calls are not API calls and still work.
    let r = into_resp(
        ctx.http
            .get(ctx.url("/services/data/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(ctx.emu.api_calls(), 3);
}

#[tokio::test]
async fn limits_endpoint_reports_daily_api_requests() {
    let mut cfg = EmulatorConfig::default();
    cfg.daily_api_limit = 500;
    let ctx = start_with(cfg).await;
    ctx.get("sobjects").await;
    let r = ctx.get("limits/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["DailyApiRequests"],
        json!({"Max": 500, "Remaining": 498})
    );
    for key in [
        "DailyBulkApiBatches",
        "DailyBulkV2QueryJobs",
        "DailyBulkV2QueryFileStorageMB",
        "DataStorageMB",
    ] {
        assert!(r.body[key]["Max"].is_u64(), "{key}");
    }
    ctx.create("Account", &json!({"Name":"A"})).await;
    let r = ctx.get("limits/recordCount?sObjects=Account,Lead").await;
    assert_eq!(
        r.body,
        json!({"sObjects": [{"count": 1, "name": "Account"}, {"count": 0, "name": "Lead"}]})
    );
    assert_eq!(ctx.calls("limits"), 2);
}

#[tokio::test]
async fn server_unavailable_fault_executes_nothing() {
    let ctx = start_with(faults(|f| f.server_unavailable = 1.0)).await;
    let r = ctx.post("sobjects/Account", &json!({"Name":"A"})).await;
    assert_eq!(r.status, 503);
    assert_json(&r);
    assert_eq!(r.error_code(), "SERVER_UNAVAILABLE");
    assert!(ctx.emu.records("Account").is_empty());
}

#[tokio::test]
async fn lock_row_fault_hits_writes_only() {
    let ctx = start_with(faults(|f| f.unable_to_lock_row = 1.0)).await;
    let id = ctx
        .emu
        .insert_record("Account", json!({"Name":"A"}))
        .unwrap();
    let r = ctx
        .patch(&format!("sobjects/Account/{id}"), &json!({"Name":"B"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "UNABLE_TO_LOCK_ROW");
    assert_eq!(
        r.message(),
        format!("unable to obtain exclusive access to this record or 1 records: {id}")
    );
    assert_eq!(ctx.emu.record("Account", &id).unwrap()["Name"], "A");
    assert_eq!(ctx.get(&format!("sobjects/Account/{id}")).await.status, 200);
}

#[tokio::test]
async fn dropped_connection_after_commit_loses_only_the_response() {
    let ctx = start_with(faults(|f| f.drop_after_commit = 1.0)).await;
    let res = ctx
        .req(reqwest::Method::POST, "sobjects/Account")
        .json(&json!({"Name":"Committed"}))
        .send()
        .await;
    assert!(res.is_err(), "the response must be lost: {res:?}");
    let recs = ctx.emu.records("Account");
    assert_eq!(recs.len(), 1, "the write must have committed");
    assert_eq!(recs[0]["Name"], "Committed");
    // Reads are not affected.
    assert_eq!(ctx.get("sobjects").await.status, 200);
}

#[tokio::test]
async fn forced_token_expiry_every_n_calls() {
    let ctx = start_with(faults(|f| f.expire_token_every = Some(3))).await;
    assert_eq!(ctx.get("limits").await.status, 200);
    assert_eq!(ctx.get("limits").await.status, 200);
    let r = ctx.get("limits").await;
    assert_eq!((r.status, r.error_code()), (401, "INVALID_SESSION_ID"));
    // The token stays dead; a refreshed token works.
    assert_eq!(ctx.get("limits").await.status, 401);
    let c = ctx.emu.config().clone();
    let r = into_resp(
        ctx.http
            .post(ctx.emu.token_url())
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", c.client_id.as_str()),
                ("refresh_token", ctx.emu.refresh_token().as_str()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let fresh = r.body["access_token"].as_str().unwrap();
    let r = into_resp(
        ctx.http
            .get(ctx.url("limits"))
            .bearer_auth(fresh)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(ctx.emu.api_calls(), 3, "rejected calls are not counted");
}

async fn statuses(seed: u64) -> Vec<u16> {
    let mut cfg = faults(|f| {
        f.server_unavailable = 0.3;
        f.unable_to_lock_row = 0.3;
    });
    cfg.seed = seed;
    cfg.latency = Duration::from_millis(1);
    let ctx = start_with(cfg).await;
    let mut out = Vec::new();
    for i in 0..30 {
        out.push(
            ctx.post("sobjects/Account", &json!({"Name": format!("A{i}")}))
                .await
                .status,
        );
    }
    let created = out.iter().filter(|s| **s == 201).count();
    assert_eq!(ctx.emu.records("Account").len(), created);
    out
}

#[tokio::test]
async fn faults_are_deterministic_for_a_seed() {
    let a = statuses(7).await;
    let b = statuses(7).await;
    assert_eq!(a, b);
    assert!(
        a.contains(&503) && a.contains(&400) && a.contains(&201),
        "{a:?}"
    );
}

/// Latency is checked on Tokio's paused (virtual) clock, never the wall clock. The injected
/// latency is an hour, far above any other timer in the client or server (connection-pool idle
/// timers are 90 s), so an auto-advance of the paused clock to another timer cannot be mistaken
/// for it.
#[tokio::test(start_paused = true)]
async fn latency_is_added_to_every_api_call() {
    const LATENCY: Duration = Duration::from_secs(3600);
    let mut cfg = EmulatorConfig::default();
    cfg.latency = LATENCY;
    let ctx = start_with(cfg).await;
    let before = tokio::time::Instant::now();
    assert_eq!(ctx.get("limits").await.status, 200);
    assert_eq!(ctx.get("sobjects").await.status, 200);
    assert!(before.elapsed() >= 2 * LATENCY, "{:?}", before.elapsed());
    // The versions list is not an API call: no latency.
    let before = tokio::time::Instant::now();
    let r = into_resp(
        ctx.http
            .get(ctx.url("/services/data/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(before.elapsed() < LATENCY, "{:?}", before.elapsed());
}

#[tokio::test]
async fn limits_lists_the_names_a_current_org_returns() {
    let ctx = start_with(EmulatorConfig::default()).await;
    let r = ctx.get("limits").await;
    assert_eq!(r.status, 200);
    let m = r.body.as_object().unwrap();
    for name in [
        "ActiveScratchOrgs",
        "DailyApiRequests",
        "DailyAsyncApexTests",
        "DailyBulkApiBatches",
        "DailyBulkV2QueryJobs",
        "DailyStandardVolumePlatformEvents",
        "DataStorageMB",
        "HourlyPublishedPlatformEvents",
        "MonthlyPlatformEventsUsageEntitlement",
        "SingleEmail",
    ] {
        let e = &m[name];
        assert!(e["Max"].is_u64() && e["Remaining"].is_u64(), "{name}: {e}");
    }
    assert_eq!(
        r.body["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    let names: Vec<&String> = m.keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "listed alphabetically");
}
