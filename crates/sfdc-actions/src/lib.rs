//! Segment-style events to planned Salesforce record operations, without I/O.
//!
//! This crate decides *what* should happen in Salesforce for an event (which object, which
//! operation, which field values, which record matchers) and leaves *how* to the REST and Bulk
//! clients.
//!
//! - [`Event`]: the Segment-spec event model (identify, track, group, page, screen, alias);
//!   unknown fields are kept. Planning works on any `serde_json::Value`, so your own JSON works.
//! - [`Mapping`] / [`CompiledMapping`]: mapping expressions (literal, [`Path`], fallback chain,
//!   [`Template`], object of named mappings), configured with serde (JSON, TOML) and compiled
//!   once. [`FieldMappings`] holds record matchers and Other Fields.
//! - [`Trigger`]: the subscription condition language (`type = "identify"`, `and`, `or`, `!=`,
//!   parentheses, property paths).
//! - The six actions: [`LeadConfig`], [`AccountConfig`], [`ContactConfig`], [`CaseConfig`],
//!   [`OpportunityConfig`], [`CustomObjectConfig`] (all [`ActionSettings`]), or any of them as
//!   [`ActionConfig`]; compiled into an [`Action`].
//! - [`PlannedOperation`]: the result; or an [`Error`] for that event only (status 400, never
//!   retryable).
//! - [`FieldType`]: the coercion of event values to Salesforce field types.
//!
//! # Quick start
//!
//! ```
//! use serde_json::json;
//! use sfdc_actions::{LeadConfig, Mapping, Operation};
//!
//! // Default trigger `type = "identify"` and default mappings, upserting on Email.
//! let action = LeadConfig::default()
//!     .operation(Operation::Upsert)
//!     .record_matcher("Email", Mapping::path("$.traits.email"))
//!     .compile()?;
//!
//! let event = json!({
//!     "type": "identify",
//!     "userId": "u-1",
//!     "traits": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
//!                "company": "Analytical Engines", "address": {"city": "London"}}
//! });
//! assert!(action.is_triggered_by(&event));
//! let plan = action.plan(&event)?;
//! assert_eq!(plan.object, "Lead");
//! assert_eq!(plan.fields["LastName"], "Lovelace");
//! assert_eq!(plan.fields["City"], "London");
//! assert_eq!(plan.matchers[0].field, "Email");
//!
//! // One bad event gets its own error; the others are planned.
//! let results = action.plan_batch(&[event, json!({"traits": {"email": "x@y.z"}})]);
//! assert!(results[0].is_ok());
//! let err = results[1].as_ref().unwrap_err();
//! assert_eq!((err.status(), err.is_retryable()), (400, false));
//! # Ok::<(), sfdc_actions::Error>(())
//! ```
//!
//! # Feature flags
//!
//! None: the crate is pure (no I/O, no async runtime).

mod action;
mod coerce;
mod depth;
mod error;
mod event;
mod mapping;
mod plan;
mod trigger;

pub use action::{
    AccountConfig, AccountFields, Action, ActionConfig, ActionFields, ActionKind, ActionSettings,
    BulkSettings, CaseConfig, CaseFields, ContactConfig, ContactFields, ConvertedLeadPolicy,
    CustomObjectConfig, CustomObjectFields, FieldSpec, IdempotencyKey, LeadConfig, LeadFields,
    OpportunityConfig, OpportunityFields,
};
pub use coerce::FieldType;
pub use depth::MAX_EVENT_DEPTH;
pub use error::{Error, Result};
pub use event::{Event, EventType};
pub use mapping::{CompiledMapping, FieldMappings, Mapping, Path, Template};
pub use plan::{BulkPlan, ExternalId, MatchOperator, Operation, PlannedOperation, RecordMatcher};
pub use trigger::Trigger;
