//! Validation of object and field names, and percent-encoding of path segments.

use crate::error::{Error, Result};

/// Checks an object name that goes into a REST path with the workspace's one name validator,
/// [`sfdc_match::SObjectName`]: never slashes, dots or spaces.
pub(crate) fn check_object(name: &str) -> Result<()> {
    sfdc_match::SObjectName::new(name)
        .map(drop)
        .map_err(|e| invalid("object name", name, &e))
}

/// Checks a field name of the record itself (e.g. an external-id field) that goes into a REST
/// path, with [`sfdc_match::FieldName::new_plain`]: no relationship path, never `attributes`.
pub(crate) fn check_field(kind: &'static str, name: &str) -> Result<()> {
    sfdc_match::FieldName::new_plain(name)
        .map(drop)
        .map_err(|e| invalid(kind, name, &e))
}

fn invalid(kind: &'static str, name: &str, e: &sfdc_match::Error) -> Error {
    Error::InvalidInput {
        kind,
        value: name.to_owned(),
        reason: e.reason().map_or_else(|| e.to_string(), str::to_owned),
    }
}

/// Percent-encodes a value (record id, external-id value) as one path segment.
///
/// Everything except `A-Z a-z 0-9 - _ . ~` is encoded. Empty, `.` and `..` are rejected because
/// URL normalisation would drop or resolve them.
pub(crate) fn encode_segment(kind: &'static str, value: &str) -> Result<String> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(Error::InvalidInput {
            kind,
            value: value.to_owned(),
            reason: "must not be empty, \".\" or \"..\"".to_owned(),
        });
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["Account", "ns__Thing__c", "External_Id__c", "A1"] {
            assert!(check_object(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Account/001",
            "../x",
            "1Acc",
            "Acc ount",
            "Acc.Name",
            "_x",
            "Ä",
        ] {
            assert!(check_object(bad).is_err(), "{bad}");
        }
        assert!(check_field("external id field", "External_Id__c").is_ok());
        for bad in ["attributes", "Account.Name", "a/b"] {
            assert!(check_field("external id field", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn segments() {
        assert_eq!(
            encode_segment("id", "001D000000IqhSLIAZ").unwrap(),
            "001D000000IqhSLIAZ"
        );
        assert_eq!(
            encode_segment("v", "a/b c?d#é").unwrap(),
            "a%2Fb%20c%3Fd%23%C3%A9"
        );
        assert_eq!(encode_segment("v", "x.inc").unwrap(), "x.inc");
        assert!(encode_segment("v", "..").is_err());
        assert!(encode_segment("v", "").is_err());
    }
}
