//! G1 arithmetic in XYZZ coordinates (the MSM kernels' points), compiled for the host, against
//! arkworks' group law on BN254 and BLS12-381, including the cases the formulas do not cover.

mod common;

use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{AdditiveGroup, PrimeField, UniformRand, Zero};
use common::{from_mont_words, mont_words};
use offload_kernels::host;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

type Check = unsafe extern "C" fn(*const u32, *const u32, *mut u32);

fn affine_words<A: AffineRepr>(p: A) -> Vec<u32>
where
    A::BaseField: PrimeField,
{
    match p.xy() {
        None => {
            let n = A::BaseField::zero();
            [mont_words(n), mont_words(n)].concat()
        }
        Some((x, y)) => [mont_words(x), mont_words(y)].concat(),
    }
}

/// An XYZZ point from the device back to affine (None: infinity).
fn from_xyzz<F: PrimeField>(w: &[u32], n: usize) -> Option<(F, F)> {
    let c = |k: usize| from_mont_words::<F>(&w[k * n..(k + 1) * n]);
    let (x, y, zz, zzz) = (c(0), c(1), c(2), c(3));
    if zz.is_zero() {
        return None;
    }
    Some((x * zz.inverse()?, y * zzz.inverse()?))
}

fn check<A: AffineRepr>(f: Check, seed: u64)
where
    A::BaseField: PrimeField,
{
    let n = <A::BaseField as PrimeField>::MODULUS.as_ref().len() * 2;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut cases: Vec<(A, A)> = Vec::new();
    for _ in 0..40 {
        let p = A::Group::rand(&mut rng).into_affine();
        let q = A::Group::rand(&mut rng).into_affine();
        cases.push((p, q));
    }
    let p = A::Group::rand(&mut rng).into_affine();
    // Equal points (the doubling case), opposite points, infinity on either side.
    cases.extend([
        (p, p),
        (p, (-p.into_group()).into_affine()),
        (A::zero(), p),
        (p, A::zero()),
        (A::zero(), A::zero()),
        // 2p + q with q = −2p: infinity from the affine addition.
        (p, (-(p.into_group().double())).into_affine()),
        // 2p + 2q with q = p: the full addition's doubling case.
        (p, p),
    ]);
    for (p, q) in cases {
        let mut out = vec![0u32; 16 * n];
        let (wp, wq) = (affine_words(p), affine_words(q));
        // SAFETY: two affine points of 2n words in, four XYZZ points of 4n words out.
        unsafe { f(wp.as_ptr(), wq.as_ptr(), out.as_mut_ptr()) };
        let (pg, qg) = (p.into_group(), q.into_group());
        let want = [
            pg + qg,
            pg.double() + qg,
            pg.double() + qg.double(),
            pg.double().double(),
        ];
        for (k, w) in want.iter().enumerate() {
            let got = from_xyzz::<A::BaseField>(&out[k * 4 * n..(k + 1) * 4 * n], n);
            let w = w.into_affine();
            assert_eq!(got, w.xy(), "case {k} for p = {p}, q = {q}");
        }
    }
}

#[test]
fn bn254_g1_matches_arkworks() {
    check::<ark_bn254::G1Affine>(host::offload_check_g1_bn254, 41);
}

#[test]
fn bls12_381_g1_matches_arkworks() {
    check::<ark_bls12_381::G1Affine>(host::offload_check_g1_bls12_381, 42);
}
