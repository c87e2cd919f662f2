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
use super::ed25519_lanes::{self as lanes, Niels};
use super::keys::{self, KeyCache, Keys};
use super::{Field, Malformed, Verdict};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand::RngCore;
use rayon::prelude::*;
use sha2::{Digest, Sha512};
use std::collections::HashMap;

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
    decode_with(policy, item, |a| decompress(a, Field::PublicKey))
}

/// [`decode`] with the public key's point from `key` (a cache, or decompression).
fn decode_with(
    policy: Policy,
    item: &Item,
    key: impl FnOnce([u8; 32]) -> Result<EdwardsPoint, Malformed>,
) -> Result<Decoded, Malformed> {
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
    let a = key(a_bytes)?;
    let r = match policy {
        Policy::Rfc8032 => None,
        Policy::Zip215 | Policy::Strict => Some(decompress(r_bytes, Field::R)?),
    };
    let s = scalar_s(s_bytes)?;
    Ok(Decoded {
        a,
        r,
        s,
        k: challenge(&r_bytes, &a_bytes, item.message),
    })
}

fn scalar_s(bytes: [u8; 32]) -> Result<Scalar, Malformed> {
    Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
        .ok_or(Malformed::ScalarOutOfRange { field: Field::S })
}

/// k = SHA-512(R ‖ A ‖ M) mod ℓ, over the encodings as given.
fn challenge(r: &[u8], a: &[u8], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_hash(h)
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

/// [`verify_batch`] with a tenant's decoded keys: public keys seen in earlier calls are not
/// decompressed again, and this call's new ones are kept for the next.
pub fn verify_batch_cached(policy: Policy, items: &[Item], keys: &Keys) -> Vec<Verdict> {
    batch(policy, items, Fallback::default(), Some(&keys.ed25519))
}

/// [`verify_batch`] with a chosen fallback (`offload-benches`' `fallback` example measures
/// both).
pub fn verify_batch_with(policy: Policy, items: &[Item], fallback: Fallback) -> Vec<Verdict> {
    batch(policy, items, fallback, None)
}

/// A public key as a cache keeps it: decoded by whichever path met it first. (One process
/// runs one path; a key of the other form is decoded again.)
#[derive(Clone, Copy)]
pub struct CachedKey(KeyForm);

#[derive(Clone, Copy)]
enum KeyForm {
    NotOnCurve,
    Lanes(Niels),
    Point(EdwardsPoint),
}

type Cache = KeyCache<[u8; 32], CachedKey>;

fn batch(
    policy: Policy,
    items: &[Item],
    fallback: Fallback,
    cache: Option<&Cache>,
) -> Vec<Verdict> {
    if policy != Policy::Zip215 {
        return items
            .par_iter()
            .with_min_len(8)
            .map(|it| verify(policy, it))
            .collect();
    }
    match lanes::ifma() {
        Some(engine) => batch_lanes(engine, items, fallback, cache),
        None => batch_portable(items, fallback, cache),
    }
}

/// The distinct 32-byte public keys of `items`, and each item's index among them.
fn distinct_keys(items: &[Item]) -> (Vec<[u8; 32]>, Vec<Option<u32>>) {
    keys::distinct(items.iter().map(|it| it.public_key.try_into().ok()))
}

/// The portable ZIP-215 batch: curve25519-dalek's decompression and multiscalar
/// multiplication.
fn batch_portable(items: &[Item], fallback: Fallback, cache: Option<&Cache>) -> Vec<Verdict> {
    settle(items, &decode_portable(items, cache), fallback, &Zip215)
}

/// Each item decoded, with its key's index among the call's distinct keys.
fn decode_portable(
    items: &[Item],
    cache: Option<&Cache>,
) -> Vec<Result<(u32, Decoded), Malformed>> {
    let policy = Policy::Zip215;
    let (keys, slot) = distinct_keys(items);
    let points = keys::resolve(
        &keys,
        cache,
        |k| !matches!(k.0, KeyForm::Lanes(_)),
        |ks| {
            ks.par_iter()
                .with_min_len(8)
                .map(|k| match CompressedEdwardsY(*k).decompress() {
                    Some(p) => CachedKey(KeyForm::Point(p)),
                    None => CachedKey(KeyForm::NotOnCurve),
                })
                .collect()
        },
    );
    items
        .par_iter()
        .zip(&slot)
        .with_min_len(8)
        .map(|(it, &s)| {
            // `decode_with` asks for the key only once it is 32 bytes long, so has a slot.
            let s = s.unwrap_or(u32::MAX);
            decode_with(policy, it, |_| match points[s as usize].0 {
                KeyForm::Point(p) => Ok(p),
                _ => Err(Malformed::NotOnCurve {
                    field: Field::PublicKey,
                }),
            })
            .map(|d| (s, d))
        })
        .collect()
}

/// Verdicts from decoded items: the malformed as they are, the rest valid unless the batch
/// equation over their thread's share fails and the search names them.
fn settle<D: Sync, C>(
    items: &[Item],
    decoded: &[Result<D, Malformed>],
    fallback: Fallback,
    check: &C,
) -> Vec<Verdict>
where
    C: for<'a> BatchCheck<(usize, &'a D, Scalar)>,
{
    let mut verdicts: Vec<Verdict> = decoded
        .iter()
        .map(|d| match d {
            Err(m) => Verdict::Malformed(*m),
            Ok(_) => Verdict::Valid,
        })
        .collect();
    let ok: Vec<(usize, &D)> = decoded
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.as_ref().ok().map(|d| (i, d)))
        .collect();
    let zs = coefficients(items, ok.len());
    let ok: Vec<(usize, &D, Scalar)> = ok
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
                Fallback::Bisect => bisect::find_bad(check, set),
                Fallback::PerItem if check.holds(set) => Vec::new(),
                Fallback::PerItem => bisect::singles(check, set),
            };
            bad.into_iter().map(|(i, _, _)| *i)
        })
        .collect();
    for i in bad {
        verdicts[i] = Verdict::Invalid;
    }
    verdicts
}

