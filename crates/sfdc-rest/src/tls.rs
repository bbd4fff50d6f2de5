//! The TLS backend chosen by the crate's features, in one place.
//!
//! - `rustls` (default): rustls with the aws-lc-rs provider, OS certificate verification.
//! - `rustls-ring`: rustls with the ring provider (no aws-lc in the build), OS certificate
//!   verification.
//! - `native-tls`: the platform's TLS library (OpenSSL, Secure Transport, SChannel).
//!
//! With several enabled, the first in that order is used. With none, only plain-HTTP loopback URLs
//! (see `ClientBuilder::allow_insecure_loopback`) can be used, and building a client or a token
//! source for an `https` URL is a configuration error rather than a failure at the first request.

use url::Url;

use crate::error::{Error, Result};

/// `true` when a TLS backend is compiled in.
pub(crate) const HAS_TLS: bool = cfg!(any(
    feature = "rustls",
    feature = "rustls-ring",
    feature = "native-tls"
));

/// Name of the TLS backend in use, for diagnostics.
pub(crate) const BACKEND: &str = if cfg!(feature = "rustls") {
    "rustls (aws-lc-rs)"
} else if cfg!(feature = "rustls-ring") {
    "rustls (ring)"
} else if cfg!(feature = "native-tls") {
    "native-tls"
} else {
    "none"
};

/// Returns a reqwest client builder set up with the TLS backend of the enabled features.
///
/// # Errors
/// [`Error::Config`] when the ring-based rustls configuration cannot be created.
pub(crate) fn client_builder() -> Result<reqwest::ClientBuilder> {
    let builder = reqwest::Client::builder();
    #[cfg(feature = "rustls")]
    {
        Ok(builder.tls_backend_rustls())
    }
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
    {
        ring_config().map(|config| builder.tls_backend_preconfigured(config))
    }
    #[cfg(all(
        feature = "native-tls",
        not(any(feature = "rustls", feature = "rustls-ring"))
    ))]
    {
        Ok(builder.tls_backend_native())
    }
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
    {
        Ok(builder)
    }
}

/// A rustls configuration on the ring provider with the platform verifier and ALPN for HTTP/2.
#[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
fn ring_config() -> Result<rustls::ClientConfig> {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let fail = |e: rustls::Error| Error::config(format!("cannot set up TLS (rustls, ring): {e}"));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(fail)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(fail)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Refuses an `https` URL when no TLS backend is compiled in.
///
/// # Errors
/// [`Error::Config`] naming the features that provide one.
pub(crate) fn require_backend_for(url: &Url, what: &str) -> Result<()> {
    if url.scheme() == "https" && !HAS_TLS {
        return Err(Error::config(format!(
            "{what} {url} uses https, but sfdc-rest was built without a TLS backend: enable the \
             feature `rustls` (default), `rustls-ring` or `native-tls`"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_needs_a_backend() {
        let url =
            Url::parse("https://example.my.salesforce.com").unwrap_or_else(|_| unreachable!());
        let checked = require_backend_for(&url, "the instance URL");
        assert_eq!(checked.is_ok(), HAS_TLS, "backend {BACKEND}");
        if let Err(e) = checked {
            assert!(e.to_string().contains("rustls-ring"), "{e}");
        }
        let plain = Url::parse("http://127.0.0.1:1").unwrap_or_else(|_| unreachable!());
        assert!(require_backend_for(&plain, "the instance URL").is_ok());
        assert!(client_builder().is_ok());
    }
}
