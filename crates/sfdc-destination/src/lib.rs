//! Segment-style events to Salesforce records: the facade over `sfdc-rest`, `sfdc-bulk`,
//! `sfdc-match` and `sfdc-actions`.
//!
//! Every event gets an outcome, and API calls per event is the figure that matters: the
//! operations of a batch are grouped and sent through sObject Collections (200 records per
//! call), batched SOQL lookups and the Bulk API 2.0.
//!
//! # Contents
//!
//! - [`Settings`], [`AuthSettings`]: configuration (TOML or JSON): instance URL, `is_sandbox`,
//!   OAuth (refresh token, client credentials, JWT bearer) or a fixed access token, API
//!   version, and `subscriptions` (each an [`sfdc_actions::ActionConfig`] with its trigger).
//!   Secrets are `SecretString`s; `Debug` redacts them.
//! - [`Destination`], [`DestinationBuilder`]: built from settings or an existing
//!   [`sfdc_rest::Client`]; [`Destination::send`] (JSON events) and
//!   [`Destination::send_events`] (typed [`sfdc_actions::Event`]s); [`Destination::api_calls`].
//! - [`EventOutcome`], [`ActionOutcome`], [`EventStatus`], [`OutcomeStatus`]: per-event
//!   results (serde `Serialize`).
//! - [`OutcomeCode`]: the typed error code of a failed action (a Salesforce [`ErrorCode`] or
//!   one of the destination's own).
//! - [`Error`], [`Result`]: setup failures only; per-event problems are outcomes.
//! - [`rest`], [`actions`], [`bulk`], [`matching`]: the crates this facade's signatures use,
//!   re-exported, so `sfdc-destination` is the only dependency a program needs:
//!
//! ```
//! use sfdc_destination::actions::LeadConfig;
//! use sfdc_destination::rest::{Client, Idempotency};
//!
//! let lead = LeadConfig::default().compile().map(|_| ());
//! assert!(lead.is_ok());
//! let _: Option<Client> = None;
//! assert_ne!(Idempotency::NotIdempotent, Idempotency::Safe);
//! ```
//!
//! # How a batch runs
//!
//! | planned operation | execution | API calls |
//! |---|---|---|
//! | create | `create_many` (describe once, for pre-flight) | 1 per 200 records, or 1 Composite per 1,000 |
//! | update / delete by `Id` | `update_many` / `delete_many` | 1 per 200 records |
//! | update / delete by other matchers | describe (once per object) + batched lookup + `update_many` / `delete_many` | lookups + 1 per 200 found |
//! | upsert by one external-id matcher | describe (once) + `upsert_many` by that field | 1 per 200 records |
//! | upsert by other matchers | describe (once) + batched lookup, then `update_many` (found) and `create_many` (not found) | lookups + writes |
//! | bulk insert / update / upsert / delete | Bulk API 2.0 ingest per `batch_size` events (a delete by record matchers: describe + batched lookups first) | per job: 6 (create, upload, close, 3 result files) + status polls |
//!
//! The batch is scheduled as calls with dependencies ([`Destination::explain`] lists them
//! without I/O): describes, then rounds by record key across all groups (operations on one
//! record in event order), each round's lookups and then its writes packed into Composite
//! calls (≤5 Collections or query subrequests each; `[executor] composite`) and sent
//! concurrently, at most [`ExecutorSettings::max_in_flight`] at a time; Bulk groups run
//! alongside. Records are checked against describe first (a bad one fails alone with
//! `INVALID_EVENT`), and a request Salesforce rejects as a whole for its body is bisected.
//! Concurrent `send`s sharing a record key run one after the other. Lookup results: none found
//! → 404, several → 300; neither is retryable. Full reference: `docs/sfdc-destination.md`.
//!
//! # Quick start
//!
//! ```no_run
//! use serde_json::json;
//! use sfdc_destination::{Destination, EventStatus, Settings};
//!
//! # async fn run() -> Result<(), sfdc_destination::Error> {
//! let settings = Settings::from_toml_str(r#"
//!     [auth]
//!     type = "refresh_token"
//!     client_id = "3MVG9..."
//!     client_secret = "..."
//!     refresh_token = "5Aep861..."
//!
//!     [[subscriptions]]
//!     action = "lead"
//!     operation = "upsert"
//!     record_matchers = { Email = { "@path" = "$.traits.email" } }
//! "#)?;
//! let destination = Destination::builder().settings(settings).connect().await?;
//!
//! let events = vec![json!({
//!     "type": "identify", "userId": "u-1", "messageId": "m-1",
//!     "traits": {"last_name": "Lovelace", "company": "Engines", "email": "ada@example.com"}
//! })];
//! let before = destination.api_calls();
//! for outcome in destination.send(&events).await {
//!     if outcome.status == EventStatus::Failed {
//!         eprintln!("{:?} failed (retryable: {})", outcome.message_id, outcome.is_retryable());
//!     }
//! }
//! println!("API calls: {}", destination.api_calls() - before);
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! All additive, passed to `sfdc-rest` and `sfdc-bulk`: `rustls` (default, aws-lc-rs),
//! `rustls-ring` (no aws-lc in the build), `native-tls`, and `jwt` (default: the `jwt_bearer`
//! auth type). Depend on `sfdc-destination` alone, with
//! `default-features = false, features = ["rustls-ring", "jwt"]` to leave aws-lc out.
//!
//! # Runtime
//!
//! [`Destination`] needs a Tokio runtime (multi-threaded or current-thread, with timers): `send`
//! runs on the caller's runtime and never starts one. It is `Clone`, `Send` and `Sync`.
//!
//! # Tracing
//!
//! `sfdc_destination.send` (events, operations, groups, api_calls), with the `sfdc-rest` and
//! `sfdc-bulk` spans of its calls inside. Never bodies or secrets. The crate installs no
//! subscriber.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod abandoned;
mod client_settings;
mod code;
mod destination;
mod error;
mod execute;
mod executor_settings;
mod outcome;
mod parse_error;
mod plan;
mod run;
mod settings;
mod settle;
mod transport_settings;

