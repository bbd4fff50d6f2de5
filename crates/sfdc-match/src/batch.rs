//! Batched lookups: many events' matchers in as few queries as the size limits allow.

use std::collections::hash_map::Entry as Slotted;
use std::collections::{HashMap, HashSet};

use crate::compare::{Key, Kind, literal_key};
use crate::error::{Error, Result};
use crate::field::{FieldName, SObjectName};
use crate::limits::{Cost, QueryLimits};
use crate::matcher::{Lookup, MatchOperator};

/// One query of a batch and the events whose matchers it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchQuery {
    object: SObjectName,
    soql: String,
    events: Vec<usize>,
    uri_bytes: usize,
}

impl BatchQuery {
    /// Returns the object queried.
    pub fn object(&self) -> &SObjectName {
        &self.object
    }

    /// Returns the SOQL text.
    pub fn soql(&self) -> &str {
        &self.soql
    }

    /// Returns the positions (in the input slice) of the events this query looks up.
    pub fn events(&self) -> &[usize] {
        &self.events
    }

    /// Returns the request-URI bytes of this query under the limits it was built with.
    pub fn uri_bytes(&self) -> usize {
        self.uri_bytes
    }
}

/// One matcher of one event, ready for comparison.
#[derive(Debug, Clone)]
pub(crate) struct EntryMatcher {
    pub(crate) field: FieldName,
    pub(crate) kind: Kind,
    pub(crate) key: Option<Key>,
}

/// What the plan knows about one event.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) operator: MatchOperator,
    pub(crate) matchers: Vec<EntryMatcher>,
    pub(crate) outcome: std::result::Result<usize, Error>,
}

/// Queries for a batch of lookups, and (via [`BatchPlan::resolve`]) what each event found.
///
/// Events on the same object with the same matcher fields and operator share queries:
/// `Email IN ('a','b')` for one matcher, `Email IN (…) OR Phone IN (…)` for several joined by
/// OR, `(FirstName = 'a' AND LastName = 'b') OR (…)` for AND. Matcher fields are selected
/// too, so returned records can be assigned back. Values are deduplicated; queries are filled
/// in event order and split only when the next lookup would break a limit, so each query but
/// the last of a group is full. Each event appears in exactly one query, or is rejected with
/// [`Error::LookupTooLong`] when it cannot fit even alone.
///
/// ```
/// use serde_json::json;
/// use sfdc_match::{BatchPlan, Lookup, QueryLimits};
///
/// let lookups = ["a@x.io", "b@x.io", "a@x.io"]
///     .iter()
///     .map(|email| Lookup::builder("Lead").matcher("Email", json!(email)).build())
///     .collect::<Result<Vec<_>, _>>()?;
/// let plan = BatchPlan::build(&lookups, &QueryLimits::default())?;
/// assert_eq!(plan.queries().len(), 1);
/// assert_eq!(
///     plan.queries()[0].soql(),
///     "SELECT Id, Email FROM Lead WHERE Email IN ('a@x.io','b@x.io')"
/// );
/// assert_eq!(plan.queries()[0].events(), &[0, 2, 1]); // events sharing a value go together
/// # Ok::<(), sfdc_match::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchPlan {
    queries: Vec<BatchQuery>,
    pub(crate) entries: Vec<Entry>,
}

