//! The BabyBear NTT engine: the field-generic engine ([`crate::ntt`]) with 31-bit elements and
//! the BabyBear butterfly, whose multiplier works in Montgomery form, so the twiddle and
//! scaling ROMs hold ω^k·2^32 mod p and 2^−l·2^32 mod p.

use super::butterfly::{self, BabyBearButterfly};
use super::P;
use crate::ntt::{field, FieldSpec};
use rust_hdl::prelude::*;

pub use crate::ntt::{err, reg, status};

/// Plonky3's generator of the 2^27-th roots of unity (31^((p−1)/2^27) mod p).
const TWO_ADIC_GENERATOR: u64 = 0x1a42_7a41;
const TWO_ADICITY: usize = 27;
const R_MOD_P: u64 = (1u64 << 32) % P;

fn pow_mod(mut b: u64, mut e: u64) -> u64 {
    let mut acc = 1u64;
    b %= P;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * b % P;
        }
        b = b * b % P;
        e >>= 1;
    }
    acc
}

/// ω_n for n = 2^log_n, the CPU engine's root.
pub fn root_of_unity(log_n: usize) -> u64 {
    pow_mod(TWO_ADIC_GENERATOR, 1 << (TWO_ADICITY - log_n))
}

fn montgomery(x: u64) -> u64 {
    x * R_MOD_P % P
}

/// BabyBear's constants for the engine.
pub const SPEC: FieldSpec = FieldSpec {
    p: P,
    code: field::BABYBEAR,
    latency: butterfly::LATENCY,
    twiddle: |log_max, k| montgomery(pow_mod(root_of_unity(log_max), k)),
    // (2^l)^−1 = ((p+1)/2)^l.
    inv_pow2: |l| montgomery(pow_mod(P.div_ceil(2), l)),
};

/// Compute cycles of one transform of size 2^log_n on `lanes` lanes, as the CYCLES register
/// reports them.
pub fn compute_cycles(log_n: u32, inverse: bool, lanes: u64) -> u64 {
    crate::ntt::compute_cycles(log_n, inverse, lanes, butterfly::LATENCY)
}

crate::ntt_engine!(
    /// The BabyBear engine for sizes up to 2^A on L lanes; W = A − 1, B = A − log2(2L),
    /// K = 2L (see [`crate::ntt::engine::NttCore`]).
    BabyBearNtt,
    BabyBearNttPins,
    BabyBearButterfly,
    31,
    SPEC
);
