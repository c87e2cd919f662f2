//! The engines' block memories (`offload_hdl::memory`): written differently from rust-hdl's
//! (columns, parts), so their Verilog is replayed in Icarus against the simulation here, at
//! sizes with several columns and parts; the engines' own replays use small memories only.

use offload_hdl::memory::{BlockRam, PartedRom, PART_BITS};
use offload_hdl::sim::{Clocked, Sim};
use offload_hw_tests::icarus_replay;
use offload_hw_tests::stream::{export, replay};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

#[derive(LogicBlock)]
struct RomBench<const D: usize, const N: usize> {
    clock: Signal<In, Clock>,
    address: Signal<In, Bits<N>>,
    data: Signal<Out, Bits<D>>,
    rom: PartedRom<D, N>,
}

impl<const D: usize, const N: usize> Logic for RomBench<D, N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.rom.clock.next = self.clock.val();
        self.rom.address.next = self.address.val();
        self.data.next = self.rom.data.val();
    }
}

impl<const D: usize, const N: usize> Clocked for RomBench<D, N> {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

#[derive(LogicBlock, Default)]
struct RamBench<const D: usize, const N: usize> {
    clock: Signal<In, Clock>,
    read_address: Signal<In, Bits<N>>,
    write_address: Signal<In, Bits<N>>,
    write_data: Signal<In, Bits<D>>,
    write_enable: Signal<In, Bit>,
    read_data: Signal<Out, Bits<D>>,
    ram: BlockRam<D, N>,
}

impl<const D: usize, const N: usize> Logic for RamBench<D, N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.ram.read_clock.next = self.clock.val();
        self.ram.write_clock.next = self.clock.val();
        self.ram.read_address.next = self.read_address.val();
        self.ram.write_address.next = self.write_address.val();
        self.ram.write_data.next = self.write_data.val();
        self.ram.write_enable.next = self.write_enable.val();
        self.read_data.next = self.ram.read_data.val();
    }
}

impl<const D: usize, const N: usize> Clocked for RamBench<D, N> {
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}

fn mask(d: usize) -> u64 {
    if d == 64 {
        !0
    } else {
        (1 << d) - 1
    }
}

/// Addresses back to back: the ends, both sides of every part boundary, then random ones.
fn addresses(n: usize, count: usize, r: &mut ChaCha20Rng) -> Vec<u64> {
    let top = (1u64 << n) - 1;
    let mut a = vec![0, top, 1, top - 1];
    let part = 1u64 << PART_BITS.min(n);
    a.extend((1..(1u64 << n) / part).flat_map(|p| [p * part - 1, p * part]));
    a.extend((0..count).map(|_| r.gen_range(0..=top)));
    a
}

fn rom_reads_every_word_two_cycles_later<const D: usize, const N: usize>(seed: u64) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let words: Vec<u64> = (0..1u64 << N).map(|_| r.gen::<u64>() & mask(D)).collect();
    let contents = || -> BTreeMap<Bits<N>, Bits<D>> {
        words
            .iter()
            .enumerate()
            .map(|(a, &w)| ((a as u64).into(), w.into()))
            .collect()
    };
    let bench = || RomBench::<D, N> {
        clock: Default::default(),
        address: Default::default(),
        data: Default::default(),
        rom: PartedRom::new(contents()),
    };
    let mut sim = Sim::new(bench()).unwrap();
    let addrs = addresses(N, 300, &mut r);
    let (mut ins, mut outs, mut got) = (Vec::new(), Vec::new(), Vec::new());
    for &a in addrs.iter().chain([0, 0].iter()) {
        sim.uut.address.next = a.into();
        sim.step().unwrap();
        let d = sim.uut.data.val().to_u64();
        ins.push(vec![vec![a]]);
        outs.push(vec![vec![d]]);
        got.push(d);
    }
    // The word for the address presented at edge i shows after edge i + 1.
    for (i, &a) in addrs.iter().enumerate() {
        assert_eq!(got[i + 1], words[a as usize], "address {a:#x} (read {i})");
    }
    assert_eq!(got[0], 0, "nothing read yet");

    let verilog = export(bench());
    let parts = 1usize << N.saturating_sub(PART_BITS);
    assert_eq!(verilog.matches("] mem").count(), parts, "{parts} parts");
    let trace = (ins, outs);
    replay(&verilog, &trace);
    if parts > 1 {
        // The replay can fail: a select that picks the part after the right one is caught.
        let broken = verilog.replace("select <= ", "select <= 1'b1 + ");
        assert_ne!(broken, verilog);
        assert_ne!(icarus_replay(&broken, &trace.0).unwrap(), trace.1);
    }
}

