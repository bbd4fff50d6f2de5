//! Literal decoding: string escapes, date/datetime literals and relative date literals.

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate};

/// Resolves the escapes of a single-quoted string's raw text.
///
/// Outside LIKE, every documented escape is resolved and `\%` / `\_` are errors. In a LIKE
/// pattern (`like == true`) the result is a pattern in which a backslash escapes the next
/// character: `\%` and `\_` stay as written and a literal backslash becomes `\\`; every other
/// escape is resolved to its character.
///
/// On error returns the byte offset (within `raw`) of the offending backslash and a message.
pub(crate) fn unescape(raw: &str, like: bool) -> Result<String, (usize, String)> {
    if !raw.contains('\\') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((pos, ch)) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let Some((_, esc)) = chars.next() else {
            return Err((pos, "invalid escape sequence at end of string".to_owned()));
        };
        let resolved = match esc {
            'n' | 'N' => '\n',
            'r' | 'R' => '\r',
            't' | 'T' => '\t',
            'b' | 'B' => '\u{8}',
            'f' | 'F' => '\u{c}',
            '"' => '"',
            '\'' => '\'',
            '\\' => {
                if like {
                    out.push('\\');
                }
                '\\'
            }
            '%' | '_' if like => {
                out.push('\\');
                esc
            }
            'u' => {
                let high = read_hex4(&mut chars).ok_or_else(|| (pos, bad_unicode()))?;
                match high {
                    0xD800..=0xDBFF => {
                        // A surrogate pair spelled as two \u escapes.
                        let low = match (chars.next(), chars.next()) {
                            (Some((_, '\\')), Some((_, 'u'))) => {
                                read_hex4(&mut chars).ok_or_else(|| (pos, bad_unicode()))?
                            }
                            _ => return Err((pos, bad_unicode())),
                        };
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err((pos, bad_unicode()));
                        }
                        let cp = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(cp).ok_or_else(|| (pos, bad_unicode()))?
                    }
                    _ => char::from_u32(high).ok_or_else(|| (pos, bad_unicode()))?,
                }
            }
            other => {
                return Err((
                    pos,
                    format!(
                        "Invalid string literal '{raw}'. Illegal character sequence '\\{other}' in string literal."
                    ),
                ));
            }
        };
        out.push(resolved);
    }
    Ok(out)
}

fn bad_unicode() -> String {
    "Invalid unicode escape: \\u must be followed by four hexadecimal digits naming a valid character".to_owned()
}

fn read_hex4(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<u32> {
    let mut value = 0u32;
    for _ in 0..4 {
        let (_, c) = chars.next()?;
        value = value * 16 + c.to_digit(16)?;
    }
    Some(value)
}

/// A date or datetime literal as written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateOrTime {
    /// `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A datetime with an offset.
    DateTime(DateTime<FixedOffset>),
}

/// Parses `YYYY-MM-DD` or a datetime `YYYY-MM-DDThh:mm:ss[.SSS](Z|±hh:mm|±hhmm)`.
pub(crate) fn parse_date_or_time(text: &str) -> Option<DateOrTime> {
    if text.len() == 10 {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(DateOrTime::Date);
    }
    let normalised = if let Some(stripped) = text.strip_suffix(['Z', 'z']) {
        format!("{stripped}+00:00")
    } else {
        text.to_owned()
    };
    // The time part must have seconds; the offset is required.
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(&normalised, fmt) {
            return Some(DateOrTime::DateTime(dt));
        }
    }
    None
}

/// A relative date literal such as `TODAY` or `LAST_N_DAYS:30`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateLiteral {
    /// The keyword in upper case, e.g. `LAST_N_DAYS`.
    pub keyword: String,
    /// The `:n` argument, for the `_N_` forms.
    pub n: Option<u32>,
}

/// The keywords that take no argument.
const PLAIN: &[&str] = &[
    "YESTERDAY",
    "TODAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
];

/// The keywords that take `:n`.
const WITH_N: &[&str] = &[
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "N_WEEKS_AGO",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "N_MONTHS_AGO",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_YEARS_AGO",
];

/// Whether `word` is a relative date keyword, and whether it takes `:n`.
pub(crate) fn date_keyword(word: &str) -> Option<(String, bool)> {
    let upper = word.to_ascii_uppercase();
    if PLAIN.contains(&upper.as_str()) {
        Some((upper, false))
    } else if WITH_N.contains(&upper.as_str()) {
        Some((upper, true))
    } else {
        None
    }
}

