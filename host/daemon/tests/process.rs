//! offloadd as a process under hostile load, where only a separate process shows the harm:
//! out of file descriptors (the accept loop must not spin, new clients must get in once idle
//! connections are closed), and memory (peak RSS stays within the in-flight budget while many
//! clients send the largest messages at once).

mod common;

use offload_client::v1 as pb;
use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

struct Proc {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// offloadd with `toml` as its configuration and, if given, a hard limit on open files.
fn spawn(toml: &str, nofile: Option<u64>) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let child = common::offloadd(dir.path(), port, toml, nofile);
    Proc {
        child,
        port,
        _dir: dir,
    }
}

/// User and system CPU time of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with(key)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

async fn small_ntt(port: u16) -> Result<(), String> {
    let mut c = offload_client::Client::connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| e.to_string())?;
    let x: Vec<p3_goldilocks::Goldilocks> = (0..8u64).map(p3_goldilocks::Goldilocks::new).collect();
    let cfg = offload_engine::ntt::NttConfig::forward();
    let got = c.ntt(&cfg, &[&x[..]]).await.map_err(|e| e.to_string())?;
    let mut want = x;
    offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
    assert_eq!(got[0], want);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_daemon_neither_spins_nor_locks_clients_out() {
    // Few descriptors, more connections allowed than they can hold: accept fails with EMFILE
    // (the daemon keeps 16 connections at least, and needs about a dozen descriptors itself).
    let mut p = spawn("max_connections = 16\nconnection_idle_secs = 1\n", Some(20));
    let pid = p.child.id();
    let mut held = Vec::new();
    for _ in 0..64 {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", p.port)) {
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = cpu_ticks(pid) - before;
    // A spinning accept loop burns ~200 ticks (one core) in 2 s.
    assert!(
        spent < 40,
        "{spent} ticks of CPU in 2 s while out of descriptors"
    );
    // Connections that never make a call are closed after a second; an honest client gets in
    // while the flood is still held open on our side.
    let t0 = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(20), small_ntt(p.port)).await;
    assert!(matches!(r, Ok(Ok(()))), "{r:?} after {:?}", t0.elapsed());
    drop(held);
    small_ntt(p.port).await.unwrap();
    // The flood did run the daemon out of descriptors.
    let _ = p.child.kill();
    let _ = p.child.wait();
    let mut log = String::new();
    let _ = p.child.stderr.take().unwrap().read_to_string(&mut log);
    assert!(
        log.contains("(os error 24)"),
        "no EMFILE in the daemon's log: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_large_messages_at_once_stay_within_the_memory_budget() {
    let budget = 192u64 << 20;
    let p = spawn(
        &format!(
            "max_message_bytes = {}\nmax_inflight_bytes = {budget}\n",
            48 << 20
        ),
        None,
    );
    let pid = p.child.id();
    small_ntt(p.port).await.unwrap();
    let base = status_kib(pid, "VmHWM:") << 10;
    // 24 clients, each sending a 32 MiB BabyBear column (2^23 elements) three times.
    let column = vec![1u8; 32 << 20];
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let column = column.clone();
        let port = p.port;
        tasks.push(tokio::spawn(async move {
            let mut c = offload_client::Client::connect(&format!("http://127.0.0.1:{port}"))
                .await
                .unwrap();
            let mut raw = c
                .raw()
                .clone()
                .max_decoding_message_size(64 << 20)
                .max_encoding_message_size(64 << 20);
            let (mut ok, mut full) = (0, 0);
            for _ in 0..3 {
                let req = pb::NttRequest {
                    field: pb::NttField::Babybear as i32,
                    direction: pb::NttDirection::Forward as i32,
                    columns: vec![pb::Elements {
                        source: Some(pb::elements::Source::Packed(column.clone())),
                    }],
                    ..Default::default()
                };
                match raw.ntt(req).await {
                    Ok(_) => ok += 1,
                    Err(s) if s.code() == tonic::Code::ResourceExhausted => full += 1,
                    Err(s) => panic!("{s:?}"),
                }
            }
            (ok, full)
        }));
    }
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok += o;
        full += f;
    }
    let peak = status_kib(pid, "VmHWM:") << 10;
    eprintln!(
        "answered {ok}, refused {full}; peak RSS {} MiB over a {} MiB start, budget {} MiB",
        peak >> 20,
        base >> 20,
        budget >> 20
    );
    assert!(ok > 0 && full > 0, "answered {ok}, refused {full}");
    // The budget, plus what is not charged: a message between its last byte and its
    // handler, per worker thread, and allocator slack.
    assert!(
        peak < base + budget + (160 << 20),
        "peak RSS {} MiB",
        peak >> 20
    );
    small_ntt(p.port).await.unwrap();
}
