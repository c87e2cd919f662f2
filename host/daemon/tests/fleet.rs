//! A fleet of offloadd processes on loopback, driven through the client's pool: a sharded MSM
//! equal to one daemon's answer and to arkworks', a daemon killed mid-call with the call still
//! right, the daemon restarted and taking work again, NTT and signature batches split across
//! the fleet, and an upload cut off halfway and resumed.

mod common;

use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_std::UniformRand;
use ed25519_dalek::Signer;
use offload_client::pool::{Pool, PoolConfig, Targets};
use offload_client::shard::{ShardOptions, ShardedBases};
use offload_client::v1 as pb;
use offload_client::{Client, ConnectOptions};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

type G1 = ark_bn254::G1Affine;
type Fr = ark_bn254::Fr;

struct Daemon {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: no drain, connections cut as a crashed pod's are.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay to a daemon whose connections can all be cut at once: a network failure.
struct Proxy {
    port: u16,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(to: u16) -> Self {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let tasks = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let t = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut a, _)) = l.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut b) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                });
                t.lock().unwrap().push(relay);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { port, tasks }
    }

    fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drop every relayed connection (both sockets close).
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

/// offloadd on `port` with its data under `dir` (kept across restarts); no fixed-base tables
/// (three daemons share two cores here, and the tables are not under test).
fn start(dir: &Path, port: u16, extra: &str) -> Daemon {
    let toml = format!("table_budget_bytes = 0\n{extra}");
    Daemon {
        child: common::offloadd(dir, port, &toml, None),
        port,
        dir: dir.to_path_buf(),
    }
}

/// n distinct points: multiples of a random point, one addition each, normalized together.
fn points(n: usize, rng: &mut impl rand::RngCore) -> Vec<G1> {
    let g = ark_bn254::G1Projective::rand(rng);
    let mut acc = g;
    let proj: Vec<_> = (0..n)
        .map(|_| {
            let p = acc;
            acc += g;
            p
        })
        .collect();
    ark_bn254::G1Projective::normalize_batch(&proj)
}

fn quick_pool_config() -> PoolConfig {
    PoolConfig {
        refresh: Duration::from_millis(300),
        probe_timeout: Duration::from_secs(2),
        call_timeout: Some(Duration::from_secs(120)),
        attempts: 0,
    }
}

async fn pool_of(ds: &[&Daemon]) -> Pool {
    let list = ds.iter().map(|d| d.addr()).collect();
    Pool::new(
        Targets::List(list),
        ConnectOptions::default(),
        quick_pool_config(),
    )
    .await
    .unwrap()
}

