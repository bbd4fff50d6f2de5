//! Result CSVs: `successfulResults`, `failedResults` and `unprocessedrecords`: the `sf__`
//! header names and every value quoted, the uploaded header names echoed unquoted as
//! uploaded, LF line endings, the job's column delimiter.

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

/// Renders one result file; `data` is the uploaded CSV the rows' cells are read back from.
pub(crate) fn render(
    results: &JobResults,
    data: &[u8],
    kind: ResultKind,
    delimiter: u8,
) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(Vec::new());
    // The header line is written by hand: Salesforce quotes its own `sf__` names but echoes
    // the uploaded names unquoted.
    let sep = char::from(delimiter).to_string();
    let header = |sf: &[&str]| -> Vec<u8> {
        let mut names: Vec<String> = sf.iter().map(|n| format!("\"{n}\"")).collect();
        names.extend(results.header.iter().cloned());
        let mut line = names.join(&sep).into_bytes();
        line.push(b'\n');
        line
    };
    let first = match kind {
        ResultKind::Successful => header(&["sf__Id", "sf__Created"]),
        ResultKind::Failed => header(&["sf__Id", "sf__Error"]),
        ResultKind::Unprocessed if results.header.is_empty() => Vec::new(),
        ResultKind::Unprocessed => header(&[]),
    };
    // Writing to a Vec cannot fail; errors are ignored rather than unwrapped.
    let mut write = |fields: Vec<&str>| {
        let _ = w.write_record(&fields);
    };
    match kind {
        ResultKind::Successful => {
            for (offset, outcome) in &results.rows {
                if let RowOutcome::Success { id, created } = outcome {
                    let cells = row_at(delimiter, data, *offset);
                    let created = if *created { "true" } else { "false" };
                    write(
                        [id.as_str(), created]
                            .into_iter()
                            .chain(cells.iter().map(String::as_str))
                            .collect(),
                    );
                }
            }
        }
        ResultKind::Failed => {
            for (offset, outcome) in &results.rows {
                if let RowOutcome::Failure { id, error } = outcome {
                    let cells = row_at(delimiter, data, *offset);
                    write(
                        [id.as_str(), error.as_str()]
                            .into_iter()
                            .chain(cells.iter().map(String::as_str))
                            .collect(),
                    );
                }
            }
        }
        ResultKind::Unprocessed => {
            for cells in &results.unprocessed {
                write(cells.iter().map(String::as_str).collect());
            }
        }
    }
    let mut out = first;
    out.extend(w.into_inner().unwrap_or_default());
    out
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
