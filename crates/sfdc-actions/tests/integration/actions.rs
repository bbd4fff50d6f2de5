//! Default mappings of every action on realistic events, compared with fixture plans.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_actions::{ActionKind, Event, EventType, LeadConfig, PlannedOperation};
use support::{assert_case, case_action, fixture_json};

#[test]
fn lead_default_mapping_on_an_identify_event() {
    assert_case("lead_identify");
}

#[test]
fn lead_falls_back_to_properties_and_keeps_null_but_drops_blank() {
    assert_case("lead_track_properties_upsert");
}

#[test]
fn account_default_mapping_on_a_group_event_coerces_employees() {
    assert_case("account_group");
}

#[test]
fn contact_default_mapping_with_account_id() {
    assert_case("contact_identify");
}

#[test]
fn case_description_and_other_fields_on_a_track_event() {
    assert_case("case_track");
}

#[test]
fn opportunity_coerces_close_date_and_amount_on_a_track_event() {
    assert_case("opportunity_track");
}

#[test]
fn custom_object_person_account() {
    assert_case("custom_object_person_account");
}

#[test]
fn other_fields_override_standard_fields() {
    assert_case("lead_other_fields_override");
}

#[test]
fn default_triggers_select_identify_for_lead_and_group_for_account() {
    let identify = fixture_json("lead_identify.json");
    let group = fixture_json("account_group.json");
    let lead = LeadConfig::default().compile().unwrap();
    let account = sfdc_actions::AccountConfig::default().compile().unwrap();
    assert_eq!(lead.trigger().unwrap().as_str(), "type = \"identify\"");
    assert!(lead.is_triggered_by(&identify));
    assert!(!lead.is_triggered_by(&group));
    assert!(account.is_triggered_by(&group));
    assert!(!account.is_triggered_by(&identify));
    assert!(lead.plan_if_triggered(&group).is_none());
    assert!(lead.plan_if_triggered(&identify).unwrap().is_ok());
    // Actions without a default trigger match nothing until one is configured.
    let contact = sfdc_actions::ContactConfig::default().compile().unwrap();
    assert!(contact.trigger().is_none());
    assert!(!contact.is_triggered_by(&identify));
}

#[test]
fn typed_events_plan_like_their_json() {
    let value = fixture_json("lead_identify.json");
    let event = Event::from_value(value.clone()).unwrap();
    assert_eq!(event.kind, EventType::Identify);
    let action = case_action("lead_identify");
    assert_eq!(
        action.plan_event(&event).unwrap(),
        action.plan(&value).unwrap()
    );
    assert_eq!(
        action.plan_json(&value.to_string()).unwrap(),
        action.plan(&value).unwrap()
    );
}

#[test]
fn mappings_reach_unknown_event_fields() {
    let action = LeadConfig::default()
        .other_field(
            "Source__c",
            sfdc_actions::Mapping::path("$.integrations.Salesforce.source"),
        )
        .compile()
        .unwrap();
    let event = Event::from_value(json!({
        "type": "identify",
        "traits": {"last_name": "Doe"},
        "integrations": {"Salesforce": {"source": "web"}}
    }))
    .unwrap();
    let plan = action.plan_event(&event).unwrap();
    assert_eq!(plan.fields["Source__c"], "web");
}

#[test]
fn any_json_can_be_planned() {
    // Not a Segment event at all: a custom payload with its own shape.
    let action = LeadConfig::default()
        .fields(sfdc_actions::LeadFields {
            last_name: Some(sfdc_actions::Mapping::path("$.person.surname")),
            ..Default::default()
        })
        .compile()
        .unwrap();
    let plan = action
        .plan(&json!({"person": {"surname": "Noether"}}))
        .unwrap();
    assert_eq!(plan.fields.len(), 1);
    assert_eq!(plan.fields["LastName"], "Noether");
    assert_eq!(plan.action, ActionKind::Lead);
}

#[test]
fn plans_round_trip_through_json() {
    let action = case_action("account_group");
    let plan = action.plan(&fixture_json("account_group.json")).unwrap();
    let text = serde_json::to_string(&plan).unwrap();
    assert_eq!(
        serde_json::from_str::<PlannedOperation>(&text).unwrap(),
        plan
    );
}

#[test]
fn an_absent_other_field_leaves_the_standard_field_in_place() {
    let action = support::case_action("lead_other_fields_override");
    let plan = action
        .plan(&json!({"traits": {"last_name": "Turing", "email": "alan@old.example"}}))
        .unwrap();
    assert_eq!(plan.fields["Email"], "alan@old.example");
    assert_eq!(plan.fields["FirstName"], serde_json::Value::Null);
    assert!(!plan.fields.contains_key("Score__c"));
}

#[test]
fn compiled_actions_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<sfdc_actions::Action>();
    assert_send_sync::<sfdc_actions::CompiledMapping>();
    assert_send_sync::<sfdc_actions::Trigger>();
    let action = std::sync::Arc::new(case_action("lead_identify"));
    let event = fixture_json("lead_identify.json");
    let expected = action.plan(&event).unwrap();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let action = action.clone();
            let event = event.clone();
            std::thread::spawn(move || action.plan(&event).unwrap())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), expected);
    }
}
