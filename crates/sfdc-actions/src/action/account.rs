//! The Account action (default trigger `type = "group"`).

use super::defaults::path;
use super::{ActionSettings, action_fields, address, traits_else_properties};

action_fields! {
    /// Typed fields of the Account action. Defaults read `$.traits.<key>`, else
    /// `$.properties.<key>` (billing address from `address.<part>`), so a `group` event and a
    /// `track` event both fill them; `AccountNumber` reads `$.groupId`; shipping has no default.
    pub struct AccountFields;
    kind = super::ActionKind::Account;
    object = "Account";
    trigger = Some("type = \"group\"");
    required = ["Name"];
    fields {
        /// `Name` (required for create and upsert); default `name`.
        name => "Name", Text, traits_else_properties("name");
        /// `AccountNumber`; default `$.groupId`.
        account_number => "AccountNumber", Text, path("$.groupId");
        /// `NumberOfEmployees` (integer); default `employees`.
        number_of_employees => "NumberOfEmployees", Integer, traits_else_properties("employees");
        /// `BillingStreet`; default `address.street`.
        billing_street => "BillingStreet", Text, address("street");
        /// `BillingCity`; default `address.city`.
        billing_city => "BillingCity", Text, address("city");
        /// `BillingState`; default `address.state`.
        billing_state => "BillingState", Text, address("state");
        /// `BillingPostalCode`; default `address.postal_code`.
        billing_postal_code => "BillingPostalCode", Text, address("postal_code");
        /// `BillingCountry`; default `address.country`.
        billing_country => "BillingCountry", Text, address("country");
        /// `ShippingStreet`; no default.
        shipping_street => "ShippingStreet", Text, None;
        /// `ShippingCity`; no default.
        shipping_city => "ShippingCity", Text, None;
        /// `ShippingState`; no default.
        shipping_state => "ShippingState", Text, None;
        /// `ShippingPostalCode`; no default.
        shipping_postal_code => "ShippingPostalCode", Text, None;
        /// `ShippingCountry`; no default.
        shipping_country => "ShippingCountry", Text, None;
        /// `Phone`; default `phone`.
        phone => "Phone", Text, traits_else_properties("phone");
        /// `Description`; default `description`.
        description => "Description", Text, traits_else_properties("description");
        /// `Website`; default `website`.
        website => "Website", Text, traits_else_properties("website");
    }
}

/// Settings of the Account action.
pub type AccountConfig = ActionSettings<AccountFields>;
