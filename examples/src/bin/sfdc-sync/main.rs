//! `sfdc-sync`: send events from a file or stdin into Salesforce (or the embedded emulator),
//! and show the org's limits.
//!
//! ```text
//! cargo run --release -p sfdc-examples --bin sfdc-sync -- send examples/events.ndjson
//! sfdc-sync send --settings org.toml --outcomes out.ndjson --dead-letter retry.ndjson events.ndjson
//! sfdc-sync send --settings org.toml --checkpoint run.checkpoint events.ndjson   # resumable
//! sfdc-sync limits --settings org.toml
//! sfdc-sync login --client-id KEY --sandbox --output org.toml
//! ```
//!
//! Exit codes: 0 nothing failed, 1 some events failed, 2 usage, settings or authentication
//! errors. Thin by design: parsing, I/O and presentation; the behaviour is in the libraries.

mod checkpoint;
mod connect;
mod dry_run;
mod error;
mod input;
mod limits;
mod login;
mod progress;
mod secrets;
mod send;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sends customer events into Salesforce through sfdc-destination.
#[derive(Debug, Parser)]
#[command(name = "sfdc-sync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send events (NDJSON, JSON array or `{"batch": [...]}`) from a file or stdin.
    Send(send::SendArgs),
    /// Show the org's API usage and limits.
    Limits(limits::LimitsArgs),
    /// Obtain a refresh token (OAuth web-server flow with PKCE) and write a settings file.
    Login(login::LoginArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Send(args) => send::run(args).await,
        Command::Limits(args) => limits::run(args).await,
        Command::Login(args) => login::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sfdc-sync: {e}");
            e.exit_code()
        }
    }
}
