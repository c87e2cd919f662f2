//! TLS for the TCP listener (rustls with ring): the server's certificate and key, and
//! optionally a client CA whose certificates identify tenants (required or optional). The
//! files are read again when they change (checked every few seconds) or on SIGHUP, without a
//! restart: each new connection takes the configuration current when it arrives, and a
//! reload that fails keeps the last good one.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;
use tokio_rustls::rustls;

/// `[tls]` in the configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The server's certificate chain, PEM.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates must chain to; none: no client
    /// certificates are asked for.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// Refuse connections without a client certificate (mutual TLS).
    #[serde(default)]
    pub require_client_cert: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Pem { path: PathBuf, what: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client CA: {0}")]
    Verifier(String),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.into(),
        source,
    })
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.into(),
            what: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.into(),
            what: "no certificate in the file".into(),
        });
    }
    Ok(certs)
}

fn stamp(files: &TlsFiles) -> Vec<Option<SystemTime>> {
    [
        Some(&files.cert),
        Some(&files.key),
        files.client_ca.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
    .collect()
}

/// Build a server configuration from the files. Blocking.
pub fn build(files: &TlsFiles) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs(&files.cert)?;
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Pem {
        path: files.key.clone(),
        what: e.to_string(),
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c)?;
            }
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            );
            let v = if files.require_client_cert {
                v
            } else {
                v.allow_unauthenticated()
            };
            builder.with_client_cert_verifier(
                v.build().map_err(|e| TlsError::Verifier(e.to_string()))?,
            )
        }
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder.with_single_cert(chain, key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    Ok(cfg)
}

/// The TLS configuration in force, and what it was built from.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<rustls::ServerConfig>>,
    stamp: Mutex<Vec<Option<SystemTime>>>,
}

impl Tls {
    /// Read the files (blocking); an error here stops the daemon from starting.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let cfg = build(&files)?;
        Ok(Arc::new(Self {
            stamp: Mutex::new(stamp(&files)),
            current: RwLock::new(Arc::new(cfg)),
            files,
        }))
    }

    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let cfg = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        tokio_rustls::TlsAcceptor::from(cfg)
    }

    /// Read the files again if they changed (or `force`); blocking. Ok(true) when reloaded.
    pub fn reload(&self, force: bool) -> Result<bool, TlsError> {
        let now = stamp(&self.files);
        {
            let mut seen = self.stamp.lock().unwrap_or_else(|e| e.into_inner());
            if !force && *seen == now {
                return Ok(false);
            }
            *seen = now;
        }
        let cfg = build(&self.files)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cfg);
        Ok(true)
    }

    /// Reload on change (checked every 5 s) and on SIGHUP, until `stop`.
    pub fn watch(self: &Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        let tls = self.clone();
        tokio::spawn(async move {
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                let force = tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => false,
                    Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
                };
                let t = tls.clone();
                match tokio::task::spawn_blocking(move || t.reload(force)).await {
                    Ok(Ok(true)) => tracing::info!("TLS certificates reloaded"),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::error!(
                        "TLS reload failed, keeping the last good certificates: {e}"
                    ),
                    Err(e) => tracing::error!("TLS reload panicked: {e}"),
                }
            }
        });
    }
}

/// The names a client certificate gives its holder: the subject's common names and the
/// DNS, URI and e-mail subject alternative names.
pub fn cert_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(String::from))
        .collect();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(s) | GeneralName::URI(s) | GeneralName::RFC822Name(s) => {
                    names.push(s.to_string())
                }
                _ => {}
            }
        }
    }
    names
}
