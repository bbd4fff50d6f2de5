//! Salesforce headers configured on the builder go out with every API call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::POST;
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::{AutoAssign, SalesforceHeaders};
use support::{DATA, JSON, RecordingSleeper, builder};

#[tokio::test]
async fn configured_headers_are_sent_with_writes() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/sobjects/Lead"))
                .header("sforce-duplicate-rule-header", "allowSave=true")
                .header("sforce-auto-assign", "FALSE");
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"00Q000000000001EAA","success":true,"errors":[]}"#);
        })
        .await;
    let client = builder(&server, &RecordingSleeper::default())
        .salesforce_headers(
            SalesforceHeaders::new()
                .duplicate_rule_allow_save(true)
                .auto_assign(AutoAssign::Off),
        )
        .build()
        .unwrap();
    client
        .create("Lead", &json!({"LastName": "L", "Company": "C"}))
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn an_invalid_assignment_rule_id_fails_at_build() {
    let server = MockServer::start_async().await;
    let err = builder(&server, &RecordingSleeper::default())
        .salesforce_headers(SalesforceHeaders::new().auto_assign(AutoAssign::Rule("nope".into())))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("assignment rule id"), "{err}");
}
