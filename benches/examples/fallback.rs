//! Bisection against per-item fallback when a zip215 batch equation fails: batches of 64 and
//! 1024 with 0, 1, 2 and 17 bad signatures. Prints median milliseconds over 15 runs.
use offload_benches::sig::ed25519_inputs;
use offload_benches::timing::summarize;
use offload_engine::sig::ed25519::{verify_batch_with, Fallback, Item, Policy};
use std::time::Instant;

fn main() {
    println!(
        "{:>6} {:>4} {:>12} {:>12}",
        "batch", "bad", "bisect ms", "per-item ms"
    );
    for batch in [64usize, 1024] {
        let inputs = ed25519_inputs(batch, 7);
        for bad in [0usize, 1, 2, 17] {
            let mut msgs: Vec<Vec<u8>> = inputs.iter().map(|(_, _, m)| m.clone()).collect();
            for j in 0..bad {
                msgs[(j * 7919 + 13) % batch].push(1);
            }
            let pks: Vec<[u8; 32]> = inputs.iter().map(|(k, _, _)| k.to_bytes()).collect();
            let sigs: Vec<[u8; 64]> = inputs.iter().map(|(_, s, _)| s.to_bytes()).collect();
            let items: Vec<Item> = (0..batch)
                .map(|i| Item {
                    public_key: &pks[i],
                    signature: &sigs[i],
                    message: &msgs[i],
                })
                .collect();
            let time = |f: Fallback| {
                let _ = verify_batch_with(Policy::Zip215, &items, f);
                let t: Vec<f64> = (0..15)
                    .map(|_| {
                        let s = Instant::now();
                        let v = verify_batch_with(Policy::Zip215, &items, f);
                        assert_eq!(v.iter().filter(|v| !v.is_valid()).count(), bad);
                        s.elapsed().as_secs_f64() * 1e3
                    })
                    .collect();
                summarize(t).median_ms
            };
            println!(
                "{batch:>6} {bad:>4} {:>12.3} {:>12.3}",
                time(Fallback::Bisect),
                time(Fallback::PerItem)
            );
        }
    }
}
