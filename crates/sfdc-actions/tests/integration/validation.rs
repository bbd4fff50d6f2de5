//! Every per-event validation error: message, status 400, never retryable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sfdc_actions::{
    AccountConfig, Action, BulkSettings, ContactConfig, CustomObjectConfig, CustomObjectFields,
    Error, LeadConfig, Mapping, Operation, OpportunityConfig,
};

fn expect_event_error(action: &Action, event: Value) -> Error {
    let err = action.plan(&event).unwrap_err();
    assert!(err.is_event_error(), "{err}");
    assert!(!err.is_config_error());
    assert_eq!(err.status(), 400);
    assert!(!err.is_retryable());
    err
}

fn email_matcher() -> Mapping {
    Mapping::path("$.traits.email")
}

#[test]
fn lead_create_and_upsert_need_last_name_but_update_does_not() {
    let event = json!({"type": "identify", "traits": {"email": "a@b.c", "company": "Acme"}});
    for operation in [Operation::Create, Operation::Upsert] {
        let action = LeadConfig::default()
            .operation(operation)
            .record_matcher("Email", email_matcher())
            .compile()
            .unwrap();
        let err = expect_event_error(&action, event.clone());
        assert!(matches!(err, Error::MissingField { ref field, .. } if field == "LastName"));
        assert_eq!(
            err.to_string(),
            format!(
                "missing LastName: Lead records need a value for LastName to {operation}; map it or send it in the event"
            )
        );
    }
    let update = LeadConfig::default()
        .operation(Operation::Update)
        .record_matcher("Email", email_matcher())
        .compile()
        .unwrap();
    let plan = update.plan(&event).unwrap();
    assert!(!plan.fields.contains_key("LastName"));
    assert_eq!(plan.fields["Company"], "Acme");
}

#[test]
fn a_null_or_blank_required_field_counts_as_missing() {
    let action = LeadConfig::default().compile().unwrap();
    for last_name in [Value::Null, json!(""), json!("   ")] {
        let err = expect_event_error(&action, json!({"traits": {"last_name": last_name}}));
        assert_eq!(err.field(), Some("LastName"));
    }
}

#[test]
fn account_create_and_upsert_need_name() {
    for operation in [Operation::Create, Operation::Upsert] {
        let action = AccountConfig::default()
            .operation(operation)
            .record_matcher("AccountNumber", Mapping::path("$.groupId"))
            .compile()
            .unwrap();
        let err = expect_event_error(
            &action,
            json!({"type": "group", "groupId": "g1", "traits": {}}),
        );
        assert!(err.to_string().starts_with(&format!(
            "missing Name: Account records need a value for Name to {operation}"
        )));
        assert_eq!(err.field(), Some("Name"));
    }
}

#[test]
fn opportunity_create_and_upsert_need_name_stage_and_close_date() {
    let full = json!({"properties": {"name": "Deal", "stage_name": "Prospecting", "close_date": "2026-12-01"}});
    for operation in [Operation::Create, Operation::Upsert] {
        let action = OpportunityConfig::default()
            .operation(operation)
            .record_matcher("Name", Mapping::path("$.properties.name"))
            .compile()
            .unwrap();
        assert!(action.plan(&full).is_ok());
        for missing in ["name", "stage_name", "close_date"] {
            let mut event = full.clone();
            event["properties"].as_object_mut().unwrap().remove(missing);
            let err = expect_event_error(&action, event);
            let api = match missing {
                "name" => "Name",
                "stage_name" => "StageName",
                _ => "CloseDate",
            };
            assert_eq!(err.field(), Some(api), "{operation} without {missing}");
        }
    }
}

#[test]
fn contact_create_needs_last_name() {
    let action = ContactConfig::default().compile().unwrap();
    let err = expect_event_error(&action, json!({"traits": {"first_name": "Ann"}}));
    assert_eq!(err.field(), Some("LastName"));
}

