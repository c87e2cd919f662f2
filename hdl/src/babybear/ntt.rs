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
//! to drain (its results are the next stage's operands), so a transform takes
//! m·(n/2 + 20) cycles, plus n + 19 for the scaling of an inverse ([`compute_cycles`]).
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
    /// W. Bit 0 starts a job: the engine then takes 2^LOG_SIZE elements. Bit 1 aborts the
    /// job in progress (a driver that gave up on one): busy until the work in flight has
    /// landed, then idle.
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

/// Cycles a stage costs beyond its n/2 issue cycles: one Setup cycle (the per-stage values
/// are registered), five issue-pipeline registers (addresses, banks and twiddle index, the
/// registered read addresses, the memory read, the register behind the memory), the butterfly's 12, the register behind the
/// butterfly, and one for the in-flight count to reach zero (the last write happens on that
/// same edge).
pub const STAGE_OVERHEAD: u64 = 1 + 5 + butterfly::LATENCY as u64 + 2;
/// The same for the inverse's scaling pass (n issue cycles), which needs no Setup cycle.
pub const SCALE_OVERHEAD: u64 = STAGE_OVERHEAD - 1;

/// Compute cycles of one transform of size 2^log_n, as the CYCLES register reports them.
pub fn compute_cycles(log_n: u32, inverse: bool) -> u64 {
    let n = 1u64 << log_n;
    let scale = if inverse { n + SCALE_OVERHEAD } else { 0 };
    log_n as u64 * (n / 2 + STAGE_OVERHEAD) + scale
}

