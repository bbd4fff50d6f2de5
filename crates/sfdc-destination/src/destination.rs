//! [`Destination`] and its builder: subscriptions compiled once, batches planned and executed.

use std::collections::HashMap;

use serde_json::Value;
use sfdc_actions::{Action, ActionConfig, Event};
use sfdc_bulk::{BulkClient, PollConfig};
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::execute::{Failure, Job, Sink};
use crate::executor_settings::ExecutorSettings;
use crate::outcome::{ActionOutcome, EventOutcome, EventStatus, OutcomeStatus};
use crate::plan::{self, Explanation};
use crate::run::{self, Calls, locks::KeyLocks};
use crate::settings::Settings;

/// Events in, Salesforce records out: every event gets an [`EventOutcome`].
///
/// Cheap to share (`&self` methods; the REST client is reference-counted inside). Build it with
/// [`Destination::builder`].
///
/// `Clone` is cheap (reference counts): clones share the REST client, its token cache, API-call
/// counter and describe cache, and the compiled subscriptions. It needs a Tokio runtime (the
/// `rt` and `time` features): `send` runs on the caller's runtime and never starts one.
#[derive(Debug, Clone)]
pub struct Destination {
    client: sfdc_rest::Client,
    bulk: BulkClient,
    actions: std::sync::Arc<[Action]>,
    calls: Calls,
    locks: KeyLocks,
    abandoned: crate::execute::Abandoned,
}

/// Builds a [`Destination`] from [`Settings`] or an existing [`sfdc_rest::Client`], plus
/// subscriptions.
#[derive(Debug, Default)]
pub struct DestinationBuilder {
    settings: Option<Settings>,
    client: Option<sfdc_rest::Client>,
    subscriptions: Vec<ActionConfig>,
    bulk_poll: Option<PollConfig>,
    executor: Option<ExecutorSettings>,
}

