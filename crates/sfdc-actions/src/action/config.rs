//! [`ActionConfig`]: any of the six action settings, tagged by `action`.

use serde::{Deserialize, Serialize};

use super::{
    AccountConfig, Action, ActionKind, CaseConfig, ContactConfig, CustomObjectConfig, LeadConfig,
    OpportunityConfig,
};
use crate::error::Result;

/// The settings of any action, tagged by an `action` key (`lead`, `account`, `contact`, `case`,
/// `opportunity`, `custom_object`).
///
/// ```
/// let config: sfdc_actions::ActionConfig = toml::from_str(r#"
///     action = "account"
///     operation = "upsert"
///     [record_matchers]
///     AccountNumber = { "@path" = "$.groupId" }
/// "#)?;
/// let action = config.compile()?;
/// assert_eq!(action.object(), "Account");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
// Configuration is built once per action, so the size difference between variants does not matter
// and unboxed variants keep construction and pattern matching simple.
#[allow(clippy::large_enum_variant)]
pub enum ActionConfig {
    /// The Lead action.
    Lead(LeadConfig),
    /// The Account action.
    Account(AccountConfig),
    /// The Contact action.
    Contact(ContactConfig),
    /// The Case action.
    Case(CaseConfig),
    /// The Opportunity action.
    Opportunity(OpportunityConfig),
    /// The Custom Object action.
    CustomObject(CustomObjectConfig),
}

impl ActionConfig {
    /// Returns which action this configures.
    pub fn kind(&self) -> ActionKind {
        match self {
            ActionConfig::Lead(_) => ActionKind::Lead,
            ActionConfig::Account(_) => ActionKind::Account,
            ActionConfig::Contact(_) => ActionKind::Contact,
            ActionConfig::Case(_) => ActionKind::Case,
            ActionConfig::Opportunity(_) => ActionKind::Opportunity,
            ActionConfig::CustomObject(_) => ActionKind::CustomObject,
        }
    }

    /// Compiles the settings into an [`Action`].
    ///
    /// # Errors
    ///
    /// As [`super::ActionSettings::compile`].
    pub fn compile(&self) -> Result<Action> {
        match self {
            ActionConfig::Lead(c) => c.compile(),
            ActionConfig::Account(c) => c.compile(),
            ActionConfig::Contact(c) => c.compile(),
            ActionConfig::Case(c) => c.compile(),
            ActionConfig::Opportunity(c) => c.compile(),
            ActionConfig::CustomObject(c) => c.compile(),
        }
    }
}

macro_rules! from_settings {
    ($($variant:ident($config:ty)),*) => {$(
        impl From<$config> for ActionConfig {
            fn from(config: $config) -> ActionConfig {
                ActionConfig::$variant(config)
            }
        }
    )*};
}
from_settings!(
    Lead(LeadConfig),
    Account(AccountConfig),
    Contact(ContactConfig),
    Case(CaseConfig),
    Opportunity(OpportunityConfig),
    CustomObject(CustomObjectConfig)
);
