//! SOQL query routes: paging, queryAll, COUNT(), error codes. (Parser/evaluator
//! behaviour is tested in soql*.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::{Value, json};
use support::{V, assert_json, start};

async fn q(ctx: &support::Ctx, path: &str, soql: &str, batch: Option<usize>) -> support::Resp {
    let mut rb = ctx.req(reqwest::Method::GET, path).query(&[("q", soql)]);
    if let Some(n) = batch {
        rb = rb.header("Sforce-Query-Options", format!("batchSize={n}"));
    }
    ctx.send(rb).await
}

#[tokio::test]
async fn paging_follows_next_records_url_across_three_pages() {
    let ctx = start().await;
    for i in 0..450 {
        ctx.emu
            .insert_record(
                "Lead",
                json!({"LastName": format!("L{i:03}"), "Company": "Acme"}),
            )
            .unwrap();
    }
    let r = q(&ctx, "query", "SELECT Id, LastName FROM Lead", Some(200)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_json(&r);
    assert_eq!(r.body["totalSize"], 450);
    assert_eq!(r.body["done"], false);
    assert_eq!(r.body["records"].as_array().unwrap().len(), 200);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["totalSize", "done", "nextRecordsUrl", "records"]);
    let first = &r.body["records"][0];
    let id = first["Id"].as_str().unwrap();
    assert_eq!(
        first["attributes"],
        json!({"type":"Lead","url": format!("/services/data/v{V}/sobjects/Lead/{id}")})
    );

    let mut next = r.body["nextRecordsUrl"].as_str().unwrap().to_owned();
    assert!(
        next.starts_with(&format!("/services/data/v{V}/query/")),
        "{next}"
    );
    let mut seen = 200;
    let mut pages = 1;
    loop {
        let r = ctx.get(&next).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["totalSize"], 450);
        seen += r.body["records"].as_array().unwrap().len();
        pages += 1;
        if r.body["done"] == true {
            assert!(r.body.get("nextRecordsUrl").is_none());
            break;
        }
        next = r.body["nextRecordsUrl"].as_str().unwrap().to_owned();
    }
    assert_eq!((seen, pages), (450, 3));
    assert_eq!(ctx.calls("query"), 1);
    assert_eq!(ctx.calls("query_more"), 2);

    // Default page size is 2000: one page.
    let r = q(&ctx, "query/", "SELECT Id FROM Lead", None).await;
    assert_eq!(
        (
            r.body["done"].clone(),
            r.body["records"].as_array().unwrap().len()
        ),
        (json!(true), 450)
    );
}

#[tokio::test]
async fn query_all_includes_deleted_rows_and_count_reports_total_size() {
    let ctx = start().await;
    let a = ctx.create("Account", &json!({"Name":"A"})).await;
    ctx.create("Account", &json!({"Name":"B"})).await;
    assert_eq!(
        ctx.delete(&format!("sobjects/Account/{a}")).await.status,
        204
    );
    let r = q(&ctx, "query", "SELECT Name FROM Account", None).await;
    assert_eq!(r.body["totalSize"], 1, "{}", r.text);
    // Id not selected: not in the record, but the attributes url still names the record.
    let rec = r.body["records"][0].as_object().unwrap();
    assert!(rec.get("Id").is_none());
    let url = rec["attributes"]["url"].as_str().unwrap();
    let (prefix, id) = url.rsplit_once('/').unwrap();
    assert_eq!(prefix, format!("/services/data/v{V}/sobjects/Account"));
    assert!(id.starts_with("001") && id.len() == 18 && id != a, "{url}");
    assert_eq!(rec["Name"], "B");
    let r = q(
        &ctx,
        "queryAll/",
        "SELECT Id, Name, IsDeleted FROM Account",
        None,
    )
    .await;
    assert_eq!(r.body["totalSize"], 2, "{}", r.text);
    let r = q(&ctx, "query", "SELECT COUNT() FROM Account", None).await;
    assert_eq!(r.body, json!({"totalSize": 1, "done": true, "records": []}));
}

