//! The Goldilocks NTT engine: the field-generic engine ([`crate::ntt`]) with 64-bit elements
//! and the Goldilocks butterfly, whose multiplier takes canonical values, so the ROMs hold ω^k
//! and 2^−l as they are. Elements pass the 32-bit register map as DATA_HI, then DATA.

use super::butterfly::{self, GoldilocksButterfly};
use super::P;
use crate::ntt::{field, FieldSpec};
use rust_hdl::prelude::*;

/// Plonky3's generator of the 2^32-th roots of unity.
const TWO_ADIC_GENERATOR: u64 = 0x185629dcda58878c;
const TWO_ADICITY: usize = 32;

fn mul(a: u64, b: u64) -> u64 {
    (a as u128 * b as u128 % P as u128) as u64
}

fn pow_mod(mut b: u64, mut e: u64) -> u64 {
    let mut acc = 1u64;
    while e > 0 {
        if e & 1 == 1 {
            acc = mul(acc, b);
        }
        b = mul(b, b);
        e >>= 1;
    }
    acc
}

/// ω_n for n = 2^log_n, the CPU engine's root.
pub fn root_of_unity(log_n: usize) -> u64 {
    pow_mod(TWO_ADIC_GENERATOR, 1 << (TWO_ADICITY - log_n))
}

/// Goldilocks' constants for the engine.
pub const SPEC: FieldSpec = FieldSpec {
    p: P,
    code: field::GOLDILOCKS,
    latency: butterfly::LATENCY,
    twiddle: |log_max, k| pow_mod(root_of_unity(log_max), k),
    // (2^l)^−1 = ((p+1)/2)^l.
    inv_pow2: |l| pow_mod(P / 2 + 1, l),
};

/// Compute cycles of one transform of size 2^log_n on `lanes` lanes, as the CYCLES register
/// reports them.
pub fn compute_cycles(log_n: u32, inverse: bool, lanes: u64) -> u64 {
    crate::ntt::compute_cycles(log_n, inverse, lanes, butterfly::LATENCY)
}

crate::ntt_engine!(
    /// The Goldilocks engine for sizes up to 2^A on L lanes; W = A − 1, B = A − log2(2L),
    /// K = 2L (see [`crate::ntt::engine::NttCore`]).
    GoldilocksNtt,
    GoldilocksNttPins,
    GoldilocksButterfly,
    64,
    SPEC
);