impl BatchPlan {
    /// Plans queries for `lookups` (one per event) within `limits`.
    ///
    /// # Errors
    /// [`Error::InvalidLimits`] when the limits leave no room for a query. Events that do not
    /// fit alone are not an error here: they are reported per event by
    /// [`BatchPlan::rejected`] and [`BatchPlan::resolve`].
    pub fn build(lookups: &[Lookup], limits: &QueryLimits) -> Result<BatchPlan> {
        let budget = limits.uri_budget()?;
        let budget = Cost {
            chars: limits.max_soql_chars,
            bytes: budget - limits.uri_prefix.len(),
        };
        let mut groups: Vec<Group> = Vec::new();
        let mut group_index: HashMap<GroupKey, usize> = HashMap::new();
        let mut entries = Vec::with_capacity(lookups.len());
        // The group of the previous lookup: consecutive lookups of one shape (the usual
        // batch) skip building and hashing a group key.
        let mut last: Option<(usize, &Lookup)> = None;
        for (event, lookup) in lookups.iter().enumerate() {
            let g = match last {
                Some((g, previous)) if same_shape(previous, lookup) => g,
                _ => *group_index.entry(GroupKey::of(lookup)).or_insert_with(|| {
                    groups.push(Group::new(lookup));
                    groups.len() - 1
                }),
            };
            last = Some((g, lookup));
            groups[g].add(event, lookup);
            entries.push(Entry {
                operator: lookup.operator(),
                matchers: lookup
                    .matchers()
                    .iter()
                    .map(|m| {
                        let kind = Kind::of(m);
                        EntryMatcher {
                            field: m.field().clone(),
                            kind,
                            key: literal_key(kind, m.literal()),
                        }
                    })
                    .collect(),
                outcome: Ok(usize::MAX),
            });
        }
        let mut queries = Vec::new();
        for group in &groups {
            group.chunk(limits, budget, &mut queries, &mut entries);
        }
        Ok(BatchPlan { queries, entries })
    }

    /// Returns the queries, grouped by object/matcher shape, in first-event order.
    pub fn queries(&self) -> &[BatchQuery] {
        &self.queries
    }

    /// Returns the number of events planned.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the plan holds no event.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the index in [`BatchPlan::queries`] of the query holding event `event`, or
    /// `None` for a rejected or unknown event.
    pub fn query_of(&self, event: usize) -> Option<usize> {
        self.entries.get(event)?.outcome.as_ref().ok().copied()
    }

    /// Returns the events that fit in no query, with the reason.
    pub fn rejected(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.outcome.as_ref().err().map(|err| (i, err)))
    }
}

/// Events share queries when object, normalized operator and matcher field multiset agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    object: String,
    operator: MatchOperator,
    fields: Vec<String>,
}

impl GroupKey {
    fn of(lookup: &Lookup) -> GroupKey {
        let mut fields: Vec<String> = lookup.matchers().iter().map(|m| m.field().key()).collect();
        fields.sort();
        GroupKey {
            object: lookup.object().key(),
            operator: normalized_operator(lookup),
            fields,
        }
    }
}

/// `true` when two lookups certainly have the same [`GroupKey`]: same object and operator
/// (normalised), and the same fields in the same order, without regard to case.
fn same_shape(a: &Lookup, b: &Lookup) -> bool {
    a.object()
        .as_str()
        .eq_ignore_ascii_case(b.object().as_str())
        && normalized_operator(a) == normalized_operator(b)
        && a.matchers().len() == b.matchers().len()
        && a.matchers()
            .iter()
            .zip(b.matchers())
            .all(|(x, y)| x.field().eq_ignore_case(y.field()))
}

/// With one matcher, AND and OR mean the same; both are planned as OR (an `IN` list).
fn normalized_operator(lookup: &Lookup) -> MatchOperator {
    if lookup.matchers().len() == 1 {
        MatchOperator::Or
    } else {
        lookup.operator()
    }
}

/// Distinct matcher values (rendered literals, in group field order) and their events.
#[derive(Debug)]
struct Slot {
    literals: Vec<String>,
    events: Vec<usize>,
}

/// Lookups of one shape.
#[derive(Debug)]
struct Group {
    object: SObjectName,
    operator: MatchOperator,
    /// Field order of the first event; duplicates allowed.
    fields: Vec<FieldName>,
    /// For each field position, the index of its distinct field (by key).
    distinct_of: Vec<usize>,
    /// Distinct fields, first spelling.
    distinct: Vec<FieldName>,
    slots: Vec<Slot>,
    slot_index: HashMap<Vec<String>, usize>,
}

