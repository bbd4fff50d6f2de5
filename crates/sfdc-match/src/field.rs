//! Validated field and object API names: the one validator of Salesforce API names in the
//! workspace. SOQL text, REST paths, record bodies, mappings and Bulk API columns all take their
//! names through [`FieldName`] and [`SObjectName`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest accepted name (object name, or one part of a relationship path), in bytes.
const MAX_PART_LEN: usize = 255;

/// The key Salesforce reserves in JSON record bodies for record metadata (`attributes.type` names
/// the object). No field is called that, and letting a mapping or an event write it would let the
/// event choose the object a record is written to.
const RECORD_METADATA_KEY: &str = "attributes";

/// Words SOQL reserves; none of them can name an object or a field.
const RESERVED: &[&str] = &[
    "and", "asc", "desc", "excludes", "false", "first", "from", "group", "having", "in",
    "includes", "last", "like", "limit", "not", "null", "nulls", "or", "select", "true", "where",
    "with",
];

/// A validated field API name, or a one-level relationship path such as `Account.Name`.
///
/// Accepted: standard names (`Email`, `Id`), custom names (`My_Field__c`), namespaced names
/// (`ns__Field__c`) and `Relationship.Field` paths whose relationship is standard (`Account`,
/// `Owner`) or custom (`Parent__r`). Anything else is rejected with an error naming the
/// field; nothing is ever stripped or rewritten.
///
/// Salesforce compares API names case-insensitively; this type keeps the spelling it was
/// given (use [`FieldName::eq_ignore_case`] to compare).
///
/// ```
/// use sfdc_match::FieldName;
///
/// assert_eq!(FieldName::new("ns__Score__c")?.as_str(), "ns__Score__c");
/// assert_eq!(FieldName::new("Account.Name")?.relationship(), Some("Account"));
/// assert!(FieldName::new("email__c's!").is_err());
/// # Ok::<(), sfdc_match::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldName(String);

impl FieldName {
    /// Validates `name` as a field API name or one-level relationship path.
    ///
    /// # Errors
    /// [`Error::InvalidFieldName`] naming the field and what is wrong with it.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        match check_field(&name) {
            Ok(()) => Ok(FieldName(name)),
            Err(reason) => Err(Error::InvalidFieldName { name, reason }),
        }
    }

    /// Validates `name` as the API name of a field of the record itself, with no relationship
    /// path: the names a record body, a REST path segment or an external-id field can carry.
    ///
    /// ```
    /// use sfdc_match::FieldName;
    ///
    /// assert!(FieldName::new_plain("External_Id__c").is_ok());
    /// assert!(FieldName::new_plain("Account.Name").is_err());
    /// assert!(FieldName::new_plain("attributes").is_err());
    /// # Ok::<(), sfdc_match::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidFieldName`] naming the field and what is wrong with it.
    pub fn new_plain(name: impl Into<String>) -> Result<Self> {
        let field = Self::new(name)?;
        if field.relationship().is_some() {
            return Err(Error::InvalidFieldName {
                reason: "a relationship path names a field of another record; name a field of \
                         this object"
                    .into(),
                name: field.0,
            });
        }
        Ok(field)
    }

    /// Returns the name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns true when this is the record id field `Id` (in any casing).
    pub fn is_id(&self) -> bool {
        self.0.eq_ignore_ascii_case("Id")
    }

    /// Returns the relationship part of a path (`Account` for `Account.Name`), if any.
    pub fn relationship(&self) -> Option<&str> {
        self.0.split_once('.').map(|(rel, _)| rel)
    }

    /// Returns the path parts: one for a plain field, two for `Relationship.Field`.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }

    /// Returns true when both names denote the same field (API names are case-insensitive).
    pub fn eq_ignore_case(&self, other: &FieldName) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// Returns the lower-cased name, a key under which differently cased spellings meet.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A validated object API name such as `Lead`, `My_Object__c` or `ns__Thing__c`.
///
/// ```
/// use sfdc_match::SObjectName;
///
/// assert_eq!(SObjectName::new("Lead")?.as_str(), "Lead");
/// assert!(SObjectName::new("Lead WHERE").is_err());
/// # Ok::<(), sfdc_match::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SObjectName(String);

