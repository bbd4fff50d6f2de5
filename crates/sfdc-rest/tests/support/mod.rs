//! Shared helpers for the wire tests: the workspace's test support, plus an httpmock-backed client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    unreachable_pub,
    unused_imports
)]

use httpmock::MockServer;
use sfdc_rest::{Client, ClientBuilder};
pub use sfdc_test_support::{DATA, JSON, RecordingSleeper, TOKEN, retry_config};

/// A builder pointed at the mock server with a static token, recording sleeper and no jitter.
pub fn builder(server: &MockServer, sleeper: &RecordingSleeper) -> ClientBuilder {
    sfdc_test_support::loopback_builder(&server.base_url(), sleeper)
}

/// A client pointed at the mock server (see [`builder`]).
pub fn client(server: &MockServer) -> Client {
    builder(server, &RecordingSleeper::default())
        .build()
        .unwrap()
}

/// `Bearer <TOKEN>`.
pub fn bearer() -> String {
    format!("Bearer {TOKEN}")
}
