//! Points of G1 and G2 in arkworks' canonical forms and in the Ethereum precompile forms, as
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
    /// EIP-196 (G1) and EIP-197 (G2), BN254 only.
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

/// A coordinate as the Ethereum precompiles write it: `WORDS` prime-field words, each
/// big-endian and left-padded to the form's word width.
pub trait EthCoord: Sized {
    /// Prime-field words in one coordinate (1 in G1, 2 in G2).
    const WORDS: usize;
    /// `b` holds `WORDS` words of `b.len() / WORDS` bytes.
    fn eth_decode(b: &[u8]) -> Result<Self, PointError>;
    fn eth_encode(&self, word: usize, out: &mut Vec<u8>);
}

fn bytes_of<F: PrimeField>() -> usize {
    (F::MODULUS_BIT_SIZE as usize).div_ceil(8)
}

fn prime_decode<F: PrimeField>(word: &[u8]) -> Result<F, PointError> {
    let pad = word.len() - bytes_of::<F>();
    if word[..pad].iter().any(|&v| v != 0) || !below_modulus::<F>(&word[pad..]) {
        return Err(PointError::NonCanonical);
    }
    Ok(F::from_be_bytes_mod_order(&word[pad..]))
}

fn prime_encode<F: PrimeField>(f: &F, word: usize, out: &mut Vec<u8>) {
    let fq = bytes_of::<F>();
    out.extend(std::iter::repeat_n(0u8, word - fq));
    let be = f.into_bigint().to_bytes_be();
    out.extend_from_slice(&be[be.len() - fq..]);
}

macro_rules! prime_coord {
    ($f:ty) => {
        impl EthCoord for $f {
            const WORDS: usize = 1;
            fn eth_decode(b: &[u8]) -> Result<Self, PointError> {
                prime_decode(b)
            }
            fn eth_encode(&self, word: usize, out: &mut Vec<u8>) {
                prime_encode(self, word, out)
            }
        }
    };
}
prime_coord!(ark_bn254::Fq);
prime_coord!(ark_bls12_381::Fq);

/// Fq2 = c0 + c1·u. EIP-197 writes the imaginary part first (c1 ‖ c0); EIP-2537 the real
/// part first (c0 ‖ c1).
macro_rules! quad_coord {
    ($f:ty, $base:ty, imaginary_first: $imag:expr) => {
        impl EthCoord for $f {
            const WORDS: usize = 2;
            fn eth_decode(b: &[u8]) -> Result<Self, PointError> {
                let (first, second) = b.split_at(b.len() / 2);
                let (a, b) = (
                    prime_decode::<$base>(first)?,
                    prime_decode::<$base>(second)?,
                );
                Ok(if $imag {
                    <$f>::new(b, a)
                } else {
                    <$f>::new(a, b)
                })
            }
            fn eth_encode(&self, word: usize, out: &mut Vec<u8>) {
                let (first, second) = if $imag {
                    (&self.c1, &self.c0)
                } else {
                    (&self.c0, &self.c1)
                };
                prime_encode(first, word, out);
                prime_encode(second, word, out);
            }
        }
    };
}
quad_coord!(ark_bn254::Fq2, ark_bn254::Fq, imaginary_first: true);
quad_coord!(ark_bls12_381::Fq2, ark_bls12_381::Fq, imaginary_first: false);

/// A curve the API serves, with its wire forms.
pub trait WireCurve: SWCurveConfig<BaseField: EthCoord> {
    const ID: CurveId;
    /// The Ethereum precompile form for this curve.
    const ETH: PointEncoding;
    /// Width of one prime-field word in the Ethereum form (32 for EIP-196/197, 64 for
    /// EIP-2537).
    const ETH_WORD: usize;
}

impl WireCurve for ark_bn254::g1::Config {
    const ID: CurveId = CurveId::Bn254;
    const ETH: PointEncoding = PointEncoding::Eip196;
    const ETH_WORD: usize = 32;
}

impl WireCurve for ark_bls12_381::g1::Config {
    const ID: CurveId = CurveId::Bls12_381;
    const ETH: PointEncoding = PointEncoding::Eip2537;
    const ETH_WORD: usize = 64;
}

impl WireCurve for ark_bn254::g2::Config {
    const ID: CurveId = CurveId::Bn254G2;
    const ETH: PointEncoding = PointEncoding::Eip196;
    const ETH_WORD: usize = 32;
}

