//! Start-up and shutdown: the backend registry, the scheduler (calibrated by a short
//! self-benchmark), the base store, gRPC on TCP and optionally a Unix socket with health and
//! reflection, and metrics over HTTP. Shutdown stops accepting, lets in-flight calls finish,
//! then stops the workers.

use crate::auth::Auth;
use crate::bases::BaseStore;
use crate::budget::{Budget, GuardLayer};
use crate::config::Config;
use crate::health::HealthService;
use crate::metrics::Metrics;
use crate::net;
use crate::scheduler::Scheduler;
use crate::service::{Service, State};
use crate::shm::ShmDir;
use crate::tls::Tls;
use anyhow::Context;
use ark_ec::{CurveGroup, PrimeGroup};
use offload_core::cpu::CpuBackend;
use offload_core::job::{BaseSet, Msm, MsmJob, Ntt, NttJob, SigItem, SigScheme, VerifyJob};
use offload_core::Job;
use offload_engine::ntt::NttConfig;
use offload_proto::v1::offload_server::OffloadServer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tower::layer::util::{Identity, Stack};

/// A serving daemon.
pub struct Running {
    pub addr: SocketAddr,
    pub uds: Option<PathBuf>,
    pub metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    kill: CancellationToken,
    drain: Duration,
    servers: Vec<JoinHandle<Result<(), tonic::transport::Error>>>,
    scheduler: Arc<Scheduler>,
    state: Arc<State>,
}

impl Running {
    /// The service, for calls made in process rather than over a connection (the fuzz
    /// harness): the same state and handlers, without the transport's layers.
    pub fn service(&self) -> Service {
        Service::new(self.state.clone())
    }

    /// Stop accepting calls and let those in flight finish, for at most the drain deadline;
    /// then close every connection still open. Stop the workers.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let mut servers = self.servers.into_iter();
        let mut done = Vec::new();
        let drained = tokio::time::timeout(self.drain, async {
            for s in servers.by_ref() {
                done.push(s.await);
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                secs = self.drain.as_secs(),
                "calls still open after the drain deadline: closing their connections"
            );
            self.kill.cancel();
            // The listener that was being awaited when time ran out was dropped with the
            // timeout's future; the rest end once their connections are closed.
            for s in servers {
                match tokio::time::timeout(Duration::from_secs(5), s).await {
                    Ok(r) => done.push(r),
                    Err(_) => {
                        tracing::error!("a listener did not stop after its connections closed")
                    }
                }
            }
        }
        for r in done {
            r.context("server task")?.context("serving")?;
        }
        // Stops the health task too.
        self.kill.cancel();
        let sched = self.scheduler;
        tokio::task::spawn_blocking(move || sched.shutdown())
            .await
            .context("stopping workers")?;
        Ok(())
    }
}

/// Small jobs of each operation, for the start-up self-benchmark.
fn calibration_jobs() -> Vec<Job> {
    use ark_std::UniformRand;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let n = 1 << 12;
    let g = ark_bn254::G1Projective::generator();
    let mut acc = g;
    let mut pts = Vec::with_capacity(n);
    for _ in 0..n {
        acc += g;
        pts.push(acc);
    }
    let bases = Arc::new(BaseSet::inline(ark_bn254::G1Projective::normalize_batch(
        &pts,
    )));
    let scalars = vec![(0..n)
        .map(|_| offload_engine::msm::Canonical::from_field(&ark_bn254::Fr::rand(&mut rng)))
        .collect()];
    let mut jobs = Vec::new();
    if let Ok(m) = Msm::new(bases, scalars) {
        jobs.push(Job::Msm(MsmJob::Bn254(m)));
    }
    let data = (0..1u64 << 16)
        .map(p3_goldilocks::Goldilocks::new)
        .collect();
    if let Ok(t) = Ntt::new(NttConfig::forward(), 1, data) {
        jobs.push(Job::Ntt(NttJob::Goldilocks(t)));
    }
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let items = (0..64u32)
        .map(|i| {
            use ed25519_dalek::Signer;
            let message = i.to_le_bytes().to_vec();
            SigItem {
                public_key: key.verifying_key().to_bytes().to_vec(),
                signature: key.sign(&message).to_bytes().to_vec(),
                message,
            }
        })
        .collect();
    jobs.push(Job::Verify(VerifyJob {
        scheme: SigScheme::Ed25519(Default::default()),
        items,
        keys: None,
    }));
    jobs
}

