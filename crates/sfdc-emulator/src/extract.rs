//! Request-body extraction with Salesforce's `JSON_PARSER_ERROR` rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde_json::{Map, Value};

use crate::error::SfError;

/// A JSON request body; a missing or malformed body becomes `400 JSON_PARSER_ERROR`.
#[derive(Debug)]
pub(crate) struct SfJson(pub(crate) Value);

impl<S: Send + Sync> FromRequest<S> for SfJson {
    type Rejection = SfError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        SfBody::from_request(req, state)
            .await?
            .into_value()
            .map(SfJson)
    }
}

/// A JSON request body not parsed yet: its text, or the value an enclosing Composite or
/// Batch call already parsed. For handlers that read their body straight into their own
/// types and fall back to [`SfBody::into_value`] for anything else.
#[derive(Debug)]
pub(crate) enum SfBody {
    /// The body text as received.
    Text(Bytes),
    /// The body as its enclosing call parsed it.
    Value(Value),
}

impl SfBody {
    /// The body as a JSON value, or `JSON_PARSER_ERROR`.
    pub(crate) fn into_value(self) -> Result<Value, SfError> {
        match self {
            SfBody::Value(v) => Ok(v),
            text => text.value(),
        }
    }

    /// [`SfBody::into_value`] for a body still borrowed (a parsed value is copied).
    pub(crate) fn value(&self) -> Result<Value, SfError> {
        match self {
            SfBody::Text(bytes) => parse_body(bytes),
            SfBody::Value(v) => Ok(v.clone()),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for SfBody {
    type Rejection = SfError;

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(p) = req
            .extensions_mut()
            .remove::<crate::routes::composite::dispatch::ParsedBody>()
        {
            return Ok(SfBody::Value(p.0));
        }
        Bytes::from_request(req, state)
            .await
            .map(SfBody::Text)
            .map_err(|e| SfError::json_parser(e.body_text()))
    }
}

/// Parses a JSON body like Salesforce's parser reports it.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Value, SfError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(SfError::json_parser(
            "The HTTP entity body is required, but this request has no entity body.",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let col = e.column();
        let found = bytes
            .get(col.saturating_sub(1))
            .map(|b| *b as char)
            .filter(|_| e.line() == 1);
        let what = match found {
            Some(c) => format!("Unexpected character ('{c}' (code {})): {e}", c as u32),
            None => e.to_string(),
        };
        SfError::json_parser(format!("{what} at [line:{}, column:{}]", e.line(), col))
    })
}

/// The body as a JSON object, or `JSON_PARSER_ERROR`.
pub(crate) fn body_object(v: Value) -> Result<Map<String, Value>, SfError> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(SfError::json_parser(format!(
            "Cannot deserialize instance of object from {} value or request may be missing a required field at [line:1, column:1]",
            match other {
                Value::Array(_) => "START_ARRAY",
                Value::String(_) => "VALUE_STRING",
                _ => "VALUE",
            }
        ))),
    }
}
