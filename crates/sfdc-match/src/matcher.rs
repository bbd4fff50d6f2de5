//! Record matchers, validated into a [`Lookup`], and what a lookup needs ([`LookupPlan`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::field::{FieldName, SObjectName};
use crate::field_type::{FieldType, Schema};
use crate::literal::Literal;
use crate::value::literal_for;

/// How several record matchers combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchOperator {
    /// A record matches when any matcher matches (the default).
    #[default]
    #[serde(alias = "OR", alias = "Or")]
    Or,
    /// A record matches when every matcher matches.
    #[serde(alias = "AND", alias = "And")]
    And,
}

impl MatchOperator {
    /// Returns the SOQL keyword, `OR` or `AND`.
    pub fn keyword(self) -> &'static str {
        match self {
            MatchOperator::Or => "OR",
            MatchOperator::And => "AND",
        }
    }
}

/// One record matcher as configured: a field API name and the event's value for it.
///
/// This is the plain, serde-friendly form; [`Lookup`] validates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matcher {
    /// The field API name, e.g. `Email`.
    pub field: String,
    /// The value to find, e.g. `"a@b.c"`.
    pub value: Value,
}

impl Matcher {
    /// Creates a matcher.
    pub fn new(field: impl Into<String>, value: Value) -> Self {
        Matcher {
            field: field.into(),
            value,
        }
    }
}

/// A validated matcher: field name, the field's type if known, and the typed literal.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedMatcher {
    field: FieldName,
    field_type: Option<FieldType>,
    external_id: bool,
    literal: Literal,
}

impl TypedMatcher {
    /// Returns the field.
    pub fn field(&self) -> &FieldName {
        &self.field
    }

    /// Returns the field's type, when the schema knew it.
    pub fn field_type(&self) -> Option<&FieldType> {
        self.field_type.as_ref()
    }

    /// Returns true when the schema marks the field as an external id.
    pub fn is_external_id(&self) -> bool {
        self.external_id
    }

    /// Returns the literal the value was written as.
    pub fn literal(&self) -> &Literal {
        &self.literal
    }
}

/// What finding one event's record takes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupPlan {
    /// The only matcher is a non-null `Id`: no query is needed; address the record directly.
    DirectById {
        /// The record id as given (15 or 18 characters).
        id: String,
    },
    /// The only matcher is a non-null external-id field: an upsert can find the record itself
    /// (`PATCH /sobjects/{object}/{field}/{value}`), so the caller may skip the lookup. Update
    /// and delete still need the query.
    UpsertByExternalId {
        /// The external-id field.
        field: FieldName,
        /// The value in plain text (not SOQL-quoted; percent-encode it for a URL path).
        value: String,
    },
    /// A SOQL lookup is needed.
    Query,
}

/// One event's validated record lookup: object, matchers and operator.
///
/// ```
/// use serde_json::json;
/// use sfdc_match::{Lookup, MatchOperator};
///
/// let lookup = Lookup::builder("Lead")
///     .matcher("Email", json!("a@b.c"))
///     .matcher("Phone", json!("1"))
///     .build()?;
/// assert_eq!(
///     lookup.to_soql(),
///     "SELECT Id FROM Lead WHERE Email = 'a@b.c' OR Phone = '1'"
/// );
///
/// let lookup = Lookup::builder("Contact")
///     .operator(MatchOperator::And)
///     .matcher("FirstName", json!("Ann"))
///     .matcher("LastName", json!("O'Neil"))
///     .build()?;
/// assert_eq!(
///     lookup.to_soql(),
///     r"SELECT Id FROM Contact WHERE FirstName = 'Ann' AND LastName = 'O\'Neil'"
/// );
/// # Ok::<(), sfdc_match::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    object: SObjectName,
    operator: MatchOperator,
    matchers: Vec<TypedMatcher>,
}

