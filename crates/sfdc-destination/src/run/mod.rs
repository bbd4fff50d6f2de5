//! The runner: executes a batch's jobs as the plan (`crate::plan`) lays them out, with
//! bounded concurrency.
//!
//! - `calls`: queries and Collections writes under the in-flight bound, Composite packing,
//!   bisection of requests rejected as a whole.
//! - `rest`: all REST groups together, in rounds by record key (lookups, then writes).
//! - `preflight`: records checked against describe before they are sent.
//! - `locks`: keyed ordering across concurrent `send`s.
//! - `order`: event order between the REST path and Bulk groups on the keys both write.
//!
//! Bulk groups run concurrently with the REST path and with each other: a Bulk job polling
//! for minutes never holds REST work behind it.

pub(crate) mod calls;
pub(crate) mod locks;
pub(crate) mod order;
mod preflight;
pub(crate) mod rest;

use futures::future::join_all;

use crate::execute::{Group, Job, Sink, bulk, group_jobs, idempotency};
pub(crate) use calls::Calls;
pub(crate) use rest::needs_describe;

/// Runs every job of a batch; outcomes go to `sink`. `held` holds the batch's record keys
/// (and takes the record ids its lookups resolve) across concurrent sends.
pub(crate) async fn batch(
    calls: &Calls,
    bulk_client: &sfdc_bulk::BulkClient,
    jobs: &[Job],
    sink: &Sink<'_>,
    held: &locks::Held,
) -> usize {
    let mut groups = Vec::new();
    for group in group_jobs(jobs) {
        groups.push(idempotency::checked(calls, &group, sink).await);
    }
    let count = groups.len();
    let (bulk_groups, rest_groups): (Vec<Group<'_>>, Vec<Group<'_>>) = groups
        .into_iter()
        .partition(|g| g.jobs.first().is_some_and(|j| j.plan.bulk.is_some()));
    let order = order::Order::new(&rest_groups, &bulk_groups);
    let bulk_work = join_all(
        bulk_groups
            .iter()
            .map(|g| bulk::run(calls, bulk_client, g, sink, &order)),
    );
    futures::join!(
        rest::run(calls, &rest_groups, sink, held, &order),
        bulk_work
    );
    count
}
