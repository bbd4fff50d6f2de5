//! In-process keyed ordering across concurrent `send` calls on one destination (and its
//! clones): a send holds the locks of all its record keys while it runs, and takes the lock
//! of each record id a lookup resolves before it writes that record.
//!
//! The keys known before any I/O are taken first, in sorted order. A record id known only
//! after a lookup is taken later, out of that order, so two sends could each hold a record
//! the other needs: every wait is checked against the table of who waits for whom, and a wait
//! that would close a cycle is refused ([`Busy`]) instead of deadlocking. A send refused
//! while taking its first keys (it has written nothing yet) lets go of everything and waits
//! for the contested key alone; a write refused later fails retryably (`RECORD_BUSY`) and is
//! not sent. Locks are released when the send finishes or its future is dropped. Sends with
//! disjoint keys run concurrently. Across processes nothing is shared: a pipeline running
//! several processes must partition events by record key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// One send's identity in the lock table.
type SendId = u64;

#[derive(Debug, Default)]
struct Table {
    /// Who holds each key (entries exist only while held).
    holders: HashMap<String, SendId>,
    /// The key each waiting send waits for.
    waiting: HashMap<SendId, String>,
    next: SendId,
}

impl Table {
    /// `true` when `holder` (directly or through the sends it waits for) waits for `me`.
    fn waits_for(&self, mut holder: SendId, me: SendId) -> bool {
        for _ in 0..=self.waiting.len() {
            if holder == me {
                return true;
            }
            match self
                .waiting
                .get(&holder)
                .and_then(|key| self.holders.get(key))
            {
                Some(next) => holder = *next,
                None => return false,
            }
        }
        false
    }
}

#[derive(Debug, Default)]
struct Shared {
    table: Mutex<Table>,
    /// Woken whenever a send releases keys.
    released: Notify,
}

/// The lock table, shared by a destination's clones.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyLocks {
    shared: Arc<Shared>,
}

/// Taking the key would deadlock: its holder waits (directly or not) for a key this send holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy;

/// The locks one send holds; dropping it releases them.
#[derive(Debug)]
pub(crate) struct Held {
    shared: Arc<Shared>,
    me: SendId,
    keys: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyLocks {
    /// Waits for every key (deduplicated, in sorted order) and returns the held locks.
    pub(crate) async fn acquire(&self, mut keys: Vec<String>) -> Held {
        keys.sort();
        keys.dedup();
        let me = {
            let mut table = lock(&self.shared.table);
            table.next += 1;
            table.next
        };
        let held = Held {
            shared: Arc::clone(&self.shared),
            me,
            keys: Mutex::new(Vec::with_capacity(keys.len())),
        };
        // A key refused (another send holds it and waits for one of ours) is taken first
        // next time, holding nothing, so that send goes on.
        let mut first: Option<String> = None;
        'again: loop {
            let order: Vec<&str> = first
                .iter()
                .chain(keys.iter().filter(|k| Some(*k) != first.as_ref()))
                .map(String::as_str)
                .collect();
            let free = held.take_free_prefix(&order);
            for &key in &order[free..] {
                if held.take(key).await.is_err() {
                    held.release();
                    first = Some(key.to_owned());
                    continue 'again;
                }
            }
            return held;
        }
    }

    /// Keys held by some send; for tests.
    #[cfg(test)]
    fn entries(&self) -> usize {
        lock(&self.shared.table).holders.len()
    }
}

/// Removes a send's wait entry when its wait ends (taken, refused or dropped).
struct Waiting<'a> {
    shared: &'a Shared,
    me: SendId,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        lock(&self.shared.table).waiting.remove(&self.me);
    }
}

impl Held {
    /// Takes `key` for this send (at once when already held), waiting while another send
    /// holds it; `Ok(true)` when it had to wait (what the other send did to the record came
    /// first), [`Busy`] when waiting would deadlock.
    pub(crate) async fn take(&self, key: &str) -> Result<bool, Busy> {
        let _waiting = Waiting {
            shared: &self.shared,
            me: self.me,
        };
        let mut waited = false;
        loop {
            let released = self.shared.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            {
                let mut table = lock(&self.shared.table);
                match table.holders.get(key).copied() {
                    None => {
                        table.holders.insert(key.to_owned(), self.me);
                        table.waiting.remove(&self.me);
                        lock(&self.keys).push(key.to_owned());
                        return Ok(waited);
                    }
                    Some(holder) if holder == self.me => return Ok(waited),
                    Some(holder) if table.waits_for(holder, self.me) => return Err(Busy),
                    Some(_) => {
                        table.waiting.insert(self.me, key.to_owned());
                    }
                }
            }
            released.await;
            waited = true;
        }
    }

    /// Takes `keys` in order, under one look at the table, up to the first one another send
    /// holds (what [`Held::take`] does for each without waiting); returns how many it took
    /// (or held already).
    fn take_free_prefix(&self, keys: &[&str]) -> usize {
        let mut table = lock(&self.shared.table);
        let mut mine = lock(&self.keys);
        for (at, key) in keys.iter().enumerate() {
            match table.holders.get(*key) {
                None => {
                    table.holders.insert((*key).to_owned(), self.me);
                    mine.push((*key).to_owned());
                }
                Some(holder) if *holder == self.me => {}
                Some(_) => return at,
            }
        }
        keys.len()
    }

