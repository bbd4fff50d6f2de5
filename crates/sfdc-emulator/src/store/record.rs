//! A stored record: its non-null field values, each under an interned field name.
//!
//! A record holds one `(name, value)` pair per stored field in a vector sized to its
//! content. The name is a thin pointer to text shared by every record of every object: field
//! names are the schema's (a few hundred at most), so each is allocated once for the life
//! of the process instead of once per record and field, as a map of `String` keys would.

use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::{Map, Value};

use crate::fasthash::FastMap;

/// The one shared copy of `name`. Only schema field names are interned (never text from
/// a request), so the set is bounded by the schema.
pub(crate) fn intern(name: &str) -> Name {
    static NAMES: OnceLock<Mutex<FastMap<&'static str, Name>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = names.get(name) {
        return n;
    }
    let text: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let n: Name = Box::leak(Box::new(text));
    names.insert(text, n);
    n
}

/// An interned field name: a thin (one-word) pointer to the shared text, so a stored pair
/// costs one word more than its value (a `&str` key would cost two).
pub(crate) type Name = &'static &'static str;

/// System timestamps that usually equal another field: a record stores one only when it
/// differs (a created record's three timestamps are one instant, held once).
const SAME_AS: [(&str, &str); 2] = [
    ("LastModifiedDate", "CreatedDate"),
    ("SystemModstamp", "CreatedDate"),
];

/// The field `name` reads from when it is not stored itself.
fn source_of(name: &str) -> Option<&'static str> {
    SAME_AS.iter().find(|(d, _)| *d == name).map(|(_, s)| *s)
}

/// Whether other fields read from `name` when they are not stored.
fn is_source(name: &str) -> bool {
    SAME_AS.iter().any(|(_, s)| *s == name)
}

/// The value `name` reads when it is not stored: `IsDeleted` is false for every live record
/// (every object has the field), so only deleted records store it.
fn default_of(name: &str) -> Option<&'static Value> {
    static FALSE: Value = Value::Bool(false);
    (name == "IsDeleted").then_some(&FALSE)
}

