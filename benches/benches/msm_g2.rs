//! Criterion: MSM on G2 (Groth16's B term), ours against arkworks (both curves) and blst
//! (BLS12-381), each answer checked equal to ours before it is timed.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_serialize::CanonicalSerialize;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offload_benches::convert;
use offload_engine::msm::{self, MsmCurve};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

type Bn2 = ark_bn254::g2::Config;
type Bls2 = ark_bls12_381::g2::Config;

fn inputs<C: MsmCurve>(n: usize) -> (Vec<Affine<C>>, Vec<C::ScalarField>) {
    let mut r = ChaCha20Rng::seed_from_u64(n as u64);
    let g = Projective::<C>::generator();
    // Multiples of a few random points: the bench times the MSM, not the setup.
    let seeds: Vec<Projective<C>> = (0..64).map(|_| g * C::ScalarField::rand(&mut r)).collect();
    let pts: Vec<Projective<C>> = (0..n)
        .map(|i| seeds[i % 64] * C::ScalarField::from(i as u64 + 1))
        .collect();
    let scalars = (0..n).map(|_| C::ScalarField::rand(&mut r)).collect();
    (Projective::normalize_batch(&pts), scalars)
}

fn compressed<C: MsmCurve>(p: &Projective<C>) -> Vec<u8> {
    let mut v = Vec::new();
    p.into_affine()
        .serialize_compressed(&mut v)
        .expect("a point serializes");
    v
}

/// A peer's MSM over given inputs, answering the compressed point.
type Peer = Box<dyn FnMut() -> Vec<u8>>;
type MakePeer<C> = fn(&[Affine<C>], &[<C as ark_ec::CurveConfig>::ScalarField]) -> Peer;

fn g2<C: MsmCurve>(c: &mut Criterion, with_blst: Option<MakePeer<C>>) {
    for log_n in [12u32, 16] {
        let n = 1usize << log_n;
        let (bases, scalars) = inputs::<C>(n);
        let ours = || msm::msm(&bases, &scalars).expect("lengths match");
        let want = ours();
        assert_eq!(Projective::<C>::msm(&bases, &scalars).ok(), Some(want));
        let mut group = c.benchmark_group(format!("msm-g2/{}", C::NAME));
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("ours", n), |b| b.iter(ours));
        group.bench_function(BenchmarkId::new("peer:arkworks", n), |b| {
            b.iter(|| Projective::<C>::msm(&bases, &scalars))
        });
        if let Some(make) = with_blst {
            let mut run = make(&bases, &scalars);
            assert_eq!(run(), compressed(&want), "blst agrees");
            group.bench_function(BenchmarkId::new("peer:blst", n), |b| b.iter(&mut run));
        }
        group.finish();
    }
}

fn blst_runner(bases: &[Affine<Bls2>], scalars: &[ark_bls12_381::Fr]) -> Peer {
    use blst::MultiPoint;
    let points: Vec<blst::blst_p2_affine> = bases.iter().map(convert::blst_p2).collect();
    let bytes: Vec<u8> = scalars
        .iter()
        .flat_map(|k| k.into_bigint().to_bytes_le())
        .collect();
    Box::new(move || {
        compressed(&convert::blst_p2_result(
            &points.as_slice().mult(&bytes, 255),
        ))
    })
}

fn msm_g2(c: &mut Criterion) {
    g2::<Bn2>(c, None);
    g2::<Bls2>(c, Some(blst_runner));
}

criterion_group!(benches, msm_g2);
criterion_main!(benches);
