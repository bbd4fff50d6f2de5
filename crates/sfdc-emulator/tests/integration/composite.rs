//! The Composite resource and Composite Batch: references, allOrNone, collation, limits,
//! API-call accounting, faults and per-record cost. Expected bodies are written from the
//! REST guide's description of the Composite resource.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_emulator::{EmulatorConfig, FaultConfig};
use support::{V, assert_json, start, start_with};

fn sub(method: &str, path: &str, reference: &str, body: Option<Value>) -> Value {
    let mut s = json!({"method": method, "url": format!("/services/data/v{V}/{path}"), "referenceId": reference});
    if let Some(b) = body {
        s["body"] = b;
    }
    s
}

fn halted_rollback() -> Value {
    json!([{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}])
}

#[tokio::test]
async fn references_chain_subrequests_and_the_call_counts_once() {
    let ctx = start().await;
    let body = json!({"compositeRequest": [
        sub("POST", "sobjects/Account", "refAccount", Some(json!({"Name": "Acme"}))),
        sub("POST", "sobjects/Contact", "refContact", Some(json!({"LastName": "Smith", "AccountId": "@{refAccount.id}"}))),
        sub("GET", "query?q=SELECT+Id,Name+FROM+Account+WHERE+Name='Acme'", "refQuery", None),
        sub("PATCH", "sobjects/Account/@{refQuery.records[0].Id}", "refUpdate", Some(json!({"Name": "Acme 2"}))),
        sub("GET", "sobjects/Contact/@{refContact.id}?fields=AccountId", "refGet", None),
    ]});
    let before = ctx.emu.api_calls();
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_json(&r);
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let refs: Vec<&str> = items
        .iter()
        .map(|i| i["referenceId"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "refAccount",
            "refContact",
            "refQuery",
            "refUpdate",
            "refGet"
        ]
    );

    let acc = items[0]["body"]["id"].as_str().unwrap().to_owned();
    assert_eq!(items[0]["httpStatusCode"], 201);
    assert_eq!(
        items[0]["body"],
        json!({"id": acc, "success": true, "errors": []})
    );
    assert_eq!(
        items[0]["httpHeaders"],
        json!({"Location": format!("/services/data/v{V}/sobjects/Account/{acc}")})
    );
    assert_eq!(items[2]["body"]["records"][0]["Id"], json!(acc));
    assert_eq!(items[3]["httpStatusCode"], 204);
    assert_eq!(items[3]["body"], Value::Null);
    assert_eq!(items[3]["httpHeaders"], json!({}));
    assert_eq!(items[4]["body"]["AccountId"], json!(acc));

    let contacts = ctx.emu.records("Contact");
    assert_eq!(contacts[0]["AccountId"], json!(acc));
    assert_eq!(ctx.emu.records("Account")[0]["Name"], "Acme 2");
    // One API call for the whole request; no subrequest counted on its own.
    assert_eq!(ctx.emu.api_calls(), before + 1);
    assert_eq!(ctx.calls("composite"), 1);
    assert_eq!(ctx.calls("sobject_create"), 0);
    assert_eq!(ctx.calls("query"), 0);
    assert_eq!(
        r.header("sforce-limit-info"),
        Some(format!("api-usage={}/15000", before + 1).as_str())
    );
}

#[tokio::test]
async fn all_or_none_rolls_back_every_subrequest() {
    let ctx = start().await;
    let existing = ctx.create("Account", &json!({"Name": "Keep"})).await;
    let body = json!({"allOrNone": true, "collateSubrequests": false, "compositeRequest": [
        sub("POST", "sobjects/Account", "a1", Some(json!({"Name": "New"}))),
        sub("PATCH", &format!("sobjects/Account/{existing}"), "u1", Some(json!({"Name": "Changed"}))),
        sub("POST", "sobjects/Lead", "bad", Some(json!({"LastName": "NoCompany"}))),
        sub("POST", "sobjects/Account", "a2", Some(json!({"Name": "Never"}))),
    ]});
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["compositeResponse"].as_array().unwrap();
    for i in [0, 1, 3] {
        assert_eq!(items[i]["httpStatusCode"], 400, "{}", items[i]);
        assert_eq!(items[i]["body"], halted_rollback());
    }
    assert_eq!(items[2]["httpStatusCode"], 400);
    assert_eq!(
        items[2]["body"],
        json!([{"message": "Required fields are missing: [Company]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Company"]}])
    );
    let accounts = ctx.emu.records("Account");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["Name"], "Keep");
    assert!(ctx.emu.records("Lead").is_empty());
}

