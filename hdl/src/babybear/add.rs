//! Modular adder and subtractor for BabyBear: one result per clock, latency 2.
//!
//! Stage 1 forms a + b (32 bits: the sum of two 31-bit values needs one more) or a − b + p
//! (also < 2p, 32 bits); stage 2 subtracts p when the value is at least p.

use super::P;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct BabyBearAddSub {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<31>>,
    pub b: Signal<In, Bits<31>>,
    /// Subtract (a − b) instead of add.
    pub sub: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub y: Signal<Out, Bits<31>>,
    pub out_valid: Signal<Out, Bit>,
    p: Constant<Bits<32>>,
    s: DFF<Bits<32>>,
    v1: DFF<Bit>,
    r: DFF<Bits<31>>,
    v2: DFF<Bit>,
}

impl Default for BabyBearAddSub {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            sub: Default::default(),
            in_valid: Default::default(),
            y: Default::default(),
            out_valid: Default::default(),
            p: Constant::new(P.into()),
            s: Default::default(),
            v1: Default::default(),
            r: Default::default(),
            v2: Default::default(),
        }
    }
}

impl Logic for BabyBearAddSub {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s, v1, r, v2);
        if self.sub.val() {
            self.s.d.next =
                bit_cast::<32, 31>(self.a.val()) + self.p.val() - bit_cast::<32, 31>(self.b.val());
        } else {
            self.s.d.next = bit_cast::<32, 31>(self.a.val()) + bit_cast::<32, 31>(self.b.val());
        }
        self.v1.d.next = self.in_valid.val();
        if self.s.q.val() >= self.p.val() {
            self.r.d.next = bit_cast::<31, 32>(self.s.q.val() - self.p.val());
        } else {
            self.r.d.next = bit_cast::<31, 32>(self.s.q.val());
        }
        self.v2.d.next = self.v1.q.val();
        self.y.next = self.r.q.val();
        self.out_valid.next = self.v2.q.val();
    }
}

impl crate::sim::Clocked for BabyBearAddSub {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
