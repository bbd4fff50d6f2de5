//! [`OutcomeCode`]: the typed error code of a failed action.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sfdc_rest::ErrorCode;

macro_rules! outcome_codes {
    ($( $(#[$doc:meta])* $variant:ident => $wire:literal, )*) => {
        /// The error code of a failed action: a Salesforce (or `sfdc-rest` client-side) code, or
        /// one of the destination's own codes for failures found before or around a request.
        ///
        /// Serialises as its wire spelling (`"REQUIRED_FIELD_MISSING"`, `"INVALID_EVENT"`).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum OutcomeCode {
            $( $(#[$doc])* $variant, )*
            /// A Salesforce error code (or a client-side code of `sfdc-rest`, such as
            /// `OUTCOME_UNKNOWN` or `REQUEST_FAILED`).
            Salesforce(ErrorCode),
        }

        impl OutcomeCode {
            /// Returns the wire spelling, e.g. `"INVALID_EVENT"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Salesforce(code) => code.as_str(),
                }
            }

            /// Parses a wire spelling: one of the destination's own codes, else a Salesforce
            /// code (the inverse of [`OutcomeCode::as_str`]).
            pub fn from_wire(code: &str) -> Self {
                match code {
                    $( $wire => Self::$variant, )*
                    other => Self::Salesforce(ErrorCode::from(other)),
                }
            }
        }
    };
}

outcome_codes! {
    /// `INVALID_EVENT`: the action could not plan the event (missing field, bad value); fix the
    /// event or the mapping.
    InvalidEvent => "INVALID_EVENT",
    /// `INVALID_RECORD_MATCHER`: `sfdc-match` rejected a record matcher (field name, value type,
    /// length).
    InvalidRecordMatcher => "INVALID_RECORD_MATCHER",
    /// `INVALID_OTHER_FIELD`: a key of an Other Fields object is not a writable field of the
    /// object (unknown, read-only, a relationship, or `attributes`).
    InvalidOtherField => "INVALID_OTHER_FIELD",
    /// `INVALID_IDEMPOTENCY_KEY`: the idempotency key field of a create is not an external id
    /// and unique field of the object (per describe), so no record was written.
    InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
    /// `MULTIPLE_MATCHES`: the lookup found several records (status 300); make the matchers
    /// unique.
    MultipleMatches => "MULTIPLE_MATCHES",
    /// `BULK_UNPROCESSED`: a Bulk API job did not process the record (job aborted, no result row).
    BulkUnprocessed => "BULK_UNPROCESSED",
    /// `BULK_JOB_FAILED`: the Bulk API job ended `Failed` or `Aborted`.
    BulkJobFailed => "BULK_JOB_FAILED",
    /// `BULK_POLL_TIMEOUT`: the Bulk API job did not finish within the polling deadline.
    BulkPollTimeout => "BULK_POLL_TIMEOUT",
    /// `BULK_REQUEST_FAILED`: a Bulk API request failed without a Salesforce error code.
    BulkRequestFailed => "BULK_REQUEST_FAILED",
    /// `AUTH_FAILED`: no access token could be obtained, or it was refused.
    AuthFailed => "AUTH_FAILED",
    /// `NOT_EXECUTED`: the action was not run because the destination could not connect.
    NotExecuted => "NOT_EXECUTED",
    /// `RECORD_BUSY`: a concurrent `send` on this destination holds the record a lookup found
    /// and waits for a record this send holds; the write was not sent (retryable).
    RecordBusy => "RECORD_BUSY",
    /// `MISSING_RESULT`: Salesforce returned no result for the record (should not happen).
    MissingResult => "MISSING_RESULT",
    /// `UNKNOWN_ERROR`: Salesforce reported a failure without error details.
    UnknownError => "UNKNOWN_ERROR",
}

impl OutcomeCode {
    /// Returns the Salesforce code, when this is one.
    pub fn salesforce(&self) -> Option<&ErrorCode> {
        match self {
            Self::Salesforce(code) => Some(code),
            _ => None,
        }
    }
}

impl From<ErrorCode> for OutcomeCode {
    fn from(code: ErrorCode) -> Self {
        Self::Salesforce(code)
    }
}

impl fmt::Display for OutcomeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OutcomeCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OutcomeCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(Self::from_wire(&code))
    }
}

impl PartialEq<str> for OutcomeCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for OutcomeCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spelling_round_trips() {
        for code in [
            OutcomeCode::BulkPollTimeout,
            OutcomeCode::InvalidEvent,
            OutcomeCode::from(ErrorCode::RequiredFieldMissing),
            OutcomeCode::from(ErrorCode::from("SOMETHING_NEW")),
        ] {
            let json = serde_json::to_string(&code).unwrap();
            let back: OutcomeCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code, "{json}");
        }
    }

    #[test]
    fn spelling_and_serialisation() {
        assert_eq!(OutcomeCode::InvalidEvent.as_str(), "INVALID_EVENT");
        let sf = OutcomeCode::from(ErrorCode::RequiredFieldMissing);
        assert_eq!(sf, "REQUIRED_FIELD_MISSING");
        assert_eq!(sf.salesforce(), Some(&ErrorCode::RequiredFieldMissing));
        assert_eq!(
            serde_json::to_string(&OutcomeCode::MultipleMatches)
                .ok()
                .as_deref(),
            Some("\"MULTIPLE_MATCHES\"")
        );
        assert_eq!(OutcomeCode::BulkUnprocessed.to_string(), "BULK_UNPROCESSED");
    }
}
