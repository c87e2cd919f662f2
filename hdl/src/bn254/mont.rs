//! Word-serial Montgomery multiplier for BN254's Fq: y = a·b·2^−256 mod p, canonical, for
//! canonical a, b (< p). One product every `CYCLES` clocks, from three 16×16 multipliers (the
//! ECP5's 18×18 DSPs) and 16- to 34-bit adders, so it is small enough to replicate.
//!
//! FIOS (finely integrated operand scanning) over 16-bit words, s = 16: for each word b_i,
//! m = (t_0 + a_0·b_i)·(−p^−1) mod 2^16, then for j = 0..15 one step
//! (C, S) = t_j + a_j·b_i + m·p_j + C, S going to t_{j−1}; the last carry becomes t_15. With
//! a, b < p and t < 2p, the new t = (t + a·b_i + m·p)/2^16 ≤ 2p − 1, so t never needs a 17th
//! word and one word-serial subtraction of p at the end makes the result canonical.
//!
//! Each step is pipelined over four clocks (P: the two products and t_j; U: their sum; X: + t_j;
//! A: + the carry), so the only loop-carried path is the 34-bit carry add; m costs three clocks
//! at the start of each row, because it needs the t that the previous row just finished.
//! a, n (= p) and t rotate through shift registers a word per clock, so no word is ever
//! selected by a variable index (no wide multiplexers).

use crate::sim::to_bits;
use rust_hdl::prelude::*;

use super::P;

/// −p^−1 mod 2^16.
const P_INV_NEG: u64 = 0x6389;
const WORDS: usize = 16;
/// Clocks per row: three for m, sixteen steps issued, three to drain them, one for the top word.
const ROW: usize = 3 + WORDS + 3 + 1;
/// Clocks from the edge that samples `start` to the edge that raises `done`: that edge, the
/// rows, the subtraction of p and the choice.
pub const CYCLES: usize = 1 + WORDS * ROW + WORDS + 1;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Phase {
    Idle,
    /// a_0·b_i in flight.
    Prod0,
    /// s0 = t_0 + a_0·b_i.
    Low,
    /// m = s0·(−p^−1).
    M,
    /// Issuing steps j = 0..15.
    Steps,
    /// The last three steps draining through U, X and A.
    Drain,
    /// t_15 = the carry.
    Top,
    /// t − p, a word per clock.
    Subtract,
    /// y = t or t − p.
    Choose,
}

#[derive(LogicBlock)]
pub struct Bn254MontMul {
    pub clock: Signal<In, Clock>,
    /// Sampled (with a and b) on a clock edge where the core is idle.
    pub start: Signal<In, Bit>,
    pub a: Signal<In, Bits<256>>,
    pub b: Signal<In, Bits<256>>,
    pub busy: Signal<Out, Bit>,
    /// High for one clock when y holds the new product; y stays until the next one.
    pub done: Signal<Out, Bit>,
    pub y: Signal<Out, Bits<256>>,
    p: Constant<Bits<256>>,
    p_inv_neg: Constant<Bits<16>>,
    phase: DFF<Phase>,
    row: DFF<Bits<5>>,
    step: DFF<Bits<5>>,
    drain: DFF<Bits<2>>,
    a_sh: DFF<Bits<256>>,
    b_sh: DFF<Bits<256>>,
    n_sh: DFF<Bits<256>>,
    t_in: DFF<Bits<256>>,
    t_out: DFF<Bits<256>>,
    diff: DFF<Bits<256>>,
    borrow: DFF<Bit>,
    s0: DFF<Bits<16>>,
    m: DFF<Bits<16>>,
    pa: DFF<Bits<32>>,
    pm: DFF<Bits<32>>,
    tj_p: DFF<Bits<16>>,
    u: DFF<Bits<33>>,
    tj_u: DFF<Bits<16>>,
    x: DFF<Bits<34>>,
    carry: DFF<Bits<18>>,
    // Which of U, X and A hold a step this clock.
    live: DFF<Bits<3>>,
    out: DFF<Bits<256>>,
    fin: DFF<Bit>,
    sum: Signal<Local, Bits<34>>,
    d_word: Signal<Local, Bits<17>>,
    // Verilog cannot slice an expression, so the 32-bit product gets a name.
    m_full: Signal<Local, Bits<32>>,
}

impl Default for Bn254MontMul {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            start: Default::default(),
            a: Default::default(),
            b: Default::default(),
            busy: Default::default(),
            done: Default::default(),
            y: Default::default(),
            p: Constant::new(to_bits(&P)),
            p_inv_neg: Constant::new(P_INV_NEG.into()),
            phase: Default::default(),
            row: Default::default(),
            step: Default::default(),
            drain: Default::default(),
            a_sh: Default::default(),
            b_sh: Default::default(),
            n_sh: Default::default(),
            t_in: Default::default(),
            t_out: Default::default(),
            diff: Default::default(),
            borrow: Default::default(),
            s0: Default::default(),
            m: Default::default(),
            pa: Default::default(),
            pm: Default::default(),
            tj_p: Default::default(),
            u: Default::default(),
            tj_u: Default::default(),
            x: Default::default(),
            carry: Default::default(),
            live: Default::default(),
            out: Default::default(),
            fin: Default::default(),
            sum: Default::default(),
            d_word: Default::default(),
            m_full: Default::default(),
        }
    }
}

