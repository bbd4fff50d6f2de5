//! The settings file pre-pass: `{ env = "VAR" }` in place of any string becomes the variable's
//! value, and `private_key_path` (JWT bearer) becomes `private_key_pem` with the file's text,
//! so a settings file without secrets can be committed.

use std::path::Path;

use serde_json::Value;

use crate::error::CliError;

/// Replaces every `{ env = "VAR" }` table in `value` by the variable's value and every
/// `private_key_path` key by `private_key_pem` read from that file (relative to `base`).
pub(crate) fn resolve(value: &mut Value, base: &Path, at: &str) -> Result<(), CliError> {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(var)) = map.get("env")
            {
                let var = var.clone();
                return match std::env::var(&var) {
                    Ok(text) => {
                        *value = Value::String(text);
                        Ok(())
                    }
                    Err(_) => Err(CliError::Usage(format!(
                        "settings: environment variable {var} (for `{at}`) is not set or not UTF-8; export it or put the value in the file"
                    ))),
                };
            }
            if let Some(path) = map.remove("private_key_path") {
                let Value::String(path) = path else {
                    return Err(CliError::Usage(format!(
                        "settings: `{at}.private_key_path` must be a string (a file path)"
                    )));
                };
                let full = base.join(&path);
                let pem = std::fs::read_to_string(&full).map_err(|e| {
                    CliError::Usage(format!(
                        "settings: cannot read the private key file {} ({e})",
                        full.display()
                    ))
                })?;
                map.insert("private_key_pem".into(), Value::String(pem));
            }
            for (key, child) in map.iter_mut() {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                resolve(child, base, &path)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                resolve(child, base, &format!("{at}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn env_tables_are_replaced_and_missing_variables_named() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        let mut v = json!({"auth": {"refresh_token": {"env": "PATH"}, "client_id": "x"}});
        resolve(&mut v, Path::new("."), "").unwrap();
        assert_eq!(v["auth"]["refresh_token"], path);
        assert_eq!(v["auth"]["client_id"], "x");

        let mut v = json!({"auth": {"refresh_token": {"env": "SFDC_SYNC_SURELY_UNSET_VAR"}}});
        let err = resolve(&mut v, Path::new("."), "").unwrap_err().to_string();
        assert!(err.contains("SFDC_SYNC_SURELY_UNSET_VAR"), "{err}");
        assert!(err.contains("auth.refresh_token"), "{err}");
    }
}
