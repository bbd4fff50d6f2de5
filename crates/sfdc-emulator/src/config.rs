//! Emulator configuration: plain data with documented defaults.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::schema::SchemaFile;

/// Injected faults. All shares are probabilities in `0.0..=1.0`, drawn from an RNG
/// seeded with [`EmulatorConfig::seed`], so a run is reproducible for a given request order.
///
/// Plain data (`#[non_exhaustive]`): start from `FaultConfig::default()` and set fields.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FaultConfig {
    /// Share of API calls answered `503 SERVER_UNAVAILABLE` (nothing is executed).
    pub server_unavailable: f64,
    /// Share of write calls (POST/PATCH/PUT/DELETE) answered `400 UNABLE_TO_LOCK_ROW`
    /// (nothing is executed).
    pub unable_to_lock_row: f64,
    /// Share of write calls whose connection is dropped AFTER the write committed:
    /// the client gets no response although the change happened.
    pub drop_after_commit: f64,
    /// Every N-th authenticated API call finds its token expired: the token is revoked
    /// and the call gets `401 INVALID_SESSION_ID`. `None` disables it.
    pub expire_token_every: Option<u64>,
    /// A Bulk ingest job of more than N rows commits its first N rows (in upload order) and
    /// then fails as a whole (`Failed`, the rest in `unprocessedrecords`), as a job does
    /// when Salesforce stops it midway. `None` (default) disables it.
    pub bulk_fail_after_rows: Option<u64>,
}

impl FaultConfig {
    /// True when no fault is configured.
    pub fn is_none(&self) -> bool {
        self.server_unavailable <= 0.0
            && self.unable_to_lock_row <= 0.0
            && self.drop_after_commit <= 0.0
            && self.expire_token_every.is_none()
            && self.bulk_fail_after_rows.is_none()
    }
}

/// Emulator settings. `Default` gives a Developer-Edition-like org: 15,000 daily API
/// calls, tokens that never expire, no latency, no faults, plain HTTP on `127.0.0.1:0`.
///
/// Plain data (`#[non_exhaustive]`): start from `EmulatorConfig::default()` and set
/// fields, e.g. `let mut c = EmulatorConfig::default(); c.daily_api_limit = 100;`.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// Listen address (default `127.0.0.1:0`, an OS-chosen port).
    pub addr: SocketAddr,
    /// Daily API request allocation (`DailyApiRequests` Max). Default 15,000.
    pub daily_api_limit: u64,
    /// Lifetime of issued access tokens; `None` (default) = they never expire.
    pub token_ttl: Option<Duration>,
    /// Latency added before every API call (default zero).
    pub latency: Duration,
    /// Server time per written record (default zero): a write of N records answers after
    /// N × this, serially within a request and across a Composite call's subrequests,
    /// while separate requests proceed concurrently (a real org validates and runs triggers
    /// per record). Applies to REST writes, Collections items and Bulk rows.
    pub record_cost: Duration,
    /// Injected faults (default none).
    pub faults: FaultConfig,
    /// RNG seed for faults and tokens (default 0).
    pub seed: u64,
    /// Connected-app consumer key (default `emulator-client-id`).
    pub client_id: String,
    /// Connected-app consumer secret (default `emulator-client-secret`).
    pub client_secret: String,
    /// Username for the password and JWT grants (default `user@emulator.invalid`).
    pub username: String,
    /// Password for the password grant (default `emulator-password`).
    pub password: String,
    /// The initial refresh token (default `emulator-refresh-token`).
    pub refresh_token: String,
    /// Refresh-token rotation: each refresh_token grant returns a new refresh token and
    /// invalidates the one used (default false, like Salesforce without rotation).
    pub rotate_refresh_tokens: bool,
    /// PEM public key (RSA) to verify JWT bearer assertions with. `None` (default):
    /// claims are checked but the signature is not.
    pub jwt_public_key_pem: Option<String>,
    /// How long a Bulk ingest job stays `InProgress` before it is processed (default zero).
    pub bulk_processing_delay: Duration,
    /// Keep Bulk result-file rows in input order. Default false: rows come back in a
    /// seeded shuffled order, since Salesforce guarantees no order and clients must match
    /// results by their content, not their position.
    pub bulk_results_in_input_order: bool,
    /// Serve HTTPS with a self-signed certificate for `127.0.0.1` and `localhost`.
    pub tls: bool,
    /// Custom objects and fields to add at start.
    pub schema: Option<SchemaFile>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            daily_api_limit: 15_000,
            token_ttl: None,
            latency: Duration::ZERO,
            record_cost: Duration::ZERO,
            faults: FaultConfig::default(),
            seed: 0,
            client_id: "emulator-client-id".into(),
            client_secret: "emulator-client-secret".into(),
            username: "user@emulator.invalid".into(),
            password: "emulator-password".into(),
            refresh_token: "emulator-refresh-token".into(),
            rotate_refresh_tokens: false,
            jwt_public_key_pem: None,
            bulk_processing_delay: Duration::ZERO,
            bulk_results_in_input_order: false,
            tls: false,
            schema: None,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("addr", &self.addr)
            .field("daily_api_limit", &self.daily_api_limit)
            .field("token_ttl", &self.token_ttl)
            .field("latency", &self.latency)
            .field("record_cost", &self.record_cost)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("rotate_refresh_tokens", &self.rotate_refresh_tokens)
            .field("jwt_public_key_pem", &self.jwt_public_key_pem.is_some())
            .field("bulk_processing_delay", &self.bulk_processing_delay)
            .field(
                "bulk_results_in_input_order",
                &self.bulk_results_in_input_order,
            )
            .field("tls", &self.tls)
            .field("schema", &self.schema.as_ref().map(|s| s.objects.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = EmulatorConfig {
            client_secret: "s3cr3t-a".into(),
            password: "s3cr3t-b".into(),
            refresh_token: "s3cr3t-c".into(),
            ..EmulatorConfig::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("s3cr3t"), "{s}");
        assert!(s.contains("emulator-client-id"));
    }
}
