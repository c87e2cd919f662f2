//! BLS12-381 signatures as Ethereum uses them (min-pk: 48-byte G1 keys, 96-byte G2 signatures,
//! ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`) through blst.
//!
//! Keys pass KeyValidate (on the curve, in the subgroup, not infinity); signatures are
//! subgroup-checked. Batches of independent (key, message, signature) triples are checked with
//! one random linear combination (blst's `verify_multiple_aggregate_signatures`, 64-bit
//! coefficients no submitter can predict); a failing batch is halved until the bad items are
//! found, so every verdict equals single verification.

use super::bisect::{self, BatchCheck};
use super::keys::{self, KeyCache, Keys};
use super::{Field, Malformed, Verdict};
use blst::min_pk::{PublicKey, Signature};
use blst::{blst_p1_affine, blst_p2_affine, blst_scalar, Pairing, BLST_ERROR};
use rand::RngCore;
use rayon::prelude::*;

/// Ethereum's proof-of-possession ciphersuite.
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// One (key, message, signature) triple; slices as sent.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub public_key: &'a [u8],
    pub signature: &'a [u8],
    pub message: &'a [u8],
}

fn point_error(e: BLST_ERROR, field: Field) -> Malformed {
    match e {
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => Malformed::NotOnCurve { field },
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => Malformed::NotInSubgroup { field },
        BLST_ERROR::BLST_PK_IS_INFINITY => Malformed::Identity { field },
        _ => Malformed::BadEncoding { field },
    }
}

/// KeyValidate: 48 compressed or 96 uncompressed bytes, on the curve, in G1, not infinity.
pub fn parse_key(bytes: &[u8]) -> Result<PublicKey, Malformed> {
    let field = Field::PublicKey;
    if bytes.len() != 48 && bytes.len() != 96 {
        return Err(Malformed::BadLength {
            field,
            expected: 48,
            got: bytes.len(),
        });
    }
    let pk = PublicKey::from_bytes(bytes).map_err(|e| point_error(e, field))?;
    pk.validate().map_err(|e| point_error(e, field))?;
    Ok(pk)
}

/// 96 compressed or 192 uncompressed bytes, on the curve, in G2 (infinity allowed: it is in
/// the group, and verifies against nothing a valid key signs).
pub fn parse_signature(bytes: &[u8]) -> Result<Signature, Malformed> {
    let field = Field::Signature;
    if bytes.len() != 96 && bytes.len() != 192 {
        return Err(Malformed::BadLength {
            field,
            expected: 96,
            got: bytes.len(),
        });
    }
    let sig = Signature::from_bytes(bytes).map_err(|e| point_error(e, field))?;
    sig.validate(false).map_err(|e| point_error(e, field))?;
    Ok(sig)
}

