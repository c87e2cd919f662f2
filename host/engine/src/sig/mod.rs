//! Batch signature verification: N items in, N verdicts out, each equal to what single
//! verification under the same policy says. A batch equation, where a scheme has one, only
//! speeds up the common case; when it fails, the bad items are found exactly.

mod bip340_batch;
mod bisect;
pub mod bls;
pub mod ed25519;
mod ed25519_lanes;
pub mod keys;
pub mod secp256k1;

use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha512};
use std::fmt;
use std::sync::OnceLock;

/// The random stream for a batch equation's coefficients: ChaCha20 keyed by SHA-512 of a
/// per-process secret and every part of every item (length-prefixed), under a domain tag.
/// Whoever submits the batch cannot predict the coefficients; the verdicts do not depend on
/// them (a failed equation is always settled by single checks).
pub(crate) fn coefficient_stream<'a>(
    tag: &[u8],
    parts: impl Iterator<Item = &'a [u8]>,
) -> rand_chacha::ChaCha20Rng {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    let secret = SECRET.get_or_init(|| {
        let mut s = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut s);
        s
    });
    let mut h = Sha512::new();
    h.update(tag);
    h.update(secret);
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&h.finalize()[..32]);
    rand_chacha::ChaCha20Rng::from_seed(seed)
}

/// Which part of an item a malformation concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    PublicKey,
    Signature,
    /// The signature's commitment point R (Ed25519, BIP340) or r value (ECDSA).
    R,
    /// The signature's scalar S (Ed25519, BIP340) or s value (ECDSA).
    S,
    Message,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::PublicKey => "public key",
            Field::Signature => "signature",
            Field::R => "signature R",
            Field::S => "signature S",
            Field::Message => "message",
        })
    }
}

/// Why an item could not even be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Malformed {
    #[error("{field}: {got} bytes, expected {expected}")]
    BadLength {
        field: Field,
        expected: usize,
        got: usize,
    },
    #[error("{field}: not a point on the curve")]
    NotOnCurve { field: Field },
    #[error("{field}: non-canonical encoding")]
    NonCanonical { field: Field },
    #[error("{field}: scalar not below the group order")]
    ScalarOutOfRange { field: Field },
    #[error("{field}: not a valid encoding")]
    BadEncoding { field: Field },
    #[error("{field}: not in the prime-order subgroup")]
    NotInSubgroup { field: Field },
    #[error("{field}: the point at infinity")]
    Identity { field: Field },
}

/// One verdict per item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Valid,
    Invalid,
    Malformed(Malformed),
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }
}
