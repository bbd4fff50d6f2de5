//! Result CSVs (`successfulResults`, `failedResults`, `unprocessedrecords`) tied back to input
//! records.
//!
//! Salesforce does not keep input order in result files, so each result row is matched to an
//! input row of the job by what it echoes:
//!
//! 1. the exact echoed row (all of the job's columns) — first pass, over all three files;
//! 2. for rows that did not match exactly (Salesforce may reformat echoed values, e.g. numbers
//!    as `9.12260031E8`): the key column — `Id` for update/delete (compared on its first 15
//!    characters, so 15- and 18-character ids match), the external-id column for upsert;
//! 3. then the row with numbers and booleans compared by value rather than by spelling.
//!
//! Input rows sharing a key sit in a FIFO queue per key, so duplicates are each matched once.
//! Identical input rows are interchangeable: which one receives which result is arbitrary.
//! Keys are stored as 64-bit hashes (about 24–40 bytes per input row for the exact index; the
//! fallback indexes are built only when needed); a collision between two different rows of one
//! job has a probability of about n²/2⁶⁵ (2·10⁻⁹ for 250,000 rows).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::io::Read;

use crate::ErrorCode;
use crate::job::Operation;
use crate::outcome::Outcome;

/// Which result file a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultKind {
    /// `successfulResults`: `sf__Id`, `sf__Created`, original columns.
    Successful,
    /// `failedResults`: `sf__Id`, `sf__Error`, original columns.
    Failed,
    /// `unprocessedrecords`: original columns only.
    Unprocessed,
}

impl ResultKind {
    /// The path segment under `jobs/ingest/{id}/`.
    pub(crate) fn path_segment(self) -> &'static str {
        match self {
            Self::Successful => "successfulResults",
            Self::Failed => "failedResults",
            Self::Unprocessed => "unprocessedrecords",
        }
    }
}

