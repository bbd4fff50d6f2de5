//! SOQL parser and evaluator: literals, escapes, operators, logic, ordering, paging, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use sfdc_emulator::soql::{
    self, CompareOp, Condition, FieldMeta, Literal, ObjectFields, Query, QueryError, Selection,
    ValueKind,
};

/// A small Account schema for the tests.
struct Account;

impl ObjectFields for Account {
    fn object_name(&self) -> &str {
        "Account"
    }
    fn resolve(&self, name: &str) -> Option<FieldMeta> {
        let (api, kind, filterable) = [
            ("Id", ValueKind::Id, true),
            ("Name", ValueKind::Text, true),
            ("Industry", ValueKind::Text, true),
            ("Description", ValueKind::Text, false),
            ("NumberOfEmployees", ValueKind::Number, true),
            ("AnnualRevenue", ValueKind::Number, true),
            ("IsActive__c", ValueKind::Boolean, true),
            ("CreatedDate", ValueKind::DateTime, true),
            ("CloseDate__c", ValueKind::Date, true),
            ("ParentId", ValueKind::Id, true),
        ]
        .into_iter()
        .find(|(api, _, _)| api.eq_ignore_ascii_case(name))?;
        Some(FieldMeta {
            api_name: api.to_owned(),
            kind,
            filterable,
            sortable: filterable,
        })
    }
}

const ID1: &str = "001000000000001AAA";
const ID2: &str = "001000000000002AAA";
const ID3: &str = "001000000000003AAA";
const ID4: &str = "001000000000004AAA";

fn records() -> Vec<Map<String, Value>> {
    [
        json!({"Id": ID1, "Name": "Acme Corp", "Industry": "Energy", "NumberOfEmployees": 100,
               "AnnualRevenue": 1.5, "IsActive__c": true, "CreatedDate": "2024-05-15T10:00:00.000+0000",
               "CloseDate__c": "2024-05-15", "Description": "first"}),
        json!({"Id": ID2, "Name": "globex", "Industry": null, "NumberOfEmployees": 5,
               "AnnualRevenue": 20, "IsActive__c": false, "CreatedDate": "2024-05-01T00:00:00.000+0000",
               "CloseDate__c": "2024-04-30"}),
        json!({"Id": ID3, "Name": "100% Pure_Fun", "Industry": "Media", "NumberOfEmployees": 50,
               "IsActive__c": true, "CreatedDate": "2023-12-31T23:59:59.000+0000", "CloseDate__c": null}),
        json!({"Id": ID4, "Name": "O'Brien \\ Sons", "Industry": "energy", "NumberOfEmployees": null,
               "IsActive__c": false}),
    ]
    .into_iter()
    .map(|v| v.as_object().unwrap().clone())
    .collect()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 15).unwrap()
}

fn run(text: &str) -> Result<Selection, QueryError> {
    let q = soql::parse(text)?;
    let recs = records();
    soql::execute_at(&q, &Account, recs.iter(), today())
}

/// Ids of the matching records, in result order.
fn ids(where_clause: &str) -> Vec<&'static str> {
    let sel = run(&format!("SELECT Id FROM Account WHERE {where_clause}"))
        .unwrap_or_else(|e| panic!("{where_clause}: {e:?}"));
    sel.records
        .iter()
        .map(|r| match r["Id"].as_str().unwrap() {
            ID1 => "1",
            ID2 => "2",
            ID3 => "3",
            ID4 => "4",
            other => panic!("unexpected id {other}"),
        })
        .collect()
}

fn parse_value(literal: &str) -> Result<Literal, QueryError> {
    let q = soql::parse(&format!("SELECT Id FROM Account WHERE Name = {literal}"))?;
    match q.condition {
        Some(Condition::Compare { value, .. }) => Ok(value),
        other => panic!("unexpected condition {other:?}"),
    }
}

fn code(r: Result<impl std::fmt::Debug, QueryError>) -> &'static str {
    r.expect_err("expected an error").error_code()
}

// ---- literals ----

