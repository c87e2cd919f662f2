//! NTT plans cut into shared-memory passes every way a tiling can cut them (tiles of 4 to 16
//! elements, strided runs of 1 to 4, several tiles to a block), run on the host block by block
//! as the GPU would, against the transform by its definition: y_i = Σ_j a_j·(g·ω^i)^j, its
//! inverse, each order on each side. Small tiles give many passes at small sizes, so every
//! pass shape meets the naive sum.

mod common;

use offload_engine::ntt::{Direction, NttConfig, Order};
use offload_gpu::exec::{Executor, Host};
use offload_gpu::field::DeviceField;
use offload_gpu::plan::{self, NttTiling};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn rev(i: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - log_n)
    }
}

/// One column by the definition, O(n²).
fn naive<F: DeviceField>(col: &[F], log_n: u32, cfg: &NttConfig<F>) -> Vec<F> {
    let n = col.len();
    let at = |o: Order, pos: usize| {
        if o == Order::Natural {
            pos
        } else {
            rev(pos, log_n)
        }
    };
    let a: Vec<F> = (0..n).map(|j| col[at(cfg.input, j)]).collect();
    let w = F::root_of_unity(log_n);
    let g = cfg.coset.unwrap_or(F::one());
    let y: Vec<F> = match cfg.direction {
        Direction::Forward => (0..n)
            .map(|i| {
                let x = g * w.pow(i as u64);
                (0..n).fold(F::zero(), |s, j| s + a[j] * x.pow(j as u64))
            })
            .collect(),
        Direction::Inverse => {
            let n_inv = F::from_u64(n as u64).inv();
            (0..n)
                .map(|j| {
                    let s = (0..n).fold(F::zero(), |s, i| s + a[i] * w.inv().pow((i * j) as u64));
                    s * n_inv * g.inv().pow(j as u64)
                })
                .collect()
        }
    };
    let mut out = vec![F::zero(); n];
    for (pos, o) in out.iter_mut().enumerate() {
        *o = y[at(cfg.output, pos)];
    }
    out
}

const TILINGS: [(u32, u32); 5] = [(1, 0), (2, 1), (3, 1), (3, 2), (4, 2)];

fn check<F: DeviceField>(random: impl Fn(&mut ChaCha20Rng) -> F, seed: u64, max_log: u32) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    for log_n in 1..=max_log {
        let n = 1usize << log_n;
        for columns in [1usize, 3, 4] {
            let data: Vec<F> = (0..n * columns).map(|_| random(&mut rng)).collect();
            for cfg in common::ntt_configs(F::from_u64(5)) {
                let want: Vec<F> = data.chunks(n).flat_map(|c| naive(c, log_n, &cfg)).collect();
                for (log_tile, log_run) in TILINGS {
                    let tiling = NttTiling { log_tile, log_run };
                    let mut p = plan::ntt_tiled(&cfg, log_n, columns, &data, tiling);
                    Host::default().execute(&mut p).unwrap();
                    assert_eq!(
                        plan::decode::<F>(&p),
                        want,
                        "{} 2^{log_n} × {columns} {cfg:?} {tiling:?}",
                        F::NAME
                    );
                }
            }
        }
    }
}

#[test]
fn babybear_passes_equal_the_definition() {
    use p3_field::PrimeCharacteristicRing;
    check(
        |r| p3_baby_bear::BabyBear::from_u32(r.gen_range(0..0x7800_0001)),
        31,
        7,
    );
}

#[test]
fn goldilocks_passes_equal_the_definition() {
    use p3_field::PrimeCharacteristicRing;
    check(
        |r| <p3_goldilocks::Goldilocks as PrimeCharacteristicRing>::from_u64(r.gen()),
        32,
        6,
    );
}

#[test]
fn bn254_passes_equal_the_definition() {
    check(
        |r| ark_bn254::Fr::from(r.gen::<u128>()) * ark_bn254::Fr::from(r.gen::<u128>()),
        33,
        5,
    );
}

#[test]
fn bls12_381_passes_equal_the_definition() {
    check(
        |r| ark_bls12_381::Fr::from(r.gen::<u128>()) * ark_bls12_381::Fr::from(r.gen::<u128>()),
        34,
        5,
    );
}

/// Every stage once, in order, no block over its tile, every block whole.
#[test]
fn passes_cover_each_stage_once_within_the_tile() {
    for (log_tile, log_run) in TILINGS.into_iter().chain([(11, 3), (11, 2), (9, 0)]) {
        let tiling = NttTiling { log_tile, log_run };
        for log_n in 1..=28 {
            for columns in [1usize, 2, 3, 12, 1 << 10] {
                let ps = plan::passes(log_n, columns, tiling);
                let mut next = 0;
                for p in &ps {
                    assert_eq!(p.s0, next, "{tiling:?} 2^{log_n}");
                    assert!(p.stages >= 1 && p.log_run <= p.s0);
                    assert!(p.stages + p.log_run + p.log_rep <= log_tile);
                    let total = (columns as u128) << log_n;
                    assert_eq!(total % p.block_elements() as u128, 0);
                    next += p.stages;
                }
                assert_eq!(next, log_n);
            }
        }
    }
}
