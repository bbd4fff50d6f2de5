//! The field indexes answer exactly as a scan with `same_value` would.
use super::*;
use proptest::prelude::*;
use serde_json::Map;
use serde_json::json;

/// Text values of the external-id field: case variants, non-ASCII, and the Kelvin
/// sign (non-ASCII, lower-cases to ASCII `k`).
const TEXTS: &[&str] = &[
    "a1", "A1", "b", "B", "Straße", "STRASSE", "straße", "\u{212A}", "k", "ǅ", "ǆ", "ΣΑΣ", "σας",
];
/// Values of the unique number field.
const NUMBERS: &[f64] = &[0.0, -0.0, 1.0, 2.5, 1e20];
/// Number lookups as find_by_field receives them (text).
const NUMBER_TEXTS: &[&str] = &["0", "-0", "1", "1.0", "1e0", "2.5", "1e20", "x", "NaN"];

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn org_with_fields() -> Org {
    let mut org = Org::new();
    org.add_field(
        "Account",
        FieldDef::new("Ext__c", FieldType::String).external_id(),
    )
    .unwrap();
    org.add_field(
        "Account",
        FieldDef::new("Num__c", FieldType::Double).unique(),
    )
    .unwrap();
    org
}

/// The brute-force answer: live records of `object` whose `field` is `same_value` as `wanted`.
fn scan(org: &Org, object: &str, field: &str, wanted: &Value) -> Vec<String> {
    let ft = org.object(object).unwrap().field(field).unwrap().field_type;
    org.live_records(object)
        .filter(|r| r.get(field).is_some_and(|v| same_value(ft, v, wanted)))
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect()
}

/// The id `check_unique` names for `value` in `Num__c` (`None`: no duplicate).
fn unique_conflict(org: &Org, value: Value) -> Option<String> {
    let o = org.object("Account").unwrap();
    let given = [("Num__c", value)];
    org.check_unique(o, &given, None)
        .err()
        .map(|e| e.message.rsplit(' ').next().unwrap().to_owned())
}

/// Every lookup agrees with the scan, and the maintained indexes equal indexes
/// rebuilt from the records.
fn assert_index_matches_scan(org: &Org) {
    for t in TEXTS {
        assert_eq!(
            org.find_by_field("Account", "Ext__c", t).unwrap(),
            scan(org, "Account", "Ext__c", &json!(t)),
            "Ext__c = {t}"
        );
    }
    for t in NUMBER_TEXTS {
        assert_eq!(
            org.find_by_field("Account", "Num__c", t).unwrap(),
            scan(org, "Account", "Num__c", &json!(t)),
            "Num__c = {t}"
        );
    }
    for n in NUMBERS {
        let v = json!(n);
        assert_eq!(
            unique_conflict(org, v.clone()),
            scan(org, "Account", "Num__c", &v).into_iter().next(),
            "unique Num__c = {n}"
        );
    }
    let mut fresh = Org {
        schema: org.schema.clone(),
        tables: org.tables.clone(),
        indexes: FastMap::default(),
        next_id: 0,
        next_case_number: 0,
        undo: Vec::new(),
        marks: Vec::new(),
    };
    fresh.sync_indexes();
    assert_eq!(fresh.indexes, org.indexes);
}

#[derive(Debug, Clone)]
enum Op {
    Create {
        ext: Option<usize>,
        num: Option<usize>,
    },
    /// `None`: leave the field; `Some(None)`: set it to null.
    Update {
        target: usize,
        ext: Option<Option<usize>>,
        num: Option<Option<usize>>,
    },
    Delete {
        target: usize,
    },
    Upsert {
        ext: usize,
        num: Option<usize>,
    },
}

