//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

mod sfdc_sync_checkpoint;
mod sfdc_sync_login;
mod sfdc_sync_send;
mod sfdc_sync_token_store;
