//! `sfdc-sync limits`: the org's API usage and limits in a short table.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::connect::connect;
use crate::error::CliError;

/// The limits shown without `--all`.
const SHORT: &[&str] = &[
    "DailyApiRequests",
    "DailyBulkV2QueryJobs",
    "DailyBulkApiBatches",
    "DataStorageMB",
    "FileStorageMB",
    "HourlyPublishedPlatformEvents",
];

/// Arguments of `limits`.
#[derive(Debug, clap::Args)]
pub(crate) struct LimitsArgs {
    /// Settings file (as for `send`); without it the embedded emulator.
    #[arg(long)]
    pub(crate) settings: Option<PathBuf>,
    /// Show every limit the org reports, not only the common ones.
    #[arg(long)]
    pub(crate) all: bool,
}

/// Runs `limits`.
pub(crate) async fn run(args: LimitsArgs) -> Result<ExitCode, CliError> {
    let connection = connect(args.settings.as_deref()).await?;
    let limits = connection
        .destination
        .client()
        .limits()
        .await
        .map_err(|e| CliError::Usage(format!("GET limits failed: {e}")))?;
    println!(
        "{:<36} {:>12} {:>12} {:>12}",
        "limit", "max", "remaining", "used"
    );
    for (name, limit) in &limits.0 {
        if args.all || SHORT.contains(&name.as_str()) {
            println!(
                "{name:<36} {:>12} {:>12} {:>12}",
                limit.max,
                limit.remaining,
                limit.max - limit.remaining
            );
        }
    }
    if let Some(usage) = connection.destination.client().api_usage() {
        println!("Sforce-Limit-Info: api-usage={}/{}", usage.used, usage.max);
    }
    Ok(ExitCode::SUCCESS)
}
