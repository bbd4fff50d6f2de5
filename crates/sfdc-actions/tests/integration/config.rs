//! Configuration: TOML and JSON round-trips, disabling defaults, and compile errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_actions::{
    AccountConfig, ActionConfig, BulkSettings, CaseConfig, ContactConfig, CustomObjectConfig,
    CustomObjectFields, Error, LeadConfig, LeadFields, Mapping, MatchOperator, Operation,
    OpportunityConfig,
};
use support::{case_config, fixture_json};

fn all_defaults() -> Vec<ActionConfig> {
    vec![
        LeadConfig::default().into(),
        AccountConfig::default().into(),
        ContactConfig::default().into(),
        CaseConfig::default().into(),
        OpportunityConfig::default().into(),
        CustomObjectConfig::default()
            .fields(CustomObjectFields::new("Invoice__c"))
            .into(),
    ]
}

/// A configuration using every feature except literal nulls (TOML has no null).
fn full_config() -> ActionConfig {
    LeadConfig::default()
        .trigger(r#"type = "identify" and (traits.plan = "pro" or traits.plan != "free")"#)
        .operation(Operation::Upsert)
        .match_operator(MatchOperator::And)
        .record_matcher(
            "Email",
            Mapping::first_of(["$.traits.email", "$.properties.email"]),
        )
        .record_matcher("Segment_Id__c", Mapping::path("$.userId"))
        .fields(LeadFields {
            company: Some(Mapping::fallback([
                Mapping::path("$.traits.company.name"),
                Mapping::literal("Unknown"),
            ])),
            email: None,
            ..LeadFields::default()
        })
        .other_field(
            "Description",
            Mapping::template("{{traits.first_name}} {{traits.last_name}} <{{traits.email}}>"),
        )
        .other_field("Lead_Score__c", Mapping::literal(10))
        .other_field("Tags__c", Mapping::literal(json!(["a", "b"])))
        .other_field(
            "Meta__c",
            Mapping::object([
                ("plan", Mapping::path("$.traits.plan")),
                ("fixed", Mapping::literal(json!({"k": "v"}))),
            ]),
        )
        .bulk(BulkSettings {
            enabled: true,
            batch_size: 500,
            upsert_external_id_name: Some("Segment_Id__c".into()),
            upsert_external_id_value: Some(Mapping::path("$.userId")),
            update_record_id: None,
            delete_record_id: None,
        })
        .into()
}

#[test]
fn every_default_config_round_trips_through_toml_and_json() {
    for config in all_defaults() {
        let toml_text = toml::to_string(&config).unwrap();
        let from_toml: ActionConfig = toml::from_str(&toml_text).unwrap();
        assert_eq!(from_toml, config, "TOML:\n{toml_text}");
        let json_text = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<ActionConfig>(&json_text).unwrap(),
            config
        );
        config.compile().unwrap();
    }
}

#[test]
fn a_full_config_round_trips_and_plans_the_same_after_the_trip() {
    let config = full_config();
    let event = json!({
        "type": "identify", "userId": "u-5",
        "traits": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.y", "plan": "pro"}
    });
    let expected = config.compile().unwrap().plan(&event).unwrap();

    let json_text = serde_json::to_string_pretty(&config).unwrap();
    let from_json: ActionConfig = serde_json::from_str(&json_text).unwrap();
    assert_eq!(from_json, config);
    assert_eq!(from_json.compile().unwrap().plan(&event).unwrap(), expected);

    let toml_text = toml::to_string(&config).unwrap();
    let from_toml: ActionConfig = toml::from_str(&toml_text).unwrap();
    // TOML tables come back in key order (toml without `preserve_order`); plans are unaffected
    // apart from the order of the matchers.
    let plan = from_toml.compile().unwrap().plan(&event).unwrap();
    assert_eq!(plan.fields, expected.fields);
    assert_eq!(plan.bulk, expected.bulk);
    let mut names: Vec<_> = plan.matchers.iter().map(|m| m.field.clone()).collect();
    names.sort();
    assert_eq!(names, ["Email", "Segment_Id__c"]);

    assert_eq!(expected.fields["Company"], "Unknown");
    assert!(
        !expected.fields.contains_key("Email"),
        "email mapping was disabled"
    );
    assert_eq!(expected.fields["Description"], "Ada Lovelace <ada@x.y>");
    assert_eq!(
        expected.fields["Meta__c"],
        json!({"plan": "pro", "fixed": {"k": "v"}})
    );
    assert_eq!(expected.bulk.as_ref().unwrap().batch_size, 500);
}

