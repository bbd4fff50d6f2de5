//! Helpers shared by the integration tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    unreachable_pub,
    unused_imports
)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sfdc_bulk::{BulkClient, PollConfig, Record};
use sfdc_rest::backoff::{SleepFuture, Sleeper};
use sfdc_rest::{FixedJitter, RetryConfig};
use tokio::sync::{Semaphore, mpsc};

/// API path prefix of the default version.
pub const API: &str = "/services/data/v62.0";

pub use sfdc_test_support::RecordingSleeper;

/// A sleeper that reports each sleep and waits until the test releases it, so a test can change
/// the mock between two polls without real sleeping.
#[derive(Debug, Clone)]
pub struct GatedSleeper {
    notify: mpsc::UnboundedSender<Duration>,
    gate: Arc<Semaphore>,
}

impl GatedSleeper {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Duration>, Arc<Semaphore>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(0));
        (
            Self {
                notify: tx,
                gate: Arc::clone(&gate),
            },
            rx,
            gate,
        )
    }
}

impl Sleeper for GatedSleeper {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        let _ = self.notify.send(delay);
        let gate = Arc::clone(&self.gate);
        Box::pin(async move {
            gate.acquire().await.unwrap().forget();
        })
    }
}

/// A REST client for `base_url` with a static token and retries off.
pub fn rest_client(base_url: &str) -> sfdc_rest::Client {
    sfdc_rest::Client::builder()
        .instance_url(base_url)
        .access_token("test-token")
        .allow_insecure_loopback(true)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// A bulk client polling every 10 virtual seconds for at most 100, never really sleeping.
pub fn bulk_client(base_url: &str, sleeper: Arc<dyn Sleeper>) -> BulkClient {
    BulkClient::new(rest_client(base_url))
        .poll_config(PollConfig::fixed(
            Duration::from_secs(10),
            Duration::from_secs(100),
        ))
        .sleeper(sleeper)
        .jitter(Arc::new(FixedJitter(0.0)))
}

/// Turns a JSON array of objects into records.
pub fn records(value: Value) -> Vec<Record> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect()
}
