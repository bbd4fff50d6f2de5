//! Mapping expressions: what a Salesforce field takes from an event.
//!
//! A [`Mapping`] is configuration (serde: JSON, TOML, ...); [`Mapping::compile`] turns it into a
//! [`CompiledMapping`] once, which is then evaluated per event on any `serde_json::Value` without
//! re-parsing.
//!
//! | Form in configuration                              | Meaning |
//! |----------------------------------------------------|---------|
//! | `"text"`, `42`, `true`, `[1, 2]`                   | literal value |
//! | `{"@literal": <any JSON>}`                          | literal value, for objects and null |
//! | `{"@path": "$.traits.email"}`                       | the value at a [`Path`] |
//! | `{"@fallback": [<mapping>, <mapping>, ...]}`        | the first mapping that gives a value |
//! | `{"@template": "{{traits.first_name}} {{traits.last_name}}"}` | a [`Template`] rendered to text |
//! | `{"Name": <mapping>, "Email": <mapping>}`           | an object of named mappings |
//!
//! **Absent versus null versus blank.** Evaluation returns `None` ("absent": the field is not
//! touched) when a path is missing, when a template or string is *blank* (empty or only
//! whitespace), or when an object mapping has no present entry. An explicit JSON null is a value:
//! it sets the field to null. A fallback skips absent (and therefore blank) results, but stops at
//! null.

mod path;
mod raw;
mod template;

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use path::Path;
pub(crate) use raw::Raw;
pub use template::Template;

use crate::error::{Error, Result};

/// A mapping expression, as configured. Compile it with [`Mapping::compile`].
///
/// ```
/// use serde_json::json;
/// use sfdc_actions::Mapping;
///
/// let mapping: Mapping = serde_json::from_value(json!(
///     {"@fallback": [{"@path": "$.traits.email"}, {"@path": "$.properties.email"}]}
/// ))?;
/// let compiled = mapping.compile()?;
/// assert_eq!(compiled.evaluate(&json!({"properties": {"email": "a@b.c"}})), Some(json!("a@b.c")));
/// assert_eq!(compiled.evaluate(&json!({"traits": {}})), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Mapping {
    /// A fixed value. A blank string literal evaluates to absent.
    Literal(Value),
    /// A path such as `$.traits.email`; absent when the path is missing or the value is blank.
    Path(String),
    /// The first item that gives a value (absent items are skipped; null stops the search).
    Fallback(Vec<Mapping>),
    /// A template such as `{{traits.first_name}} {{traits.last_name}}`; absent when it renders
    /// blank.
    Template(String),
    /// An object of named mappings, in order; absent entries are left out, and the whole object
    /// is absent when no entry is present.
    Object(Vec<(String, Mapping)>),
}

impl Mapping {
    /// Creates a literal mapping.
    pub fn literal(value: impl Into<Value>) -> Mapping {
        Mapping::Literal(value.into())
    }

    /// Creates a path mapping (checked by [`Mapping::compile`]).
    pub fn path(path: impl Into<String>) -> Mapping {
        Mapping::Path(path.into())
    }

    /// Creates a template mapping (checked by [`Mapping::compile`]).
    pub fn template(template: impl Into<String>) -> Mapping {
        Mapping::Template(template.into())
    }

    /// Creates a fallback chain.
    pub fn fallback(items: impl IntoIterator<Item = Mapping>) -> Mapping {
        Mapping::Fallback(items.into_iter().collect())
    }

    /// Creates a fallback chain of paths: the first path that exists wins.
    pub fn first_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Mapping {
        Mapping::Fallback(paths.into_iter().map(Mapping::path).collect())
    }

