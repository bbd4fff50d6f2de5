//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

#[path = "../support/mod.rs"]
mod support;

mod abandoned;
mod api_calls;
mod auth;
mod bulk_operations;
mod bulk_rest_order;
mod converted_lead;
mod default_mappings;
mod depth;
mod describe_with_lookups;
mod executor;
mod explain;
mod fault_suite;
mod idempotency_key;
mod in_flight_bulk;
mod lost_composite;
mod lost_responses;
mod matcher_values;
mod operations;
mod other_fields_object;
mod pending;
mod record_busy;
mod resend;
mod resolved_order;
mod session_concurrency;
mod settings_secrets;
mod settle;
