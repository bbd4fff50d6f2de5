//! Progress on stderr: a spinner with counts on a terminal, a plain line every few seconds
//! otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Reports how many events were sent.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    last_plain: Instant,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub(crate) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {pos} events sent {msg} ({per_sec})")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            last_plain: Instant::now(),
        }
    }

    /// Records that `events` were sent in total, `failed` of them failed.
    pub(crate) fn update(&mut self, events: usize, failed: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(events as u64);
                bar.set_message(format!("{failed} failed"));
            }
            None if self.last_plain.elapsed() >= PLAIN_EVERY => {
                self.last_plain = Instant::now();
                eprintln!("sfdc-sync: {events} events sent, {failed} failed");
            }
            None => {}
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