#[test]
fn every_string_escape_is_resolved() {
    let cases = [
        (r"'\n'", "\n"),
        (r"'\N'", "\n"),
        (r"'\r'", "\r"),
        (r"'\R'", "\r"),
        (r"'\t'", "\t"),
        (r"'\T'", "\t"),
        (r"'\b'", "\u{8}"),
        (r"'\B'", "\u{8}"),
        (r"'\f'", "\u{c}"),
        (r"'\F'", "\u{c}"),
        (r#"'\"'"#, "\""),
        (r"'\''", "'"),
        (r"'\\'", "\\"),
        (r"'\u0041\u00df'", "Aß"),
        (r"'caf\u00E9'", "café"),
        (r"'\uD83D\uDE00'", "😀"),
        ("'plain ünïcødé 😀'", "plain ünïcødé 😀"),
        ("''", ""),
    ];
    for (lit, want) in cases {
        assert_eq!(
            parse_value(lit).unwrap(),
            Literal::String(want.into()),
            "{lit}"
        );
    }
}

#[test]
fn invalid_escapes_are_malformed() {
    for lit in [
        r"'\a'",
        r"'\x'",
        r"'\%'",
        r"'\_'",
        r"'\u12'",
        r"'\uZZZZ'",
        r"'\uD83D'",
        r"'\ '",
    ] {
        assert_eq!(code(parse_value(lit)), "MALFORMED_QUERY", "{lit}");
    }
}

#[test]
fn double_quoted_strings_are_malformed() {
    let err = parse_value("\"Acme\"").unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_QUERY");
}

#[test]
fn like_keeps_escaped_wildcards_and_rejects_them_elsewhere() {
    let q = soql::parse(r"SELECT Id FROM Account WHERE Name LIKE '100\% Pure\_%'").unwrap();
    assert_eq!(
        q.condition,
        Some(Condition::Compare {
            field: "Name".into(),
            op: CompareOp::Like,
            value: Literal::String(r"100\% Pure\_%".into()),
        })
    );
    assert_eq!(ids(r"Name LIKE '100\% Pure\_%'"), vec!["3"]);
    assert_eq!(
        code(run(r"SELECT Id FROM Account WHERE Name = '100\%'")),
        "MALFORMED_QUERY"
    );
    assert_eq!(
        code(run(r"SELECT Id FROM Account WHERE Name IN ('a\_b')")),
        "MALFORMED_QUERY"
    );
}

#[test]
fn numbers_booleans_null_dates_and_datetimes() {
    assert_eq!(parse_value("42").unwrap(), Literal::Integer(42));
    assert_eq!(parse_value("-7").unwrap(), Literal::Integer(-7));
    assert_eq!(
        parse_value("1.50").unwrap(),
        Literal::Decimal("1.50".into())
    );
    assert_eq!(
        parse_value("-0.5").unwrap(),
        Literal::Decimal("-0.5".into())
    );
    assert_eq!(parse_value("TRUE").unwrap(), Literal::Boolean(true));
    assert_eq!(parse_value("fAlSe").unwrap(), Literal::Boolean(false));
    assert_eq!(parse_value("NULL").unwrap(), Literal::Null);
    assert_eq!(parse_value("null").unwrap(), Literal::Null);
    assert_eq!(
        parse_value("2024-02-29").unwrap(),
        Literal::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
    );
    for dt in [
        "2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00.000Z",
        "2024-01-01T12:00:00+02:00",
        "2024-01-01T05:00:00-05:00",
    ] {
        let Literal::DateTime(v) = parse_value(dt).unwrap() else {
            panic!("{dt}")
        };
        assert_eq!(v.timestamp(), 1_704_103_200, "{dt}");
    }
    assert_eq!(code(parse_value("2024-02-30")), "MALFORMED_QUERY");
    assert_eq!(code(parse_value("2024-01-01T10:00:00")), "MALFORMED_QUERY");
    assert!(matches!(
        parse_value("LAST_N_DAYS:30").unwrap(),
        Literal::Relative(_)
    ));
    assert_eq!(code(parse_value("LAST_N_DAYS")), "MALFORMED_QUERY");
    assert_eq!(code(parse_value("Foo")), "MALFORMED_QUERY");
}

#[test]
fn where_strings_over_4000_characters_are_rejected() {
    let ok = "é".repeat(4000);
    assert!(soql::parse(&format!("SELECT Id FROM Account WHERE Name = '{ok}'")).is_ok());
    let long = "é".repeat(4001);
    let err = soql::parse(&format!("SELECT Id FROM Account WHERE Name = '{long}'")).unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_QUERY");
    assert!(err.message().contains("4000"), "{}", err.message());
}

// ---- operators ----

#[test]
fn equality_and_inequality_are_case_insensitive_for_text() {
    assert_eq!(ids("Name = 'ACME CORP'"), vec!["1"]);
    assert_eq!(ids("Industry = 'energy'"), vec!["1", "4"]);
    assert_eq!(
        ids("Industry != 'ENERGY'"),
        vec!["2", "3"],
        "!= keeps nulls"
    );
    assert_eq!(ids("Industry <> 'energy'"), vec!["2", "3"]);
    assert_eq!(ids(r"Name = 'O\'Brien \\ Sons'"), vec!["4"]);
}

#[test]
fn ordering_operators_on_numbers_text_and_dates() {
    assert_eq!(ids("NumberOfEmployees > 50"), vec!["1"]);
    assert_eq!(ids("NumberOfEmployees >= 50"), vec!["1", "3"]);
    assert_eq!(
        ids("NumberOfEmployees < 50"),
        vec!["2"],
        "nulls never satisfy <"
    );
    assert_eq!(ids("NumberOfEmployees <= 50"), vec!["2", "3"]);
    assert_eq!(ids("AnnualRevenue = 20.0"), vec!["2"]);
    assert_eq!(ids("AnnualRevenue < 1.6"), vec!["1"]);
    assert_eq!(
        ids("Name < 'B'"),
        vec!["1", "3"],
        "text order is case-insensitive"
    );
    assert_eq!(ids("CloseDate__c < 2024-05-15"), vec!["2"]);
    assert_eq!(ids("CloseDate__c = 2024-05-15"), vec!["1"]);
    assert_eq!(ids("CreatedDate >= 2024-05-01T00:00:00Z"), vec!["1", "2"]);
    assert_eq!(ids("CreatedDate = 2024-05-15T12:00:00+02:00"), vec!["1"]);
    assert_eq!(ids("CreatedDate <= 2024-01-01T00:59:59+01:00"), vec!["3"]);
    assert_eq!(
        ids("CreatedDate < 2024-01-01T00:59:59+01:00"),
        Vec::<&str>::new()
    );
}

#[test]
fn null_comparisons() {
    assert_eq!(ids("Industry = null"), vec!["2"]);
    assert_eq!(ids("Industry != null"), vec!["1", "3", "4"]);
    assert_eq!(ids("NumberOfEmployees = NULL"), vec!["4"]);
    assert_eq!(
        ids("CloseDate__c = null"),
        vec!["3", "4"],
        "absent counts as null"
    );
}

#[test]
fn booleans() {
    assert_eq!(ids("IsActive__c = true"), vec!["1", "3"]);
    assert_eq!(ids("IsActive__c != TRUE"), vec!["2", "4"]);
    assert_eq!(
        code(run("SELECT Id FROM Account WHERE IsActive__c > false")),
        "INVALID_QUERY_FILTER_OPERATOR"
    );
}

#[test]
fn in_and_not_in() {
    assert_eq!(ids("Industry IN ('MEDIA', 'Energy')"), vec!["1", "3", "4"]);
    assert_eq!(ids("Industry NOT IN ('media')"), vec!["1", "2", "4"]);
    assert_eq!(ids("NumberOfEmployees IN (5, 50)"), vec!["2", "3"]);
    assert_eq!(ids("Industry IN (null, 'media')"), vec!["2", "3"]);
    assert_eq!(
        ids(&format!("Id IN ('{}', '{}')", &ID1[..15], ID3)),
        vec!["1", "3"]
    );
    assert_eq!(
        code(run("SELECT Id FROM Account WHERE Industry IN ()")),
        "MALFORMED_QUERY"
    );
    assert_eq!(
        code(run("SELECT Id FROM Account WHERE Industry IN ('a' 'b')")),
        "MALFORMED_QUERY"
    );
}

/// Lists of 8 or more values are answered from a hash set: the same records as the short
/// lists (case-insensitive text, 15/18-character ids, NOT IN, null values).
#[test]
fn long_in_lists_answer_as_short_ones() {
    let text_filler: Vec<String> = (0..10).map(|i| format!("'filler{i}'")).collect();
    let id_filler: Vec<String> = (10..20).map(|i| format!("'0010000000000{i}AAA'")).collect();
    for (short, filler) in [
        ("Industry IN ('MEDIA', 'Energy')", &text_filler),
        ("Industry NOT IN ('media')", &text_filler),
        ("Name IN ('ACME CORP', 'Globex')", &text_filler),
        ("Industry IN (null, 'media')", &text_filler),
        (&*format!("Id IN ('{}', '{}')", &ID1[..15], ID3), &id_filler),
        (&*format!("Id NOT IN ('{}')", &ID2[..15]), &id_filler),
    ] {
        let (head, list) = short.split_once('(').unwrap();
        let long = format!("{head}({}, {list}", filler.join(", "));
        assert_eq!(ids(&long), ids(short), "{long}");
    }
    assert_eq!(
        ids(&format!(
            "Industry IN ({}, 'ENERGY')",
            text_filler.join(", ")
        )),
        vec!["1", "4"]
    );
}

#[test]
fn like_patterns_are_case_insensitive() {
    assert_eq!(ids("Name LIKE 'acme%'"), vec!["1"]);
    assert_eq!(ids("Name LIKE '%EX'"), vec!["2"]);
    assert_eq!(ids("Name LIKE 'glob_x'"), vec!["2"]);
    assert_eq!(ids("Name LIKE '%o%'"), vec!["1", "2", "4"]);
    assert_eq!(
        ids(r"Name LIKE '%\\%'"),
        vec!["4"],
        "escaped backslash is literal"
    );
    assert_eq!(ids(r"Name LIKE '100\%%'"), vec!["3"]);
    assert_eq!(ids(r"Name LIKE '%e\_f%'"), vec!["3"]);
    assert_eq!(
        ids("Name LIKE '%e_c%'"),
        vec!["1"],
        "unescaped _ matches the space"
    );
    assert_eq!(
        ids(r"Name LIKE '%e\_c%'"),
        Vec::<&str>::new(),
        "escaped _ does not"
    );
    assert_eq!(ids(r"Name LIKE '%e\_fun'"), vec!["3"]);
    assert_eq!(
        ids("Industry LIKE '%'"),
        vec!["1", "3", "4"],
        "LIKE never matches null"
    );
}

#[test]
fn id_15_and_18_character_forms_are_equal() {
    assert_eq!(ids(&format!("Id = '{ID2}'")), vec!["2"]);
    assert_eq!(ids(&format!("Id = '{}'", &ID2[..15])), vec!["2"]);
    assert_eq!(ids(&format!("Id != '{}'", &ID2[..15])), vec!["1", "3", "4"]);
    assert_eq!(ids("Id = '001000000000002'"), vec!["2"]);
    // Ids are case-sensitive.
    assert_eq!(
        ids("Id = '001000000000002aaa'"),
        vec!["2"],
        "suffix is not compared"
    );
    assert_eq!(ids("ParentId = null"), vec!["1", "2", "3", "4"]);
}

// ---- logic ----

#[test]
fn and_or_with_parentheses() {
    assert_eq!(ids("Industry = 'energy' AND IsActive__c = true"), vec!["1"]);
    assert_eq!(
        ids("Industry = 'media' OR Name = 'globex' OR Id = null"),
        vec!["2", "3"]
    );
    assert_eq!(
        ids("(Industry = 'energy' OR Industry = 'media') AND IsActive__c = false"),
        vec!["4"]
    );
    assert_eq!(
        ids("Industry = 'energy' AND (IsActive__c = false OR NumberOfEmployees > 99)"),
        vec!["1", "4"]
    );
    assert_eq!(ids("((Name = 'globex'))"), vec!["2"]);
}

#[test]
fn mixing_and_or_without_parentheses_is_malformed() {
    let text = "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'";
    let err = soql::parse(text).unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_QUERY");
    let col = text.find(" OR ").unwrap() + 2;
    assert_eq!(
        err.message(),
        format!(
            "\n{text}\n{}^\nERROR at Row:1:Column:{col}\nunexpected token: OR",
            " ".repeat(col - 1)
        )
    );
    let err = soql::parse("SELECT Id FROM Account WHERE A = 1 OR B = 2 AND C = 3").unwrap_err();
    assert!(
        err.message().ends_with("unexpected token: AND"),
        "{}",
        err.message()
    );
}

#[test]
fn not_binds_to_one_condition() {
    assert_eq!(ids("NOT Industry = 'energy'"), vec!["2", "3"]);
    assert_eq!(
        ids("NOT (Industry = 'energy' OR Industry = null)"),
        vec!["3"]
    );
    assert_eq!(
        ids("NOT Industry = 'energy' AND IsActive__c = true"),
        vec!["3"]
    );
    assert_eq!(
        ids("IsActive__c = true AND (NOT Industry = 'media')"),
        vec!["1"]
    );
    assert_eq!(
        code(run(
            "SELECT Id FROM Account WHERE IsActive__c = true AND NOT Industry = 'media'"
        )),
        "MALFORMED_QUERY"
    );
}

#[test]
fn missing_right_parenthesis_is_reported() {
    let err = soql::parse("SELECT Id FROM Account WHERE (Name = 'a' LIMIT 5").unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_QUERY");
    assert!(
        err.message()
            .ends_with("expecting a right parentheses, found 'LIMIT'"),
        "{}",
        err.message()
    );
}

// ---- keywords, projection, ordering, paging ----

#[test]
fn keywords_are_case_insensitive_and_projection_uses_canonical_names() {
    let sel =
        run("select NAME, id from account where industry = 'MEDIA' order by name limit 5").unwrap();
    assert_eq!(sel.records.len(), 1);
    let keys: Vec<&str> = sel.records[0].keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["Name", "Id"]);
    assert_eq!(sel.records[0]["Name"], json!("100% Pure_Fun"));
    assert!(!sel.count_only);
}

