//! An in-memory Salesforce org served over HTTP on loopback, for tests, examples and
//! benchmarks. It is an independent reading of the Salesforce wire facts: it shares no
//! code with the client crates, so it catches their mistakes instead of mirroring them.
//!
//! What it serves (see `docs/sfdc-emulator.md` for every edge):
//! - OAuth token endpoint: refresh_token, password, client_credentials, JWT bearer grants;
//! - REST: versions, resources, describe global / object, create, retrieve, update,
//!   delete, upsert by external id;
//! - SOQL `query` / `queryAll` with `nextRecordsUrl` paging;
//! - sObject Collections create / update / upsert / delete / retrieve;
//! - Composite (`/composite`: references, allOrNone, collateSubrequests, one API call) and
//!   Composite Batch;
//! - Bulk API 2.0 ingest;
//! - `/limits`, `Sforce-Limit-Info`, a daily allocation;
//! - deterministic fault injection (latency, 503, `UNABLE_TO_LOCK_ROW`, dropped
//!   connections after commit, forced token expiry).
//!
//! Modules: [`soql`] (the SOQL parser and evaluator). Everything else is re-exported here.
//!
//! # Quick start
//! ```no_run
//! # async fn run() -> Result<(), sfdc_emulator::EmulatorError> {
//! use sfdc_emulator::{Emulator, EmulatorConfig};
//!
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! let id = emu.insert_record("Account", serde_json::json!({"Name": "Acme"}))?;
//! // Point a client at emu.instance_url() with emu.access_token(), then inspect:
//! assert_eq!(emu.records("Account").len(), 1);
//! assert_eq!(emu.api_calls(), 0);
//! # let _ = id;
//! # Ok(()) }
//! ```

mod app;
mod bulk;
mod config;
mod conn;
mod cost;
mod emulator;
mod error;
mod extract;
mod fasthash;
mod ids;
mod routes;
mod schema;
pub mod soql;
mod state;
mod store;
mod tls;

pub use config::{EmulatorConfig, FaultConfig};
pub use emulator::{Emulator, router};
pub use error::EmulatorError;
pub use schema::{FieldDef, FieldType, ObjectDef, SchemaFile};
pub use store::{BulkJobSnapshot, LeadConversion};

/// Result alias of the library API.
pub type Result<T, E = EmulatorError> = std::result::Result<T, E>;