impl DestinationBuilder {
    /// Uses these settings: their subscriptions come first, and unless
    /// [`DestinationBuilder::client`] is also given, [`DestinationBuilder::connect`] builds the
    /// REST client from them.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Uses an existing REST client (for integrators who manage auth themselves).
    pub fn client(mut self, client: sfdc_rest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Adds a subscription (any action configuration, with its trigger).
    pub fn subscription(mut self, config: impl Into<ActionConfig>) -> Self {
        self.subscriptions.push(config.into());
        self
    }

    /// Adds several subscriptions.
    pub fn subscriptions(mut self, configs: impl IntoIterator<Item = ActionConfig>) -> Self {
        self.subscriptions.extend(configs);
        self
    }

    /// Sets how Bulk API jobs are polled (default [`PollConfig::default`]: 1 s growing to
    /// 15 s). Against the emulator a short fixed interval keeps bulk batches fast.
    pub fn bulk_poll(mut self, poll: PollConfig) -> Self {
        self.bulk_poll = Some(poll);
        self
    }

    /// Sets how batches are executed (concurrency, Composite packing, pre-flight, bisection);
    /// overrides the settings' `[executor]` table. Default [`ExecutorSettings::default`].
    pub fn executor(mut self, executor: ExecutorSettings) -> Self {
        self.executor = Some(executor);
        self
    }

    /// Explains `events` as [`Destination::explain`] does, without a client, a token or any
    /// I/O: compiles the subscriptions (settings first, then those added) and plans the calls
    /// with the executor settings and the settings' API version. For dry runs.
    ///
    /// # Errors
    ///
    /// [`Error::Subscription`] when a subscription does not compile; [`Error::Settings`] for
    /// an API version that does not parse.
    pub fn explain(&self, events: &[Value]) -> Result<Explanation> {
        let version = match self
            .settings
            .as_ref()
            .and_then(|s| s.api_version.as_deref())
        {
            Some(v) => v
                .parse::<sfdc_rest::ApiVersion>()
                .map_err(|e| Error::settings(format!("api_version: {e}")))?,
            None => sfdc_rest::ApiVersion::default(),
        };
        let (actions, executor) = self.compile()?;
        let (_, jobs) = plan_events(&actions, events, None);
        Ok(plan::explain(&jobs, &executor, &version, events.len()))
    }

    /// Builds the destination without any network call; needs [`DestinationBuilder::client`].
    ///
    /// # Errors
    ///
    /// [`Error::Settings`] when no client was given (use [`DestinationBuilder::connect`] to
    /// build one from settings); [`Error::Subscription`] when a subscription does not compile.
    pub fn build(self) -> Result<Destination> {
        let Some(client) = self.client.clone() else {
            return Err(Error::settings(
                "no REST client: pass one with DestinationBuilder::client, or use connect() to build it from the settings",
            ));
        };
        self.finish(client)
    }

    /// Builds the destination, creating the REST client from the settings when none was given
    /// (fetching a token first when the settings have no instance URL).
    ///
    /// # Errors
    ///
    /// [`Error::Settings`] when neither settings nor a client were given, or the settings are
    /// inconsistent; [`Error::Connect`] when authentication or the client fails
    /// ([`Error::is_auth`]); [`Error::Subscription`] when a subscription does not compile.
    pub async fn connect(self) -> Result<Destination> {
        let client = match (&self.client, &self.settings) {
            (Some(client), _) => client.clone(),
            (None, Some(settings)) => settings.connect().await?,
            (None, None) => {
                return Err(Error::settings(
                    "no settings and no REST client: pass DestinationBuilder::settings or DestinationBuilder::client",
                ));
            }
        };
        self.finish(client)
    }

    fn finish(self, client: sfdc_rest::Client) -> Result<Destination> {
        let bulk_poll = self.bulk_poll;
        let (actions, executor) = self.compile()?;
        let calls = Calls::new(client.clone(), executor);
        // Bulk calls share the REST calls' in-flight bound.
        let mut bulk = BulkClient::new(client.clone()).in_flight(calls.permits());
        if let Some(poll) = bulk_poll {
            bulk = bulk.poll_config(poll);
        }
        Ok(Destination {
            calls,
            client,
            bulk,
            actions: actions.into(),
            locks: KeyLocks::default(),
            abandoned: crate::execute::Abandoned::default(),
        })
    }

    /// Compiles the subscriptions and picks the executor settings.
    fn compile(&self) -> Result<(Vec<Action>, ExecutorSettings)> {
        let executor = match (&self.executor, &self.settings) {
            (Some(e), _) => e.clone(),
            (None, Some(s)) => s.executor.clone(),
            (None, None) => ExecutorSettings::default(),
        };
        let configs = self
            .settings
            .iter()
            .flat_map(|s| s.subscriptions.iter())
            .chain(self.subscriptions.iter());
        let mut actions = Vec::new();
        for (index, config) in configs.enumerate() {
            let action = config.compile().map_err(|source| Error::Subscription {
                index,
                action: config.kind().to_string(),
                source,
            })?;
            let action = action.with_index(index);
            actions.push(action);
        }
        Ok((actions, executor))
    }
}

impl Destination {
    /// Returns a builder.
    pub fn builder() -> DestinationBuilder {
        DestinationBuilder::default()
    }

    /// Returns the REST client.
    pub fn client(&self) -> &sfdc_rest::Client {
        &self.client
    }

    /// Returns the executor settings in use.
    pub fn executor_settings(&self) -> &ExecutorSettings {
        &self.calls.settings
    }

    /// Lists the API calls [`Destination::send`] would make for `events`, without any I/O:
    /// describes, lookups (with their SOQL), writes (Collections or Composite calls, with
    /// objects and record counts), Bulk ingests, and what each depends on. See
    /// [`Explanation`] for what it must assume.
    pub fn explain(&self, events: &[Value]) -> Explanation {
        let (_, jobs) = self.plan(events, None);
        plan::explain(
            &jobs,
            &self.calls.settings,
            self.client.api_version(),
            events.len(),
        )
    }

