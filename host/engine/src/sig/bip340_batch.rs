//! The BIP340 batch equation: (Σ aᵢsᵢ)·G = Σ aᵢ·Rᵢ + Σ (aᵢeᵢ)·Pᵢ with a₁ = 1 and the other aᵢ
//! uniform in [1, n − 1] from a CSPRNG seeded by a hash of every input (and our per-process
//! secret), as BIP340's batch verification describes.
//!
//! libsecp256k1 has no batch verification, so the equation runs on the engine's own MSM over
//! secp256k1 (GLV, batch-affine buckets, IFMA where present). The x-only lifts of Rᵢ and Pᵢ, the
//! costly square roots, are libsecp256k1's. Any item that fails before the equation (bad
//! length, key not on the curve, r not an x coordinate, s ≥ n) takes its single verdict, so the
//! batch always agrees with single verification.

use super::bisect::{self, BatchCheck};
use super::secp256k1::{verify_schnorr, SchnorrItem};
use super::Verdict;
use crate::msm::{self, secp256k1::Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField, Zero};
use ark_secp256k1::{Fq, Fr};
use rand::RngCore;
use rayon::prelude::*;
use secp256k1::PublicKey;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// An item ready for the equation: its index in the batch, R = lift_x(r), P = lift_x(pk),
/// s, the challenge e, and its coefficient a.
struct Prepared {
    index: usize,
    r: Affine,
    p: Affine,
    s: Fr,
    e: Fr,
    a: Fr,
}

/// Verdicts for `items`: the batch equation over chunks of `chunk` items, bad items found by
/// [`bisect`].
pub(super) fn verify_batch(items: &[SchnorrItem], chunk: usize) -> Vec<Verdict> {
    let prepared: Vec<Result<Prepared, Verdict>> = items
        .par_iter()
        .enumerate()
        .with_min_len(16)
        .map(|(index, it)| prepare(index, it).ok_or_else(|| verify_schnorr(it)))
        .collect();
    let mut verdicts = vec![Verdict::Valid; items.len()];
    let mut ok = Vec::with_capacity(items.len());
    for (i, p) in prepared.into_iter().enumerate() {
        match p {
            Ok(p) => ok.push(p),
            Err(v) => verdicts[i] = v,
        }
    }
    let mut rng = super::coefficient_stream(
        b"offload bip340 batch v1",
        items
            .iter()
            .flat_map(|it| [it.public_key, it.signature, it.message]),
    );
    for (k, p) in ok.iter_mut().enumerate() {
        p.a = if k == 0 {
            Fr::from(1u64)
        } else {
            coefficient(&mut rng)
        };
    }
    let bad: Vec<usize> = ok
        .par_chunks(chunk.max(1))
        .flat_map_iter(|set| {
            bisect::find_bad(&Equation { items }, set)
                .into_iter()
                .map(|p| p.index)
        })
        .collect();
    for i in bad {
        verdicts[i] = Verdict::Invalid;
    }
    verdicts
}

/// Uniform in [1, n − 1], by rejection (a draw is rejected with probability about 2^-128).
fn coefficient(rng: &mut impl RngCore) -> Fr {
    loop {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        if let Some(a) = Fr::from_bigint(be_bigint(&b)) {
            if !a.is_zero() {
                return a;
            }
        }
    }
}

/// Everything an item needs for the equation, or `None` where single verification decides.
fn prepare(index: usize, it: &SchnorrItem) -> Option<Prepared> {
    let pk: &[u8; 32] = it.public_key.try_into().ok()?;
    let sig: &[u8; 64] = it.signature.try_into().ok()?;
    let (r_bytes, s_bytes) = sig.split_at(32);
    let r_bytes: &[u8; 32] = r_bytes.try_into().ok()?;
    let s = Fr::from_bigint(be_bigint(s_bytes.try_into().ok()?))?;
    Some(Prepared {
        index,
        r: lift_x(r_bytes)?,
        p: lift_x(pk)?,
        s,
        e: challenge(r_bytes, pk, it.message),
        a: Fr::zero(),
    })
}

/// The point with x coordinate `x` and even y (BIP340's lift_x), by libsecp256k1: the
/// compressed encoding 0x02 ‖ x parses exactly when x is an x-only key, with one square root
/// (`XOnlyPublicKey::public_key` would parse twice).
fn lift_x(x: &[u8; 32]) -> Option<Affine> {
    let mut compressed = [2u8; 33];
    compressed[1..].copy_from_slice(x);
    let full = PublicKey::from_byte_array_compressed(compressed)
        .ok()?
        .serialize_uncompressed();
    let coord = |b: &[u8]| Fq::from_bigint(be_bigint(b.try_into().ok()?));
    let point = Affine::new_unchecked(coord(&full[1..33])?, coord(&full[33..65])?);
    point.is_on_curve().then_some(point)
}

/// e = int(SHA256(t ‖ t ‖ r ‖ pk ‖ m)) mod n with t = SHA256("BIP0340/challenge").
fn challenge(r: &[u8; 32], pk: &[u8; 32], message: &[u8]) -> Fr {
    static TAGGED: OnceLock<Sha256> = OnceLock::new();
    let mut h = TAGGED
        .get_or_init(|| {
            let tag = Sha256::digest(b"BIP0340/challenge");
            let mut h = Sha256::new();
            h.update(tag);
            h.update(tag);
            h
        })
        .clone();
    h.update(r);
    h.update(pk);
    h.update(message);
    Fr::from_be_bytes_mod_order(&h.finalize())
}

fn be_bigint(b: &[u8; 32]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (k, limb) in limbs.iter_mut().enumerate() {
        let at = 32 - 8 * (k + 1);
        *limb = u64::from_be_bytes(std::array::from_fn(|j| b[at + j]));
    }
    BigInt::new(limbs)
}

struct Equation<'a, 'b> {
    items: &'a [SchnorrItem<'b>],
}

impl BatchCheck<Prepared> for Equation<'_, '_> {
    /// Σ aᵢ·Rᵢ + Σ (aᵢeᵢ)·Pᵢ − (Σ aᵢsᵢ)·G = 0, one MSM.
    fn holds(&self, set: &[Prepared]) -> bool {
        let mut bases = Vec::with_capacity(2 * set.len() + 1);
        let mut scalars = Vec::with_capacity(2 * set.len() + 1);
        let mut g = Fr::zero();
        for p in set {
            bases.extend([p.r, p.p]);
            scalars.extend([p.a, p.a * p.e]);
            g -= p.a * p.s;
        }
        bases.push(Affine::generator());
        scalars.push(g);
        msm::msm(&bases, &scalars).is_ok_and(|sum| sum.is_zero())
    }

    fn single(&self, p: &Prepared) -> bool {
        self.items
            .get(p.index)
            .is_some_and(|it| verify_schnorr(it).is_valid())
    }
}
