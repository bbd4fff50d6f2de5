//! Secrets never appear in Debug/Display of the client, builder, request builder or errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::GET;
use httpmock::MockServer;
use support::{DATA, JSON, TOKEN};

const INVALID_SESSION: &str = include_str!("../fixtures/errors/invalid_session_401.json");

#[tokio::test]
async fn client_builder_and_errors_never_show_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/001000000000001AAA"));
            then.status(401)
                .header("content-type", JSON)
                .body(INVALID_SESSION);
        })
        .await;
    let builder = support::builder(&server, &support::RecordingSleeper::default());
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let err = client
        .retrieve("Account", "001000000000001AAA", &[])
        .await
        .unwrap_err();
    let outputs = [
        builder_debug,
        format!("{client:?}"),
        format!("{err}"),
        format!("{err:?}"),
        format!("{:?}", client.request(http::Method::GET, "limits")),
    ];
    for out in outputs {
        assert!(!out.contains(TOKEN), "token leaked: {out}");
        assert!(!out.contains("AQ4AQFAKE"), "token leaked: {out}");
    }
}