impl WireCurve for ark_bls12_381::g2::Config {
    const ID: CurveId = CurveId::Bls12_381G2;
    const ETH: PointEncoding = PointEncoding::Eip2537;
    const ETH_WORD: usize = 64;
}

/// Bytes of one coordinate in the Ethereum form.
fn eth_coord<C: WireCurve>() -> usize {
    C::BaseField::WORDS * C::ETH_WORD
}

/// Bytes per point in `enc`.
pub fn point_len<C: WireCurve>(enc: PointEncoding) -> Result<usize, PointError> {
    let identity = Affine::<C>::identity();
    match enc {
        PointEncoding::ArkCompressed => Ok(identity.compressed_size()),
        PointEncoding::ArkUncompressed => Ok(identity.uncompressed_size()),
        e if e == C::ETH => Ok(2 * eth_coord::<C>()),
        e => Err(PointError::WrongCurve {
            encoding: e,
            curve: C::ID,
        }),
    }
}

/// Bytes per point of the curve named `curve` in `enc`, for a caller that knows the curve by
/// its name only (the CLI reading a file of points).
pub fn curve_point_len(curve: CurveId, enc: PointEncoding) -> Result<usize, PointError> {
    crate::with_curve!(curve, C => point_len::<C>(enc))
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
            if b.iter().all(|&x| x == 0) {
                return Ok(Affine::<C>::identity());
            }
            let (x, y) = b.split_at(eth_coord::<C>());
            let p = Affine::<C>::new_unchecked(
                C::BaseField::eth_decode(x)?,
                C::BaseField::eth_decode(y)?,
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
        _ => match p.xy() {
            None => out.extend(std::iter::repeat_n(0u8, 2 * eth_coord::<C>())),
            Some((x, y)) => {
                x.eth_encode(C::ETH_WORD, out);
                y.eth_encode(C::ETH_WORD, out);
            }
        },
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
        // G2: twice the G1 sizes, since a coordinate is two base-field words.
        assert_eq!(
            len(CurveId::Bn254G2, PointEncoding::ArkCompressed),
            Some(64)
        );
        assert_eq!(
            len(CurveId::Bn254G2, PointEncoding::ArkUncompressed),
            Some(128)
        );
        assert_eq!(len(CurveId::Bn254G2, PointEncoding::Eip196), Some(128));
        assert_eq!(
            len(CurveId::Bls12_381G2, PointEncoding::ArkCompressed),
            Some(96)
        );
        assert_eq!(
            len(CurveId::Bls12_381G2, PointEncoding::ArkUncompressed),
            Some(192)
        );
        assert_eq!(len(CurveId::Bls12_381G2, PointEncoding::Eip2537), Some(256));
        for e in PointEncoding::ALL {
            assert_eq!(PointEncoding::parse(e.name()), Some(*e));
        }
    }
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    type Bn = ark_bn254::g1::Config;
    type Bls = ark_bls12_381::g1::Config;
    type Bn2 = ark_bn254::g2::Config;
    type Bls2 = ark_bls12_381::g2::Config;

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
        round_trips::<Bn2>(&[ArkCompressed, ArkUncompressed, Eip196]);
        round_trips::<Bls2>(&[ArkCompressed, ArkUncompressed, Eip2537]);
        assert!(point_len::<Bn>(Eip2537).is_err());
        assert!(point_len::<Bn2>(Eip2537).is_err());
        assert!(point_len::<Bls2>(Eip196).is_err());
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

    fn hex(b: &[u8]) -> String {
        b.iter().map(|v| format!("{v:02x}")).collect()
    }

    fn be32_of_decimal(d: &str) -> String {
        let v = BigUint::parse_bytes(d.as_bytes(), 10)
            .unwrap()
            .to_bytes_be();
        let mut w = vec![0u8; 32 - v.len()];
        w.extend(v);
        hex(&w)
    }

    #[test]
    fn ethereum_forms_of_the_g2_generators() {
        // EIP-197 writes Fq2 elements imaginary part first; its G2 generator as the EIP lists
        // it (x = x1·i + x0, y = y1·i + y0).
        let mut b = Vec::new();
        encode_point::<Bn2>(PointEncoding::Eip196, &Affine::generator(), &mut b).unwrap();
        let words: Vec<String> = b.chunks(32).map(hex).collect();
        let want = [
            "11559732032986387107991004021392285783925812861821192530917403151452391805634",
            "10857046999023057135944570762232829481370756359578518086990519993285655852781",
            "4082367875863433681332203403145435568316851327593401208105741076214120093531",
            "8495653923123431417604973247489272438418190587263600148770280649306958101930",
        ];
        assert_eq!(words, want.map(be32_of_decimal));
        // EIP-2537 writes the real part first, each word 16 zero bytes and 48 of value.
        let mut b = Vec::new();
        encode_point::<Bls2>(PointEncoding::Eip2537, &Affine::generator(), &mut b).unwrap();
        assert_eq!(b.len(), 256);
        for w in b.chunks(64) {
            assert!(w[..16].iter().all(|&x| x == 0));
        }
        assert_eq!(
            hex(&b[16..64]),
            "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
        );
        assert_eq!(
            hex(&b[80..128]),
            "13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        );
        // The arkworks forms' order, as offload.proto documents it: BLS12-381 G2 compressed is
        // zcash's (x.c1 first, big-endian, 0x80 set), BN254 G2 is x.c0 first, little-endian.
        let mut z = Vec::new();
        encode_point::<Bls2>(PointEncoding::ArkCompressed, &Affine::generator(), &mut z).unwrap();
        assert_eq!(hex(&z[..4]), "93e02b60");
        let mut a = Vec::new();
        encode_point::<Bn2>(PointEncoding::ArkUncompressed, &Affine::generator(), &mut a).unwrap();
        let mut x0 = a[..32].to_vec();
        x0.reverse();
        assert_eq!(
            hex(&x0),
            be32_of_decimal(
                "10857046999023057135944570762232829481370756359578518086990519993285655852781"
            )
        );
        // Padding, a word ≥ p in either half, the point at infinity.
        let mut pad = b.clone();
        pad[64] = 1;
        assert_eq!(
            decode_point::<Bls2>(PointEncoding::Eip2537, &pad),
            Err(PointError::NonCanonical)
        );
        let mut big = b.clone();
        big[208..256].fill(0xff);
        assert_eq!(
            decode_point::<Bls2>(PointEncoding::Eip2537, &big),
            Err(PointError::NonCanonical)
        );
        assert_eq!(
            decode_point::<Bls2>(PointEncoding::Eip2537, &[0u8; 256]),
            Ok(Affine::identity())
        );
        // Swapping the halves of x (reading EIP-197 as if it were c0 first) is off the curve.
        let mut swapped = Vec::new();
        encode_point::<Bn2>(PointEncoding::Eip196, &Affine::generator(), &mut swapped).unwrap();
        let (x1, x0) = (swapped[..32].to_vec(), swapped[32..64].to_vec());
        swapped[..32].copy_from_slice(&x0);
        swapped[32..64].copy_from_slice(&x1);
        assert_eq!(
            decode_point::<Bn2>(PointEncoding::Eip196, &swapped),
            Err(PointError::NotOnCurve)
        );
    }

    /// A point on the twist outside the prime-order subgroup (G2's cofactor is large, so the
    /// first x with a point almost surely gives one).
    fn off_subgroup<C: WireCurve>() -> Affine<C> {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        loop {
            let x = C::BaseField::rand(&mut r);
            if let Some(p) = Affine::<C>::get_point_from_x_unchecked(x, false) {
                if !p.is_in_correct_subgroup_assuming_on_curve() {
                    return p;
                }
            }
        }
    }

    fn g2_subgroup_is_checked_in_every_form<C: WireCurve>(eth: PointEncoding) {
        let p = off_subgroup::<C>();
        for enc in [
            PointEncoding::ArkCompressed,
            PointEncoding::ArkUncompressed,
            eth,
        ] {
            let mut b = Vec::new();
            encode_point::<C>(enc, &p, &mut b).unwrap();
            assert_eq!(
                decode_point::<C>(enc, &b),
                Err(PointError::NotInSubgroup),
                "{enc:?}"
            );
        }
    }

    #[test]
    fn g2_points_outside_the_subgroup_are_refused() {
        g2_subgroup_is_checked_in_every_form::<Bn2>(PointEncoding::Eip196);
        g2_subgroup_is_checked_in_every_form::<Bls2>(PointEncoding::Eip2537);
    }
}
