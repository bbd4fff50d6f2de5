//! Typed SOQL literals and string escaping: the only door through which values enter SOQL.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike};

/// A SOQL literal. Its [`Display`](fmt::Display) output is the SOQL text.
///
/// Every variant renders to exactly one SOQL token, whatever it holds: strings are quoted and
/// escaped, decimals are validated digits, dates and datetimes are formatted by this crate.
///
/// ```
/// use sfdc_match::{Decimal, Literal};
///
/// assert_eq!(Literal::String("O'Brien\n".into()).to_string(), r"'O\'Brien\n'");
/// assert_eq!(Literal::String("50%_off".into()).to_string(), "'50%_off'");
/// assert_eq!(Literal::Integer(-42).to_string(), "-42");
/// assert_eq!(Literal::Decimal(Decimal::parse("1.50e3").unwrap()).to_string(), "1500");
/// assert_eq!(Literal::Boolean(true).to_string(), "true");
/// assert_eq!(Literal::Null.to_string(), "null");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Literal {
    /// Text (also ids), single-quoted and escaped.
    String(String),
    /// A whole number.
    Integer(i64),
    /// A decimal number, written without exponent.
    Decimal(Decimal),
    /// `true` / `false`.
    Boolean(bool),
    /// `null`.
    Null,
    /// A date, `YYYY-MM-DD`, unquoted. Years outside 1..=9999 are not representable; the
    /// constructors in this crate reject them.
    Date(NaiveDate),
    /// A datetime, `YYYY-MM-DDThh:mm:ss[.sss](Z|±hh:mm)`, unquoted, millisecond precision.
    DateTime(DateTime<FixedOffset>),
}

impl Literal {
    /// Returns the SOQL text of this literal (same as `to_string()`).
    pub fn to_soql(&self) -> String {
        self.to_string()
    }

    /// Returns true for [`Literal::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Literal::Null)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => write_quoted(f, s),
            Literal::Integer(n) => write!(f, "{n}"),
            Literal::Decimal(d) => f.write_str(d.as_str()),
            Literal::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Literal::Null => f.write_str("null"),
            Literal::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Literal::DateTime(dt) => write_datetime(f, dt),
        }
    }
}

/// Returns `value` as a single-quoted SOQL string literal.
///
/// Escapes backslash, single quote, double quote, newline, carriage return, tab, backspace
/// (`\b`) and form feed (`\f`); other control characters become `\uXXXX`. `%` and `_` are
/// left alone: they are wildcards only in `LIKE`, and this crate only writes `=` and `IN`.
///
/// ```
/// assert_eq!(sfdc_match::quote_string(r#"a'b\c"d"#), r#"'a\'b\\c\"d'"#);
/// assert_eq!(sfdc_match::quote_string("tab\there"), r"'tab\there'");
/// ```
pub fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    escape_into(&mut out, value);
    out.push('\'');
    out
}

fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    escape_into(&mut out, value);
    out.push('\'');
    f.write_str(&out)
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii_control() => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
}

fn write_datetime(f: &mut fmt::Formatter<'_>, dt: &DateTime<FixedOffset>) -> fmt::Result {
    write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S"))?;
    let millis = dt.nanosecond() / 1_000_000 % 1000;
    if millis != 0 {
        write!(f, ".{millis:03}")?;
    }
    let offset = dt.offset().local_minus_utc();
    if offset == 0 {
        f.write_str("Z")
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", abs / 3600, abs % 3600 / 60)
    }
}

/// A decimal number in plain notation (`-12.5`, never `1.25e1`), normalized: no leading
/// zeros, no trailing fractional zeros, no `-0`.
///
/// ```
/// use sfdc_match::Decimal;
///
/// assert_eq!(Decimal::parse("-0012.3400").unwrap().as_str(), "-12.34");
/// assert_eq!(Decimal::parse("1e-3").unwrap().as_str(), "0.001");
/// assert_eq!(Decimal::from_f64(2.5e20).unwrap().as_str(), "250000000000000000000");
/// assert!(Decimal::parse("1 OR Id != null").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(String);

/// Largest accepted decimal exponent magnitude when parsing (keeps the plain form bounded).
const MAX_EXPONENT: i64 = 400;

