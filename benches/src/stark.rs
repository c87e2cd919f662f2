//! A STARK proof: Plonky3's Keccak AIR proved by p3-uni-stark with FRI (the Keccak Merkle
//! configuration of Plonky3's own example), the PCS's DFT being ours (`OffloadDft`, in process
//! or through a daemon) or one of Plonky3's. The proof's transcript is deterministic, so every
//! contender's proof must be the same bytes.

use crate::{convert, Field, Runner};
pub use offload_prover::stark::OffloadDft;
use p3_dft::{Radix2DFTSmallBatch, Radix2DitParallel, TwoAdicSubgroupDft};

/// Keccak permutations for a trace of about 2^log_n rows (24 rows each).
pub fn hashes(log_n: u32) -> usize {
    ((1usize << log_n) / 24).max(1)
}

macro_rules! keccak_stark {
    ($modname:ident, $val:ty, $degree:literal, $challenger:ident) => {
        pub mod $modname {
            use p3_challenger::{$challenger, HashChallenger};
            use p3_commit::ExtensionMmcs;
            use p3_dft::TwoAdicSubgroupDft;
            use p3_field::extension::BinomialExtensionField;
            use p3_fri::{FriParameters, TwoAdicFriPcs};
            use p3_keccak::{Keccak256Hash, KeccakF};
            use p3_keccak_air::{generate_trace_rows, KeccakAir};
            use p3_merkle_tree::MerkleTreeMmcs;
            use p3_symmetric::{
                CompressionFunctionFromHasher, PaddingFreeSponge, SerializingHasher,
            };
            use p3_uni_stark::{prove, verify, StarkConfig};

            pub type Val = $val;
            type Challenge = BinomialExtensionField<Val, $degree>;
            type U64Hash = PaddingFreeSponge<KeccakF, 25, 17, 4>;
            type FieldHash = SerializingHasher<U64Hash>;
            type Compress = CompressionFunctionFromHasher<U64Hash, 2, 4>;
            type ValMmcs = MerkleTreeMmcs<
                [Val; p3_keccak::VECTOR_LEN],
                [u64; p3_keccak::VECTOR_LEN],
                FieldHash,
                Compress,
                2,
                4,
            >;
            type ChallengeMmcs = ExtensionMmcs<Val, Challenge, ValMmcs>;
            type Challenger = $challenger<Val, HashChallenger<u8, Keccak256Hash, 32>>;

            /// Prove `hashes` Keccak permutations with `dft` in the PCS; the proof, checked by
            /// Plonky3's verifier, as JSON.
            pub fn prove_with<D: TwoAdicSubgroupDft<Val>>(dft: D, hashes: usize) -> Vec<u8> {
                let u64_hash = U64Hash::new(KeccakF {});
                let val_mmcs = ValMmcs::new(FieldHash::new(u64_hash), Compress::new(u64_hash), 3);
                let challenge_mmcs = ChallengeMmcs::new(val_mmcs.clone());
                let fri = FriParameters::new_benchmark(challenge_mmcs);
                let inputs: Vec<[u64; 25]> = (0..hashes as u64)
                    .map(|i| std::array::from_fn(|j| i.wrapping_mul(0x9e37_79b9) ^ j as u64))
                    .collect();
                let trace = generate_trace_rows::<Val>(inputs, fri.log_blowup);
                let pcs = TwoAdicFriPcs::<Val, D, ValMmcs, ChallengeMmcs>::new(dft, val_mmcs, fri);
                let config = StarkConfig::<_, Challenge, Challenger>::new(
                    pcs,
                    Challenger::from_hasher(vec![], Keccak256Hash {}),
                );
                let proof = prove(&config, &KeccakAir {}, trace, &[]).expect("Plonky3 proves");
                verify(&config, &KeccakAir {}, &proof, &[]).expect("Plonky3's verifier accepts");
                serde_json::to_vec(&proof).expect("a proof serializes")
            }
        }
    };
}
keccak_stark!(
    goldilocks,
    p3_goldilocks::Goldilocks,
    2,
    SerializingChallenger64
);
keccak_stark!(babybear, p3_baby_bear::BabyBear, 4, SerializingChallenger32);

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
