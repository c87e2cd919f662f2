//! The Montgomery multiplier behind a 16-bit port, for a build on its own: three 256-bit
//! buses need 770 pins and the ECP5-85's largest package has 365, so nextpnr cannot place the
//! bare core. Operands shift in and the product shifts out a word per clock; in a real design
//! the multiplier sits beside its producer on chip and this wrapper is not used.

use super::mont::Bn254MontMul;
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct Bn254MontPins {
    pub clock: Signal<In, Clock>,
    /// Shift `din` in: a's words from the lowest, then b's (32 clocks).
    pub shift_in: Signal<In, Bit>,
    pub din: Signal<In, Bits<16>>,
    pub start: Signal<In, Bit>,
    /// Shift the product out, lowest word first, on `dout`.
    pub shift_out: Signal<In, Bit>,
    pub dout: Signal<Out, Bits<16>>,
    pub busy: Signal<Out, Bit>,
    pub done: Signal<Out, Bit>,
    mul: Bn254MontMul,
    ab: DFF<Bits<512>>,
    y: DFF<Bits<256>>,
}

impl Logic for Bn254MontPins {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, ab, y);
        self.mul.clock.next = self.clock.val();
        if self.shift_in.val() {
            self.ab.d.next = (self.ab.q.val() >> 16) | (bit_cast::<512, 16>(self.din.val()) << 496);
        }
        self.mul.a.next = self.ab.q.val().get_bits::<256>(0);
        self.mul.b.next = self.ab.q.val().get_bits::<256>(256);
        self.mul.start.next = self.start.val();
        if self.mul.done.val() {
            self.y.d.next = self.mul.y.val();
        } else if self.shift_out.val() {
            self.y.d.next = self.y.q.val() >> 16;
        }
        self.dout.next = self.y.q.val().get_bits::<16>(0);
        self.busy.next = self.mul.busy.val();
        self.done.next = self.mul.done.val();
    }
}

impl crate::sim::Clocked for Bn254MontPins {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
