//! OAuth through the settings: refresh token against the emulator's loopback token URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use sfdc_destination::{AuthSettings, Destination, Error, OutcomeStatus, Settings};
use support::*;

fn settings_for(emu: &sfdc_emulator::Emulator, refresh_token: String) -> Settings {
    let mut settings = Settings::from_toml_str(&format!(
        r#"
        token_url = "{}"
        allow_insecure_loopback = true

        [auth]
        type = "refresh_token"
        client_id = "emulator-client-id"
        client_secret = "emulator-client-secret"
        refresh_token = "{refresh_token}"

        [[subscriptions]]
        action = "lead"
        "#,
        emu.token_url()
    ))
    .unwrap();
    settings.is_sandbox = true; // token_url wins over the sandbox host
    settings
}

#[tokio::test]
async fn refresh_token_settings_connect_and_send() {
    let emu = emulator().await;
    let settings = settings_for(&emu, emu.refresh_token());
    let dest = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .unwrap();
    assert_eq!(emu.token_requests(), 1);
    assert_eq!(
        dest.client().instance_url().as_str().trim_end_matches('/'),
        emu.instance_url()
    );
    let out = dest.send(&[identify("oauth@example.com", "Token")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    assert_eq!(emu.records("Lead").len(), 1);

    // The org revokes the session: the next request gets 401, the client refreshes once
    // with the refresh token and replays; the event still succeeds.
    emu.expire_tokens();
    let out = dest.send(&[identify("again@example.com", "Token")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);
    assert_eq!(emu.token_requests(), 2);
    assert_eq!(emu.records("Lead").len(), 2);
}

#[tokio::test]
async fn a_bad_refresh_token_is_an_auth_error_without_the_secret() {
    let emu = emulator().await;
    let settings = settings_for(&emu, "wrong-secret-refresh-token".into());
    let err = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));
}

#[tokio::test]
async fn access_token_needs_instance_url_and_bad_subscriptions_are_reported() {
    let settings = Settings::new(AuthSettings::AccessToken {
        access_token: "t".into(),
    });
    let err = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Settings { .. }), "{err}");

    let emu = emulator().await;
    let err = Destination::builder()
        .client(client(&emu))
        .subscription(sub(r#"
            action = "lead"
            trigger = 'type = '
        "#))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Subscription { index: 0, .. }), "{err}");
    assert!(err.to_string().contains("trigger"), "{err}");
}

#[tokio::test]
async fn a_rejected_static_token_reports_http_401() {
    let emu = emulator().await;
    let dest = destination_for(&emu, "action = \"lead\"");
    emu.expire_tokens();
    let out = dest.send(&[identify("static@example.com", "Token")]).await;
    let outcome = only(&out[0]);
    assert_eq!(outcome.http_status, 401, "{outcome:?}");
    assert!(emu.records("Lead").is_empty());
}

#[tokio::test]
async fn number_of_employees_out_of_the_int_range_fails_the_event() {
    let emu = emulator().await;
    let dest = destination_for(&emu, "action = \"account\"");
    let event = serde_json::json!({
        "type": "group", "groupId": "G-1",
        "traits": {"name": "Acme", "employees": u64::MAX}
    });
    let out = dest.send(&[event]).await;
    let outcome = only(&out[0]);
    assert_eq!(outcome.status, OutcomeStatus::Failed, "{outcome:?}");
    assert_eq!(outcome.http_status, 400);
    assert!(emu.records("Account").is_empty());
}

/// Username-password settings (feature `password-flow`): the security token is appended to the
/// password as Salesforce requires, and neither appears in an error.
#[tokio::test]
async fn password_settings_append_the_security_token() {
    let mut config = sfdc_emulator::EmulatorConfig::default();
    config.password = "pw-secretSECTOKEN123".into();
    let emu = sfdc_emulator::Emulator::start(config).await.unwrap();
    let toml = |token: &str| {
        format!(
            r#"
            token_url = "{}"
            allow_insecure_loopback = true

            [auth]
            type = "password"
            client_id = "emulator-client-id"
            client_secret = "emulator-client-secret"
            username = "user@emulator.invalid"
            password = "pw-secret"
            security_token = "{token}"

            [[subscriptions]]
            action = "lead"
            "#,
            emu.token_url()
        )
    };
    let settings = Settings::from_toml_str(&toml("SECTOKEN123")).unwrap();
    assert!(!format!("{settings:?}").contains("SECTOKEN123"));
    let dest = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .unwrap();
    let out = dest.send(&[identify("pw@example.com", "Password")]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created);

    let wrong = Settings::from_toml_str(&toml("WRONGTOKEN")).unwrap();
    let err = Destination::builder()
        .settings(wrong)
        .connect()
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("WRONGTOKEN") && !text.contains("pw-secret"),
        "{text}"
    );
}
