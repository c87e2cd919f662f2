//! Per-lane address logic of the NTT engines, as small combinational blocks. They exist
//! because rust-hdl's `hdl_gen` sizes a `bit_cast` by evaluating it outside the Verilog loop
//! that holds it, so a cast of anything indexed by a loop variable (lane l, bank b) does not
//! compile; an array of these blocks does the casts with no index in sight.

use crate::schedule::Banks;
use rust_hdl::prelude::*;

/// Where address `a` lives with L lanes (see [`crate::schedule::Banks`]): its bank
/// parity(a)·L + (a mod L), its word a >> log2(2L) in B bits, and a as a 16-bit tag.
#[derive(LogicBlock)]
pub struct Place<const B: usize, const L: usize> {
    pub a: Signal<In, Bits<17>>,
    pub bank: Signal<Out, Bits<5>>,
    pub word: Signal<Out, Bits<B>>,
    pub tag: Signal<Out, Bits<16>>,
    log_lanes: Constant<Bits<5>>,
    lane_mask: Constant<Bits<17>>,
    log_banks: Constant<Bits<17>>,
}

impl<const B: usize, const L: usize> Default for Place<B, L> {
    fn default() -> Self {
        let log_lanes = Banks::new(L).min_log_n() as u64 - 1;
        Self {
            a: Default::default(),
            bank: Default::default(),
            word: Default::default(),
            tag: Default::default(),
            log_lanes: Constant::new(log_lanes.into()),
            lane_mask: Constant::new((L as u64 - 1).into()),
            log_banks: Constant::new((log_lanes + 1).into()),
        }
    }
}

impl<const B: usize, const L: usize> Logic for Place<B, L> {
    #[hdl_gen]
    fn update(&mut self) {
        self.bank.next = (bit_cast::<5, 1>(self.a.val().xor().into()) << self.log_lanes.val())
            | bit_cast::<5, 17>(self.a.val() & self.lane_mask.val());
        self.word.next = bit_cast::<B, 17>(self.a.val() >> self.log_banks.val());
        self.tag.next = bit_cast::<16, 17>(self.a.val());
    }
}

/// A 16-bit tag back to a 17-bit address.
#[derive(LogicBlock, Default)]
pub struct Untag {
    pub tag: Signal<In, Bits<16>>,
    pub a: Signal<Out, Bits<17>>,
}

impl Logic for Untag {
    #[hdl_gen]
    fn update(&mut self) {
        self.a.next = bit_cast::<17, 16>(self.tag.val());
    }
}

/// The twiddle ROM address for exponent index `index` (already shifted to the ROM's scale):
/// `index`, or 2^W − `index` when `swap` (the inverse's ω^−t = −ω^(N/2 − t)).
#[derive(LogicBlock)]
pub struct TwiddleIndex<const W: usize> {
    pub index: Signal<In, Bits<17>>,
    pub swap: Signal<In, Bit>,
    pub address: Signal<Out, Bits<W>>,
    half: Constant<Bits<17>>,
}

impl<const W: usize> Default for TwiddleIndex<W> {
    fn default() -> Self {
        Self {
            index: Default::default(),
            swap: Default::default(),
            address: Default::default(),
            half: Constant::new((1u64 << W).into()),
        }
    }
}

impl<const W: usize> Logic for TwiddleIndex<W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.address.next = bit_cast::<W, 17>(self.index.val());
        if self.swap.val() {
            self.address.next = bit_cast::<W, 17>(self.half.val() - self.index.val());
        }
    }
}

/// A bank as a one-hot enable of K banks, or none when `on` is low: where a butterfly's
/// result goes, so that each bank's write choice is an OR of ANDs over the lanes.
#[derive(LogicBlock)]
pub struct BankEnable<const K: usize> {
    pub bank: Signal<In, Bits<5>>,
    pub on: Signal<In, Bit>,
    pub enable: Signal<Out, Bits<K>>,
    one: Constant<Bits<K>>,
    none: Constant<Bits<K>>,
}

impl<const K: usize> Default for BankEnable<K> {
    fn default() -> Self {
        Self {
            bank: Default::default(),
            on: Default::default(),
            enable: Default::default(),
            one: Constant::new(1u64.into()),
            none: Constant::new(0u64.into()),
        }
    }
}

impl<const K: usize> Logic for BankEnable<K> {
    #[hdl_gen]
    fn update(&mut self) {
        self.enable.next = self.none.val();
        if self.on.val() {
            self.enable.next = self.one.val() << bit_cast::<K, 5>(self.bank.val());
        }
    }
}
