//! Criterion: MSM on G2 (Groth16's B term), ours against arkworks (both curves) and blst
//! (BLS12-381), each answer checked equal to ours before it is timed.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, UniformRand};
use ark_serialize::CanonicalSerialize;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
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

/// BLS12-381 G2 in blst's form, by the zcash serialization both libraries read.
fn to_blst(p: &Affine<Bls2>) -> blst::blst_p2_affine {
    let mut bytes = Vec::new();
    p.serialize_uncompressed(&mut bytes)
        .expect("a point serializes");
    let mut out = blst::blst_p2_affine::default();
    // SAFETY: 192 bytes of zcash-format uncompressed G2, as blst_p2_deserialize reads.
    let r = unsafe { blst::blst_p2_deserialize(&mut out, bytes.as_ptr()) };
    assert_eq!(r, blst::BLST_ERROR::BLST_SUCCESS);
    out
}

fn from_blst(p: &blst::blst_p2) -> Vec<u8> {
    let mut a = blst::blst_p2_affine::default();
    let mut out = [0u8; 96];
    // SAFETY: blst writes 96 compressed bytes into our buffer.
    unsafe {
        blst::blst_p2_to_affine(&mut a, p);
        blst::blst_p2_affine_compress(out.as_mut_ptr(), &a);
    }
    out.to_vec()
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
    let points: Vec<blst::blst_p2_affine> = bases.iter().map(to_blst).collect();
    let bytes: Vec<u8> = scalars
        .iter()
        .flat_map(|k| k.into_bigint().to_bytes_le())
        .collect();
    Box::new(move || from_blst(&points.as_slice().mult(&bytes, 255)))
}

fn msm_g2(c: &mut Criterion) {
    g2::<Bn2>(c, None);
    g2::<Bls2>(c, Some(blst_runner));
}

criterion_group!(benches, msm_g2);
criterion_main!(benches);
