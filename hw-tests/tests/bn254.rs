//! The BN254 Fq Montgomery multiplier, cycle by cycle in rust-hdl's simulator against
//! arkworks' Fq, then the same run through the exported Verilog in Icarus Verilog.

use ark_bn254::Fq;
use ark_ff::{Field, PrimeField, UniformRand};
use offload_hdl::bn254::mont::{self, Bn254MontMul};
use offload_hdl::sim::{from_bits, to_bits, Sim};
use offload_hw_tests::stream::{export, replay};
use offload_hw_tests::{icarus_replay, snapshot, Trace};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn limbs(x: Fq) -> Vec<u64> {
    x.into_bigint().0.to_vec()
}

/// a·b·2^−256, what the core computes.
fn mont_mul(a: Fq, b: Fq) -> Fq {
    a * b
        * Fq::from(2u64)
            .pow([256])
            .inverse()
            .expect("2 is invertible")
}

/// Run `pairs` through the core, each started on the first clock the core is idle; returns
/// the products, the clocks from each start to its `done`, and the trace.
fn run(pairs: &[(Fq, Fq)]) -> (Vec<Vec<u64>>, Vec<usize>, Trace) {
    let mut sim = Sim::new(Bn254MontMul::default()).unwrap();
    let (mut ins, mut outs, mut got, mut took) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut next = 0;
    let mut since = None;
    let mut guard = 0;
    while got.len() < pairs.len() {
        guard += 1;
        assert!(
            guard < (pairs.len() + 1) * (mont::CYCLES + 10),
            "the core hangs"
        );
        let start = next < pairs.len() && !sim.uut.busy.val();
        let (a, b) = if start {
            (limbs(pairs[next].0), limbs(pairs[next].1))
        } else {
            (vec![0; 4], vec![0; 4])
        };
        sim.uut.start.next = start;
        sim.uut.a.next = to_bits(&a);
        sim.uut.b.next = to_bits(&b);
        ins.push(vec![vec![start as u64], a, b]);
        sim.step().unwrap();
        if start {
            next += 1;
            since = Some(0);
        }
        since = since.map(|c| c + 1);
        let done = sim.uut.done.val();
        let y = from_bits(sim.uut.y.val());
        outs.push(vec![
            vec![sim.uut.busy.val() as u64],
            vec![done as u64],
            y.clone(),
        ]);
        if done {
            got.push(y);
            took.push(since.take().expect("done without a start"));
        }
    }
    (got, took, (ins, outs))
}

#[test]
fn montgomery_product_matches_arkworks() {
    let p_minus_1 = -Fq::from(1u64);
    let r = Fq::from(2u64).pow([256]);
    let edges = [
        Fq::from(0u64),
        Fq::from(1u64),
        Fq::from(2u64),
        p_minus_1,
        r,
        -r,
    ];
    let mut pairs: Vec<(Fq, Fq)> = edges
        .iter()
        .flat_map(|&a| edges.iter().map(move |&b| (a, b)))
        .collect();
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    pairs.extend((0..200).map(|_| (Fq::rand(&mut rng), Fq::rand(&mut rng))));
    let (got, took, trace) = run(&pairs);
    for (i, ((a, b), y)) in pairs.iter().zip(&got).enumerate() {
        assert_eq!(*y, limbs(mont_mul(*a, *b)), "pair {i}: {a} × {b}");
    }
    // Every product takes exactly the stated number of clocks, and the next starts on the
    // clock `done` rises: one product per CYCLES + 0 clocks.
    assert!(took.iter().all(|&c| c == mont::CYCLES), "{took:?}");
    assert_eq!(trace.0.len(), pairs.len() * mont::CYCLES);

    let verilog = export(Bn254MontMul::default());
    snapshot("bn254_mont", &verilog).unwrap();
    replay(&verilog, &trace);
    // The replay can fail: a core that never subtracts p at the end is caught.
    let broken = verilog.replace("out$d = diff$q;", "out$d = t_out$q;");
    assert_ne!(broken, verilog);
    assert_ne!(icarus_replay(&broken, &trace.0).unwrap(), trace.1);
}

#[test]
fn chained_products_stay_in_montgomery_form() {
    // x ↦ x·R, then (xR)·(yR)·R^−1 = xyR: a Montgomery-form product, and out of the form again
    // by a product with 1.
    let mut rng = ChaCha20Rng::seed_from_u64(22);
    let r = Fq::from(2u64).pow([256]);
    let (x, y) = (Fq::rand(&mut rng), Fq::rand(&mut rng));
    let (got, _, _) = run(&[(x * r, y * r)]);
    let xy_r = Fq::from_bigint(ark_ff::BigInt::new(got[0].clone().try_into().unwrap())).unwrap();
    assert_eq!(xy_r, x * y * r);
    let (got, _, _) = run(&[(xy_r, Fq::from(1u64))]);
    assert_eq!(got[0], limbs(x * y));
}

#[test]
fn the_pin_wrapper_shifts_operands_in_and_the_product_out() {
    use offload_hdl::bn254::pins::Bn254MontPins;
    let mut rng = ChaCha20Rng::seed_from_u64(23);
    let (a, b) = (Fq::rand(&mut rng), Fq::rand(&mut rng));
    let mut sim = Sim::new(Bn254MontPins::default()).unwrap();
    let words = |x: Fq| -> Vec<u64> {
        limbs(x)
            .iter()
            .flat_map(|l| (0..4).map(move |k| (l >> (16 * k)) & 0xffff))
            .collect()
    };
    for w in words(a).into_iter().chain(words(b)) {
        sim.uut.shift_in.next = true;
        sim.uut.din.next = to_bits(&[w]);
        sim.step().unwrap();
    }
    sim.uut.shift_in.next = false;
    sim.uut.start.next = true;
    sim.step().unwrap();
    sim.uut.start.next = false;
    let mut clocks = 1;
    while !sim.uut.done.val() {
        sim.step().unwrap();
        clocks += 1;
        assert!(clocks <= mont::CYCLES, "no done after {clocks} clocks");
    }
    assert_eq!(clocks, mont::CYCLES);
    sim.step().unwrap();
    let mut out = Vec::new();
    for _ in 0..16 {
        out.push(from_bits(sim.uut.dout.val())[0]);
        sim.uut.shift_out.next = true;
        sim.step().unwrap();
    }
    assert_eq!(out, words(mont_mul(a, b)));
}
