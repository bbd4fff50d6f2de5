//! [`ErrorCode`]: Salesforce error codes, typed, with a fallback for codes not listed.

use std::fmt;
use std::str::FromStr;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::retry::{Failure, Idempotency, Verdict, classify};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => $wire:literal, )*) => {
        /// A Salesforce error code (`errorCode` / `statusCode`), with a fallback for codes not listed.
        ///
        /// [`ErrorCode::as_str`] and `Display` give the wire spelling; `From<&str>` and `FromStr`
        /// parse it (never failing: unknown codes become [`ErrorCode::Other`]).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// Any other code, spelled as received.
            Other(String),
        }

        impl ErrorCode {
            /// Returns the wire spelling, e.g. `"INVALID_SESSION_ID"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for ErrorCode {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// `INVALID_SESSION_ID`: the access token expired or was revoked (HTTP 401).
    InvalidSessionId => "INVALID_SESSION_ID",
    /// `INVALID_AUTH_HEADER`: missing or malformed `Authorization` header (HTTP 401).
    InvalidAuthHeader => "INVALID_AUTH_HEADER",
    /// `REQUEST_LIMIT_EXCEEDED`: API allocation or concurrency limit reached (HTTP 403).
    RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
    /// `NOT_FOUND`: the resource does not exist (HTTP 404).
    NotFound => "NOT_FOUND",
    /// `MALFORMED_QUERY`: SOQL parse error (HTTP 400).
    MalformedQuery => "MALFORMED_QUERY",
    /// `INVALID_FIELD`: unknown or unusable field (HTTP 400).
    InvalidField => "INVALID_FIELD",
    /// `INVALID_FIELD_FOR_INSERT_UPDATE`: field not writable (HTTP 400).
    InvalidFieldForInsertUpdate => "INVALID_FIELD_FOR_INSERT_UPDATE",
    /// `INVALID_TYPE`: unknown sObject type in SOQL (HTTP 400).
    InvalidType => "INVALID_TYPE",
    /// `INVALID_QUERY_FILTER_OPERATOR`: operator not valid for the field type (HTTP 400).
    InvalidQueryFilterOperator => "INVALID_QUERY_FILTER_OPERATOR",
    /// `INVALID_QUERY_LOCATOR`: expired or unknown `nextRecordsUrl` cursor (HTTP 400).
    InvalidQueryLocator => "INVALID_QUERY_LOCATOR",
    /// `QUERY_TIMEOUT`: the query ran too long (HTTP 400).
    QueryTimeout => "QUERY_TIMEOUT",
    /// `REQUIRED_FIELD_MISSING`: a required field has no value (HTTP 400).
    RequiredFieldMissing => "REQUIRED_FIELD_MISSING",
    /// `DUPLICATE_VALUE`: a unique field already holds this value (HTTP 400).
    DuplicateValue => "DUPLICATE_VALUE",
    /// `DUPLICATES_DETECTED`: a duplicate rule blocked the save (HTTP 400).
    DuplicatesDetected => "DUPLICATES_DETECTED",
    /// `UNABLE_TO_LOCK_ROW`: record lock contention; retrying later usually succeeds.
    UnableToLockRow => "UNABLE_TO_LOCK_ROW",
    /// `MALFORMED_ID`: an id value of the wrong format (HTTP 400).
    MalformedId => "MALFORMED_ID",
    /// `ENTITY_IS_DELETED`: the record was deleted (HTTP 404, or per item in Collections).
    EntityIsDeleted => "ENTITY_IS_DELETED",
    /// `STRING_TOO_LONG`: a value exceeds the field length (HTTP 400).
    StringTooLong => "STRING_TOO_LONG",
    /// `INVALID_CROSS_REFERENCE_KEY`: a lookup id does not point to a valid record.
    InvalidCrossReferenceKey => "INVALID_CROSS_REFERENCE_KEY",
    /// `FIELD_CUSTOM_VALIDATION_EXCEPTION`: a validation rule rejected the record.
    FieldCustomValidationException => "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    /// `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`: value not allowed in a restricted picklist.
    InvalidOrNullForRestrictedPicklist => "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    /// `FIELD_INTEGRITY_EXCEPTION`: field integrity rule violated.
    FieldIntegrityException => "FIELD_INTEGRITY_EXCEPTION",
    /// `JSON_PARSER_ERROR`: the request body is not valid JSON for the target (HTTP 400).
    JsonParserError => "JSON_PARSER_ERROR",
    /// `METHOD_NOT_ALLOWED`: HTTP method not allowed on the resource (HTTP 405).
    MethodNotAllowed => "METHOD_NOT_ALLOWED",
    /// `INSUFFICIENT_ACCESS_OR_READONLY`: the user lacks access rights.
    InsufficientAccessOrReadonly => "INSUFFICIENT_ACCESS_OR_READONLY",
    /// `API_DISABLED_FOR_ORG`: the REST API is not enabled for the org (HTTP 403).
    ApiDisabledForOrg => "API_DISABLED_FOR_ORG",
    /// `ALL_OR_NONE_OPERATION_ROLLED_BACK`: a Collections item rolled back because another failed.
    AllOrNoneOperationRolledBack => "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    /// `PROCESSING_HALTED`: a composite subrequest rolled back because another failed.
    ProcessingHalted => "PROCESSING_HALTED",
    /// `INVALIDJOB`: a Bulk API job request is invalid.
    InvalidJob => "INVALIDJOB",
    /// `INVALIDJOBSTATE`: a Bulk API job is in the wrong state for the request.
    InvalidJobState => "INVALIDJOBSTATE",
    /// `API_ERROR`: generic API error (often Bulk API).
    ApiError => "API_ERROR",
    /// `SERVER_UNAVAILABLE`: the server is temporarily unavailable (HTTP 503); retry later.
    ServerUnavailable => "SERVER_UNAVAILABLE",
    /// `OUTCOME_UNKNOWN`: a client-side code, never sent by Salesforce. A non-idempotent request
    /// (a Collections create chunk) was sent but its response was lost, so the record may or may
    /// not have been created. Not retryable: look the record up before creating it again.
    OutcomeUnknown => "OUTCOME_UNKNOWN",
    /// `REQUEST_FAILED`: a client-side code, never sent by Salesforce. A Collections chunk failed
    /// as a whole without an error body (not sent, or a safe-to-resend update, upsert or delete
    /// lost in transit, or throttled by the budget guard). Retryable.
    RequestFailed => "REQUEST_FAILED",
    /// `REQUEST_REJECTED`: a client-side code, never sent by Salesforce. A Collections chunk failed
    /// as a whole without an error body and resending it as is will not help (e.g. no token could
    /// be obtained). Not retryable.
    RequestRejected => "REQUEST_REJECTED",
}

