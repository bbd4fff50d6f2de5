//! Wire tests of describe (global, per object with cache) and versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::GET;
use httpmock::MockServer;
use support::{DATA, JSON, client};

const GLOBAL: &str = include_str!("../fixtures/describe/global.json");
const ACCOUNT: &str = include_str!("../fixtures/describe/account.json");
const VERSIONS: &str = include_str!("../fixtures/describe/versions.json");
const NOT_FOUND: &str = include_str!("../fixtures/errors/not_found_404.json");

#[tokio::test]
async fn describe_global_parses_objects() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/sobjects"));
            then.status(200).header("content-type", JSON).body(GLOBAL);
        })
        .await;
    let global = client(&server).describe_global().await.unwrap();
    assert_eq!(global.max_batch_size, Some(200));
    let names: Vec<_> = global.sobjects.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Account", "Thing__c"]);
    assert!(global.sobjects[1].custom);
    assert_eq!(global.sobjects[0].key_prefix.as_deref(), Some("001"));
    mock.assert_async().await;
}

#[tokio::test]
async fn describe_is_cached_per_client_case_insensitively() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path_matches(r"^/services/data/v62\.0/sobjects/(?i:account)/describe$");
            then.status(200).header("content-type", JSON).body(ACCOUNT);
        })
        .await;
    let client = client(&server);
    let first = client.describe("Account").await.unwrap();
    let second = client.clone().describe("account").await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    mock.assert_calls_async(1).await;
    let ext = first.field("ext_id__c").unwrap();
    assert!(ext.external_id && ext.unique);
    assert_eq!(ext.field_type, "string");
    assert_eq!(first.field("ParentId").unwrap().reference_to, ["Account"]);
    assert_eq!(first.fields.len(), 4);
    client.forget_describe("ACCOUNT");
    client.describe("Account").await.unwrap();
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn describe_unknown_object_is_not_found_and_not_cached() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Nope__c/describe"));
            then.status(404)
                .header("content-type", JSON)
                .body(NOT_FOUND);
        })
        .await;
    let client = client(&server);
    assert!(client.describe("Nope__c").await.unwrap_err().is_not_found());
    assert!(client.describe("Nope__c").await.unwrap_err().is_not_found());
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn versions_lists_served_versions() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/services/data/");
            then.status(200).header("content-type", JSON).body(VERSIONS);
        })
        .await;
    let versions = client(&server).versions().await.unwrap();
    assert_eq!(versions[0].version, "62.0");
    assert_eq!(versions[1].url, "/services/data/v63.0");
    assert_eq!(versions[0].label, "Winter '25");
    mock.assert_async().await;
}

#[tokio::test]
async fn concurrent_first_describes_share_one_request() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/describe"));
            then.status(200)
                .header("content-type", JSON)
                .body(ACCOUNT)
                .delay(std::time::Duration::from_millis(100));
        })
        .await;
    let client = client(&server);
    let calls = (0..4).map(|_| {
        let client = client.clone();
        async move { client.describe("Account").await }
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().name, "Account");
    }
    mock.assert_calls_async(1).await;
}
