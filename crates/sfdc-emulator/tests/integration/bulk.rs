//! Bulk API 2.0 ingest over HTTP: job lifecycle, CSV rules, result files, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sfdc_emulator::{Emulator, EmulatorConfig, FieldDef, FieldType};

struct Bulk {
    emu: Emulator,
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Bulk {
    /// An emulator whose result files keep input order, so tests can read rows by position
    /// (the default shuffles them; see `result_rows_are_shuffled_by_default`).
    async fn start() -> Self {
        let mut config = EmulatorConfig::default();
        config.bulk_results_in_input_order = true;
        Self::with_config(config).await
    }

    async fn with_config(config: EmulatorConfig) -> Self {
        let emu = Emulator::start(config).await.unwrap();
        let base = format!("{}/services/data/v62.0/jobs/ingest", emu.instance_url());
        let token = emu.access_token();
        Bulk {
            emu,
            http: reqwest::Client::new(),
            base,
            token,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        let resp = self
            .req(reqwest::Method::POST, "")
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    async fn create_ok(&self, body: Value) -> String {
        let (status, info) = self.create(body).await;
        assert_eq!(status, StatusCode::OK, "{info}");
        info["id"].as_str().unwrap().to_owned()
    }

    async fn upload(&self, id: &str, csv: &str) -> (StatusCode, String) {
        let resp = self
            .req(reqwest::Method::PUT, &format!("/{id}/batches"))
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    async fn patch_state(&self, id: &str, state: &str) -> (StatusCode, Value) {
        let resp = self
            .req(reqwest::Method::PATCH, &format!("/{id}"))
            .json(&json!({ "state": state }))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    async fn info(&self, id: &str) -> (StatusCode, Value) {
        let resp = self
            .req(reqwest::Method::GET, &format!("/{id}"))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    /// Polls job info until the job leaves UploadComplete/InProgress, as a client does.
    async fn wait(&self, id: &str) -> Value {
        for _ in 0..2_000 {
            let (status, info) = self.info(id).await;
            assert_eq!(status, StatusCode::OK);
            match info["state"].as_str().unwrap() {
                "UploadComplete" | "InProgress" => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                _ => return info,
            }
        }
        panic!("job {id} never finished");
    }

    /// Create, upload, close, wait: returns the final job info.
    async fn run(&self, job: Value, csv: &str) -> (String, Value) {
        let id = self.create_ok(job).await;
        assert_eq!(self.upload(&id, csv).await.0, StatusCode::CREATED);
        let (status, closed) = self.patch_state(&id, "UploadComplete").await;
        assert_eq!(status, StatusCode::OK, "{closed}");
        let info = self.wait(&id).await;
        (id, info)
    }

    /// Creates a job that must be refused with 400 and `error_code`; returns the error body.
    async fn create_rejected(&self, body: Value, error_code: &str) -> Value {
        let (status, body) = self.create(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body[0]["errorCode"], json!(error_code));
        body
    }

    /// Closes or aborts a job in a state that forbids it: 400 INVALIDJOBSTATE.
    async fn patch_state_rejected(&self, id: &str, state: &str) {
        let (status, body) = self.patch_state(id, state).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body[0]["errorCode"], json!("INVALIDJOBSTATE"));
    }

    async fn delete(&self, id: &str) -> reqwest::Response {
        self.req(reqwest::Method::DELETE, &format!("/{id}"))
            .send()
            .await
            .unwrap()
    }

    /// Makes `Account.Ext__c` an external-id text field.
    fn add_account_external_id(&self) {
        self.emu
            .add_field(
                "Account",
                FieldDef::new("Ext__c", FieldType::String).external_id(),
            )
            .unwrap();
    }

    /// The value of `field` of every stored Account, in storage order.
    fn account_values(&self, field: &str) -> Vec<Value> {
        self.emu
            .records("Account")
            .into_iter()
            .map(|r| r[field].clone())
            .collect()
    }

    async fn result(&self, id: &str, kind: &str) -> (StatusCode, String, String) {
        let resp = self
            .req(reqwest::Method::GET, &format!("/{id}/{kind}"))
            .send()
            .await
            .unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (resp.status(), ct, resp.text().await.unwrap())
    }

    async fn result_ok(&self, id: &str, kind: &str) -> String {
        let (status, ct, body) = self.result(id, kind).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(ct.starts_with("text/csv"), "{ct}");
        body
    }
}

/// A job-create body with only `object` and `operation`.
fn new_job(object: &str, operation: &str) -> Value {
    json!({ "object": object, "operation": operation })
}

/// Parses a result CSV into rows, asserting every field of every row is quoted.
/// Parses a result CSV, checking Salesforce's quoting: in the header line the `sf__` names
/// are quoted and the uploaded names echoed unquoted; every value of every row is quoted.
fn rows(csv_text: &str) -> Vec<Vec<String>> {
    let parse = |text: &str| -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut raw = csv::ByteRecord::new();
        while reader.read_byte_record(&mut raw).unwrap() {
            out.push(
                raw.iter()
                    .map(|f| String::from_utf8(f.to_vec()).unwrap())
                    .collect(),
            );
        }
        out
    };
    let (head, body) = csv_text.split_once('\n').unwrap_or((csv_text, ""));
    let mut out = parse(head);
    let expected_head = out[0]
        .iter()
        .map(|f| {
            if f.starts_with("sf__") {
                format!("\"{f}\"")
            } else {
                f.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(head, expected_head, "result CSV header quoting");
    let values = parse(body);
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for r in &values {
        writer.write_record(r).unwrap();
    }
    assert_eq!(
        String::from_utf8(writer.into_inner().unwrap()).unwrap(),
        body,
        "result CSV values are not fully quoted"
    );
    out.extend(values);
    out
}

#[tokio::test]
async fn create_returns_documented_job_info_and_job_is_listed() {
    let b = Bulk::start().await;
    let (status, info) = b
        .create(json!({"object": "account", "operation": "insert", "lineEnding": "LF"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = info["id"].as_str().unwrap();
    assert!(id.starts_with("750") && id.len() == 18, "{id}");
    assert_eq!(info["object"], json!("Account"), "canonical object name");
    assert_eq!(info["operation"], json!("insert"));
    assert_eq!(info["state"], json!("Open"));
    assert_eq!(info["apiVersion"], json!(62.0));
    assert!(info["apiVersion"].is_number());
    assert_eq!(
        info["contentUrl"],
        json!(format!("services/data/v62.0/jobs/ingest/{id}/batches"))
    );
    assert_eq!(info["contentType"], json!("CSV"));
    assert_eq!(info["lineEnding"], json!("LF"));
    assert_eq!(info["columnDelimiter"], json!("COMMA"));
    assert_eq!(info["concurrencyMode"], json!("Parallel"));

    let resp = b.req(reqwest::Method::GET, "").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let list: Value = resp.json().await.unwrap();
    assert_eq!(list["done"], json!(true));
    assert_eq!(list["nextRecordsUrl"], Value::Null);
    assert_eq!(list["records"].as_array().unwrap().len(), 1);
    assert_eq!(list["records"][0]["id"], json!(id));

    let (status, full) = b.info(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["jobType"], json!("V2Ingest"));
    // Fetched before any upload: no counters at all.
    assert!(full.get("numberRecordsProcessed").is_none(), "{full}");
    assert!(full.get("numberRecordsFailed").is_none(), "{full}");
    assert_eq!(b.emu.bulk_jobs().len(), 1);
    assert_eq!(b.emu.bulk_jobs()[0].state, "Open");
}

#[tokio::test]
async fn create_errors() {
    let b = Bulk::start().await;
    let body = b
        .create_rejected(new_job("Foo", "insert"), "INVALIDJOB")
        .await;
    assert_eq!(
        body[0]["message"],
        json!("InvalidJob : Unable to find object: Foo")
    );

    let body = b
        .create_rejected(new_job("Account", "merge"), "API_ERROR")
        .await;
    assert_eq!(
        body[0]["message"],
        json!("Invalid value: 'merge' supplied for property: 'operation'")
    );

    b.create_rejected(new_job("Account", "upsert"), "INVALIDJOB")
        .await;

    let (_, body) = b
        .create(json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}))
        .await;
    assert_eq!(
        body[0]["message"],
        json!("InvalidJob : Field name provided, Name does not match an External ID for Account")
    );

    let (status, body) = b
        .create(json!({"object": "Account", "operation": "insert", "contentType": "JSON"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["errorCode"], json!("API_ERROR"));
    assert!(b.emu.bulk_jobs().is_empty());
}

#[tokio::test]
async fn insert_with_good_and_bad_rows_reports_both_result_files() {
    let b = Bulk::start().await;
    let csv = "Name,NumberOfEmployees,Description\n\
               Acme,10,plain\n\
               ,5,no name\n\
               Globex,many,bad number\n\
               \"Foo, \"\"Inc\"\"\",3,\"two\nlines\"\n";
    let (id, info) = b.run(new_job("Account", "insert"), csv).await;
    assert_eq!(info["state"], json!("JobComplete"), "{info}");
    assert_eq!(info["numberRecordsProcessed"], json!(4));
    assert_eq!(info["numberRecordsFailed"], json!(2));
    assert!(info.get("errorMessage").is_none());

    let ok = rows(&b.result_ok(&id, "successfulResults").await);
    assert_eq!(
        ok[0],
        vec![
            "sf__Id",
            "sf__Created",
            "Name",
            "NumberOfEmployees",
            "Description"
        ]
    );
    assert_eq!(ok.len(), 3);
    let mut stored_names = Vec::new();
    for row in &ok[1..] {
        assert_eq!(row[1], "true");
        let rec = b
            .emu
            .record("Account", &row[0])
            .expect("created record exists");
        assert_eq!(rec["Name"], json!(row[2]));
        stored_names.push(row[2].clone());
    }
    assert_eq!(stored_names, vec!["Acme", "Foo, \"Inc\""]);
    assert_eq!(ok[2][4], "two\nlines");
    let acme = b.emu.record("Account", &ok[1][0]).unwrap();
    assert_eq!(acme["NumberOfEmployees"], json!(10));

    let failed = rows(&b.result_ok(&id, "failedResults/").await);
    assert_eq!(
        failed[0],
        vec![
            "sf__Id",
            "sf__Error",
            "Name",
            "NumberOfEmployees",
            "Description"
        ]
    );
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[1][0], "", "failed inserts have no id");
    assert_eq!(
        failed[1][1],
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    );
    assert_eq!(failed[1][2..], ["", "5", "no name"]);
    // A value of the wrong type names the column, the value, the SOAP type and the field.
    assert_eq!(
        failed[2][1],
        "INVALID_FIELD:Failed to deserialize field at col 2. Due to, 'many' is not a valid value for the type xsd:int:NumberOfEmployees --"
    );
    assert_eq!(failed[2][2], "Globex");

    assert_eq!(b.emu.records("Account").len(), 2);
    let unprocessed = b.result_ok(&id, "unprocessedrecords").await;
    assert_eq!(
        rows(&unprocessed),
        vec![vec!["Name", "NumberOfEmployees", "Description"]],
        "completed jobs have no unprocessed rows: header only"
    );

    let snap = &b.emu.bulk_jobs()[0];
    assert_eq!(snap.state, "JobComplete");
    assert_eq!(snap.number_records_processed, 4);
    assert_eq!(snap.number_records_failed, 2);
}

#[tokio::test]
async fn update_applies_na_as_null_and_leaves_empty_cells_unchanged() {
    let b = Bulk::start().await;
    let id1 = b
        .emu
        .insert_record(
            "Account",
            json!({"Name": "A", "Phone": "123", "Website": "a.example", "NumberOfEmployees": 7}),
        )
        .unwrap();
    let csv = format!(
        "Id,Phone,Website,NumberOfEmployees\n{},#N/A,,8\n,555,,\n001xx,1,,\n",
        &id1[..15]
    );
    let (job, info) = b.run(new_job("Account", "update"), &csv).await;
    assert_eq!(info["numberRecordsProcessed"], json!(3));
    assert_eq!(info["numberRecordsFailed"], json!(2));
    let rec = b.emu.record("Account", &id1).unwrap();
    assert_eq!(rec["Phone"], Value::Null, "#N/A sets null");
    assert_eq!(
        rec["Website"],
        json!("a.example"),
        "empty cell leaves the value"
    );
    assert_eq!(rec["NumberOfEmployees"], json!(8));

    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    assert_eq!(ok[1][0], id1);
    assert_eq!(ok[1][1], "false");
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(
        failed[1][..2],
        ["", "MISSING_ARGUMENT:Id not specified in an update call:--"]
    );
    assert_eq!(failed[2][0], "001xx", "failed updates echo the id");
    assert!(
        failed[2][1].starts_with("MALFORMED_ID:"),
        "{}",
        failed[2][1]
    );
}

#[tokio::test]
async fn upsert_creates_updates_and_fails_multiple_matches() {
    let b = Bulk::start().await;
    b.add_account_external_id();
    let existing = b
        .emu
        .insert_record("Account", json!({"Name": "Old", "Ext__c": "E1"}))
        .unwrap();
    for n in ["Dup1", "Dup2"] {
        b.emu
            .insert_record("Account", json!({"Name": n, "Ext__c": "E3"}))
            .unwrap();
    }
    let csv = "Ext__c,Name\nE1,Renamed\nE2,Brand New\nE3,Ambiguous\n,No Key\n";
    let (job, info) = b
        .run(
            json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "ext__c"}),
            csv,
        )
        .await;
    assert_eq!(info["externalIdFieldName"], json!("Ext__c"));
    assert_eq!(info["numberRecordsProcessed"], json!(4));
    assert_eq!(info["numberRecordsFailed"], json!(2));

    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    assert_eq!(ok.len(), 3);
    assert_eq!(
        ok[1],
        vec![
            existing.clone(),
            "false".into(),
            "E1".into(),
            "Renamed".into()
        ]
    );
    assert_eq!(ok[2][1], "true");
    assert_eq!(ok[2][2..], ["E2", "Brand New"]);
    assert_eq!(
        b.emu.record("Account", &existing).unwrap()["Name"],
        json!("Renamed")
    );
    let created = b.emu.record("Account", &ok[2][0]).unwrap();
    assert_eq!(created["Ext__c"], json!("E2"));

    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert!(
        failed[1][1].starts_with("DUPLICATE_EXTERNAL_ID:Ext__c: more than one record found"),
        "{}",
        failed[1][1]
    );
    assert!(failed[1][1].ends_with(":Ext__c --"));
    assert_eq!(
        failed[2][1],
        "MISSING_ARGUMENT:Ext__c not specified:Ext__c --"
    );
    assert_eq!(b.emu.records("Account").len(), 4);
}

#[tokio::test]
async fn delete_removes_records_and_reports_bad_ids() {
    let b = Bulk::start().await;
    let keep = b
        .emu
        .insert_record("Account", json!({"Name": "Keep"}))
        .unwrap();
    let gone = b
        .emu
        .insert_record("Account", json!({"Name": "Gone"}))
        .unwrap();
    let csv = format!("Id\n{gone}\n001xx\n{gone}\n");
    let (job, info) = b.run(new_job("Account", "delete"), &csv).await;
    assert_eq!(info["numberRecordsProcessed"], json!(3));
    assert_eq!(info["numberRecordsFailed"], json!(2));
    let live: Vec<_> = b.account_values("Id");
    assert_eq!(live, vec![json!(keep)]);
    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    assert_eq!(ok[1], vec![gone.clone(), "false".into(), gone.clone()]);
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(failed[1][0], "001xx");
    assert_eq!(
        failed[1][1],
        "MALFORMED_ID:Account ID: id value of incorrect type: 001xx:Id --"
    );
    assert_eq!(failed[2][1], "ENTITY_IS_DELETED:entity is deleted:--");
}

#[tokio::test]
async fn unknown_column_fails_the_job_and_leaves_rows_unprocessed() {
    let b = Bulk::start().await;
    let (job, info) = b
        .run(new_job("Account", "insert"), "Name,Foo__c\nA,1\nB,2\n")
        .await;
    assert_eq!(info["state"], json!("Failed"));
    assert_eq!(
        info["errorMessage"],
        json!("InvalidBatch : Field name not found : Foo__c")
    );
    assert_eq!(info["numberRecordsProcessed"], json!(0));
    assert!(b.emu.records("Account").is_empty());
    for kind in [
        "unprocessedrecords",
        "unprocessedRecords/",
        "UNPROCESSEDRECORDS",
    ] {
        let un = rows(&b.result_ok(&job, kind).await);
        assert_eq!(
            un,
            vec![vec!["Name", "Foo__c"], vec!["A", "1"], vec!["B", "2"]],
            "{kind}"
        );
    }
    let (status, _, _) = b.result(&job, "nosuchresults").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn second_upload_is_rejected() {
    let b = Bulk::start().await;
    let id = b.create_ok(new_job("Account", "insert")).await;
    let (status, body) = b.upload(&id, "Name\nA\n").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body.is_empty(), "upload answers 201 with an empty body");
    let (status, body) = b.upload(&id, "Name\nB\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body[0]["errorCode"], json!("BULK_API_ERROR"));
    assert!(
        body[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Found multipe contents for job")
    );
    b.patch_state(&id, "UploadComplete").await;
    let info = b.wait(&id).await;
    assert_eq!(
        info["numberRecordsProcessed"],
        json!(1),
        "only the first upload counts"
    );
    let names: Vec<_> = b.account_values("Name");
    assert_eq!(names, vec![json!("A")]);
}

#[tokio::test]
async fn abort_from_open_and_from_upload_complete() {
    let mut config = EmulatorConfig::default();
    // Long enough that the closed job is still UploadComplete when aborted.
    config.bulk_processing_delay = Duration::from_secs(600);
    let b = Bulk::with_config(config).await;

    let open = b.create_ok(new_job("Account", "insert")).await;
    b.upload(&open, "Name\nA\nB\n").await;
    let (status, info) = b.patch_state(&open, "Aborted").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["state"], json!("Aborted"));
    let un = rows(&b.result_ok(&open, "unprocessedrecords").await);
    assert_eq!(un, vec![vec!["Name"], vec!["A"], vec!["B"]]);
    b.patch_state_rejected(&open, "Aborted").await;

    let closed = b.create_ok(new_job("Account", "insert")).await;
    b.upload(&closed, "Name\nC\n").await;
    let (_, info) = b.patch_state(&closed, "UploadComplete").await;
    assert_eq!(info["state"], json!("UploadComplete"));
    assert!(info.get("contentUrl").is_none());
    assert_eq!(
        b.info(&closed).await.1["state"],
        json!("UploadComplete"),
        "clients must poll"
    );
    let (status, info) = b.patch_state(&closed, "Aborted").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["state"], json!("Aborted"));
    assert!(
        b.emu.records("Account").is_empty(),
        "aborted jobs write nothing"
    );
    b.patch_state_rejected(&closed, "UploadComplete").await;
}

#[tokio::test]
async fn aborting_a_completed_job_is_invalid_and_delete_removes_it() {
    let b = Bulk::start().await;
    let (id, info) = b.run(new_job("Account", "insert"), "Name\nA\n").await;
    assert_eq!(info["state"], json!("JobComplete"));
    let (status, body) = b.patch_state(&id, "Aborted").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!([{"errorCode": "INVALIDJOBSTATE", "message": "Aborting already Completed Job not allowed"}])
    );

    let open = b.create_ok(new_job("Account", "insert")).await;
    let resp = b.delete(&open).await;
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "open jobs cannot be deleted"
    );

    let resp = b.delete(&id).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(b.info(&id).await.0, StatusCode::NOT_FOUND);
    let resp = b.delete(&id).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], json!("NOT_FOUND"));
    assert_eq!(b.emu.bulk_jobs().len(), 1);
}

#[tokio::test]
async fn pipe_delimiter_and_crlf_line_endings() {
    let b = Bulk::start().await;
    let (job, info) = b
        .run(
            json!({"object": "Account", "operation": "insert",
                   "columnDelimiter": "PIPE", "lineEnding": "CRLF"}),
            "Name|Site\r\nA, Inc|x\r\n\"B|C\"|y\r\n",
        )
        .await;
    assert_eq!(info["columnDelimiter"], json!("PIPE"));
    assert_eq!(info["numberRecordsFailed"], json!(0));
    let text = b.result_ok(&job, "successfulResults").await;
    assert!(
        text.starts_with("\"sf__Id\"|\"sf__Created\"|Name|Site\n"),
        "{text}"
    );
    let mut names: Vec<_> = b
        .emu
        .records("Account")
        .into_iter()
        .map(|r| r["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["A, Inc", "B|C"]);
}

#[tokio::test]
async fn every_bulk_call_is_counted_as_bulk_ingest() {
    let b = Bulk::start().await;
    let (id, _) = b.run(new_job("Account", "insert"), "Name\nA\n").await;
    let before = b.emu.api_call_counts()["bulk_ingest"];
    b.result_ok(&id, "successfulResults").await;
    b.result_ok(&id, "failedResults").await;
    assert_eq!(b.emu.api_call_counts()["bulk_ingest"], before + 2);
    assert!(
        before >= 4,
        "create, upload, close and at least one poll: {before}"
    );
}

#[tokio::test]
async fn a_large_job_processes_every_row_once() {
    let b = Bulk::start().await;
    let rows_total = 5_000;
    let mut csv = String::from("Name,NumberOfEmployees\n");
    for n in 0..rows_total {
        // Every 100th row has no Name and fails.
        let name = if n % 100 == 99 {
            String::new()
        } else {
            format!("Row {n}")
        };
        csv.push_str(&format!("{name},{n}\n"));
    }
    let started = std::time::Instant::now();
    let (job, info) = b.run(new_job("Account", "insert"), &csv).await;
    eprintln!(
        "{rows_total}-row insert job: {:?} end to end",
        started.elapsed()
    );
    assert_eq!(info["numberRecordsProcessed"], json!(rows_total));
    assert_eq!(info["numberRecordsFailed"], json!(rows_total / 100));
    assert_eq!(
        b.emu.records("Account").len(),
        rows_total - rows_total / 100
    );
    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    assert_eq!(ok.len(), 1 + rows_total - rows_total / 100);
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(failed.len(), 1 + rows_total / 100);
}

#[tokio::test]
async fn relationship_columns_link_parents_by_external_id() {
    let b = Bulk::start().await;
    b.add_account_external_id();
    let parent = b
        .emu
        .insert_record("Account", json!({"Name": "Parent", "Ext__c": "A1"}))
        .unwrap();
    let (job, info) = b
        .run(
            new_job("Contact", "insert"),
            "LastName,Account.Ext__c\nDoe,a1\nRoe,ZZ\nPoe,\n",
        )
        .await;
    assert_eq!(info["state"], json!("JobComplete"), "{info}");
    assert_eq!(info["numberRecordsFailed"], json!(1));
    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    let doe = b.emu.record("Contact", &ok[1][0]).unwrap();
    assert_eq!(doe["AccountId"], json!(parent));
    let poe = b.emu.record("Contact", &ok[2][0]).unwrap();
    assert_eq!(poe["AccountId"], Value::Null, "an empty cell links nothing");
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(
        failed[1][1],
        "INVALID_FIELD:Foreign key external ID: ZZ not found for field Ext__c in entity Account:--"
    );

    // Only indexed (external id or Id) parent fields may be used.
    let (_, info) = b
        .run(
            new_job("Contact", "insert"),
            "LastName,Account.Name\nX,Parent\n",
        )
        .await;
    assert_eq!(info["state"], json!("Failed"));
    assert_eq!(
        info["errorMessage"],
        json!("InvalidBatch : Field name not found : Account.Name")
    );
}

#[tokio::test]
async fn a_bad_date_names_its_column_value_type_and_field() {
    let b = Bulk::start().await;
    let (job, info) = b
        .run(
            json!({"object": "Opportunity", "operation": "insert", "lineEnding": "LF"}),
            "Name,StageName,CloseDate\nDeal,Prospecting,2024-13-45\n",
        )
        .await;
    assert_eq!(info["numberRecordsFailed"], json!(1));
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(
        failed[1][1],
        "INVALID_FIELD:Failed to deserialize field at col 3. Due to, '2024-13-45' is not a valid value for the type xsd:date:CloseDate --"
    );
    assert_eq!(failed[1][2..], ["Deal", "Prospecting", "2024-13-45"]);
}

#[tokio::test]
async fn result_rows_are_shuffled_by_default_and_every_row_is_reported_once() {
    let b = Bulk::with_config(EmulatorConfig::default()).await;
    let mut csv = String::from("Name\n");
    let names: Vec<String> = (0..50).map(|i| format!("N{i:02}")).collect();
    for n in &names {
        csv.push_str(n);
        csv.push('\n');
    }
    let (job, _) = b
        .run(
            json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
            &csv,
        )
        .await;
    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    let got: Vec<String> = ok[1..].iter().map(|r| r[2].clone()).collect();
    assert_ne!(got, names, "rows must not come back in input order");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, names);
}

#[tokio::test]
async fn close_answers_the_short_job_info() {
    let b = Bulk::start().await;
    let id = b
        .create_ok(json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}))
        .await;
    assert_eq!(b.upload(&id, "Name\nA\n").await.0, StatusCode::CREATED);
    let (status, closed) = b.patch_state(&id, "UploadComplete").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(closed["state"], json!("UploadComplete"));
    assert_eq!(closed["apiVersion"], json!(62.0));
    for absent in [
        "contentUrl",
        "lineEnding",
        "columnDelimiter",
        "jobType",
        "numberRecordsProcessed",
        "numberRecordsFailed",
    ] {
        assert!(closed.get(absent).is_none(), "{absent} in {closed}");
    }
    let last = closed
        .as_object()
        .unwrap()
        .keys()
        .next_back()
        .unwrap()
        .clone();
    assert_eq!(last, "apiVersion");
}

/// Rows whose record has none of the header's fields (every cell empty). The Bulk API 2.0
/// guide says empty values are ignored (on update: the field is left unchanged) and that a
/// create must include every required field; it says nothing about a row with no value at
/// all, so such a row is read the conservative way: as any other row, with every field
/// absent. It fails alone with the error its operation gives a missing key or required
/// field, and never fails the job or its neighbours.
#[tokio::test]
async fn rows_with_no_values_fail_alone_as_their_operation_requires() {
    let b = Bulk::start().await;
    b.add_account_external_id();
    let existing = b
        .emu
        .insert_record(
            "Account",
            json!({"Name": "Kept", "Phone": "1", "Ext__c": "K1"}),
        )
        .unwrap();

    // Insert: no Name.
    let (job, info) = b
        .run(new_job("Account", "insert"), "Name,Phone\nA,2\n,\nB,\n")
        .await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["numberRecordsProcessed"], json!(3));
    assert_eq!(info["numberRecordsFailed"], json!(1));
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(failed.len(), 2, "header and the empty row");
    assert_eq!(
        failed[1],
        [
            "",
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --",
            "",
            ""
        ]
    );
    assert_eq!(b.emu.records("Account").len(), 3);

    // Update: an Id and no other value changes nothing but succeeds; no Id at all fails.
    let csv = format!("Id,Name,Phone\n{existing},,\n,,\n");
    let (job, info) = b.run(new_job("Account", "update"), &csv).await;
    assert_eq!(info["numberRecordsProcessed"], json!(2));
    assert_eq!(info["numberRecordsFailed"], json!(1));
    let rec = b.emu.record("Account", &existing).unwrap();
    assert_eq!((&rec["Name"], &rec["Phone"]), (&json!("Kept"), &json!("1")));
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(
        failed[1][..2],
        ["", "MISSING_ARGUMENT:Id not specified in an update call:--"]
    );

    // Upsert: no external id value.
    let (job, info) = b
        .run(
            json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext__c"}),
            "Ext__c,Name\n,\nK1,\n",
        )
        .await;
    assert_eq!(info["numberRecordsProcessed"], json!(2));
    assert_eq!(info["numberRecordsFailed"], json!(1));
    let failed = rows(&b.result_ok(&job, "failedResults").await);
    assert_eq!(
        failed[1][..2],
        ["", "MISSING_ARGUMENT:Ext__c not specified:Ext__c --"]
    );
    let ok = rows(&b.result_ok(&job, "successfulResults").await);
    assert_eq!(ok[1][..2], [existing.as_str(), "false"]);
    assert_eq!(b.emu.records("Account").len(), 3, "nothing created");
}
