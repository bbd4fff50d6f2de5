//! The CLI's errors and their exit codes.

use std::process::ExitCode;

/// Why a command stopped before its summary.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad arguments, settings, input or credentials: exit 2, the message says what to fix.
    #[error("{0}")]
    Usage(String),
    /// An I/O failure writing outputs: exit 2.
    #[error("{0}")]
    Io(String),
}

impl CliError {
    /// The process exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}
