//! The BabyBear NTT engine: sizes 2^1 to 2^A, forward and inverse, one butterfly per clock,
//! behind a register map and a streaming data port.
//!
//! Data lives on chip in two memories (ping and pong), each split into two banks by the parity
//! of the address bits: the two operands of a butterfly differ in exactly one address bit, so
//! they always sit in different banks and one read port per bank fetches both in one cycle.
//! Each stage reads one memory and writes the other.
//!
//! The transform is decimation in frequency (Gentleman–Sande): natural order in, bit-reversed
//! order out, which is the order the engine streams results in; a driver that wants another
//! order permutes while it copies. The forward transform is y_k = Σ_j x_j·ω^{jk} with ω the
//! same root of unity the CPU engine uses (Plonky3's two-adic generator). The inverse uses
//! ω^−t = −ω^(N/2 − t) (the butterfly's swap) and a final pass that scales by 1/n.
//!
//! Twiddles come from a ROM of ω_max^k·2^32 mod p for k < 2^(A−1), shared by every size:
//! stage s of a size-2^m transform uses index t·2^(s + A − m).
//!
//! A stage issues n/2 butterflies on consecutive cycles, then waits for the butterfly pipeline
//! to drain (its results are the next stage's operands), so a transform takes about
//! m·(n/2 + 14) cycles, plus n + 14 for the scaling of an inverse.
//!
//! Register map (32-bit words, `reg_addr`): see [`reg`]. Elements go in through `in_data` /
//! `in_valid` or writes to `DATA`, and come out through `out_data` / `out_valid` / `out_ready`
//! or reads of `DATA` (a read with `reg_read` high pops the element).

use super::butterfly::{self, BabyBearButterfly};
use super::P;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// Register addresses.
pub mod reg {
    /// RW. Bit 0: inverse.
    pub const CONTROL: u64 = 0;
    /// RW. log2 of the size, 1..=A.
    pub const LOG_SIZE: u64 = 1;
    /// W. Writing 1 starts a job: the engine then takes 2^LOG_SIZE elements.
    pub const DOORBELL: u64 = 2;
    /// R. Bit 0 busy, bit 1 done, bit 2 error, bit 3 ready for input, bit 4 output waiting.
    pub const STATUS: u64 = 3;
    /// R. The first error since the last accepted doorbell; see [`super::err`].
    pub const ERROR: u64 = 4;
    /// R. Clock cycles the last job spent computing (after its input, before its output).
    pub const CYCLES: u64 = 5;
    /// R. Bits 0–7 the largest log size, 8–15 butterfly lanes, 16–23 the field (1 BabyBear),
    /// 24–31 the butterfly latency.
    pub const INFO: u64 = 6;
    /// W pushes an input element; R shows the next output element, and pops it with `reg_read`.
    pub const DATA: u64 = 7;
}

/// Error codes in `ERROR`.
pub mod err {
    pub const NONE: u64 = 0;
    /// LOG_SIZE is 0 or larger than the engine takes.
    pub const SIZE: u64 = 1;
    /// A doorbell or configuration write while a job runs.
    pub const BUSY: u64 = 2;
    /// Input while the engine was not taking any.
    pub const UNEXPECTED_INPUT: u64 = 3;
    /// A DATA read with no output waiting.
    pub const NO_OUTPUT: u64 = 4;
    /// An input element ≥ p.
    pub const NON_CANONICAL: u64 = 5;
}

/// Status bits.
pub mod status {
    pub const BUSY: u64 = 1;
    pub const DONE: u64 = 2;
    pub const ERROR: u64 = 4;
    pub const IN_READY: u64 = 8;
    pub const OUT_VALID: u64 = 16;
}

/// The field code in `INFO`.
pub const FIELD_BABYBEAR: u64 = 1;

/// Plonky3's generator of the 2^27-th roots of unity (31^((p−1)/2^27) mod p).
const TWO_ADIC_GENERATOR: u64 = 0x1a42_7a41;
const TWO_ADICITY: usize = 27;
const R_MOD_P: u64 = (1u64 << 32) % P;

/// Cycles a stage waits after its last issue for the pipeline to empty: one for the memory
/// read, the butterfly's latency, one for the write.
pub const DRAIN: u64 = 1 + butterfly::LATENCY as u64 + 1;

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Phase {
    Idle,
    Load,
    Stage,
    Drain,
    Scale,
    ScaleDrain,
    Unload,
}

