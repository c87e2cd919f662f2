//! Multiplier for Goldilocks: y = a·b mod p, canonical, one result per clock, latency 15.
//!
//! Any 64-bit operands are accepted (the reduction takes any 128-bit product), so a value in
//! [p, 2^64) from a lazy adder multiplies correctly too.
//!
//! The 128-bit product comes from sixteen 16×16 partial products (the ECP5's 18×18 DSPs),
//! summed along their diagonals and carried into four exact 32-bit words c0..c3 with no chain
//! longer than 35 bits. The reduction uses W^2 ≡ W − 1 and W^3 ≡ −1 (W = 2^32):
//! x ≡ (c0 − c2 − c3) + (c1 + c2)·W = L + H·W. Carrying L's sign into H leaves
//! l0 + H'·W with H' in [−2, 2^33 − 2]; its top bits h1 ∈ {−1, 0, 1} fold back as h1·(W − 1),
//! which cannot leave [0, 2^64); one compare against p (high word all ones, low word non-zero)
//! makes the result canonical. No Montgomery form: twiddles are stored as they are.
//!
//! Stages: 1 operands; 2 partial products; 3 pairs along each diagonal; 4 diagonal sums d0..d6;
//! 5 odd diagonals split across word boundaries; 6 column sums; 7 column carries in; 8 the last
//! carries (look-ahead over words) → c0..c3; 9 c2 + c3, c1 + c2; 10 L; 11 H'; 12 low word ± the
//! fold; 13 high word ± its carry; 14 v ≥ p and v − p; 15 the choice (its select fans out to
//! 64 flip-flops: measured as the critical path at 87 MHz when it shared a clock with the compare).

use rust_hdl::prelude::*;

/// Cycles from operands in to product out.
pub const LATENCY: usize = 15;

#[derive(LogicBlock, Default)]
pub struct GoldilocksMul {
    pub clock: Signal<In, Clock>,
    pub a: Signal<In, Bits<64>>,
    pub b: Signal<In, Bits<64>>,
    pub in_valid: Signal<In, Bit>,
    pub y: Signal<Out, Bits<64>>,
    pub out_valid: Signal<Out, Bit>,
    a1: DFF<Bits<64>>,
    b1: DFF<Bits<64>>,
    // p{i}{j} = 16-bit limb i of a times limb j of b, weight 2^(16(i + j)).
    p00: DFF<Bits<32>>,
    p01: DFF<Bits<32>>,
    p02: DFF<Bits<32>>,
    p03: DFF<Bits<32>>,
    p10: DFF<Bits<32>>,
    p11: DFF<Bits<32>>,
    p12: DFF<Bits<32>>,
    p13: DFF<Bits<32>>,
    p20: DFF<Bits<32>>,
    p21: DFF<Bits<32>>,
    p22: DFF<Bits<32>>,
    p23: DFF<Bits<32>>,
    p30: DFF<Bits<32>>,
    p31: DFF<Bits<32>>,
    p32: DFF<Bits<32>>,
    p33: DFF<Bits<32>>,
    q0: DFF<Bits<32>>,
    s1: DFF<Bits<33>>,
    s2a: DFF<Bits<33>>,
    s2b: DFF<Bits<32>>,
    s3a: DFF<Bits<33>>,
    s3b: DFF<Bits<33>>,
    s4a: DFF<Bits<33>>,
    s4b: DFF<Bits<32>>,
    s5: DFF<Bits<33>>,
    q6: DFF<Bits<32>>,
    d0: DFF<Bits<32>>,
    d1: DFF<Bits<33>>,
    d2: DFF<Bits<34>>,
    d3: DFF<Bits<34>>,
    d4: DFF<Bits<34>>,
    d5: DFF<Bits<33>>,
    d6: DFF<Bits<32>>,
    e0: DFF<Bits<32>>,
    e1: DFF<Bits<33>>,
    e2: DFF<Bits<33>>,
    e3: DFF<Bits<17>>,
    f0: DFF<Bits<32>>,
    f2: DFF<Bits<34>>,
    f4: DFF<Bits<34>>,
    f6: DFF<Bits<32>>,
    col0: DFF<Bits<33>>,
    col1: DFF<Bits<35>>,
    col2: DFF<Bits<35>>,
    col3: DFF<Bits<33>>,
    z0: DFF<Bits<32>>,
    z1: DFF<Bits<33>>,
    z2: DFF<Bits<33>>,
    z3: DFF<Bits<32>>,
    c0: DFF<Bits<32>>,
    c1: DFF<Bits<32>>,
    c2: DFF<Bits<32>>,
    c3: DFF<Bits<32>>,
    c0_9: DFF<Bits<32>>,
    s23: DFF<Bits<33>>,
    h9: DFF<Bits<33>>,
    l10: DFF<Bits<34>>,
    h10: DFF<Bits<33>>,
    l11: DFF<Bits<32>>,
    h11: DFF<Bits<34>>,
    lo12: DFF<Bits<33>>,
    hi12: DFF<Bits<32>>,
    dec12: DFF<Bit>,
    lo13: DFF<Bits<32>>,
    hi13: DFF<Bits<32>>,
    big14: DFF<Bit>,
    dec14: DFF<Bits<32>>,
    lo14: DFF<Bits<32>>,
    hi14: DFF<Bits<32>>,
    r: DFF<Bits<64>>,
    valid: DFF<Bits<15>>,
    // These two are signals of their own width: rust-hdl writes `bit_cast` as a mask, so an
    // inversion widened in place would be inverted at the wider width in Verilog.
    ones: Signal<Local, Bits<32>>,
    neg_l1: Signal<Local, Bits<2>>,
}

