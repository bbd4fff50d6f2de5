//! The token cache shared by the refreshable flows: single-flight fetches and refreshes.
//!
//! The cached token sits behind a `tokio::sync::Mutex` that is held *while* a token is fetched.
//! Callers that arrive during a fetch queue on the lock and, once it is released, find the new token
//! and return it without a request. A refresh whose rejected token is no longer the cached one is a
//! no-op. A failed fetch leaves the cache unchanged and is reported only to the caller that made it;
//! the next queued caller tries again (errors are not `Clone`, so they are not shared).

use std::fmt;
use std::future::Future;

use tokio::sync::Mutex;

use super::AccessToken;
use crate::Result;

/// The current token of a source.
pub(crate) struct TokenCache {
    slot: Mutex<Option<AccessToken>>,
}

impl TokenCache {
    /// Creates a cache, optionally seeded with a token obtained elsewhere.
    pub(crate) fn new(initial: Option<AccessToken>) -> Self {
        Self {
            slot: Mutex::new(initial),
        }
    }

    /// Returns the cached token, or runs `fetch` (once, for all concurrent callers) and caches it.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        let token = fetch().await?;
        *slot = Some(token.clone());
        Ok(token)
    }

    /// Returns the cached token if it differs from `rejected`; otherwise runs `fetch` and caches the
    /// result. Concurrent refreshes of the same rejected token run `fetch` once.
    pub(crate) async fn refresh<F, Fut>(
        &self,
        rejected: &AccessToken,
        fetch: F,
    ) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<AccessToken>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(current) = slot.as_ref()
            && !current.same_secret(rejected)
        {
            tracing::debug!("token already refreshed by a concurrent caller");
            return Ok(current.clone());
        }
        let token = fetch().await?;
        *slot = Some(token.clone());
        Ok(token)
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.slot.try_lock() {
            Ok(slot) if slot.is_some() => "cached",
            Ok(_) => "empty",
            Err(_) => "busy",
        };
        f.debug_struct("TokenCache").field("state", &state).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::Error;

    async fn fetch(counter: &AtomicUsize) -> Result<AccessToken> {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        // Let the other callers queue up while this fetch is "in flight".
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        Ok(AccessToken::new(format!("token-{n}")))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_refreshes_fetch_once() {
        let cache = Arc::new(TokenCache::new(Some(AccessToken::new("token-0"))));
        let counter = Arc::new(AtomicUsize::new(0));
        let rejected = AccessToken::new("token-0");
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (cache, counter, rejected) = (cache.clone(), counter.clone(), rejected.clone());
                tokio::spawn(async move { cache.refresh(&rejected, || fetch(&counter)).await })
            })
            .collect();
        for task in tasks {
            let token = task.await.unwrap().unwrap();
            assert!(token.same_secret(&AccessToken::new("token-1")));
        }
        assert_eq!(counter.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn get_fetches_once_then_caches() {
        let cache = TokenCache::new(None);
        let counter = AtomicUsize::new(0);
        let a = cache.get(|| fetch(&counter)).await.unwrap();
        let b = cache.get(|| fetch(&counter)).await.unwrap();
        assert!(a.same_secret(&b));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        // Refreshing a token that is not the cached one is a no-op.
        let c = cache
            .refresh(&AccessToken::new("stale"), || fetch(&counter))
            .await
            .unwrap();
        assert!(c.same_secret(&a));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        // Refreshing the cached one fetches.
        let d = cache.refresh(&a, || fetch(&counter)).await.unwrap();
        assert!(!d.same_secret(&a));
        assert_eq!(counter.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failed_fetch_keeps_cache_and_next_caller_retries() {
        let cache = TokenCache::new(Some(AccessToken::new("old")));
        let old = AccessToken::new("old");
        let err = cache
            .refresh(&old, || async { Err(Error::config("boom")) })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config { .. }));
        assert!(
            cache
                .get(|| async { Err(Error::config("unused")) })
                .await
                .unwrap()
                .same_secret(&old)
        );
        let counter = AtomicUsize::new(0);
        let new = cache.refresh(&old, || fetch(&counter)).await.unwrap();
        assert!(new.same_secret(&AccessToken::new("token-1")));
        assert!(format!("{cache:?}").contains("cached"));
    }
}
