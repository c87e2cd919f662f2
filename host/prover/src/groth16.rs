//! Groth16 through Offload with ark-groth16's keys and proofs. The proving key's five query
//! vectors are loaded once ([`LoadedKey`]); a proof runs the witness reduction's seven FFTs
//! (three inverse, three on the coset, one inverse on the coset) and every MSM (A, B in G1 and
//! G2, C's H and L terms) through an [`Offload`], and assembles the proof as ark-groth16's
//! `create_proof_with_reduction` does, so that with the same (r, s) the two proofs are equal.

use crate::offload::{Bases, Offload, ProverCurve, ProverField};
use crate::ProverError;
use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::CurveGroup;
use ark_ff::{Field, One, PrimeField, Zero};
use ark_groth16::r1cs_to_qap::evaluate_constraint;
use ark_groth16::{Proof, ProvingKey};
use ark_relations::r1cs::{
    ConstraintMatrices, ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisError,
    SynthesisMode,
};
use offload_engine::ntt::NttConfig;
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// A pairing-friendly curve whose groups Offload serves: its G1 and G2 as the engine and the
/// wire name them (the same arkworks types as the pairing's).
pub trait ProverPairing: Pairing<ScalarField: ProverField> {
    type G1C: ProverCurve<ScalarField = Self::ScalarField>;
    type G2C: ProverCurve<ScalarField = Self::ScalarField>;
    fn g1(p: &[Self::G1Affine]) -> &[Affine<Self::G1C>];
    fn g2(p: &[Self::G2Affine]) -> &[Affine<Self::G2C>];
    fn g1_out(p: Projective<Self::G1C>) -> Self::G1;
    fn g2_out(p: Projective<Self::G2C>) -> Self::G2;
}

macro_rules! prover_pairing {
    ($e:ty, $c:ident) => {
        impl ProverPairing for $e {
            type G1C = $c::g1::Config;
            type G2C = $c::g2::Config;
            fn g1(p: &[Self::G1Affine]) -> &[Affine<Self::G1C>] {
                p
            }
            fn g2(p: &[Self::G2Affine]) -> &[Affine<Self::G2C>] {
                p
            }
            fn g1_out(p: Projective<Self::G1C>) -> Self::G1 {
                p
            }
            fn g2_out(p: Projective<Self::G2C>) -> Self::G2 {
                p
            }
        }
    };
}
prover_pairing!(ark_bn254::Bn254, ark_bn254);
prover_pairing!(ark_bls12_381::Bls12_381, ark_bls12_381);

/// A proving key with its query vectors loaded where the MSMs run, and (once told the
/// circuit) the circuit's constraint matrices, so that a proof synthesizes the witness only.
pub struct LoadedKey<E: ProverPairing> {
    pub pk: ProvingKey<E>,
    a: Bases<E::G1C>,
    b_g1: Bases<E::G1C>,
    b_g2: Bases<E::G2C>,
    h: Bases<E::G1C>,
    l: Bases<E::G1C>,
    shape: Option<Shape<E::ScalarField>>,
}

/// A circuit's constraints, which every proof of it shares.
struct Shape<F: PrimeField> {
    matrices: ConstraintMatrices<F>,
    num_inputs: usize,
    num_constraints: usize,
}

impl<E: ProverPairing> LoadedKey<E> {
    /// Load the key's queries (uploaded to a daemon once, then used by handle).
    pub fn load(offload: &Offload, pk: ProvingKey<E>) -> Result<Self, ProverError> {
        Ok(Self {
            a: offload.load_bases(E::g1(&pk.a_query), "groth16 a_query")?,
            b_g1: offload.load_bases(E::g1(&pk.b_g1_query), "groth16 b_g1_query")?,
            b_g2: offload.load_bases(E::g2(&pk.b_g2_query), "groth16 b_g2_query")?,
            h: offload.load_bases(E::g1(&pk.h_query), "groth16 h_query")?,
            l: offload.load_bases(E::g1(&pk.l_query), "groth16 l_query")?,
            pk,
            shape: None,
        })
    }