/// A TCP listener beyond loopback needs TLS and tenants (or required client certificates),
/// unless the operator has said otherwise in so many words.
/// What `serve` checks before it binds, for `offloadd check-config`: the tenants, the TLS
/// files, the devices' specs, and that the listen address may be served as configured.
pub fn preflight(config: &Config) -> anyhow::Result<String> {
    let auth = Auth::new(&tenant_shares(config)).context("tenants")?;
    config.devices().context("devices")?;
    if let Some(files) = config.tls.clone() {
        Tls::load(files).context("TLS")?;
    }
    let addr: SocketAddr = (config.listen.parse())
        .with_context(|| format!("listen {:?}: not an IP address and port", config.listen))?;
    exposure_allowed(config, &auth, addr)?;
    Ok(format!(
        "listen {addr}{}, {} tenant(s), TLS {}, data in {}",
        config
            .uds
            .as_ref()
            .map(|u| format!(" and {}", u.display()))
            .unwrap_or_default(),
        config.tenants.len(),
        if config.tls.is_some() { "on" } else { "off" },
        config.data_dir.display()
    ))
}

fn exposure_allowed(config: &Config, auth: &Auth, addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if config.tls.is_none() {
        if !config.insecure_plaintext {
            anyhow::bail!(
                "listen {addr} is not a loopback address: configure [tls] (--tls-cert, \
                 --tls-key) or pass --insecure-plaintext"
            );
        }
        tracing::warn!(%addr, "serving plaintext gRPC beyond loopback (--insecure-plaintext): traffic and tokens can be read on the network");
    }
    let verified = config.tls.as_ref().is_some_and(|t| t.require_client_cert);
    if !auth.enforced() && !verified {
        if !config.insecure_open {
            anyhow::bail!(
                "listen {addr} is not a loopback address and no tenants are configured: \
                 declare [[tenants]], require client certificates, or pass --insecure-open"
            );
        }
        tracing::warn!(%addr, "serving beyond loopback with no tenants (--insecure-open): any client that reaches it may upload, use and delete every base set");
    }
    Ok(())
}

/// The tenants as configured, except that with two or more of them, one that names no
/// `max_inflight_bytes` may hold at most half the daemon's: one tenant's burst of large requests
/// then leaves the other half for everyone else.
fn tenant_shares(config: &Config) -> Vec<crate::auth::TenantSpec> {
    let mut tenants = config.tenants.clone();
    if tenants.len() >= 2 {
        for t in &mut tenants {
            t.max_inflight_bytes
                .get_or_insert(config.max_inflight_bytes / 2);
        }
    }
    tenants
}

