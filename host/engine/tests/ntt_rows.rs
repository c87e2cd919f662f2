//! Row-major matrices (`Domain::ntt_rows`, `ntt::lde_rows`) against the column engine (itself
//! checked against a naive DFT, ark-poly and Plonky3 in tests/ntt.rs) and against the
//! libraries' own low-degree extensions: every field, every ordering, cosets, widths that do
//! not fill a SIMD register, heights past the cache block, errors and cancellation.

use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use offload_engine::cancel::Cancel;
use offload_engine::ntt::{self, Direction, Domain, NttConfig, NttError, NttField, Order};
use p3_dft::{Radix2Dit, TwoAdicSubgroupDft};
use p3_matrix::dense::RowMajorMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

type Bn = ark_bn254::Fr;
type Bls = ark_bls12_381::Fr;
type Bb = p3_baby_bear::BabyBear;
type Gl = p3_goldilocks::Goldilocks;

const ORDERS: [Order; 2] = [Order::Natural, Order::BitReversed];

fn random<F: NttField>(n: usize, seed: u64) -> Vec<F> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| F::from_u64(r.gen()) * F::from_u64(r.gen()) + F::from_u64(r.gen()))
        .collect()
}

/// The rows of a row-major matrix in bit-reversed order.
fn bitrev_rows<F: Copy>(m: &[F], width: usize) -> Vec<F> {
    let rows: Vec<&[F]> = m.chunks(width).collect();
    let bits = rows.len().trailing_zeros();
    (0..rows.len())
        .flat_map(|i| {
            let r = if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            };
            rows[r].iter().copied()
        })
        .collect()
}

/// Row-major (height × width) → the columns one after another, and back.
fn transpose<F: Copy>(m: &[F], rows: usize, cols: usize) -> Vec<F> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| m[r * cols + c]))
        .collect()
}

fn configs<F: NttField>() -> Vec<NttConfig<F>> {
    let mut out = Vec::new();
    for direction in [Direction::Forward, Direction::Inverse] {
        for coset in [None, Some(F::from_u64(7))] {
            for input in ORDERS {
                for output in ORDERS {
                    let mut c = NttConfig::forward().orders(input, output);
                    c.direction = direction;
                    c.coset = coset;
                    out.push(c);
                }
            }
        }
    }
    out
}

/// ntt_rows on a row-major matrix equals the column engine on its columns.
fn check_rows<F: NttField>(log_n: u32, widths: &[usize], all_configs: bool, seed: u64) {
    let n = 1usize << log_n;
    let d = Domain::<F>::new(log_n).unwrap();
    let cfgs = configs::<F>();
    let cfgs = if all_configs { &cfgs[..] } else { &cfgs[..1] };
    for &w in widths {
        let m = random::<F>(n * w, seed + w as u64);
        for cfg in cfgs {
            let mut cols = transpose(&m, n, w);
            d.ntt_batch(&mut cols, cfg).unwrap();
            let mut rows = m.clone();
            d.ntt_rows(&mut rows, w, cfg, &Cancel::never()).unwrap();
            assert_eq!(
                transpose(&rows, n, w),
                cols,
                "{} 2^{log_n} × {w} {:?} {:?}→{:?} coset {}",
                F::NAME,
                cfg.direction,
                cfg.input,
                cfg.output,
                cfg.coset.is_some()
            );
        }
    }
}

/// Widths around one SIMD register for every field (1, 8, 16 lanes) and a wide one.
const WIDTHS: [usize; 8] = [1, 2, 7, 8, 9, 16, 17, 37];

#[test]
fn rows_equal_columns_small_heights() {
    for log_n in 0..=6 {
        check_rows::<Bb>(log_n, &WIDTHS, true, 1);
        check_rows::<Gl>(log_n, &WIDTHS, true, 2);
        check_rows::<Bn>(log_n, &[1, 3], true, 3);
        check_rows::<Bls>(log_n, &[2], true, 4);
    }
}

#[test]
fn rows_equal_columns_past_the_cache_block() {
    // Matrices past the 128 KiB serial block, so the top levels run as parallel sweeps, two
    // levels a sweep, several sweeps deep; and very wide matrices of a few rows, where a
    // sweep's quarters are single rows.
    check_rows::<Bb>(13, &[17], true, 5);
    check_rows::<Gl>(13, &[9], true, 6);
    check_rows::<Bn>(14, &[2], false, 7);
    for log_n in 1..=3 {
        check_rows::<Bb>(log_n, &[40_000], true, 8);
    }
    // Wide enough that the levels run band by band of columns (1 MiB of rows a band, the
    // last band narrower).
    check_rows::<Bb>(10, &[300], true, 9);
    check_rows::<Gl>(12, &[100], true, 10);
    check_rows::<Bn>(11, &[40], false, 11);
}

