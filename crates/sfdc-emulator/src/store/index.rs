//! Value indexes of external-id and unique fields: a normalised value → the ids of the
//! live records holding it, so upsert lookups and uniqueness checks do not scan the
//! object's records.
//!
//! Keys mirror `same_value` (the comparison the scans use): text case-insensitively
//! (`to_lowercase`, the ASCII fast path being the same mapping), ids exactly, numbers by
//! their `f64` value, booleans as themselves. A stored value whose kind does not match
//! its field type (a number in a text field, a string in a number field, an array) could
//! compare equal to values of several keys, so it is kept aside as "odd" and every probe
//! also checks the odd records. Callers re-check each candidate with `same_value`, so an
//! index can only ever narrow a scan, never add a match.

use std::collections::BTreeSet;

use crate::fasthash::FastMap;

/// The ids under one key, sorted (creation order): most keys of an external-id or unique
/// field hold one id, kept inline; several are a sorted vector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ids {
    One(Box<str>),
    Many(Vec<Box<str>>),
}

impl Ids {
    /// Adds `id` in order (no duplicate).
    fn insert(&mut self, id: &str) {
        match self {
            Ids::One(x) if &**x == id => {}
            Ids::One(x) => {
                let first = std::mem::take(x);
                let mut v = vec![first, id.into()];
                v.sort_unstable();
                *self = Ids::Many(v);
            }
            Ids::Many(v) => {
                if let Err(at) = v.binary_search_by(|x| (**x).cmp(id)) {
                    v.insert(at, id.into());
                }
            }
        }
    }

    /// Removes `id`; true when no id is left.
    fn remove(&mut self, id: &str) -> bool {
        match self {
            Ids::One(x) => &**x == id,
            Ids::Many(v) => {
                if let Ok(at) = v.binary_search_by(|x| (**x).cmp(id)) {
                    v.remove(at);
                }
                match v.len() {
                    0 => true,
                    1 => {
                        let last = v.pop().unwrap_or_default();
                        *self = Ids::One(last);
                        false
                    }
                    _ => false,
                }
            }
        }
    }

    /// The ids, in order.
    fn iter(&self) -> std::slice::Iter<'_, Box<str>> {
        match self {
            Ids::One(x) => std::slice::from_ref(x).iter(),
            Ids::Many(v) => v.iter(),
        }
    }
}

use serde_json::Value;

use crate::schema::FieldType;

/// A normalised field value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IndexKey {
    /// Text lower-cased; ids (`Id`, `Reference`) as stored.
    Text(Box<str>),
    /// The bits of a number's `f64` value, `-0.0` folded into `0.0` (never NaN).
    Number(u64),
    /// A boolean.
    Bool(bool),
}

/// Where a stored value is filed.
enum Slot {
    /// Null (or absent): only a null probe could match it, and null probes scan.
    Unindexed,
    /// Under a key.
    Key(IndexKey),
    /// With the odd records, checked by every probe.
    Odd,
}

/// How a wanted value is looked up.
enum Probe {
    /// The records under this key, plus the odd records.
    Key(IndexKey),
    /// Only the odd records can match.
    OddOnly,
    /// The index cannot answer: scan.
    Scan,
}

fn is_numeric(ft: FieldType) -> bool {
    matches!(
        ft,
        FieldType::Int | FieldType::Double | FieldType::Currency | FieldType::Percent
    )
}

fn is_id(ft: FieldType) -> bool {
    matches!(ft, FieldType::Id | FieldType::Reference)
}

/// The text key of `s` in a field of type `ft` (not numeric).
fn text_key(ft: FieldType, s: &str) -> IndexKey {
    if is_id(ft) {
        IndexKey::Text(s.into())
    } else if s.is_ascii() {
        IndexKey::Text(s.to_ascii_lowercase().into_boxed_str())
    } else {
        IndexKey::Text(s.to_lowercase().into_boxed_str())
    }
}

/// The number key of an `f64` (`None` for NaN, which equals nothing).
fn number_key(x: f64) -> Option<IndexKey> {
    if x.is_nan() {
        return None;
    }
    let x = if x == 0.0 { 0.0 } else { x };
    Some(IndexKey::Number(x.to_bits()))
}

/// Where a stored value of a field of type `ft` is filed.
fn slot(ft: FieldType, v: &Value) -> Slot {
    match v {
        Value::Null => Slot::Unindexed,
        Value::Bool(b) => Slot::Key(IndexKey::Bool(*b)),
        Value::String(s) if !is_numeric(ft) => Slot::Key(text_key(ft, s)),
        Value::Number(n) if is_numeric(ft) => {
            n.as_f64().and_then(number_key).map_or(Slot::Odd, Slot::Key)
        }
        _ => Slot::Odd,
    }
}

/// How a wanted text value is looked up in an index of a field of type `ft`.
fn probe_text(ft: FieldType, s: &str) -> Probe {
    if is_numeric(ft) {
        return match s.parse::<f64>().ok().and_then(number_key) {
            Some(k) => Probe::Key(k),
            // Compares unequal to every stored number.
            None => Probe::OddOnly,
        };
    }
    Probe::Key(text_key(ft, s))
}

/// How a wanted value is looked up in an index of a field of type `ft`.
fn probe(ft: FieldType, wanted: &Value) -> Probe {
    match wanted {
        // Null matches stored nulls, which are not filed.
        Value::Null => Probe::Scan,
        Value::Bool(b) => Probe::Key(IndexKey::Bool(*b)),
        Value::String(s) => probe_text(ft, s),
        Value::Number(n) if is_numeric(ft) => match n.as_f64().and_then(number_key) {
            Some(k) => Probe::Key(k),
            None => Probe::Scan,
        },
        // A number against stored text compares numerically: no key answers that.
        Value::Number(_) => Probe::Scan,
        // Equal only to an identical array / object, which is filed as odd.
        Value::Array(_) | Value::Object(_) => Probe::OddOnly,
    }
}

