//! The Goldilocks butterfly ([`crate::butterfly`]): latency 20. Goldilocks has no Montgomery
//! form here (the multiplier reduces any 128-bit product), so twiddles are stored as they are.

use super::add::{self, GoldilocksAddSub};
use super::mul::{self, GoldilocksMul};
use rust_hdl::prelude::*;

const _: () = assert!(add::LATENCY == 4 && mul::LATENCY == 15);

crate::butterfly!(
    /// The Goldilocks butterfly: 64-bit elements, adder 4 cycles, multiplier 15.
    GoldilocksButterfly,
    64,
    GoldilocksAddSub,
    4,
    GoldilocksMul,
    15,
    19
);
