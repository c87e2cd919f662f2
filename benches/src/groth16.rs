//! Groth16 proving: ours (offload-prover, every MSM and FFT on the engine, or through a daemon)
//! against ark-groth16's own prover, on a Poseidon hash chain of 2^log_n constraints, with the
//! same key and the same (r, s), so the proofs must be equal byte for byte. The key comes from
//! ark-groth16's setup (seeded, untimed, once per curve and size in a process).

use crate::{Curve, Runner};
use ark_ff::UniformRand;
use ark_groth16::{Groth16, Proof, ProvingKey};
use ark_relations::r1cs::{ConstraintMatrices, SynthesisMode};
use ark_serialize::CanonicalSerialize;
use offload_prover::circuits::PoseidonChain;
use offload_prover::groth16::{prove_timed, synthesize, LoadedKey, ProverPairing};
use offload_prover::Offload;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

type Field<E> = <E as ark_ec::pairing::Pairing>::ScalarField;

/// One curve's circuit, key and randomness.
pub struct Instance<E: ProverPairing> {
    pub chain: PoseidonChain<Field<E>>,
    pub pk: ProvingKey<E>,
    pub r: Field<E>,
    pub s: Field<E>,
}

/// The instance for (curve, log_n), set up once per process (setups at 2^18 take minutes).
pub fn instance<E: ProverPairing>(curve: Curve, log_n: u32) -> Arc<Instance<E>>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    type Instances = HashMap<(Curve, u32), Arc<dyn Any + Send + Sync>>;
    static CACHE: OnceLock<Mutex<Instances>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    let any = map
        .entry((curve, log_n))
        .or_insert_with(|| {
            let mut rng = ChaCha20Rng::seed_from_u64(0x6701_6000 + log_n as u64);
            let chain = PoseidonChain::with_constraints(Field::<E>::rand(&mut rng), 1 << log_n);
            let pk =
                Groth16::<E>::generate_random_parameters_with_reduction(chain.clone(), &mut rng)
                    .expect("setup of a satisfiable circuit");
            let (r, s) = (Field::<E>::rand(&mut rng), Field::<E>::rand(&mut rng));
            Arc::new(Instance { chain, pk, r, s })
        })
        .clone();
    any.downcast::<Instance<E>>()
        .unwrap_or_else(|_| panic!("one curve per cache entry"))
}

fn digest<E: ProverPairing>(p: &Option<Proof<E>>) -> Vec<u8> {
    let mut v = Vec::new();
    if let Some(p) = p {
        p.serialize_compressed(&mut v).expect("a proof serializes");
    }
    v
}

/// Our prover on an [`Offload`] (the engine here, or a daemon).
pub struct Ours<E: ProverPairing> {
    name: String,
    offload: Offload,
    key: LoadedKey<E>,
    inst: Arc<Instance<E>>,
    out: Option<Proof<E>>,
}

impl<E: ProverPairing> Ours<E>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    pub fn new(name: &str, offload: Offload, inst: Arc<Instance<E>>) -> Result<Self, String> {
        let key = LoadedKey::load(&offload, inst.pk.clone())
            .and_then(|k| k.with_matrices_of(inst.chain.clone()))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            name: name.into(),
            offload,
            key,
            inst,
            out: None,
        })
    }
}

impl<E: ProverPairing> Runner for Ours<E>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    fn name(&self) -> String {
        self.name.clone()
    }
    fn run(&mut self) {
        let i = &self.inst;
        let (proof, phases) =
            prove_timed(&self.offload, &self.key, i.chain.clone(), i.r, i.s).expect("our prover");
        if std::env::var_os("OFFLOAD_BENCH_PHASES").is_some() {
            eprintln!("{}: {phases:?}", self.name);
        }
        self.out = Some(proof);
    }
    fn digest(&self) -> Vec<u8> {
        digest(&self.out)
    }
}

/// ark-groth16 as a prover calls it (`create_proof_with_reduction`: the circuit synthesized
/// with its matrices every time), or at its fastest (`create_proof_with_reduction_and_matrices`:
/// the matrices kept from setup, the witness synthesized alone, as ours does).
struct Ark<E: ProverPairing> {
    inst: Arc<Instance<E>>,
    matrices: Option<(ConstraintMatrices<Field<E>>, usize, usize)>,
    out: Option<Proof<E>>,
}

impl<E: ProverPairing> Ark<E>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    fn new(inst: Arc<Instance<E>>, keep_matrices: bool) -> Self {
        let matrices = keep_matrices.then(|| {
            let s = synthesize(inst.chain.clone(), SynthesisMode::Setup)
                .expect("the circuit synthesizes");
            let m = s.matrices.expect("setup mode keeps matrices");
            (m, s.num_inputs, s.num_constraints)
        });
        Self {
            inst,
            matrices,
            out: None,
        }
    }
}

impl<E: ProverPairing> Runner for Ark<E>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    fn name(&self) -> String {
        match self.matrices {
            None => "peer:ark-groth16".into(),
            Some(_) => "peer:ark-groth16-matrices".into(),
        }
    }
    fn run(&mut self) {
        let i = &self.inst;
        let proof = match &self.matrices {
            None => Groth16::<E>::create_proof_with_reduction(i.chain.clone(), &i.pk, i.r, i.s),
            Some((m, inputs, constraints)) => {
                let full = synthesize(
                    i.chain.clone(),
                    SynthesisMode::Prove {
                        construct_matrices: false,
                    },
                )
                .expect("the circuit synthesizes")
                .assignment;
                Groth16::<E>::create_proof_with_reduction_and_matrices(
                    &i.pk,
                    i.r,
                    i.s,
                    m,
                    *inputs,
                    *constraints,
                    &full,
                )
            }
        };
        self.out = Some(proof.expect("ark-groth16 proves"));
    }
    fn digest(&self) -> Vec<u8> {
        digest(&self.out)
    }
}

fn pair<E: ProverPairing>(curve: Curve, log_n: u32, compare: bool) -> Vec<Box<dyn Runner>>
where
    Field<E>: ark_crypto_primitives::sponge::Absorb,
{
    let inst = instance::<E>(curve, log_n);
    let mut v: Vec<Box<dyn Runner>> = vec![Box::new(
        Ours::new("cpu", Offload::local(), inst.clone()).expect("the engine loads a key"),
    )];
    if compare {
        v.push(Box::new(Ark::new(inst.clone(), false)));
        v.push(Box::new(Ark::new(inst, true)));
    }
    v
}

/// Ours in process, and ark-groth16 with `compare`. `curve` names G1 of the pairing.
pub fn runners(curve: Curve, log_n: u32, compare: bool) -> Vec<Box<dyn Runner>> {
    match curve {
        Curve::Bls12_381 | Curve::Bls12_381G2 => {
            pair::<ark_bls12_381::Bls12_381>(Curve::Bls12_381, log_n, compare)
        }
        Curve::Bn254 | Curve::Bn254G2 => pair::<ark_bn254::Bn254>(Curve::Bn254, log_n, compare),
    }
}
