//! Goldilocks cores, cycle by cycle in rust-hdl's simulator against Plonky3's Goldilocks, then
//! the same vectors through the exported Verilog in Icarus Verilog.

use offload_hdl::goldilocks::{
    self,
    add::GoldilocksAddSub,
    butterfly::{self, GoldilocksButterfly},
    mul::GoldilocksMul,
};
use offload_hw_tests::icarus_replay;
use offload_hw_tests::stream::{check_butterfly, same_in_verilog, single};
use p3_field::{PrimeCharacteristicRing, PrimeField64};
use p3_goldilocks::Goldilocks;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const P: u64 = goldilocks::P;
const W: u64 = 1 << 32;

/// The values where a word-wise carry, borrow or fold changes: 0, 1, p − 1, the word
/// boundaries, and values whose high word is all ones.
const EDGES: [u64; 12] = [
    0,
    1,
    2,
    W - 1,
    W,
    W + 1,
    P / 2,
    P - W,
    P - 2,
    P - 1,
    (W - 1) << 32,
    0x8000_0000_8000_0000,
];

/// The edge values against each other, then `n` random canonical pairs.
fn operands(n: usize, seed: u64) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = EDGES
        .iter()
        .flat_map(|&a| EDGES.iter().map(move |&b| (a, b)))
        .collect();
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    v.extend((0..n).map(|_| (r.gen_range(0..P), r.gen_range(0..P))));
    v
}

fn gl(x: u64) -> Goldilocks {
    Goldilocks::from_u64(x)
}

#[test]
fn add_sub_matches_the_field_back_to_back() {
    let ops = operands(2000, 11);
    // Add and subtract in an irregular pattern, every cycle.
    let rows: Vec<Vec<u64>> = ops
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| vec![a, b, ((i * 7 / 3) % 2) as u64, 1])
        .collect();
    let want: Vec<u64> = rows
        .iter()
        .map(|r| {
            let v = if r[2] == 1 {
                gl(r[0]) - gl(r[1])
            } else {
                gl(r[0]) + gl(r[1])
            };
            v.as_canonical_u64()
        })
        .collect();
    let (trace, got, latency) = offload_hw_tests::run_addsub!(GoldilocksAddSub, &rows, 6);
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(4), "latency in cycles");

    same_in_verilog::<GoldilocksAddSub>("goldilocks_addsub", &trace);
}

#[test]
fn mul_matches_the_field_back_to_back_for_any_64_bit_operands() {
    let mut ops = operands(3000, 12);
    // Non-canonical operands in [p, 2^64) reduce too.
    let wide = [P, P + 1, u64::MAX - 1, u64::MAX];
    for &a in &wide {
        ops.extend(EDGES.iter().map(|&b| (a, b)));
        ops.extend(wide.iter().map(|&b| (a, b)));
    }
    let rows: Vec<Vec<u64>> = ops.iter().map(|&(a, b)| vec![a, b, 1]).collect();
    let want: Vec<u64> = ops
        .iter()
        .map(|&(a, b)| ((a as u128 * b as u128) % P as u128) as u64)
        .collect();
    // The naive reference agrees with Plonky3 on the canonical pairs.
    for (&(a, b), &w) in ops.iter().zip(&want).filter(|(&(a, b), _)| a < P && b < P) {
        assert_eq!((gl(a) * gl(b)).as_canonical_u64(), w);
    }
    let (trace, got, latency) =
        offload_hw_tests::run_mul!(GoldilocksMul, &rows, goldilocks::mul::LATENCY + 2);
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(goldilocks::mul::LATENCY), "latency in cycles");

    let verilog = same_in_verilog::<GoldilocksMul>("goldilocks_mul", &trace);
    // The replay can fail: a fold that forgets the high word's −1 is caught.
    let broken = verilog.replace("hi13$d = hi12$q + ", "hi13$d = hi12$q + 0 * ");
    assert_ne!(broken, verilog);
    assert_ne!(icarus_replay(&broken, &trace.0).unwrap(), trace.1);
}

#[test]
fn butterfly_matches_the_field_and_carries_its_tag() {
    let ops = operands(2000, 13);
    let mut r = ChaCha20Rng::seed_from_u64(14);
    let rows: Vec<Vec<u64>> = ops
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let w = if i < 48 {
                EDGES[i % EDGES.len()]
            } else {
                r.gen_range(0..P)
            };
            // Back to back, with a gap every so often.
            let valid = (i % 97 != 5) as u64;
            vec![a, b, w, (i % 3 == 1) as u64, (i % 65536) as u64, valid]
        })
        .collect();
    let want: Vec<Vec<u64>> = rows
        .iter()
        .filter(|v| v[5] == 1)
        .map(|v| {
            let (a, b, w) = (gl(v[0]), gl(v[1]), gl(v[2]));
            let d = if v[3] == 1 { b - a } else { a - b };
            vec![(a + b).as_canonical_u64(), (d * w).as_canonical_u64(), v[4]]
        })
        .collect();
    check_butterfly::<GoldilocksButterfly>(
        "goldilocks_butterfly",
        &rows,
        &want,
        butterfly::LATENCY,
    );
}