/// Parses an `sf__Error` cell (`CODE:message:field1,field2 --`) into a failed outcome.
///
/// The message may itself contain `:`; the fields are what follows the last `:` when that is
/// empty or a comma-separated list of field names.
pub fn parse_sf_error(cell: &str) -> Outcome {
    let trimmed = cell.trim_end();
    let body = trimmed
        .strip_suffix("--")
        .map(str::trim_end)
        .unwrap_or(trimmed);
    let (code, rest) = match body.split_once(':') {
        Some((code, rest)) if !code.is_empty() && !code.contains(' ') => (code, rest),
        _ => {
            return Outcome::Failed {
                code: ErrorCode::from("UNKNOWN_EXCEPTION"),
                message: body.to_owned(),
                fields: Vec::new(),
            };
        }
    };
    let (message, fields) = match rest.rsplit_once(':') {
        Some((message, fields)) if looks_like_field_list(fields) => (
            message,
            fields
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => (rest, Vec::new()),
    };
    Outcome::Failed {
        code: ErrorCode::from(code),
        message: message.to_owned(),
        fields,
    }
}

fn looks_like_field_list(s: &str) -> bool {
    s.split(',').map(str::trim).all(|f| {
        f.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    })
}

const NONE: u32 = u32::MAX;

/// FIFO queues of input positions per 64-bit key, as intrusive chains: the map holds each
/// key's (head, tail) and `next` links positions, so memory is about 24 bytes per row.
#[derive(Debug, Default)]
struct Index {
    queues: HashMap<u64, (u32, u32)>,
    next: Vec<u32>,
}

impl Index {
    fn with_rows(rows: usize) -> Self {
        Self {
            queues: HashMap::new(),
            next: vec![NONE; rows],
        }
    }

    fn with_capacity(rows: usize) -> Self {
        Self {
            queues: HashMap::with_capacity(rows),
            next: Vec::with_capacity(rows),
        }
    }

    fn insert(&mut self, key: u64, pos: u32) {
        if self.next.len() <= pos as usize {
            self.next.resize(pos as usize + 1, NONE);
        }
        match self.queues.get_mut(&key) {
            None => {
                self.queues.insert(key, (pos, pos));
            }
            Some((_, tail)) => {
                self.next[*tail as usize] = pos;
                *tail = pos;
            }
        }
    }

    /// Pops the first position under `key` that is not yet taken.
    fn take(&mut self, key: u64, taken: &[Option<Outcome>]) -> Option<u32> {
        let (head, tail) = self.queues.get(&key).copied()?;
        let mut cur = head;
        loop {
            let free = taken.get(cur as usize).is_some_and(Option::is_none);
            let after = if cur == tail {
                NONE
            } else {
                self.next[cur as usize]
            };
            if free || after == NONE {
                if after == NONE {
                    self.queues.remove(&key);
                } else if let Some(q) = self.queues.get_mut(&key) {
                    q.0 = after;
                }
                return free.then_some(cur);
            }
            cur = after;
        }
    }
}

/// A result row that did not match exactly, kept for the fallback pass.
#[derive(Debug)]
struct Deferred {
    outcome: Outcome,
    cells: Vec<String>,
}

/// Matches result rows of one job to its input rows.
///
/// Only the exact-row index is built up front; the key and by-value indexes are built (from a
/// second read of the input) only when some result row did not match exactly.
#[derive(Debug)]
pub(crate) struct Correlator {
    operation: Operation,
    columns: Vec<String>,
    key_column: Option<usize>,
    key_is_id: bool,
    hasher: RandomState,
    exact: Index,
    outcomes: Vec<Option<Outcome>>,
    deferred: Vec<Deferred>,
    unmatched: u64,
}

fn input_reader<R: Read>(input: R) -> ::csv::Reader<R> {
    ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(input)
}

impl Correlator {
    /// Indexes the job's input CSV (header first), read from `input`. `rows` is the expected
    /// number of rows: the index and outcome vector are allocated for it once, instead of
    /// growing by doubling (which briefly holds both the old and the new allocation).
    pub(crate) fn new(
        operation: Operation,
        external_id_field: Option<&str>,
        rows: usize,
        input: impl Read,
    ) -> Result<Self, ::csv::Error> {
        let mut reader = input_reader(input);
        let columns: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
        let key_name = match operation {
            Operation::Upsert => external_id_field.unwrap_or("Id"),
            Operation::Insert => "",
            _ => "Id",
        };
        let key_column = columns
            .iter()
            .position(|c| !key_name.is_empty() && c.eq_ignore_ascii_case(key_name));
        let mut this = Self {
            operation,
            key_is_id: key_name.eq_ignore_ascii_case("Id"),
            columns,
            key_column,
            hasher: RandomState::new(),
            exact: Index::with_capacity(rows),
            outcomes: Vec::with_capacity(rows),
            deferred: Vec::new(),
            unmatched: 0,
        };
        let mut record = ::csv::StringRecord::new();
        let mut pos: u32 = 0;
        while reader.read_record(&mut record)? {
            let cells: Vec<&str> = record.iter().collect();
            let key = this.row_hash(&cells, false);
            this.exact.insert(key, pos);
            this.outcomes.push(None);
            pos = pos.saturating_add(1);
        }
        this.exact.queues.shrink_to_fit();
        Ok(this)
    }

    /// Number of indexed input rows.
    pub(crate) fn len(&self) -> usize {
        self.outcomes.len()
    }

    fn row_hash(&self, cells: &[&str], canonical: bool) -> u64 {
        let mut h = self.hasher.build_hasher();
        canonical.hash(&mut h);
        for c in cells {
            if canonical {
                canonical_cell(c).hash(&mut h);
            } else {
                c.hash(&mut h);
            }
        }
        h.finish()
    }

    fn key_hash(&self, cells: &[&str]) -> Option<u64> {
        let cell = *cells.get(self.key_column?)?;
        if cell.is_empty() {
            return None;
        }
        let key = if self.key_is_id && cell.len() == 18 {
            cell.get(..15).unwrap_or(cell)
        } else {
            cell
        };
        Some(self.hasher.hash_one(("key", key)))
    }

    /// Reads one result CSV and assigns the rows that match exactly; others are deferred.
    pub(crate) fn apply(&mut self, kind: ResultKind, body: impl Read) -> Result<(), ::csv::Error> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(body);
        let headers = reader.headers()?.clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(name)))
        };
        let sf_id = find("sf__Id");
        let sf_created = find("sf__Created");
        let sf_error = find("sf__Error");
        let mapping: Vec<Option<usize>> = self.columns.iter().map(|c| find(c)).collect();
        let mut record = ::csv::StringRecord::new();
        while reader.read_record(&mut record)? {
            let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
            let outcome = self.outcome_of(kind, get(sf_id), get(sf_created), get(sf_error));
            let cells: Vec<&str> = mapping.iter().map(|&i| get(i)).collect();
            let exact = self.row_hash(&cells, false);
            match self.exact.take(exact, &self.outcomes) {
                Some(p) => self.outcomes[p as usize] = Some(outcome),
                None => self.deferred.push(Deferred {
                    outcome,
                    cells: cells.iter().map(|c| (*c).to_owned()).collect(),
                }),
            }
        }
        Ok(())
    }

    fn outcome_of(&self, kind: ResultKind, id: &str, created: &str, error: &str) -> Outcome {
        match kind {
            ResultKind::Unprocessed => Outcome::Unprocessed,
            ResultKind::Failed => parse_sf_error(error),
            ResultKind::Successful => {
                let id = id.to_owned();
                if self.operation.is_delete() {
                    Outcome::Deleted(id)
                } else if created.eq_ignore_ascii_case("true")
                    || self.operation == Operation::Insert
                {
                    Outcome::Created(id)
                } else {
                    Outcome::Updated(id)
                }
            }
        }
    }

    /// Returns true when some result rows did not match exactly, so [`Correlator::finish`]
    /// needs the input again.
    pub(crate) fn needs_fallback(&self) -> bool {
        !self.deferred.is_empty()
    }

    /// Resolves deferred rows by key, then by canonical row, using `input` (the job's input CSV
    /// again; only read when [`Correlator::needs_fallback`]). Returns one outcome per input row
    /// (rows without any result are `Unprocessed`) and the number of unmatched result rows.
    pub(crate) fn finish(
        mut self,
        input: Option<impl Read>,
    ) -> Result<(Vec<Outcome>, u64), ::csv::Error> {
        self.exact = Index::default();
        if let (true, Some(input)) = (self.needs_fallback(), input) {
            let rows = self.outcomes.len();
            let mut keyed = Index::with_rows(rows);
            let mut canonical = Index::with_rows(rows);
            let mut reader = input_reader(input);
            let mut record = ::csv::StringRecord::new();
            let mut pos: u32 = 0;
            while reader.read_record(&mut record)? {
                if self.outcomes.get(pos as usize).is_some_and(Option::is_none) {
                    let cells: Vec<&str> = record.iter().collect();
                    canonical.insert(self.row_hash(&cells, true), pos);
                    if let Some(k) = self.key_hash(&cells) {
                        keyed.insert(k, pos);
                    }
                }
                pos = pos.saturating_add(1);
            }
            for d in std::mem::take(&mut self.deferred) {
                let cells: Vec<&str> = d.cells.iter().map(String::as_str).collect();
                let by_key = self
                    .key_hash(&cells)
                    .and_then(|k| keyed.take(k, &self.outcomes));
                let pos = by_key.or_else(|| {
                    let canon = self.row_hash(&cells, true);
                    canonical.take(canon, &self.outcomes)
                });
                match pos {
                    Some(p) => self.outcomes[p as usize] = Some(d.outcome),
                    None => self.unmatched += 1,
                }
            }
        }
        self.unmatched += self.deferred.len() as u64;
        if self.unmatched > 0 {
            tracing::warn!(
                unmatched = self.unmatched,
                "bulk result rows matched no input row"
            );
        }
        let outcomes = self
            .outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Unprocessed))
            .collect();
        Ok((outcomes, self.unmatched))
    }
}

