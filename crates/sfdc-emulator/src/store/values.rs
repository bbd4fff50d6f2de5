//! Value conversion: REST JSON and Bulk CSV cells to stored values, and the comparison
//! external-id and unique lookups use.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Number, Value};

use super::{FieldDef, FieldType, SfError};
use crate::ids;

/// Current time in Salesforce's datetime output format.
pub(crate) fn now_string() -> String {
    thread_local! {
        /// The last instant written, by millisecond: the records of one request share it.
        static LAST: std::cell::RefCell<(i64, String)> = const { std::cell::RefCell::new((i64::MIN, String::new())) };
    }
    let now = Utc::now();
    let ms = now.timestamp_millis();
    LAST.with_borrow_mut(|(at, text)| {
        if *at != ms {
            *at = ms;
            *text = format_datetime(now);
        }
        text.clone()
    })
}

/// Formats a datetime as `YYYY-MM-DDTHH:MM:SS.sss+0000`.
pub(crate) fn format_datetime(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written digit by digit: every write stamps its records, and a format string costs
    // more than the write itself.
    let year = u32::try_from(t.year()).unwrap_or(0);
    let parts = [
        (year, 4, '-'),
        (t.month(), 2, '-'),
        (t.day(), 2, 'T'),
        (t.hour(), 2, ':'),
        (t.minute(), 2, ':'),
        (t.second(), 2, '.'),
        (t.timestamp_subsec_millis().min(999), 3, '+'),
    ];
    let mut out = String::with_capacity(28);
    for (n, width, after) in parts {
        push_digits(&mut out, n, width);
        out.push(after);
    }
    out.push_str("0000");
    out
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_digits(out: &mut String, n: u32, width: u32) {
    let digits = n.checked_ilog10().unwrap_or(0) + 1;
    for _ in digits..width {
        out.push('0');
    }
    let mut div = 10u32.pow(digits - 1);
    while div > 0 {
        out.push(char::from(b'0' + ((n / div) % 10) as u8));
        div /= 10;
    }
}

/// External-id / unique comparison of two stored (or raw string) values.
pub(super) fn same_value(ft: FieldType, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => match ft {
            FieldType::Id | FieldType::Reference => x == y,
            FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent => {
                x.parse::<f64>().ok() == y.parse::<f64>().ok()
            }
            // Case-insensitive; allocate lower-cased copies only when a side is not ASCII.
            _ => {
                x.eq_ignore_ascii_case(y)
                    || (!(x.is_ascii() && y.is_ascii()) && x.to_lowercase() == y.to_lowercase())
            }
        },
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            y.parse::<f64>().ok() == x.as_f64()
        }
        _ => a == b,
    }
}

fn token_name(v: &Value) -> (&'static str, String) {
    match v {
        Value::Null => ("VALUE_NULL", "null".into()),
        Value::Bool(true) => ("VALUE_TRUE", "true".into()),
        Value::Bool(false) => ("VALUE_FALSE", "false".into()),
        Value::Number(n) if n.is_f64() => ("VALUE_NUMBER_FLOAT", n.to_string()),
        Value::Number(n) => ("VALUE_NUMBER_INT", n.to_string()),
        Value::String(s) => ("VALUE_STRING", s.clone()),
        Value::Array(_) => ("START_ARRAY", "[".into()),
        Value::Object(_) => ("START_OBJECT", "{".into()),
    }
}

