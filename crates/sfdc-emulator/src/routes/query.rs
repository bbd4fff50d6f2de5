//! SOQL query routes: `query`, `queryAll`, and `nextRecordsUrl` pages.

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::ApiVersion;
use crate::error::{SfError, json_response};
use crate::soql::{self, SelectItem};
use crate::state::{AppState, Cursor};

/// Default and maximum page size.
const MAX_BATCH: usize = 2000;
/// Minimum page size accepted from `Sforce-Query-Options`.
const MIN_BATCH: usize = 200;

/// Query routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/query", get(query_run))
        .route("/queryAll", get(query_all_run))
        .route("/query/{locator}", get(query_more))
        .route("/queryAll/{locator}", get(query_more))
}

#[derive(Debug, Deserialize)]
struct QueryParams {
    #[serde(default)]
    q: Option<String>,
}

/// The page size from `Sforce-Query-Options: batchSize=N` (clamped to 200..=2000).
fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|kv| {
                let (k, val) = kv.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| val.trim().parse::<usize>().ok())
                    .flatten()
            })
        })
        .map(|n| n.clamp(MIN_BATCH, MAX_BATCH))
        .unwrap_or(MAX_BATCH)
}

async fn query_run(
    state: State<AppState>,
    v: Extension<ApiVersion>,
    headers: HeaderMap,
    Query(p): Query<QueryParams>,
) -> Result<Response, SfError> {
    run(&state, v.0, &headers, p.q, false)
}

async fn query_all_run(
    state: State<AppState>,
    v: Extension<ApiVersion>,
    headers: HeaderMap,
    Query(p): Query<QueryParams>,
) -> Result<Response, SfError> {
    run(&state, v.0, &headers, p.q, true)
}

fn malformed(message: &str) -> SfError {
    SfError::bad_request("MALFORMED_QUERY", message)
}

fn run(
    state: &AppState,
    v: ApiVersion,
    headers: &HeaderMap,
    q: Option<String>,
    all: bool,
) -> Result<Response, SfError> {
    let Some(text) = q else {
        return Err(malformed("A query string has to be specified"));
    };
    if text.trim().is_empty() {
        return Err(malformed("SOQL statements cannot be empty or null"));
    }
    let mut query =
        soql::parse(&text).map_err(|e| SfError::bad_request(e.error_code(), e.message()))?;
    let id_selected = query
        .select
        .iter()
        .any(|s| matches!(s, SelectItem::Field(f) if f.eq_ignore_ascii_case("Id")));
    let count_only = query.select.iter().any(|s| matches!(s, SelectItem::Count));
    if !id_selected && !count_only {
        // Selected for the `attributes.url`, removed from the output again.
        query.select.push(SelectItem::Field("Id".into()));
        query.field_refs.push(soql::FieldRef {
            path: "Id".into(),
            clause: soql::Clause::Select,
            offset: 0,
        });
    }
    let (object_name, selection) = {
        let org = state.read();
        let Some(o) = org.object(&query.from) else {
            return Err(SfError::bad_request(
                "INVALID_TYPE",
                query.at_from(&format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    query.from
                )),
            ));
        };
        let paths = super::query_join::paths(&org, o, &query);
        if !paths.is_empty() {
            // Parent relationship paths: run over joined copies of the records.
            let joined: Vec<_> = if all {
                org.all_records(&o.name)
                    .map(|r| super::query_join::join(&org, r, &paths))
                    .collect()
            } else {
                org.live_records(&o.name)
                    .map(|r| super::query_join::join(&org, r, &paths))
                    .collect()
            };
            let fields = super::query_join::Joined {
                org: &org,
                object: o,
            };
            let mut selection = soql::execute(&query, &fields, joined.iter())
                .map_err(|e| SfError::bad_request(e.error_code(), e.message()))?;
            for row in &mut selection.records {
                let source = row
                    .get("Id")
                    .and_then(Value::as_str)
                    .and_then(|id| org.find(id))
                    .map(|(_, r)| r);
                super::query_join::nest(&org, row, source, &paths, v.0);
            }
            (o.name.clone(), selection)
        } else {
            let indexed = (!all)
                .then_some(query.condition.as_ref())
                .flatten()
                .and_then(|c| super::query_plan::index_probe(c, &query.from))
                .and_then(|(field, values)| org.indexed_records(&o.name, field, &values));
            let result = match (all, indexed) {
                (true, _) => soql::execute(&query, o, org.all_records(&o.name)),
                (false, Some(records)) => soql::execute(&query, o, records.into_iter()),
                (false, None) => soql::execute(&query, o, org.live_records(&o.name)),
            };
            let selection =
                result.map_err(|e| SfError::bad_request(e.error_code(), e.message()))?;
            (o.name.clone(), selection)
        }
    };
    if selection.count_only {
        return Ok(json_response(
            StatusCode::OK,
            json!({"totalSize": selection.total_size, "done": true, "records": []}),
        ));
    }
    let prefix = format!("/services/data/v{}/sobjects/{object_name}/", v.0);
    let records: Vec<Value> = selection
        .records
        .into_iter()
        .map(|mut rec| {
            let id = if id_selected {
                rec.get("Id").and_then(Value::as_str).map(str::to_owned)
            } else {
                rec.shift_remove("Id")
                    .and_then(|v| v.as_str().map(str::to_owned))
            };
            let id = id.unwrap_or_default();
            let mut url = String::with_capacity(prefix.len() + id.len());
            url.push_str(&prefix);
            url.push_str(&id);
            let mut attributes = Map::with_capacity(2);
            attributes.insert("type".into(), Value::String(object_name.clone()));
            attributes.insert("url".into(), Value::String(url));
            let attributes = Value::Object(attributes);
            if rec.contains_key("attributes") {
                // A selected name `attributes` (an alias) keeps the first place, its own value.
                let mut out = Map::with_capacity(rec.len() + 1);
                out.insert("attributes".into(), attributes);
                out.extend(rec);
                return Value::Object(out);
            }
            // Put first in the record's own map (no second map built per record).
            rec.shift_insert(0, "attributes".into(), attributes);
            Value::Object(rec)
        })
        .collect();
    let batch = batch_size(headers);
    if records.len() <= batch {
        return Ok(json_response(
            StatusCode::OK,
            result_page(records.len(), true, records),
        ));
    }
    let cursor = Cursor {
        records,
        batch_size: batch,
    };
    let page = page_body(&cursor, v, None, 0);
    let id = state.put_cursor(cursor);
    Ok(json_response(
        StatusCode::OK,
        with_next(page, v, &id, batch),
    ))
}

