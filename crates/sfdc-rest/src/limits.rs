//! API usage: the `Sforce-Limit-Info` header, the API call counter, the budget guard and `/limits`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the response header carrying API usage.
pub const LIMIT_INFO_HEADER: &str = "sforce-limit-info";

/// Org-wide API usage in the rolling 24-hour window, from `api-usage=USED/MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiUsage {
    /// Calls used.
    pub used: u64,
    /// Daily allocation.
    pub max: u64,
}

/// Per-connected-app usage, from `per-app-api-usage=USED/MAX(appName=NAME)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PerAppApiUsage {
    /// Calls used by the app.
    pub used: u64,
    /// The app's allocation.
    pub max: u64,
    /// The connected app's name.
    pub app_name: String,
}

/// The parsed `Sforce-Limit-Info` header.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LimitInfo {
    /// The org-wide usage, when present.
    pub api_usage: Option<ApiUsage>,
    /// The per-app usage, when present.
    pub per_app: Option<PerAppApiUsage>,
}

impl LimitInfo {
    /// Parses a header value such as `api-usage=18/5000; per-app-api-usage=17/250(appName=app)`.
    ///
    /// Never panics; unknown or malformed parts are skipped.
    pub fn parse(value: &str) -> Self {
        let mut info = Self::default();
        for part in value.split([';', ',']) {
            let Some((key, rest)) = part.trim().split_once('=') else {
                continue;
            };
            match key.trim() {
                "api-usage" => {
                    info.api_usage = parse_pair(rest).map(|(used, max)| ApiUsage { used, max })
                }
                "per-app-api-usage" => {
                    let (pair, app) = match rest.split_once('(') {
                        Some((pair, tail)) => (pair, parse_app_name(tail)),
                        None => (rest, None),
                    };
                    info.per_app = parse_pair(pair).map(|(used, max)| PerAppApiUsage {
                        used,
                        max,
                        app_name: app.unwrap_or_default(),
                    });
                }
                _ => {}
            }
        }
        info
    }
}

impl std::fmt::Display for LimitInfo {
    /// Formats in the header's wire form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sep = "";
        if let Some(u) = self.api_usage {
            write!(f, "api-usage={}/{}", u.used, u.max)?;
            sep = "; ";
        }
        if let Some(p) = &self.per_app {
            write!(
                f,
                "{sep}per-app-api-usage={}/{}(appName={})",
                p.used, p.max, p.app_name
            )?;
        }
        Ok(())
    }
}

fn parse_pair(s: &str) -> Option<(u64, u64)> {
    let (used, max) = s.trim().split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

fn parse_app_name(tail: &str) -> Option<String> {
    let inner = tail.strip_suffix(')').unwrap_or(tail);
    inner
        .trim()
        .strip_prefix("appName=")
        .map(|name| name.to_owned())
}

/// Refuses new calls once a share of the daily allocation is used.
///
/// The guard only knows what the last `Sforce-Limit-Info` header said; before the first response it
/// lets calls through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiBudget {
    /// Share of the daily allocation this client may use up to, in `0.0..=1.0` (e.g. 0.8).
    pub max_share: f64,
}

impl ApiBudget {
    /// Returns the number of used calls at which calls are refused for an allocation of `max`.
    pub fn limit_for(&self, max: u64) -> u64 {
        let share = if self.max_share.is_finite() {
            self.max_share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        // Precision loss is irrelevant for realistic allocations (< 2^52 calls).
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let limit = (max as f64 * share).floor() as u64;
        limit
    }
}

/// Shared per-client API accounting.
#[derive(Debug, Default)]
pub(crate) struct UsageTracker {
    calls: AtomicU64,
    last: Mutex<Option<ApiUsage>>,
    last_per_app: Mutex<Option<PerAppApiUsage>>,
    budget: Option<ApiBudget>,
}

impl UsageTracker {
    pub(crate) fn new(budget: Option<ApiBudget>) -> Self {
        Self {
            budget,
            ..Self::default()
        }
    }

    pub(crate) fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn record(&self, header: &str) {
        let info = LimitInfo::parse(header);
        if let Some(usage) = info.api_usage
            && let Ok(mut last) = self.last.lock()
        {
            *last = Some(usage);
        }
        if let Some(per_app) = info.per_app
            && let Ok(mut last) = self.last_per_app.lock()
        {
            *last = Some(per_app);
        }
    }

    pub(crate) fn last_per_app(&self) -> Option<PerAppApiUsage> {
        self.last_per_app.lock().ok().and_then(|g| g.clone())
    }

