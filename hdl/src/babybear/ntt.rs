//! The BabyBear NTT engine: sizes 2L to 2^A, forward and inverse, L butterflies per clock
//! (L lanes, a power of two), behind a register map and a streaming data port.
//!
//! Data lives on chip in two memories (ping and pong), each split into 2L banks by
//! [`crate::schedule::Banks`]: bank (parity(a), a mod L), word a >> log2(2L). The L butterflies a
//! clock issues (consecutive k) touch each bank exactly once, so one read port per bank fetches
//! every operand in one cycle and one write port per bank stores every result. With one lane
//! the banks are the two parities of the address. Each stage reads one memory and writes the
//! other.
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
//! A stage issues n/2 butterflies, L per clock, then waits for the butterfly pipeline to drain
//! (its results are the next stage's operands), so a transform takes m·(n/2L + 20) cycles,
//! plus n/L + 19 for the scaling of an inverse ([`compute_cycles`]). Loading and unloading
//! stream one element per clock.
//!
//! Register map (32-bit words, `reg_addr`): see [`reg`]. Elements go in through `in_data` /
//! `in_valid` or writes to `DATA`, and come out through `out_data` / `out_valid` / `out_ready`
//! or reads of `DATA` (a read with `reg_read` high pops the element).

use super::butterfly::{self, BabyBearButterfly};
use super::P;
use crate::bank::{Place, TwiddleIndex, Untag};
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// Register addresses.
pub mod reg {
    /// RW. Bit 0: inverse.
    pub const CONTROL: u64 = 0;
    /// RW. log2 of the size, log2(2L)..=A.
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
    /// LOG_SIZE is below log2(2L) (a butterfly per lane) or larger than the engine takes.
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

/// Compute cycles of one transform of size 2^log_n on `lanes` lanes, as the CYCLES register
/// reports them.
pub fn compute_cycles(log_n: u32, inverse: bool, lanes: u64) -> u64 {
    let n = 1u64 << log_n;
    let scale = if inverse {
        n / lanes + SCALE_OVERHEAD
    } else {
        0
    };
    log_n as u64 * (n / 2 / lanes + STAGE_OVERHEAD) + scale
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

/// The engine for sizes up to 2^A on L lanes; W = A − 1 (twiddle ROM address bits), K = 2L
/// banks, B = A − log2(K) (bank address bits). Rust cannot derive these yet (generic constant
/// expressions), so they are spelled out and checked when the engine is built.
#[derive(LogicBlock)]
pub struct BabyBearNtt<
    const A: usize,
    const W: usize,
    const B: usize,
    const L: usize,
    const K: usize,
> {
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
    min_log: Constant<Bits<5>>,
    shift_base: Constant<Bits<5>>,
    p: Constant<Bits<31>>,
    lanes: Constant<Bits<17>>,
    lane_mask: Constant<Bits<17>>,
    log_lanes: Constant<Bits<5>>,
    log_banks: Constant<Bits<17>>,
    /// l, for lane l.
    lane_index: [Constant<Bits<17>>; L],
    // Job state.
    phase: DFF<Phase>,
    inverse: DFF<Bit>,
    log_n: DFF<Bits<5>>,
    error: DFF<Bits<4>>,
    done: DFF<Bit>,
    cycles: DFF<Bits<32>>,
    k: DFF<Bits<17>>,
    // What k steps by in the current phase (1 loading and unloading, L issuing), registered
    // so that no phase decoding sits in front of k's adder (it held the engines near 100 MHz).
    k_step: DFF<Bits<17>>,
    stage: DFF<Bits<5>>,
    src: DFF<Bit>,
    inflight: DFF<Bits<17>>,
    all_issued: DFF<Bit>,
    // Per-job and per-stage values, registered from log_n and stage.
    last_n: DFF<Bits<17>>,
    last_half: DFF<Bits<17>>,
    last_issue: DFF<Bits<17>>,
    last_scale: DFF<Bits<17>>,
    h: DFF<Bits<17>>,
    lowmask: DFF<Bits<17>>,
    tw_shift: DFF<Bits<5>>,
    // Issue pipeline, per lane: 1 the pair (i, j) and t; 2 banks, words and the twiddle index;
    // 3 the read address of every bank; 4 the memory read; 5 the register behind the memory.
    p1_valid: DFF<Bit>,
    p1_scale: DFF<Bit>,
    p1_i: [DFF<Bits<17>>; L],
    p1_j: [DFF<Bits<17>>; L],
    p1_t: [DFF<Bits<17>>; L],
    p2_valid: DFF<Bit>,
    p2_scale: DFF<Bit>,
    p2_wi: [DFF<Bits<B>>; L],
    p2_wj: [DFF<Bits<B>>; L],
    p2_bi: [DFF<Bits<5>>; L],
    p2_bj: [DFF<Bits<5>>; L],
    p2_tag: [DFF<Bits<16>>; L],
    p2_swap: [DFF<Bit>; L],
    p2_tw: [DFF<Bits<17>>; L],
    // Stage 3: the read addresses, registered so that nothing but routing lies between a
    // flip-flop and the memories' address pins (a phase-decoded mux there, fanned out to every
    // block RAM, held the 2^14 engine to 74 MHz and the 2^6 one to 86 MHz).
    ra: [DFF<Bits<B>>; K],
    twa: [DFF<Bits<W>>; L],
    p3_valid: DFF<Bit>,
    p3_scale: DFF<Bit>,
    p3_bi: [DFF<Bits<5>>; L],
    p3_bj: [DFF<Bits<5>>; L],
    p3_tag: [DFF<Bits<16>>; L],
    p3_swap: [DFF<Bit>; L],
    rd_valid: DFF<Bit>,
    rd_scale: DFF<Bit>,
    rd_bi: [DFF<Bits<5>>; L],
    rd_bj: [DFF<Bits<5>>; L],
    rd_tag: [DFF<Bits<16>>; L],
    rd_swap: [DFF<Bit>; L],
    // Block RAM outputs are slow (about 6 ns on the ECP5, plus the routing from wherever the
    // placer put the block): each memory's output is registered before any logic, even the
    // choice of the source memory (which held the 2^14 engine to 92 MHz).
    q0: [DFF<Bits<31>>; K],
    q1: [DFF<Bits<31>>; K],
    twq: [DFF<Bits<31>>; L],
    scq: DFF<Bits<31>>,
    rd2_valid: DFF<Bit>,
    rd2_scale: DFF<Bit>,
    rd2_bi: [DFF<Bits<5>>; L],
    rd2_bj: [DFF<Bits<5>>; L],
    rd2_tag: [DFF<Bits<16>>; L],
    rd2_swap: [DFF<Bit>; L],
    // Input register and write registers in front of the memories.
    ld_v: DFF<Bit>,
    ld_data: DFF<Bits<31>>,
    // The loaded element's bank (one enable per bank) and word, decoded from k before the
    // input register, so that only a register lies behind each bank's write-data choice.
    ld_e: [DFF<Bit>; K],
    ld_word: DFF<Bits<B>>,
    wr_e: [DFF<Bit>; K],
    wr_a: [DFF<Bits<B>>; K],
    wr_d: [DFF<Bits<31>>; K],
    wr_m: DFF<Bit>,
    // Butterfly results, registered with their banks and words.
    bo_valid: DFF<Bit>,
    bo_scale: DFF<Bit>,
    bo_bi: [DFF<Bits<5>>; L],
    bo_bj: [DFF<Bits<5>>; L],
    bo_wi: [DFF<Bits<B>>; L],
    bo_wj: [DFF<Bits<B>>; L],
    bo_x: [DFF<Bits<31>>; L],
    bo_y: [DFF<Bits<31>>; L],
    // Output queue: eight registers, and the unload reads in flight (three cycles each).
    fifo: [DFF<Bits<31>>; 8],
    head: DFF<Bits<3>>,
    tail: DFF<Bits<3>>,
    count: DFF<Bits<4>>,
    credits: DFF<Bits<4>>,
    pend1: DFF<Bit>,
    pend2: DFF<Bit>,
    pend3: DFF<Bit>,
    u_bank1: DFF<Bits<5>>,
    u_bank2: DFF<Bits<5>>,
    u_bank3: DFF<Bits<5>>,
    m0: [RAM<Bits<31>, B>; K],
    m1: [RAM<Bits<31>, B>; K],
    tw: [SyncROM<Bits<31>, W>; L],
    scale: SyncROM<Bits<31>, 5>,
    bf: [BabyBearButterfly; L],
    // Per lane: where the operands live, at issue and at write-back, and the twiddle address.
    pl_i: [Place<B, L>; L],
    pl_j: [Place<B, L>; L],
    po_i: [Place<B, L>; L],
    po_j: [Place<B, L>; L],
    untag: [Untag; L],
    twix: [TwiddleIndex<W>; L],
    u_word: Signal<Local, Bits<B>>,
    // Per lane: butterfly k + l, and its i.
    kl: [Signal<Local, Bits<17>>; L],
    il: [Signal<Local, Bits<17>>; L],
    oi: [Signal<Local, Bits<17>>; L],
    oj: [Signal<Local, Bits<17>>; L],
    u_bank: Signal<Local, Bits<5>>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<31>>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    k_next: Signal<Local, Bits<17>>,
    launch: Signal<Local, Bit>,
    ob: Signal<Local, Bits<31>>,
    ob_v: Signal<Local, Bit>,
    mb: [Signal<Local, Bits<31>>; K],
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

impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize> Default
    for BabyBearNtt<A, W, B, L, K>
{
    fn default() -> Self {
        let banks = crate::schedule::Banks::new(L);
        assert!(
            (2..=16).contains(&A)
                && W + 1 == A
                && K == banks.count()
                && K <= 32
                && banks.min_log_n() as usize <= A
                && B + banks.min_log_n() as usize == A,
            "BabyBearNtt<A, A − 1, A − log2(2L), L, 2L> with A in 2..=16 and 2L ≤ 2^A"
        );
        let w = root_of_unity(A);
        let mut tw = BTreeMap::new();
        let mut x = 1u64;
        for k in 0..1u64 << W {
            tw.insert(Bits::<W>::from(k), Bits::<31>::from(montgomery(x)));
            x = x * w % P;
        }
        let mut scale = BTreeMap::new();
        for l in 0..32u64 {
            // (2^l)^−1 = ((p+1)/2)^l.
            let inv = pow_mod(P.div_ceil(2), l);
            scale.insert(Bits::<5>::from(l), Bits::<31>::from(montgomery(inv)));
        }
        let info =
            A as u64 | (L as u64) << 8 | FIELD_BABYBEAR << 16 | (butterfly::LATENCY as u64) << 24;
        let log_lanes = L.trailing_zeros() as u64;
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
            min_log: Constant::new((banks.min_log_n() as u64).into()),
            shift_base: Constant::new((A as u64).into()),
            p: Constant::new(P.into()),
            lanes: Constant::new((L as u64).into()),
            lane_mask: Constant::new((L as u64 - 1).into()),
            log_lanes: Constant::new(log_lanes.into()),
            log_banks: Constant::new((log_lanes + 1).into()),
            lane_index: std::array::from_fn(|l| Constant::new((l as u64).into())),
            phase: Default::default(),
            inverse: Default::default(),
            log_n: Default::default(),
            error: Default::default(),
            done: Default::default(),
            cycles: Default::default(),
            k: Default::default(),
            k_step: Default::default(),
            stage: Default::default(),
            src: Default::default(),
            inflight: Default::default(),
            all_issued: Default::default(),
            last_n: Default::default(),
            last_half: Default::default(),
            last_issue: Default::default(),
            last_scale: Default::default(),
            h: Default::default(),
            lowmask: Default::default(),
            tw_shift: Default::default(),
            p1_valid: Default::default(),
            p1_scale: Default::default(),
            p1_i: array(),
            p1_j: array(),
            p1_t: array(),
            p2_valid: Default::default(),
            p2_scale: Default::default(),
            p2_wi: array(),
            p2_wj: array(),
            p2_bi: array(),
            p2_bj: array(),
            p2_tag: array(),
            p2_swap: array(),
            p2_tw: array(),
            ra: array(),
            twa: array(),
            p3_valid: Default::default(),
            p3_scale: Default::default(),
            p3_bi: array(),
            p3_bj: array(),
            p3_tag: array(),
            p3_swap: array(),
            rd_valid: Default::default(),
            rd_scale: Default::default(),
            rd_bi: array(),
            rd_bj: array(),
            rd_tag: array(),
            rd_swap: array(),
            q0: array(),
            q1: array(),
            twq: array(),
            scq: Default::default(),
            rd2_valid: Default::default(),
            rd2_scale: Default::default(),
            rd2_bi: array(),
            rd2_bj: array(),
            rd2_tag: array(),
            rd2_swap: array(),
            ld_v: Default::default(),
            ld_data: Default::default(),
            ld_e: array(),
            ld_word: Default::default(),
            wr_e: array(),
            wr_a: array(),
            wr_d: array(),
            wr_m: Default::default(),
            bo_valid: Default::default(),
            bo_scale: Default::default(),
            bo_bi: array(),
            bo_bj: array(),
            bo_wi: array(),
            bo_wj: array(),
            bo_x: array(),
            bo_y: array(),
            fifo: Default::default(),
            head: Default::default(),
            tail: Default::default(),
            count: Default::default(),
            credits: Default::default(),
            pend1: Default::default(),
            pend2: Default::default(),
            pend3: Default::default(),
            u_bank1: Default::default(),
            u_bank2: Default::default(),
            u_bank3: Default::default(),
            m0: array(),
            m1: array(),
            tw: std::array::from_fn(|_| SyncROM::new(tw.clone())),
            scale: SyncROM::new(scale),
            bf: array(),
            pl_i: array(),
            pl_j: array(),
            po_i: array(),
            po_j: array(),
            untag: array(),
            twix: array(),
            u_word: Default::default(),
            kl: array(),
            il: array(),
            oi: array(),
            oj: array(),
            u_bank: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            k_next: Default::default(),
            launch: Default::default(),
            ob: Default::default(),
            ob_v: Default::default(),
            mb: array(),
        }
    }
}

/// An array of defaults of any length (the standard library's stops at 32 and is not
/// generic over the length).
fn array<T: Default, const N: usize>() -> [T; N] {
    std::array::from_fn(|_| T::default())
}

impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize> Logic
    for BabyBearNtt<A, W, B, L, K>
{
    // hdl_gen translates match arms without guards only, so conditions stay inside the arms.
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, phase, inverse, log_n, error, done, cycles, k, k_step, stage, src,
            inflight, all_issued, last_n, last_half, last_issue, last_scale, h, lowmask, tw_shift,
            p1_valid, p1_scale, p2_valid, p2_scale, p3_valid, p3_scale, rd_valid, rd_scale, scq,
            rd2_valid, rd2_scale, ld_v, ld_data, ld_word, wr_m, bo_valid, bo_scale, head, tail,
            count, credits, pend1, pend2, pend3, u_bank1, u_bank2, u_bank3
        );
        for i in 0..8 {
            self.fifo[i].clock.next = self.clock.val();
            self.fifo[i].d.next = self.fifo[i].q.val();
        }
        for l in 0..L {
            self.p1_i[l].clock.next = self.clock.val();
            self.p1_i[l].d.next = self.p1_i[l].q.val();
            self.p1_j[l].clock.next = self.clock.val();
            self.p1_j[l].d.next = self.p1_j[l].q.val();
            self.p1_t[l].clock.next = self.clock.val();
            self.p1_t[l].d.next = self.p1_t[l].q.val();
            self.p2_wi[l].clock.next = self.clock.val();
            self.p2_wi[l].d.next = self.p2_wi[l].q.val();
            self.p2_wj[l].clock.next = self.clock.val();
            self.p2_wj[l].d.next = self.p2_wj[l].q.val();
            self.p2_bi[l].clock.next = self.clock.val();
            self.p2_bi[l].d.next = self.p2_bi[l].q.val();
            self.p2_bj[l].clock.next = self.clock.val();
            self.p2_bj[l].d.next = self.p2_bj[l].q.val();
            self.p2_tag[l].clock.next = self.clock.val();
            self.p2_tag[l].d.next = self.p2_tag[l].q.val();
            self.p2_swap[l].clock.next = self.clock.val();
            self.p2_swap[l].d.next = self.p2_swap[l].q.val();
            self.p2_tw[l].clock.next = self.clock.val();
            self.p2_tw[l].d.next = self.p2_tw[l].q.val();
            self.twa[l].clock.next = self.clock.val();
            self.twa[l].d.next = self.twa[l].q.val();
            self.p3_bi[l].clock.next = self.clock.val();
            self.p3_bi[l].d.next = self.p3_bi[l].q.val();
            self.p3_bj[l].clock.next = self.clock.val();
            self.p3_bj[l].d.next = self.p3_bj[l].q.val();
            self.p3_tag[l].clock.next = self.clock.val();
            self.p3_tag[l].d.next = self.p3_tag[l].q.val();
            self.p3_swap[l].clock.next = self.clock.val();
            self.p3_swap[l].d.next = self.p3_swap[l].q.val();
            self.rd_bi[l].clock.next = self.clock.val();
            self.rd_bi[l].d.next = self.rd_bi[l].q.val();
            self.rd_bj[l].clock.next = self.clock.val();
            self.rd_bj[l].d.next = self.rd_bj[l].q.val();
            self.rd_tag[l].clock.next = self.clock.val();
            self.rd_tag[l].d.next = self.rd_tag[l].q.val();
            self.rd_swap[l].clock.next = self.clock.val();
            self.rd_swap[l].d.next = self.rd_swap[l].q.val();
            self.twq[l].clock.next = self.clock.val();
            self.twq[l].d.next = self.twq[l].q.val();
            self.rd2_bi[l].clock.next = self.clock.val();
            self.rd2_bi[l].d.next = self.rd2_bi[l].q.val();
            self.rd2_bj[l].clock.next = self.clock.val();
            self.rd2_bj[l].d.next = self.rd2_bj[l].q.val();
            self.rd2_tag[l].clock.next = self.clock.val();
            self.rd2_tag[l].d.next = self.rd2_tag[l].q.val();
            self.rd2_swap[l].clock.next = self.clock.val();
            self.rd2_swap[l].d.next = self.rd2_swap[l].q.val();
            self.bo_bi[l].clock.next = self.clock.val();
            self.bo_bi[l].d.next = self.bo_bi[l].q.val();
            self.bo_bj[l].clock.next = self.clock.val();
            self.bo_bj[l].d.next = self.bo_bj[l].q.val();
            self.bo_wi[l].clock.next = self.clock.val();
            self.bo_wi[l].d.next = self.bo_wi[l].q.val();
            self.bo_wj[l].clock.next = self.clock.val();
            self.bo_wj[l].d.next = self.bo_wj[l].q.val();
            self.bo_x[l].clock.next = self.clock.val();
            self.bo_x[l].d.next = self.bo_x[l].q.val();
            self.bo_y[l].clock.next = self.clock.val();
            self.bo_y[l].d.next = self.bo_y[l].q.val();
            self.tw[l].clock.next = self.clock.val();
            self.bf[l].clock.next = self.clock.val();
        }
        for b in 0..K {
            self.ld_e[b].clock.next = self.clock.val();
            self.ld_e[b].d.next = false;
            self.ra[b].clock.next = self.clock.val();
            self.ra[b].d.next = self.ra[b].q.val();
            self.q0[b].clock.next = self.clock.val();
            self.q0[b].d.next = self.q0[b].q.val();
            self.q1[b].clock.next = self.clock.val();
            self.q1[b].d.next = self.q1[b].q.val();
            self.wr_e[b].clock.next = self.clock.val();
            self.wr_e[b].d.next = self.wr_e[b].q.val();
            self.wr_a[b].clock.next = self.clock.val();
            self.wr_a[b].d.next = self.wr_a[b].q.val();
            self.wr_d[b].clock.next = self.clock.val();
            self.wr_d[b].d.next = self.wr_d[b].q.val();
            self.m0[b].read_clock.next = self.clock.val();
            self.m0[b].write_clock.next = self.clock.val();
            self.m1[b].read_clock.next = self.clock.val();
            self.m1[b].write_clock.next = self.clock.val();
        }
        self.scale.clock.next = self.clock.val();

        // Sizes, registered: log_n is set before the doorbell, stage one Setup cycle before
        // its butterflies, so every value here must come from log_n and stage in one step.
        // lowmask = h − 1 and h = n/2^(stage+1) come from shifts alone.
        self.last_n.d.next = !(!bits::<17>(0) << bit_cast::<17, 5>(self.log_n.q.val()));
        self.last_half.d.next = self.last_n.q.val() >> 1;
        // The k of a stage's (and the scaling pass's) last clock: n/2 − L (n − L).
        self.last_issue.d.next = self.last_half.q.val() - self.lane_mask.val();
        self.last_scale.d.next = self.last_n.q.val() - self.lane_mask.val();
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

        // Stage 1 of the issue pipeline, per lane: butterfly k + l, its pair (i, j = i + h)
        // with i = k + l with a 0 inserted at bit log2(h), and t = (k + l) mod h.
        for l in 0..L {
            self.kl[l].next = self.k.q.val() + self.lane_index[l].val();
            self.il[l].next = ((self.kl[l].val() & !self.lowmask.q.val()) << 1)
                | (self.kl[l].val() & self.lowmask.q.val());
            self.p1_t[l].d.next = bits::<17>(0);
        }
        self.p1_valid.d.next = false;
        self.p1_scale.d.next = false;
        // Stage 2: each operand's bank (parity·L + address mod L) and word, the twiddle index
        // t·2^shift, and whether the inverse's swap applies.
        self.p2_valid.d.next = self.p1_valid.q.val();
        self.p2_scale.d.next = self.p1_scale.q.val();
        for l in 0..L {
            self.pl_i[l].a.next = self.p1_i[l].q.val();
            self.pl_j[l].a.next = self.p1_j[l].q.val();
            self.p2_bi[l].d.next = self.pl_i[l].bank.val();
            self.p2_bj[l].d.next = self.pl_j[l].bank.val();
            self.p2_wi[l].d.next = self.pl_i[l].word.val();
            self.p2_wj[l].d.next = self.pl_j[l].word.val();
            self.p2_tag[l].d.next = self.pl_i[l].tag.val();
            self.p2_swap[l].d.next =
                self.inverse.q.val() & self.p1_t[l].q.val().any() & !self.p1_scale.q.val();
            self.p2_tw[l].d.next = self.p1_t[l].q.val() << bit_cast::<17, 5>(self.tw_shift.q.val());
        }
        // Stage 3: every bank's read address from the operand that lives there, and the
        // twiddles' (ω^−t = −ω^(N/2 − t) for the inverse). The unload overrides the data
        // addresses below.
        self.p3_valid.d.next = self.p2_valid.q.val();
        self.p3_scale.d.next = self.p2_scale.q.val();
        for l in 0..L {
            self.p3_bi[l].d.next = self.p2_bi[l].q.val();
            self.p3_bj[l].d.next = self.p2_bj[l].q.val();
            self.p3_tag[l].d.next = self.p2_tag[l].q.val();
            self.p3_swap[l].d.next = self.p2_swap[l].q.val();
            self.twix[l].index.next = self.p2_tw[l].q.val();
            self.twix[l].swap.next = self.p2_swap[l].q.val();
            self.twa[l].d.next = self.twix[l].address.val();
        }
        for b in 0..K {
            for l in 0..L {
                if self.p2_bj[l].q.val().index() == b {
                    self.ra[b].d.next = self.p2_wj[l].q.val();
                }
                if self.p2_bi[l].q.val().index() == b {
                    self.ra[b].d.next = self.p2_wi[l].q.val();
                }
            }
        }
        // Stage 4: memory and twiddle reads.
        self.rd_valid.d.next = self.p3_valid.q.val();
        self.rd_scale.d.next = self.p3_scale.q.val();
        for l in 0..L {
            self.rd_bi[l].d.next = self.p3_bi[l].q.val();
            self.rd_bj[l].d.next = self.p3_bj[l].q.val();
            self.rd_tag[l].d.next = self.p3_tag[l].q.val();
            self.rd_swap[l].d.next = self.p3_swap[l].q.val();
            self.tw[l].address.next = self.twa[l].q.val();
            self.twq[l].d.next = self.tw[l].data.val();
        }
        self.scale.address.next = self.log_n.q.val();

        // Read data, registered per memory and bank; then the banks of the source memory.
        for b in 0..K {
            self.q0[b].d.next = self.m0[b].read_data.val();
            self.q1[b].d.next = self.m1[b].read_data.val();
            self.mb[b].next = self.q0[b].q.val();
            if self.src.q.val() {
                self.mb[b].next = self.q1[b].q.val();
            }
        }
        self.scq.d.next = self.scale.data.val();
        self.rd2_valid.d.next = self.rd_valid.q.val();
        self.rd2_scale.d.next = self.rd_scale.q.val();
        for l in 0..L {
            self.rd2_bi[l].d.next = self.rd_bi[l].q.val();
            self.rd2_bj[l].d.next = self.rd_bj[l].q.val();
            self.rd2_tag[l].d.next = self.rd_tag[l].q.val();
            self.rd2_swap[l].d.next = self.rd_swap[l].q.val();
        }

        // The butterflies: a from i's bank, b from j's; in the scaling pass (x, 0, 1/n).
        for l in 0..L {
            self.bf[l].in_valid.next = self.rd2_valid.q.val();
            self.bf[l].tag.next = self.rd2_tag[l].q.val();
            self.bf[l].swap.next = self.rd2_swap[l].q.val();
            self.bf[l].w.next = self.twq[l].q.val();
            self.bf[l].a.next = self.mb[0].val();
            self.bf[l].b.next = self.mb[0].val();
            for b in 1..K {
                if self.rd2_bi[l].q.val().index() == b {
                    self.bf[l].a.next = self.mb[b].val();
                }
                if self.rd2_bj[l].q.val().index() == b {
                    self.bf[l].b.next = self.mb[b].val();
                }
            }
            if self.rd2_scale.q.val() {
                self.bf[l].b.next = bits::<31>(0);
                self.bf[l].w.next = self.scq.q.val();
            }
        }

        // Butterfly results, with each one's banks and words (x to i, y to j; the scaling
        // pass writes y to i).
        self.bo_valid.d.next = self.bf[0].out_valid.val();
        self.bo_scale.d.next =
            (self.phase.q.val() == Phase::Scale) | (self.phase.q.val() == Phase::ScaleDrain);
        for l in 0..L {
            self.untag[l].tag.next = self.bf[l].tag_out.val();
            self.oi[l].next = self.untag[l].a.val();
            self.oj[l].next = self.oi[l].val() | self.h.q.val();
            self.po_i[l].a.next = self.oi[l].val();
            self.po_j[l].a.next = self.oj[l].val();
            self.bo_bi[l].d.next = self.po_i[l].bank.val();
            self.bo_bj[l].d.next = self.po_j[l].bank.val();
            self.bo_wi[l].d.next = self.po_i[l].word.val();
            self.bo_wj[l].d.next = self.po_j[l].word.val();
            self.bo_x[l].d.next = self.bf[l].x.val();
            self.bo_y[l].d.next = self.bf[l].y.val();
        }

        // Write registers: a loaded element to memory 0, or butterfly results to the memory
        // that is not the source.
        for b in 0..K {
            self.wr_e[b].d.next = false;
        }
        if self.ld_v.q.val() {
            self.wr_m.d.next = false;
            for b in 0..K {
                if self.ld_e[b].q.val() {
                    self.wr_e[b].d.next = true;
                    self.wr_a[b].d.next = self.ld_word.q.val();
                    self.wr_d[b].d.next = self.ld_data.q.val();
                }
            }
            if (self.ld_data.q.val() >= self.p.val()) && !self.error.q.val().any() {
                self.error.d.next = 5.into();
            }
        }
        if self.bo_valid.q.val() {
            self.wr_m.d.next = !self.src.q.val();
            for b in 0..K {
                for l in 0..L {
                    if !self.bo_scale.q.val() & (self.bo_bj[l].q.val().index() == b) {
                        self.wr_e[b].d.next = true;
                        self.wr_a[b].d.next = self.bo_wj[l].q.val();
                        self.wr_d[b].d.next = self.bo_y[l].q.val();
                    }
                    if self.bo_bi[l].q.val().index() == b {
                        self.wr_e[b].d.next = true;
                        self.wr_a[b].d.next = self.bo_wi[l].q.val();
                        self.wr_d[b].d.next = self.bo_x[l].q.val();
                        if self.bo_scale.q.val() {
                            self.wr_d[b].d.next = self.bo_y[l].q.val();
                        }
                    }
                }
            }
        }

        self.k_next.next = self.k.q.val() + self.k_step.q.val();
        // Butterflies issued and not yet written back.
        self.issue.next = false;
        self.launch.next = false;
        self.u_word.next = bit_cast::<B, 17>(self.k.q.val() >> self.log_banks.val());
        self.u_bank.next = (bit_cast::<5, 1>(self.k.q.val().xor().into()) << self.log_lanes.val())
            | bit_cast::<5, 17>(self.k.q.val() & self.lane_mask.val());

        match self.phase.q.val() {
            Phase::Idle => {}
            Phase::Load => {
                if self.push.val() {
                    self.ld_v.d.next = true;
                    self.ld_data.d.next = self.push_data.val();
                    self.ld_word.d.next = self.u_word.val();
                    for b in 0..K {
                        if self.u_bank.val().index() == b {
                            self.ld_e[b].d.next = true;
                        }
                    }
                    self.k.d.next = self.k_next.val();
                    if self.k.q.val() == self.last_n.q.val() {
                        self.phase.d.next = Phase::Setup;
                        self.k.d.next = bits::<17>(0);
                        self.k_step.d.next = self.lanes.val();
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
                for l in 0..L {
                    self.p1_i[l].d.next = self.il[l].val();
                    self.p1_j[l].d.next = self.il[l].val() | self.h.q.val();
                    self.p1_t[l].d.next = self.kl[l].val() & self.lowmask.q.val();
                }
                self.k.d.next = self.k_next.val();
                if self.k.q.val() == self.last_issue.q.val() {
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
                            self.k_step.d.next = bits::<17>(1);
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
                for l in 0..L {
                    self.p1_i[l].d.next = self.kl[l].val();
                    self.p1_j[l].d.next = self.kl[l].val();
                }
                self.k.d.next = self.k_next.val();
                if self.k.q.val() == self.last_scale.q.val() {
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
                    self.k_step.d.next = bits::<17>(1);
                }
            }
            Phase::Unload => {
                // Read the next element whenever the queue has room for it and the three in
                // flight. `credits` = 6 − (queued + in flight), kept as a register so that
                // neither the consumer's ready nor an adder reaches the read decision; a
                // credit comes back five cycles after its read is issued (three to the queue,
                // one to be popped, one to count), so 6 keep a consumer that takes one per
                // cycle fed.
                for b in 0..K {
                    self.ra[b].d.next = self.u_word.val();
                }
                self.issue.next = !self.all_issued.q.val() & self.credits.q.val().any();
                if self.issue.val() {
                    self.u_bank1.d.next = self.u_bank.val();
                    self.k.d.next = self.k_next.val();
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
        self.u_bank2.d.next = self.u_bank1.q.val();
        self.u_bank3.d.next = self.u_bank2.q.val();
        self.inflight.d.next = self.inflight.q.val() + bit_cast::<17, 1>(self.launch.val().into())
            - bit_cast::<17, 1>(self.bo_valid.q.val().into());

        // The output queue: an element whose read was issued three cycles ago goes in at the
        // tail, from its bank of the source memory.
        if self.pend3.q.val() {
            for i in 0..8 {
                if self.tail.q.val().index() == i {
                    self.fifo[i].d.next = self.mb[0].val();
                    for b in 1..K {
                        if self.u_bank3.q.val().index() == b {
                            self.fifo[i].d.next = self.mb[b].val();
                        }
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
        // writes from the write registers to the memory wr_m names.
        for b in 0..K {
            self.m0[b].read_address.next = self.ra[b].q.val();
            self.m1[b].read_address.next = self.ra[b].q.val();
            self.m0[b].write_address.next = self.wr_a[b].q.val();
            self.m1[b].write_address.next = self.wr_a[b].q.val();
            self.m0[b].write_data.next = self.wr_d[b].q.val();
            self.m1[b].write_data.next = self.wr_d[b].q.val();
            self.m0[b].write_enable.next = self.wr_e[b].q.val() & !self.wr_m.q.val();
            self.m1[b].write_enable.next = self.wr_e[b].q.val() & self.wr_m.q.val();
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
                        } else if (self.log_n.q.val() < self.min_log.val())
                            | (self.log_n.q.val() > self.max_log.val())
                        {
                            self.error.d.next = 1.into();
                        } else {
                            self.error.d.next = 0.into();
                            self.done.d.next = false;
                            self.cycles.d.next = bits::<32>(0);
                            self.k.d.next = bits::<17>(0);
                            self.k_step.d.next = bits::<17>(1);
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

impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
    crate::sim::Clocked for BabyBearNtt<A, W, B, L, K>
{
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