    /// Returns the compiled subscriptions, in order.
    pub fn subscriptions(&self) -> &[Action] {
        &self.actions
    }

    /// Returns the API calls made so far by this destination's client (REST, queries,
    /// Collections, describe and Bulk API; token requests excluded). Divide the difference
    /// around [`Destination::send`] by the batch size for API calls per event.
    pub fn api_calls(&self) -> u64 {
        self.client.api_calls()
    }

    /// Takes the creates of dropped `send` (or `retry`) futures that were sent and not
    /// answered: each [`AbandonedCreate`](crate::AbandonedCreate) may have committed. The list is shared by clones and
    /// emptied by this call; a send that completes adds nothing to it. See [`AbandonedCreate`](crate::AbandonedCreate)
    /// for how to finish them.
    pub fn take_abandoned(&self) -> Vec<crate::AbandonedCreate> {
        std::mem::take(
            &mut *self
                .abandoned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Sends a batch of typed events; see [`Destination::send`].
    pub async fn send_events(&self, events: &[Event]) -> Vec<EventOutcome> {
        let values: Vec<Value> = events.iter().map(Event::to_value).collect();
        self.send(&values).await
    }

    /// Sends a batch of events (any JSON; Segment-spec `identify` / `group` / `track` ...) and
    /// returns one [`EventOutcome`] per event, in input order.
    ///
    /// Each event is planned by every subscription whose trigger matches it (a planning error
    /// fails that action for that event only: 400, not retryable); an event no trigger matches
    /// is [`EventStatus::Skipped`]. The planned operations of the whole batch are then grouped
    /// by (object, operation, matcher fields, operator, bulk settings) and run as
    /// [`Destination::explain`] lays out: describes, then rounds by record key (operations on
    /// one record in event order, across groups), each round's lookups and writes of all
    /// groups packed and sent concurrently (at most
    /// [`ExecutorSettings::max_in_flight`] calls at once); Bulk groups run alongside. Failures
    /// of a request or a record are reported on the events concerned; other events go on.
    ///
    /// Concurrent `send`s on one destination (or its clones) that share a record key run one
    /// after the other; disjoint ones run concurrently. Across processes nothing is shared:
    /// partition the events by record key.
    pub async fn send(&self, events: &[Value]) -> Vec<EventOutcome> {
        let (outcomes, jobs) = {
            let _plan = tracing::debug_span!("sfdc_destination.plan").entered();
            self.plan(events, None)
        };
        // Boxed: the run's state lives on the heap, not on the caller's stack.
        Box::pin(self.execute("sfdc_destination.send", events.len(), outcomes, jobs)).await
    }

    /// Resends only the failed, retryable actions of earlier outcomes
    /// ([`ActionOutcome::needs_retry`]), so successes are never repeated; returns the merged
    /// outcomes, one per event, in input order.
    ///
    /// `events` is the batch given to [`Destination::send`] (or to an earlier `retry`) and
    /// `outcomes` what that call returned (matched by [`EventOutcome::index`]). For each event,
    /// every action whose earlier outcome is a success, a permanent failure or
    /// `OUTCOME_UNKNOWN` is carried over unchanged and not sent; every failed, retryable action
    /// is planned and executed again (grouped and batched like `send`). An event with no
    /// earlier outcome is sent in full. Calling `retry` again with its own result continues
    /// from there, so a pipeline can loop until no event
    /// [`EventOutcome::has_retryable_actions`] (bounded by its own policy).
    pub async fn retry(&self, events: &[Value], outcomes: &[EventOutcome]) -> Vec<EventOutcome> {
        let earlier: HashMap<usize, &EventOutcome> =
            outcomes.iter().map(|o| (o.index, o)).collect();
        let (outcomes, jobs) = self.plan(events, Some(&earlier));
        Box::pin(self.execute("sfdc_destination.retry", events.len(), outcomes, jobs)).await
    }

    /// Executes planned jobs group by group and finishes the outcomes.
    async fn execute(
        &self,
        name: &'static str,
        events: usize,
        mut outcomes: Vec<EventOutcome>,
        jobs: Vec<Job>,
    ) -> Vec<EventOutcome> {
        let span = tracing::info_span!(
            "sfdc_destination.send",
            call = name,
            events,
            operations = tracing::field::Empty,
            groups = tracing::field::Empty,
            api_calls = tracing::field::Empty,
        );
        let before = self.client.api_calls();
        async {
            let span = tracing::Span::current();
            span.record("operations", jobs.len());
            // Keyed ordering across concurrent sends: hold every record key of the batch
            // (sorted, so two sends cannot deadlock); released when this future ends or drops.
            let held = async {
                let keys: Vec<String> = jobs.iter().flat_map(|j| j.keys.iter().cloned()).collect();
                self.locks.acquire(keys).await
            }
            .instrument(tracing::debug_span!("sfdc_destination.locks"))
            .await;
            let groups = {
                // Creates still in flight if this future is dropped go to `take_abandoned`.
                let sink = Sink::tracking(&mut outcomes, std::sync::Arc::clone(&self.abandoned));
                run::batch(&self.calls, &self.bulk, &jobs, &sink, &held).await
            };
            span.record("groups", groups);
            let finish = tracing::debug_span!("sfdc_destination.finish").entered();
            for outcome in &mut outcomes {
                outcome.finish();
            }
            drop(finish);
            let release = tracing::debug_span!("sfdc_destination.release").entered();
            drop(held);
            drop(release);
            span.record("api_calls", self.client.api_calls().saturating_sub(before));
            outcomes
        }
        .instrument(span)
        .await
    }

    /// Plans every event with every triggered subscription. With `earlier` outcomes (a retry),
    /// an action whose earlier outcome does not need a retry is carried over instead of planned,
    /// and a subscription that did not act on the event earlier is left out.
    fn plan(
        &self,
        events: &[Value],
        earlier: Option<&HashMap<usize, &EventOutcome>>,
    ) -> (Vec<EventOutcome>, Vec<Job>) {
        plan_events(&self.actions, events, earlier)
    }
}

/// Plans every event with every triggered subscription (see [`Destination::plan`]).
fn plan_events(
    actions: &[Action],
    events: &[Value],
    earlier: Option<&HashMap<usize, &EventOutcome>>,
) -> (Vec<EventOutcome>, Vec<Job>) {
    {
        let mut outcomes = Vec::with_capacity(events.len());
        // Usually one job per event: sized once instead of grown (a job is large to move).
        let mut jobs = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let before = earlier.and_then(|e| e.get(&index)).copied();
            let mut outcome = EventOutcome {
                index,
                message_id: event
                    .get("messageId")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                status: EventStatus::Skipped,
                results: Vec::new(),
            };
            for (subscription, action) in actions.iter().enumerate() {
                if let Some(before) = before {
                    match before
                        .results
                        .iter()
                        .find(|r| r.subscription == subscription)
                    {
                        None => continue,
                        Some(done) if !done.needs_retry() => {
                            outcome.results.push(done.clone());
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                let Some(planned) = action.plan_if_triggered(event) else {
                    continue;
                };
                let slot = outcome.results.len();
                let pending = Failure::not_executed();
                let failure = match &planned {
                    Ok(_) => pending,
                    Err(e) => Failure::planning(e),
                };
                outcome.results.push(ActionOutcome {
                    subscription,
                    action: action.kind(),
                    object: action.object().to_owned(),
                    operation: action.operation(),
                    status: OutcomeStatus::Failed,
                    record_id: None,
                    http_status: failure.http_status,
                    error_code: Some(failure.code),
                    message: Some(failure.message),
                    retryable: failure.retryable,
                    bulk_job_id: None,
                });
                if let Ok(plan) = planned {
                    jobs.push(Job::new(index, slot, plan));
                }
            }
            outcomes.push(outcome);
        }
        (outcomes, jobs)
    }
}