/// A query result body, the records moved in (`json!` would copy them).
fn result_page(total_size: usize, done: bool, records: Vec<Value>) -> Value {
    let mut m = Map::with_capacity(3);
    m.insert("totalSize".into(), Value::from(total_size));
    m.insert("done".into(), Value::Bool(done));
    m.insert("records".into(), Value::Array(records));
    Value::Object(m)
}

/// One page starting at `offset`; `done` when it reaches the end.
fn page_body(cursor: &Cursor, _v: ApiVersion, _id: Option<&str>, offset: usize) -> Value {
    let end = (offset + cursor.batch_size).min(cursor.records.len());
    let slice = cursor.records.get(offset..end).unwrap_or(&[]).to_vec();
    result_page(cursor.records.len(), end >= cursor.records.len(), slice)
}

/// Adds `nextRecordsUrl` when the page is not the last one.
fn with_next(mut page: Value, v: ApiVersion, cursor_id: &str, next_offset: usize) -> Value {
    let done = page.get("done").and_then(Value::as_bool).unwrap_or(true);
    if !done && let Some(m) = page.as_object_mut() {
        // Key order as Salesforce: totalSize, done, nextRecordsUrl, records.
        let records = m
            .shift_remove("records")
            .unwrap_or(Value::Array(Vec::new()));
        m.insert(
            "nextRecordsUrl".into(),
            Value::String(format!(
                "/services/data/v{}/query/{cursor_id}-{next_offset}",
                v.0
            )),
        );
        m.insert("records".into(), records);
    }
    page
}

fn invalid_locator() -> SfError {
    SfError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator")
}

async fn query_more(
    State(state): State<AppState>,
    Extension(v): Extension<ApiVersion>,
    Path((_ver, locator)): Path<(String, String)>,
) -> Result<Response, SfError> {
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid_locator)?;
    let offset: usize = offset.parse().map_err(|_| invalid_locator())?;
    let cursor = state.cursor(id).ok_or_else(invalid_locator)?;
    if offset == 0 || offset >= cursor.records.len() {
        return Err(invalid_locator());
    }
    let page = page_body(&cursor, v, Some(id), offset);
    Ok(json_response(
        StatusCode::OK,
        with_next(page, v, id, offset + cursor.batch_size),
    ))
}