#[test]
fn object_prefixed_paths_are_accepted_and_relationships_rejected() {
    let sel = run("SELECT Account.Name FROM Account WHERE Account.Name = 'globex'").unwrap();
    assert_eq!(sel.records[0]["Name"], json!("globex"));
    let err = run("SELECT Parent.Name FROM Account").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD");
    assert!(
        err.message()
            .contains("Didn't understand relationship 'Parent'")
    );
}

#[test]
fn missing_values_project_as_null() {
    let sel = run("SELECT Id, Description FROM Account WHERE Name = 'globex'").unwrap();
    assert_eq!(sel.records[0]["Description"], Value::Null);
}

fn names(text: &str) -> Vec<Value> {
    run(text)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r["Name"].clone())
        .collect()
}

#[test]
fn order_by_directions_and_nulls() {
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY Name"),
        vec![
            json!("100% Pure_Fun"),
            json!("Acme Corp"),
            json!("globex"),
            json!("O'Brien \\ Sons")
        ]
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY NumberOfEmployees"),
        vec![
            json!("O'Brien \\ Sons"),
            json!("globex"),
            json!("100% Pure_Fun"),
            json!("Acme Corp")
        ],
        "ASC puts nulls first"
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC"),
        vec![
            json!("Acme Corp"),
            json!("100% Pure_Fun"),
            json!("globex"),
            json!("O'Brien \\ Sons")
        ],
        "DESC puts nulls last"
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY NumberOfEmployees ASC NULLS LAST"),
        vec![
            json!("globex"),
            json!("100% Pure_Fun"),
            json!("Acme Corp"),
            json!("O'Brien \\ Sons")
        ]
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST"),
        vec![
            json!("O'Brien \\ Sons"),
            json!("Acme Corp"),
            json!("100% Pure_Fun"),
            json!("globex")
        ]
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY Industry DESC, Name ASC"),
        vec![
            json!("100% Pure_Fun"),
            json!("Acme Corp"),
            json!("O'Brien \\ Sons"),
            json!("globex")
        ],
        "second key breaks the case-insensitive tie between 'Energy' and 'energy'"
    );
    assert_eq!(
        names("SELECT Name FROM Account ORDER BY CreatedDate"),
        vec![
            json!("O'Brien \\ Sons"),
            json!("100% Pure_Fun"),
            json!("globex"),
            json!("Acme Corp")
        ]
    );
}

