//! sObject Collections: create, update, upsert, delete and retrieve of up to 200 records
//! in one call, with `allOrNone` rollback.

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, patch};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::collections_body::{self, MAX_RECORDS, too_many};
use crate::app::ApiVersion;
use crate::error::{SfError, json_response};
use crate::extract::SfBody;
use crate::state::AppState;
use crate::store::{Org, RecordBody, UpsertError, WriteFields, render_record};

/// Collections routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/composite/sobjects",
            get(collections_not_allowed)
                .post(collections_create)
                .patch(collections_update)
                .delete(collections_delete),
        )
        .route("/composite/sobjects/{object}", get(collections_retrieve))
        .route(
            "/composite/sobjects/{object}/{field}",
            patch(collections_upsert),
        )
}

async fn collections_not_allowed() -> SfError {
    SfError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "HTTP Method 'GET' not allowed. Allowed are POST,PATCH,DELETE",
    )
}

/// One item's outcome.
struct Item {
    id: Option<String>,
    created: Option<bool>,
    error: Option<SfError>,
}

impl Item {
    fn ok(id: String, created: Option<bool>) -> Self {
        Item {
            id: Some(id),
            created,
            error: None,
        }
    }

    fn failed(id: Option<String>, e: SfError) -> Self {
        Item {
            id,
            created: None,
            error: Some(e),
        }
    }
}

/// The `attributes.type` of a record, or the request-level 400.
fn record_type(org: &Org, rec: &RecordBody<'_>) -> Result<String, SfError> {
    let t = rec
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            SfError::bad_request(
                "INVALID_TYPE",
                "Must specify a type in the attributes field of each record: {\"attributes\" : {\"type\" : \"Account\"}}",
            )
        })?;
    org.object(t).map(|o| o.name.clone()).ok_or_else(|| {
        SfError::bad_request(
            "INVALID_TYPE",
            format!("sObject type '{t}' is not supported."),
        )
    })
}

fn rolled_back() -> SfError {
    SfError::bad_request(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
    )
    .with_fields(Vec::<String>::new())
}

/// Runs the items: first `prepare` per item under the org's shared lock (taken per item,
/// so other requests' writes interleave), where parsing, field checks and record building
/// happen; then, under one exclusive lock, `apply` per item in order with its prepared
/// form. An item whose preparation failed gets `None` and is run in full under the
/// exclusive lock, so it sees the items before it (and reports what a sequential run
/// reports). Rolls back on failure when `all_or_none`.
///
/// A value of the wrong JSON type (`JSON_PARSER_ERROR`) in any record fails the whole
/// request, as Salesforce deserializes the request before running any item: everything is
/// rolled back and that error is the answer.
fn run_items<T, P>(
    state: &AppState,
    all_or_none: bool,
    inputs: Vec<T>,
    prepare: impl Fn(&Org, &T) -> Option<P>,
    mut apply: impl FnMut(&mut Org, T, Option<P>) -> Item,
) -> Result<Vec<Item>, SfError> {
    let prepared: Vec<Option<P>> = inputs.iter().map(|t| prepare(&state.read(), t)).collect();
    let mut org = state.write();
    // Without allOrNone, and with every item prepared (no item can then fail with
    // `JSON_PARSER_ERROR`: the apply steps check state only), nothing is ever rolled back, so
    // no undo log is kept (an enclosing all-or-none Composite call keeps its own).
    if !all_or_none && prepared.iter().all(Option::is_some) {
        return Ok(inputs
            .into_iter()
            .zip(prepared)
            .map(|(t, p)| apply(&mut org, t, p))
            .collect());
    }
    org.begin();
    let mut items: Vec<Item> = inputs
        .into_iter()
        .zip(prepared)
        .map(|(t, p)| apply(&mut org, t, p))
        .collect();
    if let Some(e) = items
        .iter()
        .filter_map(|i| i.error.as_ref())
        .find(|e| e.error_code == "JSON_PARSER_ERROR")
    {
        let e = e.clone();
        org.rollback();
        return Err(e);
    }
    if all_or_none && items.iter().any(|i| i.error.is_some()) {
        org.rollback();
        for it in &mut items {
            if it.error.is_none() {
                it.error = Some(rolled_back());
            }
            // A create that was rolled back names no record: its id no longer exists.
            if it.id.as_deref().is_some_and(|id| org.find(id).is_none()) {
                it.id = None;
            }
        }
    } else {
        org.commit();
    }
    Ok(items)
}

