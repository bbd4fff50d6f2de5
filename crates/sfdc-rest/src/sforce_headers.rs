//! [`SalesforceHeaders`]: the Salesforce request headers a client sends with every call.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};

/// Whether the assignment rules run for Leads and Cases created or updated through the API
/// (`Sforce-Auto-Assign`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoAssign {
    /// Run the active assignment rule (`TRUE`, Salesforce's default).
    Active,
    /// Run no assignment rule (`FALSE`).
    Off,
    /// Run this assignment rule (its 15- or 18-character id).
    Rule(String),
}

/// Salesforce headers sent with every API call of a client.
///
/// - `Sforce-Duplicate-Rule-Header: allowSave=true` when
///   [`SalesforceHeaders::duplicate_rule_allow_save`] is set: records that duplicate rules
///   would only warn about are saved.
/// - `Sforce-Auto-Assign` from [`SalesforceHeaders::auto_assign`].
///
/// ```
/// use sfdc_rest::{AutoAssign, SalesforceHeaders};
///
/// let headers = SalesforceHeaders::new()
///     .duplicate_rule_allow_save(true)
///     .auto_assign(AutoAssign::Off);
/// assert!(headers.to_header_map().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesforceHeaders {
    duplicate_rule_allow_save: Option<bool>,
    auto_assign: Option<AutoAssign>,
}

impl SalesforceHeaders {
    /// Returns an empty set: no Salesforce header is sent (Salesforce's defaults apply).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `Sforce-Duplicate-Rule-Header: allowSave=<allow>` (omitted by default).
    pub fn duplicate_rule_allow_save(mut self, allow: bool) -> Self {
        self.duplicate_rule_allow_save = Some(allow);
        self
    }

    /// Sends `Sforce-Auto-Assign` (omitted by default, which Salesforce treats as `TRUE`).
    pub fn auto_assign(mut self, assign: AutoAssign) -> Self {
        self.auto_assign = Some(assign);
        self
    }

    /// Returns `true` when no header is set.
    pub fn is_empty(&self) -> bool {
        self.duplicate_rule_allow_save.is_none() && self.auto_assign.is_none()
    }

    /// Returns the headers as sent.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when an assignment rule id is not a 15- or 18-character
    /// alphanumeric id.
    pub fn to_header_map(&self) -> Result<HeaderMap> {
        let mut map = HeaderMap::new();
        if let Some(allow) = self.duplicate_rule_allow_save {
            map.insert(
                HeaderName::from_static("sforce-duplicate-rule-header"),
                HeaderValue::from_static(if allow {
                    "allowSave=true"
                } else {
                    "allowSave=false"
                }),
            );
        }
        if let Some(assign) = &self.auto_assign {
            let value = match assign {
                AutoAssign::Active => HeaderValue::from_static("TRUE"),
                AutoAssign::Off => HeaderValue::from_static("FALSE"),
                AutoAssign::Rule(id) => {
                    let valid = matches!(id.len(), 15 | 18)
                        && id.bytes().all(|b| b.is_ascii_alphanumeric());
                    if !valid {
                        return Err(Error::InvalidInput {
                            kind: "assignment rule id",
                            value: id.clone(),
                            reason: "must be a 15- or 18-character Salesforce id".to_owned(),
                        });
                    }
                    HeaderValue::from_str(id).map_err(|_| Error::InvalidInput {
                        kind: "assignment rule id",
                        value: id.clone(),
                        reason: "is not a valid header value".to_owned(),
                    })?
                }
            };
            map.insert(HeaderName::from_static("sforce-auto-assign"), value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_sent() {
        assert!(
            SalesforceHeaders::new()
                .to_header_map()
                .is_ok_and(|m| m.is_empty())
        );
        let map = SalesforceHeaders::new()
            .duplicate_rule_allow_save(true)
            .auto_assign(AutoAssign::Rule("01Q5e000000abcdEAA".into()))
            .to_header_map()
            .unwrap_or_default();
        assert_eq!(map["sforce-duplicate-rule-header"], "allowSave=true");
        assert_eq!(map["sforce-auto-assign"], "01Q5e000000abcdEAA");
        let off = SalesforceHeaders::new().auto_assign(AutoAssign::Off);
        assert_eq!(
            off.to_header_map().unwrap_or_default()["sforce-auto-assign"],
            "FALSE"
        );
        let bad = SalesforceHeaders::new().auto_assign(AutoAssign::Rule("x; y".into()));
        assert!(bad.to_header_map().is_err());
    }
}