    /// Keep the constraint matrices of `circuit` (any assignment, or none: it is synthesized
    /// in setup mode), as ark-groth16's `create_proof_with_reduction_and_matrices` takes them:
    /// proofs of circuits of this shape then synthesize only their witness. A proof of a
    /// circuit whose counts differ from these is refused.
    pub fn with_matrices_of<C: ConstraintSynthesizer<E::ScalarField>>(
        mut self,
        circuit: C,
    ) -> Result<Self, ProverError> {
        let s = synthesize(circuit, SynthesisMode::Setup)?;
        self.shape = Some(Shape {
            matrices: s.matrices.ok_or(SynthesisError::MissingCS)?,
            num_inputs: s.num_inputs,
            num_constraints: s.num_constraints,
        });
        Ok(self)
    }
}

/// A circuit synthesized as ark-groth16's prover does it (fewest constraints), in `mode`.
pub struct Synthesis<F: PrimeField> {
    /// The constraint matrices, unless `mode` left them out.
    pub matrices: Option<ConstraintMatrices<F>>,
    pub num_inputs: usize,
    pub num_constraints: usize,
    /// The instance assignment (its leading one first), then the witness.
    pub assignment: Vec<F>,
}

/// Synthesize `circuit`: `SynthesisMode::Setup` for its matrices, `Prove { construct_matrices:
/// false }` for its assignment alone, `Prove { construct_matrices: true }` for both.
pub fn synthesize<F: PrimeField, C: ConstraintSynthesizer<F>>(
    circuit: C,
    mode: SynthesisMode,
) -> Result<Synthesis<F>, ProverError> {
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(mode);
    circuit.generate_constraints(cs.clone())?;
    cs.finalize();
    let assignment = {
        let inner = cs.borrow().ok_or(SynthesisError::MissingCS)?;
        [
            inner.instance_assignment.as_slice(),
            inner.witness_assignment.as_slice(),
        ]
        .concat()
    };
    Ok(Synthesis {
        matrices: cs.to_matrices(),
        num_inputs: cs.num_instance_variables(),
        num_constraints: cs.num_constraints(),
        assignment,
    })
}

/// A proof of `circuit`'s satisfaction with randomness (r, s), equal to ark-groth16's
/// `create_proof_with_reduction(circuit, pk, r, s)` (libsnark's reduction, its default).
pub fn prove<E: ProverPairing, C: ConstraintSynthesizer<E::ScalarField>>(
    offload: &Offload,
    key: &LoadedKey<E>,
    circuit: C,
    r: E::ScalarField,
    s: E::ScalarField,
) -> Result<Proof<E>, ProverError> {
    prove_timed(offload, key, circuit, r, s).map(|(p, _)| p)
}

/// Where a proof's time went.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phases {
    /// Running the circuit's gadgets and building the constraint matrices (the CPU's, always).
    pub synthesis: Duration,
    /// The constraint rows' values and the seven FFTs.
    pub witness_map: Duration,
    /// The four G1 MSMs and the G2 MSM, and assembling the proof.
    pub msms: Duration,
}

/// [`prove`], with the time of each phase.
pub fn prove_timed<E: ProverPairing, C: ConstraintSynthesizer<E::ScalarField>>(
    offload: &Offload,
    key: &LoadedKey<E>,
    circuit: C,
    r: E::ScalarField,
    s: E::ScalarField,
) -> Result<(Proof<E>, Phases), ProverError> {
    let t0 = Instant::now();
    let construct_matrices = key.shape.is_none();
    let synthesis = synthesize(circuit, SynthesisMode::Prove { construct_matrices })?;
    let (num_inputs, num_constraints) = (synthesis.num_inputs, synthesis.num_constraints);
    let matrices = match (&key.shape, &synthesis.matrices) {
        (Some(shape), _) => {
            if (num_inputs, num_constraints) != (shape.num_inputs, shape.num_constraints) {
                return Err(ProverError::Shape {
                    inputs: num_inputs,
                    constraints: num_constraints,
                    key_inputs: shape.num_inputs,
                    key_constraints: shape.num_constraints,
                });
            }
            &shape.matrices
        }
        (None, Some(built)) => built,
        (None, None) => return Err(SynthesisError::MissingCS.into()),
    };
    let full = &synthesis.assignment;
    let t1 = Instant::now();
    let h = witness_map(offload, matrices, num_inputs, num_constraints, full)?;
    let t2 = Instant::now();
    let proof = assemble(offload, key, r, s, &h, full, num_inputs)?;
    let phases = Phases {
        synthesis: t1 - t0,
        witness_map: t2 - t1,
        msms: t2.elapsed(),
    };
    Ok((proof, phases))
}

