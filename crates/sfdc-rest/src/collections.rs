//! sObject Collections: create, update, upsert and delete many records, 200 per request.
//!
//! Inputs of any length are split into chunks of [`COLLECTION_CHUNK`] records, sent one chunk after
//! the other; results come back in input order, one per input.
//!
//! # All-or-none and chunking
//!
//! `all_or_none` is atomic **per chunk**: Salesforce rolls back a whole request (up to 200 records)
//! when one record fails, but chunks already committed stay committed.
//!
//! # Request-level failures
//!
//! If the **first** chunk fails as a whole (HTTP error, transport failure, budget guard), the method
//! returns that error and no later chunk is sent. Whether the first chunk itself was applied
//! depends on the error:
//! - an HTTP error response, the budget guard, or a transport failure before sending
//!   (`!`[`Error::was_sent`]): Salesforce did not apply the chunk;
//! - a transport failure after sending ([`Error::was_sent`]: timeout, connection reset, unreadable
//!   response): Salesforce may have applied the chunk. For updates, upserts and deletes that is
//!   harmless ([`Error::is_retryable`] is true). For creates [`Error::is_outcome_unknown`] is true
//!   and [`Error::is_retryable`] false: the records may exist, look them up before creating them
//!   again.
//!
//! If a later chunk fails as a whole, the earlier chunks' results are kept (those chunks were
//! applied as their results say) and every record of the failed chunk gets a failed
//! [`CollectionResult`] carrying the request's errors: the Salesforce codes, or
//! `ERROR_HTTP_<status>` for a non-JSON error body (not applied). Any other failure gets one
//! client-side code:
//! - [`ErrorCode::OutcomeUnknown`] (`OUTCOME_UNKNOWN`) when a **create** chunk was sent but its
//!   response was lost or unreadable: the records may have been created. Not retryable: look them
//!   up before creating them again;
//! - [`ErrorCode::RequestFailed`] (`REQUEST_FAILED`) when the chunk was not applied, or was an
//!   update, upsert or delete, and resending may succeed ([`Error::is_retryable`] or
//!   [`Error::is_throttled`] of the chunk's error);
//! - [`ErrorCode::RequestRejected`] (`REQUEST_REJECTED`) otherwise (e.g. an authentication
//!   failure): resending as is will not help.
//!
//! When the failure is throttling or authentication, the remaining chunks are not sent and get the
//! same failed result.

use http::Method;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::client::Client;
use crate::error::{ApiError, Error, ErrorCode, Result};
use crate::path::{check_field, check_object, encode_segment};
use crate::retry::Idempotency;
use crate::sobjects::Record;

/// Maximum number of records per sObject Collections request.
pub const COLLECTION_CHUNK: usize = 200;

/// The per-record result of a Collections request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CollectionResult {
    /// The record id: set for successes, updates and deletes; absent for failed creates.
    #[serde(default)]
    pub id: Option<String>,
    /// `true` when this record was saved.
    pub success: bool,
    /// The errors of a failed record (`statusCode` key on the wire).
    #[serde(default)]
    pub errors: Vec<ApiError>,
    /// For upserts: `true` when the record was created, `false` when updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

/// The body of a Collections create, update or upsert: `{"allOrNone":…,"records":[…]}`, each
/// record with `attributes.type` set to the object (see [`Typed`]), serialised straight from
/// the caller's records.
#[derive(Serialize)]
pub(crate) struct CollectionBody<'a> {
    #[serde(rename = "allOrNone")]
    pub(crate) all_or_none: bool,
    #[serde(serialize_with = "typed_records")]
    pub(crate) records: (&'a [Record], &'a str),
}

fn typed_records<S: Serializer>(
    (records, object): &(&[Record], &str),
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_seq(records.iter().map(|record| Typed { record, object }))
}

/// One record as written to `object`: its fields, then `attributes` with `type` set to
/// `object` whatever the record carried (the object a record is written to is the caller's
/// argument, never something a value inside the record can choose); other attributes are
/// kept. Serialised without copying the record.
struct Typed<'a> {
    record: &'a Record,
    object: &'a str,
}

impl Serialize for Typed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.record {
            if key != "attributes" {
                map.serialize_entry(key, value)?;
            }
        }
        let attributes = Attributes {
            kept: self.record.get("attributes").and_then(Value::as_object),
            object: self.object,
        };
        map.serialize_entry("attributes", &attributes)?;
        map.end()
    }
}

