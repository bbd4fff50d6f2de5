//! End-to-end against the in-process emulator (an independent reading of the Salesforce docs):
//! real refresh-token login, CRUD, upsert, paging, Collections, token expiry and injected faults.
//! API-call counts of the client and the emulator must agree.
// Field assignment keeps working whether or not the emulator's config structs are non_exhaustive.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::json;
use sfdc_emulator::{Emulator, EmulatorConfig, FaultConfig, FieldDef, FieldType};
use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
use sfdc_rest::{Client, ErrorCode, FixedJitter, Record, RetryConfig, UpsertOutcome};
use sfdc_test_support::RecordingSleeper;

async fn start(faults: FaultConfig) -> Emulator {
    let mut config = EmulatorConfig::default();
    config.faults = faults;
    let emulator = Emulator::start(config).await.unwrap();
    emulator
        .add_field(
            "Account",
            FieldDef::new("Ext_Id__c", FieldType::String)
                .length(40)
                .external_id()
                .unique(),
        )
        .unwrap();
    emulator
}

async fn connect(emulator: &Emulator, retry: RetryConfig) -> Client {
    let config = emulator.config();
    let tokens = RefreshTokenSource::builder()
        .login_host(LoginHost::insecure_loopback_token_url(emulator.token_url()).unwrap())
        .client_id(config.client_id.clone())
        .client_secret(config.client_secret.clone())
        .refresh_token(emulator.refresh_token())
        .build()
        .unwrap();
    Client::builder()
        .token_source(tokens)
        .allow_insecure_loopback(true)
        .retry(retry)
        .sleeper(Arc::new(RecordingSleeper::default()))
        .jitter(Arc::new(FixedJitter(0.0)))
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn crud_upsert_query_and_collections_against_the_emulator() {
    let emulator = start(FaultConfig::default()).await;
    let client = connect(&emulator, RetryConfig::default()).await;
    assert_eq!(
        client.instance_url().as_str().trim_end_matches('/'),
        emulator.instance_url()
    );

    let id = client
        .create("Account", &json!({"Name": "Acme", "Ext_Id__c": "A-1"}))
        .await
        .unwrap();
    let record = client.retrieve("Account", &id, &["Name"]).await.unwrap();
    assert_eq!(record["Name"], "Acme");
    client
        .update("Account", &id, &json!({"Name": "Acme 2"}))
        .await
        .unwrap();
    assert_eq!(emulator.record("Account", &id).unwrap()["Name"], "Acme 2");

    let updated = client
        .upsert("Account", "Ext_Id__c", "A-1", &json!({"Name": "Acme 3"}))
        .await
        .unwrap();
    assert!(
        matches!(updated, UpsertOutcome::Updated { .. }),
        "{updated:?}"
    );
    let created = client
        .upsert("Account", "Ext_Id__c", "A/2 é", &json!({"Name": "Slash"}))
        .await
        .unwrap();
    let UpsertOutcome::Created { id: slash_id } = created else {
        panic!("expected Created, got {created:?}");
    };
    assert_eq!(
        emulator.record("Account", &slash_id).unwrap()["Ext_Id__c"],
        "A/2 é"
    );

    let records: Vec<Record> = (0..250)
        .map(|i| serde_json::from_value(json!({"Name": format!("Bulk {i:03}")})).unwrap())
        .collect();
    let results = client
        .create_many("Account", &records, false)
        .await
        .unwrap();
    assert_eq!(results.len(), 250);
    assert!(results.iter().all(|r| r.success && r.id.is_some()));
    let bad: Vec<Record> = vec![
        serde_json::from_value(json!({"Name": "ok"})).unwrap(),
        serde_json::from_value(json!({"Nope__c": 1})).unwrap(),
    ];
    let mixed = client.create_many("Account", &bad, false).await.unwrap();
    assert!(mixed[0].success);
    assert!(!mixed[1].success && !mixed[1].errors.is_empty());

    let names: Vec<String> = client
        .query_stream_with(
            "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk%' ORDER BY Name",
            sfdc_rest::QueryOptions::default().with_batch_size(200),
        )
        .map_ok(|r| r["Name"].as_str().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names.len(), 250);
    assert_eq!(names[0], "Bulk 000");
    assert_eq!(names[249], "Bulk 249");
    let counts = emulator.api_call_counts();
    assert_eq!(counts.get("query_more"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("collections"), Some(&3), "{counts:?}");

    let err = client
        .query("SELECT Id FROM Account WHERE")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::BAD_REQUEST));

    client.delete("Account", &id).await.unwrap();
    let err = client.retrieve("Account", &id, &[]).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");

    let describe = client.describe("Account").await.unwrap();
    assert!(describe.field("Ext_Id__c").unwrap().external_id);

    assert_eq!(client.api_calls(), emulator.api_calls());
    let usage = client.api_usage().unwrap();
    assert_eq!(usage.used, emulator.api_calls());
}