#[test]
fn limit_and_offset_apply_after_ordering_and_total_size_counts_all_matches() {
    let sel = run("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1").unwrap();
    assert_eq!(sel.total_size, 4);
    let got: Vec<_> = sel.records.iter().map(|r| r["Name"].clone()).collect();
    assert_eq!(got, vec![json!("Acme Corp"), json!("globex")]);
    assert!(
        run("SELECT Name FROM Account LIMIT 0")
            .unwrap()
            .records
            .is_empty()
    );
    assert_eq!(
        run("SELECT Name FROM Account OFFSET 2000")
            .unwrap()
            .records
            .len(),
        0
    );
}

#[test]
fn offset_above_2000_is_out_of_range() {
    let err = soql::parse("SELECT Id FROM Account OFFSET 2001").unwrap_err();
    assert_eq!(err.error_code(), "NUMBER_OUTSIDE_VALID_RANGE");
    assert!(
        err.message()
            .ends_with("Maximum SOQL offset allowed is 2000")
    );
}

#[test]
fn count_returns_the_number_of_matches_and_no_records() {
    let sel = run("SELECT COUNT() FROM Account WHERE Industry = 'energy'").unwrap();
    assert!(sel.count_only);
    assert_eq!(sel.total_size, 2);
    assert!(sel.records.is_empty());
    assert_eq!(run("select count() from Account").unwrap().total_size, 4);
    assert_eq!(
        code(run("SELECT COUNT(Id) FROM Account")),
        "MALFORMED_QUERY"
    );
}