impl Lookup {
    /// Starts a lookup on `object` (validated in [`LookupBuilder::build`]).
    pub fn builder(object: impl Into<String>) -> LookupBuilder<'static> {
        LookupBuilder {
            object: object.into(),
            operator: MatchOperator::Or,
            matchers: Vec::new(),
            schema: None,
        }
    }

    /// Validates plain matchers for `object`, typing values by `schema` when given.
    ///
    /// # Errors
    /// See [`LookupBuilder::build`].
    pub fn new(
        object: &str,
        operator: MatchOperator,
        matchers: &[Matcher],
        schema: Option<&Schema>,
    ) -> Result<Lookup> {
        let object = SObjectName::new(object)?;
        if matchers.is_empty() {
            return Err(Error::NoMatchers {
                object: object.to_string(),
            });
        }
        let matchers = matchers
            .iter()
            .map(|m| {
                let field = FieldName::new(m.field.as_str())?;
                let info = schema.and_then(|s| s.get(field.as_str()));
                let field_type = info.map(|i| i.field_type.clone());
                let literal = literal_for(&field, field_type.as_ref(), &m.value)?;
                Ok(TypedMatcher {
                    field,
                    field_type,
                    external_id: info.is_some_and(|i| i.external_id),
                    literal,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Lookup {
            object,
            operator,
            matchers,
        })
    }

    /// Returns the object.
    pub fn object(&self) -> &SObjectName {
        &self.object
    }

    /// Returns the operator as configured.
    pub fn operator(&self) -> MatchOperator {
        self.operator
    }

    /// Returns the matchers in the given order.
    pub fn matchers(&self) -> &[TypedMatcher] {
        &self.matchers
    }

    /// Returns the single-event query: `SELECT Id FROM {object} WHERE {matchers}`, matchers in
    /// the given order joined by the operator, one space around each operator.
    pub fn to_soql(&self) -> String {
        let mut soql = format!("SELECT Id FROM {} WHERE ", self.object);
        let joiner = format!(" {} ", self.operator.keyword());
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                soql.push_str(&joiner);
            }
            soql.push_str(m.field.as_str());
            soql.push_str(" = ");
            soql.push_str(&m.literal.to_string());
        }
        soql
    }

    /// Tells whether this lookup needs a query at all.
    ///
    /// A lone non-null `Id` matcher needs none; a lone non-null external-id matcher (per the
    /// schema) lets an upsert skip it. Everything else, including several matchers, needs a
    /// query, because they may find different records.
    pub fn plan(&self) -> LookupPlan {
        let [only] = self.matchers.as_slice() else {
            return LookupPlan::Query;
        };
        let plain = match &only.literal {
            Literal::String(s) => s.clone(),
            Literal::Null => return LookupPlan::Query,
            other => other.to_string(),
        };
        if only.field.is_id() {
            LookupPlan::DirectById { id: plain }
        } else if only.external_id && only.field.relationship().is_none() {
            LookupPlan::UpsertByExternalId {
                field: only.field.clone(),
                value: plain,
            }
        } else {
            LookupPlan::Query
        }
    }
}

/// Builds a [`Lookup`]; setters never fail, [`LookupBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct LookupBuilder<'s> {
    object: String,
    operator: MatchOperator,
    matchers: Vec<Matcher>,
    schema: Option<&'s Schema>,
}

impl<'s> LookupBuilder<'s> {
    /// Sets how matchers combine (default [`MatchOperator::Or`]).
    pub fn operator(mut self, operator: MatchOperator) -> Self {
        self.operator = operator;
        self
    }

    /// Appends a matcher; order is kept in the SOQL.
    pub fn matcher(mut self, field: impl Into<String>, value: Value) -> Self {
        self.matchers.push(Matcher::new(field, value));
        self
    }

