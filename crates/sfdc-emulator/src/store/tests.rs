//! Unit tests of the org's DML and value conversion.

use super::*;
use serde_json::Map;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn create_validates_like_salesforce() {
    let mut org = Org::new();
    let e = org
        .create("Lead", &obj(json!({"FirstName":"A"})))
        .unwrap_err();
    assert_eq!(e.error_code, "REQUIRED_FIELD_MISSING");
    assert_eq!(
        e.message,
        "Required fields are missing: [LastName, Company]"
    );
    let e = org
        .create("Lead", &obj(json!({"Id":"x","LastName":"A","Company":"C"})))
        .unwrap_err();
    assert_eq!(e.error_code, "INVALID_FIELD");
    let e = org.create("Lead", &obj(json!({"Foo__c":1}))).unwrap_err();
    assert_eq!(e.message, "No such column 'Foo__c' on sobject of type Lead");
    let e = org
        .create(
            "Lead",
            &obj(json!({"LastName":"A","Company":"C","NumberOfEmployees":"many"})),
        )
        .unwrap_err();
    assert_eq!(e.error_code, "JSON_PARSER_ERROR");
    let e = org
        .create(
            "Lead",
            &obj(json!({"LastName":"A","Company":"x".repeat(256)})),
        )
        .unwrap_err();
    assert_eq!(e.error_code, "STRING_TOO_LONG");
    let id = org
        .create(
            "lead",
            &obj(json!({"lastname":"Doe","Company":"C","FirstName":"Jo","NumberOfEmployees":"12"})),
        )
        .unwrap();
    assert!(id.starts_with("00Q") && id.len() == 18);
    let (_, rec) = org.find(&id[..15]).unwrap();
    assert_eq!(rec["Name"], json!("Jo Doe"));
    assert_eq!(rec["NumberOfEmployees"], json!(12));
    assert_eq!(rec["Status"], json!("Open - Not Contacted"));
    // Sparse: a null field is not stored, and reads as null through `full_record`.
    assert!(rec.get("Description").is_none());
    let lead = org.object("Lead").unwrap();
    let full = full_record(lead, rec);
    assert_eq!(full["Description"], Value::Null);
    assert_eq!(full.len(), lead.fields.len());
    assert_eq!(full.keys().next().map(String::as_str), Some("Id"));
}

#[test]
fn upsert_creates_updates_and_reports_multiple() {
    let mut org = Org::new();
    org.add_field(
        "Account",
        FieldDef::new("Ext__c", FieldType::String).external_id(),
    )
    .unwrap();
    let (id, created) = org
        .upsert("Account", "Ext__c", "k1", &obj(json!({"Name":"A"})))
        .unwrap();
    assert!(created);
    let (id2, created) = org
        .upsert("Account", "ext__c", "K1", &obj(json!({"Name":"B"})))
        .unwrap();
    assert_eq!((id2.as_str(), created), (id.as_str(), false));
    org.create("Account", &obj(json!({"Name":"C","Ext__c":"k1"})))
        .unwrap();
    assert!(matches!(
        org.upsert("Account", "Ext__c", "k1", &obj(json!({"Name":"D"}))),
        Err(UpsertError::MultipleMatches(v)) if v.len() == 2
    ));
    assert!(matches!(
        org.upsert("Account", "Name", "x", &Map::new()),
        Err(UpsertError::Failed(e)) if e.error_code == "NOT_FOUND"
    ));
}

#[test]
fn unique_fields_reject_duplicates_and_rollback_restores() {
    let mut org = Org::new();
    org.add_field(
        "Account",
        FieldDef::new("Code__c", FieldType::String).unique(),
    )
    .unwrap();
    let a = org
        .create("Account", &obj(json!({"Name":"A","Code__c":"X"})))
        .unwrap();
    let e = org
        .create("Account", &obj(json!({"Name":"B","Code__c":"x"})))
        .unwrap_err();
    assert_eq!(e.error_code, "DUPLICATE_VALUE");
    assert!(e.message.ends_with(&a));
    org.begin();
    org.update("Account", &a, &obj(json!({"Name":"A2"})))
        .unwrap();
    org.create("Account", &obj(json!({"Name":"C"}))).unwrap();
    org.delete(&a).unwrap();
    org.rollback();
    assert_eq!(org.count("Account"), 1);
    assert_eq!(org.retrieve("Account", &a).unwrap()["Name"], json!("A"));
}

