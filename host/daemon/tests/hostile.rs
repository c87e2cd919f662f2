//! offloadd against a hostile client: every attack found when the daemon was first tried as
//! an adversary would, mounted on loopback with bounded loops. Each must get its clean error
//! while the daemon stays up and answers an honest client's calls.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_std::UniformRand;
use offload_client::v1 as pb;
use offload_client::Client;
use offload_core::job::Bn254;
use offload_daemon::{Config, Running};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::Code;

struct Daemon {
    running: Running,
    dir: tempfile::TempDir,
}

fn config(dir: &Path) -> Config {
    Config {
        uds: Some(dir.join("offload.sock")),
        shm_dir: Some(dir.join("shm")),
        cuda: false,
        max_message_bytes: 64 << 20,
        max_inflight_bytes: 256 << 20,
        ..Config::ephemeral(dir)
    }
}

async fn start_with(f: impl FnOnce(&mut Config)) -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = config(dir.path());
    f(&mut c);
    let running = offload_daemon::serve(c).await.expect("daemon starts");
    Daemon { running, dir }
}

impl Daemon {
    async fn tcp(&self) -> Client {
        Client::connect(&format!("http://{}", self.running.addr))
            .await
            .expect("connects")
    }
    async fn unix(&self) -> Client {
        Client::connect(&format!(
            "unix:{}",
            self.dir.path().join("offload.sock").display()
        ))
        .await
        .expect("connects")
    }
    fn shm(&self) -> PathBuf {
        self.dir.path().join("shm")
    }
}

fn points(n: usize, seed: u64) -> Vec<Affine<Bn254>> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let g = Projective::<Bn254>::generator();
    let v: Vec<_> = (0..n).map(|_| g * ark_bn254::Fr::rand(&mut r)).collect();
    Projective::normalize_batch(&v)
}

