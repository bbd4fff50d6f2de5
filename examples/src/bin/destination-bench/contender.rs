//! The jsforce contender: `examples/bench/jsforce_contender.js` on the same workload.

use std::path::PathBuf;

use crate::report::{self, Measurement};
use crate::workload::Workload;

/// Runs the Node.js contender against a fresh emulator, `concurrent_batches` batches at once.
pub(crate) async fn measure(
    workload: &Workload,
    node_modules: &str,
    concurrent_batches: usize,
) -> Result<Measurement, Box<dyn std::error::Error>> {
    let emu = workload.start_emulator().await?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/jsforce_contender.js");
    let mut command = tokio::process::Command::new("node");
    command
        .env("NODE_PATH", node_modules)
        .arg(script)
        .arg(emu.instance_url())
        .arg(emu.access_token())
        .arg(workload.events.to_string())
        .arg(workload.batch.to_string())
        .arg(concurrent_batches.to_string());
    report::run_child(command, &emu).await
}
