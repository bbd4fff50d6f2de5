//! Recursive-descent parser: tokens to a [`Query`].
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! query      := SELECT select FROM name [WHERE condition] [ORDER BY order (, order)*]
//!               [LIMIT int] [OFFSET int]
//! select     := COUNT ( ) | field (, field)*
//! condition  := operand ((AND operand)* | (OR operand)*)      -- AND and OR never mix
//! operand    := NOT primary | primary                          -- NOT only leads a condition
//! primary    := ( condition ) | field op value | field [NOT] IN ( value (, value)* )
//!             | field LIKE string
//! order      := field [ASC | DESC] [NULLS (FIRST | LAST)]
//! ```

use super::excerpt::located;
use super::lexer::{Token, TokenKind, lex};
use super::literal::{self, DateLiteral, DateOrTime};
use super::{
    Clause, CompareOp, Condition, FieldRef, Literal, MAX_OFFSET, MAX_STATEMENT_CHARS,
    MAX_WHERE_STRING_CHARS, OrderBy, Query, QueryError, SelectItem,
};

/// Words that cannot be field or object names.
const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET",
    "NULL", "TRUE", "FALSE", "ASC", "DESC", "NULLS", "GROUP", "HAVING", "WITH", "FOR", "USING",
    "INCLUDES", "EXCLUDES", "TYPEOF",
];

/// Deepest parenthesis nesting accepted in WHERE (keeps recursion bounded).
const MAX_NESTING: usize = 64;

