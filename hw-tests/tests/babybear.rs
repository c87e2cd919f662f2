//! BabyBear cores, cycle by cycle in rust-hdl's simulator against the CPU engine's field
//! (Plonky3's BabyBear), then the same vectors through the exported Verilog in Icarus Verilog.

use offload_hdl::babybear::{self, add::BabyBearAddSub};
use offload_hdl::sim::{from_bits, to_bits, Sim};
use offload_hw_tests::{have, icarus_replay, snapshot, unwaived, verilator_lint};
use p3_baby_bear::BabyBear;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rust_hdl::prelude::*;

const P: u32 = babybear::P as u32;

/// Operands: the edge values against each other, then random ones, with no idle cycles.
fn operands(n: usize, seed: u64) -> Vec<(u32, u32)> {
    let edges = [0, 1, 2, P / 2, P - 2, P - 1];
    let mut v: Vec<(u32, u32)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    v.extend((0..n).map(|_| (r.gen_range(0..P), r.gen_range(0..P))));
    v
}

fn bb(x: u32) -> BabyBear {
    BabyBear::from_u32(x)
}

#[test]
fn add_sub_matches_the_field_back_to_back() {
    let ops = operands(2000, 1);
    let mut sim = Sim::new(BabyBearAddSub::default()).unwrap();
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    let mut want = Vec::new();
    let mut latency = None;
    // Alternate add and subtract every cycle; a few idle cycles at the end drain the pipe.
    for (i, &(a, b)) in ops.iter().chain([(0, 0); 4].iter()).enumerate() {
        let live = i < ops.len();
        let sub = i % 2 == 1;
        sim.uut.a.next = to_bits::<31>(&[a as u64]);
        sim.uut.b.next = to_bits::<31>(&[b as u64]);
        sim.uut.sub.next = sub;
        sim.uut.in_valid.next = live;
        inputs.push(vec![
            vec![a as u64],
            vec![b as u64],
            vec![sub as u64],
            vec![live as u64],
        ]);
        if live {
            let r = if sub { bb(a) - bb(b) } else { bb(a) + bb(b) };
            want.push(r.as_canonical_u32() as u64);
        }
        sim.step().unwrap();
        let y = from_bits(sim.uut.y.val())[0];
        let v = sim.uut.out_valid.val();
        outputs.push(vec![vec![y], vec![v as u64]]);
        if v {
            latency.get_or_insert(i + 1);
        }
    }
    let got: Vec<u64> = outputs
        .iter()
        .filter(|o| o[1][0] == 1)
        .map(|o| o[0][0])
        .collect();
    assert_eq!(got, want);
    assert_eq!(latency, Some(2), "latency in cycles");

    let mut uut = BabyBearAddSub::default();
    uut.connect_all();
    let verilog = generate_verilog(&uut);
    snapshot("babybear_addsub", &verilog).unwrap();
    replay(&verilog, &inputs, &outputs);

    // The replay can fail: off by one in the reduction (a + b = p stays p) is caught.
    let broken = verilog.replace("if (s$q >= p)", "if (s$q > p)");
    assert_ne!(broken, verilog);
    assert_ne!(icarus_replay(&broken, &inputs).unwrap(), outputs);
}

/// The same vectors through the exported Verilog: every output, every cycle, bit for bit.
fn replay(verilog: &str, inputs: &[Vec<Vec<u64>>], outputs: &[Vec<Vec<u64>>]) {
    if !have("iverilog") || !have("verilator") {
        panic!("iverilog and verilator are needed (scripts/test.sh installs them)");
    }
    let icarus = icarus_replay(verilog, inputs).unwrap();
    assert_eq!(icarus.len(), outputs.len());
    for (c, (i, r)) in icarus.iter().zip(outputs).enumerate() {
        assert_eq!(i, r, "cycle {c}: Icarus vs rust-hdl");
    }
    let lint = verilator_lint(verilog).unwrap();
    let bad = unwaived(&lint, verilog);
    assert!(bad.is_empty(), "{bad:#?}");
}
