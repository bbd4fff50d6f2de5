//! Evaluation: field resolution, type checks, filtering, ordering, paging and projection.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::excerpt::located;
use super::{
    Clause, CompareOp, Condition, FieldMeta, FieldValues, Literal, ObjectFields, Query, QueryError,
    SelectItem, Selection, ValueKind,
};
use crate::fasthash::FastMap;

/// Runs `query`; relative date literals are evaluated against `today`.
pub(crate) fn execute_at<'a, R: FieldValues + 'a>(
    query: &Query,
    fields: &dyn ObjectFields,
    records: impl Iterator<Item = &'a R>,
    today: NaiveDate,
) -> Result<Selection, QueryError> {
    let resolved = resolve_fields(query, fields)?;
    let meta = |path: &str| -> Result<&FieldMeta, QueryError> {
        resolved.get(&path.to_ascii_lowercase()).ok_or_else(|| {
            // Every path was resolved above; reaching this means the Query was hand-built.
            QueryError::InvalidField(no_such_column(path, fields.object_name()))
        })
    };
    let mut sets = InSets::default();
    if let Some(condition) = &query.condition {
        check_condition(condition, &meta)?;
        sets.collect(condition, &meta)?;
    }
    let mut matched: Vec<&R> = Vec::new();
    for record in records {
        let keep = match &query.condition {
            Some(c) => matches(c, record, &meta, today, &sets)?,
            None => true,
        };
        if keep {
            matched.push(record);
        }
    }
    let total_size = matched.len();
    let count_only = query.select.iter().any(|s| matches!(s, SelectItem::Count));
    if count_only {
        return Ok(Selection {
            total_size,
            records: Vec::new(),
            count_only,
        });
    }
    if !query.order_by.is_empty() {
        let keys = query
            .order_by
            .iter()
            .map(|o| Ok((meta(&o.field)?, o)))
            .collect::<Result<Vec<_>, QueryError>>()?;
        matched.sort_by(|a, b| {
            for (m, o) in &keys {
                let ord = order_values(m, a.value(&m.api_name), b.value(&m.api_name), o);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let skip = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let take = query
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let mut projected = Vec::new();
    let columns = query
        .select
        .iter()
        .filter_map(|s| match s {
            SelectItem::Field(path) => Some(meta(path).map(|m| m.api_name.clone())),
            SelectItem::Count => None,
        })
        .collect::<Result<Vec<_>, QueryError>>()?;
    for record in matched.into_iter().skip(skip).take(take) {
        let mut row = Map::new();
        for name in &columns {
            row.insert(
                name.clone(),
                record.value(name).cloned().unwrap_or(Value::Null),
            );
        }
        projected.push(row);
    }
    Ok(Selection {
        total_size,
        records: projected,
        count_only,
    })
}

fn no_such_column(path: &str, object: &str) -> String {
    format!(
        "No such column '{path}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    )
}

/// Resolves every field reference (in text order, so the first bad one is reported), checks
/// filterability/sortability and duplicate selections. Keys are lower-cased paths as written.
fn resolve_fields(
    query: &Query,
    fields: &dyn ObjectFields,
) -> Result<FastMap<String, FieldMeta>, QueryError> {
    let object = fields.object_name();
    let mut out = FastMap::default();
    let mut selected: Vec<String> = Vec::new();
    for r in &query.field_refs {
        let at = |msg: String| located(&query.text, r.offset, &msg);
        // `Account.Name` in a query on Account is just `Name`.
        let path = match r.path.split_once('.') {
            Some((head, rest))
                if head.eq_ignore_ascii_case(object) || head.eq_ignore_ascii_case(&query.from) =>
            {
                rest
            }
            _ => r.path.as_str(),
        };
        // A parent relationship path (`Account.Name`) is resolved by the caller's fields, when
        // it supports them.
        if let Some((relationship, _)) = path.split_once('.')
            && fields.resolve(path).is_none()
        {
            return Err(QueryError::InvalidField(at(format!(
                "Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
            ))));
        }
        let meta = fields
            .resolve(path)
            .ok_or_else(|| QueryError::InvalidField(at(no_such_column(path, object))))?;
        match r.clause {
            Clause::Select => {
                if selected.iter().any(|s| s == &meta.api_name) {
                    return Err(QueryError::Malformed(at(format!(
                        "duplicate field selected: {}",
                        meta.api_name
                    ))));
                }
                selected.push(meta.api_name.clone());
            }
            Clause::Where if !meta.filterable => {
                return Err(QueryError::InvalidField(at(format!(
                    "field '{}' can not be filtered in query call",
                    meta.api_name
                ))));
            }
            Clause::OrderBy if !meta.sortable => {
                return Err(QueryError::InvalidField(at(format!(
                    "field '{}' can not be sorted in a query call",
                    meta.api_name
                ))));
            }
            _ => {}
        }
        out.insert(r.path.to_ascii_lowercase(), meta);
    }
    Ok(out)
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Id => "id",
        ValueKind::Text => "string",
        ValueKind::Number => "double",
        ValueKind::Boolean => "boolean",
        ValueKind::Date => "date",
        ValueKind::DateTime => "dateTime",
    }
}

/// Checks operators and literal types against field kinds, before any record is looked at.
fn check_condition<'m>(
    c: &Condition,
    meta: &dyn Fn(&str) -> Result<&'m FieldMeta, QueryError>,
) -> Result<(), QueryError> {
    match c {
        Condition::And(items) | Condition::Or(items) => {
            items.iter().try_for_each(|i| check_condition(i, meta))
        }
        Condition::Not(inner) => check_condition(inner, meta),
        Condition::Compare { field, op, value } => {
            let m = meta(field)?;
            if *op == CompareOp::Like {
                return match m.kind {
                    ValueKind::Text => Ok(()),
                    ValueKind::Id => Err(QueryError::InvalidOperator(
                        "invalid operator on id field".to_owned(),
                    )),
                    k => Err(QueryError::InvalidOperator(format!(
                        "invalid operator on {} field: LIKE can only be used with text fields ('{}')",
                        kind_name(k),
                        m.api_name
                    ))),
                };
            }
            if m.kind == ValueKind::Boolean && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(QueryError::InvalidOperator(format!(
                    "invalid operator on boolean field '{}'",
                    m.api_name
                )));
            }
            check_literal(m, value)
        }
        Condition::In { field, values, .. } => {
            let m = meta(field)?;
            values.iter().try_for_each(|v| check_literal(m, v))
        }
    }
}

fn check_literal(m: &FieldMeta, value: &Literal) -> Result<(), QueryError> {
    let ok = match (m.kind, value) {
        (_, Literal::Null) => true,
        (ValueKind::Id, Literal::String(s)) => {
            if is_id(s) {
                true
            } else {
                return Err(QueryError::InvalidOperator(format!(
                    "invalid ID field: {s}"
                )));
            }
        }
        (ValueKind::Text, Literal::String(_)) => true,
        (ValueKind::Number, Literal::Integer(_) | Literal::Decimal(_)) => true,
        (ValueKind::Boolean, Literal::Boolean(_)) => true,
        (ValueKind::Date, Literal::Date(_) | Literal::Relative(_)) => true,
        (ValueKind::DateTime, Literal::DateTime(_) | Literal::Relative(_)) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let quoting = match m.kind {
        ValueKind::Id | ValueKind::Text => "should be enclosed in quotes",
        _ => "should not be enclosed in quotes",
    };
    Err(QueryError::InvalidOperator(format!(
        "value of filter criterion for field '{}' must be of type {} and {quoting}",
        m.api_name,
        kind_name(m.kind)
    )))
}

/// True for a 15- or 18-character alphanumeric id.
fn is_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Shortest `IN` list worth a hash set.
const MIN_SET_LEN: usize = 8;

/// Hash sets of the long text and id `IN` lists of a condition, so a record is tested with
/// one probe instead of one comparison per listed value (a 1,000-value lookup over 500
/// candidates was half a million comparisons). Text values are ASCII lower-cased (the
/// lists qualify only when every value is ASCII, where that folding is exactly
/// [`compare`]'s), ids keyed by their first 15 characters ([`id_key`]). Each set is
/// found by the address of its list in the query.
#[derive(Default)]
struct InSets {
    sets: Vec<(*const Literal, crate::fasthash::FastSet<String>)>,
}

impl InSets {
    fn collect<'m>(
        &mut self,
        c: &Condition,
        meta: &dyn Fn(&str) -> Result<&'m FieldMeta, QueryError>,
    ) -> Result<(), QueryError> {
        match c {
            Condition::And(items) | Condition::Or(items) => {
                items.iter().try_for_each(|i| self.collect(i, meta))
            }
            Condition::Not(inner) => self.collect(inner, meta),
            Condition::Compare { .. } => Ok(()),
            Condition::In { field, values, .. } => {
                if values.len() < MIN_SET_LEN {
                    return Ok(());
                }
                let kind = meta(field)?.kind;
                let key = |v: &Literal| match (kind, v) {
                    (ValueKind::Text, Literal::String(s)) if s.is_ascii() => {
                        Some(s.to_ascii_lowercase())
                    }
                    (ValueKind::Id, Literal::String(s)) => Some(id_key(s).to_owned()),
                    _ => None,
                };
                if let Some(set) = values.iter().map(key).collect::<Option<_>>() {
                    self.sets.push((values.as_ptr(), set));
                }
                Ok(())
            }
        }
    }

    /// Whether `stored` equals a value of the list at `list`: `None` when the list has no
    /// set or the value is one the set cannot answer (non-ASCII text, not a string).
    fn test(&self, list: &[Literal], kind: ValueKind, stored: Option<&Value>) -> Option<bool> {
        let (_, set) = self.sets.iter().find(|(p, _)| *p == list.as_ptr())?;
        match stored {
            // Every listed value is a string: nothing equals a null.
            None | Some(Value::Null) => Some(false),
            Some(Value::String(s)) => match kind {
                ValueKind::Text if s.is_ascii() => Some(set.contains(&s.to_ascii_lowercase())),
                ValueKind::Id => Some(set.contains(id_key(s))),
                _ => None,
            },
            Some(_) => None,
        }
    }
}

fn matches<'m, R: FieldValues>(
    c: &Condition,
    record: &R,
    meta: &dyn Fn(&str) -> Result<&'m FieldMeta, QueryError>,
    today: NaiveDate,
    sets: &InSets,
) -> Result<bool, QueryError> {
    Ok(match c {
        Condition::And(items) => {
            for i in items {
                if !matches(i, record, meta, today, sets)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Or(items) => {
            for i in items {
                if matches(i, record, meta, today, sets)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(inner) => !matches(inner, record, meta, today, sets)?,
        Condition::Compare { field, op, value } => {
            let m = meta(field)?;
            compare(m, record.value(&m.api_name), *op, value, today)
        }
        Condition::In {
            field,
            negated,
            values,
        } => {
            let m = meta(field)?;
            let stored = record.value(&m.api_name);
            let hit = match sets.test(values, m.kind, stored) {
                Some(hit) => hit,
                None => values
                    .iter()
                    .any(|v| compare(m, stored, CompareOp::Eq, v, today)),
            };
            hit != *negated
        }
    })
}

/// `stored op literal` for one record. Null stored values equal only `null`; `!=` is true for
/// them (as in SOQL); ordering operators and LIKE are false for them.
fn compare(
    m: &FieldMeta,
    stored: Option<&Value>,
    op: CompareOp,
    literal: &Literal,
    today: NaiveDate,
) -> bool {
    let stored = stored.filter(|v| !v.is_null());
    let (Some(stored), false) = (stored, matches!(literal, Literal::Null)) else {
        let both_null = stored.is_none() && matches!(literal, Literal::Null);
        return match op {
            CompareOp::Eq => both_null,
            CompareOp::Ne => !both_null,
            _ => false,
        };
    };
    if op == CompareOp::Like {
        return match (as_text(stored), literal) {
            (Some(text), Literal::String(pattern)) => like(&text, pattern),
            _ => false,
        };
    }
    if let Literal::Relative(rel) = literal {
        let Some((start, end)) = rel.range(today) else {
            return false;
        };
        let Some(value) = stored_instant(m.kind, stored) else {
            return false;
        };
        let start = day_start(start);
        let end = day_start(end);
        let inside = start <= value && value < end;
        return match op {
            CompareOp::Eq => inside,
            CompareOp::Ne => !inside,
            CompareOp::Lt => value < start,
            CompareOp::Le => value < end,
            CompareOp::Gt => value >= end,
            CompareOp::Ge => value >= start,
            CompareOp::Like => false,
        };
    }
    // Text equality (every `=` and `IN` on text): a length check and an ASCII case-insensitive
    // comparison decide it without ordering the characters.
    if let (ValueKind::Text, CompareOp::Eq | CompareOp::Ne, Value::String(a), Literal::String(b)) =
        (m.kind, op, stored, literal)
        && a.is_ascii()
        && b.is_ascii()
    {
        return a.eq_ignore_ascii_case(b) == (op == CompareOp::Eq);
    }
    let Some(ord) = compare_to_literal(m.kind, stored, literal) else {
        // Incomparable (e.g. a stored value of the wrong type): only != holds.
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Like => false,
    }
}

fn compare_to_literal(kind: ValueKind, stored: &Value, literal: &Literal) -> Option<Ordering> {
    match (kind, literal) {
        (ValueKind::Id, Literal::String(s)) => {
            let v = as_text(stored)?;
            Some(id_key(&v).cmp(id_key(s)))
        }
        (ValueKind::Text, Literal::String(s)) => Some(folded_cmp(&as_text(stored)?, s)),
        (ValueKind::Number, Literal::Integer(_) | Literal::Decimal(_)) => {
            let lit = match literal {
                Literal::Integer(i) => *i as f64,
                Literal::Decimal(d) => d.parse().ok()?,
                _ => return None,
            };
            as_number(stored)?.partial_cmp(&lit)
        }
        (ValueKind::Boolean, Literal::Boolean(b)) => Some(as_bool(stored)?.cmp(b)),
        (ValueKind::Date, Literal::Date(d)) => Some(as_date(stored)?.cmp(d)),
        (ValueKind::DateTime, Literal::DateTime(dt)) => Some(as_datetime(stored)?.cmp(dt)),
        _ => None,
    }
}

/// The comparable part of an id: the first 15 characters (case-sensitive).
fn id_key(id: &str) -> &str {
    id.get(..15).unwrap_or(id)
}

/// Case folding used for text comparison and LIKE: each character maps to its lower-case form
/// when that is a single character.
fn fold_char(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Orders two strings case-insensitively (each side's characters mapped by [`fold_char`]),
/// without allocating.
fn folded_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        // For ASCII, `fold_char` is byte lower-casing and byte order is char order.
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars().map(fold_char).cmp(b.chars().map(fold_char))
}

fn as_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn as_date(v: &Value) -> Option<NaiveDate> {
    let s = v.as_str()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn as_datetime(v: &Value) -> Option<DateTime<FixedOffset>> {
    let s = v.as_str()?;
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
}

/// A stored date or datetime as a UTC instant (dates at midnight UTC).
fn stored_instant(kind: ValueKind, v: &Value) -> Option<DateTime<chrono::Utc>> {
    match kind {
        ValueKind::Date => Some(day_start(as_date(v)?)),
        ValueKind::DateTime => Some(as_datetime(v)?.to_utc()),
        _ => None,
    }
}

fn day_start(d: NaiveDate) -> DateTime<chrono::Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// Case-insensitive LIKE: `%` any run, `_` one character, backslash escapes the next character.
fn like(text: &str, pattern: &str) -> bool {
    enum P {
        Any,
        One,
        Lit(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Lit(fold_char(chars.next().unwrap_or('\\'))),
            c => P::Lit(fold_char(c)),
        });
    }
    let text: Vec<char> = text.chars().map(fold_char).collect();
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(P::One) => {
                t += 1;
                p += 1;
            }
            Some(P::Lit(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(P::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|tok| matches!(tok, P::Any))
}

/// ORDER BY comparison of two stored values; nulls placed per NULLS FIRST/LAST (default: first
/// for ASC, last for DESC), independent of direction.
fn order_values(
    m: &FieldMeta,
    a: Option<&Value>,
    b: Option<&Value>,
    o: &super::OrderBy,
) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    let nulls_first = o.nulls_first.unwrap_or(!o.descending);
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => {
            if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (Some(_), None) => {
            if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        (Some(a), Some(b)) => {
            let ord = sort_key_cmp(m.kind, a, b);
            if o.descending { ord.reverse() } else { ord }
        }
    }
}

fn sort_key_cmp(kind: ValueKind, a: &Value, b: &Value) -> Ordering {
    let by_text = || {
        folded_cmp(
            &as_text(a).unwrap_or_default(),
            &as_text(b).unwrap_or_default(),
        )
    };
    match kind {
        ValueKind::Number => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => by_text(),
        },
        ValueKind::Boolean => as_bool(a).cmp(&as_bool(b)),
        ValueKind::Date => as_date(a).cmp(&as_date(b)),
        ValueKind::DateTime => as_datetime(a).cmp(&as_datetime(b)),
        ValueKind::Id => as_text(a).cmp(&as_text(b)),
        ValueKind::Text => by_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fold_char, folded_cmp, like};
    use proptest::prelude::*;

    /// The allocating definition `folded_cmp` must agree with.
    fn fold(s: &str) -> String {
        s.chars().map(fold_char).collect()
    }

    proptest! {
        #[test]
        fn folded_cmp_orders_like_folded_strings(a in "\\PC{0,12}", b in "\\PC{0,12}") {
            prop_assert_eq!(folded_cmp(&a, &b), fold(&a).cmp(&fold(&b)));
        }

        #[test]
        fn folded_cmp_on_ascii_orders_like_folded_strings(a in "[ -~]{0,12}", b in "[ -~]{0,12}") {
            prop_assert_eq!(folded_cmp(&a, &b), fold(&a).cmp(&fold(&b)));
        }
    }

    #[test]
    fn folded_cmp_examples() {
        use std::cmp::Ordering::*;
        assert_eq!(folded_cmp("ADA@Example.com", "ada@example.COM"), Equal);
        assert_eq!(folded_cmp("Ärger", "ärger"), Equal);
        assert_eq!(folded_cmp("a", "B"), Less);
        assert_eq!(folded_cmp("Z", "a"), Greater);
    }

    #[test]
    fn like_wildcards_and_escapes() {
        assert!(like("Acme Corp", "acme%"));
        assert!(like("Acme Corp", "%CORP"));
        assert!(like("Acme Corp", "%me c%"));
        assert!(like("Acme", "A_me"));
        assert!(!like("Acme", "A_e"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
        assert!(like("100%", r"100\%"));
        assert!(!like("1000", r"100\%"));
        assert!(like("a_b", r"a\_b"));
        assert!(!like("axb", r"a\_b"));
        assert!(like(r"a\b", r"a\\b"));
        assert!(like("abcabcabd", "%abd"));
        assert!(like("mississippi", "m%iss%pi"));
        assert!(!like("mississippi", "m%iss%pix"));
    }
}
