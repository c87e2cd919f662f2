//! The L-lane memory schedule (`offload_hdl::schedule`) as a behavioural model of a whole
//! transform: elements loaded into 2L banks of a ping-pong pair, every stage issued L
//! butterflies per clock with each bank read and written once per clock, results streamed in
//! address order. Equal to the CPU engine for BabyBear and Goldilocks, every lane count the
//! engines are built with, every size from the smallest the lanes share, both directions.

use offload_engine::ntt::{ntt, Direction, NttConfig, NttField, Order};
use offload_hdl::schedule::{clocks_per_stage, issue, Banks};
use p3_field::{Field, PrimeCharacteristicRing, TwoAdicField};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The transform as the engine's memories see it; panics on a bank read or written twice in
/// one clock.
fn model<F: Field + TwoAdicField>(input: &[F], inverse: bool, lanes: usize) -> Vec<F> {
    let b = Banks::new(lanes);
    let n = input.len();
    let log_n = n.trailing_zeros();
    let depth = n / b.count();
    let mut mem = vec![vec![vec![F::ZERO; depth]; b.count()]; 2];
    for (a, &x) in input.iter().enumerate() {
        mem[0][b.bank(a)][b.offset(a)] = x;
    }
    let root = F::two_adic_generator(log_n as usize);
    let w = if inverse { root.inverse() } else { root };
    let mut src = 0;
    for stage in 0..log_n {
        let step = w.exp_u64(1 << stage);
        for c in 0..clocks_per_stage(&b, log_n) {
            let mut read = vec![false; b.count()];
            let mut written = vec![false; b.count()];
            for bf in issue(&b, log_n, stage, c) {
                let (bi, bj) = (b.bank(bf.i), b.bank(bf.j));
                assert!(!read[bi] && !read[bj] && bi != bj, "read conflict");
                read[bi] = true;
                read[bj] = true;
                let x = mem[src][bi][b.offset(bf.i)];
                let y = mem[src][bj][b.offset(bf.j)];
                assert!(!written[bi] && !written[bj], "write conflict");
                written[bi] = true;
                written[bj] = true;
                mem[1 - src][bi][b.offset(bf.i)] = x + y;
                mem[1 - src][bj][b.offset(bf.j)] = (x - y) * step.exp_u64(bf.t as u64);
            }
        }
        src = 1 - src;
    }
    let scale = if inverse {
        F::from_u64(n as u64).inverse()
    } else {
        F::ONE
    };
    (0..n)
        .map(|a| mem[src][b.bank(a)][b.offset(a)] * scale)
        .collect()
}

fn check<F: Field + TwoAdicField + NttField>(seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    for lanes in [1, 2, 4, 8] {
        let min = Banks::new(lanes).min_log_n();
        for log_n in min..=10 {
            let x: Vec<F> = (0..1usize << log_n)
                .map(|_| <F as PrimeCharacteristicRing>::from_u64(rng.gen::<u64>() >> 2))
                .collect();
            for (inverse, direction) in [(false, Direction::Forward), (true, Direction::Inverse)] {
                let mut want = x.clone();
                let cfg = NttConfig {
                    direction,
                    input: Order::Natural,
                    output: Order::BitReversed,
                    coset: None,
                };
                ntt(&mut want, &cfg).unwrap();
                assert_eq!(
                    model(&x, inverse, lanes),
                    want,
                    "lanes {lanes}, 2^{log_n}, inverse {inverse}"
                );
            }
        }
    }
}

#[test]
fn the_lane_schedule_computes_the_cpu_transform_babybear() {
    check::<p3_baby_bear::BabyBear>(1);
}

#[test]
fn the_lane_schedule_computes_the_cpu_transform_goldilocks() {
    check::<p3_goldilocks::Goldilocks>(2);
}