impl Logic for GoldilocksMul {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, a1, b1, p00, p01, p02, p03, p10, p11, p12, p13, p20, p21, p22, p23, p30,
            p31, p32, p33, q0, s1, s2a, s2b, s3a, s3b, s4a, s4b, s5, q6, d0, d1, d2, d3, d4, d5,
            d6, e0, e1, e2, e3, f0, f2, f4, f6, col0, col1, col2, col3, z0, z1, z2, z3, c0, c1, c2,
            c3, c0_9, s23, h9, l10, h10, l11, h11, lo12, hi12, dec12, lo13, hi13, big14, dec14,
            lo14, hi14, r, valid
        );
        self.ones.next = !bits::<32>(0);
        // 1: operands.
        self.a1.d.next = self.a.val();
        self.b1.d.next = self.b.val();
        // 2: partial products.
        self.p00.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(0);
        self.p01.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(16);
        self.p02.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(32);
        self.p03.d.next = self.a1.q.val().get_bits::<16>(0) * self.b1.q.val().get_bits::<16>(48);
        self.p10.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(0);
        self.p11.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(16);
        self.p12.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(32);
        self.p13.d.next = self.a1.q.val().get_bits::<16>(16) * self.b1.q.val().get_bits::<16>(48);
        self.p20.d.next = self.a1.q.val().get_bits::<16>(32) * self.b1.q.val().get_bits::<16>(0);
        self.p21.d.next = self.a1.q.val().get_bits::<16>(32) * self.b1.q.val().get_bits::<16>(16);
        self.p22.d.next = self.a1.q.val().get_bits::<16>(32) * self.b1.q.val().get_bits::<16>(32);
        self.p23.d.next = self.a1.q.val().get_bits::<16>(32) * self.b1.q.val().get_bits::<16>(48);
        self.p30.d.next = self.a1.q.val().get_bits::<16>(48) * self.b1.q.val().get_bits::<16>(0);
        self.p31.d.next = self.a1.q.val().get_bits::<16>(48) * self.b1.q.val().get_bits::<16>(16);
        self.p32.d.next = self.a1.q.val().get_bits::<16>(48) * self.b1.q.val().get_bits::<16>(32);
        self.p33.d.next = self.a1.q.val().get_bits::<16>(48) * self.b1.q.val().get_bits::<16>(48);
        // 3: pairs along each diagonal i + j.
        self.q0.d.next = self.p00.q.val();
        self.s1.d.next =
            bit_cast::<33, 32>(self.p01.q.val()) + bit_cast::<33, 32>(self.p10.q.val());
        self.s2a.d.next =
            bit_cast::<33, 32>(self.p02.q.val()) + bit_cast::<33, 32>(self.p20.q.val());
        self.s2b.d.next = self.p11.q.val();
        self.s3a.d.next =
            bit_cast::<33, 32>(self.p03.q.val()) + bit_cast::<33, 32>(self.p30.q.val());
        self.s3b.d.next =
            bit_cast::<33, 32>(self.p12.q.val()) + bit_cast::<33, 32>(self.p21.q.val());
        self.s4a.d.next =
            bit_cast::<33, 32>(self.p13.q.val()) + bit_cast::<33, 32>(self.p31.q.val());
        self.s4b.d.next = self.p22.q.val();
        self.s5.d.next =
            bit_cast::<33, 32>(self.p23.q.val()) + bit_cast::<33, 32>(self.p32.q.val());
        self.q6.d.next = self.p33.q.val();
        // 4: diagonal sums, x = Σ d_k·2^(16k), each d_k < 2^34.
        self.d0.d.next = self.q0.q.val();
        self.d1.d.next = self.s1.q.val();
        self.d2.d.next =
            bit_cast::<34, 33>(self.s2a.q.val()) + bit_cast::<34, 32>(self.s2b.q.val());
        self.d3.d.next =
            bit_cast::<34, 33>(self.s3a.q.val()) + bit_cast::<34, 33>(self.s3b.q.val());
        self.d4.d.next =
            bit_cast::<34, 33>(self.s4a.q.val()) + bit_cast::<34, 32>(self.s4b.q.val());
        self.d5.d.next = self.s5.q.val();
        self.d6.d.next = self.q6.q.val();
        // 5: an odd diagonal straddles a word boundary: its low 16 bits go to the top half of
        // word m, the rest to word m + 1.
        self.e0.d.next = bit_cast::<32, 16>(self.d1.q.val().get_bits::<16>(0)) << 16;
        self.e1.d.next = (bit_cast::<33, 16>(self.d3.q.val().get_bits::<16>(0)) << 16)
            + bit_cast::<33, 17>(self.d1.q.val().get_bits::<17>(16));
        self.e2.d.next = (bit_cast::<33, 16>(self.d5.q.val().get_bits::<16>(0)) << 16)
            + bit_cast::<33, 18>(self.d3.q.val().get_bits::<18>(16));
        self.e3.d.next = self.d5.q.val().get_bits::<17>(16);
        self.f0.d.next = self.d0.q.val();
        self.f2.d.next = self.d2.q.val();
        self.f4.d.next = self.d4.q.val();
        self.f6.d.next = self.d6.q.val();
        // 6: column sums, x = Σ col_m·W^m.
        self.col0.d.next =
            bit_cast::<33, 32>(self.f0.q.val()) + bit_cast::<33, 32>(self.e0.q.val());
        self.col1.d.next =
            bit_cast::<35, 34>(self.f2.q.val()) + bit_cast::<35, 33>(self.e1.q.val());
        self.col2.d.next =
            bit_cast::<35, 34>(self.f4.q.val()) + bit_cast::<35, 33>(self.e2.q.val());
        self.col3.d.next =
            bit_cast::<33, 32>(self.f6.q.val()) + bit_cast::<33, 17>(self.e3.q.val());
        // 7: each column's overflow into the next; what is left is one carry bit per word.
        // (x < 2^128, so nothing leaves word 3.)
        self.z0.d.next = self.col0.q.val().get_bits::<32>(0);
        self.z1.d.next = bit_cast::<33, 32>(self.col1.q.val().get_bits::<32>(0))
            + bit_cast::<33, 1>(self.col0.q.val().get_bits::<1>(32));
        self.z2.d.next = bit_cast::<33, 32>(self.col2.q.val().get_bits::<32>(0))
            + bit_cast::<33, 3>(self.col1.q.val().get_bits::<3>(32));
        self.z3.d.next = self.col3.q.val().get_bits::<32>(0)
            + bit_cast::<32, 3>(self.col2.q.val().get_bits::<3>(32));
        // 8: the carry bits, looked ahead over whole words (a word of all ones propagates).
        self.c0.d.next = self.z0.q.val();
        self.c1.d.next = self.z1.q.val().get_bits::<32>(0);
        self.c2.d.next = self.z2.q.val().get_bits::<32>(0)
            + bit_cast::<32, 1>(self.z1.q.val().get_bits::<1>(32));
        self.c3.d.next = self.z3.q.val()
            + bit_cast::<32, 1>(
                self.z2.q.val().get_bits::<1>(32)
                    | (bit_cast::<1, 1>(self.z2.q.val().get_bits::<32>(0).all().into())
                        & self.z1.q.val().get_bits::<1>(32)),
            );
        // 9, 10: L = c0 − (c2 + c3) in (−2^33, 2^32), 34 bits; H = c1 + c2.
        self.c0_9.d.next = self.c0.q.val();
        self.s23.d.next = bit_cast::<33, 32>(self.c2.q.val()) + bit_cast::<33, 32>(self.c3.q.val());
        self.h9.d.next = bit_cast::<33, 32>(self.c1.q.val()) + bit_cast::<33, 32>(self.c2.q.val());
        self.l10.d.next =
            bit_cast::<34, 32>(self.c0_9.q.val()) - bit_cast::<34, 33>(self.s23.q.val());
        self.h10.d.next = self.h9.q.val();
        // 11: H' = H + floor(L / W); L's top two bits are that quotient, −2, −1 or 0: subtract
        // its negation (2-bit two's complement).
        self.l11.d.next = self.l10.q.val().get_bits::<32>(0);
        self.neg_l1.next = !self.l10.q.val().get_bits::<2>(32) + 1;
        self.h11.d.next =
            bit_cast::<34, 33>(self.h10.q.val()) - bit_cast::<34, 2>(self.neg_l1.val());
        // 12: H' = h0 + h1·W with h1 = H' >> 32 in {−1, 0, 1}; h1·W^2 ≡ h1·(W − 1): +1 adds
        // W − 1 to the low word, −1 adds 1 to it and takes 1 from the high word.
        if self.h11.q.val().get_bit(33) {
            self.lo12.d.next = bit_cast::<33, 32>(self.l11.q.val()) + 1;
        } else if self.h11.q.val().get_bit(32) {
            self.lo12.d.next =
                bit_cast::<33, 32>(self.l11.q.val()) + bit_cast::<33, 32>(self.ones.val());
        } else {
            self.lo12.d.next = bit_cast::<33, 32>(self.l11.q.val());
        }
        self.hi12.d.next = self.h11.q.val().get_bits::<32>(0);
        self.dec12.d.next = self.h11.q.val().get_bit(33);
        // 13: the high word takes the low word's carry and the −1 (both cannot push it out of
        // [0, W): see the module note).
        self.lo13.d.next = self.lo12.q.val().get_bits::<32>(0);
        if self.lo12.q.val().get_bit(32) && !self.dec12.q.val() {
            self.hi13.d.next = self.hi12.q.val() + 1;
        } else if !self.lo12.q.val().get_bit(32) && self.dec12.q.val() {
            self.hi13.d.next = self.hi12.q.val() + self.ones.val();
        } else {
            self.hi13.d.next = self.hi12.q.val();
        }
        // 14: v ≥ p exactly when the high word is all ones and the low word is not zero; then
        // v − p = low word − 1.
        self.big14.d.next = self.hi13.q.val().all() && self.lo13.q.val().any();
        self.dec14.d.next = self.lo13.q.val() - 1;
        self.lo14.d.next = self.lo13.q.val();
        self.hi14.d.next = self.hi13.q.val();
        // 15: the choice.
        if self.big14.q.val() {
            self.r.d.next = bit_cast::<64, 32>(self.dec14.q.val());
        } else {
            self.r.d.next = (bit_cast::<64, 32>(self.hi14.q.val()) << 32)
                | bit_cast::<64, 32>(self.lo14.q.val());
        }
        self.valid.d.next =
            (self.valid.q.val() << 1) | bit_cast::<15, 1>(self.in_valid.val().into());
        self.y.next = self.r.q.val();
        self.out_valid.next = self.valid.q.val().get_bit(14);
    }
}

impl crate::sim::Clocked for GoldilocksMul {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
