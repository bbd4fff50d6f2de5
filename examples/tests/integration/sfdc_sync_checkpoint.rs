//! `sfdc-sync send --checkpoint`: a run stopped after two batches and restarted sends only the
//! remaining batches (asserted with the emulator's per-endpoint call counters against an
//! uninterrupted run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_examples::SETTINGS_TOML;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfdc-sync-cp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn settings(dir: &Path, emu: &Emulator) -> PathBuf {
    let path = dir.join("settings.toml");
    std::fs::write(
        &path,
        format!("token_url = \"{}\"\n{SETTINGS_TOML}", emu.token_url()),
    )
    .unwrap();
    path
}

fn send(settings: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "send",
        "--settings",
        settings.to_str().unwrap(),
        "--batch",
        "5",
    ];
    args.extend_from_slice(extra);
    args.push("examples/events.ndjson");
    Command::new(env!("CARGO_BIN_EXE_sfdc-sync"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR").to_owned() + "/..")
        .output()
        .unwrap()
}

/// Calls per endpoint kind except describe (each process describes once per object).
fn writes_and_queries(emu: &Emulator) -> BTreeMap<String, u64> {
    emu.api_call_counts()
        .into_iter()
        .filter(|(kind, n)| *n > 0 && !kind.contains("describe"))
        .collect()
}

fn last_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_after_two_batches_resumes_with_the_remaining_batches() {
    // The reference: one uninterrupted run, 28 events in 6 batches of 5.
    let reference = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = temp_dir("reference");
    let full = send(&settings(&dir, &reference), &[]);
    assert_eq!(full.status.code(), Some(1), "{}", last_line(&full));
    let expected = writes_and_queries(&reference);

    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = temp_dir("resumed");
    let s = settings(&dir, &emu);
    let checkpoint = dir.join("run.checkpoint");
    let outcomes = dir.join("outcomes.ndjson");
    let cp = checkpoint.to_str().unwrap();
    let out = outcomes.to_str().unwrap();
    let first = send(
        &s,
        &[
            "--checkpoint",
            cp,
            "--outcomes",
            out,
            "--stop-after-batches",
            "2",
        ],
    );
    assert_eq!(first.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&first.stderr).contains("stopped after 2 batches"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["events_done"], 10);
    assert_eq!(saved["batches_done"], 2);
    let after_two = writes_and_queries(&emu);
    assert!(after_two.values().sum::<u64>() < expected.values().sum::<u64>());

    let second = send(&s, &["--checkpoint", cp, "--outcomes", out]);
    assert_eq!(second.status.code(), Some(1), "{}", last_line(&second));
    assert!(
        last_line(&second).starts_with("18 events:"),
        "{}",
        last_line(&second)
    );
    // Together the two runs made exactly the calls of the uninterrupted run: nothing of the
    // first two batches was sent again.
    assert_eq!(writes_and_queries(&emu), expected);
    for object in ["Lead", "Account", "Contact"] {
        assert_eq!(
            emu.records(object).len(),
            reference.records(object).len(),
            "{object}"
        );
    }
    // One outcome line per input event across both runs.
    let lines = std::fs::read_to_string(&outcomes).unwrap().lines().count();
    assert_eq!(lines, 28);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["events_done"], 28);
    assert_eq!(saved["batches_done"], 6);
}
