//! Hostile servers on loopback: redirects, oversized bodies, trickling responses, looping pagination.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use http::Method;
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::auth::{LoginHost, RefreshTokenSource, TokenSource};
use sfdc_rest::{BodyLimits, Client, Error, RetryConfig, TimeoutPhase, Timeouts};
use support::{DATA, JSON, TOKEN};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Short guard windows for the tests: 300 ms for headers, 1 KiB/s over 200 ms windows.
fn short() -> Timeouts {
    Timeouts {
        read_headers: Duration::from_millis(300),
        write_headers: Duration::from_millis(300),
        token_headers: Duration::from_millis(300),
        min_throughput: 1024,
        throughput_window: Duration::from_millis(200),
    }
}

fn client_at(base: &str, timeouts: Timeouts, limits: BodyLimits) -> Client {
    Client::builder()
        .instance_url(base)
        .allow_insecure_loopback(true)
        .access_token(TOKEN)
        .retry(RetryConfig::disabled())
        .timeouts(timeouts)
        .body_limits(limits)
        .build()
        .unwrap()
}

/// Reads one request's head (up to the blank line).
async fn read_head(sock: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(_) => head.push(byte[0]),
        }
    }
}

/// A raw loopback server answering every connection with `answer`; returns its base URL.
async fn raw_server<F, Fut>(answer: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                read_head(&mut sock).await;
                answer(sock).await;
            });
        }
    });
    format!("http://{addr}")
}

/// Writes `head`, then `body` in chunks of `chunk` bytes with `pause` between them; returns the
/// number of body bytes written before the client went away.
async fn dribble(
    sock: &mut TcpStream,
    head: &str,
    body: &[u8],
    chunk: usize,
    pause: Duration,
) -> u64 {
    if sock.write_all(head.as_bytes()).await.is_err() {
        return 0;
    }
    let mut written = 0u64;
    for part in body.chunks(chunk) {
        if sock.write_all(part).await.is_err() || sock.flush().await.is_err() {
            break;
        }
        written += part.len() as u64;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    written
}

#[tokio::test]
async fn redirect_on_create_is_refused_and_nothing_is_resent() {
    let origin = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let target = format!(
        "{}/services/data/v62.0/sobjects/Account",
        elsewhere.base_url()
    );
    let redirect = origin
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(307).header("location", target.as_str());
        })
        .await;
    let fake = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"001000000000001AAA","success":true,"errors":[]}"#);
        })
        .await;
    let client = client_at(
        &origin.base_url(),
        Timeouts::default(),
        BodyLimits::default(),
    );
    let err = client
        .create("Account", &json!({"Name": "Acme"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { status, location } if status.as_u16() == 307 && *location == target),
        "{err:?}"
    );
    assert!(err.to_string().contains(&target));
    assert!(!err.is_retryable());
    assert_eq!(redirect.calls_async().await, 1);
    assert_eq!(
        fake.calls_async().await,
        0,
        "nothing may reach the redirect target"
    );
}

#[tokio::test]
async fn redirect_from_the_token_endpoint_is_refused() {
    let login = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let target = format!("{}/services/oauth2/token", elsewhere.base_url());
    let redirect = login
        .mock_async(|when, then| {
            when.method(POST).path("/services/oauth2/token");
            then.status(307).header("location", target.as_str());
        })
        .await;
    let fake = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", JSON)
                .body(r#"{"access_token":"stolen","instance_url":"https://x.my.salesforce.com"}"#);
        })
        .await;
    let source = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(login.url("/services/oauth2/token")).unwrap(),
        )
        .client_id("3MVG9client")
        .client_secret("client-secret-1")
        .refresh_token("refresh-secret-1")
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { location, .. } if *location == target),
        "{err:?}"
    );
    assert_eq!(redirect.calls_async().await, 1);
    assert_eq!(
        fake.calls_async().await,
        0,
        "the form must not be re-posted elsewhere"
    );
}

