//! Prove Plonky3's Keccak AIR with Offload's DFT in the PCS (p3-uni-stark's verifier checks
//! it), and with Plonky3's own DFT for comparison: the same proof bytes.
//!
//!     cargo run --release -p offload-prover --example stark -- [LOG_ROWS] [ADDR]
//!
//! With ADDR (`unix:/run/offload.sock`, `http://127.0.0.1:50051`) the DFTs run on that
//! offloadd; without it, on the engine in this process.

use offload_prover::airs::{goldilocks, hashes};
use offload_prover::stark::OffloadDft;
use offload_prover::Offload;
use p3_dft::Radix2DitParallel;
use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let log: u32 = args.next().map_or(Ok(12), |a| a.parse())?;
    let dft = match args.next() {
        Some(addr) => OffloadDft::on(Arc::new(Offload::connect(&addr, &Default::default())?)),
        None => OffloadDft::local(),
    };
    let n = hashes(log);
    let t = Instant::now();
    let ours = goldilocks::prove_with(dft, n);
    let ours_time = t.elapsed();
    let t = Instant::now();
    let theirs = goldilocks::prove_with(Radix2DitParallel::default(), n);
    println!(
        "{n} Keccak permutations on Goldilocks: Offload's DFT {ours_time:?}, Plonky3's Radix2DitParallel {:?}; the same trace and quotient commitments: {}",
        t.elapsed(),
        ours == theirs
    );
    Ok(())
}