/// A record's `attributes` with `type` replaced by the object written to.
struct Attributes<'a> {
    kept: Option<&'a serde_json::Map<String, Value>>,
    object: &'a str,
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.kept.into_iter().flatten() {
            if key != "type" {
                map.serialize_entry(key, value)?;
            }
        }
        map.serialize_entry("type", self.object)?;
        map.end()
    }
}

/// Which Collections write: the one place that knows each one's method, path and idempotency
/// (shared by the plain Collections calls and the Composite subrequests).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind<'a> {
    Create,
    Update,
    Upsert(&'a str),
}

/// A Collections write's method, path (relative to the API root), trace template and
/// idempotency class.
pub(crate) struct Endpoint {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) template: &'static str,
    pub(crate) idempotency: Idempotency,
}

impl Kind<'_> {
    /// The endpoint of this write on `object`.
    pub(crate) fn endpoint(self, object: &str) -> Endpoint {
        let (method, path, template, idempotency) = match self {
            Kind::Create => (
                Method::POST,
                "composite/sobjects".to_owned(),
                "composite/sobjects",
                Idempotency::NotIdempotent,
            ),
            Kind::Update => (
                Method::PATCH,
                "composite/sobjects".to_owned(),
                "composite/sobjects",
                Idempotency::Idempotent,
            ),
            Kind::Upsert(field) => (
                Method::PATCH,
                format!("composite/sobjects/{object}/{field}"),
                "composite/sobjects/{object}/{field}",
                Idempotency::Idempotent,
            ),
        };
        Endpoint {
            method,
            path,
            template,
            idempotency,
        }
    }

    /// Checks the names and records of this write before anything is sent: the object name,
    /// the external-id field of an upsert, an `Id` on every updated record, the external-id
    /// field on every upserted record.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first offending value.
    pub(crate) fn check(self, object: &str, records: &[Record]) -> Result<()> {
        check_object(object)?;
        match self {
            Kind::Create => Ok(()),
            Kind::Update => match records
                .iter()
                .position(|r| !r.keys().any(|k| k.eq_ignore_ascii_case("id")))
            {
                Some(pos) => Err(Error::InvalidInput {
                    kind: "record",
                    value: format!("#{pos}"),
                    reason: "update_many needs an Id on every record".to_owned(),
                }),
                None => Ok(()),
            },
            Kind::Upsert(field) => {
                check_field("external id field", field)?;
                match records.iter().position(|r| !r.contains_key(field)) {
                    Some(pos) => Err(Error::InvalidInput {
                        kind: "record",
                        value: format!("#{pos}"),
                        reason: format!("upsert_many needs {field} on every record"),
                    }),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Checks the ids of a Collections delete: none empty, `.` or `..`, none containing a comma
/// (the separator of the `ids` parameter).
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the first offending id.
pub(crate) fn check_ids<S: AsRef<str>>(ids: &[S]) -> Result<()> {
    for id in ids {
        let id = id.as_ref();
        if id.contains(',') {
            return Err(Error::InvalidInput {
                kind: "record id",
                value: id.to_owned(),
                reason: "must not contain a comma".to_owned(),
            });
        }
        encode_segment("record id", id)?;
    }
    Ok(())
}

/// The query parameters of a Collections delete of `ids` (already checked by [`check_ids`]):
/// `ids` joined by commas, and `allOrNone`.
pub(crate) fn delete_query<S: AsRef<str>>(
    ids: &[S],
    all_or_none: bool,
) -> [(&'static str, String); 2] {
    let joined = ids.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(",");
    [("ids", joined), ("allOrNone", all_or_none.to_string())]
}

impl Client {
    /// Creates many records of `object` (`POST composite/sobjects`), 200 per request.
    ///
    /// `attributes.type` is set to `object` on each record; records must not contain `Id`.
    /// Not idempotent: a chunk is not resent after a timeout or reset, and a later chunk lost that
    /// way gives its records code [`ErrorCode::OutcomeUnknown`] (they may have been created).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad object name; the first chunk's request-level error (see the
    /// module docs: when [`Error::is_outcome_unknown`] is true the first chunk may have been
    /// created). Per-record failures are in the results, not errors.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object, records = records.len()))]
    pub async fn create_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>> {
        Kind::Create.check(object, records)?;
        self.save_many(object, records, all_or_none, Kind::Create)
            .await
    }

    /// Updates many records of `object` (`PATCH composite/sobjects`), 200 per request.
    ///
    /// Each record must carry its `Id` (or `id`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad object name or a record without `Id` (nothing is sent);
    /// the first chunk's request-level error.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object, records = records.len()))]
    pub async fn update_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>> {
        Kind::Update.check(object, records)?;
        self.save_many(object, records, all_or_none, Kind::Update)
            .await
    }

    /// Upserts many records of `object` by `external_id_field`
    /// (`PATCH composite/sobjects/{object}/{field}`), 200 per request; results carry `created`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for bad names or a record without the external-id field; the first
    /// chunk's request-level error.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object, records = records.len()))]
    pub async fn upsert_many(
        &self,
        object: &str,
        external_id_field: &str,
        records: &[Record],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>> {
        Kind::Upsert(external_id_field).check(object, records)?;
        self.save_many(
            object,
            records,
            all_or_none,
            Kind::Upsert(external_id_field),
        )
        .await
    }

    /// Deletes many records by id (`DELETE composite/sobjects?ids=…&allOrNone=…`), 200 per request.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty id or one containing a comma; the first chunk's
    /// request-level error.
    #[tracing::instrument(level = "debug", skip_all, fields(records = ids.len()))]
    pub async fn delete_many<S: AsRef<str>>(
        &self,
        ids: &[S],
        all_or_none: bool,
    ) -> Result<Vec<CollectionResult>> {
        check_ids(ids)?;
        let idempotency = Idempotency::Idempotent;
        let mut results = Vec::with_capacity(ids.len());
        let mut stop: Option<Vec<ApiError>> = None;
        for chunk in ids.chunks(COLLECTION_CHUNK) {
            if let Some(errors) = &stop {
                results.extend(chunk.iter().map(|id| failed(Some(id.as_ref()), errors)));
                continue;
            }
            let [(ids_key, joined), (all_key, all)] = delete_query(chunk, all_or_none);
            let outcome = decode(
                self.request(Method::DELETE, "composite/sobjects")
                    .path_template("composite/sobjects")
                    .query(&[(ids_key, joined.as_str()), (all_key, all.as_str())])
                    .send()
                    .await,
            )
            .await;
            match outcome {
                Ok(chunk_results) => {
                    results.extend(align(chunk_results, chunk.len(), idempotency)?);
                }
                Err(failure) if results.is_empty() => return Err(failure.err),
                Err(failure) => {
                    let errors = failure.record_errors(idempotency);
                    let err = failure.err;
                    results.extend(chunk.iter().map(|id| failed(Some(id.as_ref()), &errors)));
                    if err.is_throttled() || err.is_auth() {
                        stop = Some(errors);
                    }
                }
            }
        }
        Ok(results)
    }

    async fn save_many(
        &self,
        object: &str,
        records: &[Record],
        all_or_none: bool,
        kind: Kind<'_>,
    ) -> Result<Vec<CollectionResult>> {
        let Endpoint {
            method,
            path,
            template,
            idempotency,
        } = kind.endpoint(object);
        let mut results = Vec::with_capacity(records.len());
        let mut stop: Option<Vec<ApiError>> = None;
        for chunk in records.chunks(COLLECTION_CHUNK) {
            let id_of = |r: &Record| -> Option<String> {
                r.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("id"))
                    .and_then(|(_, v)| v.as_str().map(str::to_owned))
            };
            if let Some(errors) = &stop {
                results.extend(chunk.iter().map(|r| failed(id_of(r).as_deref(), errors)));
                continue;
            }
            let body = CollectionBody {
                all_or_none,
                records: (chunk, object),
            };
            let outcome = decode(
                self.request(method.clone(), &path)
                    .path_template(template)
                    .idempotency(idempotency)
                    .json(&body)
                    .send()
                    .await,
            )
            .await;
            match outcome {
                Ok(chunk_results) => {
                    results.extend(align(chunk_results, chunk.len(), idempotency)?);
                }
                Err(failure) if results.is_empty() => return Err(failure.err),
                Err(failure) => {
                    let errors = failure.record_errors(idempotency);
                    let err = failure.err;
                    results.extend(chunk.iter().map(|r| failed(id_of(r).as_deref(), &errors)));
                    if err.is_throttled() || err.is_auth() {
                        stop = Some(errors);
                    }
                }
            }
        }
        Ok(results)
    }
}

/// Checks one result per record; a wrong count is an [`Error::UnreadableAnswer`] (the chunk was
/// processed).
pub(crate) fn align(
    results: Vec<CollectionResult>,
    expected: usize,
    idempotency: Idempotency,
) -> Result<Vec<CollectionResult>> {
    if results.len() != expected {
        return Err(Error::UnreadableAnswer {
            status: http::StatusCode::OK,
            idempotency,
            message: format!(
                "sObject Collections returned {} results for {expected} records",
                results.len()
            ),
        });
    }
    Ok(results)
}

/// A chunk that failed as a whole.
struct ChunkFailure {
    err: Error,
    /// `true` when Salesforce answered with a success status but the body could not be read or
    /// decoded: the chunk was processed.
    answered: bool,
}

/// Reads a chunk's results, remembering whether a success status had arrived.
///
/// A success status whose body is not valid JSON of the expected shape is an
/// [`Error::UnreadableAnswer`] of the request's idempotency class (from [`Response::json`]: the
/// retry table decides what it means); a body that could not be read at all keeps its transport
/// error.
///
/// [`Response::json`]: crate::transport::Response::json
async fn decode(
    sent: Result<crate::transport::Response>,
) -> Result<Vec<CollectionResult>, ChunkFailure> {
    let response = sent.map_err(|err| ChunkFailure {
        err,
        answered: false,
    })?;
    response.json().await.map_err(|err| ChunkFailure {
        err,
        answered: true,
    })
}

impl ChunkFailure {
    /// The per-record errors of the chunk's records. Their code follows the error's predicates:
    /// the Salesforce codes of an error response; [`ErrorCode::OutcomeUnknown`] when a
    /// non-idempotent chunk may have been applied; [`ErrorCode::RequestFailed`] when resending may
    /// succeed ([`Error::is_retryable`] or [`Error::is_throttled`]); otherwise
    /// [`ErrorCode::RequestRejected`].
    fn record_errors(&self, idempotency: Idempotency) -> Vec<ApiError> {
        let err = &self.err;
        let unknown = err.is_outcome_unknown()
            || (self.answered && idempotency == Idempotency::NotIdempotent);
        if !unknown && !err.api_errors().is_empty() {
            return err.api_errors().to_vec();
        }
        let (error_code, message) = if unknown {
            (
                ErrorCode::OutcomeUnknown,
                format!(
                    "the request was sent but its response was lost, so this record may have been created; look it up before creating it again ({err})"
                ),
            )
        } else if err.verdict().is_resendable() {
            (ErrorCode::RequestFailed, err.to_string())
        } else {
            (ErrorCode::RequestRejected, err.to_string())
        };
        vec![ApiError {
            error_code,
            message,
            fields: Vec::new(),
        }]
    }
}

fn failed(id: Option<&str>, errors: &[ApiError]) -> CollectionResult {
    CollectionResult {
        id: id.map(str::to_owned),
        success: false,
        errors: errors.to_vec(),
        created: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body_of(records: &[Record], object: &str) -> Value {
        serde_json::to_value(CollectionBody {
            all_or_none: false,
            records: (records, object),
        })
        .unwrap()
    }

    #[test]
    fn sets_attributes_type() {
        let r: Record = serde_json::from_value(json!({"Name": "A"})).unwrap();
        assert_eq!(
            body_of(std::slice::from_ref(&r), "Account"),
            json!({"allOrNone": false, "records": [{"Name": "A", "attributes": {"type": "Account"}}]})
        );
        let r: Record = serde_json::from_value(
            json!({"attributes": {"type": "Contact", "referenceId": "r1"}, "LastName": "B"}),
        )
        .unwrap();
        // A record cannot redirect itself to another object; its other attributes stay.
        let body = body_of(&[r.clone(), r], "Account");
        assert_eq!(
            body["records"][1],
            json!({"LastName": "B", "attributes": {"type": "Account", "referenceId": "r1"}})
        );
        // The key appears once (a JSON object with two `type` keys would be ambiguous).
        let text = serde_json::to_string(&CollectionBody {
            all_or_none: true,
            records: (
                &[serde_json::from_value(json!({"attributes": {"type": "Contact"}})).unwrap()],
                "Account",
            ),
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"allOrNone":true,"records":[{"attributes":{"type":"Account"}}]}"#
        );
    }

    #[test]
    fn parses_mixed_results() {
        let body = r#"[{"id":"001000000000001AAA","success":true,"errors":[]},
            {"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Name]","fields":["Name"]}]}]"#;
        let results: Vec<CollectionResult> = serde_json::from_str(body).unwrap();
        assert!(results[0].success);
        assert_eq!(
            results[1].errors[0].error_code,
            ErrorCode::RequiredFieldMissing
        );
        assert_eq!(results[1].id, None);
    }
}
