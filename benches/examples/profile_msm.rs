//! Times one MSM repeatedly (for perf record) and one field multiplication, single-threaded.
use ark_ff::{Field, UniformRand};
use std::time::Instant;

fn main() {
    let log_n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let reps: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut r = rand::thread_rng();
    let mut a = ark_bn254::Fq::rand(&mut r);
    let b = ark_bn254::Fq::rand(&mut r);
    let t = Instant::now();
    for _ in 0..10_000_000 {
        a *= b;
    }
    println!("Fq mul: {:.2} ns ({a})", t.elapsed().as_secs_f64() * 1e8);
    let t = Instant::now();
    for _ in 0..10_000_000 {
        a.square_in_place();
    }
    println!("Fq square: {:.2} ns ({a})", t.elapsed().as_secs_f64() * 1e8);
    let (bases, scalars) = offload_benches::msm::inputs::<ark_bn254::g1::Config>(1 << log_n, 1);
    for _ in 0..reps {
        let t = Instant::now();
        let out = offload_engine::msm::msm(&bases, &scalars).unwrap();
        println!("msm 2^{log_n}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        let _ = std::hint::black_box(out);
    }
}
