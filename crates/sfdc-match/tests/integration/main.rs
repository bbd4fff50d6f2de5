//! The crate's integration tests in one binary (one link instead of one per file).
//! Each module is one former test file; tests that set process-global state keep their own binary.

mod emulator_lookup;
mod emulator_parser;