impl DateLiteral {
    /// The half-open range of days `[start, end)` the literal covers, relative to `today`.
    /// Weeks start on Sunday; quarters are calendar quarters.
    pub fn range(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let n = u64::from(self.n.unwrap_or(0));
        let n32 = self.n.unwrap_or(0);
        let day = |d: NaiveDate| Some((d, d.checked_add_days(Days::new(1))?));
        let week_start =
            today.checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_sunday())))?;
        let month_start = today.with_day(1)?;
        let quarter_start = NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)?;
        let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
        let weeks = |from: NaiveDate, k: i64, len: u64| -> Option<(NaiveDate, NaiveDate)> {
            let start = shift_days(from, k * 7)?;
            Some((start, start.checked_add_days(Days::new(7 * len))?))
        };
        let months = |from: NaiveDate, k: i32, len: u32| -> Option<(NaiveDate, NaiveDate)> {
            let start = shift_months(from, k)?;
            Some((start, start.checked_add_months(Months::new(len))?))
        };
        match self.keyword.as_str() {
            "YESTERDAY" => day(today.checked_sub_days(Days::new(1))?),
            "TODAY" => day(today),
            "TOMORROW" => day(today.checked_add_days(Days::new(1))?),
            "LAST_WEEK" => weeks(week_start, -1, 1),
            "THIS_WEEK" => weeks(week_start, 0, 1),
            "NEXT_WEEK" => weeks(week_start, 1, 1),
            "LAST_MONTH" => months(month_start, -1, 1),
            "THIS_MONTH" => months(month_start, 0, 1),
            "NEXT_MONTH" => months(month_start, 1, 1),
            "LAST_90_DAYS" => Some((
                today.checked_sub_days(Days::new(90))?,
                today.checked_add_days(Days::new(1))?,
            )),
            "NEXT_90_DAYS" => Some((
                today.checked_add_days(Days::new(1))?,
                today.checked_add_days(Days::new(91))?,
            )),
            "LAST_QUARTER" => months(quarter_start, -3, 3),
            "THIS_QUARTER" => months(quarter_start, 0, 3),
            "NEXT_QUARTER" => months(quarter_start, 3, 3),
            "LAST_YEAR" => months(year_start, -12, 12),
            "THIS_YEAR" => months(year_start, 0, 12),
            "NEXT_YEAR" => months(year_start, 12, 12),
            // Starts n days ago and runs through today.
            "LAST_N_DAYS" => Some((
                today.checked_sub_days(Days::new(n))?,
                today.checked_add_days(Days::new(1))?,
            )),
            // Starts tomorrow and runs for n days.
            "NEXT_N_DAYS" => Some((
                today.checked_add_days(Days::new(1))?,
                today.checked_add_days(Days::new(n + 1))?,
            )),
            "N_DAYS_AGO" => day(today.checked_sub_days(Days::new(n))?),
            "LAST_N_WEEKS" => weeks(week_start, -i64::from(n32), u64::from(n32)),
            "NEXT_N_WEEKS" => weeks(week_start, 1, u64::from(n32)),
            "N_WEEKS_AGO" => weeks(week_start, -i64::from(n32), 1),
            "LAST_N_MONTHS" => months(month_start, -i32::try_from(n32).ok()?, n32),
            "NEXT_N_MONTHS" => months(month_start, 1, n32),
            "N_MONTHS_AGO" => months(month_start, -i32::try_from(n32).ok()?, 1),
            "LAST_N_YEARS" => months(year_start, -12 * i32::try_from(n32).ok()?, 12 * n32),
            "NEXT_N_YEARS" => months(year_start, 12, 12 * n32),
            "N_YEARS_AGO" => months(year_start, -12 * i32::try_from(n32).ok()?, 12),
            _ => None,
        }
    }
}