/// The QAP witness: the coefficients of h = (a·b − c) / Z over the domain, a, b and c being
/// the constraint rows' values at the assignment (a's also the inputs after the constraints).
pub fn witness_map<F: ProverField + PrimeField>(
    offload: &Offload,
    matrices: &ConstraintMatrices<F>,
    num_inputs: usize,
    num_constraints: usize,
    full: &[F],
) -> Result<Vec<F>, ProverError> {
    let n = (num_constraints + num_inputs).next_power_of_two();
    if n.trailing_zeros() > <F as ark_ff::FftField>::TWO_ADICITY {
        return Err(SynthesisError::PolynomialDegreeTooLarge.into());
    }
    let mut cols = vec![vec![<F as Zero>::zero(); n]; 3];
    {
        let [a, b, c] = cols.as_mut_slice() else {
            unreachable!("three columns")
        };
        a[..num_constraints]
            .par_iter_mut()
            .zip(&mut b[..num_constraints])
            .zip(&mut c[..num_constraints])
            .enumerate()
            .for_each(|(i, ((a, b), c))| {
                *a = evaluate_constraint(&matrices.a[i], full);
                *b = evaluate_constraint(&matrices.b[i], full);
                *c = evaluate_constraint(&matrices.c[i], full);
            });
        a[num_constraints..num_constraints + num_inputs].copy_from_slice(&full[..num_inputs]);
    }
    let g = F::GENERATOR;
    // Coefficients, then values on the coset g·⟨ω⟩, where Z(x) = xⁿ − 1 is nowhere zero.
    offload.fft(&NttConfig::inverse(), &mut cols)?;
    offload.fft(&NttConfig::forward().coset(g), &mut cols)?;
    let z_inv = (Field::pow(&g, [n as u64]) - <F as One>::one())
        .inverse()
        .ok_or(SynthesisError::UnexpectedIdentity)?;
    let [a, b, c] = <[Vec<F>; 3]>::try_from(cols).map_err(|_| ProverError::Length {
        what: "columns",
        got: 0,
        want: 3,
    })?;
    let mut h = a;
    h.par_iter_mut()
        .zip(&b)
        .zip(&c)
        .for_each(|((h, b), c)| *h = (*h * b - c) * z_inv);
    let mut cols = vec![h];
    offload.fft(&NttConfig::inverse().coset(g), &mut cols)?;
    Ok(cols.pop().unwrap_or_default())
}

fn assemble<E: ProverPairing>(
    offload: &Offload,
    key: &LoadedKey<E>,
    r: E::ScalarField,
    s: E::ScalarField,
    h: &[E::ScalarField],
    full: &[E::ScalarField],
    num_inputs: usize,
) -> Result<Proof<E>, ProverError> {
    let pk = &key.pk;
    // h has one coefficient more than the key's powers (its top one is zero), as in
    // ark-groth16, whose MSM takes the shorter length.
    let h_used = h.get(..key.h.len()).ok_or(ProverError::Length {
        what: "h coefficients",
        got: h.len(),
        want: key.h.len(),
    })?;
    let h_acc = E::g1_out(offload.msm(&key.h, h_used)?);
    let l_acc = E::g1_out(offload.msm(&key.l, &full[num_inputs..])?);
    // A and B over the whole assignment, whose leading one picks up query[0].
    let a_acc = E::g1_out(offload.msm(&key.a, full)?);
    let g_a = pk.delta_g1 * r + a_acc + pk.vk.alpha_g1;
    let g1_b = if r.is_zero() {
        E::G1::zero()
    } else {
        pk.delta_g1 * s + E::g1_out(offload.msm(&key.b_g1, full)?) + pk.beta_g1
    };
    let g2_b = pk.vk.delta_g2 * s + E::g2_out(offload.msm(&key.b_g2, full)?) + pk.vk.beta_g2;
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_acc + h_acc;
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}