#[tokio::test]
async fn huge_error_body_is_read_only_up_to_the_cap() {
    let written = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&written);
    let body = Arc::new(vec![b'x'; 100 * 1024 * 1024]);
    let base = raw_server(move |mut sock| {
        let counter = Arc::clone(&counter);
        let body = Arc::clone(&body);
        async move {
            let head = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n";
            let n = dribble(&mut sock, head, &body, 64 * 1024, Duration::ZERO).await;
            counter.store(n, Ordering::SeqCst);
        }
    })
    .await;
    let client = client_at(&base, Timeouts::default(), BodyLimits::default());
    let err = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BodyTooLarge { limit, status, .. } if *limit == 1024 * 1024 && status.as_u16() == 500),
        "{err:?}"
    );
    assert!(err.to_string().contains("truncated"));
    assert!(!err.is_retryable());
    // The server stops once the client hangs up: far less than the 100 MB it offered.
    for _ in 0..200 {
        if written.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent > 0 && sent < 16 * 1024 * 1024,
        "server wrote {sent} bytes"
    );
}

#[tokio::test]
async fn declared_oversized_success_body_is_refused_and_small_one_read() {
    let server = MockServer::start_async().await;
    let big = format!(r#"{{"pad":"{}"}}"#, "y".repeat(4096));
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{DATA}/limits"));
            then.status(200)
                .header("content-type", JSON)
                .body(big.as_str());
        })
        .await;
    let limits = BodyLimits {
        response_body: 2048,
        ..BodyLimits::default()
    };
    let client = client_at(&server.base_url(), Timeouts::default(), limits);
    let err = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 2048, .. }),
        "{err:?}"
    );
    let roomy = BodyLimits {
        response_body: 8192,
        ..BodyLimits::default()
    };
    let client = client_at(&server.base_url(), Timeouts::default(), roomy);
    let body = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), big.len());
}

#[tokio::test]
async fn trickling_headers_end_by_the_header_deadline_and_reads_are_retryable() {
    let base = raw_server(|mut sock| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-pad: ";
        dribble(&mut sock, head, &[b'a'; 200], 1, Duration::from_millis(20)).await;
    })
    .await;
    let client = client_at(&base, short(), BodyLimits::default());
    let err = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Headers,
                sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(!err.is_outcome_unknown());
}

