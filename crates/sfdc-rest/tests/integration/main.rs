//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod body_stream;
mod collections;
mod composite;
mod describe;
mod emulator;
mod gzip;
mod hostile;
mod limits;
mod query;
mod redaction;
mod refresh_race;
mod retry;
mod salesforce_headers;
mod session_refresh;
mod sobjects;