#[test]
fn relative_date_literals() {
    // today() is 2024-05-15.
    assert_eq!(ids("CloseDate__c = TODAY"), vec!["1"]);
    assert_eq!(ids("CreatedDate = TODAY"), vec!["1"]);
    assert_eq!(ids("CreatedDate = LAST_N_DAYS:14"), vec!["1", "2"]);
    assert_eq!(ids("CreatedDate < LAST_N_DAYS:14"), vec!["3"]);
    assert_eq!(ids("CloseDate__c = last_month"), vec!["2"]);
    assert_eq!(ids("CreatedDate = THIS_YEAR"), vec!["1", "2"]);
    assert_eq!(ids("CreatedDate = LAST_YEAR"), vec!["3"]);
    assert_eq!(ids("CloseDate__c > YESTERDAY"), vec!["1"]);
    assert_eq!(ids("CloseDate__c = N_DAYS_AGO:15"), vec!["2"]);
}

// ---- errors ----

#[test]
fn unknown_field_is_invalid_field_with_the_documented_excerpt() {
    let err = run("SELECT Foo FROM Account").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD");
    assert_eq!(
        err.message(),
        "\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
    let err = run("SELECT Id FROM Account WHERE Bar__c = 1").unwrap_err();
    assert!(
        err.message()
            .contains("ERROR at Row:1:Column:30\nNo such column 'Bar__c'")
    );
    assert_eq!(
        code(run("SELECT Id FROM Account ORDER BY Nope")),
        "INVALID_FIELD"
    );
}

#[test]
fn non_filterable_and_non_sortable_fields() {
    let err = run("SELECT Id FROM Account WHERE description = 'x'").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD");
    assert!(
        err.message()
            .ends_with("field 'Description' can not be filtered in query call")
    );
    let err = run("SELECT Id FROM Account ORDER BY Description").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_FIELD");
    assert!(
        err.message()
            .ends_with("field 'Description' can not be sorted in a query call")
    );
    // Selecting it is fine.
    assert!(run("SELECT Description FROM Account").is_ok());
}

#[test]
fn operator_and_literal_type_errors() {
    let err = run("SELECT Id FROM Account WHERE Id LIKE '001%'").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_QUERY_FILTER_OPERATOR");
    assert_eq!(err.message(), "invalid operator on id field");
    let err = run("SELECT Id FROM Account WHERE Id = 'abc'").unwrap_err();
    assert_eq!(err.error_code(), "INVALID_QUERY_FILTER_OPERATOR");
    assert_eq!(err.message(), "invalid ID field: abc");
    for bad in [
        "NumberOfEmployees LIKE '1%'",
        "Name = 5",
        "NumberOfEmployees = '5'",
        "IsActive__c = 'true'",
        "CloseDate__c = 2024-01-01T00:00:00Z",
        "CreatedDate = 2024-01-01",
        "Industry IN ('a', 3)",
    ] {
        assert_eq!(
            code(run(&format!("SELECT Id FROM Account WHERE {bad}"))),
            "INVALID_QUERY_FILTER_OPERATOR",
            "{bad}"
        );
    }
}

#[test]
fn syntax_errors_are_malformed() {
    for text in [
        "",
        "   ",
        "SELECT FROM Account",
        "SELECT Id Account",
        "SELECT Id, FROM Account",
        "SELECT Id FROM",
        "SELECT Id FROM Account WHERE",
        "SELECT Id FROM Account WHERE Name",
        "SELECT Id FROM Account WHERE Name = ",
        "SELECT Id FROM Account WHERE Name == 'a'",
        "SELECT Id FROM Account LIMIT -1",
        "SELECT Id FROM Account LIMIT 1.5",
        "SELECT Id FROM Account ORDER Name",
        "SELECT Id FROM Account ORDER BY Name NULLS",
        "SELECT Id FROM Account WHERE Name = 'a' extra",
        "SELECT Id FROM Account WHERE Name LIKE 5",
        "SELECT Id, Id FROM Account",
        "SELECT Id FROM Account WHERE Id IN (SELECT Id FROM Contact)",
        "UPDATE Account SET Name = 'x'",
    ] {
        let err = run(text).expect_err(text);
        assert_eq!(err.error_code(), "MALFORMED_QUERY", "{text}: {err:?}");
    }
    assert_eq!(
        soql::parse("").unwrap_err().message(),
        "SOQL statements cannot be empty or null"
    );
    let err = soql::parse("SELECT Id FROM Account WHERE Name = 'a' extra").unwrap_err();
    assert!(
        err.message().ends_with("unexpected token: 'extra'"),
        "{}",
        err.message()
    );
}

#[test]
fn parsed_query_structure() {
    let q: Query = soql::parse(
        "SELECT Id, Name FROM Account WHERE Name = 'x' AND (Industry = 'a' OR (NOT Id = null)) ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5",
    )
    .unwrap();
    assert_eq!(q.from, "Account");
    assert_eq!(q.limit, Some(10));
    assert_eq!(q.offset, Some(5));
    assert_eq!(q.order_by.len(), 1);
    assert!(q.order_by[0].descending);
    assert_eq!(q.order_by[0].nulls_first, Some(false));
    let Some(Condition::And(items)) = &q.condition else {
        panic!("{:?}", q.condition)
    };
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&items[1], Condition::Or(v) if v.len() == 2 && matches!(v[1], Condition::Not(_)))
    );
}