#[test]
fn a_default_mapping_is_disabled_with_an_empty_table_or_null() {
    let from_toml: ActionConfig =
        toml::from_str("action = \"lead\"\n[fields]\nemail = {}\n").unwrap();
    let from_json: ActionConfig =
        serde_json::from_value(json!({"action": "lead", "fields": {"email": null}})).unwrap();
    for config in [from_toml, from_json] {
        let ActionConfig::Lead(lead) = &config else {
            panic!("not a lead")
        };
        assert_eq!(lead.fields.email, None);
        assert!(lead.fields.last_name.is_some(), "other defaults stay");
        let plan = config
            .compile()
            .unwrap()
            .plan(&json!({"traits": {"last_name": "Doe", "email": "d@x.y"}}))
            .unwrap();
        assert!(!plan.fields.contains_key("Email"));
        // Disabled stays disabled after a TOML round trip.
        let again: ActionConfig = toml::from_str(&toml::to_string(&config).unwrap()).unwrap();
        assert_eq!(again, config);
    }
}

#[test]
fn fixture_configs_round_trip() {
    for case in [
        "lead_identify",
        "lead_track_properties_upsert",
        "account_group",
        "contact_identify",
        "case_track",
        "opportunity_track",
        "custom_object_person_account",
        "lead_other_fields_override",
    ] {
        let config = case_config(case);
        let json_text = serde_json::to_string(&config).unwrap();
        let back: ActionConfig = serde_json::from_str(&json_text).unwrap();
        assert_eq!(back, config, "{case}");
        let event = fixture_json(&format!("{case}.json"));
        assert_eq!(
            back.compile().unwrap().plan(&event).unwrap(),
            config.compile().unwrap().plan(&event).unwrap(),
            "{case}"
        );
    }
}

#[test]
fn unknown_keys_and_actions_are_rejected_when_reading() {
    for text in [
        "action = \"lead\"\noperaton = \"upsert\"\n",
        "action = \"lead\"\n[fields]\nemial = { \"@path\" = \"$.traits.email\" }\n",
        "action = \"lead\"\n[bulk]\nsize = 3\n",
        "action = \"leads\"\n",
        "action = \"lead\"\noperation = \"merge\"\n",
        "action = \"lead\"\n[other_fields]\nX__c = { \"@pth\" = \"$.a\" }\n",
    ] {
        assert!(toml::from_str::<ActionConfig>(text).is_err(), "{text}");
    }
}

fn compile_err(config: impl Into<ActionConfig>) -> Error {
    let err = config.into().compile().unwrap_err();
    assert!(err.is_config_error(), "{err}");
    assert_eq!(err.status(), 400);
    assert!(!err.is_retryable());
    err
}

#[test]
fn path_template_and_trigger_errors_name_the_key_and_position() {
    let err = compile_err(LeadConfig::default().fields(LeadFields {
        email: Some(Mapping::path("$.traits..email")),
        ..LeadFields::default()
    }));
    assert_eq!(err.position(), Some(9));
    assert_eq!(
        err.to_string(),
        "in `fields.email`: invalid path `$.traits..email` at position 9: expected a field name, found `.`; quote unusual names like `['first name']`"
    );

    let err = compile_err(
        LeadConfig::default().other_field("Note__c", Mapping::template("Hi {{traits.name")),
    );
    assert_eq!(err.position(), Some(3));
    assert!(
        err.to_string()
            .starts_with("in `other_fields`: in `Note__c`: invalid template"),
        "{err}"
    );

    let err = compile_err(LeadConfig::default().trigger("  type = identify"));
    assert_eq!(
        err.position(),
        Some(9),
        "positions count from the text as written"
    );
    assert!(
        err.to_string().starts_with("in `trigger`: invalid trigger"),
        "{err}"
    );

    let err =
        compile_err(LeadConfig::default().record_matcher("Email", Mapping::path("traits.email")));
    assert_eq!(err.position(), Some(0));
    assert!(err.to_string().contains("must start with `$`"), "{err}");
}

#[test]
fn invalid_names_are_rejected() {
    let err = compile_err(LeadConfig::default().other_field("My Field", Mapping::literal(1)));
    assert!(
        err.to_string()
            .contains("`My Field` is not a valid field API name"),
        "{err}"
    );
    compile_err(LeadConfig::default().record_matcher("1Email", Mapping::path("$.a")));
    compile_err(CustomObjectConfig::default()); // no object name
    compile_err(
        CustomObjectConfig::default().fields(CustomObjectFields::new("Invoice__c; DELETE")),
    );
    // `attributes` is Salesforce's record metadata key (its `type` names the object): refused as
    // a field everywhere, so no event value can choose the object a record is written to.
    for name in ["attributes", "Attributes"] {
        let err = compile_err(LeadConfig::default().other_field(name, Mapping::path("$.a")));
        assert!(err.to_string().contains("record metadata key"), "{err}");
        compile_err(LeadConfig::default().record_matcher(name, Mapping::path("$.a")));
    }
    // Relationship paths are fine in matchers, namespaces and __c in fields.
    LeadConfig::default()
        .record_matcher("Owner.Email", Mapping::path("$.a"))
        .other_field("ns__Score__c", Mapping::path("$.b"))
        .compile()
        .unwrap();
}

