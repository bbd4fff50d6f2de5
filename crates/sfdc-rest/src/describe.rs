//! Describe: the global list of objects and per-object metadata (cached per client).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use http::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::path::check_object;

/// The answer of `GET sobjects` (describe global).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DescribeGlobal {
    /// Character encoding of the org, e.g. `UTF-8`.
    #[serde(default)]
    pub encoding: Option<String>,
    /// Maximum records per Collections call (200).
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    /// The objects visible to the user.
    pub sobjects: Vec<SObjectSummary>,
}

/// One object in [`DescribeGlobal`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SObjectSummary {
    /// API name, e.g. `Account`.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// `true` for custom objects.
    #[serde(default)]
    pub custom: bool,
    /// Record id prefix, e.g. `001`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// The user can create records.
    #[serde(default)]
    pub createable: bool,
    /// The user can update records.
    #[serde(default)]
    pub updateable: bool,
    /// The user can delete records.
    #[serde(default)]
    pub deletable: bool,
    /// The object can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// Other keys, as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// The answer of `GET sobjects/{object}/describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SObjectDescribe {
    /// API name in canonical casing, e.g. `Account`.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// `true` for custom objects.
    #[serde(default)]
    pub custom: bool,
    /// Record id prefix, e.g. `001`.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// The user can create records.
    #[serde(default)]
    pub createable: bool,
    /// The user can update records.
    #[serde(default)]
    pub updateable: bool,
    /// The user can delete records.
    #[serde(default)]
    pub deletable: bool,
    /// The object can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// The fields.
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
    /// Other keys (`childRelationships`, `recordTypeInfos`, `urls`, …), as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl SObjectDescribe {
    /// Returns the field with this API name (case-insensitive, as Salesforce treats names).
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// One field of [`SObjectDescribe`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FieldDescribe {
    /// API name, e.g. `Email`.
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Salesforce type, e.g. `string`, `email`, `reference`, `datetime`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Maximum length for text types.
    #[serde(default)]
    pub length: u32,
    /// The field accepts null.
    #[serde(default)]
    pub nillable: bool,
    /// The field can be set on create.
    #[serde(default)]
    pub createable: bool,
    /// The field can be updated.
    #[serde(default)]
    pub updateable: bool,
    /// Values are unique.
    #[serde(default)]
    pub unique: bool,
    /// The field is an external id (usable for upsert).
    #[serde(default)]
    pub external_id: bool,
    /// The field can identify a record (Id, external ids, …).
    #[serde(default)]
    pub id_lookup: bool,
    /// The field can be used in WHERE.
    #[serde(default)]
    pub filterable: bool,
    /// Salesforce fills the field on create when it is omitted.
    #[serde(default)]
    pub defaulted_on_create: bool,
    /// `true` for custom fields.
    #[serde(default)]
    pub custom: bool,
    /// Target objects of a reference field.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// Other keys (`picklistValues`, `precision`, …), as received.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Per-client cache of object describes, keyed by lower-cased object name. Each entry is a
/// once-cell, so concurrent first calls for one object share a single request.
#[derive(Debug, Default)]
pub(crate) struct DescribeCache {
    entries: Mutex<HashMap<String, Arc<OnceCell<Arc<SObjectDescribe>>>>>,
}

impl DescribeCache {
    fn cell(&self, key: &str) -> Arc<OnceCell<Arc<SObjectDescribe>>> {
        match self.entries.lock() {
            Ok(mut map) => Arc::clone(map.entry(key.to_owned()).or_default()),
            // A poisoned lock only means another thread panicked mid-insert: skip the cache.
            Err(_) => Arc::new(OnceCell::new()),
        }
    }

    fn remove(&self, key: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }
}

impl Client {
    /// Lists the org's objects (`GET sobjects`). Not cached.
    ///
    /// # Errors
    ///
    /// The errors of [`crate::RequestBuilder::send`]; [`crate::Error::Decode`] for an unexpected
    /// shape.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn describe_global(&self) -> Result<DescribeGlobal> {
        self.request(Method::GET, "sobjects")
            .path_template("sobjects")
            .send()
            .await?
            .json()
            .await
    }

    /// Describes an object (`GET sobjects/{object}/describe`); the answer is cached per client (and
    /// shared by its clones) under the case-insensitive name until [`Client::forget_describe`].
    ///
    /// Concurrent first calls for the same object share one request; a failed fetch is not cached.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidInput`] for a bad name; [`crate::Error::is_not_found`] for an unknown
    /// object.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object))]
    pub async fn describe(&self, object: &str) -> Result<Arc<SObjectDescribe>> {
        check_object(object)?;
        let key = object.to_ascii_lowercase();
        let cell = self.inner.describe.cell(&key);
        let described = cell
            .get_or_try_init(|| async {
                let described: SObjectDescribe = self
                    .request(Method::GET, &format!("sobjects/{object}/describe"))
                    .path_template("sobjects/{object}/describe")
                    .send()
                    .await?
                    .json()
                    .await?;
                Ok::<_, crate::Error>(Arc::new(described))
            })
            .await?;
        Ok(Arc::clone(described))
    }

    /// Returns the cached describe of `object`, if the client has one (no request).
    pub fn cached_describe(&self, object: &str) -> Option<Arc<SObjectDescribe>> {
        self.inner
            .describe
            .cell(&object.to_ascii_lowercase())
            .get()
            .map(Arc::clone)
    }

    /// Puts a describe of `object` obtained another way (e.g. a Composite subrequest,
    /// [`crate::composite::Subrequest::describe`]) in the client's cache, and returns the
    /// cached one: a describe already cached is kept.
    pub fn remember_describe(
        &self,
        object: &str,
        describe: SObjectDescribe,
    ) -> Arc<SObjectDescribe> {
        let cell = self.inner.describe.cell(&object.to_ascii_lowercase());
        let describe = Arc::new(describe);
        match cell.set(Arc::clone(&describe)) {
            Ok(()) => describe,
            // Cached already, or a request for it in flight: keep the cache as it is.
            Err(_) => cell.get().map_or(describe, Arc::clone),
        }
    }

    /// Drops the cached describe of `object` (after a schema change).
    pub fn forget_describe(&self, object: &str) {
        self.inner.describe.remove(&object.to_ascii_lowercase());
    }
}
