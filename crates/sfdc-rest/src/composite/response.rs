//! [`CompositeResponse`] and [`SubResponse`]: the answer of a Composite call, mapped back to
//! its subrequests by reference id.

use std::collections::BTreeMap;

use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::CompositeRequest;
use crate::collections::{CollectionResult, align};
use crate::describe::SObjectDescribe;
use crate::error::{ApiError, Error, Result, parse_error_body};
use crate::query::QueryPage;
use crate::retry::Idempotency;

/// The answer of a Composite call: one [`SubResponse`] per subrequest, in the order of the
/// request (whatever order Salesforce ran them in).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CompositeResponse {
    /// One result per subrequest, in request order.
    pub results: Vec<SubResponse>,
}

impl CompositeResponse {
    /// Returns the result of the subrequest with this reference id.
    pub fn get(&self, reference_id: &str) -> Option<&SubResponse> {
        self.results.iter().find(|r| r.reference_id == reference_id)
    }
}

/// The result of one subrequest: its HTTP status and body, as a plain request would have
/// answered. The body is kept as the JSON text received and decoded only when asked for
/// ([`SubResponse::collection_results`], [`SubResponse::query_page`], [`SubResponse::body`]).
/// A failed subrequest (status >= 400, e.g. a 400 with `[{"errorCode":…}]`, or
/// `PROCESSING_HALTED` when it was rolled back or referenced a failed one) does not fail the
/// call: read it with [`SubResponse::errors`], or get it as an [`Error::Api`] from
/// [`SubResponse::collection_results`] / [`SubResponse::query_page`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SubResponse {
    /// The subrequest's reference id.
    pub reference_id: String,
    /// The subrequest's HTTP status (`httpStatusCode`).
    pub http_status: u16,
    /// The subrequest's headers with text values (`httpHeaders`, e.g. `Location` of a create).
    pub http_headers: BTreeMap<String, String>,
    /// The body's JSON text; `None` for a `null` or absent body (a 204).
    body: Option<Box<str>>,
    idempotency: Idempotency,
    records: Option<usize>,
}

impl SubResponse {
    /// Returns the body's JSON text as received (`null` for a 204).
    pub fn body_text(&self) -> &str {
        self.body.as_deref().unwrap_or("null")
    }

    /// Returns the body decoded as a JSON value (`Value::Null` for a 204), decoded on each
    /// call; prefer the typed readers below.
    pub fn body(&self) -> Value {
        serde_json::from_str(self.body_text()).unwrap_or(Value::Null)
    }

    /// Returns `true` for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.http_status)
    }

    /// Returns the per-record results of an sObject Collections subrequest, one per record in
    /// input order (per-record failures are results with `success: false`).
    ///
    /// # Errors
    ///
    /// For a failed subrequest, [`Error::Api`] with its status and errors, classified by the
    /// retry table with the subrequest's idempotency exactly like a plain request's error.
    /// [`Error::UnreadableAnswer`] when a successful body is not a results array of the
    /// expected length (for a create, outcome-unknown).
    pub fn collection_results(&self) -> Result<Vec<CollectionResult>> {
        self.check()?;
        let results: Vec<CollectionResult> = serde_json::from_str(self.body_text())
            .map_err(|e| self.unreadable(format!("not sObject Collections results: {e}")))?;
        match self.records {
            Some(expected) => align(results, expected, self.idempotency),
            None => Ok(results),
        }
    }

    /// Returns the query page of a query subrequest; follow its `next_records_url` with
    /// [`crate::Client::query_more`].
    ///
    /// # Errors
    ///
    /// As [`SubResponse::collection_results`]; [`Error::UnreadableAnswer`] when the body is not
    /// a query page.
    pub fn query_page(&self) -> Result<QueryPage> {
        self.check()?;
        serde_json::from_str(self.body_text())
            .map_err(|e| self.unreadable(format!("not a query page: {e}")))
    }

    /// Returns the describe of a [`super::Subrequest::describe`] subrequest.
    ///
    /// # Errors
    ///
    /// As [`SubResponse::collection_results`]; [`Error::UnreadableAnswer`] when the body is not
    /// an object describe.
    pub fn describe(&self) -> Result<SObjectDescribe> {
        self.check()?;
        serde_json::from_str(self.body_text())
            .map_err(|e| self.unreadable(format!("not an object describe: {e}")))
    }

    /// Returns the errors of a failed subrequest (empty for a success). A body that is not a
    /// Salesforce error array gives one `ERROR_HTTP_<status>` entry, as for a plain request.
    pub fn errors(&self) -> Vec<ApiError> {
        if self.is_success() {
            return Vec::new();
        }
        parse_error_body(self.status(), self.body_text().as_bytes())
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// `Err(Error::Api)` for a failed subrequest.
    fn check(&self) -> Result<()> {
        if self.is_success() {
            return Ok(());
        }
        Err(Error::from_response_to(
            self.status(),
            self.body_text().as_bytes(),
            self.idempotency,
        ))
    }

    fn unreadable(&self, message: String) -> Error {
        Error::UnreadableAnswer {
            status: self.status(),
            idempotency: self.idempotency,
            message: format!("subrequest {}: {message}", self.reference_id),
        }
    }
}

