//! The engine's datapath and control for D-bit elements; see the module above for how it
//! works, and [`crate::ntt_engine!`] for the block a field builds from it.

use super::{reg, FieldSpec};
use crate::bank::{BankEnable, Place, TwiddleIndex, Untag};
use crate::memory::{BlockRam, PartedRom};
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

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

/// The engine for D-bit elements and sizes up to 2^A on L lanes, with its butterflies outside
/// (the `bf_*` ports, one of each per lane; [`crate::ntt_engine!`] wires a field's in); W = A − 1
/// (twiddle ROM address bits), K = 2L banks, B = A − log2(K) (bank address bits). Rust cannot
/// derive these yet (generic constant expressions), so they are spelled out and checked when
/// the engine is built.
#[derive(LogicBlock)]
pub struct NttCore<
    const D: usize,
    const A: usize,
    const W: usize,
    const B: usize,
    const L: usize,
    const K: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reg_addr: Signal<In, Bits<4>>,
    pub reg_wdata: Signal<In, Bits<32>>,
    pub reg_write: Signal<In, Bit>,
    pub reg_read: Signal<In, Bit>,
    pub reg_rdata: Signal<Out, Bits<32>>,
    pub in_data: Signal<In, Bits<D>>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub out_data: Signal<Out, Bits<D>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    // The butterflies: operands, twiddle, swap and tag out, results and tag back.
    pub bf_a: [Signal<Out, Bits<D>>; L],
    pub bf_b: [Signal<Out, Bits<D>>; L],
    pub bf_w: [Signal<Out, Bits<D>>; L],
    pub bf_swap: [Signal<Out, Bit>; L],
    pub bf_tag: [Signal<Out, Bits<16>>; L],
    pub bf_valid: [Signal<Out, Bit>; L],
    pub bf_x: [Signal<In, Bits<D>>; L],
    pub bf_y: [Signal<In, Bits<D>>; L],
    pub bf_tag_out: [Signal<In, Bits<16>>; L],
    pub bf_out_valid: [Signal<In, Bit>; L],

    info: Constant<Bits<32>>,
    data_reg: Constant<Bits<4>>,
    max_log: Constant<Bits<5>>,
    min_log: Constant<Bits<5>>,
    shift_base: Constant<Bits<5>>,
    p: Constant<Bits<64>>,
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
    // Whether any are in flight, and whether this is the last stage, as flags of their own:
    // a 17-bit zero test and a 5-bit compare in front of the phase decision held the 2^6
    // engines to 91–99 MHz.
    in_flight_any: DFF<Bit>,
    last_stage: DFF<Bit>,
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
    // 3 the read address of every bank; 4 the memory read; 5 the register behind the memory;
    // 6 the chosen operands (rd3_*).
    p1_valid: DFF<Bit>,
    p1_scale: DFF<Bit>,
    p1_i: [DFF<Bits<17>>; L],
    p1_j: [DFF<Bits<17>>; L],
    p1_t: [DFF<Bits<17>>; L],
    p2_valid: DFF<Bit>,
    p2_scale: DFF<Bit>,
    p2_wi: [DFF<Bits<B>>; L],
    p2_wj: [DFF<Bits<B>>; L],
    // Each operand's bank as a one-hot enable, so that each bank's read address is an OR of
    // ANDs over the lanes (in the scaling pass j = i, so the two agree); carried on to pick
    // the operands from the banks' outputs the same way (an OR of ANDs there too: a priority
    // chain of bank compares held the four-lane engine to 69 MHz).
    p2_ei: [DFF<Bits<K>>; L],
    p2_ej: [DFF<Bits<K>>; L],
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
    p3_ei: [DFF<Bits<K>>; L],
    p3_ej: [DFF<Bits<K>>; L],
    p3_tag: [DFF<Bits<16>>; L],
    p3_swap: [DFF<Bit>; L],
    rd_valid: DFF<Bit>,
    rd_scale: DFF<Bit>,
    rd_ei: [DFF<Bits<K>>; L],
    rd_ej: [DFF<Bits<K>>; L],
    rd_tag: [DFF<Bits<16>>; L],
    rd_swap: [DFF<Bit>; L],
    // Block RAM outputs are slow (about 6 ns on the ECP5, plus the routing from wherever the
    // placer put the block): each memory's output is registered before any logic, even the
    // choice of the source memory (which held the 2^14 engine to 92 MHz).
    q0: [DFF<Bits<D>>; K],
    q1: [DFF<Bits<D>>; K],
    scq: DFF<Bits<D>>,
    rd2_valid: DFF<Bit>,
    rd2_scale: DFF<Bit>,
    // Each operand's bank as one-hot selects per memory, registered beside the data they pick.
    rd2_sa0: [DFF<Bits<K>>; L],
    rd2_sa1: [DFF<Bits<K>>; L],
    rd2_sb0: [DFF<Bits<K>>; L],
    rd2_sb1: [DFF<Bits<K>>; L],
    rd2_tag: [DFF<Bits<16>>; L],
    rd2_swap: [DFF<Bit>; L],
    // The butterflies' inputs, registered once more after the operand choice: the banks sit
    // together and the lanes' butterflies spread over the part, so the operands get a cycle
    // of routing of their own (behind the choice, four lanes reached 69 MHz).
    rd3_valid: DFF<Bit>,
    rd3_a: [DFF<Bits<D>>; L],
    rd3_b: [DFF<Bits<D>>; L],
    rd3_w: [DFF<Bits<D>>; L],
    rd3_tag: [DFF<Bits<16>>; L],
    rd3_swap: [DFF<Bit>; L],
    // Input register and write registers in front of the memories.
    ld_v: DFF<Bit>,
    // All 64 bits of the pushed word, so that bits above D count against p too.
    ld_data: DFF<Bits<64>>,
    // DATA_HI as last written.
    hi: DFF<Bits<32>>,
    // The loaded element's bank (one enable per bank) and word, decoded from k before the
    // input register, so that only a register lies behind each bank's write-data choice.
    ld_e: [DFF<Bit>; K],
    ld_word: DFF<Bits<B>>,
    wr_e: [DFF<Bit>; K],
    wr_a: [DFF<Bits<B>>; K],
    wr_d: [DFF<Bits<D>>; K],
    wr_m: DFF<Bit>,
    // Butterfly results, registered with their words and their banks as one-hot enables (none
    // for j in the scaling pass, which writes only i), so that each bank's write-data choice is
    // an OR of ANDs over the lanes: a priority chain of 2L bank compares per bank stood there.
    bo_valid: DFF<Bit>,
    bo_ei: [DFF<Bits<K>>; L],
    bo_ej: [DFF<Bits<K>>; L],
    bo_wi: [DFF<Bits<B>>; L],
    bo_wj: [DFF<Bits<B>>; L],
    bo_x: [DFF<Bits<D>>; L],
    bo_y: [DFF<Bits<D>>; L],
    // Output queue: eight registers, and the unload reads in flight (three cycles each).
    fifo: [DFF<Bits<D>>; 8],
    // Which entry the element arriving next cycle goes to, registered a cycle ahead so that
    // each entry's enable comes straight from a flip-flop: decoded from the tail in the same
    // cycle, it held the Goldilocks 2^6 engine to 87 MHz by its fan-out of 64 enables.
    fifo_we: [DFF<Bit>; 8],
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
    // The data memories are written as columns of one block RAM each, the twiddle ROMs as
    // parts read in two cycles, the second register (where `twq` stood) theirs; see
    // `crate::memory`. Both keep block RAMs from being cascaded behind a mux.
    m0: [BlockRam<D, B>; K],
    m1: [BlockRam<D, B>; K],
    tw: [PartedRom<D, W>; L],
    scale: SyncROM<Bits<D>, 5>,
    // Per lane: where the operands live, at issue and at write-back, and the twiddle address.
    pl_i: [Place<B, L>; L],
    pl_j: [Place<B, L>; L],
    po_i: [Place<B, L>; L],
    po_j: [Place<B, L>; L],
    ra_i: [BankEnable<K>; L],
    ra_j: [BankEnable<K>; L],
    en_i: [BankEnable<K>; L],
    en_j: [BankEnable<K>; L],
    untag: [Untag; L],
    // Per lane: the operands, ORed together from the banks their selects name.
    opa: [Signal<Local, Bits<D>>; L],
    opb: [Signal<Local, Bits<D>>; L],
    twix: [TwiddleIndex<W>; L],
    u_word: Signal<Local, Bits<B>>,
    // Per lane: butterfly k + l, and its i.
    kl: [Signal<Local, Bits<17>>; L],
    il: [Signal<Local, Bits<17>>; L],
    oi: [Signal<Local, Bits<17>>; L],
    oj: [Signal<Local, Bits<17>>; L],
    // Butterfly results as they arrive: whether they belong to the scaling pass; per bank,
    // the word, data and enable ORed together from the lanes that write there.
    scaling: Signal<Local, Bit>,
    // Per bank, the read address ORed together from the operands that live there.
    rd_a: [Signal<Local, Bits<B>>; K],
    wb_e: [Signal<Local, Bit>; K],
    wb_a: [Signal<Local, Bits<B>>; K],
    wb_d: [Signal<Local, Bits<D>>; K],
    u_bank: Signal<Local, Bits<5>>,
    u_data: Signal<Local, Bits<D>>,
    inflight_next: Signal<Local, Bits<17>>,
    tail_after: Signal<Local, Bits<3>>,
    push: Signal<Local, Bit>,
    push_data: Signal<Local, Bits<64>>,
    pop: Signal<Local, Bit>,
    issue: Signal<Local, Bit>,
    k_next: Signal<Local, Bits<17>>,
    launch: Signal<Local, Bit>,
    ob: Signal<Local, Bits<D>>,
    ob_wide: Signal<Local, Bits<64>>,
    ob_v: Signal<Local, Bit>,
    mb: [Signal<Local, Bits<D>>; K],
}

