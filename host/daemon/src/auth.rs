//! Tenants and who a call comes from. A tenant is declared in the configuration and known by
//! an API token (stored only as its SHA-256, compared in constant time), a client
//! certificate's name (subject common name or DNS, URI or e-mail alternative name, the
//! certificate verified against the configured client CA), or the uid of a Unix-socket client
//! (SO_PEERCRED). With no tenant declared every call is the `default` tenant's, as before
//! tenants existed, and the daemon listens on loopback and the Unix socket only.

use crate::net::{Peer, Transport};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tonic::metadata::MetadataMap;
use tonic::Status;

/// `[[tenants]]` in the configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub name: String,
    /// "sha256:HEX" of each API token (`offloadd token` makes one and prints this).
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Client-certificate names that identify this tenant.
    #[serde(default)]
    pub cert_names: Vec<String>,
    /// Unix uids that identify this tenant on the Unix socket.
    #[serde(default)]
    pub uids: Vec<u32>,
    /// May upload sets shared read-only with every tenant (a public SRS).
    #[serde(default)]
    pub publish: bool,
    /// Quotas (none: only the daemon-wide limits): base sets owned, their bytes (points in
    /// uncompressed form), memory of the sets it brought into memory, calls running or queued
    /// at once, and request bytes in flight.
    #[serde(default)]
    pub max_sets: Option<u64>,
    #[serde(default)]
    pub max_stored_bytes: Option<u64>,
    #[serde(default)]
    pub max_resident_bytes: Option<usize>,
    #[serde(default)]
    pub max_jobs: Option<usize>,
    #[serde(default)]
    pub max_inflight_bytes: Option<usize>,
}

/// The tenant of a call.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub name: Arc<str>,
    pub publish: bool,
    pub quota: Arc<Quota>,
    /// Public keys this tenant's batches decoded, kept for its next ones (bounded; its own, so
    /// another tenant's keys never evict them).
    pub keys: Arc<offload_engine::sig::keys::Keys>,
}

/// A tenant's quotas and what it holds of them now.
#[derive(Debug, Default)]
pub struct Quota {
    pub max_sets: Option<u64>,
    pub max_stored_bytes: Option<u64>,
    /// Reported in GetInfo; enforced by the base-set store (`Bases::limit_tenant`).
    pub max_resident_bytes: Option<usize>,
    pub max_jobs: Option<usize>,
    jobs: std::sync::atomic::AtomicUsize,
    /// Request bytes in flight, against `max_inflight_bytes`.
    pub budget: Option<Arc<crate::budget::Budget>>,
}

/// A call counted against its tenant's `max_jobs` until dropped.
pub struct JobSlot(Arc<Quota>);

impl Drop for JobSlot {
    fn drop(&mut self) {
        self.0
            .jobs
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Tenant {
    /// Count a call against `max_jobs`, or RESOURCE_EXHAUSTED naming the quota.
    pub fn begin_job(&self) -> Result<JobSlot, offload_core::JobError> {
        use std::sync::atomic::Ordering;
        let q = &self.quota;
        let max = q.max_jobs.unwrap_or(usize::MAX);
        q.jobs
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|n| {
                offload_core::JobError::ResourceExhausted(format!(
                    "tenant {} has {n} calls in flight, its max_jobs; try again later",
                    self.name
                ))
            })?;
        Ok(JobSlot(q.clone()))
    }
}

/// The tenant of every call when none is configured.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("tenant {0:?}: a token hash is \"sha256:\" and 64 hex digits, not {1:?}")]
    TokenHash(String, String),
    #[error("tenant name {0:?}: 1 to 64 letters, digits, '-', '_' or '.'")]
    Name(String),
    #[error("tenant {0:?} is declared twice")]
    Duplicate(String),
    #[error("{what} {value:?} identifies both tenant {a:?} and tenant {b:?}")]
    Ambiguous {
        what: &'static str,
        value: String,
        a: String,
        b: String,
    },
}

struct Entry {
    tenant: Tenant,
    tokens: Vec<[u8; 32]>,
    cert_names: Vec<String>,
    uids: Vec<u32>,
}