/// Serve with `config`; returns once listening.
pub async fn serve(config: Config) -> anyhow::Result<Running> {
    let metrics = Metrics::new();
    // The CPU always; each configured device when it opens, or listed as absent with why.
    let specs = config.devices().context("the device configuration")?;
    let cpu = CpuBackend::new().with_table_budget(config.table_budget_bytes);
    let registry =
        tokio::task::spawn_blocking(move || offload_backends::Registry::open(cpu, &specs))
            .await
            .context("opening the devices")?;
    let fallback = registry
        .fallback()
        .context("no registered backend runs every job, so none can be the fallback")?;
    let backends = registry.backends;
    let mut absent = Vec::new();
    for a in registry.absent {
        tracing::warn!(backend = %a.name, "not registered: {}", a.why);
        absent.push((a.name, a.why));
    }
    for b in &backends {
        tracing::info!(backend = b.name(), device = %b.device(), "backend registered");
    }
    let scheduler = Scheduler::new(backends, fallback, config.queue_capacity, metrics.clone());
    if let Some(name) = &config.prefer_backend {
        if !scheduler.prefer(name) {
            anyhow::bail!("--prefer-backend {name}: no such backend is registered");
        }
    }
    scheduler.start_rechecks(Duration::from_secs(config.device_recheck_secs.max(1)));
    // Backends hear of every uploaded set entering and leaving memory.
    let store = Arc::new(
        BaseStore::open(
            &config.data_dir,
            config.max_base_points,
            config.resident_budget_bytes,
        )
        .with_context(|| format!("opening the data directory {}", config.data_dir.display()))?
        .with_residency(scheduler.clone()),
    );
    if !config.skip_calibration {
        let s = scheduler.clone();
        tokio::task::spawn_blocking(move || s.calibrate(calibration_jobs))
            .await
            .context("calibrating")?;
    }
    let mut config = config;
    let shm = match config.shm_dir.clone() {
        Some(dir) => match tokio::task::spawn_blocking(move || ShmDir::open(&dir)).await {
            Ok(Ok(d)) => Some(Arc::new(d)),
            Ok(Err(e)) => {
                tracing::warn!("shared-memory input disabled: {e}");
                config.shm_dir = None;
                None
            }
            Err(e) => anyhow::bail!("opening the shared-memory directory panicked: {e}"),
        },
        None => None,
    };
    // Each connection is a descriptor: keep room for data files, sockets to devices and logs.
    if let Some(nofile) = net::raise_nofile_limit() {
        let room = usize::try_from(nofile.saturating_sub(256))
            .unwrap_or(usize::MAX)
            .max(16);
        if config.max_connections > room {
            tracing::warn!(
                max_connections = config.max_connections,
                nofile,
                "fewer connections than configured: the open-file limit leaves room for {room}"
            );
            config.max_connections = room;
        }
    }
    let auth = Arc::new(Auth::new(&tenant_shares(&config)).context("tenants")?);
    for t in &config.tenants {
        if let Some(bytes) = t.max_resident_bytes {
            store.set_resident_quota(&t.name, bytes);
        }
    }
    let quotas: usize = config
        .tenants
        .iter()
        .map(|t| t.max_resident_bytes.unwrap_or(usize::MAX))
        .fold(0, usize::saturating_add);
    if !config.tenants.is_empty() && quotas > config.resident_budget_bytes {
        tracing::warn!(
            resident_budget_bytes = config.resident_budget_bytes,
            "the tenants' max_resident_bytes add up to more than resident_budget_bytes (or one has \
             none): one tenant's sets may push another's out of memory (they stay on disk)"
        );
    }
    let tls = match config.tls.clone() {
        Some(files) => Some(
            tokio::task::spawn_blocking(move || Tls::load(files))
                .await
                .context("loading TLS")?
                .context("TLS")?,
        ),
        None => None,
    };
    let state = Arc::new(State {
        auth,
        budget: Budget::new(config.max_inflight_bytes),
        uploads: Arc::new(tokio::sync::Semaphore::new(config.max_uploads)),
        resumable: crate::resume::Resumable::new(
            Duration::from_secs(config.upload_resume_secs),
            config.max_uploads,
        ),
        config: config.clone(),
        scheduler: scheduler.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        absent,
        shm,
    });
    {
        // Sets damaged on disk leave the list now rather than at their first use.
        let store = store.clone();
        tokio::task::spawn_blocking(move || {
            let bad = store.verify_all();
            if bad > 0 {
                tracing::error!(sets = bad, "base sets quarantined at start");
            }
        });
    }
    let (shutdown, rx) = watch::channel(false);
    let stop = move || {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let kill = CancellationToken::new();
    let gate = net::Gate::new(
        config.max_connections,
        config.max_connections_per_source,
        Duration::from_secs(config.connection_idle_secs.max(1)),
        kill.clone(),
    );
    let health = crate::health::start(state.clone(), kill.clone()).await;
    {
        // Parked uploads past upload_resume_secs give their memory back.
        let (r, kill) = (state.resumable.clone(), kill.clone());
        tokio::spawn(async move {
            let every = Duration::from_secs(5);
            loop {
                tokio::select! {
                    _ = kill.cancelled() => return,
                    _ = tokio::time::sleep(every) => r.sweep(),
                }
            }
        });
    }

    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    exposure_allowed(&config, &state.auth, addr)?;
    let mut servers = Vec::new();
    let tcp = router(state.clone(), &health)?;
    match &tls {
        Some(tls) => {
            tls.watch(kill.clone());
            servers.push(tokio::spawn(tcp.serve_with_incoming_shutdown(
                net::incoming_tls(listener, gate.clone(), tls.clone()),
                stop(),
            )));
        }
        None => servers.push(tokio::spawn(tcp.serve_with_incoming_shutdown(
            net::incoming(listener, gate.clone(), net::accept_tcp),
            stop(),
        ))),
    }
    tracing::info!(%addr, tls = tls.is_some(), tenants = config.tenants.len(), "serving gRPC over TCP");
    if let Some(path) = &config.uds {
        if path.exists() {
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale socket {}", path.display()))?;
        }
        let uds = tokio::net::UnixListener::bind(path)
            .with_context(|| format!("binding {}", path.display()))?;
        let unix = router(state.clone(), &health)?;
        servers.push(tokio::spawn(unix.serve_with_incoming_shutdown(
            net::incoming(uds, gate.clone(), net::accept_unix),
            stop(),
        )));
        tracing::info!(path = %path.display(), "serving gRPC on a Unix socket");
    }
    let metrics_addr = if config.metrics_listen.is_empty() {
        None
    } else {
        let l = tokio::net::TcpListener::bind(&config.metrics_listen)
            .await
            .with_context(|| format!("binding metrics on {}", config.metrics_listen))?;
        let a = l.local_addr()?;
        if !a.ip().is_loopback() && !config.metrics_public {
            anyhow::bail!(
                "metrics_listen {a} is not a loopback address: set metrics_public = true \
                 (--metrics-public) to serve metrics beyond this host"
            );
        }
        let m = metrics.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = m.clone();
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.render(),
                    )
                }
            }),
        );
        let s = stop();
        let metrics_kill = kill.clone();
        tokio::spawn(async move {
            // Scrapers are few: a handful of connections, each closed after half a minute.
            let gate = net::Gate::new(16, 4, Duration::from_secs(30), metrics_kill);
            let conns = net::Bounded::new(net::incoming(l, gate, net::accept_tcp), a);
            if let Err(e) = axum::serve(conns, app).with_graceful_shutdown(s).await {
                tracing::error!("metrics server: {e}");
            }
        });
        tracing::info!(addr = %a, "serving metrics");
        Some(a)
    };
    Ok(Running {
        addr,
        uds: config.uds.clone(),
        metrics_addr,
        shutdown,
        kill,
        drain: Duration::from_secs(config.drain_secs),
        servers,
        scheduler,
        state,
    })
}