/// `{"compositeResponse":[…]}`.
#[derive(Deserialize)]
pub(crate) struct WireResponse {
    #[serde(rename = "compositeResponse")]
    results: Vec<WireSubResponse>,
}

#[derive(Deserialize)]
struct WireSubResponse {
    #[serde(default)]
    body: Option<Box<RawValue>>,
    #[serde(rename = "httpHeaders", default)]
    http_headers: Value,
    #[serde(rename = "httpStatusCode")]
    http_status: u16,
    #[serde(rename = "referenceId")]
    reference_id: String,
}

impl CompositeResponse {
    /// Maps the wire answer to the request's subrequests.
    ///
    /// # Errors
    ///
    /// [`Error::UnreadableAnswer`] (of the whole request's idempotency) unless every
    /// subrequest has exactly one result.
    pub(crate) fn from_wire(wire: WireResponse, request: &CompositeRequest) -> Result<Self> {
        let unreadable = |message: String| Error::UnreadableAnswer {
            status: StatusCode::OK,
            idempotency: request.idempotency(),
            message,
        };
        if wire.results.len() != request.len() {
            return Err(unreadable(format!(
                "Composite returned {} results for {} subrequests",
                wire.results.len(),
                request.len()
            )));
        }
        let mut by_ref: BTreeMap<String, WireSubResponse> = BTreeMap::new();
        for r in wire.results {
            let id = r.reference_id.clone();
            if by_ref.insert(id.clone(), r).is_some() {
                return Err(unreadable(format!(
                    "Composite returned two results for reference id {id}"
                )));
            }
        }
        let mut results = Vec::with_capacity(request.len());
        for sub in request.subrequests() {
            let r = by_ref.remove(sub.reference_id()).ok_or_else(|| {
                unreadable(format!(
                    "Composite returned no result for reference id {}",
                    sub.reference_id()
                ))
            })?;
            let http_headers = match r.http_headers {
                Value::Object(map) => map
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                    .collect(),
                _ => BTreeMap::new(),
            };
            results.push(SubResponse {
                reference_id: r.reference_id,
                http_status: r.http_status,
                body: r.body.map(|raw| raw.get().into()),
                http_headers,
                idempotency: sub.idempotency(),
                records: sub.record_count(),
            });
        }
        Ok(Self { results })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::composite::Subrequest;
    use crate::sobjects::Record;
    use serde_json::json;

    fn request() -> CompositeRequest {
        let rec: Record = serde_json::from_value(json!({"LastName": "A"})).unwrap();
        let mut r = CompositeRequest::new();
        r.push(Subrequest::query("q", "SELECT Id FROM Lead").unwrap())
            .unwrap();
        r.push(Subrequest::create_many("c", "Lead", &[rec.clone(), rec]).unwrap())
            .unwrap();
        r
    }

    fn parse(body: Value) -> Result<CompositeResponse> {
        CompositeResponse::from_wire(serde_json::from_value(body).unwrap(), &request())
    }

    #[test]
    fn maps_results_by_reference_id_in_request_order() {
        // Salesforce may answer in another order (collated subrequests).
        let response = parse(json!({"compositeResponse": [
            {"body": [{"id": "00Q000000000001AAA", "success": true, "errors": []},
                      {"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Company]", "fields": ["Company"]}]}],
             "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "c"},
            {"body": {"totalSize": 1, "done": true, "records": [{"attributes": {"type": "Lead"}, "Id": "00Q000000000009AAA"}]},
             "httpHeaders": {}, "httpStatusCode": 200, "referenceId": "q"},
        ]}))
        .unwrap();
        assert_eq!(response.results[0].reference_id, "q");
        assert_eq!(response.results[1].reference_id, "c");
        let page = response.get("q").unwrap().query_page().unwrap();
        assert_eq!(page.total_size, 1);
        assert_eq!(page.records[0]["Id"], "00Q000000000009AAA");
        let results = response.get("c").unwrap().collection_results().unwrap();
        assert!(results[0].success);
        assert_eq!(
            results[1].errors[0].error_code,
            ErrorCode::RequiredFieldMissing
        );
        assert!(response.get("nope").is_none());
        assert!(response.get("q").unwrap().errors().is_empty());
    }

