//! Route groups, one file per API area; each exposes `routes() -> Router<AppState>`.

pub(crate) mod bulk;
pub(crate) mod collections;
mod collections_body;
pub(crate) mod composite;
pub(crate) mod describe;
pub(crate) mod limits;
pub(crate) mod oauth;
pub(crate) mod oauth_code;
pub(crate) mod query;
mod query_join;
mod query_plan;
pub(crate) mod sobjects;
pub(crate) mod versions;
