//! BabyBear cores, cycle by cycle in rust-hdl's simulator against the CPU engine's field
//! (Plonky3's BabyBear), then the same vectors through the exported Verilog in Icarus Verilog.

use offload_hdl::babybear::{
    self,
    add::BabyBearAddSub,
    butterfly::{self, BabyBearButterfly},
    mul::BabyBearMul,
};
use offload_hdl::sim::{from_bits, to_bits, Sim};
use offload_hw_tests::stream::{drive, export, replay, single};
use offload_hw_tests::{icarus_replay, snapshot};
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
    let mut sim = Sim::new(BabyBearAddSub::default()).unwrap();
    let (trace, got, latency) = drive(
        &mut sim,
        &rows,
        vec![0, 0, 0, 0],
        4,
        |u, r| {
            u.a.next = to_bits(&r[..1]);
            u.b.next = to_bits(&r[1..2]);
            u.sub.next = r[2] == 1;
            u.in_valid.next = r[3] == 1;
        },
        |u| vec![from_bits(u.y.val())[0], u.out_valid.val() as u64],
    );
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(2), "latency in cycles");

    let verilog = export(BabyBearAddSub::default());
    snapshot("babybear_addsub", &verilog).unwrap();
    replay(&verilog, &trace);
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
    let mut sim = Sim::new(BabyBearMul::default()).unwrap();
    let (trace, got, latency) = drive(
        &mut sim,
        &rows,
        vec![0, 0, 0],
        babybear::mul::LATENCY + 2,
        |u, r| {
            u.a.next = to_bits(&r[..1]);
            u.b.next = to_bits(&r[1..2]);
            u.in_valid.next = r[2] == 1;
        },
        |u| vec![from_bits(u.y.val())[0], u.out_valid.val() as u64],
    );
    assert_eq!(single(got), want);
    assert_eq!(latency, Some(babybear::mul::LATENCY), "latency in cycles");
    // A twiddle in Montgomery form (ω·2^32 mod p) multiplies a canonical value by ω.
    let w = BabyBear::two_adic_generator(10);
    let w_mont = (w * BabyBear::from_u64(1 << 32)).as_canonical_u32() as u64;
    let mut sim = Sim::new(BabyBearMul::default()).unwrap();
    let x = 123_456_789u64;
    let (_, got, _) = drive(
        &mut sim,
        &[vec![x, w_mont, 1]],
        vec![0, 0, 0],
        babybear::mul::LATENCY,
        |u, r| {
            u.a.next = to_bits(&r[..1]);
            u.b.next = to_bits(&r[1..2]);
            u.in_valid.next = r[2] == 1;
        },
        |u| vec![from_bits(u.y.val())[0], u.out_valid.val() as u64],
    );
    assert_eq!(
        single(got),
        vec![(bb(x as u32) * w).as_canonical_u32() as u64]
    );

    let verilog = export(BabyBearMul::default());
    snapshot("babybear_mul", &verilog).unwrap();
    replay(&verilog, &trace);
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
    let mut sim = Sim::new(BabyBearButterfly::default()).unwrap();
    let (trace, got, latency) = drive(
        &mut sim,
        &rows,
        vec![0; 6],
        butterfly::LATENCY + 2,
        |u, r| {
            u.a.next = to_bits(&r[..1]);
            u.b.next = to_bits(&r[1..2]);
            u.w.next = to_bits(&r[2..3]);
            u.swap.next = r[3] == 1;
            u.tag.next = to_bits(&r[4..5]);
            u.in_valid.next = r[5] == 1;
        },
        |u| {
            vec![
                from_bits(u.x.val())[0],
                from_bits(u.y.val())[0],
                from_bits(u.tag_out.val())[0],
                u.out_valid.val() as u64,
            ]
        },
    );
    assert_eq!(got, want);
    assert_eq!(latency, Some(butterfly::LATENCY), "latency in cycles");
    let verilog = export(BabyBearButterfly::default());
    snapshot("babybear_butterfly", &verilog).unwrap();
    replay(&verilog, &trace);
}
