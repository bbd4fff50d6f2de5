//! Index-backed record lookup for SOQL: the live records whose field may equal one of a list
//! of values, from the `Id` key or the field's index, so `WHERE Email IN (...)` does not scan.

use super::{FieldType, Org, Record, is_deleted};
use crate::ids;

impl Org {
    /// Live records of `object` whose `field` may equal one of `values` (text), in creation
    /// order: a superset of the matches (the caller still evaluates its condition on them).
    /// `None` when neither the `Id` key nor an index can answer (the caller then scans).
    pub(crate) fn indexed_records<'a>(
        &'a self,
        object: &str,
        field: &str,
        values: &[&str],
    ) -> Option<Vec<&'a Record>> {
        let o = self.schema.object(object)?;
        let f = o.field(field)?;
        let table = self.tables.get(&o.name);
        // One probe per value; the ids collected, then put in creation order once.
        let mut ids: Vec<&str> = Vec::with_capacity(values.len());
        if f.field_type == FieldType::Id {
            for v in values {
                let Some(id18) = ids::to_18(v) else { continue };
                if let Some((id, _)) = table.and_then(|t| t.get_key_value(&id18)) {
                    ids.push(id.as_str());
                }
            }
        } else {
            let idx = self.indexes.get(&o.name)?.get(&f.name)?;
            for v in values {
                idx.text_candidates(v, &mut ids);
            }
            ids.extend(idx.odd_ids());
        }
        ids.sort_unstable();
        ids.dedup();
        let table = table?;
        Some(
            ids.into_iter()
                .filter_map(|id| table.get(id))
                .filter(|r| !is_deleted(r))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lead(org: &mut Org, i: usize) -> String {
        let body =
            json!({"LastName": format!("L{i}"), "Company": "C", "Email": format!("u{i}@x.io")});
        org.create("Lead", body.as_object().unwrap()).unwrap()
    }

    #[test]
    fn email_and_id_lookups_return_only_the_candidates() {
        let mut org = Org::new();
        let ids: Vec<String> = (0..1000).map(|i| lead(&mut org, i)).collect();
        org.delete(&ids[7]).unwrap();
        // Case-insensitive, in creation order, deleted records left out, duplicates once.
        let got = org
            .indexed_records(
                "Lead",
                "email",
                &["U500@X.IO", "u7@x.io", "u3@x.io", "u500@x.io"],
            )
            .unwrap();
        let names: Vec<&str> = got
            .iter()
            .map(|r| r["LastName"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["L3", "L500"]);
        // Ids in either length; unknown and malformed ids match nothing.
        let id15 = &ids[42][..15];
        let got = org
            .indexed_records("Lead", "Id", &[id15, "00Q000000000000AAA", "nope"])
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["Id"], json!(ids[42]));
        // A field without an index cannot answer.
        assert!(org.indexed_records("Lead", "Company", &["C"]).is_none());
    }
}