    #[test]
    fn a_failed_subrequest_is_an_api_error_of_its_class() {
        let response = parse(json!({"compositeResponse": [
            {"body": [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}],
             "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "q"},
            {"body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}],
             "httpHeaders": {}, "httpStatusCode": 400, "referenceId": "c"},
        ]}))
        .unwrap();
        let q = response.get("q").unwrap();
        assert!(!q.is_success());
        assert_eq!(q.errors()[0].error_code, ErrorCode::MalformedQuery);
        let err = q.query_page().unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert!(!err.is_retryable());
        let halted = response.get("c").unwrap().collection_results().unwrap_err();
        assert_eq!(halted.error_code(), Some(&ErrorCode::ProcessingHalted));
        // Rolled back, so nothing was applied: resending is safe.
        assert!(halted.is_retryable());
        assert!(!halted.is_outcome_unknown());
    }

    #[test]
    fn a_wrong_answer_is_unreadable() {
        // A result missing.
        let err = parse(json!({"compositeResponse": [
            {"body": null, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "q"},
        ]}))
        .unwrap_err();
        assert!(matches!(err, Error::UnreadableAnswer { .. }), "{err:?}");
        // The request carries a create: an unreadable answer is outcome-unknown.
        assert!(err.is_outcome_unknown());
        // Two results for one reference id.
        let err = parse(json!({"compositeResponse": [
            {"body": null, "httpStatusCode": 204, "referenceId": "q"},
            {"body": null, "httpStatusCode": 204, "referenceId": "q"},
        ]}))
        .unwrap_err();
        assert!(matches!(err, Error::UnreadableAnswer { .. }), "{err:?}");
        // Fewer per-record results than records.
        let response = parse(json!({"compositeResponse": [
            {"body": {"totalSize": 0, "done": true, "records": []}, "httpStatusCode": 200, "referenceId": "q"},
            {"body": [{"id": "00Q000000000001AAA", "success": true, "errors": []}],
             "httpHeaders": {"Location": "/x"}, "httpStatusCode": 200, "referenceId": "c"},
        ]}))
        .unwrap();
        assert_eq!(response.get("c").unwrap().http_headers["Location"], "/x");
        let err = response.get("c").unwrap().collection_results().unwrap_err();
        assert!(err.is_outcome_unknown(), "{err:?}");
        let err = response.get("q").unwrap().collection_results().unwrap_err();
        assert!(matches!(err, Error::UnreadableAnswer { .. }), "{err:?}");
    }
}
