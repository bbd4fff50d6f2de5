//! Measurements of child clients and the Markdown table of their medians.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use sfdc_emulator::Emulator;

/// What one client run reported, plus the emulator's count of API calls.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Measurement {
    events: usize,
    seconds: f64,
    failed: usize,
    cpu_ms: f64,
    peak_rss_kib: u64,
    #[serde(skip)]
    api_calls: u64,
}

impl Measurement {
    fn events_per_s(&self) -> f64 {
        self.events as f64 / self.seconds.max(1e-9)
    }
}

/// Runs a client child process to completion and reads its JSON line.
pub(crate) async fn run_child(
    mut command: tokio::process::Command,
    emu: &Emulator,
) -> Result<Measurement, Box<dyn std::error::Error>> {
    let before = emu.api_calls();
    let output = command.kill_on_drop(true).output().await?;
    if !output.status.success() {
        return Err(format!(
            "client failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("client printed no measurement")?;
    let mut m: Measurement = serde_json::from_str(line)?;
    m.api_calls = emu.api_calls() - before;
    if m.failed > 0 {
        return Err(format!("{} of {} events did not succeed", m.failed, m.events).into());
    }
    Ok(m)
}

/// Measurements by (path, client), in insertion order, each with its run number.
pub(crate) struct Table {
    conditions: String,
    rows: Vec<(String, String)>,
    runs: BTreeMap<(String, String), Vec<(usize, Measurement)>>,
}

impl Table {
    pub(crate) fn new(conditions: String) -> Table {
        Table {
            conditions,
            rows: Vec::new(),
            runs: BTreeMap::new(),
        }
    }

    pub(crate) fn add(&mut self, path: &str, client: &str, run: usize, m: Measurement) {
        let key = (path.to_owned(), client.to_owned());
        if !self.rows.contains(&key) {
            self.rows.push(key.clone());
        }
        self.runs.entry(key).or_default().push((run, m));
    }

    /// Median over runs of `self`'s events/s divided by the first client's on the same path
    /// and run (ratios from one run, then their median).
    fn ratio_to_first(&self, path: &str, client: &str) -> Option<f64> {
        let first = self.rows.iter().find(|(p, _)| p == path)?;
        if first.1 == client {
            return None;
        }
        let base = self.runs.get(first)?;
        let ours = self.runs.get(&(path.to_owned(), client.to_owned()))?;
        let ratios: Vec<f64> = ours
            .iter()
            .filter_map(|(run, m)| {
                base.iter()
                    .find(|(r, _)| r == run)
                    .map(|(_, b)| b.events_per_s() / m.events_per_s())
            })
            .collect();
        Some(median(ratios))
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Conditions: {}. Medians over runs.", self.conditions)?;
        writeln!(f)?;
        writeln!(
            f,
            "| path | client | API calls | events/s | sfdc-destination ÷ this (per-run events/s ratio) | client CPU ms | peak RSS MiB |"
        )?;
        writeln!(f, "|---|---|---:|---:|---:|---:|---:|")?;
        for (path, client) in &self.rows {
            let Some(runs) = self.runs.get(&(path.clone(), client.clone())) else {
                continue;
            };
            let pick =
                |g: fn(&Measurement) -> f64| median(runs.iter().map(|(_, m)| g(m)).collect());
            let ratio = self
                .ratio_to_first(path, client)
                .map_or_else(|| "—".to_owned(), |r| format!("{r:.2}×"));
            writeln!(
                f,
                "| {path} | {client} | {:.0} | {:.0} | {ratio} | {:.0} | {:.1} |",
                pick(|m| m.api_calls as f64),
                pick(Measurement::events_per_s),
                pick(|m| m.cpu_ms),
                pick(|m| m.peak_rss_kib as f64 / 1024.0),
            )?;
        }
        Ok(())
    }
}
