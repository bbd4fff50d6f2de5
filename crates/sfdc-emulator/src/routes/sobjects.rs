//! sObject routes: describe global / basic info / describe, create, retrieve, update,
//! delete, and upsert by external id.

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::ApiVersion;
use crate::error::{SfError, json_response};
use crate::extract::{SfJson, body_object};
use crate::ids;
use crate::state::AppState;
use crate::store::{ObjectSchema, UpsertError, render_record};

/// sObject routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/sobjects", get(describe_global))
        .route("/sobjects/{object}", get(sobject_info).post(sobject_create))
        .route("/sobjects/{object}/describe", get(sobject_describe))
        .route(
            "/sobjects/{object}/{id}",
            get(sobject_retrieve)
                .patch(sobject_update)
                .delete(sobject_delete)
                .post(sobject_create_by_id),
        )
        .route(
            "/sobjects/{object}/{field}/{value}",
            get(sobject_retrieve_by_ext)
                .patch(sobject_upsert)
                .post(sobject_upsert)
                .delete(sobject_delete_by_ext),
        )
}

fn object_urls(v: &str, name: &str) -> Value {
    json!({
        "sobject": format!("/services/data/v{v}/sobjects/{name}"),
        "describe": format!("/services/data/v{v}/sobjects/{name}/describe"),
        "rowTemplate": format!("/services/data/v{v}/sobjects/{name}/{{ID}}"),
    })
}

fn object_summary(o: &ObjectSchema, v: &str) -> Value {
    json!({
        "activateable": false,
        "createable": true,
        "custom": o.custom,
        "customSetting": false,
        "deletable": true,
        "deprecatedAndHidden": false,
        "feedEnabled": false,
        "keyPrefix": o.key_prefix,
        "label": o.label,
        "labelPlural": o.label_plural,
        "layoutable": true,
        "mergeable": !o.custom,
        "mruEnabled": true,
        "name": o.name,
        "queryable": true,
        "replicateable": true,
        "retrieveable": true,
        "searchable": true,
        "triggerable": true,
        "undeletable": true,
        "updateable": true,
        "urls": object_urls(v, &o.name),
    })
}

async fn describe_global(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
) -> Response {
    let org = state.read();
    let list: Vec<Value> = org
        .objects()
        .iter()
        .map(|o| object_summary(o, v.0))
        .collect();
    drop(org);
    json_response(
        StatusCode::OK,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
    )
}

async fn sobject_info(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object)): Path<(String, String)>,
) -> Result<Response, SfError> {
    let org = state.read();
    let o = org.object(&object).ok_or_else(SfError::not_found)?;
    let body = json!({"objectDescribe": object_summary(o, v.0), "recentItems": []});
    Ok(json_response(StatusCode::OK, body))
}

async fn sobject_describe(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object)): Path<(String, String)>,
) -> Result<Response, SfError> {
    let org = state.read();
    let o = org.object(&object).ok_or_else(SfError::not_found)?;
    let mut body = object_summary(o, v.0);
    let fields: Vec<Value> = o.fields.iter().map(super::describe::field).collect();
    let children: Vec<Value> = org
        .objects()
        .iter()
        .flat_map(|child| {
            child
                .fields
                .iter()
                .filter(|f| f.reference_to.iter().any(|r| r.eq_ignore_ascii_case(&o.name)))
                .map(move |f| {
                    json!({
                        "cascadeDelete": false,
                        "childSObject": child.name,
                        "deprecatedAndHidden": false,
                        "field": f.name,
                        "junctionIdListNames": [],
                        "junctionReferenceTo": [],
                        "relationshipName": if child.custom { Value::String(format!("{}__r", child.name.trim_end_matches("__c"))) } else { Value::String(child.label_plural.replace(' ', "")) },
                        "restrictedDelete": false,
                    })
                })
        })
        .collect();
    drop(org);
    if let Some(m) = body.as_object_mut() {
        super::describe::add_object_keys(m);
        m.insert("childRelationships".into(), Value::Array(children));
        m.insert("fields".into(), Value::Array(fields));
        m.insert("recordTypeInfos".into(), json!([]));
        m.insert(
            "supportedScopes".into(),
            json!([{"label": "All records", "name": "everything"}]),
        );
    }
    Ok(json_response(StatusCode::OK, body))
}