#[test]
fn bulk_settings_that_cannot_work_are_rejected() {
    let bulk = |settings: BulkSettings| BulkSettings {
        enabled: true,
        ..settings
    };
    // Create needs nothing more; delete needs a record id mapping or record matchers.
    LeadConfig::default()
        .operation(Operation::Create)
        .bulk(bulk(BulkSettings::default()))
        .compile()
        .unwrap();
    let err = compile_err(
        LeadConfig::default()
            .operation(Operation::Delete)
            .bulk(bulk(BulkSettings::default())),
    );
    assert!(
        err.to_string()
            .contains("a bulk delete needs delete_record_id"),
        "{err}"
    );
    let err = compile_err(
        LeadConfig::default()
            .operation(Operation::Update)
            .bulk(bulk(BulkSettings {
                batch_size: 0,
                ..BulkSettings::default()
            })),
    );
    assert!(
        err.to_string().contains("batch_size must be at least 1"),
        "{err}"
    );
    let err = compile_err(
        LeadConfig::default()
            .operation(Operation::Upsert)
            .bulk(bulk(BulkSettings::default())),
    );
    assert!(err.to_string().contains("upsert_external_id_name"), "{err}");
    let err = compile_err(
        LeadConfig::default()
            .operation(Operation::Upsert)
            .bulk(bulk(BulkSettings {
                upsert_external_id_name: Some("Ext__c".into()),
                ..BulkSettings::default()
            })),
    );
    assert!(
        err.to_string().contains("upsert_external_id_value"),
        "{err}"
    );
    let err = compile_err(
        LeadConfig::default()
            .operation(Operation::Update)
            .bulk(bulk(BulkSettings::default())),
    );
    assert!(err.to_string().contains("update_record_id"), "{err}");
    // Disabled bulk settings are not checked.
    LeadConfig::default()
        .bulk(BulkSettings {
            batch_size: 0,
            ..BulkSettings::default()
        })
        .compile()
        .unwrap();
}

#[test]
fn defaults_are_documented_values() {
    let lead = LeadConfig::default();
    assert_eq!(lead.trigger, "type = \"identify\"");
    assert_eq!(lead.operation, Operation::Create);
    assert_eq!(lead.match_operator, MatchOperator::Or);
    assert_eq!(lead.bulk.batch_size, 1000);
    assert!(!lead.bulk.enabled);
    assert_eq!(AccountConfig::default().trigger, "type = \"group\"");
    assert_eq!(ContactConfig::default().trigger, "");
    assert_eq!(
        lead.fields.email,
        Some(Mapping::first_of(["$.traits.email", "$.properties.email"]))
    );
}

#[test]
fn other_fields_as_one_object_turns_each_key_into_a_field() {
    let config: ActionConfig = toml::from_str(
        r#"
            action = "case"
            trigger = 'type = "track"'
            other_fields = { "@path" = "$.properties.salesforce" }
        "#,
    )
    .unwrap();
    let action = config.compile().unwrap();
    let event = serde_json::json!({"type": "track", "properties": {
        "description": "typed", "salesforce": {"Subject": "Hi", "Priority": "High", "Origin": " ",
        "Description": "from the object"}}});
    let plan = action.plan(&event).unwrap();
    assert_eq!(plan.fields["Subject"], "Hi");
    assert_eq!(plan.fields["Priority"], "High");
    // Object keys are merged over the typed fields; blank values are absent.
    assert_eq!(plan.fields["Description"], "from the object");
    assert!(!plan.fields.contains_key("Origin"));
    let mut keys = plan.other_fields_object_keys.clone();
    keys.sort();
    assert_eq!(keys, ["Description", "Priority", "Subject"]);
    // Missing object: nothing added; a non-object: that event fails.
    let plan = action
        .plan(&serde_json::json!({"properties": {"description": "d"}}))
        .unwrap();
    assert!(plan.other_fields_object_keys.is_empty());
    let err = action
        .plan(&serde_json::json!({"properties": {"salesforce": "Subject=Hi"}}))
        .unwrap_err();
    assert!(err.is_event_error());
    assert_eq!(
        err.to_string(),
        "other_fields maps one object whose keys are field API names, but the event gave a string"
    );
    // It serializes back to the directive, and record matchers refuse the form.
    if let ActionConfig::Case(c) = &config {
        assert_eq!(
            serde_json::to_value(&c.other_fields).unwrap(),
            serde_json::json!({"@path": "$.properties.salesforce"})
        );
    }
    let bad: ActionConfig = toml::from_str(
        r#"
            action = "lead"
            operation = "update"
            record_matchers = { "@path" = "$.traits" }
        "#,
    )
    .unwrap();
    let err = bad.compile().unwrap_err();
    assert!(err.to_string().starts_with("in `record_matchers`"), "{err}");
}
