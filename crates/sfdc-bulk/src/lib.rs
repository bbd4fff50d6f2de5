//! Bulk API 2.0 ingest on top of [`sfdc_rest`]: streaming CSV, job splitting, polling and
//! per-record results.
//!
//! Records go in as JSON maps (an explicit `null` clears a field, an absent field is left
//! alone); each record comes back as exactly one [`Outcome`] — `Created`, `Updated`,
//! `Deleted`, `Failed { code, message, fields }` or `Unprocessed` — in input order, even though
//! Salesforce returns results in no particular order. Large inputs are split into several jobs
//! before a job's CSV would pass 100 MB (configurable), and each job's CSV is spooled to a
//! temporary file and uploaded as a stream read from that file (reopened for each attempt the
//! retry policy allows), so client memory is bounded by one job's correlation index and outcomes,
//! never by the input or by a job's CSV.
//!
//! # Modules
//! - [`job`]: job wire types (`JobInfo`, `JobState`, `Operation`, ...), exact Salesforce casing.
//! - [`csv`]: the CSV cell rules (`#N/A`, empty cells, numbers, dates) and [`RowEncoder`].
//! - [`split`]: [`SplitLimits`] and the [`Splitter`] deciding where a new job starts.
//! - `spool`: [`ChunkWriter`], which spools job-sized CSV files.
//! - `results`: `sf__Error` parsing ([`parse_sf_error`]) and result-to-input correlation.
//! - `client`: [`BulkClient`] — create, upload ([`BulkClient::upload_file`] streams a file),
//!   close, abort, delete, get, list, wait.
//! - `ingest`: [`IngestRequest`], [`BulkClient::ingest`] and [`BulkClient::ingest_stream`].
//! - `poll`: [`PollConfig`].
//! - `error`: [`Error`] and its predicates.
//!
//! # Quick start
//! ```no_run
//! # async fn run() -> sfdc_bulk::Result<()> {
//! use futures::stream;
//! use serde_json::json;
//! use sfdc_bulk::{BulkClient, IngestRequest, Operation, Outcome, Record};
//!
//! let rest = sfdc_rest::Client::builder()
//!     .instance_url("https://example.my.salesforce.com")
//!     .access_token("00D...!token")
//!     .build()?;
//! let bulk = BulkClient::new(rest);
//!
//! let records: Vec<Record> = vec![
//!     json!({"Ext__c": "A-1", "Name": "Acme", "Phone": null}),
//!     json!({"Ext__c": "A-2", "Name": "Globex"}),
//! ]
//! .into_iter()
//! .filter_map(|v| v.as_object().cloned())
//! .collect();
//!
//! let request = IngestRequest::new("Account", Operation::Upsert).external_id_field("Ext__c");
//! let outcomes = bulk.ingest(request, stream::iter(records)).await?;
//! for (i, outcome) in outcomes.iter().enumerate() {
//!     match outcome {
//!         Outcome::Created(id) | Outcome::Updated(id) => println!("{i}: {id}"),
//!         Outcome::Failed { code, message, .. } => println!("{i}: {code}: {message}"),
//!         other => println!("{i}: {other:?}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Feature flags
//!
//! TLS backends, passed to `sfdc-rest` (see its docs): `rustls` (default, aws-lc-rs),
//! `rustls-ring` (no aws-lc in the build), `native-tls`. A Tokio runtime is required.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod csv;
mod error;
mod ingest;
pub mod job;
mod outcome;
mod poll;
mod results;
pub mod split;
mod spool;
mod worker;

pub use crate::csv::{Columns, EmptyString, RowEncoder, RowError, format_date, format_datetime};
pub use client::BulkClient;
pub use error::{Error, Result};
pub use ingest::IngestRequest;
pub use job::{JobInfo, JobState, Operation};
pub use outcome::{JobReport, Outcome};
pub use poll::PollConfig;
pub use results::parse_sf_error;
pub use sfdc_rest::ErrorCode;
pub use split::{Placement, SplitLimits, Splitter};
pub use spool::{ChunkConfig, ChunkWriter, ColumnMode, SpooledChunk};

/// One input record: field API name → JSON value. `null` sets the field to null (`#N/A`);
/// an absent field is left unchanged.
pub type Record = serde_json::Map<String, serde_json::Value>;
