//! REST output of a stored record.

use serde_json::{Map, Value};

use super::{ObjectSchema, Record, SfError, invalid_field};

/// Every field of a stored (sparse) record in schema order, null where nothing is stored.
pub(crate) fn full_record(o: &ObjectSchema, rec: &Record) -> Map<String, Value> {
    o.fields
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                rec.get(&f.name).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// A record with `attributes` first, for REST output; `fields` limits the keys
/// (case-insensitive; `None` = all).
pub(crate) fn render_record(
    o: &ObjectSchema,
    rec: &Record,
    version: &str,
    fields: Option<&[&str]>,
) -> Result<Value, SfError> {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::with_capacity(rec.len() + 1);
    let mut attrs = Map::with_capacity(2);
    attrs.insert("type".into(), Value::String(o.name.clone()));
    attrs.insert(
        "url".into(),
        Value::String(format!(
            "/services/data/v{version}/sobjects/{}/{id}",
            o.name
        )),
    );
    out.insert("attributes".into(), Value::Object(attrs));
    match fields {
        None => {
            for f in &o.fields {
                out.insert(
                    f.name.clone(),
                    rec.get(&f.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
        Some(list) => {
            for name in list {
                let f = o.field(name.trim()).ok_or_else(|| {
                    invalid_field(format!("No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", name.trim(), o.name))
                })?;
                out.insert(
                    f.name.clone(),
                    rec.get(&f.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
    }
    Ok(Value::Object(out))
}