#[test]
fn a_four_part_rom_reads_every_word_two_cycles_later() {
    rom_reads_every_word_two_cycles_later::<31, 11>(1);
}

#[test]
fn a_wide_rom_in_two_parts_and_a_one_part_rom_read_every_word() {
    rom_reads_every_word_two_cycles_later::<64, 10>(2);
    rom_reads_every_word_two_cycles_later::<31, 9>(3);
}

/// Random writes and reads, some of the word being written (which reads the old value),
/// against a map, from random contents; then the same run through the Verilog.
fn ram_writes_and_reads<const D: usize, const N: usize>(seed: u64) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let top = (1u64 << N) - 1;
    // Every word starts known, so that no read in the replay meets an undefined one.
    let mut model: BTreeMap<u64, u64> = (0..=top).map(|a| (a, r.gen::<u64>() & mask(D))).collect();
    let bench = |model: &BTreeMap<u64, u64>| RamBench::<D, N> {
        ram: BlockRam::new(model.iter().map(|(&a, &w)| (a.into(), w.into())).collect()),
        ..Default::default()
    };
    let mut sim = Sim::new(bench(&model)).unwrap();
    let start = model.clone();
    let mut hot: Vec<u64> = vec![0, top];
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    for i in 0..600 {
        let wa = if i % 3 == 0 {
            hot[r.gen_range(0..hot.len())]
        } else {
            r.gen_range(0..=top)
        };
        let we = i < 40 || r.gen_bool(0.6);
        let wd = if i % 7 == 0 {
            mask(D)
        } else {
            r.gen::<u64>() & mask(D)
        };
        // Reads of words written before (and, every fifth, of the word written this cycle).
        let ra = if i % 5 == 0 {
            wa
        } else {
            hot[r.gen_range(0..hot.len())]
        };
        sim.uut.read_address.next = ra.into();
        sim.uut.write_address.next = wa.into();
        sim.uut.write_data.next = wd.into();
        sim.uut.write_enable.next = we;
        let old = model[&ra];
        sim.step().unwrap();
        let got = sim.uut.read_data.val().to_u64();
        assert_eq!(got, old, "cycle {i}: read of {ra:#x}");
        if we {
            model.insert(wa, wd);
            hot.push(wa);
        }
        ins.push(vec![vec![ra], vec![wa], vec![wd], vec![we as u64]]);
        outs.push(vec![vec![got]]);
    }

    let verilog = export(bench(&start));
    let columns = offload_hdl::memory::columns(D, N).len();
    assert_eq!(
        verilog.matches("] mem").count(),
        columns,
        "{columns} columns"
    );
    let trace = (ins, outs);
    replay(&verilog, &trace);
    // The replay can fail: a column written from the wrong bits is caught.
    let broken = verilog.replacen("<= write_data[", "<= ~write_data[", 1);
    assert_ne!(broken, verilog);
    assert_ne!(icarus_replay(&broken, &trace.0).unwrap(), trace.1);
}

#[test]
fn a_sixteen_column_ram_keeps_every_word() {
    ram_writes_and_reads::<31, 13>(4);
}

#[test]
fn a_wide_ram_in_four_columns_keeps_every_word() {
    ram_writes_and_reads::<64, 10>(5);
}