/// No preparation: the item runs in full under the exclusive lock.
fn unprepared<T>(_: &Org, _: &T) -> Option<()> {
    None
}

/// Whether failed items name their record: Salesforce omits `id` on failed update items
/// (with or without allOrNone) but keeps it on failed deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailedIds {
    Keep,
    Omit,
}

fn respond(items: Vec<Item>, failed_ids: FailedIds) -> Response {
    let written = items.len();
    let out: Vec<Value> = items
        .into_iter()
        .map(|it| {
            let mut m = Map::with_capacity(4);
            match it.error {
                None => {
                    m.insert("id".into(), it.id.map_or(Value::Null, Value::String));
                    m.insert("success".into(), Value::Bool(true));
                    m.insert("errors".into(), Value::Array(Vec::new()));
                }
                Some(e) => {
                    if failed_ids == FailedIds::Keep
                        && let Some(id) = it.id
                    {
                        m.insert("id".into(), Value::String(id));
                    }
                    m.insert("success".into(), Value::Bool(false));
                    m.insert("errors".into(), Value::Array(vec![e.to_item_json()]));
                }
            }
            if let Some(c) = it.created {
                m.insert("created".into(), Value::Bool(c));
            }
            Value::Object(m)
        })
        .collect();
    crate::cost::mark(json_response(StatusCode::OK, Value::Array(out)), written)
}

async fn collections_create(
    State(state): State<AppState>,
    body: SfBody,
) -> Result<Response, SfError> {
    let (all_or_none, records) = collections_body::parse(&body)?;
    let typed = {
        let org = state.read();
        records
            .into_iter()
            .map(|r| record_type(&org, &r).map(|t| (t, r)))
            .collect::<Result<Vec<_>, _>>()?
    };
    let items = run_items(
        &state,
        all_or_none,
        typed,
        |org, (t, rec)| org.prepare_create(t, rec).ok(),
        |org, (t, rec), prepared| {
            let created = match prepared {
                Some(p) => org.apply_create(p),
                None => org.create(&t, &rec),
            };
            match created {
                Ok(id) => Item::ok(id, None),
                Err(e) => Item::failed(None, e),
            }
        },
    );
    Ok(respond(items?, FailedIds::Keep))
}

