//! Event order between the REST path and the Bulk groups of one batch, for the record keys
//! both write (two subscriptions on one record, one of them Bulk).
//!
//! Every REST job and Bulk row of such a **shared key** is registered when the batch starts.
//! A REST job waits while an earlier-event Bulk row of one of its shared keys is unfinished,
//! and a Bulk row waits while an earlier-event REST job of one is: each side sends what is
//! free and waits for the other side to finish something ([`Order::changed`]) only when
//! nothing is. The earliest unfinished job of the batch never waits, so the two sides cannot
//! wait for each other forever. Keys written by only one side cost nothing here.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::execute::{Group, Job};

/// A job's place in event order: (event, subscription slot).
type Place = (usize, usize);

/// Unfinished jobs per shared key, on each side.
#[derive(Debug, Default)]
struct Unfinished {
    rest: HashMap<String, BTreeSet<Place>>,
    bulk: HashMap<String, BTreeSet<Place>>,
}

/// The batch's REST/Bulk ordering of shared keys.
#[derive(Debug, Default)]
pub(crate) struct Order {
    shared: HashSet<String>,
    unfinished: Mutex<Unfinished>,
    changed: Notify,
}

fn place(job: &Job) -> Place {
    (job.event, job.slot)
}

fn add(map: &mut HashMap<String, BTreeSet<Place>>, key: &str, at: Place) {
    map.entry(key.to_owned()).or_default().insert(at);
}

fn remove(map: &mut HashMap<String, BTreeSet<Place>>, key: &str, at: Place) {
    if let Some(set) = map.get_mut(key) {
        set.remove(&at);
        if set.is_empty() {
            map.remove(key);
        }
    }
}

impl Order {
    /// Registers every job of the REST and Bulk groups on a key both sides write.
    pub(crate) fn new(rest: &[Group<'_>], bulk: &[Group<'_>]) -> Order {
        let keys_of_side = |groups: &[Group<'_>]| -> HashSet<String> {
            groups
                .iter()
                .flat_map(|g| g.jobs.iter().flat_map(|j| j.keys.iter().cloned()))
                .collect()
        };
        if rest.is_empty() || bulk.is_empty() {
            return Order::default();
        }
        let bulk_keys = keys_of_side(bulk);
        if bulk_keys.is_empty() {
            return Order::default();
        }
        let shared: HashSet<String> = keys_of_side(rest)
            .into_iter()
            .filter(|k| bulk_keys.contains(k))
            .collect();
        if shared.is_empty() {
            return Order::default();
        }
        let mut unfinished = Unfinished::default();
        for (groups, map) in [(rest, &mut unfinished.rest), (bulk, &mut unfinished.bulk)] {
            for job in groups.iter().flat_map(|g| g.jobs.iter()) {
                for k in job.keys.iter().filter(|k| shared.contains(*k)) {
                    add(map, k, place(job));
                }
            }
        }
        Order {
            shared,
            unfinished: Mutex::new(unfinished),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Unfinished> {
        self.unfinished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Completes when the other side finishes something. Enable it (`Notified::enable`)
    /// before checking, so nothing finishing in between is missed.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    fn waits(
        &self,
        other: impl Fn(&Unfinished) -> &HashMap<String, BTreeSet<Place>>,
        job: &Job,
        keys: &[String],
    ) -> bool {
        if self.shared.is_empty() {
            return false;
        }
        let at = place(job);
        let unfinished = self.lock();
        let other = other(&unfinished);
        keys.iter().filter(|k| self.shared.contains(*k)).any(|k| {
            other
                .get(k)
                .and_then(|s| s.first())
                .is_some_and(|first| *first < at)
        })
    }

    /// `true` while an earlier Bulk row of one of the job's shared keys is unfinished.
    pub(crate) fn rest_waits(&self, job: &Job, keys: &[String]) -> bool {
        self.waits(|u| &u.bulk, job, keys)
    }

    /// `true` while an earlier REST job of one of the row's shared keys is unfinished.
    pub(crate) fn bulk_waits(&self, job: &Job, keys: &[String]) -> bool {
        self.waits(|u| &u.rest, job, keys)
    }

    fn finish<'j>(
        &self,
        side: impl Fn(&mut Unfinished) -> &mut HashMap<String, BTreeSet<Place>>,
        jobs: impl IntoIterator<Item = &'j Job>,
    ) {
        if self.shared.is_empty() {
            return;
        }
        {
            let mut unfinished = self.lock();
            let map = side(&mut unfinished);
            for job in jobs {
                for k in job.keys.iter().filter(|k| self.shared.contains(*k)) {
                    remove(map, k, place(job));
                }
            }
        }
        self.changed.notify_waiters();
    }

    /// REST jobs that left the REST path (written or failed).
    pub(crate) fn rest_done<'j>(&self, jobs: impl IntoIterator<Item = &'j Job>) {
        self.finish(|u| &mut u.rest, jobs);
    }

    /// Keeps only these REST jobs unfinished (the others failed before the first step).
    pub(crate) fn rest_start<'j>(&self, jobs: impl IntoIterator<Item = &'j Job>) {
        if self.shared.is_empty() {
            return;
        }
        let keep: HashSet<Place> = jobs.into_iter().map(place).collect();
        {
            let mut unfinished = self.lock();
            for set in unfinished.rest.values_mut() {
                set.retain(|at| keep.contains(at));
            }
            unfinished.rest.retain(|_, s| !s.is_empty());
        }
        self.changed.notify_waiters();
    }

    /// The REST path ended: nothing of it is unfinished.
    pub(crate) fn rest_finish(&self) {
        if self.shared.is_empty() {
            return;
        }
        self.lock().rest.clear();
        self.changed.notify_waiters();
    }

    /// Bulk rows that finished (their ingest answered, or they failed before it).
    pub(crate) fn bulk_done<'j>(&self, jobs: impl IntoIterator<Item = &'j Job>) {
        self.finish(|u| &mut u.bulk, jobs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_forgets_empty_keys() {
        let mut map = HashMap::new();
        add(&mut map, "k", (0, 0));
        add(&mut map, "k", (2, 0));
        remove(&mut map, "k", (0, 0));
        assert_eq!(map.get("k").and_then(|s| s.first()), Some(&(2, 0)));
        remove(&mut map, "k", (2, 0));
        assert!(map.is_empty());
    }
}
