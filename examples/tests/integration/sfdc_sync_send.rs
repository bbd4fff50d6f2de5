//! `sfdc-sync send` run as a process against the embedded emulator or a test emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig};
use sfdc_examples::SETTINGS_TOML;

const SAMPLE: &str = include_str!("../../events.ndjson");
/// The sample's counts: 28 events, 3 invalid (no last name), 2 no subscription triggers.
const SAMPLE_LAST_LINE: &str = "28 events: 23 succeeded, 3 failed, 2 skipped, 0 pending;";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfdc-sync-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sfdc_sync(args: &[&str], stdin: Option<&str>, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfdc-sync"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn last_line(o: &Output) -> String {
    stdout(o).lines().last().unwrap_or_default().to_owned()
}

/// The example settings pointed at `emu`, with `extra` appended and `refresh` as the
/// refresh-token line.
fn settings_file(dir: &Path, emu: &Emulator, refresh: &str, extra: &str) -> PathBuf {
    let text = SETTINGS_TOML.replace(
        "refresh_token = \"emulator-refresh-token\"",
        &format!("refresh_token = {refresh}"),
    );
    let text = format!("token_url = \"{}\"\n{text}\n{extra}", emu.token_url());
    let path = dir.join("settings.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn sample_as_array() -> String {
    let events: Vec<serde_json::Value> = SAMPLE
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    serde_json::to_string_pretty(&events).unwrap()
}

#[test]
fn ndjson_array_and_batch_from_file_and_stdin_give_the_same_summary() {
    let dir = temp_dir("formats");
    let array = sample_as_array();
    let batch = format!("{{\"sentAt\": \"2026-01-01T00:00:00Z\", \"batch\": {array}}}");
    let ndjson_path = dir.join("events.ndjson");
    let array_path = dir.join("events.json");
    let batch_path = dir.join("batch.json");
    std::fs::write(&ndjson_path, SAMPLE).unwrap();
    std::fs::write(&array_path, &array).unwrap();
    std::fs::write(&batch_path, &batch).unwrap();
    for (path, text) in [
        (&ndjson_path, SAMPLE),
        (&array_path, array.as_str()),
        (&batch_path, batch.as_str()),
    ] {
        let from_file = sfdc_sync(
            &["send", path.to_str().unwrap(), "--batch", "10"],
            None,
            &[],
        );
        assert_eq!(from_file.status.code(), Some(1), "{}", stdout(&from_file));
        assert!(
            last_line(&from_file).starts_with(SAMPLE_LAST_LINE),
            "{}",
            last_line(&from_file)
        );
        let from_stdin = sfdc_sync(&["send", "-"], Some(text), &[]);
        assert_eq!(from_stdin.status.code(), Some(1));
        assert!(last_line(&from_stdin).starts_with(SAMPLE_LAST_LINE));
    }
}

#[test]
fn outcomes_file_has_one_line_per_event_with_line_and_message_id() {
    let dir = temp_dir("outcomes");
    let out = dir.join("outcomes.ndjson");
    let run = sfdc_sync(
        &[
            "send",
            "--outcomes",
            out.to_str().unwrap(),
            "--batch",
            "7",
            "-",
        ],
        Some(SAMPLE),
        &[],
    );
    assert_eq!(run.status.code(), Some(1));
    let text = std::fs::read_to_string(&out).unwrap();
    let outcomes: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(outcomes.len(), SAMPLE.lines().count());
    for (i, (outcome, event)) in outcomes.iter().zip(SAMPLE.lines()).enumerate() {
        let event: serde_json::Value = serde_json::from_str(event).unwrap();
        assert_eq!(outcome["line"], i + 1);
        assert_eq!(outcome["index"], i);
        assert_eq!(outcome["message_id"], event["messageId"]);
    }
    let failed = outcomes.iter().filter(|o| o["status"] == "failed").count();
    assert_eq!(failed, 3);
}

#[test]
fn exit_codes_are_0_when_nothing_failed_and_2_for_usage_errors() {
    let ok: String = SAMPLE
        .lines()
        .filter(|l| {
            !l.contains("nolastname")
                && !l.contains("signup-bad")
                && !l.contains("also-no-last-name")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let run = sfdc_sync(&["send"], Some(&ok), &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stdout(&run));
    assert!(
        last_line(&run).starts_with("25 events: 23 succeeded, 0 failed, 2 skipped, 0 pending;")
    );

    let malformed = sfdc_sync(
        &["send"],
        Some("{\"type\": \"identify\"}\n{not json\n"),
        &[],
    );
    assert_eq!(malformed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&malformed.stderr).contains("line 2"));

    let missing = sfdc_sync(&["send", "does-not-exist.ndjson"], None, &[]);
    assert_eq!(missing.status.code(), Some(2));
    let bad_flag = sfdc_sync(&["send", "--batch", "0"], Some(""), &[]);
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_from_the_environment_and_bad_secrets_exit_2_without_the_secret() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = temp_dir("secrets");
    let settings = settings_file(&dir, &emu, "{ env = \"SFDC_SYNC_TEST_RT\" }", "");
    let s = settings.to_str().unwrap();
    let good = sfdc_sync(
        &["send", "--settings", s],
        Some(SAMPLE),
        &[("SFDC_SYNC_TEST_RT", "emulator-refresh-token")],
    );
    assert_eq!(
        good.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(last_line(&good).starts_with(SAMPLE_LAST_LINE));
    assert_eq!(emu.records("Lead").len(), 12);

    let missing = sfdc_sync(&["send", "--settings", s], Some(SAMPLE), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("SFDC_SYNC_TEST_RT"));

    let secret = "not-the-token-4f9a2c";
    let bad = sfdc_sync(
        &["send", "--settings", s],
        Some(SAMPLE),
        &[("SFDC_SYNC_TEST_RT", secret)],
    );
    assert_eq!(bad.status.code(), Some(2));
    let all = format!("{}{}", stdout(&bad), String::from_utf8_lossy(&bad.stderr));
    assert!(!all.contains(secret), "{all}");
    assert!(all.contains("credentials"), "{all}");
}

/// Sorted emails of Leads, account numbers of Accounts, and last names of Contacts.
fn org_state(emu: &Emulator) -> Vec<Vec<String>> {
    [
        ("Lead", "Email"),
        ("Account", "AccountNumber"),
        ("Contact", "LastName"),
    ]
    .iter()
    .map(|(object, field)| {
        let mut v: Vec<String> = emu
            .records(object)
            .iter()
            .map(|r| {
                r.get(*field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        v.sort();
        v
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_replay_reaches_the_state_of_a_fault_free_run() {
    let clean = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = temp_dir("dead-clean");
    let settings = settings_file(&dir, &clean, "\"emulator-refresh-token\"", "");
    let run = sfdc_sync(
        &[
            "send",
            "--settings",
            settings.to_str().unwrap(),
            "--batch",
            "5",
        ],
        Some(SAMPLE),
        &[],
    );
    assert_eq!(run.status.code(), Some(1));

    let mut config = EmulatorConfig::default();
    let mut faults = FaultConfig::default();
    faults.server_unavailable = 0.3;
    config.faults = faults;
    config.seed = 7;
    let faulty = Emulator::start(config).await.unwrap();
    let dir = temp_dir("dead-faulty");
    let settings = settings_file(
        &dir,
        &faulty,
        "\"emulator-refresh-token\"",
        "[client]\nmax_attempts = 1\n",
    );
    let s = settings.to_str().unwrap();
    let mut input = SAMPLE.to_owned();
    let mut dead_total = 0;
    for round in 0..30 {
        let dead = dir.join(format!("dead-{round}.ndjson"));
        let run = sfdc_sync(
            &[
                "send",
                "--settings",
                s,
                "--batch",
                "5",
                "--dead-letter",
                dead.to_str().unwrap(),
            ],
            Some(&input),
            &[],
        );
        assert_ne!(
            run.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        input = std::fs::read_to_string(&dead).unwrap();
        dead_total += input.lines().count();
        if input.is_empty() {
            break;
        }
    }
    assert!(input.is_empty(), "dead letters left after 30 rounds");
    assert!(dead_total > 0, "the faults produced no retryable failure");
    assert_eq!(org_state(&faulty), org_state(&clean));
}

#[test]
fn limits_prints_the_daily_api_allocation_of_the_emulator() {
    let run = sfdc_sync(&["limits"], None, &[]);
    assert_eq!(run.status.code(), Some(0));
    let out = stdout(&run);
    let row = out
        .lines()
        .find(|l| l.starts_with("DailyApiRequests"))
        .unwrap_or_else(|| panic!("{out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    // The emulator's default daily allocation; the limits call itself is the one call used.
    assert_eq!(
        cols[1],
        EmulatorConfig::default().daily_api_limit.to_string()
    );
    assert_eq!(cols[3], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_plans_without_any_api_call_or_token_request() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = temp_dir("dry-run");
    let settings = settings_file(&dir, &emu, "\"emulator-refresh-token\"", "");
    let run = sfdc_sync(
        &[
            "send",
            "--dry-run",
            "--settings",
            settings.to_str().unwrap(),
            "--batch",
            "10",
            "-",
        ],
        Some(SAMPLE),
        &[],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = stdout(&run);
    assert!(out.contains("(dry run: no describe, string types assumed)"));
    let lead = out.lines().find(|l| l.starts_with("lead (Lead)")).unwrap();
    assert_eq!(
        lead.split_whitespace().collect::<Vec<_>>()[3..],
        ["15", "2"]
    );
    // The destination's planner, batches of 10: batch 1 describes Lead with its lookup in one
    // Composite call and writes the leads (2); batch 2 describes Account and Contact with the
    // lead and account lookups in one Composite call and writes the three groups in another
    // (2); batch 3 creates the one valid contact (1). Describes count once per object (the
    // client caches them). A real run with `--batch 10` makes these 5 calls.
    assert!(out.contains("first batch:"));
    assert!(out.contains("    describe Lead 0 records"));
    assert!(out.contains("SELECT Id, Email FROM Lead WHERE Email IN ("));
    assert_eq!(last_line(&run), "28 events planned: 5 calls; 0 API calls");
    assert_eq!(emu.api_calls(), 0);
    assert_eq!(emu.token_requests(), 0);
    assert!(emu.records("Lead").is_empty());
}
