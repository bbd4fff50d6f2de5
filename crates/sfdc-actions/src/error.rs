//! The crate error: configuration errors found while compiling, and per-event errors found while
//! planning one event.

use crate::plan::Operation;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
///
/// Two families share the enum:
///
/// * **configuration errors** ([`Error::is_config_error`]) come from compiling a mapping, a trigger or
///   an action configuration; fix the configuration;
/// * **per-event errors** ([`Error::is_event_error`]) come from planning one event; they concern that
///   event only and never affect any other event of a batch.
///
/// Both are permanent: [`Error::status`] is 400 and [`Error::is_retryable`] is always `false`, because
/// sending the same input again gives the same answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A mapping path such as `$.traits.email` is not valid.
    #[error("invalid path `{path}` at position {position}: {message}")]
    PathSyntax {
        /// The path as written.
        path: String,
        /// 0-based character offset of the problem inside `path`.
        position: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A template such as `{{traits.first_name}} {{traits.last_name}}` is not valid.
    #[error("invalid template `{template}` at position {position}: {message}")]
    TemplateSyntax {
        /// The template as written.
        template: String,
        /// 0-based character offset of the problem inside `template`.
        position: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A trigger condition such as `type = "identify"` is not valid.
    #[error("invalid trigger `{trigger}` at position {position}: {message}")]
    TriggerSyntax {
        /// The trigger as written.
        trigger: String,
        /// 0-based character offset of the problem inside `trigger`.
        position: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A mapping or action configuration is structurally wrong (unknown `@` directive, empty object
    /// name, invalid field API name, a bulk delete with neither record id nor matchers, ...).
    #[error("invalid configuration: {message}")]
    InvalidConfig {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A configuration error, with the place in the configuration where it was found.
    #[error("in `{location}`: {source}")]
    At {
        /// Where in the configuration, e.g. `fields.email` or `other_fields.Score__c`.
        location: String,
        /// The underlying configuration error.
        source: Box<Error>,
    },
    /// The event could not be read (not JSON, or not a Segment-spec event).
    #[error("invalid event: {message}")]
    InvalidEvent {
        /// The parser's explanation.
        message: String,
    },
    /// A field Salesforce requires for this operation has no value (absent, blank or null).
    #[error(
        "missing {field}: {object} records need a value for {field} to {operation}; map it or send it in the event"
    )]
    MissingField {
        /// Object API name, e.g. `Lead`.
        object: String,
        /// The planned operation.
        operation: Operation,
        /// Field API name, e.g. `LastName`.
        field: String,
    },
    /// A Custom Object create, update or upsert produced no field at all.
    #[error(
        "no fields: to {operation} {object} records, map at least one field under other_fields"
    )]
    NoFields {
        /// Object API name.
        object: String,
        /// The planned operation.
        operation: Operation,
    },
    /// An update, upsert or delete (without Bulk API) produced no record matcher with a value.
    #[error(
        "no record matchers: to {operation} {object} records, at least one record matcher needs a value to find them"
    )]
    MissingMatchers {
        /// Object API name.
        object: String,
        /// The planned operation.
        operation: Operation,
    },
    /// A record matcher has no value (path missing, blank, or null) for this event. No lookup is
    /// made: matching `Email = null` would find (and overwrite) records that have no value. A
    /// subscription that wants such lookups sets `match_empty_values = true`.
    #[error(
        "record matcher {field} has no value (missing or null) for this event, so no {object} record was looked up; send a value, or set match_empty_values = true to match records whose {field} is empty"
    )]
    MissingMatcherValue {
        /// Object API name.
        object: String,
        /// Field API name of the matcher.
        field: String,
    },
    /// Other Fields is mapped as one object, but the event gave another kind of value there.
    #[error(
        "other_fields maps one object whose keys are field API names, but the event gave a {kind}"
    )]
    OtherFieldsNotObject {
        /// The JSON kind found: `string`, `number`, `boolean` or `array`.
        kind: &'static str,
    },
    /// A record matcher (or bulk external id / record id) evaluated to an object or an array; values
    /// that find records must be scalar.
    #[error(
        "{field} finds the record, so it must be a string, number, boolean or null, but the event gave an {kind}"
    )]
    InvalidMatcherValue {
        /// Field API name of the matcher.
        field: String,
        /// `object` or `array`.
        kind: &'static str,
    },
    /// A value cannot be converted to the type of its Salesforce field.
    #[error("{field} expects {expected}, but the event gave {value}")]
    Coercion {
        /// Field API name.
        field: String,
        /// The expected type, e.g. `an integer`.
        expected: &'static str,
        /// The offending value as JSON, shortened to 100 characters.
        value: String,
    },
    /// A Bulk API upsert has no value for its external id field.
    #[error(
        "missing external id: a bulk upsert needs a value for the external id field {field}; map upsert_external_id_value"
    )]
    MissingExternalId {
        /// The external id field API name.
        field: String,
    },
    /// A create with an idempotency key has no key value for this event (by default the
    /// event's `messageId`): it is not created without a key, which could duplicate it.
    #[error(
        "missing idempotency key: {field} needs a value from {source_path} so the record is created exactly once; the event was not sent (give it a messageId, or map idempotency_key.value)"
    )]
    MissingIdempotencyKey {
        /// The idempotency key field API name, e.g. `Event_Id__c`.
        field: String,
        /// Where the value comes from: `messageId` or the value mapping.
        source_path: &'static str,
    },
}

