//! Parent relationship paths in SOQL (`SELECT Account.Name FROM Contact WHERE Account.Name =
//! 'x'`): one level up a lookup, through the lookup's relationship name (`AccountId` →
//! `Account`, `Parent__c` → `Parent__r`).
//!
//! The query runs over copies of the records with each path's parent value added under the
//! path (`Account.Name`); the output nests it as Salesforce does:
//! `"Account": {"attributes": {"type", "url"}, "Name": …}`, or `"Account": null` when the
//! lookup is empty.

use serde_json::{Map, Value, json};

use crate::soql::{FieldMeta, ObjectFields, Query};
use crate::store::{FieldDef, FieldType, ObjectSchema, Org, Record};

/// One relationship path of a query, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// `Account.Name` (canonical relationship and field names).
    pub(crate) key: String,
    /// The relationship name, e.g. `Account`.
    relationship: String,
    /// The lookup field on the FROM object, e.g. `AccountId`.
    reference: String,
    /// The parent object, e.g. `Account`.
    parent: String,
    /// The parent's field, e.g. `Name`.
    field: String,
}

/// The lookup field of `o` whose relationship name is `rel`, and its target object.
fn lookup<'a>(
    org: &'a Org,
    o: &'a ObjectSchema,
    rel: &str,
) -> Option<(&'a FieldDef, &'a ObjectSchema, String)> {
    o.fields.iter().find_map(|f| {
        let name = f.relationship_name()?;
        if f.field_type != FieldType::Reference || !name.eq_ignore_ascii_case(rel) {
            return None;
        }
        let target = org.object(f.reference_to.first()?)?;
        Some((f, target, name))
    })
}

/// Resolves `path` (`Rel.Field`, one level) on `o`.
fn resolve_path(org: &Org, o: &ObjectSchema, path: &str) -> Option<(Path, FieldMeta)> {
    let (rel, field) = path.split_once('.')?;
    if field.contains('.') {
        return None;
    }
    let (reference, target, relationship) = lookup(org, o, rel)?;
    let meta = target.resolve(field)?;
    let key = format!("{relationship}.{}", meta.api_name);
    Some((
        Path {
            key: key.clone(),
            relationship,
            reference: reference.name.clone(),
            parent: target.name.clone(),
            field: meta.api_name.clone(),
        },
        FieldMeta {
            api_name: key,
            ..meta
        },
    ))
}

/// The FROM object's fields plus its parents' fields by relationship path.
pub(crate) struct Joined<'a> {
    pub(crate) org: &'a Org,
    pub(crate) object: &'a ObjectSchema,
}

impl ObjectFields for Joined<'_> {
    fn object_name(&self) -> &str {
        &self.object.name
    }

    fn resolve(&self, name: &str) -> Option<FieldMeta> {
        match name.contains('.') {
            true => resolve_path(self.org, self.object, name).map(|(_, m)| m),
            false => self.object.resolve(name),
        }
    }
}

/// The relationship paths the query uses (none: the query needs no join).
pub(crate) fn paths(org: &Org, o: &ObjectSchema, query: &Query) -> Vec<Path> {
    let mut out: Vec<Path> = Vec::new();
    for r in &query.field_refs {
        let path = match r.path.split_once('.') {
            Some((head, rest))
                if head.eq_ignore_ascii_case(&o.name) || head.eq_ignore_ascii_case(&query.from) =>
            {
                rest
            }
            _ => r.path.as_str(),
        };
        if let Some((p, _)) = resolve_path(org, o, path)
            && !out.iter().any(|x| x.key == p.key)
        {
            out.push(p);
        }
    }
    out
}

/// The parent record a lookup value names, if it exists and is live.
fn parent<'a>(org: &'a Org, rec: &Record, reference: &str) -> Option<&'a Record> {
    let id = rec.get(reference)?.as_str()?;
    org.find(id)
        .map(|(_, r)| r)
        .filter(|r| r.get("IsDeleted") != Some(&Value::Bool(true)))
}

/// A copy of `rec` with each path's parent value under the path's key.
pub(crate) fn join(org: &Org, rec: &Record, paths: &[Path]) -> Map<String, Value> {
    let mut out = rec.to_map();
    for p in paths {
        if let Some(v) = parent(org, rec, &p.reference).and_then(|r| r.get(&p.field)) {
            out.insert(p.key.clone(), v.clone());
        }
    }
    out
}

/// Replaces the `Rel.Field` keys of an output row by the nested relationship objects;
/// `source` is the stored record the row came from, `version` the API version.
pub(crate) fn nest(
    org: &Org,
    row: &mut Map<String, Value>,
    source: Option<&Record>,
    paths: &[Path],
    version: &str,
) {
    for p in paths {
        let Some(v) = row.shift_remove(&p.key) else {
            continue;
        };
        let parent_id = source
            .and_then(|s| parent(org, s, &p.reference))
            .and_then(|r| r.get("Id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let entry = row.entry(p.relationship.clone()).or_insert(Value::Null);
        let Some(id) = parent_id else {
            *entry = Value::Null;
            continue;
        };
        if !entry.is_object() {
            *entry = json!({"attributes": {
                "type": p.parent,
                "url": format!("/services/data/v{version}/sobjects/{}/{id}", p.parent),
            }});
        }
        if let Some(m) = entry.as_object_mut() {
            m.insert(p.field.clone(), v);
        }
    }
}
