//! Prove a Poseidon hash chain with ark-groth16's key through Offload, check the proof with
//! ark-groth16's verifier, and say where the time went.
//!
//!     cargo run --release -p offload-prover --example groth16 -- [LOG_CONSTRAINTS] [ADDR]
//!
//! With ADDR (`unix:/run/offload.sock`, `http://127.0.0.1:50051`) every MSM and FFT runs on
//! that offloadd; without it, on the engine in this process.

use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::{prepare_verifying_key, Groth16};
use offload_prover::circuits::PoseidonChain;
use offload_prover::groth16::{prove_timed, LoadedKey};
use offload_prover::Offload;
use rand::SeedableRng;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let log: u32 = args.next().map_or(Ok(12), |a| a.parse())?;
    let offload = match args.next() {
        Some(addr) => Offload::connect(&addr, &Default::default())?,
        None => Offload::local(),
    };
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let chain = PoseidonChain::with_constraints(Fr::rand(&mut rng), 1 << log);
    let t = Instant::now();
    let pk = Groth16::<Bn254>::generate_random_parameters_with_reduction(chain.clone(), &mut rng)?;
    println!(
        "setup (ark-groth16): {:?}, {} links",
        t.elapsed(),
        chain.links
    );
    let pvk = prepare_verifying_key(&pk.vk);
    let t = Instant::now();
    let key = LoadedKey::load(&offload, pk)?.with_matrices_of(chain.clone())?;
    println!("key loaded: {:?}", t.elapsed());
    for _ in 0..3 {
        let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let t = Instant::now();
        let (proof, phases) = prove_timed(&offload, &key, chain.clone(), r, s)?;
        let total = t.elapsed();
        let ok = Groth16::<Bn254>::verify_proof(&pvk, &proof, &chain.public_inputs())?;
        println!("proof in {total:?} ({phases:?}); verifies: {ok}");
    }
    Ok(())
}
