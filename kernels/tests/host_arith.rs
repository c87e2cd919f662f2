//! The kernels' field arithmetic, compiled for the host, against arkworks (BN254, BLS12-381)
//! and Plonky3 (BabyBear, Goldilocks): the same source NVRTC compiles for the GPU.

mod common;

use ark_ff::{BigInteger, Field, PrimeField, UniformRand};
use common::{from_mont_words, mont_words, words};
use offload_kernels::host;
use p3_field::{PrimeCharacteristicRing, PrimeField32, PrimeField64};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Check = unsafe extern "C" fn(*const u32, *const u32, *mut u32);

fn check_field<F: PrimeField>(check: Check, seed: u64) {
    let limbs = F::MODULUS.as_ref().len() * 2;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let edges = [
        F::zero(),
        F::one(),
        -F::one(),
        F::from(2u64),
        -F::from(2u64),
    ];
    let mut pairs: Vec<(F, F)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    pairs.extend((0..500).map(|_| (F::rand(&mut rng), F::rand(&mut rng))));
    for (a, b) in pairs {
        let (wa, wb) = (mont_words(a), mont_words(b));
        let mut out = vec![0u32; 6 * limbs];
        // SAFETY: the buffers hold `limbs` words per operand and 6·limbs for the results.
        unsafe { check(wa.as_ptr(), wb.as_ptr(), out.as_mut_ptr()) };
        let o = |k: usize| &out[k * limbs..(k + 1) * limbs];
        assert_eq!(from_mont_words::<F>(o(0)), a + b, "{a} + {b}");
        assert_eq!(from_mont_words::<F>(o(1)), a - b, "{a} - {b}");
        assert_eq!(from_mont_words::<F>(o(2)), a * b, "{a} * {b}");
        assert_eq!(from_mont_words::<F>(o(3)), -a, "-{a}");
        // Reduced representations, limb for limb: what the device stores is canonical.
        assert_eq!(o(0), mont_words(a + b).as_slice());
        assert_eq!(o(2), mont_words(a * b).as_slice());
        // from_canonical(a's canonical limbs) = a in Montgomery form, and back.
        let canon = words(&a.into_bigint().to_bytes_le());
        let mut out2 = vec![0u32; 6 * limbs];
        // SAFETY: as above.
        unsafe { check(canon.as_ptr(), wb.as_ptr(), out2.as_mut_ptr()) };
        assert_eq!(&out2[4 * limbs..5 * limbs], wa.as_slice());
        assert_eq!(&out[5 * limbs..6 * limbs], canon.as_slice());
    }
}

#[test]
fn bn254_fr_matches_arkworks() {
    check_field::<ark_bn254::Fr>(host::offload_check_bn254_fr, 1);
}

#[test]
fn bn254_fq_matches_arkworks() {
    check_field::<ark_bn254::Fq>(host::offload_check_bn254_fq, 2);
}

#[test]
fn bls12_381_fr_matches_arkworks() {
    check_field::<ark_bls12_381::Fr>(host::offload_check_bls12_381_fr, 3);
}

#[test]
fn bls12_381_fq_matches_arkworks() {
    check_field::<ark_bls12_381::Fq>(host::offload_check_bls12_381_fq, 4);
}

#[test]
fn the_montgomery_form_is_arkworks_own() {
    // Device limbs are arkworks' internal limbs: no conversion on upload.
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let x = ark_bn254::Fr::rand(&mut rng);
    let internal: Vec<u32> =
        x.0 .0
            .iter()
            .flat_map(|l| [*l as u32, (*l >> 32) as u32])
            .collect();
    assert_eq!(internal, mont_words(x));
    let y = ark_bls12_381::Fq::rand(&mut rng);
    let internal: Vec<u32> =
        y.0 .0
            .iter()
            .flat_map(|l| [*l as u32, (*l >> 32) as u32])
            .collect();
    assert_eq!(internal, mont_words(y));
}

#[test]
fn pow_matches_arkworks() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    for _ in 0..20 {
        let x = ark_bn254::Fr::rand(&mut rng);
        let e: [u32; 3] = [rng.gen(), rng.gen(), rng.gen()];
        let mut out = [0u32; 8];
        // SAFETY: 8 limbs in and out, 3 exponent words.
        unsafe {
            host::offload_check_bn254_fr_pow(
                mont_words(x).as_ptr(),
                e.as_ptr(),
                3,
                out.as_mut_ptr(),
            )
        };
        let e64 = [e[0] as u64 | (e[1] as u64) << 32, e[2] as u64];
        assert_eq!(from_mont_words::<ark_bn254::Fr>(&out), x.pow(e64));
    }
}

#[test]
fn babybear_matches_plonky3() {
    use p3_baby_bear::BabyBear;
    let p = BabyBear::ORDER_U32;
    let edges = [0, 1, 2, p / 2, p - 2, p - 1];
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut pairs: Vec<(u32, u32)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    pairs.extend((0..5000).map(|_| (rng.gen_range(0..p), rng.gen_range(0..p))));
    for (a, b) in pairs {
        let mut out = [0u32; 3];
        // SAFETY: three results.
        unsafe { host::offload_check_babybear(a, b, out.as_mut_ptr()) };
        let (x, y) = (BabyBear::from_u32(a), BabyBear::from_u32(b));
        let want = [x + y, x - y, x * y].map(|v| v.as_canonical_u32());
        assert_eq!(out, want, "{a}, {b}");
    }
}

#[test]
fn goldilocks_matches_plonky3() {
    use p3_goldilocks::Goldilocks;
    let p = Goldilocks::ORDER_U64;
    let w = 1u64 << 32;
    let edges = [0, 1, 2, w - 1, w, w + 1, p / 2, p - w, p - 2, p - 1];
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let mut pairs: Vec<(u64, u64)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    pairs.extend((0..5000).map(|_| (rng.gen_range(0..p), rng.gen_range(0..p))));
    for (a, b) in pairs {
        let mut out = [0u64; 3];
        // SAFETY: three results.
        unsafe { host::offload_check_goldilocks(a, b, out.as_mut_ptr()) };
        let (x, y) = (Goldilocks::from_u64(a), Goldilocks::from_u64(b));
        let want = [x + y, x - y, x * y].map(|v| v.as_canonical_u64());
        assert_eq!(out, want, "{a}, {b}");
    }
    // The multiply takes any 64-bit operands.
    for (a, b) in [(u64::MAX, u64::MAX), (p, p + 1), (u64::MAX, 2)] {
        let mut out = [0u64; 3];
        // SAFETY: three results.
        unsafe { host::offload_check_goldilocks(a, b, out.as_mut_ptr()) };
        assert_eq!(out[2], ((a as u128 * b as u128) % p as u128) as u64);
    }
}
