//! Settings parse errors that never carry value text.
//!
//! The TOML and JSON parsers quote the offending source line and values (`invalid type: integer
//! `998877``), which would print a mistyped or unterminated secret. This module keeps only the
//! line, the column, the key path (taken from the text before the `=` or `:` of the offending line)
//! and the parser's explanation with every quoted fragment removed.

use crate::error::Error;

/// Builds [`Error::Parse`] from a TOML error and the source text.
pub(crate) fn from_toml(err: &toml::de::Error, text: &str) -> Error {
    let offset = err.span().map_or(text.len(), |s| s.start.min(text.len()));
    let (line, column) = line_column(text, offset);
    let key = toml_key(text, line).or_else(|| toml_mistyped_key(text, line, err.message()));
    build("TOML", line, column, key, err.message())
}

/// Builds [`Error::Parse`] from a JSON error and the source text.
pub(crate) fn from_json(err: &serde_json::Error, text: &str) -> Error {
    let (line, column) = (err.line(), err.column());
    let key = json_key(text, line, column);
    // serde_json's Display appends " at line L column C"; the message part is before it.
    let message = err.to_string();
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_owned();
    build("JSON", line, column, key, &message)
}

fn build(format: &str, line: usize, column: usize, key: Option<String>, message: &str) -> Error {
    let key = key.map_or(String::new(), |k| format!(", key `{k}`"));
    Error::Parse {
        message: format!(
            "{format} error at line {line}, column {column}{key}: {}",
            redact(message)
        ),
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Removes every quoted fragment (`` `…` ``, `"…"`, `'…'`) from a parser message, keeping the
/// names of unknown and missing fields (keys, not values). Anything after a line break (source
/// excerpts) is dropped.
fn redact(message: &str) -> String {
    let first = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let keep_names = first.starts_with("unknown field") || first.starts_with("missing field");
    let mut out = String::with_capacity(first.len());
    let mut quote: Option<char> = None;
    let mut keep = false;
    let mut fragments = 0;
    for c in first.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) if keep => out.push(c),
            Some(_) => {}
            None if matches!(c, '`' | '"' | '\'') => {
                quote = Some(c);
                keep = keep_names && fragments == 0;
                fragments += 1;
                out.push(c);
                if !keep {
                    out.push('…');
                }
            }
            None => out.push(c),
        }
    }
    out
}

/// A bare key made of key characters only.
fn bare_key(candidate: &str) -> Option<String> {
    let k = candidate.trim();
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '$'));
    ok.then(|| k.to_owned())
}

/// The key path of a TOML line: the last `[table]` above it, then the text before its `=`.
fn toml_key(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let current = lines.get(line.checked_sub(1)?)?;
    let key = bare_key(current.split_once('=')?.0)?;
    let table = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .and_then(|l| bare_key(l.trim_matches(|c| c == '[' || c == ']')));
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key,
    })
}

/// For a type error reported on a whole table (internally tagged tables such as `[auth]` are
/// checked as a whole): the one key of that table whose value has the reported wrong type.
fn toml_mistyped_key(text: &str, line: usize, message: &str) -> Option<String> {
    let found = message.strip_prefix("invalid type: ")?;
    let header = text.lines().nth(line.checked_sub(1)?)?.trim();
    let table_name = bare_key(header.strip_prefix('[')?.strip_suffix(']')?)?;
    let doc: toml::Table = toml::from_str(text).ok()?;
    let mut table = &doc;
    for part in table_name.split('.') {
        table = table.get(part)?.as_table()?;
    }
    let kind = |v: &toml::Value| match v {
        toml::Value::String(_) => "string",
        toml::Value::Integer(_) => "integer",
        toml::Value::Float(_) => "floating point",
        toml::Value::Boolean(_) => "boolean",
        toml::Value::Datetime(_) => "datetime",
        toml::Value::Array(_) => "sequence",
        toml::Value::Table(_) => "map",
    };
    let mut candidates = table
        .iter()
        .filter(|(_, v)| found.starts_with(kind(v)))
        .map(|(k, _)| k);
    match (candidates.next(), candidates.next()) {
        (Some(k), None) => bare_key(k).map(|k| format!("{table_name}.{k}")),
        _ => None,
    }
}

/// The key of a JSON error position: the last `"name":` before it.
fn json_key(text: &str, line: usize, column: usize) -> Option<String> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            break;
        }
        offset += l.len();
    }
    let before = text.get(..offset.min(text.len()))?;
    let colon = before.rfind("\":")?;
    let open = before[..colon].rfind('"')?;
    bare_key(&before[open + 1..colon])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_quoted_values_but_keeps_unknown_field_names() {
        assert_eq!(
            redact("invalid type: integer `998877`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert!(
            redact("unknown field `is_sandboxx`, expected one of `a`, `b`").contains("is_sandboxx")
        );
        assert!(!redact("unknown field `x`, expected `topsecret`").contains("topsecret"));
        assert_eq!(redact("bad\n1 | a = \"secret\""), "bad");
    }

    #[test]
    fn keys_and_positions() {
        let text = "a = 1\n[auth]\nrefresh_token = \"abc\n";
        assert_eq!(line_column(text, 8), (2, 3));
        assert_eq!(toml_key(text, 3).as_deref(), Some("auth.refresh_token"));
        let json = "{\"auth\": {\"access_token\": 12}}";
        assert_eq!(json_key(json, 1, 28).as_deref(), Some("access_token"));
    }
}
