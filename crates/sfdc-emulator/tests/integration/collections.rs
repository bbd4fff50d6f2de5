//! sObject Collections: create, update, upsert, delete, retrieve; allOrNone rollback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_emulator::{FieldDef, FieldType};
use support::{assert_json, start};

fn acc(name: &str) -> Value {
    json!({"attributes": {"type": "Account"}, "Name": name})
}

#[tokio::test]
async fn create_returns_results_in_input_order_with_per_item_errors() {
    let ctx = start().await;
    let body = json!({"allOrNone": false, "records": [
        acc("A"),
        {"attributes": {"type": "Account"}},
        {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"},
    ]});
    let r = ctx.post("composite/sobjects", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_json(&r);
    let items = r.body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["success"], true);
    assert!(items[0]["id"].as_str().unwrap().starts_with("001"));
    assert_eq!(items[0]["errors"], json!([]));
    assert_eq!(
        items[1],
        json!({"success": false, "errors": [{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Name]","fields":["Name"]}]})
    );
    assert!(items[2]["id"].as_str().unwrap().starts_with("00Q"));
    assert_eq!(ctx.emu.records("Account").len(), 1);
    assert_eq!(ctx.emu.records("Lead").len(), 1);
    assert_eq!(ctx.calls("collections"), 1);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_item() {
    let ctx = start().await;
    let existing = ctx.create("Account", &json!({"Name":"Keep"})).await;
    let body = json!({"allOrNone": true, "records": [acc("A"), {"attributes": {"type": "Account"}, "Name": "B", "Bogus__c": 1}, acc("C")]});
    let r = ctx.post("composite/sobjects", &body).await;
    assert_eq!(r.status, 200);
    let items = r.body.as_array().unwrap();
    assert_eq!(items[1]["errors"][0]["statusCode"], "INVALID_FIELD");
    for i in [0, 2] {
        assert_eq!(items[i]["success"], false);
        assert_eq!(
            items[i]["errors"],
            json!([{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back because not all records were valid and the request was using AllOrNone header","fields":[]}])
        );
        // A rolled-back create names no record (facts §4.1: id omitted or null for failed creates).
        assert!(
            items[i].get("id").is_none_or(|id| id.is_null()),
            "rolled-back create still carries an id: {}",
            items[i]
        );
    }
    assert_eq!(ctx.emu.records("Account").len(), 1);

    // Update with allOrNone: the valid change is rolled back too.
    let body = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Account"}, "id": existing, "Name": "Changed"},
        {"attributes": {"type": "Account"}, "id": existing, "Name": null},
    ]});
    let r = ctx.patch("composite/sobjects", &body).await;
    let items = r.body.as_array().unwrap();
    assert_eq!(
        items[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        items[1]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    // Failed update items carry no `id` key, rolled back or failing (recorded org answers).
    assert!(items[0].get("id").is_none(), "{}", items[0]);
    assert!(items[1].get("id").is_none(), "{}", items[1]);
    assert_eq!(
        items[1],
        json!({"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]", "fields": ["Name"]}]})
    );
    assert_eq!(
        ctx.emu.record("Account", &existing).unwrap()["Name"],
        "Keep"
    );
}

#[tokio::test]
async fn update_upsert_delete_and_retrieve() {
    let ctx = start().await;
    ctx.emu
        .add_field(
            "Account",
            FieldDef::new("Ext__c", FieldType::String)
                .length(20)
                .external_id(),
        )
        .unwrap();
    let a = ctx
        .create("Account", &json!({"Name":"A","Ext__c":"E1"}))
        .await;
    let b = ctx.create("Account", &json!({"Name":"B"})).await;

    let r = ctx
        .patch(
            "composite/sobjects",
            &json!({"records": [
                {"attributes": {"type": "Account"}, "Id": a, "Name": "A2"},
                {"attributes": {"type": "Account"}, "Name": "no id"},
            ]}),
        )
        .await;
    let items = r.body.as_array().unwrap();
    assert_eq!(items[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(items[1]["success"], false);
    assert_eq!(items[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    assert_eq!(ctx.emu.record("Account", &a).unwrap()["Name"], "A2");

    let r = ctx
        .patch(
            "composite/sobjects/Account/Ext__c",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Account"}, "Ext__c": "E1", "Name": "A3"},
                {"attributes": {"type": "Account"}, "Ext__c": "E2", "Name": "New"},
                {"attributes": {"type": "Account"}, "Name": "missing key"},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body.as_array().unwrap();
    assert_eq!(
        items[0],
        json!({"id": a, "success": true, "errors": [], "created": false})
    );
    assert_eq!(items[1]["created"], true);
    assert_eq!(items[1]["success"], true);
    assert_eq!(items[2]["success"], false);
    let r = ctx
        .patch(
            "composite/sobjects/Account/Name",
            &json!({"records": [acc("x")]}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_FIELD"));

    let r = ctx
        .get(&format!(
            "composite/sobjects/Account?ids={a},{b}&fields=Name,Ext__c"
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["Name"], "A3");
    assert_eq!(r.body[1]["Ext__c"], Value::Null);

    let r = ctx
        .delete(&format!(
            "composite/sobjects?ids={a},{b},001xx&allOrNone=false"
        ))
        .await;
    assert_eq!(r.status, 200);
    let items = r.body.as_array().unwrap();
    assert_eq!(items[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(items[1]["success"], true);
    // A malformed id names no record: no `id` key, lower-case message, empty fields.
    assert_eq!(
        items[2],
        json!({"success": false, "errors": [{"statusCode": "MALFORMED_ID", "message": "malformed id 001xx", "fields": []}]})
    );
    let r = ctx.delete(&format!("composite/sobjects?ids={a}")).await;
    assert_eq!(r.body[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    assert_eq!(
        ctx.emu.records("Account").len(),
        1,
        "only the upsert-created record is left"
    );
    assert_eq!(ctx.calls("collections"), 6);
}

#[tokio::test]
async fn request_level_problems_are_400() {
    let ctx = start().await;
    let many: Vec<Value> = (0..201).map(|i| acc(&format!("A{i}"))).collect();
    let r = ctx
        .post("composite/sobjects", &json!({"records": many}))
        .await;
    assert_eq!((r.status, r.error_code()), (400, "EXCEEDED_ID_LIMIT"));
    let r = ctx
        .post(
            "composite/sobjects",
            &json!({"records": [{"Name": "untyped"}]}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_TYPE"));
    let r = ctx
        .send(
            ctx.req(reqwest::Method::POST, "composite/sobjects")
                .header("content-type", "application/json")
                .body("{"),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "JSON_PARSER_ERROR"));
    let ids: Vec<String> = (0..201).map(|i| format!("001{i:012}")).collect();
    let r = ctx
        .delete(&format!("composite/sobjects?ids={}", ids.join(",")))
        .await;
    assert_eq!((r.status, r.error_code()), (400, "EXCEEDED_ID_LIMIT"));
    assert!(ctx.emu.records("Account").is_empty());
    let exactly: Vec<Value> = (0..200).map(|i| acc(&format!("A{i}"))).collect();
    let r = ctx
        .post("composite/sobjects", &json!({"records": exactly}))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 200);
    assert_eq!(ctx.emu.records("Account").len(), 200);
}

#[tokio::test]
async fn an_empty_records_array_is_a_request_level_400() {
    let ctx = start().await;
    for (method, path) in [
        (reqwest::Method::POST, "composite/sobjects"),
        (reqwest::Method::PATCH, "composite/sobjects"),
    ] {
        let r = ctx
            .send(
                ctx.req(method, path)
                    .json(&json!({"allOrNone": false, "records": []})),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(
            r.body,
            json!([{"message": "At least 1 record is required", "errorCode": "REQUIRED_FIELD_MISSING"}])
        );
    }
}

#[tokio::test]
async fn failed_update_items_without_all_or_none_carry_no_id() {
    let ctx = start().await;
    let a = ctx.create("Account", &json!({"Name": "A"})).await;
    let body = json!({"records": [
        {"attributes": {"type": "Account"}, "id": a, "Bogus__c": 1},
        {"attributes": {"type": "Account"}, "id": a, "Name": "Fine"},
    ]});
    let r = ctx.patch("composite/sobjects", &body).await;
    let items = r.body.as_array().unwrap();
    assert_eq!(
        items[0],
        json!({"success": false, "errors": [{"statusCode": "INVALID_FIELD", "message": "No such column 'Bogus__c' on sobject of type Account", "fields": []}]})
    );
    assert_eq!(items[1], json!({"id": a, "success": true, "errors": []}));
}

/// Point 10: the request-size and value-length limits are Salesforce's, not the web
/// framework's. A 2.5 MB `LastName` fails only its own record with `STRING_TOO_LONG`
/// (Contact.LastName holds 80 characters); the other record is created.
#[tokio::test]
async fn an_overlong_value_fails_only_its_record() {
    let ctx = start().await;
    let long = "x".repeat(2_500_000);
    let body = json!({"records": [
        {"attributes": {"type": "Contact"}, "LastName": long},
        {"attributes": {"type": "Contact"}, "LastName": "Short"},
    ]});
    let r = ctx.post("composite/sobjects", &body).await;
    assert_eq!(r.status, 200, "{}", &r.text[..r.text.len().min(300)]);
    let items = r.body.as_array().unwrap();
    assert_eq!(items[0]["success"], false);
    assert_eq!(items[0]["errors"][0]["statusCode"], "STRING_TOO_LONG");
    assert_eq!(items[0]["errors"][0]["fields"], json!(["LastName"]));
    assert!(
        items[0]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(max length=80)")
    );
    assert_eq!(items[1]["success"], true);
    assert_eq!(ctx.emu.records("Contact").len(), 1);
}

/// Point 10: a value of the wrong JSON type in any record fails the whole Collections request
/// with `JSON_PARSER_ERROR` (Salesforce deserializes the request first); nothing is written.
#[tokio::test]
async fn a_value_of_the_wrong_json_type_fails_the_whole_request() {
    let ctx = start().await;
    let body = json!({"records": [
        {"attributes": {"type": "Account"}, "Name": "Fine"},
        {"attributes": {"type": "Account"}, "Name": "Bad", "NumberOfEmployees": {"n": 1}},
    ]});
    let r = ctx.post("composite/sobjects", &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_code(), "JSON_PARSER_ERROR");
    assert!(
        r.message()
            .starts_with("Cannot deserialize instance of int from START_OBJECT"),
        "{}",
        r.message()
    );
    assert!(ctx.emu.records("Account").is_empty());
}
