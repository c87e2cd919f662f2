//! Many daemons as one: endpoints from a list or a DNS name (a Kubernetes headless Service,
//! re-resolved as pods come and go), each probed with gRPC health and GetInfo in the
//! background, calls sent to the least loaded healthy one and retried on another after a
//! failure that another daemon may not share (UNAVAILABLE, RESOURCE_EXHAUSTED, a connection
//! lost mid-call). Only idempotent calls go through [`Pool::call`]: every Offload call is,
//! since uploads are content-addressed and MSM, NTT and verification have no side effects.

use crate::{retryable, Client, ClientError, ConnectOptions};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Where the daemons are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// Fixed addresses (`http://…`, `https://…`, `unix:…`).
    List(Vec<String>),
    /// Every address a DNS name resolves to, on `port`, re-resolved at each refresh;
    /// `tls` for `https`.
    Dns { host: String, port: u16, tls: bool },
}

impl Targets {
    /// `dns:///name:port` (or `dns+https:///name:port` for TLS), or addresses separated by
    /// commas.
    pub fn parse(spec: &str) -> Result<Self, ClientError> {
        let dns = |rest: &str, tls: bool| {
            let rest = rest.trim_start_matches('/');
            let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
                ClientError::Address(format!("{spec:?}: a DNS target is dns:///name:port"))
            })?;
            let port = port
                .parse()
                .map_err(|_| ClientError::Address(format!("{spec:?}: port {port:?}")))?;
            if host.is_empty() {
                return Err(ClientError::Address(format!("{spec:?}: no name")));
            }
            Ok(Targets::Dns {
                host: host.to_string(),
                port,
                tls,
            })
        };
        if let Some(rest) = spec.strip_prefix("dns+https:") {
            return dns(rest, true);
        }
        if let Some(rest) = spec.strip_prefix("dns:") {
            return dns(rest, false);
        }
        let list: Vec<String> = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if list.is_empty() {
            return Err(ClientError::Address(format!("{spec:?}: no endpoints")));
        }
        Ok(Targets::List(list))
    }
}

/// How the pool probes and retries.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// How often members are probed (and a DNS name re-resolved).
    pub refresh: Duration,
    /// How long a probe may take before the member counts as down.
    pub probe_timeout: Duration,
    /// Each call's deadline when the caller gives none (sent as grpc-timeout, so the daemon
    /// stops the job too). None: no deadline.
    pub call_timeout: Option<Duration>,
    /// Tries per call, each on a different member; 0: every member once.
    pub attempts: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(2),
            probe_timeout: Duration::from_secs(2),
            call_timeout: None,
            attempts: 0,
        }
    }
}

/// One daemon of the pool.
pub struct Member {
    pub addr: String,
    client: Client,
    healthy: AtomicBool,
    /// Jobs queued and running, as its last GetInfo said.
    reported: AtomicU32,
    /// Calls this pool has in flight there now.
    outstanding: AtomicU32,
}

impl Member {
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    fn load(&self) -> u32 {
        self.reported.load(Ordering::Relaxed) + self.outstanding.load(Ordering::Relaxed)
    }

    /// The client for a call that must end by `deadline`.
    pub fn client(&self, deadline: Option<Instant>) -> Client {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        self.client.clone().with_timeout(left)
    }

    async fn probe(&self, timeout: Duration) {
        let c = self.client(Some(Instant::now() + timeout));
        let probe = async {
            if !c.serving().await? {
                return Ok(None);
            }
            let info = c.clone().info().await?;
            let queued: u32 = (info.backends.iter())
                .map(|b| b.queue_depth.saturating_add(b.running))
                .fold(0, u32::saturating_add);
            Ok::<_, ClientError>(Some(queued))
        };
        let up = match tokio::time::timeout(timeout, probe).await {
            Ok(Ok(Some(q))) => {
                self.reported.store(q, Ordering::Relaxed);
                true
            }
            _ => false,
        };
        self.healthy.store(up, Ordering::Relaxed);
    }
}

/// What a member looks like now, for status pages and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    pub addr: String,
    pub healthy: bool,
    pub load: u32,
}

struct Inner {
    targets: Targets,
    opts: ConnectOptions,
    cfg: PoolConfig,
    members: Mutex<Vec<Arc<Member>>>,
    turn: AtomicUsize,
}

