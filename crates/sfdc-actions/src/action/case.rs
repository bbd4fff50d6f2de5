//! The Case action (no default trigger).

use super::{ActionSettings, action_fields, traits_else_properties};

action_fields! {
    /// Typed fields of the Case action; any other Case field goes through Other Fields.
    pub struct CaseFields;
    kind = super::ActionKind::Case;
    object = "Case";
    trigger = None;
    required = [];
    fields {
        /// `Description`; default `$.traits.description`, else `$.properties.description`.
        description => "Description", Text, traits_else_properties("description");
    }
}

/// Settings of the Case action.
pub type CaseConfig = ActionSettings<CaseFields>;