    /// Takes each of `keys` like [`Held::take`], one answer per key in order: the free ones
    /// (and those already held) at once under one look at the table, then the contested
    /// ones one by one.
    pub(crate) async fn take_all(&self, keys: &[&str]) -> Vec<Result<bool, Busy>> {
        let mut answers: Vec<Option<Result<bool, Busy>>> = vec![None; keys.len()];
        {
            let mut table = lock(&self.shared.table);
            let mut mine = lock(&self.keys);
            for (key, answer) in keys.iter().zip(answers.iter_mut()) {
                match table.holders.get(*key) {
                    None => {
                        table.holders.insert((*key).to_owned(), self.me);
                        mine.push((*key).to_owned());
                        *answer = Some(Ok(false));
                    }
                    Some(holder) if *holder == self.me => *answer = Some(Ok(false)),
                    Some(_) => {}
                }
            }
        }
        let mut out = Vec::with_capacity(keys.len());
        for (key, answer) in keys.iter().zip(answers) {
            out.push(match answer {
                Some(a) => a,
                None => self.take(key).await,
            });
        }
        out
    }

    /// Releases every key this send holds.
    fn release(&self) {
        let keys = std::mem::take(&mut *lock(&self.keys));
        if keys.is_empty() {
            return;
        }
        {
            let mut table = lock(&self.shared.table);
            for key in keys {
                if table.holders.get(&key) == Some(&self.me) {
                    table.holders.remove(&key);
                }
            }
        }
        self.shared.released.notify_waiters();
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release();
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
        assert_eq!(lock(&a.keys).len(), 2);
        let other = locks.clone();
        let mut waiting =
            tokio::spawn(async move { other.acquire(vec!["c".into(), "b".into()]).await });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut waiting).is_pending());
        let disjoint = locks.acquire(vec!["z".into()]).await;
        drop(disjoint);
        drop(a);
        let b = waiting.await.unwrap();
        assert_eq!(lock(&b.keys).len(), 2);
        drop(b);
        assert_eq!(locks.entries(), 0);
    }

    #[tokio::test]
    async fn take_all_takes_free_keys_at_once_and_waits_for_the_others() {
        let locks = KeyLocks::default();
        let a = locks.acquire(vec!["x".into()]).await;
        let b = Arc::new(locks.acquire(vec!["y".into()]).await);
        let b2 = Arc::clone(&b);
        let mut taking = tokio::spawn(async move { b2.take_all(&["w", "x", "y", "z"]).await });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut taking).is_pending());
        // w and z are taken already, x waits for A.
        assert_eq!(locks.entries(), 4);
        drop(a);
        assert_eq!(
            taking.await.unwrap(),
            [Ok(false), Ok(true), Ok(false), Ok(false)]
        );
        drop(b);
        assert_eq!(locks.entries(), 0);
    }

    #[tokio::test]
    async fn a_wait_that_would_close_a_cycle_is_refused() {
        let locks = KeyLocks::default();
        let a = Arc::new(locks.acquire(vec!["x".into()]).await);
        let b = Arc::new(locks.acquire(vec!["y".into()]).await);
        // A waits for y (held by B) ...
        let a2 = Arc::clone(&a);
        let mut a_waits = tokio::spawn(async move { a2.take("y").await });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut a_waits).is_pending());
        // ... so B waiting for x (held by A) would deadlock: refused at once.
        assert_eq!(b.take("x").await, Err(Busy));
        // B ends: A gets y.
        drop(b);
        assert_eq!(a_waits.await.unwrap(), Ok(true));
        assert_eq!(a.take("x").await, Ok(false));
        drop(a);
        assert_eq!(locks.entries(), 0);
    }

    #[tokio::test]
    async fn a_send_refused_while_taking_its_first_keys_lets_go_and_waits() {
        let locks = KeyLocks::default();
        let d = locks.acquire(vec!["b".into()]).await;
        let a = Arc::new(locks.acquire(vec!["c".into()]).await);
        // B takes a, then waits for b (held by D).
        let other = locks.clone();
        let mut b = tokio::spawn(async move {
            other
                .acquire(vec!["a".into(), "b".into(), "c".into()])
                .await
        });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut b).is_pending());
        // A waits for a resolved id, a, held by B (no cycle yet: B waits for D).
        let a2 = Arc::clone(&a);
        let mut a_waits = tokio::spawn(async move { a2.take("a").await });
        tokio::task::yield_now().await;
        assert!(futures::poll!(&mut a_waits).is_pending());
        // D ends: B takes b, is refused at c (A holds it and waits for a), lets go of a and
        // b and waits for c alone; A gets a.
        drop(d);
        assert_eq!(a_waits.await.unwrap(), Ok(true));
        assert!(futures::poll!(&mut b).is_pending());
        drop(a);
        let b = b.await.unwrap();
        assert_eq!(lock(&b.keys).len(), 3);
        drop(b);
        assert_eq!(locks.entries(), 0);
    }
}
