//! Fairness across tenants, measured: one tenant floods offloadd from many connections (BN254
//! MSMs of 2^14 points and Ed25519 batches of 512, half the connections each) while another
//! makes small calls one at a time (an MSM of 2^10 points on its resident set, a batch of 64
//! Ed25519 signatures). Prints the quiet tenant's p50 and p99 with the daemon otherwise idle and
//! under the flood, the two phases interleaved round by round, and what the flood got meanwhile.
//!
//! `tenant_flood ADDR [CONNECTIONS] [SECONDS] [ROUNDS]` (defaults 64, 10, 3), with the tenants'
//! tokens in OFFLOAD_FLOOD_TOKEN and OFFLOAD_QUIET_TOKEN (and OFFLOAD_TLS_CA for TLS).
//! `scripts/measure-fairness.sh` starts a daemon with the two tenants and runs it.
use ark_ec::{CurveGroup, PrimeGroup};
use ark_std::UniformRand;
use offload_benches::sig::ed25519_inputs;
use offload_client::{v1 as pb, Client, ConnectOptions};
use offload_core::job::Bn254;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type G1 = ark_ec::short_weierstrass::Projective<Bn254>;

async fn connect(addr: &str, var: &str) -> Client {
    let mut o = ConnectOptions::from_env().expect("TLS settings");
    o.token = Some(std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set")));
    Client::connect_with(addr, &o).await.expect("connects")
}

fn points(n: usize, seed: u64) -> Vec<ark_ec::short_weierstrass::Affine<Bn254>> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    let g = G1::generator();
    let v: Vec<G1> = (0..n).map(|_| g * ark_bn254::Fr::rand(&mut r)).collect();
    G1::normalize_batch(&v)
}

fn scalars(n: usize, seed: u64) -> Vec<ark_bn254::Fr> {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..n).map(|_| ark_bn254::Fr::rand(&mut r)).collect()
}

fn ed25519(n: usize, seed: u64) -> Vec<pb::VerifyItem> {
    ed25519_inputs(n, seed)
        .into_iter()
        .map(|(k, s, m)| pb::VerifyItem {
            public_key: k.to_bytes().to_vec(),
            signature: s.to_bytes().to_vec(),
            message: m,
        })
        .collect()
}

/// p50 and p99 in milliseconds.
fn quantiles(v: &mut [Duration]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99))
}

struct Work {
    handle: String,
    scalars: Vec<ark_bn254::Fr>,
    items: Vec<pb::VerifyItem>,
}

/// Ok, or the daemon's RESOURCE_EXHAUSTED (its queues full for this tenant); anything else
/// is a failure of the run.
fn refused<T>(r: Result<T, offload_client::ClientError>, what: &str) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(offload_client::ClientError::Status(s))
            if s.code() == tonic::Code::ResourceExhausted =>
        {
            None
        }
        Err(e) => panic!("{what}: {e:?}"),
    }
}

async fn msm(c: &mut Client, w: &Work) -> bool {
    let r: Option<G1> = refused(c.msm::<Bn254>(&w.handle, &w.scalars).await, "MSM");
    r.is_some()
}

async fn verify(c: &mut Client, w: &Work) -> bool {
    let r = c
        .verify(
            pb::Scheme::Ed25519,
            pb::Policy::Ed25519Zip215,
            w.items.clone(),
        )
        .await;
    match refused(r, "verify") {
        Some(r) => {
            assert_eq!(r.valid as usize, w.items.len());
            true
        }
        None => false,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let conns: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(64);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(run(addr, conns, Duration::from_secs(secs), rounds));
}

async fn run(addr: String, conns: usize, phase: Duration, rounds: usize) {
    let mut quiet = connect(&addr, "OFFLOAD_QUIET_TOKEN").await;
    let mut flood = connect(&addr, "OFFLOAD_FLOOD_TOKEN").await;
    let small = Arc::new(Work {
        handle: quiet
            .upload_bases::<Bn254>(&points(1 << 10, 1), "quiet")
            .await
            .expect("upload"),
        scalars: scalars(1 << 10, 2),
        items: ed25519(64, 3),
    });
    let big = Arc::new(Work {
        handle: flood
            .upload_bases::<Bn254>(&points(1 << 14, 4), "flood")
            .await
            .expect("upload"),
        scalars: scalars(1 << 14, 5),
        items: ed25519(512, 6),
    });
    // Each flooding connection is a client of its own (one HTTP/2 connection each).
    let mut flooders = Vec::new();
    for _ in 0..conns {
        flooders.push(connect(&addr, "OFFLOAD_FLOOD_TOKEN").await);
    }
    println!(
        "| round | daemon | quiet MSM 2^10 p50 / p99 ms | quiet verify 64 p50 / p99 ms | flood calls/s answered | flood p50 ms |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for round in 1..=rounds {
        for flooding in [false, true] {
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            if flooding {
                for (i, c) in flooders.iter().enumerate() {
                    let (mut c, stop, big) = (c.clone(), stop.clone(), big.clone());
                    tasks.push(tokio::spawn(async move {
                        let (mut took, mut no) = (Vec::new(), 0usize);
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            let ok = if i % 2 == 0 {
                                msm(&mut c, &big).await
                            } else {
                                verify(&mut c, &big).await
                            };
                            if ok {
                                took.push(t.elapsed());
                            } else {
                                // Refused: a flooder tries again at once.
                                no += 1;
                            }
                        }
                        (took, no)
                    }));
                }
                // Let the queues fill.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let (mut m, mut v) = (Vec::new(), Vec::new());
            let t0 = Instant::now();
            while t0.elapsed() < phase {
                let t = Instant::now();
                assert!(
                    msm(&mut quiet, &small).await,
                    "the quiet tenant was refused"
                );
                m.push(t.elapsed());
                let t = Instant::now();
                assert!(
                    verify(&mut quiet, &small).await,
                    "the quiet tenant was refused"
                );
                v.push(t.elapsed());
            }
            stop.store(true, Ordering::Relaxed);
            let (mut flood_took, mut flood_refused) = (Vec::new(), 0);
            for t in tasks {
                let (took, no) = t.await.expect("flood task");
                flood_took.extend(took);
                flood_refused += no;
            }
            let (m50, m99) = quantiles(&mut m);
            let (v50, v99) = quantiles(&mut v);
            let (rate, f50) = if flooding {
                let n = flood_took.len() as f64;
                (
                    format!(
                        "{:.0} ({flood_refused} refused)",
                        n / (phase.as_secs_f64() + 1.0)
                    ),
                    format!("{:.0}", quantiles(&mut flood_took).0),
                )
            } else {
                ("-".into(), "-".into())
            };
            println!(
                "| {round} | {} | {m50:.1} / {m99:.1} | {v50:.1} / {v99:.1} | {rate} | {f50} |",
                if flooding {
                    format!("{conns} connections flooding")
                } else {
                    "idle".into()
                },
            );
        }
    }
}
