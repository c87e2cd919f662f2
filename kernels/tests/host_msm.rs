//! The MSM kernels' steps (digits, counting sort by bucket, accumulation, segmented
//! reduction, window combination), run on the host over the same grid the GPU launches,
//! against arkworks' MSM: random inputs and the edge cases (size 0 and 1, zero scalars,
//! infinity bases, r − 1, one bucket full of equal points).

mod common;

use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, Field, PrimeField, UniformRand, Zero};
use common::{from_mont_words, mont_words, words};
use offload_kernels::host;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Bases and scalars of one case.
type Case<G> = (
    Vec<<G as CurveGroup>::Affine>,
    Vec<<G as ark_ec::PrimeGroup>::ScalarField>,
);

type Msm = unsafe extern "C" fn(*const u32, *const u32, u32, u32, u32, *mut u32);

/// The emulated kernels' result in affine coordinates (None: infinity).
fn run<G: CurveGroup>(
    f: Msm,
    bases: &[G::Affine],
    scalars: &[G::ScalarField],
    c: u32,
    segments: u32,
) -> Option<(G::BaseField, G::BaseField)>
where
    G::BaseField: PrimeField,
{
    let n = <G::BaseField as PrimeField>::MODULUS.as_ref().len() * 2;
    let b: Vec<u32> = bases
        .iter()
        .flat_map(|p| match p.xy() {
            None => vec![0u32; 2 * n],
            Some((x, y)) => [mont_words(x), mont_words(y)].concat(),
        })
        .collect();
    let s: Vec<u32> = scalars
        .iter()
        .flat_map(|x| {
            let mut w = words(&x.into_bigint().to_bytes_le());
            w.resize(8, 0);
            w
        })
        .collect();
    let mut out = vec![0u32; 4 * n];
    // SAFETY: bases·2n words, scalars·8 words, 4n words out.
    unsafe {
        f(
            b.as_ptr(),
            s.as_ptr(),
            bases.len() as u32,
            c,
            segments,
            out.as_mut_ptr(),
        )
    };
    let part = |k: usize| from_mont_words::<G::BaseField>(&out[k * n..(k + 1) * n]);
    let (x, y, zz, zzz) = (part(0), part(1), part(2), part(3));
    if zz.is_zero() {
        return None;
    }
    Some((x * zz.inverse()?, y * zzz.inverse()?))
}

fn check<G: CurveGroup + VariableBaseMSM>(f: Msm, seed: u64)
where
    G::BaseField: PrimeField,
{
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let want = |b: &[G::Affine], s: &[G::ScalarField]| {
        G::msm(b, s).expect("equal lengths").into_affine().xy()
    };
    // Random inputs across window sizes and segment counts (segments divide 2^(c−1)).
    for &(n, c, seg) in &[
        (200usize, 4u32, 2u32),
        (300, 8, 16),
        (257, 13, 64),
        (64, 2, 1),
    ] {
        let bases: Vec<G::Affine> = (0..n).map(|_| G::rand(&mut rng).into_affine()).collect();
        let scalars: Vec<G::ScalarField> = (0..n).map(|_| G::ScalarField::rand(&mut rng)).collect();
        assert_eq!(
            run::<G>(f, &bases, &scalars, c, seg),
            want(&bases, &scalars),
            "n {n} c {c}"
        );
    }
    let p = G::rand(&mut rng).into_affine();
    let r1 = -G::ScalarField::from(1u64);
    let cases: Vec<Case<G>> = vec![
        (vec![], vec![]),
        (vec![p], vec![G::ScalarField::from(5u64)]),
        (vec![p], vec![r1]),
        (
            vec![p, p],
            vec![G::ScalarField::zero(), G::ScalarField::zero()],
        ),
        (
            vec![G::Affine::zero(), p],
            vec![r1, G::ScalarField::from(3u64)],
        ),
        // Every point in one bucket: equal points meet there (the doubling case).
        (vec![p; 40], vec![G::ScalarField::from(7u64); 40]),
        // p·k + p·(r − k) = infinity.
        (
            vec![p, p],
            vec![G::ScalarField::from(11u64), -G::ScalarField::from(11u64)],
        ),
    ];
    for (b, s) in cases {
        for &(c, seg) in &[(4u32, 4u32), (11, 8)] {
            assert_eq!(
                run::<G>(f, &b, &s, c, seg),
                want(&b, &s),
                "{} points, c {c}",
                b.len()
            );
        }
    }
}

#[test]
fn bn254_msm_matches_arkworks() {
    check::<ark_bn254::G1Projective>(host::offload_check_msm_bn254, 51);
}

#[test]
fn bls12_381_msm_matches_arkworks() {
    check::<ark_bls12_381::G1Projective>(host::offload_check_msm_bls12_381, 52);
}