    /// Creates an object of named mappings.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Mapping)>) -> Mapping {
        Mapping::Object(entries.into_iter().map(|(k, m)| (k.into(), m)).collect())
    }

    /// Compiles the mapping: parses every path and template once.
    ///
    /// # Errors
    ///
    /// [`Error::PathSyntax`] or [`Error::TemplateSyntax`] (with [`Error::position`]), wrapped in
    /// [`Error::At`] naming the fallback item or object key when nested; [`Error::InvalidConfig`]
    /// for an object key starting with `@`. All are configuration errors
    /// ([`Error::is_config_error`]).
    pub fn compile(&self) -> Result<CompiledMapping> {
        Ok(CompiledMapping(Node::compile(self)?))
    }

    pub(crate) fn from_raw(raw: Raw) -> Result<Mapping, String> {
        match raw {
            Raw::Object(mut entries) if entries.len() == 1 && entries[0].0.starts_with('@') => {
                let (key, value) = entries.remove(0);
                match (key.as_str(), value) {
                    ("@path", Raw::String(path)) => Ok(Mapping::Path(path)),
                    ("@template", Raw::String(template)) => Ok(Mapping::Template(template)),
                    ("@literal", value) => Ok(Mapping::Literal(value.into_value())),
                    ("@fallback", Raw::Array(items)) => Ok(Mapping::Fallback(
                        items
                            .into_iter()
                            .map(Mapping::from_raw)
                            .collect::<Result<_, _>>()?,
                    )),
                    (directive @ ("@path" | "@template"), other) => Err(format!(
                        "`{directive}` takes a string, not {}",
                        other.kind()
                    )),
                    ("@fallback", other) => Err(format!(
                        "`@fallback` takes an array of mappings, not {}",
                        other.kind()
                    )),
                    (other, _) => Err(format!(
                        "unknown directive `{other}`; use `@path`, `@template`, `@fallback` or `@literal`"
                    )),
                }
            }
            Raw::Object(entries) => {
                if let Some((key, _)) = entries.iter().find(|(k, _)| k.starts_with('@')) {
                    return Err(format!(
                        "the directive `{key}` must be the only key of its object"
                    ));
                }
                Ok(Mapping::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| Mapping::from_raw(v).map(|m| (k, m)))
                        .collect::<Result<_, _>>()?,
                ))
            }
            other => Ok(Mapping::Literal(other.into_value())),
        }
    }
}

impl Serialize for Mapping {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Mapping::Literal(value @ (Value::Object(_) | Value::Null)) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("@literal", value)?;
                map.end()
            }
            Mapping::Literal(value) => value.serialize(serializer),
            Mapping::Path(path) => single(serializer, "@path", path),
            Mapping::Template(template) => single(serializer, "@template", template),
            Mapping::Fallback(items) => single(serializer, "@fallback", items),
            Mapping::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, mapping) in entries {
                    map.serialize_entry(key, mapping)?;
                }
                map.end()
            }
        }
    }
}

fn single<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

