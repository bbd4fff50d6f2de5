//! Query size limits and the percent-encoded size of SOQL text.

use std::ops::{Add, AddAssign, Mul};

use crate::error::{Error, Result};

/// Size limits a batched query must respect.
///
/// The defaults are Salesforce's: 100,000 SOQL characters and 16,384 bytes of request URI,
/// for `GET /services/data/v62.0/query?q=…`, keeping 1,024 bytes spare for servers that count
/// the request line or headers with the URI.
///
/// ```
/// use sfdc_match::QueryLimits;
///
/// let limits = QueryLimits {
///     uri_prefix: "/services/data/v66.0/queryAll?q=".into(),
///     ..QueryLimits::default()
/// };
/// assert_eq!(limits.uri_budget()?, 16_384 - 1_024);
/// # Ok::<(), sfdc_match::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// Most characters in one SOQL statement (default 100,000).
    pub max_soql_chars: usize,
    /// Most bytes in the request URI, path and percent-encoded query (default 16,384).
    pub max_uri_bytes: usize,
    /// Bytes of `max_uri_bytes` kept spare (default 1,024).
    pub reserved_uri_bytes: usize,
    /// The request path up to the encoded query text (default
    /// `/services/data/v62.0/query?q=`). Its length counts against the URI budget.
    pub uri_prefix: String,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_soql_chars: 100_000,
            max_uri_bytes: 16_384,
            reserved_uri_bytes: 1_024,
            uri_prefix: "/services/data/v62.0/query?q=".into(),
        }
    }
}

impl QueryLimits {
    /// Returns the bytes a whole request URI may use: `max_uri_bytes - reserved_uri_bytes`.
    ///
    /// # Errors
    /// [`Error::InvalidLimits`] when the reserve or the prefix leave no room.
    pub fn uri_budget(&self) -> Result<usize> {
        let budget = self
            .max_uri_bytes
            .checked_sub(self.reserved_uri_bytes)
            .filter(|b| *b > self.uri_prefix.len())
            .ok_or_else(|| Error::InvalidLimits {
                message: format!(
                    "max_uri_bytes ({}) minus reserved_uri_bytes ({}) leaves no room after the \
                     {}-byte URI prefix",
                    self.max_uri_bytes,
                    self.reserved_uri_bytes,
                    self.uri_prefix.len()
                ),
            })?;
        if self.max_soql_chars == 0 {
            return Err(Error::InvalidLimits {
                message: "max_soql_chars is 0".into(),
            });
        }
        Ok(budget)
    }

    /// Returns the request-URI bytes for `soql` (prefix plus the encoded text, an upper bound;
    /// see [`encoded_len`]).
    pub fn uri_bytes(&self, soql: &str) -> usize {
        self.uri_prefix.len() + encoded_len(soql)
    }

    /// Returns true when `soql` is within both limits.
    pub fn fits(&self, soql: &str) -> bool {
        let Ok(budget) = self.uri_budget() else {
            return false;
        };
        soql.chars().count() <= self.max_soql_chars && self.uri_bytes(soql) <= budget
    }
}

/// Returns the exact length of `text` encoded as a query value the way `sfdc-rest` sends it
/// (`application/x-www-form-urlencoded`): ASCII letters, digits, `*-._` and the space (sent as
/// `+`) count one byte, every other byte three (`%XX`).
///
/// ```
/// assert_eq!(sfdc_match::encoded_len("a b"), 3);
/// assert_eq!(sfdc_match::encoded_len("é"), 6);
/// assert_eq!(sfdc_match::encoded_len("Email IN ('a@b.c')"), 28);
/// ```
pub fn encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_' | b' ') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Size of a piece of SOQL: characters and encoded bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    pub(crate) chars: usize,
    pub(crate) bytes: usize,
}

impl Cost {
    pub(crate) fn of(text: &str) -> Cost {
        Cost {
            chars: text.chars().count(),
            bytes: encoded_len(text),
        }
    }
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, rhs: Cost) -> Cost {
        Cost {
            chars: self.chars + rhs.chars,
            bytes: self.bytes + rhs.bytes,
        }
    }
}

impl AddAssign for Cost {
    fn add_assign(&mut self, rhs: Cost) {
        *self = *self + rhs;
    }
}

impl Mul<usize> for Cost {
    type Output = Cost;
    fn mul(self, n: usize) -> Cost {
        Cost {
            chars: self.chars * n,
            bytes: self.bytes * n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_limits_are_rejected() {
        let limits = QueryLimits {
            max_uri_bytes: 100,
            reserved_uri_bytes: 80,
            ..QueryLimits::default()
        };
        assert!(matches!(
            limits.uri_budget(),
            Err(Error::InvalidLimits { .. })
        ));
        let limits = QueryLimits {
            max_soql_chars: 0,
            ..QueryLimits::default()
        };
        assert!(limits.uri_budget().is_err());
    }

    proptest! {
        #[test]
        fn encoded_len_bounds_form_encoding(s in any::<String>()) {
            let form = serde_urlencoded_like(&s);
            prop_assert!(form.len() <= encoded_len(&s));
        }
    }

    /// `application/x-www-form-urlencoded` as browsers (and reqwest/url) write it.
    fn serde_urlencoded_like(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b' ' => out.push('+'),
                b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                    out.push(char::from(b))
                }
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
}
