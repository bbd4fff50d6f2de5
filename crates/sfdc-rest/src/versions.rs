//! API versions served by the instance (`GET /services/data/`).

use http::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;

/// One entry of the versions list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Release label, e.g. `Winter '25`.
    #[serde(default)]
    pub label: String,
    /// Path of the version's resources, e.g. `/services/data/v62.0`.
    pub url: String,
    /// Version number as text, e.g. `62.0`.
    pub version: String,
}

impl Client {
    /// Lists the API versions the instance serves, oldest first (`GET /services/data/`).
    ///
    /// # Errors
    ///
    /// The errors of [`crate::RequestBuilder::send`].
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn versions(&self) -> Result<Vec<VersionInfo>> {
        self.request(Method::GET, "/services/data/")
            .path_template("/services/data/")
            .send()
            .await?
            .json()
            .await
    }
}