    /// Uses describe information to type values (see [`literal_for`](crate::literal_for)).
    pub fn schema<'a>(self, schema: &'a Schema) -> LookupBuilder<'a> {
        LookupBuilder {
            object: self.object,
            operator: self.operator,
            matchers: self.matchers,
            schema: Some(schema),
        }
    }

    /// Validates the object, every field name and every value.
    ///
    /// # Errors
    /// - [`Error::InvalidObjectName`], [`Error::InvalidFieldName`] for bad names.
    /// - [`Error::NoMatchers`] when no matcher was added.
    /// - [`Error::UnsupportedValue`], [`Error::TypeMismatch`], [`Error::UnfilterableField`],
    ///   [`Error::ValueTooLong`] for values SOQL cannot compare (see
    ///   [`literal_for`](crate::literal_for)).
    pub fn build(self) -> Result<Lookup> {
        Lookup::new(&self.object, self.operator, &self.matchers, self.schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn golden_single_lookups() {
        let schema = Schema::new()
            .field("Phone", FieldType::Text)
            .field("NumberOfEmployees", FieldType::Integer)
            .field("Since__c", FieldType::Date)
            .field("Seen__c", FieldType::DateTime)
            .field("Active__c", FieldType::Boolean)
            .field("Amount__c", FieldType::Double);
        type Case = (
            &'static str,
            MatchOperator,
            Vec<(&'static str, Value)>,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "Lead",
                MatchOperator::Or,
                vec![("Email", json!("a@b.c")), ("Phone", json!("1"))],
                "SELECT Id FROM Lead WHERE Email = 'a@b.c' OR Phone = '1'",
            ),
            (
                "Lead",
                MatchOperator::Or,
                vec![("Phone", json!(1))],
                "SELECT Id FROM Lead WHERE Phone = '1'",
            ),
            (
                "Account",
                MatchOperator::And,
                vec![
                    ("NumberOfEmployees", json!("12")),
                    ("Active__c", json!(true)),
                ],
                "SELECT Id FROM Account WHERE NumberOfEmployees = 12 AND Active__c = true",
            ),
            (
                "Account",
                MatchOperator::Or,
                vec![
                    ("Since__c", json!("2024-01-02")),
                    ("Seen__c", json!("2024-01-02T03:04:05Z")),
                ],
                "SELECT Id FROM Account WHERE Since__c = 2024-01-02 OR Seen__c = 2024-01-02T03:04:05Z",
            ),
            (
                "Account",
                MatchOperator::Or,
                vec![("Amount__c", json!(1.25)), ("Email", Value::Null)],
                "SELECT Id FROM Account WHERE Amount__c = 1.25 OR Email = null",
            ),
            (
                "Contact",
                MatchOperator::Or,
                vec![("Account.Name", json!("Acme 100%_"))],
                "SELECT Id FROM Contact WHERE Account.Name = 'Acme 100%_'",
            ),
            (
                "ns__Thing__c",
                MatchOperator::And,
                vec![("ns__Code__c", json!("a\\b'c\nd"))],
                r"SELECT Id FROM ns__Thing__c WHERE ns__Code__c = 'a\\b\'c\nd'",
            ),
        ];
        for (object, op, matchers, want) in cases {
            let matchers: Vec<Matcher> = matchers
                .into_iter()
                .map(|(f, v)| Matcher::new(f, v))
                .collect();
            let lookup = Lookup::new(object, op, &matchers, Some(&schema)).unwrap();
            assert_eq!(lookup.to_soql(), want);
        }
    }

    #[test]
    fn bad_input_is_reported() {
        let err = Lookup::builder("Lead").build().unwrap_err();
        assert!(matches!(err, Error::NoMatchers { .. }));
        let err = Lookup::builder("Lead")
            .matcher("email__c's!", json!("x"))
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("email__c's!"));
        let err = Lookup::builder("Le ad")
            .matcher("Email", json!("x"))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidObjectName { .. }));
        let err = Lookup::builder("Lead")
            .matcher("Email", json!(["a", "b"]))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::UnsupportedValue { kind: "array", .. }));
    }

    #[test]
    fn plans() {
        let schema = Schema::new().external_id("Ext__c", FieldType::Text);
        let plan = |matchers: &[(&str, Value)]| {
            let m: Vec<Matcher> = matchers
                .iter()
                .map(|(f, v)| Matcher::new(*f, v.clone()))
                .collect();
            Lookup::new("Lead", MatchOperator::Or, &m, Some(&schema))
                .unwrap()
                .plan()
        };
        assert_eq!(
            plan(&[("Id", json!("00Q000000000001"))]),
            LookupPlan::DirectById {
                id: "00Q000000000001".into()
            }
        );
        assert_eq!(
            plan(&[("ext__C", json!(12))]),
            LookupPlan::UpsertByExternalId {
                field: FieldName::new("ext__C").unwrap(),
                value: "12".into()
            }
        );
        assert_eq!(plan(&[("Email", json!("a"))]), LookupPlan::Query);
        assert_eq!(plan(&[("Ext__c", Value::Null)]), LookupPlan::Query);
        assert_eq!(
            plan(&[("Id", json!("00Q000000000001")), ("Email", json!("a"))]),
            LookupPlan::Query
        );
    }

    #[test]
    fn operator_serde() {
        assert_eq!(
            serde_json::to_string(&MatchOperator::And).unwrap(),
            "\"and\""
        );
        for s in ["\"or\"", "\"OR\"", "\"Or\""] {
            assert_eq!(
                serde_json::from_str::<MatchOperator>(s).unwrap(),
                MatchOperator::Or
            );
        }
        assert_eq!(MatchOperator::default(), MatchOperator::Or);
        let m: Matcher = serde_json::from_str(r#"{"field":"Email","value":"a"}"#).unwrap();
        assert_eq!(m, Matcher::new("Email", json!("a")));
    }
}