impl Group {
    fn new(lookup: &Lookup) -> Group {
        let fields: Vec<FieldName> = lookup
            .matchers()
            .iter()
            .map(|m| m.field().clone())
            .collect();
        let mut distinct: Vec<FieldName> = Vec::new();
        let distinct_of = fields
            .iter()
            .map(
                |f| match distinct.iter().position(|d| d.eq_ignore_case(f)) {
                    Some(i) => i,
                    None => {
                        distinct.push(f.clone());
                        distinct.len() - 1
                    }
                },
            )
            .collect();
        Group {
            object: lookup.object().clone(),
            operator: normalized_operator(lookup),
            fields,
            distinct_of,
            distinct,
            slots: Vec::new(),
            slot_index: HashMap::new(),
        }
    }

    /// Adds an event, its literals arranged in the group's field order.
    fn add(&mut self, event: usize, lookup: &Lookup) {
        let literals = match (self.fields.as_slice(), lookup.matchers()) {
            // One matcher (the usual lookup): nothing to arrange.
            ([_], [only]) => vec![only.literal().to_string()],
            _ => self.arranged(lookup),
        };
        // One hash of the literals per event (looked up and inserted through the entry).
        match self.slot_index.entry(literals) {
            Slotted::Occupied(e) => self.slots[*e.get()].events.push(event),
            Slotted::Vacant(v) => {
                self.slots.push(Slot {
                    literals: v.key().clone(),
                    events: vec![event],
                });
                v.insert(self.slots.len() - 1);
            }
        }
    }

    /// The lookup's literals in the group's field order.
    fn arranged(&self, lookup: &Lookup) -> Vec<String> {
        let mut pending: Vec<(String, String)> = lookup
            .matchers()
            .iter()
            .map(|m| (m.field().key(), m.literal().to_string()))
            .collect();
        self.fields
            .iter()
            .map(|f| {
                let key = f.key();
                // The group key guarantees the same field multiset, so a match exists.
                pending
                    .iter()
                    .position(|(k, _)| *k == key)
                    .map(|pos| pending.remove(pos).1)
                    .unwrap_or_default()
            })
            .collect()
    }

    fn head(&self) -> String {
        let mut head = String::from("SELECT Id");
        for f in self.distinct.iter().filter(|f| !f.is_id()) {
            head.push_str(", ");
            head.push_str(f.as_str());
        }
        head.push_str(" FROM ");
        head.push_str(self.object.as_str());
        head.push_str(" WHERE ");
        head
    }

    /// Splits the slots into queries, greedily, in order.
    fn chunk(
        &self,
        limits: &QueryLimits,
        budget: Cost,
        queries: &mut Vec<BatchQuery>,
        entries: &mut [Entry],
    ) {
        let head = self.head();
        let mut chunk = Chunk::new(self, Cost::of(&head));
        for slot in &self.slots {
            if chunk.try_add(self, slot, budget) {
                continue;
            }
            let alone = Chunk::new(self, chunk.head).cost_with(self, slot);
            if alone.chars <= budget.chars && alone.bytes <= budget.bytes {
                // It fits a query of its own: close the full one and start the next.
                self.finish(&head, &mut chunk, limits, queries, entries);
                chunk.try_add(self, slot, budget);
                continue;
            }
            let soql_cost = alone;
            for &event in &slot.events {
                entries[event].outcome = Err(Error::LookupTooLong {
                    object: self.object.to_string(),
                    soql_chars: soql_cost.chars,
                    uri_bytes: soql_cost.bytes + limits.uri_prefix.len(),
                    max_soql_chars: budget.chars,
                    max_uri_bytes: budget.bytes + limits.uri_prefix.len(),
                });
            }
        }
        if !chunk.is_empty() {
            self.finish(&head, &mut chunk, limits, queries, entries);
        }
    }

