//! The Composite resource (`POST composite`): up to 25 subrequests in **one** API call.
//!
//! Build a [`CompositeRequest`] from [`Subrequest`]s (queries, sObject Collections writes of up
//! to 200 records, or any other REST call with [`Subrequest::new`]) and send it with
//! [`Client::composite`]. Salesforce limits a request to [`COMPOSITE_MAX_SUBREQUESTS`]
//! subrequests, at most [`COMPOSITE_MAX_HEAVY`] of them sObject Collections or query
//! operations; [`CompositeRequest::push`] refuses anything beyond, so one call can carry up to
//! 5 lookups, or up to 5 Collections writes (1,000 records) across objects and operations.
//!
//! # Wire format
//!
//! ```text
//! POST /services/data/v62.0/composite
//! {"allOrNone":false,"collateSubrequests":false,
//!  "compositeRequest":[{"method":"GET","url":"/services/data/v62.0/query?q=…","referenceId":"q1"},
//!                      {"method":"POST","url":"/services/data/v62.0/composite/sobjects",
//!                       "referenceId":"c1","body":{"allOrNone":false,"records":[…]}}]}
//! → 200 {"compositeResponse":[{"body":…,"httpHeaders":{},"httpStatusCode":200,"referenceId":"q1"},…]}
//! ```
//!
//! # Failures and retries
//!
//! - A failure of the whole call (transport, HTTP >= 400 on `composite` itself, an answer that
//!   does not give one result per subrequest) is an `Err(Error)` from [`Client::composite`].
//! - A failed subrequest (a 400 with `[{"errorCode":…}]`, `PROCESSING_HALTED` after a rollback
//!   or a failed reference) is a [`SubResponse`] with a non-2xx [`SubResponse::http_status`];
//!   the others are unaffected (unless `allOrNone`).
//! - The whole call is retried by the one retry table ([`crate::retry::classify`]) with the
//!   weakest idempotency of its subrequests ([`CompositeRequest::idempotency`]): with a create
//!   inside it is not idempotent, so a lost answer is outcome-unknown and never resent; with
//!   only queries it is safe and resent like a query.
//! - One Composite call is one API call in [`Client::api_calls`], whatever it carries.
//!
//! # Ordering
//!
//! From API v49 Salesforce collates independent subrequests by default and then does not
//! guarantee their order. Writes that must follow each other go in separate calls, reference
//! each other (`@{ref.id}`), or are sent with
//! [`CompositeRequest::collate_subrequests`]`(false)`.
//!
//! # Example
//!
//! ```no_run
//! use serde_json::json;
//! use sfdc_rest::composite::{CompositeRequest, Subrequest};
//! use sfdc_rest::{Client, Record};
//!
//! # async fn run(client: Client) -> sfdc_rest::Result<()> {
//! let lead: Record = serde_json::from_value(json!({"LastName": "Doe", "Company": "Acme"}))
//!     .map_err(|e| sfdc_rest::Error::decode("example", e))?;
//! let mut request = CompositeRequest::new().collate_subrequests(false);
//! request.push(Subrequest::query("known", "SELECT Id, Email FROM Lead WHERE Email IN ('a@x.y')")?)?;
//! request.push(Subrequest::create_many("created", "Lead", &[lead])?)?;
//! let response = client.composite(&request).await?; // one API call
//! let page = response.get("known").map(|r| r.query_page()).transpose()?;
//! for result in response.get("created").map(|r| r.collection_results()).transpose()?.unwrap_or_default() {
//!     println!("{:?} {}", result.id, result.success);
//! }
//! # let _ = page;
//! # Ok(()) }
//! ```

mod request;
mod response;
mod subrequest;

use http::Method;

pub use request::CompositeRequest;
pub use response::{CompositeResponse, SubResponse};
pub use subrequest::Subrequest;

use crate::client::Client;
use crate::error::{Error, Result};
use response::WireResponse;

/// Most subrequests in one Composite request.
pub const COMPOSITE_MAX_SUBREQUESTS: usize = 25;

/// Most subrequests of one Composite request that may be sObject Collections or query
/// operations ("heavy": [`Subrequest::is_heavy`]).
pub const COMPOSITE_MAX_HEAVY: usize = 5;

impl Client {
    /// Sends a Composite request (`POST composite`): one API call for all its subrequests.
    ///
    /// Results come back in request order, one per subrequest ([`CompositeResponse::get`] finds
    /// one by reference id); a failed subrequest is a result with a non-2xx status, not an
    /// error. See [the module docs](crate::composite) for retries and ordering.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an empty request (nothing is sent); the errors of
    /// [`crate::RequestBuilder::send`] for the whole call, classified with
    /// [`CompositeRequest::idempotency`] (with a create inside, a lost answer is
    /// [`Error::is_outcome_unknown`]); [`Error::UnreadableAnswer`] when the answer does not
    /// carry exactly one result per subrequest.
    #[tracing::instrument(level = "debug", skip_all, fields(subrequests = request.len()))]
    pub async fn composite(&self, request: &CompositeRequest) -> Result<CompositeResponse> {
        if request.is_empty() {
            return Err(Error::InvalidInput {
                kind: "composite request",
                value: String::new(),
                reason: "has no subrequests".to_owned(),
            });
        }
        let body = request.wire_body(self.inner.data_url.path());
        let wire: WireResponse = self
            .request(Method::POST, "composite")
            .path_template("composite")
            .idempotency(request.idempotency())
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        CompositeResponse::from_wire(wire, request)
    }
}
