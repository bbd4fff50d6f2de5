//! Shared helpers for the wire tests: an httpmock-backed client with a recording sleeper.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::MockServer;
use sfdc_rest::backoff::{SleepFuture, Sleeper};
use sfdc_rest::{BackoffConfig, Client, ClientBuilder, FixedJitter, RetryConfig};

/// The access token the test clients send.
pub const TOKEN: &str = "00Dxx0000001gPL!AQ4AQFAKE.TEST.TOKEN.value";

/// The data path prefix of API 62.0.
pub const DATA: &str = "/services/data/v62.0";

/// A sleeper that records the requested delays and returns at once.
#[derive(Debug, Clone, Default)]
pub struct RecordingSleeper(pub Arc<Mutex<Vec<Duration>>>);

impl RecordingSleeper {
    pub fn delays(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        self.0.lock().unwrap().push(delay);
        Box::pin(async {})
    }
}

/// Retry settings with round numbers: 100 ms, 200 ms, 400 ms… up to 5 s, 4 attempts.
pub fn retry_config() -> RetryConfig {
    RetryConfig {
        max_attempts: 4,
        max_elapsed: None,
        backoff: BackoffConfig {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            multiplier: 2.0,
            jitter: 0.5,
        },
    }
}

/// A builder pointed at the mock server with a static token, recording sleeper and no jitter.
pub fn builder(server: &MockServer, sleeper: &RecordingSleeper) -> ClientBuilder {
    Client::builder()
        .instance_url(server.base_url())
        .allow_insecure_loopback(true)
        .access_token(TOKEN)
        .retry(retry_config())
        .sleeper(Arc::new(sleeper.clone()))
        .jitter(Arc::new(FixedJitter(0.0)))
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

/// The JSON content type Salesforce sends.
pub const JSON: &str = "application/json;charset=UTF-8";
