//! MSM against arkworks' `VariableBaseMSM` and a naive double-and-add sum, on both curves,
//! with fixed seeds and every edge case of the issue.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInteger, Field, One, PrimeField, UniformRand, Zero};
use offload_engine::cancel::Cancel;
use offload_engine::msm::{self, FixedBaseTable, MsmCurve, MsmError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Bn = ark_bn254::g1::Config;
/// The BIP340 batch equation's curve.
type Secp = offload_engine::msm::secp256k1::Config;
type Bls = ark_bls12_381::g1::Config;
/// G2 over Fq2 (Groth16's B term): the IFMA lanes two to a coordinate where the CPU has them.
type Bn2 = ark_bn254::g2::Config;
type Bls2 = ark_bls12_381::g2::Config;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn random_bases<C: MsmCurve>(n: usize, r: &mut ChaCha20Rng) -> Vec<Affine<C>> {
    // Random multiples of the generator, one batch normalisation: fast and in the subgroup.
    let g = Projective::<C>::generator();
    let pts: Vec<Projective<C>> = (0..n).map(|_| g * C::ScalarField::rand(r)).collect();
    Projective::normalize_batch(&pts)
}

fn random_scalars<C: MsmCurve>(n: usize, r: &mut ChaCha20Rng) -> Vec<C::ScalarField> {
    (0..n).map(|_| C::ScalarField::rand(r)).collect()
}

/// Σ kᵢ·Pᵢ by plain double-and-add over the scalar's bits: independent of every trick.
fn naive<C: MsmCurve>(bases: &[Affine<C>], scalars: &[C::ScalarField]) -> Projective<C> {
    let mut acc = Projective::<C>::zero();
    for (p, k) in bases.iter().zip(scalars) {
        let mut term = Projective::<C>::zero();
        for bit in k.into_bigint().to_bits_be() {
            term = term + term;
            if bit {
                term += p;
            }
        }
        acc += term;
    }
    acc
}

fn ark<C: MsmCurve>(bases: &[Affine<C>], scalars: &[C::ScalarField]) -> Projective<C> {
    Projective::<C>::msm(bases, scalars).expect("lengths match")
}

fn check_random<C: MsmCurve>(seed: u64) {
    let mut r = rng(seed);
    for n in [1usize, 2, 3, 7, 64, 255, 1000, 5000] {
        let bases = random_bases::<C>(n, &mut r);
        let scalars = random_scalars::<C>(n, &mut r);
        let ours = msm::msm(&bases, &scalars).unwrap();
        assert_eq!(ours, ark(&bases, &scalars), "{} n={n} vs arkworks", C::NAME);
        if n <= 64 {
            assert_eq!(ours, naive(&bases, &scalars), "{} n={n} vs naive", C::NAME);
        }
    }
}

#[test]
fn random_bn254() {
    check_random::<Bn>(1);
}

#[test]
fn random_bls12_381() {
    check_random::<Bls>(2);
}

#[test]
fn random_g2() {
    check_random::<Bn2>(21);
    check_random::<Bls2>(22);
}

#[test]
fn random_secp256k1() {
    check_random::<Secp>(12);
}

#[test]
fn larger_sizes_use_several_window_widths() {
    let mut r = rng(3);
    for log_n in [12u32, 15] {
        let n = (1 << log_n) + 17;
        let bases = random_bases::<Bn>(n, &mut r);
        let scalars = random_scalars::<Bn>(n, &mut r);
        assert_eq!(
            msm::msm(&bases, &scalars).unwrap(),
            ark(&bases, &scalars),
            "n={n}"
        );
    }
    let bases = random_bases::<Bls>(1 << 13, &mut r);
    let scalars = random_scalars::<Bls>(1 << 13, &mut r);
    assert_eq!(msm::msm(&bases, &scalars).unwrap(), ark(&bases, &scalars));
}

fn check_edges<C: MsmCurve>(seed: u64) {
    let mut r = rng(seed);
    // n = 0: the identity.
    assert!(msm::msm::<C>(&[], &[]).unwrap().is_zero());
    // n = 1, including scalar r − 1 (= −1) and 0.
    let p = random_bases::<C>(1, &mut r);
    let minus_one = -C::ScalarField::one();
    assert_eq!(msm::msm(&p, &[minus_one]).unwrap(), -Projective::from(p[0]));
    assert!(msm::msm(&p, &[C::ScalarField::zero()]).unwrap().is_zero());
    assert_eq!(
        msm::msm(&p, &[C::ScalarField::one()]).unwrap(),
        Projective::from(p[0])
    );

    // Bases at infinity and zero scalars mixed into random data.
    let n = 3000;
    let mut bases = random_bases::<C>(n, &mut r);
    let mut scalars = random_scalars::<C>(n, &mut r);
    for i in (0..n).step_by(7) {
        bases[i] = Affine::identity();
    }
    for i in (0..n).step_by(5) {
        scalars[i] = C::ScalarField::zero();
    }
    for i in (0..n).step_by(11) {
        scalars[i] = minus_one;
    }
    assert_eq!(msm::msm(&bases, &scalars).unwrap(), ark(&bases, &scalars));

    // All bases at infinity; all scalars zero.
    let inf = vec![Affine::<C>::identity(); 100];
    assert!(msm::msm(&inf, &random_scalars::<C>(100, &mut r))
        .unwrap()
        .is_zero());
    let some = random_bases::<C>(100, &mut r);
    assert!(msm::msm(&some, &[C::ScalarField::zero(); 100])
        .unwrap()
        .is_zero());

    // Thousands of copies of one base with one scalar: every bucket addition is a doubling.
    let base = random_bases::<C>(1, &mut r)[0];
    let k = C::ScalarField::rand(&mut r);
    let copies = 5000;
    let expect = Projective::from(base) * (k * C::ScalarField::from(copies as u64));
    assert_eq!(
        msm::msm(&vec![base; copies], &vec![k; copies]).unwrap(),
        expect
    );
    // P and −P with equal scalars cancel inside buckets.
    let mut pm = vec![base; copies];
    for q in pm.iter_mut().skip(1).step_by(2) {
        *q = -*q;
    }
    assert!(msm::msm(&pm, &vec![k; copies]).unwrap().is_zero());
    // One base with scalars k and −k, and small scalars that land in low buckets only.
    let small: Vec<C::ScalarField> = (0..copies)
        .map(|i| C::ScalarField::from((i % 3) as u64))
        .collect();
    assert_eq!(
        msm::msm(&vec![base; copies], &small).unwrap(),
        ark(&vec![base; copies], &small)
    );

    // Lengths differ: an error naming both, never truncation.
    let err = msm::msm(&bases[..10], &scalars[..9]).unwrap_err();
    assert_eq!(
        err,
        MsmError::LengthMismatch {
            set: 0,
            bases: 10,
            scalars: 9
        }
    );
}

#[test]
fn edges_bn254() {
    check_edges::<Bn>(4);
}

#[test]
fn edges_bls12_381() {
    check_edges::<Bls>(5);
}

#[test]
fn edges_g2() {
    check_edges::<Bn2>(23);
    check_edges::<Bls2>(24);
}

#[test]
fn edges_secp256k1() {
    check_edges::<Secp>(13);
}

#[test]
fn glv_decomposition_recombines_and_stays_short() {
    fn check<C: MsmCurve>(seed: u64) {
        let params = C::glv_params();
        let lambda = C::LAMBDA;
        let mut r = rng(seed);
        let mut ks: Vec<C::ScalarField> = (0..2000).map(|_| C::ScalarField::rand(&mut r)).collect();
        ks.extend([
            C::ScalarField::zero(),
            C::ScalarField::one(),
            -C::ScalarField::one(),
            lambda,
            -lambda,
        ]);
        for k in ks {
            let (k1, k2) = params.decompose(&k);
            let to_f = |h: &msm::glv::HalfScalar| {
                let mut v = C::ScalarField::zero();
                for limb in h.mag.iter().rev() {
                    v = v * C::ScalarField::from(2u64).pow([64]) + C::ScalarField::from(*limb);
                }
                if h.neg {
                    -v
                } else {
                    v
                }
            };
            assert_eq!(to_f(&k1) + lambda * to_f(&k2), k, "{}", C::NAME);
            assert!(k1.bits() <= params.max_bits && k2.bits() <= params.max_bits);
            assert!(
                k1.bits() <= 130 && k2.bits() <= 130,
                "{} half scalars too long",
                C::NAME
            );
        }
        // λ·P = φ(P): the pairing of k2 with the endomorphism image.
        let p = random_bases::<C>(1, &mut r)[0];
        assert_eq!(
            Projective::from(p) * lambda,
            Projective::from(msm::endomorphism(&p))
        );
    }
    check::<Bn>(6);
    check::<Bls>(7);
    check::<Secp>(14);
    check::<Bn2>(25);
    check::<Bls2>(26);
}

#[test]
fn batch_form_equals_separate_calls() {
    let mut r = rng(8);
    let n = 2000;
    let bases = random_bases::<Bn>(n, &mut r);
    let sets: Vec<Vec<_>> = (0..4).map(|_| random_scalars::<Bn>(n, &mut r)).collect();
    let batch = msm::msm_batch(&bases, &sets).unwrap();
    for (s, got) in sets.iter().zip(&batch) {
        assert_eq!(*got, ark(&bases, s));
    }
    let bad = vec![sets[0].clone(), sets[1][..n - 1].to_vec()];
    assert_eq!(
        msm::msm_batch(&bases, &bad).unwrap_err(),
        MsmError::LengthMismatch {
            set: 1,
            bases: n,
            scalars: n - 1
        }
    );
    assert!(msm::msm_batch::<Bn, ark_bn254::Fr, Vec<_>>(&bases, &[])
        .unwrap()
        .is_empty());
}

fn check_fixed<C: MsmCurve>(seed: u64) {
    let mut r = rng(seed);
    let n = 3000;
    let mut bases = random_bases::<C>(n, &mut r);
    bases[5] = Affine::identity();
    let block = 2 * n * std::mem::size_of::<Affine<C>>();
    // Budgets from "bases only" to "every window": each shape must give the same answers.
    for budget in [0usize, 3 * block, 7 * block, usize::MAX / 2] {
        let table = FixedBaseTable::new(&bases, budget);
        let (_, windows, shifts) = table.shape();
        assert!(shifts >= 1 && shifts <= windows);
        assert!(budget == 0 || table.memory_bytes() <= budget.max(block));
        let sets: Vec<Vec<C::ScalarField>> = (0..3)
            .map(|i| {
                let mut s = random_scalars::<C>(n, &mut r);
                s[i] = -C::ScalarField::one();
                s[i + 1] = C::ScalarField::zero();
                s
            })
            .collect();
        let got = table.msm_batch(&sets).unwrap();
        for (s, g) in sets.iter().zip(&got) {
            assert_eq!(*g, ark(&bases, s), "{} budget {budget}", C::NAME);
        }
        assert!(table.msm(&sets[0][..n - 1]).is_err());
    }
    let empty = FixedBaseTable::<C>::new(&[], 1 << 20);
    assert!(empty.msm(&[]).unwrap().is_zero());
    let one = FixedBaseTable::new(&bases[..1], 1 << 20);
    let k = C::ScalarField::rand(&mut r);
    assert_eq!(one.msm(&[k]).unwrap(), Projective::from(bases[0]) * k);
}

#[test]
fn fixed_bases_bn254() {
    check_fixed::<Bn>(9);
}

#[test]
fn fixed_bases_bls12_381() {
    check_fixed::<Bls>(10);
}

#[test]
fn fixed_bases_g2() {
    check_fixed::<Bn2>(27);
    check_fixed::<Bls2>(28);
}

#[test]
fn property_random_small_msms() {
    // Many tiny MSMs with adversarially small scalars and repeated bases (fixed seed).
    let mut r = rng(11);
    for _ in 0..200 {
        let n = r.gen_range(1..40);
        let pool = random_bases::<Bn>(3, &mut r);
        let bases: Vec<_> = (0..n).map(|_| pool[r.gen_range(0..3)]).collect();
        let scalars: Vec<_> = (0..n)
            .map(|_| match r.gen_range(0..4) {
                0 => ark_bn254::Fr::from(r.gen_range(0..4u64)),
                1 => -ark_bn254::Fr::from(r.gen_range(0..4u64)),
                _ => ark_bn254::Fr::rand(&mut r),
            })
            .collect();
        assert_eq!(msm::msm(&bases, &scalars).unwrap(), naive(&bases, &scalars));
    }
    let _ = (Projective::<Bls>::generator() * ark_bls12_381::Fr::one()).into_affine();
}

#[test]
fn portable_and_fastest_arithmetic_agree() {
    // On a CPU with AVX-512 IFMA the default path is vectorised; the portable path must give the
    // same answers, and both must equal arkworks.
    use offload_engine::msm::Arithmetic;
    fn check<C: MsmCurve>(seed: u64) {
        let mut r = rng(seed);
        let n = 1 << 12;
        let mut bases = random_bases::<C>(n, &mut r);
        bases[3] = Affine::identity();
        bases[4] = bases[5];
        bases[6] = -bases[7];
        let sets: Vec<Vec<C::ScalarField>> =
            (0..2).map(|_| random_scalars::<C>(n, &mut r)).collect();
        let fast = msm::msm_batch_using(Arithmetic::Fastest, &bases, &sets).unwrap();
        let portable = msm::msm_batch_using(Arithmetic::Portable, &bases, &sets).unwrap();
        assert_eq!(fast, portable, "{}", C::NAME);
        assert_eq!(fast[0], ark(&bases, &sets[0]));
        for arith in [Arithmetic::Fastest, Arithmetic::Portable] {
            let t = FixedBaseTable::new_using(arith, &bases, 1 << 24);
            assert_eq!(
                t.msm_batch(&sets).unwrap(),
                fast,
                "{} fixed {arith:?}",
                C::NAME
            );
        }
        let copies = vec![bases[9]; 3000];
        let k = vec![C::ScalarField::from(5u64); 3000];
        assert_eq!(
            msm::msm_batch_using(Arithmetic::Portable, &copies, &[&k]).unwrap(),
            msm::msm_batch_using(Arithmetic::Fastest, &copies, &[&k]).unwrap()
        );
    }
    check::<Bn>(12);
    check::<Bls>(13);
    check::<Secp>(15);
    check::<Bn2>(29);
    check::<Bls2>(30);
}

#[test]
fn canonical_scalars_equal_field_scalars() {
    use offload_engine::msm::Canonical;
    fn check<C: MsmCurve>(seed: u64) {
        let mut r = rng(seed);
        let n = 3000;
        let bases = random_bases::<C>(n, &mut r);
        let s = random_scalars::<C>(n, &mut r);
        let c: Vec<Canonical<C::ScalarField>> = s.iter().map(Canonical::from_field).collect();
        assert!(c.iter().zip(&s).all(|(c, s)| c.to_field() == *s));
        let want = msm::msm_batch(&bases, &[&s]).unwrap();
        assert_eq!(msm::msm_batch(&bases, &[&c]).unwrap(), want, "{}", C::NAME);
        let t = FixedBaseTable::new(&bases, 1 << 24);
        assert_eq!(t.msm_batch(&[&c]).unwrap(), want, "{} fixed", C::NAME);
        // The modulus itself, and anything above it, is refused.
        let m: [u64; 4] = <C::ScalarField as ark_ff::PrimeField>::MODULUS.0;
        assert!(Canonical::<C::ScalarField>::new(m).is_none());
        assert!(Canonical::<C::ScalarField>::new([u64::MAX; 4]).is_none());
        let mut below = m;
        below[0] -= 1;
        assert!(Canonical::<C::ScalarField>::new(below).is_some());
    }
    check::<Bn>(16);
    check::<Bls>(17);
}

#[test]
fn a_raised_cancel_stops_both_msm_paths() {
    let mut r = rng(41);
    let bases = random_bases::<ark_bn254::g1::Config>(3000, &mut r);
    let s = random_scalars::<ark_bn254::g1::Config>(3000, &mut r);
    let sets = [s.as_slice(), s.as_slice()];
    let table = FixedBaseTable::new(&bases, 1 << 24);
    let live = Cancel::new();
    let want = msm::msm_batch(&bases, &sets).unwrap();
    // A live flag changes nothing.
    for a in [msm::Arithmetic::Fastest, msm::Arithmetic::Portable] {
        assert_eq!(
            msm::msm_batch_cancellable(a, &bases, &sets, &live).unwrap(),
            want
        );
    }
    assert_eq!(table.msm_batch_cancellable(&sets, &live).unwrap(), want);
    live.cancel();
    for a in [msm::Arithmetic::Fastest, msm::Arithmetic::Portable] {
        assert_eq!(
            msm::msm_batch_cancellable(a, &bases, &sets, &live),
            Err(MsmError::Cancelled)
        );
    }
    assert_eq!(
        table.msm_batch_cancellable(&sets, &live),
        Err(MsmError::Cancelled)
    );
}
