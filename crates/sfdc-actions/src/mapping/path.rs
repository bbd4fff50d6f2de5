//! Paths into a JSON value: `$.traits.email`, `$.properties.products[0].price`, `$['first name']`.

use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};

/// A compiled path into a JSON value.
///
/// Syntax: `$` (the whole event), then any number of `.key`, `[index]` or `['quoted key']` /
/// `["quoted key"]` steps. A bare key is any run of characters other than whitespace and
/// `. [ ] { } ( ) ' " = ! , < >`; use the quoted form for anything else. A `.key` made of digits
/// also indexes arrays (`$.products.0`).
///
/// ```
/// use serde_json::json;
/// let path = sfdc_actions::Path::parse("$.traits.address.city")?;
/// let event = json!({"traits": {"address": {"city": "Lyon"}}});
/// assert_eq!(path.resolve(&event), Some(&json!("Lyon")));
/// assert_eq!(sfdc_actions::Path::parse("$.traits..city").unwrap_err().position(), Some(9));
/// # Ok::<(), sfdc_actions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A syntax problem: 0-based character offset and message.
pub(crate) type SyntaxError = (usize, String);

impl Path {
    /// Parses a path that starts with `$`.
    ///
    /// # Errors
    ///
    /// [`Error::PathSyntax`] with the 0-based character position of the problem
    /// ([`Error::position`]).
    pub fn parse(source: &str) -> Result<Path> {
        Path::parse_syntax(source, true).map_err(|(position, message)| Error::PathSyntax {
            path: source.to_owned(),
            position,
            message,
        })
    }

