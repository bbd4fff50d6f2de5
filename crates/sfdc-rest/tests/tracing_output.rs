//! Tracing output: one span per request with method, path template and status; never the token or
//! a body. Alone in its binary so no other test registers the callsites without a subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::json;
use support::{DATA, JSON, TOKEN, client};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_carry_method_path_status_but_no_token_or_body() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"001D000000IqhSLIAZ","errors":[],"success":true}"#);
        })
        .await;
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("sfdc_rest=trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    client(&server)
        .create("Account", &json!({"Name": "SECRET-BODY-VALUE"}))
        .await
        .unwrap();
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("sfdc.request"), "{logs}");
    assert!(logs.contains("sobjects/{object}"), "{logs}");
    assert!(logs.contains("status=201"), "{logs}");
    assert!(!logs.contains(TOKEN), "{logs}");
    assert!(!logs.contains("SECRET-BODY-VALUE"), "{logs}");
}
