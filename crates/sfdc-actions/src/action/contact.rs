//! The Contact action (no default trigger).

use super::{ActionSettings, action_fields, address, traits_else_properties};

action_fields! {
    /// Typed fields of the Contact action. Defaults read `$.traits.<key>`, else
    /// `$.properties.<key>` (mailing address from `address.<part>`); `AccountId` has no default.
    pub struct ContactFields;
    kind = super::ActionKind::Contact;
    object = "Contact";
    trigger = None;
    required = ["LastName"];
    fields {
        /// `LastName` (required for create and upsert); default `last_name`.
        last_name => "LastName", Text, traits_else_properties("last_name");
        /// `FirstName`; default `first_name`.
        first_name => "FirstName", Text, traits_else_properties("first_name");
        /// `Email`; default `email`.
        email => "Email", Text, traits_else_properties("email");
        /// `AccountId`: the 18-character Id of the Account the Contact belongs to; no default.
        account_id => "AccountId", Text, None;
        /// `MailingStreet`; default `address.street`.
        mailing_street => "MailingStreet", Text, address("street");
        /// `MailingCity`; default `address.city`.
        mailing_city => "MailingCity", Text, address("city");
        /// `MailingState`; default `address.state`.
        mailing_state => "MailingState", Text, address("state");
        /// `MailingPostalCode`; default `address.postal_code`.
        mailing_postal_code => "MailingPostalCode", Text, address("postal_code");
        /// `MailingCountry`; default `address.country`.
        mailing_country => "MailingCountry", Text, address("country");
    }
}

/// Settings of the Contact action.
pub type ContactConfig = ActionSettings<ContactFields>;
