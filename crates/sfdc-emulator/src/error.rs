//! Errors: the public [`EmulatorError`] and the crate-internal Salesforce error [`SfError`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A failure of the emulator's library API (start-up, schema changes, seeding).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// Binding the loopback listener or serving failed.
    #[error("emulator I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The self-signed TLS certificate could not be generated or loaded.
    #[error("emulator TLS set-up failed: {0}")]
    Tls(String),
    /// A schema definition (file or API) is invalid; the message says what to fix.
    #[error("invalid emulator schema: {0}")]
    Schema(String),
    /// The named object is not in the org's schema.
    #[error("unknown sObject type '{0}': add it with Emulator::add_object or a schema file")]
    UnknownObject(String),
    /// Seeding a record failed Salesforce validation.
    #[error("record rejected: {code}: {message}")]
    Rejected {
        /// The Salesforce error code, e.g. `REQUIRED_FIELD_MISSING`.
        code: String,
        /// The Salesforce error message.
        message: String,
    },
}

impl EmulatorError {
    /// True when the error is a Salesforce validation failure of seeded data
    /// (fix the record, not the emulator set-up).
    pub fn is_rejected(&self) -> bool {
        matches!(self, EmulatorError::Rejected { .. })
    }
}

impl From<SfError> for EmulatorError {
    fn from(e: SfError) -> Self {
        EmulatorError::Rejected {
            code: e.error_code.to_owned(),
            message: e.message,
        }
    }
}

/// The JSON content type Salesforce uses (jsforce only parses this form).
pub(crate) const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A Salesforce REST error: rendered as `[{"message","errorCode","fields"}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SfError {
    /// HTTP status for single-record REST calls.
    pub(crate) status: StatusCode,
    /// Wire error code, e.g. `REQUIRED_FIELD_MISSING`.
    pub(crate) error_code: &'static str,
    /// Human message, as Salesforce words it.
    pub(crate) message: String,
    /// Fields involved; `None` omits the key from the body.
    pub(crate) fields: Option<Vec<String>>,
}

impl SfError {
    /// A new error with the given status, code and message, without a `fields` key.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        SfError {
            status,
            error_code: code,
            message: message.into(),
            fields: None,
        }
    }

    /// A 400 error.
    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Sets the `fields` list.
    pub(crate) fn with_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// 404 `NOT_FOUND` "The requested resource does not exist".
    pub(crate) fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    /// 404 `ENTITY_IS_DELETED`.
    pub(crate) fn entity_is_deleted() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ENTITY_IS_DELETED",
            "entity is deleted",
        )
        .with_fields(Vec::<String>::new())
    }

    /// 400 `MALFORMED_ID` "<Label> ID: id value of incorrect type: <value>".
    pub(crate) fn malformed_id(label: &str, value: &str) -> Self {
        Self::bad_request(
            "MALFORMED_ID",
            format!("{label} ID: id value of incorrect type: {value}"),
        )
        .with_fields(["Id"])
    }

    /// 400 `JSON_PARSER_ERROR`.
    pub(crate) fn json_parser(message: impl Into<String>) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", message)
    }

    /// The error as one element of a REST error array (`errorCode` key).
    pub(crate) fn to_rest_json(&self) -> Value {
        let mut v = json!({"message": self.message, "errorCode": self.error_code});
        if let (Some(fields), Some(map)) = (&self.fields, v.as_object_mut()) {
            map.insert("fields".into(), json!(fields));
        }
        v
    }

    /// The error as one element of a Collections per-item `errors` array (`statusCode` key).
    pub(crate) fn to_item_json(&self) -> Value {
        json!({
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields.clone().unwrap_or_default(),
        })
    }
}

impl std::fmt::Display for SfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)
    }
}

impl std::error::Error for SfError {}

impl IntoResponse for SfError {
    fn into_response(self) -> Response {
        json_response(self.status, Value::Array(vec![self.to_rest_json()]))
    }
}

/// Response extension: a JSON body not yet written. Handlers answer with the value;
/// [`write_json_body`] serialises it once when the response leaves the emulator, and a
/// Composite or Batch call takes the value of its subrequests' answers as is (no text in
/// between, so a subrequest's answer is never serialised and parsed back).
#[derive(Debug, Clone)]
pub(crate) struct JsonBody(pub(crate) Value);

/// A response with the Salesforce JSON content type whose body is `body` (written later,
/// by [`write_json_body`]).
pub(crate) fn json_response(status: StatusCode, body: Value) -> Response {
    let mut resp = status.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp.extensions_mut().insert(JsonBody(body));
    resp
}

/// Writes the pending JSON body of `resp` (if any) as its body text.
pub(crate) fn write_json_body(mut resp: Response) -> Response {
    if let Some(JsonBody(v)) = resp.extensions_mut().remove::<JsonBody>() {
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        // The router set the length of the empty placeholder body.
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        *resp.body_mut() = axum::body::Body::from(bytes);
    }
    resp
}
