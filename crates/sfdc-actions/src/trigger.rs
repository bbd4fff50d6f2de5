//! Triggers: the subscription condition that decides which events an action handles.

use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::mapping::Path;

/// A compiled trigger condition such as `type = "track" and event = "Order Completed"`.
///
/// Grammar:
///
/// ```text
/// condition  := and_expr ( "or" and_expr )*
/// and_expr   := primary ( "and" primary )*
/// primary    := "(" condition ")" | path ( "=" | "==" | "!=" ) literal
/// literal    := "double quoted" | 'single quoted' | number | true | false | null
/// ```
///
/// `and` binds tighter than `or`; keywords are case-insensitive. A path is an event field such as
/// `type`, `event`, `userId`, `properties.plan` or `traits.address.city` (the [`Path`] syntax with
/// an optional leading `$.`). Comparison rules:
///
/// * strings and booleans compare exactly (case-sensitive); numbers compare by value (`1 = 1.0`);
/// * a missing field equals only `null`: `properties.plan = "pro"` is false and
///   `properties.plan != "pro"` is true when the event has no `plan`.
///
/// ```
/// use serde_json::json;
/// let t = sfdc_actions::Trigger::parse(r#"type = "track" and (event = "Order Completed" or properties.plan = "pro")"#)?;
/// assert!(t.matches(&json!({"type": "track", "event": "Order Completed"})));
/// assert!(!t.matches(&json!({"type": "identify", "event": "Order Completed"})));
/// # Ok::<(), sfdc_actions::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Trigger {
    source: String,
    expr: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Compare {
        path: Path,
        negate: bool,
        value: Value,
    },
}

impl Trigger {
    /// Parses a trigger condition.
    ///
    /// # Errors
    ///
    /// [`Error::TriggerSyntax`] with the 0-based character position ([`Error::position`]) and a
    /// message saying what was expected there.
    pub fn parse(source: &str) -> Result<Trigger> {
        let tokens = lex(source).map_err(|(p, m)| syntax(source, p, m))?;
        let mut parser = Parser {
            tokens: &tokens,
            next: 0,
            end: source.chars().count(),
        };
        let expr = parser.or_expr().map_err(|(p, m)| syntax(source, p, m))?;
        if let Some(token) = parser.peek() {
            let message = match token.kind {
                Kind::RParen => "unmatched `)`".to_owned(),
                _ => format!(
                    "unexpected {} after a complete condition; join conditions with `and` or `or`",
                    token.kind.describe()
                ),
            };
            return Err(syntax(source, token.position, message));
        }
        Ok(Trigger {
            source: source.to_owned(),
            expr,
        })
    }

    /// Returns `true` when the event satisfies the condition. Never panics.
    pub fn matches(&self, event: &Value) -> bool {
        self.expr.eval(event)
    }

    /// Returns the condition as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn syntax(source: &str, position: usize, message: String) -> Error {
    Error::TriggerSyntax {
        trigger: source.to_owned(),
        position,
        message,
    }
}

impl Expr {
    fn eval(&self, event: &Value) -> bool {
        match self {
            Expr::Or(items) => items.iter().any(|e| e.eval(event)),
            Expr::And(items) => items.iter().all(|e| e.eval(event)),
            Expr::Compare {
                path,
                negate,
                value,
            } => {
                let actual = path.resolve(event).unwrap_or(&Value::Null);
                equal(actual, value) != *negate
            }
        }
    }
}

fn equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => a == b,
        },
        _ => actual == expected,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Path(String),
    Literal(Value),
    Eq,
    NotEq,
    And,
    Or,
    LParen,
    RParen,
}

impl Kind {
    fn describe(&self) -> String {
        match self {
            Kind::Path(p) => format!("`{p}`"),
            Kind::Literal(v) => format!("value {v}"),
            Kind::Eq => "`=`".to_owned(),
            Kind::NotEq => "`!=`".to_owned(),
            Kind::And => "`and`".to_owned(),
            Kind::Or => "`or`".to_owned(),
            Kind::LParen => "`(`".to_owned(),
            Kind::RParen => "`)`".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    position: usize,
}

type SyntaxError = (usize, String);

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '$' | '[' | ']' | '-' | '@' | ':')
}

