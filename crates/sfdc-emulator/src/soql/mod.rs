//! SOQL for the emulator: a recursive-descent parser and an evaluator over in-memory records.
//!
//! This is the emulator's own reading of the SOQL reference. It shares no code with the
//! client crates, so a client's escaping mistake shows up as a parse error or a wrong
//! match here instead of being mirrored.
//!
//! Supported: `SELECT field, ... | COUNT() FROM object [WHERE ...] [ORDER BY field [ASC|DESC]
//! [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]` with `= != <> < <= > >= LIKE IN NOT IN`,
//! `AND` / `OR` (never mixed at one level without parentheses), a leading `NOT`, every
//! documented string escape, numbers, booleans, `null`, date and datetime literals and
//! relative date literals (`TODAY`, `LAST_N_DAYS:n`, ...). Not supported (rejected with an
//! error, never silently ignored): relationship paths, unless the caller's [`ObjectFields`]
//! resolves them (the server resolves parent paths one level up a lookup), subqueries and semi-joins, aggregates other than `COUNT()`, `GROUP BY`,
//! `HAVING`, `INCLUDES` / `EXCLUDES`, `WITH`, `FOR`, `USING SCOPE`, `TYPEOF`.
//!
//! Records handed to [`execute`] are [`FieldValues`]: JSON objects or the emulator's stored
//! records, keyed by canonical field API names.
//! Stored value formats: text and ids as JSON strings, numbers as JSON numbers, booleans as
//! JSON booleans, dates as `"YYYY-MM-DD"`, datetimes as `"YYYY-MM-DDTHH:MM:SS.sss+0000"`,
//! null or absent as null.
//!
//! Files: `lexer` (tokens with offsets), `literal` (escapes, dates, relative dates),
//! `parser` (grammar), `eval` (field checks, filtering, ordering, paging, projection),
//! `excerpt` (the `ERROR at Row:R:Column:C` excerpt).
//!
//! CONTRACT (owned by the SOQL work; the server side codes against exactly these items):
//! `parse`, `Query` (+ its public fields), `SelectItem`, `Literal`, `ObjectFields`,
//! `FieldMeta`, `ValueKind`, `execute`, `Selection`, `QueryError` (+ `error_code`, `message`).

mod eval;
mod excerpt;
mod lexer;
mod literal;
mod parser;

pub use literal::DateLiteral;

use serde_json::{Map, Value};

/// Longest statement accepted, in characters.
pub const MAX_STATEMENT_CHARS: usize = 100_000;
/// Longest string literal accepted in a WHERE clause, in characters.
pub const MAX_WHERE_STRING_CHARS: usize = 4_000;
/// Largest OFFSET accepted.
pub const MAX_OFFSET: u64 = 2_000;

/// A parsed SOQL statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Selected items, in SELECT order.
    pub select: Vec<SelectItem>,
    /// The object named in FROM, as written.
    pub from: String,
    /// The WHERE condition, if any.
    pub condition: Option<Condition>,
    /// ORDER BY items, in order.
    pub order_by: Vec<OrderBy>,
    /// LIMIT, if given.
    pub limit: Option<u64>,
    /// OFFSET, if given.
    pub offset: Option<u64>,
    /// The original statement text (for error excerpts).
    pub text: String,
    /// Byte offset of the object name after FROM (for error excerpts).
    pub from_offset: usize,
    /// Every field reference, in text order, with where it was written (for validation and
    /// error excerpts).
    pub field_refs: Vec<FieldRef>,
}

impl Query {
    /// `message` with Salesforce's excerpt pointing at the FROM object
    /// (`\n<line>\n<caret>\nERROR at Row:R:Column:C\n<message>`).
    pub fn at_from(&self, message: &str) -> String {
        excerpt::located(&self.text, self.from_offset, message)
    }
}

/// Where a field path was written in the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// The path as written.
    pub path: String,
    /// The clause it appears in.
    pub clause: Clause,
    /// Byte offset of its first character.
    pub offset: usize,
}

/// The clause a field reference appears in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    /// The SELECT list.
    Select,
    /// The WHERE condition.
    Where,
    /// The ORDER BY list.
    OrderBy,
}

/// One item of the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field path as written, e.g. `Name` or `Account.Name`.
    Field(String),
    /// `COUNT()`.
    Count,
}

/// A WHERE condition tree.
///
/// `And` and `Or` hold two or more operands; `NOT` applies to exactly one condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `field op literal`.
    Compare {
        /// Field path as written.
        field: String,
        /// Operator.
        op: CompareOp,
        /// Right-hand literal.
        value: Literal,
    },
    /// `field IN (...)` or `field NOT IN (...)`.
    In {
        /// Field path as written.
        field: String,
        /// True for `NOT IN`.
        negated: bool,
        /// The listed literals.
        values: Vec<Literal>,
    },
    /// All must hold.
    And(Vec<Condition>),
    /// Any must hold.
    Or(Vec<Condition>),
    /// Negation of one condition.
    Not(Box<Condition>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
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
    /// `LIKE`
    Like,
}

