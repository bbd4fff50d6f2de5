//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

#[path = "../support/mod.rs"]
mod support;

mod actions;
mod config;
mod depth;
mod idempotency;
mod proptest_eval;
mod validation;
