//! Splits SOQL text into tokens, each tagged with its byte offset for error excerpts.

use super::QueryError;
use super::excerpt::located;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A name or keyword: letters, digits, `_` and `.` (starting with a letter or `_`).
    Ident(String),
    /// A number as written, with its sign if any.
    Number(String),
    /// A date or datetime literal as written (`2024-01-31`, `2024-01-31T10:00:00Z`).
    DateTime(String),
    /// The raw text between single quotes (escapes not yet resolved).
    Str(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// End of input.
    Eof,
}

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    /// The token.
    pub(crate) kind: TokenKind,
    /// Byte offset of its first character in the statement.
    pub(crate) offset: usize,
    /// The source text of the token (for error messages).
    pub(crate) text: String,
}

impl Token {
    /// True when the token is the keyword `kw` (case-insensitive).
    pub(crate) fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.kind, TokenKind::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
}

/// Tokenises `text`. The result always ends with an [`TokenKind::Eof`] token.
pub(crate) fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let kind = match c {
            b'(' => single(&mut i, TokenKind::LParen),
            b')' => single(&mut i, TokenKind::RParen),
            b',' => single(&mut i, TokenKind::Comma),
            b':' => single(&mut i, TokenKind::Colon),
            b'=' => single(&mut i, TokenKind::Eq),
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                TokenKind::Ne
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    TokenKind::Le
                }
                Some(b'>') => {
                    i += 2;
                    TokenKind::Ne
                }
                _ => single(&mut i, TokenKind::Lt),
            },
            b'>' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    TokenKind::Ge
                }
                _ => single(&mut i, TokenKind::Gt),
            },
            b'\'' => TokenKind::Str(lex_string(text, &mut i)?),
            b'"' => {
                return Err(QueryError::Malformed(located(
                    text,
                    start,
                    "unexpected token: '\"'",
                )));
            }
            b'0'..=b'9' => lex_number_or_date(bytes, &mut i),
            b'-' | b'+'
                if bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_digit() || *b == b'.') =>
            {
                i += 1;
                let rest = lex_number_or_date(bytes, &mut i);
                match rest {
                    TokenKind::Number(_) => TokenKind::Number(text[start..i].to_owned()),
                    // A signed date is not a thing; report it as written.
                    _ => {
                        return Err(QueryError::Malformed(located(
                            text,
                            start,
                            &format!("unexpected token: '{}'", &text[start..i]),
                        )));
                    }
                }
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                lex_number_or_date(bytes, &mut i)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                TokenKind::Ident(text[start..i].to_owned())
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                return Err(QueryError::Malformed(located(
                    text,
                    start,
                    &format!("unexpected token: '{ch}'"),
                )));
            }
        };
        tokens.push(Token {
            kind,
            offset: start,
            text: text[start..i].to_owned(),
        });
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        offset: text.len(),
        text: "<EOF>".to_owned(),
    });
    Ok(tokens)
}

fn single(i: &mut usize, kind: TokenKind) -> TokenKind {
    *i += 1;
    kind
}

/// Reads a single-quoted string starting at `*i` (the opening quote) and returns the raw text
/// between the quotes. A backslash always consumes the next character, so `\'` does not end
/// the string; resolving escapes is left to the parser, which knows whether LIKE applies.
fn lex_string(text: &str, i: &mut usize) -> Result<String, QueryError> {
    let start = *i;
    let mut chars = text[start + 1..].char_indices();
    while let Some((pos, ch)) = chars.next() {
        match ch {
            '\\' if chars.next().is_none() => break,
            '\'' => {
                let raw = text[start + 1..start + 1 + pos].to_owned();
                *i = start + 1 + pos + 1;
                return Ok(raw);
            }
            _ => {}
        }
    }
    Err(QueryError::Malformed(located(
        text,
        start,
        "unexpected token: <EOF>: unterminated string literal",
    )))
}

/// Reads a number (`12`, `1.5`, `.5`) or a date/datetime literal starting at `*i`.
fn lex_number_or_date(bytes: &[u8], i: &mut usize) -> TokenKind {
    let start = *i;
    if looks_like_date(&bytes[start..]) {
        *i += 10;
        if bytes.get(*i) == Some(&b'T') {
            *i += 1;
            while *i < bytes.len()
                && (bytes[*i].is_ascii_digit() || matches!(bytes[*i], b':' | b'.'))
            {
                *i += 1;
            }
            match bytes.get(*i) {
                Some(b'Z') | Some(b'z') => *i += 1,
                Some(b'+') | Some(b'-') => {
                    *i += 1;
                    while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b':') {
                        *i += 1;
                    }
                }
                _ => {}
            }
        }
        return TokenKind::DateTime(String::from_utf8_lossy(&bytes[start..*i]).into_owned());
    }
    while *i < bytes.len() && bytes[*i].is_ascii_digit() {
        *i += 1;
    }
    if bytes.get(*i) == Some(&b'.') {
        *i += 1;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    TokenKind::Number(String::from_utf8_lossy(&bytes[start..*i]).into_owned())
}

/// True when `b` starts with `DDDD-DD-DD`.
fn looks_like_date(b: &[u8]) -> bool {
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn operators_are_split_correctly() {
        assert_eq!(
            kinds("a!=b<>c<=d>=e<f>g=h"),
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Ne,
                TokenKind::Ident("b".into()),
                TokenKind::Ne,
                TokenKind::Ident("c".into()),
                TokenKind::Le,
                TokenKind::Ident("d".into()),
                TokenKind::Ge,
                TokenKind::Ident("e".into()),
                TokenKind::Lt,
                TokenKind::Ident("f".into()),
                TokenKind::Gt,
                TokenKind::Ident("g".into()),
                TokenKind::Eq,
                TokenKind::Ident("h".into()),
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn strings_keep_raw_escapes_and_do_not_end_on_escaped_quote() {
        assert_eq!(
            kinds(r"'it\'s \\'"),
            vec![TokenKind::Str(r"it\'s \\".into()), TokenKind::Eof]
        );
    }

    #[test]
    fn numbers_dates_and_datetimes() {
        assert_eq!(
            kinds("-1.5 42 .5 2024-02-29 2024-02-29T10:11:12.123+05:30 2024-01-01T00:00:00Z"),
            vec![
                TokenKind::Number("-1.5".into()),
                TokenKind::Number("42".into()),
                TokenKind::Number(".5".into()),
                TokenKind::DateTime("2024-02-29".into()),
                TokenKind::DateTime("2024-02-29T10:11:12.123+05:30".into()),
                TokenKind::DateTime("2024-01-01T00:00:00Z".into()),
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn double_quotes_and_unterminated_strings_are_malformed() {
        assert!(matches!(lex("\"x\""), Err(QueryError::Malformed(_))));
        assert!(matches!(lex("'abc"), Err(QueryError::Malformed(_))));
        assert!(matches!(lex(r"'abc\'"), Err(QueryError::Malformed(_))));
    }

    #[test]
    fn offsets_point_at_token_starts() {
        let t = lex("SELECT  Id").unwrap();
        assert_eq!(t[0].offset, 0);
        assert_eq!(t[1].offset, 8);
        assert_eq!(t[2].offset, 10);
    }
}