/// Parses a whole statement.
pub(crate) fn parse(text: &str) -> Result<Query, QueryError> {
    if text.trim().is_empty() {
        return Err(QueryError::Malformed(
            "SOQL statements cannot be empty or null".to_owned(),
        ));
    }
    if text.chars().count() > MAX_STATEMENT_CHARS {
        return Err(QueryError::Malformed(format!(
            "The SOQL statement is longer than the maximum of {MAX_STATEMENT_CHARS} characters"
        )));
    }
    let tokens = lex(text)?;
    let mut p = Parser {
        text,
        tokens,
        pos: 0,
        refs: Vec::new(),
        depth: 0,
    };
    p.query()
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    refs: Vec<FieldRef>,
    /// Current parenthesis nesting depth.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `lex` always ends with Eof and `advance` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.pos + ahead).min(self.tokens.len() - 1)]
    }

    /// Moves past the current token (never past Eof).
    fn skip(&mut self) {
        if self.peek().kind != TokenKind::Eof {
            self.pos += 1;
        }
    }

    fn at_keyword(&self, kw: &str) -> bool {
        self.peek().is_keyword(kw)
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.at_keyword(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn error_at(&self, offset: usize, message: &str) -> QueryError {
        QueryError::Malformed(located(self.text, offset, message))
    }

    /// `unexpected token: 'x'` at the current token.
    fn unexpected(&self) -> QueryError {
        let t = self.peek();
        self.error_at(t.offset, &format!("unexpected token: '{}'", t.text))
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), QueryError> {
        if self.eat_keyword(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// A field path or object name: an identifier that is not a reserved word.
    fn name(&mut self) -> Result<(String, usize), QueryError> {
        let t = self.peek();
        match &t.kind {
            TokenKind::Ident(s) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) => {
                let out = (s.clone(), t.offset);
                self.skip();
                Ok(out)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn field(&mut self, clause: Clause) -> Result<String, QueryError> {
        let (path, offset) = self.name()?;
        if path.starts_with('.') || path.ends_with('.') || path.contains("..") {
            return Err(self.error_at(offset, &format!("unexpected token: '{path}'")));
        }
        self.refs.push(FieldRef {
            path: path.clone(),
            clause,
            offset,
        });
        Ok(path)
    }

    fn query(&mut self) -> Result<Query, QueryError> {
        self.expect_keyword("SELECT")?;
        let select = self.select_list()?;
        self.expect_keyword("FROM")?;
        let (from, from_offset) = self.name()?;
        let condition = if self.eat_keyword("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order_by = Vec::new();
        if self.eat_keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                order_by.push(self.order_item()?);
                if self.peek().kind == TokenKind::Comma {
                    self.skip();
                } else {
                    break;
                }
            }
        }
        let limit = if self.eat_keyword("LIMIT") {
            Some(self.unsigned()?.0)
        } else {
            None
        };
        let offset = if self.eat_keyword("OFFSET") {
            let (n, at) = self.unsigned()?;
            if n > MAX_OFFSET {
                return Err(QueryError::OutOfRange(located(
                    self.text,
                    at,
                    &format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
                )));
            }
            Some(n)
        } else {
            None
        };
        if self.peek().kind != TokenKind::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            from_offset,
            condition,
            order_by,
            limit,
            offset,
            text: self.text.to_owned(),
            field_refs: std::mem::take(&mut self.refs),
        })
    }

    fn select_list(&mut self) -> Result<Vec<SelectItem>, QueryError> {
        if self.at_keyword("COUNT") && self.peek_at(1).kind == TokenKind::LParen {
            self.skip();
            self.skip();
            if self.peek().kind != TokenKind::RParen {
                return Err(self.error_at(
                    self.peek().offset,
                    "COUNT(field) and other aggregate functions are not supported by the emulator; use COUNT()",
                ));
            }
            self.skip();
            return Ok(vec![SelectItem::Count]);
        }
        let mut items = Vec::new();
        loop {
            if self.peek().kind == TokenKind::LParen {
                return Err(self.error_at(
                    self.peek().offset,
                    "subqueries are not supported by the emulator",
                ));
            }
            items.push(SelectItem::Field(self.field(Clause::Select)?));
            if self.peek().kind == TokenKind::Comma {
                self.skip();
            } else {
                break;
            }
        }
        Ok(items)
    }

    fn order_item(&mut self) -> Result<OrderBy, QueryError> {
        let field = self.field(Clause::OrderBy)?;
        let descending = if self.eat_keyword("DESC") {
            true
        } else {
            self.eat_keyword("ASC");
            false
        };
        let nulls_first = if self.eat_keyword("NULLS") {
            if self.eat_keyword("FIRST") {
                Some(true)
            } else if self.eat_keyword("LAST") {
                Some(false)
            } else {
                return Err(self.unexpected());
            }
        } else {
            None
        };
        Ok(OrderBy {
            field,
            descending,
            nulls_first,
        })
    }

    fn unsigned(&mut self) -> Result<(u64, usize), QueryError> {
        let t = self.peek().clone();
        if let TokenKind::Number(s) = &t.kind
            && let Ok(n) = s.parse::<u64>()
        {
            self.skip();
            return Ok((n, t.offset));
        }
        Err(self.unexpected())
    }

    fn condition(&mut self) -> Result<Condition, QueryError> {
        let first = if self.eat_keyword("NOT") {
            Condition::Not(Box::new(self.primary()?))
        } else {
            self.primary()?
        };
        let joiner = if self.at_keyword("AND") {
            "AND"
        } else if self.at_keyword("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let other = if joiner == "AND" { "OR" } else { "AND" };
        let mut operands = vec![first];
        loop {
            if self.eat_keyword(joiner) {
                operands.push(self.primary()?);
            } else if self.at_keyword(other) {
                // SOQL has no precedence between AND and OR.
                let at = self.peek().offset;
                return Err(self.error_at(at, &format!("unexpected token: {other}")));
            } else {
                break;
            }
        }
        Ok(if joiner == "AND" {
            Condition::And(operands)
        } else {
            Condition::Or(operands)
        })
    }

    fn primary(&mut self) -> Result<Condition, QueryError> {
        if self.peek().kind == TokenKind::LParen {
            if self.depth >= MAX_NESTING {
                return Err(self.error_at(
                    self.peek().offset,
                    &format!("conditions are nested more than {MAX_NESTING} levels deep"),
                ));
            }
            self.skip();
            self.depth += 1;
            let inner = self.condition()?;
            self.depth -= 1;
            if self.peek().kind != TokenKind::RParen {
                let t = self.peek();
                return Err(self.error_at(
                    t.offset,
                    &format!("expecting a right parentheses, found '{}'", t.text),
                ));
            }
            self.skip();
            return Ok(inner);
        }
        let field = self.field(Clause::Where)?;
        let t = self.peek().clone();
        let op = match &t.kind {
            TokenKind::Eq => CompareOp::Eq,
            TokenKind::Ne => CompareOp::Ne,
            TokenKind::Lt => CompareOp::Lt,
            TokenKind::Le => CompareOp::Le,
            TokenKind::Gt => CompareOp::Gt,
            TokenKind::Ge => CompareOp::Ge,
            _ if t.is_keyword("LIKE") => CompareOp::Like,
            _ if t.is_keyword("IN") => {
                self.skip();
                let values = self.value_list()?;
                return Ok(Condition::In {
                    field,
                    negated: false,
                    values,
                });
            }
            _ if t.is_keyword("NOT") && self.peek_at(1).is_keyword("IN") => {
                self.skip();
                self.skip();
                let values = self.value_list()?;
                return Ok(Condition::In {
                    field,
                    negated: true,
                    values,
                });
            }
            _ if t.is_keyword("INCLUDES") || t.is_keyword("EXCLUDES") => {
                return Err(self.error_at(
                    t.offset,
                    "INCLUDES and EXCLUDES are not supported by the emulator",
                ));
            }
            _ => return Err(self.unexpected()),
        };
        self.skip();
        let value = if op == CompareOp::Like {
            match &self.peek().kind {
                TokenKind::Str(_) => self.value(true)?,
                _ => return Err(self.unexpected()),
            }
        } else {
            self.value(false)?
        };
        Ok(Condition::Compare { field, op, value })
    }

    fn value_list(&mut self) -> Result<Vec<Literal>, QueryError> {
        if self.peek().kind != TokenKind::LParen {
            return Err(self.unexpected());
        }
        self.skip();
        if self.at_keyword("SELECT") {
            return Err(self.error_at(
                self.peek().offset,
                "semi-join subqueries are not supported by the emulator",
            ));
        }
        let mut values = vec![self.value(false)?];
        while self.peek().kind == TokenKind::Comma {
            self.skip();
            values.push(self.value(false)?);
        }
        if self.peek().kind != TokenKind::RParen {
            let t = self.peek();
            return Err(self.error_at(
                t.offset,
                &format!("expecting a right parentheses, found '{}'", t.text),
            ));
        }
        self.skip();
        Ok(values)
    }

    fn value(&mut self, like: bool) -> Result<Literal, QueryError> {
        // Strings first, read in place (an `IN` list holds up to thousands of them).
        if let TokenKind::Str(raw) = &self.peek().kind {
            let offset = self.peek().offset;
            let s = literal::unescape(raw, like)
                .map_err(|(at, msg)| self.error_at(offset + 1 + at, &msg))?;
            let len = if like {
                pattern_len(&s)
            } else {
                s.chars().count()
            };
            if len > MAX_WHERE_STRING_CHARS {
                return Err(self.error_at(
                offset,
                &format!(
                    "String literal is longer than the maximum of {MAX_WHERE_STRING_CHARS} characters allowed in a WHERE clause"
                ),
            ));
            }
            self.skip();
            return Ok(Literal::String(s));
        }
        let t = self.peek().clone();
        let literal = match &t.kind {
            TokenKind::Number(s) => number(s).ok_or_else(|| self.unexpected())?,
            TokenKind::DateTime(s) => match literal::parse_date_or_time(s) {
                Some(DateOrTime::Date(d)) => Literal::Date(d),
                Some(DateOrTime::DateTime(dt)) => Literal::DateTime(dt),
                None => {
                    return Err(self.error_at(
                        t.offset,
                        &format!(
                            "unexpected token: '{s}' (not a valid date YYYY-MM-DD or datetime YYYY-MM-DDThh:mm:ssZ)"
                        ),
                    ));
                }
            },
            TokenKind::Ident(word) => {
                if word.eq_ignore_ascii_case("null") {
                    Literal::Null
                } else if word.eq_ignore_ascii_case("true") {
                    Literal::Boolean(true)
                } else if word.eq_ignore_ascii_case("false") {
                    Literal::Boolean(false)
                } else if let Some((keyword, takes_n)) = literal::date_keyword(word) {
                    self.skip();
                    let n =
                        if takes_n {
                            if self.peek().kind != TokenKind::Colon {
                                return Err(self.unexpected());
                            }
                            self.skip();
                            let (n, at) = self.unsigned()?;
                            Some(u32::try_from(n).map_err(|_| {
                                self.error_at(at, "date literal argument is too large")
                            })?)
                        } else {
                            None
                        };
                    return Ok(Literal::Relative(DateLiteral { keyword, n }));
                } else {
                    return Err(self.unexpected());
                }
            }
            _ => return Err(self.unexpected()),
        };
        self.skip();
        Ok(literal)
    }
}

/// `12` → Integer, `1.5` / `.5` / out-of-range integers → Decimal.
fn number(s: &str) -> Option<Literal> {
    if !s.contains('.')
        && let Ok(n) = s.parse::<i64>()
    {
        return Some(Literal::Integer(n));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(|_| Literal::Decimal(s.to_owned()))
}

/// Characters a LIKE pattern stands for: each backslash pair counts once.
fn pattern_len(pattern: &str) -> usize {
    let mut n = 0;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        }
        n += 1;
    }
    n
}
