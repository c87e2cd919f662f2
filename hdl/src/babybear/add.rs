//! Modular adder and subtractor for BabyBear: one result per clock, latency 2.
//!
//! Stage 1 forms a + b, or a − b with its borrow (33 bits: the sum of two 31-bit values needs
//! one more, the difference a sign). Stage 2 forms the other candidate, s − p or d + p, and
//! keeps whichever lies in [0, p) by the sign of s − p or of d: one carry chain per stage,
//! which keeps the adder off the critical path at 100 MHz and above.

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
    p: Constant<Bits<33>>,
    s: DFF<Bits<33>>,
    is_sub: DFF<Bit>,
    v1: DFF<Bit>,
    r: DFF<Bits<31>>,
    v2: DFF<Bit>,
    alt: Signal<Local, Bits<33>>,
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
            is_sub: Default::default(),
            v1: Default::default(),
            r: Default::default(),
            v2: Default::default(),
            alt: Default::default(),
        }
    }
}

impl Logic for BabyBearAddSub {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s, is_sub, v1, r, v2);
        if self.sub.val() {
            self.s.d.next = bit_cast::<33, 31>(self.a.val()) - bit_cast::<33, 31>(self.b.val());
        } else {
            self.s.d.next = bit_cast::<33, 31>(self.a.val()) + bit_cast::<33, 31>(self.b.val());
        }
        self.is_sub.d.next = self.sub.val();
        self.v1.d.next = self.in_valid.val();
        // a − b < 0: add p. a + b ≥ p: subtract p (s − p is then non-negative).
        if self.is_sub.q.val() {
            self.alt.next = self.s.q.val() + self.p.val();
            if self.s.q.val().get_bit(32) {
                self.r.d.next = bit_cast::<31, 33>(self.alt.val());
            } else {
                self.r.d.next = bit_cast::<31, 33>(self.s.q.val());
            }
        } else {
            self.alt.next = self.s.q.val() - self.p.val();
            if self.alt.val().get_bit(32) {
                self.r.d.next = bit_cast::<31, 33>(self.s.q.val());
            } else {
                self.r.d.next = bit_cast::<31, 33>(self.alt.val());
            }
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
