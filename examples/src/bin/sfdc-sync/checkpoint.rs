//! `send --checkpoint FILE`: the input position after each fully outcomed batch and the events
//! whose Bulk jobs were still pending, written atomically, so a restart settles those jobs and
//! resumes after the last recorded batch.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sfdc_destination::EventOutcome;

use crate::error::CliError;

/// One event whose outcome was pending (a Bulk job still running) when its batch ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingEvent {
    /// Its 1-based input line.
    pub(crate) line: usize,
    /// Its 0-based position in the input.
    pub(crate) index: usize,
    /// The event as read.
    pub(crate) event: serde_json::Value,
    /// Its pending outcome (with the Bulk job ids).
    pub(crate) outcome: EventOutcome,
}

/// What the checkpoint file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Checkpoint {
    /// Input events fully outcomed (the restart skips this many).
    pub(crate) events_done: usize,
    /// Batches fully outcomed.
    pub(crate) batches_done: usize,
    /// Events still pending on a Bulk job.
    pub(crate) pending: Vec<PendingEvent>,
}

impl Checkpoint {
    /// Reads the checkpoint at `path`; a missing file is a fresh start.
    pub(crate) fn load(path: &Path) -> Result<Checkpoint, CliError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!(
                    "checkpoint {} is not readable ({e}); remove it to start over",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
            Err(e) => Err(CliError::Usage(format!(
                "cannot read the checkpoint {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the checkpoint atomically: a temporary file in the same directory, flushed to
    /// disk, renamed over `path`.
    pub(crate) fn save(&self, path: &Path) -> Result<(), CliError> {
        let io = |e: std::io::Error| {
            CliError::Io(format!(
                "cannot write the checkpoint {}: {e}",
                path.display()
            ))
        };
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!(".{}.tmp", std::process::id()));
        let temp = PathBuf::from(temp);
        let text = serde_json::to_vec(self).map_err(|e| CliError::Io(e.to_string()))?;
        let mut file = std::fs::File::create(&temp).map_err(io)?;
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&temp, path).map_err(io)
    }
}
