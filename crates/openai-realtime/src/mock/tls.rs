//! The optional TLS listener: a self-signed certificate for `localhost` and `127.0.0.1`,
//! made at start, served with rustls (ring).

use std::io;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A server certificate and the acceptor that presents it.
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) certificate: CertificateDer<'static>,
    pub(crate) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("certificate_len", &self.certificate.len())
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// A fresh self-signed certificate (ECDSA P-256) for `localhost` and `127.0.0.1`.
    pub(crate) fn self_signed() -> io::Result<Self> {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
        let certificate = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.clone()], key)
            .map_err(io::Error::other)?;
        Ok(Self {
            certificate,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// A root store holding only this certificate.
    #[cfg(feature = "rustls-0_23")]
    pub(crate) fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        // A certificate rcgen just made always parses as a trust anchor.
        let _ = roots.add(self.certificate.clone());
        roots
    }
}
