//! Ed25519 under three policies, one verdict per signature.
//!
//! - `Zip215`: ZIP-215, the cofactored equation [8]([S]B − R − [k]A) = 0, non-canonical
//!   encodings of A and R accepted, S < ℓ required. The only policy with a batch equation.
//! - `Strict`: ed25519-dalek's `verify_strict` (small-order A or R rejected, R canonical,
//!   cofactorless equation).
//! - `Rfc8032`: cofactorless RFC 8032 as ref10, Go and OpenSSL (ed25519-dalek's `verify`):
//!   R must be canonical, A need not be.
//!
//! k = SHA-512(R ‖ A ‖ M) mod ℓ always hashes the encodings as given.

use super::bisect::{self, BatchCheck};
use super::{Field, Malformed, Verdict};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand::RngCore;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    #[default]
    Zip215,
    Strict,
    Rfc8032,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Zip215, Policy::Strict, Policy::Rfc8032];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Zip215 => "zip215",
            Policy::Strict => "strict",
            Policy::Rfc8032 => "rfc8032",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// One signature to check; the slices are what the client sent, lengths unchecked.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub public_key: &'a [u8],
    pub signature: &'a [u8],
    pub message: &'a [u8],
}

/// An item decoded far enough for the equation.
struct Decoded {
    a: EdwardsPoint,
    /// Absent under `Rfc8032`, which compares R as bytes and never decodes it.
    r: Option<EdwardsPoint>,
    s: Scalar,
    k: Scalar,
}

fn array<const L: usize>(bytes: &[u8], field: Field) -> Result<[u8; L], Malformed> {
    bytes.try_into().map_err(|_| Malformed::BadLength {
        field,
        expected: L,
        got: bytes.len(),
    })
}

fn decompress(bytes: [u8; 32], field: Field) -> Result<EdwardsPoint, Malformed> {
    CompressedEdwardsY(bytes)
        .decompress()
        .ok_or(Malformed::NotOnCurve { field })
}

/// Whether `bytes` is the canonical encoding of whatever point it decodes to: y < p, and no
/// sign bit on x = 0 (the points with y = 1 and y = p − 1). Byte comparisons only, instead of
/// a re-encoding (a field inversion).
fn is_canonical(bytes: &[u8; 32]) -> bool {
    // p = 2^255 − 19, little-endian.
    let mut y = *bytes;
    let sign = y[31] >> 7;
    y[31] &= 0x7f;
    let below_p = y[1..31].iter().any(|&b| b != 0xff) || y[31] != 0x7f || y[0] < 0xed;
    let x_is_zero = {
        let one = y[0] == 1 && y[1..].iter().all(|&b| b == 0);
        let p_minus_1 = y[0] == 0xec && y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f;
        one || p_minus_1
    };
    below_p && !(sign == 1 && x_is_zero)
}

/// Decode an item, rejecting what the policy's reference rejects before any equation.
fn decode(policy: Policy, item: &Item) -> Result<Decoded, Malformed> {
    let a_bytes = array::<32>(item.public_key, Field::PublicKey)?;
    let sig = array::<64>(item.signature, Field::Signature)?;
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&sig[32..]);
    // dalek hashes A as given and never re-encodes it; R is compared as bytes with a canonical
    // encoding under the cofactorless policies, so a non-canonical R can never verify there.
    if policy != Policy::Zip215 && !is_canonical(&r_bytes) {
        return Err(Malformed::NonCanonical { field: Field::R });
    }
    let a = decompress(a_bytes, Field::PublicKey)?;
    let r = match policy {
        Policy::Rfc8032 => None,
        Policy::Zip215 | Policy::Strict => Some(decompress(r_bytes, Field::R)?),
    };
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
        .ok_or(Malformed::ScalarOutOfRange { field: Field::S })?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(a_bytes);
    h.update(item.message);
    let k = Scalar::from_hash(h);
    Ok(Decoded { a, r, s, k })
}

/// The single verification of each policy, on a decoded item.
fn check(policy: Policy, d: &Decoded, r_bytes: &[u8]) -> bool {
    match policy {
        Policy::Zip215 => zip215_holds(d),
        Policy::Strict | Policy::Rfc8032 => {
            let small_r = d.r.is_some_and(|r| r.is_small_order());
            if policy == Policy::Strict && (d.a.is_small_order() || small_r) {
                return false;
            }
            // Cofactorless: the recomputed R must encode to the bytes given. k·(−A), not
            // (−k)·A: with k reduced mod ℓ the two differ by ℓ·A, which is not zero when A
            // has a small-order component.
            let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&d.k, &-d.a, &d.s);
            expected.compress().as_bytes()[..] == r_bytes[..]
        }
    }
}

/// Verify one signature.
pub fn verify(policy: Policy, item: &Item) -> Verdict {
    match decode(policy, item) {
        Err(m) => Verdict::Malformed(m),
        Ok(d) if check(policy, &d, &item.signature[..32]) => Verdict::Valid,
        Ok(_) => Verdict::Invalid,
    }
}

