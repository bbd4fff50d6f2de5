//! Test helpers shared by the integration tests of `sfdc-rest`, `sfdc-bulk` and
//! `sfdc-destination`: one home instead of a copy per test directory.
//!
//! - [`RecordingSleeper`]: a [`Sleeper`] that records the delays asked for and returns at once.
//! - [`retry_config`], [`loopback_builder`]: a client pointed at a loopback test server with a
//!   static token, round retry delays, no jitter.
//! - [`token_body`]: the JSON body of a successful OAuth token response.
//!
//! Dev-only: never published, never a normal dependency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sfdc_rest::backoff::{SleepFuture, Sleeper};
use sfdc_rest::{BackoffConfig, Client, ClientBuilder, FixedJitter, RetryConfig};

/// The access token the test clients send.
pub const TOKEN: &str = "00Dxx0000001gPL!AQ4AQFAKE.TEST.TOKEN.value";

/// The data path prefix of API 62.0.
pub const DATA: &str = "/services/data/v62.0";

/// The JSON content type Salesforce sends.
pub const JSON: &str = "application/json;charset=UTF-8";

/// A sleeper that records the requested delays and returns at once.
#[derive(Debug, Clone, Default)]
pub struct RecordingSleeper(Arc<Mutex<Vec<Duration>>>);

impl RecordingSleeper {
    /// Returns the delays asked for so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.0.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        if let Ok(mut delays) = self.0.lock() {
            delays.push(delay);
        }
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

/// A client builder for a loopback test server at `base_url`: static [`TOKEN`], [`retry_config`],
/// the given recording sleeper and no jitter.
pub fn loopback_builder(base_url: &str, sleeper: &RecordingSleeper) -> ClientBuilder {
    Client::builder()
        .instance_url(base_url)
        .allow_insecure_loopback(true)
        .access_token(TOKEN)
        .retry(retry_config())
        .sleeper(Arc::new(sleeper.clone()))
        .jitter(Arc::new(FixedJitter(0.0)))
}

/// The body of a successful OAuth token response carrying `access_token` for `instance_url`.
pub fn token_body(access_token: &str, instance_url: &str) -> String {
    serde_json::json!({
        "access_token": access_token,
        "instance_url": instance_url,
        "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
        "signature": "c2ln"
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeper_records_in_order() {
        let s = RecordingSleeper::default();
        drop(s.sleep(Duration::from_millis(5)));
        drop(s.sleep(Duration::from_millis(7)));
        assert_eq!(
            s.delays(),
            [Duration::from_millis(5), Duration::from_millis(7)]
        );
        assert!(token_body("t", "http://127.0.0.1:1").contains("\"access_token\":\"t\""));
    }
}
