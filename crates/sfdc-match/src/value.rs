//! JSON matcher values to typed literals, by the field's Salesforce type when it is known.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike};
use serde_json::{Number, Value};

use crate::error::{Error, Result};
use crate::field::FieldName;
use crate::field_type::FieldType;
use crate::ids::looks_like_id;
use crate::literal::{Decimal, Literal};

/// Most characters SOQL accepts in one string literal of a WHERE clause.
pub const MAX_STRING_CHARS: usize = 4_000;

/// Converts a JSON matcher value to the literal SOQL compares with `field`.
///
/// With a known `field_type` the value is written as that type: a number for a text field
/// becomes a quoted string, `"2024-01-02"` for a date field becomes a date literal, `"42"` for
/// an integer field becomes `42`. Without one (no describe information), the JSON kind
/// decides: strings stay strings, numbers stay numbers, booleans stay booleans. The `Id` field
/// is always treated as an id.
///
/// ```
/// use serde_json::json;
/// use sfdc_match::{literal_for, FieldName, FieldType};
///
/// let phone = FieldName::new("Phone")?;
/// let text = Some(&FieldType::Text);
/// assert_eq!(literal_for(&phone, text, &json!(5551234))?.to_string(), "'5551234'");
/// let since = FieldName::new("Since__c")?;
/// let date = Some(&FieldType::Date);
/// assert_eq!(literal_for(&since, date, &json!("2024-01-02"))?.to_string(), "2024-01-02");
/// assert_eq!(literal_for(&since, None, &json!("2024-01-02"))?.to_string(), "'2024-01-02'");
/// # Ok::<(), sfdc_match::Error>(())
/// ```
///
/// # Errors
/// - [`Error::UnsupportedValue`] for JSON objects and arrays.
/// - [`Error::TypeMismatch`] when the value cannot be read as the field's type (e.g. `"abc"`
///   for an integer field, or a malformed record id).
/// - [`Error::UnfilterableField`] for types SOQL cannot filter on.
/// - [`Error::ValueTooLong`] for text over 4,000 characters.
pub fn literal_for(
    field: &FieldName,
    field_type: Option<&FieldType>,
    value: &Value,
) -> Result<Literal> {
    match value {
        Value::Null => return Ok(Literal::Null),
        Value::Array(_) => return Err(unsupported(field, "array")),
        Value::Object(_) => return Err(unsupported(field, "object")),
        _ => {}
    }
    let id_type = FieldType::Id;
    let field_type = match field_type {
        None if field.is_id() => Some(&id_type),
        other => other,
    };
    match field_type {
        None | Some(FieldType::Other(_)) => untyped(field, value),
        Some(FieldType::Text) => text(field, value),
        Some(t @ (FieldType::Id | FieldType::Reference)) => id(field, t, value),
        Some(t @ FieldType::Integer) => integer(field, t, value),
        Some(t @ FieldType::Double) => double(field, t, value),
        Some(t @ FieldType::Boolean) => boolean(field, t, value),
        Some(t @ FieldType::Date) => date(field, t, value),
        Some(t @ FieldType::DateTime) => datetime(field, t, value),
        Some(FieldType::Unfilterable(sf_type)) => Err(Error::UnfilterableField {
            field: field.to_string(),
            field_type: sf_type.clone(),
        }),
    }
}

fn unsupported(field: &FieldName, kind: &'static str) -> Error {
    Error::UnsupportedValue {
        field: field.to_string(),
        kind,
    }
}

fn mismatch(field: &FieldName, field_type: &FieldType, value: &Value, reason: &str) -> Error {
    let mut shown = value.to_string();
    if shown.chars().count() > 100 {
        shown = shown.chars().take(100).collect::<String>() + "…";
    }
    Error::TypeMismatch {
        field: field.to_string(),
        field_type: field_type.to_string(),
        value: shown,
        reason: reason.to_owned(),
    }
}

