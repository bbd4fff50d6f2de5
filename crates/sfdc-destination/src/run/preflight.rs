//! Pre-flight: each record checked against the object's describe before it is sent, so a
//! value Salesforce could not deserialize (which fails a whole Collections request with
//! `JSON_PARSER_ERROR`) or a text too long fails that event alone, with `INVALID_EVENT`.
//!
//! Checked, for fields describe knows (unknown keys are left to Salesforce): numbers
//! (`int`, `double`, `currency`, `percent`: a JSON number or numeric text), booleans (`true` /
//! `false`, also as text), dates (`YYYY-MM-DD`), datetimes (`YYYY-MM-DDThh:mm...`), text
//! types (no JSON object or array; at most `length` characters). `null` always passes.

use serde_json::{Map, Value};
use sfdc_rest::{FieldDescribe, SObjectDescribe};

use crate::code::OutcomeCode;
use crate::execute::Failure;

/// Why the record's first invalid value would be rejected, if one is.
pub(crate) fn refusal(describe: &SObjectDescribe, fields: &Map<String, Value>) -> Option<Failure> {
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        let Some(field) = describe.field(key) else {
            continue;
        };
        if let Some(reason) = problem(field, value) {
            return Some(Failure {
                http_status: 400,
                code: OutcomeCode::InvalidEvent,
                message: format!(
                    "{}.{}: {reason}; the record was not sent",
                    describe.name, field.name
                ),
                retryable: false,
                pending: false,
                bulk_job_id: None,
            });
        }
    }
    None
}

fn problem(field: &FieldDescribe, value: &Value) -> Option<String> {
    // Describe types are lowercase already: no copy per checked value unless one is not.
    let lowered;
    let kind: &str = if field.field_type.bytes().any(|b| b.is_ascii_uppercase()) {
        lowered = field.field_type.to_ascii_lowercase();
        &lowered
    } else {
        &field.field_type
    };
    let shown = || shorten(value);
    match kind {
        "int" | "double" | "currency" | "percent" => {
            let ok = match value {
                Value::Number(n) => kind != "int" || n.is_i64() || n.is_u64() || is_whole(n),
                Value::String(s) if kind == "int" => s.trim().parse::<i64>().is_ok(),
                Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
                _ => false,
            };
            (!ok).then(|| format!("{} is not a valid {kind} value", shown()))
        }
        "boolean" => {
            let ok = match value {
                Value::Bool(_) => true,
                Value::String(s) => {
                    s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false")
                }
                _ => false,
            };
            (!ok).then(|| format!("{} is not a boolean", shown()))
        }
        "date" => match value {
            Value::String(s) if is_date(s) => None,
            _ => Some(format!("{} is not a date (YYYY-MM-DD)", shown())),
        },
        "datetime" => match value {
            Value::String(s) if is_datetime(s) => None,
            _ => Some(format!(
                "{} is not a datetime (YYYY-MM-DDThh:mm:ssZ)",
                shown()
            )),
        },
        "multipicklist" => match value {
            Value::Object(_) => Some("a JSON object is not a multi-select picklist value".into()),
            _ => None,
        },
        _ if is_text(kind) => {
            let len = match value {
                Value::String(s) => s.chars().count(),
                Value::Number(n) => n.to_string().len(),
                Value::Bool(b) => b.to_string().len(),
                _ => return Some(format!("a JSON {} is not a {kind} value", json_kind(value))),
            };
            let max = usize::try_from(field.length).unwrap_or(usize::MAX);
            (max > 0 && len > max)
                .then(|| format!("the value is {len} characters, more than its length of {max}"))
        }
        _ => None,
    }
}

fn is_text(kind: &str) -> bool {
    matches!(
        kind,
        "string"
            | "textarea"
            | "email"
            | "phone"
            | "url"
            | "picklist"
            | "combobox"
            | "encryptedstring"
            | "id"
            | "reference"
    )
}

fn is_whole(n: &serde_json::Number) -> bool {
    n.as_f64()
        .is_some_and(|x| x.fract() == 0.0 && x.abs() < 1e15)
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && (b.len() == 10 || b[10] == b'T')
}

fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    is_date(s)
        && b.len() >= 16
        && b[10] == b'T'
        && b[11..13].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
        && b[14..16].iter().all(u8::is_ascii_digit)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        _ => "value",
    }
}

fn shorten(v: &Value) -> String {
    let mut s = v.to_string();
    if s.chars().count() > 40 {
        s = s.chars().take(40).collect::<String>() + "…";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> SObjectDescribe {
        serde_json::from_value(json!({
            "name": "Lead",
            "fields": [
                {"name": "LastName", "type": "string", "length": 5},
                {"name": "NumberOfEmployees", "type": "int"},
                {"name": "AnnualRevenue", "type": "currency"},
                {"name": "Done__c", "type": "boolean"},
                {"name": "Day__c", "type": "date"},
                {"name": "At__c", "type": "datetime"}
            ]
        }))
        .unwrap()
    }

    fn check(v: Value) -> Option<Failure> {
        refusal(&describe(), v.as_object().unwrap())
    }

    #[test]
    fn good_values_pass() {
        assert!(
            check(
                json!({"LastName": "Ada", "NumberOfEmployees": 5, "AnnualRevenue": "1.5",
            "Done__c": "TRUE", "Day__c": "2024-01-02", "At__c": "2024-01-02T03:04:05Z",
            "Unknown__c": {"x": 1}, "Day2": null})
            )
            .is_none()
        );
        assert!(check(json!({"NumberOfEmployees": 5.0, "LastName": 12})).is_none());
    }

    #[test]
    fn bad_values_fail_with_invalid_event_naming_the_field() {
        for bad in [
            json!({"NumberOfEmployees": "many"}),
            json!({"NumberOfEmployees": 1.5}),
            json!({"AnnualRevenue": true}),
            json!({"Done__c": "yes"}),
            json!({"Day__c": "02/01/2024"}),
            json!({"At__c": "2024-01-02"}),
            json!({"LastName": {"a": 1}}),
            json!({"LastName": "Lovelace"}),
        ] {
            let f = check(bad.clone()).unwrap_or_else(|| panic!("{bad}"));
            assert_eq!(f.code, OutcomeCode::InvalidEvent);
            assert!(f.message.starts_with("Lead."), "{}", f.message);
            assert!(!f.retryable);
        }
    }
}
