//! Modular adder and subtractor for Goldilocks: one result per clock, latency 4.
//!
//! a ± b is formed a 32-bit word at a time, the carry or borrow of the low word going into the
//! high word one stage later, and so is the other candidate (s − p for a sum, d + p for a
//! difference); the last stage keeps whichever lies in [0, p) by the sign of s − p or of d.
//!
//! Stages: 1 low word of a ± b (33 bits, bit 32 the carry/borrow); 2 high word (33 bits: the
//! sum's 65th bit, or the difference's sign) and the low word of the candidate; 3 its high word
//! (34 bits, bit 33 the sign of s − p); 4 the choice.

use rust_hdl::prelude::*;

/// Cycles from operands in to result out.
pub const LATENCY: usize = 4;

#[derive(LogicBlock, Default)]
pub struct GoldilocksAddSub {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<64>>,
    pub b: Signal<In, Bits<64>>,
    /// Subtract (a − b) instead of add.
    pub sub: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub y: Signal<Out, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    lo1: DFF<Bits<33>>,
    a_hi1: DFF<Bits<32>>,
    b_hi1: DFF<Bits<32>>,
    sub1: DFF<Bit>,
    hi2: DFF<Bits<33>>,
    lo2: DFF<Bits<32>>,
    alt_lo2: DFF<Bits<33>>,
    sub2: DFF<Bit>,
    hi3: DFF<Bits<33>>,
    lo3: DFF<Bits<32>>,
    alt_hi3: DFF<Bits<34>>,
    alt_lo3: DFF<Bits<32>>,
    sub3: DFF<Bit>,
    r: DFF<Bits<64>>,
    valid: DFF<Bits<4>>,
    // 2^32 − 1 as a 32-bit signal: rust-hdl writes `bit_cast` as a mask, so an inverted literal
    // widened in place would be inverted at the wider width in Verilog.
    ones: Signal<Local, Bits<32>>,
}

impl Logic for GoldilocksAddSub {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, lo1, a_hi1, b_hi1, sub1, hi2, lo2, alt_lo2, sub2, hi3, lo3, alt_hi3,
            alt_lo3, sub3, r, valid
        );
        self.ones.next = !bits::<32>(0);
        // 1: low words.
        if self.sub.val() {
            self.lo1.d.next = bit_cast::<33, 32>(self.a.val().get_bits::<32>(0))
                - bit_cast::<33, 32>(self.b.val().get_bits::<32>(0));
        } else {
            self.lo1.d.next = bit_cast::<33, 32>(self.a.val().get_bits::<32>(0))
                + bit_cast::<33, 32>(self.b.val().get_bits::<32>(0));
        }
        self.a_hi1.d.next = self.a.val().get_bits::<32>(32);
        self.b_hi1.d.next = self.b.val().get_bits::<32>(32);
        self.sub1.d.next = self.sub.val();
        // 2: high words with the low word's carry; the candidate's low word (p's is 1).
        if self.sub1.q.val() {
            self.hi2.d.next = bit_cast::<33, 32>(self.a_hi1.q.val())
                - bit_cast::<33, 32>(self.b_hi1.q.val())
                - bit_cast::<33, 1>(self.lo1.q.val().get_bits::<1>(32));
            self.alt_lo2.d.next = bit_cast::<33, 32>(self.lo1.q.val().get_bits::<32>(0)) + 1;
        } else {
            self.hi2.d.next = bit_cast::<33, 32>(self.a_hi1.q.val())
                + bit_cast::<33, 32>(self.b_hi1.q.val())
                + bit_cast::<33, 1>(self.lo1.q.val().get_bits::<1>(32));
            self.alt_lo2.d.next = bit_cast::<33, 32>(self.lo1.q.val().get_bits::<32>(0)) - 1;
        }
        self.lo2.d.next = self.lo1.q.val().get_bits::<32>(0);
        self.sub2.d.next = self.sub1.q.val();
        // 3: the candidate's high word (p's is 2^32 − 1) with the low word's carry or borrow.
        if self.sub2.q.val() {
            self.alt_hi3.d.next = bit_cast::<34, 32>(self.hi2.q.val().get_bits::<32>(0))
                + bit_cast::<34, 32>(self.ones.val())
                + bit_cast::<34, 1>(self.alt_lo2.q.val().get_bits::<1>(32));
        } else {
            self.alt_hi3.d.next = bit_cast::<34, 33>(self.hi2.q.val())
                - bit_cast::<34, 32>(self.ones.val())
                - bit_cast::<34, 1>(self.alt_lo2.q.val().get_bits::<1>(32));
        }
        self.hi3.d.next = self.hi2.q.val();
        self.lo3.d.next = self.lo2.q.val();
        self.alt_lo3.d.next = self.alt_lo2.q.val().get_bits::<32>(0);
        self.sub3.d.next = self.sub2.q.val();
        // 4: a difference below 0 takes d + p; a sum takes s − p unless that is below 0.
        if (self.sub3.q.val() && self.hi3.q.val().get_bit(32))
            || (!self.sub3.q.val() && !self.alt_hi3.q.val().get_bit(33))
        {
            self.r.d.next = (bit_cast::<64, 32>(self.alt_hi3.q.val().get_bits::<32>(0)) << 32)
                | bit_cast::<64, 32>(self.alt_lo3.q.val());
        } else {
            self.r.d.next = (bit_cast::<64, 32>(self.hi3.q.val().get_bits::<32>(0)) << 32)
                | bit_cast::<64, 32>(self.lo3.q.val());
        }
        self.valid.d.next =
            (self.valid.q.val() << 1) | bit_cast::<4, 1>(self.in_valid.val().into());
        self.y.next = self.r.q.val();
        self.out_valid.next = self.valid.q.val().get_bit(3);
    }
}

impl crate::sim::Clocked for GoldilocksAddSub {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