fn record_id(rec: &RecordBody<'_>) -> Option<String> {
    rec.pairs()
        .find(|(k, _)| k.eq_ignore_ascii_case("id"))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

async fn collections_update(
    State(state): State<AppState>,
    body: SfBody,
) -> Result<Response, SfError> {
    let (all_or_none, records) = collections_body::parse(&body)?;
    let typed = {
        let org = state.read();
        records
            .into_iter()
            .map(|r| record_type(&org, &r).map(|t| (t, r)))
            .collect::<Result<Vec<_>, _>>()?
    };
    let items = run_items(
        &state,
        all_or_none,
        typed,
        |org, (t, rec)| {
            let id = record_id(rec)?;
            org.prepare_update(t, &id, rec).ok()
        },
        |org, (t, rec), prepared| {
            let updated = match prepared {
                Some(p) => org.apply_update(p),
                None => {
                    let Some(id) = record_id(&rec) else {
                        return Item::failed(
                            None,
                            SfError::bad_request(
                                "MISSING_ARGUMENT",
                                "Id not specified in an update call",
                            )
                            .with_fields(Vec::<String>::new()),
                        );
                    };
                    org.update(&t, &id, &rec)
                }
            };
            match updated {
                Ok(id18) => Item::ok(id18, None),
                Err(e) => Item::failed(None, e),
            }
        },
    );
    Ok(respond(items?, FailedIds::Omit))
}

async fn collections_upsert(
    State(state): State<AppState>,
    Path((_ver, object, field)): Path<(String, String, String)>,
    body: SfBody,
) -> Result<Response, SfError> {
    let (all_or_none, records) = collections_body::parse(&body)?;
    let (object, ext) = {
        let org = state.read();
        let o = org.object(&object).ok_or_else(SfError::not_found)?;
        let f = o.field(&field).filter(|f| f.external_id || f.name == "Id").ok_or_else(|| {
            SfError::bad_request(
                "INVALID_FIELD",
                format!("Field name provided, {field} is not an External ID or indexed field for {}", o.name),
            )
        })?;
        (o.name.clone(), f.name.clone())
    };
    let items = run_items(&state, all_or_none, records, unprepared, |org, rec, _| {
        let value = rec
            .pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(&ext))
            .and_then(|(_, v)| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let Some(value) = value else {
            return Item::failed(
                None,
                SfError::bad_request("MISSING_ARGUMENT", format!("{ext} not specified"))
                    .with_fields([ext.clone()]),
            );
        };
        let mut body = rec.clone();
        if ext == "Id" {
            body.retain(|k, _| !k.eq_ignore_ascii_case("Id"));
        }
        match org.upsert(&object, &ext, &value, &body) {
            Ok((id, created)) => Item::ok(id, Some(created)),
            Err(UpsertError::MultipleMatches(ids)) => Item::failed(
                None,
                SfError::bad_request(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{ext}: more than one record found for external id field: [{}]",
                        ids.join(", ")
                    ),
                )
                .with_fields([ext.clone()]),
            ),
            Err(UpsertError::Failed(e)) => Item::failed(None, e),
        }
    });
    Ok(respond(items?, FailedIds::Keep))
}

#[derive(Debug, Deserialize)]
struct DeleteParams {
    #[serde(default)]
    ids: Option<String>,
    #[serde(default, rename = "allOrNone")]
    all_or_none: Option<bool>,
}

async fn collections_delete(
    State(state): State<AppState>,
    Query(p): Query<DeleteParams>,
) -> Result<Response, SfError> {
    let ids: Vec<String> = p
        .ids
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Err(SfError::bad_request(
            "MISSING_ARGUMENT",
            "ids parameter is required",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many());
    }
    let items = run_items(
        &state,
        p.all_or_none.unwrap_or(false),
        ids,
        unprepared,
        |org, id, _| match org.delete(&id) {
            Ok(id18) => Item::ok(id18, None),
            Err(e) if e.error_code == "NOT_FOUND" => Item::failed(
                Some(id),
                SfError::bad_request("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
                    .with_fields(Vec::<String>::new()),
            ),
            // No record to name: the item has no id, and a lower-case message.
            Err(e) if e.error_code == "MALFORMED_ID" => Item::failed(
                None,
                SfError::bad_request("MALFORMED_ID", format!("malformed id {id}"))
                    .with_fields(Vec::<String>::new()),
            ),
            Err(e) => Item::failed(Some(id), e),
        },
    )?;
    Ok(respond(items, FailedIds::Keep))
}

#[derive(Debug, Deserialize)]
struct RetrieveParams {
    #[serde(default)]
    ids: Option<String>,
    #[serde(default)]
    fields: Option<String>,
}

async fn collections_retrieve(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object)): Path<(String, String)>,
    Query(p): Query<RetrieveParams>,
) -> Result<Response, SfError> {
    let org = state.read();
    let o = org.object(&object).ok_or_else(SfError::not_found)?;
    let fields: Vec<&str> = p
        .fields
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    if fields.is_empty() {
        return Err(SfError::bad_request(
            "MISSING_ARGUMENT",
            "fields parameter is required",
        ));
    }
    let mut out = Vec::new();
    for id in p
        .ids
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
    {
        match org.retrieve(&o.name, id) {
            Ok(rec) => out.push(render_record(o, rec, v.0, Some(&fields))?),
            Err(_) => out.push(Value::Null),
        }
    }
    drop(org);
    Ok(json_response(StatusCode::OK, Value::Array(out)))
}
