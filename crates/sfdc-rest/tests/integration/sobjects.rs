//! Wire tests of single-record operations: create, retrieve, update, delete, upsert.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use httpmock::Method::{DELETE, GET, PATCH, POST};
use httpmock::MockServer;
use serde_json::json;
use sfdc_rest::{Error, ErrorCode, UpsertOutcome};
use support::{DATA, JSON, bearer, client};

const CREATE_201: &str = include_str!("../fixtures/sobjects/create_201.json");
const RETRIEVE_200: &str = include_str!("../fixtures/sobjects/retrieve_200.json");
const UPSERT_201: &str = include_str!("../fixtures/sobjects/upsert_201_created.json");
const UPSERT_200: &str = include_str!("../fixtures/sobjects/upsert_200_updated.json");
const UPSERT_300: &str = include_str!("../fixtures/sobjects/upsert_300_multiple.json");
const NOT_FOUND: &str = include_str!("../fixtures/errors/not_found_404.json");
const DELETED: &str = include_str!("../fixtures/errors/entity_is_deleted_404.json");
const REQUIRED: &str = include_str!("../fixtures/errors/required_field_missing_400.json");

#[tokio::test]
async fn create_201_returns_id() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("{DATA}/sobjects/Account"))
                .header("authorization", bearer())
                .header("content-type", "application/json")
                .json_body(json!({"Name": "Acme", "NumberOfEmployees": 3}));
            then.status(201)
                .header("content-type", JSON)
                .body(CREATE_201);
        })
        .await;
    let client = client(&server);
    let id = client
        .create("Account", &json!({"Name": "Acme", "NumberOfEmployees": 3}))
        .await
        .unwrap();
    assert_eq!(id, "001D000000IqhSLIAZ");
    mock.assert_async().await;
    assert_eq!(client.api_calls(), 1);
}

#[tokio::test]
async fn create_400_required_field_is_parsed_and_not_retried() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(400).header("content-type", JSON).body(REQUIRED);
        })
        .await;
    let err = client(&server)
        .create("Account", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST));
    assert_eq!(err.error_code(), Some(&ErrorCode::RequiredFieldMissing));
    assert_eq!(err.api_errors()[0].fields, vec!["Name".to_owned()]);
    assert_eq!(
        err.api_errors()[0].message,
        "Required fields are missing: [Name]"
    );
    assert!(!err.is_retryable() && !err.is_auth() && !err.is_not_found());
    assert!(err.to_string().contains("REQUIRED_FIELD_MISSING"));
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn retrieve_with_fields() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/001D000000IqhSLIAZ"))
                .query_param("fields", "Name,Phone")
                .header("authorization", bearer());
            then.status(200)
                .header("content-type", JSON)
                .body(RETRIEVE_200);
        })
        .await;
    let record = client(&server)
        .retrieve("Account", "001D000000IqhSLIAZ", &["Name", "Phone"])
        .await
        .unwrap();
    assert_eq!(record["Name"], "Acme");
    assert_eq!(record["Phone"], serde_json::Value::Null);
    assert_eq!(record["attributes"]["type"], "Account");
    mock.assert_async().await;
}

#[tokio::test]
async fn retrieve_404_not_found() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/001D000000IqhSLIAZ"))
                .query_param_missing("fields");
            then.status(404)
                .header("content-type", JSON)
                .body(NOT_FOUND);
        })
        .await;
    let err = client(&server)
        .retrieve("Account", "001D000000IqhSLIAZ", &[])
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.error_code(), Some(&ErrorCode::NotFound));
    assert_eq!(
        err.api_errors()[0].message,
        "The requested resource does not exist"
    );
    // A safe request, but 404 is not retried.
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn update_204() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(format!("{DATA}/sobjects/Account/001D000000IqhSLIAZ"))
                .json_body(json!({"Phone": "555-0100", "Fax": null}));
            then.status(204);
        })
        .await;
    client(&server)
        .update(
            "Account",
            "001D000000IqhSLIAZ",
            &json!({"Phone": "555-0100", "Fax": null}),
        )
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn delete_204_and_already_deleted_404() {
    let server = MockServer::start_async().await;
    let ok = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(format!("{DATA}/sobjects/Account/001000000000001AAA"));
            then.status(204);
        })
        .await;
    let gone = server
        .mock_async(|when, then| {
            when.method(DELETE)
                .path(format!("{DATA}/sobjects/Account/001000000000002AAA"));
            then.status(404).header("content-type", JSON).body(DELETED);
        })
        .await;
    let client = client(&server);
    client
        .delete("Account", "001000000000001AAA")
        .await
        .unwrap();
    let err = client
        .delete("Account", "001000000000002AAA")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.error_code(), Some(&ErrorCode::EntityIsDeleted));
    ok.assert_async().await;
    gone.assert_calls_async(1).await;
}