fn router(
    state: Arc<State>,
    health: &HealthService,
) -> anyhow::Result<tonic::transport::server::Router<Stack<GuardLayer, Identity>>> {
    let c = &state.config;
    let max = c.max_message_bytes;
    let guard = GuardLayer {
        budget: state.budget.clone(),
        max_message: max,
    };
    let keepalive = Duration::from_secs(c.keepalive_secs.max(1));
    let svc = OffloadServer::new(Service::new(state.clone()))
        // The guard refuses an oversized message first (RESOURCE_EXHAUSTED); this stays as
        // a second line.
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
    let mut router = Server::builder()
        .http2_keepalive_interval(Some(keepalive))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .max_concurrent_streams(c.max_streams_per_connection)
        .http2_max_pending_accept_reset_streams(Some(64))
        .layer(guard)
        // Health stays open to every caller: load balancers and probes carry no credentials.
        .add_service(health.clone())
        .add_service(svc);
    if c.reflection {
        // Both reflection versions: older grpcurl releases ask only for v1alpha. Health is
        // described too, so `grpcurl list` shows every service served. With tenants, only
        // a caller who says who it is may look.
        let v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(offload_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .context("building reflection")?;
        let v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(offload_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .context("building reflection")?;
        let auth = state.auth.clone();
        let check = move |req: tonic::Request<()>| {
            auth.identify(req.metadata(), req.extensions().get::<net::Peer>())?;
            Ok(req)
        };
        router = router
            .add_service(InterceptedService::new(v1, check.clone()))
            .add_service(InterceptedService::new(v1alpha, check));
    }
    Ok(router)
}
