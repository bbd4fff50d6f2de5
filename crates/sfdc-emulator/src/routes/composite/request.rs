//! The Composite request body (`allOrNone`, `collateSubrequests`, `compositeRequest`) and
//! the limits Salesforce checks before running anything.

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::dispatch::SubBody;
use crate::app::ApiVersion;
use crate::error::SfError;
use crate::extract::{SfBody, body_object};

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
    pub(crate) body: Option<SubBody>,
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

/// The usual shape of a Composite body, read straight from its text: flags of the right type
/// (or absent or null) and subrequests with text `method`, `url` and `referenceId`, their
/// bodies kept as text. Any other shape fails and takes the generic reading of [`parse`].
#[derive(Deserialize)]
struct Usual {
    #[serde(rename = "allOrNone", default)]
    all_or_none: Option<bool>,
    #[serde(rename = "collateSubrequests", default)]
    collate: Option<bool>,
    #[serde(rename = "compositeRequest")]
    subs: Vec<UsualSub>,
}

#[derive(Deserialize)]
struct UsualSub {
    method: String,
    url: String,
    #[serde(rename = "referenceId")]
    reference_id: String,
    /// `null` included (the subrequest then has a `null` body, as in the generic reading).
    #[serde(default, deserialize_with = "some_text")]
    body: Option<Box<RawValue>>,
    #[serde(rename = "httpHeaders", default)]
    headers: Option<Map<String, Value>>,
}

fn some_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Whether a body's text may hold a reference (`@{`, possibly written with `\u` escapes):
/// such a body is parsed, so references are found in its strings.
fn may_reference(text: &str) -> bool {
    text.contains("@{") || text.contains("\\u")
}

/// The subrequest count checks, in the order the generic reading makes them.
fn counted(n: usize) -> Result<(), SfError> {
    if n == 0 {
        return Err(invalid("compositeRequest: the request has no subrequests"));
    }
    if n > MAX_SUBREQUESTS {
        return Err(limit(format!(
            "Limit Exceeded: a Composite request can contain at most {MAX_SUBREQUESTS} subrequests; it has {n}."
        )));
    }
    Ok(())
}

