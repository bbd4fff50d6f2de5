//! Validation of object and field names, and percent-encoding of path segments.

use crate::error::{Error, Result};

/// Longest object or field API name accepted (Salesforce names are at most 40 characters plus
/// namespace prefix and suffix).
const MAX_NAME_LEN: usize = 120;

/// Checks an object or field API name: ASCII letters, digits and underscores, starting with a letter
/// (e.g. `Account`, `ns__Thing__c`, `External_Id__c`). Never slashes, dots or spaces.
pub(crate) fn check_name(kind: &'static str, name: &str) -> Result<()> {
    let invalid = |reason: &str| Error::InvalidInput {
        kind,
        value: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("is too long"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(invalid("must start with a letter"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(
            "may only contain ASCII letters, digits and underscores",
        ));
    }
    Ok(())
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
            assert!(check_name("object name", ok).is_ok(), "{ok}");
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
            assert!(check_name("object name", bad).is_err(), "{bad}");
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
