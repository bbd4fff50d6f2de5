//! Result CSVs: `successfulResults`, `failedResults` and `unprocessedrecords`: the `sf__`
//! header names and every value quoted, the uploaded header names echoed unquoted as
//! uploaded, LF line endings, the job's column delimiter.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;

use super::job::{JobResults, RowOutcome};
use super::process::row_at;

/// Which result file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultKind {
    /// `successfulResults`
    Successful,
    /// `failedResults`
    Failed,
    /// `unprocessedrecords` (either casing)
    Unprocessed,
}

impl ResultKind {
    /// Parses the path segment, case-insensitively.
    pub(crate) fn parse(segment: &str) -> Option<Self> {
        match segment.to_ascii_lowercase().as_str() {
            "successfulresults" => Some(ResultKind::Successful),
            "failedresults" => Some(ResultKind::Failed),
            "unprocessedrecords" => Some(ResultKind::Unprocessed),
            _ => None,
        }
    }
}

/// Rows of a result file rendered per chunk of the stream.
const CHUNK_ROWS: usize = 5_000;

/// The header line of a result file (empty for the unprocessed file of a job without a
/// readable header).
fn header_line(results: &JobResults, kind: ResultKind, delimiter: u8) -> Vec<u8> {
    // Salesforce quotes its own `sf__` names but echoes the uploaded names unquoted.
    let sep = char::from(delimiter).to_string();
    let header = |sf: &[&str]| -> Vec<u8> {
        let mut names: Vec<String> = sf.iter().map(|n| format!("\"{n}\"")).collect();
        names.extend(results.header.iter().cloned());
        let mut line = names.join(&sep).into_bytes();
        line.push(b'\n');
        line
    };
    match kind {
        ResultKind::Successful => header(&["sf__Id", "sf__Created"]),
        ResultKind::Failed => header(&["sf__Id", "sf__Error"]),
        ResultKind::Unprocessed if results.header.is_empty() => Vec::new(),
        ResultKind::Unprocessed => header(&[]),
    }
}

/// Number of row chunks of a result file.
fn chunks(results: &JobResults, kind: ResultKind) -> usize {
    let rows = match kind {
        ResultKind::Successful | ResultKind::Failed => results.rows.len(),
        ResultKind::Unprocessed => results.unprocessed.len(),
    };
    rows.div_ceil(CHUNK_ROWS)
}

/// The data lines of chunk `chunk` (rows `chunk * CHUNK_ROWS ..`) of a result file; `data`
/// is the uploaded CSV the rows' cells are read back from.
fn rows_chunk(
    results: &JobResults,
    data: &[u8],
    kind: ResultKind,
    delimiter: u8,
    chunk: usize,
) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; errors are ignored rather than unwrapped.
    let mut write = |fields: Vec<&str>| {
        let _ = w.write_record(&fields);
    };
    let range = |len: usize| (chunk * CHUNK_ROWS).min(len)..((chunk + 1) * CHUNK_ROWS).min(len);
    match kind {
        ResultKind::Successful | ResultKind::Failed => {
            for (offset, outcome) in &results.rows[range(results.rows.len())] {
                let (id, second) = match (kind, outcome) {
                    (ResultKind::Successful, RowOutcome::Success { id, created }) => {
                        (id.as_str(), if *created { "true" } else { "false" })
                    }
                    (ResultKind::Failed, RowOutcome::Failure { id, error }) => {
                        (id.as_str(), error.as_str())
                    }
                    _ => continue,
                };
                let cells = row_at(delimiter, data, *offset);
                write(
                    [id, second]
                        .into_iter()
                        .chain(cells.iter().map(String::as_str))
                        .collect(),
                );
            }
        }
        ResultKind::Unprocessed => {
            for cells in &results.unprocessed[range(results.unprocessed.len())] {
                write(cells.iter().map(String::as_str).collect());
            }
        }
    }
    w.into_inner().unwrap_or_default()
}

/// Renders one whole result file; `data` is the uploaded CSV the rows' cells are read back
/// from.
#[cfg(test)]
pub(crate) fn render(
    results: &JobResults,
    data: &[u8],
    kind: ResultKind,
    delimiter: u8,
) -> Vec<u8> {
    let mut out = header_line(results, kind, delimiter);
    for c in 0..chunks(results, kind) {
        out.extend(rows_chunk(results, data, kind, delimiter, c));
    }
    out
}

/// One result file as a body stream: the header line, then each chunk of rows rendered
/// only when the body is polled for it.
pub(crate) fn stream(
    results: Arc<JobResults>,
    data: Bytes,
    kind: ResultKind,
    delimiter: u8,
) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
    let head = Bytes::from(header_line(&results, kind, delimiter));
    let n = chunks(&results, kind);
    let rows = futures::stream::iter(0..n)
        .map(move |c| Ok(Bytes::from(rows_chunk(&results, &data, kind, delimiter, c))));
    futures::stream::iter([Ok(head)]).chain(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upload the rows' cells are read back from.
    const DATA: &str = "Name,Note\nA,\"say \"\"hi\"\", ok\"\n,x\nB,y\n";

    fn offset(row: &str) -> u64 {
        DATA.find(row).unwrap() as u64
    }

    fn results() -> JobResults {
        JobResults {
            header: vec!["Name".into(), "Note".into()],
            rows: vec![
                (
                    offset("A,"),
                    RowOutcome::Success {
                        id: "001Em0000000001AAA".into(),
                        created: true,
                    },
                ),
                (
                    offset(",x"),
                    RowOutcome::Failure {
                        id: String::new(),
                        error: "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
                            .into(),
                    },
                ),
            ],
            unprocessed: vec![vec!["B".into(), "y".into()]],
        }
    }

    #[test]
    fn values_and_sf_names_are_quoted_uploaded_names_echoed_unquoted() {
        let out = String::from_utf8(render(
            &results(),
            DATA.as_bytes(),
            ResultKind::Successful,
            b',',
        ))
        .unwrap();
        assert_eq!(
            out,
            "\"sf__Id\",\"sf__Created\",Name,Note\n\"001Em0000000001AAA\",\"true\",\"A\",\"say \"\"hi\"\", ok\"\n"
        );
    }

    #[test]
    fn failed_results_carry_the_error_and_an_empty_id_for_inserts() {
        let out = String::from_utf8(render(
            &results(),
            DATA.as_bytes(),
            ResultKind::Failed,
            b',',
        ))
        .unwrap();
        assert_eq!(
            out,
            "\"sf__Id\",\"sf__Error\",Name,Note\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"x\"\n"
        );
    }

    #[test]
    fn unprocessed_records_use_the_original_columns_and_the_job_delimiter() {
        let out = String::from_utf8(render(
            &results(),
            DATA.as_bytes(),
            ResultKind::Unprocessed,
            b'|',
        ))
        .unwrap();
        assert_eq!(out, "Name|Note\n\"B\"|\"y\"\n");
    }

    #[test]
    fn result_kinds_parse_in_either_casing() {
        assert_eq!(
            ResultKind::parse("unprocessedRecords"),
            Some(ResultKind::Unprocessed)
        );
        assert_eq!(
            ResultKind::parse("unprocessedrecords"),
            Some(ResultKind::Unprocessed)
        );
        assert_eq!(
            ResultKind::parse("successfulResults"),
            Some(ResultKind::Successful)
        );
        assert_eq!(ResultKind::parse("failedresults"), Some(ResultKind::Failed));
        assert_eq!(ResultKind::parse("batches"), None);
    }
}