#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
pub enum Phase {
    Idle,
    Load,
    Setup,
    Stage,
    Drain,
    Scale,
    ScaleDrain,
    Unload,
    /// Dropping a job: waiting for the butterflies and reads in flight to land.
    Aborting,
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
    half_max: Constant<Bits<17>>,
    shift_base: Constant<Bits<5>>,
    p: Constant<Bits<31>>,
    // Job state.
    phase: DFF<Phase>,
    inverse: DFF<Bit>,
    log_n: DFF<Bits<5>>,
    error: DFF<Bits<4>>,
    done: DFF<Bit>,
    cycles: DFF<Bits<32>>,
    k: DFF<Bits<17>>,
    stage: DFF<Bits<5>>,
    src: DFF<Bit>,
    inflight: DFF<Bits<17>>,
    all_issued: DFF<Bit>,
    // Per-job and per-stage values, registered from log_n and stage.
    last_n: DFF<Bits<17>>,
    last_half: DFF<Bits<17>>,
    h: DFF<Bits<17>>,
    lowmask: DFF<Bits<17>>,
    tw_shift: DFF<Bits<5>>,
    // Issue pipeline: 1 addresses, 2 banks and twiddle index, 3 the memory read.
    p1_valid: DFF<Bit>,
    p1_scale: DFF<Bit>,
    p1_i: DFF<Bits<17>>,
    p1_j: DFF<Bits<17>>,
    p1_t: DFF<Bits<17>>,
    p2_valid: DFF<Bit>,
    p2_scale: DFF<Bit>,
    p2_ra0: DFF<Bits<17>>,
    p2_ra1: DFF<Bits<17>>,
    p2_par: DFF<Bit>,
    p2_tag: DFF<Bits<16>>,
    p2_swap: DFF<Bit>,
    p2_tw: DFF<Bits<17>>,
    // Stage 3: the read addresses, registered so that nothing but routing lies between a
    // flip-flop and the memories' address pins (a phase-decoded mux there, fanned out to every
    // block RAM, held the 2^14 engine to 74 MHz and the 2^6 one to 86 MHz).
    ra0: DFF<Bits<17>>,
    ra1: DFF<Bits<17>>,
    twa: DFF<Bits<B>>,
    p3_valid: DFF<Bit>,
    p3_scale: DFF<Bit>,
    p3_par: DFF<Bit>,
    p3_tag: DFF<Bits<16>>,
    p3_swap: DFF<Bit>,
    rd_valid: DFF<Bit>,
    rd_scale: DFF<Bit>,
    rd_par: DFF<Bit>,
    rd_tag: DFF<Bits<16>>,
    rd_swap: DFF<Bit>,
    // Block RAM outputs are slow (about 6 ns on the ECP5, plus the routing from wherever the
    // placer put the block): each memory's output is registered before any logic, even the
    // choice of the source memory (which held the 2^14 engine to 92 MHz).
    q00: DFF<Bits<31>>,
    q01: DFF<Bits<31>>,
    q10: DFF<Bits<31>>,
    q11: DFF<Bits<31>>,
    twq: DFF<Bits<31>>,
    scq: DFF<Bits<31>>,
    rd2_valid: DFF<Bit>,
    rd2_scale: DFF<Bit>,
    rd2_par: DFF<Bit>,
    rd2_tag: DFF<Bits<16>>,
    rd2_swap: DFF<Bit>,
    // Input register and write register in front of the memories.
    ld_v: DFF<Bit>,
    ld_data: DFF<Bits<31>>,
    ld_addr: DFF<Bits<17>>,
    wr_e0: DFF<Bit>,
    wr_e1: DFF<Bit>,
    wr_a0: DFF<Bits<17>>,
    wr_a1: DFF<Bits<17>>,
    wr_d0: DFF<Bits<31>>,
    wr_d1: DFF<Bits<31>>,
    wr_m: DFF<Bit>,
    // Butterfly results, registered with the parity of i and the kind of pass.
    bo_valid: DFF<Bit>,
    bo_scale: DFF<Bit>,
    bo_par: DFF<Bit>,
    bo_i: DFF<Bits<17>>,
    bo_j: DFF<Bits<17>>,
    bo_x: DFF<Bits<31>>,
    bo_y: DFF<Bits<31>>,
    // Output queue: eight registers, and the unload reads in flight (three cycles each).
    fifo: [DFF<Bits<31>>; 8],
    head: DFF<Bits<3>>,
    tail: DFF<Bits<3>>,
    count: DFF<Bits<4>>,
    credits: DFF<Bits<4>>,
    pend1: DFF<Bit>,
    pend2: DFF<Bit>,
    pend3: DFF<Bit>,
    u_par1: DFF<Bit>,
    u_par2: DFF<Bit>,
    u_par3: DFF<Bit>,
    m0b0: RAM<Bits<31>, B>,
    m0b1: RAM<Bits<31>, B>,
    m1b0: RAM<Bits<31>, B>,
    m1b1: RAM<Bits<31>, B>,
    tw: SyncROM<Bits<31>, B>,
    scale: SyncROM<Bits<31>, 5>,
    bf: BabyBearButterfly,
    i: Signal<Local, Bits<17>>,
    oj: Signal<Local, Bits<17>>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<31>>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    launch: Signal<Local, Bit>,
    ob: Signal<Local, Bits<31>>,
    ob_v: Signal<Local, Bit>,
    mb0: Signal<Local, Bits<31>>,
    mb1: Signal<Local, Bits<31>>,
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
            src: Default::default(),
            inflight: Default::default(),
            all_issued: Default::default(),
            last_n: Default::default(),
            last_half: Default::default(),
            h: Default::default(),
            lowmask: Default::default(),
            tw_shift: Default::default(),
            p1_valid: Default::default(),
            p1_scale: Default::default(),
            p1_i: Default::default(),
            p1_j: Default::default(),
            p1_t: Default::default(),
            p2_valid: Default::default(),
            p2_scale: Default::default(),
            p2_ra0: Default::default(),
            p2_ra1: Default::default(),
            p2_par: Default::default(),
            p2_tag: Default::default(),
            p2_swap: Default::default(),
            p2_tw: Default::default(),
            ra0: Default::default(),
            ra1: Default::default(),
            twa: Default::default(),
            p3_valid: Default::default(),
            p3_scale: Default::default(),
            p3_par: Default::default(),
            p3_tag: Default::default(),
            p3_swap: Default::default(),
            rd_valid: Default::default(),
            rd_scale: Default::default(),
            rd_par: Default::default(),
            rd_tag: Default::default(),
            rd_swap: Default::default(),
            q00: Default::default(),
            q01: Default::default(),
            q10: Default::default(),
            q11: Default::default(),
            mb0: Default::default(),
            mb1: Default::default(),
            twq: Default::default(),
            scq: Default::default(),
            rd2_valid: Default::default(),
            rd2_scale: Default::default(),
            rd2_par: Default::default(),
            rd2_tag: Default::default(),
            rd2_swap: Default::default(),
            ld_v: Default::default(),
            ld_data: Default::default(),
            ld_addr: Default::default(),
            wr_e0: Default::default(),
            wr_e1: Default::default(),
            wr_a0: Default::default(),
            wr_a1: Default::default(),
            wr_d0: Default::default(),
            wr_d1: Default::default(),
            wr_m: Default::default(),
            bo_valid: Default::default(),
            bo_scale: Default::default(),
            bo_par: Default::default(),
            bo_i: Default::default(),
            bo_j: Default::default(),
            bo_x: Default::default(),
            bo_y: Default::default(),
            fifo: Default::default(),
            head: Default::default(),
            tail: Default::default(),
            count: Default::default(),
            credits: Default::default(),
            pend1: Default::default(),
            pend2: Default::default(),
            pend3: Default::default(),
            u_par1: Default::default(),
            u_par2: Default::default(),
            u_par3: Default::default(),
            m0b0: Default::default(),
            m0b1: Default::default(),
            m1b0: Default::default(),
            m1b1: Default::default(),
            tw: SyncROM::new(tw),
            scale: SyncROM::new(scale),
            bf: Default::default(),
            i: Default::default(),
            oj: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            launch: Default::default(),
            ob: Default::default(),
            ob_v: Default::default(),
        }
    }
}

