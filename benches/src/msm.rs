//! MSM contenders: our engine (plain or with a fixed-base table), arkworks, halo2curves, blst;
//! on G1 and G2.

use crate::convert;
use crate::{Curve, Runner};
use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use offload_engine::msm::{self, FixedBaseTable, MsmCurve};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use std::sync::Arc;

/// Memory the bench lets a fixed-base table use: every window at 2^18 on BN254 fits.
pub const FIXED_BASE_BUDGET: usize = 1 << 30;

/// Seeded random bases (distinct multiples of the generator) and scalars.
pub fn inputs<C: MsmCurve>(n: usize, seed: u64) -> (Vec<Affine<C>>, Vec<C::ScalarField>) {
    let g = Projective::<C>::generator();
    let chunk = 1 << 10;
    let bases: Vec<Affine<C>> = (0..n.div_ceil(chunk))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut r = ChaCha20Rng::seed_from_u64(seed ^ (c as u64) << 20);
            let len = chunk.min(n - c * chunk);
            let pts: Vec<Projective<C>> =
                (0..len).map(|_| g * C::ScalarField::rand(&mut r)).collect();
            Projective::normalize_batch(&pts)
        })
        .collect();
    let mut r = ChaCha20Rng::seed_from_u64(seed.wrapping_add(1));
    let scalars = (0..n).map(|_| C::ScalarField::rand(&mut r)).collect();
    (bases, scalars)
}

struct Ours<C: MsmCurve> {
    bases: Arc<Vec<Affine<C>>>,
    scalars: Arc<Vec<C::ScalarField>>,
    table: Option<FixedBaseTable<C>>,
    out: Projective<C>,
}

impl<C: MsmCurve> Runner for Ours<C> {
    fn name(&self) -> String {
        "cpu".into()
    }
    fn run(&mut self) {
        self.out = match &self.table {
            Some(t) => t.msm(&self.scalars),
            None => msm::msm(&self.bases, &self.scalars),
        }
        .expect("lengths match");
    }
    fn digest(&self) -> Vec<u8> {
        convert::ark_point_digest(&self.out)
    }
}

struct Arkworks<C: MsmCurve> {
    bases: Arc<Vec<Affine<C>>>,
    scalars: Arc<Vec<C::ScalarField>>,
    out: Projective<C>,
}

impl<C: MsmCurve> Runner for Arkworks<C> {
    fn name(&self) -> String {
        "peer:arkworks".into()
    }
    fn run(&mut self) {
        self.out = Projective::<C>::msm(&self.bases, &self.scalars).expect("lengths match");
    }
    fn digest(&self) -> Vec<u8> {
        convert::ark_point_digest(&self.out)
    }
}

struct Halo2 {
    bases: Vec<halo2curves::bn256::G1Affine>,
    scalars: Vec<halo2curves::bn256::Fr>,
    out: halo2curves::bn256::G1,
}

impl Runner for Halo2 {
    fn name(&self) -> String {
        "peer:halo2curves".into()
    }
    fn run(&mut self) {
        self.out = halo2curves::msm::msm_best(&self.scalars, &self.bases);
    }
    fn digest(&self) -> Vec<u8> {
        convert::h2_point_digest(&self.out)
    }
}

struct Blst {
    bases: Vec<blst::blst_p1_affine>,
    scalars: Vec<u8>,
    out: blst::blst_p1,
}

impl Runner for Blst {
    fn name(&self) -> String {
        "peer:blst".into()
    }
    fn run(&mut self) {
        use blst::MultiPoint;
        self.out = self.bases.as_slice().mult(&self.scalars, 255);
    }
    fn digest(&self) -> Vec<u8> {
        convert::blst_point_digest(&self.out)
    }
}

struct Halo2G2 {
    bases: Vec<halo2curves::bn256::G2Affine>,
    scalars: Vec<halo2curves::bn256::Fr>,
    out: halo2curves::bn256::G2,
}

