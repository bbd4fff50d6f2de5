//! Wire tests of SOQL queries and the paging stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use futures::{StreamExt, TryStreamExt};
use httpmock::Method::GET;
use httpmock::MockServer;
use sfdc_rest::{Error, ErrorCode, QueryOptions};
use support::{DATA, JSON, client};

const PAGE1: &str = include_str!("../fixtures/query/page1.json");
const PAGE2: &str = include_str!("../fixtures/query/page2.json");
const PAGE3: &str = include_str!("../fixtures/query/page3.json");
const EMPTY: &str = include_str!("../fixtures/query/empty.json");
const MALFORMED: &str = include_str!("../fixtures/errors/malformed_query_400.json");

const SOQL: &str = "SELECT Id, Name FROM Account WHERE Name != 'x' ORDER BY Name";

struct Pages<'a> {
    first: httpmock::Mock<'a>,
    second: httpmock::Mock<'a>,
    third: httpmock::Mock<'a>,
}

async fn three_pages<'a>(server: &'a MockServer, resource: &str) -> Pages<'a> {
    let resource = resource.to_owned();
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/{resource}"))
                .query_param("q", SOQL);
            then.status(200).header("content-type", JSON).body(PAGE1);
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/query/01gD0000002HU6KIAW-2"));
            then.status(200).header("content-type", JSON).body(PAGE2);
        })
        .await;
    let third = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/query/01gD0000002HU6KIAW-4"));
            then.status(200).header("content-type", JSON).body(PAGE3);
        })
        .await;
    Pages {
        first,
        second,
        third,
    }
}

#[tokio::test]
async fn stream_follows_three_pages_in_order() {
    let server = MockServer::start_async().await;
    let pages = three_pages(&server, "query").await;
    let client = client(&server);
    let records: Vec<_> = client.query_stream(SOQL).try_collect().await.unwrap();
    let names: Vec<_> = records
        .iter()
        .map(|r| r["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["One", "Two", "Three", "Four", "Five"]);
    pages.first.assert_calls_async(1).await;
    pages.second.assert_calls_async(1).await;
    pages.third.assert_calls_async(1).await;
    assert_eq!(client.api_calls(), 3);
}

#[tokio::test]
async fn stream_fetches_next_page_only_when_needed() {
    let server = MockServer::start_async().await;
    let pages = three_pages(&server, "query").await;
    let client = client(&server);
    let mut stream = client.query_stream(SOQL);
    // The first two records come from page 1; page 2 is not requested yet.
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    pages.first.assert_calls_async(1).await;
    pages.second.assert_calls_async(0).await;
    // The third record needs page 2, still not page 3.
    let third = stream.next().await.unwrap().unwrap();
    assert_eq!(third["Name"], "Three");
    pages.second.assert_calls_async(1).await;
    pages.third.assert_calls_async(0).await;
    drop(stream);
    pages.third.assert_calls_async(0).await;
}

#[tokio::test]
async fn query_all_stream_uses_query_all_resource() {
    let server = MockServer::start_async().await;
    let pages = three_pages(&server, "queryAll").await;
    let records: Vec<_> = client(&server)
        .query_all_stream(SOQL)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 5);
    pages.first.assert_calls_async(1).await;
}

#[tokio::test]
async fn single_page_query_and_query_more() {
    let server = MockServer::start_async().await;
    let pages = three_pages(&server, "query").await;
    let client = client(&server);
    let page = client.query(SOQL).await.unwrap();
    assert_eq!(page.total_size, 5);
    assert!(!page.done);
    assert_eq!(page.records.len(), 2);
    let next = page.next_records_url.unwrap();
    let page2 = client.query_more(&next).await.unwrap();
    assert_eq!(page2.records[0]["Name"], "Three");
    pages.first.assert_calls_async(1).await;
    pages.second.assert_calls_async(1).await;
}

#[tokio::test]
async fn batch_size_header_is_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/query"))
                .query_param("q", "SELECT Id FROM Lead")
                .header("sforce-query-options", "batchSize=500");
            then.status(200).header("content-type", JSON).body(EMPTY);
        })
        .await;
    let records: Vec<_> = client(&server)
        .query_stream_with(
            "SELECT Id FROM Lead",
            QueryOptions::default().with_batch_size(500),
        )
        .try_collect()
        .await
        .unwrap();
    assert!(records.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn malformed_query_400_is_parsed_and_ends_the_stream() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/query"));
            then.status(400)
                .header("content-type", JSON)
                .body(MALFORMED);
        })
        .await;
    let items: Vec<_> = client(&server)
        .query_stream("SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Id != null")
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    let err = items.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::MalformedQuery));
    assert!(
        err.api_errors()[0]
            .message
            .contains("unexpected token: AND")
    );
    assert!(!err.is_retryable());
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn foreign_next_records_url_is_refused() {
    let server = MockServer::start_async().await;
    let client = client(&server);
    for url in [
        "https://evil.tld/services/data/v62.0/query/x",
        "/services/data/../../x",
        "query/x",
    ] {
        let err = client.query_more(url).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{url}: {err}");
    }
    assert_eq!(client.api_calls(), 0);
}
