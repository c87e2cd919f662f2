//! The BIP340 batch equation against parallel single verification, by batch size and chunk
//! size. Prints median milliseconds over 9 runs; `cargo run --release -p offload-benches
//! --example bip340`.
use offload_benches::secp::{schnorr_inputs, schnorr_with};
use offload_benches::timing::summarize;
use offload_engine::sig::secp256k1::SchnorrMethod;
use std::time::Instant;

fn main() {
    let methods = [
        ("singles", SchnorrMethod::Singles),
        ("eq chunk>=64", SchnorrMethod::Equation { min_chunk: 64 }),
        (
            "eq chunk>=1024",
            SchnorrMethod::Equation { min_chunk: 1024 },
        ),
        (
            "eq one chunk",
            SchnorrMethod::Equation {
                min_chunk: usize::MAX,
            },
        ),
        ("auto", SchnorrMethod::Auto),
    ];
    print!("{:>6}", "batch");
    for (name, _) in &methods {
        print!(" {name:>14}");
    }
    println!();
    for batch in [16usize, 64, 128, 256, 1024, 4096, 16384] {
        let inputs = schnorr_inputs(batch);
        print!("{batch:>6}");
        for (_, m) in methods {
            let _ = schnorr_with(&inputs, m);
            let t: Vec<f64> = (0..9)
                .map(|_| {
                    let s = Instant::now();
                    let ok = schnorr_with(&inputs, m);
                    assert!(ok.iter().all(|&v| v));
                    s.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            print!(" {:>14.3}", summarize(t).median_ms);
        }
        println!();
    }
}
