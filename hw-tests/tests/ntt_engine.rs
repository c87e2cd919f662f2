//! The NTT engines of both fields, cycle by cycle in rust-hdl's simulator: every size they
//! take, forward and inverse, on one, two and four butterfly lanes, against the CPU engine
//! (natural order in, bit-reversed out) with the cycle count the lanes promise; the register
//! map's errors, 64-bit elements through DATA_HI and DATA; jobs replayed through the exported
//! Verilog in Icarus; jobs through the scan port the flow builds the engines behind.

use offload_engine::ntt::{natural_to_bit_reversed, Direction, NttField};
use offload_hdl::babybear::ntt::{BabyBearNtt, BabyBearNttPins};
use offload_hdl::goldilocks::ntt::{GoldilocksNtt, GoldilocksNttPins};
use offload_hdl::ntt::{compute_cycles, err, reg, status, NttPorts, ScanPins};
use offload_hdl::sim::Sim;
use offload_hw_tests::{have, icarus_replay, unwaived, verilator_lint, Trace};
use p3_field::PrimeField64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rust_hdl::prelude::*;

/// Input ports in declaration order: reg_addr, reg_wdata, reg_write, reg_read, in_data,
/// in_valid, out_ready. Output ports: reg_rdata, in_ready, out_data, out_valid.
type Row = [u64; 7];

/// What the tests need of a field: its modulus, butterfly latency and the CPU's transform.
struct Field {
    p: u64,
    latency: usize,
    cpu: fn(&[u64], bool) -> Vec<u64>,
}

fn cpu_of<F: NttField + PrimeField64>(data: &[u64], inverse: bool) -> Vec<u64> {
    let direction = if inverse {
        Direction::Inverse
    } else {
        Direction::Forward
    };
    natural_to_bit_reversed::<F>(data, direction).unwrap()
}

const BABYBEAR: Field = Field {
    p: offload_hdl::babybear::P,
    latency: offload_hdl::babybear::butterfly::LATENCY,
    cpu: cpu_of::<p3_baby_bear::BabyBear>,
};

const GOLDILOCKS: Field = Field {
    p: offload_hdl::goldilocks::P,
    latency: offload_hdl::goldilocks::butterfly::LATENCY,
    cpu: cpu_of::<p3_goldilocks::Goldilocks>,
};

struct Bench<E: NttPorts> {
    sim: Sim<E>,
    /// Every cycle's inputs and outputs, for the Verilog replay.
    trace: Option<Trace>,
}

impl<E: NttPorts + Default> Bench<E> {
    fn new(record: bool) -> Self {
        Self {
            sim: Sim::new(E::default()).unwrap(),
            trace: record.then(|| (Vec::new(), Vec::new())),
        }
    }

    /// The engine's largest log size and lanes, from INFO.
    fn shape(&mut self) -> (u32, usize) {
        let info = self.read(reg::INFO);
        ((info & 0xff) as u32, ((info >> 8) & 0xff) as usize)
    }