pub struct Auth {
    entries: Vec<Entry>,
    /// Every caller's tenant when none is configured.
    open: Tenant,
}

fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A fresh API token and the line that declares its hash.
pub fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = format!("offload_{}", hex::encode(raw));
    let hash = format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())));
    (token, hash)
}

impl Auth {
    pub fn new(specs: &[TenantSpec]) -> Result<Self, AuthError> {
        let mut entries: Vec<Entry> = Vec::new();
        for s in specs {
            if !valid_name(&s.name) {
                return Err(AuthError::Name(s.name.clone()));
            }
            if entries.iter().any(|e| *e.tenant.name == *s.name) {
                return Err(AuthError::Duplicate(s.name.clone()));
            }
            let mut tokens = Vec::new();
            for t in &s.tokens {
                let bad = || AuthError::TokenHash(s.name.clone(), t.clone());
                let hex = t.strip_prefix("sha256:").ok_or_else(bad)?;
                let bytes = hex::decode(hex).map_err(|_| bad())?;
                tokens.push(<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())?);
            }
            for e in &entries {
                let clash = |what, value: String| AuthError::Ambiguous {
                    what,
                    value,
                    a: e.tenant.name.to_string(),
                    b: s.name.clone(),
                };
                if let Some(n) = s.cert_names.iter().find(|n| e.cert_names.contains(n)) {
                    return Err(clash("certificate name", n.clone()));
                }
                if let Some(u) = s.uids.iter().find(|u| e.uids.contains(u)) {
                    return Err(clash("uid", u.to_string()));
                }
                if tokens.iter().any(|t| e.tokens.contains(t)) {
                    return Err(clash("token", "(a hash)".into()));
                }
            }
            entries.push(Entry {
                tenant: Tenant {
                    name: s.name.as_str().into(),
                    publish: s.publish,
                    quota: Arc::new(Quota {
                        max_sets: s.max_sets,
                        max_stored_bytes: s.max_stored_bytes,
                        max_resident_bytes: s.max_resident_bytes,
                        max_jobs: s.max_jobs,
                        jobs: Default::default(),
                        budget: s.max_inflight_bytes.map(|n| {
                            crate::budget::Budget::named(
                                n,
                                format!("tenant {}'s quota (max_inflight_bytes)", s.name),
                            )
                        }),
                    }),
                    keys: Arc::default(),
                },
                tokens,
                cert_names: s.cert_names.clone(),
                uids: s.uids.clone(),
            });
        }
        Ok(Self {
            entries,
            open: Tenant {
                name: DEFAULT_TENANT.into(),
                publish: true,
                quota: Arc::default(),
                keys: Arc::default(),
            },
        })
    }

    /// Whether tenants are configured (calls must then say who they are).
    pub fn enforced(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Who the call comes from: its bearer token first, then its client certificate, then
    /// its Unix uid. UNAUTHENTICATED when none names a tenant.
    pub fn identify(&self, meta: &MetadataMap, peer: Option<&Peer>) -> Result<Tenant, Status> {
        if !self.enforced() {
            return Ok(self.open.clone());
        }
        if let Some(v) = meta.get("authorization") {
            let token = v
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Status::unauthenticated("authorization: expected \"Bearer <token>\"")
                })?;
            let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
            // Every hash is compared, so the time taken says nothing about which matched.
            let mut found = None;
            for e in &self.entries {
                for t in &e.tokens {
                    if bool::from(t.ct_eq(&digest)) {
                        found = Some(&e.tenant);
                    }
                }
            }
            return found
                .cloned()
                .ok_or_else(|| Status::unauthenticated("the token names no tenant"));
        }
        match peer.map(|p| &p.transport) {
            Some(Transport::Tcp { client_names, .. }) if !client_names.is_empty() => self
                .entries
                .iter()
                .find(|e| client_names.iter().any(|n| e.cert_names.contains(n)))
                .map(|e| e.tenant.clone())
                .ok_or_else(|| {
                    Status::unauthenticated("the client certificate's names name no tenant")
                }),
            Some(Transport::Unix { uid: Some(uid), .. }) => self
                .entries
                .iter()
                .find(|e| e.uids.contains(uid))
                .map(|e| e.tenant.clone())
                .ok_or_else(|| Status::unauthenticated(format!("uid {uid} names no tenant"))),
            _ => Err(Status::unauthenticated(
                "no credentials: send \"authorization: Bearer <token>\", a client certificate, \
                 or call from a uid a tenant names on the Unix socket",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Activity;

    fn peer(t: Transport) -> Peer {
        Peer {
            transport: t,
            activity: Activity::new(),
        }
    }

    fn meta_for(token: &str) -> MetadataMap {
        let mut meta = MetadataMap::new();
        meta.insert("authorization", format!("Bearer {token}").parse().unwrap());
        meta
    }

    #[test]
    fn tokens_certificates_and_uids_name_tenants() {
        let (tok_a, hash_a) = new_token();
        let (tok_b, _) = new_token();
        let auth = Auth::new(&[
            TenantSpec {
                name: "a".into(),
                tokens: vec![hash_a],
                uids: vec![1001],
                ..Default::default()
            },
            TenantSpec {
                name: "b".into(),
                cert_names: vec!["prover-b.example".into()],
                publish: true,
                ..Default::default()
            },
        ])
        .unwrap();
        let mut meta = MetadataMap::new();
        meta.insert("authorization", format!("Bearer {tok_a}").parse().unwrap());
        assert_eq!(&*auth.identify(&meta, None).unwrap().name, "a");
        meta.insert("authorization", format!("Bearer {tok_b}").parse().unwrap());
        let e = auth.identify(&meta, None).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        meta.insert("authorization", "Basic eA==".parse().unwrap());
        assert!(auth.identify(&meta, None).is_err());

        let none = MetadataMap::new();
        let tcp = |names: &[&str]| {
            peer(Transport::Tcp {
                remote: None,
                tls: true,
                client_names: names.iter().map(|s| s.to_string()).collect(),
            })
        };
        let b = auth
            .identify(&none, Some(&tcp(&["x", "prover-b.example"])))
            .unwrap();
        assert_eq!((&*b.name, b.publish), ("b", true));
        assert!(auth.identify(&none, Some(&tcp(&["other"]))).is_err());
        assert!(auth.identify(&none, Some(&tcp(&[]))).is_err());
        let unix = |uid| {
            peer(Transport::Unix {
                uid: Some(uid),
                gid: Some(uid),
            })
        };
        let a = auth.identify(&none, Some(&unix(1001))).unwrap();
        assert_eq!(&*a.name, "a");
        assert!(auth.identify(&none, Some(&unix(1002))).is_err());
        // Each tenant has its own key cache, the same one on every call.
        let a2 = auth.identify(&meta_for(&tok_a), None).unwrap();
        assert!(Arc::ptr_eq(&a.keys, &a2.keys));
        assert!(!Arc::ptr_eq(&a.keys, &b.keys));
        assert!(auth.identify(&none, None).is_err());

        // Without tenants everyone is the default tenant.
        let open = Auth::new(&[]).unwrap();
        assert_eq!(&*open.identify(&none, None).unwrap().name, DEFAULT_TENANT);
    }

    #[test]
    fn bad_declarations_are_refused() {
        let t = |name: &str, tokens: Vec<String>, uids: Vec<u32>| TenantSpec {
            name: name.into(),
            tokens,
            uids,
            ..Default::default()
        };
        assert!(Auth::new(&[t("a b", vec![], vec![])]).is_err());
        assert!(Auth::new(&[t("a", vec!["md5:00".into()], vec![])]).is_err());
        assert!(Auth::new(&[t("a", vec![], vec![]), t("a", vec![], vec![])]).is_err());
        let e = Auth::new(&[t("a", vec![], vec![7]), t("b", vec![], vec![7])])
            .err()
            .unwrap();
        assert!(e.to_string().contains("uid \"7\""), "{e}");
    }
}
