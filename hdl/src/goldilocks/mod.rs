//! Goldilocks, p = 2^64 − 2^32 + 1: elements are 64-bit canonical values (< p) on every port.
//!
//! Every carry chain is cut at 32 bits (33–35 with the carries): a 64-bit chain is what held an
//! earlier multiplier to 92–97 MHz on the ECP5-85, and p's shape (2^64 ≡ 2^32 − 1, 2^96 ≡ −1)
//! lets the reduction work on 32-bit words.

pub mod add;
pub mod butterfly;
pub mod mul;
pub mod ntt;

/// The modulus.
pub const P: u64 = 0xffff_ffff_0000_0001;