#[test]
fn delete_and_retrieve_errors() {
    let mut org = Org::new();
    let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
    org.delete(&a).unwrap();
    assert_eq!(org.delete(&a).unwrap_err().error_code, "ENTITY_IS_DELETED");
    assert_eq!(
        org.retrieve("Account", &a).unwrap_err().error_code,
        "ENTITY_IS_DELETED"
    );
    assert_eq!(
        org.retrieve("Account", "001xx").unwrap_err().error_code,
        "MALFORMED_ID"
    );
    let other = ids::make_id("001", 999);
    assert_eq!(
        org.retrieve("Account", &other).unwrap_err().error_code,
        "NOT_FOUND"
    );
    assert_eq!(org.all_records("Account").count(), 1);
    assert_eq!(org.live_records("Account").count(), 0);
}

#[test]
fn references_are_checked() {
    let mut org = Org::new();
    let a = org.create("Account", &obj(json!({"Name":"A"}))).unwrap();
    org.create(
        "Contact",
        &obj(json!({"LastName":"L","AccountId":&a[..15]})),
    )
    .unwrap();
    let e = org
        .create("Contact", &obj(json!({"LastName":"L","AccountId":"abc"})))
        .unwrap_err();
    assert_eq!(e.error_code, "MALFORMED_ID");
    let e = org
        .create(
            "Contact",
            &obj(json!({"LastName":"L","AccountId":ids::make_id("001", 4242)})),
        )
        .unwrap_err();
    assert_eq!(e.error_code, "INVALID_CROSS_REFERENCE_KEY");
}

#[test]
fn parents_resolve_by_external_id() {
    let mut org = Org::new();
    org.add_field(
        "Account",
        FieldDef::new("Ext__c", FieldType::String).external_id(),
    )
    .unwrap();
    let a = org
        .create("Account", &obj(json!({"Name":"A","Ext__c":"A1"})))
        .unwrap();
    let c = org
        .create(
            "Contact",
            &obj(json!({"LastName":"L","Account":{"Ext__c":"a1"}})),
        )
        .unwrap();
    assert_eq!(org.find(&c).unwrap().1["AccountId"], json!(a));
    let e = org
        .create(
            "Contact",
            &obj(json!({"LastName":"L","Account":{"Ext__c":"zz"}})),
        )
        .unwrap_err();
    assert_eq!(e.error_code, "INVALID_FIELD");
    let e = org
        .create(
            "Contact",
            &obj(json!({"LastName":"L","Account":{"Name":"A"}})),
        )
        .unwrap_err();
    assert!(e.message.contains("not an External ID"), "{}", e.message);
}

#[test]
fn csv_cells_convert() {
    let org = Org::new();
    let o = org.object("Opportunity").unwrap();
    assert_eq!(csv_value(o.field("Amount").unwrap(), "").unwrap(), None);
    assert_eq!(
        csv_value(o.field("Amount").unwrap(), "#N/A").unwrap(),
        Some(Value::Null)
    );
    assert_eq!(
        csv_value(o.field("Amount").unwrap(), "12.5").unwrap(),
        Some(json!(12.5))
    );
    assert_eq!(
        csv_value(o.field("CloseDate").unwrap(), "2024-02-03").unwrap(),
        Some(json!("2024-02-03"))
    );
    assert_eq!(
        csv_value(
            o.field("CreatedDate").unwrap(),
            "2024-02-03T04:05:06.789-01:00"
        )
        .unwrap(),
        Some(json!("2024-02-03T05:05:06.789+0000"))
    );
    let lead = org.object("Lead").unwrap();
    assert_eq!(
        csv_value(lead.field("HasOptedOutOfEmail").unwrap(), "1").unwrap(),
        Some(json!(true))
    );
    assert!(csv_value(lead.field("NumberOfEmployees").unwrap(), "x").is_err());
}

#[test]
fn nested_transactions_are_savepoints() {
    let mut org = Org::new();
    org.begin();
    let outer = org
        .create("Account", &obj(json!({"Name": "Outer"})))
        .unwrap();
    org.begin();
    org.create("Account", &obj(json!({"Name": "Inner rolled back"})))
        .unwrap();
    org.rollback();
    org.begin();
    org.create("Account", &obj(json!({"Name": "Inner kept"})))
        .unwrap();
    org.commit();
    assert_eq!(org.count("Account"), 2);
    assert!(org.find(&outer).is_some());
    // The outer rollback also undoes what the committed inner transaction did.
    org.rollback();
    assert_eq!(org.count("Account"), 0);
}