/// The index of one field of one object: live record ids by normalised value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldIndex {
    field_type: FieldType,
    by_key: FastMap<IndexKey, Ids>,
    odd: BTreeSet<String>,
}

impl FieldIndex {
    /// An empty index of a field of type `field_type`.
    pub(super) fn new(field_type: FieldType) -> Self {
        FieldIndex {
            field_type,
            by_key: FastMap::default(),
            odd: BTreeSet::new(),
        }
    }

    /// The indexed field's type (what `same_value` compares with).
    pub(super) fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// Moves record `id` from the slot of `before` to the slot of `after` (`None`: the
    /// record was absent or deleted / is removed or deleted).
    pub(super) fn replace(&mut self, id: &str, before: Option<&Value>, after: Option<&Value>) {
        if before == after {
            return;
        }
        let before = before.map_or(Slot::Unindexed, |v| slot(self.field_type, v));
        let after = after.map_or(Slot::Unindexed, |v| slot(self.field_type, v));
        match (&before, &after) {
            (Slot::Key(a), Slot::Key(b)) if a == b => return,
            (Slot::Odd, Slot::Odd) | (Slot::Unindexed, Slot::Unindexed) => return,
            _ => {}
        }
        match before {
            Slot::Unindexed => {}
            Slot::Odd => {
                self.odd.remove(id);
            }
            Slot::Key(k) => {
                if let Some(ids) = self.by_key.get_mut(&k)
                    && ids.remove(id)
                {
                    self.by_key.remove(&k);
                }
            }
        }
        match after {
            Slot::Unindexed => {}
            Slot::Odd => {
                self.odd.insert(id.to_owned());
            }
            Slot::Key(k) => match self.by_key.get_mut(&k) {
                Some(ids) => ids.insert(id),
                None => {
                    self.by_key.insert(k, Ids::One(id.into()));
                }
            },
        }
    }

    /// Appends the ids of the records that may hold a value equal to the text `wanted`
    /// (unordered; the odd records are the caller's, see [`FieldIndex::odd_ids`]).
    pub(super) fn text_candidates<'a>(&'a self, wanted: &str, out: &mut Vec<&'a str>) {
        if let Probe::Key(k) = probe_text(self.field_type, wanted)
            && let Some(ids) = self.by_key.get(&k)
        {
            out.extend(ids.iter().map(|id| &**id));
        }
    }

    /// The records filed as odd (a value whose kind does not match the field type): every
    /// probe must also check them.
    pub(super) fn odd_ids(&self) -> impl Iterator<Item = &str> {
        self.odd.iter().map(String::as_str)
    }

    /// Ids of the records that may hold a value equal to `wanted`, in id (creation)
    /// order; `None` when the index cannot answer and the caller must scan.
    pub(super) fn candidates(&self, wanted: &Value) -> Option<Vec<&str>> {
        let keyed = match probe(self.field_type, wanted) {
            Probe::Scan => return None,
            Probe::OddOnly => None,
            Probe::Key(k) => self.by_key.get(&k),
        };
        let mut ids: Vec<&str> = keyed
            .into_iter()
            .flat_map(Ids::iter)
            .map(|id| &**id)
            .chain(self.odd.iter().map(String::as_str))
            .collect();
        if !self.odd.is_empty() {
            ids.sort_unstable();
        }
        Some(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_normalise_case_numbers_and_zero() {
        let text = FieldIndex::new(FieldType::String);
        assert!(
            matches!(slot(text.field_type, &json!("ÄbC")), Slot::Key(IndexKey::Text(s)) if &*s == "äbc")
        );
        // The Kelvin sign lower-cases to an ASCII `k`.
        assert!(
            matches!(probe(FieldType::String, &json!("\u{212A}")), Probe::Key(IndexKey::Text(s)) if &*s == "k")
        );
        assert!(
            matches!(probe(FieldType::Id, &json!("001AbC")), Probe::Key(IndexKey::Text(s)) if &*s == "001AbC")
        );
        assert!(matches!(
            (slot(FieldType::Double, &json!(-0.0)), probe(FieldType::Double, &json!("0"))),
            (Slot::Key(a), Probe::Key(b)) if a == b
        ));
        assert!(matches!(
            probe(FieldType::Int, &json!("NaN")),
            Probe::OddOnly
        ));
        assert!(matches!(probe(FieldType::String, &json!(1)), Probe::Scan));
        assert!(matches!(slot(FieldType::String, &json!(1)), Slot::Odd));
        assert!(matches!(
            slot(FieldType::Int, &Value::Null),
            Slot::Unindexed
        ));
    }

    #[test]
    fn replace_moves_ids_and_drops_empty_keys() {
        let mut idx = FieldIndex::new(FieldType::String);
        idx.replace("b", None, Some(&json!("X")));
        idx.replace("a", None, Some(&json!("x")));
        assert_eq!(idx.candidates(&json!("X")), Some(vec!["a", "b"]));
        idx.replace("a", Some(&json!("x")), Some(&json!("y")));
        idx.replace("b", Some(&json!("X")), None);
        assert_eq!(idx.candidates(&json!("x")), Some(vec![]));
        assert_eq!(idx.by_key.len(), 1);
        idx.replace("c", None, Some(&json!(7)));
        assert_eq!(idx.candidates(&json!("Y")), Some(vec!["a", "c"]));
        assert_eq!(idx.candidates(&Value::Null), None);
    }
}
