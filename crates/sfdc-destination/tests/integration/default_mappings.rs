//! Default mappings read `$.traits.X`, else `$.properties.X`: a `track` event fills an Account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::json;
use sfdc_destination::OutcomeStatus;
use support::*;

#[tokio::test]
async fn track_based_account_create_and_update_write_every_default_field() {
    let emu = emulator().await;
    let create = destination_for(
        &emu,
        r#"
            action = "account"
            trigger = 'type = "track" and event = "Account Created"'
        "#,
    );
    let event = json!({"type": "track", "event": "Account Created", "groupId": "G-7",
    "properties": {
        "name": "Initech", "employees": "250", "phone": "+1 555 0100",
        "description": "Software", "website": "https://initech.example",
        "address": {"street": "1 Main St", "city": "Austin", "state": "TX",
                    "postal_code": "73301", "country": "US"}
    }});
    let out = create.send(&[event]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Created, "{out:?}");
    let accounts = emu.records("Account");
    assert_eq!(accounts.len(), 1);
    let a = &accounts[0];
    for (field, value) in [
        ("Name", json!("Initech")),
        ("AccountNumber", json!("G-7")),
        ("NumberOfEmployees", json!(250)),
        ("Phone", json!("+1 555 0100")),
        ("Description", json!("Software")),
        ("Website", json!("https://initech.example")),
        ("BillingStreet", json!("1 Main St")),
        ("BillingCity", json!("Austin")),
        ("BillingState", json!("TX")),
        ("BillingPostalCode", json!("73301")),
        ("BillingCountry", json!("US")),
    ] {
        assert_eq!(a[field], value, "{field}");
    }
    // Shipping has no default mapping: never written.
    assert!(a.get("ShippingCity").is_none_or(|v| v.is_null()));

    let update = destination_for(
        &emu,
        r#"
            action = "account"
            trigger = 'type = "track" and event = "Account Updated"'
            operation = "update"
            record_matchers = { Name = { "@path" = "$.properties.name" } }
        "#,
    );
    // Traits win over properties when both are present; absent values are left untouched.
    let event = json!({"type": "track", "event": "Account Updated",
        "traits": {"phone": "+1 555 0199"},
        "properties": {"name": "Initech", "employees": 300, "phone": "ignored",
                       "address": {"city": "Dallas"}}});
    let out = update.send(&[event]).await;
    assert_eq!(only(&out[0]).status, OutcomeStatus::Updated, "{out:?}");
    let a = &emu.records("Account")[0];
    assert_eq!(a["NumberOfEmployees"], 300);
    assert_eq!(a["Phone"], "+1 555 0199");
    assert_eq!(a["BillingCity"], "Dallas");
    assert_eq!(a["BillingStreet"], "1 Main St");
    assert_eq!(a["Website"], "https://initech.example");
    assert_eq!(a["AccountNumber"], "G-7");
}
