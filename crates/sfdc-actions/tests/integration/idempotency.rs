//! Planning with an idempotency key (a create becomes an upsert by the key field), subscription
//! names, and the converted-Lead policy setting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use sfdc_actions::{
    ActionConfig, ConvertedLeadPolicy, Error, IdempotencyKey, LeadConfig, Mapping, Operation,
};

fn config(toml_text: &str) -> ActionConfig {
    toml::from_str(toml_text).unwrap()
}

fn identify(message_id: Option<&str>) -> serde_json::Value {
    let mut e = json!({"type": "identify", "traits": {"last_name": "Doe", "email": "d@x.io"}});
    if let Some(id) = message_id {
        e["messageId"] = json!(id);
    }
    e
}

#[test]
fn a_keyed_create_is_an_upsert_by_the_key_with_message_id_and_subscription_name() {
    let action = config(
        r#"
            action = "lead"
            idempotency_key = { field = "Event_Id__c" }
        "#,
    )
    .compile()
    .unwrap()
    .with_index(3);
    assert_eq!(action.name(), "lead-3");
    assert_eq!(action.operation(), Operation::Create);
    assert_eq!(action.idempotency_key_field(), Some("Event_Id__c"));
    let plan = action.plan(&identify(Some("m-1"))).unwrap();
    assert_eq!(plan.operation, Operation::Upsert);
    assert_eq!(plan.matchers.len(), 1);
    assert_eq!(plan.matchers[0].field, "Event_Id__c");
    assert_eq!(plan.matchers[0].value, json!("m-1:lead-3"));
    let key = plan.idempotency_key.unwrap();
    assert_eq!(
        (key.field.as_str(), key.value),
        ("Event_Id__c", json!("m-1:lead-3"))
    );
    assert_eq!(plan.fields["LastName"], "Doe");
}

#[test]
fn two_subscriptions_get_two_keys_for_one_event_and_a_name_survives_reordering() {
    let named = LeadConfig::default()
        .name("leads")
        .idempotency_key(IdempotencyKey::new("Event_Id__c"))
        .compile()
        .unwrap();
    let a = named.clone().with_index(0);
    let b = named.with_index(7);
    let unnamed = LeadConfig::default()
        .idempotency_key(IdempotencyKey::new("Event_Id__c"))
        .compile()
        .unwrap()
        .with_index(1);
    let event = identify(Some("m-9"));
    let key = |a: &sfdc_actions::Action| a.plan(&event).unwrap().idempotency_key.unwrap().value;
    assert_eq!(key(&a), json!("m-9:leads"));
    assert_eq!(
        key(&a),
        key(&b),
        "a configured name does not depend on the position"
    );
    assert_eq!(key(&unnamed), json!("m-9:lead-1"));
    assert_ne!(key(&a), key(&unnamed));
}

#[test]
fn a_mapped_key_value_is_used_as_is() {
    let action = LeadConfig::default()
        .idempotency_key(IdempotencyKey::new("Event_Id__c").value(Mapping::path("$.traits.email")))
        .compile()
        .unwrap();
    let plan = action.plan(&identify(None)).unwrap();
    assert_eq!(plan.matchers[0].value, json!("d@x.io"));
}

#[test]
fn a_missing_message_id_fails_the_event_instead_of_creating_without_key() {
    let action = LeadConfig::default()
        .idempotency_key(IdempotencyKey::new("Event_Id__c"))
        .compile()
        .unwrap();
    for event in [identify(None), identify(Some("  "))] {
        let err = action.plan(&event).unwrap_err();
        assert!(matches!(err, Error::MissingIdempotencyKey { .. }), "{err}");
        assert!(err.is_event_error());
        assert_eq!(err.field(), Some("Event_Id__c"));
        assert!(err.to_string().contains("messageId"), "{err}");
    }
}

#[test]
fn a_keyed_bulk_create_is_a_bulk_upsert_by_the_key() {
    let action = config(
        r#"
            action = "lead"
            idempotency_key = { field = "Event_Id__c" }
            bulk = { enabled = true }
        "#,
    )
    .compile()
    .unwrap();
    let plan = action.plan(&identify(Some("m-2"))).unwrap();
    assert_eq!(plan.operation, Operation::Upsert);
    assert!(plan.matchers.is_empty());
    let external = plan.bulk.unwrap().external_id.unwrap();
    assert_eq!(external.field, "Event_Id__c");
    assert_eq!(external.value, json!("m-2:lead-0"));
}

#[test]
fn without_a_key_a_create_stays_a_create() {
    let plan = LeadConfig::default()
        .compile()
        .unwrap()
        .plan(&identify(Some("m-3")))
        .unwrap();
    assert_eq!(plan.operation, Operation::Create);
    assert!(plan.idempotency_key.is_none());
    assert!(plan.matchers.is_empty());
}

#[test]
fn a_key_on_another_operation_or_a_bad_field_is_a_config_error() {
    for (text, needle) in [
        (
            r#"
                action = "lead"
                operation = "update"
                record_matchers = { Email = { "@path" = "$.traits.email" } }
                idempotency_key = { field = "Event_Id__c" }
            "#,
            "idempotency_key",
        ),
        (
            r#"
                action = "lead"
                idempotency_key = { field = "Event Id" }
            "#,
            "idempotency_key.field",
        ),
        (
            r#"
                action = "lead"
                name = " "
            "#,
            "name",
        ),
        (
            r#"
                action = "account"
                converted_lead = "skip"
            "#,
            "converted_lead",
        ),
    ] {
        let err = config(text).compile().unwrap_err();
        assert!(err.is_config_error(), "{err}");
        assert!(err.to_string().contains(&format!("in `{needle}`")), "{err}");
    }
}

#[test]
fn the_converted_lead_policy_defaults_to_fail_and_reaches_the_plan() {
    let default = LeadConfig::default().compile().unwrap();
    assert_eq!(default.converted_lead(), ConvertedLeadPolicy::Fail);
    for (name, policy) in [
        ("fail", ConvertedLeadPolicy::Fail),
        ("skip", ConvertedLeadPolicy::Skip),
        ("redirect", ConvertedLeadPolicy::Redirect),
    ] {
        let action = config(&format!(
            r#"
                action = "lead"
                operation = "update"
                record_matchers = {{ Email = {{ "@path" = "$.traits.email" }} }}
                converted_lead = "{name}"
            "#
        ))
        .compile()
        .unwrap();
        assert_eq!(action.converted_lead(), policy);
        assert_eq!(action.plan(&identify(None)).unwrap().converted_lead, policy);
    }
}
