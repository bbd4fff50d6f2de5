//! Record keys: what two operations must share to be kept in event order.
//!
//! A key is `object|field|value`, normalised as Salesforce compares values: text without case,
//! record ids by [`sfdc_match::canonical_id`] (15 and 18 characters alike). An operation has
//! one key per record matcher (any shared matcher value orders two operations), its Bulk
//! external id or record id; a plain create has none.

use std::collections::HashMap;

use serde_json::Value;
use sfdc_actions::PlannedOperation;

/// One normalised record key (built in one allocation: keys are made for every operation and
/// every resolved record).
pub(crate) fn key(object: &str, field: &str, value: &Value) -> String {
    let mut out = String::with_capacity(object.len() + field.len() + 40);
    push_lowercase(&mut out, object);
    out.push('\u{1f}');
    push_lowercase(&mut out, field);
    out.push('\u{1f}');
    match value {
        Value::String(s) if field.eq_ignore_ascii_case("id") => {
            sfdc_match::push_canonical_id(&mut out, s);
        }
        Value::String(s) => push_lowercase(&mut out, s),
        other => push_lowercase(&mut out, &other.to_string()),
    }
    out
}

/// Appends `text` lowercased as [`str::to_lowercase`] does (ASCII without an allocation).
fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// The record keys of one planned operation (empty for a plain create); a
/// [`crate::execute::Job`] holds them (`Job::keys`).
pub(crate) fn keys_of(plan: &PlannedOperation) -> Vec<String> {
    let mut keys: Vec<String> = plan
        .matchers
        .iter()
        .map(|m| key(&plan.object, &m.field, &m.value))
        .collect();
    if let Some(bulk) = &plan.bulk {
        if let Some(external) = &bulk.external_id {
            keys.push(key(&plan.object, &external.field, &external.value));
        }
        if let Some(id) = &bulk.record_id {
            keys.push(key(&plan.object, "Id", id));
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// Assigns each item a round so that items sharing any key are in increasing rounds in input
/// order, and items sharing none may share a round. Returns the round of each item.
pub(crate) fn assign_rounds(keys: &[Vec<String>]) -> Vec<usize> {
    let mut next: HashMap<&str, usize> = HashMap::new();
    keys.iter()
        .map(|ks| {
            let round = ks
                .iter()
                .map(|k| next.get(k.as_str()).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            for k in ks {
                next.insert(k.as_str(), round + 1);
            }
            round
        })
        .collect()
}

/// Splits items into rounds by [`assign_rounds`], keeping input order inside each round.
pub(crate) fn into_rounds<T>(items: Vec<T>, keys: &[Vec<String>]) -> Vec<Vec<T>> {
    let rounds = assign_rounds(keys);
    let mut out: Vec<Vec<T>> = Vec::new();
    for (item, round) in items.into_iter().zip(rounds) {
        while out.len() <= round {
            out.push(Vec::new());
        }
        out[round].push(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_normalise_case_and_id_length() {
        assert_eq!(
            key("Lead", "Email", &json!("Ada@Example.com")),
            key("lead", "email", &json!("ada@example.com"))
        );
        assert_eq!(
            key("Lead", "Id", &json!("00Q000000000001EAA")),
            key("Lead", "ID", &json!("00Q000000000001"))
        );
        assert_ne!(
            key("Lead", "Email", &json!("a")),
            key("Contact", "Email", &json!("a"))
        );
        assert_eq!(
            key("Lead", "LastName", &json!("ÅSA")),
            key("lead", "lastname", &json!("åsa"))
        );
        assert_eq!(key("Lead", "Age", &json!(3)), "lead\u{1f}age\u{1f}3");
    }

    #[test]
    fn rounds_order_items_sharing_any_key() {
        let k = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let keys = vec![
            k(&["a"]),
            k(&["b"]),
            k(&["a", "c"]),
            k(&[]),
            k(&["c"]),
            k(&["b"]),
        ];
        assert_eq!(assign_rounds(&keys), vec![0, 0, 1, 0, 2, 1]);
        let rounds = into_rounds(vec![1, 2, 3, 4, 5, 6], &keys);
        assert_eq!(rounds, vec![vec![1, 2, 4], vec![3, 6], vec![5]]);
    }
}
