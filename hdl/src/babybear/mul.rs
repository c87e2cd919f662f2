//! Montgomery multiplier for BabyBear: y = a·b·2^−32 mod p, one result per clock, latency 9.
//!
//! With R = 2^32, a twiddle stored as ω·R mod p multiplies a canonical value by ω: the NTT keeps
//! its data canonical and only the constants live in Montgomery form.
//!
//! The 31×31-bit product comes from four 16×16 partial products (the ECP5's 18×18 DSPs). The
//! reduction is Montgomery's with p^−1 rather than −p^−1: m = t·p^−1 mod 2^32 makes the low
//! halves of t and m·p equal, so (t − m·p)/2^32 = t_hi − (m·p)_hi lies in (−p, p) and one
//! conditional add of p finishes. p = 1 + 15·2^27 makes both constants shifts and adds:
//! p^−1 = 1 + 2^27 + 2^31 mod 2^32, and (m·p) >> 32 = (15·m + (m >> 27)) >> 5.
//! No carry chain is longer than 36 bits per stage; 64-bit chains held an earlier design to
//! 92–97 MHz on the ECP5-85.
//!
//! Stages: 1 operands; 2 partial products; 3 middle sum; 4 low and high halves of t; 5 m and
//! t_hi; 6 15·m; 7 (m·p)_hi; 8 t_hi − (m·p)_hi; 9 + p if negative.

use super::P;
use rust_hdl::prelude::*;

/// Cycles from operands in to product out.
pub const LATENCY: usize = 9;

#[derive(LogicBlock)]
pub struct BabyBearMul {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<31>>,
    pub b: Signal<In, Bits<31>>,
    pub in_valid: Signal<In, Bit>,
    pub y: Signal<Out, Bits<31>>,
    pub out_valid: Signal<Out, Bit>,
    p: Constant<Bits<32>>,
    a1: DFF<Bits<32>>,
    b1: DFF<Bits<32>>,
    p00: DFF<Bits<32>>,
    p01: DFF<Bits<32>>,
    p10: DFF<Bits<32>>,
    p11: DFF<Bits<32>>,
    mid: DFF<Bits<33>>,
    p00_3: DFF<Bits<32>>,
    p11_3: DFF<Bits<32>>,
    low: DFF<Bits<33>>,
    high: DFF<Bits<32>>,
    m: DFF<Bits<32>>,
    t_hi5: DFF<Bits<32>>,
    m15: DFF<Bits<36>>,
    m_top: DFF<Bits<5>>,
    t_hi6: DFF<Bits<32>>,
    mp_hi: DFF<Bits<32>>,
    t_hi7: DFF<Bits<32>>,
    d: DFF<Bits<33>>,
    r: DFF<Bits<31>>,
    valid: DFF<Bits<9>>,
}

impl Default for BabyBearMul {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            a: Default::default(),
            b: Default::default(),
            in_valid: Default::default(),
            y: Default::default(),
            out_valid: Default::default(),
            p: Constant::new(P.into()),
            a1: Default::default(),
            b1: Default::default(),
            p00: Default::default(),
            p01: Default::default(),
            p10: Default::default(),
            p11: Default::default(),
            mid: Default::default(),
            p00_3: Default::default(),
            p11_3: Default::default(),
            low: Default::default(),
            high: Default::default(),
            m: Default::default(),
            t_hi5: Default::default(),
            m15: Default::default(),
            m_top: Default::default(),
            t_hi6: Default::default(),
            mp_hi: Default::default(),
            t_hi7: Default::default(),
            d: Default::default(),
            r: Default::default(),
            valid: Default::default(),
        }
    }
}

impl Logic for BabyBearMul {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, a1, b1, p00, p01, p10, p11, mid, p00_3, p11_3, low, high, m, t_hi5, m15,
            m_top, t_hi6, mp_hi, t_hi7, d, r, valid
        );
        // 1: operands, widened to two 16-bit halves each.
        self.a1.d.next = bit_cast::<32, 31>(self.a.val());
        self.b1.d.next = bit_cast::<32, 31>(self.b.val());
        // 2: partial products.
        self.p00.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(0);
        self.p01.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(16);
        self.p10.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(0);
        self.p11.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(16);
        // 3: the two middle products (33 bits).
        self.mid.d.next =
            bit_cast::<33, 32>(self.p01.q.val()) + bit_cast::<33, 32>(self.p10.q.val());
        self.p00_3.d.next = self.p00.q.val();
        self.p11_3.d.next = self.p11.q.val();
        // 4: t = low + high·2^32 with the carry of low still apart.
        self.low.d.next = bit_cast::<33, 32>(self.p00_3.q.val())
            + (bit_cast::<33, 16>(self.mid.q.val().get_bits::<16>(0)) << 16);
        self.high.d.next =
            self.p11_3.q.val() + bit_cast::<32, 17>(self.mid.q.val().get_bits::<17>(16));
        // 5: m = t_lo·p^−1 mod 2^32 = t_lo + (t_lo mod 32)·2^27 + (t_lo mod 2)·2^31.
        self.m.d.next = self.low.q.val().get_bits::<32>(0)
            + (bit_cast::<32, 5>(self.low.q.val().get_bits::<5>(0)) << 27)
            + (bit_cast::<32, 1>(self.low.q.val().get_bits::<1>(0)) << 31);
        self.t_hi5.d.next =
            self.high.q.val() + bit_cast::<32, 1>(self.low.q.val().get_bits::<1>(32));
        // 6: 15·m = 16·m − m (36 bits).
        self.m15.d.next =
            (bit_cast::<36, 32>(self.m.q.val()) << 4) - bit_cast::<36, 32>(self.m.q.val());
        self.m_top.d.next = self.m.q.val().get_bits::<5>(27);
        self.t_hi6.d.next = self.t_hi5.q.val();
        // 7: (m·p) >> 32 = (15·m + (m >> 27)) >> 5.
        self.mp_hi.d.next =
            bit_cast::<32, 36>((self.m15.q.val() + bit_cast::<36, 5>(self.m_top.q.val())) >> 5);
        self.t_hi7.d.next = self.t_hi6.q.val();
        // 8: t_hi − (m·p)_hi, in (−p, p); bit 32 is the sign.
        self.d.d.next =
            bit_cast::<33, 32>(self.t_hi7.q.val()) - bit_cast::<33, 32>(self.mp_hi.q.val());
        // 9: + p when negative.
        if self.d.q.val().get_bit(32) {
            self.r.d.next = bit_cast::<31, 33>(self.d.q.val() + bit_cast::<33, 32>(self.p.val()));
        } else {
            self.r.d.next = bit_cast::<31, 33>(self.d.q.val());
        }
        self.valid.d.next =
            (self.valid.q.val() << 1) | bit_cast::<9, 1>(self.in_valid.val().into());
        self.y.next = self.r.q.val();
        self.out_valid.next = self.valid.q.val().get_bit(8);
    }
}

impl crate::sim::Clocked for BabyBearMul {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