#[tokio::test]
async fn query_errors() {
    let ctx = start().await;
    let r = q(&ctx, "query", "SELECT Id FROM Nope__c", None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_TYPE");
    assert!(
        r.message()
            .contains("sObject type 'Nope__c' is not supported"),
        "{}",
        r.message()
    );
    let r = ctx.get("query").await;
    assert_eq!(r.error_code(), "MALFORMED_QUERY");
    let r = q(&ctx, "query", "SELEC Id FROM Lead", None).await;
    assert_eq!((r.status, r.error_code()), (400, "MALFORMED_QUERY"));
    let r = ctx.get("query/01gEm0000000001-2000").await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_QUERY_LOCATOR"));
    let r = ctx.get("query/garbage").await;
    assert_eq!(r.error_code(), "INVALID_QUERY_LOCATOR");
    assert_eq!(ctx.emu.api_calls(), 5);
}

#[tokio::test]
async fn an_unknown_object_error_carries_the_excerpt() {
    let ctx = start().await;
    let soql = "SELECT Name,BillingCity FROM Accout";
    let r = q(&ctx, "query", soql, None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_TYPE");
    let expected = format!(
        "\n{soql}\n{caret:>30}\nERROR at Row:1:Column:30\nsObject type 'Accout' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
        caret = "^"
    );
    assert_eq!(r.message(), expected);
}

#[tokio::test]
async fn next_records_url_locators_are_18_character_ids() {
    let ctx = start().await;
    for i in 0..201 {
        ctx.emu
            .insert_record("Account", json!({"Name": format!("A{i}")}))
            .unwrap();
    }
    let r = q(&ctx, "query", "SELECT Name FROM Account", Some(200)).await;
    let next = r.body["nextRecordsUrl"].as_str().unwrap();
    let tail = next
        .strip_prefix(&format!("/services/data/v{V}/query/"))
        .unwrap();
    let (locator, offset) = tail.split_once('-').unwrap();
    assert_eq!(locator.len(), 18, "{next}");
    assert!(locator.starts_with("01g"));
    assert_eq!(offset, "200");
    let page = ctx.get(next).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["records"].as_array().unwrap().len(), 1);
}

/// `=` and `IN` on Id and e-mail fields are answered from the index: the same rows a scan
/// gives (case-insensitive e-mail, other conjuncts still applied, deleted rows only in queryAll).
#[tokio::test]
async fn indexed_equality_and_in_give_the_scan_results() {
    let ctx = start().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let company = if i % 2 == 0 { "Even" } else { "Odd" };
        ids.push(
            ctx.emu
                .insert_record("Lead", json!({"LastName": format!("L{i}"), "Company": company, "Email": format!("u{i}@x.io")}))
                .unwrap(),
        );
    }
    assert_eq!(
        ctx.delete(&format!("sobjects/Lead/{}", ids[4]))
            .await
            .status,
        204
    );
    let names = |r: &support::Resp| -> Vec<String> {
        r.body["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["LastName"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = q(&ctx, "query", "SELECT LastName FROM Lead WHERE Email IN ('U2@X.IO','u3@x.io','u4@x.io','nobody@x.io') ORDER BY LastName", None).await;
    assert_eq!(names(&r), ["L2", "L3"]);
    let r = q(
        &ctx,
        "query",
        "SELECT LastName FROM Lead WHERE Email IN ('u2@x.io','u3@x.io') AND Company = 'Odd'",
        None,
    )
    .await;
    assert_eq!(names(&r), ["L3"]);
    let r = q(
        &ctx,
        "queryAll",
        "SELECT LastName FROM Lead WHERE Email = 'u4@x.io'",
        None,
    )
    .await;
    assert_eq!(names(&r), ["L4"]);
    let soql = format!("SELECT LastName FROM Lead WHERE Id = '{}'", &ids[9][..15]);
    let r = q(&ctx, "query", &soql, None).await;
    assert_eq!(names(&r), ["L9"]);
    let r = q(
        &ctx,
        "query",
        "SELECT COUNT() FROM Lead WHERE Email = 'u10@x.io'",
        None,
    )
    .await;
    assert_eq!(r.body["totalSize"], 1);
}

/// Parent relationship paths (divergence 9): `Account.Name` on Contact in SELECT, WHERE and
/// ORDER BY, nested in the output as Salesforce renders a parent relationship.
#[tokio::test]
async fn parent_relationship_paths_in_select_where_and_order_by() {
    let ctx = start().await;
    let acme = ctx
        .emu
        .insert_record("Account", json!({"Name": "Acme"}))
        .unwrap();
    let beta = ctx
        .emu
        .insert_record("Account", json!({"Name": "Beta"}))
        .unwrap();
    ctx.emu
        .insert_record("Contact", json!({"LastName": "A", "AccountId": beta}))
        .unwrap();
    ctx.emu
        .insert_record("Contact", json!({"LastName": "B", "AccountId": acme}))
        .unwrap();
    ctx.emu
        .insert_record("Contact", json!({"LastName": "C"}))
        .unwrap();

    let r = q(
        &ctx,
        "query",
        "SELECT LastName, Account.Name FROM Contact WHERE Account.Name = 'acme'",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = &r.body["records"][0];
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(rec["LastName"], "B");
    assert_eq!(
        rec["Account"],
        json!({"attributes": {"type": "Account", "url": format!("/services/data/v{V}/sobjects/Account/{acme}")}, "Name": "Acme"})
    );
    assert!(rec.get("Account.Name").is_none());

    let r = q(
        &ctx,
        "query",
        "SELECT LastName, Account.Name FROM Contact ORDER BY Account.Name NULLS LAST",
        None,
    )
    .await;
    let rows = r.body["records"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|x| x["LastName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["B", "A", "C"]);
    assert_eq!(
        rows[2]["Account"],
        Value::Null,
        "an empty lookup renders as null"
    );

    let r = q(&ctx, "query", "SELECT Foo.Name FROM Contact", None).await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_FIELD"));
    assert!(
        r.message().contains("Didn't understand relationship 'Foo'"),
        "{}",
        r.message()
    );
    let r = q(&ctx, "query", "SELECT Account.Nope FROM Contact", None).await;
    assert_eq!((r.status, r.error_code()), (400, "INVALID_FIELD"));
}
