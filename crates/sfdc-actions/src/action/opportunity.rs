//! The Opportunity action (no default trigger).

use super::{ActionSettings, action_fields, traits_else_properties};

action_fields! {
    /// Typed fields of the Opportunity action. Each defaults to `$.traits.<key>`, else
    /// `$.properties.<key>`.
    pub struct OpportunityFields;
    kind = super::ActionKind::Opportunity;
    object = "Opportunity";
    trigger = None;
    required = ["Name", "StageName", "CloseDate"];
    fields {
        /// `Name` (required for create and upsert); default `name`.
        name => "Name", Text, traits_else_properties("name");
        /// `StageName` (required for create and upsert), e.g. `Prospecting`; default `stage_name`.
        stage_name => "StageName", Text, traits_else_properties("stage_name");
        /// `CloseDate` (date; required for create and upsert); default `close_date`.
        close_date => "CloseDate", Date, traits_else_properties("close_date");
        /// `Amount` (number); default `amount`.
        amount => "Amount", Number, traits_else_properties("amount");
        /// `Description`; default `description`.
        description => "Description", Text, traits_else_properties("description");
    }
}

/// Settings of the Opportunity action.
pub type OpportunityConfig = ActionSettings<OpportunityFields>;
