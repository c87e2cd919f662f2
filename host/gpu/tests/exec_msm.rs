//! MSM plans run by the host executor, launch for launch as the GPU would, against arkworks:
//! random inputs at several window widths and the edge cases (size 0 and 1, zero scalars,
//! infinity bases, r − 1, equal points in one bucket).

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, UniformRand, Zero};
use offload_gpu::curve::DeviceCurve;
use offload_gpu::exec::{Executor, Host};
use offload_gpu::plan;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Bases and scalars of one case.
type Case<C> = (Vec<Affine<C>>, Vec<<C as ark_ec::CurveConfig>::ScalarField>);

fn run<C: DeviceCurve>(bases: &[Affine<C>], scalars: &[C::ScalarField], c: u32) -> Projective<C>
where
    C::ScalarField: PrimeField<BigInt = ark_ff::BigInt<4>>,
{
    let limbs: Vec<[u64; 4]> = scalars.iter().map(|s| s.into_bigint().0).collect();
    let mut p = plan::msm(bases, &limbs, c);
    Host::default().execute(&mut p).unwrap();
    C::from_xyzz(&p.buffers[p.result]).expect("a point of the curve")
}

fn check<C: DeviceCurve>(seed: u64)
where
    C::ScalarField: PrimeField<BigInt = ark_ff::BigInt<4>>,
{
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let want = |b: &[Affine<C>], s: &[C::ScalarField]| Projective::<C>::msm(b, s).unwrap();
    for (n, c) in [
        (100usize, None),
        (300, Some(7)),
        (64, Some(3)),
        (1000, None),
    ] {
        let b: Vec<Affine<C>> = (0..n)
            .map(|_| Projective::<C>::rand(&mut rng).into_affine())
            .collect();
        let s: Vec<C::ScalarField> = (0..n).map(|_| C::ScalarField::rand(&mut rng)).collect();
        let c = c.unwrap_or_else(|| plan::window_bits(n));
        assert_eq!(run(&b, &s, c), want(&b, &s), "n {n} c {c}");
    }
    let p = Projective::<C>::rand(&mut rng).into_affine();
    let r1 = -C::ScalarField::from(1u64);
    let z = C::ScalarField::zero();
    let cases: Vec<Case<C>> = vec![
        (vec![], vec![]),
        (vec![p], vec![r1]),
        (vec![p, p], vec![z, z]),
        (
            vec![Affine::<C>::identity(), p],
            vec![r1, C::ScalarField::from(3u64)],
        ),
        (vec![p; 50], vec![C::ScalarField::from(9u64); 50]),
    ];
    for (b, s) in cases {
        assert_eq!(run(&b, &s, 4), want(&b, &s), "{} points", b.len());
    }
}

#[test]
fn bn254_plans_match_arkworks() {
    check::<ark_bn254::g1::Config>(81);
}

#[test]
fn bls12_381_plans_match_arkworks() {
    check::<ark_bls12_381::g1::Config>(82);
}

#[test]
fn a_corrupted_result_is_caught() {
    let mut rng = ChaCha20Rng::seed_from_u64(83);
    let b: Vec<Affine<ark_bn254::g1::Config>> = (0..8)
        .map(|_| ark_bn254::G1Projective::rand(&mut rng).into_affine())
        .collect();
    let s: Vec<[u64; 4]> = (0..8).map(|i| [i + 1, 0, 0, 0]).collect();
    let mut p = plan::msm(&b, &s, 4);
    Host::default().execute(&mut p).unwrap();
    p.buffers[p.result][3] ^= 1;
    assert!(ark_bn254::g1::Config::from_xyzz(&p.buffers[p.result]).is_none());
}