/// An item decoded for the lanes: its key's index among the call's distinct keys, R, S, k.
struct LaneDecoded {
    key: u32,
    r: Niels,
    s: Scalar,
    k: Scalar,
}

/// Encodings decompressed eight at a time; `None` for those that are not points.
fn decompress_lanes(ctx: &dyn lanes::Engine, encs: &[[u8; 32]]) -> Vec<Option<Niels>> {
    encs.par_chunks(64)
        .flat_map_iter(|chunk| {
            chunk
                .chunks(8)
                .flat_map(|g| {
                    let mut e = [g[0]; 8];
                    e[..g.len()].copy_from_slice(g);
                    let (ok, pts) = ctx.decompress(&e);
                    (0..g.len()).map(move |l| (ok >> l & 1 == 1).then_some(pts[l]))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The ZIP-215 batch on AVX-512 IFMA lanes ([`lanes`]): decompression and the batch
/// equation there; a set whose equation fails is searched with the same equation, and its
/// suspects are settled by [`verify`].
fn batch_lanes(
    ctx: &dyn lanes::Engine,
    items: &[Item],
    fallback: Fallback,
    cache: Option<&Cache>,
) -> Vec<Verdict> {
    let (key_points, decoded) = decode_lanes(ctx, items, cache);
    let check = LaneEquation {
        ctx,
        keys: &key_points,
        items,
    };
    settle(items, &decoded, fallback, &check)
}

/// Each distinct key's point (`None`: not on the curve), and each item decoded.
#[allow(clippy::type_complexity)]
fn decode_lanes(
    ctx: &dyn lanes::Engine,
    items: &[Item],
    cache: Option<&Cache>,
) -> (Vec<Option<Niels>>, Vec<Result<LaneDecoded, Malformed>>) {
    let (keys, slot) = distinct_keys(items);
    let forms = keys::resolve(
        &keys,
        cache,
        |k| !matches!(k.0, KeyForm::Point(_)),
        |ks| {
            decompress_lanes(ctx, ks)
                .into_iter()
                .map(|p| CachedKey(p.map_or(KeyForm::NotOnCurve, KeyForm::Lanes)))
                .collect()
        },
    );
    let key_points: Vec<Option<Niels>> = forms
        .iter()
        .map(|f| match f.0 {
            KeyForm::Lanes(n) => Some(n),
            _ => None,
        })
        .collect();
    let r_bytes: Vec<[u8; 32]> = items
        .iter()
        .map(|it| {
            it.signature
                .get(..32)
                .and_then(|r| r.try_into().ok())
                .unwrap_or([0; 32])
        })
        .collect();
    let rs = decompress_lanes(ctx, &r_bytes);
    // The checks in `decode`'s order, so that an item malformed twice is named alike.
    let decoded: Vec<Result<LaneDecoded, Malformed>> = items
        .par_iter()
        .zip(&slot)
        .zip(&rs)
        .with_min_len(8)
        .map(|((it, &key), r)| {
            let a = array::<32>(it.public_key, Field::PublicKey)?;
            let sig = array::<64>(it.signature, Field::Signature)?;
            let key = key.expect("a 32-byte key has a slot");
            key_points[key as usize].ok_or(Malformed::NotOnCurve {
                field: Field::PublicKey,
            })?;
            let r = r.ok_or(Malformed::NotOnCurve { field: Field::R })?;
            let s = scalar_s(sig[32..].try_into().expect("32 bytes"))?;
            Ok(LaneDecoded {
                key,
                r,
                s,
                k: challenge(&sig[..32], &a, it.message),
            })
        })
        .collect();
    (key_points, decoded)
}

/// The B and A terms of the batch equation over items (key, S, k, z): −Σ zᵢSᵢ, and for each
/// distinct key, in order of first appearance, its first item's position and Σ zᵢkᵢ over its
/// items (a validator set's repeated keys cost one point each).
fn key_terms(
    items: impl Iterator<Item = (u32, Scalar, Scalar, Scalar)>,
) -> (Scalar, Vec<(usize, Scalar)>) {
    let mut b = Scalar::ZERO;
    let mut at: HashMap<u32, usize> = HashMap::new();
    let mut terms: Vec<(usize, Scalar)> = Vec::new();
    for (i, (key, s, k, z)) in items.enumerate() {
        b -= z * s;
        let zk = z * k;
        match at.get(&key) {
            Some(&j) => terms[j].1 += zk,
            None => {
                at.insert(key, terms.len());
                terms.push((i, zk));
            }
        }
    }
    (b, terms)
}

/// The ZIP-215 batch equation on the lanes; single checks by [`verify`].
struct LaneEquation<'a> {
    ctx: &'a dyn lanes::Engine,
    keys: &'a [Option<Niels>],
    items: &'a [Item<'a>],
}

impl BatchCheck<(usize, &LaneDecoded, Scalar)> for LaneEquation<'_> {
    /// [8]·(Σ zᵢRᵢ + Σ_A (Σ_{i: Aᵢ = A} zᵢkᵢ)A − (Σ zᵢSᵢ)B) = 0: one term per distinct key.
    fn holds(&self, set: &[(usize, &LaneDecoded, Scalar)]) -> bool {
        let (b, a_terms) = key_terms(set.iter().map(|(_, d, z)| (d.key, d.s, d.k, *z)));
        let mut points: Vec<Niels> = set.iter().map(|(_, d, _)| d.r).collect();
        let mut scalars: Vec<Scalar> = set.iter().map(|(_, _, z)| *z).collect();
        for (first, s) in a_terms {
            let key = set[first].1.key as usize;
            points.push(self.keys[key].expect("decoded items have points for keys"));
            scalars.push(s);
        }
        points.push(*self.ctx.base());
        scalars.push(b);
        let bytes: Vec<[u8; 32]> = scalars.iter().map(|s| s.to_bytes()).collect();
        self.ctx.msm_is_small_order(&points, &bytes)
    }

    fn single(&self, (i, _, _): &(usize, &LaneDecoded, Scalar)) -> bool {
        verify(Policy::Zip215, &self.items[*i]) == Verdict::Valid
    }
}

/// A decoded item with its key's index among the call's distinct keys, its index in the batch
/// and its coefficient.
type Weighted<'a> = (usize, &'a (u32, Decoded), Scalar);

/// The ZIP-215 batch equation and single check.
struct Zip215;

impl BatchCheck<Weighted<'_>> for Zip215 {
    /// [8]·(Σ zᵢRᵢ + Σ_A (Σ_{i: Aᵢ = A} zᵢkᵢ)A − (Σ zᵢSᵢ)B) = 0: one term per distinct key, so
    /// a validator set's repeated keys cost one point each.
    fn holds(&self, set: &[Weighted]) -> bool {
        let (b, a_terms) = key_terms(set.iter().map(|(_, (key, d), z)| (*key, d.s, d.k, *z)));
        let scalars = std::iter::once(b)
            .chain(set.iter().map(|(_, _, z)| *z))
            .chain(a_terms.iter().map(|(_, s)| *s));
        let points = std::iter::once(ED25519_BASEPOINT_POINT)
            .chain(
                set.iter()
                    .map(|(_, (_, d), _)| d.r.expect("decoded under Zip215")),
            )
            .chain(a_terms.iter().map(|&(first, _)| set[first].1 .1.a));
        EdwardsPoint::vartime_multiscalar_mul(scalars, points)
            .mul_by_cofactor()
            .is_identity()
    }

    fn single(&self, (_, (_, d), _): &Weighted) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    type Owned = ([u8; 32], Vec<u8>, Vec<u8>);

    /// Signatures from eight keys, two of them with a small-order component (valid under
    /// ZIP-215 only): s = r + k·a with k hashed over the key as given.
    fn signed(n: usize, seed: u64) -> Vec<Owned> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let secrets: Vec<Scalar> = (0..8).map(|_| Scalar::from(rng.gen::<u128>())).collect();
        let keys: Vec<[u8; 32]> = secrets
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let t = if i < 2 {
                    EIGHT_TORSION[2 * i + 1]
                } else {
                    EIGHT_TORSION[0]
                };
                (EdwardsPoint::mul_base(a) + t).compress().to_bytes()
            })
            .collect();
        (0..n)
            .map(|i| {
                let j = i % 8;
                let msg: Vec<u8> = (0..rng.gen_range(0..80)).map(|_| rng.gen()).collect();
                let r = Scalar::from(rng.gen::<u128>());
                let rb = EdwardsPoint::mul_base(&r).compress().to_bytes();
                let k = challenge(&rb, &keys[j], &msg);
                let s = r + k * secrets[j];
                let sig = [rb, s.to_bytes()].concat();
                (keys[j], sig, msg)
            })
            .collect()
    }

    fn items(v: &[Owned]) -> Vec<Item<'_>> {
        v.iter()
            .map(|(k, s, m)| Item {
                public_key: k,
                signature: s,
                message: m,
            })
            .collect()
    }

    /// The lanes engines this CPU runs: the scalar model always, AVX-512 IFMA where present.
    fn engines() -> Vec<&'static dyn lanes::Engine> {
        let mut v: Vec<&dyn lanes::Engine> = vec![lanes::model::engine()];
        match lanes::ifma() {
            Some(e) => v.push(e),
            None => eprintln!("no AVX-512 IFMA on this CPU: its lanes are not tested here"),
        }
        v
    }

    #[test]
    fn the_lanes_equation_holds_exactly_when_every_item_is_valid() {
        for (ctx, n) in engines()
            .into_iter()
            .flat_map(|e| [1usize, 5, 64, 333].map(|n| (e, n)))
        {
            let mut batch = signed(n, n as u64);
            // The lanes' equation, and the portable one: they must agree.
            let equation = |batch: &[Owned]| {
                let its = items(batch);
                let (keys, decoded) = decode_lanes(ctx, &its, None);
                let zs = coefficients(&its, its.len());
                let set: Vec<_> = decoded
                    .iter()
                    .zip(&zs)
                    .enumerate()
                    .map(|(i, (d, z))| (i, d.as_ref().expect("well formed"), *z))
                    .collect();
                let check = LaneEquation {
                    ctx,
                    keys: &keys,
                    items: &its,
                };
                let portable = decode_portable(&its, None);
                let set2: Vec<_> = portable
                    .iter()
                    .zip(&zs)
                    .enumerate()
                    .map(|(i, (d, z))| (i, d.as_ref().expect("well formed"), *z))
                    .collect();
                let holds = check.holds(&set);
                assert_eq!(holds, Zip215.holds(&set2), "the two equations");
                holds
            };
            assert!(equation(&batch), "{n} valid signatures");
            assert!(
                items(&batch)
                    .iter()
                    .all(|it| verify(Policy::Zip215, it).is_valid()),
                "the oracle accepts them too"
            );
            // One bad signature anywhere fails the whole equation.
            let i = n / 2;
            batch[i].2.push(1);
            assert!(!equation(&batch), "{n} with a changed message");
            batch[i].2.pop();
            batch[i].1[40] ^= 1;
            assert!(!equation(&batch), "{n} with a changed S");
        }
    }

    #[test]
    fn lanes_and_portable_paths_give_the_same_verdicts() {
        let mut batch = signed(300, 7);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        // Bad signatures, malformed items of every kind, a key not on the curve.
        for i in [3usize, 4, 100, 299] {
            batch[i].2.push(0);
        }
        batch[10].1[63] = 0xff; // S ≥ ℓ
        batch[11].1.pop(); // 63-byte signature
        batch[12].0[0] ^= 1; // most often not on the curve
        batch[13].1[..32].copy_from_slice(&[0xff; 32]); // R not on the curve (y = 2^255 − 1)
        batch[14].1[0] = rng.gen();
        let its = items(&batch);
        let want: Vec<Verdict> = its.iter().map(|it| verify(Policy::Zip215, it)).collect();
        assert!(want.iter().filter(|v| !v.is_valid()).count() >= 8);
        for fallback in [Fallback::Bisect, Fallback::PerItem] {
            assert_eq!(batch_portable(&its, fallback, None), want);
            for ctx in engines() {
                assert_eq!(batch_lanes(ctx, &its, fallback, None), want);
            }
        }
        // The cache: filled, used, and keys in the other path's form decoded again.
        let keys = Keys::new(64);
        for ctx in engines() {
            for _ in 0..2 {
                let cached = Some(&keys.ed25519);
                assert_eq!(batch_portable(&its, Fallback::Bisect, cached), want);
                assert_eq!(batch_lanes(ctx, &its, Fallback::Bisect, cached), want);
            }
        }
        assert_eq!(verify_batch_cached(Policy::Zip215, &its, &keys), want);
        assert!(!keys.ed25519.is_empty() && keys.ed25519.len() <= 9);
    }
}