/// Smallest batch worth a thread of its own.
const MIN_CHUNK: usize = 16;

/// How a failed batch equation finds its bad items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fallback {
    /// Halve and re-check; where both halves of a set fail, check it item by item.
    #[default]
    Bisect,
    /// Check every item of the failed chunk singly, in parallel.
    PerItem,
}

/// Verify a batch: one verdict per item, equal to [`verify`]'s for every item.
///
/// `Zip215` checks one random linear combination per chunk of items, with 128-bit
/// coefficients no submitter can predict; when a chunk fails, it is halved until the bad items
/// are found. The other policies have no sound batch equation and verify one by one, in
/// parallel.
pub fn verify_batch(policy: Policy, items: &[Item]) -> Vec<Verdict> {
    verify_batch_with(policy, items, Fallback::default())
}

/// [`verify_batch`] with a chosen fallback (`offload-benches`' `fallback` example measures
/// both).
pub fn verify_batch_with(policy: Policy, items: &[Item], fallback: Fallback) -> Vec<Verdict> {
    if policy != Policy::Zip215 {
        return items
            .par_iter()
            .with_min_len(8)
            .map(|it| verify(policy, it))
            .collect();
    }
    let decoded: Vec<Result<Decoded, Malformed>> = items
        .par_iter()
        .with_min_len(8)
        .map(|it| decode(policy, it))
        .collect();
    let mut verdicts: Vec<Verdict> = decoded
        .iter()
        .map(|d| match d {
            Err(m) => Verdict::Malformed(*m),
            Ok(_) => Verdict::Valid,
        })
        .collect();
    let ok: Vec<(usize, &Decoded)> = decoded
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.as_ref().ok().map(|d| (i, d)))
        .collect();
    let zs = coefficients(items, ok.len());
    let ok: Vec<Weighted> = ok
        .into_iter()
        .zip(zs)
        .map(|((i, d), z)| (i, d, z))
        .collect();
    let threads = rayon::current_num_threads();
    let chunk = ok.len().div_ceil(threads).max(MIN_CHUNK);
    let bad: Vec<usize> = ok
        .par_chunks(chunk)
        .flat_map_iter(|set| {
            let bad = match fallback {
                Fallback::Bisect => bisect::find_bad(&Zip215, set),
                Fallback::PerItem if Zip215.holds(set) => Vec::new(),
                Fallback::PerItem => bisect::singles(&Zip215, set),
            };
            bad.into_iter().map(|(i, _, _)| *i)
        })
        .collect();
    for i in bad {
        verdicts[i] = Verdict::Invalid;
    }
    verdicts
}

/// A decoded item, its index in the batch and its coefficient.
type Weighted<'a> = (usize, &'a Decoded, Scalar);

/// The ZIP-215 batch equation and single check.
struct Zip215;

impl BatchCheck<Weighted<'_>> for Zip215 {
    /// [8]·(Σ zᵢRᵢ + Σ (zᵢkᵢ)Aᵢ − (Σ zᵢSᵢ)B) = 0.
    fn holds(&self, set: &[Weighted]) -> bool {
        let mut b = Scalar::ZERO;
        for (_, d, z) in set {
            b -= z * d.s;
        }
        let scalars = std::iter::once(b)
            .chain(set.iter().map(|(_, _, z)| *z))
            .chain(set.iter().map(|(_, d, z)| z * d.k));
        let points = std::iter::once(ED25519_BASEPOINT_POINT)
            .chain(
                set.iter()
                    .map(|(_, d, _)| d.r.expect("decoded under Zip215")),
            )
            .chain(set.iter().map(|(_, d, _)| d.a));
        EdwardsPoint::vartime_multiscalar_mul(scalars, points)
            .mul_by_cofactor()
            .is_identity()
    }

    fn single(&self, (_, d, _): &Weighted) -> bool {
        zip215_holds(d)
    }
}

/// The single ZIP-215 check [8]([S]B − R − [k]A) = 0.
fn zip215_holds(d: &Decoded) -> bool {
    let r = d.r.expect("decoded under Zip215");
    let residual = EdwardsPoint::vartime_double_scalar_mul_basepoint(&d.k, &-d.a, &d.s) - r;
    residual.mul_by_cofactor().is_identity()
}

/// 128-bit coefficients from [`super::coefficient_stream`].
fn coefficients(items: &[Item], n: usize) -> Vec<Scalar> {
    let parts = items
        .iter()
        .flat_map(|it| [it.public_key, it.signature, it.message]);
    let mut rng = super::coefficient_stream(b"offload ed25519 batch v1", parts);
    (0..n)
        .map(|_| {
            let mut b = [0u8; 16];
            rng.fill_bytes(&mut b);
            Scalar::from(u128::from_le_bytes(b))
        })
        .collect()
}