    pub(crate) fn last(&self) -> Option<ApiUsage> {
        self.last.lock().ok().and_then(|g| *g)
    }

    /// Fails with [`Error::BudgetExceeded`] when the budget forbids another call.
    pub(crate) fn check_budget(&self) -> Result<()> {
        let (Some(budget), Some(usage)) = (self.budget, self.last()) else {
            return Ok(());
        };
        let limit = budget.limit_for(usage.max);
        if usage.used >= limit {
            return Err(Error::BudgetExceeded {
                used: usage.used,
                max: usage.max,
                limit,
            });
        }
        Ok(())
    }
}

/// The `/limits` resource: limit name (e.g. `DailyApiRequests`) to its values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Limits(pub BTreeMap<String, Limit>);

impl Limits {
    /// Returns the named limit, e.g. `"DailyApiRequests"`.
    pub fn get(&self, name: &str) -> Option<&Limit> {
        self.0.get(name)
    }

    /// Returns `DailyApiRequests`, the daily API allocation.
    pub fn daily_api_requests(&self) -> Option<&Limit> {
        self.get("DailyApiRequests")
    }
}

/// One entry of `/limits`: `{"Max":N,"Remaining":N, ...per-app entries}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Limit {
    /// The allocation.
    #[serde(rename = "Max")]
    pub max: i64,
    /// What is left of it.
    #[serde(rename = "Remaining")]
    pub remaining: i64,
    /// Other keys, e.g. per-app sub-limits, as received.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl crate::client::Client {
    /// Returns the org's limits (`GET limits`), e.g. `DailyApiRequests`.
    ///
    /// # Errors
    ///
    /// The errors of [`crate::RequestBuilder::send`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn limits(&self) -> Result<Limits> {
        self.request(http::Method::GET, "limits")
            .path_template("limits")
            .send()
            .await?
            .json()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_examples() {
        let i = LimitInfo::parse("api-usage=25/15000");
        assert_eq!(
            i.api_usage,
            Some(ApiUsage {
                used: 25,
                max: 15000
            })
        );
        assert_eq!(i.per_app, None);
        let i = LimitInfo::parse(
            "api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
        );
        assert_eq!(
            i.api_usage,
            Some(ApiUsage {
                used: 18,
                max: 5000
            })
        );
        assert_eq!(
            i.per_app,
            Some(PerAppApiUsage {
                used: 17,
                max: 250,
                app_name: "sample-connected-app".into()
            })
        );
        assert_eq!(LimitInfo::parse("garbage"), LimitInfo::default());
        assert_eq!(LimitInfo::parse("api-usage=x/1"), LimitInfo::default());
    }

    #[test]
    fn budget_guard() {
        let t = UsageTracker::new(Some(ApiBudget { max_share: 0.8 }));
        assert!(t.check_budget().is_ok(), "unknown usage lets calls through");
        t.record("api-usage=799/1000");
        assert!(t.check_budget().is_ok());
        t.record("api-usage=800/1000");
        let err = t.check_budget().unwrap_err();
        assert!(err.is_throttled());
        assert!(matches!(
            err,
            Error::BudgetExceeded {
                used: 800,
                max: 1000,
                limit: 800
            }
        ));
    }

    #[test]
    fn limits_body_parses() {
        let body = r#"{"DailyApiRequests":{"Max":15000,"Remaining":14998,"Ant Migration Tool":{"Max":0,"Remaining":0}},"DataStorageMB":{"Max":5,"Remaining":5}}"#;
        let l: Limits = serde_json::from_str(body).unwrap();
        let d = l.daily_api_requests().unwrap();
        assert_eq!((d.max, d.remaining), (15000, 14998));
        assert!(d.other.contains_key("Ant Migration Tool"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = LimitInfo::parse(&s);
        }

        #[test]
        fn round_trips(used in any::<u64>(), max in any::<u64>(),
                       app in proptest::option::of((any::<u64>(), any::<u64>(), "[A-Za-z0-9 _-]{1,30}"))) {
            let info = LimitInfo {
                api_usage: Some(ApiUsage { used, max }),
                per_app: app.map(|(used, max, app_name)| PerAppApiUsage {
                    used, max, app_name: app_name.trim().to_owned(),
                }).filter(|p| !p.app_name.is_empty()),
            };
            prop_assert_eq!(LimitInfo::parse(&info.to_string()), info);
        }
    }
}