/// Checks one subrequest's method, url and reference id (against the subrequests before it).
fn check(
    before: &[Sub],
    method: Option<&str>,
    url: Option<&str>,
    reference_id: Option<&str>,
) -> Result<(), SfError> {
    method
        .filter(|m| ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"].contains(m))
        .ok_or_else(|| {
            invalid("method: a subrequest needs a method GET, POST, PATCH, PUT, DELETE or HEAD")
        })?;
    let url = url.ok_or_else(|| invalid("url: a subrequest needs a url"))?;
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
    let reference_id =
        reference_id.ok_or_else(|| invalid("referenceId: a subrequest needs a referenceId"))?;
    if !valid_reference_id(reference_id) {
        return Err(invalid(format!(
            "Invalid reference id: {reference_id}. Reference ids may contain letters, digits and underscores and start with a letter or digit."
        )));
    }
    if before.iter().any(|x| x.reference_id == reference_id) {
        return Err(invalid(format!("Duplicate reference id: {reference_id}")));
    }
    Ok(())
}

/// The limit on sObject Collections and query subrequests.
fn check_heavy(subs: &[Sub]) -> Result<(), SfError> {
    let heavy = subs
        .iter()
        .filter(|s| api_path(&s.url).is_some_and(is_collection_or_query))
        .count();
    if heavy > MAX_COLLECTIONS_OR_QUERIES {
        return Err(limit(format!(
            "Limit Exceeded: a Composite request can contain at most {MAX_COLLECTIONS_OR_QUERIES} sObject Collections or query operations; it has {heavy}."
        )));
    }
    Ok(())
}

/// The usual body, checked: write subrequests' bodies stay text (their handlers read them
/// straight into records) unless they may hold a reference.
fn from_usual(usual: Usual, v: ApiVersion) -> Result<Composite, SfError> {
    counted(usual.subs.len())?;
    let mut subs: Vec<Sub> = Vec::with_capacity(usual.subs.len());
    for s in usual.subs {
        check(&subs, Some(&s.method), Some(&s.url), Some(&s.reference_id))?;
        let body = match s.body {
            Some(text) if may_reference(text.get()) => Some(SubBody::Value(
                serde_json::from_str(text.get())
                    .map_err(|e| SfError::json_parser(e.to_string()))?,
            )),
            other => other.map(SubBody::Text),
        };
        subs.push(Sub {
            method: s.method,
            url: s.url,
            reference_id: s.reference_id,
            body,
            headers: s.headers.unwrap_or_default(),
        });
    }
    check_heavy(&subs)?;
    Ok(Composite {
        all_or_none: usual.all_or_none.unwrap_or(false),
        collate: usual.collate.unwrap_or(v.major() >= 49),
        subs,
    })
}

/// Parses and validates a Composite body; any violation fails the whole call with 400.
pub(crate) fn parse(body: SfBody, v: ApiVersion) -> Result<Composite, SfError> {
    if let SfBody::Text(text) = &body
        && let Ok(usual) = serde_json::from_slice::<Usual>(text)
    {
        return from_usual(usual, v);
    }
    let mut m = body_object(body.into_value()?)?;
    let flag = |k: &str, default: bool| m.get(k).and_then(Value::as_bool).unwrap_or(default);
    let all_or_none = flag("allOrNone", false);
    let collate = flag("collateSubrequests", v.major() >= 49);
    let list = match m.remove("compositeRequest") {
        Some(Value::Array(a)) => a,
        _ => return Err(invalid("compositeRequest: the request has no subrequests")),
    };
    counted(list.len())?;
    let mut subs: Vec<Sub> = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(mut s) = item else {
            return Err(invalid("Each subrequest must be a JSON object"));
        };
        check(
            &subs,
            text(&s, "method"),
            text(&s, "url"),
            text(&s, "referenceId"),
        )?;
        let [method, url, reference_id] =
            ["method", "url", "referenceId"].map(|k| text(&s, k).unwrap_or_default().to_owned());
        let headers = match s.remove("httpHeaders") {
            Some(Value::Object(h)) => h,
            _ => Map::new(),
        };
        // The body is moved, not copied: a write subrequest carries up to 200 records.
        subs.push(Sub {
            method,
            url,
            reference_id,
            body: s.remove("body").map(SubBody::Value),
            headers,
        });
    }
    check_heavy(&subs)?;
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

    /// What a parsed call holds, bodies as values.
    fn seen(c: Result<Composite, SfError>) -> Result<String, SfError> {
        c.map(|c| {
            let subs: Vec<String> = c
                .subs
                .into_iter()
                .map(|s| {
                    format!(
                        "{} {} {} {:?} {:?}",
                        s.method,
                        s.url,
                        s.reference_id,
                        s.body.map(SubBody::into_value),
                        s.headers
                    )
                })
                .collect();
            format!("{} {} {subs:?}", c.all_or_none, c.collate)
        })
    }

    #[test]
    fn the_text_and_the_value_read_alike() {
        let v = ApiVersion("62.0");
        let url = "/services/data/v62.0/composite/sobjects";
        for text in [
            format!(
                r#"{{"allOrNone": true, "compositeRequest": [{{"method": "POST", "url": "{url}", "referenceId": "a", "body": {{"records": [{{"LastName": "x"}}]}}}}]}}"#
            ),
            format!(
                r#"{{"collateSubrequests": null, "compositeRequest": [{{"method": "GET", "url": "{url}", "referenceId": "a", "body": null, "httpHeaders": {{"X": "1"}}}}]}}"#
            ),
            format!(
                r#"{{"compositeRequest": [{{"method": "GET", "url": "{url}", "referenceId": "a"}}, {{"method": "GET", "url": "{url}", "referenceId": "a"}}]}}"#
            ),
            format!(
                r#"{{"compositeRequest": [{{"method": "GO", "url": "{url}", "referenceId": "a"}}]}}"#
            ),
            format!(
                r#"{{"allOrNone": 1, "compositeRequest": [{{"method": "GET", "url": "{url}", "referenceId": "a", "httpHeaders": 2}}]}}"#
            ),
            format!(r#"{{"compositeRequest": [{{"method": "GET", "url": "{url}"}}]}}"#),
            r#"{"compositeRequest": []}"#.to_owned(),
            r#"{"compositeRequest": [1]}"#.to_owned(),
            r#"[]"#.to_owned(),
        ] {
            let fast = parse(SfBody::Text(text.clone().into()), v);
            let value: Value = serde_json::from_str(&text).unwrap();
            let generic = parse(SfBody::Value(value), v);
            assert_eq!(seen(fast), seen(generic), "{text}");
        }
    }

    #[test]
    fn bodies_that_may_hold_a_reference_are_parsed() {
        let url = "/services/data/v62.0/sobjects/Contact";
        for (body, parsed) in [
            (r#"{"AccountId": "@{a.id}"}"#, true),
            (r#"{"AccountId": "\u0040{a.id}"}"#, true),
            (r#"{"Email": "a@x.io"}"#, false),
        ] {
            let text = format!(
                r#"{{"compositeRequest": [{{"method": "POST", "url": "{url}", "referenceId": "c", "body": {body}}}]}}"#
            );
            let call = parse(SfBody::Text(text.into()), ApiVersion("62.0")).unwrap();
            let b = call.subs[0].body.as_ref().unwrap();
            assert_eq!(b.as_value().is_some(), parsed, "{body}");
        }
    }
}
