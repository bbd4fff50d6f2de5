//! The crate error: setup failures only. Per-event problems are [`crate::EventOutcome`]s.

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a [`crate::Destination`] from being built or connected.
///
/// Problems with single events (planning errors, records not found, Salesforce rejecting a
/// record, a failed request) never become an `Error`: they are reported in that event's
/// [`crate::EventOutcome`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings text is not valid TOML or JSON for [`crate::Settings`].
    #[error("invalid settings: {message}")]
    Parse {
        /// The parser's explanation, with the line or key when it knows it.
        message: String,
    },
    /// The settings are readable but inconsistent (e.g. no auth, a bad token URL).
    #[error("invalid settings: {message}")]
    Settings {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A subscription's action configuration does not compile.
    #[error("subscription #{index} ({action}): {source}")]
    Subscription {
        /// 0-based position in `subscriptions`.
        index: usize,
        /// The action name, e.g. `lead`.
        action: String,
        /// The configuration error from `sfdc-actions`.
        source: sfdc_actions::Error,
    },
    /// The REST client could not be built or connected (bad URL, authentication failure, ...).
    #[error("could not connect to Salesforce: {0}")]
    Connect(#[source] sfdc_rest::Error),
}

impl Error {
    /// Returns `true` when the failure is an authentication failure (OAuth token request
    /// rejected, or a 401 from Salesforce): check the credentials.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Connect(e) if e.is_auth())
    }

    /// Returns `true` when trying again unchanged could succeed: only for connection failures
    /// the REST client marks retryable (transport errors, HTTP 5xx). Settings errors never are.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Connect(e) if e.is_retryable())
    }

    pub(crate) fn settings(message: impl Into<String>) -> Error {
        Error::Settings {
            message: message.into(),
        }
    }
}
