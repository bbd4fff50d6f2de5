//! Self-signed TLS for `--tls`: a certificate for `127.0.0.1` and `localhost`,
//! generated at start with rcgen.

use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::EmulatorError;

/// A generated certificate: the PEM to hand to clients, and the server config.
pub(crate) struct SelfSigned {
    pub(crate) cert_pem: String,
    pub(crate) config: RustlsConfig,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelfSigned").finish_non_exhaustive()
    }
}

/// Generates the certificate and a rustls server config using it.
pub(crate) fn self_signed() -> Result<SelfSigned, EmulatorError> {
    let tls = |e: &dyn std::fmt::Display| EmulatorError::Tls(e.to_string());
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| tls(&e))?;
    let cert_pem = ck.cert.pem();
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| tls(&e))?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(SelfSigned {
        cert_pem,
        config: RustlsConfig::from_config(Arc::new(server)),
    })
}
