//! Record matchers to SOQL: field-name validation, escaped typed literals, batched lookups
//! and 0/1/many resolution.
//!
//! Update, upsert and delete find their record through *record matchers*: field API name →
//! value pairs joined by OR (default) or AND. This crate turns matchers into SOQL text and
//! decides, per event, what the lookup found. It does no I/O, and it is the only place in the
//! workspace where a user value enters a SOQL string.
//!
//! # Contents
//! - [`FieldName`], [`SObjectName`]: validated API names; nothing is ever stripped.
//! - [`Literal`], [`quote_string`], [`literal_for`]: typed, escaped SOQL literals, written by
//!   the field's [`FieldType`] when a [`Schema`] (from describe) knows it.
//! - [`Matcher`], [`MatchOperator`], [`Lookup`]: one event's lookup and its single-event
//!   SOQL; [`LookupPlan`] says whether a query is needed at all.
//! - [`BatchPlan`], [`BatchQuery`], [`QueryLimits`]: many events in as few queries as the
//!   100,000-character and 16,384-byte URI limits allow.
//! - [`Resolution`]: per event `NotFound`, `Found(id)` or `Multiple(ids)` (status 300, not
//!   retryable), by Salesforce's comparison rules.
//! - [`Error`], [`Result`]: one error enum; messages say what to fix.
//!
//! # Quick start
//! ```
//! use serde_json::json;
//! use sfdc_match::{BatchPlan, FieldType, Lookup, QueryLimits, Resolution, Schema};
//!
//! // Describe told us Phone is a text field: a number becomes a quoted string.
//! let schema = Schema::new().field("Email", FieldType::Text).field("Phone", FieldType::Text);
//! let one = Lookup::builder("Lead")
//!     .schema(&schema)
//!     .matcher("Email", json!("o'hara@example.com"))
//!     .matcher("Phone", json!(5551234))
//!     .build()?;
//! assert_eq!(
//!     one.to_soql(),
//!     r"SELECT Id FROM Lead WHERE Email = 'o\'hara@example.com' OR Phone = '5551234'"
//! );
//!
//! // Many events: one query, then assign what comes back.
//! let events = ["a@example.com", "b@example.com"];
//! let lookups = events
//!     .iter()
//!     .map(|e| Lookup::builder("Lead").schema(&schema).matcher("Email", json!(e)).build())
//!     .collect::<Result<Vec<_>, _>>()?;
//! let plan = BatchPlan::build(&lookups, &QueryLimits::default())?;
//! assert_eq!(
//!     plan.queries()[0].soql(),
//!     "SELECT Id, Email FROM Lead WHERE Email IN ('a@example.com','b@example.com')"
//! );
//! let returned = [json!({"Id": "00Q000000000001EAA", "Email": "A@Example.com"})];
//! let resolved = plan.resolve(returned.iter().filter_map(|r| r.as_object()));
//! assert_eq!(resolved[0], Ok(Resolution::Found("00Q000000000001EAA".into())));
//! assert_eq!(resolved[1], Ok(Resolution::NotFound));
//! # Ok::<(), sfdc_match::Error>(())
//! ```
//!
//! # Feature flags
//! None: the crate is pure and always the same.

mod batch;
mod compare;
mod error;
mod field;
mod field_type;
mod ids;
mod limits;
mod literal;
mod matcher;
mod resolve;
mod value;

pub use batch::{BatchPlan, BatchQuery};
pub use error::{Error, Result};
pub use field::{FieldName, SObjectName};
pub use field_type::{FieldInfo, FieldType, Schema};
pub use ids::{canonical_id, push_canonical_id};
pub use limits::{QueryLimits, encoded_len};
pub use literal::{Decimal, Literal, quote_string};
pub use matcher::{Lookup, LookupBuilder, LookupPlan, MatchOperator, Matcher, TypedMatcher};
pub use resolve::Resolution;
pub use value::{MAX_STRING_CHARS, literal_for};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctest;
