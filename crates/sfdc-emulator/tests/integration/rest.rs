//! REST sObject API: versions, describe, CRUD, upsert, validation errors, headers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use sfdc_emulator::{FieldDef, FieldType, ObjectDef};
use support::{V, assert_json, case_safe, into_resp, start};

fn is_sf_datetime(s: &str) -> bool {
    // YYYY-MM-DDTHH:MM:SS.sss+0000
    let b = s.as_bytes();
    b.len() == 28
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && s.ends_with("+0000")
        && s[..4].chars().all(|c| c.is_ascii_digit())
}

#[tokio::test]
async fn versions_list_needs_no_auth_and_is_not_counted() {
    let ctx = start().await;
    for path in ["/services/data", "/services/data/"] {
        let r = into_resp(ctx.http.get(ctx.url(path)).send().await.unwrap()).await;
        assert_eq!(r.status, 200);
        assert_json(&r);
        let list = r.body.as_array().unwrap();
        assert_eq!(
            list[0],
            json!({"label":"Summer '14","url":"/services/data/v31.0","version":"31.0"})
        );
        assert_eq!(
            list.last().unwrap(),
            &json!({"label":"Spring '26","url":"/services/data/v66.0","version":"66.0"})
        );
        assert!(
            list.iter()
                .any(|v| v["version"] == "62.0" && v["label"] == "Winter '25")
        );
    }
    assert_eq!(ctx.emu.api_calls(), 0);

    let r = ctx.get(&format!("/services/data/v{V}/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["sobjects"],
        json!(format!("/services/data/v{V}/sobjects"))
    );
    assert_eq!(r.body["query"], json!(format!("/services/data/v{V}/query")));
    assert!(r.body["identity"].as_str().unwrap().contains("/id/00D"));
    assert_eq!(ctx.calls("versions"), 1);

    let r = ctx.get("/services/data/v30.0/sobjects").await;
    assert_eq!(r.status, 410);
    let r = ctx.get("/services/data/v99.0/sobjects").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn describe_global_and_object_report_field_properties() {
    let ctx = start().await;
    ctx.emu
        .add_field(
            "Lead",
            FieldDef::new("Ext__c", FieldType::String)
                .length(40)
                .external_id()
                .unique(),
        )
        .unwrap();
    let r = ctx.get("sobjects/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["encoding"], "UTF-8");
    assert_eq!(r.body["maxBatchSize"], 200);
    let prefixes: Vec<(String, String)> = r.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["keyPrefix"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (name, prefix) in [
        ("Lead", "00Q"),
        ("Contact", "003"),
        ("Account", "001"),
        ("Case", "500"),
        ("Opportunity", "006"),
    ] {
        assert!(prefixes.contains(&(name.into(), prefix.into())), "{name}");
    }

    let r = ctx.get("sobjects/lead/describe").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], "Lead");
    let fields = r.body["fields"].as_array().unwrap();
    let f = |n: &str| fields.iter().find(|f| f["name"] == n).cloned().unwrap();
    let desc = f("Description");
    assert_eq!(
        (
            desc["type"].clone(),
            desc["filterable"].clone(),
            desc["sortable"].clone()
        ),
        (json!("textarea"), json!(false), json!(false))
    );
    assert_eq!(f("Email")["type"], "email");
    assert_eq!(f("NumberOfEmployees")["type"], "int");
    assert_eq!(f("NumberOfEmployees")["soapType"], "xsd:int");
    assert_eq!(f("AnnualRevenue")["type"], "currency");
    let company = f("Company");
    assert_eq!(
        (
            company["nillable"].clone(),
            company["createable"].clone(),
            company["length"].clone()
        ),
        (json!(false), json!(true), json!(255))
    );
    let id = f("Id");
    assert_eq!(
        (
            id["type"].clone(),
            id["idLookup"].clone(),
            id["createable"].clone(),
            id["soapType"].clone()
        ),
        (json!("id"), json!(true), json!(false), json!("tns:ID"))
    );
    let ext = f("Ext__c");
    assert_eq!(
        (
            ext["externalId"].clone(),
            ext["unique"].clone(),
            ext["idLookup"].clone(),
            ext["custom"].clone()
        ),
        (json!(true), json!(true), json!(true), json!(true))
    );
    for name in [
        "Street",
        "City",
        "State",
        "PostalCode",
        "Country",
        "Phone",
        "Website",
        "FirstName",
        "Status",
        "CreatedDate",
        "LastModifiedDate",
        "IsDeleted",
    ] {
        assert!(fields.iter().any(|f| f["name"] == name), "{name}");
    }
    assert_eq!(f("CreatedDate")["type"], "datetime");
    assert_eq!(f("CreatedDate")["updateable"], false);

    let r = ctx.get("sobjects/Opportunity/describe/").await;
    let fields = r.body["fields"].as_array().unwrap();
    let close = fields.iter().find(|f| f["name"] == "CloseDate").unwrap();
    assert_eq!(close["type"], "date");
    let acc = fields.iter().find(|f| f["name"] == "AccountId").unwrap();
    assert_eq!(
        (
            acc["type"].clone(),
            acc["referenceTo"].clone(),
            acc["relationshipName"].clone()
        ),
        (json!("reference"), json!(["Account"]), json!("Account"))
    );

    let r = ctx.get("sobjects/Account").await;
    assert_eq!(r.body["objectDescribe"]["keyPrefix"], "001");
    let r = ctx.get("sobjects/Account/describe").await;
    let fields = r.body["fields"].as_array().unwrap();
    for name in [
        "BillingStreet",
        "BillingCity",
        "ShippingPostalCode",
        "AccountNumber",
        "Website",
        "Phone",
    ] {
        assert!(fields.iter().any(|f| f["name"] == name), "{name}");
    }
    assert_eq!(ctx.calls("describe"), 5);

    for path in ["sobjects/Nope__c/describe", "sobjects/Nope__c"] {
        let r = ctx.get(path).await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body,
            json!([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])
        );
    }
}

#[tokio::test]
async fn create_retrieve_update_delete_round_trip() {
    let ctx = start().await;
    let r = ctx
        .post(
            "sobjects/Lead",
            &json!({"LastName":"Doe","FirstName":"Jo","Company":"Acme","NumberOfEmployees":12}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_json(&r);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(r.body, json!({"id": id, "success": true, "errors": []}));
    assert!(id.starts_with("00Q"));
    assert_eq!(
        id,
        case_safe(&id[..15]),
        "18-char id must carry the case-safe suffix"
    );
    assert!(
        r.header("sforce-limit-info")
            .unwrap()
            .starts_with("api-usage=1/")
    );

    // Retrieve: attributes first, every field, nulls included; 15-char id accepted.
    let r = ctx.get(&format!("sobjects/Lead/{}", &id[..15])).await;
    assert_eq!(r.status, 200);
    let rec = r.body.as_object().unwrap();
    assert_eq!(rec.keys().next().unwrap(), "attributes");
    assert_eq!(
        r.body["attributes"],
        json!({"type":"Lead","url": format!("/services/data/v{V}/sobjects/Lead/{id}")})
    );
    assert_eq!(r.body["Id"], json!(id));
    assert_eq!(r.body["Name"], "Jo Doe");
    assert_eq!(r.body["NumberOfEmployees"], 12);
    assert_eq!(r.body["Email"], Value::Null);
    assert_eq!(r.body["IsDeleted"], false);
    assert!(
        is_sf_datetime(r.body["CreatedDate"].as_str().unwrap()),
        "{}",
        r.body["CreatedDate"]
    );

    let r = ctx
        .get(&format!("sobjects/Lead/{id}?fields=company,LastName"))
        .await;
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "Company", "LastName"]);

    // Update: 204, empty body; also through the _HttpMethod override.
    let r = ctx
        .patch(
            &format!("sobjects/Lead/{id}"),
            &json!({"Company":"Acme 2","Email":"jo@example.com"}),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let r = ctx
        .post(
            &format!("sobjects/Lead/{id}?_HttpMethod=PATCH"),
            &json!({"City":"Paris"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let rec = ctx.emu.record("Lead", &id).unwrap();
    assert_eq!(
        (
            rec["Company"].clone(),
            rec["Email"].clone(),
            rec["City"].clone()
        ),
        (json!("Acme 2"), json!("jo@example.com"), json!("Paris"))
    );

    // Delete: 204, then ENTITY_IS_DELETED for delete, retrieve and update.
    let r = ctx.delete(&format!("sobjects/Lead/{id}/")).await;
    assert_eq!(r.status, 204);
    let r = ctx.delete(&format!("sobjects/Lead/{id}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!([{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}])
    );
    assert_eq!(
        ctx.get(&format!("sobjects/Lead/{id}")).await.error_code(),
        "ENTITY_IS_DELETED"
    );
    assert_eq!(
        ctx.patch(&format!("sobjects/Lead/{id}"), &json!({"City":"X"}))
            .await
            .error_code(),
        "ENTITY_IS_DELETED"
    );
    assert!(ctx.emu.records("Lead").is_empty());

    let counts = ctx.emu.api_call_counts();
    assert_eq!(counts["sobject_create"], 1);
    assert_eq!(counts["sobject_retrieve"], 3);
    assert_eq!(counts["sobject_update"], 3);
    assert_eq!(counts["sobject_delete"], 2);
}

#[tokio::test]
async fn opportunity_types_are_converted_and_output_in_salesforce_formats() {
    let ctx = start().await;
    let acc = ctx.create("Account", &json!({"Name":"Acme"})).await;
    let opp = ctx
        .create(
            "Opportunity",
            &json!({"Name":"Deal","StageName":"Prospecting","CloseDate":"2026-03-01","Amount":"1250.5","AccountId":&acc[..15]}),
        )
        .await;
    assert!(opp.starts_with("006"));
    let r = ctx.get(&format!("sobjects/Opportunity/{opp}")).await;
    assert_eq!(r.body["CloseDate"], "2026-03-01");
    assert_eq!(r.body["Amount"], 1250.5);
    assert_eq!(r.body["AccountId"], json!(acc));
    let case = ctx
        .create(
            "Case",
            &json!({"Subject":"Broken","Origin":"Web","AccountId":acc}),
        )
        .await;
    assert!(case.starts_with("500"));
    let contact = ctx
        .create(
            "Contact",
            &json!({"LastName":"Smith","MailingCity":"Oslo","AccountId":acc}),
        )
        .await;
    assert!(contact.starts_with("003"));

    let r = ctx
        .post("sobjects/Opportunity", &json!({"Name":"Deal"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        json!([{"message":"Required fields are missing: [StageName, CloseDate]","errorCode":"REQUIRED_FIELD_MISSING","fields":["StageName","CloseDate"]}])
    );
    let r = ctx
        .post(
            "sobjects/Opportunity",
            &json!({"Name":"D","StageName":"x","CloseDate":"tomorrow"}),
        )
        .await;
    assert_eq!(r.error_code(), "JSON_PARSER_ERROR");
}

#[tokio::test]
async fn validation_errors_match_salesforce() {
    let ctx = start().await;
    ctx.emu
        .add_field(
            "Account",
            FieldDef::new("Code__c", FieldType::String)
                .length(10)
                .unique()
                .external_id(),
        )
        .unwrap();
    let check = |r: support::Resp, status: u16, code: &str| {
        assert_eq!(r.status, status, "{}", r.text);
        assert_json(&r);
        assert_eq!(r.error_code(), code, "{}", r.text);
        r
    };
    let r = check(
        ctx.post("sobjects/Lead", &json!({"FirstName":"A"})).await,
        400,
        "REQUIRED_FIELD_MISSING",
    );
    assert_eq!(r.body[0]["fields"], json!(["LastName", "Company"]));
    assert_eq!(
        r.message(),
        "Required fields are missing: [LastName, Company]"
    );
    let r = check(
        ctx.post("sobjects/Account", &json!({"Name":"A","Foo__c":1}))
            .await,
        400,
        "INVALID_FIELD",
    );
    assert_eq!(
        r.message(),
        "No such column 'Foo__c' on sobject of type Account"
    );
    let r = check(
        ctx.post(
            "sobjects/Account",
            &json!({"Id":"001000000000001AAA","Name":"A"}),
        )
        .await,
        400,
        "INVALID_FIELD",
    );
    assert_eq!(
        r.message(),
        "The Id field should not be specified in the sobject data."
    );
    let r = check(
        ctx.post(
            "sobjects/Account",
            &json!({"Name":"A","NumberOfEmployees":"lots"}),
        )
        .await,
        400,
        "JSON_PARSER_ERROR",
    );
    assert!(r.message().contains("int"), "{}", r.message());
    check(
        ctx.post(
            "sobjects/Account",
            &json!({"Name":"A","NumberOfEmployees":{"x":1}}),
        )
        .await,
        400,
        "JSON_PARSER_ERROR",
    );
    let r = ctx
        .send(
            ctx.req(reqwest::Method::POST, "sobjects/Account")
                .header("content-type", "application/json")
                .body("{\"Name\": x}"),
        )
        .await;
    let r = check(r, 400, "JSON_PARSER_ERROR");
    assert!(r.message().contains("line:1"), "{}", r.message());
    let r = ctx
        .send(
            ctx.req(reqwest::Method::POST, "sobjects/Account")
                .header("content-type", "application/json"),
        )
        .await;
    let r = check(r, 400, "JSON_PARSER_ERROR");
    assert_eq!(
        r.message(),
        "The HTTP entity body is required, but this request has no entity body."
    );
    let r = check(
        ctx.post(
            "sobjects/Account",
            &json!({"Name":"A","Code__c":"x".repeat(11)}),
        )
        .await,
        400,
        "STRING_TOO_LONG",
    );
    assert_eq!(r.body[0]["fields"], json!(["Code__c"]));
    assert!(r.message().ends_with("(max length=10)"), "{}", r.message());
    check(
        ctx.post(
            "sobjects/Lead",
            &json!({"LastName":"A","Company":"C","Email":"not-an-email"}),
        )
        .await,
        400,
        "INVALID_EMAIL_ADDRESS",
    );

    let first = ctx
        .create("Account", &json!({"Name":"A","Code__c":"C1"}))
        .await;
    let r = check(
        ctx.post("sobjects/Account", &json!({"Name":"B","Code__c":"C1"}))
            .await,
        400,
        "DUPLICATE_VALUE",
    );
    assert_eq!(
        r.message(),
        format!("duplicate value found: Code__c duplicates value on record with id: {first}")
    );

    let r = check(ctx.get("sobjects/Account/001xx").await, 400, "MALFORMED_ID");
    assert_eq!(
        r.body,
        json!([{"message":"Account ID: id value of incorrect type: 001xx","errorCode":"MALFORMED_ID","fields":["Id"]}])
    );
    // An 18-character id with a wrong checksum, and an id of another object.
    let bad_sum = format!("{}AAA", &first[..15]);
    if bad_sum != first {
        check(
            ctx.get(&format!("sobjects/Account/{bad_sum}")).await,
            400,
            "MALFORMED_ID",
        );
    }
    let lead_id = format!("00Q{}", &first[3..15]);
    check(
        ctx.delete(&format!("sobjects/Account/{}", case_safe(&lead_id)))
            .await,
        400,
        "MALFORMED_ID",
    );
    // A well-formed id that does not exist.
    let missing = case_safe(&format!("{}zzzz", &first[..11]));
    let r = check(
        ctx.get(&format!("sobjects/Account/{missing}")).await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(r.message(), "The requested resource does not exist");
    check(
        ctx.patch(&format!("sobjects/Account/{missing}"), &json!({"Name":"x"}))
            .await,
        404,
        "NOT_FOUND",
    );
    // Unknown object in the path.
    check(
        ctx.post("sobjects/Nope__c", &json!({"Name":"x"})).await,
        404,
        "NOT_FOUND",
    );
    check(
        ctx.get(&format!("sobjects/Nope__c/{first}")).await,
        404,
        "NOT_FOUND",
    );
    // Non-id segment: read as an external id field name.
    let r = check(
        ctx.get("sobjects/Account/SomeField").await,
        404,
        "NOT_FOUND",
    );
    assert!(r.message().contains("SomeField"));
    // Wrong method.
    check(
        ctx.send(ctx.req(reqwest::Method::PUT, &format!("sobjects/Account/{first}")))
            .await,
        405,
        "METHOD_NOT_ALLOWED",
    );
    // Nothing but the first account was stored.
    assert_eq!(ctx.emu.records("Account").len(), 1);
    assert!(ctx.emu.records("Lead").is_empty());
}

#[tokio::test]
async fn upsert_by_external_id_follows_version_rules() {
    let ctx = start().await;
    ctx.emu
        .add_object(
            ObjectDef::new("Invoice__c").field(
                FieldDef::new("Number__c", FieldType::String)
                    .length(40)
                    .external_id(),
            ),
        )
        .unwrap();
    // Created: 201 + created:true.
    let r = ctx
        .patch(
            "sobjects/Invoice__c/Number__c/INV%201",
            &json!({"Name":"First"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("a0"), "{id}");
    assert_eq!(
        r.body,
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    assert_eq!(
        ctx.emu.record("Invoice__c", &id).unwrap()["Number__c"],
        "INV 1"
    );
    // Updated: 200 + created:false (v46+), trailing slash accepted.
    let r = ctx
        .patch(
            "sobjects/Invoice__c/Number__c/INV%201/",
            &json!({"Name":"Second"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    // Before v46: 204 on update, no `created` key on create.
    let r = ctx
        .patch(
            "/services/data/v45.0/sobjects/Invoice__c/Number__c/INV%201",
            &json!({"Name":"Third"}),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let r = ctx
        .patch(
            "/services/data/v45.0/sobjects/Invoice__c/Number__c/INV2",
            &json!({"Name":"Other"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("created").is_none());
    // Several matches: 300 with record URLs.
    ctx.emu
        .insert_record("Invoice__c", json!({"Name":"Dup","Number__c":"inv 1"}))
        .unwrap();
    let r = ctx
        .patch(
            "sobjects/Invoice__c/Number__c/INV%201",
            &json!({"Name":"X"}),
        )
        .await;
    assert_eq!(r.status, 300);
    let urls = r.body.as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(urls.iter().all(|u| {
        u.as_str()
            .unwrap()
            .starts_with(&format!("/services/data/v{V}/sobjects/Invoice__c/"))
    }));
    // Not an external id field: 404 NOT_FOUND.
    let r = ctx
        .patch("sobjects/Invoice__c/Name/First", &json!({}))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "NOT_FOUND");
    // `Id` as the field updates by id; POST .../Id creates.
    let r = ctx
        .patch(
            &format!("sobjects/Invoice__c/Id/{id}"),
            &json!({"Name":"ById"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["created"], false);
    assert_eq!(ctx.emu.record("Invoice__c", &id).unwrap()["Name"], "ById");
    let r = ctx
        .post("sobjects/Invoice__c/Id", &json!({"Name":"ViaIdPath"}))
        .await;
    assert_eq!(r.status, 201);
    // _HttpMethod=PATCH on POST works for upsert too.
    let r = ctx
        .post(
            "sobjects/Invoice__c/Number__c/INV9?_HttpMethod=PATCH",
            &json!({"Name":"Nine"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // GET by external id.
    let r = ctx.get("sobjects/Invoice__c/Number__c/INV9").await;
    assert_eq!(r.body["Name"], "Nine");
    assert_eq!(ctx.calls("sobject_upsert"), 8);
    assert_eq!(ctx.calls("sobject_create"), 1);
    assert_eq!(ctx.calls("sobject_retrieve"), 1);
}

#[tokio::test]
async fn parent_reference_by_external_id_in_the_body() {
    let ctx = start().await;
    ctx.emu
        .add_field(
            "Account",
            FieldDef::new("AccExt__c", FieldType::String)
                .length(20)
                .external_id(),
        )
        .unwrap();
    let acc = ctx
        .create("Account", &json!({"Name":"Parent","AccExt__c":"P1"}))
        .await;
    let contact = ctx
        .create(
            "Contact",
            &json!({"LastName":"Kid","Account":{"AccExt__c":"P1"}}),
        )
        .await;
    assert_eq!(
        ctx.emu.record("Contact", &contact).unwrap()["AccountId"],
        json!(acc)
    );
    let r = ctx
        .post(
            "sobjects/Contact",
            &json!({"LastName":"Kid","Account":{"AccExt__c":"none"}}),
        )
        .await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_FIELD"));
    assert_eq!(
        r.message(),
        "Foreign key external ID: none not found for field AccExt__c in entity Account"
    );
}

#[tokio::test]
async fn upsert_by_a_field_that_is_not_an_external_id_is_404_naming_it() {
    let ctx = start().await;
    for field in ["Namez", "Name"] {
        let r = ctx
            .patch(
                &format!("sobjects/Account/{field}/x"),
                &json!({"Phone": "1"}),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(
            r.body,
            json!([{"message": format!("Provided external ID field does not exist or is not accessible: {field}"), "errorCode": "NOT_FOUND"}])
        );
    }
    assert!(ctx.emu.records("Account").is_empty());
}

#[tokio::test]
async fn describe_carries_the_documented_field_and_object_keys() {
    let ctx = start().await;
    let r = ctx.get("sobjects/Account/describe").await;
    assert_eq!(r.status, 200);
    for key in ["listviewable", "lookupLayoutable", "searchLayoutable"] {
        assert!(r.body.get(key).is_some(), "object describe lacks {key}");
    }
    let fields = r.body["fields"].as_array().unwrap();
    let id = fields.iter().find(|f| f["name"] == "Id").unwrap();
    assert_eq!(id["byteLength"], 18);
    assert_eq!(id["length"], 18);
    let name = fields.iter().find(|f| f["name"] == "Name").unwrap();
    assert_eq!(
        name["byteLength"],
        json!(name["length"].as_u64().unwrap() * 3)
    );
    // Every key a real field description carries, with the documented defaults where the
    // emulator models nothing (no formulas, dependent picklists or help text).
    let expected = [
        "autoNumber",
        "byteLength",
        "calculated",
        "calculatedFormula",
        "caseSensitive",
        "controllerName",
        "createable",
        "custom",
        "defaultValue",
        "defaultValueFormula",
        "defaultedOnCreate",
        "dependentPicklist",
        "deprecatedAndHidden",
        "digits",
        "externalId",
        "filterable",
        "groupable",
        "htmlFormatted",
        "idLookup",
        "inlineHelpText",
        "label",
        "length",
        "name",
        "nameField",
        "namePointing",
        "nillable",
        "picklistValues",
        "precision",
        "referenceTo",
        "relationshipName",
        "relationshipOrder",
        "restrictedPicklist",
        "scale",
        "soapType",
        "sortable",
        "type",
        "unique",
        "updateable",
        "writeRequiresMasterRead",
    ];
    for f in fields {
        for key in expected {
            assert!(f.get(key).is_some(), "{} lacks {key}", f["name"]);
        }
    }
    assert_eq!(name["calculatedFormula"], Value::Null);
    assert_eq!(name["dependentPicklist"], false);
    assert_eq!(name["inlineHelpText"], Value::Null);
    let r = ctx.get("sobjects/Contact/describe").await;
    let fields = r.body["fields"].as_array().unwrap();
    let account_id = fields.iter().find(|f| f["name"] == "AccountId").unwrap();
    assert_eq!(
        account_id["byteLength"], 18,
        "a lookup is an 18-byte id too"
    );
}

/// Divergence 9: a REST upsert body that repeats the URL's external-id field is a 400, even
/// with the same value; nothing is written.
#[tokio::test]
async fn an_upsert_body_repeating_the_external_id_field_is_400() {
    let ctx = start().await;
    ctx.emu
        .add_field(
            "Account",
            FieldDef::new("Ext__c", FieldType::String)
                .length(20)
                .external_id(),
        )
        .unwrap();
    for ext in ["E1", "e1", "other"] {
        let r = ctx
            .patch(
                "sobjects/Account/Ext__c/E1",
                &json!({"Name": "A", "ext__c": ext}),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(
            r.body,
            json!([{"message": "Unable to create/update fields: Ext__c. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", "errorCode": "INVALID_FIELD", "fields": ["Ext__c"]}])
        );
    }
    assert!(ctx.emu.records("Account").is_empty());
    let r = ctx
        .patch("sobjects/Account/Ext__c/E1", &json!({"Name": "A"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn a_converted_lead_cannot_be_updated() {
    let ctx = start().await;
    let lead = ctx
        .create(
            "Lead",
            &json!({"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines"}),
        )
        .await;
    let before = ctx.emu.api_calls();
    let c = ctx.emu.convert_lead(&lead).unwrap();
    assert_eq!(
        ctx.emu.api_calls(),
        before,
        "conversion by the handle is not an API call"
    );
    let r = ctx
        .get(&format!(
            "sobjects/Lead/{lead}?fields=IsConverted,ConvertedAccountId,ConvertedContactId"
        ))
        .await;
    assert_eq!(r.body["IsConverted"], true);
    assert_eq!(r.body["ConvertedAccountId"], json!(c.account_id));
    assert_eq!(r.body["ConvertedContactId"], json!(c.contact_id));
    assert_eq!(
        ctx.emu.record("Contact", &c.contact_id).unwrap()["AccountId"],
        json!(c.account_id)
    );
    let r = ctx
        .patch(
            &format!("sobjects/Lead/{lead}"),
            &json!({"Company": "Other"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"message": "cannot reference converted lead", "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD", "fields": []}])
    );
    // The conversion fields are read-only.
    let other = ctx
        .create("Lead", &json!({"LastName": "B", "Company": "C"}))
        .await;
    let r = ctx
        .patch(
            &format!("sobjects/Lead/{other}"),
            &json!({"IsConverted": true}),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
    assert!(ctx.emu.convert_lead(&lead).unwrap_err().is_rejected());
}
