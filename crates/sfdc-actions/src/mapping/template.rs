//! Templates: text with `{{path}}` placeholders, e.g. `{{traits.first_name}} {{traits.last_name}}`.

use std::fmt::Write as _;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::mapping::path::Path;

/// A compiled template.
///
/// Placeholders are `{{path}}` where the path's leading `$.` is optional and spaces around it are
/// ignored. A placeholder renders a string as is, a number or boolean as its JSON text, an object
/// or array as compact JSON, and a missing value or null as nothing.
///
/// ```
/// use serde_json::json;
/// let t = sfdc_actions::Template::parse("{{traits.first_name}} {{ $.traits.last_name }}")?;
/// assert_eq!(t.render(&json!({"traits": {"first_name": "Ada", "last_name": "Lovelace"}})), "Ada Lovelace");
/// assert_eq!(t.render(&json!({"traits": {"last_name": "Lovelace"}})), " Lovelace");
/// # Ok::<(), sfdc_actions::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(Path),
}

impl Template {
    /// Parses a template.
    ///
    /// # Errors
    ///
    /// [`Error::TemplateSyntax`] with the 0-based character position ([`Error::position`]) for an
    /// unclosed `{{`, an empty placeholder or a placeholder that is not a valid path.
    pub fn parse(source: &str) -> Result<Template> {
        let err = |position: usize, message: String| Error::TemplateSyntax {
            template: source.to_owned(),
            position,
            message,
        };
        let chars: Vec<char> = source.chars().collect();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '{' && chars.get(i + 1) == Some(&'{') {
                let open = i;
                let start = i + 2;
                let close = (start..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '}' && chars[j + 1] == '}')
                    .ok_or_else(|| err(open, "unclosed `{{`; close it with `}}`".to_owned()))?;
                let mut inner_start = start;
                let mut inner_end = close;
                while inner_start < inner_end && chars[inner_start].is_whitespace() {
                    inner_start += 1;
                }
                while inner_end > inner_start && chars[inner_end - 1].is_whitespace() {
                    inner_end -= 1;
                }
                if inner_start == inner_end {
                    return Err(err(
                        open,
                        "empty placeholder; write a path such as `{{traits.email}}`".to_owned(),
                    ));
                }
                let inner: String = chars[inner_start..inner_end].iter().collect();
                let path = Path::parse_syntax(&inner, false)
                    .map_err(|(p, message)| err(inner_start + p, message))?;
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Placeholder(path));
                i = close + 2;
            } else {
                text.push(chars[i]);
                i += 1;
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// Renders the template against a JSON value; never fails.
    pub fn render(&self, root: &Value) -> String {
        let mut out = String::with_capacity(self.source.len() + 16);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(path) => match path.resolve(root) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => out.push_str(s),
                    Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                    Some(Value::Number(n)) => {
                        let _ = write!(out, "{n}");
                    }
                    Some(other) => {
                        let _ = write!(out, "{other}");
                    }
                },
            }
        }
        out
    }

    /// Returns the template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_every_value_kind() {
        let t = Template::parse("s={{a}} n={{b}} f={{c}} t={{d}} z={{e}} o={{g}} m={{missing}}")
            .unwrap();
        let v = json!({"a": "x", "b": 3, "c": 1.5, "d": true, "e": null, "g": {"k": [1]}});
        assert_eq!(t.render(&v), "s=x n=3 f=1.5 t=true z= o={\"k\":[1]} m=");
    }

    #[test]
    fn text_without_placeholders_and_stray_braces_are_kept() {
        let t = Template::parse("a } b }} c {").unwrap();
        assert_eq!(t.render(&json!({})), "a } b }} c {");
    }

    #[test]
    fn syntax_errors_report_the_position() {
        let cases = [
            ("Hi {{traits.name", 3, "unclosed"),
            ("Hi {{  }}", 3, "empty placeholder"),
            ("Hi {{ traits..name }}", 13, "expected a field name"),
            ("{{a b}}", 3, "unexpected character"),
        ];
        for (src, position, needle) in cases {
            let err = Template::parse(src).unwrap_err();
            assert_eq!(err.position(), Some(position), "{src}: {err}");
            assert!(err.to_string().contains(needle), "{src}: {err}");
        }
    }
}