impl<'de> Deserialize<'de> for Mapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Mapping, D::Error> {
        Mapping::from_raw(Raw::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// A compiled [`Mapping`], evaluated per event on any `serde_json::Value`.
#[derive(Debug, Clone)]
pub struct CompiledMapping(Node);

impl CompiledMapping {
    /// Evaluates the mapping; `None` means absent (leave the field untouched). Never panics.
    pub fn evaluate(&self, root: &Value) -> Option<Value> {
        self.0.eval(root)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Absent,
    Literal(Value),
    Path(Path),
    Fallback(Vec<Node>),
    Template(Template),
    Object(Vec<(String, Node)>),
}

/// Returns `true` for a string that is empty or only whitespace: such values count as absent.
pub(crate) fn is_blank(value: &Value) -> bool {
    matches!(value, Value::String(s) if s.trim().is_empty())
}

impl Node {
    pub(crate) fn compile(mapping: &Mapping) -> Result<Node> {
        Ok(match mapping {
            Mapping::Literal(value) if is_blank(value) => Node::Absent,
            Mapping::Literal(value) => Node::Literal(value.clone()),
            Mapping::Path(path) => Node::Path(Path::parse(path)?),
            Mapping::Template(template) => Node::Template(Template::parse(template)?),
            Mapping::Fallback(items) => Node::Fallback(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, m)| Node::compile(m).map_err(|e| e.at(format!("@fallback[{i}]"))))
                    .collect::<Result<_>>()?,
            ),
            Mapping::Object(entries) => Node::Object(compile_entries(entries)?),
        })
    }

    pub(crate) fn eval(&self, root: &Value) -> Option<Value> {
        match self {
            Node::Absent => None,
            Node::Literal(value) => Some(value.clone()),
            Node::Path(path) => path.resolve(root).filter(|v| !is_blank(v)).cloned(),
            Node::Fallback(items) => items.iter().find_map(|n| n.eval(root)),
            Node::Template(template) => {
                let text = template.render(root);
                (!text.trim().is_empty()).then_some(Value::String(text))
            }
            Node::Object(entries) => {
                let mut map = Map::new();
                for (key, node) in entries {
                    if let Some(value) = node.eval(root) {
                        map.insert(key.clone(), value);
                    }
                }
                (!map.is_empty()).then_some(Value::Object(map))
            }
        }
    }
}

/// Compiles named entries, rejecting `@` keys (they would read back as directives).
pub(crate) fn compile_entries(entries: &[(String, Mapping)]) -> Result<Vec<(String, Node)>> {
    entries
        .iter()
        .map(|(key, mapping)| {
            if key.starts_with('@') {
                return Err(Error::config(format!(
                    "the key `{key}` cannot start with `@` (reserved for directives)"
                )));
            }
            Node::compile(mapping)
                .map(|node| (key.clone(), node))
                .map_err(|e| e.at(key.clone()))
        })
        .collect()
}

/// Named mappings in order: record matchers and Other Fields (field API name → mapping).
///
/// Serialized as an object (`{"Email": {"@path": "$.traits.email"}}`). The order of the keys is
/// the order the deserializer yields them: document order for JSON, and for TOML when the `toml`
/// crate's `preserve_order` feature is on (alphabetical otherwise).
///
/// Other Fields may instead be **one mapping** whose value is an object (`{"@path":
/// "$.properties.salesforce"}`): each key of that object becomes a field, checked at run time
/// by the facade against describe. Build it with [`FieldMappings::from_object`]; a directive in
/// serialized form reads as one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldMappings {
    entries: Vec<(String, Mapping)>,
    object: Option<Box<Mapping>>,
}

impl FieldMappings {
    /// Creates an empty set.
    pub fn new() -> FieldMappings {
        FieldMappings::default()
    }

    /// Creates Other Fields from one mapping whose value (per event) is an object of field API
    /// names to values, e.g. `Mapping::path("$.properties.salesforce")`. Only Other Fields
    /// accept this form; record matchers refuse it when compiled.
    pub fn from_object(mapping: Mapping) -> FieldMappings {
        FieldMappings {
            entries: Vec::new(),
            object: Some(Box::new(mapping)),
        }
    }

    /// Returns the whole-object mapping set by [`FieldMappings::from_object`], if any.
    pub fn object_mapping(&self) -> Option<&Mapping> {
        self.object.as_deref()
    }

    /// Adds a mapping for a field API name, replacing (in place) an earlier one for the same name.
    pub fn insert(&mut self, field: impl Into<String>, mapping: Mapping) {
        let field = field.into();
        match self.entries.iter_mut().find(|(k, _)| *k == field) {
            Some(entry) => entry.1 = mapping,
            None => self.entries.push((field, mapping)),
        }
    }

    /// Adds a mapping and returns `self`, for chaining.
    pub fn with(mut self, field: impl Into<String>, mapping: Mapping) -> FieldMappings {
        self.insert(field, mapping);
        self
    }

    /// Returns the mapping for a field API name.
    pub fn get(&self, field: &str) -> Option<&Mapping> {
        self.entries
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, m)| m)
    }

    /// Iterates over (field API name, mapping) in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Mapping)> {
        self.entries.iter().map(|(k, m)| (k.as_str(), m))
    }

    /// Returns the number of mappings.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns `true` when there is no mapping (neither named nor whole-object).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.object.is_none()
    }

    pub(crate) fn entries(&self) -> &[(String, Mapping)] {
        &self.entries
    }
}