fn ed25519_items(n: usize, bad: &[usize]) -> Vec<pb::VerifyItem> {
    (0..n)
        .map(|i| {
            let key = ed25519_dalek::SigningKey::from_bytes(&[(i % 7) as u8 + 1; 32]);
            let msg = format!("block {i}").into_bytes();
            let mut sig = key.sign(&msg).to_bytes().to_vec();
            if bad.contains(&i) {
                sig[0] ^= 1;
            }
            pb::VerifyItem {
                public_key: key.verifying_key().to_bytes().to_vec(),
                signature: sig,
                message: msg,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_msm_survives_a_killed_daemon_and_the_restarted_one_rejoins() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut ds: Vec<Daemon> = dirs
        .iter()
        .map(|d| start(d.path(), common::free_port(), ""))
        .collect();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(18);
    let n = 1 << 18;
    let bases = points(n, &mut rng);
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let oracle = ark_bn254::G1Projective::msm(&bases, &scalars).unwrap();

    // One daemon, the whole set.
    let mut one = Client::connect(&ds[0].addr()).await.unwrap();
    let h = one
        .upload_bases::<ark_bn254::g1::Config>(&bases, "whole")
        .await
        .unwrap();
    let single: ark_bn254::G1Projective = one.msm(&h, &scalars).await.unwrap();
    assert_eq!(single, oracle);

    // Three shards, each on two daemons.
    let pool = pool_of(&[&ds[0], &ds[1], &ds[2]]).await;
    assert!(
        pool.states().iter().all(|m| m.healthy),
        "{:?}",
        pool.states()
    );
    let opts = ShardOptions {
        repair_every: Some(Duration::from_millis(200)),
        ..ShardOptions::default()
    };
    let sharded = ShardedBases::upload(&pool, bases.clone(), "srs", &opts)
        .await
        .unwrap();
    let layout = sharded.layout();
    assert_eq!(layout.len(), 3);
    for (range, _, holders) in &layout {
        assert_eq!(holders.len(), 2, "{range:?} on {holders:?}");
    }
    let t0 = Instant::now();
    assert_eq!(sharded.msm(&scalars).await.unwrap(), oracle);
    eprintln!("sharded MSM of 2^18, nothing killed: {:?}", t0.elapsed());

    // Killed mid-call: the call goes on on the shards' other holders.
    let victim = 1;
    let victim_addr = ds[victim].addr();
    let sharded = std::sync::Arc::new(sharded);
    let call = {
        let (s, x) = (sharded.clone(), scalars.clone());
        tokio::spawn(async move {
            let t0 = Instant::now();
            let r = s.msm(&x).await;
            (r, t0.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    let in_flight = !call.is_finished();
    ds[victim].kill();
    let (r, took) = call.await.unwrap();
    assert_eq!(r.unwrap(), oracle);
    eprintln!(
        "sharded MSM of 2^18 with a daemon killed after 30 ms (in flight: {in_flight}): {took:?}"
    );
    assert!(
        in_flight,
        "the call ended before the kill; nothing was tested"
    );
    assert!(took < Duration::from_secs(60), "{took:?}");

    // The pool notices; calls keep working on two daemons.
    pool.refresh().await.unwrap();
    let down: Vec<_> = pool.states().into_iter().filter(|m| !m.healthy).collect();
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0].addr, victim_addr);
    assert_eq!(sharded.msm(&scalars).await.unwrap(), oracle);

    // The repair task puts the victim's shards on the third daemon: two live holders each
    // again, and each live daemon really holds what the layout says it does.
    let live = |holders: &[String]| holders.iter().filter(|a| **a != victim_addr).count();
    let t0 = Instant::now();
    while !sharded.layout().iter().all(|(_, _, h)| live(h) == 2) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{:?}",
            sharded.layout()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("shards re-replicated {:?} after the kill", t0.elapsed());
    assert_eq!(sharded.repair().await.unwrap(), 0, "nothing left to repair");
    for d in ds.iter().filter(|d| d.addr() != victim_addr) {
        let held: Vec<String> = (Client::connect(&d.addr()).await.unwrap())
            .list_bases()
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.handle)
            .collect();
        for (range, handle, holders) in sharded.layout() {
            if holders.contains(&d.addr()) {
                assert!(held.contains(&handle), "{range:?} not on {}", d.addr());
            }
        }
    }
    assert_eq!(sharded.msm(&scalars).await.unwrap(), oracle);

    // Restarted on its address with its data: healthy again, its shards still there.
    let (dir, port) = (ds[victim].dir.clone(), ds[victim].port);
    ds[victim] = start(&dir, port, "");
    let t0 = Instant::now();
    while !pool.states().iter().all(|m| m.healthy) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "{:?}",
            pool.states()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let others: Vec<String> = (pool.states().into_iter())
        .map(|m| m.addr)
        .filter(|a| *a != victim_addr)
        .collect();
    let (answered_by, listed) = pool
        .call_among(&others, |mut c| async move { c.list_bases().await })
        .await
        .unwrap();
    assert_eq!(answered_by, victim_addr);
    assert_eq!(listed.len(), 2, "the restarted daemon holds its two shards");
    assert_eq!(sharded.msm(&scalars).await.unwrap(), oracle);

    // NTT columns and signature items split across the fleet, answered in order.
    let cols: Vec<Vec<p3_goldilocks::Goldilocks>> = (0..7u64)
        .map(|c| {
            (0..1024u64)
                .map(|i| p3_goldilocks::Goldilocks::new(c * 7919 + i))
                .collect()
        })
        .collect();
    let refs: Vec<&[_]> = cols.iter().map(|c| &c[..]).collect();
    let cfg = offload_engine::ntt::NttConfig::forward();
    let got = pool.ntt_columns(&cfg, &refs).await.unwrap();
    for (g, c) in got.iter().zip(&cols) {
        let mut want = c.clone();
        offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
        assert_eq!(*g, want);
    }
    let items = ed25519_items(300, &[0, 150, 299]);
    let alone = one
        .verify(pb::Scheme::Ed25519, pb::Policy::Default, items.clone())
        .await
        .unwrap();
    let fleet = pool
        .verify_items(pb::Scheme::Ed25519, pb::Policy::Default, items)
        .await
        .unwrap();
    assert_eq!(fleet.verdicts, alone.verdicts);
    assert_eq!((fleet.valid, alone.valid), (297, 297));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_cut_off_halfway_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), common::free_port(), "upload_resume_secs = 30\n");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let n = 4096usize;
    let pts = points(n, &mut rng);
    let mut bytes = Vec::new();
    for p in &pts {
        offload_client::offload_wire::encode_point::<ark_bn254::g1::Config>(
            offload_client::offload_wire::PointEncoding::ArkUncompressed,
            p,
            &mut bytes,
        )
        .unwrap();
    }
    let header = |id: &str, offset: u64, count: u64| pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Header(pb::UploadHeader {
            curve: pb::Curve::Bn254 as i32,
            encoding: pb::PointEncoding::ArkUncompressed as i32,
            count,
            label: "resumed".into(),
            upload_id: id.into(),
            offset,
            ..Default::default()
        })),
    };
    let chunk = |b: &[u8]| pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Points(b.to_vec())),
    };
    let mut c = Client::connect(&d.addr()).await.unwrap();

    // 1000 points and half of the next, then the network between client and daemon fails
    // (a proxy that drops both connections): the daemon sees the stream break mid-point.
    let proxy = Proxy::start(d.port).await;
    let mut cut = Client::connect(&proxy.addr()).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut raw = cut.raw().clone();
    let call = tokio::spawn(async move {
        raw.upload_bases(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    tx.send(header("srs-part-1", 0, n as u64)).await.unwrap();
    tx.send(chunk(&bytes[..640 * 64])).await.unwrap();
    tx.send(chunk(&bytes[640 * 64..1000 * 64 + 32]))
        .await
        .unwrap();
    let t0 = Instant::now();
    loop {
        // None until the daemon has read the header.
        let p = c.upload_progress("srs-part-1").await.unwrap();
        if p.as_ref().is_some_and(|p| p.received == 1000) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{p:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.cut();
    let broken = call.await.unwrap();
    assert!(broken.is_err(), "{broken:?}");
    drop(tx);
    let t0 = Instant::now();
    let p = loop {
        let p = c.upload_progress("srs-part-1").await.unwrap().unwrap();
        if !p.active {
            break p;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{p:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((p.received, p.count), (1000, n as u64));

    // Resumptions that do not fit are refused, and leave the parked upload alone.
    let mut raw = c.raw().clone();
    let wrong = |h| tokio_stream::iter(vec![h]);
    let e = raw
        .upload_bases(wrong(header("srs-part-1", 999, n as u64)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("header.offset") && e.message().contains("1000"),
        "{e:?}"
    );
    let e = raw
        .upload_bases(wrong(header("srs-part-1", 1000, n as u64 + 1)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    let e = raw
        .upload_bases(wrong(header("no-such-upload", 10, n as u64)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
    let e = raw
        .upload_bases(wrong(header("bad id!", 0, n as u64)))
        .await
        .unwrap_err();
    assert!(e.message().contains("header.upload_id"), "{e:?}");

    // The rest, from point 1000: the set is the one a single upload makes.
    let h = c
        .upload_bases_resumable::<ark_bn254::g1::Config>(&pts, "resumed", "srs-part-1", 3)
        .await
        .unwrap();
    assert!(c.upload_progress("srs-part-1").await.unwrap().is_none());
    let whole = c
        .upload_bases::<ark_bn254::g1::Config>(&pts, "whole")
        .await
        .unwrap();
    assert_eq!(h, whole);
    let x: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let got: ark_bn254::G1Projective = c.msm(&h, &x).await.unwrap();
    assert_eq!(got, ark_bn254::G1Projective::msm(&pts, &x).unwrap());

    // A stream that ends early on purpose is kept too; a bad point drops the upload.
    let e = raw
        .upload_bases(tokio_stream::iter(vec![
            header("srs-part-2", 0, n as u64),
            chunk(&bytes[..100 * 64]),
        ]))
        .await
        .unwrap_err();
    assert!(e.message().contains("offset 100"), "{e:?}");
    let mut bad = bytes[100 * 64..200 * 64].to_vec();
    bad[5 * 64] ^= 1;
    let e = raw
        .upload_bases(tokio_stream::iter(vec![
            header("srs-part-2", 100, n as u64),
            chunk(&bad),
        ]))
        .await
        .unwrap_err();
    assert!(e.message().contains("points[105]"), "{e:?}");
    assert!(c.upload_progress("srs-part-2").await.unwrap().is_none());
}