impl<
        const D: usize,
        const A: usize,
        const W: usize,
        const B: usize,
        const L: usize,
        const K: usize,
    > NttCore<D, A, W, B, L, K>
{
    /// The engine for `field`'s constants.
    pub fn new(field: &FieldSpec) -> Self {
        let banks = crate::schedule::Banks::new(L);
        assert!(
            (2..=16).contains(&A)
                && W + 1 == A
                && K == banks.count()
                && K <= 32
                && banks.min_log_n() as usize <= A
                && B + banks.min_log_n() as usize == A
                && (1..=64).contains(&D),
            "NttCore<D, A, A − 1, A − log2(2L), L, 2L> with A in 2..=16 and 2L ≤ 2^A"
        );
        let tw: BTreeMap<Bits<W>, Bits<D>> = (0..1u64 << W)
            .map(|k| (k.into(), (field.twiddle)(A, k).into()))
            .collect();
        let scale: BTreeMap<Bits<5>, Bits<D>> = (0..32u64)
            .map(|l| (l.into(), (field.inv_pow2)(l).into()))
            .collect();
        let info = A as u64 | (L as u64) << 8 | field.code << 16 | (field.latency as u64) << 24;
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
            bf_a: array(),
            bf_b: array(),
            bf_w: array(),
            bf_swap: array(),
            bf_tag: array(),
            bf_valid: array(),
            bf_x: array(),
            bf_y: array(),
            bf_tag_out: array(),
            bf_out_valid: array(),
            info: Constant::new(info.into()),
            data_reg: Constant::new(reg::DATA.into()),
            max_log: Constant::new((A as u64).into()),
            min_log: Constant::new((banks.min_log_n() as u64).into()),
            shift_base: Constant::new((A as u64).into()),
            p: Constant::new(field.p.into()),
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
            in_flight_any: Default::default(),
            last_stage: Default::default(),
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
            p2_ei: array(),
            p2_ej: array(),
            p2_tag: array(),
            p2_swap: array(),
            p2_tw: array(),
            ra: array(),
            twa: array(),
            p3_valid: Default::default(),
            p3_scale: Default::default(),
            p3_ei: array(),
            p3_ej: array(),
            p3_tag: array(),
            p3_swap: array(),
            rd_valid: Default::default(),
            rd_scale: Default::default(),
            rd_ei: array(),
            rd_ej: array(),
            rd_tag: array(),
            rd_swap: array(),
            q0: array(),
            q1: array(),
            scq: Default::default(),
            rd2_valid: Default::default(),
            rd2_scale: Default::default(),
            rd2_sa0: array(),
            rd2_sa1: array(),
            rd2_sb0: array(),
            rd2_sb1: array(),
            rd2_tag: array(),
            rd2_swap: array(),
            rd3_valid: Default::default(),
            rd3_a: array(),
            rd3_b: array(),
            rd3_w: array(),
            rd3_tag: array(),
            rd3_swap: array(),
            ld_v: Default::default(),
            ld_data: Default::default(),
            hi: Default::default(),
            ld_e: array(),
            ld_word: Default::default(),
            wr_e: array(),
            wr_a: array(),
            wr_d: array(),
            wr_m: Default::default(),
            bo_valid: Default::default(),
            bo_ei: array(),
            bo_ej: array(),
            bo_wi: array(),
            bo_wj: array(),
            bo_x: array(),
            bo_y: array(),
            fifo: Default::default(),
            fifo_we: Default::default(),
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
            tw: std::array::from_fn(|_| PartedRom::new(tw.clone())),
            scale: SyncROM::new(scale),
            pl_i: array(),
            pl_j: array(),
            po_i: array(),
            po_j: array(),
            ra_i: array(),
            ra_j: array(),
            en_i: array(),
            en_j: array(),
            untag: array(),
            opa: array(),
            opb: array(),
            twix: array(),
            u_word: Default::default(),
            kl: array(),
            il: array(),
            oi: array(),
            oj: array(),
            scaling: Default::default(),
            rd_a: array(),
            wb_e: array(),
            wb_a: array(),
            wb_d: array(),
            u_bank: Default::default(),
            u_data: Default::default(),
            inflight_next: Default::default(),
            tail_after: Default::default(),
            push: Default::default(),
            push_data: Default::default(),
            pop: Default::default(),
            issue: Default::default(),
            k_next: Default::default(),
            launch: Default::default(),
            ob: Default::default(),
            ob_wide: Default::default(),
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

impl<
        const D: usize,
        const A: usize,
        const W: usize,
        const B: usize,
        const L: usize,
        const K: usize,
    > Logic for NttCore<D, A, W, B, L, K>
{
    // hdl_gen translates match arms without guards only, so conditions stay inside the arms.
    #[allow(clippy::collapsible_match)]
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            phase,
            inverse,
            log_n,
            error,
            done,
            cycles,
            k,
            k_step,
            stage,
            src,
            inflight,
            in_flight_any,
            last_stage,
            all_issued,
            last_n,
            last_half,
            last_issue,
            last_scale,
            h,
            lowmask,
            tw_shift,
            p1_valid,
            p1_scale,
            p2_valid,
            p2_scale,
            p3_valid,
            p3_scale,
            rd_valid,
            rd_scale,
            scq,
            rd2_valid,
            rd2_scale,
            rd3_valid,
            ld_v,
            ld_data,
            hi,
            ld_word,
            wr_m,
            bo_valid,
            head,
            tail,
            count,
            credits,
            pend1,
            pend2,
            pend3,
            u_bank1,
            u_bank2,
            u_bank3
        );
        for i in 0..8 {
            self.fifo[i].clock.next = self.clock.val();
            self.fifo[i].d.next = self.fifo[i].q.val();
            self.fifo_we[i].clock.next = self.clock.val();
            self.fifo_we[i].d.next = false;
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
            self.p2_ei[l].clock.next = self.clock.val();
            self.p2_ei[l].d.next = self.p2_ei[l].q.val();
            self.p2_ej[l].clock.next = self.clock.val();
            self.p2_ej[l].d.next = self.p2_ej[l].q.val();
            self.p2_tag[l].clock.next = self.clock.val();
            self.p2_tag[l].d.next = self.p2_tag[l].q.val();
            self.p2_swap[l].clock.next = self.clock.val();
            self.p2_swap[l].d.next = self.p2_swap[l].q.val();
            self.p2_tw[l].clock.next = self.clock.val();
            self.p2_tw[l].d.next = self.p2_tw[l].q.val();
            self.twa[l].clock.next = self.clock.val();
            self.twa[l].d.next = self.twa[l].q.val();
            self.p3_ei[l].clock.next = self.clock.val();
            self.p3_ei[l].d.next = self.p3_ei[l].q.val();
            self.p3_ej[l].clock.next = self.clock.val();
            self.p3_ej[l].d.next = self.p3_ej[l].q.val();
            self.p3_tag[l].clock.next = self.clock.val();
            self.p3_tag[l].d.next = self.p3_tag[l].q.val();
            self.p3_swap[l].clock.next = self.clock.val();
            self.p3_swap[l].d.next = self.p3_swap[l].q.val();
            self.rd_ei[l].clock.next = self.clock.val();
            self.rd_ei[l].d.next = self.rd_ei[l].q.val();
            self.rd_ej[l].clock.next = self.clock.val();
            self.rd_ej[l].d.next = self.rd_ej[l].q.val();
            self.rd_tag[l].clock.next = self.clock.val();
            self.rd_tag[l].d.next = self.rd_tag[l].q.val();
            self.rd_swap[l].clock.next = self.clock.val();
            self.rd_swap[l].d.next = self.rd_swap[l].q.val();
            self.rd2_sa0[l].clock.next = self.clock.val();
            self.rd2_sa0[l].d.next = self.rd2_sa0[l].q.val();
            self.rd2_sa1[l].clock.next = self.clock.val();
            self.rd2_sa1[l].d.next = self.rd2_sa1[l].q.val();
            self.rd2_sb0[l].clock.next = self.clock.val();
            self.rd2_sb0[l].d.next = self.rd2_sb0[l].q.val();
            self.rd2_sb1[l].clock.next = self.clock.val();
            self.rd2_sb1[l].d.next = self.rd2_sb1[l].q.val();
            self.rd2_tag[l].clock.next = self.clock.val();
            self.rd2_tag[l].d.next = self.rd2_tag[l].q.val();
            self.rd2_swap[l].clock.next = self.clock.val();
            self.rd2_swap[l].d.next = self.rd2_swap[l].q.val();
            self.rd3_a[l].clock.next = self.clock.val();
            self.rd3_a[l].d.next = self.rd3_a[l].q.val();
            self.rd3_b[l].clock.next = self.clock.val();
            self.rd3_b[l].d.next = self.rd3_b[l].q.val();
            self.rd3_w[l].clock.next = self.clock.val();
            self.rd3_w[l].d.next = self.rd3_w[l].q.val();
            self.rd3_tag[l].clock.next = self.clock.val();
            self.rd3_tag[l].d.next = self.rd3_tag[l].q.val();
            self.rd3_swap[l].clock.next = self.clock.val();
            self.rd3_swap[l].d.next = self.rd3_swap[l].q.val();
            self.bo_ei[l].clock.next = self.clock.val();
            self.bo_ei[l].d.next = self.bo_ei[l].q.val();
            self.bo_ej[l].clock.next = self.clock.val();
            self.bo_ej[l].d.next = self.bo_ej[l].q.val();
            self.bo_wi[l].clock.next = self.clock.val();
            self.bo_wi[l].d.next = self.bo_wi[l].q.val();
            self.bo_wj[l].clock.next = self.clock.val();
            self.bo_wj[l].d.next = self.bo_wj[l].q.val();
            self.bo_x[l].clock.next = self.clock.val();
            self.bo_x[l].d.next = self.bo_x[l].q.val();
            self.bo_y[l].clock.next = self.clock.val();
            self.bo_y[l].d.next = self.bo_y[l].q.val();
            self.tw[l].clock.next = self.clock.val();
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
        self.last_stage.d.next = bit_cast::<5, 5>(self.stage.q.val() + 1) == self.log_n.q.val();

        // Input: the stream or DATA writes, while loading; registered before the memory.
        self.push_data.next = bit_cast::<64, D>(self.in_data.val());
        if self.reg_write.val() & (self.reg_addr.val() == self.data_reg.val()) {
            self.push_data.next = (bit_cast::<64, 32>(self.hi.q.val()) << 32)
                | bit_cast::<64, 32>(self.reg_wdata.val());
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
        self.ob_wide.next = bit_cast::<64, D>(self.ob.val());
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
            self.ra_i[l].bank.next = self.pl_i[l].bank.val();
            self.ra_i[l].on.next = true;
            self.ra_j[l].bank.next = self.pl_j[l].bank.val();
            self.ra_j[l].on.next = true;
            self.p2_ei[l].d.next = self.ra_i[l].enable.val();
            self.p2_ej[l].d.next = self.ra_j[l].enable.val();
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
            self.p3_ei[l].d.next = self.p2_ei[l].q.val();
            self.p3_ej[l].d.next = self.p2_ej[l].q.val();
            self.p3_tag[l].d.next = self.p2_tag[l].q.val();
            self.p3_swap[l].d.next = self.p2_swap[l].q.val();
            self.twix[l].index.next = self.p2_tw[l].q.val();
            self.twix[l].swap.next = self.p2_swap[l].q.val();
            self.twa[l].d.next = self.twix[l].address.val();
        }
        for b in 0..K {
            self.rd_a[b].next = bits::<B>(0);
            for l in 0..L {
                if self.p2_ei[l].q.val().get_bit(b) {
                    self.rd_a[b].next = self.rd_a[b].val() | self.p2_wi[l].q.val();
                }
                if self.p2_ej[l].q.val().get_bit(b) {
                    self.rd_a[b].next = self.rd_a[b].val() | self.p2_wj[l].q.val();
                }
            }
            self.ra[b].d.next = self.rd_a[b].val();
        }
        // Stage 4: memory and twiddle reads.
        self.rd_valid.d.next = self.p3_valid.q.val();
        self.rd_scale.d.next = self.p3_scale.q.val();
        for l in 0..L {
            self.rd_ei[l].d.next = self.p3_ei[l].q.val();
            self.rd_ej[l].d.next = self.p3_ej[l].q.val();
            self.rd_tag[l].d.next = self.p3_tag[l].q.val();
            self.rd_swap[l].d.next = self.p3_swap[l].q.val();
            self.tw[l].address.next = self.twa[l].q.val();
        }
        self.scale.address.next = self.log_n.q.val();

        // Read data, registered per memory and bank; then the banks of the source memory (for
        // the unload; the butterflies' operands pick from both memories by their selects).
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
            self.rd2_sa0[l].d.next = bits::<K>(0);
            self.rd2_sa1[l].d.next = bits::<K>(0);
            self.rd2_sb0[l].d.next = bits::<K>(0);
            self.rd2_sb1[l].d.next = bits::<K>(0);
            if self.src.q.val() {
                self.rd2_sa1[l].d.next = self.rd_ei[l].q.val();
                self.rd2_sb1[l].d.next = self.rd_ej[l].q.val();
            } else {
                self.rd2_sa0[l].d.next = self.rd_ei[l].q.val();
                self.rd2_sb0[l].d.next = self.rd_ej[l].q.val();
            }
            self.rd2_tag[l].d.next = self.rd_tag[l].q.val();
            self.rd2_swap[l].d.next = self.rd_swap[l].q.val();
        }

        // The butterflies' inputs: a from i's bank, b from j's; in the scaling pass (x, 0, 1/n).
        self.rd3_valid.d.next = self.rd2_valid.q.val();
        for l in 0..L {
            self.rd3_tag[l].d.next = self.rd2_tag[l].q.val();
            self.rd3_swap[l].d.next = self.rd2_swap[l].q.val();
            self.opa[l].next = bits::<D>(0);
            self.opb[l].next = bits::<D>(0);
            for b in 0..K {
                if self.rd2_sa0[l].q.val().get_bit(b) {
                    self.opa[l].next = self.opa[l].val() | self.q0[b].q.val();
                }
                if self.rd2_sa1[l].q.val().get_bit(b) {
                    self.opa[l].next = self.opa[l].val() | self.q1[b].q.val();
                }
                if self.rd2_sb0[l].q.val().get_bit(b) {
                    self.opb[l].next = self.opb[l].val() | self.q0[b].q.val();
                }
                if self.rd2_sb1[l].q.val().get_bit(b) {
                    self.opb[l].next = self.opb[l].val() | self.q1[b].q.val();
                }
            }
            self.rd3_a[l].d.next = self.opa[l].val();
            self.rd3_b[l].d.next = self.opb[l].val();
            self.rd3_w[l].d.next = self.tw[l].data.val();
            if self.rd2_scale.q.val() {
                self.rd3_b[l].d.next = bits::<D>(0);
                self.rd3_w[l].d.next = self.scq.q.val();
            }
            self.bf_valid[l].next = self.rd3_valid.q.val();
            self.bf_tag[l].next = self.rd3_tag[l].q.val();
            self.bf_swap[l].next = self.rd3_swap[l].q.val();
            self.bf_a[l].next = self.rd3_a[l].q.val();
            self.bf_b[l].next = self.rd3_b[l].q.val();
            self.bf_w[l].next = self.rd3_w[l].q.val();
        }

        // Butterfly results, with each one's banks and words (x to i, y to j; the scaling
        // pass writes y to i).
        self.bo_valid.d.next = self.bf_out_valid[0].val();
        self.scaling.next =
            (self.phase.q.val() == Phase::Scale) | (self.phase.q.val() == Phase::ScaleDrain);
        for l in 0..L {
            self.untag[l].tag.next = self.bf_tag_out[l].val();
            self.oi[l].next = self.untag[l].a.val();
            self.oj[l].next = self.oi[l].val() | self.h.q.val();
            self.po_i[l].a.next = self.oi[l].val();
            self.po_j[l].a.next = self.oj[l].val();
            self.en_i[l].bank.next = self.po_i[l].bank.val();
            self.en_i[l].on.next = self.bf_out_valid[l].val();
            self.en_j[l].bank.next = self.po_j[l].bank.val();
            self.en_j[l].on.next = self.bf_out_valid[l].val() & !self.scaling.val();
            self.bo_ei[l].d.next = self.en_i[l].enable.val();
            self.bo_ej[l].d.next = self.en_j[l].enable.val();
            self.bo_wi[l].d.next = self.po_i[l].word.val();
            self.bo_wj[l].d.next = self.po_j[l].word.val();
            self.bo_x[l].d.next = self.bf_x[l].val();
            if self.scaling.val() {
                self.bo_x[l].d.next = self.bf_y[l].val();
            }
            self.bo_y[l].d.next = self.bf_y[l].val();
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
                    self.wr_d[b].d.next = bit_cast::<D, 64>(self.ld_data.q.val());
                }
            }
            if (self.ld_data.q.val() >= self.p.val()) && !self.error.q.val().any() {
                self.error.d.next = 5.into();
            }
        }
        if self.bo_valid.q.val() {
            self.wr_m.d.next = !self.src.q.val();
        }
        for b in 0..K {
            self.wb_e[b].next = false;
            self.wb_a[b].next = bits::<B>(0);
            self.wb_d[b].next = bits::<D>(0);
            for l in 0..L {
                if self.bo_ei[l].q.val().get_bit(b) {
                    self.wb_e[b].next = true;
                    self.wb_a[b].next = self.wb_a[b].val() | self.bo_wi[l].q.val();
                    self.wb_d[b].next = self.wb_d[b].val() | self.bo_x[l].q.val();
                }
                if self.bo_ej[l].q.val().get_bit(b) {
                    self.wb_e[b].next = true;
                    self.wb_a[b].next = self.wb_a[b].val() | self.bo_wj[l].q.val();
                    self.wb_d[b].next = self.wb_d[b].val() | self.bo_y[l].q.val();
                }
            }
            if self.wb_e[b].val() {
                self.wr_e[b].d.next = true;
                self.wr_a[b].d.next = self.wb_a[b].val();
                self.wr_d[b].d.next = self.wb_d[b].val();
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
                if !self.in_flight_any.q.val() {
                    self.src.d.next = !self.src.q.val();
                    self.k.d.next = bits::<17>(0);
                    self.all_issued.d.next = false;
                    if self.last_stage.q.val() {
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
                if !self.in_flight_any.q.val() {
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
                    self.k.d.next = bits::<17>(0);
                }
            }
            Phase::Aborting => {
                if !self.in_flight_any.q.val()
                    & !self.pend1.q.val()
                    & !self.pend2.q.val()
                    & !self.pend3.q.val()
                {
                    self.phase.d.next = Phase::Idle;
                    self.k.d.next = bits::<17>(0);
                }
            }
            _ => {}
        }
        self.pend1.d.next = self.issue.val();
        self.pend2.d.next = self.pend1.q.val();
        self.pend3.d.next = self.pend2.q.val();
        self.u_bank2.d.next = self.u_bank1.q.val();
        self.u_bank3.d.next = self.u_bank2.q.val();
        self.inflight_next.next = self.inflight.q.val()
            + bit_cast::<17, 1>(self.launch.val().into())
            - bit_cast::<17, 1>(self.bo_valid.q.val().into());
        self.inflight.d.next = self.inflight_next.val();
        self.in_flight_any.d.next = self.inflight_next.val().any();

        // The output queue: an element whose read was issued three cycles ago goes in at the
        // tail, from its bank of the source memory.
        self.u_data.next = self.mb[0].val();
        for b in 1..K {
            if self.u_bank3.q.val().index() == b {
                self.u_data.next = self.mb[b].val();
            }
        }
        for i in 0..8 {
            if self.fifo_we[i].q.val() {
                self.fifo[i].d.next = self.u_data.val();
            }
        }
        // The tail the next element will find: a doorbell's reset of the tail cannot meet an
        // element in flight (jobs start from Idle, which waits for the reads to land).
        self.tail_after.next = self.tail.q.val();
        if self.pend3.q.val() {
            self.tail.d.next = self.tail.q.val() + 1;
            self.tail_after.next = self.tail.q.val() + 1;
        }
        for i in 0..8 {
            self.fifo_we[i].d.next = self.pend2.q.val() & (self.tail_after.val().index() == i);
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
            7 => self.reg_rdata.next = bit_cast::<32, 64>(self.ob_wide.val()),
            8 => self.reg_rdata.next = bit_cast::<32, 64>(self.ob_wide.val() >> 32),
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
                            // k is 0 in Idle already (from reset, or set on the way there),
                            // which keeps the register decode out of k's path.
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
                    self.hi.d.next = bits::<32>(0);
                    if (self.phase.q.val() != Phase::Load) && !self.error.q.val().any() {
                        self.error.d.next = 3.into();
                    }
                }
                8 => self.hi.d.next = self.reg_wdata.val(),
                _ => {}
            }
        }
        if self.in_valid.val() && (self.phase.q.val() != Phase::Load) && !self.error.q.val().any() {
            self.error.d.next = 3.into();
        }
    }
}
