//! The DIF (Gentleman–Sande) butterfly for Goldilocks: (a, b, w) → (a + b, (a − b)·w), one
//! per clock, latency 20. Goldilocks has no Montgomery form here (the multiplier reduces any
//! 128-bit product), so twiddles are stored as they are. `swap` computes (b − a) instead, which
//! the inverse transform uses to turn ω^(N/2 − k) into ω^−k = −ω^(N/2 − k). A tag travels with
//! every pair, so the engine knows where the results belong without counting cycles.
//!
//! Timing: the operands are registered on entry (they come straight from block RAM), then sum
//! and difference take the adder's 4 cycles; the difference then takes the multiplier's 15
//! while the sum waits in a 15-deep delay line; the twiddle waits 4 cycles to meet the
//! difference at the multiplier.

use super::add::{self, GoldilocksAddSub};
use super::mul::{self, GoldilocksMul};
use rust_hdl::prelude::*;

pub const LATENCY: usize = 1 + add::LATENCY + mul::LATENCY;

#[derive(LogicBlock, Default)]
pub struct GoldilocksButterfly {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<64>>,
    pub b: Signal<In, Bits<64>>,
    pub w: Signal<In, Bits<64>>,
    pub swap: Signal<In, Bit>,
    pub tag: Signal<In, Bits<16>>,
    pub in_valid: Signal<In, Bit>,
    pub x: Signal<Out, Bits<64>>,
    pub y: Signal<Out, Bits<64>>,
    pub tag_out: Signal<Out, Bits<16>>,
    pub out_valid: Signal<Out, Bit>,
    in_a: DFF<Bits<64>>,
    in_b: DFF<Bits<64>>,
    in_w: DFF<Bits<64>>,
    in_swap: DFF<Bit>,
    in_tag: DFF<Bits<16>>,
    in_v: DFF<Bit>,
    sum: GoldilocksAddSub,
    diff: GoldilocksAddSub,
    mul: GoldilocksMul,
    w_line: [DFF<Bits<64>>; 4],
    x_line: [DFF<Bits<64>>; 15],
    tag_line: [DFF<Bits<16>>; 19],
}

impl Logic for GoldilocksButterfly {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, in_a, in_b, in_w, in_swap, in_tag, in_v);
        self.in_a.d.next = self.a.val();
        self.in_b.d.next = self.b.val();
        self.in_w.d.next = self.w.val();
        self.in_swap.d.next = self.swap.val();
        self.in_tag.d.next = self.tag.val();
        self.in_v.d.next = self.in_valid.val();
        self.sum.clock.next = self.clock.val();
        self.diff.clock.next = self.clock.val();
        self.mul.clock.next = self.clock.val();
        for i in 0..4 {
            self.w_line[i].clock.next = self.clock.val();
        }
        for i in 0..15 {
            self.x_line[i].clock.next = self.clock.val();
        }
        for i in 0..19 {
            self.tag_line[i].clock.next = self.clock.val();
        }
        self.sum.a.next = self.in_a.q.val();
        self.sum.b.next = self.in_b.q.val();
        self.sum.sub.next = false;
        self.sum.in_valid.next = self.in_v.q.val();
        if self.in_swap.q.val() {
            self.diff.a.next = self.in_b.q.val();
            self.diff.b.next = self.in_a.q.val();
        } else {
            self.diff.a.next = self.in_a.q.val();
            self.diff.b.next = self.in_b.q.val();
        }
        self.diff.sub.next = true;
        self.diff.in_valid.next = self.in_v.q.val();
        self.w_line[0].d.next = self.in_w.q.val();
        for i in 1..4 {
            self.w_line[i].d.next = self.w_line[i - 1].q.val();
        }
        self.mul.a.next = self.diff.y.val();
        self.mul.b.next = self.w_line[3].q.val();
        self.mul.in_valid.next = self.diff.out_valid.val();
        self.x_line[0].d.next = self.sum.y.val();
        for i in 1..15 {
            self.x_line[i].d.next = self.x_line[i - 1].q.val();
        }
        self.tag_line[0].d.next = self.in_tag.q.val();
        for i in 1..19 {
            self.tag_line[i].d.next = self.tag_line[i - 1].q.val();
        }
        self.x.next = self.x_line[14].q.val();
        self.y.next = self.mul.y.val();
        self.tag_out.next = self.tag_line[18].q.val();
        self.out_valid.next = self.mul.out_valid.val();
    }
}

impl crate::sim::Clocked for GoldilocksButterfly {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
