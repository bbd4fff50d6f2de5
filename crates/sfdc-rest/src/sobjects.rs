//! Single-record operations: create, retrieve, update, delete, upsert by external id.

use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::path::{check_field, check_object, encode_segment};

/// A record as JSON: field API name to value (Salesforce adds an `attributes` object on reads).
pub type Record = serde_json::Map<String, serde_json::Value>;

/// The body Salesforce returns for a create or an upsert.
#[derive(Debug, Deserialize)]
struct SaveResult {
    id: String,
    #[serde(default)]
    created: Option<bool>,
}

/// The outcome of [`Client::upsert`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UpsertOutcome {
    /// No record matched; one was created (HTTP 201).
    Created {
        /// The new record's id.
        id: String,
    },
    /// Exactly one record matched and was updated (HTTP 200 with the id from API v46.0, or 204
    /// without a body on older versions).
    Updated {
        /// The updated record's id, when Salesforce returned it.
        id: Option<String>,
    },
    /// Several records have this external-id value (HTTP 300); nothing was changed.
    MultipleMatches {
        /// The matching records' URLs, e.g. `/services/data/v62.0/sobjects/Account/001…`.
        urls: Vec<String>,
    },
}

impl Client {
    /// Creates a record and returns its id (`POST sobjects/{object}`).
    ///
    /// Not idempotent: after a timeout or reset the request is not resent (see [`crate::retry`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad object name; [`Error::Api`] for Salesforce's answer (e.g.
    /// `REQUIRED_FIELD_MISSING`, `INVALID_FIELD`, `DUPLICATE_VALUE`; [`Error::is_not_found`] for an
    /// unknown object); the errors of [`crate::RequestBuilder::send`].
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object))]
    pub async fn create<T: Serialize + ?Sized>(&self, object: &str, fields: &T) -> Result<String> {
        check_object(object)?;
        let saved: SaveResult = self
            .request(Method::POST, &format!("sobjects/{object}"))
            .path_template("sobjects/{object}")
            .json(fields)
            .send()
            .await?
            .json()
            .await?;
        Ok(saved.id)
    }

    /// Retrieves a record by id (`GET sobjects/{object}/{id}`), with only `fields` when not empty.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad object or field name or empty id; [`Error::is_not_found`]
    /// when the record does not exist; `MALFORMED_ID` for a bad id.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object))]
    pub async fn retrieve(&self, object: &str, id: &str, fields: &[&str]) -> Result<Record> {
        check_object(object)?;
        for field in fields {
            check_field("field name", field)?;
        }
        let id = encode_segment("record id", id)?;
        let mut req = self
            .request(Method::GET, &format!("sobjects/{object}/{id}"))
            .path_template("sobjects/{object}/{id}");
        let joined = fields.join(",");
        if !fields.is_empty() {
            req = req.query(&[("fields", joined.as_str())]);
        }
        req.send().await?.json().await
    }

    /// Updates fields of a record (`PATCH sobjects/{object}/{id}`; Salesforce answers 204).
    ///
    /// # Errors
    ///
    /// As [`Client::retrieve`], plus validation errors such as `STRING_TOO_LONG`.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object))]
    pub async fn update<T: Serialize + ?Sized>(
        &self,
        object: &str,
        id: &str,
        fields: &T,
    ) -> Result<()> {
        check_object(object)?;
        let id = encode_segment("record id", id)?;
        self.request(Method::PATCH, &format!("sobjects/{object}/{id}"))
            .path_template("sobjects/{object}/{id}")
            .json(fields)
            .send()
            .await?;
        Ok(())
    }

    /// Deletes a record (`DELETE sobjects/{object}/{id}`; Salesforce answers 204).
    ///
    /// Retried after ambiguous failures (idempotent); a replay of a delete that had been applied
    /// answers 404 `ENTITY_IS_DELETED`.
    ///
    /// # Errors
    ///
    /// As [`Client::retrieve`]; [`Error::is_not_found`] for `ENTITY_IS_DELETED` / `NOT_FOUND`.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object))]
    pub async fn delete(&self, object: &str, id: &str) -> Result<()> {
        check_object(object)?;
        let id = encode_segment("record id", id)?;
        self.request(Method::DELETE, &format!("sobjects/{object}/{id}"))
            .path_template("sobjects/{object}/{id}")
            .send()
            .await?;
        Ok(())
    }

    /// Creates or updates the record whose `external_id_field` equals `value`
    /// (`PATCH sobjects/{object}/{field}/{value}`, value percent-encoded).
    ///
    /// Idempotent, so retried after ambiguous failures. `fields` must not contain `Id` or the
    /// external-id field itself.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad name or an empty/`.`/`..` value; [`Error::is_not_found`]
    /// when the object or external-id field does not exist (404 `NOT_FOUND`); `INVALID_FIELD` and
    /// other validation errors.
    #[tracing::instrument(level = "debug", skip_all, fields(sobject = object, field = external_id_field))]
    pub async fn upsert<T: Serialize + ?Sized>(
        &self,
        object: &str,
        external_id_field: &str,
        value: &str,
        fields: &T,
    ) -> Result<UpsertOutcome> {
        check_object(object)?;
        check_field("external id field", external_id_field)?;
        let value = encode_segment("external id value", value)?;
        let resp = self
            .request(
                Method::PATCH,
                &format!("sobjects/{object}/{external_id_field}/{value}"),
            )
            .path_template("sobjects/{object}/{field}/{value}")
            .json(fields)
            .send()
            .await?;
        let status = resp.status();
        match status {
            StatusCode::CREATED => {
                let saved: SaveResult = resp.json().await?;
                Ok(UpsertOutcome::Created { id: saved.id })
            }
            StatusCode::OK => {
                let saved: SaveResult = resp.json().await?;
                Ok(if saved.created == Some(true) {
                    UpsertOutcome::Created { id: saved.id }
                } else {
                    UpsertOutcome::Updated { id: Some(saved.id) }
                })
            }
            StatusCode::NO_CONTENT => Ok(UpsertOutcome::Updated { id: None }),
            StatusCode::MULTIPLE_CHOICES => {
                let urls: Vec<String> = resp.json().await?;
                Ok(UpsertOutcome::MultipleMatches { urls })
            }
            other => Err(Error::UnexpectedResponse {
                status: other,
                message: "upsert answered with a status other than 200, 201, 204 or 300".into(),
            }),
        }
    }
}