impl Decimal {
    /// Parses `[+-]digits[.digits][e[+-]digits]` (surrounding whitespace allowed) into plain
    /// notation. Returns `None` for anything else, including NaN and infinities.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(pos) => {
                let exp_text = &rest[pos + 1..];
                let digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let exp: i64 = exp_text.parse().ok()?;
                if exp.abs() > MAX_EXPONENT {
                    return None;
                }
                (&rest[..pos], exp)
            }
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let digits = format!("{int_part}{frac_part}");
        let point = i64::try_from(int_part.len()).ok()? + exponent;
        Some(Decimal::from_parts(negative, &digits, point))
    }

    /// Writes a finite `f64` in plain notation (shortest form that reads back as the same
    /// `f64`). Returns `None` for NaN and infinities.
    pub fn from_f64(value: f64) -> Option<Decimal> {
        if !value.is_finite() {
            return None;
        }
        // Rust's `Display` for f64 is plain notation, never exponent form.
        Decimal::parse(&format!("{value}"))
    }

    /// Builds the normalized text from a sign, a digit string and the position of the decimal
    /// point within it (may be negative or past the end).
    fn from_parts(negative: bool, digits: &str, point: i64) -> Decimal {
        let len = digits.len() as i64;
        let (int_digits, frac_digits) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point >= len {
            (
                format!("{digits}{}", "0".repeat((point - len) as usize)),
                String::new(),
            )
        } else {
            let split = point as usize;
            (digits[..split].to_owned(), digits[split..].to_owned())
        };
        let int_trimmed = int_digits.trim_start_matches('0');
        let frac_trimmed = frac_digits.trim_end_matches('0');
        let int_text = if int_trimmed.is_empty() {
            "0"
        } else {
            int_trimmed
        };
        let is_zero = int_text == "0" && frac_trimmed.is_empty();
        let mut out = String::new();
        if negative && !is_zero {
            out.push('-');
        }
        out.push_str(int_text);
        if !frac_trimmed.is_empty() {
            out.push('.');
            out.push_str(frac_trimmed);
        }
        Decimal(out)
    }

    /// Returns the plain-notation text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns true when the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        !self.0.contains('.')
    }

    /// Returns the value as an `i64` when it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.0.parse().ok()
        } else {
            None
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// A reference reader of the escapes this module writes (the emulator's parser is the
    /// independent check, in tests/integration/emulator_parser.rs).
    fn unquote(literal: &str) -> String {
        let inner = &literal[1..literal.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                assert!(c != '\'', "unescaped quote in {literal:?}");
                out.push(c);
                continue;
            }
            match chars.next().unwrap() {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                c @ ('\\' | '\'' | '"') => out.push(c),
                other => panic!("unexpected escape \\{other}"),
            }
        }
        out
    }

    #[test]
    fn string_escapes_each_special_character() {
        let cases = [
            ("plain", "'plain'"),
            ("O'Brien", r"'O\'Brien'"),
            (r"back\slash", r"'back\\slash'"),
            ("say \"hi\"", r#"'say \"hi\"'"#),
            ("a\nb", r"'a\nb'"),
            ("a\rb", r"'a\rb'"),
            ("a\tb", r"'a\tb'"),
            ("a\u{8}b", r"'a\bb'"),
            ("a\u{c}b", r"'a\fb'"),
            ("a\u{0}b", r"'a\u0000b'"),
            ("a\u{7f}b", r"'a\u007fb'"),
            ("100%_sure", "'100%_sure'"),
            ("émoji 🦀", "'émoji 🦀'"),
            ("", "''"),
            (r"\'", r"'\\\''"),
        ];
        for (input, want) in cases {
            assert_eq!(Literal::String(input.into()).to_string(), want, "{input:?}");
            assert_eq!(quote_string(input), want);
        }
    }

    #[test]
    fn numbers_booleans_null() {
        assert_eq!(Literal::Integer(0).to_string(), "0");
        assert_eq!(
            Literal::Integer(i64::MIN).to_string(),
            "-9223372036854775808"
        );
        assert_eq!(Literal::Boolean(false).to_string(), "false");
        assert_eq!(Literal::Null.to_string(), "null");
        assert!(Literal::Null.is_null());
        let d = |s: &str| Decimal::parse(s).unwrap().to_string();
        assert_eq!(d("1.50"), "1.5");
        assert_eq!(d("-0.0"), "0");
        assert_eq!(d(".5"), "0.5");
        assert_eq!(d("5."), "5");
        assert_eq!(d("+7"), "7");
        assert_eq!(d("1.5E+2"), "150");
        assert_eq!(d("12345e-7"), "0.0012345");
        assert_eq!(d("000"), "0");
        assert_eq!(d(" 3.25 "), "3.25");
        for bad in [
            "", "-", ".", "1e", "e5", "1.2.3", "1,5", "0x10", "NaN", "inf", "1e999", "1 2",
        ] {
            assert!(Decimal::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(Decimal::from_f64(1e-7).unwrap().as_str(), "0.0000001");
        assert_eq!(Decimal::from_f64(0.1).unwrap().as_str(), "0.1");
        assert!(Decimal::from_f64(f64::NAN).is_none());
        assert_eq!(Decimal::parse("12").unwrap().to_i64(), Some(12));
        assert_eq!(Decimal::parse("12.5").unwrap().to_i64(), None);
    }

    #[test]
    fn dates_and_datetimes_unquoted() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(Literal::Date(date).to_string(), "2024-02-29");
        let utc = FixedOffset::east_opt(0).unwrap();
        let dt = utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(Literal::DateTime(dt).to_string(), "2024-01-02T03:04:05Z");
        let ms = dt + chrono::Duration::milliseconds(7);
        assert_eq!(
            Literal::DateTime(ms).to_string(),
            "2024-01-02T03:04:05.007Z"
        );
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let dt = ist.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            Literal::DateTime(dt).to_string(),
            "2024-01-02T03:04:05+05:30"
        );
        let west = FixedOffset::west_opt(8 * 3600).unwrap();
        let dt = west.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(
            Literal::DateTime(dt).to_string(),
            "2024-01-02T03:04:05-08:00"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn escaping_round_trips_any_string(s in any::<String>()) {
            let quoted = quote_string(&s);
            prop_assert_eq!(unquote(&quoted), s);
        }

        #[test]
        fn escaped_string_has_no_bare_quote_or_newline(s in "[\\PC'\\\\\"\n\r\t%_]*") {
            let quoted = quote_string(&s);
            let inner = &quoted[1..quoted.len() - 1];
            prop_assert!(!inner.contains('\n') && !inner.contains('\r'));
            let mut escaped = false;
            for c in inner.chars() {
                if escaped { escaped = false; continue; }
                if c == '\\' { escaped = true; continue; }
                prop_assert!(c != '\'');
            }
        }

        #[test]
        fn decimal_from_f64_reads_back(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let d = Decimal::from_f64(x).unwrap();
            prop_assert!(!d.as_str().contains(['e', 'E']));
            prop_assert_eq!(d.as_str().parse::<f64>().unwrap(), x);
        }
    }
}
