//! The BabyBear NTT engine, cycle by cycle in rust-hdl's simulator: every size it takes,
//! forward and inverse, on one, two and four butterfly lanes, against the CPU engine (natural
//! order in, bit-reversed out) with the cycle count the lanes promise; the register map's
//! errors; jobs of the one- and two-lane engines replayed through the exported Verilog in
//! Icarus.

use offload_engine::ntt::{Direction, NttConfig, Order};
use offload_hdl::babybear::ntt::{compute_cycles, err, reg, status, BabyBearNtt};
use offload_hdl::babybear::{butterfly, P};
use offload_hdl::sim::{from_bits, to_bits, Clocked, Sim};
use offload_hw_tests::{have, icarus_replay, unwaived, verilator_lint, Trace};
use p3_baby_bear::BabyBear;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rust_hdl::prelude::*;

/// Input ports in declaration order: reg_addr, reg_wdata, reg_write, reg_read, in_data,
/// in_valid, out_ready. Output ports: reg_rdata, in_ready, out_data, out_valid.
type Row = [u64; 7];

struct Bench<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize> {
    sim: Sim<BabyBearNtt<A, W, B, L, K>>,
    /// Every cycle's inputs and outputs, for the Verilog replay.
    trace: Option<Trace>,
}

impl<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>
    Bench<A, W, B, L, K>
{
    fn new(record: bool) -> Self {
        Self {
            sim: Sim::new(BabyBearNtt::<A, W, B, L, K>::default()).unwrap(),
            trace: record.then(|| (Vec::new(), Vec::new())),
        }
    }

    /// One cycle with these inputs; returns the outputs after the edge, and reg_rdata as it
    /// was before the edge (what a register read returns).
    fn cycle(&mut self, r: Row) -> ([u64; 4], u64) {
        let u = &mut self.sim.uut;
        u.reg_addr.next = to_bits(&r[0..1]);
        u.reg_wdata.next = to_bits(&r[1..2]);
        u.reg_write.next = r[2] == 1;
        u.reg_read.next = r[3] == 1;
        u.in_data.next = to_bits(&r[4..5]);
        u.in_valid.next = r[5] == 1;
        u.out_ready.next = r[6] == 1;
        // Let the combinational read data settle before the edge.
        u.clock().next = Clock::from(false);
        assert!(simulate(&mut self.sim.uut, 1000));
        let before = from_bits(self.sim.uut.reg_rdata.val())[0];
        self.sim.step().unwrap();
        let u = &self.sim.uut;
        let out = [
            from_bits(u.reg_rdata.val())[0],
            u.in_ready.val() as u64,
            from_bits(u.out_data.val())[0],
            u.out_valid.val() as u64,
        ];
        if let Some((i, o)) = &mut self.trace {
            i.push(r.iter().map(|&v| vec![v]).collect());
            o.push(out.iter().map(|&v| vec![v]).collect());
        }
        (out, before)
    }

    fn write(&mut self, addr: u64, v: u64) {
        self.cycle([addr, v, 1, 0, 0, 0, 0]);
    }

    fn read(&mut self, addr: u64) -> u64 {
        self.cycle([addr, 0, 0, 0, 0, 0, 0]).1
    }

    /// A whole job through the streams: configure, ring, stream in, wait, stream out.
    fn run(&mut self, data: &[u32], inverse: bool) -> (Vec<u32>, u64) {
        let log_n = data.len().trailing_zeros() as u64;
        self.write(reg::CONTROL, inverse as u64);
        self.write(reg::LOG_SIZE, log_n);
        self.write(reg::DOORBELL, 1);
        assert_eq!(self.read(reg::ERROR), err::NONE);
        for &x in data {
            let (out, _) = self.cycle([reg::STATUS, 0, 0, 0, x as u64, 1, 0]);
            assert_eq!(out[3], 0);
        }
        let mut got = Vec::new();
        let (mut waited, mut first) = (0, None);
        while got.len() < data.len() {
            let (out, _) = self.cycle([reg::STATUS, 0, 0, 0, 0, 0, 1]);
            // out_valid after this edge: the element is taken at the next edge.
            if out[3] == 1 {
                got.push(out[2] as u32);
                first.get_or_insert(waited);
            }
            waited += 1;
            assert!(waited < 40 * data.len() + 1000, "the engine never finished");
        }
        // A consumer that is always ready gets one element per clock.
        assert_eq!(waited - first.unwrap_or(0), data.len(), "unload cycles");
        // Let the last pop happen, then the engine is idle and done.
        self.cycle([reg::STATUS, 0, 0, 0, 0, 0, 1]);
        let st = self.read(reg::STATUS);
        assert_eq!(
            st & (status::BUSY | status::DONE),
            status::DONE,
            "status {st:#x}"
        );
        (got, self.read(reg::CYCLES))
    }
}

