//! secp256k1 ECDSA and BIP340 Schnorr, one verdict per signature. Single verification is
//! libsecp256k1's; ECDSA batches run it in parallel (ECDSA has no batch equation over r alone),
//! BIP340 batches of 128 or more use BIP340's batch equation on the engine's MSM
//! ([`super::bip340_batch`]), which measured 1.3x (128) to 2.4x (16384) faster than parallel
//! singles on two cores (docs/PERFORMANCE.md).
//!
//! ECDSA signs a 32-byte digest; signatures come compact (64 bytes, r ‖ s) or DER, public keys
//! compressed (33 bytes) or uncompressed (65). With `low_s` required (Bitcoin's standardness
//! rule, libsecp256k1's own behaviour) a high-S signature is rejected as non-canonical;
//! without it, it is normalised first, so (r, s) and (r, n − s) verify alike.
//! BIP340 takes 32-byte x-only keys, 64-byte signatures and messages of any length.

use super::{Field, Malformed, Verdict};
use rayon::prelude::*;
use secp256k1::{ecdsa, schnorr, Message, PublicKey, XOnlyPublicKey};

/// How ECDSA signatures are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Compact,
    Der,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EcdsaConfig {
    pub encoding: Encoding,
    /// Require s ≤ n/2.
    pub low_s: bool,
}

/// One ECDSA signature over a digest; slices as sent, lengths unchecked.
#[derive(Clone, Copy, Debug)]
pub struct EcdsaItem<'a> {
    pub public_key: &'a [u8],
    pub signature: &'a [u8],
    pub digest: &'a [u8],
}

fn parse_key(bytes: &[u8]) -> Result<PublicKey, Malformed> {
    if bytes.len() != 33 && bytes.len() != 65 {
        return Err(Malformed::BadLength {
            field: Field::PublicKey,
            expected: 33,
            got: bytes.len(),
        });
    }
    PublicKey::from_slice(bytes).map_err(|_| Malformed::NotOnCurve {
        field: Field::PublicKey,
    })
}

fn parse_ecdsa(
    cfg: EcdsaConfig,
    item: &EcdsaItem,
) -> Result<(PublicKey, ecdsa::Signature, Message), Malformed> {
    let digest: [u8; 32] = item.digest.try_into().map_err(|_| Malformed::BadLength {
        field: Field::Message,
        expected: 32,
        got: item.digest.len(),
    })?;
    let pk = parse_key(item.public_key)?;
    let mut sig = match cfg.encoding {
        Encoding::Compact => {
            if item.signature.len() != 64 {
                return Err(Malformed::BadLength {
                    field: Field::Signature,
                    expected: 64,
                    got: item.signature.len(),
                });
            }
            // Fails only when r or s is not below n.
            ecdsa::Signature::from_compact(item.signature).map_err(|_| {
                Malformed::ScalarOutOfRange {
                    field: Field::Signature,
                }
            })?
        }
        Encoding::Der => {
            ecdsa::Signature::from_der(item.signature).map_err(|_| Malformed::BadEncoding {
                field: Field::Signature,
            })?
        }
    };
    let mut normal = sig;
    normal.normalize_s();
    if normal != sig {
        if cfg.low_s {
            return Err(Malformed::NonCanonical { field: Field::S });
        }
        sig = normal;
    }
    Ok((pk, sig, Message::from_digest(digest)))
}

pub fn verify_ecdsa(cfg: EcdsaConfig, item: &EcdsaItem) -> Verdict {
    match parse_ecdsa(cfg, item) {
        Err(m) => Verdict::Malformed(m),
        Ok((pk, sig, msg)) => match ecdsa::verify(&sig, msg, &pk) {
            Ok(()) => Verdict::Valid,
            Err(_) => Verdict::Invalid,
        },
    }
}

pub fn verify_ecdsa_batch(cfg: EcdsaConfig, items: &[EcdsaItem]) -> Vec<Verdict> {
    items
        .par_iter()
        .with_min_len(16)
        .map(|it| verify_ecdsa(cfg, it))
        .collect()
}

/// One BIP340 signature; slices as sent.
#[derive(Clone, Copy, Debug)]
pub struct SchnorrItem<'a> {
    pub public_key: &'a [u8],
    pub signature: &'a [u8],
    pub message: &'a [u8],
}

pub fn verify_schnorr(item: &SchnorrItem) -> Verdict {
    let pk: [u8; 32] = match item.public_key.try_into() {
        Ok(pk) => pk,
        Err(_) => {
            return Verdict::Malformed(Malformed::BadLength {
                field: Field::PublicKey,
                expected: 32,
                got: item.public_key.len(),
            })
        }
    };
    let sig: [u8; 64] = match item.signature.try_into() {
        Ok(s) => s,
        Err(_) => {
            return Verdict::Malformed(Malformed::BadLength {
                field: Field::Signature,
                expected: 64,
                got: item.signature.len(),
            })
        }
    };
    let Ok(pk) = XOnlyPublicKey::from_byte_array(pk) else {
        return Verdict::Malformed(Malformed::NotOnCurve {
            field: Field::PublicKey,
        });
    };
    match schnorr::verify(&schnorr::Signature::from_byte_array(sig), item.message, &pk) {
        Ok(()) => Verdict::Valid,
        Err(_) => Verdict::Invalid,
    }
}

/// How a batch of BIP340 signatures is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SchnorrMethod {
    /// The batch equation where the batch is large enough for it to win, else singles.
    #[default]
    Auto,
    /// The batch equation, in chunks of at least this many items (one per thread).
    Equation { min_chunk: usize },
    /// libsecp256k1's single verification of each item, in parallel.
    Singles,
}

/// Batches below this size are verified singly (measured: docs/PERFORMANCE.md).
const EQUATION_FROM: usize = 128;
/// Smallest chunk worth an equation of its own.
const MIN_CHUNK: usize = 1024;

/// Verify a batch of BIP340 signatures: one verdict per item, equal to [`verify_schnorr`]'s.
pub fn verify_schnorr_batch(items: &[SchnorrItem]) -> Vec<Verdict> {
    verify_schnorr_batch_with(items, SchnorrMethod::Auto)
}

/// [`verify_schnorr_batch`] with a chosen method.
pub fn verify_schnorr_batch_with(items: &[SchnorrItem], method: SchnorrMethod) -> Vec<Verdict> {
    let method = match method {
        SchnorrMethod::Auto if items.len() < EQUATION_FROM => SchnorrMethod::Singles,
        SchnorrMethod::Auto => SchnorrMethod::Equation {
            min_chunk: MIN_CHUNK,
        },
        m => m,
    };
    match method {
        SchnorrMethod::Equation { min_chunk } => {
            let chunk = items
                .len()
                .div_ceil(rayon::current_num_threads())
                .max(min_chunk);
            super::bip340_batch::verify_batch(items, chunk)
        }
        _ => items
            .par_iter()
            .with_min_len(16)
            .map(verify_schnorr)
            .collect(),
    }
}
