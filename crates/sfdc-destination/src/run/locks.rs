//! In-process keyed ordering across concurrent `send` calls on one destination (and its
//! clones): a send holds the locks of all its record keys while it runs.
//!
//! Keys are taken in sorted order, so two sends can never wait on each other in a cycle; the
//! guards are released when the send finishes or its future is dropped. Sends with disjoint
//! keys run concurrently. Across processes nothing is shared: a pipeline running several
//! processes must partition events by record key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

type Table = HashMap<String, Arc<AsyncMutex<()>>>;

/// The lock table, shared by a destination's clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyLocks {
    table: Arc<Mutex<Table>>,
}

/// The locks one send holds; dropping it releases them and forgets unused entries.
#[derive(Debug)]
pub(crate) struct Held {
    table: Arc<Mutex<Table>>,
    guards: Vec<(String, OwnedMutexGuard<()>)>,
}

fn lock(m: &Mutex<Table>) -> std::sync::MutexGuard<'_, Table> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl KeyLocks {
    /// Waits for every key (deduplicated, in sorted order) and returns the held guards.
    pub(crate) async fn acquire(&self, mut keys: Vec<String>) -> Held {
        keys.sort();
        keys.dedup();
        let mut held = Held {
            table: Arc::clone(&self.table),
            guards: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            let cell = {
                let mut table = lock(&self.table);
                Arc::clone(table.entry(key.clone()).or_default())
            };
            let guard = cell.lock_owned().await;
            held.guards.push((key, guard));
        }
        held
    }

    /// Keys with a table entry (held or awaited); for tests.
    #[cfg(test)]
    fn entries(&self) -> usize {
        lock(&self.table).len()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let guards = std::mem::take(&mut self.guards);
        let mut table = lock(&self.table);
        for (key, guard) in guards {
            drop(guard);
            // Only the table holds it: nobody waits, forget the entry.
            if table.get(&key).is_some_and(|c| Arc::strong_count(c) == 1) {
                table.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn overlapping_sends_wait_and_entries_are_forgotten() {
        let locks = KeyLocks::default();
        let a = locks
            .acquire(vec!["b".into(), "a".into(), "a".into()])
            .await;
        assert_eq!(a.guards.len(), 2);
        let other = locks.clone();
        let mut waiting =
            tokio::spawn(async move { other.acquire(vec!["c".into(), "b".into()]).await });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut waiting).is_pending());
        let disjoint = locks.acquire(vec!["z".into()]).await;
        drop(disjoint);
        drop(a);
        let b = waiting.await.unwrap();
        assert_eq!(b.guards.len(), 2);
        drop(b);
        assert_eq!(locks.entries(), 0);
    }
}
