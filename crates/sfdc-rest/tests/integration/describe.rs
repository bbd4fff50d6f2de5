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

#[tokio::test]
async fn a_describe_read_in_a_composite_call_is_remembered_and_served_from_the_cache() {
    let server = MockServer::start_async().await;
    let answer = format!(
        r#"{{"compositeResponse":[
            {{"referenceId":"d0","httpStatusCode":200,"httpHeaders":{{}},"body":{ACCOUNT}}},
            {{"referenceId":"d1","httpStatusCode":404,"httpHeaders":{{}},"body":{NOT_FOUND}}}]}}"#
    );
    let composite = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST)
                .path(format!("{DATA}/composite"))
                .body_includes(r#""url":"/services/data/v62.0/sobjects/Account/describe""#)
                .body_includes(r#""method":"GET""#);
            then.status(200).header("content-type", JSON).body(answer);
        })
        .await;
    let plain = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/describe"));
            then.status(200).header("content-type", JSON).body(ACCOUNT);
        })
        .await;
    let client = client(&server);
    assert!(client.cached_describe("Account").is_none());
    let mut request = sfdc_rest::composite::CompositeRequest::new();
    request
        .push(sfdc_rest::composite::Subrequest::describe("d0", "Account").unwrap())
        .unwrap();
    request
        .push(sfdc_rest::composite::Subrequest::describe("d1", "Nope__c").unwrap())
        .unwrap();
    let response = client.composite(&request).await.unwrap();
    let described = response.get("d0").unwrap().describe().unwrap();
    assert_eq!(described.fields.len(), 4);
    let missing = response.get("d1").unwrap().describe().unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let kept = client.remember_describe("account", described);
    // Served from the cache: the same describe, no plain describe request.
    let again = client.describe("Account").await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&kept, &again));
    assert!(std::sync::Arc::ptr_eq(
        &kept,
        &client.cached_describe("ACCOUNT").unwrap()
    ));
    plain.assert_calls_async(0).await;
    composite.assert_calls_async(1).await;
    // A describe remembered again leaves the cached one in place.
    let other: sfdc_rest::SObjectDescribe = serde_json::from_str(ACCOUNT).unwrap();
    assert!(std::sync::Arc::ptr_eq(
        &client.remember_describe("Account", other),
        &kept
    ));
    // A bad object name is refused before any request.
    assert!(sfdc_rest::composite::Subrequest::describe("d2", "no such").is_err());
}