async fn upsert_with(status: u16, body: &'static str) -> (sfdc_rest::Result<UpsertOutcome>, usize) {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path(format!("{DATA}/sobjects/Contact/Ext_Id__c/c-42"))
                .json_body(json!({"LastName": "Doe"}));
            let then = then.status(status);
            if !body.is_empty() {
                then.header("content-type", JSON).body(body);
            }
        })
        .await;
    let out = client(&server)
        .upsert("Contact", "Ext_Id__c", "c-42", &json!({"LastName": "Doe"}))
        .await;
    let hits = mock.calls_async().await;
    (out, hits)
}

#[tokio::test]
async fn upsert_201_created() {
    let (out, hits) = upsert_with(201, UPSERT_201).await;
    assert_eq!(
        out.unwrap(),
        UpsertOutcome::Created {
            id: "003D000000QXQ1aIAH".into()
        }
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn upsert_200_updated() {
    let (out, _) = upsert_with(200, UPSERT_200).await;
    assert_eq!(
        out.unwrap(),
        UpsertOutcome::Updated {
            id: Some("003D000000QXQ1aIAH".into())
        }
    );
}

#[tokio::test]
async fn upsert_204_updated_on_old_versions() {
    let (out, _) = upsert_with(204, "").await;
    assert_eq!(out.unwrap(), UpsertOutcome::Updated { id: None });
}

#[tokio::test]
async fn upsert_300_multiple_matches() {
    let (out, hits) = upsert_with(300, UPSERT_300).await;
    assert_eq!(
        out.unwrap(),
        UpsertOutcome::MultipleMatches {
            urls: vec![
                "/services/data/v62.0/sobjects/Contact/003D000000QXQ1aIAH".into(),
                "/services/data/v62.0/sobjects/Contact/003D000000QXQ1bIAH".into(),
            ]
        }
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn upsert_404_unknown_external_id_field() {
    let (out, hits) = upsert_with(404, NOT_FOUND).await;
    let err = out.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn external_id_value_is_percent_encoded() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(PATCH).is_true(|req| {
                req.uri().path()
                    == "/services/data/v62.0/sobjects/Contact/Ext_Id__c/a%2Fb%20c%3Fd%23%C3%A9"
            });
            then.status(201)
                .header("content-type", JSON)
                .body(UPSERT_201);
        })
        .await;
    let out = client(&server)
        .upsert(
            "Contact",
            "Ext_Id__c",
            "a/b c?d#é",
            &json!({"LastName": "Doe"}),
        )
        .await
        .unwrap();
    assert!(matches!(out, UpsertOutcome::Created { .. }));
    mock.assert_async().await;
}

#[tokio::test]
async fn invalid_names_are_rejected_before_sending() {
    let server = MockServer::start_async().await;
    let catch_all = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let client = client(&server);
    for (object, field) in [
        ("Account/../User", "Name"),
        ("Account", "Ext/Id"),
        ("", "X"),
    ] {
        let err = client
            .upsert(object, field, "v", &json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
    let err = client.retrieve("Account", "..", &[]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    let err = client
        .retrieve("Account", "001000000000001AAA", &["Name;DROP"])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    catch_all.assert_calls_async(0).await;
    assert_eq!(client.api_calls(), 0);
}

#[tokio::test]
async fn an_undecodable_201_to_a_create_is_outcome_unknown_and_to_a_read_retryable() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(format!("{DATA}/sobjects/Account"));
            then.status(201)
                .header("content-type", JSON)
                .body(r#"{"id":"001"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{DATA}/sobjects/Account/001000000000001AAA"));
            then.status(200).header("content-type", JSON).body("[");
        })
        .await;
    let client = client(&server);
    let err = client
        .create("Account", &serde_json::json!({"Name": "A"}))
        .await
        .unwrap_err();
    assert!(err.is_outcome_unknown() && !err.is_retryable(), "{err:?}");
    let err = client
        .retrieve("Account", "001000000000001AAA", &[])
        .await
        .unwrap_err();
    assert!(err.is_retryable() && !err.is_outcome_unknown(), "{err:?}");
}
