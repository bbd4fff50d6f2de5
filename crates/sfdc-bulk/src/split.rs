//! Job splitting: decides where a new job must start so that no job passes the byte or record
//! limit. Pure bookkeeping; the bytes themselves go to a [`ChunkWriter`](crate::ChunkWriter).

/// The largest raw CSV a job may hold: Salesforce caps an upload at 150 MB *after* base64
/// encoding, i.e. 112.5 MB raw.
pub const MAX_JOB_BYTES: usize = 112_500_000;

/// Size limits of one job (one CSV upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitLimits {
    /// Maximum raw CSV bytes per job, header included. Default 100,000,000 (Salesforce's
    /// recommendation; the hard limit is [`MAX_JOB_BYTES`]).
    pub max_bytes: usize,
    /// Maximum data rows per job. Default 250,000: the per-job correlation index and the job's
    /// [`JobReport`](crate::JobReport) take roughly 150 bytes per row, so this keeps them near
    /// 40 MB.
    pub max_records: usize,
}

impl Default for SplitLimits {
    fn default() -> Self {
        Self {
            max_bytes: 100_000_000,
            max_records: 250_000,
        }
    }
}

impl SplitLimits {
    /// Checks the limits; returns a message telling what to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_bytes == 0 || self.max_bytes > MAX_JOB_BYTES {
            return Err(format!(
                "max_bytes must be between 1 and {MAX_JOB_BYTES} (150 MB after base64), got {}",
                self.max_bytes
            ));
        }
        if self.max_records == 0 {
            return Err("max_records must be at least 1".to_owned());
        }
        Ok(())
    }
}

/// Where the next row goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// Append to the open job.
    Append,
    /// Close the open job (if any) and start a new one with this row.
    StartNew,
    /// The row cannot fit in any job, even alone with the header.
    TooLarge,
}

/// Tracks the size of the open job and decides [`Placement`]s.
#[derive(Debug, Clone)]
pub struct Splitter {
    limits: SplitLimits,
    open: bool,
    bytes: usize,
    records: usize,
}

impl Splitter {
    /// Creates a splitter with no open job.
    pub fn new(limits: SplitLimits) -> Self {
        Self {
            limits,
            open: false,
            bytes: 0,
            records: 0,
        }
    }

    /// The limits.
    pub fn limits(&self) -> SplitLimits {
        self.limits
    }

    /// Decides where a row of `row_len` bytes goes and records it. `header_len` is the header
    /// size a new job would start with.
    pub fn place(&mut self, header_len: usize, row_len: usize) -> Placement {
        let alone = header_len.saturating_add(row_len);
        if alone > self.limits.max_bytes {
            return Placement::TooLarge;
        }
        let fits = self.open
            && self.bytes.saturating_add(row_len) <= self.limits.max_bytes
            && self.records < self.limits.max_records;
        if fits {
            self.bytes += row_len;
            self.records += 1;
            Placement::Append
        } else {
            self.open = true;
            self.bytes = alone;
            self.records = 1;
            Placement::StartNew
        }
    }

    /// Forces the next row into a new job (used when the column set changes).
    pub fn close(&mut self) {
        self.open = false;
        self.bytes = 0;
        self.records = 0;
    }

    /// Bytes in the open job, header included (0 when none is open).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Rows in the open job.
    pub fn records(&self) -> usize {
        self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn starts_new_job_before_passing_bytes_or_records() {
        let mut s = Splitter::new(SplitLimits {
            max_bytes: 20,
            max_records: 3,
        });
        assert_eq!(s.place(5, 5), Placement::StartNew); // 10
        assert_eq!(s.place(5, 5), Placement::Append); // 15
        assert_eq!(s.place(5, 5), Placement::Append); // 20 == limit
        assert_eq!(s.place(5, 1), Placement::StartNew); // would be 21
        assert_eq!(s.bytes(), 6);
        assert_eq!(s.place(5, 1), Placement::Append);
        assert_eq!(s.place(5, 1), Placement::Append);
        assert_eq!(s.place(5, 1), Placement::StartNew); // 4th record
        assert_eq!(s.place(5, 16), Placement::TooLarge);
        assert_eq!(s.records(), 1, "a too-large row changes nothing");
        s.close();
        assert_eq!(s.place(5, 1), Placement::StartNew);
    }

    #[test]
    fn validate_rejects_limits_salesforce_would_refuse() {
        assert!(SplitLimits::default().validate().is_ok());
        let too_big = SplitLimits {
            max_bytes: MAX_JOB_BYTES + 1,
            ..Default::default()
        };
        assert!(too_big.validate().unwrap_err().contains("max_bytes"));
        let zero = SplitLimits {
            max_records: 0,
            ..Default::default()
        };
        assert!(zero.validate().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn every_row_exactly_once_and_no_job_over_limit(
            header in 1usize..50,
            rows in proptest::collection::vec(0usize..120, 0..300),
            max_bytes in 1usize..400,
            max_records in 1usize..20,
        ) {
            let mut s = Splitter::new(SplitLimits { max_bytes, max_records });
            let mut jobs: Vec<Vec<usize>> = Vec::new();
            let mut too_large = Vec::new();
            for (i, &len) in rows.iter().enumerate() {
                match s.place(header, len) {
                    Placement::Append => jobs.last_mut().unwrap().push(i),
                    Placement::StartNew => jobs.push(vec![i]),
                    Placement::TooLarge => too_large.push(i),
                }
            }
            let mut seen: Vec<usize> = jobs.iter().flatten().copied().chain(too_large.iter().copied()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..rows.len()).collect::<Vec<_>>());
            for job in &jobs {
                let bytes: usize = header + job.iter().map(|&i| rows[i]).sum::<usize>();
                prop_assert!(bytes <= max_bytes);
                prop_assert!(job.len() <= max_records);
                prop_assert!(!job.is_empty());
            }
            for &i in &too_large {
                prop_assert!(header + rows[i] > max_bytes);
            }
        }
    }
}
