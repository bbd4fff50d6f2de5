//! Property tests: the SOQL this crate writes, read back by the emulator's independent SOQL
//! parser. Every value must come back unchanged, and no value may change the query's shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use proptest::prelude::*;
use serde_json::{Value, json};
use sfdc_emulator::soql::{self, CompareOp, Condition, Literal as ELiteral};
use sfdc_match::{BatchPlan, FieldType, Literal, Lookup, MatchOperator, QueryLimits, Schema};

/// What the emulator's parser should produce for one of our literals.
fn expected(lit: &Literal) -> ELiteral {
    match lit {
        Literal::String(s) => ELiteral::String(s.clone()),
        Literal::Integer(i) => ELiteral::Integer(*i),
        Literal::Decimal(d) => ELiteral::Decimal(d.as_str().to_owned()),
        Literal::Boolean(b) => ELiteral::Boolean(*b),
        Literal::Null => ELiteral::Null,
        Literal::Date(d) => ELiteral::Date(*d),
        Literal::DateTime(dt) => ELiteral::DateTime(*dt),
        other => panic!("unexpected literal {other:?}"),
    }
}

/// The flat list of `field = literal` comparisons under one AND/OR level.
fn comparisons(cond: &Condition) -> (Option<&'static str>, Vec<(String, ELiteral)>) {
    let leaf = |c: &Condition| match c {
        Condition::Compare {
            field,
            op: CompareOp::Eq,
            value,
        } => (field.clone(), value.clone()),
        other => panic!("expected `field = literal`, got {other:?}"),
    };
    match cond {
        Condition::Or(items) => (Some("OR"), items.iter().map(leaf).collect()),
        Condition::And(items) => (Some("AND"), items.iter().map(leaf).collect()),
        other => (None, vec![leaf(other)]),
    }
}

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => any::<String>().prop_map(Value::String),
        2 => "[\\PC'\\\\\"\n\r\t\u{8}\u{c}%_\u{0}\u{1f}]{0,40}".prop_map(Value::String),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (1i32..=9999, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn any_datetime() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (any_date(), 0u32..86_400, 0u32..1000, -(14 * 4)..=(14 * 4)).prop_map(
        |(d, secs, ms, quarter_hours)| {
            let offset = FixedOffset::east_opt(quarter_hours * 15 * 60).unwrap();
            let naive = d
                .and_hms_milli_opt(secs / 3600, secs / 60 % 60, secs % 60, ms)
                .unwrap();
            offset.from_local_datetime(&naive).single().unwrap()
        },
    )
}

