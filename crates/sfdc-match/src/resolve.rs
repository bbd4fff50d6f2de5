//! What a lookup found for each event: 0, 1 or many records.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::batch::{BatchPlan, Entry};
use crate::compare::{Key, Kind, value_key};
use crate::error::Result;
use crate::field::FieldName;
use crate::ids::canonical_id;
use crate::matcher::MatchOperator;

/// The outcome of one event's lookup.
///
/// ```
/// use sfdc_match::Resolution;
///
/// let r = Resolution::from_ids(["00Q000000000001EAA", "00Q000000000001"]);
/// assert_eq!(r, Resolution::Found("00Q000000000001EAA".into()));
/// let r = Resolution::from_ids(["00Q000000000001", "00Q000000000002"]);
/// assert_eq!(r.status(), 300);
/// assert!(!r.is_retryable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// No record matches.
    NotFound,
    /// Exactly one record matches; its id as returned.
    Found(String),
    /// Several records match (ids in the order returned). The operation must not run: report
    /// status 300 and do not retry.
    Multiple(Vec<String>),
}

impl Resolution {
    /// Builds a resolution from the ids a lookup returned, counting the 15- and 18-character
    /// forms of one id once.
    pub fn from_ids<I, S>(ids: I) -> Resolution
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut seen = HashSet::new();
        let mut unique: Vec<String> = Vec::new();
        for id in ids {
            let id = id.into();
            if seen.insert(id_identity(&id)) {
                unique.push(id);
            }
        }
        match unique.len() {
            0 => Resolution::NotFound,
            1 => Resolution::Found(unique.remove(0)),
            _ => Resolution::Multiple(unique),
        }
    }

    /// Returns the HTTP-style status recorded for the event: 200 found, 404 not found, 300
    /// multiple matches.
    pub fn status(&self) -> u16 {
        match self {
            Resolution::NotFound => 404,
            Resolution::Found(_) => 200,
            Resolution::Multiple(_) => 300,
        }
    }

    /// Returns false: a lookup result is a fact about the org's data, and the same lookup
    /// returns it again. In particular [`Resolution::Multiple`] (status 300) must not be
    /// retried; make the matchers unique instead.
    pub fn is_retryable(&self) -> bool {
        false
    }

    /// Returns the record id when exactly one record matched.
    pub fn id(&self) -> Option<&str> {
        match self {
            Resolution::Found(id) => Some(id),
            _ => None,
        }
    }

    /// Returns true when no record matched.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Resolution::NotFound)
    }

    /// Returns true when several records matched (status 300).
    pub fn is_multiple(&self) -> bool {
        matches!(self, Resolution::Multiple(_))
    }
}

/// The case-correct 15-character form of an id; other strings are kept whole.
fn id_identity(id: &str) -> String {
    canonical_id(id)
}

impl BatchPlan {
    /// Assigns the records returned by this plan's queries to the events, the way Salesforce
    /// compares: text case-insensitively, ids by their 15-character form, numbers, dates and
    /// datetimes by value, null to null.
    ///
    /// Pass the records of every query (any order, pages concatenated); a record returned by
    /// several queries counts once. Records without a string `Id` are ignored. Returns one
    /// result per event, in input order: the event's [`Resolution`], or the error that kept
    /// it out of every query ([`Error::LookupTooLong`](crate::Error::LookupTooLong)).
    ///
    /// ```
    /// use serde_json::json;
    /// use sfdc_match::{BatchPlan, Lookup, QueryLimits, Resolution};
    ///
    /// let lookups = ["ann@x.io", "bob@x.io", "cy@x.io"]
    ///     .iter()
    ///     .map(|e| Lookup::builder("Lead").matcher("Email", json!(e)).build())
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// let plan = BatchPlan::build(&lookups, &QueryLimits::default())?;
    /// let returned = [
    ///     json!({"Id": "00Q000000000001EAA", "Email": "Ann@X.io"}),
    ///     json!({"Id": "00Q000000000002EAA", "Email": "bob@x.io"}),
    ///     json!({"Id": "00Q000000000003EAA", "Email": "BOB@x.io"}),
    /// ];
    /// let records = returned.iter().filter_map(|r| r.as_object());
    /// let resolved: Vec<Resolution> = plan.resolve(records).into_iter().collect::<Result<_, _>>()?;
    /// assert_eq!(resolved[0], Resolution::Found("00Q000000000001EAA".into()));
    /// assert_eq!(resolved[1].status(), 300);
    /// assert_eq!(resolved[2], Resolution::NotFound);
    /// # Ok::<(), sfdc_match::Error>(())
    /// ```
    pub fn resolve<'a, I>(&self, records: I) -> Vec<Result<Resolution>>
    where
        I: IntoIterator<Item = &'a Map<String, Value>>,
    {
        // Every copy is kept: queries on different fields return one record with different
        // fields (the copy from an `Email` query has no `Phone`); matches count each id once
        // ([`Resolution::from_ids`]).
        let records: Vec<(&'a Map<String, Value>, &'a str)> = records
            .into_iter()
            .filter_map(|r| Some((r, field_value(r, &["Id"])?.as_str()?)))
            .collect();
        let mut index = Index::default();
        self.entries
            .iter()
            .map(|entry| match &entry.outcome {
                Err(err) => Err(err.clone()),
                Ok(_) => {
                    let matched = index.matching(entry, &records);
                    Ok(Resolution::from_ids(
                        matched.into_iter().map(|i| records[i].1),
                    ))
                }
            })
            .collect()
    }
}