/// A stored record: canonical field name → value, in insertion order (timestamps equal to
/// `CreatedDate` last).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Record {
    cells: Vec<(Name, Value)>,
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
        self.stored(name)
            .or_else(|| source_of(name).and_then(|s| self.stored(s)))
            .or_else(|| default_of(name))
    }

    fn stored(&self, name: &str) -> Option<&Value> {
        self.cells.iter().find(|(k, _)| **k == name).map(|(_, v)| v)
    }

    /// Sets field `name` (a canonical schema field name); returns the old value.
    pub(crate) fn insert(&mut self, name: &str, value: Value) -> Option<Value> {
        if default_of(name) == Some(&value) {
            let old = self.get(name).cloned();
            self.remove_stored(name);
            return old;
        }
        if let Some(source) = source_of(name)
            && self.stored(source) == Some(&value)
        {
            // Reads fall back to the source field: nothing to store.
            let old = self.get(name).cloned();
            self.remove_stored(name);
            return old;
        }
        // One scan for the stored cell (an update sets several fields of a record).
        if let Some(at) = self.cells.iter().position(|(k, _)| **k == name) {
            if is_source(name) && self.cells[at].1 != value {
                // Appends cells only: `at` stays valid.
                self.detach_dependents(name);
            }
            return Some(std::mem::replace(&mut self.cells[at].1, value));
        }
        // A timestamp not stored read its source field until now.
        let old = source_of(name)
            .and_then(|s| self.stored(s).cloned())
            .or_else(|| default_of(name).cloned());
        self.cells.push((intern(name), value));
        old
    }

    /// Adds field `name` (an interned schema field name: a schema holds its fields' names
    /// interned) that the record does not hold yet, as [`Record::insert`] would (a default or
    /// a timestamp equal to its source is not stored), without looking for an old value:
    /// building a record field by field.
    pub(crate) fn push_new(&mut self, name: Name, value: Value) {
        debug_assert!(self.stored(name).is_none(), "{name} is already stored");
        if default_of(name) == Some(&value) {
            return;
        }
        if let Some(source) = source_of(name)
            && self.stored(source) == Some(&value)
        {
            return;
        }
        self.cells.push((name, value));
    }

    /// Removes field `name`, keeping the order of the others; returns its value.
    pub(crate) fn shift_remove(&mut self, name: &str) -> Option<Value> {
        self.detach_dependents(name);
        self.remove_stored(name)
    }

    /// Stores the timestamps that read from `name`, so changing or removing `name` does not
    /// change what they read.
    fn detach_dependents(&mut self, name: &str) {
        for (derived, source) in SAME_AS {
            if source == name
                && self.stored(derived).is_none()
                && let Some(v) = self.stored(source).cloned()
            {
                self.cells.push((intern(derived), v));
            }
        }
    }

    fn remove_stored(&mut self, name: &str) -> Option<Value> {
        let at = self.cells.iter().position(|(k, _)| **k == name)?;
        Some(self.cells.remove(at).1)
    }

    /// Number of fields with a value (stored or read from their source field).
    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }

    /// Fields with a value in insertion order, then the timestamps read from their source, then
    /// `IsDeleted` when it reads its default.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let derived = SAME_AS.iter().filter_map(|(d, s)| {
            if self.stored(d).is_some() {
                return None;
            }
            self.stored(s).map(|v| (*d, v))
        });
        let default = default_of("IsDeleted")
            .filter(|_| self.stored("IsDeleted").is_none())
            .map(|v| ("IsDeleted", v));
        self.cells
            .iter()
            .map(|(k, v)| (**k, v))
            .chain(derived)
            .chain(default)
    }

    /// A copy with room for `extra` more fields (an update adds its timestamps and fields
    /// without growing the copy again).
    pub(crate) fn clone_with_room(&self, extra: usize) -> Self {
        let mut cells = Vec::with_capacity(self.cells.len() + extra);
        cells.extend(self.cells.iter().cloned());
        Record { cells }
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
        assert_eq!(
            keys,
            ["Phone", "Site", "IsDeleted"],
            "IsDeleted reads false"
        );
        assert_eq!(r.len(), 3);
        assert_eq!(
            r.to_map(),
            json!({"Phone": "1", "Site": "S", "IsDeleted": false})
                .as_object()
                .cloned()
                .unwrap()
        );
    }

    #[test]
    fn timestamps_equal_to_created_date_are_stored_once() {
        let t0 = json!("2026-12-02T00:00:00.000+0000");
        let t1 = json!("2026-12-02T00:00:01.000+0000");
        let mut r = Record::default();
        r.insert("CreatedDate", t0.clone());
        r.insert("LastModifiedDate", t0.clone());
        r.insert("SystemModstamp", t0.clone());
        assert_eq!(
            r.cells.len(),
            1,
            "one stored value for three equal timestamps"
        );
        assert_eq!(r.get("LastModifiedDate"), Some(&t0));
        assert_eq!(r.get("SystemModstamp"), Some(&t0));
        assert_eq!(r.len(), 4, "with IsDeleted");
        // An update moves the modification times on; the creation time stays.
        assert_eq!(r.insert("LastModifiedDate", t1.clone()), Some(t0.clone()));
        assert_eq!(r.get("LastModifiedDate"), Some(&t1));
        assert_eq!(r.get("CreatedDate"), Some(&t0));
        assert_eq!(r.cells.len(), 2);
        // Removing the source keeps what the timestamp read.
        r.shift_remove("CreatedDate");
        assert_eq!(r.get("CreatedDate"), None);
        assert_eq!(r.get("SystemModstamp"), Some(&t0));
        let keys: Vec<&str> = r.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["LastModifiedDate", "SystemModstamp", "IsDeleted"]);
        // Changing a source keeps what its dependents read.
        let mut r = Record::default();
        r.insert("CreatedDate", t0.clone());
        r.insert("SystemModstamp", t0.clone());
        r.insert("CreatedDate", t1.clone());
        assert_eq!(r.get("SystemModstamp"), Some(&t0));
        assert_eq!(r.get("LastModifiedDate"), Some(&t0));
    }

    #[test]
    fn is_deleted_is_stored_only_when_true() {
        let mut r = Record::default();
        r.insert("IsDeleted", json!(false));
        assert!(r.cells.is_empty());
        assert_eq!(r.get("IsDeleted"), Some(&json!(false)));
        assert_eq!(r.insert("IsDeleted", json!(true)), Some(json!(false)));
        assert_eq!(r.cells.len(), 1);
        assert_eq!(r["IsDeleted"], json!(true));
        r.insert("IsDeleted", json!(false));
        assert!(r.cells.is_empty());
        assert_eq!(
            r.to_map(),
            json!({"IsDeleted": false}).as_object().cloned().unwrap()
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
        // A name is one word; the value is serde_json's (72 bytes with `preserve_order`).
        assert_eq!(
            std::mem::size_of::<(Name, Value)>(),
            8 + std::mem::size_of::<Value>()
        );
        assert_eq!(pa, pb, "one allocation per field name");
    }
}
