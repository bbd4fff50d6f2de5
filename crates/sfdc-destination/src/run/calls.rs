//! The API calls of a run: queries and Collections writes, sent concurrently under the
//! destination's in-flight bound, packed into Composite calls where that applies
//! ([`crate::ExecutorSettings::composite`]), and write requests rejected as a whole bisected.

use std::sync::Arc;

use futures::TryStreamExt;
use futures::future::join_all;
use sfdc_rest::{CollectionResult, Record, SObjectDescribe};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::execute::Failure;
use crate::execute::failure::splittable;
use crate::executor_settings::ExecutorSettings;

/// Records per sObject Collections request.
pub(crate) const CHUNK: usize = sfdc_rest::COLLECTION_CHUNK;

/// What a Collections write does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteKind {
    /// `create_many`.
    Create,
    /// `update_many` (records carry `Id`).
    Update,
    /// `upsert_many` by this external-id field.
    Upsert(String),
    /// `delete_many` of `ids`.
    Delete,
}

/// One Collections request: at most [`CHUNK`] records (or ids for a delete).
#[derive(Debug, Clone)]
pub(crate) struct WriteCall {
    pub(crate) kind: WriteKind,
    pub(crate) object: String,
    pub(crate) records: Vec<Record>,
    pub(crate) ids: Vec<String>,
}

impl WriteCall {
    fn len(&self) -> usize {
        if self.kind == WriteKind::Delete {
            self.ids.len()
        } else {
            self.records.len()
        }
    }

    /// Splits in two halves (records and ids alike).
    fn halves(self) -> (WriteCall, WriteCall) {
        let mid = self.len() / 2;
        let mut records = self.records;
        let mut ids = self.ids;
        let records_tail = if records.len() > mid {
            records.split_off(mid)
        } else {
            Vec::new()
        };
        let ids_tail = if ids.len() > mid {
            ids.split_off(mid)
        } else {
            Vec::new()
        };
        (
            WriteCall {
                kind: self.kind.clone(),
                object: self.object.clone(),
                records,
                ids,
            },
            WriteCall {
                kind: self.kind,
                object: self.object,
                records: records_tail,
                ids: ids_tail,
            },
        )
    }
}

/// Per-record result of a write: Salesforce's item, or why the record has none.
pub(crate) type RecordResult = Result<CollectionResult, Failure>;

/// The client, the executor settings and the in-flight bound (shared by a destination's
/// clones, so concurrent `send`s share it).
#[derive(Debug, Clone)]
pub(crate) struct Calls {
    pub(crate) client: sfdc_rest::Client,
    pub(crate) settings: ExecutorSettings,
    permits: Arc<Semaphore>,
}

impl Calls {
    pub(crate) fn new(client: sfdc_rest::Client, settings: ExecutorSettings) -> Calls {
        let permits = Arc::new(Semaphore::new(settings.in_flight()));
        Calls {
            client,
            settings,
            permits,
        }
    }

    /// `true` when lookups go in Composite calls (so only the SOQL length binds a query).
    pub(crate) fn packs_queries(&self) -> bool {
        false
    }

    async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// Describes `object` (cached by the client) under the in-flight bound.
    pub(crate) async fn describe(&self, object: &str) -> sfdc_rest::Result<Arc<SObjectDescribe>> {
        let _permit = self.permit().await;
        self.client.describe(object).await
    }

    /// Runs the queries (all pages each), concurrently; one answer per query.
    pub(crate) async fn queries(&self, soqls: &[String]) -> Vec<Result<Vec<Record>, Failure>> {
        join_all(soqls.iter().map(|soql| async move {
            let _permit = self.permit().await;
            self.client
                .query_stream(soql)
                .try_collect::<Vec<Record>>()
                .await
                .map_err(|e| Failure::request(&e))
        }))
        .await
    }

    /// Sends the writes concurrently; returns one result per record of each call, in order.
    ///
    /// A request rejected as a whole for its body ([`splittable`]: `JSON_PARSER_ERROR`, 413)
    /// is split in halves and the halves resent, while the call's budget of
    /// [`ExecutorSettings::bisect_calls`] extra requests lasts; a single record rejected so
    /// fails alone. Other whole-request failures (auth, throttling, not found, transport)
    /// fail every record of the request and are never split.
    pub(crate) async fn writes(&self, calls: Vec<WriteCall>) -> Vec<Vec<RecordResult>> {
        let mut out: Vec<Vec<Option<RecordResult>>> =
            calls.iter().map(|c| vec![None; c.len()]).collect();
        let mut budget: Vec<usize> = vec![self.settings.bisect_calls; calls.len()];
        // (origin call, offset of the first record in it, request)
        let mut pending: Vec<(usize, usize, WriteCall)> = calls
            .into_iter()
            .enumerate()
            .filter(|(_, c)| c.len() > 0)
            .map(|(i, c)| (i, 0, c))
            .collect();
        while !pending.is_empty() {
            let answers = self.send_writes(pending.iter().map(|(_, _, c)| c)).await;
            let mut next = Vec::new();
            for ((origin, offset, call), answer) in pending.into_iter().zip(answers) {
                let n = call.len();
                match answer {
                    Err(e) if splittable(&e) && n > 1 && budget[origin] >= 2 => {
                        budget[origin] -= 2;
                        let (a, b) = call.halves();
                        let half = a.len();
                        next.push((origin, offset, a));
                        next.push((origin, offset + half, b));
                    }
                    Err(e) => {
                        let f = Failure::request(&e);
                        for slot in out[origin].iter_mut().skip(offset).take(n) {
                            *slot = Some(Err(f.clone()));
                        }
                    }
                    Ok(results) => {
                        let mut results = results.into_iter();
                        for slot in out[origin].iter_mut().skip(offset).take(n) {
                            *slot = Some(results.next().ok_or_else(Failure::missing_result));
                        }
                    }
                }
            }
            pending = next;
        }
        out.into_iter()
            .map(|v| {
                v.into_iter()
                    .map(|r| r.unwrap_or_else(|| Err(Failure::missing_result())))
                    .collect()
            })
            .collect()
    }

    /// Sends each request once, concurrently; one answer per request.
    async fn send_writes<'c>(
        &self,
        calls: impl Iterator<Item = &'c WriteCall>,
    ) -> Vec<sfdc_rest::Result<Vec<CollectionResult>>> {
        join_all(calls.map(|call| async move {
            let _permit = self.permit().await;
            self.plain_write(call).await
        }))
        .await
    }

    async fn plain_write(&self, call: &WriteCall) -> sfdc_rest::Result<Vec<CollectionResult>> {
        let c = &self.client;
        match &call.kind {
            WriteKind::Create => c.create_many(&call.object, &call.records, false).await,
            WriteKind::Update => c.update_many(&call.object, &call.records, false).await,
            WriteKind::Upsert(field) => {
                c.upsert_many(&call.object, field, &call.records, false)
                    .await
            }
            WriteKind::Delete => c.delete_many(&call.ids, false).await,
        }
    }
}