#[tokio::test]
async fn create_that_timed_out_after_sending_is_outcome_unknown() {
    let base = raw_server(|sock| async move {
        let _open = sock;
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let client = client_at(&base, short(), BodyLimits::default());
    let err = client
        .create("Account", &json!({"Name": "Acme"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Headers,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_outcome_unknown());
    assert!(!err.is_retryable());
    assert_eq!(client.api_calls(), 1, "a create is never re-sent");
}

const BODY_LEN: usize = 8 * 1024;

fn head_with_length(len: usize) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n")
}

/// A server sending a `BODY_LEN` JSON string body in `chunk`-byte pieces every 20 ms.
async fn paced_body(chunk: usize) -> String {
    raw_server(move |mut sock| async move {
        let mut body = vec![b'z'; BODY_LEN];
        body[0] = b'"';
        body[BODY_LEN - 1] = b'"';
        dribble(
            &mut sock,
            &head_with_length(BODY_LEN),
            &body,
            chunk,
            Duration::from_millis(20),
        )
        .await;
    })
    .await
}

#[tokio::test]
async fn trickling_body_ends_by_the_throughput_guard() {
    // 2 bytes every 20 ms: about 20 bytes per 200 ms window, below the 204 required.
    let base = paced_body(2).await;
    let client = client_at(&base, short(), BodyLimits::default());
    let err = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Throughput,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn slow_but_steady_body_is_read_whole() {
    // 512 bytes every 20 ms: about 5 KiB per 200 ms window, well above 204 bytes.
    let base = paced_body(512).await;
    let client = client_at(&base, short(), BodyLimits::default());
    let text: String = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(text.len(), BODY_LEN - 2);
}

#[tokio::test]
async fn streamed_download_has_the_throughput_guard_not_a_cap() {
    let steady = paced_body(512).await;
    let limits = BodyLimits {
        response_body: 16,
        ..BodyLimits::default()
    };
    let client = client_at(&steady, short(), limits);
    let chunks: Vec<bytes::Bytes> = client
        .request(Method::GET, "limits")
        .send()
        .await
        .unwrap()
        .bytes_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        chunks.iter().map(bytes::Bytes::len).sum::<usize>(),
        BODY_LEN
    );

    let trickle = paced_body(2).await;
    let client = client_at(&trickle, short(), limits);
    let mut stream = Box::pin(
        client
            .request(Method::GET, "limits")
            .send()
            .await
            .unwrap()
            .bytes_stream(),
    );
    let mut received = 0;
    let err = loop {
        match stream.next().await {
            Some(Ok(chunk)) => received += chunk.len(),
            Some(Err(e)) => break e,
            None => panic!("the trickling stream must fail"),
        }
    };
    assert!(received < BODY_LEN);
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Throughput,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn trickling_token_response_ends_by_the_throughput_guard() {
    let base = raw_server(|mut sock| async move {
        let body = br#"{"access_token":"00Dx!tok","instance_url":"https://acme.my.salesforce.com","issued_at":"1"}"#;
        dribble(&mut sock, &head_with_length(body.len()), body, 1, Duration::from_millis(20)).await;
    })
    .await;
    let source = RefreshTokenSource::builder()
        .login_host(
            LoginHost::insecure_loopback_token_url(format!("{base}/services/oauth2/token"))
                .unwrap(),
        )
        .client_id("3MVG9client")
        .client_secret("client-secret-1")
        .refresh_token("refresh-secret-1")
        .guards(short(), BodyLimits::default())
        .build()
        .unwrap();
    let err = source.token().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Throughput,
                ..
            }
        ),
        "{err:?}"
    );
}

/// Mocks one query page at `DATA` + `path` whose `nextRecordsUrl` points at `next`.
async fn mock_page<'a>(
    server: &'a MockServer,
    path: &str,
    next: Option<&str>,
) -> httpmock::Mock<'a> {
    let body = page(next);
    let path = format!("{DATA}{path}");
    server
        .mock_async(|when, then| {
            when.method(GET).path(path);
            then.status(200).header("content-type", JSON).body(body);
        })
        .await
}

fn page(locator: Option<&str>) -> String {
    let next = locator.map_or(String::new(), |l| {
        format!(r#","nextRecordsUrl":"{DATA}/query/{l}""#)
    });
    format!(
        r#"{{"totalSize":9,"done":{},"records":[{{"attributes":{{"type":"Account"}},"Id":"001000000000001AAA"}}]{next}}}"#,
        locator.is_none()
    )
}

#[tokio::test]
async fn looping_next_records_url_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    let first = mock_page(&server, "/query", Some("01g-1")).await;
    let looping = mock_page(&server, "/query/01g-1", Some("01g-1")).await;
    let client = client_at(
        &server.base_url(),
        Timeouts::default(),
        BodyLimits::default(),
    );
    let results: Vec<_> = client
        .query_stream("SELECT Id FROM Account")
        .collect()
        .await;
    assert_eq!(results.len(), 2, "the first page's record, then the error");
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert!(err.to_string().contains("nextRecordsUrl"), "{err}");
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(looping.calls_async().await, 1, "a locator is fetched once");
}

#[tokio::test]
async fn page_cap_ends_the_stream() {
    let server = MockServer::start_async().await;
    let first = mock_page(&server, "/query", Some("01g-1")).await;
    let second = mock_page(&server, "/query/01g-1", Some("01g-2")).await;
    let third = mock_page(&server, "/query/01g-2", None).await;
    let limits = BodyLimits {
        max_query_pages: 2,
        ..BodyLimits::default()
    };
    let client = client_at(&server.base_url(), Timeouts::default(), limits);
    let err = client
        .query_stream("SELECT Id FROM Account")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("max_query_pages"), "{err}");
    assert_eq!(first.calls_async().await + second.calls_async().await, 2);
    assert_eq!(third.calls_async().await, 0);

    let client = client_at(
        &server.base_url(),
        Timeouts::default(),
        BodyLimits::default(),
    );
    let all: Vec<_> = client
        .query_stream("SELECT Id FROM Account")
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
}
