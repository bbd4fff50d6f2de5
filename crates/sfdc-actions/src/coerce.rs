//! Field types and the coercion of event values to them.
//!
//! | Field type | Accepted values → sent value | Rejected (per-event [`Error::Coercion`]) |
//! |---|---|---|
//! | [`FieldType::Text`] | string as is; number → its decimal text; boolean → `"true"`/`"false"` | object, array |
//! | [`FieldType::Integer`] | integer in Salesforce's 32-bit `int` range (−2,147,483,648 to 2,147,483,647); float with no fraction (`1000.0` → `1000`); string holding either (`"1000"`, `" 1000 "`) | out-of-range values (`u64::MAX`, `2147483648`), other strings (`"1,000"`, `"ten"`), fractions (`10.5`), booleans, objects, arrays |
//! | [`FieldType::Number`] | number as is; numeric string (`"12.50"` → `12.5`, `"3"` → `3`) | other strings, NaN/infinite, booleans, objects, arrays |
//! | [`FieldType::Date`] | `YYYY-MM-DD`; RFC 3339 timestamp → its calendar date as written (`2026-11-28T23:30:00-05:00` → `2026-11-28`); `YYYY-MM-DDTHH:MM:SS[.f]` or with a space | other strings, numbers, booleans, objects, arrays |
//! | [`FieldType::Any`] | anything, unchanged | nothing |
//!
//! JSON null passes through every type unchanged (it clears the field).

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// The type a Salesforce field expects, used to coerce mapped values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FieldType {
    /// Text (string, email, phone, url, picklist, textarea, id, reference...).
    Text,
    /// Whole number (`int`), e.g. `NumberOfEmployees`.
    Integer,
    /// Decimal number (`double`, `currency`, `percent`), e.g. `Amount`.
    Number,
    /// Calendar date (`date`), sent as `YYYY-MM-DD`, e.g. `CloseDate`.
    Date,
    /// Unknown type: the value is sent unchanged (Other Fields and Custom Object fields).
    Any,
}

/// Coerces a mapped value to a field's type (moving it, not copying, when it already fits).
pub(crate) fn coerce(field: &str, field_type: FieldType, value: Value) -> Result<Value> {
    let rejected = match (field_type, value) {
        (_, Value::Null) => return Ok(Value::Null),
        (FieldType::Any, value) => return Ok(value),
        (FieldType::Text, value @ Value::String(_)) => return Ok(value),
        (FieldType::Text, Value::Number(n)) => return Ok(Value::String(n.to_string())),
        (FieldType::Text, Value::Bool(b)) => return Ok(Value::String(b.to_string())),
        (FieldType::Number, value @ Value::Number(_)) => return Ok(value),
        (FieldType::Integer, Value::Number(n)) => match integer_from_number(&n) {
            Some(value) => return Ok(value),
            None => Value::Number(n),
        },
        (FieldType::Integer, Value::String(s)) => match integer_from_str(s.trim()) {
            Some(value) => return Ok(value),
            None => Value::String(s),
        },
        (FieldType::Number, Value::String(s)) => match number_from_str(s.trim()) {
            Some(value) => return Ok(value),
            None => Value::String(s),
        },
        (FieldType::Date, Value::String(s)) => match date_from_str(s.trim()) {
            Some(date) => return Ok(Value::String(date.to_string())),
            None => Value::String(s),
        },
        (_, other) => other,
    };
    Err(Error::Coercion {
        field: field.to_owned(),
        expected: expected(field_type),
        value: shorten(&rejected),
    })
}

fn expected(field_type: FieldType) -> &'static str {
    match field_type {
        FieldType::Text => "text (a string, number or boolean)",
        FieldType::Integer => "an integer (e.g. 1000 or \"1000\")",
        FieldType::Number => "a number (e.g. 12.5 or \"12.5\")",
        FieldType::Date => "a date (YYYY-MM-DD or an ISO 8601 timestamp)",
        FieldType::Any => "any value",
    }
}

/// Salesforce's `int` is 32-bit signed: values outside it are rejected.
fn integer_from_number(n: &Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return i32::try_from(i).ok().map(Value::from);
    }
    if n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&f))
        .then(|| Value::from(f as i32))
}

