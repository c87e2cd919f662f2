//! Points of G1 in arkworks' canonical forms and in the Ethereum precompile forms, as
//! offload.proto defines them. Every decode checks what the form promises (canonical
//! coordinates, on the curve, in the subgroup) and says which check failed.

use crate::ids::{CurveId, Named};
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use num_bigint::BigUint;

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

impl Named for PointEncoding {
    const ALL: &'static [PointEncoding] = &[
        PointEncoding::ArkCompressed,
        PointEncoding::ArkUncompressed,
        PointEncoding::Eip196,
        PointEncoding::Eip2537,
    ];
    fn name(self) -> &'static str {
        match self {
            PointEncoding::ArkCompressed => "ark-compressed",
            PointEncoding::ArkUncompressed => "ark-uncompressed",
            PointEncoding::Eip196 => "eip196",
            PointEncoding::Eip2537 => "eip2537",
        }
    }
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
pub trait WireCurve: SWCurveConfig<BaseField: PrimeField> {
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

/// Bytes per point of the curve named `curve` in `enc`, for a caller that knows the curve by
/// its name only (the CLI reading a file of points).
pub fn curve_point_len(curve: CurveId, enc: PointEncoding) -> Result<usize, PointError> {
    match curve {
        CurveId::Bn254 => point_len::<ark_bn254::g1::Config>(enc),
        CurveId::Bls12_381 => point_len::<ark_bls12_381::g1::Config>(enc),
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

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::short_weierstrass::Affine;
    use ark_ec::{CurveGroup, PrimeGroup};

    #[test]
    fn lengths_by_curve_name_and_encoding_names() {
        let len = |c, e| curve_point_len(c, e).ok();
        assert_eq!(len(CurveId::Bn254, PointEncoding::ArkCompressed), Some(32));
        assert_eq!(len(CurveId::Bn254, PointEncoding::Eip196), Some(64));
        assert_eq!(len(CurveId::Bn254, PointEncoding::Eip2537), None);
        assert_eq!(
            len(CurveId::Bls12_381, PointEncoding::ArkUncompressed),
            Some(96)
        );
        assert_eq!(len(CurveId::Bls12_381, PointEncoding::Eip2537), Some(128));
        assert_eq!(len(CurveId::Bls12_381, PointEncoding::Eip196), None);
        for e in PointEncoding::ALL {
            assert_eq!(PointEncoding::parse(e.name()), Some(*e));
        }
    }
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
}