    /// One cycle with these inputs; returns the outputs after the edge, and reg_rdata as it
    /// was before the edge (what a register read returns).
    fn cycle(&mut self, r: Row) -> ([u64; 4], u64) {
        self.sim.uut.drive(r);
        // Let the combinational read data settle before the edge.
        self.sim.uut.clock().next = Clock::from(false);
        assert!(simulate(&mut self.sim.uut, 1000));
        let before = self.sim.uut.sample()[0];
        self.sim.step().unwrap();
        let out = self.sim.uut.sample();
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

    /// An element through the register map: high word first, then the low one pushes it.
    fn write_element(&mut self, x: u64) {
        self.write(reg::DATA_HI, x >> 32);
        self.write(reg::DATA, x & 0xffff_ffff);
    }

    /// The next output through the register map: high word, then the low one pops it.
    fn read_element(&mut self) -> u64 {
        let hi = self.read(reg::DATA_HI);
        hi << 32 | self.cycle([reg::DATA, 0, 0, 1, 0, 0, 0]).1
    }

    /// A whole job through the streams: configure, ring, stream in, wait, stream out.
    fn run(&mut self, data: &[u64], inverse: bool) -> (Vec<u64>, u64) {
        let log_n = data.len().trailing_zeros() as u64;
        self.write(reg::CONTROL, inverse as u64);
        self.write(reg::LOG_SIZE, log_n);
        self.write(reg::DOORBELL, 1);
        assert_eq!(self.read(reg::ERROR), err::NONE);
        for &x in data {
            let (out, _) = self.cycle([reg::STATUS, 0, 0, 0, x, 1, 0]);
            assert_eq!(out[3], 0);
        }
        let mut got = Vec::new();
        let (mut waited, mut first) = (0, None);
        while got.len() < data.len() {
            let (out, _) = self.cycle([reg::STATUS, 0, 0, 0, 0, 0, 1]);
            // out_valid after this edge: the element is taken at the next edge.
            if out[3] == 1 {
                got.push(out[2]);
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

fn input(f: &Field, n: usize, r: &mut ChaCha20Rng) -> Vec<u64> {
    // Edge values first, then random.
    let edges = [0, 1, f.p - 1, 2];
    (0..n)
        .map(|i| edges.get(i).copied().unwrap_or_else(|| r.gen_range(0..f.p)))
        .collect()
}

/// Every size from the smallest the lanes share to the largest, both directions, with the
/// cycle count the lanes promise; then all zeros and all p − 1 at the largest size.
fn every_size<E: NttPorts + Default>(f: &Field, seed: u64) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut bench = Bench::<E>::new(false);
    let (max_log, lanes) = bench.shape();
    let min = (2 * lanes).trailing_zeros();
    for log_n in min..=max_log {
        let n = 1usize << log_n;
        for inverse in [false, true] {
            let data = input(f, n, &mut r);
            let (got, cycles) = bench.run(&data, inverse);
            assert_eq!(
                got,
                (f.cpu)(&data, inverse),
                "L={lanes} 2^{log_n} inverse={inverse}"
            );
            // L butterflies per clock: n/2L per stage plus the pipeline's drain; the inverse
            // adds its scaling pass, L elements per clock.
            assert_eq!(
                cycles,
                compute_cycles(log_n, inverse, lanes as u64, f.latency),
                "L={lanes} 2^{log_n} inverse={inverse}"
            );
        }
    }
    for fill in [0, f.p - 1] {
        let data = vec![fill; 1 << max_log];
        assert_eq!(bench.run(&data, false).0, (f.cpu)(&data, false));
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
    every_size::<BabyBearNtt<7, 6, 6, 1, 2>>(&BABYBEAR, 11);
}

#[test]
fn two_lanes_halve_the_stages_and_equal_the_cpu() {
    every_size::<BabyBearNtt<7, 6, 5, 2, 4>>(&BABYBEAR, 14);
}

#[test]
fn four_lanes_quarter_the_stages_and_equal_the_cpu() {
    every_size::<BabyBearNtt<6, 5, 3, 4, 8>>(&BABYBEAR, 15);
}

#[test]
fn goldilocks_every_size_on_one_and_two_lanes_equals_the_cpu() {
    every_size::<GoldilocksNtt<6, 5, 5, 1, 2>>(&GOLDILOCKS, 21);
    every_size::<GoldilocksNtt<6, 5, 4, 2, 4>>(&GOLDILOCKS, 22);
}

#[test]
fn a_larger_engine_runs_its_largest_size() {
    let mut r = ChaCha20Rng::seed_from_u64(12);
    let mut bench = Bench::<BabyBearNtt<10, 9, 9, 1, 2>>::new(false);
    let mut gl = Bench::<GoldilocksNtt<10, 9, 9, 1, 2>>::new(false);
    for inverse in [false, true] {
        let data = input(&BABYBEAR, 1 << 10, &mut r);
        assert_eq!(bench.run(&data, inverse).0, (BABYBEAR.cpu)(&data, inverse));
        let data = input(&GOLDILOCKS, 1 << 10, &mut r);
        assert_eq!(gl.run(&data, inverse).0, (GOLDILOCKS.cpu)(&data, inverse));
    }
}

/// The register map of `E` (sizes to 2^4, one lane): INFO, errors, a job through DATA_HI and
/// DATA, aborts, and the canonical check on all 64 bits a register write gives.
fn register_map<E: NttPorts + Default>(f: &Field, code: u64) {
    let mut b = Bench::<E>::new(false);
    let info = b.read(reg::INFO);
    assert_eq!(info & 0xff, 4, "largest log size");
    assert_eq!((info >> 8) & 0xff, 1, "lanes");
    assert_eq!((info >> 16) & 0xff, code, "field");
    assert_eq!((info >> 24) & 0xff, f.latency as u64);
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
    // The job goes on: data through register writes, results through register reads.
    let data: Vec<u64> = (1..=8).map(|i| (f.p - 1) / i).collect();
    for &x in &data {
        b.write_element(x);
    }
    let mut got = Vec::new();
    for _ in 0..200 {
        if b.read(reg::STATUS) & status::OUT_VALID != 0 {
            got.push(b.read_element());
        }
        if got.len() == 8 {
            break;
        }
    }
    assert_eq!(got, (f.cpu)(&data, false));
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
    assert_eq!(b.run(&data, true).0, (f.cpu)(&data, true));
    // A fresh job clears it; non-canonical inputs are reported, whichever bits make them so
    // (for BabyBear a high word that a 31-bit element has no room for).
    for bad in [f.p, (f.p | 1 << 32) + 1, u64::MAX] {
        b.write(reg::DOORBELL, 2);
        while b.read(reg::STATUS) & status::BUSY != 0 {}
        b.write(reg::DOORBELL, 1);
        assert_eq!(b.read(reg::ERROR), err::NONE);
        b.write_element(bad);
        // The check sits behind the input register: the error shows a cycle later.
        b.cycle([reg::STATUS, 0, 0, 0, 0, 0, 0]);
        assert_eq!(b.read(reg::ERROR), err::NON_CANONICAL, "{bad:#x}");
    }
}

#[test]
fn the_register_map_reports_errors_and_data_flows_through_it() {
    register_map::<BabyBearNtt<4, 3, 3, 1, 2>>(&BABYBEAR, offload_hdl::ntt::field::BABYBEAR);
    register_map::<GoldilocksNtt<4, 3, 3, 1, 2>>(&GOLDILOCKS, offload_hdl::ntt::field::GOLDILOCKS);
}

/// Jobs in both directions recorded in rust-hdl's simulation, replayed through the exported
/// Verilog in Icarus cycle for cycle, and the Verilog linted.
fn replay<E: NttPorts + Default>(f: &Field, name: &str, seed: u64) {
    assert!(
        have("iverilog") && have("verilator"),
        "iverilog and verilator are needed (scripts/test.sh installs them)"
    );
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut bench = Bench::<E>::new(true);
    let (max_log, _) = bench.shape();
    for inverse in [false, true] {
        let data = input(f, 1 << max_log, &mut r);
        assert_eq!(bench.run(&data, inverse).0, (f.cpu)(&data, inverse));
    }
    let (ins, outs) = bench.trace.take().unwrap();
    let mut uut = E::default();
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
    replay::<BabyBearNtt<4, 3, 3, 1, 2>>(&BABYBEAR, "babybear_ntt_16", 13);
}

#[test]
fn a_two_lane_job_replays_in_icarus_cycle_for_cycle() {
    replay::<BabyBearNtt<4, 3, 2, 2, 4>>(&BABYBEAR, "babybear_ntt_16_x2", 16);
}

#[test]
fn a_goldilocks_job_replays_in_icarus_cycle_for_cycle() {
    replay::<GoldilocksNtt<4, 3, 3, 1, 2>>(&GOLDILOCKS, "goldilocks_ntt_16", 23);
}

/// An engine driven through its scan port, as the flow builds it: each command is shifted in a
/// byte a clock, applied for one of the engine's clocks, and its response shifted out.
struct ScanBench<E> {
    sim: Sim<E>,
    /// Every cycle's pins, for the Verilog replay.
    trace: Trace,
}

/// What the engine showed in the clock a command was applied.
struct Response {
    rdata: u64,
    in_ready: bool,
    out_valid: bool,
    out_data: u64,
}

impl<E: ScanPins + Default> ScanBench<E> {
    fn new() -> Self {
        Self {
            sim: Sim::new(E::default()).unwrap(),
            trace: (Vec::new(), Vec::new()),
        }
    }

    /// One clock with these pins (shift_in, din, apply, shift_out); dout after the edge.
    fn pins(&mut self, i: [u64; 4]) -> u64 {
        self.sim.uut.drive(i);
        self.sim.step().unwrap();
        let out = self.sim.uut.dout();
        self.trace.0.push(i.iter().map(|&v| vec![v]).collect());
        self.trace.1.push(vec![vec![out]]);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn command(
        &mut self,
        addr: u64,
        wdata: u64,
        write: bool,
        read: bool,
        data: u64,
        in_valid: bool,
        out_ready: bool,
    ) -> Response {
        use offload_hdl::ntt::scan::{cmd, resp, BYTES};
        let word = addr as u128
            | (write as u128) << cmd::WRITE
            | (read as u128) << cmd::READ
            | (in_valid as u128) << cmd::IN_VALID
            | (out_ready as u128) << cmd::OUT_READY
            | (wdata as u128) << cmd::WDATA
            | (data as u128) << cmd::DATA;
        for byte in 0..BYTES {
            self.pins([1, (word >> (8 * byte)) as u64 & 0xff, 0, 0]);
        }
        // The apply pin is registered: the engine takes the command at the next edge, and the
        // port captures its response there.
        self.pins([0, 0, 1, 0]);
        let mut low = self.pins([0, 0, 0, 0]);
        let mut r = 0u128;
        for byte in 0..BYTES {
            r |= (low as u128) << (8 * byte);
            self.pins([0, 0, 0, 1]);
            low = self.pins([0, 0, 0, 0]);
        }
        Response {
            rdata: r as u64 & 0xffff_ffff,
            in_ready: (r >> resp::IN_READY) & 1 == 1,
            out_valid: (r >> resp::OUT_VALID) & 1 == 1,
            out_data: (r >> resp::DATA) as u64,
        }
    }

    fn write(&mut self, addr: u64, v: u64) {
        self.command(addr, v, true, false, 0, false, false);
    }

    fn read(&mut self, addr: u64) -> u64 {
        self.command(addr, 0, false, false, 0, false, false).rdata
    }

    /// A job through the streams, one element per command each way; the compute cycles.
    fn run(&mut self, data: &[u64], inverse: bool) -> (Vec<u64>, u64) {
        self.write(reg::CONTROL, inverse as u64);
        self.write(reg::LOG_SIZE, data.len().trailing_zeros() as u64);
        self.write(reg::DOORBELL, 1);
        assert_eq!(self.read(reg::ERROR), err::NONE);
        for &x in data {
            let r = self.command(reg::STATUS, 0, false, false, x, true, false);
            assert!(r.in_ready, "the engine did not take an element");
        }
        let mut got = Vec::new();
        for _ in 0..10 * data.len() + 100 {
            let r = self.command(reg::STATUS, 0, false, false, 0, false, true);
            if r.out_valid {
                got.push(r.out_data);
            }
            if got.len() == data.len() {
                break;
            }
        }
        assert_eq!(got.len(), data.len(), "the engine never finished");
        let st = self.read(reg::STATUS);
        assert_eq!(st & (status::BUSY | status::DONE), status::DONE, "{st:#x}");
        (got, self.read(reg::CYCLES))
    }
}

/// Jobs through the scan port equal the CPU, the engine computes at full speed behind it (the
/// CYCLES it reports), the port's Verilog replays the same pins in Icarus and passes the lint.
fn scan<E: ScanPins + Default>(f: &Field, lanes: u64, name: &str, seed: u64) {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    let mut bench = ScanBench::<E>::new();
    let info = bench.read(reg::INFO);
    assert_eq!((info >> 8) & 0xff, lanes, "lanes");
    let log_n = (info & 0xff) as u32;
    for inverse in [false, true] {
        let data = input(f, 1 << log_n, &mut r);
        let (got, cycles) = bench.run(&data, inverse);
        assert_eq!(got, (f.cpu)(&data, inverse), "inverse={inverse}");
        assert_eq!(cycles, compute_cycles(log_n, inverse, lanes, f.latency));
    }
    // A non-canonical element through the port is refused like any other.
    bench.write(reg::CONTROL, 0);
    bench.write(reg::LOG_SIZE, log_n as u64);
    bench.write(reg::DOORBELL, 1);
    bench.command(reg::STATUS, 0, false, false, f.p, true, false);
    assert_eq!(bench.read(reg::ERROR), err::NON_CANONICAL);
    bench.write(reg::DOORBELL, 2);

    let mut uut = E::default();
    uut.connect_all();
    let verilog = generate_verilog(&uut);
    offload_hw_tests::snapshot(name, &verilog).unwrap();
    let icarus = icarus_replay(&verilog, &bench.trace.0).unwrap();
    assert_eq!(icarus.len(), bench.trace.1.len());
    for (c, (i, o)) in icarus.iter().zip(&bench.trace.1).enumerate() {
        assert_eq!(i, o, "cycle {c}: Icarus vs rust-hdl");
    }
    let lint = verilator_lint(&verilog).unwrap();
    let bad = unwaived(&lint, &verilog);
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_scan_port_runs_jobs_as_the_flow_builds_them() {
    scan::<BabyBearNttPins<4, 3, 2, 2, 4>>(&BABYBEAR, 2, "babybear_ntt_16_x2_scan", 31);
    scan::<GoldilocksNttPins<3, 2, 2, 1, 2>>(&GOLDILOCKS, 1, "goldilocks_ntt_8_scan", 32);
}