#[tokio::test]
async fn expired_tokens_are_refreshed_once() {
    let emulator = start(FaultConfig::default()).await;
    let client = connect(&emulator, RetryConfig::default()).await;
    client.query("SELECT Id FROM Account").await.unwrap();
    let before = emulator.token_requests();
    emulator.expire_tokens();
    let calls = (0..4).map(|_| {
        let client = client.clone();
        async move { client.query("SELECT Id FROM Account").await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(emulator.token_requests(), before + 1);
}

#[tokio::test]
async fn dropped_connection_after_commit_never_duplicates_a_create() {
    let mut faults = FaultConfig::default();
    faults.drop_after_commit = 1.0;
    let emulator = start(faults).await;
    let client = connect(&emulator, RetryConfig::default()).await;
    let err = client
        .create("Account", &json!({"Name": "Once"}))
        .await
        .unwrap_err();
    assert!(err.was_sent(), "{err:?}");
    assert!(
        err.is_outcome_unknown(),
        "a lost create response leaves the outcome unknown: {err:?}"
    );
    assert!(
        !err.is_retryable(),
        "a committed create must not be reported retryable: {err:?}"
    );
    assert!(err.to_string().contains("look the record up"), "{err}");
    let once: Vec<_> = emulator
        .records("Account")
        .into_iter()
        .filter(|r| r["Name"] == "Once")
        .collect();
    assert_eq!(
        once.len(),
        1,
        "the create committed once and was not resent"
    );
}

#[tokio::test]
async fn lock_and_unavailable_faults_are_retried_for_idempotent_calls() {
    let mut faults = FaultConfig::default();
    faults.server_unavailable = 0.3;
    faults.unable_to_lock_row = 0.3;
    let emulator = start(faults).await;
    let client = connect(
        &emulator,
        RetryConfig {
            max_attempts: 10,
            ..RetryConfig::default()
        },
    )
    .await;
    let mut lock_errors = 0;
    for i in 0..20 {
        let out = client
            .upsert(
                "Account",
                "Ext_Id__c",
                &format!("F-{i}"),
                &json!({"Name": format!("Fault {i}")}),
            )
            .await
            .unwrap();
        assert!(matches!(out, UpsertOutcome::Created { .. }));
    }
    let mut created = 0;
    for i in 0..20 {
        match client
            .create("Account", &json!({"Name": format!("Create {i}")}))
            .await
        {
            Ok(_) => created += 1,
            Err(e) => {
                // Lock contention and 503 are refusals (nothing applied), so even a create is
                // retried; what is left after the attempts are spent is one of them.
                assert!(
                    e.error_code() == Some(&ErrorCode::UnableToLockRow)
                        || e.status() == Some(http::StatusCode::SERVICE_UNAVAILABLE),
                    "{e}"
                );
                lock_errors += 1;
            }
        }
    }
    assert!(created > 0);
    let creates = emulator
        .records("Account")
        .into_iter()
        .filter(|r| r["Name"].as_str().is_some_and(|n| n.starts_with("Create ")))
        .count();
    assert_eq!(creates, created, "retried creates landed exactly once");
    assert_eq!(created + lock_errors, 20);
    let faulted: Vec<_> = emulator
        .records("Account")
        .into_iter()
        .filter(|r| r["Name"].as_str().is_some_and(|n| n.starts_with("Fault ")))
        .collect();
    assert_eq!(faulted.len(), 20, "every upsert landed exactly once");
    assert_eq!(client.api_calls(), emulator.api_calls());
}
