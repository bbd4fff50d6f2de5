//! `sfdc-sync login` end to end against the emulator: the test acts as the browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sfdc_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_writes_a_private_settings_file_that_send_can_use() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("sfdc-sync-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("org.toml");
    let base = emu.instance_url();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfdc-sync"))
        .args([
            "login",
            "--client-id",
            &emu.config().client_id,
            "--insecure-loopback-url",
            &base,
            "--port",
            "0",
            "--timeout",
            "60",
            "--output",
            output.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let authorize = loop {
        let line = lines.next().unwrap().unwrap();
        if line.contains("/services/oauth2/authorize?") {
            break line;
        }
    };
    assert!(authorize.contains("code_challenge_method=S256"));
    let tokens_before = emu.token_requests();

    // The browser: the emulator approves at once and redirects to the loopback callback.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let approve = http.get(&authorize).send().await.unwrap();
    assert_eq!(approve.status().as_u16(), 302);
    let location = approve.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://localhost:"), "{location}");
    let callback = http.get(&location).send().await.unwrap();
    assert_eq!(callback.status().as_u16(), 200);

    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{rest:?}");
    assert_eq!(emu.token_requests(), tokens_before + 1);
    let text = std::fs::read_to_string(&output).unwrap();
    // The refresh token is in the token store the settings file points at, not in the file.
    let store = dir.join("org.toml.refresh-token");
    assert!(!text.contains(&emu.refresh_token()), "{text}");
    assert!(
        text.contains("token_store = \"org.toml.refresh-token\""),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&store).unwrap().trim(),
        emu.refresh_token()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&output, &store] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }

    // The written file works for `send` once subscriptions are added.
    let mut settings = text;
    settings.push_str("[[subscriptions]]\naction = \"lead\"\noperation = \"upsert\"\nrecord_matchers = { Email = { \"@path\" = \"$.traits.email\" } }\n");
    std::fs::write(&output, settings).unwrap();
    let send = Command::new(env!("CARGO_BIN_EXE_sfdc-sync"))
        .args([
            "send",
            "--settings",
            output.to_str().unwrap(),
            "examples/events.ndjson",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR").to_owned() + "/..")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&send.stdout);
    assert_eq!(
        send.status.code(),
        Some(1),
        "{out} {}",
        String::from_utf8_lossy(&send.stderr)
    );
    assert!(emu.records("Lead").len() >= 12, "{out}");
}