impl<K: Into<String>> FromIterator<(K, Mapping)> for FieldMappings {
    fn from_iter<I: IntoIterator<Item = (K, Mapping)>>(iter: I) -> FieldMappings {
        let mut out = FieldMappings::new();
        for (k, m) in iter {
            out.insert(k, m);
        }
        out
    }
}

impl Serialize for FieldMappings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(object) = &self.object {
            if !self.entries.is_empty() {
                return Err(serde::ser::Error::custom(
                    "field mappings with both a whole-object mapping and named entries have no serialized form",
                ));
            }
            return object.serialize(serializer);
        }
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, mapping) in &self.entries {
            map.serialize_entry(key, mapping)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldMappings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldMappings, D::Error> {
        match Raw::deserialize(deserializer)? {
            Raw::Null => Ok(FieldMappings::new()),
            raw @ Raw::Object(_) => match Mapping::from_raw(raw).map_err(D::Error::custom)? {
                Mapping::Object(entries) => Ok(FieldMappings {
                    entries,
                    object: None,
                }),
                // A directive (`@path`, `@fallback`, ...): Other Fields as one object.
                mapping => Ok(FieldMappings::from_object(mapping)),
            },
            other => Err(D::Error::custom(format!(
                "expected an object of field API names to mappings, not {}",
                other.kind()
            ))),
        }
    }
}

