//! gzip on the wire: responses asked for with `Accept-Encoding: gzip` and decoded, with the body
//! caps applied to the decoded size (a gzip bomb is cut); JSON request bodies from the
//! compression threshold sent with `Content-Encoding: gzip`; and, through a byte-counting proxy
//! in front of the emulator, a large Collections create that shrinks on the wire and still
//! creates every record.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::Method;
use httpmock::Method::{GET, POST};
use httpmock::{HttpMockRequest, MockServer};
use serde_json::{Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_rest::{BodyLimits, Client, Error, Record};
use support::{DATA, JSON, RecordingSleeper, builder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn header(req: &HttpMockRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn rec(v: Value) -> Record {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn responses_are_asked_for_gzip_and_decoded() {
    let server = MockServer::start_async().await;
    let body = json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14998}});
    let packed = gzip(body.to_string().as_bytes());
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/limits"))
                .is_true(|req| header(req, "accept-encoding").is_some_and(|v| v.contains("gzip")));
            then.status(200)
                .header("content-type", JSON)
                .header("content-encoding", "gzip")
                .body(packed);
        })
        .await;
    let value: Value = support::client(&server)
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(value, body);
    mock.assert_async().await;
}

/// 8 MiB of JSON whitespace, about 8 KiB compressed.
fn bomb() -> Vec<u8> {
    let mut json = b"[".to_vec();
    json.extend(std::iter::repeat_n(b' ', 8 * 1024 * 1024));
    json.push(b']');
    gzip(&json)
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_decoded_caps() {
    let packed = bomb();
    assert!(
        packed.len() < 64 * 1024,
        "{} bytes compressed",
        packed.len()
    );
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/limits"));
            then.status(200)
                .header("content-type", JSON)
                .header("content-encoding", "gzip")
                .body(packed.clone());
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/sobjects"));
            then.status(400)
                .header("content-type", JSON)
                .header("content-encoding", "gzip")
                .body(packed.clone());
        })
        .await;
    let client = builder(&server, &RecordingSleeper::default())
        .body_limits(BodyLimits {
            response_body: 1024 * 1024,
            error_body: 64 * 1024,
            ..BodyLimits::default()
        })
        .build()
        .unwrap();

    // A success body: the compressed bytes are far below the 1 MiB cap, the decoded ones not.
    let err = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    match err {
        Error::BodyTooLarge { limit, .. } => assert_eq!(limit, 1024 * 1024),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
    // An error body: cut at the 64 KiB error-body cap, though it is under it compressed.
    let err = client
        .request(Method::GET, "sobjects")
        .send()
        .await
        .unwrap_err();
    match err {
        Error::BodyTooLarge { limit, .. } => assert_eq!(limit, 64 * 1024),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
}

/// `n` Leads with a 300-character description each (about 350 bytes of JSON per record).
fn leads(n: usize, tag: &str) -> Vec<Record> {
    (0..n)
        .map(|i| {
            rec(json!({
                "LastName": format!("{tag} {i}"),
                "Company": "Acme",
                "Email": format!("{tag}.{i}@example.com"),
                "Description": format!("{tag} {i} ").repeat(300 / (tag.len() + 6)),
            }))
        })
        .collect()
}

#[tokio::test]
async fn json_bodies_from_the_threshold_are_sent_gzip() {
    let records = leads(200, "big");
    let expected = json!({
        "allOrNone": false,
        "records": records.iter().map(|r| {
            let mut r = r.clone();
            r.insert("attributes".into(), json!({"type": "Lead"}));
            Value::Object(r)
        }).collect::<Vec<_>>(),
    });
    let results: Vec<Value> = (0..200)
        .map(|i| json!({"id": format!("00Q{i:015}"), "success": true, "errors": []}))
        .collect();
    let server = MockServer::start_async().await;
    let expected_body = expected.clone();
    let big = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .header("content-encoding", "gzip")
                .is_true(move |req| {
                    let body: Value = serde_json::from_slice(&gunzip(req.body().as_ref())).unwrap();
                    body == expected_body
                });
            then.status(200)
                .header("content-type", JSON)
                .json_body(Value::Array(results));
        })
        .await;
    let small = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/sobjects/Lead"))
                .is_true(|req| header(req, "content-encoding").is_none())
                .json_body(json!({"LastName": "Doe", "Company": "Acme"}));
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"00Q000000000001AAA","success":true,"errors":[]}"#);
        })
        .await;
    let client = support::client(&server);
    let created = client.create_many("Lead", &records, false).await.unwrap();
    assert_eq!(created.len(), 200);
    assert!(created.iter().all(|r| r.success));
    big.assert_async().await;
    client
        .create("Lead", &json!({"LastName": "Doe", "Company": "Acme"}))
        .await
        .unwrap();
    small.assert_async().await;

    // With compression off, the same body goes out plain.
    let plain = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite/sobjects"))
                .is_true(|req| header(req, "content-encoding").is_none())
                .json_body(expected);
            then.status(200)
                .header("content-type", JSON)
                .json_body(json!([]));
        })
        .await;
    let client = builder(&server, &RecordingSleeper::default())
        .request_compression(None)
        .build()
        .unwrap();
    // The mock answers no results: the count check fails, but the plain body was matched.
    let _ = client.create_many("Lead", &records, false).await;
    plain.assert_async().await;
}

/// A TCP proxy in front of `target` counting the bytes sent up (client → server) and down.
struct CountingProxy {
    addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
}

