//! Tenants, TLS and authentication end to end: certificates made here by rcgen (a CA, the
//! daemon's certificate, client certificates), tokens made by `offloadd token`, and every
//! rule the threat model states, checked from the client's side.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_std::UniformRand;
use offload_client::{ClientError, ConnectOptions};
use offload_core::job::Bn254;
use offload_daemon::auth::TenantSpec;
use offload_daemon::tls::TlsFiles;
use offload_daemon::{Config, Running};
use rand::SeedableRng;
use std::path::Path;
use std::time::Duration;
use tonic::Code;

struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = p.self_signed(&key).unwrap();
        Self {
            ca_pem: ca.pem(),
            issuer: rcgen::Issuer::new(p, key),
        }
    }

    /// A certificate and key (PEM) for `names`, as a server or a client.
    fn issue(&self, names: &[&str], server: bool) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        p.extended_key_usages = vec![if server {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = p.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn me() -> u32 {
    rustix::process::getuid().as_raw()
}

struct Setup {
    running: Running,
    dir: tempfile::TempDir,
    pki: Pki,
    tokens: std::collections::HashMap<&'static str, String>,
}

fn token_for(tenant: &str) -> (String, String) {
    // The command an operator runs: its output is the token, then the config lines.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_offloadd"))
        .args(["token", "--tenant", tenant])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text
        .lines()
        .find(|l| l.starts_with("offload_"))
        .unwrap()
        .to_string();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("tokens = [\""))
        .unwrap()
        .trim_end_matches("\"]")
        .to_string();
    assert!(text.contains(&format!("name = \"{tenant}\"")), "{text}");
    (token, hash)
}

async fn setup(require_client_cert: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("offload test CA");
    let (cert, key) = pki.issue(&["localhost"], true);
    let mut tokens = std::collections::HashMap::new();
    let mut tenants = Vec::new();
    for (name, publish) in [("alpha", false), ("publisher", true)] {
        let (token, hash) = token_for(name);
        tokens.insert(name, token);
        tenants.push(TenantSpec {
            name: name.into(),
            tokens: vec![hash],
            publish,
            ..Default::default()
        });
    }
    tenants.push(TenantSpec {
        name: "beta".into(),
        cert_names: vec!["prover-beta".into()],
        ..Default::default()
    });
    tenants.push(TenantSpec {
        name: "local".into(),
        uids: vec![me()],
        ..Default::default()
    });
    let config = Config {
        listen: "127.0.0.1:0".into(),
        uds: Some(dir.path().join("offload.sock")),
        data_dir: dir.path().join("data"),
        metrics_listen: String::new(),
        skip_calibration: true,
        cuda: false,
        tls: Some(TlsFiles {
            cert: write(dir.path(), "server.pem", &cert),
            key: write(dir.path(), "server.key", &key),
            client_ca: Some(write(dir.path(), "ca.pem", &pki.ca_pem)),
            require_client_cert,
        }),
        tenants,
        ..Config::default()
    };
    let running = offload_daemon::serve(config).await.expect("daemon starts");
    Setup {
        running,
        dir,
        pki,
        tokens,
    }
}

impl Setup {
    fn addr(&self) -> String {
        format!("https://localhost:{}", self.running.addr.port())
    }
    fn ca(&self) -> ConnectOptions {
        ConnectOptions {
            tls_ca: Some(self.pki.ca_pem.clone().into_bytes()),
            ..Default::default()
        }
    }
    async fn as_token(&self, tenant: &str) -> offload_client::Client {
        let mut o = self.ca();
        o.token = Some(self.tokens[tenant].clone());
        offload_client::Client::connect_with(&self.addr(), &o)
            .await
            .unwrap()
    }
    async fn as_cert(&self, name: &str) -> offload_client::Client {
        let (cert, key) = self.pki.issue(&[name], false);
        let mut o = self.ca();
        o.tls_identity = Some((cert.into_bytes(), key.into_bytes()));
        offload_client::Client::connect_with(&self.addr(), &o)
            .await
            .unwrap()
    }
}

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Status(s)) => (s.code(), s.message().to_string()),
        other => panic!("expected a status, got {other:?}"),
    }
}