fn lex(source: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let position = i;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Kind::LParen
            }
            ')' => {
                i += 1;
                Kind::RParen
            }
            '=' => {
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                Kind::Eq
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Kind::NotEq
            }
            '"' | '\'' => {
                let (text, next) = quoted(&chars, i)?;
                i = next;
                Kind::Literal(Value::String(text))
            }
            c if is_word_char(c) => {
                let start = i;
                i = scan_word(&chars, i)?;
                let word: String = chars[start..i].iter().collect();
                if c.is_ascii_digit() || c == '-' {
                    let number = word.parse::<i64>().ok().map(Value::from).or_else(|| {
                        word.parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                            .map(Value::Number)
                    });
                    match number {
                        Some(number) => Kind::Literal(number),
                        // A word that starts with a digit but is not a number is a path (`0.name`).
                        None if c.is_ascii_digit() => Kind::Path(word),
                        None => return Err((start, format!("`{word}` is not a number"))),
                    }
                } else {
                    match word.to_ascii_lowercase().as_str() {
                        "and" => Kind::And,
                        "or" => Kind::Or,
                        "true" => Kind::Literal(Value::Bool(true)),
                        "false" => Kind::Literal(Value::Bool(false)),
                        "null" => Kind::Literal(Value::Null),
                        _ => Kind::Path(word),
                    }
                }
            }
            '!' => return Err((i, "expected `!=`".to_owned())),
            other => {
                return Err((
                    i,
                    format!(
                        "unexpected character `{other}`; expected a field, a value, `=`, `!=`, `and`, `or` or parentheses"
                    ),
                ));
            }
        };
        tokens.push(Token { kind, position });
    }
    Ok(tokens)
}

/// Scans a word (a path, keyword or number) from `start`; returns the index after it. Quoted keys
/// inside brackets may hold any character (`properties['first name']`); `+` is allowed after an
/// exponent (`1e+5`).
fn scan_word(chars: &[char], start: usize) -> Result<usize, SyntaxError> {
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if is_word_char(c) {
            i += 1;
        } else if matches!(c, '\'' | '"') && in_bracket(&chars[start..i]) {
            let (_, next) = quoted(chars, i)?;
            i = next;
        } else if c == '+' && i > start && matches!(chars[i - 1], 'e' | 'E') {
            i += 1;
        } else {
            break;
        }
    }
    Ok(i)
}

/// `true` when a word so far has an unclosed `[`, so a quote belongs to a quoted path key.
fn in_bracket(word: &[char]) -> bool {
    word.iter().rposition(|&c| c == '[') > word.iter().rposition(|&c| c == ']')
}