/// A literal value as written in the statement, after unescaping.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A single-quoted string, unescaped.
    ///
    /// For the right-hand side of LIKE the text is a pattern in which a backslash escapes the
    /// next character: `\%` and `\_` stay as written and a literal backslash is `\\`.
    String(String),
    /// An integer number.
    Integer(i64),
    /// A decimal number, as written (e.g. `-1.50`).
    Decimal(String),
    /// `TRUE` / `FALSE`.
    Boolean(bool),
    /// `null`.
    Null,
    /// `YYYY-MM-DD`.
    Date(chrono::NaiveDate),
    /// A datetime literal.
    DateTime(chrono::DateTime<chrono::FixedOffset>),
    /// A relative date literal such as `TODAY` or `LAST_N_DAYS:30`.
    Relative(DateLiteral),
}

/// One ORDER BY item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    /// Field path as written.
    pub field: String,
    /// True for DESC.
    pub descending: bool,
    /// `NULLS FIRST` (true), `NULLS LAST` (false), or the SOQL default (None: nulls first for ASC).
    pub nulls_first: Option<bool>,
}

/// How values of a field compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Record id: 15- and 18-character forms of one id are equal.
    Id,
    /// Text: case-insensitive comparison.
    Text,
    /// Integer, double, currency, percent.
    Number,
    /// Boolean.
    Boolean,
    /// Date.
    Date,
    /// Datetime.
    DateTime,
}

/// What the evaluator needs to know about one field of the FROM object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMeta {
    /// Canonical API name (records are keyed by it; results use it).
    pub api_name: String,
    /// Comparison kind.
    pub kind: ValueKind,
    /// Whether the field may appear in WHERE.
    pub filterable: bool,
    /// Whether the field may appear in ORDER BY.
    pub sortable: bool,
}

/// Field lookup for the FROM object, implemented by the emulator's schema.
pub trait ObjectFields {
    /// Canonical API name of the object (for error messages).
    fn object_name(&self) -> &str;
    /// Resolves a field name case-insensitively; `None` if the object has no such field.
    fn resolve(&self, name: &str) -> Option<FieldMeta>;
}

/// A record as the evaluator reads it: values by canonical field API name (or by the key a
/// caller's [`ObjectFields`] resolves a relationship path to).
pub trait FieldValues {
    /// The value stored under `name`; `None` when absent (read as null).
    fn value(&self, name: &str) -> Option<&Value>;
}

impl FieldValues for Map<String, Value> {
    fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// The result of running a query over a set of records.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Matching records before LIMIT/OFFSET (what `totalSize` reports for COUNT()).
    pub total_size: usize,
    /// Projected records after ORDER BY/OFFSET/LIMIT, keyed by canonical names in SELECT
    /// order (serde_json is built with `preserve_order`), without `attributes`. Empty for COUNT().
    pub records: Vec<Map<String, Value>>,
    /// True when the statement was `SELECT COUNT() ...`.
    pub count_only: bool,
}

/// A query failure, mapped by the server to a 400 error array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Syntax error: `MALFORMED_QUERY`.
    #[error("{0}")]
    Malformed(String),
    /// Unknown, non-filterable or non-sortable field: `INVALID_FIELD`.
    #[error("{0}")]
    InvalidField(String),
    /// Operator or literal not valid for the field type: `INVALID_QUERY_FILTER_OPERATOR`.
    #[error("{0}")]
    InvalidOperator(String),
    /// OFFSET above [`MAX_OFFSET`]: `NUMBER_OUTSIDE_VALID_RANGE`.
    #[error("{0}")]
    OutOfRange(String),
}

impl QueryError {
    /// The Salesforce `errorCode` for this failure.
    pub fn error_code(&self) -> &'static str {
        match self {
            QueryError::Malformed(_) => "MALFORMED_QUERY",
            QueryError::InvalidField(_) => "INVALID_FIELD",
            QueryError::InvalidOperator(_) => "INVALID_QUERY_FILTER_OPERATOR",
            QueryError::OutOfRange(_) => "NUMBER_OUTSIDE_VALID_RANGE",
        }
    }

    /// The Salesforce `message` for this failure.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Parses a SOQL statement.
///
/// # Errors
/// [`QueryError::Malformed`] for any syntax error (including AND and OR mixed at one level
/// without parentheses, double-quoted strings, invalid escapes, and string literals in WHERE
/// longer than [`MAX_WHERE_STRING_CHARS`]); [`QueryError::OutOfRange`] for an OFFSET above
/// [`MAX_OFFSET`].
pub fn parse(text: &str) -> Result<Query, QueryError> {
    parser::parse(text)
}

/// Runs a parsed query over `records` of the FROM object described by `fields`.
///
/// The caller resolves `query.from` to an object (unknown object: `INVALID_TYPE`) first.
///
/// # Errors
/// [`QueryError::InvalidField`] for unknown or non-filterable/sortable fields,
/// [`QueryError::InvalidOperator`] for operators or literals the field type does not support,
/// [`QueryError::Malformed`] for a field selected twice.
pub fn execute<'a, R: FieldValues + 'a>(
    query: &Query,
    fields: &dyn ObjectFields,
    records: impl Iterator<Item = &'a R>,
) -> Result<Selection, QueryError> {
    eval::execute_at(query, fields, records, chrono::Utc::now().date_naive())
}

/// Like [`execute`], with relative date literals (`TODAY`, `LAST_N_DAYS:n`, ...) evaluated
/// against `today` (UTC) instead of the clock.
///
/// # Errors
/// As [`execute`].
pub fn execute_at<'a, R: FieldValues + 'a>(
    query: &Query,
    fields: &dyn ObjectFields,
    records: impl Iterator<Item = &'a R>,
    today: chrono::NaiveDate,
) -> Result<Selection, QueryError> {
    eval::execute_at(query, fields, records, today)
}
