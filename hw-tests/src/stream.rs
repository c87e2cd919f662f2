//! Driving a pipelined core with one operand set per cycle, and checking its exported Verilog
//! against the same run: the pattern every arithmetic core's test follows.

use crate::{have, icarus_replay, unwaived, verilator_lint, Trace};
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
