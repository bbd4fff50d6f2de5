//! Exponential backoff with injectable jitter and sleep.
//!
//! [`BackoffConfig`] is plain data; [`Backoff`] is the stateful iterator of delays built from it
//! (an `Iterator<Item = Duration>`), which `sfdc-bulk`'s job polling and callers can use with the
//! same settings the client uses.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Exponential backoff settings.
///
/// The delay before retry `n` (1-based) is `initial_delay * multiplier^(n-1)`, capped at `max_delay`,
/// then reduced by up to `jitter` (a fraction in `0.0..=1.0`) times itself using a random sample:
/// `delay * (1 - jitter * sample)`. A delay is therefore never above `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// Delay before the first retry. Default: 500 ms.
    pub initial_delay: Duration,
    /// Upper bound of any delay. Default: 30 s.
    pub max_delay: Duration,
    /// Growth factor between consecutive delays. Default: 2.0. Values below 1.0 are treated as 1.0.
    pub multiplier: f64,
    /// Share of the delay that is randomised (0.0 = none, 1.0 = "full jitter"). Default: 0.5.
    pub jitter: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

impl BackoffConfig {
    /// Returns the delay before retry number `retry` (1-based) for a jitter `sample` in `0.0..=1.0`.
    ///
    /// Pure: the same inputs always give the same delay, and the result never exceeds `max_delay`.
    /// Out-of-range samples and non-finite settings are clamped.
    pub fn delay(&self, retry: u32, sample: f64) -> Duration {
        let max = self.max_delay.as_secs_f64();
        let multiplier = if self.multiplier.is_finite() {
            self.multiplier.max(1.0)
        } else {
            1.0
        };
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let base = (self.initial_delay.as_secs_f64() * multiplier.powi(exponent)).min(max);
        let jitter = clamp_unit(self.jitter);
        let sample = clamp_unit(sample);
        let secs = (base * (1.0 - jitter * sample)).clamp(0.0, max);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Builds a [`Backoff`] iterator that yields at most `max_retries` delays, using random jitter.
    pub fn backoff(&self, max_retries: Option<u32>) -> Backoff {
        Backoff::new(*self, max_retries, Arc::new(RandomJitter))
    }
}

fn clamp_unit(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A stateful sequence of backoff delays (an `Iterator<Item = Duration>`).
///
/// Yields `None` once `max_retries` delays were produced (never, when unbounded).
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    max_retries: Option<u32>,
    retry: u32,
    jitter: Arc<dyn Jitter>,
}

impl Backoff {
    /// Creates a backoff from its settings, an optional bound on the number of delays, and a jitter
    /// source (use [`FixedJitter`] in tests).
    pub fn new(config: BackoffConfig, max_retries: Option<u32>, jitter: Arc<dyn Jitter>) -> Self {
        Self {
            config,
            max_retries,
            retry: 0,
            jitter,
        }
    }

    /// Returns how many delays this backoff has produced so far.
    pub fn retries(&self) -> u32 {
        self.retry
    }
}

impl Iterator for Backoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.max_retries.is_some_and(|max| self.retry >= max) {
            return None;
        }
        self.retry = self.retry.saturating_add(1);
        Some(self.config.delay(self.retry, self.jitter.sample()))
    }
}

/// A source of jitter samples in `0.0..=1.0`.
pub trait Jitter: Send + Sync + fmt::Debug {
    /// Returns a sample in `0.0..=1.0`.
    fn sample(&self) -> f64;
}

/// Jitter from the thread-local random generator (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn sample(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// A constant jitter sample, for deterministic tests (0.0 = the full delay, 1.0 = the smallest).
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn sample(&self) -> f64 {
        self.0
    }
}

/// A boxed future returned by a [`Sleeper`].
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Waits between retries; inject a recording sleeper in tests so they never really sleep.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Returns a future that completes after `delay`.
    fn sleep(&self, delay: Duration) -> SleepFuture;
}

/// Sleeps with `tokio::time::sleep` (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BackoffConfig {
        BackoffConfig {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.5,
        }
    }

    #[test]
    fn grows_exponentially_and_caps() {
        let c = cfg();
        assert_eq!(c.delay(1, 0.0), Duration::from_millis(100));
        assert_eq!(c.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(c.delay(4, 0.0), Duration::from_millis(800));
        assert_eq!(c.delay(5, 0.0), Duration::from_secs(1));
        assert_eq!(c.delay(u32::MAX, 0.0), Duration::from_secs(1));
    }

    #[test]
    fn jitter_pins_min_mid_max() {
        let c = cfg();
        assert_eq!(c.delay(2, 1.0), Duration::from_millis(100));
        assert_eq!(c.delay(2, 0.5), Duration::from_millis(150));
        assert_eq!(c.delay(2, 0.0), Duration::from_millis(200));
        // out-of-range samples are clamped
        assert_eq!(c.delay(2, 7.0), Duration::from_millis(100));
        assert_eq!(c.delay(2, f64::NAN), Duration::from_millis(200));
    }

    #[test]
    fn iterator_is_bounded() {
        let b = Backoff::new(cfg(), Some(3), Arc::new(FixedJitter(0.0)));
        let delays: Vec<_> = b.collect();
        assert_eq!(
            delays,
            vec![
                Duration::from_millis(100),
                Duration::from_millis(200),
                Duration::from_millis(400)
            ]
        );
    }
}