fn cpu(data: &[u32], inverse: bool) -> Vec<u32> {
    let mut v: Vec<BabyBear> = data.iter().map(|&x| BabyBear::from_u32(x)).collect();
    let cfg = NttConfig {
        direction: if inverse {
            Direction::Inverse
        } else {
            Direction::Forward
        },
        ..NttConfig::default()
    }
    .orders(Order::Natural, Order::BitReversed);
    offload_engine::ntt::ntt(&mut v, &cfg).unwrap();
    v.iter().map(|x| x.as_canonical_u32()).collect()
}

fn input(n: usize, r: &mut ChaCha20Rng) -> Vec<u32> {
    // Edge values first, then random.
    let edges = [0, 1, P as u32 - 1, 2];
    (0..n)
        .map(|i| {
            edges
                .get(i)
                .copied()
                .unwrap_or_else(|| r.gen_range(0..P as u32))
        })
        .collect()
}

/// Every size from the smallest the lanes share to the largest, both directions, with the
/// cycle count L lanes promise; then all zeros and all p − 1 at the largest size.
fn every_size<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>(
    seed: u64,
) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut bench = Bench::<A, W, B, L, K>::new(false);
    let min = (2 * L).trailing_zeros();
    assert_eq!((bench.read(reg::INFO) >> 8) & 0xff, L as u64, "lanes");
    for log_n in min..=A as u32 {
        let n = 1usize << log_n;
        for inverse in [false, true] {
            let data = input(n, &mut r);
            let (got, cycles) = bench.run(&data, inverse);
            assert_eq!(
                got,
                cpu(&data, inverse),
                "L={L} 2^{log_n} inverse={inverse}"
            );
            // L butterflies per clock: n/2L per stage plus the pipeline's drain; the inverse
            // adds its scaling pass, L elements per clock.
            assert_eq!(
                cycles,
                compute_cycles(log_n, inverse, L as u64),
                "L={L} 2^{log_n} inverse={inverse}"
            );
        }
    }
    for fill in [0, P as u32 - 1] {
        let data = vec![fill; 1 << A];
        assert_eq!(bench.run(&data, false).0, cpu(&data, false));
    }
    // A size too small to give every lane a butterfly is refused.
    if min > 1 {
        bench.write(reg::LOG_SIZE, min as u64 - 1);
        bench.write(reg::DOORBELL, 1);
        assert_eq!(bench.read(reg::ERROR), err::SIZE);
        assert_eq!(bench.read(reg::STATUS) & status::BUSY, 0);
    }
}

#[test]
fn every_size_both_directions_equals_the_cpu() {
    every_size::<7, 6, 6, 1, 2>(11);
}

#[test]
fn two_lanes_halve_the_stages_and_equal_the_cpu() {
    every_size::<7, 6, 5, 2, 4>(14);
}

#[test]
fn four_lanes_quarter_the_stages_and_equal_the_cpu() {
    every_size::<6, 5, 3, 4, 8>(15);
}

#[test]
fn a_larger_engine_runs_its_largest_size() {
    let mut r = ChaCha20Rng::seed_from_u64(12);
    let mut bench = Bench::<10, 9, 9, 1, 2>::new(false);
    for inverse in [false, true] {
        let data = input(1 << 10, &mut r);
        assert_eq!(bench.run(&data, inverse).0, cpu(&data, inverse));
    }
}

