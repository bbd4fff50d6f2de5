//! The API calls of a run: queries and Collections writes, sent concurrently under the
//! destination's in-flight bound, packed into Composite calls where that applies
//! ([`crate::ExecutorSettings::composite`]), and write requests rejected as a whole bisected.

use std::sync::Arc;

use futures::TryStreamExt;
use futures::future::join_all;
use sfdc_rest::composite::{CompositeRequest, Subrequest};

use crate::plan::pack_size;
use sfdc_rest::Idempotency;
use sfdc_rest::retry::Verdict;
use sfdc_rest::{CollectionResult, QueryPage, Record, SObjectDescribe};
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

/// An object's describe, or why there is none.
pub(crate) type Described = Result<Arc<SObjectDescribe>, Failure>;

/// Per-record result of a write: Salesforce's item, or why the record has none.
pub(crate) type RecordResult = Result<CollectionResult, Failure>;

/// A request (or Composite subrequest) that failed as a whole.
#[derive(Debug, Clone)]
struct Rejected {
    failure: Failure,
    /// Rejected for its body: a smaller request may succeed ([`splittable`]).
    splittable: bool,
    /// An idempotent subrequest of a Composite call whose answer was lost because the call
    /// carried a create: safe to send again, in a call of its own.
    resend: bool,
}

impl From<&sfdc_rest::Error> for Rejected {
    fn from(e: &sfdc_rest::Error) -> Self {
        Rejected {
            failure: Failure::request(e),
            splittable: splittable(e),
            resend: false,
        }
    }
}

impl Rejected {
    /// What a lost answer `e` of a whole Composite call means for one of its subrequests, of
    /// class `idempotency`, by the one retry table ([`sfdc_rest::Error::verdict_as`]): a
    /// create stays outcome-unknown; an update, upsert or delete the table would resend
    /// (`Retry`) where the whole call was outcome-unknown is resent.
    fn part(e: &sfdc_rest::Error, idempotency: Idempotency) -> Rejected {
        let whole = e.verdict();
        let part = e.verdict_as(idempotency);
        Rejected {
            failure: Failure::request_as(e, idempotency),
            splittable: splittable(e),
            resend: whole == Verdict::OutcomeUnknown && part == Verdict::Retry,
        }
    }
}