/// A pool of daemons; cheap to clone (clones share members and probes). Probing stops when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
}

impl Pool {
    /// Resolve `targets`, probe every member once, and keep probing every `cfg.refresh`.
    /// Needs a Tokio runtime.
    pub async fn new(
        targets: Targets,
        opts: ConnectOptions,
        cfg: PoolConfig,
    ) -> Result<Self, ClientError> {
        let inner = Arc::new(Inner {
            targets,
            opts,
            cfg,
            members: Mutex::new(Vec::new()),
            turn: AtomicUsize::new(0),
        });
        refresh(&inner).await?;
        let weak = Arc::downgrade(&inner);
        tokio::spawn(keep_fresh(weak));
        Ok(Self {
            inner,
            deadline: None,
        })
    }

    /// This pool with calls bounded by `deadline` (each try gets what is left of it).
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(deadline),
        }
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
            .or_else(|| (self.inner.cfg.call_timeout).map(|t| Instant::now() + t))
    }

    /// The members, in address order.
    pub fn members(&self) -> Vec<Arc<Member>> {
        crate::pool::lock(&self.inner.members).clone()
    }

    pub fn states(&self) -> Vec<MemberState> {
        (self.members().iter())
            .map(|m| MemberState {
                addr: m.addr.clone(),
                healthy: m.healthy(),
                load: m.load(),
            })
            .collect()
    }

    /// Probe now (and re-resolve), rather than at the next refresh.
    pub async fn refresh(&self) -> Result<(), ClientError> {
        refresh(&self.inner).await
    }

    pub fn member(&self, addr: &str) -> Option<Arc<Member>> {
        self.members().into_iter().find(|m| m.addr == addr)
    }

    /// The members to try, best first: healthy ones by load (ties taken in turn), then the
    /// rest (a member marked down may be back before its next probe); none in `skip`.
    pub fn ranked(&self, skip: &[String]) -> Vec<Arc<Member>> {
        self.rank(|m| !skip.contains(&m.addr))
    }

    /// [`Pool::ranked`] over the members among `only`.
    pub fn ranked_among(&self, only: &[String]) -> Vec<Arc<Member>> {
        self.rank(|m| only.contains(&m.addr))
    }

    fn rank(&self, keep: impl Fn(&Member) -> bool) -> Vec<Arc<Member>> {
        let mut ms: Vec<Arc<Member>> = (self.members().into_iter()).filter(|m| keep(m)).collect();
        if ms.is_empty() {
            return ms;
        }
        let turn = self.inner.turn.fetch_add(1, Ordering::Relaxed) % ms.len();
        ms.rotate_left(turn);
        ms.sort_by_key(|m| (!m.healthy(), m.load()));
        ms
    }

    fn attempts(&self) -> usize {
        match self.inner.cfg.attempts {
            0 => self.members().len().max(1),
            n => n,
        }
    }

    /// Run `f` on the best member; after a retryable failure, on the next best, up to the
    /// configured attempts or the deadline.
    pub async fn call<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        self.call_among(&[], f).await.map(|(_, v)| v)
    }

    /// [`Pool::call`] on the members other than `skip`; also says which member answered.
    pub async fn call_among<T, F, Fut>(
        &self,
        skip: &[String],
        f: F,
    ) -> Result<(String, T), ClientError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let deadline = self.deadline();
        let mut tried: Vec<String> = skip.to_vec();
        let mut last = None;
        for _ in 0..self.attempts() {
            let Some(m) = self.ranked(&tried).into_iter().next() else {
                break;
            };
            tried.push(m.addr.clone());
            match self.try_on(&m, deadline, &f).await {
                Ok(v) => return Ok((m.addr.clone(), v)),
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Address("no member of the pool to call".into())))
    }

    /// One try of `f` on `m`, counted in its load; a failure of the daemon or the path to
    /// it marks `m` down until its next probe.
    pub async fn try_on<T, F, Fut>(
        &self,
        m: &Member,
        deadline: Option<Instant>,
        f: &F,
    ) -> Result<T, ClientError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(ClientError::Status(tonic::Status::deadline_exceeded(
                "the call's deadline passed before a member answered",
            )));
        }
        m.outstanding.fetch_add(1, Ordering::Relaxed);
        let r = f(m.client(deadline)).await;
        m.outstanding.fetch_sub(1, Ordering::Relaxed);
        if let Err(e) = &r {
            if retryable(e) && !is_full(e) {
                m.healthy.store(false, Ordering::Relaxed);
            }
        }
        r
    }
}

