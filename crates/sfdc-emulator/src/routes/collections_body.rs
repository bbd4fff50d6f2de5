//! The sObject Collections write body (`allOrNone`, `records`): read straight from the request
//! text into [`RecordBody`]s when it has the usual shape, else through the generic JSON value,
//! whose checks give every error answer (so both readings answer alike).

use serde::Deserialize;
use serde_json::Value;

use crate::error::SfError;
use crate::extract::{SfBody, body_object};
use crate::store::RecordBody;

/// Most records per Collections call.
pub(crate) const MAX_RECORDS: usize = 200;

/// The error of a call with more than [`MAX_RECORDS`] records.
pub(crate) fn too_many() -> SfError {
    SfError::bad_request(
        "EXCEEDED_ID_LIMIT",
        "record limit reached. cannot submit more than 200 records into this call",
    )
}

/// The usual shape: a boolean (or null or absent) `allOrNone` and an array of objects. Any
/// other shape, a repeated top-level key included, fails and takes the generic reading.
#[derive(Deserialize)]
struct Usual<'a> {
    #[serde(rename = "allOrNone", default)]
    all_or_none: Option<bool>,
    #[serde(borrow)]
    records: Vec<RecordBody<'a>>,
}

/// The record count checks, in the order the generic reading makes them.
fn counted(records: &[impl Sized]) -> Result<(), SfError> {
    if records.is_empty() {
        return Err(SfError::bad_request(
            "REQUIRED_FIELD_MISSING",
            "At least 1 record is required",
        ));
    }
    if records.len() > MAX_RECORDS {
        return Err(too_many());
    }
    Ok(())
}

/// The parsed request body: `allOrNone` and `records` (read from the text, they borrow it).
pub(crate) fn parse(body: &SfBody) -> Result<(bool, Vec<RecordBody<'_>>), SfError> {
    if let SfBody::Text(text) = body
        && let Ok(usual) = serde_json::from_slice::<Usual<'_>>(text)
    {
        counted(&usual.records)?;
        return Ok((usual.all_or_none.unwrap_or(false), usual.records));
    }
    let mut m = body_object(body.value()?)?;
    let all_or_none = match m.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(SfError::json_parser(format!(
                "Cannot deserialize instance of boolean from {other} value or request may be missing a required field"
            )));
        }
    };
    let records = match m.remove("records") {
        Some(Value::Array(list)) => list,
        _ => {
            return Err(SfError::bad_request(
                "INVALID_FIELD",
                "The request body must contain a 'records' array",
            ));
        }
    };
    counted(&records)?;
    let records = records
        .into_iter()
        .map(|r| body_object(r).map(RecordBody::from))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((all_or_none, records))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WriteFields;
    use axum::body::Bytes;

    type Parsed = Result<(bool, Vec<RecordBody<'static>>), SfError>;

    /// `p` with its records' keys owned.
    fn owned(p: Result<(bool, Vec<RecordBody<'_>>), SfError>) -> Parsed {
        p.map(|(a, records)| {
            let records = records
                .iter()
                .map(|r| {
                    let m: serde_json::Map<String, Value> =
                        r.pairs().map(|(k, v)| (k.to_owned(), v.clone())).collect();
                    RecordBody::from(m)
                })
                .collect();
            (a, records)
        })
    }

    /// The body read from its text, and read from its parsed value.
    fn both(text: &str) -> (Parsed, Parsed) {
        let body = SfBody::Text(Bytes::copy_from_slice(text.as_bytes()));
        let fast = owned(parse(&body));
        let generic = serde_json::from_str::<Value>(text)
            .map_err(|e| e.to_string())
            .map(|v| owned(parse(&SfBody::Value(v))));
        (
            fast,
            generic.unwrap_or_else(|e| Err(SfError::json_parser(e))),
        )
    }

    #[test]
    fn the_text_and_the_value_read_alike() {
        for text in [
            r#"{"allOrNone": true, "records": [{"attributes": {"type": "Lead"}, "LastName": "A", "LastName": "B"}]}"#,
            r#"{"allOrNone": null, "records": [{"Id": "x"}], "extra": [1, {"a": 2}]}"#,
            r#"{"records": []}"#,
            r#"{"allOrNone": "yes", "records": [{}]}"#,
            r#"{"records": [1]}"#,
            r#"{"records": {}}"#,
            r#"{"records": [{}], "records": [{}, {}]}"#,
            r#"[]"#,
        ] {
            let (fast, generic) = both(text);
            assert_eq!(fast, generic, "{text}");
        }
        let many = format!(r#"{{"records": [{}]}}"#, vec!["{}"; 201].join(","));
        let (fast, _) = both(&many);
        assert_eq!(fast.unwrap_err().error_code, "EXCEEDED_ID_LIMIT");
        let (fast, _) = both(r#"{"allOrNone": true, "records": [{"b": 1, "a": 2}]}"#);
        let (all_or_none, records) = fast.unwrap();
        assert!(all_or_none);
        assert_eq!(records[0].get("a"), Some(&serde_json::json!(2)));
    }
}
