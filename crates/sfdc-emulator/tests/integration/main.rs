//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

#[path = "../support/mod.rs"]
mod support;

mod binary;
mod bulk;
mod collections;
mod composite;
mod concurrency;
mod handlers;
mod limits_faults;
mod oauth;
mod query_routes;
mod rest;
mod soql;
mod soql_roundtrip;