impl SObjectName {
    /// Validates `name` as an object API name.
    ///
    /// # Errors
    /// [`Error::InvalidObjectName`] naming the object and what is wrong with it.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let checked = check_part(&name).and_then(|()| {
            if last_word(&name).eq_ignore_ascii_case("r") {
                Err("a name ending in `__r` is a relationship, not an object; use `__c`".into())
            } else {
                Ok(())
            }
        });
        match checked {
            Ok(()) => Ok(SObjectName(name)),
            Err(reason) => Err(Error::InvalidObjectName { name, reason }),
        }
    }

    /// Returns the name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the lower-cased name, a key under which differently cased spellings meet.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

fn check_field(name: &str) -> Result<(), String> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts
        .iter()
        .any(|p| p.eq_ignore_ascii_case(RECORD_METADATA_KEY))
    {
        return Err(format!(
            "`{RECORD_METADATA_KEY}` is the record metadata key of Salesforce's JSON record \
             bodies, not a field"
        ));
    }
    match parts.as_slice() {
        [field] => {
            check_part(field)?;
            if last_word(field).eq_ignore_ascii_case("r") {
                return Err(format!(
                    "`{field}` is a relationship, not a field; name a field on it, e.g. `{field}.Name`"
                ));
            }
            Ok(())
        }
        [relationship, field] => {
            check_part(relationship)?;
            check_part(field)?;
            if relationship.contains("__") && last_word(relationship).eq_ignore_ascii_case("c") {
                let stem = &relationship[..relationship.len() - 1];
                return Err(format!(
                    "`{relationship}` is a field, not a relationship; custom relationships end in \
                     `__r` (e.g. `{stem}r.{field}`)"
                ));
            }
            if field.contains("__") && last_word(field).eq_ignore_ascii_case("r") {
                return Err(format!(
                    "`{field}` is a relationship; only one level of relationship is supported"
                ));
            }
            Ok(())
        }
        _ => Err("only one level of relationship (`Relationship.Field`) is supported".into()),
    }
}

/// Checks one dot-free part: words of ASCII letters, digits and single underscores, joined
/// by `__`, each word starting with a letter.
fn check_part(part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err("a name or path part is empty".into());
    }
    if part.len() > MAX_PART_LEN {
        return Err(format!(
            "it is {} bytes long; API names have at most {MAX_PART_LEN}",
            part.len()
        ));
    }
    if let Some((pos, ch)) = part
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "character {ch:?} at byte {pos} is not allowed; API names use only letters, digits \
             and underscores"
        ));
    }
    if words(part).count() > 4 {
        return Err("too many `__` separators; expected at most `ns__Name__suffix`".into());
    }
    for word in words(part) {
        match word.chars().next() {
            None => return Err("it starts or ends with an underscore, or has `___`".into()),
            Some(c) if !c.is_ascii_alphabetic() => {
                return Err(format!(
                    "`{word}` starts with {c:?}; each part of an API name starts with a letter"
                ));
            }
            Some(_) => {}
        }
        if word.ends_with('_') {
            return Err("it ends with an underscore or has `___`".into());
        }
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(part)) {
        return Err(format!("`{part}` is a reserved SOQL keyword"));
    }
    Ok(())
}

fn last_word(part: &str) -> &str {
    let b = part.as_bytes();
    (0..b.len().saturating_sub(1))
        .rev()
        .find(|&i| b[i] == b'_' && b[i + 1] == b'_')
        .map_or("", |i| &part[i + 2..])
}

/// The words of `part` between `__` separators, left to right, as `part.split("__")` gives
/// them (scanned byte by byte: names are checked for every lookup, and a substring searcher
/// per name cost more than the check).
fn words(part: &str) -> impl Iterator<Item = &str> {
    let bytes = part.as_bytes();
    let (mut start, mut at, mut done) = (0, 0, false);
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        while at + 1 < bytes.len() {
            if bytes[at] == b'_' && bytes[at + 1] == b'_' {
                let word = &part[start..at];
                at += 2;
                start = at;
                return Some(word);
            }
            at += 1;
        }
        done = true;
        Some(&part[start..])
    })
}