fn shift_days(d: NaiveDate, k: i64) -> Option<NaiveDate> {
    if k >= 0 {
        d.checked_add_days(Days::new(k.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(k.unsigned_abs()))
    }
}

fn shift_months(d: NaiveDate, k: i32) -> Option<NaiveDate> {
    if k >= 0 {
        d.checked_add_months(Months::new(k.unsigned_abs()))
    } else {
        d.checked_sub_months(Months::new(k.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_escape_resolves() {
        let cases = [
            (r"\n", "\n"),
            (r"\N", "\n"),
            (r"\r", "\r"),
            (r"\R", "\r"),
            (r"\t", "\t"),
            (r"\T", "\t"),
            (r"\b", "\u{8}"),
            (r"\B", "\u{8}"),
            (r"\f", "\u{c}"),
            (r"\F", "\u{c}"),
            (r#"\""#, "\""),
            (r"\'", "'"),
            (r"\\", "\\"),
            (r"\u00e9", "é"),
            (r"\u00E9", "é"),
            (r"\u4e2d", "中"),
            (r"\ud83d\ude00", "😀"),
        ];
        for (raw, want) in cases {
            assert_eq!(unescape(raw, false).unwrap(), want, "escape {raw}");
        }
    }

    #[test]
    fn like_only_escapes_are_errors_outside_like() {
        assert!(unescape(r"\%", false).is_err());
        assert!(unescape(r"\_", false).is_err());
        assert_eq!(unescape(r"a\%b\_c", true).unwrap(), r"a\%b\_c");
    }

    #[test]
    fn like_patterns_keep_a_literal_backslash_escaped() {
        assert_eq!(unescape(r"a\\%", true).unwrap(), r"a\\%");
        assert_eq!(unescape(r"\n\'", true).unwrap(), "\n'");
    }

    #[test]
    fn unknown_escapes_and_bad_unicode_are_errors() {
        for raw in [
            r"\a", r"\x41", r"\0", r"\ ", r"\u12", r"\u12g4", r"\ud83d", r"\ud83dx", r"\ude00",
            r"\U0041",
        ] {
            assert!(unescape(raw, false).is_err(), "{raw} should be rejected");
            assert!(
                unescape(raw, true).is_err(),
                "{raw} should be rejected in LIKE"
            );
        }
    }

    #[test]
    fn error_offset_points_at_the_backslash() {
        assert_eq!(unescape(r"ab\q", false).unwrap_err().0, 2);
    }

    #[test]
    fn dates_and_datetimes_parse() {
        assert_eq!(
            parse_date_or_time("2024-02-29"),
            Some(DateOrTime::Date(
                NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
            ))
        );
        for text in [
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00.123Z",
            "2024-01-01T12:00:00+02:00",
            "2024-01-01T05:00:00-05:00",
            "2024-01-01T12:00:00+0200",
        ] {
            let Some(DateOrTime::DateTime(dt)) = parse_date_or_time(text) else {
                panic!("{text} did not parse");
            };
            assert_eq!(dt.timestamp(), 1_704_103_200, "{text}");
        }
        assert_eq!(parse_date_or_time("2023-02-29"), None);
        assert_eq!(parse_date_or_time("2024-01-01T10:00Z"), None);
        assert_eq!(parse_date_or_time("2024-01-01T10:00:00"), None);
    }

    #[test]
    fn relative_date_ranges() {
        // Wednesday.
        let today = NaiveDate::from_ymd_opt(2024, 5, 15).unwrap();
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let lit = |k: &str, n: Option<u32>| DateLiteral {
            keyword: k.into(),
            n,
        };
        assert_eq!(
            lit("TODAY", None).range(today),
            Some((d(2024, 5, 15), d(2024, 5, 16)))
        );
        assert_eq!(
            lit("YESTERDAY", None).range(today),
            Some((d(2024, 5, 14), d(2024, 5, 15)))
        );
        assert_eq!(
            lit("THIS_WEEK", None).range(today),
            Some((d(2024, 5, 12), d(2024, 5, 19)))
        );
        assert_eq!(
            lit("LAST_MONTH", None).range(today),
            Some((d(2024, 4, 1), d(2024, 5, 1)))
        );
        assert_eq!(
            lit("THIS_QUARTER", None).range(today),
            Some((d(2024, 4, 1), d(2024, 7, 1)))
        );
        assert_eq!(
            lit("LAST_N_DAYS", Some(7)).range(today),
            Some((d(2024, 5, 8), d(2024, 5, 16)))
        );
        assert_eq!(
            lit("NEXT_N_DAYS", Some(2)).range(today),
            Some((d(2024, 5, 16), d(2024, 5, 18)))
        );
        assert_eq!(
            lit("N_DAYS_AGO", Some(3)).range(today),
            Some((d(2024, 5, 12), d(2024, 5, 13)))
        );
        assert_eq!(
            lit("THIS_YEAR", None).range(today),
            Some((d(2024, 1, 1), d(2025, 1, 1)))
        );
    }
}