fn status<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> (Code, String) {
    match r {
        Err(s) => (s.code(), s.message().to_string()),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

fn shared(path: &str, offset: u64, length: u64) -> pb::Elements {
    pb::Elements {
        source: Some(pb::elements::Source::Shared(pb::SharedMemory {
            path: path.into(),
            offset,
            length,
        })),
    }
}

fn babybear_ntt(columns: Vec<pb::Elements>) -> pb::NttRequest {
    pb::NttRequest {
        field: pb::NttField::Babybear as i32,
        direction: pb::NttDirection::Forward as i32,
        columns,
        ..Default::default()
    }
}

/// An honest client's small call, answered correctly.
async fn honest(c: &mut Client) {
    let x: Vec<p3_baby_bear::BabyBear> = (1..=16u32).map(p3_baby_bear::BabyBear::new).collect();
    let cfg = offload_engine::ntt::NttConfig::forward();
    let got = c
        .ntt(&cfg, &[&x[..]])
        .await
        .expect("an honest call is answered");
    let mut want = x;
    offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
    assert_eq!(got[0], want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_memory_is_safe_against_its_own_client() {
    let d = start_with(|_| {}).await;
    let mut u = d.unix().await;
    let shm = d.shm();
    let secret = d.dir.path().join("secret.bin");
    std::fs::write(&secret, vec![0x11u8; 64]).unwrap();

    // Over TCP shared memory is refused, whatever the name.
    std::fs::write(shm.join("mine.bin"), vec![0u8; 64]).unwrap();
    let mut t = d.tcp().await;
    let (code, msg) = status(
        t.raw()
            .ntt(babybear_ntt(vec![shared("mine.bin", 0, 64)]))
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(
        msg.contains("only for clients on the daemon's Unix socket"),
        "{msg}"
    );

    // A link, a name outside, a FIFO, a missing file: one answer that names nothing.
    std::os::unix::fs::symlink(&secret, shm.join("link")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        shm.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let outside = secret.display().to_string();
    for name in ["link", "fifo", "missing", "../secret.bin", outside.as_str()] {
        let t0 = Instant::now();
        let (code, msg) = status(u.raw().ntt(babybear_ntt(vec![shared(name, 0, 64)])).await);
        assert_eq!(code, Code::InvalidArgument, "{name}");
        assert_eq!(
            msg,
            "columns[0]: no regular file by that name that this client may read in the \
             shared-memory directory",
            "{name}"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{name} took {:?}",
            t0.elapsed()
        );
    }
    honest(&mut u).await;

    // A name swapped between a file and a link while calls run: never the secret's bytes.
    let mine: Vec<u8> = (1..=16u32).flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(shm.join("swap.plain"), &mine).unwrap();
    std::fs::write(&secret, vec![0x22u8; 64]).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (shm, secret, stop) = (shm.clone(), secret.clone(), stop.clone());
        std::thread::spawn(move || {
            let tmp = shm.join("swap.tmp");
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 2_000_000 {
                let _ = std::fs::remove_file(&tmp);
                if i.is_multiple_of(2) {
                    let _ = std::os::unix::fs::symlink(&secret, &tmp);
                } else {
                    let _ = std::fs::hard_link(shm.join("swap.plain"), &tmp);
                }
                let _ = std::fs::rename(&tmp, shm.join("swap"));
                i += 1;
            }
        })
    };
    let want = u
        .raw()
        .ntt(babybear_ntt(vec![pb::Elements {
            source: Some(pb::elements::Source::Packed(mine.clone())),
        }]))
        .await
        .unwrap()
        .into_inner()
        .columns;
    let (mut read, mut refused) = (0, 0);
    for _ in 0..60 {
        match u.raw().ntt(babybear_ntt(vec![shared("swap", 0, 64)])).await {
            Ok(r) => {
                assert_eq!(r.into_inner().columns, want, "the secret was read");
                read += 1;
            }
            Err(s) => {
                assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
                refused += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert!(read > 0 || refused > 0);

    // A file truncated while an MSM that names it is read: an error or the answer, never a
    // crash (a mapped file would have killed the daemon with SIGBUS).
    let n = 1 << 16;
    let handle = u
        .upload_bases::<Bn254>(&points(n, 1), "bases")
        .await
        .unwrap();
    let big = shm.join("scalars.bin");
    for round in 0..6u64 {
        std::fs::write(&big, vec![0u8; n * 32]).unwrap();
        let req = pb::MsmRequest {
            curve: pb::Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
            scalars: vec![shared("scalars.bin", 0, (n * 32) as u64); 8],
            result_encoding: pb::PointEncoding::ArkCompressed as i32,
        };
        let mut c = d.unix().await;
        let call = tokio::spawn(async move { c.raw().msm(req).await });
        tokio::time::sleep(Duration::from_millis(round * 3)).await;
        std::fs::File::options()
            .write(true)
            .open(&big)
            .unwrap()
            .set_len(100)
            .unwrap();
        match call.await.unwrap() {
            Ok(_) => {}
            Err(s) => {
                assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
                assert!(s.message().starts_with("scalars["), "{s:?}");
            }
        }
    }
    honest(&mut u).await;
    d.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_lengths_are_checked_before_anything_is_read_or_decoded() {
    let d = start_with(|c| {
        c.max_ntt_log_n = 20;
        c.max_inflight_bytes = 96 << 20;
    })
    .await;
    let mut u = d.unix().await;
    let shm = d.shm();
    // An 8 GiB sparse file offered as one BabyBear column, and as 64 MiB ones.
    let sparse = std::fs::File::create(shm.join("sparse.bin")).unwrap();
    sparse.set_len(8 << 30).unwrap();
    let (code, msg) = status(
        u.raw()
            .ntt(babybear_ntt(vec![shared("sparse.bin", 0, 8 << 30)]))
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.contains("this daemon transforms at most 2^20"), "{msg}");
    let (code, msg) = status(
        u.raw()
            .ntt(babybear_ntt(vec![shared("sparse.bin", 0, 4 << 20); 12]))
            .await,
    );
    assert_eq!(code, Code::ResourceExhausted);
    assert!(msg.contains("max_inflight_bytes"), "{msg}");
    // A small request whose answer could never be sent: refused before any work.
    let (code, msg) = status(
        u.raw()
            .ntt(babybear_ntt(vec![shared("sparse.bin", 0, 4 << 20); 17]))
            .await,
    );
    assert_eq!(code, Code::ResourceExhausted);
    assert!(
        msg.contains("17 columns of 4194304 bytes, would exceed max_message_bytes"),
        "{msg}"
    );

    // One MSM naming a 64 MiB region 24 times for a set of 100 points: refused on length.
    let handle = u
        .upload_bases::<Bn254>(&points(100, 2), "small")
        .await
        .unwrap();
    let req = pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
        scalars: vec![shared("sparse.bin", 0, 64 << 20); 24],
        result_encoding: 0,
    };
    let (code, msg) = status(u.raw().msm(req).await);
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(msg, "scalars[0]: 2097152 scalars for 100 bases");

    // Millions of empty entries in a few MiB: counted on the wire, refused undecoded.
    let req = pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
        scalars: vec![pb::Elements::default(); 4 << 20],
        result_encoding: 0,
    };
    let (code, msg) = status(u.raw().msm(req).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("scalars: more than 1024 entries"), "{msg}");
    let req = pb::VerifyRequest {
        scheme: pb::Scheme::Ed25519 as i32,
        items: vec![pb::VerifyItem::default(); 8 << 20],
        ..Default::default()
    };
    let (code, msg) = status(u.raw().verify(req).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("items: more than 1048576 entries"), "{msg}");
    let req = pb::VerifyRequest {
        scheme: pb::Scheme::Ed25519 as i32,
        items: vec![pb::VerifyItem {
            message: vec![0; 100 << 10],
            ..Default::default()
        }],
        ..Default::default()
    };
    let (code, msg) = status(u.raw().verify(req).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.starts_with("items[0]: 102400 bytes"), "{msg}");

    // A message over the limit: RESOURCE_EXHAUSTED, as the proto says.
    let mut big = Client::connect(&format!("http://{}", d.running.addr))
        .await
        .unwrap();
    let raw = big
        .raw()
        .clone()
        .max_encoding_message_size(usize::MAX)
        .ntt(babybear_ntt(vec![pb::Elements {
            source: Some(pb::elements::Source::Packed(vec![0; 65 << 20])),
        }]))
        .await;
    let (code, msg) = status(raw);
    assert_eq!(code, Code::ResourceExhausted);
    assert!(msg.contains("max_message_bytes"), "{msg}");

    // An MsmStream is refused at the chunk that overflows the set, not when it ends.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(pb::MsmStreamRequest {
        part: Some(pb::msm_stream_request::Part::Header(pb::MsmRequest {
            curve: pb::Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    for _ in 0..2 {
        tx.send(pb::MsmStreamRequest {
            part: Some(pb::msm_stream_request::Part::Chunk(pb::ScalarChunk {
                vector: 0,
                packed: vec![0; 3000],
            })),
        })
        .await
        .unwrap();
    }
    let call = u
        .raw()
        .msm_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    let (code, msg) = status(
        tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .unwrap(),
    );
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(
        msg,
        "scalars[0]: more than 3200 bytes, 32 for each of the set's 100 bases"
    );
    drop(tx);

    // Labels, handles and undecodable messages.
    let mut up = d.unix().await;
    let label = "x".repeat(300);
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Header(pb::UploadHeader {
            curve: pb::Curve::Bn254 as i32,
            count: 1,
            label,
            ..Default::default()
        })),
    })
    .await
    .unwrap();
    drop(tx);
    let (code, msg) = status(
        up.raw()
            .upload_bases(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(msg, "header.label: 300 bytes; a label has at most 256");
    let long = "z".repeat(1 << 20);
    let (code, msg) = status(
        up.raw()
            .delete_bases(pb::DeleteBasesRequest { handle: long })
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.len() < 200, "{msg}");
    honest(&mut u).await;
    d.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_and_upload_floods_are_bounded() {
    let d = start_with(|c| {
        c.max_uploads = 3;
        c.stream_idle_secs = 1;
    })
    .await;
    let header = || pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Header(pb::UploadHeader {
            curve: pb::Curve::Bn254 as i32,
            count: 10,
            ..Default::default()
        })),
    };
    // Three uploads that send a header and nothing more hold every upload slot...
    let mut held = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..3 {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tx.send(header()).await.unwrap();
        held.push(tx);
        let mut c = d.tcp().await;
        calls.push(tokio::spawn(async move {
            c.raw()
                .upload_bases(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...so a fourth is told so at once,
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(header()).await.unwrap();
    let mut c = d.tcp().await;
    let (code, msg) = status(
        c.raw()
            .upload_bases(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await,
    );
    assert_eq!(code, Code::ResourceExhausted);
    assert!(msg.contains("(max_uploads)"), "{msg}");
    // and the idle ones are closed after a second of silence.
    let t0 = Instant::now();
    for call in calls {
        let (code, msg) = status(call.await.unwrap());
        assert_eq!(code, Code::DeadlineExceeded);
        assert!(
            msg.contains("sent nothing for 1 s (stream_idle_secs)"),
            "{msg}"
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(5));
    drop(held);
    let mut c = d.tcp().await;
    honest(&mut c).await;
    d.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_stream_cannot_keep_shutdown_from_finishing() {
    let d = start_with(|c| c.drain_secs = 1).await;
    let mut c = d.tcp().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::VerifyRequest>(1);
    let _answers = c
        .raw()
        .verify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap();
    let t0 = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), d.running.stop())
        .await
        .expect("stop finishes")
        .unwrap();
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t0.elapsed()
    );
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_sets_are_durable_checked_and_health_tells_the_truth() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let dir = tempfile::tempdir().unwrap();
    let bases_dir = dir.path().join("data/bases");
    std::fs::create_dir_all(&bases_dir).unwrap();
    // Leftovers of a crash: an unfinished upload, points without metadata, metadata alone.
    let orphan = "ab".repeat(32);
    std::fs::write(bases_dir.join("upload-1.tmp"), b"x").unwrap();
    std::fs::write(bases_dir.join(format!("{orphan}.bin")), b"x").unwrap();
    std::fs::write(
        bases_dir.join(format!("{}.toml", "cd".repeat(32))),
        b"curve = 1",
    )
    .unwrap();
    let mut cfg = config(dir.path());
    cfg.resident_budget_bytes = 1;
    let running = offload_daemon::serve(cfg.clone()).await.unwrap();
    let left: Vec<_> = std::fs::read_dir(&bases_dir).unwrap().collect();
    assert!(left.is_empty(), "swept: {left:?}");

    let mut c = Client::connect(&format!("http://{}", running.addr))
        .await
        .unwrap();
    let a = c.upload_bases::<Bn254>(&points(50, 3), "a").await.unwrap();
    let b = c.upload_bases::<Bn254>(&points(60, 4), "b").await.unwrap();
    // Pages.
    let page = c
        .raw()
        .list_bases(pb::ListBasesRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.sets.len(), 1);
    assert!(!page.next_page_token.is_empty());
    assert_eq!(c.list_bases().await.unwrap().len(), 2);
    // Damage `a` on disk (the budget of one byte keeps only the newest set resident): its
    // next use says DATA_LOSS, and it leaves the list for the quarantine.
    let bin = bases_dir.join(format!("{a}.bin"));
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&bin, bytes).unwrap();
    let s: Vec<ark_bn254::Fr> = vec![ark_bn254::Fr::from(1u64); 50];
    let e = c.msm::<Bn254>(&a, &s).await.unwrap_err();
    match e {
        offload_client::ClientError::Status(s) => {
            assert_eq!(s.code(), Code::DataLoss, "{s:?}");
            assert!(s.message().contains("does not match its handle"), "{s:?}");
        }
        other => panic!("{other:?}"),
    }
    let listed: Vec<_> = c
        .list_bases()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.handle)
        .collect();
    assert_eq!(listed, vec![b.clone()]);
    assert!(dir.path().join(format!("data/quarantine/{a}.bin")).exists());

    // Health: serving; not serving while the data directory takes no writes; serving again.
    let ch = tonic::transport::Endpoint::from_shared(format!("http://{}", running.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
    async fn ask(
        h: &mut tonic_health::pb::health_client::HealthClient<tonic::transport::Channel>,
    ) -> ServingStatus {
        h.check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
    }
    assert_eq!(ask(&mut h).await, ServingStatus::Serving);
    let moved = dir.path().join("data/bases.away");
    std::fs::rename(&bases_dir, &moved).unwrap();
    let mut seen = ServingStatus::Serving;
    for _ in 0..40 {
        seen = ask(&mut h).await;
        if seen == ServingStatus::NotServing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(seen, ServingStatus::NotServing);
    std::fs::rename(&moved, &bases_dir).unwrap();
    for _ in 0..40 {
        seen = ask(&mut h).await;
        if seen == ServingStatus::Serving {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(seen, ServingStatus::Serving);
    running.stop().await.unwrap();
}

/// Whether the daemon closed `s` within `within`, rather than leaving it open for a call.
async fn closed(s: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut b = [0u8; 64];
    match tokio::time::timeout(within, s.read(&mut b)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_source_cannot_take_every_connection_and_metrics_stay_local() {
    let d = start_with(|c| c.max_connections_per_source = 3).await;
    let addr = d.running.addr;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(!closed(&mut s, Duration::from_millis(200)).await);
        held.push(s);
    }
    // A fourth from the same address is closed at once...
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(closed(&mut s, Duration::from_secs(5)).await);
    // ...while another address, and the Unix socket (a uid of its own), are still served.
    let other = tokio::net::TcpSocket::new_v4().unwrap();
    other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut s = other.connect(addr).await.unwrap();
    assert!(!closed(&mut s, Duration::from_millis(300)).await);
    honest(&mut d.unix().await).await;
    // Once one of the three goes, the first address is served again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    honest(&mut d.tcp().await).await;
    // Connections that never sent a call would hold a drain to its deadline.
    drop((held, s));
    d.running.stop().await.unwrap();

    // Metrics beyond loopback only when asked for.
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.metrics_listen = "0.0.0.0:0".into();
    let e = offload_daemon::serve(c.clone()).await.err().unwrap();
    assert!(format!("{e:#}").contains("metrics_public"), "{e:#}");
    c.metrics_public = true;
    let running = offload_daemon::serve(c).await.unwrap();
    assert!(running.metrics_addr.is_some());
    running.stop().await.unwrap();
}