fn string_literal(field: &FieldName, s: &str) -> Result<Literal> {
    let length = s.chars().count();
    if length > MAX_STRING_CHARS {
        return Err(Error::ValueTooLong {
            field: field.to_string(),
            length,
            max: MAX_STRING_CHARS,
        });
    }
    Ok(Literal::String(s.to_owned()))
}

fn number_literal(n: &Number) -> Option<Literal> {
    if let Some(i) = n.as_i64() {
        return Some(Literal::Integer(i));
    }
    if n.is_u64() {
        return Decimal::parse(&n.to_string()).map(Literal::Decimal);
    }
    let d = Decimal::from_f64(n.as_f64()?)?;
    Some(match d.to_i64() {
        Some(i) => Literal::Integer(i),
        None => Literal::Decimal(d),
    })
}

fn number_text(n: &Number) -> String {
    match number_literal(n) {
        Some(lit @ (Literal::Integer(_) | Literal::Decimal(_))) => lit.to_string(),
        _ => n.to_string(),
    }
}

fn untyped(field: &FieldName, value: &Value) -> Result<Literal> {
    match value {
        Value::String(s) => string_literal(field, s),
        Value::Bool(b) => Ok(Literal::Boolean(*b)),
        Value::Number(n) => number_literal(n).ok_or_else(|| {
            mismatch(
                field,
                &FieldType::Double,
                value,
                "the number cannot be written",
            )
        }),
        _ => Ok(Literal::Null),
    }
}

fn text(field: &FieldName, value: &Value) -> Result<Literal> {
    match value {
        Value::String(s) => string_literal(field, s),
        Value::Number(n) => string_literal(field, &number_text(n)),
        Value::Bool(b) => string_literal(field, if *b { "true" } else { "false" }),
        _ => Ok(Literal::Null),
    }
}

fn id(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    const WHY: &str = "record ids are 15 or 18 letters and digits";
    match value {
        Value::String(s) if looks_like_id(s.trim()) => Ok(Literal::String(s.trim().to_owned())),
        _ => Err(mismatch(field, t, value, WHY)),
    }
}

fn integer(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    const WHY: &str = "expected a whole number";
    let decimal = match value {
        Value::Number(n) => match number_literal(n) {
            Some(Literal::Integer(i)) => return Ok(Literal::Integer(i)),
            Some(Literal::Decimal(d)) => Some(d),
            _ => None,
        },
        Value::String(s) => Decimal::parse(s),
        _ => None,
    };
    match decimal {
        Some(d) if d.is_integer() => match d.to_i64() {
            Some(i) => Ok(Literal::Integer(i)),
            None => Ok(Literal::Decimal(d)),
        },
        _ => Err(mismatch(field, t, value, WHY)),
    }
}

fn double(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    const WHY: &str = "expected a number";
    let decimal = match value {
        Value::Number(n) => return number_literal(n).ok_or_else(|| mismatch(field, t, value, WHY)),
        Value::String(s) => Decimal::parse(s),
        _ => None,
    };
    match decimal {
        Some(d) => Ok(match d.to_i64() {
            Some(i) => Literal::Integer(i),
            None => Literal::Decimal(d),
        }),
        None => Err(mismatch(field, t, value, WHY)),
    }
}

fn boolean(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    match value {
        Value::Bool(b) => Ok(Literal::Boolean(*b)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(Literal::Boolean(true)),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(Literal::Boolean(false)),
        _ => Err(mismatch(field, t, value, "expected true or false")),
    }
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    ((1..=9999).contains(&date.year())).then_some(date)
}

/// Parses an ISO-8601 datetime with offset (`Z`, `+hh:mm` or Salesforce's `+hhmm`),
/// truncated to milliseconds.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    let dt = DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()?;
    if !(1..=9999).contains(&dt.year()) || dt.offset().local_minus_utc() % 60 != 0 {
        return None;
    }
    dt.with_nanosecond(dt.nanosecond() / 1_000_000 * 1_000_000)
}