    fn finish(
        &self,
        head: &str,
        chunk: &mut Chunk,
        limits: &QueryLimits,
        queries: &mut Vec<BatchQuery>,
        entries: &mut [Entry],
    ) {
        let soql = format!("{head}{}", chunk.render(self));
        let index = queries.len();
        for &event in &chunk.events {
            entries[event].outcome = Ok(index);
        }
        queries.push(BatchQuery {
            object: self.object.clone(),
            uri_bytes: limits.uri_bytes(&soql),
            soql,
            events: std::mem::take(&mut chunk.events),
        });
        *chunk = Chunk::new(self, chunk.head);
    }
}

const OR: &str = " OR ";
const AND: &str = " AND ";

/// The query being filled: its clauses and their running size. IN-list literals are
/// borrowed from the group's slots (no copy per literal).
#[derive(Debug)]
struct Chunk<'g> {
    head: Cost,
    /// OR mode: per distinct field, the IN-list literals (in order) and whether `= null` is in.
    in_lists: Vec<(Vec<&'g str>, HashSet<&'g str>, bool)>,
    /// AND mode: one clause per slot.
    and_clauses: Vec<String>,
    clauses: usize,
    body: Cost,
    events: Vec<usize>,
}

impl<'g> Chunk<'g> {
    fn new(group: &Group, head: Cost) -> Chunk<'g> {
        Chunk {
            head,
            in_lists: vec![(Vec::new(), HashSet::new(), false); group.distinct.len()],
            and_clauses: Vec::new(),
            clauses: 0,
            body: Cost::default(),
            events: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.clauses == 0
    }

    fn total(&self, clauses: usize, body: Cost) -> Cost {
        self.head + body + Cost::of(OR) * clauses.saturating_sub(1)
    }

    /// Returns (added clauses, added body cost) if `slot` were added.
    fn delta(&self, group: &Group, slot: &Slot) -> (usize, Cost) {
        match group.operator {
            MatchOperator::And => (1, Cost::of(&and_clause(group, slot))),
            MatchOperator::Or => {
                let mut clauses = 0;
                let mut cost = Cost::default();
                // The slot's earlier positions on the same distinct field (a slot has as
                // many literals as the group has fields: a handful).
                let earlier = |pos: usize, d: usize| {
                    (0..pos)
                        .filter(move |&p| group.distinct_of[p] == d)
                        .map(|p| slot.literals[p].as_str())
                };
                for (pos, lit) in slot.literals.iter().enumerate() {
                    let d = group.distinct_of[pos];
                    if earlier(pos, d).any(|l| l == lit) {
                        continue;
                    }
                    let (list, set, has_null) = &self.in_lists[d];
                    let field = group.distinct[d].as_str();
                    if lit == "null" {
                        if !has_null {
                            clauses += 1;
                            cost += Cost::of(field) + Cost::of(" = null");
                        }
                    } else if !set.contains(lit.as_str()) {
                        let list_empty = list.is_empty() && !earlier(pos, d).any(|l| l != "null");
                        if list_empty {
                            clauses += 1;
                            cost +=
                                Cost::of(field) + Cost::of(" IN (") + Cost::of(lit) + Cost::of(")");
                        } else {
                            cost += Cost::of(",") + Cost::of(lit);
                        }
                    }
                }
                (clauses, cost)
            }
        }
    }

    fn cost_with(&self, group: &Group, slot: &Slot) -> Cost {
        let (clauses, cost) = self.delta(group, slot);
        self.total(self.clauses + clauses, self.body + cost)
    }

    fn try_add(&mut self, group: &Group, slot: &'g Slot, budget: Cost) -> bool {
        let (clauses, cost) = self.delta(group, slot);
        let total = self.total(self.clauses + clauses, self.body + cost);
        if total.chars > budget.chars || total.bytes > budget.bytes {
            return false;
        }
        self.clauses += clauses;
        self.body += cost;
        self.events.extend_from_slice(&slot.events);
        match group.operator {
            MatchOperator::And => self.and_clauses.push(and_clause(group, slot)),
            MatchOperator::Or => {
                for (pos, lit) in slot.literals.iter().enumerate() {
                    let (list, set, has_null) = &mut self.in_lists[group.distinct_of[pos]];
                    if lit == "null" {
                        *has_null = true;
                    } else if set.insert(lit.as_str()) {
                        list.push(lit.as_str());
                    }
                }
            }
        }
        true
    }

