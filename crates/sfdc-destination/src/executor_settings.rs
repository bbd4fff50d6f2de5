//! The `[executor]` settings table: how a batch's planned API calls are run.
//!
//! ```toml
//! [executor]
//! max_in_flight = 8     # REST and Bulk API calls in flight at once per Destination (default 8)
//! composite = true      # pack lookups and Collections writes into Composite calls (default true)
//! pack_writes = true    # pack writes too (default true); false: writes as plain Collections calls
//! preflight = true      # check each record against describe before sending (default true)
//! bisect_calls = 16     # extra calls a request rejected as a whole may spend being split (default 16)
//! ```

use serde::Deserialize;

/// Default for [`ExecutorSettings::max_in_flight`]: 8, well inside Salesforce's limit of 25
/// long-running (20 s+) requests per org and leaving room for other integrations.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;

/// Default for [`ExecutorSettings::bisect_calls`].
pub const DEFAULT_BISECT_CALLS: usize = 16;

/// The `[executor]` table of [`crate::Settings`]; also set with
/// [`crate::DestinationBuilder::executor`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ExecutorSettings {
    /// Most API calls (queries, Collections, Composite, describe, and Bulk API job calls: create,
    /// upload, close, status poll, result files) one [`crate::Destination`] and its clones have
    /// in flight at once, over all concurrent `send`s. Default [`DEFAULT_MAX_IN_FLIGHT`]; 0 is
    /// read as 1. A Bulk ingest waiting between status polls holds no slot.
    pub max_in_flight: usize,
    /// Pack lookups (up to 5 queries) and Collections writes (up to 5 subrequests of 200
    /// records) into one Composite call each. Default `true`. A Composite that would carry a
    /// single subrequest is sent as the plain call instead.
    pub composite: bool,
    /// With `composite`, also pack writes (default `true`: fewest API calls). Salesforce runs a
    /// Composite's subrequests one after another, so with a high per-record server time plain
    /// Collections calls in parallel can finish sooner at the cost of more API calls; `false`
    /// keeps lookups packed and sends writes as plain Collections calls.
    pub pack_writes: bool,
    /// Check each record against the object's describe before sending (value types of numbers,
    /// booleans, dates and datetimes, text lengths): a record Salesforce would reject fails
    /// alone with `INVALID_EVENT` and is not sent. Default `true` (costs one describe per
    /// object per destination lifetime).
    pub preflight: bool,
    /// Extra API calls one write request rejected as a whole (`JSON_PARSER_ERROR` or HTTP 413)
    /// may spend being split in halves so its good records land. Default
    /// [`DEFAULT_BISECT_CALLS`] (enough to isolate one bad record among 200); 0 disables.
    pub bisect_calls: usize,
}

impl Default for ExecutorSettings {
    fn default() -> Self {
        ExecutorSettings {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            composite: true,
            pack_writes: true,
            preflight: true,
            bisect_calls: DEFAULT_BISECT_CALLS,
        }
    }
}

impl ExecutorSettings {
    /// [`ExecutorSettings::max_in_flight`], at least 1.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight.max(1)
    }

    /// Sets [`ExecutorSettings::max_in_flight`].
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Sets [`ExecutorSettings::composite`].
    pub fn with_composite(mut self, on: bool) -> Self {
        self.composite = on;
        self
    }

    /// Sets [`ExecutorSettings::pack_writes`].
    pub fn with_pack_writes(mut self, on: bool) -> Self {
        self.pack_writes = on;
        self
    }

    /// Sets [`ExecutorSettings::preflight`].
    pub fn with_preflight(mut self, on: bool) -> Self {
        self.preflight = on;
        self
    }

    /// Sets [`ExecutorSettings::bisect_calls`].
    pub fn with_bisect_calls(mut self, n: usize) -> Self {
        self.bisect_calls = n;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_toml() {
        let d = ExecutorSettings::default();
        assert_eq!(
            (d.max_in_flight, d.composite, d.pack_writes),
            (8, true, true)
        );
        let s: ExecutorSettings = toml::from_str("max_in_flight = 3\ncomposite = false").unwrap();
        assert_eq!(
            (s.max_in_flight, s.composite, s.preflight),
            (3, false, true)
        );
        assert!(toml::from_str::<ExecutorSettings>("nope = 1").is_err());
        assert_eq!(
            ExecutorSettings::default()
                .with_max_in_flight(0)
                .in_flight(),
            1
        );
    }
}