fn integer_from_str(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return i32::try_from(i).ok().map(Value::from);
    }
    let f = s.parse::<f64>().ok()?;
    integer_from_number(&Number::from_f64(f)?)
}

fn number_from_str(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::from(i));
    }
    // Reject words Rust accepts as floats ("inf", "NaN") via from_f64 and a digit check.
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    Number::from_f64(s.parse::<f64>().ok()?).map(Value::Number)
}

fn date_from_str(s: &str) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(date);
    }
    if let Ok(ts) = DateTime::parse_from_rfc3339(s) {
        return Some(ts.date_naive());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
        .map(|dt| dt.date())
}

fn shorten(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_coercion_table() {
        use FieldType::*;
        let ok = [
            (Text, json!("x"), json!("x")),
            (Text, json!(12), json!("12")),
            (Text, json!(1.5), json!("1.5")),
            (Text, json!(true), json!("true")),
            (Integer, json!(1000), json!(1000)),
            (Integer, json!("1000"), json!(1000)),
            (Integer, json!(" 42 "), json!(42)),
            (Integer, json!(1000.0), json!(1000)),
            (Integer, json!("1e3"), json!(1000)),
            (Integer, json!(-7), json!(-7)),
            (Integer, json!(2_147_483_647), json!(2_147_483_647)),
            (
                Integer,
                json!(-2_147_483_648_i64),
                json!(-2_147_483_648_i64),
            ),
            (Integer, json!("2147483647"), json!(2_147_483_647)),
            (Number, json!(12.5), json!(12.5)),
            (Number, json!(3), json!(3)),
            (Number, json!("12.50"), json!(12.5)),
            (Number, json!("3"), json!(3)),
            (Date, json!("2026-11-28"), json!("2026-11-28")),
            (Date, json!("2026-11-28T10:00:00Z"), json!("2026-11-28")),
            (
                Date,
                json!("2026-11-28T23:30:00-05:00"),
                json!("2026-11-28"),
            ),
            (Date, json!("2026-11-28T10:00:00.123"), json!("2026-11-28")),
            (Date, json!("2026-11-28 10:00:00"), json!("2026-11-28")),
            (Any, json!({"a": [1]}), json!({"a": [1]})),
        ];
        for (ty, input, output) in ok {
            assert_eq!(
                coerce("F", ty, input.clone()).unwrap(),
                output,
                "{ty:?} {input}"
            );
        }
        for ty in [Text, Integer, Number, Date, Any] {
            assert_eq!(coerce("F", ty, Value::Null).unwrap(), Value::Null);
        }
        let bad = [
            (Text, json!({"a": 1})),
            (Text, json!([1])),
            (Integer, json!("1,000")),
            (Integer, json!("ten")),
            (Integer, json!(10.5)),
            (Integer, json!(true)),
            (Integer, json!(1e300)),
            (Integer, json!(u64::MAX)),
            (Integer, json!(i64::MAX)),
            (Integer, json!(2_147_483_648_i64)),
            (Integer, json!(-2_147_483_649_i64)),
            (Integer, json!("18446744073709551615")),
            (Integer, json!("2147483648")),
            (Integer, json!(2_147_483_648.0)),
            (Number, json!("NaN")),
            (Number, json!("inf")),
            (Number, json!("12 apples")),
            (Number, json!(false)),
            (Date, json!("28/11/2026")),
            (Date, json!("2026-13-01")),
            (Date, json!(1_764_000_000)),
        ];
        for (ty, input) in bad {
            let err = coerce("Field__c", ty, input.clone()).unwrap_err();
            assert!(err.is_event_error(), "{ty:?} {input}");
            assert_eq!(err.field(), Some("Field__c"));
            assert_eq!(err.status(), 400);
        }
    }

    #[test]
    fn coercion_errors_say_what_was_expected_and_shorten_the_value() {
        let err = coerce("NumberOfEmployees", FieldType::Integer, json!("lots")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "NumberOfEmployees expects an integer (e.g. 1000 or \"1000\"), but the event gave \"lots\""
        );
        let long = "x".repeat(500);
        let err = coerce("D", FieldType::Date, json!(long)).unwrap_err();
        assert!(err.to_string().len() < 250);
    }
}