/// Serde helpers for `Option<Mapping>` fields: `None` is written as `{}` (TOML has no null) and
/// read back from `{}` or null.
pub(crate) mod opt_mapping {
    use super::{Mapping, Raw};
    use serde::de::Error as _;
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Mapping>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(mapping) => mapping.serialize(serializer),
            None => serializer.serialize_map(Some(0))?.end(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Mapping>, D::Error> {
        match Option::<Raw>::deserialize(deserializer)? {
            None | Some(Raw::Null) => Ok(None),
            Some(Raw::Object(entries)) if entries.is_empty() => Ok(None),
            Some(raw) => Mapping::from_raw(raw).map(Some).map_err(D::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(mapping: Value, event: Value) -> Option<Value> {
        let m: Mapping = serde_json::from_value(mapping).unwrap();
        m.compile().unwrap().evaluate(&event)
    }

    #[test]
    fn literals_paths_templates_and_objects_evaluate() {
        let e = json!({"traits": {"first_name": "Ada", "last_name": "Lovelace", "n": null}});
        assert_eq!(eval(json!("x"), e.clone()), Some(json!("x")));
        assert_eq!(eval(json!(7), e.clone()), Some(json!(7)));
        assert_eq!(eval(json!([1, 2]), e.clone()), Some(json!([1, 2])));
        assert_eq!(
            eval(json!({"@literal": {"a": 1}}), e.clone()),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            eval(json!({"@literal": null}), e.clone()),
            Some(Value::Null)
        );
        assert_eq!(
            eval(json!({"@path": "$.traits.n"}), e.clone()),
            Some(Value::Null)
        );
        assert_eq!(eval(json!({"@path": "$.traits.zz"}), e.clone()), None);
        assert_eq!(
            eval(
                json!({"@template": "{{traits.first_name}} {{traits.last_name}}"}),
                e.clone()
            ),
            Some(json!("Ada Lovelace"))
        );
        assert_eq!(
            eval(
                json!({"first": {"@path": "$.traits.first_name"}, "gone": {"@path": "$.x"}}),
                e.clone()
            ),
            Some(json!({"first": "Ada"}))
        );
        assert_eq!(eval(json!({"gone": {"@path": "$.x"}}), e), None);
    }

    #[test]
    fn blank_strings_are_absent_and_fallback_skips_them_but_stops_at_null() {
        let e = json!({"traits": {"email": "  ", "phone": null}, "properties": {"email": "p@x.y", "phone": "1"}});
        let email =
            json!({"@fallback": [{"@path": "$.traits.email"}, {"@path": "$.properties.email"}]});
        assert_eq!(eval(email, e.clone()), Some(json!("p@x.y")));
        let phone =
            json!({"@fallback": [{"@path": "$.traits.phone"}, {"@path": "$.properties.phone"}]});
        assert_eq!(eval(phone, e.clone()), Some(Value::Null));
        assert_eq!(eval(json!(""), e.clone()), None);
        assert_eq!(
            eval(json!({"@template": " {{traits.nothing}} "}), e.clone()),
            None
        );
        let with_default = json!({"@fallback": [{"@path": "$.traits.zz"}, "default"]});
        assert_eq!(eval(with_default, e), Some(json!("default")));
    }

    #[test]
    fn structural_errors_are_explained() {
        let cases = [
            (json!({"@pth": "$.a"}), "unknown directive `@pth`"),
            (json!({"@path": 3}), "`@path` takes a string, not a number"),
            (json!({"@fallback": "$.a"}), "`@fallback` takes an array"),
            (json!({"@path": "$.a", "x": 1}), "must be the only key"),
        ];
        for (v, needle) in cases {
            let err = serde_json::from_value::<Mapping>(v)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn compile_errors_name_where_they_are() {
        let m = Mapping::object([(
            "Email",
            Mapping::fallback([Mapping::path("$.traits.email"), Mapping::path("$.x[")]),
        )]);
        let err = m.compile().unwrap_err();
        assert_eq!(err.position(), Some(3));
        assert_eq!(
            err.to_string(),
            "in `Email`: in `@fallback[1]`: invalid path `$.x[` at position 3: unclosed `[`"
        );
        let err = Mapping::object([("@x", Mapping::literal(1))])
            .compile()
            .unwrap_err();
        assert!(err.to_string().contains("cannot start with `@`"));
    }

    #[test]
    fn mappings_round_trip_through_json_and_toml() {
        let m = Mapping::object([
            ("lit", Mapping::literal("x")),
            ("num", Mapping::literal(2.5)),
            ("obj", Mapping::literal(json!({"k": "v"}))),
            ("path", Mapping::path("$.traits.email")),
            ("tpl", Mapping::template("{{traits.a}}-{{traits.b}}")),
            ("fb", Mapping::first_of(["$.traits.x", "$.properties.x"])),
            ("nested", Mapping::object([("a", Mapping::literal(true))])),
        ]);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), m);
        #[derive(Serialize, Deserialize)]
        struct Doc {
            m: Mapping,
        }
        // toml without its `preserve_order` feature reads tables in key order: compare sorted.
        let toml_text = toml::to_string(&Doc { m: m.clone() }).unwrap();
        assert_eq!(
            sorted(toml::from_str::<Doc>(&toml_text).unwrap().m),
            sorted(m)
        );
        let null = Mapping::literal(Value::Null);
        let json = serde_json::to_string(&null).unwrap();
        assert_eq!(json, r#"{"@literal":null}"#);
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), null);
    }

    fn sorted(m: Mapping) -> Mapping {
        match m {
            Mapping::Object(mut entries) => {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Mapping::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            other => other,
        }
    }

    #[test]
    fn field_mappings_keep_document_order() {
        let text = r#"{"Zeta": "1", "Alpha": {"@path": "$.a"}, "Mid": 3}"#;
        let fm: FieldMappings = serde_json::from_str(text).unwrap();
        let names: Vec<&str> = fm.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["Zeta", "Alpha", "Mid"]);
        let toml_text = "Zeta = \"1\"\nAlpha = { \"@path\" = \"$.a\" }\nMid = 3\n";
        let fm2: FieldMappings = toml::from_str(toml_text).unwrap();
        assert_eq!(
            sorted(Mapping::Object(fm2.entries)),
            sorted(Mapping::Object(fm.entries.clone()))
        );
        assert!(serde_json::from_str::<FieldMappings>("[1]").is_err());
        assert!(
            serde_json::from_str::<FieldMappings>("null")
                .unwrap()
                .is_empty()
        );
    }
}