type Answer = Result<Vec<CollectionResult>, Rejected>;

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

    /// The in-flight bound, for the Bulk client to share.
    pub(crate) fn permits(&self) -> Arc<Semaphore> {
        Arc::clone(&self.permits)
    }

    /// `true` when lookups go in Composite calls (so only the SOQL length binds a query).
    pub(crate) fn packs_queries(&self) -> bool {
        self.settings.composite
    }

    fn packs_writes(&self) -> bool {
        self.settings.composite && self.settings.pack_writes
    }

    async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// Describes `object` (cached by the client) under the in-flight bound.
    pub(crate) async fn describe(&self, object: &str) -> sfdc_rest::Result<Arc<SObjectDescribe>> {
        let _permit = self.permit().await;
        self.client.describe(object).await
    }

    /// Runs the queries (all pages each), concurrently; one answer per query. With Composite
    /// packing, up to 5 queries go in one Composite call (a lone query is sent plain); further
    /// pages are read with `query_more`.
    pub(crate) async fn queries(&self, soqls: &[String]) -> Vec<Result<Vec<Record>, Failure>> {
        let size = if self.packs_queries() {
            pack_size(soqls.len())
        } else {
            1
        };
        let packs = join_all(soqls.chunks(size).map(|pack| async move {
            match pack {
                [one] => vec![self.plain_query(one).await],
                many => self.composite_queries(many).await,
            }
        }))
        .await;
        packs.into_iter().flatten().collect()
    }

    async fn plain_query(&self, soql: &str) -> Result<Vec<Record>, Failure> {
        let _permit = self.permit().await;
        self.client
            .query_stream(soql)
            .try_collect::<Vec<Record>>()
            .await
            .map_err(|e| Failure::request(&e))
    }

    async fn composite_queries(&self, soqls: &[String]) -> Vec<Result<Vec<Record>, Failure>> {
        self.composite_reads(&[], soqls).await.1
    }

    /// Describes `objects` and runs `soqls` (all pages each) in **one** Composite call: the
    /// first lookups of a destination travel with the describes they would otherwise wait
    /// for. Each describe received goes into the client's cache. The caller keeps within the
    /// Composite limits (at most 5 queries, 25 subrequests in all).
    pub(crate) async fn describes_with_queries(
        &self,
        objects: &[&str],
        soqls: &[String],
    ) -> (Vec<Described>, Vec<Result<Vec<Record>, Failure>>) {
        self.composite_reads(objects, soqls).await
    }

    async fn composite_reads(
        &self,
        objects: &[&str],
        soqls: &[String],
    ) -> (Vec<Described>, Vec<Result<Vec<Record>, Failure>>) {
        let mut request = CompositeRequest::new();
        let mut push = |reference: String, sub: sfdc_rest::Result<Subrequest>| {
            sub.and_then(|sub| request.push(sub))
                .map(|()| reference)
                .map_err(|e| Failure::request(&e))
        };
        let describe_refs: Vec<Result<String, Failure>> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let reference = format!("d{i}");
                let sub = Subrequest::describe(&reference, o);
                push(reference, sub)
            })
            .collect();
        let query_refs: Vec<Result<String, Failure>> = soqls
            .iter()
            .enumerate()
            .map(|(i, soql)| {
                let reference = format!("q{i}");
                let sub = Subrequest::query(&reference, soql);
                push(reference, sub)
            })
            .collect();
        let response = {
            let _permit = self.permit().await;
            self.client.composite(&request).await
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                let f = Failure::request(&e);
                return (
                    describe_refs.iter().map(|_| Err(f.clone())).collect(),
                    query_refs.iter().map(|_| Err(f.clone())).collect(),
                );
            }
        };
        let described = describe_refs
            .into_iter()
            .zip(objects)
            .map(|(reference, object)| {
                let sub = response
                    .get(&reference?)
                    .ok_or_else(Failure::missing_result)?;
                let describe = sub.describe().map_err(|e| Failure::request(&e))?;
                Ok(self.client.remember_describe(object, describe))
            })
            .collect();
        let mut pages = Vec::with_capacity(query_refs.len());
        for reference in query_refs {
            let answer = match reference {
                Err(f) => Err(f),
                Ok(reference) => match response.get(&reference).map(|s| s.query_page()) {
                    None => Err(Failure::missing_result()),
                    Some(Err(e)) => Err(Failure::request(&e)),
                    Some(Ok(page)) => self.rest_of(page).await,
                },
            };
            pages.push(answer);
        }
        (described, pages)
    }

    /// The records of a first page and of the pages after it (`query_more`).
    async fn rest_of(&self, page: QueryPage) -> Result<Vec<Record>, Failure> {
        let mut records = page.records;
        let mut next = page.next_records_url.filter(|_| !page.done);
        while let Some(url) = next {
            let page = {
                let _permit = self.permit().await;
                self.client.query_more(&url).await
            }
            .map_err(|e| Failure::request(&e))?;
            records.extend(page.records);
            next = page.next_records_url.filter(|_| !page.done);
        }
        Ok(records)
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
        // A request resent after its Composite call lost its answer is resent once.
        let mut resent: Vec<bool> = vec![false; calls.len()];
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
                    Err(r) if r.resend && !resent[origin] => {
                        resent[origin] = true;
                        next.push((origin, offset, call));
                    }
                    Err(r) if r.splittable && n > 1 && budget[origin] >= 2 => {
                        budget[origin] -= 2;
                        let (a, b) = call.halves();
                        let half = a.len();
                        next.push((origin, offset, a));
                        next.push((origin, offset + half, b));
                    }
                    Err(r) => {
                        for slot in out[origin].iter_mut().skip(offset).take(n) {
                            *slot = Some(Err(r.failure.clone()));
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

    /// Sends each request once, concurrently; one answer per request. With write packing, up
    /// to 5 requests go in one Composite call (a lone one is sent plain). The requests of one
    /// set never touch the same record (rounds by key), so Salesforce may run them in any
    /// order.
    async fn send_writes<'c>(&self, calls: impl Iterator<Item = &'c WriteCall>) -> Vec<Answer> {
        let calls: Vec<&WriteCall> = calls.collect();
        let size = if self.packs_writes() {
            pack_size(calls.len())
        } else {
            1
        };
        let packs = join_all(calls.chunks(size).map(|pack| async move {
            match pack {
                [one] => {
                    let _permit = self.permit().await;
                    vec![self.plain_write(one).await.map_err(|e| Rejected::from(&e))]
                }
                many => self.composite_writes(many).await,
            }
        }))
        .await;
        packs.into_iter().flatten().collect()
    }

    async fn composite_writes(&self, calls: &[&WriteCall]) -> Vec<Answer> {
        let mut request = CompositeRequest::new();
        // Each subrequest's reference and idempotency class.
        let mut refs: Vec<Result<(String, Idempotency), Rejected>> =
            Vec::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            let reference = format!("w{i}");
            let sub = match &call.kind {
                WriteKind::Create => {
                    Subrequest::create_many(&reference, &call.object, &call.records)
                }
                WriteKind::Update => {
                    Subrequest::update_many(&reference, &call.object, &call.records)
                }
                WriteKind::Upsert(field) => {
                    Subrequest::upsert_many(&reference, &call.object, field, &call.records)
                }
                WriteKind::Delete => Subrequest::delete_many(&reference, &call.ids),
            };
            refs.push(
                sub.and_then(|sub| {
                    let idempotency = sub.idempotency();
                    request.push(sub).map(|()| (reference, idempotency))
                })
                .map_err(|e| Rejected::from(&e)),
            );
        }
        let response = {
            let _permit = self.permit().await;
            self.client.composite(&request).await
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                // Each subrequest by its own class: only the creates may have committed
                // without a trace; the others are resent.
                return refs
                    .into_iter()
                    .map(|reference| Err(Rejected::part(&e, reference?.1)))
                    .collect();
            }
        };
        refs.into_iter()
            .map(|reference| {
                let (reference, _) = reference?;
                match response.get(&reference) {
                    None => Err(Rejected {
                        failure: Failure::missing_result(),
                        splittable: false,
                        resend: false,
                    }),
                    Some(sub) => sub.collection_results().map_err(|e| Rejected::from(&e)),
                }
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::pack_size;

    #[test]
    fn packs_fill_the_fewest_calls_evenly() {
        let sizes: Vec<usize> = [0, 1, 5, 6, 7, 10, 11, 25].map(pack_size).to_vec();
        assert_eq!(sizes, [1, 1, 5, 3, 4, 5, 4, 5]);
    }
}
