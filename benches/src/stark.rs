//! A STARK proof: Plonky3's Keccak AIR proved by p3-uni-stark with FRI (the Keccak Merkle
//! configuration of Plonky3's own example), the PCS's DFT being ours (`OffloadDft`, in process
//! or through a daemon) or one of Plonky3's. Every contender's proof is checked by Plonky3's
//! verifier, and its trace and quotient commitments must equal ours (the rest of a proof
//! follows a grinding nonce found by a parallel search, which may differ from run to run).

use crate::{convert, Field, Runner};
use offload_prover::airs::{babybear, goldilocks, hashes};
pub use offload_prover::stark::OffloadDft;
use p3_dft::{Radix2DFTSmallBatch, Radix2DitParallel, TwoAdicSubgroupDft};

/// One prover: a name and a closure proving with its DFT.
pub struct Stark {
    name: String,
    prove: Box<dyn FnMut() -> Vec<u8>>,
    out: Vec<u8>,
}

impl Runner for Stark {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn run(&mut self) {
        self.out = (self.prove)();
    }
    fn digest(&self) -> Vec<u8> {
        convert::fingerprint(std::iter::once(self.out.as_slice()))
    }
}

fn runner<D: TwoAdicSubgroupDft<V> + 'static, V: p3_field::TwoAdicField>(
    name: &str,
    dft: D,
    hashes: usize,
    prove: fn(D, usize) -> Vec<u8>,
) -> Box<dyn Runner> {
    Box::new(Stark {
        name: name.into(),
        prove: Box::new(move || prove(dft.clone(), hashes)),
        out: Vec::new(),
    })
}

/// Ours with `dft` (in process or on a daemon), then Plonky3's DFTs with `compare`.
pub fn runners(
    field: Field,
    log_n: u32,
    ours: (&str, OffloadDft),
    compare: bool,
) -> Vec<Box<dyn Runner>> {
    let n = hashes(log_n);
    let (name, dft) = ours;
    match field {
        Field::Goldilocks => {
            type V = goldilocks::Val;
            let mut v = vec![runner::<_, V>(name, dft, n, goldilocks::prove_with)];
            if compare {
                v.push(runner::<_, V>(
                    "peer:plonky3-radix2-dit-parallel",
                    Radix2DitParallel::<V>::default(),
                    n,
                    goldilocks::prove_with,
                ));
                v.push(runner::<_, V>(
                    "peer:plonky3-radix2-small-batch",
                    Radix2DFTSmallBatch::<V>::default(),
                    n,
                    goldilocks::prove_with,
                ));
            }
            v
        }
        Field::BabyBear => {
            type V = babybear::Val;
            let mut v = vec![runner::<_, V>(name, dft, n, babybear::prove_with)];
            if compare {
                v.push(runner::<_, V>(
                    "peer:plonky3-recursive-dft",
                    p3_monty_31::dft::RecursiveDft::<V>::default(),
                    n,
                    babybear::prove_with,
                ));
                v.push(runner::<_, V>(
                    "peer:plonky3-radix2-dit-parallel",
                    Radix2DitParallel::<V>::default(),
                    n,
                    babybear::prove_with,
                ));
            }
            v
        }
        Field::Bn254 | Field::Bls12_381 => Vec::new(),
    }
}