impl Logic for Bn254MontMul {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, phase, row, step, drain, a_sh, b_sh, n_sh, t_in, t_out, diff, borrow, s0,
            m, pa, pm, tj_p, u, tj_u, x, carry, live, out, fin
        );
        // The datapath runs every clock; the phase decides what shifts and what is kept.
        // P: the step's two products and its t word.
        self.pa.d.next = self.a_sh.q.val().get_bits::<16>(0) * self.b_sh.q.val().get_bits::<16>(0);
        self.pm.d.next = self.m.q.val() * self.n_sh.q.val().get_bits::<16>(0);
        self.tj_p.d.next = self.t_in.q.val().get_bits::<16>(0);
        // U and X: the sum of everything but the carry, off the loop-carried path.
        self.u.d.next = bit_cast::<33, 32>(self.pa.q.val()) + bit_cast::<33, 32>(self.pm.q.val());
        self.tj_u.d.next = self.tj_p.q.val();
        self.x.d.next = bit_cast::<34, 33>(self.u.q.val()) + bit_cast::<34, 16>(self.tj_u.q.val());
        // A: + the carry.
        self.sum.next = self.x.q.val() + bit_cast::<34, 18>(self.carry.q.val());
        self.live.d.next = self.live.q.val() << 1;
        if self.live.q.val().get_bit(2) {
            self.carry.d.next = self.sum.val().get_bits::<18>(16);
            self.t_out.d.next = (self.t_out.q.val() >> 16)
                | (bit_cast::<256, 16>(self.sum.val().get_bits::<16>(0)) << 240);
        }
        // The word-serial t − p of the last phase.
        self.d_word.next = bit_cast::<17, 16>(self.t_out.q.val().get_bits::<16>(0))
            - bit_cast::<17, 16>(self.n_sh.q.val().get_bits::<16>(0))
            - bit_cast::<17, 1>(self.borrow.q.val().into());
        self.m_full.next = self.s0.q.val() * self.p_inv_neg.val();
        self.fin.d.next = false;
        match self.phase.q.val() {
            Phase::Idle => {
                if self.start.val() {
                    self.a_sh.d.next = self.a.val();
                    self.b_sh.d.next = self.b.val();
                    self.n_sh.d.next = self.p.val();
                    self.t_in.d.next = 0.into();
                    self.t_out.d.next = 0.into();
                    self.row.d.next = 0.into();
                    self.phase.d.next = Phase::Prod0;
                }
            }
            Phase::Prod0 => {
                self.phase.d.next = Phase::Low;
            }
            Phase::Low => {
                self.s0.d.next =
                    self.t_in.q.val().get_bits::<16>(0) + self.pa.q.val().get_bits::<16>(0);
                self.phase.d.next = Phase::M;
            }
            Phase::M => {
                self.m.d.next = self.m_full.val().get_bits::<16>(0);
                self.carry.d.next = 0.into();
                self.step.d.next = 0.into();
                self.phase.d.next = Phase::Steps;
            }
            Phase::Steps => {
                // Rotate a and p (sixteen steps bring them back); t_in only shifts, it is
                // reloaded for the next row.
                self.a_sh.d.next = (self.a_sh.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.a_sh.q.val().get_bits::<16>(0)) << 240);
                self.n_sh.d.next = (self.n_sh.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.n_sh.q.val().get_bits::<16>(0)) << 240);
                self.t_in.d.next = self.t_in.q.val() >> 16;
                self.live.d.next = (self.live.q.val() << 1) | 1;
                self.step.d.next = self.step.q.val() + 1;
                if self.step.q.val() == 15 {
                    self.drain.d.next = 0.into();
                    self.phase.d.next = Phase::Drain;
                }
            }
            Phase::Drain => {
                self.drain.d.next = self.drain.q.val() + 1;
                if self.drain.q.val() == 2 {
                    self.phase.d.next = Phase::Top;
                }
            }
            Phase::Top => {
                // The first word the steps shifted in is t_0 + a_0·b_i + m·p_0 ≡ 0: this shift
                // drops it and puts the carry on top.
                self.t_out.d.next = (self.t_out.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.carry.q.val().get_bits::<16>(0)) << 240);
                self.t_in.d.next = (self.t_out.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.carry.q.val().get_bits::<16>(0)) << 240);
                self.b_sh.d.next = self.b_sh.q.val() >> 16;
                self.row.d.next = self.row.q.val() + 1;
                if self.row.q.val() == 15 {
                    self.borrow.d.next = false;
                    self.step.d.next = 0.into();
                    self.phase.d.next = Phase::Subtract;
                } else {
                    self.phase.d.next = Phase::Prod0;
                }
            }
            Phase::Subtract => {
                self.diff.d.next = (self.diff.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.d_word.val().get_bits::<16>(0)) << 240);
                self.borrow.d.next = self.d_word.val().get_bit(16);
                self.t_out.d.next = (self.t_out.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.t_out.q.val().get_bits::<16>(0)) << 240);
                self.n_sh.d.next = (self.n_sh.q.val() >> 16)
                    | (bit_cast::<256, 16>(self.n_sh.q.val().get_bits::<16>(0)) << 240);
                self.step.d.next = self.step.q.val() + 1;
                if self.step.q.val() == 15 {
                    self.phase.d.next = Phase::Choose;
                }
            }
            Phase::Choose => {
                // A borrow out of the top word: t < p, keep t.
                if self.borrow.q.val() {
                    self.out.d.next = self.t_out.q.val();
                } else {
                    self.out.d.next = self.diff.q.val();
                }
                self.fin.d.next = true;
                self.phase.d.next = Phase::Idle;
            }
        }
        self.busy.next = self.phase.q.val() != Phase::Idle;
        self.done.next = self.fin.q.val();
        self.y.next = self.out.q.val();
    }
}

impl crate::sim::Clocked for Bn254MontMul {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
