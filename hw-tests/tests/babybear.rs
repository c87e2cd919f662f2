//! BabyBear cores, cycle by cycle in rust-hdl's simulator against the CPU engine's field
//! (Plonky3's BabyBear), then the same vectors through the exported Verilog in Icarus Verilog.

use offload_hdl::babybear::{
    self,
    add::BabyBearAddSub,
    butterfly::{self, BabyBearButterfly},
    mul::BabyBearMul,
};
use offload_hw_tests::icarus_replay;
use offload_hw_tests::stream::{check_butterfly, same_in_verilog, single};
use p3_baby_bear::BabyBear;
use p3_field::{Field, PrimeCharacteristicRing, PrimeField32, TwoAdicField};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const P: u32 = babybear::P as u32;

/// Operands: the edge values against each other, then random ones.
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
    // Alternate add and subtract every cycle.
    let rows: Vec<Vec<u64>> = ops
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| vec![a as u64, b as u64, (i % 2) as u64, 1])
        .collect();
    let want: Vec<u64> = ops
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let r = if i % 2 == 1 {
                bb(a) - bb(b)
            } else {
                bb(a) + bb(b)
            };
            r.as_canonical_u32() as u64
        })
        .collect();
    let (trace, got, latency) = offload_hw_tests::run_addsub!(BabyBearAddSub, &rows, 4);
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(2), "latency in cycles");

    let verilog = same_in_verilog::<BabyBearAddSub>("babybear_addsub", &trace);
    // The replay can fail: a reduction that never subtracts p is caught.
    let broken = verilog.replace("alt = s$q - p;", "alt = s$q;");
    assert_ne!(broken, verilog);
    assert_ne!(icarus_replay(&broken, &trace.0).unwrap(), trace.1);
}

#[test]
fn montgomery_mul_matches_the_field_back_to_back() {
    let ops = operands(3000, 2);
    let rows: Vec<Vec<u64>> = ops
        .iter()
        .map(|&(a, b)| vec![a as u64, b as u64, 1])
        .collect();
    let r_inv = BabyBear::from_u64(1 << 32).inverse();
    let want: Vec<u64> = ops
        .iter()
        .map(|&(a, b)| (bb(a) * bb(b) * r_inv).as_canonical_u32() as u64)
        .collect();
    let (trace, got, latency) =
        offload_hw_tests::run_mul!(BabyBearMul, &rows, babybear::mul::LATENCY + 2);
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(babybear::mul::LATENCY), "latency in cycles");
    // A twiddle in Montgomery form (ω·2^32 mod p) multiplies a canonical value by ω.
    let w = BabyBear::two_adic_generator(10);
    let w_mont = (w * BabyBear::from_u64(1 << 32)).as_canonical_u32() as u64;
    let x = 123_456_789u64;
    let (_, got, _) =
        offload_hw_tests::run_mul!(BabyBearMul, &[vec![x, w_mont, 1]], babybear::mul::LATENCY);
    assert_eq!(
        single(got),
        vec![(bb(x as u32) * w).as_canonical_u32() as u64]
    );

    same_in_verilog::<BabyBearMul>("babybear_mul", &trace);
}

#[test]
fn butterfly_matches_the_field_and_carries_its_tag() {
    let ops = operands(2000, 3);
    let mut r = ChaCha20Rng::seed_from_u64(4);
    let rows: Vec<Vec<u64>> = ops
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let w = if i < 36 {
                [0, 1, P - 1][i % 3]
            } else {
                r.gen_range(0..P)
            };
            vec![
                a as u64,
                b as u64,
                w as u64,
                (i % 3 == 1) as u64,
                (i % 65536) as u64,
                1,
            ]
        })
        .collect();
    let r_inv = BabyBear::from_u64(1 << 32).inverse();
    let want: Vec<Vec<u64>> = rows
        .iter()
        .map(|v| {
            let (a, b, w) = (bb(v[0] as u32), bb(v[1] as u32), bb(v[2] as u32));
            let d = if v[3] == 1 { b - a } else { a - b };
            vec![
                (a + b).as_canonical_u32() as u64,
                (d * w * r_inv).as_canonical_u32() as u64,
                v[4],
            ]
        })
        .collect();
    check_butterfly::<BabyBearButterfly>("babybear_butterfly", &rows, &want, butterfly::LATENCY);
}