#[test]
fn custom_object_create_update_upsert_need_at_least_one_field() {
    let event = json!({"traits": {"email": "a@b.c"}});
    for operation in [Operation::Create, Operation::Update, Operation::Upsert] {
        let action = CustomObjectConfig::default()
            .fields(CustomObjectFields::new("Invoice__c"))
            .operation(operation)
            .record_matcher("Email__c", email_matcher())
            .other_field("Amount__c", Mapping::path("$.properties.amount"))
            .compile()
            .unwrap();
        let err = expect_event_error(&action, event.clone());
        assert_eq!(
            err.to_string(),
            format!(
                "no fields: to {operation} Invoice__c records, map at least one field under other_fields"
            )
        );
    }
    let delete = CustomObjectConfig::default()
        .fields(CustomObjectFields::new("Invoice__c"))
        .operation(Operation::Delete)
        .record_matcher("Email__c", email_matcher())
        .compile()
        .unwrap();
    let plan = delete.plan(&event).unwrap();
    assert!(plan.fields.is_empty());
    assert_eq!(plan.matchers.len(), 1);
}

#[test]
fn update_upsert_and_delete_need_a_matcher_value() {
    for operation in [Operation::Update, Operation::Upsert, Operation::Delete] {
        let no_matchers = LeadConfig::default()
            .operation(operation)
            .compile()
            .unwrap();
        let err = expect_event_error(
            &no_matchers,
            json!({"traits": {"last_name": "Doe", "email": "a@b.c"}}),
        );
        assert!(matches!(err, Error::MissingMatchers { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "no record matchers: to {operation} Lead records, at least one record matcher needs a value to find them"
            )
        );
        let with_matcher = LeadConfig::default()
            .operation(operation)
            .record_matcher("Email", email_matcher())
            .compile()
            .unwrap();
        // Blank, null and missing values never become a lookup.
        for traits in [
            json!({"last_name": "Doe", "email": " "}),
            json!({"last_name": "Doe", "email": null}),
            json!({"last_name": "Doe"}),
        ] {
            let err = expect_event_error(&with_matcher, json!({ "traits": traits }));
            assert_eq!(
                err,
                Error::MissingMatcherValue {
                    object: "Lead".into(),
                    field: "Email".into()
                }
            );
            assert!(err.is_matcher_error());
            assert_eq!(err.field(), Some("Email"));
            assert!(err.to_string().starts_with(
                "record matcher Email has no value (missing or null) for this event, so no Lead record was looked up"
            ));
        }
    }
}

#[test]
fn match_empty_values_turns_a_missing_or_null_matcher_into_a_null_lookup() {
    let action = LeadConfig::default()
        .operation(Operation::Update)
        .record_matcher("Email", email_matcher())
        .match_empty_values(true)
        .compile()
        .unwrap();
    for traits in [json!({"email": null}), json!({})] {
        let plan = action.plan(&json!({ "traits": traits })).unwrap();
        assert_eq!(plan.matchers.len(), 1);
        assert_eq!(plan.matchers[0].value, Value::Null);
    }
    let config: sfdc_actions::ActionConfig =
        toml::from_str("action = \"lead\"\nmatch_empty_values = true").unwrap();
    match config {
        sfdc_actions::ActionConfig::Lead(c) => assert!(c.match_empty_values),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_matcher_value_that_is_an_object_or_array_is_rejected() {
    // The matcher reads a trait that no standard field maps, so only the matcher sees it.
    let action = LeadConfig::default()
        .operation(Operation::Update)
        .record_matcher("Email", Mapping::path("$.traits.lookup"))
        .compile()
        .unwrap();
    for (value, kind) in [
        (json!({"work": "a@b.c"}), "object"),
        (json!(["a@b.c"]), "array"),
    ] {
        let err = expect_event_error(&action, json!({"traits": {"lookup": value}}));
        assert_eq!(
            err,
            Error::InvalidMatcherValue {
                field: "Email".into(),
                kind
            }
        );
        assert_eq!(
            err.to_string(),
            format!(
                "Email finds the record, so it must be a string, number, boolean or null, but the event gave an {kind}"
            )
        );
    }
    // Scalars are accepted (null only with match_empty_values).
    for value in [json!("a@b.c"), json!(7), json!(true)] {
        let plan = action
            .plan(&json!({"traits": {"lookup": value.clone()}}))
            .unwrap();
        assert_eq!(plan.matchers[0].value, value);
    }
}

#[test]
fn values_that_cannot_be_coerced_are_per_event_errors() {
    let account = AccountConfig::default().compile().unwrap();
    let err = expect_event_error(
        &account,
        json!({"traits": {"name": "Acme", "employees": "lots"}}),
    );
    assert_eq!(err.field(), Some("NumberOfEmployees"));
    assert!(err.to_string().contains("expects an integer"), "{err}");

    let opportunity = OpportunityConfig::default().compile().unwrap();
    let base = json!({"properties": {"name": "D", "stage_name": "S", "close_date": "2026-12-01", "amount": 10}});
    for (key, bad, field) in [
        ("amount", json!("ten"), "Amount"),
        ("close_date", json!("next week"), "CloseDate"),
        ("amount", json!({"value": 1}), "Amount"),
    ] {
        let mut event = base.clone();
        event["properties"][key] = bad;
        let err = expect_event_error(&opportunity, event);
        assert_eq!(err.field(), Some(field));
    }
    // A standard field named in Other Fields keeps its type.
    let account = AccountConfig::default()
        .other_field("NumberOfEmployees", Mapping::path("$.traits.size"))
        .compile()
        .unwrap();
    let plan = account
        .plan(&json!({"traits": {"name": "Acme", "size": "250"}}))
        .unwrap();
    assert_eq!(plan.fields["NumberOfEmployees"], json!(250));
    let err = expect_event_error(&account, json!({"traits": {"name": "Acme", "size": "big"}}));
    assert_eq!(err.field(), Some("NumberOfEmployees"));
}

#[test]
fn bulk_upsert_needs_an_external_id_value_and_bulk_update_tolerates_a_missing_id() {
    let upsert = LeadConfig::default()
        .operation(Operation::Upsert)
        .bulk(BulkSettings {
            enabled: true,
            upsert_external_id_name: Some("Segment_Id__c".into()),
            upsert_external_id_value: Some(Mapping::path("$.userId")),
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
    let err = expect_event_error(&upsert, json!({"traits": {"last_name": "Doe"}}));
    assert_eq!(
        err,
        Error::MissingExternalId {
            field: "Segment_Id__c".into()
        }
    );
    let plan = upsert
        .plan(&json!({"userId": "u1", "traits": {"last_name": "Doe"}}))
        .unwrap();
    let bulk = plan.bulk.unwrap();
    assert_eq!(bulk.batch_size, 1000);
    assert_eq!(bulk.external_id.unwrap().value, "u1");
    assert!(plan.matchers.is_empty(), "bulk needs no record matchers");
    let err = expect_event_error(
        &upsert,
        json!({"userId": ["u1"], "traits": {"last_name": "Doe"}}),
    );
    assert!(matches!(err, Error::InvalidMatcherValue { .. }));

    let update = LeadConfig::default()
        .operation(Operation::Update)
        .bulk(BulkSettings {
            enabled: true,
            batch_size: 250,
            update_record_id: Some(Mapping::path("$.traits.sf_id")),
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
    let plan = update.plan(&json!({"traits": {"email": "a@b.c"}})).unwrap();
    let bulk = plan.bulk.unwrap();
    assert_eq!((bulk.batch_size, bulk.record_id), (250, None));
    let plan = update
        .plan(&json!({"traits": {"sf_id": "00Q000000000001AAA"}}))
        .unwrap();
    assert_eq!(
        plan.bulk.unwrap().record_id,
        Some(json!("00Q000000000001AAA"))
    );
}

#[test]
fn create_ignores_matchers_and_delete_sends_no_fields() {
    let event = json!({"traits": {"last_name": "Doe", "email": "d@x.y"}});
    let create = LeadConfig::default()
        .record_matcher("Email", email_matcher())
        .compile()
        .unwrap();
    assert!(create.plan(&event).unwrap().matchers.is_empty());
    let delete = LeadConfig::default()
        .operation(Operation::Delete)
        .record_matcher("Email", email_matcher())
        .compile()
        .unwrap();
    let plan = delete.plan(&event).unwrap();
    assert!(plan.fields.is_empty());
    assert_eq!(plan.matchers[0].value, "d@x.y");
}

#[test]
fn text_that_is_not_json_is_an_invalid_event() {
    let action = LeadConfig::default().compile().unwrap();
    let err = action.plan_json("{\"type\": ").unwrap_err();
    assert!(matches!(err, Error::InvalidEvent { .. }));
    assert!(err.is_event_error());
    assert_eq!(err.status(), 400);
}

#[test]
fn one_bad_event_never_affects_the_others() {
    let action = LeadConfig::default()
        .operation(Operation::Upsert)
        .record_matcher("Email", Mapping::path("$.traits.lookup"))
        .compile()
        .unwrap();
    let events = [
        json!({"traits": {"last_name": "A", "lookup": "a@x.y"}}),
        json!({"traits": {"lookup": "b@x.y"}}),
        json!({"traits": {"last_name": "C", "lookup": ["c@x.y"]}}),
        json!({"traits": {"last_name": "D", "lookup": "d@x.y"}}),
        json!("not even an object"),
    ];
    let results = action.plan_batch(&events);
    assert_eq!(results.len(), 5);
    assert_eq!(results[0].as_ref().unwrap().fields["LastName"], "A");
    assert_eq!(results[1].as_ref().unwrap_err().field(), Some("LastName"));
    assert!(matches!(results[2], Err(Error::InvalidMatcherValue { .. })));
    assert_eq!(results[3].as_ref().unwrap().matchers[0].value, "d@x.y");
    assert!(results[4].as_ref().unwrap_err().is_event_error());
    // Same answers one by one: nothing leaks between events.
    for (event, result) in events.iter().zip(&results) {
        assert_eq!(&action.plan(event), result);
    }
}

#[test]
fn bulk_delete_by_record_id_or_by_matchers_resolved_first() {
    let by_id = LeadConfig::default()
        .operation(Operation::Delete)
        .bulk(BulkSettings {
            enabled: true,
            delete_record_id: Some(Mapping::path("$.traits.sf_id")),
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
    let plan = by_id
        .plan(&json!({"traits": {"sf_id": "00Q000000000001AAA"}}))
        .unwrap();
    let bulk = plan.bulk.unwrap();
    assert_eq!(bulk.record_id, Some(json!("00Q000000000001AAA")));
    assert!(!bulk.resolve_matchers);
    assert!(plan.fields.is_empty());

    let by_matchers = LeadConfig::default()
        .operation(Operation::Delete)
        .record_matcher("Email", email_matcher())
        .bulk(BulkSettings {
            enabled: true,
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
    let plan = by_matchers
        .plan(&json!({"traits": {"email": "a@b.c"}}))
        .unwrap();
    assert!(plan.bulk.unwrap().resolve_matchers);
    assert_eq!(plan.matchers[0].value, "a@b.c");
    // Matchers resolved first follow the REST rules: no value, no lookup.
    let err = expect_event_error(&by_matchers, json!({"traits": {}}));
    assert!(matches!(err, Error::MissingMatcherValue { .. }), "{err}");

    let create = LeadConfig::default()
        .bulk(BulkSettings {
            enabled: true,
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
    let plan = create
        .plan(&json!({"traits": {"last_name": "Doe"}}))
        .unwrap();
    assert_eq!(plan.fields["LastName"], "Doe");
    assert!(plan.is_bulk());
}
