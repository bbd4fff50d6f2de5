//! Salesforce REST and SOQL client: auth, retries, errors, sObject CRUD, upsert, queries,
//! Collections, describe, API usage.
//!
//! # Capabilities
//!
//! - **Auth** ([`auth`]): static token, refresh-token, JWT bearer, client-credentials and password
//!   flows behind the [`auth::TokenSource`] trait. On HTTP 401 `INVALID_SESSION_ID` the client calls
//!   [`auth::TokenSource::refresh`] with the rejected token once and replays the request; concurrent
//!   401s share one token request.
//! - **Typed operations** on [`Client`]: [`Client::create`], [`Client::retrieve`],
//!   [`Client::update`], [`Client::delete`], [`Client::upsert`] (→ [`UpsertOutcome`]),
//!   [`Client::query`], [`Client::query_all`], [`Client::query_more`], [`Client::query_stream`] and
//!   [`Client::query_all_stream`] (an async `Stream` that holds one page at a time),
//!   [`Client::create_many`], [`Client::update_many`], [`Client::upsert_many`],
//!   [`Client::delete_many`] (sObject Collections, 200 per request, results in input order),
//!   [`Client::composite`] (up to 25 subrequests, 5 of them queries or Collections writes, in one
//!   API call),
//!   [`Client::describe_global`], [`Client::describe`] (cached per client), [`Client::limits`],
//!   [`Client::versions`].
//! - **Raw tier**: [`Client::request`] → [`RequestBuilder`] → [`Response`], reusing auth, retries,
//!   limit tracking and error mapping (used by `sfdc-bulk`). Bodies are JSON, raw [`bytes::Bytes`]
//!   ([`RequestBuilder::body`]) or a stream made afresh per attempt
//!   ([`RequestBuilder::body_stream`] with a [`BodyFactory`]), so large uploads are never held
//!   in memory and still survive retries and the replay after a token refresh.
//! - **Errors** ([`Error`]): Salesforce error arrays parsed into [`ApiError`] with an [`ErrorCode`];
//!   predicates [`Error::is_retryable`], [`Error::is_outcome_unknown`] (a create that may have
//!   been applied: look it up, do not resend), [`Error::is_auth`], [`Error::is_throttled`],
//!   [`Error::is_not_found`].
//! - **Retries** ([`retry`]): a pure decision function of idempotency, failure and attempt, with
//!   exponential backoff and jitter ([`BackoffConfig`]); sleep and jitter are injectable.
//! - **API usage** ([`limits`]): `Sforce-Limit-Info` parsed on every response
//!   ([`Client::api_usage`]), a per-client call counter ([`Client::api_calls`]) and an optional
//!   budget guard ([`ClientBuilder::api_budget`]).
//! - **Tracing**: a `sfdc.request` span per request (method, path template, attempt, status);
//!   never bodies or tokens. The crate installs no subscriber.
//!
//! # Quick start
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use serde_json::json;
//! use sfdc_rest::{Client, UpsertOutcome};
//! use sfdc_rest::auth::{LoginHost, RefreshTokenSource};
//!
//! # async fn run() -> sfdc_rest::Result<()> {
//! let tokens = RefreshTokenSource::builder()
//!     .client_id("3MVG9...")
//!     .client_secret("secret")
//!     .refresh_token("5Aep861...")
//!     .login_host(LoginHost::production())
//!     .build()?;
//! // Without `instance_url`, `connect` takes it from the token response.
//! let client = Client::builder().token_source(tokens).connect().await?;
//!
//! let id = client.create("Account", &json!({"Name": "Acme"})).await?;
//! client.update("Account", &id, &json!({"Phone": "555-0100"})).await?;
//! match client
//!     .upsert("Contact", "External_Id__c", "c-42", &json!({"LastName": "Doe"}))
//!     .await?
//! {
//!     UpsertOutcome::Created { id } => println!("created {id}"),
//!     UpsertOutcome::Updated { .. } => println!("updated"),
//!     UpsertOutcome::MultipleMatches { urls } => println!("ambiguous: {urls:?}"),
//!     _ => {}
//! }
//!
//! let mut accounts = client.query_stream("SELECT Id, Name FROM Account");
//! while let Some(record) = accounts.try_next().await? {
//!     println!("{:?}", record.get("Name"));
//! }
//! println!("API calls made: {}, org usage: {:?}", client.api_calls(), client.api_usage());
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - [`auth`]: token sources and OAuth flows.
//! - [`composite`]: the Composite resource, up to 25 subrequests in one API call
//!   ([`composite::CompositeRequest`], [`Client::composite`]).
//! - [`retry`]: [`Idempotency`], [`RetryConfig`], [`retry::decide`].
//! - [`backoff`]: [`BackoffConfig`], [`Backoff`], injectable [`backoff::Sleeper`] and
//!   [`backoff::Jitter`].
//! - [`limits`]: [`ApiUsage`], `Sforce-Limit-Info` parsing, `/limits`.
//!
//! # Feature flags
//!
//! All additive. A Tokio runtime is required (the client never starts one).
//!
//! - `rustls` (default): TLS through rustls on the aws-lc-rs provider, certificates checked by the
//!   platform verifier.
//! - `rustls-ring`: TLS through rustls on the ring provider; with `default-features = false` the
//!   build contains no aws-lc.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
//! - `jwt` (default): the JWT bearer flow ([`auth::JwtBearerSource`]), signing with the crypto
//!   backend of the chosen TLS feature.
//! - `reqwest-client`: setters that take a caller's `reqwest::Client`
//!   (`ClientBuilder::http_client`); an escape hatch that ties the caller to this crate's reqwest.
//!
//! With no TLS feature, only plain-HTTP loopback URLs work and [`ClientBuilder::build`] refuses an
//! `https` URL with a configuration error naming the features.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
pub mod backoff;
mod body;
mod client;
mod collections;
pub mod composite;
mod config;
mod describe;
mod error;
mod guard;
pub mod limits;
mod path;
mod query;
pub mod retry;
mod sforce_headers;
mod sobjects;
mod tls;
mod transport;
mod versions;

pub use backoff::{Backoff, BackoffConfig, FixedJitter};
pub use body::{BodyFactory, BodyStream};
pub use client::Client;
pub use collections::{COLLECTION_CHUNK, CollectionResult};
pub use config::{ApiVersion, ClientBuilder, DEFAULT_API_VERSION, validate_instance_url};
pub use describe::{DescribeGlobal, FieldDescribe, SObjectDescribe, SObjectSummary};
pub use error::{ApiError, Error, ErrorCode, Result, TransportError};
pub use guard::{BodyLimits, TimeoutPhase, Timeouts};
pub use limits::{ApiUsage, Limits};
pub use query::{QueryOptions, QueryPage};
pub use retry::{Idempotency, RetryConfig};
pub use sforce_headers::{AutoAssign, SalesforceHeaders};
pub use sobjects::{Record, UpsertOutcome};
pub use transport::{RequestBuilder, Response};
pub use versions::VersionInfo;
