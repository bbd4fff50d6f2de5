//! A stored record: its non-null field values, each under an interned field name.
//!
//! A record holds one `(name, value)` pair per stored field in a vector sized to its
//! content. The name is a `&'static str` shared by every record of every object: field
//! names are the schema's (a few hundred at most), so each is allocated once for the life
//! of the process instead of once per record and field, as a map of `String` keys would.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value};

/// The one shared copy of `name`. Only schema field names are interned (never text from
/// a request), so the set is bounded by the schema.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = names.get(name) {
        return s;
    }
    let s: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(s);
    s
}

/// A stored record: canonical field name → value, in insertion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Record {
    cells: Vec<(&'static str, Value)>,
}

impl Record {
    /// An empty record with room for `n` fields.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Record {
            cells: Vec::with_capacity(n),
        }
    }

    /// The value of field `name` (canonical spelling), if stored.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.cells.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Sets field `name` (a canonical schema field name); returns the old value.
    pub(crate) fn insert(&mut self, name: &str, value: Value) -> Option<Value> {
        if let Some((_, v)) = self.cells.iter_mut().find(|(k, _)| *k == name) {
            return Some(std::mem::replace(v, value));
        }
        self.cells.push((intern(name), value));
        None
    }

    /// Removes field `name`, keeping the order of the others; returns its value.
    pub(crate) fn shift_remove(&mut self, name: &str) -> Option<Value> {
        let at = self.cells.iter().position(|(k, _)| *k == name)?;
        Some(self.cells.remove(at).1)
    }

    /// Number of stored fields.
    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    /// Stored fields in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.cells.iter().map(|(k, v)| (*k, v))
    }

    /// Frees unused capacity (records are stored for long; most never change again).
    pub(crate) fn shrink(&mut self) {
        self.cells.shrink_to_fit();
    }

    /// The record as a JSON object (for output and for the public `Emulator::records`).
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }
}

impl<'a> Extend<(&'a str, Value)> for Record {
    fn extend<I: IntoIterator<Item = (&'a str, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// `record["Field"]`: the stored value, or null when the field is not stored (as a sparse
/// record reads).
impl std::ops::Index<&str> for Record {
    type Output = Value;

    fn index(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(name).unwrap_or(&NULL)
    }
}

impl crate::soql::FieldValues for Record {
    fn value(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn insert_get_replace_and_remove_keep_order() {
        let mut r = Record::with_capacity(2);
        assert_eq!(r.insert("Name", json!("A")), None);
        assert_eq!(r.insert("Phone", json!("1")), None);
        assert_eq!(r.insert("Name", json!("B")), Some(json!("A")));
        assert_eq!(r.get("Name"), Some(&json!("B")));
        assert_eq!(r.get("name"), None, "names are canonical, compared exactly");
        r.insert("Site", json!("S"));
        assert_eq!(r.shift_remove("Name"), Some(json!("B")));
        let keys: Vec<&str> = r.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["Phone", "Site"]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r.to_map(),
            json!({"Phone": "1", "Site": "S"})
                .as_object()
                .cloned()
                .unwrap()
        );
    }

    #[test]
    fn names_are_shared_between_records() {
        let mut a = Record::default();
        let mut b = Record::default();
        a.insert(&String::from("Website"), json!("x"));
        b.insert("Website", json!("y"));
        let pa = a.cells[0].0.as_ptr();
        let pb = b.cells[0].0.as_ptr();
        assert_eq!(pa, pb, "one allocation per field name");
    }
}