fn verdict(e: BLST_ERROR) -> Verdict {
    if e == BLST_ERROR::BLST_SUCCESS {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// Verify(PK, message, signature).
pub fn verify(item: &Item) -> Verdict {
    match (parse_key(item.public_key), parse_signature(item.signature)) {
        (Err(m), _) | (_, Err(m)) => Verdict::Malformed(m),
        (Ok(pk), Ok(sig)) => verdict(sig.verify(false, item.message, DST, &[], &pk, false)),
    }
}

/// AggregateVerify((PK₁, m₁), …, signature): at least one pair (the POP ciphersuite does not
/// require distinct messages).
pub fn aggregate_verify(keys: &[&[u8]], messages: &[&[u8]], signature: &[u8]) -> Verdict {
    if keys.is_empty() || keys.len() != messages.len() {
        return Verdict::Invalid;
    }
    with_parsed(keys, signature, |sig, pks| {
        sig.aggregate_verify(false, messages, DST, pks, false)
    })
}

/// FastAggregateVerify(PK₁…PKₙ, message, signature): n ≥ 1.
pub fn fast_aggregate_verify(keys: &[&[u8]], message: &[u8], signature: &[u8]) -> Verdict {
    if keys.is_empty() {
        return Verdict::Invalid;
    }
    with_parsed(keys, signature, |sig, pks| {
        sig.fast_aggregate_verify(false, message, DST, pks)
    })
}

/// Parse the signature and every key (a malformed one is the verdict), then check.
fn with_parsed(
    keys: &[&[u8]],
    signature: &[u8],
    check: impl FnOnce(&Signature, &[&PublicKey]) -> BLST_ERROR,
) -> Verdict {
    let parsed = parse_signature(signature).and_then(|sig| {
        let pks = keys
            .iter()
            .map(|k| parse_key(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sig, pks))
    });
    match parsed {
        Err(m) => Verdict::Malformed(m),
        Ok((sig, pks)) => verdict(check(&sig, &pks.iter().collect::<Vec<_>>())),
    }
}

/// The G2 point at infinity, compressed.
pub const G2_INFINITY: [u8; 96] = {
    let mut b = [0u8; 96];
    b[0] = 0xc0;
    b
};

/// Ethereum's `eth_fast_aggregate_verify`: an empty key set with the infinity signature is
/// valid; otherwise FastAggregateVerify.
pub fn eth_fast_aggregate_verify(keys: &[&[u8]], message: &[u8], signature: &[u8]) -> Verdict {
    if keys.is_empty() && signature == G2_INFINITY {
        return Verdict::Valid;
    }
    fast_aggregate_verify(keys, message, signature)
}

/// Verify independent triples: one verdict each, equal to [`verify`]'s.
pub fn verify_batch(items: &[Item]) -> Vec<Verdict> {
    batch(items, None)
}

/// [`verify_batch`] with a tenant's validated keys: a compressed key seen in an earlier call
/// is not decompressed and subgroup-checked again, and this call's new ones are kept.
pub fn verify_batch_cached(items: &[Item], keys: &Keys) -> Vec<Verdict> {
    batch(items, Some(&keys.bls))
}

/// Compressed keys and what KeyValidate made of them.
pub(crate) type Cache = KeyCache<[u8; 48], Result<PublicKey, Malformed>>;

/// Each item's key through KeyValidate: each distinct compressed key once (from `cache` where
/// it has it), uncompressed ones as they come.
fn keys_of(items: &[Item], cache: Option<&Cache>) -> Vec<Result<PublicKey, Malformed>> {
    let (distinct, slot) = keys::distinct(items.iter().map(|it| it.public_key.try_into().ok()));
    let known = keys::resolve(
        &distinct,
        cache,
        |_| true,
        |ks| ks.par_iter().map(|k| parse_key(k)).collect(),
    );
    items
        .par_iter()
        .zip(slot)
        .map(|(it, slot)| match slot {
            Some(i) => known[i as usize],
            None => parse_key(it.public_key),
        })
        .collect()
}

fn batch(items: &[Item], cache: Option<&Cache>) -> Vec<Verdict> {
    let keys = keys_of(items, cache);
    let parsed: Vec<Result<(PublicKey, Signature), Malformed>> = items
        .par_iter()
        .zip(keys)
        .map(|(it, key)| Ok((key?, parse_signature(it.signature)?)))
        .collect();
    let mut verdicts: Vec<Verdict> = parsed
        .iter()
        .map(|p| match p {
            Err(m) => Verdict::Malformed(*m),
            Ok(_) => Verdict::Valid,
        })
        .collect();
    let ok: Vec<(usize, &PublicKey, &Signature, &[u8])> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().ok().map(|(pk, s)| (i, pk, s, items[i].message)))
        .collect();
    let rands = coefficients(items, ok.len());
    let ok: Vec<Triple> = ok
        .into_iter()
        .zip(rands)
        .map(|((i, pk, sig, msg), r)| (i, pk, sig, msg, r))
        .collect();
    for (i, ..) in bisect::find_bad(&RandomCombination, &ok) {
        verdicts[*i] = Verdict::Invalid;
    }
    verdicts
}

/// An item's index in the batch, its parsed key and signature, message and coefficient.
type Triple<'a> = (usize, &'a PublicKey, &'a Signature, &'a [u8], blst_scalar);

/// The random-linear-combination pairing check, and single Verify.
struct RandomCombination;

impl BatchCheck<Triple<'_>> for RandomCombination {
    fn holds(&self, set: &[Triple]) -> bool {
        batch_holds(set)
    }

    fn single(&self, (_, pk, sig, msg, _): &Triple) -> bool {
        sig.verify(false, msg, DST, &[], pk, false) == BLST_ERROR::BLST_SUCCESS
    }
}

/// e(Σ rᵢσᵢ, g₂)… as blst's `verify_multiple_aggregate_signatures` computes it, but with the
/// Miller loops spread over rayon's workers: blst's own thread pool would compete with rayon's
/// (still spinning after the parallel decoding) for the same cores.
fn batch_holds(set: &[Triple]) -> bool {
    let chunks = rayon::current_num_threads().clamp(1, set.len());
    let per = set.len().div_ceil(chunks);
    let parts: Option<Vec<Pairing>> = set
        .par_chunks(per)
        .map(|s| {
            let mut p = Pairing::new(true, DST);
            for (_, pk, sig, msg, rand) in s {
                let pk: blst_p1_affine = (**pk).into();
                let sig: blst_p2_affine = (**sig).into();
                let e = p.mul_n_aggregate(&pk, false, &sig, false, &rand.b, 64, msg, &[]);
                if e != BLST_ERROR::BLST_SUCCESS {
                    return None;
                }
            }
            p.commit();
            Some(p)
        })
        .collect();
    let Some(mut parts) = parts else {
        return false;
    };
    let Some(mut acc) = parts.pop() else {
        return false;
    };
    for p in &parts {
        if acc.merge(p) != BLST_ERROR::BLST_SUCCESS {
            return false;
        }
    }
    acc.finalverify(None)
}

/// 64-bit coefficients from [`super::coefficient_stream`].
fn coefficients(items: &[Item], n: usize) -> Vec<blst_scalar> {
    let parts = items
        .iter()
        .flat_map(|it| [it.public_key, it.signature, it.message]);
    let mut rng = super::coefficient_stream(b"offload bls12-381 batch v1", parts);
    (0..n)
        .map(|_| {
            let mut s = blst_scalar::default();
            let mut b = [0u8; 8];
            // A zero coefficient would drop its item from the check.
            while b == [0u8; 8] {
                rng.fill_bytes(&mut b);
            }
            s.b[..8].copy_from_slice(&b);
            s
        })
        .collect()
}
