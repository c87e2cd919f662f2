//! Moving inputs into peer libraries' types, and results into one canonical byte form:
//! affine x ‖ y as little-endian canonical integers (an Fq2 coordinate as c0 ‖ c1), or
//! `[0xff]` for the point at infinity.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::CurveGroup;
use ark_ff::{BigInteger, Field, PrimeField};
use halo2curves::ff::PrimeField as _;
use halo2curves::group::{prime::PrimeCurveAffine, Curve as _};
use std::hash::{Hash, Hasher};

pub const INFINITY: [u8; 1] = [0xff];

pub fn ark_point_digest<C: SWCurveConfig>(p: &Projective<C>) -> Vec<u8> {
    let a = p.into_affine();
    if a.infinity {
        return INFINITY.to_vec();
    }
    [a.x, a.y]
        .iter()
        .flat_map(|c| c.to_base_prime_field_elements())
        .flat_map(|e| e.into_bigint().to_bytes_le())
        .collect()
}

fn le32<F: PrimeField>(f: &F) -> [u8; 32] {
    let mut b = [0u8; 32];
    b.copy_from_slice(&f.into_bigint().to_bytes_le()[..32]);
    b
}

pub fn h2_fq(f: &ark_bn254::Fq) -> halo2curves::bn256::Fq {
    let mut r = <halo2curves::bn256::Fq as halo2curves::ff::PrimeField>::Repr::default();
    r.as_mut().copy_from_slice(&le32(f));
    halo2curves::bn256::Fq::from_repr(r).expect("canonical")
}

pub fn h2_fr(f: &ark_bn254::Fr) -> halo2curves::bn256::Fr {
    let mut r = <halo2curves::bn256::Fr as halo2curves::ff::PrimeField>::Repr::default();
    r.as_mut().copy_from_slice(&le32(f));
    halo2curves::bn256::Fr::from_repr(r).expect("canonical")
}

pub fn h2_point(p: &Affine<ark_bn254::g1::Config>) -> halo2curves::bn256::G1Affine {
    if p.infinity {
        return halo2curves::bn256::G1Affine::identity();
    }
    halo2curves::bn256::G1Affine {
        x: h2_fq(&p.x),
        y: h2_fq(&p.y),
    }
}

pub fn h2_point_digest(p: &halo2curves::bn256::G1) -> Vec<u8> {
    let a = p.to_affine();
    if bool::from(a.is_identity()) {
        return INFINITY.to_vec();
    }
    let mut out = a.x.to_repr().as_ref().to_vec();
    out.extend_from_slice(a.y.to_repr().as_ref());
    out
}

fn h2_fq2(f: &ark_bn254::Fq2) -> halo2curves::bn256::Fq2 {
    halo2curves::bn256::Fq2::new(h2_fq(&f.c0), h2_fq(&f.c1))
}

pub fn h2_g2_point(p: &Affine<ark_bn254::g2::Config>) -> halo2curves::bn256::G2Affine {
    if p.infinity {
        return halo2curves::bn256::G2Affine::identity();
    }
    halo2curves::bn256::G2Affine {
        x: h2_fq2(&p.x),
        y: h2_fq2(&p.y),
    }
}

pub fn h2_g2_point_digest(p: &halo2curves::bn256::G2) -> Vec<u8> {
    let a = p.to_affine();
    if bool::from(a.is_identity()) {
        return INFINITY.to_vec();
    }
    [a.x.c0(), a.x.c1(), a.y.c0(), a.y.c1()]
        .iter()
        .flat_map(|c| c.to_repr().as_ref().to_vec())
        .collect()
}

pub fn blst_point(p: &Affine<ark_bls12_381::g1::Config>) -> blst::blst_p1_affine {
    let mut out = blst::blst_p1_affine::default();
    if p.infinity {
        return out;
    }
    let x = p.x.into_bigint().to_bytes_le();
    let y = p.y.into_bigint().to_bytes_le();
    // SAFETY: 48-byte little-endian inputs, as blst_fp_from_lendian reads.
    unsafe {
        blst::blst_fp_from_lendian(&mut out.x, x.as_ptr());
        blst::blst_fp_from_lendian(&mut out.y, y.as_ptr());
    }
    out
}

pub fn blst_point_digest(p: &blst::blst_p1) -> Vec<u8> {
    let mut a = blst::blst_p1_affine::default();
    let mut x = [0u8; 48];
    let mut y = [0u8; 48];
    // SAFETY: blst writes exactly 48 bytes per coordinate into our buffers.
    unsafe {
        blst::blst_p1_to_affine(&mut a, p);
        if blst::blst_p1_affine_is_inf(&a) {
            return INFINITY.to_vec();
        }
        blst::blst_lendian_from_fp(x.as_mut_ptr(), &a.x);
        blst::blst_lendian_from_fp(y.as_mut_ptr(), &a.y);
    }
    let mut out = x.to_vec();
    out.extend_from_slice(&y);
    out
}

/// BLS12-381 G2 in blst's form, by the zcash serialization both libraries read.
pub fn blst_p2(p: &Affine<ark_bls12_381::g2::Config>) -> blst::blst_p2_affine {
    use ark_serialize::CanonicalSerialize;
    let mut bytes = Vec::new();
    p.serialize_uncompressed(&mut bytes)
        .expect("a point serializes");
    let mut out = blst::blst_p2_affine::default();
    // SAFETY: 192 bytes of zcash-format uncompressed G2, as blst_p2_deserialize reads.
    let r = unsafe { blst::blst_p2_deserialize(&mut out, bytes.as_ptr()) };
    assert_eq!(r, blst::BLST_ERROR::BLST_SUCCESS);
    out
}

/// blst's G2 result back in arkworks' form (by the zcash serialization).
pub fn blst_p2_result(p: &blst::blst_p2) -> Projective<ark_bls12_381::g2::Config> {
    use ark_serialize::CanonicalDeserialize;
    let mut a = blst::blst_p2_affine::default();
    let mut out = [0u8; 192];
    // SAFETY: blst writes 192 uncompressed bytes into our buffer.
    unsafe {
        blst::blst_p2_to_affine(&mut a, p);
        blst::blst_p2_affine_serialize(out.as_mut_ptr(), &a);
    }
    Affine::deserialize_uncompressed_unchecked(&out[..])
        .expect("blst's point decodes")
        .into()
}

/// A 64-bit fingerprint of a long output: a mismatch anywhere changes it.
pub fn fingerprint<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in chunks {
        c.hash(&mut h);
    }
    h.finish().to_le_bytes().to_vec()
}

pub fn ark_fields_fingerprint<F: PrimeField>(v: &[F]) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = v.iter().map(|f| f.into_bigint().to_bytes_le()).collect();
    fingerprint(bytes.iter().map(|b| b.as_slice()))
}
