//! Driving a pipelined core with one operand set per cycle, and checking its exported Verilog
//! against the same run: the pattern every arithmetic core's test follows.

use crate::{have, icarus_replay, unwaived, verilator_lint, Trace};
use offload_hdl::butterfly::ButterflyPorts;
use offload_hdl::sim::{Clocked, Sim};
use rust_hdl::prelude::*;

/// Drive `rows` (one per cycle, input ports in declaration order) through the core with no
/// idle cycles, then `drain` idle ones. `read` gives every output port in declaration order,
/// the valid flag last. Returns the trace, the outputs of the cycles flagged valid (flag
/// dropped), and the latency of the first (cycles from its input edge to the edge that shows
/// it).
pub fn drive<C: Clocked>(
    sim: &mut Sim<C>,
    rows: &[Vec<u64>],
    idle: Vec<u64>,
    drain: usize,
    apply: fn(&mut C, &[u64]),
    read: fn(&C) -> Vec<u64>,
) -> (Trace, Vec<Vec<u64>>, Option<usize>) {
    let (mut ins, mut outs, mut got, mut latency) = (Vec::new(), Vec::new(), Vec::new(), None);
    for (i, row) in rows
        .iter()
        .chain(std::iter::repeat_n(&idle, drain))
        .enumerate()
    {
        apply(&mut sim.uut, row);
        ins.push(row.iter().map(|&v| vec![v]).collect());
        sim.step().unwrap();
        let o = read(&sim.uut);
        outs.push(o.iter().map(|&v| vec![v]).collect());
        if o.last() == Some(&1) {
            got.push(o[..o.len() - 1].to_vec());
            latency.get_or_insert(i + 1);
        }
    }
    ((ins, outs), got, latency)
}

/// The single result of a one-output core.
pub fn single(got: Vec<Vec<u64>>) -> Vec<u64> {
    got.into_iter().map(|o| o[0]).collect()
}

pub fn export<C: Block>(mut uut: C) -> String {
    uut.connect_all();
    generate_verilog(&uut)
}

/// The same vectors through the exported Verilog: every output, every cycle, bit for bit;
/// and Verilator's lint with only the waived warnings.
pub fn replay(verilog: &str, (inputs, outputs): &Trace) {
    assert!(
        have("iverilog") && have("verilator"),
        "iverilog and verilator are needed (scripts/test.sh installs them)"
    );
    let icarus = icarus_replay(verilog, inputs).unwrap();
    assert_eq!(icarus.len(), outputs.len());
    for (c, (i, r)) in icarus.iter().zip(outputs).enumerate() {
        assert_eq!(i, r, "cycle {c}: Icarus vs rust-hdl");
    }
    let lint = verilator_lint(verilog).unwrap();
    let bad = unwaived(&lint, verilog);
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Any field's butterfly, driven with `rows` (a, b, w, swap, tag, valid per cycle): the pairs
/// flagged valid must come out as `want` (x, y, tag) after its declared `latency`, back to
/// back, and the same vectors through its exported Verilog (kept as `name`) must agree.
pub fn check_butterfly<B: ButterflyPorts>(
    name: &str,
    rows: &[Vec<u64>],
    want: &[Vec<u64>],
    latency: usize,
) {
    let mut sim = Sim::new(B::default()).unwrap();
    let (trace, got, first) = drive(
        &mut sim,
        rows,
        vec![0; 6],
        latency + 2,
        |u: &mut B, r| u.present(r[0], r[1], r[2], r[3] == 1, r[4] as u16, r[5] == 1),
        |u: &B| u.results().to_vec(),
    );
    assert_eq!(got, want);
    assert_eq!(first, Some(latency), "latency in cycles");
    same_in_verilog::<B>(name, &trace);
}

/// The core's exported Verilog (kept as `name` for a reviewer), replayed with `trace` and
/// linted ([`replay`]); returned for a test that breaks it on purpose.
pub fn same_in_verilog<C: Block + Default>(name: &str, trace: &Trace) -> String {
    let verilog = export(C::default());
    crate::snapshot(name, &verilog).unwrap();
    replay(&verilog, trace);
    verilog
}

/// A field's adder/subtractor (ports a, b, sub, in_valid → y, out_valid) driven with `rows`
/// (a, b, sub, valid) through [`drive`], `drain` idle cycles after.
#[macro_export]
macro_rules! run_addsub {
    ($ty:ty, $rows:expr, $drain:expr) => {
        $crate::stream::drive(
            &mut offload_hdl::sim::Sim::new(<$ty>::default()).unwrap(),
            $rows,
            vec![0; 4],
            $drain,
            |u: &mut $ty, r: &[u64]| {
                u.a.next = offload_hdl::sim::to_bits(&r[..1]);
                u.b.next = offload_hdl::sim::to_bits(&r[1..2]);
                u.sub.next = r[2] == 1;
                u.in_valid.next = r[3] == 1;
            },
            |u: &$ty| {
                vec![
                    offload_hdl::sim::from_bits(u.y.val())[0],
                    u.out_valid.val() as u64,
                ]
            },
        )
    };
}

/// A field's multiplier (ports a, b, in_valid → y, out_valid) driven with `rows` (a, b, valid)
/// through [`drive`], `drain` idle cycles after.
#[macro_export]
macro_rules! run_mul {
    ($ty:ty, $rows:expr, $drain:expr) => {
        $crate::stream::drive(
            &mut offload_hdl::sim::Sim::new(<$ty>::default()).unwrap(),
            $rows,
            vec![0; 3],
            $drain,
            |u: &mut $ty, r: &[u64]| {
                u.a.next = offload_hdl::sim::to_bits(&r[..1]);
                u.b.next = offload_hdl::sim::to_bits(&r[1..2]);
                u.in_valid.next = r[2] == 1;
            },
            |u: &$ty| {
                vec![
                    offload_hdl::sim::from_bits(u.y.val())[0],
                    u.out_valid.val() as u64,
                ]
            },
        )
    };
}