impl<const A: usize, const B: usize> Logic for BabyBearNtt<A, B> {
    // hdl_gen translates match arms without guards only, so conditions stay inside the arms.
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, phase, inverse, log_n, error, done, cycles, k, stage, src, inflight,
            all_issued, last_n, last_half, h, lowmask, tw_shift, p1_valid, p1_scale, p1_i, p1_j,
            p1_t, p2_valid, p2_scale, p2_ra0, p2_ra1, p2_par, p2_tag, p2_swap, p2_tw, rd_valid,
            rd_scale, rd_par, rd_tag, rd_swap, ld_v, ld_data, ld_addr, wr_e0, wr_e1, wr_a0, wr_a1,
            wr_d0, wr_d1, wr_m, bo_valid, bo_scale, bo_par, bo_i, bo_j, bo_x, bo_y, q00, q01, q10,
            q11, twq, scq, rd2_valid, rd2_scale, rd2_par, rd2_tag, rd2_swap, head, tail, count,
            credits, pend1, pend2, u_par1, u_par2, ra0, ra1, twa, p3_valid, p3_scale, p3_par,
            p3_tag, p3_swap, pend3, u_par3
        );
        for i in 0..8 {
            self.fifo[i].clock.next = self.clock.val();
            self.fifo[i].d.next = self.fifo[i].q.val();
        }
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

        // Sizes, registered: log_n is set before the doorbell, stage one Setup cycle before
        // its butterflies, so every value here must come from log_n and stage in one step.
        // lowmask = h − 1 and h = n/2^(stage+1) come from shifts alone.
        self.last_n.d.next = !(!bits::<17>(0) << bit_cast::<17, 5>(self.log_n.q.val()));
        self.last_half.d.next = self.last_n.q.val() >> 1;
        self.lowmask.d.next = self.last_n.q.val() >> (bit_cast::<17, 5>(self.stage.q.val()) + 1);
        // 2h − 1 = last_n >> stage; h is its top bit.
        self.h.d.next = (self.last_n.q.val() >> bit_cast::<17, 5>(self.stage.q.val()))
            & !(self.last_n.q.val() >> (bit_cast::<17, 5>(self.stage.q.val()) + 1));
        self.tw_shift.d.next = self.stage.q.val() + self.shift_base.val() - self.log_n.q.val();

        // Input: the stream or DATA writes, while loading; registered before the memory.
        self.push_data.next = self.in_data.val();
        if self.reg_write.val() & (self.reg_addr.val() == self.data_reg.val()) {
            self.push_data.next = bit_cast::<31, 32>(self.reg_wdata.val());
        }
        self.push.next = (self.phase.q.val() == Phase::Load)
            & (self.in_valid.val()
                | (self.reg_write.val() & (self.reg_addr.val() == self.data_reg.val())));
        self.in_ready.next = self.phase.q.val() == Phase::Load;
        self.ld_v.d.next = false;

        // Output: the head of the queue, taken by the stream or by DATA reads.
        self.ob_v.next = self.count.q.val().any();
        self.ob.next = self.fifo[0].q.val();
        for i in 1..8 {
            if self.head.q.val().index() == i {
                self.ob.next = self.fifo[i].q.val();
            }
        }
        self.pop.next = self.ob_v.val()
            & (self.out_ready.val()
                | (self.reg_read.val() & (self.reg_addr.val() == self.data_reg.val())));
        self.out_data.next = self.ob.val();
        self.out_valid.next = self.ob_v.val();

        // Stage 1 of the issue pipeline: the pair (i, j = i + h) for butterfly k, i with a 0
        // inserted at bit log2(h) of k, and t = k mod h.
        self.i.next = ((self.k.q.val() & !self.lowmask.q.val()) << 1)
            | (self.k.q.val() & self.lowmask.q.val());
        self.p1_valid.d.next = false;
        self.p1_scale.d.next = false;
        self.p1_t.d.next = bits::<17>(0);
        // Stage 2: which bank holds i, the bank addresses, the twiddle index t·2^shift.
        self.p2_valid.d.next = self.p1_valid.q.val();
        self.p2_scale.d.next = self.p1_scale.q.val();
        self.p2_par.d.next = self.p1_i.q.val().xor();
        self.p2_tag.d.next = bit_cast::<16, 17>(self.p1_i.q.val());
        self.p2_swap.d.next =
            self.inverse.q.val() & self.p1_t.q.val().any() & !self.p1_scale.q.val();
        self.p2_tw.d.next = self.p1_t.q.val() << bit_cast::<17, 5>(self.tw_shift.q.val());
        if self.p1_scale.q.val() | !self.p1_i.q.val().xor() {
            self.p2_ra0.d.next = self.p1_i.q.val() >> 1;
            self.p2_ra1.d.next = self.p1_j.q.val() >> 1;
        } else {
            self.p2_ra1.d.next = self.p1_i.q.val() >> 1;
            self.p2_ra0.d.next = self.p1_j.q.val() >> 1;
        }
        // Stage 3: the read addresses, the twiddle's (ω^−t = −ω^(N/2 − t) for the inverse).
        // The unload overrides the data addresses below.
        self.p3_valid.d.next = self.p2_valid.q.val();
        self.p3_scale.d.next = self.p2_scale.q.val();
        self.p3_par.d.next = self.p2_par.q.val();
        self.p3_tag.d.next = self.p2_tag.q.val();
        self.p3_swap.d.next = self.p2_swap.q.val();
        self.twa.d.next = bit_cast::<B, 17>(self.p2_tw.q.val());
        if self.p2_swap.q.val() {
            self.twa.d.next = bit_cast::<B, 17>(self.half_max.val() - self.p2_tw.q.val());
        }
        self.ra0.d.next = self.p2_ra0.q.val();
        self.ra1.d.next = self.p2_ra1.q.val();
        // Stage 4: memory and twiddle reads.
        self.rd_valid.d.next = self.p3_valid.q.val();
        self.rd_scale.d.next = self.p3_scale.q.val();
        self.rd_par.d.next = self.p3_par.q.val();
        self.rd_tag.d.next = self.p3_tag.q.val();
        self.rd_swap.d.next = self.p3_swap.q.val();
        self.tw.address.next = self.twa.q.val();
        self.scale.address.next = self.log_n.q.val();

        // Read data, registered per memory; then the banks of the source memory.
        self.q00.d.next = self.m0b0.read_data.val();
        self.q01.d.next = self.m0b1.read_data.val();
        self.q10.d.next = self.m1b0.read_data.val();
        self.q11.d.next = self.m1b1.read_data.val();
        self.mb0.next = self.q00.q.val();
        self.mb1.next = self.q01.q.val();
        if self.src.q.val() {
            self.mb0.next = self.q10.q.val();
            self.mb1.next = self.q11.q.val();
        }
        self.twq.d.next = self.tw.data.val();
        self.scq.d.next = self.scale.data.val();
        self.rd2_valid.d.next = self.rd_valid.q.val();
        self.rd2_scale.d.next = self.rd_scale.q.val();
        self.rd2_par.d.next = self.rd_par.q.val();
        self.rd2_tag.d.next = self.rd_tag.q.val();
        self.rd2_swap.d.next = self.rd_swap.q.val();

        // The butterfly: a from i's bank, b from j's; in the scaling pass (x, 0, 1/n).
        self.bf.in_valid.next = self.rd2_valid.q.val();
        self.bf.tag.next = self.rd2_tag.q.val();
        self.bf.swap.next = self.rd2_swap.q.val();
        self.bf.w.next = self.twq.q.val();
        if self.rd2_par.q.val() {
            self.bf.a.next = self.mb1.val();
            self.bf.b.next = self.mb0.val();
        } else {
            self.bf.a.next = self.mb0.val();
            self.bf.b.next = self.mb1.val();
        }
        if self.rd2_scale.q.val() {
            self.bf.b.next = bits::<31>(0);
            self.bf.w.next = self.scq.q.val();
        }

        // Write register: a loaded element to memory 0, or butterfly results to the memory
        // that is not the source (x to i, y to j; the scaling pass writes y to i).
        self.wr_e0.d.next = false;
        self.wr_e1.d.next = false;
        self.oj.next = bit_cast::<17, 16>(self.bf.tag_out.val()) | self.h.q.val();
        self.bo_valid.d.next = self.bf.out_valid.val();
        self.bo_scale.d.next =
            (self.phase.q.val() == Phase::Scale) | (self.phase.q.val() == Phase::ScaleDrain);
        self.bo_par.d.next = self.bf.tag_out.val().xor();
        self.bo_i.d.next = bit_cast::<17, 16>(self.bf.tag_out.val()) >> 1;
        self.bo_j.d.next = self.oj.val() >> 1;
        self.bo_x.d.next = self.bf.x.val();
        self.bo_y.d.next = self.bf.y.val();
        if self.ld_v.q.val() {
            self.wr_m.d.next = false;
            if self.ld_addr.q.val().xor() {
                self.wr_e1.d.next = true;
                self.wr_a1.d.next = self.ld_addr.q.val() >> 1;
                self.wr_d1.d.next = self.ld_data.q.val();
            } else {
                self.wr_e0.d.next = true;
                self.wr_a0.d.next = self.ld_addr.q.val() >> 1;
                self.wr_d0.d.next = self.ld_data.q.val();
            }
            if (self.ld_data.q.val() >= self.p.val()) && !self.error.q.val().any() {
                self.error.d.next = 5.into();
            }
        }
        if self.bo_valid.q.val() {
            self.wr_m.d.next = !self.src.q.val();
            if self.bo_scale.q.val() {
                if self.bo_par.q.val() {
                    self.wr_e1.d.next = true;
                    self.wr_a1.d.next = self.bo_i.q.val();
                    self.wr_d1.d.next = self.bo_y.q.val();
                } else {
                    self.wr_e0.d.next = true;
                    self.wr_a0.d.next = self.bo_i.q.val();
                    self.wr_d0.d.next = self.bo_y.q.val();
                }
            } else {
                self.wr_e0.d.next = true;
                self.wr_e1.d.next = true;
                if self.bo_par.q.val() {
                    self.wr_a1.d.next = self.bo_i.q.val();
                    self.wr_d1.d.next = self.bo_x.q.val();
                    self.wr_a0.d.next = self.bo_j.q.val();
                    self.wr_d0.d.next = self.bo_y.q.val();
                } else {
                    self.wr_a0.d.next = self.bo_i.q.val();
                    self.wr_d0.d.next = self.bo_x.q.val();
                    self.wr_a1.d.next = self.bo_j.q.val();
                    self.wr_d1.d.next = self.bo_y.q.val();
                }
            }
        }

        // Butterflies issued and not yet written back.
        self.issue.next = false;
        self.launch.next = false;

        match self.phase.q.val() {
            Phase::Idle => {}
            Phase::Load => {
                if self.push.val() {
                    self.ld_v.d.next = true;
                    self.ld_data.d.next = self.push_data.val();
                    self.ld_addr.d.next = self.k.q.val();
                    self.k.d.next = self.k.q.val() + 1;
                    if self.k.q.val() == self.last_n.q.val() {
                        self.phase.d.next = Phase::Setup;
                        self.k.d.next = bits::<17>(0);
                        self.stage.d.next = bits::<5>(0);
                    }
                }
            }
            Phase::Setup => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.phase.d.next = Phase::Stage;
            }
            Phase::Stage => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.launch.next = true;
                self.p1_valid.d.next = true;
                self.p1_i.d.next = self.i.val();
                self.p1_j.d.next = self.i.val() | self.h.q.val();
                self.p1_t.d.next = self.k.q.val() & self.lowmask.q.val();
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() == self.last_half.q.val() {
                    self.phase.d.next = Phase::Drain;
                }
            }
            Phase::Drain => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                if !self.inflight.q.val().any() {
                    self.src.d.next = !self.src.q.val();
                    self.k.d.next = bits::<17>(0);
                    self.all_issued.d.next = false;
                    if bit_cast::<5, 5>(self.stage.q.val() + 1) == self.log_n.q.val() {
                        if self.inverse.q.val() {
                            self.phase.d.next = Phase::Scale;
                        } else {
                            self.phase.d.next = Phase::Unload;
                        }
                    } else {
                        self.stage.d.next = self.stage.q.val() + 1;
                        self.phase.d.next = Phase::Setup;
                    }
                }
            }
            Phase::Scale => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                self.launch.next = true;
                self.p1_valid.d.next = true;
                self.p1_scale.d.next = true;
                self.p1_i.d.next = self.k.q.val();
                self.p1_j.d.next = self.k.q.val();
                self.k.d.next = self.k.q.val() + 1;
                if self.k.q.val() == self.last_n.q.val() {
                    self.phase.d.next = Phase::ScaleDrain;
                }
            }
            Phase::ScaleDrain => {
                self.cycles.d.next = self.cycles.q.val() + 1;
                if !self.inflight.q.val().any() {
                    self.src.d.next = !self.src.q.val();
                    self.k.d.next = bits::<17>(0);
                    self.all_issued.d.next = false;
                    self.phase.d.next = Phase::Unload;
                }
            }
            Phase::Unload => {
                // Read the next element whenever the queue has room for it and the three in
                // flight. `credits` = 6 − (queued + in flight), kept as a register so that
                // neither the consumer's ready nor an adder reaches the read decision; a
                // credit comes back five cycles after its read is issued (three to the queue,
                // one to be popped, one to count), so 6 keep a consumer that takes one per
                // cycle fed.
                self.ra0.d.next = self.k.q.val() >> 1;
                self.ra1.d.next = self.k.q.val() >> 1;
                self.issue.next = !self.all_issued.q.val() & self.credits.q.val().any();
                if self.issue.val() {
                    self.u_par1.d.next = self.k.q.val().xor();
                    self.k.d.next = self.k.q.val() + 1;
                    if self.k.q.val() == self.last_n.q.val() {
                        self.all_issued.d.next = true;
                    }
                }
                // Done at the edge that takes the last element.
                if self.all_issued.q.val()
                    & ((self.count.q.val() == 0) | ((self.count.q.val() == 1) & self.pop.val()))
                    & !self.pend1.q.val()
                    & !self.pend2.q.val()
                    & !self.pend3.q.val()
                {
                    self.phase.d.next = Phase::Idle;
                    self.done.d.next = true;
                }
            }
            Phase::Aborting => {
                if !self.inflight.q.val().any()
                    & !self.pend1.q.val()
                    & !self.pend2.q.val()
                    & !self.pend3.q.val()
                {
                    self.phase.d.next = Phase::Idle;
                }
            }
            _ => {}
        }
        self.pend1.d.next = self.issue.val();
        self.pend2.d.next = self.pend1.q.val();
        self.pend3.d.next = self.pend2.q.val();
        self.u_par2.d.next = self.u_par1.q.val();
        self.u_par3.d.next = self.u_par2.q.val();
        self.inflight.d.next = self.inflight.q.val() + bit_cast::<17, 1>(self.launch.val().into())
            - bit_cast::<17, 1>(self.bo_valid.q.val().into());

        // The output queue: an element whose read was issued three cycles ago goes in at the
        // tail.
        if self.pend3.q.val() {
            for i in 0..8 {
                if self.tail.q.val().index() == i {
                    if self.u_par3.q.val() {
                        self.fifo[i].d.next = self.mb1.val();
                    } else {
                        self.fifo[i].d.next = self.mb0.val();
                    }
                }
            }
            self.tail.d.next = self.tail.q.val() + 1;
        }
        if self.pop.val() {
            self.head.d.next = self.head.q.val() + 1;
        }
        self.count.d.next = self.count.q.val() + bit_cast::<4, 1>(self.pend3.q.val().into())
            - bit_cast::<4, 1>(self.pop.val().into());
        self.credits.d.next = self.credits.q.val() + bit_cast::<4, 1>(self.pop.val().into())
            - bit_cast::<4, 1>(self.issue.val().into());

        // Memory ports: reads shared by both memories (only the source's data is used),
        // writes from the write register to the memory it names.
        self.m0b0.read_address.next = bit_cast::<B, 17>(self.ra0.q.val());
        self.m1b0.read_address.next = bit_cast::<B, 17>(self.ra0.q.val());
        self.m0b1.read_address.next = bit_cast::<B, 17>(self.ra1.q.val());
        self.m1b1.read_address.next = bit_cast::<B, 17>(self.ra1.q.val());
        self.m0b0.write_address.next = bit_cast::<B, 17>(self.wr_a0.q.val());
        self.m1b0.write_address.next = bit_cast::<B, 17>(self.wr_a0.q.val());
        self.m0b1.write_address.next = bit_cast::<B, 17>(self.wr_a1.q.val());
        self.m1b1.write_address.next = bit_cast::<B, 17>(self.wr_a1.q.val());
        self.m0b0.write_data.next = self.wr_d0.q.val();
        self.m1b0.write_data.next = self.wr_d0.q.val();
        self.m0b1.write_data.next = self.wr_d1.q.val();
        self.m1b1.write_data.next = self.wr_d1.q.val();
        self.m0b0.write_enable.next = self.wr_e0.q.val() & !self.wr_m.q.val();
        self.m0b1.write_enable.next = self.wr_e1.q.val() & !self.wr_m.q.val();
        self.m1b0.write_enable.next = self.wr_e0.q.val() & self.wr_m.q.val();
        self.m1b1.write_enable.next = self.wr_e1.q.val() & self.wr_m.q.val();

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
                    | (bit_cast::<32, 1>(self.ob_v.val().into()) << 4);
            }
            4 => self.reg_rdata.next = bit_cast::<32, 4>(self.error.q.val()),
            5 => self.reg_rdata.next = self.cycles.q.val(),
            6 => self.reg_rdata.next = self.info.val(),
            7 => self.reg_rdata.next = bit_cast::<32, 31>(self.ob.val()),
            _ => {}
        }
        if self.reg_read.val()
            && (self.reg_addr.val() == self.data_reg.val())
            && !self.ob_v.val()
            && !self.error.q.val().any()
        {
            self.error.d.next = 4.into();
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
                    if self.reg_wdata.val().get_bit(1) {
                        // Abort: drop the job; busy until the pipeline is empty.
                        self.phase.d.next = Phase::Aborting;
                        self.done.d.next = false;
                        self.error.d.next = 0.into();
                    } else if self.reg_wdata.val().get_bit(0) {
                        if self.phase.q.val() != Phase::Idle {
                            self.error.d.next = 2.into();
                        } else if !self.log_n.q.val().any()
                            | (self.log_n.q.val() > self.max_log.val())
                        {
                            self.error.d.next = 1.into();
                        } else {
                            self.error.d.next = 0.into();
                            self.done.d.next = false;
                            self.cycles.d.next = bits::<32>(0);
                            self.k.d.next = bits::<17>(0);
                            self.src.d.next = false;
                            self.head.d.next = bits::<3>(0);
                            self.tail.d.next = bits::<3>(0);
                            self.count.d.next = bits::<4>(0);
                            self.credits.d.next = bits::<4>(6);
                            self.phase.d.next = Phase::Load;
                        }
                    }
                }
                7 => {
                    if (self.phase.q.val() != Phase::Load) && !self.error.q.val().any() {
                        self.error.d.next = 3.into();
                    }
                }
                _ => {}
            }
        }
        if self.in_valid.val() && (self.phase.q.val() != Phase::Load) && !self.error.q.val().any() {
            self.error.d.next = 3.into();
        }
    }
}

impl<const A: usize, const B: usize> crate::sim::Clocked for BabyBearNtt<A, B> {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
