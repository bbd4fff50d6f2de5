//! The crate's error type.

/// A `Result` whose error defaults to this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while turning record matchers into SOQL.
///
/// Every variant is a problem with the input (a field name, a value, the limits), so none of
/// them is fixed by retrying: [`Error::is_retryable`] is always false. Use [`Error::field`] to
/// find the matcher field an error is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field name is not a valid Salesforce field API name or relationship path.
    #[error(
        "invalid field name {name:?}: {reason}; use the field's API name as shown in Salesforce \
         Setup, e.g. `Email`, `My_Field__c`, `ns__Field__c` or `Account.Name`"
    )]
    InvalidFieldName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An object name is not a valid Salesforce object API name.
    #[error(
        "invalid object name {name:?}: {reason}; use the object's API name, e.g. `Lead` or \
         `My_Object__c`"
    )]
    InvalidObjectName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A lookup has no record matchers.
    #[error(
        "no record matchers for {object}: map at least one field (e.g. `Email` or `Id`) to a \
         value so the record can be found"
    )]
    NoMatchers {
        /// The object being looked up.
        object: String,
    },
    /// A matcher value is an object or an array, which SOQL cannot compare.
    #[error(
        "record matcher {field} has a JSON {kind} value; SOQL can only compare text, numbers, \
         booleans, dates, datetimes and null, so map a single value to this matcher"
    )]
    UnsupportedValue {
        /// The matcher field.
        field: String,
        /// `"object"` or `"array"`.
        kind: &'static str,
    },
    /// A matcher value cannot be written as a literal of the field's Salesforce type.
    #[error("record matcher {field} is a {field_type} field and cannot match {value}: {reason}")]
    TypeMismatch {
        /// The matcher field.
        field: String,
        /// The field's Salesforce type, as described.
        field_type: String,
        /// The offending value (shortened to 100 characters).
        value: String,
        /// What the field expects.
        reason: String,
    },
    /// The field's type cannot be used in a WHERE clause.
    #[error(
        "record matcher {field} is a {field_type} field, which SOQL cannot filter on; choose a \
         filterable field (one marked `filterable` in describe) as record matcher"
    )]
    UnfilterableField {
        /// The matcher field.
        field: String,
        /// The field's Salesforce type, as described.
        field_type: String,
    },
    /// A text value is longer than SOQL allows for one string in WHERE.
    #[error(
        "record matcher {field} has a {length}-character value; SOQL allows at most {max} \
         characters per string in WHERE, so map a shorter value"
    )]
    ValueTooLong {
        /// The matcher field.
        field: String,
        /// The value's length in characters.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// One event's lookup alone does not fit the query limits.
    #[error(
        "the lookup for {object} needs {soql_chars} SOQL characters and a {uri_bytes}-byte \
         request URI, over the limits ({max_soql_chars} characters, {max_uri_bytes} bytes); use \
         fewer or shorter record matcher values"
    )]
    LookupTooLong {
        /// The object being looked up.
        object: String,
        /// Characters of the smallest query holding this lookup.
        soql_chars: usize,
        /// Request-URI bytes (percent-encoded, prefix included) of that query.
        uri_bytes: usize,
        /// The SOQL character limit in force.
        max_soql_chars: usize,
        /// The URI byte budget in force (after the header allowance).
        max_uri_bytes: usize,
    },
    /// [`QueryLimits`](crate::QueryLimits) leave no room for any query.
    #[error("invalid query limits: {message}")]
    InvalidLimits {
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Returns false: every error here is a problem with the input, and the same input fails
    /// the same way again. Fix the field name, value or limits instead of retrying.
    pub fn is_retryable(&self) -> bool {
        false
    }

    /// Returns what is wrong with a rejected field or object name ([`Error::InvalidFieldName`],
    /// [`Error::InvalidObjectName`]), without the name itself.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Error::InvalidFieldName { reason, .. } | Error::InvalidObjectName { reason, .. } => {
                Some(reason)
            }
            _ => None,
        }
    }

    /// Returns the matcher field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidFieldName { name, .. } => Some(name),
            Error::UnsupportedValue { field, .. }
            | Error::TypeMismatch { field, .. }
            | Error::UnfilterableField { field, .. }
            | Error::ValueTooLong { field, .. } => Some(field),
            Error::InvalidObjectName { .. }
            | Error::NoMatchers { .. }
            | Error::LookupTooLong { .. }
            | Error::InvalidLimits { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_accessor_and_message_name_the_field() {
        let err = Error::InvalidFieldName {
            name: "email__c's!".into(),
            reason: "character `'` is not allowed".into(),
        };
        assert_eq!(err.field(), Some("email__c's!"));
        assert!(err.to_string().contains("email__c's!"));
        assert!(!err.is_retryable());
        let err = Error::NoMatchers {
            object: "Lead".into(),
        };
        assert_eq!(err.field(), None);
        assert!(err.to_string().contains("Lead"));
    }
}