#[derive(Debug, Clone)]
enum Step {
    One(Op),
    /// An all-or-none batch, committed or rolled back.
    Batch(Vec<Op>, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let ext = || proptest::option::of(0..TEXTS.len());
    let num = || proptest::option::of(0..NUMBERS.len());
    prop_oneof![
        3 => (ext(), num()).prop_map(|(ext, num)| Op::Create { ext, num }),
        3 => (any::<usize>(), proptest::option::of(ext()), proptest::option::of(num()))
            .prop_map(|(target, ext, num)| Op::Update { target, ext, num }),
        1 => any::<usize>().prop_map(|target| Op::Delete { target }),
        2 => (0..TEXTS.len(), num()).prop_map(|(ext, num)| Op::Upsert { ext, num }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => op().prop_map(Step::One),
        1 => (proptest::collection::vec(op(), 1..6), any::<bool>())
            .prop_map(|(ops, commit)| Step::Batch(ops, commit)),
    ]
}

fn text(i: Option<usize>) -> Value {
    i.map_or(Value::Null, |i| json!(TEXTS[i]))
}

fn number(i: Option<usize>) -> Value {
    i.map_or(Value::Null, |i| json!(NUMBERS[i]))
}

/// Applies `op`; failures (duplicates, deleted targets) are part of the sequence.
fn apply(org: &mut Org, ids: &mut Vec<String>, op: &Op) {
    match op {
        Op::Create { ext, num } => {
            let body = obj(json!({"Name": "n", "Ext__c": text(*ext), "Num__c": number(*num)}));
            if let Ok(id) = org.create("Account", &body) {
                ids.push(id);
            }
        }
        Op::Update { target, ext, num } => {
            if ids.is_empty() {
                return;
            }
            let id = ids[target % ids.len()].clone();
            let mut body = obj(json!({"Name": "u"}));
            if let Some(ext) = ext {
                body.insert("Ext__c".into(), text(*ext));
            }
            if let Some(num) = num {
                body.insert("Num__c".into(), number(*num));
            }
            let _ = org.update("Account", &id, &body);
        }
        Op::Delete { target } => {
            if !ids.is_empty() {
                let _ = org.delete(&ids[target % ids.len()]);
            }
        }
        Op::Upsert { ext, num } => {
            let body = obj(json!({"Name": "p", "Num__c": number(*num)}));
            if let Ok((id, true)) = org.upsert("Account", "Ext__c", TEXTS[*ext], &body) {
                ids.push(id);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn index_lookups_equal_scans(steps in proptest::collection::vec(step(), 1..40)) {
        let mut org = org_with_fields();
        let mut ids = Vec::new();
        for step in &steps {
            match step {
                Step::One(op) => apply(&mut org, &mut ids, op),
                Step::Batch(ops, commit) => {
                    let mut before = org.tables.clone();
                    before.retain(|_, t| !t.is_empty());
                    let ids_before = ids.len();
                    org.begin();
                    for op in ops {
                        apply(&mut org, &mut ids, op);
                        assert_index_matches_scan(&org);
                    }
                    if *commit {
                        org.commit();
                    } else {
                        org.rollback();
                        // Rolling back a create may leave an empty table behind.
                        let mut after = org.tables.clone();
                        after.retain(|_, t| !t.is_empty());
                        prop_assert_eq!(after, before);
                        ids.truncate(ids_before);
                    }
                }
            }
            assert_index_matches_scan(&org);
        }
    }

}

/// Index keys agree with `same_value` for every pair of a stored value and a probe,
/// exhaustively over the test values (text, ids, numbers as numbers and as text).
#[test]
fn keys_agree_with_same_value() {
    let text: Vec<Value> = TEXTS.iter().map(|t| json!(t)).collect();
    let ids: Vec<Value> = ["001000000000001AAA", "001000000000001aaa"]
        .iter()
        .map(|t| json!(t))
        .collect();
    let numbers: Vec<Value> = NUMBERS.iter().map(|n| json!(n)).collect();
    let probes: Vec<Value> = NUMBER_TEXTS
        .iter()
        .map(|t| json!(t))
        .chain(numbers.iter().cloned())
        .collect();
    let cases = [
        (FieldType::String, &text, &text),
        (FieldType::Email, &text, &text),
        (FieldType::Reference, &ids, &ids),
        (FieldType::Double, &numbers, &probes),
    ];
    let mut hits = 0;
    for (ft, stored, probes) in cases {
        for a in stored {
            let mut idx = index::FieldIndex::new(ft);
            idx.replace("r", None, Some(a));
            for b in probes {
                let hit = idx.candidates(b).unwrap() == ["r"];
                assert_eq!(hit, same_value(ft, a, b), "{ft:?}: {a} vs {b}");
                hits += usize::from(hit);
            }
        }
    }
    // Not vacuous: case variants, -0 / 0 and 1 / "1e0" do match.
    assert!(hits > 40, "{hits}");
}

#[test]
fn upsert_finds_by_index_and_rollback_restores_it() {
    let mut org = org_with_fields();
    let (a, created) = org
        .upsert("Account", "Ext__c", "Straße", &obj(json!({"Name":"A"})))
        .unwrap();
    assert!(created);
    let (same, created) = org
        .upsert("Account", "Ext__c", "STRASSE", &obj(json!({"Name":"B"})))
        .unwrap();
    assert!(created, "ß does not lower-case to ss");
    assert_ne!(same, a);
    assert_eq!(
        org.upsert("Account", "Ext__c", "straße", &obj(json!({"Name":"C"}))),
        Ok((a.clone(), false))
    );
    org.begin();
    org.update("Account", &a, &obj(json!({"Ext__c":"moved"})))
        .unwrap();
    assert_eq!(
        org.find_by_field("Account", "Ext__c", "STRAßE").unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        org.find_by_field("Account", "Ext__c", "MOVED").unwrap(),
        vec![a.clone()]
    );
    org.rollback();
    assert_eq!(
        org.find_by_field("Account", "Ext__c", "STRAßE").unwrap(),
        vec![a.clone()]
    );
    assert_eq!(
        org.find_by_field("Account", "Ext__c", "moved").unwrap(),
        Vec::<String>::new()
    );
    org.delete(&a).unwrap();
    assert_eq!(
        org.find_by_field("Account", "Ext__c", "straße").unwrap(),
        Vec::<String>::new()
    );
    assert_index_matches_scan(&org);
}

#[test]
fn unique_numbers_compare_numerically() {
    let mut org = org_with_fields();
    let a = org
        .create("Account", &obj(json!({"Name":"A","Num__c":-0.0})))
        .unwrap();
    let e = org
        .create("Account", &obj(json!({"Name":"B","Num__c":"0"})))
        .unwrap_err();
    assert_eq!(e.error_code, "DUPLICATE_VALUE");
    assert!(e.message.ends_with(&a));
    // Updating a record to its own value is not a duplicate.
    org.update("Account", &a, &obj(json!({"Num__c":0})))
        .unwrap();
    assert_eq!(
        org.find_by_field("Account", "Num__c", "0.0").unwrap(),
        vec![a.clone()]
    );
    assert_eq!(
        org.find_by_field("Account", "Num__c", "zero").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn fields_added_later_are_indexed() {
    let mut org = Org::new();
    let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
    let b = org.create("Account", &obj(json!({"Name":"B"}))).unwrap();
    org.add_field(
        "Account",
        FieldDef::new("Late__c", FieldType::String).external_id(),
    )
    .unwrap();
    assert!(org.indexes["Account"].contains_key("Late__c"));
    org.update("Account", &b, &obj(json!({"Late__c":"L"})))
        .unwrap();
    assert_eq!(
        org.find_by_field("Account", "Late__c", "l").unwrap(),
        vec![b.clone()]
    );
    assert_eq!(
        org.upsert("Account", "Late__c", "L", &obj(json!({"Name":"B2"}))),
        Ok((b, false))
    );
    assert_eq!(
        org.find_by_field("Account", "Id", &a[..15]).unwrap(),
        vec![a.clone()]
    );
    org.delete(&a).unwrap();
    assert_eq!(
        org.find_by_field("Account", "Id", &a).unwrap(),
        Vec::<String>::new()
    );
}
