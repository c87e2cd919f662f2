//! BabyBear, p = 2^31 − 2^27 + 1: elements are 31-bit canonical values (< p) on every port.

pub mod add;
pub mod butterfly;
pub mod mul;
pub mod ntt;

/// The modulus.
pub const P: u64 = 0x7800_0001;
