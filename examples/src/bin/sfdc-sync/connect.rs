//! Settings loading and connection: a settings file (TOML or JSON, secrets resolved from the
//! environment), or the embedded emulator with the example subscriptions.

use std::path::Path;

use sfdc_destination::{AuthSettings, Destination, Settings};
use sfdc_emulator::{Emulator, EmulatorConfig};
use sfdc_examples::SETTINGS_TOML;

use crate::error::CliError;
use crate::secrets;

/// A connected destination and, without a settings file, the emulator it talks to.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) destination: Destination,
    pub(crate) emulator: Option<Emulator>,
}

/// Reads `path` (`.json` is JSON, anything else TOML), resolves the environment and key-file
/// references and parses [`Settings`]; a relative `auth.token_store` is relative to the
/// settings file's directory.
pub(crate) fn load_settings(path: &Path) -> Result<Settings, CliError> {
    let mut settings = parse_settings(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    if let AuthSettings::RefreshToken {
        token_store: Some(store),
        ..
    } = &mut settings.auth
        && store.is_relative()
    {
        *store = base.join(&*store);
    }
    Ok(settings)
}

fn parse_settings(path: &Path) -> Result<Settings, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Usage(format!(
            "cannot read the settings file {}: {e}",
            path.display()
        ))
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let base = path.parent().unwrap_or(Path::new("."));
    let bad = |e: String| CliError::Usage(format!("settings file {}: {e}", path.display()));
    if is_json {
        let mut value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        secrets::resolve(&mut value, base, "")?;
        Settings::from_json_str(&value.to_string()).map_err(|e| bad(e.to_string()))
    } else {
        let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut value = serde_json::to_value(table).map_err(|e| bad(e.to_string()))?;
        secrets::resolve(&mut value, base, "")?;
        let text = toml::to_string(&value).map_err(|e| bad(e.to_string()))?;
        Settings::from_toml_str(&text).map_err(|e| bad(e.to_string()))
    }
}

/// Connects with the settings file, or starts the embedded emulator without one.
pub(crate) async fn connect(settings: Option<&Path>) -> Result<Connection, CliError> {
    let (settings, emulator) = match settings {
        Some(path) => (load_settings(path)?, None),
        None => {
            let emulator = Emulator::start(EmulatorConfig::default())
                .await
                .map_err(|e| CliError::Usage(format!("cannot start the embedded emulator: {e}")))?;
            let mut settings = Settings::from_toml_str(SETTINGS_TOML)
                .map_err(|e| CliError::Usage(format!("example settings: {e}")))?;
            settings.token_url = Some(emulator.token_url());
            eprintln!(
                "no --settings: using the embedded emulator at {} with examples/sync-events.toml",
                emulator.instance_url()
            );
            (settings, Some(emulator))
        }
    };
    let destination = Destination::builder()
        .settings(settings)
        .connect()
        .await
        .map_err(|e| {
            let hint = if e.is_auth() {
                " (check the credentials: client_id, the secret values and the login host or sandbox flag)"
            } else {
                ""
            };
            CliError::Usage(format!("{e}{hint}"))
        })?;
    Ok(Connection {
        destination,
        emulator,
    })
}
