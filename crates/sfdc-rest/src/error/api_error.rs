//! [`ApiError`]: one Salesforce error of an error body, and parsing of error bodies.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// Longest excerpt of a non-JSON error body kept in an [`ApiError`] message.
pub(super) const BODY_EXCERPT_CHARS: usize = 300;

/// One Salesforce error: `{"errorCode"|"statusCode", "message", "fields"}`.
///
/// REST responses use the `errorCode` key; sObject Collections items use `statusCode`. Both parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The error code, e.g. [`ErrorCode::RequiredFieldMissing`].
    #[serde(rename = "errorCode", alias = "statusCode")]
    pub error_code: ErrorCode,
    /// The human-readable message from Salesforce.
    #[serde(default)]
    pub message: String,
    /// The fields the error is about (often empty or absent).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub fields: Vec<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)?;
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        Ok(())
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

pub(super) struct DisplayErrors<'a>(pub(super) &'a [ApiError]);

impl fmt::Display for DisplayErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no error details");
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The OAuth-style error object some endpoints return instead of the array.
#[derive(Deserialize)]
struct OAuthStyleError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Parses an error response body into Salesforce errors; never fails.
pub(crate) fn parse_error_body(status: StatusCode, body: &[u8]) -> Vec<ApiError> {
    if let Ok(errors) = serde_json::from_slice::<Vec<ApiError>>(body)
        && !errors.is_empty()
    {
        return errors;
    }
    if let Ok(error) = serde_json::from_slice::<ApiError>(body) {
        return vec![error];
    }
    if let Ok(error) = serde_json::from_slice::<OAuthStyleError>(body) {
        return vec![ApiError {
            error_code: ErrorCode::from(error.error),
            message: error.error_description,
            fields: Vec::new(),
        }];
    }
    vec![ApiError {
        error_code: ErrorCode::Other(format!("ERROR_HTTP_{}", status.as_u16())),
        message: body_excerpt(status, body),
        fields: Vec::new(),
    }]
}

/// A short, single-line, tag-free excerpt of a non-JSON body.
fn body_excerpt(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    let mut last_space = true;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            }
            _ if in_tag => {}
            c if c.is_whitespace() => {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            }
            c => {
                out.push(c);
                last_space = false;
            }
        }
        if out.chars().count() >= BODY_EXCERPT_CHARS {
            out.push('…');
            break;
        }
    }
    let out = out.trim();
    let reason = status.canonical_reason().unwrap_or("unknown status");
    if out.is_empty() {
        format!(
            "HTTP {} {reason} with an empty or non-JSON body",
            status.as_u16()
        )
    } else {
        format!(
            "HTTP {} {reason} with a non-JSON body: {out}",
            status.as_u16()
        )
    }
}