#[derive(LogicBlock)]
pub struct BabyBearNtt<const A: usize, const B: usize> {
    pub clock: Signal<In, Clock>,
    pub reg_addr: Signal<In, Bits<3>>,
    pub reg_wdata: Signal<In, Bits<32>>,
    pub reg_write: Signal<In, Bit>,
    pub reg_read: Signal<In, Bit>,
    pub reg_rdata: Signal<Out, Bits<32>>,
    pub in_data: Signal<In, Bits<31>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<31>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,

    info: Constant<Bits<32>>,
    data_reg: Constant<Bits<3>>,
    max_log: Constant<Bits<5>>,
    half_max: Constant<Bits<32>>,
    shift_base: Constant<Bits<32>>,
    p: Constant<Bits<31>>,
    phase: DFF<Phase>,
    inverse: DFF<Bit>,
    log_n: DFF<Bits<5>>,
    error: DFF<Bits<4>>,
    done: DFF<Bit>,
    cycles: DFF<Bits<32>>,
    k: DFF<Bits<32>>,
    stage: DFF<Bits<5>>,
    drain: DFF<Bits<5>>,
    src: DFF<Bit>,
    rd_valid: DFF<Bit>,
    rd_par: DFF<Bit>,
    rd_tag: DFF<Bits<16>>,
    rd_swap: DFF<Bit>,
    rd_scale: DFF<Bit>,
    ob: DFF<Bits<31>>,
    ob_v: DFF<Bit>,
    sk: DFF<Bits<31>>,
    sk_v: DFF<Bit>,
    pend: DFF<Bit>,
    m0b0: RAM<Bits<31>, B>,
    m0b1: RAM<Bits<31>, B>,
    m1b0: RAM<Bits<31>, B>,
    m1b1: RAM<Bits<31>, B>,
    tw: SyncROM<Bits<31>, B>,
    scale: SyncROM<Bits<31>, 5>,
    bf: BabyBearButterfly,
    n: Signal<Local, Bits<32>>,
    h: Signal<Local, Bits<32>>,
    lowmask: Signal<Local, Bits<32>>,
    i: Signal<Local, Bits<32>>,
    j: Signal<Local, Bits<32>>,
    t: Signal<Local, Bits<32>>,
    tw_idx: Signal<Local, Bits<32>>,
    oi: Signal<Local, Bits<32>>,
    oj: Signal<Local, Bits<32>>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<31>>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    occ: Signal<Local, Bits<2>>,
    rd_b0: Signal<Local, Bits<31>>,
    rd_b1: Signal<Local, Bits<31>>,
    rd_elem: Signal<Local, Bits<31>>,
    wa0: Signal<Local, Bits<32>>,
    wa1: Signal<Local, Bits<32>>,
    wd0: Signal<Local, Bits<31>>,
    wd1: Signal<Local, Bits<31>>,
    we0: Signal<Local, Bit>,
    we1: Signal<Local, Bit>,
    ra0: Signal<Local, Bits<32>>,
    ra1: Signal<Local, Bits<32>>,
}

fn pow_mod(mut b: u64, mut e: u64) -> u64 {
    let mut acc = 1u64;
    b %= P;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * b % P;
        }
        b = b * b % P;
        e >>= 1;
    }
    acc
}

/// ω_n for n = 2^log_n, the CPU engine's root.
pub fn root_of_unity(log_n: usize) -> u64 {
    pow_mod(TWO_ADIC_GENERATOR, 1 << (TWO_ADICITY - log_n))
}

fn montgomery(x: u64) -> u64 {
    x * R_MOD_P % P
}

