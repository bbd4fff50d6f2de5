//! Client overhead: the pure retry decision, header and error parsing, and end-to-end calls against
//! an httpmock server on 127.0.0.1 (so the figures include httpmock's own cost).
//!
//! Run: `cargo bench -p sfdc-rest --bench client`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::TryStreamExt;
use http::StatusCode;
use httpmock::Method::GET;
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::limits::LimitInfo;
use sfdc_rest::retry::{Failure, decide};
use sfdc_rest::{Client, Error, Idempotency, RetryConfig};

const PAGE_RECORDS: usize = 2000;
const PAGES: usize = 3;

fn pure(c: &mut Criterion) {
    let config = RetryConfig::default();
    c.bench_function("retry_decide_503", |b| {
        let failure = Failure::Response {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error_code: None,
            retry_after: None,
        };
        b.iter(|| {
            decide(
                black_box(Idempotency::Idempotent),
                black_box(&failure),
                black_box(2),
                Duration::ZERO,
                &config,
                0.3,
            )
        });
    });
    c.bench_function("limit_info_parse_per_app", |b| {
        b.iter(|| {
            LimitInfo::parse(black_box(
                "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
            ))
        });
    });
    let json_err = br#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#;
    c.bench_function("error_parse_json_array", |b| {
        b.iter(|| Error::from_response(StatusCode::BAD_REQUEST, black_box(json_err)));
    });
    let html = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>proxy</p></body></html>".repeat(20);
    c.bench_function("error_parse_html_2kb", |b| {
        b.iter(|| Error::from_response(StatusCode::BAD_GATEWAY, black_box(html.as_bytes())));
    });
}

fn page(n: usize, next: Option<&str>) -> String {
    let records: Vec<_> = (0..PAGE_RECORDS)
        .map(|i| {
            json!({
                "attributes": {"type": "Contact", "url": format!("/services/data/v62.0/sobjects/Contact/003{n}{i:014}")},
                "Id": format!("003{n}{i:014}"),
                "Email": format!("user{i}@example.com"),
                "LastName": "Doe",
                "AccountId": null,
            })
        })
        .collect();
    let mut body =
        json!({"totalSize": PAGE_RECORDS * PAGES, "done": next.is_none(), "records": records});
    if let Some(next) = next {
        body["nextRecordsUrl"] = json!(next);
    }
    body.to_string()
}

fn wire(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start_async());
    rt.block_on(async {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/services/data/v62.0/sobjects/Account/001D000000IqhSLIAZ");
                then.status(200)
                    .header("content-type", "application/json;charset=UTF-8")
                    .header("sforce-limit-info", "api-usage=25/15000")
                    .body(r#"{"attributes":{"type":"Account"},"Id":"001D000000IqhSLIAZ","Name":"Acme"}"#);
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/services/data/v62.0/query");
                then.status(200)
                    .header("content-type", "application/json;charset=UTF-8")
                    .body(page(1, Some("/services/data/v62.0/query/01gB-2000")));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/services/data/v62.0/query/01gB-2000");
                then.status(200)
                    .header("content-type", "application/json;charset=UTF-8")
                    .body(page(2, Some("/services/data/v62.0/query/01gB-4000")));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/services/data/v62.0/query/01gB-4000");
                then.status(200)
                    .header("content-type", "application/json;charset=UTF-8")
                    .body(page(3, None));
            })
            .await;
    });
    let client = Client::builder()
        .instance_url(server.base_url())
        .allow_insecure_loopback(true)
        .access_token("00Dxx!bench-token")
        .build()
        .unwrap();

    let mut group = c.benchmark_group("wire");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("retrieve_one_record", |b| {
        b.iter(|| {
            rt.block_on(client.retrieve("Account", "001D000000IqhSLIAZ", &[]))
                .unwrap()
        });
    });
    group.throughput(Throughput::Elements((PAGE_RECORDS * PAGES) as u64));
    group.bench_function("query_stream_3x2000_records", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut stream =
                    client.query_stream("SELECT Id, Email, LastName, AccountId FROM Contact");
                let mut n = 0usize;
                while let Some(record) = stream.try_next().await.unwrap() {
                    black_box(&record);
                    n += 1;
                }
                assert_eq!(n, PAGE_RECORDS * PAGES);
            });
        });
    });
    group.finish();
}

criterion_group!(benches, pure, wire);
criterion_main!(benches);