fn create_ok(id: &str) -> Response {
    json_response(
        StatusCode::CREATED,
        json!({"id": id, "success": true, "errors": []}),
    )
}

async fn sobject_create(
    State(state): State<AppState>,
    Path((_ver, object)): Path<(String, String)>,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    let fields = body_object(body)?;
    let id = state.write().create(&object, &fields)?;
    Ok(create_ok(&id))
}

/// `POST /sobjects/{Obj}/Id` creates (v37+); other POSTs on a record URL are not allowed.
async fn sobject_create_by_id(
    State(state): State<AppState>,
    Path((_ver, object, seg)): Path<(String, String, String)>,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    if !seg.eq_ignore_ascii_case("Id") {
        return Err(SfError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "HTTP Method 'POST' not allowed. Allowed are HEAD,GET,PATCH,DELETE",
        ));
    }
    let fields = body_object(body)?;
    let id = state.write().create(&object, &fields)?;
    Ok(create_ok(&id))
}

/// Interprets the segment after the object: an id, or an error.
fn record_segment(o: &ObjectSchema, seg: &str) -> Result<(), SfError> {
    if ids::to_18(seg).is_some() {
        return Ok(());
    }
    if seg.starts_with(o.key_prefix.as_str()) && seg.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(SfError::malformed_id(&o.label, seg));
    }
    Err(SfError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {seg}"),
    ))
}

#[derive(Debug, Deserialize)]
struct FieldsParam {
    #[serde(default)]
    fields: Option<String>,
}

fn render(
    o: &ObjectSchema,
    rec: &crate::store::Record,
    v: &str,
    fields: Option<&str>,
) -> Result<Response, SfError> {
    let list: Option<Vec<&str>> =
        fields.map(|f| f.split(',').filter(|s| !s.trim().is_empty()).collect());
    let body = render_record(o, rec, v, list.as_deref())?;
    Ok(json_response(StatusCode::OK, body))
}

async fn sobject_retrieve(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object, id)): Path<(String, String, String)>,
    Query(p): Query<FieldsParam>,
) -> Result<Response, SfError> {
    let org = state.read();
    let o = org.object(&object).ok_or_else(SfError::not_found)?;
    record_segment(o, &id)?;
    let rec = org.retrieve(&object, &id)?;
    render(o, rec, v.0, p.fields.as_deref())
}