fn is_full(e: &ClientError) -> bool {
    matches!(e, ClientError::Status(s) if s.code() == tonic::Code::ResourceExhausted)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The addresses `targets` name now.
async fn resolve(targets: &Targets) -> Result<Vec<String>, ClientError> {
    match targets {
        Targets::List(l) => Ok(l.clone()),
        Targets::Dns { host, port, tls } => {
            let addrs = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(|e| ClientError::Address(format!("resolving {host}: {e}")))?;
            let scheme = if *tls { "https" } else { "http" };
            let mut out: Vec<String> = addrs
                .map(|a| match a {
                    std::net::SocketAddr::V4(v) => format!("{scheme}://{v}"),
                    std::net::SocketAddr::V6(v) => format!("{scheme}://[{}]:{}", v.ip(), v.port()),
                })
                .collect();
            out.sort();
            out.dedup();
            Ok(out)
        }
    }
}

/// Re-resolve (members no longer named leave; new ones join) and probe every member.
async fn refresh(inner: &Inner) -> Result<(), ClientError> {
    let addrs = match resolve(&inner.targets).await {
        Ok(a) => a,
        // A DNS hiccup keeps the members we have.
        Err(e) if !lock(&inner.members).is_empty() => {
            tracing::warn!(error = %e, "re-resolving the pool's targets failed; keeping its members");
            lock(&inner.members)
                .iter()
                .map(|m| m.addr.clone())
                .collect()
        }
        Err(e) => return Err(e),
    };
    let mut opts = inner.opts.clone();
    if let Targets::Dns { host, .. } = &inner.targets {
        // Certificates name the service, not the pods' addresses.
        opts.tls_domain.get_or_insert_with(|| host.clone());
    }
    let members: Vec<Arc<Member>> = {
        let old: HashMap<String, Arc<Member>> = (lock(&inner.members).iter())
            .map(|m| (m.addr.clone(), m.clone()))
            .collect();
        let mut next = Vec::with_capacity(addrs.len());
        for a in addrs {
            match old.get(&a) {
                Some(m) => next.push(m.clone()),
                None => next.push(Arc::new(Member {
                    client: Client::connect_lazy(&a, &opts)?,
                    addr: a,
                    healthy: AtomicBool::new(false),
                    reported: AtomicU32::new(0),
                    outstanding: AtomicU32::new(0),
                })),
            }
        }
        next
    };
    let timeout = inner.cfg.probe_timeout;
    futures::future::join_all(members.iter().map(|m| m.probe(timeout))).await;
    *lock(&inner.members) = members;
    Ok(())
}

async fn keep_fresh(inner: Weak<Inner>) {
    loop {
        let every = match inner.upgrade() {
            Some(i) => i.cfg.refresh,
            None => return,
        };
        tokio::time::sleep(every).await;
        let Some(i) = inner.upgrade() else { return };
        if let Err(e) = refresh(&i).await {
            tracing::warn!(error = %e, "refreshing the pool failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            Targets::parse("dns:///offload.svc.cluster.local:50051").unwrap(),
            Targets::Dns {
                host: "offload.svc.cluster.local".into(),
                port: 50051,
                tls: false
            }
        );
        assert_eq!(
            Targets::parse("dns+https:///a:1").unwrap(),
            Targets::Dns {
                host: "a".into(),
                port: 1,
                tls: true
            }
        );
        assert_eq!(
            Targets::parse("http://a:1, unix:/s").unwrap(),
            Targets::List(vec!["http://a:1".into(), "unix:/s".into()])
        );
        for bad in ["", " , ", "dns:///a", "dns:///:1", "dns:///a:x"] {
            assert!(Targets::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_dns_name_resolves_to_its_addresses() {
        let t = Targets::parse("dns:///localhost:7").unwrap();
        let a = resolve(&t).await.unwrap();
        assert!(!a.is_empty());
        assert!(
            a.iter()
                .all(|x| x.starts_with("http://") && x.ends_with(":7")),
            "{a:?}"
        );
    }
}
