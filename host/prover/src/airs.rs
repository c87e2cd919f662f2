//! The STARK the tests and benchmarks prove: Plonky3's Keccak AIR with FRI and Keccak Merkle
//! trees (the configuration of Plonky3's own Keccak example), on Goldilocks and BabyBear, with
//! whichever DFT the PCS is given. Until the prover's first grinding (a parallel search, whose
//! nonce may differ from run to run) the transcript is deterministic: two DFTs that compute
//! the same transforms commit to the same trace and quotient, and those commitments are what
//! [`goldilocks::prove_with`] and [`babybear::prove_with`] return.
//!
//! These functions panic when proving or verifying fails: they are test and benchmark
//! workloads, where a failed proof is a failed run.

/// Keccak permutations for a trace of about 2^log_rows rows (24 rows each).
pub fn hashes(log_rows: u32) -> usize {
    ((1usize << log_rows) / 24).max(1)
}

macro_rules! keccak_stark {
    ($modname:ident, $val:ty, $degree:literal, $challenger:ident) => {
        pub mod $modname {
            use p3_challenger::{$challenger, HashChallenger};
            use p3_commit::ExtensionMmcs;
            use p3_dft::TwoAdicSubgroupDft;
            use p3_field::extension::BinomialExtensionField;
            use p3_field::PrimeCharacteristicRing;
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

            /// Prove `hashes` Keccak permutations with `dft` in the PCS and check the proof with
            /// Plonky3's verifier (and that it fails against other public values); the proof's
            /// trace and quotient commitments as JSON (the rest follows a grinding nonce).
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
                assert!(
                    verify(&config, &KeccakAir {}, &proof, &[Val::ONE]).is_err(),
                    "a proof checked against other public values is refused"
                );
                serde_json::to_vec(&proof.commitments).expect("commitments serialize")
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