pub(super) fn cannot_deserialize(kind: &str, v: &Value) -> SfError {
    let (token, text) = token_name(v);
    SfError::json_parser(format!(
        "Cannot deserialize instance of {kind} from {token} value {text} or request may be missing a required field"
    ))
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Converts a JSON value (REST body form) to the stored value of field `f`, checking
/// type, length and format. Reference existence is checked by the store.
pub(crate) fn coerce_value(f: &FieldDef, v: &Value) -> Result<Value, SfError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let ft = f.field_type;
    match ft {
        _ if ft.is_text() => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(cannot_deserialize("string", v)),
            };
            let max = f.max_length() as usize;
            if max > 0 && s.chars().count() > max {
                return Err(SfError::bad_request(
                    "STRING_TOO_LONG",
                    format!(
                        "{}: data value too large: {s} (max length={max})",
                        f.label_text()
                    ),
                )
                .with_fields([f.name.clone()]));
            }
            if ft == FieldType::Email && !s.is_empty() && !valid_email(&s) {
                return Err(SfError::bad_request(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", f.label_text()),
                )
                .with_fields([f.name.clone()]));
            }
            if s.is_empty() {
                return Ok(Value::Null);
            }
            Ok(Value::String(s))
        }
        FieldType::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
                    Ok(Value::Number(Number::from(x as i64)))
                }
                _ => Err(cannot_deserialize("int", v)),
            },
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(|n| Value::Number(n.into()))
                .map_err(|_| cannot_deserialize("int", v)),
            _ => Err(cannot_deserialize("int", v)),
        },
        FieldType::Double | FieldType::Currency | FieldType::Percent => match v {
            Value::Number(_) => Ok(v.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| cannot_deserialize("double", v)),
            _ => Err(cannot_deserialize("double", v)),
        },
        FieldType::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(cannot_deserialize("boolean", v)),
        },
        FieldType::Date => match v {
            Value::String(s) => {
                let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .or_else(|| parse_datetime(s).map(|t| t.date_naive()));
                date.map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                    .ok_or_else(|| cannot_deserialize("date", v))
            }
            _ => Err(cannot_deserialize("date", v)),
        },
        FieldType::Datetime => match v {
            Value::String(s) => parse_datetime(s)
                .map(|t| Value::String(format_datetime(t)))
                .ok_or_else(|| cannot_deserialize("datetime", v)),
            _ => Err(cannot_deserialize("datetime", v)),
        },
        FieldType::Id | FieldType::Reference => match v {
            Value::String(s) if s.is_empty() => Ok(Value::Null),
            Value::String(s) => ids::to_18(s).map(Value::String).ok_or_else(|| {
                SfError::bad_request(
                    "MALFORMED_ID",
                    format!("{}: id value of incorrect type: {s}", f.label_text()),
                )
                .with_fields([f.name.clone()])
            }),
            _ => Err(cannot_deserialize("id", v)),
        },
        _ => Err(cannot_deserialize("string", v)),
    }
}

/// Converts one Bulk CSV cell for field `f`.
///
/// Returns `Ok(None)` for an empty cell (leave the field unchanged / unset),
/// `Ok(Some(Value::Null))` for `#N/A`, and otherwise the value to put in the field map
/// given to create/update/upsert. Booleans accept `true`/`false`/`1`/`0` in any case;
/// numbers, dates and datetimes use the Bulk CSV formats. Errors use the same codes as
/// REST (`JSON_PARSER_ERROR` for a value of the wrong type, `STRING_TOO_LONG`, ...).
pub(crate) fn csv_value(f: &FieldDef, raw: &str) -> Result<Option<Value>, SfError> {
    if raw.is_empty() {
        return Ok(None);
    }
    if raw == "#N/A" {
        return Ok(Some(Value::Null));
    }
    let v = match f.field_type {
        FieldType::Boolean => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => {
                return Err(cannot_deserialize(
                    "boolean",
                    &Value::String(raw.to_owned()),
                ));
            }
        },
        _ => Value::String(raw.to_owned()),
    };
    coerce_value(f, &v).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_written_as_the_strftime_format_would() {
        for (secs, nanos) in [
            (0, 0),
            (1_764_633_600, 7_000_000),
            (1_799_999_999, 999_999_999),
            (253_402_300_799, 120_000_000),
            (951_782_400, 50_000_000),
        ] {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            assert_eq!(
                format_datetime(t),
                t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
            );
        }
    }
}