fn date(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    const WHY: &str = "expected a date `YYYY-MM-DD` (or a datetime, whose date is used)";
    match value {
        Value::String(s) => parse_date(s)
            .or_else(|| parse_datetime(s).map(|dt| dt.date_naive()))
            .map(Literal::Date)
            .ok_or_else(|| mismatch(field, t, value, WHY)),
        _ => Err(mismatch(field, t, value, WHY)),
    }
}

fn datetime(field: &FieldName, t: &FieldType, value: &Value) -> Result<Literal> {
    const WHY: &str =
        "expected an ISO-8601 datetime with offset, e.g. `2024-01-02T03:04:05Z` (or a date)";
    match value {
        Value::String(s) => parse_datetime(s)
            .or_else(|| {
                parse_date(s).map(|d| {
                    let midnight = NaiveDateTime::from(d);
                    midnight.and_utc().fixed_offset()
                })
            })
            .map(Literal::DateTime)
            .ok_or_else(|| mismatch(field, t, value, WHY)),
        _ => Err(mismatch(field, t, value, WHY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lit(field: &str, t: Option<FieldType>, v: Value) -> Result<String> {
        literal_for(&FieldName::new(field).unwrap(), t.as_ref(), &v).map(|l| l.to_string())
    }

    #[test]
    fn untyped_values_follow_their_json_kind() {
        assert_eq!(lit("Email", None, json!("a@b.c")).unwrap(), "'a@b.c'");
        assert_eq!(lit("N__c", None, json!(42)).unwrap(), "42");
        assert_eq!(lit("N__c", None, json!(-1.5)).unwrap(), "-1.5");
        assert_eq!(
            lit("N__c", None, json!(1e21)).unwrap(),
            "1000000000000000000000"
        );
        assert_eq!(lit("N__c", None, json!(3.0)).unwrap(), "3");
        assert_eq!(
            lit("N__c", None, json!(u64::MAX)).unwrap(),
            "18446744073709551615"
        );
        assert_eq!(lit("B__c", None, json!(true)).unwrap(), "true");
        assert_eq!(
            lit("D__c", None, json!("2024-01-02")).unwrap(),
            "'2024-01-02'"
        );
        assert_eq!(lit("Email", None, Value::Null).unwrap(), "null");
        let other = Some(FieldType::Other("anyType".into()));
        assert_eq!(lit("X__c", other, json!(7)).unwrap(), "7");
    }

    #[test]
    fn objects_and_arrays_are_rejected_with_the_field_named() {
        for (v, kind) in [(json!({"a": 1}), "object"), (json!([1, 2]), "array")] {
            let err = lit("Email", Some(FieldType::Text), v).unwrap_err();
            assert_eq!(
                err,
                Error::UnsupportedValue {
                    field: "Email".into(),
                    kind
                }
            );
            assert!(err.to_string().contains("Email"));
        }
    }

    #[test]
    fn text_fields_quote_numbers_and_booleans() {
        let t = || Some(FieldType::Text);
        assert_eq!(lit("Phone", t(), json!(5551234)).unwrap(), "'5551234'");
        assert_eq!(lit("Phone", t(), json!(12.50)).unwrap(), "'12.5'");
        assert_eq!(lit("Phone", t(), json!(true)).unwrap(), "'true'");
        assert_eq!(lit("Phone", t(), json!("x'y")).unwrap(), r"'x\'y'");
        assert_eq!(lit("Phone", t(), Value::Null).unwrap(), "null");
    }

    #[test]
    fn long_text_is_rejected() {
        let ok = "é".repeat(MAX_STRING_CHARS);
        assert!(lit("Name", None, json!(ok)).is_ok());
        let err = lit("Name", None, json!(format!("{ok}x"))).unwrap_err();
        assert!(
            matches!(err, Error::ValueTooLong { length: 4001, .. }),
            "{err}"
        );
    }

    #[test]
    fn ids_are_validated() {
        assert_eq!(
            lit("Id", None, json!("00Q000000000001")).unwrap(),
            "'00Q000000000001'"
        );
        assert_eq!(
            lit(
                "OwnerId",
                Some(FieldType::Reference),
                json!("005000000000001AAA")
            )
            .unwrap(),
            "'005000000000001AAA'"
        );
        for bad in [json!("abc"), json!("00Q00000000000'"), json!(5)] {
            let err = lit("Id", None, bad).unwrap_err();
            assert!(matches!(err, Error::TypeMismatch { .. }), "{err}");
            assert!(err.to_string().contains("15 or 18"), "{err}");
        }
    }

    #[test]
    fn integer_fields() {
        let t = || Some(FieldType::Integer);
        assert_eq!(lit("N", t(), json!(5)).unwrap(), "5");
        assert_eq!(lit("N", t(), json!(5.0)).unwrap(), "5");
        assert_eq!(lit("N", t(), json!(" 42 ")).unwrap(), "42");
        assert_eq!(lit("N", t(), json!("1e3")).unwrap(), "1000");
        for bad in [json!(5.5), json!("abc"), json!("5.5"), json!(true)] {
            let err = lit("N", t(), bad).unwrap_err();
            assert!(err.to_string().contains("whole number"), "{err}");
        }
    }

    #[test]
    fn double_fields() {
        let t = || Some(FieldType::Double);
        assert_eq!(lit("Amount", t(), json!(5)).unwrap(), "5");
        assert_eq!(lit("Amount", t(), json!("19.990")).unwrap(), "19.99");
        assert_eq!(lit("Amount", t(), json!(0.000001)).unwrap(), "0.000001");
        assert!(lit("Amount", t(), json!("12 OR Id != null")).is_err());
        assert!(lit("Amount", t(), json!(false)).is_err());
    }

    #[test]
    fn boolean_fields() {
        let t = || Some(FieldType::Boolean);
        assert_eq!(lit("B", t(), json!(false)).unwrap(), "false");
        assert_eq!(lit("B", t(), json!("TRUE")).unwrap(), "true");
        assert!(lit("B", t(), json!("yes")).is_err());
        assert!(lit("B", t(), json!(1)).is_err());
    }

    #[test]
    fn date_fields() {
        let t = || Some(FieldType::Date);
        assert_eq!(lit("D", t(), json!("2024-01-02")).unwrap(), "2024-01-02");
        assert_eq!(
            lit("D", t(), json!("2024-01-02T23:30:00-05:00")).unwrap(),
            "2024-01-02"
        );
        for bad in [
            json!("01/02/2024"),
            json!("2024-13-01"),
            json!(20240102),
            json!("+10000-01-01"),
        ] {
            assert!(lit("D", t(), bad).is_err());
        }
    }

    #[test]
    fn datetime_fields() {
        let t = || Some(FieldType::DateTime);
        assert_eq!(
            lit("T", t(), json!("2024-01-02T03:04:05Z")).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            lit("T", t(), json!("2024-01-02T03:04:05.123456+02:00")).unwrap(),
            "2024-01-02T03:04:05.123+02:00"
        );
        assert_eq!(
            lit("T", t(), json!("2024-01-02T03:04:05.000+0000")).unwrap(),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            lit("T", t(), json!("2024-01-02")).unwrap(),
            "2024-01-02T00:00:00Z"
        );
        for bad in [
            json!("2024-01-02 03:04"),
            json!("yesterday"),
            json!(1_700_000_000),
        ] {
            let err = lit("T", t(), bad).unwrap_err();
            assert!(err.to_string().contains("ISO-8601"), "{err}");
        }
    }

    #[test]
    fn unfilterable_types_are_rejected() {
        let t = Some(FieldType::from_salesforce_type("base64"));
        let err = lit("Body", t, json!("x")).unwrap_err();
        assert!(err.to_string().contains("cannot filter"), "{err}");
    }
}
