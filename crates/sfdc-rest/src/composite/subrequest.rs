//! One Composite subrequest: its method, path, reference id, body, weight and idempotency.

use std::fmt;

use http::Method;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::collections::{COLLECTION_CHUNK, CollectionBody, Kind, check_ids, delete_query};
use crate::error::{Error, Result};
use crate::retry::Idempotency;
use crate::sobjects::Record;

/// One subrequest of a [`super::CompositeRequest`].
///
/// Built by the constructors below, which check names and inputs with the same rules as the
/// plain calls ([`crate::Client::create_many`], [`crate::Client::query`], …). Its path is
/// relative to the API root (`/services/data/vXX.X/`); [`crate::Client::composite`] prefixes
/// the client's API version when it sends it. `Debug` shows the method, the path without its
/// query, the reference id and the record count, never the body or the SOQL.
///
/// The body is serialised once, when the subrequest is built, and sent as those bytes.
#[derive(Clone)]
pub struct Subrequest {
    method: Method,
    path: String,
    reference_id: String,
    body: Option<Box<RawValue>>,
    idempotency: Idempotency,
    records: Option<usize>,
}

impl fmt::Debug for Subrequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subrequest")
            .field("method", &self.method)
            .field("path", &self.path.split('?').next().unwrap_or_default())
            .field("reference_id", &self.reference_id)
            .field("records", &self.records)
            .field("heavy", &self.is_heavy())
            .field("idempotency", &self.idempotency)
            .finish_non_exhaustive()
    }
}

impl Subrequest {
    /// A SOQL query (`GET query?q=…`): its first page. Heavy (it counts against
    /// [`super::COMPOSITE_MAX_HEAVY`]); safe.
    ///
    /// Inside a Composite request the query travels in the JSON body, so the 16,384-byte URI
    /// limit of a plain query does not apply; only the SOQL length does (100,000 characters,
    /// [`sfdc_match::QueryLimits::max_soql_chars`]). Follow the page's `next_records_url` with
    /// [`crate::Client::query_more`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id, an empty or over-long SOQL statement.
    pub fn query(reference_id: &str, soql: &str) -> Result<Subrequest> {
        check_reference_id(reference_id)?;
        let max = sfdc_match::QueryLimits::default().max_soql_chars;
        let chars = soql.chars().count();
        if soql.trim().is_empty() || chars > max {
            return Err(Error::InvalidInput {
                kind: "SOQL statement",
                value: soql.chars().take(80).collect(),
                reason: format!("must be 1 to {max} characters long; it has {chars}"),
            });
        }
        let q = serde_urlencoded::to_string([("q", soql)])
            .map_err(|e| Error::config(format!("cannot encode the query: {e}")))?;
        Ok(Subrequest {
            method: Method::GET,
            path: format!("query?{q}"),
            reference_id: reference_id.to_owned(),
            body: None,
            idempotency: Idempotency::Safe,
            records: None,
        })
    }

    /// Describes `object` (`GET sobjects/{object}/describe`). Not heavy; safe. Read the answer
    /// with [`super::SubResponse::describe`]; [`crate::Client::remember_describe`] puts it in the
    /// client's describe cache.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id or object name.
    pub fn describe(reference_id: &str, object: &str) -> Result<Subrequest> {
        check_reference_id(reference_id)?;
        crate::path::check_object(object)?;
        Ok(Subrequest {
            method: Method::GET,
            path: format!("sobjects/{object}/describe"),
            reference_id: reference_id.to_owned(),
            body: None,
            idempotency: Idempotency::Safe,
            records: None,
        })
    }

    /// Creates up to 200 records of `object` (`POST composite/sobjects`, `allOrNone: false`),
    /// each with `attributes.type` set to `object`. Heavy; not idempotent (a Composite request
    /// carrying it whose answer is lost is outcome-unknown, never resent).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id or object name, no records or more than
    /// [`COLLECTION_CHUNK`].
    pub fn create_many(reference_id: &str, object: &str, records: &[Record]) -> Result<Subrequest> {
        Self::collection(reference_id, object, records, Kind::Create)
    }

    /// Updates up to 200 records of `object` by their `Id` (`PATCH composite/sobjects`,
    /// `allOrNone: false`). Heavy; idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id or object name, a record without `Id`,
    /// no records or more than [`COLLECTION_CHUNK`].
    pub fn update_many(reference_id: &str, object: &str, records: &[Record]) -> Result<Subrequest> {
        Self::collection(reference_id, object, records, Kind::Update)
    }

    /// Upserts up to 200 records of `object` by `external_id_field`
    /// (`PATCH composite/sobjects/{object}/{field}`, `allOrNone: false`); the results carry
    /// `created`. Heavy; idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id, object or field name, a record without
    /// the field, no records or more than [`COLLECTION_CHUNK`].
    pub fn upsert_many(
        reference_id: &str,
        object: &str,
        external_id_field: &str,
        records: &[Record],
    ) -> Result<Subrequest> {
        Self::collection(
            reference_id,
            object,
            records,
            Kind::Upsert(external_id_field),
        )
    }