/// A plaintext daemon on loopback, its data under `dir`, no calibration, no GPU.
fn plaintext(dir: &Path) -> Config {
    Config {
        cuda: false,
        ..Config::ephemeral(dir)
    }
}

/// A plaintext connection to `running` as the tenant of `token`.
async fn with_token(running: &Running, token: &str) -> offload_client::Client {
    let opts = ConnectOptions {
        token: Some(token.to_string()),
        ..Default::default()
    };
    offload_client::Client::connect_with(&format!("http://{}", running.addr), &opts)
        .await
        .unwrap()
}

fn points(n: usize, seed: u64) -> Vec<Affine<Bn254>> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let g = Projective::<Bn254>::generator();
    let v: Vec<_> = (0..n).map(|_| g * ark_bn254::Fr::rand(&mut r)).collect();
    Projective::normalize_batch(&v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_known_by_token_certificate_or_uid_and_kept_apart() {
    let s = setup(false).await;
    // No credentials: UNAUTHENTICATED for every call but health.
    let mut anon = offload_client::Client::connect_with(&s.addr(), &s.ca())
        .await
        .unwrap();
    let (c, msg) = code(anon.info().await);
    assert_eq!(c, Code::Unauthenticated, "{msg}");
    assert!(msg.contains("no credentials"), "{msg}");
    let ch = tonic::transport::Endpoint::from_shared(s.addr())
        .unwrap()
        .tls_config(
            tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(&s.pki.ca_pem)),
        )
        .unwrap()
        .connect()
        .await
        .unwrap();
    let h = tonic_health::pb::health_client::HealthClient::new(ch.clone())
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .unwrap();
    assert_eq!(h.into_inner().status, 1, "health is open");
    let refl = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(ch)
        .server_reflection_info(tokio_stream::iter(vec![
            tonic_reflection::pb::v1::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(
                    tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
                        String::new(),
                    ),
                ),
            },
        ]))
        .await;
    assert_eq!(
        refl.unwrap_err().code(),
        Code::Unauthenticated,
        "reflection is restricted"
    );
    // A wrong token, and plaintext to the TLS port.
    let mut o = s.ca();
    o.token = Some("offload_00".into());
    let mut wrong = offload_client::Client::connect_with(&s.addr(), &o)
        .await
        .unwrap();
    assert_eq!(code(wrong.info().await).0, Code::Unauthenticated);
    let plain =
        offload_client::Client::connect(&format!("http://127.0.0.1:{}", s.running.addr.port()))
            .await;
    if let Ok(mut p) = plain {
        assert!(p.info().await.is_err());
    }
    // A client certificate from another CA is refused at the handshake.
    let other = Pki::new("someone else");
    let (cert, key) = other.issue(&["prover-beta"], false);
    let mut o = s.ca();
    o.tls_identity = Some((cert.into_bytes(), key.into_bytes()));
    if let Ok(mut c) = offload_client::Client::connect_with(&s.addr(), &o).await {
        assert!(c.info().await.is_err());
    }

    let mut alpha = s.as_token("alpha").await;
    let mut beta = s.as_cert("prover-beta").await;
    let mut publisher = s.as_token("publisher").await;
    let mut local = offload_client::Client::connect(&format!(
        "unix:{}",
        s.dir.path().join("offload.sock").display()
    ))
    .await
    .unwrap();
    assert!(alpha.info().await.is_ok());
    assert!(beta.info().await.is_ok());
    assert!(local.info().await.is_ok(), "the Unix uid names a tenant");
    // A certificate whose names name no tenant.
    let mut stranger = s.as_cert("prover-gamma").await;
    assert_eq!(code(stranger.info().await).0, Code::Unauthenticated);

    // alpha's set is invisible to beta: listing, use and deletion.
    let pts = points(40, 1);
    let scalars: Vec<ark_bn254::Fr> = (1..=40u64).map(ark_bn254::Fr::from).collect();
    let a = alpha.upload_bases::<Bn254>(&pts, "alpha's").await.unwrap();
    assert!(beta.list_bases().await.unwrap().is_empty());
    let (c, msg) = code(beta.msm::<Bn254>(&a, &scalars).await);
    assert_eq!(c, Code::NotFound, "{msg}");
    assert!(!beta.delete_bases(&a).await.unwrap());
    assert_eq!(alpha.list_bases().await.unwrap().len(), 1);
    let want = alpha.msm::<Bn254>(&a, &scalars).await.unwrap();
    // The same content uploaded by beta: stored once, owned by both, each with its label.
    let b = beta.upload_bases::<Bn254>(&pts, "beta's").await.unwrap();
    assert_eq!(a, b);
    assert_eq!(beta.list_bases().await.unwrap()[0].label, "beta's");
    assert_eq!(alpha.list_bases().await.unwrap()[0].label, "alpha's");
    assert!(alpha.delete_bases(&a).await.unwrap());
    assert!(alpha.list_bases().await.unwrap().is_empty());
    assert_eq!(beta.msm::<Bn254>(&b, &scalars).await.unwrap(), want);

    // A shared set: only a publisher may publish; everyone lists and uses it; only its
    // owners delete it.
    let srs = points(30, 2);
    let (c, msg) = code(alpha.publish_bases::<Bn254>(&srs, "mine").await);
    assert_eq!(c, Code::PermissionDenied, "{msg}");
    let h = publisher
        .publish_bases::<Bn254>(&srs, "public SRS")
        .await
        .unwrap();
    for cl in [&mut alpha, &mut beta, &mut local] {
        let l = cl.list_bases().await.unwrap();
        let set = l.iter().find(|x| x.handle == h).expect("listed");
        assert!(set.shared);
        assert_eq!(set.label, "public SRS");
        let got = cl.msm::<Bn254>(&h, &scalars[..30]).await.unwrap();
        let mut want = Projective::<Bn254>::default();
        for (p, k) in srs.iter().zip(&scalars) {
            want += *p * k;
        }
        assert_eq!(got, want);
    }
    let (c, _) = code(alpha.delete_bases(&h).await);
    assert_eq!(c, Code::PermissionDenied);
    assert!(publisher.delete_bases(&h).await.unwrap());
    assert_eq!(
        code(beta.msm::<Bn254>(&h, &scalars[..30]).await).0,
        Code::NotFound
    );
    s.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_without_a_restart_and_mutual_tls_can_be_required() {
    let s = setup(true).await;
    // Without a client certificate the handshake fails.
    let mut o = s.ca();
    o.token = Some(s.tokens["alpha"].clone());
    if let Ok(mut c) = offload_client::Client::connect_with(&s.addr(), &o).await {
        assert!(
            c.info().await.is_err(),
            "no client certificate, yet answered"
        );
    }
    let mut beta = s.as_cert("prover-beta").await;
    assert!(beta.info().await.is_ok());

    // A new CA and server certificate written over the old files: new connections get them.
    let pki = Pki::new("offload test CA, second");
    let (cert, key) = pki.issue(&["localhost"], true);
    write(s.dir.path(), "server.key", &key);
    write(s.dir.path(), "server.pem", &cert);
    write(s.dir.path(), "ca.pem", &pki.ca_pem);
    let (ccert, ckey) = pki.issue(&["prover-beta"], false);
    let o = ConnectOptions {
        tls_ca: Some(pki.ca_pem.clone().into_bytes()),
        tls_identity: Some((ccert.into_bytes(), ckey.into_bytes())),
        ..Default::default()
    };
    let mut ok = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(mut c) = offload_client::Client::connect_with(&s.addr(), &o).await {
            if c.info().await.is_ok() {
                ok = true;
                break;
            }
        }
    }
    assert!(ok, "the new certificates were not taken up");
    // The old CA no longer verifies the daemon.
    let mut old = s.ca();
    let (c, k) = s.pki.issue(&["prover-beta"], false);
    old.tls_identity = Some((c.into_bytes(), k.into_bytes()));
    if let Ok(mut c) = offload_client::Client::connect_with(&s.addr(), &old).await {
        assert!(c.info().await.is_err());
    }
    // The connection made before the reload still works.
    assert!(beta.info().await.is_ok());
    s.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_the_daemon_needs_tls_and_tenants_or_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let base = Config {
        listen: "0.0.0.0:0".into(),
        ..plaintext(dir.path())
    };
    let e = offload_daemon::serve(base.clone()).await.err().unwrap();
    assert!(format!("{e:#}").contains("--insecure-plaintext"), "{e:#}");
    let mut c = base.clone();
    c.insecure_plaintext = true;
    let e = offload_daemon::serve(c.clone()).await.err().unwrap();
    assert!(format!("{e:#}").contains("--insecure-open"), "{e:#}");
    c.insecure_open = true;
    let r = offload_daemon::serve(c).await.unwrap();
    r.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_is_held_to_its_quotas() {
    let dir = tempfile::tempdir().unwrap();
    let (token, hash) = token_for("small");
    let config = Config {
        tenants: vec![TenantSpec {
            name: "small".into(),
            tokens: vec![hash],
            max_sets: Some(2),
            max_stored_bytes: Some(100 * 64),
            max_jobs: Some(1),
            max_inflight_bytes: Some(16 << 20),
            ..Default::default()
        }],
        ..plaintext(dir.path())
    };
    let running = offload_daemon::serve(config.clone()).await.unwrap();
    let mut c = with_token(&running, &token).await;
    // GetInfo tells the tenant its quotas and the daemon's connection limits, as configured.
    let limits = c.info().await.unwrap().limits.unwrap();
    let q = limits.quota.unwrap();
    assert_eq!(
        (
            q.tenant.as_str(),
            q.max_sets,
            q.max_stored_bytes,
            q.max_jobs
        ),
        ("small", 2, 6400, 1)
    );
    assert_eq!((q.max_inflight_bytes, q.max_resident_bytes), (16 << 20, 0));
    assert_eq!(limits.max_connections as usize, config.max_connections);
    assert_eq!(
        limits.max_connections_per_source as usize,
        config.max_connections_per_source
    );
    assert_eq!(
        limits.max_streams_per_connection,
        config.max_streams_per_connection
    );
    assert_eq!(
        limits.verify_stream_idle_secs,
        config.verify_stream_idle_secs
    );
    assert_eq!(limits.connection_idle_secs, config.connection_idle_secs);
    // Stored bytes, then the number of sets.
    c.upload_bases::<Bn254>(&points(60, 1), "a").await.unwrap();
    let (code_, msg) = code(c.upload_bases::<Bn254>(&points(60, 2), "b").await);
    assert_eq!(code_, Code::ResourceExhausted);
    assert!(msg.contains("its max_stored_bytes (6400)"), "{msg}");
    c.upload_bases::<Bn254>(&points(30, 3), "c").await.unwrap();
    let (code_, msg) = code(c.upload_bases::<Bn254>(&points(5, 4), "d").await);
    assert_eq!(code_, Code::ResourceExhausted);
    assert!(msg.contains("owns 2 base sets, its max_sets"), "{msg}");
    // Request bytes in flight: a 32 MiB column passes the tenant's 16 MiB.
    let big: Vec<p3_baby_bear::BabyBear> =
        (0..(8u32 << 20)).map(p3_baby_bear::BabyBear::new).collect();
    let cfg = offload_engine::ntt::NttConfig::forward();
    let (code_, msg) = code(c.ntt(&cfg, &[&big[..]]).await);
    assert_eq!(code_, Code::ResourceExhausted);
    assert!(
        msg.contains("tenant small's quota (max_inflight_bytes)"),
        "{msg}"
    );
    // Calls in flight: several at once, one at a time admitted.
    let col: Vec<ark_bn254::Fr> = (0..(1u64 << 16)).map(ark_bn254::Fr::from).collect();
    let mut calls = Vec::new();
    for _ in 0..6 {
        let mut c = c.clone();
        let col = col.clone();
        calls.push(tokio::spawn(async move {
            let cfg = offload_engine::ntt::NttConfig::forward();
            c.ntt(&cfg, &[&col[..]]).await.map(|_| ())
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(()) => ok += 1,
            Err(ClientError::Status(s)) if s.code() == Code::ResourceExhausted => {
                assert!(s.message().contains("its max_jobs"), "{s:?}");
                refused += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(ok >= 1 && refused >= 1, "answered {ok}, refused {refused}");
    running.stop().await.unwrap();
}

/// One tenant floods from 16 connections while another makes small MSMs one at a time, all
/// through gRPC: the quiet tenant is always admitted and waits far less than the flood's own
/// calls (first come first served would put each quiet call behind the whole queue).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_tenant_does_not_hold_back_another_over_grpc() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let (flood_token, flood_hash) = token_for("flood");
    let (quiet_token, quiet_hash) = token_for("quiet");
    let tenant = |name: &str, hash: String| TenantSpec {
        name: name.into(),
        tokens: vec![hash],
        ..Default::default()
    };
    let config = Config {
        queue_capacity: 32,
        tenants: vec![tenant("flood", flood_hash), tenant("quiet", quiet_hash)],
        ..plaintext(dir.path())
    };
    let running = offload_daemon::serve(config).await.unwrap();
    let mut quiet = with_token(&running, &quiet_token).await;
    let small = quiet
        .upload_bases::<Bn254>(&points(1 << 8, 1), "small")
        .await
        .unwrap();
    let big = with_token(&running, &flood_token)
        .await
        .upload_bases::<Bn254>(&points(1 << 14, 2), "big")
        .await
        .unwrap();
    let scalars = |n: usize| -> Vec<ark_bn254::Fr> {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(n as u64);
        (0..n).map(|_| ark_bn254::Fr::rand(&mut r)).collect()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::new();
    for _ in 0..16 {
        let mut c = with_token(&running, &flood_token).await;
        let (stop, big, s) = (stop.clone(), big.clone(), scalars(1 << 14));
        flood.push(tokio::spawn(async move {
            let (mut took, mut refused) = (Vec::new(), 0);
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match c.msm::<Bn254>(&big, &s).await {
                    Ok(_) => took.push(t.elapsed()),
                    Err(ClientError::Status(e)) if e.code() == Code::ResourceExhausted => {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(e) => panic!("the flood's call failed: {e:?}"),
                }
            }
            (took, refused)
        }));
    }
    // Let the flood fill the queue, then time the quiet tenant's calls under it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = scalars(1 << 8);
    let mut quiet_took = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let _ = quiet
            .msm::<Bn254>(&small, &s)
            .await
            .expect("the quiet tenant is admitted and answered");
        quiet_took.push(t.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    let mut flood_took = Vec::new();
    for f in flood {
        let (took, _) = f.await.unwrap();
        flood_took.extend(took);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    assert!(
        flood_took.len() >= 16,
        "{} flood calls answered",
        flood_took.len()
    );
    let (q, f) = (median(&mut quiet_took), median(&mut flood_took));
    eprintln!(
        "quiet median {q:?}, flood median {f:?} over {} calls",
        flood_took.len()
    );
    assert!(
        q * 3 < f,
        "the quiet tenant's median {q:?} is not well below the flood's {f:?}"
    );
    running.stop().await.unwrap();
}