/// A cell compared by value: numbers by their f64 value, booleans case-insensitively.
#[derive(Hash)]
enum Canonical<'a> {
    Number(u64),
    Bool(bool),
    Text(&'a str),
}

fn canonical_cell(cell: &str) -> Canonical<'_> {
    let numeric_start = cell
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'));
    if numeric_start
        && let Ok(f) = cell.parse::<f64>()
        && f.is_finite()
    {
        return Canonical::Number((f + 0.0).to_bits());
    }
    if cell.eq_ignore_ascii_case("true") {
        return Canonical::Bool(true);
    }
    if cell.eq_ignore_ascii_case("false") {
        return Canonical::Bool(false);
    }
    Canonical::Text(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(code: &str, message: &str, fields: &[&str]) -> Outcome {
        Outcome::Failed {
            code: ErrorCode::from(code),
            message: message.into(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn sf_error_examples_from_the_facts_file() {
        assert_eq!(
            parse_sf_error("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"),
            failed(
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [Name]",
                &["Name"]
            )
        );
        assert_eq!(
            parse_sf_error("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"),
            failed(
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                &[]
            )
        );
        assert_eq!(
            parse_sf_error("MALFORMED_ID:Account ID: id value of incorrect type: xxx:Id --"),
            failed(
                "MALFORMED_ID",
                "Account ID: id value of incorrect type: xxx",
                &["Id"]
            )
        );
        assert_eq!(
            parse_sf_error("ENTITY_IS_DELETED:entity is deleted:--"),
            failed("ENTITY_IS_DELETED", "entity is deleted", &[])
        );
        assert_eq!(
            parse_sf_error("FIELD_X:two fields:Name,Phone --"),
            failed("FIELD_X", "two fields", &["Name", "Phone"])
        );
        assert_eq!(
            parse_sf_error("garbage without code"),
            failed("UNKNOWN_EXCEPTION", "garbage without code", &[])
        );
    }

    const UPDATE_INPUT: &str =
        "Id,Name\n001000000000001,A\n001000000000002,B\n001000000000001,C\n,D\n";

    #[test]
    fn results_in_any_order_map_back_to_input_positions() {
        let mut c = Correlator::new(Operation::Update, None, 0, UPDATE_INPUT.as_bytes()).unwrap();
        assert_eq!(c.len(), 4);
        let ok = "\"sf__Id\",\"sf__Created\",\"Id\",\"Name\"\n\
                  \"001000000000001AAA\",\"false\",\"001000000000001\",\"C\"\n\
                  \"001000000000002AAA\",\"false\",\"001000000000002\",\"B\"\n";
        let bad = "\"sf__Id\",\"sf__Error\",\"Id\",\"Name\"\n\
                   \"\",\"MISSING_ARGUMENT:Id not specified in an update call:--\",\"\",\"D\"\n\
                   \"001000000000001AAA\",\"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--\",\"001000000000001\",\"A\"\n";
        c.apply(ResultKind::Successful, ok.as_bytes()).unwrap();
        c.apply(ResultKind::Failed, bad.as_bytes()).unwrap();
        assert!(!c.needs_fallback(), "every echo matched exactly");
        let (out, unmatched) = c.finish(None::<&[u8]>).unwrap();
        assert_eq!(unmatched, 0);
        assert_eq!(
            out[0],
            failed(
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record",
                &[]
            )
        );
        assert_eq!(out[1], Outcome::Updated("001000000000002AAA".into()));
        assert_eq!(out[2], Outcome::Updated("001000000000001AAA".into()));
        assert_eq!(
            out[3],
            failed(
                "MISSING_ARGUMENT",
                "Id not specified in an update call",
                &[]
            )
        );
    }

    #[test]
    fn reformatted_echo_falls_back_to_key_then_canonical_value() {
        let input = "Ext__c,Amount\nX1,912260031\nX2,5\n";
        let mut c =
            Correlator::new(Operation::Upsert, Some("Ext__c"), 0, input.as_bytes()).unwrap();
        let ok = "sf__Id,sf__Created,Ext__c,Amount\nid1,true,X1,9.12260031E8\n";
        c.apply(ResultKind::Successful, ok.as_bytes()).unwrap();
        let (out, _) = c.finish(Some(input.as_bytes())).unwrap();
        assert_eq!(out[0], Outcome::Created("id1".into()));
        assert_eq!(out[1], Outcome::Unprocessed, "no result row for X2");

        let input = "Name,Amount\nA,912260031\nA,1\n";
        let mut c = Correlator::new(Operation::Insert, None, 0, input.as_bytes()).unwrap();
        let ok = "sf__Id,sf__Created,Name,Amount\nid9,true,A,1.0\nid8,true,A,9.12260031E8\n";
        c.apply(ResultKind::Successful, ok.as_bytes()).unwrap();
        let (out, unmatched) = c.finish(Some(input.as_bytes())).unwrap();
        assert_eq!(unmatched, 0);
        assert_eq!(
            out,
            vec![
                Outcome::Created("id8".into()),
                Outcome::Created("id9".into())
            ]
        );
    }

    #[test]
    fn duplicate_rows_each_get_one_result_and_extras_are_unmatched() {
        let input = "Name\nSame\nSame\n";
        let mut c = Correlator::new(Operation::Insert, None, 0, input.as_bytes()).unwrap();
        let ok = "sf__Id,sf__Created,Name\nid1,true,Same\nid2,true,Same\nid3,true,Same\n";
        c.apply(ResultKind::Successful, ok.as_bytes()).unwrap();
        let (out, unmatched) = c.finish(Some(input.as_bytes())).unwrap();
        assert_eq!(
            out,
            vec![
                Outcome::Created("id1".into()),
                Outcome::Created("id2".into())
            ]
        );
        assert_eq!(unmatched, 1);
    }

    #[test]
    fn delete_and_unprocessed() {
        let input = "Id\n001000000000001AAA\n001000000000002AAA\n";
        let mut c = Correlator::new(Operation::Delete, None, 0, input.as_bytes()).unwrap();
        // 15-character id echoed for an 18-character input still matches by key.
        c.apply(
            ResultKind::Successful,
            "sf__Id,sf__Created,Id\n001000000000001AAA,false,001000000000001\n".as_bytes(),
        )
        .unwrap();
        c.apply(
            ResultKind::Unprocessed,
            "Id\n001000000000002AAA\n".as_bytes(),
        )
        .unwrap();
        let (out, _) = c.finish(Some(input.as_bytes())).unwrap();
        assert_eq!(
            out,
            vec![
                Outcome::Deleted("001000000000001AAA".into()),
                Outcome::Unprocessed
            ]
        );
    }

    #[test]
    fn index_is_fifo_per_key_and_skips_taken_positions() {
        let mut idx = Index::default();
        for (key, pos) in [(7, 0), (9, 1), (7, 2), (7, 3)] {
            idx.insert(key, pos);
        }
        let mut taken: Vec<Option<Outcome>> = vec![None; 4];
        taken[2] = Some(Outcome::Unprocessed); // taken through another index
        assert_eq!(idx.take(7, &taken), Some(0));
        taken[0] = Some(Outcome::Unprocessed);
        assert_eq!(idx.take(7, &taken), Some(3), "2 is skipped");
        taken[3] = Some(Outcome::Unprocessed);
        assert_eq!(idx.take(7, &taken), None);
        assert_eq!(idx.take(9, &taken), Some(1));
        assert_eq!(idx.take(9, &taken), None);
        assert!(idx.queues.is_empty());
    }

    #[test]
    fn deferred_rows_without_input_are_counted_unmatched() {
        let input = "Name\nA\n";
        let mut c = Correlator::new(Operation::Insert, None, 0, input.as_bytes()).unwrap();
        c.apply(
            ResultKind::Successful,
            "sf__Id,sf__Created,Name\nid,true,B\n".as_bytes(),
        )
        .unwrap();
        assert!(c.needs_fallback());
        let (out, unmatched) = c.finish(None::<&[u8]>).unwrap();
        assert_eq!((out, unmatched), (vec![Outcome::Unprocessed], 1));
    }
}