macro_rules! string_newtype_impls {
    ($ty:ident) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                $ty::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                $ty::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self> {
                $ty::new(s)
            }
        }

        impl From<$ty> for String {
            fn from(name: $ty) -> String {
                name.0
            }
        }
    };
}

string_newtype_impls!(FieldName);
string_newtype_impls!(SObjectName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_last_word_split_as_str_split_does() {
        for part in [
            "",
            "_",
            "__",
            "___",
            "a",
            "a_b",
            "a__b",
            "a___b",
            "a____b",
            "__a",
            "a__",
            "ns__F__c",
            "x__y__z__w__v",
            "é__b",
        ] {
            let expected: Vec<&str> = part.split("__").collect();
            assert_eq!(words(part).collect::<Vec<_>>(), expected, "{part:?}");
            let last = part.rsplit_once("__").map_or("", |(_, l)| l);
            assert_eq!(last_word(part), last, "{part:?}");
        }
    }

    #[test]
    fn accepts_standard_custom_namespaced_and_paths() {
        for ok in [
            "Email",
            "Id",
            "My_Field__c",
            "ns__Field__c",
            "Loc__Latitude__s",
            "ns__Loc__Latitude__s",
            "Account.Name",
            "Owner.Email",
            "Parent__r.Ext_Id__c",
            "ns__Parent__r.ns__Code__c",
            "Field2",
        ] {
            assert_eq!(FieldName::new(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn rejects_bad_names_without_stripping() {
        for bad in [
            "",
            "email__c's!",
            "Email ",
            " Email",
            "Email OR Id",
            "E-mail",
            "_Email",
            "Email_",
            "My___Field__c",
            "1Field",
            "Émail",
            "Account..Name",
            ".Name",
            "Account.",
            "A.B.C",
            "Parent__c.Name",
            "Parent__r",
            "Account.Parent__r",
            "a__b__c__d__e",
            "Email'",
            "Name\n",
            "AND",
            "null",
            "Select",
            "attributes",
            "Attributes",
            "Account.attributes",
        ] {
            let err = FieldName::new(bad).unwrap_err();
            assert_eq!(err.field(), Some(bad), "{bad:?}");
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn plain_names_refuse_paths_and_the_metadata_key() {
        assert_eq!(FieldName::new_plain("Email").unwrap().as_str(), "Email");
        for bad in ["Account.Name", "attributes", "ATTRIBUTES", "Parent__r"] {
            let err = FieldName::new_plain(bad).unwrap_err();
            assert_eq!(err.field(), Some(bad), "{bad:?}");
        }
        let err = FieldName::new_plain("attributes").unwrap_err().to_string();
        assert!(err.contains("record metadata key"), "{err}");
    }

    #[test]
    fn wrong_relationship_suffix_suggests_r() {
        let err = FieldName::new("Parent__c.Name").unwrap_err().to_string();
        assert!(err.contains("Parent__r.Name"), "{err}");
    }

    #[test]
    fn too_long_is_rejected() {
        let long = "A".repeat(256);
        assert!(FieldName::new(long.as_str()).is_err());
        assert!(FieldName::new(&long[..255]).is_ok());
    }

    #[test]
    fn id_detection_and_case_insensitive_equality() {
        assert!(FieldName::new("ID").unwrap().is_id());
        assert!(!FieldName::new("AccountId").unwrap().is_id());
        let a = FieldName::new("email").unwrap();
        let b = FieldName::new("Email").unwrap();
        assert!(a.eq_ignore_case(&b));
        assert_ne!(a, b);
        assert_eq!(a.key(), "email");
    }

    #[test]
    fn object_names() {
        for ok in ["Lead", "My_Object__c", "ns__Thing__c", "Account"] {
            assert!(SObjectName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Lead WHERE", "Lead.Name", "Parent__r", "Lead;", "FROM"] {
            let err = SObjectName::new(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidObjectName { .. }), "{bad:?}");
        }
    }

    #[test]
    fn serde_validates() {
        let f: FieldName = serde_json::from_str("\"Email\"").unwrap();
        assert_eq!(serde_json::to_string(&f).unwrap(), "\"Email\"");
        assert!(serde_json::from_str::<FieldName>("\"Em ail\"").is_err());
        assert!(serde_json::from_str::<SObjectName>("\"Le'ad\"").is_err());
    }
}