    /// Deletes up to 200 records by id (`DELETE composite/sobjects?ids=…&allOrNone=false`).
    /// Heavy; idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id, an empty id or one containing a comma,
    /// no ids or more than [`COLLECTION_CHUNK`].
    pub fn delete_many(reference_id: &str, ids: &[String]) -> Result<Subrequest> {
        check_reference_id(reference_id)?;
        check_count(ids.len())?;
        check_ids(ids)?;
        let query = serde_urlencoded::to_string(delete_query(ids, false))
            .map_err(|e| Error::config(format!("cannot encode the ids: {e}")))?;
        Ok(Subrequest {
            method: Method::DELETE,
            path: format!("composite/sobjects?{query}"),
            reference_id: reference_id.to_owned(),
            body: None,
            idempotency: Idempotency::Idempotent,
            records: Some(ids.len()),
        })
    }

    /// Any other subrequest: `method` on `path` (relative to the API root, e.g.
    /// `sobjects/Contact`, query string included and already percent-encoded) with an
    /// optional JSON body, of the given idempotency class. Values may use references to
    /// earlier subrequests (`@{refAccount.id}`). It is heavy when Salesforce counts it so: a
    /// path under `query`, `queryAll` or `composite/sobjects`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad reference id, or a path that is empty, absolute
    /// (starts with `/`) or contains `..`; [`Error::Decode`] when the body cannot be
    /// serialised.
    pub fn new(
        reference_id: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        idempotency: Idempotency,
    ) -> Result<Subrequest> {
        check_reference_id(reference_id)?;
        if path.is_empty() || path.starts_with('/') || path.contains("..") || path.contains('\\') {
            return Err(Error::InvalidInput {
                kind: "subrequest path",
                value: path.to_owned(),
                reason: "must be relative to the API root (e.g. sobjects/Account), without '..'"
                    .to_owned(),
            });
        }
        let body = body.as_ref().map(raw).transpose()?;
        Ok(Subrequest {
            method,
            path: path.to_owned(),
            reference_id: reference_id.to_owned(),
            body,
            idempotency,
            records: None,
        })
    }

    fn collection(
        reference_id: &str,
        object: &str,
        records: &[Record],
        kind: Kind<'_>,
    ) -> Result<Subrequest> {
        let _build = tracing::debug_span!("sfdc.subrequest.build").entered();
        check_reference_id(reference_id)?;
        check_count(records.len())?;
        kind.check(object, records)?;
        let endpoint = kind.endpoint(object);
        let body = raw(&CollectionBody {
            all_or_none: false,
            records: (records, object),
        })?;
        Ok(Subrequest {
            method: endpoint.method,
            path: endpoint.path,
            reference_id: reference_id.to_owned(),
            body: Some(body),
            idempotency: endpoint.idempotency,
            records: Some(records.len()),
        })
    }

    /// Returns the reference id, which names this subrequest's result.
    pub fn reference_id(&self) -> &str {
        &self.reference_id
    }

    /// Returns `true` for an sObject Collections or query operation: at most
    /// [`super::COMPOSITE_MAX_HEAVY`] of them fit in one Composite request.
    pub fn is_heavy(&self) -> bool {
        is_heavy_path(&self.path)
    }

    /// Returns the idempotency class of this subrequest alone.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }

    /// Returns the HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the path relative to the API root, query string included (e.g.
    /// `composite/sobjects`, `query?q=SELECT+Id+FROM+Lead`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the JSON body as sent (serialised when the subrequest was built), if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref().map(RawValue::get)
    }

    /// The body for the wire.
    pub(crate) fn raw_body(&self) -> Option<&RawValue> {
        self.body.as_deref()
    }

    /// Returns the number of records or ids of a Collections subrequest (`None` for others).
    pub fn record_count(&self) -> Option<usize> {
        self.records
    }
}

/// Serialises a subrequest body once.
fn raw<T: serde::Serialize + ?Sized>(body: &T) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(body)
        .map_err(|e| Error::decode("request body (JSON serialisation)", e))
}

/// Whether Salesforce counts a subrequest on `path` as an sObject Collections or query
/// operation.
fn is_heavy_path(path: &str) -> bool {
    let first = path.split(['/', '?']).next().unwrap_or_default();
    first == "query"
        || first == "queryAll"
        || path == "composite/sobjects"
        || path.starts_with("composite/sobjects/")
        || path.starts_with("composite/sobjects?")
}

/// Checks a reference id as Salesforce does: letters, digits and underscores, starting with a
/// letter or a digit.
pub(crate) fn check_reference_id(id: &str) -> Result<()> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            kind: "reference id",
            value: id.to_owned(),
            reason: "must be letters, digits and underscores, starting with a letter or a digit"
                .to_owned(),
        })
    }
}

