//! The fields a write is given: a JSON object, or a record of a Collections body read straight
//! from the request text as (key, value) pairs (no hash map built per record, keys borrowed
//! from the text).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Keys and values of a write body, in body order, as the DML reads them.
pub(crate) trait WriteFields {
    /// Number of keys.
    fn key_count(&self) -> usize;
    /// The keys and their values, in body order.
    fn pairs(&self) -> impl Iterator<Item = (&str, &Value)>;
}

impl WriteFields for Map<String, Value> {
    fn key_count(&self) -> usize {
        self.len()
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// One record of a write request body: its keys and values in body order. A repeated key
/// keeps its first place and takes its last value, as a JSON object map reads it. Read from
/// text, the keys borrow it (a key written with an escape fails the reading, and the caller
/// then reads the body as a JSON value).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RecordBody<'a>(Vec<(Cow<'a, str>, Value)>);

impl<'a> RecordBody<'a> {
    /// The value of `key` (exact spelling).
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`: in its place when present, else at the end.
    fn set(&mut self, key: Cow<'a, str>, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Keeps the pairs `keep` accepts, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &Value) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }
}

impl From<Map<String, Value>> for RecordBody<'_> {
    fn from(m: Map<String, Value>) -> Self {
        RecordBody(m.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect())
    }
}

impl WriteFields for RecordBody<'_> {
    fn key_count(&self) -> usize {
        self.0.len()
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// Reads a JSON object only (anything else is an error, which sends the caller to its generic
/// reading of the body).
impl<'de: 'a, 'a> Deserialize<'de> for RecordBody<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Pairs<'a> {
            type Value = RecordBody<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RecordBody<'a>, A::Error> {
                // Records of the workloads carry up to a dozen fields.
                let mut rec = RecordBody(Vec::with_capacity(map.size_hint().unwrap_or(12)));
                while let Some(key) = map.next_key::<&'de str>()? {
                    let value = map.next_value::<Value>()?;
                    rec.set(Cow::Borrowed(key), value);
                }
                Ok(rec)
            }
        }
        d.deserialize_map(Pairs(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs_read_as_the_json_object_reads() {
        let text = r#"{"b": 1, "a": {"x": [1, 2]}, "b": "two", "c": null}"#;
        let rec: RecordBody = serde_json::from_str(text).unwrap();
        let map: Map<String, Value> = serde_json::from_str(text).unwrap();
        let from_rec: Vec<(&str, &Value)> = rec.pairs().collect();
        let from_map: Vec<(&str, &Value)> = map.pairs().collect();
        assert_eq!(from_rec, from_map, "order, repeated key, nesting and null");
        assert_eq!(rec.key_count(), 3);
        assert_eq!(rec.get("b"), Some(&json!("two")));
        assert_eq!(RecordBody::from(map), rec);
        assert!(serde_json::from_str::<RecordBody>("[1]").is_err());
        assert!(serde_json::from_str::<RecordBody>("\"x\"").is_err());
        assert!(
            serde_json::from_str::<RecordBody>(r#"{"N\u0061me": 1}"#).is_err(),
            "an escaped key is left to the generic reading"
        );
    }
}
