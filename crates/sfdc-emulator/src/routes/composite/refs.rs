//! `@{referenceId.path}` references between Composite subrequests: which earlier
//! subrequests a subrequest uses, and the substitution of their results.
//!
//! A path is fields and array indexes, e.g. `@{newAccount.id}` or
//! `@{q.records[0].Id}`. Field names match exactly, else case-insensitively. A string that
//! is one whole reference becomes the referenced JSON value; a reference inside longer text
//! (a URL) is spliced in as text.

use std::collections::HashMap;

use serde_json::Value;

/// A reference as written: the reference id and the path after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) id: String,
    pub(crate) path: String,
}

impl Reference {
    /// `refId.path` as written between the braces.
    pub(crate) fn text(&self) -> String {
        format!("{}{}", self.id, self.path)
    }
}

/// The byte offset of the next `@{` at or after `from` (a byte search: most strings of a
/// body hold no `@`, and e-mail addresses one not followed by `{`).
fn find_open(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        let at = i + bytes.get(i..)?.iter().position(|&b| b == b'@')?;
        if bytes.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        i = at + 1;
    }
}

/// Every reference in `text`, with its byte range (from `@` to `}` inclusive).
fn scan(text: &str) -> Vec<(std::ops::Range<usize>, Reference)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = find_open(text, from) {
        let Some(end) = text[start..].find('}').map(|i| i + start) else {
            break;
        };
        let inner = &text[start + 2..end];
        let split = inner.find(['.', '[']).unwrap_or(inner.len());
        out.push((
            start..end + 1,
            Reference {
                id: inner[..split].to_owned(),
                path: inner[split..].to_owned(),
            },
        ));
        from = end + 1;
    }
    out
}

/// Every reference in a URL and a body (strings at any depth), in order.
pub(crate) fn references(url: &str, body: Option<&Value>) -> Vec<Reference> {
    fn walk(v: &Value, out: &mut Vec<Reference>) {
        match v {
            Value::String(s) => out.extend(scan(s).into_iter().map(|(_, r)| r)),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out: Vec<Reference> = scan(url).into_iter().map(|(_, r)| r).collect();
    if let Some(b) = body {
        walk(b, &mut out);
    }
    out
}

/// Follows `path` (`.a.b[0].c`) into `v`.
fn follow<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            let m = cur.as_object()?;
            cur = m.get(key).or_else(|| {
                m.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            })?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let i: usize = r[..end].trim().parse().ok()?;
            cur = cur.as_array()?.get(i)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(cur)
}

/// The value a reference names among the results so far, if any (`null` counts as none).
fn resolve<'v>(r: &Reference, results: &'v HashMap<String, Value>) -> Option<&'v Value> {
    follow(results.get(&r.id)?, &r.path).filter(|v| !v.is_null())
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn splice(text: &str, results: &HashMap<String, Value>) -> Result<String, Reference> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, r) in scan(text) {
        let v = resolve(&r, results).ok_or(r)?;
        out.push_str(&text[last..range.start]);
        out.push_str(&as_text(v));
        last = range.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

fn substitute_value(v: &Value, results: &HashMap<String, Value>) -> Result<Value, Reference> {
    Ok(match v {
        Value::String(s) => {
            let refs = scan(s);
            match refs.as_slice() {
                [(range, r)] if range.start == 0 && range.end == s.len() => {
                    resolve(r, results).cloned().ok_or_else(|| r.clone())?
                }
                [] => v.clone(),
                _ => Value::String(splice(s, results)?),
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| substitute_value(x, results))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), substitute_value(x, results)?)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// The URL and body with every reference replaced by the result it names; the first
/// reference that names nothing is the error.
pub(crate) fn substitute(
    url: &str,
    body: Option<&Value>,
    results: &HashMap<String, Value>,
) -> Result<(String, Option<Value>), Reference> {
    let url = splice(url, results)?;
    let body = body.map(|b| substitute_value(b, results)).transpose()?;
    Ok((url, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn results() -> HashMap<String, Value> {
        HashMap::from([
            (
                "acc".to_owned(),
                json!({"id": "001000000000001AAA", "success": true}),
            ),
            (
                "q".to_owned(),
                json!({"totalSize": 1, "records": [{"Id": "00Q000000000001AAA", "Name": "A B"}]}),
            ),
        ])
    }

    #[test]
    fn finds_references_in_url_and_nested_body() {
        let refs = references(
            "/services/data/v62.0/sobjects/Account/@{acc.id}",
            Some(&json!({"a": ["x @{q.records[0].Id} y"], "b": 1})),
        );
        let ids: Vec<String> = refs.iter().map(Reference::text).collect();
        assert_eq!(ids, ["acc.id", "q.records[0].Id"]);
    }

    #[test]
    fn substitutes_whole_values_and_spliced_text() {
        let (url, body) = substitute(
            "/x/@{acc.id}?f=@{q.records[0].name}",
            Some(&json!({"AccountId": "@{acc.id}", "Desc": "for @{q.records[0].Name}!", "n": "@{q.totalSize}"})),
            &results(),
        )
        .unwrap();
        assert_eq!(url, "/x/001000000000001AAA?f=A B");
        assert_eq!(
            body.unwrap(),
            json!({"AccountId": "001000000000001AAA", "Desc": "for A B!", "n": 1})
        );
    }

    #[test]
    fn a_reference_to_nothing_is_the_error() {
        let e = substitute("/x/@{acc.nope}", None, &results()).unwrap_err();
        assert_eq!(e.text(), "acc.nope");
        let e =
            substitute("/x", Some(&json!({"a": "@{q.records[3].Id}"})), &results()).unwrap_err();
        assert_eq!(e.id, "q");
        let e = substitute("/x/@{missing.id}", None, &results()).unwrap_err();
        assert_eq!(e.id, "missing");
    }
}