fn quoted(chars: &[char], open: usize) -> Result<(String, usize), SyntaxError> {
    let quote = chars[open];
    let mut text = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err((
                    open,
                    "unterminated string; close it with a matching quote".to_owned(),
                ));
            }
            Some('\\') => {
                let escaped = match chars.get(i + 1) {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(&c) => c,
                    None => {
                        return Err((
                            open,
                            "unterminated string; close it with a matching quote".to_owned(),
                        ));
                    }
                };
                text.push(escaped);
                i += 2;
            }
            Some(&c) if c == quote => return Ok((text, i + 1)),
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    end: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn or_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.and_expr()?];
        while self.peek().is_some_and(|t| t.kind == Kind::Or) {
            self.next += 1;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.primary()?];
        while self.peek().is_some_and(|t| t.kind == Kind::And) {
            self.next += 1;
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let expected_condition = "expected a condition such as `type = \"identify\"`";
        let Some(token) = self.bump() else {
            return Err((
                self.end,
                format!("{expected_condition}, found the end of the trigger"),
            ));
        };
        match token.kind {
            Kind::LParen => {
                let inner = self.or_expr()?;
                match self.bump() {
                    Some(Token {
                        kind: Kind::RParen, ..
                    }) => Ok(inner),
                    Some(other) => Err((
                        other.position,
                        format!(
                            "expected `)` to close the `(` at position {}, found {}",
                            token.position,
                            other.kind.describe()
                        ),
                    )),
                    None => Err((
                        self.end,
                        format!(
                            "expected `)` to close the `(` at position {}",
                            token.position
                        ),
                    )),
                }
            }
            Kind::Path(text) => {
                let path =
                    Path::parse_syntax(&text, false).map_err(|(p, m)| (token.position + p, m))?;
                let negate = match self.bump() {
                    Some(Token { kind: Kind::Eq, .. }) => false,
                    Some(Token {
                        kind: Kind::NotEq, ..
                    }) => true,
                    Some(other) => {
                        return Err((
                            other.position,
                            format!(
                                "expected `=` or `!=` after `{text}`, found {}",
                                other.kind.describe()
                            ),
                        ));
                    }
                    None => return Err((self.end, format!("expected `=` or `!=` after `{text}`"))),
                };
                let expected_value =
                    "expected a value (\"quoted text\", a number, true, false or null)";
                match self.bump() {
                    Some(Token {
                        kind: Kind::Literal(value),
                        ..
                    }) => Ok(Expr::Compare {
                        path,
                        negate,
                        value,
                    }),
                    Some(other) => Err((
                        other.position,
                        format!("{expected_value}, found {}", other.kind.describe()),
                    )),
                    None => Err((
                        self.end,
                        format!("{expected_value}, found the end of the trigger"),
                    )),
                }
            }
            other => Err((
                token.position,
                format!("{expected_condition}, found {}", other.describe()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matches(trigger: &str, event: Value) -> bool {
        Trigger::parse(trigger).unwrap().matches(&event)
    }

    #[test]
    fn type_event_and_property_comparisons() {
        let identify = json!({"type": "identify", "traits": {"plan": "pro"}});
        let order = json!({"type": "track", "event": "Order Completed", "properties": {"plan": "pro", "n": 2}});
        assert!(matches(r#"type = "identify""#, identify.clone()));
        assert!(!matches(r#"type = "identify""#, order.clone()));
        assert!(matches(r#"event = "Order Completed""#, order.clone()));
        assert!(matches(r#"type != "identify""#, order.clone()));
        assert!(matches(r#"properties.plan = "pro""#, order.clone()));
        assert!(matches(r#"$.properties.plan == 'pro'"#, order.clone()));
        assert!(matches("properties.n = 2.0", order.clone()));
        assert!(matches("properties.n = 2e0", order.clone()));
        assert!(matches("properties.n != -2", order.clone()));
        assert!(matches(r#"0.a = "x""#, json!({"0": {"a": "x"}})));
        assert!(matches(r#"$.0 = "y""#, json!({"0": "y"})));
        // Found by the property test: a digit-first path with a quoted key holding a space.
        let odd = json!({"0": {"a": {"first name": null}}});
        assert!(matches("0.a['first name'] == null AND 0.a != 1", odd));
        assert!(!matches("properties.n = 3", order.clone()));
        assert!(matches(r#"traits.plan = "pro""#, identify.clone()));
    }

    #[test]
    fn and_or_precedence_and_parentheses() {
        let e = json!({"type": "track", "event": "A"});
        // and binds tighter: (identify and B) or (track and A)
        assert!(matches(
            r#"type = "identify" and event = "B" or type = "track" and event = "A""#,
            e.clone()
        ));
        // parentheses change it: identify and (B or track) ... false
        assert!(!matches(
            r#"type = "identify" and (event = "B" or type = "track")"#,
            e.clone()
        ));
        assert!(matches(
            r#"(type = "identify" or type = "track") AND event = "A""#,
            e.clone()
        ));
        assert!(!matches(r#"type = "track" and event != "A""#, e));
    }

    #[test]
    fn missing_fields_equal_only_null() {
        let e = json!({"type": "track", "properties": {"x": null}});
        assert!(!matches(r#"properties.plan = "pro""#, e.clone()));
        assert!(matches(r#"properties.plan != "pro""#, e.clone()));
        assert!(matches("properties.plan = null", e.clone()));
        assert!(matches("properties.x = null", e.clone()));
        assert!(!matches("properties.x != null", e.clone()));
        assert!(matches("properties['x'] = null", e));
        let spaced = json!({"properties": {"first name": "Ann"}});
        assert!(matches(r#"properties['first name'] = "Ann""#, spaced));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("", 0, "expected a condition"),
            (r#"type = "identify"#, 7, "unterminated string"),
            (r#"type "identify""#, 5, "expected `=` or `!=` after `type`"),
            (r#"type = identify"#, 7, "expected a value"),
            (r#"type = "a" and"#, 14, "found the end of the trigger"),
            (
                r#"(type = "a""#,
                11,
                "expected `)` to close the `(` at position 0",
            ),
            (r#"type = "a")"#, 10, "unmatched `)`"),
            (
                r#"type = "a" event = "b""#,
                11,
                "join conditions with `and` or `or`",
            ),
            (r#"type ! "a""#, 5, "expected `!=`"),
            (
                r#"type = "a" & event = "b""#,
                11,
                "unexpected character `&`",
            ),
            (r#"properties..plan = "a""#, 11, "expected a field name"),
            (r#"= "a""#, 0, "expected a condition"),
            (r#"type = -5x"#, 7, "`-5x` is not a number"),
            (r#"7 = "a""#, 0, "expected a condition"),
        ];
        for (src, position, needle) in cases {
            let err = Trigger::parse(src).unwrap_err();
            assert!(matches!(err, Error::TriggerSyntax { .. }));
            assert_eq!(err.position(), Some(position), "{src}: {err}");
            assert!(err.to_string().contains(needle), "{src}: {err}");
        }
    }
}
