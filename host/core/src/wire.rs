//! The encodings the API documents (offload/v1/offload.proto): points of G1 in arkworks'
//! canonical forms and in the Ethereum precompile forms, and field elements as canonical
//! little-endian integers. Every decode checks what the form promises (canonical coordinates,
//! on the curve, in the subgroup) and says which check failed.

use ark_ec::short_weierstrass::Affine;
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use num_bigint::BigUint;
use offload_engine::msm::MsmCurve;
use p3_field::integers::QuotientMap;
use p3_field::{PrimeField32, PrimeField64};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CurveId {
    Bn254,
    Bls12_381,
}

impl CurveId {
    pub const ALL: [CurveId; 2] = [CurveId::Bn254, CurveId::Bls12_381];
}

impl fmt::Display for CurveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CurveId::Bn254 => "bn254",
            CurveId::Bls12_381 => "bls12-381",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PointEncoding {
    #[default]
    ArkCompressed,
    ArkUncompressed,
    /// EIP-196, BN254 only.
    Eip196,
    /// EIP-2537, BLS12-381 only.
    Eip2537,
}

/// Why a point was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    #[error("{got} bytes, expected {expected}")]
    BadLength { expected: usize, got: usize },
    #[error("coordinate not below the base field modulus, or nonzero padding")]
    NonCanonical,
    #[error("not on the curve")]
    NotOnCurve,
    #[error("not in the prime-order subgroup")]
    NotInSubgroup,
    /// arkworks refused the bytes: a coordinate not below the modulus, bad flag bits, or (in
    /// compressed form) an x with no point on the curve.
    #[error("not a valid point encoding (coordinate not below the modulus, bad flags, or no curve point with this x)")]
    BadEncoding,
    #[error("{encoding:?} is not an encoding of {curve} points")]
    WrongCurve {
        encoding: PointEncoding,
        curve: CurveId,
    },
}

/// A curve the API serves, with its wire forms.
pub trait WireCurve: MsmCurve<BaseField: PrimeField> {
    const ID: CurveId;
    /// The Ethereum precompile form for this curve.
    const ETH: PointEncoding;
    /// Width of one coordinate in the Ethereum form (32 for EIP-196, 64 for EIP-2537).
    const ETH_COORD: usize;
}

impl WireCurve for ark_bn254::g1::Config {
    const ID: CurveId = CurveId::Bn254;
    const ETH: PointEncoding = PointEncoding::Eip196;
    const ETH_COORD: usize = 32;
}

impl WireCurve for ark_bls12_381::g1::Config {
    const ID: CurveId = CurveId::Bls12_381;
    const ETH: PointEncoding = PointEncoding::Eip2537;
    const ETH_COORD: usize = 64;
}

fn base_bytes<C: WireCurve>() -> usize {
    (C::BaseField::MODULUS_BIT_SIZE as usize).div_ceil(8)
}

/// Bytes per point in `enc`.
pub fn point_len<C: WireCurve>(enc: PointEncoding) -> Result<usize, PointError> {
    let fq = base_bytes::<C>();
    match enc {
        PointEncoding::ArkCompressed => Ok(fq),
        PointEncoding::ArkUncompressed => Ok(2 * fq),
        e if e == C::ETH => Ok(2 * C::ETH_COORD),
        e => Err(PointError::WrongCurve {
            encoding: e,
            curve: C::ID,
        }),
    }
}

fn below_modulus<F: PrimeField>(big_endian: &[u8]) -> bool {
    BigUint::from_bytes_be(big_endian) < F::MODULUS.into()
}

/// One point, fully checked.
pub fn decode_point<C: WireCurve>(enc: PointEncoding, b: &[u8]) -> Result<Affine<C>, PointError> {
    let len = point_len::<C>(enc)?;
    if b.len() != len {
        return Err(PointError::BadLength {
            expected: len,
            got: b.len(),
        });
    }
    let fq = base_bytes::<C>();
    let p = match enc {
        PointEncoding::ArkCompressed | PointEncoding::ArkUncompressed => {
            // arkworks' own checks of coordinates and flags (BLS12-381 uses the zcash layout,
            // big-endian with flags in the first byte; BN254 little-endian with flags in the
            // last); the curve and subgroup checks follow, each with its own reason.
            let compress = if enc == PointEncoding::ArkCompressed {
                Compress::Yes
            } else {
                Compress::No
            };
            let p = Affine::<C>::deserialize_with_mode(b, compress, Validate::No)
                .map_err(|_| PointError::BadEncoding)?;
            if !p.is_on_curve() {
                return Err(PointError::NotOnCurve);
            }
            p
        }
        _ => {
            let w = C::ETH_COORD;
            if b.iter().all(|&x| x == 0) {
                return Ok(Affine::<C>::identity());
            }
            let pad = w - fq;
            let (x, y) = (&b[..w], &b[w..]);
            if x[..pad].iter().chain(&y[..pad]).any(|&v| v != 0)
                || !below_modulus::<C::BaseField>(&x[pad..])
                || !below_modulus::<C::BaseField>(&y[pad..])
            {
                return Err(PointError::NonCanonical);
            }
            let p = Affine::<C>::new_unchecked(
                C::BaseField::from_be_bytes_mod_order(&x[pad..]),
                C::BaseField::from_be_bytes_mod_order(&y[pad..]),
            );
            if !p.is_on_curve() {
                return Err(PointError::NotOnCurve);
            }
            p
        }
    };
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(PointError::NotInSubgroup);
    }
    Ok(p)
}