pub use abandoned::AbandonedCreate;
pub use client_settings::{AutoAssignSetting, ClientSettings};
pub use code::OutcomeCode;
pub use destination::{Destination, DestinationBuilder};
pub use error::{Error, Result};
pub use executor_settings::{DEFAULT_BISECT_CALLS, DEFAULT_MAX_IN_FLIGHT, ExecutorSettings};
pub use outcome::{ActionOutcome, EventOutcome, EventStatus, OutcomeStatus};
pub use plan::{BULK_INGEST_CALLS, Explanation, PlannedCall, PlannedSubrequest};
pub use settings::{AuthSettings, Settings};

/// The REST/SOQL client this facade runs on (`sfdc-rest`), re-exported so that depending on
/// `sfdc-destination` alone is enough: `sfdc_destination::rest::Client`,
/// `sfdc_destination::rest::ErrorCode`, ...
pub use sfdc_rest as rest;

/// The event model, mappings and actions (`sfdc-actions`): `sfdc_destination::actions::LeadConfig`,
/// `sfdc_destination::actions::Event`, ...
pub use sfdc_actions as actions;

/// The Bulk API 2.0 client (`sfdc-bulk`) that runs subscriptions with Bulk enabled.
pub use sfdc_bulk as bulk;

/// Record matchers to SOQL and the workspace's API-name validator (`sfdc-match`).
pub use sfdc_match as matching;

pub use sfdc_actions::{ActionConfig, ActionKind, Event, Operation};
pub use sfdc_rest::{Client, ErrorCode};
pub use transport_settings::{BodyLimitSettings, TimeoutSettings, TransportSettings};