impl Error {
    /// Returns the HTTP-like status of the error: always 400 (bad input).
    ///
    /// Every error of this crate is caused by its input (configuration or event), so the status is
    /// 400 for all of them.
    pub fn status(&self) -> u16 {
        400
    }

    /// Returns `true` when sending the same input again could succeed: never.
    ///
    /// Planning is pure and deterministic, so a retry yields the same error; fix the event or the
    /// configuration instead.
    pub fn is_retryable(&self) -> bool {
        false
    }

    /// Returns `true` when the error concerns a single event (it was returned by planning that
    /// event); the other events of a batch are unaffected.
    pub fn is_event_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidEvent { .. }
                | Error::MissingField { .. }
                | Error::NoFields { .. }
                | Error::MissingMatchers { .. }
                | Error::MissingMatcherValue { .. }
                | Error::OtherFieldsNotObject { .. }
                | Error::InvalidMatcherValue { .. }
                | Error::Coercion { .. }
                | Error::MissingExternalId { .. }
                | Error::MissingIdempotencyKey { .. }
        )
    }

    /// Returns `true` when the error is about a record matcher's value for this event
    /// ([`Error::MissingMatcherValue`]): the facade reports it as `INVALID_RECORD_MATCHER`.
    pub fn is_matcher_error(&self) -> bool {
        matches!(self, Error::MissingMatcherValue { .. })
    }

    /// Returns `true` when the error comes from compiling a configuration (path, template, trigger
    /// or action settings); nothing can be planned until the configuration is fixed.
    pub fn is_config_error(&self) -> bool {
        !self.is_event_error()
    }

    /// Returns the 0-based character offset of a syntax error inside the text that was parsed, when
    /// the error is a path, template or trigger syntax error.
    pub fn position(&self) -> Option<usize> {
        match self {
            Error::PathSyntax { position, .. }
            | Error::TemplateSyntax { position, .. }
            | Error::TriggerSyntax { position, .. } => Some(*position),
            Error::At { source, .. } => source.position(),
            _ => None,
        }
    }

    /// Returns the Salesforce field API name the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::MissingField { field, .. }
            | Error::InvalidMatcherValue { field, .. }
            | Error::MissingMatcherValue { field, .. }
            | Error::Coercion { field, .. }
            | Error::MissingExternalId { field }
            | Error::MissingIdempotencyKey { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn at(self, location: impl Into<String>) -> Error {
        Error::At {
            location: location.into(),
            source: Box::new(self),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::InvalidConfig {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_a_permanent_400() {
        let errors = [
            Error::config("x"),
            Error::MissingField {
                object: "Lead".into(),
                operation: Operation::Create,
                field: "LastName".into(),
            },
        ];
        for e in errors {
            assert_eq!(e.status(), 400);
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn position_is_found_through_location_context() {
        let e = Error::PathSyntax {
            path: "$.a..b".into(),
            position: 4,
            message: "m".into(),
        }
        .at("fields.email");
        assert_eq!(e.position(), Some(4));
        assert!(e.is_config_error());
        assert!(
            e.to_string()
                .starts_with("in `fields.email`: invalid path `$.a..b` at position 4")
        );
    }

    #[test]
    fn missing_field_message_names_object_operation_and_field() {
        let e = Error::MissingField {
            object: "Lead".into(),
            operation: Operation::Upsert,
            field: "LastName".into(),
        };
        assert!(e.is_event_error());
        assert_eq!(e.field(), Some("LastName"));
        assert_eq!(
            e.to_string(),
            "missing LastName: Lead records need a value for LastName to upsert; map it or send it in the event"
        );
    }
}