#[tokio::test]
async fn without_all_or_none_only_dependents_of_a_failure_halt() {
    let ctx = start().await;
    let body = json!({"compositeRequest": [
        sub("POST", "sobjects/Lead", "bad", Some(json!({"LastName": "NoCompany"}))),
        sub("PATCH", "sobjects/Lead/@{bad.id}", "dependent", Some(json!({"Company": "C"}))),
        sub("POST", "sobjects/Account", "ok", Some(json!({"Name": "Independent"}))),
    ]});
    let r = ctx.post("composite", &body).await;
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items[0]["httpStatusCode"], 400);
    assert_eq!(items[1]["httpStatusCode"], 400);
    assert_eq!(items[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert!(
        items[1]["body"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bad.id")
    );
    assert_eq!(items[2]["httpStatusCode"], 201);
    assert_eq!(ctx.emu.records("Account").len(), 1);
}

#[tokio::test]
async fn limits_reject_the_whole_request() {
    let ctx = start().await;
    let many: Vec<Value> = (0..26)
        .map(|i| {
            sub(
                "POST",
                "sobjects/Account",
                &format!("r{i}"),
                Some(json!({"Name": format!("A{i}")})),
            )
        })
        .collect();
    let r = ctx
        .post("composite", &json!({"compositeRequest": many}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_code(), "LIMIT_EXCEEDED");
    assert!(r.message().contains("25"), "{}", r.message());

    let mut heavy: Vec<Value> = (0..6)
        .map(|i| {
            sub(
                "GET",
                "query?q=SELECT+Id+FROM+Account",
                &format!("q{i}"),
                None,
            )
        })
        .collect();
    let r = ctx
        .post("composite", &json!({"compositeRequest": heavy.clone()}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_code(), "LIMIT_EXCEEDED");
    // Five of them (collections included) are allowed.
    heavy.truncate(4);
    heavy.push(sub(
        "POST",
        "composite/sobjects",
        "c",
        Some(json!({"records": [{"attributes": {"type": "Account"}, "Name": "Coll"}]})),
    ));
    heavy.push(sub(
        "POST",
        "sobjects/Account",
        "s",
        Some(json!({"Name": "Single"})),
    ));
    let r = ctx
        .post("composite", &json!({"compositeRequest": heavy}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["compositeResponse"].as_array().unwrap().len(), 6);
    assert_eq!(ctx.emu.records("Account").len(), 2);
    // 25 is allowed.
    let exactly: Vec<Value> = (0..25)
        .map(|i| {
            sub(
                "POST",
                "sobjects/Account",
                &format!("r{i}"),
                Some(json!({"Name": format!("A{i}")})),
            )
        })
        .collect();
    let r = ctx
        .post("composite", &json!({"compositeRequest": exactly}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ctx.emu.records("Account").len(), 27);

    let dup = json!({"compositeRequest": [
        sub("GET", "limits", "x", None), sub("GET", "limits", "x", None)]});
    assert_eq!(ctx.post("composite", &dup).await.status, 400);
    let bad_url =
        json!({"compositeRequest": [{"method": "GET", "url": "limits", "referenceId": "x"}]});
    assert_eq!(ctx.post("composite", &bad_url).await.status, 400);
}

/// Creation order: ids are allocated in execution order, so their order shows it.
async fn execution_order(collate: Option<bool>, seed: u64) -> Vec<usize> {
    let mut cfg = EmulatorConfig::default();
    cfg.seed = seed;
    let ctx = start_with(cfg).await;
    let subs: Vec<Value> = (0..10)
        .map(|i| {
            sub(
                "POST",
                "sobjects/Account",
                &format!("r{i}"),
                Some(json!({"Name": format!("A{i}")})),
            )
        })
        .collect();
    let mut body = json!({"compositeRequest": subs});
    if let Some(c) = collate {
        body["collateSubrequests"] = json!(c);
    }
    let r = ctx.post("composite", &body).await;
    let ids: Vec<String> = r.body["compositeResponse"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["body"]["id"].as_str().unwrap().to_owned())
        .collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i].clone());
    order
}

#[tokio::test]
async fn collation_shuffles_unrelated_subrequests_unless_turned_off() {
    let received: Vec<usize> = (0..10).collect();
    assert_eq!(execution_order(Some(false), 1).await, received);
    // Default true from v49: a seeded shuffle, reproducible per seed.
    let a = execution_order(None, 1).await;
    assert_ne!(a, received);
    assert_eq!(execution_order(Some(true), 1).await, a);
}

#[tokio::test]
async fn faults_apply_to_subrequests_and_to_the_whole_call() {
    let mut cfg = EmulatorConfig::default();
    let mut f = FaultConfig::default();
    f.unable_to_lock_row = 1.0;
    cfg.faults = f;
    let ctx = start_with(cfg).await;
    let body = json!({"compositeRequest": [
        sub("POST", "sobjects/Account", "a", Some(json!({"Name": "A"}))),
        sub("GET", "limits", "l", None),
    ]});
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items[0]["httpStatusCode"], 400);
    assert_eq!(items[0]["body"][0]["errorCode"], "UNABLE_TO_LOCK_ROW");
    assert_eq!(items[1]["httpStatusCode"], 200);
    assert!(ctx.emu.records("Account").is_empty());

    let mut cfg = EmulatorConfig::default();
    let mut f = FaultConfig::default();
    f.server_unavailable = 1.0;
    cfg.faults = f;
    let ctx = start_with(cfg).await;
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 503);
    assert!(ctx.emu.records("Account").is_empty());
    assert_eq!(ctx.calls("composite"), 1);
}

#[tokio::test]
async fn batch_counts_each_subrequest_and_halts_on_error() {
    let ctx = start().await;
    let id = ctx.create("Account", &json!({"Name": "A"})).await;
    let before = ctx.emu.api_calls();
    let body = json!({"haltOnError": true, "batchRequests": [
        {"method": "PATCH", "url": format!("v{V}/sobjects/Account/{id}"), "richInput": {"Name": "B"}},
        {"method": "GET", "url": format!("v{V}/sobjects/Account/{id}?fields=Name")},
        {"method": "POST", "url": format!("v{V}/sobjects/Lead"), "richInput": {"LastName": "X"}},
        {"method": "GET", "url": format!("v{V}/limits")},
    ]});
    let r = ctx.post("composite/batch", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["hasErrors"], true);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0], json!({"statusCode": 204, "result": null}));
    assert_eq!(results[1]["statusCode"], 200);
    assert_eq!(results[1]["result"]["Name"], "B");
    assert_eq!(results[2]["statusCode"], 400);
    assert_eq!(results[3]["statusCode"], 412);
    assert_eq!(
        results[3]["result"][0]["errorCode"],
        "BATCH_PROCESSING_HALTED"
    );
    // Three subrequests ran, each one API call; the batch envelope is not one.
    assert_eq!(ctx.emu.api_calls(), before + 3);
    assert_eq!(ctx.calls("sobject_update"), 1);
    assert_eq!(ctx.calls("sobject_retrieve"), 1);
    assert_eq!(ctx.calls("composite"), 0);

    let many: Vec<Value> = (0..26)
        .map(|_| json!({"method": "GET", "url": format!("v{V}/limits")}))
        .collect();
    let r = ctx
        .post("composite/batch", &json!({"batchRequests": many}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "LIMIT_EXCEEDED");
}

/// Per-record cost on Tokio's paused (virtual) clock: an hour per record, far above any
/// other timer, so the virtual time elapsed counts the records processed serially.
#[tokio::test(start_paused = true)]
async fn record_cost_is_serial_within_a_call_and_concurrent_between_calls() {
    const COST: Duration = Duration::from_secs(3600);
    let mut cfg = EmulatorConfig::default();
    cfg.record_cost = COST;
    let ctx = start_with(cfg).await;
    let three = json!({"compositeRequest": [
        sub("POST", "sobjects/Account", "a", Some(json!({"Name": "A"}))),
        sub("POST", "composite/sobjects", "c", Some(json!({"records": [
            {"attributes": {"type": "Account"}, "Name": "B"},
            {"attributes": {"type": "Account"}, "Name": "C"}]}))),
        sub("GET", "limits", "l", None),
    ]});
    let before = tokio::time::Instant::now();
    let r = ctx.post("composite", &three).await;
    assert_eq!(r.status, 200);
    let hours = before.elapsed().as_secs() / 3600;
    assert_eq!(hours, 3, "one create + two collection records, serially");

    // Three separate single creates in parallel: one record's cost in all.
    let (x, y, z) = (
        json!({"Name": "X"}),
        json!({"Name": "Y"}),
        json!({"Name": "Z"}),
    );
    let before = tokio::time::Instant::now();
    let (a, b, c) = tokio::join!(
        ctx.post("sobjects/Account", &x),
        ctx.post("sobjects/Account", &y),
        ctx.post("sobjects/Account", &z),
    );
    assert_eq!((a.status, b.status, c.status), (201, 201, 201));
    assert_eq!(before.elapsed().as_secs() / 3600, 1);
    assert_eq!(ctx.emu.records("Account").len(), 6);
}

/// A Collections subrequest inside an all-or-none Composite call is rolled back with the call
/// (its own transaction is a savepoint of the call's).
#[tokio::test]
async fn all_or_none_rolls_back_collections_subrequests_too() {
    let ctx = start().await;
    let body = json!({"allOrNone": true, "collateSubrequests": false, "compositeRequest": [
        sub("POST", "composite/sobjects", "coll", Some(json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Account"}, "Name": "C1"},
            {"attributes": {"type": "Account"}, "Name": "C2"}]}))),
        sub("PATCH", "sobjects/Account/@{coll[0].id}", "upd", Some(json!({"Name": "C1 changed"}))),
        sub("POST", "sobjects/Lead", "bad", Some(json!({"LastName": "NoCompany"}))),
    ]});
    let r = ctx.post("composite", &body).await;
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items[0]["body"], halted_rollback());
    assert_eq!(items[1]["body"], halted_rollback());
    assert_eq!(items[2]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert!(ctx.emu.records("Account").is_empty());
    // Without the failing subrequest, everything commits and the reference into the
    // Collections result array resolved.
    let mut ok = body.clone();
    ok["compositeRequest"].as_array_mut().unwrap().pop();
    let r = ctx.post("composite", &ok).await;
    let items = r.body["compositeResponse"].as_array().unwrap();
    assert_eq!(items[1]["httpStatusCode"], 204, "{}", items[1]);
    let mut names: Vec<String> = ctx
        .emu
        .records("Account")
        .iter()
        .map(|a| a["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["C1 changed", "C2"]);
}

/// A query subrequest is not bound by the 16 KB request-URI limit of a plain GET, only by
/// the SOQL statement length (100,000 characters): a 30 KB lookup runs inside a Composite
/// call.
#[tokio::test]
async fn a_30_kb_query_runs_as_a_subrequest() {
    let ctx = start().await;
    for i in 0..3 {
        ctx.create(
            "Lead",
            &json!({"LastName": format!("L{i}"), "Company": "C", "Email": format!("lead{i}@example.com")}),
        )
        .await;
    }
    let values: Vec<String> = (0..1400)
        .map(|i| format!("'lead{i}@example.com'"))
        .collect();
    let soql = format!(
        "SELECT Id, Email FROM Lead WHERE Email IN ({})",
        values.join(",")
    );
    assert!(soql.len() > 30_000, "{}", soql.len());
    let q: String = soql
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = json!({"compositeRequest": [sub("GET", &format!("query?q={q}"), "lookup", None)]});
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let item = &r.body["compositeResponse"][0];
    assert_eq!(item["httpStatusCode"], 200, "{item}");
    assert_eq!(item["body"]["totalSize"], 3);
    assert_eq!(ctx.calls("composite"), 1);
    assert_eq!(
        ctx.calls("query"),
        0,
        "the subrequest is part of the one call"
    );
}

/// `--latency-ms` is one round trip: a Composite call of three subrequests waits it once
/// (paused clock; an hour of latency counts as one unit, far above any other timer).
#[tokio::test(start_paused = true)]
async fn latency_is_charged_once_per_composite_call() {
    const LATENCY: Duration = Duration::from_secs(3600);
    let mut cfg = EmulatorConfig::default();
    cfg.latency = LATENCY;
    let ctx = start_with(cfg).await;
    let body = json!({"compositeRequest": [
        sub("POST", "sobjects/Account", "a", Some(json!({"Name": "A"}))),
        sub("GET", "sobjects/Account/@{a.id}", "b", None),
        sub("GET", "limits", "c", None),
    ]});
    let before = tokio::time::Instant::now();
    let r = ctx.post("composite", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        before.elapsed().as_secs() / 3600,
        1,
        "one latency for the call"
    );
    // Two plain calls in parallel each wait their own latency, at the same time.
    let before = tokio::time::Instant::now();
    let (x, y) = tokio::join!(ctx.get("limits"), ctx.get("limits"));
    assert_eq!((x.status, y.status), (200, 200));
    assert_eq!(
        before.elapsed().as_secs() / 3600,
        1,
        "not serialised by a lock"
    );
}
