//! Polling settings for waiting on a job.

use std::time::Duration;

use sfdc_rest::BackoffConfig;

/// How [`BulkClient::wait_for_job`](crate::BulkClient::wait_for_job) polls job state.
///
/// Delays between polls grow per `backoff`; polling gives up with
/// [`Error::PollTimeout`](crate::Error::PollTimeout) once `timeout` has passed. Time is the larger
/// of the wall clock since the first poll and the sum of requested sleeps, so a test with a
/// non-sleeping [`Sleeper`](sfdc_rest::backoff::Sleeper) still reaches the timeout deterministically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollConfig {
    /// Delays between polls. Default: 1 s growing ×1.5 up to 15 s, 20% jitter.
    pub backoff: BackoffConfig,
    /// Overall wait limit. Default: 30 minutes.
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig {
                initial_delay: Duration::from_secs(1),
                max_delay: Duration::from_secs(15),
                multiplier: 1.5,
                jitter: 0.2,
            },
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl PollConfig {
    /// Polls every `interval` (no growth, no jitter) for at most `timeout`; handy in tests.
    pub fn fixed(interval: Duration, timeout: Duration) -> Self {
        Self {
            backoff: BackoffConfig {
                initial_delay: interval,
                max_delay: interval,
                multiplier: 1.0,
                jitter: 0.0,
            },
            timeout,
        }
    }
}
