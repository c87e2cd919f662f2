//! A clock-cycle driver over rust-hdl's simulator: the tests, the simulated FPGA device and the
//! bench all step cores with it, so "one cycle" means the same thing everywhere.

use rust_hdl::prelude::*;

/// A core with one clock input.
pub trait Clocked: Block {
    fn clock(&mut self) -> &mut Signal<In, Clock>;
}

#[derive(Debug, thiserror::Error)]
pub enum SimFailure {
    #[error("the design does not check: {0:?}")]
    Check(rust_hdl::core::check_error::CheckError),
    #[error("the logic did not settle within {0} passes at cycle {1} (a combinational loop?)")]
    NoConvergence(usize, u64),
}

/// Passes of the update loop allowed per clock phase before the logic counts as unsettled.
const SETTLE: usize = 1000;

pub struct Sim<B> {
    pub uut: B,
    cycles: u64,
}

impl<B: Clocked> Sim<B> {
    /// Connect and check the design (undriven signals, logic loops, writes to inputs).
    pub fn new(mut uut: B) -> Result<Self, SimFailure> {
        uut.connect_all();
        check_all(&uut).map_err(SimFailure::Check)?;
        let mut s = Self { uut, cycles: 0 };
        s.settle()?;
        Ok(s)
    }

    fn settle(&mut self) -> Result<(), SimFailure> {
        if simulate(&mut self.uut, SETTLE) {
            Ok(())
        } else {
            Err(SimFailure::NoConvergence(SETTLE, self.cycles))
        }
    }

    /// One clock cycle: inputs set (`.next`) before the call are sampled at the rising edge;
    /// outputs read after it show the registers' new state.
    pub fn step(&mut self) -> Result<(), SimFailure> {
        self.uut.clock().next = Clock::from(false);
        self.settle()?;
        self.uut.clock().next = Clock::from(true);
        self.settle()?;
        self.cycles += 1;
        Ok(())
    }

    /// Rising edges so far.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }
}

/// `value` (little-endian 64-bit limbs) as an N-bit vector; bits past N are dropped.
pub fn to_bits<const N: usize>(value: &[u64]) -> Bits<N> {
    let mut b = Bits::<N>::default();
    for (i, &limb) in value.iter().enumerate() {
        let at = 64 * i;
        if at >= N {
            break;
        }
        for bit in 0..64.min(N - at) {
            if (limb >> bit) & 1 == 1 {
                b = b.replace_bit(at + bit, true);
            }
        }
    }
    b
}

/// An N-bit vector as little-endian 64-bit limbs.
pub fn from_bits<const N: usize>(b: Bits<N>) -> Vec<u64> {
    let mut out = vec![0u64; N.div_ceil(64)];
    for i in 0..N {
        if b.get_bit(i) {
            out[i / 64] |= 1 << (i % 64);
        }
    }
    out
}