impl ErrorCode {
    /// Returns the HTTP status carried by a client-side `ERROR_HTTP_<status>` code (the code
    /// given to a non-JSON error body), e.g. 502 for `ERROR_HTTP_502`.
    pub fn synthetic_status(&self) -> Option<StatusCode> {
        match self {
            Self::Other(s) => s
                .strip_prefix("ERROR_HTTP_")
                .and_then(|n| n.parse::<u16>().ok())
                .and_then(|n| StatusCode::from_u16(n).ok()),
            _ => None,
        }
    }

    /// Returns what a record failing with this code means for sending it again (the retry
    /// table's [`Failure::Record`] row, for an idempotent write).
    pub fn verdict(&self) -> Verdict {
        classify(
            Idempotency::Idempotent,
            &Failure::Record { error_code: self },
        )
    }

    /// Returns the HTTP status Salesforce answers a single-record request failing with this
    /// code: 404 for `NOT_FOUND` / `ENTITY_IS_DELETED`, 403 for `REQUEST_LIMIT_EXCEEDED`, 401 for
    /// session errors, 503 for `SERVER_UNAVAILABLE` and `REQUEST_FAILED`, 409 for
    /// `UNABLE_TO_LOCK_ROW` and `OUTCOME_UNKNOWN`, the carried status of `ERROR_HTTP_<status>`,
    /// and 400 for any other code.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::EntityIsDeleted => StatusCode::NOT_FOUND,
            Self::RequestLimitExceeded => StatusCode::FORBIDDEN,
            Self::InvalidSessionId | Self::InvalidAuthHeader => StatusCode::UNAUTHORIZED,
            Self::UnableToLockRow | Self::OutcomeUnknown => StatusCode::CONFLICT,
            Self::ServerUnavailable | Self::RequestFailed => StatusCode::SERVICE_UNAVAILABLE,
            other => other.synthetic_status().unwrap_or(StatusCode::BAD_REQUEST),
        }
    }
}

impl FromStr for ErrorCode {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl From<String> for ErrorCode {
    fn from(s: String) -> Self {
        match Self::from(s.as_str()) {
            Self::Other(_) => Self::Other(s),
            known => known,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from(String::deserialize(d)?))
    }
}