const FIELDS: [&str; 5] = [
    "Email",
    "Phone",
    "My_Field__c",
    "ns__Code__c",
    "Account.Name",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any Unicode string comes back exactly; the query keeps one comparison on one field.
    #[test]
    fn any_string_round_trips(s in any::<String>()) {
        let lookup = Lookup::builder("Lead").matcher("Email", Value::String(s.clone())).build().unwrap();
        let soql = lookup.to_soql();
        let query = soql::parse(&soql).unwrap();
        prop_assert_eq!(query.from.as_str(), "Lead");
        prop_assert_eq!(
            query.condition,
            Some(Condition::Compare { field: "Email".into(), op: CompareOp::Eq, value: ELiteral::String(s) })
        );
    }

    /// Mixed values and operators: exactly the expected comparisons, in order, same fields.
    #[test]
    fn no_value_changes_the_shape(
        values in prop::collection::vec((0..FIELDS.len(), any_value()), 1..6),
        and in any::<bool>(),
    ) {
        let op = if and { MatchOperator::And } else { MatchOperator::Or };
        let mut builder = Lookup::builder("Contact").operator(op);
        for (f, v) in &values {
            builder = builder.matcher(FIELDS[*f], v.clone());
        }
        let lookup = builder.build().unwrap();
        let query = soql::parse(&lookup.to_soql()).unwrap();
        let (joiner, got) = comparisons(query.condition.as_ref().unwrap());
        let want: Vec<(String, ELiteral)> = lookup
            .matchers()
            .iter()
            .map(|m| (m.field().to_string(), expected(m.literal())))
            .collect();
        prop_assert_eq!(got, want);
        if values.len() > 1 {
            prop_assert_eq!(joiner, Some(op.keyword()));
        }
    }

    /// Typed values (by describe type) parse back as the typed literal.
    #[test]
    fn typed_values_round_trip(date in any_date(), dt in any_datetime(), n in any::<i64>(), x in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let schema = Schema::new()
            .field("D__c", FieldType::Date)
            .field("T__c", FieldType::DateTime)
            .field("N__c", FieldType::Integer)
            .field("X__c", FieldType::Double)
            .field("S__c", FieldType::Text);
        let lookup = Lookup::builder("Account")
            .schema(&schema)
            .operator(MatchOperator::And)
            .matcher("D__c", json!(date.format("%Y-%m-%d").to_string()))
            .matcher("T__c", json!(dt.to_rfc3339()))
            .matcher("N__c", json!(n.to_string()))
            .matcher("X__c", json!(x))
            .matcher("S__c", json!(x))
            .build()
            .unwrap();
        let query = soql::parse(&lookup.to_soql()).unwrap();
        let (_, got) = comparisons(query.condition.as_ref().unwrap());
        prop_assert_eq!(&got[0].1, &ELiteral::Date(date));
        prop_assert_eq!(&got[1].1, &ELiteral::DateTime(dt));
        prop_assert_eq!(&got[2].1, &ELiteral::Integer(n));
        match &got[3].1 {
            ELiteral::Integer(i) => prop_assert_eq!(*i as f64, x),
            ELiteral::Decimal(d) => prop_assert_eq!(d.parse::<f64>().unwrap(), x),
            other => prop_assert!(false, "not a number: {other:?}"),
        }
        match &got[4].1 {
            ELiteral::String(s) => prop_assert_eq!(s.parse::<f64>().unwrap(), x),
            other => prop_assert!(false, "not a string: {other:?}"),
        }
    }

    /// Batches of arbitrary strings, split by tight limits: every query parses to one IN list
    /// on the one field, holding exactly its events' distinct values; every event is in
    /// exactly one query; no query breaks a limit.
    #[test]
    fn batches_keep_shape_and_limits(
        emails in prop::collection::vec(prop_oneof![any::<String>(), "[a-c'%_\\\\]{0,3}"], 1..60),
        max_soql_chars in 200usize..2_000,
        max_uri_bytes in 400usize..3_000,
    ) {
        let limits = QueryLimits { max_soql_chars, max_uri_bytes, reserved_uri_bytes: 0, ..QueryLimits::default() };
        let lookups: Vec<Lookup> = emails
            .iter()
            .map(|e| Lookup::builder("Lead").matcher("Email", json!(e)).build().unwrap())
            .collect();
        let plan = BatchPlan::build(&lookups, &limits).unwrap();
        let mut seen = vec![0usize; lookups.len()];
        for q in plan.queries() {
            prop_assert!(q.soql().chars().count() <= max_soql_chars);
            prop_assert!(limits.uri_bytes(q.soql()) <= max_uri_bytes);
            let query = soql::parse(q.soql()).unwrap();
            let Some(Condition::In { field, negated: false, values }) = query.condition else {
                panic!("expected one IN list: {}", q.soql());
            };
            prop_assert_eq!(field.as_str(), "Email");
            let mut want: Vec<ELiteral> = Vec::new();
            for &e in q.events() {
                seen[e] += 1;
                let v = ELiteral::String(emails[e].clone());
                if !want.contains(&v) {
                    want.push(v);
                }
            }
            let got: HashSet<String> = values.iter().map(|v| format!("{v:?}")).collect();
            let want_set: HashSet<String> = want.iter().map(|v| format!("{v:?}")).collect();
            prop_assert_eq!(values.len(), want.len());
            prop_assert_eq!(got, want_set);
        }
        for (e, (n, rejected)) in seen.iter().zip(lookups.iter().enumerate().map(|(i, _)| plan.query_of(i).is_none())).enumerate() {
            prop_assert_eq!(*n, usize::from(!rejected), "event {}", e);
        }
    }

    /// OR over two fields and AND tuples, with nulls: parsed structure matches the events.
    #[test]
    fn multi_field_batches_keep_shape(
        rows in prop::collection::vec((any_value(), any_value()), 1..30),
        and in any::<bool>(),
    ) {
        let op = if and { MatchOperator::And } else { MatchOperator::Or };
        let lookups: Vec<Lookup> = rows
            .iter()
            .map(|(a, b)| {
                Lookup::builder("Lead").operator(op).matcher("Email", a.clone()).matcher("Phone", b.clone()).build().unwrap()
            })
            .collect();
        let plan = BatchPlan::build(&lookups, &QueryLimits::default()).unwrap();
        prop_assert_eq!(plan.queries().len(), 1);
        let q = &plan.queries()[0];
        let query = soql::parse(q.soql()).unwrap();
        let clauses = match query.condition.unwrap() {
            Condition::Or(items) => items,
            single => vec![single],
        };
        if and {
            let mut tuples = Vec::new();
            for l in &lookups {
                let t: Vec<ELiteral> = l.matchers().iter().map(|m| expected(m.literal())).collect();
                if !tuples.contains(&t) {
                    tuples.push(t);
                }
            }
            prop_assert_eq!(clauses.len(), tuples.len());
            for (clause, tuple) in clauses.iter().zip(&tuples) {
                let (joiner, got) = comparisons(clause);
                prop_assert_eq!(joiner, Some("AND"));
                let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
                prop_assert_eq!(fields, ["Email", "Phone"]);
                let vals: Vec<ELiteral> = got.into_iter().map(|(_, v)| v).collect();
                prop_assert_eq!(&vals, tuple);
            }
        } else {
            for clause in &clauses {
                match clause {
                    Condition::In { field, values, negated: false } => {
                        prop_assert!(field == "Email" || field == "Phone");
                        let pos = usize::from(field == "Phone");
                        for v in values {
                            prop_assert!(lookups.iter().any(|l| expected(l.matchers()[pos].literal()) == *v));
                        }
                    }
                    Condition::Compare { field, op: CompareOp::Eq, value: ELiteral::Null } => {
                        prop_assert!(field == "Email" || field == "Phone");
                    }
                    other => prop_assert!(false, "unexpected clause {other:?}"),
                }
            }
            // Every event's every value is present in the query.
            for l in &lookups {
                for (pos, m) in l.matchers().iter().enumerate() {
                    let field = ["Email", "Phone"][pos];
                    let want = expected(m.literal());
                    let present = clauses.iter().any(|c| match c {
                        Condition::In { field: f, values, .. } => f == field && values.contains(&want),
                        Condition::Compare { field: f, value, .. } => f == field && *value == want,
                        _ => false,
                    });
                    prop_assert!(present, "{field} {want:?} missing from {}", q.soql());
                }
            }
        }
    }
}
