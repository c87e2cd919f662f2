//! The BabyBear butterfly ([`crate::butterfly`]): latency 12. The multiplier works in
//! Montgomery form, so the twiddle comes as ω·2^32 mod p and the second output is
//! (a − b)·w·2^−32 = (a − b)·ω.

use super::add::BabyBearAddSub;
use super::mul::{self, BabyBearMul};
use rust_hdl::prelude::*;

const _: () = assert!(mul::LATENCY == 9);

crate::butterfly!(
    /// The BabyBear butterfly: 31-bit elements, adder 2 cycles, Montgomery multiplier 9.
    BabyBearButterfly,
    31,
    BabyBearAddSub,
    2,
    BabyBearMul,
    9,
    11
);
