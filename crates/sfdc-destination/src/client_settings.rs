//! The `[client]` settings table: the REST client's knobs. Every key is optional; an unset key
//! keeps the `sfdc-rest` default.
//!
//! ```toml
//! [client]
//! api_budget = 0.8                 # stop at 80% of the daily API allocation (default: no stop)
//! max_attempts = 4                 # attempts per request, the first included (default 4)
//! max_elapsed_ms = 120000          # time one request may spend on retries (default 2 min)
//! connect_timeout_ms = 10000       # TCP + TLS connect (default 10 s)
//! read_idle_timeout_ms = 120000    # no byte received for this long ends a call (default 120 s)
//! user_agent = "acme-sync/1.2"     # default sfdc-rest/<version>
//! duplicate_rule_allow_save = true # Sforce-Duplicate-Rule-Header: allowSave=true (default: not sent)
//! auto_assign = false              # Sforce-Auto-Assign: true, false or an assignment rule id
//! ```

use std::time::Duration;

use serde::Deserialize;
use sfdc_rest::{AutoAssign, ClientBuilder, RetryConfig, SalesforceHeaders};

/// The `[client]` table of [`crate::Settings`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientSettings {
    /// Share of the org's daily API allocation at which the client stops calling, in
    /// `0.0..=1.0` (default: none; Salesforce's own limit applies).
    pub api_budget: Option<f64>,
    /// Attempts per request, the first one included; 1 disables retries (default 4).
    pub max_attempts: Option<u32>,
    /// Time one request may spend, retries included, in ms (default 120,000).
    pub max_elapsed_ms: Option<u64>,
    /// Connect timeout in ms (default 10,000).
    pub connect_timeout_ms: Option<u64>,
    /// Read-idle timeout in ms (default 120,000).
    pub read_idle_timeout_ms: Option<u64>,
    /// The `User-Agent` header (default `sfdc-rest/<version>`).
    pub user_agent: Option<String>,
    /// Sends `Sforce-Duplicate-Rule-Header: allowSave=<value>` (default: not sent).
    pub duplicate_rule_allow_save: Option<bool>,
    /// Sends `Sforce-Auto-Assign`: `true`, `false`, or an assignment rule id (default: not sent,
    /// which Salesforce treats as `true`).
    pub auto_assign: Option<AutoAssignSetting>,
}

/// The value of `auto_assign`: a boolean or an assignment rule id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum AutoAssignSetting {
    /// `true`: run the active assignment rule; `false`: run none.
    Enabled(bool),
    /// Run this assignment rule (its id).
    Rule(String),
}

impl ClientSettings {
    /// Applies the set keys to a client builder.
    pub(crate) fn apply(&self, mut builder: ClientBuilder) -> ClientBuilder {
        if let Some(share) = self.api_budget {
            builder = builder.api_budget(share);
        }
        if self.max_attempts.is_some() || self.max_elapsed_ms.is_some() {
            let mut retry = RetryConfig::default();
            if let Some(n) = self.max_attempts {
                retry.max_attempts = n.max(1);
            }
            if let Some(ms) = self.max_elapsed_ms {
                retry.max_elapsed = Some(Duration::from_millis(ms));
            }
            builder = builder.retry(retry);
        }
        if let Some(ms) = self.connect_timeout_ms {
            builder = builder.connect_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = self.read_idle_timeout_ms {
            builder = builder.read_timeout(Duration::from_millis(ms));
        }
        if let Some(agent) = &self.user_agent {
            builder = builder.user_agent(agent.clone());
        }
        builder.salesforce_headers(self.salesforce_headers())
    }

    /// The Salesforce headers these settings ask for.
    pub(crate) fn salesforce_headers(&self) -> SalesforceHeaders {
        let mut headers = SalesforceHeaders::new();
        if let Some(allow) = self.duplicate_rule_allow_save {
            headers = headers.duplicate_rule_allow_save(allow);
        }
        if let Some(assign) = &self.auto_assign {
            headers = headers.auto_assign(match assign {
                AutoAssignSetting::Enabled(true) => AutoAssign::Active,
                AutoAssignSetting::Enabled(false) => AutoAssign::Off,
                AutoAssignSetting::Rule(id) => AutoAssign::Rule(id.clone()),
            });
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_map_to_headers() {
        let s: ClientSettings = toml::from_str(
            "api_budget = 0.5\nmax_attempts = 2\nduplicate_rule_allow_save = true\nauto_assign = \"01Q5e000000abcdEAA\"\n",
        )
        .unwrap_or_default();
        assert_eq!(s.api_budget, Some(0.5));
        assert_eq!(s.max_attempts, Some(2));
        let headers = s.salesforce_headers().to_header_map().unwrap_or_default();
        assert_eq!(headers["sforce-duplicate-rule-header"], "allowSave=true");
        assert_eq!(headers["sforce-auto-assign"], "01Q5e000000abcdEAA");
        let off: ClientSettings = toml::from_str("auto_assign = false").unwrap_or_default();
        let headers = off.salesforce_headers().to_header_map().unwrap_or_default();
        assert_eq!(headers["sforce-auto-assign"], "FALSE");
        assert!(toml::from_str::<ClientSettings>("api_budgett = 1").is_err());
    }
}
