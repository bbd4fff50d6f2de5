//! Comparison keys: two values are equal the way Salesforce compares them exactly when their
//! keys are equal.

use chrono::NaiveDate;
use serde_json::Value;

use crate::field_type::FieldType;
use crate::ids::canonical_id;
use crate::literal::{Decimal, Literal};
use crate::matcher::TypedMatcher;
use crate::value::{parse_date, parse_datetime};

/// How a matcher's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// Case-insensitive text.
    Text,
    /// Record ids: the first 15 characters, case-sensitive.
    Id,
    /// Numbers by value.
    Number,
    /// Booleans.
    Boolean,
    /// Dates.
    Date,
    /// Instants (offsets applied).
    DateTime,
}

/// A normalized value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Null,
    Text(String),
    Id(String),
    Number(String),
    Boolean(bool),
    Date(NaiveDate),
    DateTime(i64),
}

impl Kind {
    /// The comparison kind of a matcher: by the field's type when known, else by its literal.
    pub(crate) fn of(m: &TypedMatcher) -> Kind {
        match m.field_type() {
            Some(FieldType::Id | FieldType::Reference) => Kind::Id,
            Some(FieldType::Text) => Kind::Text,
            Some(FieldType::Integer | FieldType::Double) => Kind::Number,
            Some(FieldType::Boolean) => Kind::Boolean,
            Some(FieldType::Date) => Kind::Date,
            Some(FieldType::DateTime) => Kind::DateTime,
            Some(FieldType::Unfilterable(_) | FieldType::Other(_)) | None => match m.literal() {
                Literal::String(_) if m.field().is_id() => Kind::Id,
                Literal::Integer(_) | Literal::Decimal(_) => Kind::Number,
                Literal::Boolean(_) => Kind::Boolean,
                Literal::Date(_) => Kind::Date,
                Literal::DateTime(_) => Kind::DateTime,
                Literal::String(_) | Literal::Null => Kind::Text,
            },
        }
    }
}

fn text_key(s: &str) -> Key {
    Key::Text(s.to_lowercase())
}

fn id_key(s: &str) -> Key {
    Key::Id(canonical_id(s))
}

fn number_key(d: &Decimal) -> Key {
    Key::Number(d.as_str().to_owned())
}

/// The key of a literal compared as `kind`; `None` when it cannot be read as that kind.
pub(crate) fn literal_key(kind: Kind, literal: &Literal) -> Option<Key> {
    if literal.is_null() {
        return Some(Key::Null);
    }
    let text = match literal {
        Literal::String(s) => s.clone(),
        other => other.to_string(),
    };
    match (kind, literal) {
        (Kind::Text, _) => Some(text_key(&text)),
        (Kind::Id, _) => Some(id_key(&text)),
        (Kind::Number, Literal::Integer(i)) => Some(Key::Number(i.to_string())),
        (Kind::Number, Literal::Decimal(d)) => Some(number_key(d)),
        (Kind::Number, _) => Decimal::parse(&text).map(|d| number_key(&d)),
        (Kind::Boolean, Literal::Boolean(b)) => Some(Key::Boolean(*b)),
        (Kind::Date, Literal::Date(d)) => Some(Key::Date(*d)),
        (Kind::DateTime, Literal::DateTime(dt)) => Some(Key::DateTime(dt.timestamp_millis())),
        (Kind::Boolean | Kind::Date | Kind::DateTime, _) => value_key(kind, &Value::String(text)),
    }
}

/// The key of a value returned in a record, compared as `kind`; `None` when it cannot be read
/// as that kind (it then matches nothing).
pub(crate) fn value_key(kind: Kind, value: &Value) -> Option<Key> {
    match (kind, value) {
        (_, Value::Null) => Some(Key::Null),
        (Kind::Text, Value::String(s)) => Some(text_key(s)),
        (Kind::Text, Value::Number(n)) => {
            let d = Decimal::parse(&n.to_string())?;
            Some(text_key(d.as_str()))
        }
        (Kind::Text, Value::Bool(b)) => Some(text_key(if *b { "true" } else { "false" })),
        (Kind::Id, Value::String(s)) => Some(id_key(s)),
        (Kind::Number, Value::Number(n)) => Decimal::parse(&n.to_string()).map(|d| number_key(&d)),
        (Kind::Number, Value::String(s)) => Decimal::parse(s).map(|d| number_key(&d)),
        (Kind::Boolean, Value::Bool(b)) => Some(Key::Boolean(*b)),
        (Kind::Boolean, Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(Key::Boolean(true)),
            "false" => Some(Key::Boolean(false)),
            _ => None,
        },
        (Kind::Date, Value::String(s)) => parse_date(s)
            .or_else(|| s.get(..10).and_then(parse_date))
            .map(Key::Date),
        (Kind::DateTime, Value::String(s)) => {
            parse_datetime(s).map(|dt| Key::DateTime(dt.timestamp_millis()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_case_insensitive() {
        let lit = Literal::String("Ann@Example.COM".into());
        assert_eq!(
            literal_key(Kind::Text, &lit),
            value_key(Kind::Text, &json!("ann@example.com"))
        );
        assert_ne!(
            literal_key(Kind::Text, &lit),
            value_key(Kind::Text, &json!("ann@example.co"))
        );
    }

    #[test]
    fn ids_15_and_18_are_the_same_record() {
        let lit = Literal::String("00Q5g00000ABCde".into());
        let id18 = crate::ids::to_18("00Q5g00000ABCde");
        assert_eq!(
            literal_key(Kind::Id, &lit),
            value_key(Kind::Id, &json!(id18))
        );
        assert_eq!(
            literal_key(Kind::Id, &lit),
            value_key(Kind::Id, &json!(id18.to_lowercase()))
        );
        // 15-character ids are case-sensitive.
        assert_ne!(
            literal_key(Kind::Id, &lit),
            value_key(Kind::Id, &json!("00Q5g00000ABCDE"))
        );
    }

    #[test]
    fn numbers_dates_and_datetimes_compare_by_value() {
        assert_eq!(
            literal_key(Kind::Number, &Literal::Integer(5)),
            value_key(Kind::Number, &json!(5.0))
        );
        let d = Literal::Decimal(Decimal::parse("1.50").unwrap());
        assert_eq!(
            literal_key(Kind::Number, &d),
            value_key(Kind::Number, &json!(1.5))
        );
        let date = Literal::Date(NaiveDate::from_ymd_opt(2024, 1, 2).unwrap());
        assert_eq!(
            literal_key(Kind::Date, &date),
            value_key(Kind::Date, &json!("2024-01-02"))
        );
        let dt = Literal::DateTime(parse_datetime("2024-01-02T05:04:05+02:00").unwrap());
        assert_eq!(
            literal_key(Kind::DateTime, &dt),
            value_key(Kind::DateTime, &json!("2024-01-02T03:04:05.000+0000"))
        );
        assert_eq!(
            literal_key(Kind::Boolean, &Literal::Boolean(true)),
            value_key(Kind::Boolean, &json!(true))
        );
    }

    #[test]
    fn null_matches_null_only() {
        assert_eq!(
            literal_key(Kind::Text, &Literal::Null),
            value_key(Kind::Number, &Value::Null)
        );
        assert_ne!(
            literal_key(Kind::Text, &Literal::Null),
            value_key(Kind::Text, &json!(""))
        );
    }
}
