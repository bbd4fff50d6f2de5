//! Settings parse errors never show secret values: every secret key of every auth type, TOML and
//! JSON, unterminated, unquoted and mistyped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sfdc_destination::{Error, Settings};

/// A secret that is recognisable in any output, also as a number.
const SECRET: &str = "998877665544332211";

/// The other required keys of an auth type, with harmless values.
type Others = &'static [(&'static str, &'static str)];

/// (auth type, the secret key, the other required keys).
const SECRET_KEYS: &[(&str, &str, Others)] = &[
    ("refresh_token", "refresh_token", &[("client_id", "cid")]),
    (
        "refresh_token",
        "client_secret",
        &[("client_id", "cid"), ("refresh_token", "rt")],
    ),
    ("access_token", "access_token", &[]),
    (
        "client_credentials",
        "client_secret",
        &[("client_id", "cid")],
    ),
    (
        "jwt_bearer",
        "private_key_pem",
        &[("client_id", "cid"), ("username", "u@x.com")],
    ),
];

fn assert_clean(err: &Error, case: &str, key: &str) {
    let display = err.to_string();
    let debug = format!("{err:?}");
    for shown in [&display, &debug] {
        assert!(!shown.contains(SECRET), "{case}: secret shown in {shown}");
        assert!(
            !shown.contains("99887766"),
            "{case}: part of the secret shown in {shown}"
        );
    }
    assert!(matches!(err, Error::Parse { .. }), "{case}: {err:?}");
    assert!(display.contains("line "), "{case}: no line in {display}");
    assert!(
        display.contains(key),
        "{case}: key {key} not named in {display}"
    );
}

fn toml_doc(auth: &str, others: &[(&str, &str)], secret_line: &str) -> String {
    let mut doc =
        format!("instance_url = \"https://acme.my.salesforce.com\"\n\n[auth]\ntype = \"{auth}\"\n");
    for (k, v) in others {
        doc.push_str(&format!("{k} = \"{v}\"\n"));
    }
    doc.push_str(secret_line);
    doc.push('\n');
    doc
}

#[test]
fn toml_errors_never_show_secret_values() {
    for (auth, key, others) in SECRET_KEYS {
        let cases = [
            ("unterminated", format!("{key} = \"{SECRET}")),
            ("unterminated literal", format!("{key} = '{SECRET}")),
            ("unquoted", format!("{key} = {SECRET}abc")),
            ("wrong type", format!("{key} = {SECRET}")),
            ("array", format!("{key} = [\"{SECRET}\"]")),
            ("multiline unterminated", format!("{key} = \"\"\"{SECRET}")),
        ];
        for (what, line) in cases {
            let doc = toml_doc(auth, others, &line);
            let err = Settings::from_toml_str(&doc).unwrap_err();
            assert_clean(&err, &format!("toml {auth}.{key} {what}"), "line");
        }
        // A mistyped value names the key path.
        let doc = toml_doc(auth, others, &format!("{key} = {SECRET}"));
        let err = Settings::from_toml_str(&doc).unwrap_err();
        assert_clean(
            &err,
            &format!("toml {auth}.{key} key path"),
            &format!("auth.{key}"),
        );
    }
}

#[test]
fn json_errors_never_show_secret_values() {
    for (auth, key, others) in SECRET_KEYS {
        let mut head = format!(
            "{{\"instance_url\": \"https://acme.my.salesforce.com\", \"auth\": {{\"type\": \"{auth}\""
        );
        for (k, v) in *others {
            head.push_str(&format!(", \"{k}\": \"{v}\""));
        }
        let cases = [
            ("unterminated", format!("{head}, \"{key}\": \"{SECRET}")),
            ("unquoted", format!("{head}, \"{key}\": {SECRET}abc}}}}")),
            ("wrong type", format!("{head}, \"{key}\": {SECRET}}}}}")),
            ("array", format!("{head}, \"{key}\": [\"{SECRET}\"]}}}}")),
            (
                "bad escape",
                format!("{head}, \"{key}\": \"{SECRET}\\q\"}}}}"),
            ),
        ];
        for (what, doc) in cases {
            let err = Settings::from_json_str(&doc).unwrap_err();
            assert_clean(&err, &format!("json {auth}.{key} {what}"), "line");
        }
        let doc = format!("{head}, \"{key}\": {SECRET}}}}}");
        let err = Settings::from_json_str(&doc).unwrap_err();
        assert_clean(&err, &format!("json {auth}.{key} key"), key);
    }
}

#[test]
fn unknown_keys_are_still_named() {
    let err = Settings::from_toml_str(
        "is_sandboxx = true\n[auth]\ntype = \"access_token\"\naccess_token = \"t\"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("is_sandboxx"), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
}
