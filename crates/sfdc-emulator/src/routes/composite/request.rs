//! The Composite request body (`allOrNone`, `collateSubrequests`, `compositeRequest`) and
//! the limits Salesforce checks before running anything.

use serde_json::{Map, Value};

use crate::app::ApiVersion;
use crate::error::SfError;
use crate::extract::body_object;

/// At most this many subrequests per Composite call.
pub(crate) const MAX_SUBREQUESTS: usize = 25;
/// Of which at most this many may be sObject Collections or query operations.
pub(crate) const MAX_COLLECTIONS_OR_QUERIES: usize = 5;

/// One parsed subrequest.
#[derive(Debug, Clone)]
pub(crate) struct Sub {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) reference_id: String,
    pub(crate) body: Option<Value>,
    pub(crate) headers: Map<String, Value>,
}

/// A parsed Composite call.
#[derive(Debug, Clone)]
pub(crate) struct Composite {
    pub(crate) all_or_none: bool,
    pub(crate) collate: bool,
    pub(crate) subs: Vec<Sub>,
}

fn invalid(message: impl Into<String>) -> SfError {
    SfError::bad_request("INVALID_INPUT", message)
}

fn limit(message: impl Into<String>) -> SfError {
    SfError::bad_request("LIMIT_EXCEEDED", message)
}

/// The path after `/services/data/vXX.X/`, or `None` when `url` is not of that form.
pub(crate) fn api_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("/services/data/v")?;
    let (ver, path) = rest.split_once('/')?;
    ver.parse::<f64>().ok()?;
    Some(path)
}

/// Whether a subrequest path is an sObject Collections or a query operation.
fn is_collection_or_query(path: &str) -> bool {
    let first = path.split(['/', '?']).next().unwrap_or("");
    first == "query" || first == "queryAll" || path.starts_with("composite/sobjects")
}

/// Whether a reference id is well formed: letters, digits and underscores, starting with
/// a letter or digit.
fn valid_reference_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

/// Parses and validates a Composite body; any violation fails the whole call with 400.
pub(crate) fn parse(body: Value, v: ApiVersion) -> Result<Composite, SfError> {
    let mut m = body_object(body)?;
    let flag = |k: &str, default: bool| m.get(k).and_then(Value::as_bool).unwrap_or(default);
    let all_or_none = flag("allOrNone", false);
    let collate = flag("collateSubrequests", v.major() >= 49);
    let list = match m.remove("compositeRequest") {
        Some(Value::Array(a)) => a,
        _ => return Err(invalid("compositeRequest: the request has no subrequests")),
    };
    if list.is_empty() {
        return Err(invalid("compositeRequest: the request has no subrequests"));
    }
    if list.len() > MAX_SUBREQUESTS {
        return Err(limit(format!(
            "Limit Exceeded: a Composite request can contain at most {MAX_SUBREQUESTS} subrequests; it has {}.",
            list.len()
        )));
    }
    let mut subs: Vec<Sub> = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(mut s) = item else {
            return Err(invalid("Each subrequest must be a JSON object"));
        };
        let method = text(&s, "method")
            .filter(|m| ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"].contains(m))
            .ok_or_else(|| {
                invalid("method: a subrequest needs a method GET, POST, PATCH, PUT, DELETE or HEAD")
            })?;
        let url = text(&s, "url").ok_or_else(|| invalid("url: a subrequest needs a url"))?;
        let path = api_path(url).ok_or_else(|| {
            invalid(format!(
                "url: {url} does not start with /services/data/vXX.X/"
            ))
        })?;
        let p = path.split('?').next().unwrap_or("");
        if p == "composite"
            || p.starts_with("composite/batch")
            || p.starts_with("composite/graph")
            || p.starts_with("composite/tree")
        {
            return Err(invalid(format!(
                "url: {url} is not supported in a Composite request"
            )));
        }
        let reference_id = text(&s, "referenceId")
            .ok_or_else(|| invalid("referenceId: a subrequest needs a referenceId"))?;
        if !valid_reference_id(reference_id) {
            return Err(invalid(format!(
                "Invalid reference id: {reference_id}. Reference ids may contain letters, digits and underscores and start with a letter or digit."
            )));
        }
        if subs.iter().any(|x| x.reference_id == reference_id) {
            return Err(invalid(format!("Duplicate reference id: {reference_id}")));
        }
        let method = method.to_owned();
        let url = url.to_owned();
        let reference_id = reference_id.to_owned();
        let headers = match s.remove("httpHeaders") {
            Some(Value::Object(h)) => h,
            _ => Map::new(),
        };
        // The body is moved, not copied: a write subrequest carries up to 200 records.
        subs.push(Sub {
            method,
            url,
            reference_id,
            body: s.remove("body"),
            headers,
        });
    }
    let heavy = subs
        .iter()
        .filter(|s| api_path(&s.url).is_some_and(is_collection_or_query))
        .count();
    if heavy > MAX_COLLECTIONS_OR_QUERIES {
        return Err(limit(format!(
            "Limit Exceeded: a Composite request can contain at most {MAX_COLLECTIONS_OR_QUERIES} sObject Collections or query operations; it has {heavy}."
        )));
    }
    Ok(Composite {
        all_or_none,
        collate,
        subs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_reference_ids() {
        assert_eq!(
            api_path("/services/data/v62.0/sobjects/Account"),
            Some("sobjects/Account")
        );
        assert_eq!(api_path("v62.0/sobjects/Account"), None);
        assert!(is_collection_or_query("query?q=SELECT+Id+FROM+Lead"));
        assert!(is_collection_or_query("composite/sobjects"));
        assert!(!is_collection_or_query("sobjects/Account"));
        assert!(valid_reference_id("ref_1"));
        assert!(!valid_reference_id("_ref"));
        assert!(!valid_reference_id("a-b"));
    }
}