async fn sobject_update(
    State(state): State<AppState>,
    Path((_ver, object, id)): Path<(String, String, String)>,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    {
        let org = state.read();
        let o = org.object(&object).ok_or_else(SfError::not_found)?;
        record_segment(o, &id)?;
    }
    let fields = body_object(body)?;
    state.write().update(&object, &id, &fields)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn sobject_delete(
    State(state): State<AppState>,
    Path((_ver, object, id)): Path<(String, String, String)>,
) -> Result<Response, SfError> {
    {
        let org = state.read();
        let o = org.object(&object).ok_or_else(SfError::not_found)?;
        record_segment(o, &id)?;
    }
    state.write().delete_in(&object, &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The single record matching an external id value, for GET/DELETE by external id.
fn find_one(
    state: &AppState,
    object: &str,
    field: &str,
    value: &str,
) -> Result<Result<String, Vec<String>>, SfError> {
    let org = state.read();
    let o = org.object(object).ok_or_else(SfError::not_found)?;
    let f = o.field(field).ok_or_else(SfError::not_found)?;
    if f.name == "Id" {
        return Ok(Ok(value.to_owned()));
    }
    if !f.external_id {
        return Err(SfError::not_found());
    }
    let ids = org.find_by_field(object, &f.name, value)?;
    match ids.len() {
        0 => Err(SfError::not_found()),
        1 => Ok(Ok(ids.into_iter().next().unwrap_or_default())),
        _ => Ok(Err(ids)),
    }
}

fn multiple_choices(v: &str, object: &str, ids: &[String]) -> Response {
    let urls: Vec<Value> = ids
        .iter()
        .map(|id| Value::String(format!("/services/data/v{v}/sobjects/{object}/{id}")))
        .collect();
    json_response(StatusCode::MULTIPLE_CHOICES, Value::Array(urls))
}

async fn sobject_retrieve_by_ext(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object, field, value)): Path<(String, String, String, String)>,
    Query(p): Query<FieldsParam>,
) -> Result<Response, SfError> {
    let id = match find_one(&state, &object, &field, &value)? {
        Ok(id) => id,
        Err(ids) => {
            let name = state
                .read()
                .object(&object)
                .map(|o| o.name.clone())
                .unwrap_or(object);
            return Ok(multiple_choices(v.0, &name, &ids));
        }
    };
    let org = state.read();
    let o = org.object(&object).ok_or_else(SfError::not_found)?;
    let rec = org.retrieve(&object, &id)?;
    render(o, rec, v.0, p.fields.as_deref())
}

async fn sobject_delete_by_ext(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object, field, value)): Path<(String, String, String, String)>,
) -> Result<Response, SfError> {
    let id = match find_one(&state, &object, &field, &value)? {
        Ok(id) => id,
        Err(ids) => {
            let name = state
                .read()
                .object(&object)
                .map(|o| o.name.clone())
                .unwrap_or(object);
            return Ok(multiple_choices(v.0, &name, &ids));
        }
    };
    state.write().delete_in(&object, &id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A REST upsert body must not repeat the external-id field of the URL (even with the same
/// value): 400 `INVALID_FIELD`, as for any field the call may not write. (Collections upserts
/// carry the key in each record by design and are not affected.)
fn repeated_external_id(
    state: &AppState,
    object: &str,
    field: &str,
    body: &Map<String, Value>,
) -> Result<(), SfError> {
    let org = state.read();
    let Some(f) = org
        .object(object)
        .and_then(|o| o.field(field))
        .filter(|f| f.external_id)
    else {
        return Ok(());
    };
    if body.keys().any(|k| k.eq_ignore_ascii_case(&f.name)) {
        return Err(SfError::bad_request(
            "INVALID_FIELD",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                f.name
            ),
        )
        .with_fields([f.name.clone()]));
    }
    Ok(())
}

async fn sobject_upsert(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, object, field, value)): Path<(String, String, String, String)>,
    SfJson(body): SfJson,
) -> Result<Response, SfError> {
    let fields = body_object(body)?;
    repeated_external_id(&state, &object, &field, &fields)?;
    let result = state.write().upsert(&object, &field, &value, &fields);
    match result {
        Ok((id, true)) => {
            let mut body = json!({"id": id, "success": true, "errors": []});
            if v.major() >= 46
                && let Some(m) = body.as_object_mut()
            {
                m.insert("created".into(), Value::Bool(true));
            }
            Ok(json_response(StatusCode::CREATED, body))
        }
        Ok((id, false)) => {
            if v.major() >= 46 {
                Ok(json_response(
                    StatusCode::OK,
                    json!({"id": id, "success": true, "errors": [], "created": false}),
                ))
            } else {
                Ok(StatusCode::NO_CONTENT.into_response())
            }
        }
        Err(UpsertError::MultipleMatches(ids)) => {
            let name = state
                .read()
                .object(&object)
                .map(|o| o.name.clone())
                .unwrap_or(object);
            Ok(multiple_choices(v.0, &name, &ids))
        }
        Err(UpsertError::Failed(e)) => Err(e),
    }
}
