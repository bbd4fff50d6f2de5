//! `sfdc-sync send` with a token store against an emulator that rotates refresh tokens: the
//! rotated token is saved, and the next run uses it (never the spent or the configured one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_examples::SETTINGS_TOML;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfdc-sync-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn send(settings: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sfdc-sync"))
        .args([
            "send",
            "--settings",
            settings.to_str().unwrap(),
            "examples/events.ndjson",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR").to_owned() + "/..")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_during_send_is_stored_and_used_by_the_next_run() {
    let mut config = EmulatorConfig::default();
    config.rotate_refresh_tokens = true;
    let emu = Emulator::start(config).await.unwrap();
    let dir = temp_dir("rotation");
    let store = dir.join("org.refresh-token");
    let first = emu.refresh_token();
    std::fs::write(&store, format!("{first}\n")).unwrap();
    // The configured token is stale: the stored one must win.
    let text = SETTINGS_TOML.replace(
        "refresh_token = \"emulator-refresh-token\"",
        "refresh_token = \"stale-configured-token\"\ntoken_store = \"org.refresh-token\"",
    );
    let settings = dir.join("org.toml");
    std::fs::write(
        &settings,
        format!("token_url = \"{}\"\n{text}", emu.token_url()),
    )
    .unwrap();

    let mut seen = vec![first];
    for run in 1..=2 {
        let tokens_before = emu.token_requests();
        let out = send(&settings);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The sample has invalid events (exit 1); an auth failure would be exit 2.
        assert_eq!(out.status.code(), Some(1), "run {run}: {stdout} {stderr}");
        assert!(emu.token_requests() > tokens_before, "run {run}");
        let stored = std::fs::read_to_string(&store).unwrap().trim().to_owned();
        assert_eq!(
            stored,
            emu.refresh_token(),
            "run {run}: the newest token is stored"
        );
        assert!(!seen.contains(&stored), "run {run}: the token rotated");
        assert!(!stdout.contains(&stored) && !stderr.contains(&stored));
        seen.push(stored);
    }
    // No run presented a spent token (that would have revoked the grant).
    assert_eq!(emu.refresh_token_reuses(), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