impl CountingProxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, down) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (u, d) = (up.clone(), down.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(target).await.unwrap();
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, u.clone()));
                tokio::spawn(pump(sr, cw, d.clone()));
            }
        });
        Self { addr, up, down }
    }

    fn counts(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

/// A Composite request's body (subrequest bodies serialised once, when each subrequest is
/// built) is compressed like any JSON body and decodes to exactly the documented wire format.
#[tokio::test]
async fn a_large_composite_request_is_sent_gzip_with_its_subrequest_bodies_intact() {
    use sfdc_rest::composite::{CompositeRequest, Subrequest};
    let first = leads(200, "one");
    let second = leads(150, "two");
    let typed = |records: &[Record]| {
        records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.insert("attributes".into(), json!({"type": "Lead"}));
                Value::Object(r)
            })
            .collect::<Vec<_>>()
    };
    let expected = json!({
        "allOrNone": false,
        "compositeRequest": [
            {"method": "POST", "url": format!("{DATA}/composite/sobjects"), "referenceId": "a",
             "body": {"allOrNone": false, "records": typed(&first)}},
            {"method": "POST", "url": format!("{DATA}/composite/sobjects"), "referenceId": "b",
             "body": {"allOrNone": false, "records": typed(&second)}},
        ],
    });
    let results = |n: usize, tag: &str| -> Value {
        (0..n)
            .map(|i| json!({"id": format!("00Q{tag}{i:014}"), "success": true, "errors": []}))
            .collect()
    };
    let answer = json!({"compositeResponse": [
        {"body": results(200, "1"), "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "a"},
        {"body": results(150, "2"), "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "b"},
    ]});
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/composite"))
                .header("content-encoding", "gzip")
                .is_true(move |req| {
                    let body: Value = serde_json::from_slice(&gunzip(req.body().as_ref())).unwrap();
                    body == expected
                });
            then.status(200)
                .header("content-type", JSON)
                .json_body(answer);
        })
        .await;
    let mut request = CompositeRequest::new();
    request
        .push(Subrequest::create_many("a", "Lead", &first).unwrap())
        .unwrap();
    request
        .push(Subrequest::create_many("b", "Lead", &second).unwrap())
        .unwrap();
    let client = support::client(&server);
    let response = client.composite(&request).await.unwrap();
    mock.assert_async().await;
    let a = response.get("a").unwrap().collection_results().unwrap();
    let b = response.get("b").unwrap().collection_results().unwrap();
    assert_eq!((a.len(), b.len()), (200, 150));
    assert!(a.iter().chain(&b).all(|r| r.success));
    assert_eq!(b[149].id.as_deref(), Some("00Q200000000000149"));
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    count: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

fn through(proxy: &CountingProxy, emulator: &Emulator, compression: Option<usize>) -> Client {
    Client::builder()
        .instance_url(format!("http://{}", proxy.addr))
        .access_token(emulator.access_token())
        .allow_insecure_loopback(true)
        .request_compression(compression)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_large_collections_create_is_compressed_on_the_wire_and_creates_every_record() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let proxy = CountingProxy::start(emulator.local_addr()).await;
    let records = leads(200, "wire");
    let json_len = serde_json::to_vec(&json!({"allOrNone": false, "records": records}))
        .unwrap()
        .len() as u64;
    assert!(json_len > 60_000, "{json_len}");

    // Compressed (the default threshold).
    let client = through(
        &proxy,
        &emulator,
        Some(sfdc_rest::DEFAULT_REQUEST_COMPRESSION),
    );
    let (up0, down0) = proxy.counts();
    let created = client.create_many("Lead", &records, false).await.unwrap();
    let (up1, down1) = proxy.counts();
    assert_eq!(created.iter().filter(|r| r.success).count(), 200);
    assert_eq!(emulator.records("Lead").len(), 200);
    let compressed = up1 - up0;
    // Its answer (200 results) comes back compressed: headers included, the wire carries under
    // a quarter of the results' JSON (about 800 of 11,000 bytes; ~11,200 uncompressed).
    let answer_json = serde_json::to_vec(&created).unwrap().len() as u64;
    assert!(answer_json > 8_000, "{answer_json}");
    assert!(
        (down1 - down0) * 4 < answer_json,
        "{} bytes on the wire for {answer_json} bytes of results",
        down1 - down0
    );
    assert!(
        compressed * 4 < json_len,
        "{compressed} bytes on the wire for {json_len} bytes of JSON"
    );

    // The same records without request compression, for comparison.
    let plain_client = through(&proxy, &emulator, None);
    let plain_records = leads(200, "plain");
    let created = plain_client
        .create_many("Lead", &plain_records, false)
        .await
        .unwrap();
    let (up2, down2) = proxy.counts();
    assert_eq!(created.iter().filter(|r| r.success).count(), 200);
    assert_eq!(emulator.records("Lead").len(), 400);
    let plain = up2 - up1;
    assert!(plain > json_len, "{plain} bytes sent plain for {json_len}");
    assert!(compressed * 4 < plain, "{compressed} vs {plain}");

    // Responses come back compressed too: 200 Leads with their descriptions.
    let page = client
        .query("SELECT Id, Description FROM Lead WHERE Company = 'Acme' LIMIT 200")
        .await
        .unwrap();
    let (_, down3) = proxy.counts();
    assert_eq!(page.records.len(), 200);
    let decoded = serde_json::to_vec(&page.records).unwrap().len() as u64;
    assert!(decoded > 60_000, "{decoded}");
    assert!(
        (down3 - down2) * 4 < decoded,
        "{} bytes on the wire for {decoded} decoded",
        down3 - down2
    );
    eprintln!(
        "gzip figures: create of 200 Leads, {json_len} B of JSON: {compressed} B up compressed, {plain} B plain, answer {answer_json} B of results, {} B down; query page {decoded} B decoded, {} B down",
        down1 - down0,
        down3 - down2
    );
}
