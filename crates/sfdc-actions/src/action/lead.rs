//! The Lead action (default trigger `type = "identify"`).

use super::{ActionSettings, action_fields, address, traits_else_properties};

action_fields! {
    /// Typed fields of the Lead action. Each defaults to `$.traits.<key>`, else
    /// `$.properties.<key>` (address parts from `address.<part>`).
    pub struct LeadFields;
    kind = super::ActionKind::Lead;
    object = "Lead";
    trigger = Some("type = \"identify\"");
    required = ["LastName"];
    fields {
        /// `LastName` (required for create and upsert); default `last_name`.
        last_name => "LastName", Text, traits_else_properties("last_name");
        /// `Company`; default `company`.
        company => "Company", Text, traits_else_properties("company");
        /// `FirstName`; default `first_name`.
        first_name => "FirstName", Text, traits_else_properties("first_name");
        /// `Email`; default `email`.
        email => "Email", Text, traits_else_properties("email");
        /// `Street`; default `address.street`.
        street => "Street", Text, address("street");
        /// `City`; default `address.city`.
        city => "City", Text, address("city");
        /// `State`; default `address.state`.
        state => "State", Text, address("state");
        /// `PostalCode`; default `address.postal_code`.
        postal_code => "PostalCode", Text, address("postal_code");
        /// `Country`; default `address.country`.
        country => "Country", Text, address("country");
    }
}

/// Settings of the Lead action.
pub type LeadConfig = ActionSettings<LeadFields>;