#[test]
fn statements_longer_than_100000_characters_are_rejected() {
    let filler = " ".repeat(100_000);
    let err = soql::parse(&format!("SELECT Id FROM Account{filler}")).unwrap_err();
    assert_eq!(err.error_code(), "MALFORMED_QUERY");
    assert!(err.message().contains("100000"));
}

#[test]
fn evaluation_over_many_records() {
    let recs: Vec<Map<String, Value>> = (0..20_000)
        .map(|n| {
            json!({"Id": format!("001{n:012}AAA"), "Name": format!("Name {n}"),
                   "NumberOfEmployees": n % 1000})
            .as_object()
            .unwrap()
            .clone()
        })
        .collect();
    let q = soql::parse(
        "SELECT Id, Name FROM Account WHERE NumberOfEmployees < 10 AND Name LIKE 'name 1%' \
         ORDER BY NumberOfEmployees DESC, Name LIMIT 5",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let sel = soql::execute_at(&q, &Account, recs.iter(), today()).unwrap();
    eprintln!("20000-record filter+sort: {:?}", started.elapsed());
    // Expected result computed independently: filter, then sort by employees descending and
    // by name (all names here are ASCII, so lower-casing is the case-insensitive order).
    let mut expected: Vec<(u32, String)> = (0u32..20_000)
        .filter(|n| n % 1000 < 10)
        .map(|n| (n % 1000, format!("Name {n}")))
        .filter(|(_, name)| name.to_lowercase().starts_with("name 1"))
        .collect();
    assert_eq!(sel.total_size, expected.len());
    expected.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase()))
    });
    let want: Vec<Value> = expected
        .iter()
        .take(5)
        .map(|(_, name)| json!(name))
        .collect();
    let names: Vec<Value> = sel.records.iter().map(|r| r["Name"].clone()).collect();
    assert_eq!(names, want);
    assert_eq!(names[0], json!("Name 10009"));
}

#[test]
fn deeply_nested_conditions_are_rejected_not_overflowing_the_stack() {
    let ok = format!(
        "SELECT Id FROM Account WHERE {}Name = 'a'{}",
        "(".repeat(64),
        ")".repeat(64)
    );
    assert!(soql::parse(&ok).is_ok());
    let deep = format!(
        "SELECT Id FROM Account WHERE {}Name = 'a'{}",
        "(".repeat(30_000),
        ")".repeat(30_000)
    );
    assert_eq!(
        soql::parse(&deep).unwrap_err().error_code(),
        "MALFORMED_QUERY"
    );
}