    /// Parses a path whose leading `$.` is optional (`traits.email`), as used in templates and
    /// triggers. Errors are (offset, message) pairs for the caller to wrap.
    pub(crate) fn parse_syntax(source: &str, require_root: bool) -> Result<Path, SyntaxError> {
        let chars: Vec<char> = source.chars().collect();
        let mut segments = Vec::new();
        let mut i = 0;
        match chars.first() {
            Some('$') => i = 1,
            _ if require_root => {
                return Err((
                    0,
                    "a path must start with `$`, e.g. `$.traits.email`".to_owned(),
                ));
            }
            None => return Err((0, "the path is empty".to_owned())),
            Some('[') => {}
            Some(_) => {
                let (key, next) = bare_key(&chars, 0)?;
                segments.push(Segment::Key(key));
                i = next;
            }
        }
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    let (key, next) = bare_key(&chars, i + 1)?;
                    segments.push(Segment::Key(key));
                    i = next;
                }
                '[' => {
                    let (segment, next) = bracket(&chars, i)?;
                    segments.push(segment);
                    i = next;
                }
                c => {
                    return Err((
                        i,
                        format!("unexpected character `{c}`; expected `.` or `[`"),
                    ));
                }
            }
        }
        Ok(Path {
            source: source.to_owned(),
            segments,
        })
    }

    /// Returns the value at this path, or `None` when any step is missing (a key not in an object,
    /// an index past the end, or a step into a string, number, boolean or null).
    pub fn resolve<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        let mut current = root;
        for segment in &self.segments {
            current = match (segment, current) {
                (Segment::Key(key), Value::Object(map)) => get(map, key)?,
                (Segment::Index(index), Value::Array(items)) => items.get(*index)?,
                (Segment::Key(key), Value::Array(items)) => {
                    items.get(key.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(current)
    }

    /// Returns the path as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// A key of an object: by comparison for the small objects of an event (a hash of the key
/// costs more than comparing it with a few keys), by hash otherwise. Keys are unique, so
/// both find the same entry.
fn get<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= SCAN_UP_TO {
        map.iter().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        map.get(key)
    }
}

/// Objects up to this many keys are searched by comparison.
const SCAN_UP_TO: usize = 8;

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_key_char(c: char) -> bool {
    !c.is_whitespace() && !".[]{}()'\"=!,<>".contains(c)
}

fn bare_key(chars: &[char], start: usize) -> Result<(String, usize), SyntaxError> {
    let mut end = start;
    while end < chars.len() && is_key_char(chars[end]) {
        end += 1;
    }
    if end == start {
        return Err(match chars.get(start) {
            None => (
                start,
                "expected a field name at the end of the path".to_owned(),
            ),
            Some(c) => (
                start,
                format!(
                    "expected a field name, found `{c}`; quote unusual names like `['first name']`"
                ),
            ),
        });
    }
    Ok((chars[start..end].iter().collect(), end))
}

fn bracket(chars: &[char], open: usize) -> Result<(Segment, usize), SyntaxError> {
    let mut i = open + 1;
    let segment = match chars.get(i) {
        Some(c) if c.is_ascii_digit() => {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let index = digits
                .parse::<usize>()
                .map_err(|_| (start, format!("array index `{digits}` is too large")))?;
            Segment::Index(index)
        }
        Some(&quote) if quote == '\'' || quote == '"' => {
            let mut key = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err((open + 1, "unterminated quoted key".to_owned()));
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some(&c) => key.push(c),
                            None => {
                                return Err((open + 1, "unterminated quoted key".to_owned()));
                            }
                        }
                        i += 2;
                    }
                    Some(&c) if c == quote => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        key.push(c);
                        i += 1;
                    }
                }
            }
            Segment::Key(key)
        }
        None => return Err((open, "unclosed `[`".to_owned())),
        Some(_) => {
            return Err((
                i,
                "expected an array index such as `[0]` or a quoted key such as `['first name']`"
                    .to_owned(),
            ));
        }
    };
    match chars.get(i) {
        Some(']') => Ok((segment, i + 1)),
        _ => Err((i, "expected `]`".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "traits": {"email": "a@b.c", "address": {"city": "Lyon"}, "first name": "Ann", "n": null},
            "properties": {"products": [{"price": 9.5}, {"price": 3}]}
        })
    }

    #[test]
    fn resolves_nested_keys_indexes_and_quoted_keys() {
        let e = event();
        let cases = [
            ("$.traits.email", Some(json!("a@b.c"))),
            ("$.traits.address.city", Some(json!("Lyon"))),
            ("$.properties.products[1].price", Some(json!(3))),
            ("$.properties.products.0.price", Some(json!(9.5))),
            ("$.traits['first name']", Some(json!("Ann"))),
            ("$[\"traits\"][\"email\"]", Some(json!("a@b.c"))),
            ("$.traits.n", Some(Value::Null)),
            ("$.traits.missing", None),
            ("$.properties.products[7]", None),
            ("$.traits.email.deeper", None),
            ("$.properties.products.x", None),
        ];
        for (path, expected) in cases {
            let p = Path::parse(path).unwrap();
            assert_eq!(p.resolve(&e).cloned(), expected, "{path}");
        }
        assert_eq!(Path::parse("$").unwrap().resolve(&e), Some(&e));
    }

    #[test]
    fn resolves_keys_in_small_and_large_objects_alike() {
        // Up to 8 keys are compared one by one, more are hashed: both must find every key.
        for n in [1, SCAN_UP_TO, SCAN_UP_TO + 1, 40] {
            let object: serde_json::Map<String, Value> =
                (0..n).map(|i| (format!("k{i}"), json!(i))).collect();
            let e = json!({ "traits": object });
            for i in 0..n {
                let p = Path::parse(&format!("$.traits.k{i}")).unwrap();
                assert_eq!(p.resolve(&e), Some(&json!(i)), "{n} keys, k{i}");
            }
            let missing = Path::parse("$.traits.nope").unwrap();
            assert_eq!(missing.resolve(&e), None, "{n} keys");
        }
    }

    #[test]
    fn syntax_errors_report_the_position() {
        let cases = [
            ("traits.email", 0, "must start with `$`"),
            ("$.traits..email", 9, "expected a field name"),
            ("$.traits.", 9, "end of the path"),
            ("$.a[", 3, "unclosed `[`"),
            ("$.a[x]", 4, "expected an array index"),
            ("$.a[0", 5, "expected `]`"),
            ("$.a['b", 4, "unterminated quoted key"),
            ("$.a b", 3, "unexpected character ` `"),
            ("$.é.ü x", 5, "unexpected character"),
            ("$.a[99999999999999999999999]", 4, "too large"),
        ];
        for (path, position, needle) in cases {
            let err = Path::parse(path).unwrap_err();
            assert_eq!(err.position(), Some(position), "{path}: {err}");
            assert!(err.to_string().contains(needle), "{path}: {err}");
        }
    }

    #[test]
    fn relative_paths_are_allowed_where_the_root_is_optional() {
        let p = Path::parse_syntax("traits.email", false).unwrap();
        assert_eq!(p.resolve(&event()), Some(&json!("a@b.c")));
        let p = Path::parse_syntax("$.traits.email", false).unwrap();
        assert_eq!(p.resolve(&event()), Some(&json!("a@b.c")));
        assert_eq!(Path::parse_syntax("", false).unwrap_err().0, 0);
    }
}
