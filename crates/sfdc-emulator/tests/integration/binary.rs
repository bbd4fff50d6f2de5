//! The `sfdc-emulator` binary: start-up JSON line, serving over HTTP and HTTPS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Spawns the binary and reads its JSON start-up line.
async fn spawn(args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfdc-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.unwrap();
    let v: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad start-up line {line:?}: {e}"));
    (child, v)
}

#[tokio::test]
async fn binary_prints_credentials_and_serves() {
    let dir = std::env::temp_dir().join(format!("sfdc-emulator-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = dir.join("schema.json");
    std::fs::write(
        &schema,
        r#"{"objects":[{"name":"Invoice__c","keyPrefix":"a05","fields":[{"name":"Number__c","type":"string","length":20,"externalId":true}]}]}"#,
    )
    .unwrap();
    let (mut child, line) = spawn(&[
        "--daily-api-limit",
        "1234",
        "--seed",
        "3",
        "--schema",
        schema.to_str().unwrap(),
    ])
    .await;
    let instance = line["instance_url"].as_str().unwrap();
    assert!(instance.starts_with("http://127.0.0.1:"), "{instance}");
    assert_eq!(
        line["token_url"].as_str().unwrap(),
        format!("{instance}/services/oauth2/token")
    );
    for key in [
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
    ] {
        assert!(line[key].is_string(), "{key}");
    }
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{instance}/services/data/v62.0/limits"))
        .bearer_auth(line["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=1/1234");
    // The printed refresh token and client credentials work.
    let r = http
        .post(line["token_url"].as_str().unwrap())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", line["client_id"].as_str().unwrap()),
            ("client_secret", line["client_secret"].as_str().unwrap()),
            ("refresh_token", line["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The schema file's custom object is served.
    let r = http
        .patch(format!(
            "{instance}/services/data/v62.0/sobjects/Invoice__c/Number__c/N1"
        ))
        .bearer_auth(line["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"Name": "first"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("a05"), "{body}");
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn binary_serves_https_with_the_written_certificate() {
    let dir = std::env::temp_dir().join(format!("sfdc-emulator-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_path = dir.join("cert.pem");
    let (mut child, line) = spawn(&["--tls", "--cert-out", cert_path.to_str().unwrap()]).await;
    let instance = line["instance_url"].as_str().unwrap().to_owned();
    assert!(instance.starts_with("https://127.0.0.1:"), "{instance}");
    let pem = std::fs::read(&cert_path).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = http
        .get(format!("{instance}/services/data/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Also valid for `localhost`.
    let port = instance.rsplit(':').next().unwrap();
    let r = http
        .get(format!(
            "https://localhost:{port}/services/data/v62.0/sobjects"
        ))
        .bearer_auth(line["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A client that does not trust the certificate is refused.
    assert!(
        reqwest::Client::new()
            .get(format!("{instance}/services/data/"))
            .send()
            .await
            .is_err()
    );
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