#[test]
fn lde_equals_plonky3() {
    fn check<F: NttField + p3_field::TwoAdicField>(seed: u64) {
        let dft = Radix2Dit::<F>::default();
        for (log_h, w, added) in [
            (0, 3, 1),
            (0, 2, 3),
            (1, 1, 2),
            (4, 17, 1),
            (5, 4, 0),
            (6, 8, 3),
            (12, 37, 1),
            (13, 9, 2),
            (10, 300, 1),
        ] {
            let h = 1usize << log_h;
            let m = random::<F>(h * w, seed + log_h);
            let shift = F::GENERATOR;
            let theirs = dft.coset_lde_batch(RowMajorMatrix::new(m.clone(), w), added, shift);
            let never = Cancel::never();
            let ours = ntt::lde_rows(&m, w, added as u32, shift, Order::Natural, &never).unwrap();
            assert_eq!(ours, theirs.values, "{} 2^{log_h} × {w} +{added}", F::NAME);
            let br = ntt::lde_rows(&m, w, added as u32, shift, Order::BitReversed, &never);
            assert_eq!(
                br.unwrap(),
                bitrev_rows(&theirs.values, w),
                "{} 2^{log_h} × {w} +{added} bit-reversed",
                F::NAME
            );
        }
    }
    check::<Bb>(10);
    check::<Gl>(20);
}

#[test]
fn lde_equals_ark_poly() {
    fn check<F: NttField + ark_ff::FftField>(log_h: u32, w: usize, added: u32, seed: u64) {
        let h = 1usize << log_h;
        let m = random::<F>(h * w, seed);
        let small = Radix2EvaluationDomain::<F>::new(h).unwrap();
        let large = Radix2EvaluationDomain::<F>::new(h << added)
            .unwrap()
            .get_coset(F::GENERATOR)
            .unwrap();
        let want: Vec<F> = (0..w)
            .flat_map(|c| {
                let col: Vec<F> = (0..h).map(|r| m[r * w + c]).collect();
                large.fft(&small.ifft(&col))
            })
            .collect();
        for output in ORDERS {
            let ours = ntt::lde_rows(&m, w, added, F::GENERATOR, output, &Cancel::never());
            let mut ours = ours.unwrap();
            if output == Order::BitReversed {
                ours = bitrev_rows(&ours, w);
            }
            assert_eq!(
                transpose(&ours, h << added, w),
                want,
                "{} 2^{log_h} × {w} {output:?}",
                F::NAME
            );
        }
    }
    check::<Bn>(5, 3, 1, 30);
    check::<Bn>(10, 2, 2, 31);
    check::<Bls>(6, 1, 1, 32);
}

#[test]
fn bad_shapes_are_errors() {
    let d = Domain::<Gl>::new(3).unwrap();
    let cfg = NttConfig::forward();
    let never = Cancel::never();
    let mut m = random::<Gl>(8 * 3 + 1, 40);
    assert_eq!(
        d.ntt_rows(&mut m, 3, &cfg, &never),
        Err(NttError::Shape {
            len: 25,
            height: 8,
            width: 3
        })
    );
    let mut m = random::<Gl>(24, 41);
    assert_eq!(
        d.ntt_rows(
            &mut m,
            3,
            &NttConfig::forward().coset(Gl::from_u64(0)),
            &never
        ),
        Err(NttError::ZeroShift)
    );
    // Nothing to transform: width 0 with no data.
    assert_eq!(d.ntt_rows(&mut [], 0, &cfg, &never), Ok(()));
    assert_eq!(
        ntt::lde_rows(&m[..21], 7, 1, Gl::from_u64(5), Order::Natural, &never),
        Err(NttError::NotPowerOfTwo { len: 3 })
    );
    assert_eq!(
        ntt::lde_rows(&m[..23], 5, 1, Gl::from_u64(5), Order::Natural, &never),
        Err(NttError::Shape {
            len: 23,
            height: 4,
            width: 5
        })
    );
    assert_eq!(
        ntt::lde_rows(&m, 3, 1, Gl::from_u64(0), Order::Natural, &never),
        Err(NttError::ZeroShift)
    );
    assert!(matches!(
        ntt::lde_rows(&m, 3, 40, Gl::from_u64(5), Order::Natural, &never),
        Err(NttError::TooLarge { .. })
    ));
    assert_eq!(
        ntt::lde_rows(&[], 3, 1, Gl::from_u64(5), Order::Natural, &never),
        Ok(vec![])
    );
}

#[test]
fn a_raised_cancel_stops_a_matrix() {
    let d = Domain::<Bb>::new(8).unwrap();
    let stop = Cancel::new();
    stop.cancel();
    let mut m = random::<Bb>(256 * 40, 50);
    assert_eq!(
        d.ntt_rows(&mut m, 40, &NttConfig::forward(), &stop),
        Err(NttError::Cancelled)
    );
    assert_eq!(
        ntt::lde_rows(&m, 40, 1, Bb::from_u64(3), Order::Natural, &stop),
        Err(NttError::Cancelled)
    );
}
