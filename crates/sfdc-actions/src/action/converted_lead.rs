//! What a Lead subscription does when the Lead it updates has been converted.

use serde::{Deserialize, Serialize};

/// `converted_lead = "fail" | "skip" | "redirect"`: what happens when Salesforce refuses to
/// update a Lead because it has been converted (`CANNOT_UPDATE_CONVERTED_LEAD`).
///
/// Only Lead subscriptions take it. The default is [`ConvertedLeadPolicy::Fail`], the
/// behaviour before the policy existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvertedLeadPolicy {
    /// The action fails, not retryable (the default).
    #[default]
    Fail,
    /// The action is skipped; the outcome carries the converted Contact's id.
    Skip,
    /// The update goes to the converted Contact (`ConvertedContactId`), with the mapped fields
    /// that exist on Contact; Lead-only fields are dropped and named in the outcome message.
    Redirect,
}

impl ConvertedLeadPolicy {
    /// Returns the configuration name: `fail`, `skip` or `redirect`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConvertedLeadPolicy::Fail => "fail",
            ConvertedLeadPolicy::Skip => "skip",
            ConvertedLeadPolicy::Redirect => "redirect",
        }
    }
}
