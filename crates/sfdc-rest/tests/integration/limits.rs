//! Wire tests of API usage: Sforce-Limit-Info tracking, the call counter, the budget guard, /limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::GET;
use httpmock::MockServer;
use sfdc_rest::Error;
use support::{DATA, JSON, RecordingSleeper, builder, client};

const LIMITS: &str = include_str!("../fixtures/describe/limits.json");
const EMPTY: &str = include_str!("../fixtures/query/empty.json");
const LIMIT_403: &str = include_str!("../fixtures/errors/request_limit_403.json");

#[tokio::test]
async fn limit_info_is_tracked_on_every_response() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/limits"));
            then.status(200)
                .header("content-type", JSON)
                .header(
                    "sforce-limit-info",
                    "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
                )
                .body(LIMITS);
        })
        .await;
    let client = client(&server);
    assert_eq!(client.api_usage(), None);
    let limits = client.limits().await.unwrap();
    let daily = limits.daily_api_requests().unwrap();
    assert_eq!((daily.max, daily.remaining), (15000, 14998));
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.max)),
        Some((18, 5000))
    );
    let per_app = client.per_app_api_usage().unwrap();
    assert_eq!((per_app.used, per_app.max), (17, 250));
    assert_eq!(per_app.app_name, "sample-connected-app");
    assert_eq!(client.api_calls(), 1);
    mock.assert_async().await;
}

#[tokio::test]
async fn error_responses_update_usage_too() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/query"));
            then.status(403)
                .header("content-type", JSON)
                .header("sforce-limit-info", "api-usage=15001/15000")
                .body(LIMIT_403);
        })
        .await;
    let client = client(&server);
    let err = client.query("SELECT Id FROM Account").await.unwrap_err();
    assert!(err.is_throttled());
    assert_eq!(
        client.api_usage().map(|u| (u.used, u.max)),
        Some((15001, 15000))
    );
}

#[tokio::test]
async fn budget_guard_refuses_calls_past_the_share() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/query"));
            then.status(200)
                .header("content-type", JSON)
                .header("sforce-limit-info", "api-usage=80/100")
                .body(EMPTY);
        })
        .await;
    let client = builder(&server, &RecordingSleeper::default())
        .api_budget(0.8)
        .build()
        .unwrap();
    // Usage unknown: the first call goes through and reports 80/100.
    client.query("SELECT Id FROM Account").await.unwrap();
    let err = client.query("SELECT Id FROM Account").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::BudgetExceeded {
                used: 80,
                max: 100,
                limit: 80
            }
        ),
        "{err}"
    );
    assert!(err.is_throttled());
    assert!(!err.is_retryable());
    mock.assert_calls_async(1).await;
    assert_eq!(client.api_calls(), 1);
    // Clones share the counter and the guard.
    let clone = client.clone();
    assert!(clone.query("SELECT Id FROM Account").await.is_err());
    assert_eq!(clone.api_calls(), 1);
}
