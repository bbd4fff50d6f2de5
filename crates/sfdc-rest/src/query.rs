//! SOQL queries: one page, the next page, and streams that follow `nextRecordsUrl`.
//!
//! The SOQL text is sent as given: build it with `sfdc-match`, the only place user values are
//! escaped into SOQL.

use std::collections::HashSet;

use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::sobjects::Record;

/// One page of query results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueryPage {
    /// Total number of matching records (all pages).
    #[serde(rename = "totalSize")]
    pub total_size: u64,
    /// `true` when this is the last page.
    pub done: bool,
    /// Path of the next page (`/services/data/vXX.X/query/{locator}`), present when `done` is false.
    #[serde(
        rename = "nextRecordsUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_records_url: Option<String>,
    /// The records of this page.
    pub records: Vec<Record>,
}

/// Options of a query stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryOptions {
    /// Include deleted and archived records (`queryAll`).
    pub include_deleted: bool,
    /// Requested page size (`Sforce-Query-Options: batchSize=N`, 200–2000; Salesforce may return
    /// fewer).
    pub batch_size: Option<u16>,
}

impl QueryOptions {
    /// Returns options for `queryAll` (deleted and archived records included).
    pub fn all() -> Self {
        Self {
            include_deleted: true,
            ..Self::default()
        }
    }

    /// Sets the requested page size.
    pub fn with_batch_size(mut self, size: u16) -> Self {
        self.batch_size = Some(size);
        self
    }
}

enum Cursor {
    Start(String),
    Next(String),
    Done,
}

/// What a query stream has followed so far: every locator seen and the page count.
#[derive(Default)]
struct Followed {
    seen: HashSet<String>,
    pages: u64,
}

impl Followed {
    /// Records the next page to fetch; fails on a locator already seen (a looping server) or when
    /// the page cap ([`crate::BodyLimits::max_query_pages`]) is reached.
    fn next(&mut self, url: String, max_pages: u64) -> Result<Cursor> {
        let refuse = |message: String| Error::UnexpectedResponse {
            status: StatusCode::OK,
            message,
        };
        if self.pages >= max_pages {
            return Err(refuse(format!(
                "the query stream reached its cap of {max_pages} pages; raise BodyLimits::max_query_pages or narrow the query"
            )));
        }
        let locator = url.split('?').next().unwrap_or_default().to_owned();
        if !self.seen.insert(locator) {
            return Err(refuse(
                "nextRecordsUrl repeats a page already fetched; the server's pagination loops"
                    .to_owned(),
            ));
        }
        Ok(Cursor::Next(url))
    }
}

impl Client {
    /// Runs a SOQL query and returns its first page (`GET query?q=`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with `MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE` (HTTP 400) for bad
    /// SOQL; the errors of [`crate::RequestBuilder::send`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn query(&self, soql: &str) -> Result<QueryPage> {
        self.query_page(soql, QueryOptions::default()).await
    }

    /// Like [`Client::query`] but includes deleted and archived records (`GET queryAll?q=`).
    ///
    /// # Errors
    ///
    /// As [`Client::query`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn query_all(&self, soql: &str) -> Result<QueryPage> {
        self.query_page(soql, QueryOptions::all()).await
    }

    /// Fetches the page at a `nextRecordsUrl` returned by a previous page.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the URL is not a `/services/data/` path of this instance;
    /// `INVALID_QUERY_LOCATOR` when the cursor expired.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn query_more(&self, next_records_url: &str) -> Result<QueryPage> {
        self.query_more_with(next_records_url, QueryOptions::default())
            .await
    }

    async fn query_page(&self, soql: &str, options: QueryOptions) -> Result<QueryPage> {
        let (path, template) = if options.include_deleted {
            ("queryAll", "queryAll")
        } else {
            ("query", "query")
        };
        with_batch_size(
            self.request(Method::GET, path)
                .path_template(template)
                .query(&[("q", soql)]),
            options,
        )
        .send()
        .await?
        .json()
        .await
    }

    async fn query_more_with(&self, next: &str, options: QueryOptions) -> Result<QueryPage> {
        if !next.starts_with("/services/data/") || next.contains("..") {
            return Err(Error::InvalidInput {
                kind: "nextRecordsUrl",
                value: next.to_owned(),
                reason: "must be a /services/data/ path returned by a query".to_owned(),
            });
        }
        with_batch_size(
            self.request(Method::GET, next)
                .path_template("query/{locator}"),
            options,
        )
        .send()
        .await?
        .json()
        .await
    }

    /// Streams every record of a query, fetching the next page only when the previous one is
    /// consumed; at most one page is held in memory.
    ///
    /// The stream ends after the last page, or after the first error (which it yields). A
    /// `nextRecordsUrl` already followed, or more pages than [`crate::BodyLimits::max_query_pages`]
    /// (default 10,000), ends it with [`Error::UnexpectedResponse`].
    pub fn query_stream(&self, soql: &str) -> impl Stream<Item = Result<Record>> + Send + 'static {
        self.query_stream_with(soql, QueryOptions::default())
    }

    /// Like [`Client::query_stream`] but includes deleted and archived records (`queryAll`).
    pub fn query_all_stream(
        &self,
        soql: &str,
    ) -> impl Stream<Item = Result<Record>> + Send + 'static {
        self.query_stream_with(soql, QueryOptions::all())
    }

    /// Streams every record of a query with explicit [`QueryOptions`].
    pub fn query_stream_with(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> impl Stream<Item = Result<Record>> + Send + 'static {
        let client = self.clone();
        stream::try_unfold(
            (client, Cursor::Start(soql.to_owned()), Followed::default()),
            move |(client, cursor, mut followed)| async move {
                let page = match cursor {
                    Cursor::Start(soql) => client.query_page(&soql, options).await?,
                    Cursor::Next(url) => client.query_more_with(&url, options).await?,
                    Cursor::Done => return Ok(None),
                };
                followed.pages = followed.pages.saturating_add(1);
                let next = match (page.done, page.next_records_url) {
                    (false, Some(url)) => {
                        followed.next(url, client.inner.body_limits.max_query_pages)?
                    }
                    _ => Cursor::Done,
                };
                Ok(Some((page.records, (client, next, followed))))
            },
        )
        .map_ok(|records| stream::iter(records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
    }
}

fn with_batch_size(req: crate::RequestBuilder, options: QueryOptions) -> crate::RequestBuilder {
    match options.batch_size {
        Some(size) => req.header("sforce-query-options", format!("batchSize={size}")),
        None => req,
    }
}

#[cfg(test)]
mod tests {
    /// `sfdc-match` sizes batched lookups by the encoded length of the `q` parameter; it must be
    /// exactly what this crate sends, or batches overflow (or waste) the URI limit.
    #[test]
    fn sfdc_match_counts_the_query_parameter_exactly() {
        for soql in [
            "SELECT Id FROM Lead",
            "SELECT Id, Email FROM Lead WHERE Email IN ('a@b.c','O\\'Hara@x.y')",
            "SELECT Id FROM Account WHERE Name = 'Ünïcödé & Söns * 100%'",
            "a b\tc\n~!#$&()+,/:;=?@[]",
        ] {
            let sent = serde_urlencoded::to_string([("q", soql)]).unwrap_or_default();
            assert_eq!(
                sent.len() - "q=".len(),
                sfdc_match::encoded_len(soql),
                "{soql}"
            );
        }
    }
}
