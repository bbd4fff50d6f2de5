//! Property: any Unicode string, escaped per the documented SOQL rules, parses back to itself
//! and selects exactly the record holding it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sfdc_emulator::soql::{self, Condition, FieldMeta, Literal, ObjectFields, ValueKind};

struct Contact;

impl ObjectFields for Contact {
    fn object_name(&self) -> &str {
        "Contact"
    }
    fn resolve(&self, name: &str) -> Option<FieldMeta> {
        let (api, kind) = [("Id", ValueKind::Id), ("LastName", ValueKind::Text)]
            .into_iter()
            .find(|(api, _)| api.eq_ignore_ascii_case(name))?;
        Some(FieldMeta {
            api_name: api.to_owned(),
            kind,
            filterable: true,
            sortable: true,
        })
    }
}

/// Escapes `s` as a SOQL string literal body, written independently of the parser from the
/// escape table: reserved characters and controls get a named escape, other controls and
/// (when `use_unicode`) every non-ASCII BMP character a `\uXXXX` escape.
fn escape(s: &str, use_unicode: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '"' => out.push_str(r#"\""#),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\R"),
            '\t' => out.push_str(r"\t"),
            '\u{8}' => out.push_str(r"\B"),
            '\u{c}' => out.push_str(r"\f"),
            c if (c as u32) < 0x20 || (use_unicode && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn record(id: &str, last_name: &str) -> Map<String, Value> {
    json!({"Id": id, "LastName": last_name})
        .as_object()
        .unwrap()
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn escaped_strings_round_trip_and_match_only_their_record(
        s in "\\PC{0,40}|[\\x00-\\x7f]{0,40}|.{0,20}",
        use_unicode in any::<bool>(),
    ) {
        let text = format!(
            "SELECT Id, LastName FROM Contact WHERE LastName = '{}'",
            escape(&s, use_unicode)
        );
        let q = soql::parse(&text).unwrap();
        match &q.condition {
            Some(Condition::Compare { value: Literal::String(v), .. }) => prop_assert_eq!(v, &s),
            other => prop_assert!(false, "unexpected condition {:?}", other),
        }
        let records = [
            record("003000000000001AAA", &format!("{s}x")),
            record("003000000000002AAA", &s),
            record("003000000000003AAA", &format!("'{s}")),
            record("003000000000004AAA", &format!("\\{s}")),
        ];
        let sel = soql::execute(&q, &Contact, records.iter()).unwrap();
        prop_assert_eq!(sel.total_size, 1);
        prop_assert_eq!(&sel.records[0]["Id"], &json!("003000000000002AAA"));
        prop_assert_eq!(&sel.records[0]["LastName"], &json!(s));
    }
}