impl Runner for Halo2G2 {
    fn name(&self) -> String {
        "peer:halo2curves".into()
    }
    fn run(&mut self) {
        self.out = halo2curves::msm::msm_best(&self.scalars, &self.bases);
    }
    fn digest(&self) -> Vec<u8> {
        convert::h2_g2_point_digest(&self.out)
    }
}

struct BlstG2 {
    bases: Vec<blst::blst_p2_affine>,
    scalars: Vec<u8>,
    out: blst::blst_p2,
}

impl Runner for BlstG2 {
    fn name(&self) -> String {
        "peer:blst".into()
    }
    fn run(&mut self) {
        use blst::MultiPoint;
        self.out = self.bases.as_slice().mult(&self.scalars, 255);
    }
    fn digest(&self) -> Vec<u8> {
        convert::ark_point_digest(&convert::blst_p2_result(&self.out))
    }
}

fn le_bytes<F: PrimeField>(s: &[F]) -> Vec<u8> {
    s.iter()
        .flat_map(|k| k.into_bigint().to_bytes_le())
        .collect()
}

fn ours<C: MsmCurve>(
    bases: &Arc<Vec<Affine<C>>>,
    scalars: &Arc<Vec<C::ScalarField>>,
    fixed: bool,
) -> Box<dyn Runner> {
    Box::new(Ours {
        bases: bases.clone(),
        scalars: scalars.clone(),
        table: fixed.then(|| FixedBaseTable::new(bases, FIXED_BASE_BUDGET)),
        out: Projective::default(),
    })
}

/// Ours and arkworks on the curve's seeded inputs, and the inputs for any further peer.
#[allow(clippy::type_complexity)]
fn ours_and_arkworks<C: MsmCurve>(
    log_n: u32,
    fixed: bool,
    compare: bool,
) -> (
    Vec<Box<dyn Runner>>,
    Arc<Vec<Affine<C>>>,
    Arc<Vec<C::ScalarField>>,
) {
    let (b, s) = inputs::<C>(1usize << log_n, 0x0ff1_0ad0 + log_n as u64);
    let (b, s) = (Arc::new(b), Arc::new(s));
    let mut v = vec![ours(&b, &s, fixed)];
    if compare {
        v.push(Box::new(Arkworks {
            bases: b.clone(),
            scalars: s.clone(),
            out: Projective::default(),
        }));
    }
    (v, b, s)
}

pub fn runners(curve: Curve, log_n: u32, fixed: bool, compare: bool) -> Vec<Box<dyn Runner>> {
    match curve {
        Curve::Bn254 => {
            let (mut v, b, s) = ours_and_arkworks::<ark_bn254::g1::Config>(log_n, fixed, compare);
            if compare {
                v.push(Box::new(Halo2 {
                    bases: b.par_iter().map(convert::h2_point).collect(),
                    scalars: s.par_iter().map(convert::h2_fr).collect(),
                    out: Default::default(),
                }));
            }
            v
        }
        Curve::Bls12_381 => {
            let (mut v, b, s) =
                ours_and_arkworks::<ark_bls12_381::g1::Config>(log_n, fixed, compare);
            if compare {
                v.push(Box::new(Blst {
                    bases: b.iter().map(convert::blst_point).collect(),
                    scalars: le_bytes(&s),
                    out: Default::default(),
                }));
            }
            v
        }
        Curve::Bn254G2 => {
            let (mut v, b, s) = ours_and_arkworks::<ark_bn254::g2::Config>(log_n, fixed, compare);
            if compare {
                v.push(Box::new(Halo2G2 {
                    bases: b.par_iter().map(convert::h2_g2_point).collect(),
                    scalars: s.par_iter().map(convert::h2_fr).collect(),
                    out: Default::default(),
                }));
            }
            v
        }
        Curve::Bls12_381G2 => {
            let (mut v, b, s) =
                ours_and_arkworks::<ark_bls12_381::g2::Config>(log_n, fixed, compare);
            if compare {
                v.push(Box::new(BlstG2 {
                    bases: b.iter().map(convert::blst_p2).collect(),
                    scalars: le_bytes(&s),
                    out: Default::default(),
                }));
            }
            v
        }
    }
}