#[test]
fn the_register_map_reports_errors_and_data_flows_through_it() {
    let mut b = Bench::<4, 3, 3, 1, 2>::new(false);
    let info = b.read(reg::INFO);
    assert_eq!(info & 0xff, 4, "largest log size");
    assert_eq!((info >> 8) & 0xff, 1, "lanes");
    assert_eq!((info >> 24) & 0xff, butterfly::LATENCY as u64);
    // Sizes out of range.
    for bad in [0, 5, 31] {
        b.write(reg::LOG_SIZE, bad);
        b.write(reg::DOORBELL, 1);
        assert_eq!(b.read(reg::ERROR), err::SIZE, "log size {bad}");
        assert_eq!(b.read(reg::STATUS) & status::BUSY, 0);
    }
    // Data with no job, and a read with nothing waiting.
    b.write(reg::LOG_SIZE, 3);
    b.write(reg::DOORBELL, 1);
    assert_eq!(b.read(reg::ERROR), err::NONE);
    // A doorbell while loading.
    b.write(reg::DOORBELL, 1);
    assert_eq!(b.read(reg::ERROR), err::BUSY);
    // The job goes on: data through DATA writes, results through DATA reads.
    let data: Vec<u32> = (1..=8).collect();
    for &x in &data {
        b.write(reg::DATA, x as u64);
    }
    let mut got = Vec::new();
    for _ in 0..200 {
        if b.read(reg::STATUS) & status::OUT_VALID != 0 {
            got.push(b.cycle([reg::DATA, 0, 0, 1, 0, 0, 0]).1 as u32);
        }
        if got.len() == 8 {
            break;
        }
    }
    assert_eq!(got, cpu(&data, false));
    b.cycle([reg::DATA, 0, 0, 1, 0, 0, 0]);
    assert_eq!(b.read(reg::ERROR), err::BUSY, "the first error stays");
    // An abort mid-job returns to idle and clears the error; the next job runs.
    b.write(reg::DOORBELL, 1);
    b.write(reg::DATA, 5);
    assert_ne!(b.read(reg::STATUS) & status::BUSY, 0);
    b.write(reg::DOORBELL, 2);
    // Busy while anything is in flight (nothing is, while loading), then idle.
    let mut waited = 0;
    while b.read(reg::STATUS) & status::BUSY != 0 {
        waited += 1;
        assert!(waited < 50, "an abort never finished");
    }
    assert_eq!(b.read(reg::STATUS) & status::ERROR, 0);
    assert_eq!(b.run(&data, true).0, cpu(&data, true));
    // A fresh job clears it; a non-canonical input is reported.
    b.write(reg::DOORBELL, 1);
    assert_eq!(b.read(reg::ERROR), err::NONE);
    b.write(reg::DATA, P);
    // The check sits behind the input register: the error shows a cycle later.
    b.cycle([reg::STATUS, 0, 0, 0, 0, 0, 0]);
    assert_eq!(b.read(reg::ERROR), err::NON_CANONICAL);
}

/// Jobs in both directions recorded in rust-hdl's simulation, replayed through the exported
/// Verilog in Icarus cycle for cycle, and the Verilog linted.
fn replay<const A: usize, const W: usize, const B: usize, const L: usize, const K: usize>(
    name: &str,
    seed: u64,
) {
    assert!(
        have("iverilog") && have("verilator"),
        "iverilog and verilator are needed (scripts/test.sh installs them)"
    );
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut bench = Bench::<A, W, B, L, K>::new(true);
    for inverse in [false, true] {
        let data = input(1 << A, &mut r);
        assert_eq!(bench.run(&data, inverse).0, cpu(&data, inverse));
    }
    let (ins, outs) = bench.trace.take().unwrap();
    let mut uut = BabyBearNtt::<A, W, B, L, K>::default();
    uut.connect_all();
    let verilog = generate_verilog(&uut);
    offload_hw_tests::snapshot(name, &verilog).unwrap();
    let icarus = icarus_replay(&verilog, &ins).unwrap();
    assert_eq!(icarus.len(), outs.len());
    for (c, (i, o)) in icarus.iter().zip(&outs).enumerate() {
        assert_eq!(i, o, "cycle {c}: Icarus vs rust-hdl");
    }
    let lint = verilator_lint(&verilog).unwrap();
    let bad = unwaived(&lint, &verilog);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn a_job_replays_in_icarus_cycle_for_cycle() {
    replay::<4, 3, 3, 1, 2>("babybear_ntt_16", 13);
}

#[test]
fn a_two_lane_job_replays_in_icarus_cycle_for_cycle() {
    replay::<4, 3, 2, 2, 4>("babybear_ntt_16_x2", 16);
}