/// Append one point in `enc`.
pub fn encode_point<C: WireCurve>(
    enc: PointEncoding,
    p: &Affine<C>,
    out: &mut Vec<u8>,
) -> Result<(), PointError> {
    point_len::<C>(enc)?;
    match enc {
        PointEncoding::ArkCompressed | PointEncoding::ArkUncompressed => {
            let compress = if enc == PointEncoding::ArkCompressed {
                Compress::Yes
            } else {
                Compress::No
            };
            // Writing into a Vec cannot fail.
            let _ = p.serialize_with_mode(&mut *out, compress);
        }
        _ => {
            let w = C::ETH_COORD;
            let fq = base_bytes::<C>();
            match p.xy() {
                None => out.extend(std::iter::repeat_n(0u8, 2 * w)),
                Some((x, y)) => {
                    for c in [x, y] {
                        out.extend(std::iter::repeat_n(0u8, w - fq));
                        let be = c.into_bigint().to_bytes_be();
                        out.extend_from_slice(&be[be.len() - fq..]);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Points packed back to back; the error names the index.
pub fn decode_points<C: WireCurve>(
    enc: PointEncoding,
    packed: &[u8],
) -> Result<Vec<Affine<C>>, (usize, PointError)> {
    use rayon::prelude::*;
    let len = point_len::<C>(enc).map_err(|e| (0, e))?;
    if !packed.len().is_multiple_of(len) {
        return Err((
            packed.len() / len,
            PointError::BadLength {
                expected: len,
                got: packed.len() % len,
            },
        ));
    }
    packed
        .par_chunks(len)
        .with_min_len(256)
        .enumerate()
        .map(|(i, c)| decode_point::<C>(enc, c).map_err(|e| (i, e)))
        .collect()
}

/// A field whose elements travel as canonical little-endian integers of a fixed width.
pub trait WireField: Sized + Copy + Send + Sync {
    const BYTES: usize;
    /// `None` when the value is not below the modulus.
    fn decode(le: &[u8]) -> Option<Self>;
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! ark_wire_field {
    ($f:ty) => {
        impl WireField for $f {
            const BYTES: usize = 32;
            fn decode(le: &[u8]) -> Option<Self> {
                let mut limbs = [0u64; 4];
                for (limb, c) in limbs.iter_mut().zip(le.chunks_exact(8)) {
                    *limb = u64::from_le_bytes(std::array::from_fn(|i| c[i]));
                }
                <$f>::from_bigint(ark_ff::BigInt(limbs))
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.into_bigint().to_bytes_le());
            }
        }
    };
}
ark_wire_field!(ark_bn254::Fr);
ark_wire_field!(ark_bls12_381::Fr);

impl WireField for p3_baby_bear::BabyBear {
    const BYTES: usize = 4;
    fn decode(le: &[u8]) -> Option<Self> {
        Self::from_canonical_checked(u32::from_le_bytes(std::array::from_fn(|i| le[i])))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.as_canonical_u32().to_le_bytes());
    }
}

impl WireField for p3_goldilocks::Goldilocks {
    const BYTES: usize = 8;
    fn decode(le: &[u8]) -> Option<Self> {
        Self::from_canonical_checked(u64::from_le_bytes(std::array::from_fn(|i| le[i])))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.as_canonical_u64().to_le_bytes());
    }
}

/// Why a packed vector of field elements was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElementError {
    #[error("{len} bytes is not a whole number of {width}-byte elements")]
    Ragged { len: usize, width: usize },
    #[error("[{index}]: not below the field modulus")]
    NotCanonical { index: usize },
}

/// Elements packed back to back.
pub fn decode_elements<F: WireField>(packed: &[u8]) -> Result<Vec<F>, ElementError> {
    use rayon::prelude::*;
    if !packed.len().is_multiple_of(F::BYTES) {
        return Err(ElementError::Ragged {
            len: packed.len(),
            width: F::BYTES,
        });
    }
    packed
        .par_chunks(F::BYTES)
        .with_min_len(4096)
        .enumerate()
        .map(|(index, c)| F::decode(c).ok_or(ElementError::NotCanonical { index }))
        .collect()
}

/// 32-byte scalars packed back to back, kept canonical (no conversion to Montgomery form).
pub fn decode_canonical<F: PrimeField<BigInt = ark_ff::BigInt<4>>>(
    packed: &[u8],
) -> Result<Vec<offload_engine::msm::Canonical<F>>, ElementError> {
    use rayon::prelude::*;
    if !packed.len().is_multiple_of(32) {
        return Err(ElementError::Ragged {
            len: packed.len(),
            width: 32,
        });
    }
    packed
        .par_chunks(32)
        .with_min_len(4096)
        .enumerate()
        .map(|(index, c)| {
            let limbs =
                std::array::from_fn(|k| u64::from_le_bytes(std::array::from_fn(|i| c[8 * k + i])));
            offload_engine::msm::Canonical::new(limbs).ok_or(ElementError::NotCanonical { index })
        })
        .collect()
}

pub fn encode_elements<F: WireField>(v: &[F]) -> Vec<u8> {
    use rayon::prelude::*;
    let mut out = vec![0u8; v.len() * F::BYTES];
    out.par_chunks_mut(F::BYTES * 1024)
        .zip(v.par_chunks(1024))
        .for_each(|(o, x)| {
            let mut buf = Vec::with_capacity(o.len());
            for e in x {
                e.encode(&mut buf);
            }
            o.copy_from_slice(&buf);
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    type Bn = ark_bn254::g1::Config;
    type Bls = ark_bls12_381::g1::Config;

    fn round_trips<C: WireCurve>(encodings: &[PointEncoding]) {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let mut pts: Vec<Affine<C>> = (0..20)
            .map(|_| {
                (ark_ec::short_weierstrass::Projective::<C>::generator()
                    * C::ScalarField::rand(&mut r))
                .into_affine()
            })
            .collect();
        pts.push(Affine::identity());
        for &enc in encodings {
            let mut b = Vec::new();
            for p in &pts {
                encode_point::<C>(enc, p, &mut b).unwrap();
            }
            assert_eq!(b.len(), pts.len() * point_len::<C>(enc).unwrap());
            assert_eq!(decode_points::<C>(enc, &b).unwrap(), pts, "{enc:?}");
        }
    }

    #[test]
    fn every_encoding_round_trips() {
        use PointEncoding::*;
        round_trips::<Bn>(&[ArkCompressed, ArkUncompressed, Eip196]);
        round_trips::<Bls>(&[ArkCompressed, ArkUncompressed, Eip2537]);
        assert!(point_len::<Bn>(Eip2537).is_err());
        assert!(point_len::<Bls>(Eip196).is_err());
    }

    #[test]
    fn ethereum_forms_of_the_generators() {
        // EIP-196: G1 = (1, 2), 32-byte big-endian coordinates.
        let mut b = Vec::new();
        encode_point::<Bn>(PointEncoding::Eip196, &Affine::generator(), &mut b).unwrap();
        let mut want = [0u8; 64];
        want[31] = 1;
        want[63] = 2;
        assert_eq!(b, want);
        // EIP-2537: 64-byte coordinates, 16 zero bytes then the 48-byte big-endian value.
        let mut b = Vec::new();
        encode_point::<Bls>(PointEncoding::Eip2537, &Affine::generator(), &mut b).unwrap();
        assert_eq!(b.len(), 128);
        assert!(b[..16].iter().all(|&x| x == 0));
        let x = "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
        let hex: String = b[16..64].iter().map(|v| format!("{v:02x}")).collect();
        assert_eq!(hex, x);
        // Nonzero padding, a coordinate ≥ p, a point off the curve.
        let mut pad = b.clone();
        pad[0] = 1;
        assert_eq!(
            decode_point::<Bls>(PointEncoding::Eip2537, &pad),
            Err(PointError::NonCanonical)
        );
        let mut big = [0xffu8; 64];
        big[63] = 2;
        big[..32].fill(0xff);
        assert_eq!(
            decode_point::<Bn>(PointEncoding::Eip196, &big),
            Err(PointError::NonCanonical)
        );
        let mut off = [0u8; 64];
        off[31] = 1;
        off[63] = 3;
        assert_eq!(
            decode_point::<Bn>(PointEncoding::Eip196, &off),
            Err(PointError::NotOnCurve)
        );
        assert_eq!(
            decode_point::<Bn>(PointEncoding::Eip196, &off[..63]),
            Err(PointError::BadLength {
                expected: 64,
                got: 63
            })
        );
    }

    #[test]
    fn field_elements_must_be_canonical() {
        let p = ark_bn254::Fr::MODULUS.to_bytes_le();
        assert_eq!(
            decode_elements::<ark_bn254::Fr>(&[vec![0u8; 32], p].concat()),
            Err(ElementError::NotCanonical { index: 1 })
        );
        assert_eq!(
            decode_elements::<p3_goldilocks::Goldilocks>(&[0u8; 12]),
            Err(ElementError::Ragged { len: 12, width: 8 })
        );
        let order = 0xffff_ffff_0000_0001u64.to_le_bytes();
        assert!(decode_elements::<p3_goldilocks::Goldilocks>(&order).is_err());
        let bb = 0x7800_0001u32.to_le_bytes();
        assert!(decode_elements::<p3_baby_bear::BabyBear>(&bb).is_err());
        let v: Vec<p3_baby_bear::BabyBear> =
            decode_elements(&0x7800_0000u32.to_le_bytes()).unwrap();
        assert_eq!(encode_elements(&v), 0x7800_0000u32.to_le_bytes());
    }
}
