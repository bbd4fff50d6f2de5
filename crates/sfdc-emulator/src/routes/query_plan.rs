//! Which part of a WHERE condition an index can answer: an `=` or `IN` on one plain field of
//! the FROM object (alone or as one operand of AND), with text values. The query still
//! evaluates its whole condition on the records the index returns.

use crate::soql::{CompareOp, Condition, Literal};

/// `field` without a leading `From.` qualifier, if it names a field of the FROM object.
fn plain<'q>(field: &'q str, from: &str) -> Option<&'q str> {
    let f = match field.split_once('.') {
        Some((head, rest)) if head.eq_ignore_ascii_case(from) => rest,
        _ => field,
    };
    (!f.contains('.')).then_some(f)
}

/// The field and values of an index-answerable conjunct of `c`. Only ASCII values, so the
/// index's case folding and SOQL's agree.
pub(crate) fn index_probe<'q>(c: &'q Condition, from: &str) -> Option<(&'q str, Vec<&'q str>)> {
    let text = |v: &'q Literal| match v {
        Literal::String(s) if s.is_ascii() => Some(s.as_str()),
        _ => None,
    };
    match c {
        Condition::Compare {
            field,
            op: CompareOp::Eq,
            value,
        } => Some((plain(field, from)?, vec![text(value)?])),
        Condition::In {
            field,
            negated: false,
            values,
        } if !values.is_empty() => Some((
            plain(field, from)?,
            values.iter().map(text).collect::<Option<Vec<_>>>()?,
        )),
        Condition::And(list) => list.iter().find_map(|c| index_probe(c, from)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soql::parse;

    fn probe(soql: &str) -> Option<(String, Vec<String>)> {
        let q = parse(soql).unwrap();
        let c = q.condition.as_ref()?;
        index_probe(c, &q.from)
            .map(|(f, v)| (f.to_owned(), v.into_iter().map(str::to_owned).collect()))
    }

    #[test]
    fn equality_and_in_lists_are_answerable_alone_or_under_and() {
        assert_eq!(
            probe("SELECT Id FROM Lead WHERE Email = 'a@x.io'"),
            Some(("Email".into(), vec!["a@x.io".into()]))
        );
        assert_eq!(
            probe(
                "SELECT Id FROM Lead WHERE Lead.Email IN ('a@x.io','b@x.io') AND IsDeleted = false"
            ),
            Some(("Email".into(), vec!["a@x.io".into(), "b@x.io".into()]))
        );
        assert_eq!(
            probe("SELECT Id FROM Lead WHERE Company = 'C' AND Id = '00Q000000000001'"),
            Some(("Company".into(), vec!["C".into()]))
        );
    }

    #[test]
    fn other_shapes_scan() {
        for soql in [
            "SELECT Id FROM Lead",
            "SELECT Id FROM Lead WHERE Email != 'a@x.io'",
            "SELECT Id FROM Lead WHERE Email NOT IN ('a@x.io')",
            "SELECT Id FROM Lead WHERE Email LIKE 'a%'",
            "SELECT Id FROM Lead WHERE Email = 'a@x.io' OR Email = 'b@x.io'",
            "SELECT Id FROM Lead WHERE Email = 'Straße@x.io'",
            "SELECT Id FROM Lead WHERE NumberOfEmployees = 5",
            "SELECT Id FROM Contact WHERE Account.Name = 'A'",
        ] {
            assert_eq!(probe(soql), None, "{soql}");
        }
    }
}
