//! The Account action (default trigger `type = "group"`).

use super::{ActionSettings, action_fields};
use crate::mapping::Mapping;

fn path(p: &str) -> Option<Mapping> {
    Some(Mapping::path(p))
}

action_fields! {
    /// Typed fields of the Account action. Defaults read the group event: `$.traits.<key>` and
    /// `$.groupId`; billing address from `$.traits.address.<part>`; shipping has no default.
    pub struct AccountFields;
    kind = super::ActionKind::Account;
    object = "Account";
    trigger = Some("type = \"group\"");
    required = ["Name"];
    fields {
        /// `Name` (required for create and upsert); default `$.traits.name`.
        name => "Name", Text, path("$.traits.name");
        /// `AccountNumber`; default `$.groupId`.
        account_number => "AccountNumber", Text, path("$.groupId");
        /// `NumberOfEmployees` (integer); default `$.traits.employees`.
        number_of_employees => "NumberOfEmployees", Integer, path("$.traits.employees");
        /// `BillingStreet`; default `$.traits.address.street`.
        billing_street => "BillingStreet", Text, path("$.traits.address.street");
        /// `BillingCity`; default `$.traits.address.city`.
        billing_city => "BillingCity", Text, path("$.traits.address.city");
        /// `BillingState`; default `$.traits.address.state`.
        billing_state => "BillingState", Text, path("$.traits.address.state");
        /// `BillingPostalCode`; default `$.traits.address.postal_code`.
        billing_postal_code => "BillingPostalCode", Text, path("$.traits.address.postal_code");
        /// `BillingCountry`; default `$.traits.address.country`.
        billing_country => "BillingCountry", Text, path("$.traits.address.country");
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
        /// `Phone`; default `$.traits.phone`.
        phone => "Phone", Text, path("$.traits.phone");
        /// `Description`; default `$.traits.description`.
        description => "Description", Text, path("$.traits.description");
        /// `Website`; default `$.traits.website`.
        website => "Website", Text, path("$.traits.website");
    }
}

/// Settings of the Account action.
pub type AccountConfig = ActionSettings<AccountFields>;