    fn render(&self, group: &Group) -> String {
        let mut clauses: Vec<String> = Vec::with_capacity(self.clauses);
        match group.operator {
            MatchOperator::And => clauses.extend(self.and_clauses.iter().cloned()),
            MatchOperator::Or => {
                for (d, (list, _, has_null)) in self.in_lists.iter().enumerate() {
                    let field = group.distinct[d].as_str();
                    if !list.is_empty() {
                        clauses.push(format!("{field} IN ({})", list.join(",")));
                    }
                    if *has_null {
                        clauses.push(format!("{field} = null"));
                    }
                }
            }
        }
        clauses.join(OR)
    }
}

fn and_clause(group: &Group, slot: &Slot) -> String {
    let terms: Vec<String> = group
        .fields
        .iter()
        .zip(&slot.literals)
        .map(|(f, lit)| format!("{f} = {lit}"))
        .collect();
    format!("({})", terms.join(AND))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn lead(pairs: &[(&str, Value)], op: MatchOperator) -> Lookup {
        let mut b = Lookup::builder("Lead").operator(op);
        for (f, v) in pairs {
            b = b.matcher(*f, v.clone());
        }
        b.build().unwrap()
    }

    fn check_sizes(plan: &BatchPlan, limits: &QueryLimits) {
        for q in plan.queries() {
            assert!(limits.fits(q.soql()), "{}", q.soql());
            assert_eq!(q.uri_bytes(), limits.uri_bytes(q.soql()));
        }
    }

    #[test]
    fn or_with_several_fields_uses_in_lists_and_nulls() {
        let lookups = vec![
            lead(
                &[("Email", json!("a")), ("Phone", json!("1"))],
                MatchOperator::Or,
            ),
            lead(
                &[("Phone", json!("2")), ("Email", json!("b"))],
                MatchOperator::Or,
            ),
            lead(
                &[("Email", json!("a")), ("Phone", Value::Null)],
                MatchOperator::Or,
            ),
        ];
        let plan = BatchPlan::build(&lookups, &QueryLimits::default()).unwrap();
        assert_eq!(plan.queries().len(), 1);
        assert_eq!(
            plan.queries()[0].soql(),
            "SELECT Id, Email, Phone FROM Lead WHERE Email IN ('a','b') OR Phone IN ('1','2') \
             OR Phone = null"
        );
        check_sizes(&plan, &QueryLimits::default());
    }

    #[test]
    fn and_uses_parenthesized_tuples() {
        let lookups = vec![
            lead(
                &[("FirstName", json!("A")), ("LastName", json!("B"))],
                MatchOperator::And,
            ),
            lead(
                &[("LastName", json!("D")), ("FirstName", json!("C"))],
                MatchOperator::And,
            ),
            lead(
                &[("FirstName", json!("A")), ("LastName", json!("B"))],
                MatchOperator::And,
            ),
        ];
        let plan = BatchPlan::build(&lookups, &QueryLimits::default()).unwrap();
        assert_eq!(plan.queries().len(), 1);
        assert_eq!(
            plan.queries()[0].soql(),
            "SELECT Id, FirstName, LastName FROM Lead WHERE (FirstName = 'A' AND LastName = 'B') \
             OR (FirstName = 'C' AND LastName = 'D')"
        );
        assert_eq!(plan.queries()[0].events(), &[0, 2, 1]);
    }

    #[test]
    fn shapes_are_grouped_apart() {
        let lookups = vec![
            lead(&[("Email", json!("a"))], MatchOperator::Or),
            lead(&[("Email", json!("b"))], MatchOperator::And),
            lead(
                &[("Email", json!("c")), ("Phone", json!("1"))],
                MatchOperator::Or,
            ),
            lead(
                &[("Email", json!("d")), ("Phone", json!("1"))],
                MatchOperator::And,
            ),
            Lookup::builder("Contact")
                .matcher("Email", json!("e"))
                .build()
                .unwrap(),
            lead(&[("Id", json!("00Q000000000001"))], MatchOperator::Or),
        ];
        let plan = BatchPlan::build(&lookups, &QueryLimits::default()).unwrap();
        let soqls: Vec<&str> = plan.queries().iter().map(|q| q.soql()).collect();
        assert_eq!(
            soqls,
            [
                "SELECT Id, Email FROM Lead WHERE Email IN ('a','b')",
                "SELECT Id, Email, Phone FROM Lead WHERE Email IN ('c') OR Phone IN ('1')",
                "SELECT Id, Email, Phone FROM Lead WHERE (Email = 'd' AND Phone = '1')",
                "SELECT Id, Email FROM Contact WHERE Email IN ('e')",
                "SELECT Id FROM Lead WHERE Id IN ('00Q000000000001')",
            ]
        );
        for e in 0..lookups.len() {
            assert!(plan.query_of(e).is_some());
        }
    }

    #[test]
    fn interleaved_shapes_and_spellings_meet_their_groups() {
        // Consecutive lookups of one shape reuse the previous group; a change of shape, field
        // order or spelling must still find the right one.
        let lookups = vec![
            lead(&[("Email", json!("a"))], MatchOperator::Or),
            lead(&[("Phone", json!("1"))], MatchOperator::Or),
            lead(&[("email", json!("b"))], MatchOperator::Or),
            Lookup::builder("lead")
                .matcher("EMAIL", json!("c"))
                .build()
                .unwrap(),
            lead(
                &[("Phone", json!("2")), ("Email", json!("d"))],
                MatchOperator::And,
            ),
            lead(
                &[("Email", json!("e")), ("Phone", json!("3"))],
                MatchOperator::And,
            ),
            lead(&[("Phone", json!("1"))], MatchOperator::And),
        ];
        let plan = BatchPlan::build(&lookups, &QueryLimits::default()).unwrap();
        let soqls: Vec<&str> = plan.queries().iter().map(|q| q.soql()).collect();
        assert_eq!(
            soqls,
            [
                "SELECT Id, Email FROM Lead WHERE Email IN ('a','b','c')",
                "SELECT Id, Phone FROM Lead WHERE Phone IN ('1')",
                "SELECT Id, Phone, Email FROM Lead WHERE (Phone = '2' AND Email = 'd') OR (Phone = '3' AND Email = 'e')",
            ]
        );
        let queries: Vec<Option<usize>> = (0..lookups.len()).map(|e| plan.query_of(e)).collect();
        assert_eq!(
            queries,
            [
                Some(0),
                Some(1),
                Some(0),
                Some(0),
                Some(2),
                Some(2),
                Some(1)
            ]
        );
    }

    #[test]
    fn splits_at_the_uri_limit_and_fills_each_query() {
        let lookups: Vec<Lookup> = (0..2_000)
            .map(|i| {
                lead(
                    &[("Email", json!(format!("user{i:05}@example.com")))],
                    MatchOperator::Or,
                )
            })
            .collect();
        let limits = QueryLimits::default();
        let plan = BatchPlan::build(&lookups, &limits).unwrap();
        check_sizes(&plan, &limits);
        // Every literal has the same encoded size; add 3 bytes for the comma.
        let per_value = crate::limits::encoded_len("'user00000@example.com'") + 3;
        let budget = limits.uri_budget().unwrap() - limits.uri_prefix.len();
        let head = crate::limits::encoded_len("SELECT Id, Email FROM Lead WHERE Email IN ()");
        let per_query = (budget - head + 3) / per_value;
        assert_eq!(plan.queries().len(), 2_000_usize.div_ceil(per_query));
        let mut seen = vec![0; lookups.len()];
        for q in plan.queries() {
            for &e in q.events() {
                seen[e] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
        assert_eq!(plan.rejected().count(), 0);
    }

    #[test]
    fn an_event_too_big_alone_is_rejected_not_dropped() {
        let limits = QueryLimits {
            max_soql_chars: 80,
            ..QueryLimits::default()
        };
        let lookups = vec![
            lead(&[("Email", json!("short"))], MatchOperator::Or),
            lead(&[("Email", json!("x".repeat(60)))], MatchOperator::Or),
            lead(&[("Email", json!("also"))], MatchOperator::Or),
        ];
        let plan = BatchPlan::build(&lookups, &limits).unwrap();
        assert_eq!(plan.queries().len(), 1);
        assert_eq!(plan.queries()[0].events(), &[0, 2]);
        let rejected: Vec<usize> = plan.rejected().map(|(i, _)| i).collect();
        assert_eq!(rejected, [1]);
        assert_eq!(plan.query_of(1), None);
        let (_, err) = plan.rejected().next().unwrap();
        assert!(
            matches!(
                err,
                Error::LookupTooLong {
                    max_soql_chars: 80,
                    ..
                }
            ),
            "{err}"
        );
    }

    fn any_lookup() -> impl Strategy<Value = Lookup> {
        let value = prop_oneof![
            3 => "[a-zA-Z0-9'%_\\\\ é🦀]{0,12}".prop_map(Value::String),
            1 => any::<i32>().prop_map(|n| json!(n)),
            1 => Just(Value::Null),
        ];
        (
            prop::sample::subsequence(vec!["Email", "Phone", "Company"], 1..=3),
            prop::collection::vec(value, 3),
            any::<bool>(),
        )
            .prop_map(|(fields, values, and)| {
                let op = if and {
                    MatchOperator::And
                } else {
                    MatchOperator::Or
                };
                let pairs: Vec<(&str, Value)> = fields.into_iter().zip(values).collect();
                lead(&pairs, op)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Mixed shapes under tight limits: every query fits, every event is in exactly one
        /// query with all its values, and an event is rejected only if it cannot fit alone.
        #[test]
        fn every_event_in_exactly_one_query_within_limits(
            lookups in prop::collection::vec(any_lookup(), 0..80),
            max_soql_chars in 90usize..600,
            max_uri_bytes in 150usize..900,
        ) {
            let limits = QueryLimits {
                max_soql_chars,
                max_uri_bytes,
                reserved_uri_bytes: 0,
                uri_prefix: "/q?q=".into(),
            };
            let plan = BatchPlan::build(&lookups, &limits).unwrap();
            let mut seen = vec![0usize; lookups.len()];
            for (qi, q) in plan.queries().iter().enumerate() {
                prop_assert!(q.soql().chars().count() <= max_soql_chars, "{}", q.soql());
                prop_assert!(limits.uri_bytes(q.soql()) <= max_uri_bytes, "{}", q.soql());
                prop_assert_eq!(q.uri_bytes(), limits.uri_bytes(q.soql()));
                for &e in q.events() {
                    seen[e] += 1;
                    prop_assert_eq!(plan.query_of(e), Some(qi));
                    for m in lookups[e].matchers() {
                        let lit = m.literal().to_string();
                        prop_assert!(q.soql().contains(&lit), "{} missing in {}", lit, q.soql());
                    }
                }
            }
            for (e, lookup) in lookups.iter().enumerate() {
                match plan.query_of(e) {
                    Some(_) => prop_assert_eq!(seen[e], 1),
                    None => {
                        prop_assert_eq!(seen[e], 0);
                        let alone = BatchPlan::build(std::slice::from_ref(lookup), &QueryLimits::default()).unwrap();
                        prop_assert!(!limits.fits(alone.queries()[0].soql()));
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_limits_fail_the_build() {
        let limits = QueryLimits {
            max_uri_bytes: 10,
            reserved_uri_bytes: 0,
            ..QueryLimits::default()
        };
        assert!(BatchPlan::build(&[], &limits).is_err());
        let plan = BatchPlan::build(&[], &QueryLimits::default()).unwrap();
        assert!(plan.is_empty() && plan.queries().is_empty());
    }
}
