//! TLS for PostgreSQL connections as libpq's `sslmode` asks (`prefer` by
//! default: TLS when the server offers it), verified against Mozilla's roots
//! and the system's store — a private CA (Amazon RDS, a company CA) is
//! trusted once it is installed in the system store
//! (`/usr/local/share/ca-certificates` + update-ca-certificates, or `SSL_CERT_FILE`).

use std::sync::Arc;

pub use tokio_postgres_rustls::MakeRustlsConnect;

#[derive(Debug, thiserror::Error)]
#[error("cannot set up TLS for PostgreSQL: {0}")]
pub struct TlsError(String);

/// A connector for `tokio_postgres::connect` and `postgres::Client::connect`.
pub fn connector() -> Result<MakeRustlsConnect, TlsError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