/// Per (field, comparison kind): which records hold which value. Built on first use.
#[derive(Debug, Default)]
struct Index {
    by_field: HashMap<(String, Kind), HashMap<Key, Vec<usize>>>,
}

impl Index {
    fn lookup(
        &mut self,
        field: &FieldName,
        kind: Kind,
        key: &Key,
        records: &[(&Map<String, Value>, &str)],
    ) -> &[usize] {
        let map = self.by_field.entry((field.key(), kind)).or_insert_with(|| {
            let parts: Vec<&str> = field.parts().collect();
            let mut map: HashMap<Key, Vec<usize>> = HashMap::new();
            for (i, (record, _)) in records.iter().enumerate() {
                if let Some(k) = field_value(record, &parts).and_then(|v| value_key(kind, v)) {
                    map.entry(k).or_default().push(i);
                }
            }
            map
        });
        map.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Record positions matching the event, in record order.
    fn matching(&mut self, entry: &Entry, records: &[(&Map<String, Value>, &str)]) -> Vec<usize> {
        let mut result: Option<Vec<usize>> = None;
        for m in &entry.matchers {
            let hits: Vec<usize> = match &m.key {
                Some(key) => self.lookup(&m.field, m.kind, key, records).to_vec(),
                None => Vec::new(),
            };
            result = Some(match (result, entry.operator) {
                (None, _) => hits,
                (Some(mut acc), MatchOperator::Or) => {
                    acc.extend(hits);
                    acc
                }
                (Some(acc), MatchOperator::And) => {
                    let hits: HashSet<usize> = hits.into_iter().collect();
                    acc.into_iter().filter(|i| hits.contains(i)).collect()
                }
            });
        }
        let mut result = result.unwrap_or_default();
        result.sort_unstable();
        result.dedup();
        result
    }
}

/// Finds a (possibly nested) field in a record, ignoring case. `None` when absent; a null
/// relationship makes every field under it null.
fn field_value<'r>(record: &'r Map<String, Value>, parts: &[&str]) -> Option<&'r Value> {
    let (first, rest) = parts.split_first()?;
    let value = record.get(*first).or_else(|| {
        record
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(first))
            .map(|(_, v)| v)
    })?;
    match (rest.is_empty(), value) {
        (true, v) => Some(v),
        (false, Value::Null) => Some(value),
        (false, Value::Object(inner)) => field_value(inner, rest),
        (false, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field_type::{FieldType, Schema};
    use crate::limits::QueryLimits;
    use crate::matcher::Lookup;
    use serde_json::json;

    fn resolve(lookups: &[Lookup], records: &[Value]) -> Vec<Resolution> {
        let plan = BatchPlan::build(lookups, &QueryLimits::default()).unwrap();
        plan.resolve(records.iter().map(|r| r.as_object().unwrap()))
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn one_record_returned_by_queries_on_different_fields_matches_both() {
        let by = |field: &str, value: &str| {
            Lookup::builder("Lead")
                .matcher(field, json!(value))
                .build()
                .unwrap()
        };
        // The Email query's copy has no Phone, the Phone query's no Email.
        let records = [
            json!({"Id": "00Q000000000001EAA", "Email": "a@x.io"}),
            json!({"Id": "00Q000000000001EAA", "Phone": "555"}),
        ];
        let got = resolve(&[by("Email", "a@x.io"), by("Phone", "555")], &records);
        let x = Resolution::Found("00Q000000000001EAA".into());
        assert_eq!(got, [x.clone(), x]);
    }

    #[test]
    fn or_and_and_semantics() {
        let or = |e: &str, p: &str| {
            Lookup::builder("Lead")
                .matcher("Email", json!(e))
                .matcher("Phone", json!(p))
                .build()
                .unwrap()
        };
        let and = |e: &str, p: &str| {
            Lookup::builder("Lead")
                .operator(MatchOperator::And)
                .matcher("Email", json!(e))
                .matcher("Phone", json!(p))
                .build()
                .unwrap()
        };
        let records = [
            json!({"Id": "00Q000000000001EAA", "Email": "a@x.io", "Phone": "1"}),
            json!({"Id": "00Q000000000002EAA", "Email": "b@x.io", "Phone": "2"}),
        ];
        let got = resolve(
            &[
                or("a@x.io", "2"),
                or("A@X.IO", "9"),
                and("a@x.io", "2"),
                and("B@x.io", "2"),
                or("z", "z"),
            ],
            &records,
        );
        assert_eq!(
            got,
            [
                Resolution::Multiple(vec![
                    "00Q000000000001EAA".into(),
                    "00Q000000000002EAA".into()
                ]),
                Resolution::Found("00Q000000000001EAA".into()),
                Resolution::NotFound,
                Resolution::Found("00Q000000000002EAA".into()),
                Resolution::NotFound,
            ]
        );
    }

    #[test]
    fn ids_relationships_numbers_and_nulls() {
        let schema = Schema::new()
            .field("NumberOfEmployees", FieldType::Integer)
            .field("OwnerId", FieldType::Reference);
        let lookup = |f: &str, v: Value| {
            Lookup::builder("Account")
                .schema(&schema)
                .matcher(f, v)
                .build()
                .unwrap()
        };
        let records = [
            json!({"Id": "001000000000001AAA", "NumberOfEmployees": 12.0, "OwnerId": "005000000000001AAA",
                   "Parent": {"attributes": {"type": "Account"}, "Name": "Acme"}}),
            json!({"Id": "001000000000002AAA", "NumberOfEmployees": null, "OwnerId": null, "Parent": null}),
            // The same record again (e.g. returned by two queries) counts once.
            json!({"Id": "001000000000001", "NumberOfEmployees": 12}),
        ];
        let got = resolve(
            &[
                lookup("Id", json!("001000000000001")),
                lookup("NumberOfEmployees", json!("12")),
                lookup("OwnerId", json!("005000000000001")),
                lookup("parent.name", json!("ACME")),
                lookup("NumberOfEmployees", Value::Null),
                lookup("Parent.Name", Value::Null),
                lookup("Id", json!("001000000000001aaa")),
                lookup("Id", json!("001000000000009")),
            ],
            &records,
        );
        let one = Resolution::Found("001000000000001AAA".into());
        let two = Resolution::Found("001000000000002AAA".into());
        assert_eq!(
            got,
            [
                one.clone(),
                one.clone(),
                one.clone(),
                one.clone(),
                two.clone(),
                two,
                one,
                Resolution::NotFound
            ]
        );
    }

    #[test]
    fn missing_fields_match_nothing() {
        let lookups = [Lookup::builder("Lead")
            .matcher("Email", json!("a"))
            .build()
            .unwrap()];
        let got = resolve(
            &lookups,
            &[json!({"Id": "00Q000000000001EAA"}), json!({"Email": "a"})],
        );
        assert_eq!(got, [Resolution::NotFound]);
    }

    #[test]
    fn rejected_events_resolve_to_their_error() {
        let limits = QueryLimits {
            max_soql_chars: 60,
            ..QueryLimits::default()
        };
        let lookups = [Lookup::builder("Lead")
            .matcher("Email", json!("x".repeat(60)))
            .build()
            .unwrap()];
        let plan = BatchPlan::build(&lookups, &limits).unwrap();
        let got = plan.resolve(std::iter::empty());
        assert!(matches!(got[0], Err(crate::Error::LookupTooLong { .. })));
    }

    #[test]
    fn statuses() {
        assert_eq!(Resolution::NotFound.status(), 404);
        assert_eq!(Resolution::Found("x".into()).status(), 200);
        assert_eq!(Resolution::Found("x".into()).id(), Some("x"));
        assert!(Resolution::Multiple(vec![]).is_multiple());
        assert!(Resolution::NotFound.is_not_found());
        assert_eq!(
            Resolution::from_ids(Vec::<String>::new()),
            Resolution::NotFound
        );
    }
}