fn check_count(n: usize) -> Result<()> {
    if n == 0 || n > COLLECTION_CHUNK {
        return Err(Error::InvalidInput {
            kind: "record count",
            value: n.to_string(),
            reason: format!(
                "a Collections subrequest carries 1 to {COLLECTION_CHUNK} records; split larger inputs"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn query_encodes_soql_and_is_heavy_and_safe() {
        let s = Subrequest::query("q1", "SELECT Id FROM Lead WHERE Email = 'a+b@x.y'").unwrap();
        assert_eq!(s.method(), Method::GET);
        assert_eq!(
            s.path(),
            "query?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27a%2Bb%40x.y%27"
        );
        assert!(s.is_heavy());
        assert_eq!(s.idempotency(), Idempotency::Safe);
        assert!(s.body().is_none());
        // Longer than a plain query URI may be, within the SOQL limit.
        let long = format!(
            "SELECT Id FROM Lead WHERE Email IN ({})",
            "'x@y.z',".repeat(3_000)
        );
        assert!(long.len() > 16_384);
        assert!(Subrequest::query("q2", &long).is_ok());
        let too_long = "x".repeat(100_001);
        assert!(Subrequest::query("q3", &too_long).is_err());
        assert!(Subrequest::query("q4", " ").is_err());
    }

    #[test]
    fn collections_shapes() {
        let create =
            Subrequest::create_many("c1", "Lead", &[rec(json!({"LastName": "A"}))]).unwrap();
        assert_eq!(create.method(), Method::POST);
        assert_eq!(create.path(), "composite/sobjects");
        assert_eq!(create.idempotency(), Idempotency::NotIdempotent);
        assert_eq!(
            create.body().unwrap(),
            r#"{"allOrNone":false,"records":[{"LastName":"A","attributes":{"type":"Lead"}}]}"#
        );
        let update = Subrequest::update_many(
            "u1",
            "Lead",
            &[rec(json!({"Id": "00Q000000000001AAA", "Company": "X"}))],
        )
        .unwrap();
        assert_eq!(update.method(), Method::PATCH);
        assert_eq!(update.idempotency(), Idempotency::Idempotent);
        assert_eq!(update.record_count(), Some(1));
        let upsert =
            Subrequest::upsert_many("s1", "Lead", "Ext__c", &[rec(json!({"Ext__c": "1"}))])
                .unwrap();
        assert_eq!(upsert.path(), "composite/sobjects/Lead/Ext__c");
        let body: Value = serde_json::from_str(upsert.body().unwrap()).unwrap();
        assert_eq!(body["records"][0]["attributes"]["type"], "Lead");
        let delete = Subrequest::delete_many(
            "d1",
            &[
                "00Q000000000001AAA".to_owned(),
                "00Q000000000002AAA".to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(delete.method(), Method::DELETE);
        assert_eq!(
            delete.path(),
            "composite/sobjects?ids=00Q000000000001AAA%2C00Q000000000002AAA&allOrNone=false"
        );
        assert_eq!(delete.idempotency(), Idempotency::Idempotent);
        for s in [&create, &update, &upsert, &delete] {
            assert!(s.is_heavy());
        }
    }

    #[test]
    fn refuses_bad_inputs() {
        let one = [rec(json!({"LastName": "A"}))];
        assert!(Subrequest::create_many("_x", "Lead", &one).is_err());
        assert!(Subrequest::create_many("a-b", "Lead", &one).is_err());
        assert!(Subrequest::create_many("", "Lead", &one).is_err());
        assert!(Subrequest::create_many("ok", "Lead/x", &one).is_err());
        assert!(Subrequest::create_many("ok", "Lead", &[]).is_err());
        let many: Vec<Record> = (0..201).map(|_| rec(json!({"LastName": "A"}))).collect();
        assert!(Subrequest::create_many("ok", "Lead", &many).is_err());
        assert!(Subrequest::create_many("ok", "Lead", &many[..200]).is_ok());
        assert!(Subrequest::update_many("ok", "Lead", &one).is_err());
        assert!(Subrequest::upsert_many("ok", "Lead", "Ext__c", &one).is_err());
        assert!(Subrequest::upsert_many("ok", "Lead", "a.b", &one).is_err());
        assert!(Subrequest::delete_many("ok", &["a,b".to_owned()]).is_err());
        assert!(Subrequest::delete_many("ok", &[]).is_err());
    }

    #[test]
    fn generic_subrequests() {
        let s = Subrequest::new(
            "acc",
            Method::POST,
            "sobjects/Account",
            Some(json!({"Name": "A"})),
            Idempotency::NotIdempotent,
        )
        .unwrap();
        assert!(!s.is_heavy());
        let q = Subrequest::new("q", Method::GET, "queryAll?q=x", None, Idempotency::Safe).unwrap();
        assert!(q.is_heavy());
        for bad in ["", "/services/data/v62.0/sobjects", "sobjects/../x"] {
            assert!(
                Subrequest::new("r", Method::GET, bad, None, Idempotency::Safe).is_err(),
                "{bad}"
            );
        }
        let debug = format!(
            "{:?}",
            Subrequest::query("q", "SELECT Email FROM Lead WHERE Email = 'secret@x.y'").unwrap()
        );
        assert!(!debug.contains("secret"), "{debug}");
    }
}