impl<const A: usize, const B: usize> Default for BabyBearNtt<A, B> {
    fn default() -> Self {
        assert!(
            B + 1 == A && (2..=16).contains(&A),
            "BabyBearNtt<A, A − 1> with A in 2..=16"
        );
        let w = root_of_unity(A);
        let mut tw = BTreeMap::new();
        let mut x = 1u64;
        for k in 0..1u64 << B {
            tw.insert(Bits::<B>::from(k), Bits::<31>::from(montgomery(x)));
            x = x * w % P;
        }
        let mut scale = BTreeMap::new();
        for l in 0..32u64 {
            // (2^l)^−1 = ((p+1)/2)^l.
            let inv = pow_mod(P.div_ceil(2), l);
            scale.insert(Bits::<5>::from(l), Bits::<31>::from(montgomery(inv)));
        }
        let info = A as u64 | 1 << 8 | FIELD_BABYBEAR << 16 | (butterfly::LATENCY as u64) << 24;
        Self {
            clock: Default::default(),
            reg_addr: Default::default(),
            reg_wdata: Default::default(),
            reg_write: Default::default(),
            reg_read: Default::default(),
            reg_rdata: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            info: Constant::new(info.into()),
            data_reg: Constant::new(reg::DATA.into()),
            max_log: Constant::new((A as u64).into()),
            half_max: Constant::new((1u64 << B).into()),
            shift_base: Constant::new((A as u64).into()),
            p: Constant::new(P.into()),
            phase: Default::default(),
            inverse: Default::default(),
            log_n: Default::default(),
            error: Default::default(),
            done: Default::default(),
            cycles: Default::default(),
            k: Default::default(),
            stage: Default::default(),
            drain: Default::default(),
            src: Default::default(),
            rd_valid: Default::default(),
            rd_par: Default::default(),
            rd_tag: Default::default(),
            rd_swap: Default::default(),
            rd_scale: Default::default(),
            ob: Default::default(),
            ob_v: Default::default(),
            sk: Default::default(),
            sk_v: Default::default(),
            pend: Default::default(),
            m0b0: Default::default(),
            m0b1: Default::default(),
            m1b0: Default::default(),
            m1b1: Default::default(),
            tw: SyncROM::new(tw),
            scale: SyncROM::new(scale),
            bf: Default::default(),
            n: Default::default(),
            h: Default::default(),
            lowmask: Default::default(),
            i: Default::default(),
            j: Default::default(),
            t: Default::default(),
            tw_idx: Default::default(),
            oi: Default::default(),
            oj: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            occ: Default::default(),
            rd_b0: Default::default(),
            rd_b1: Default::default(),
            rd_elem: Default::default(),
            wa0: Default::default(),
            wa1: Default::default(),
            wd0: Default::default(),
            wd1: Default::default(),
            we0: Default::default(),
            we1: Default::default(),
            ra0: Default::default(),
            ra1: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize> Logic for BabyBearNtt<A, B> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, phase, inverse, log_n, error, done, cycles, k, stage, drain, src,
            rd_valid, rd_par, rd_tag, rd_swap, rd_scale, ob, ob_v, sk, sk_v, pend
        );
        self.m0b0.read_clock.next = self.clock.val();
        self.m0b0.write_clock.next = self.clock.val();
        self.m0b1.read_clock.next = self.clock.val();
        self.m0b1.write_clock.next = self.clock.val();
        self.m1b0.read_clock.next = self.clock.val();
        self.m1b0.write_clock.next = self.clock.val();
        self.m1b1.read_clock.next = self.clock.val();
        self.m1b1.write_clock.next = self.clock.val();
        self.tw.clock.next = self.clock.val();
        self.scale.clock.next = self.clock.val();
        self.bf.clock.next = self.clock.val();

        // Sizes and the butterfly addresses of counter k in the current stage: i has a 0
        // inserted at bit log2(h) of k, j = i + h, t = k mod h.
        self.n.next = bits::<32>(1) << bit_cast::<32, 5>(self.log_n.q.val());
        self.h.next = self.n.val() >> (bit_cast::<32, 5>(self.stage.q.val()) + 1);
        self.lowmask.next = self.h.val() - 1;
        self.i.next =
            ((self.k.q.val() & !self.lowmask.val()) << 1) | (self.k.q.val() & self.lowmask.val());
        self.j.next = self.i.val() | self.h.val();
        self.t.next = self.k.q.val() & self.lowmask.val();
        self.tw_idx.next = self.t.val()
            << (bit_cast::<32, 5>(self.stage.q.val()) + self.shift_base.val()
                - bit_cast::<32, 5>(self.log_n.q.val()));
        if self.inverse.q.val() & (self.t.val() != 0) {
            self.tw_idx.next = self.half_max.val() - self.tw_idx.val();
        }

        // Input: the stream or DATA writes, while loading.
        self.push_data.next = self.in_data.val();
        if self.reg_write.val() & (self.reg_addr.val() == self.data_reg.val()) {
            self.push_data.next = bit_cast::<31, 32>(self.reg_wdata.val());
        }
        self.push.next = (self.phase.q.val() == Phase::Load)
            & (self.in_valid.val()
                | (self.reg_write.val() & (self.reg_addr.val() == self.data_reg.val())));
        self.in_ready.next = self.phase.q.val() == Phase::Load;

        // Output: the stream or DATA reads.
        self.pop.next = self.ob_v.q.val()
            & (self.out_ready.val()
                | (self.reg_read.val() & (self.reg_addr.val() == self.data_reg.val())));
        self.out_data.next = self.ob.q.val();
        self.out_valid.next = self.ob_v.q.val();

        // Read data of the memory holding the current data.
        self.rd_b0.next = self.m0b0.read_data.val();
        self.rd_b1.next = self.m0b1.read_data.val();
        if self.src.q.val() {
            self.rd_b0.next = self.m1b0.read_data.val();
            self.rd_b1.next = self.m1b1.read_data.val();
        }
        self.rd_elem.next = self.rd_b0.val();
        if self.rd_par.q.val() {
            self.rd_elem.next = self.rd_b1.val();
        }

        // Butterfly inputs: last cycle's reads.
        self.bf.in_valid.next = self.rd_valid.q.val();
        self.bf.tag.next = self.rd_tag.q.val();
        self.bf.swap.next = self.rd_swap.q.val();
        self.bf.w.next = self.tw.data.val();
        if self.rd_par.q.val() {
            self.bf.a.next = self.rd_b1.val();
            self.bf.b.next = self.rd_b0.val();
        } else {
            self.bf.a.next = self.rd_b0.val();
            self.bf.b.next = self.rd_b1.val();
        }
        if self.rd_scale.q.val() {
            self.bf.a.next = self.rd_elem.val();
            self.bf.b.next = bits::<31>(0);
            self.bf.w.next = self.scale.data.val();
        }
        self.scale.address.next = self.log_n.q.val();
        self.tw.address.next = bit_cast::<B, 32>(self.tw_idx.val());

        // Defaults: no reads issued, no writes.
        self.rd_valid.d.next = false;
        self.rd_scale.d.next = false;
        self.rd_swap.d.next = false;
        self.ra0.next = bits::<32>(0);
        self.ra1.next = bits::<32>(0);
        self.wa0.next = bits::<32>(0);
        self.wa1.next = bits::<32>(0);
        self.wd0.next = bits::<31>(0);
        self.wd1.next = bits::<31>(0);
        self.we0.next = false;
        self.we1.next = false;
        self.issue.next = false;
        self.occ.next = bit_cast::<2, 1>(self.ob_v.q.val().into())
            + bit_cast::<2, 1>(self.sk_v.q.val().into())
            + bit_cast::<2, 1>(self.pend.q.val().into());

        // Butterfly results go to the memory that is not the source: x to i, y to j; in the
        // scaling pass only y, to i.
        self.oi.next = bit_cast::<32, 16>(self.bf.tag_out.val());
        self.oj.next = self.oi.val() | self.h.val();
        if self.bf.out_valid.val() {
            if (self.phase.q.val() == Phase::Scale) | (self.phase.q.val() == Phase::ScaleDrain) {
                if self.oi.val().xor() {
                    self.wa1.next = self.oi.val() >> 1;
                    self.wd1.next = self.bf.y.val();
                    self.we1.next = true;
                } else {
                    self.wa0.next = self.oi.val() >> 1;
                    self.wd0.next = self.bf.y.val();
                    self.we0.next = true;
                }
            } else {
                self.we0.next = true;
                self.we1.next = true;
                if self.oi.val().xor() {
                    self.wa1.next = self.oi.val() >> 1;
                    self.wd1.next = self.bf.x.val();
                    self.wa0.next = self.oj.val() >> 1;
                    self.wd0.next = self.bf.y.val();
                } else {
                    self.wa0.next = self.oi.val() >> 1;
                    self.wd0.next = self.bf.x.val();
                    self.wa1.next = self.oj.val() >> 1;
                    self.wd1.next = self.bf.y.val();
                }
            }
        }

        match self.phase.q.val() {
            Phase::Idle => {}
            Phase::Load => {
                if self.push.val() {
                    // Loads go to memory 0 (the source of stage 0).
                    if self.k.q.val().xor() {
                        self.wa1.next = self.k.q.val() >> 1;
                        self.wd1.next = self.push_data.val();
                        self.we1.next = true;
                    } else {
                        self.wa0.next = self.k.q.val() >> 1;
                        self.wd0.next = self.push_data.val();
                        self.we0.next = true;
                    }
                    if self.push_data.val() >= self.p.val() {
                        if !self.error.q.val().any() {
                            self.error.d.next = 5.into();
                        }
                    }
                    self.k.d.next = self.k.q.val() + 1;
                    if self.k.q.val() + 1 == self.n.val() {
                        self.phase.d.next = Phase::Stage;
                        self.k.d.next = 0.into();
                        self.stage.d.next = 0.into();
                    }
                }
            }
            Phase::Stage => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                if self.i.val().xor() {
                    self.ra1.next = self.i.val() >> 1;
                    self.ra0.next = self.j.val() >> 1;
                } else {
                    self.ra0.next = self.i.val() >> 1;
                    self.ra1.next = self.j.val() >> 1;
                }
                self.rd_valid.d.next = true;
                self.rd_par.d.next = self.i.val().xor();
                self.rd_tag.d.next = bit_cast::<16, 32>(self.i.val());
                self.rd_swap.d.next = self.inverse.q.val() & (self.t.val() != 0);
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() + 1 == (self.n.val() >> 1) {
                    self.phase.d.next = Phase::Drain;
                    self.drain.d.next = 0.into();
                }
            }
            Phase::Drain => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.drain.d.next = self.drain.q.val() + 1;
                if self.drain.q.val() == 13 {
                    self.src.d.next = !self.src.q.val();
                    self.k.d.next = 0.into();
                    if bit_cast::<5, 5>(self.stage.q.val() + 1) == self.log_n.q.val() {
                        if self.inverse.q.val() {
                            self.phase.d.next = Phase::Scale;
                        } else {
                            self.phase.d.next = Phase::Unload;
                        }
                    } else {
                        self.stage.d.next = self.stage.q.val() + 1;
                        self.phase.d.next = Phase::Stage;
                    }
                }
            }
            Phase::Scale => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.ra0.next = self.k.q.val() >> 1;
                self.ra1.next = self.k.q.val() >> 1;
                self.rd_valid.d.next = true;
                self.rd_scale.d.next = true;
                self.rd_par.d.next = self.k.q.val().xor();
                self.rd_tag.d.next = bit_cast::<16, 32>(self.k.q.val());
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() + 1 == self.n.val() {
                    self.phase.d.next = Phase::ScaleDrain;
                    self.drain.d.next = 0.into();
                }
            }
            Phase::ScaleDrain => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.drain.d.next = self.drain.q.val() + 1;
                if self.drain.q.val() == 13 {
                    self.src.d.next = !self.src.q.val();
                    self.k.d.next = 0.into();
                    self.phase.d.next = Phase::Unload;
                }
            }
            Phase::Unload => {
                // At most two elements held or in flight: the output register, a skid
                // register, and a read issued last cycle.
                self.issue.next = (self.k.q.val() < self.n.val())
                    & ((self.occ.val() - bit_cast::<2, 1>(self.pop.val().into())) < 2);
                if self.issue.val() {
                    self.ra0.next = self.k.q.val() >> 1;
                    self.ra1.next = self.k.q.val() >> 1;
                    self.rd_par.d.next = self.k.q.val().xor();
                    self.k.d.next = self.k.q.val() + 1;
                }
                // Done at the edge that takes the last element.
                if (self.k.q.val() == self.n.val())
                    & (!self.ob_v.q.val() | self.pop.val())
                    & !self.sk_v.q.val()
                    & !self.pend.q.val()
                {
                    self.phase.d.next = Phase::Idle;
                    self.done.d.next = true;
                }
            }
            _ => {}
        }
        self.pend.d.next = self.issue.val();

        // The output queue: head `ob`, then `sk`, then the element read last cycle.
        if self.pop.val() {
            if self.sk_v.q.val() {
                self.ob.d.next = self.sk.q.val();
                self.ob_v.d.next = true;
                if self.pend.q.val() {
                    self.sk.d.next = self.rd_elem.val();
                } else {
                    self.sk_v.d.next = false;
                }
            } else {
                if self.pend.q.val() {
                    self.ob.d.next = self.rd_elem.val();
                } else {
                    self.ob_v.d.next = false;
                }
                self.sk_v.d.next = false;
            }
        } else {
            if self.ob_v.q.val() {
                if !self.sk_v.q.val() & self.pend.q.val() {
                    self.sk.d.next = self.rd_elem.val();
                    self.sk_v.d.next = true;
                }
            } else {
                if self.pend.q.val() {
                    self.ob.d.next = self.rd_elem.val();
                    self.ob_v.d.next = true;
                }
            }
        }

        // Memory ports: reads shared by both memories (only the source's are used); writes
        // to memory 0 while loading, else to the memory that is not the source.
        self.m0b0.read_address.next = bit_cast::<B, 32>(self.ra0.val());
        self.m1b0.read_address.next = bit_cast::<B, 32>(self.ra0.val());
        self.m0b1.read_address.next = bit_cast::<B, 32>(self.ra1.val());
        self.m1b1.read_address.next = bit_cast::<B, 32>(self.ra1.val());
        self.m0b0.write_address.next = bit_cast::<B, 32>(self.wa0.val());
        self.m1b0.write_address.next = bit_cast::<B, 32>(self.wa0.val());
        self.m0b1.write_address.next = bit_cast::<B, 32>(self.wa1.val());
        self.m1b1.write_address.next = bit_cast::<B, 32>(self.wa1.val());
        self.m0b0.write_data.next = self.wd0.val();
        self.m1b0.write_data.next = self.wd0.val();
        self.m0b1.write_data.next = self.wd1.val();
        self.m1b1.write_data.next = self.wd1.val();
        if self.phase.q.val() == Phase::Load {
            self.m0b0.write_enable.next = self.we0.val();
            self.m0b1.write_enable.next = self.we1.val();
            self.m1b0.write_enable.next = false;
            self.m1b1.write_enable.next = false;
        } else {
            self.m0b0.write_enable.next = self.we0.val() & self.src.q.val();
            self.m0b1.write_enable.next = self.we1.val() & self.src.q.val();
            self.m1b0.write_enable.next = self.we0.val() & !self.src.q.val();
            self.m1b1.write_enable.next = self.we1.val() & !self.src.q.val();
        }

        // Registers.
        self.reg_rdata.next = bits::<32>(0);
        match self.reg_addr.val().index() {
            0 => self.reg_rdata.next = bit_cast::<32, 1>(self.inverse.q.val().into()),
            1 => self.reg_rdata.next = bit_cast::<32, 5>(self.log_n.q.val()),
            3 => {
                self.reg_rdata.next = bit_cast::<32, 1>((self.phase.q.val() != Phase::Idle).into())
                    | (bit_cast::<32, 1>(self.done.q.val().into()) << 1)
                    | (bit_cast::<32, 1>(self.error.q.val().any().into()) << 2)
                    | (bit_cast::<32, 1>((self.phase.q.val() == Phase::Load).into()) << 3)
                    | (bit_cast::<32, 1>(self.ob_v.q.val().into()) << 4);
            }
            4 => self.reg_rdata.next = bit_cast::<32, 4>(self.error.q.val()),
            5 => self.reg_rdata.next = self.cycles.q.val(),
            6 => self.reg_rdata.next = self.info.val(),
            7 => self.reg_rdata.next = bit_cast::<32, 31>(self.ob.q.val()),
            _ => {}
        }
        if self.reg_read.val() & (self.reg_addr.val() == self.data_reg.val()) & !self.ob_v.q.val() {
            if !self.error.q.val().any() {
                self.error.d.next = 4.into();
            }
        }
        if self.reg_write.val() {
            match self.reg_addr.val().index() {
                0 => {
                    if self.phase.q.val() == Phase::Idle {
                        self.inverse.d.next = self.reg_wdata.val().get_bit(0);
                    } else {
                        self.error.d.next = 2.into();
                    }
                }
                1 => {
                    if self.phase.q.val() == Phase::Idle {
                        self.log_n.d.next = bit_cast::<5, 32>(self.reg_wdata.val());
                    } else {
                        self.error.d.next = 2.into();
                    }
                }
                2 => {
                    if self.reg_wdata.val().get_bit(0) {
                        if self.phase.q.val() != Phase::Idle {
                            self.error.d.next = 2.into();
                        } else if (self.log_n.q.val() == 0)
                            | (self.log_n.q.val() > self.max_log.val())
                        {
                            self.error.d.next = 1.into();
                        } else {
                            self.error.d.next = 0.into();
                            self.done.d.next = false;
                            self.cycles.d.next = 0.into();
                            self.k.d.next = 0.into();
                            self.src.d.next = false;
                            self.phase.d.next = Phase::Load;
                        }
                    }
                }
                7 => {
                    if self.phase.q.val() != Phase::Load {
                        if !self.error.q.val().any() {
                            self.error.d.next = 3.into();
                        }
                    }
                }
                _ => {}
            }
        }
        if self.in_valid.val() & (self.phase.q.val() != Phase::Load) {
            if !self.error.q.val().any() {
                self.error.d.next = 3.into();
            }
        }
    }
}

impl<const A: usize, const B: usize> crate::sim::Clocked for BabyBearNtt<A, B> {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
