//! NTT against a naive O(n²) DFT for small n, against ark-poly (BN254, BLS12-381) and Plonky3
//! (BabyBear, Goldilocks) for large n, round trips, every ordering, cosets, batches, errors.

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

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Uniform enough for tests in every field: a random 64-bit value, raised to a random-looking
/// full-width element by a multiply in the bigger fields.
fn random<F: NttField>(n: usize, r: &mut ChaCha20Rng) -> Vec<F> {
    (0..n)
        .map(|_| F::from_u64(r.gen()) * F::from_u64(r.gen()) + F::from_u64(r.gen()))
        .collect()
}

fn bitrev_perm<F: Copy>(v: &[F]) -> Vec<F> {
    let n = v.len();
    if n <= 1 {
        return v.to_vec();
    }
    let bits = n.trailing_zeros();
    (0..n)
        .map(|i| v[i.reverse_bits() >> (usize::BITS - bits)])
        .collect()
}

/// y_i = Σ_j a_j (g ω^i)^j, straight from the definition.
fn naive_dft<F: NttField>(a: &[F], g: F) -> Vec<F> {
    let n = a.len();
    let w = F::root_of_unity(n.trailing_zeros());
    (0..n)
        .map(|i| {
            let x = g * w.pow(i as u64);
            a.iter().rev().fold(F::zero(), |acc, &c| acc * x + c)
        })
        .collect()
}

fn check_against_naive<F: NttField>(seed: u64) {
    let mut r = rng(seed);
    for log_n in 0..=7u32 {
        let n = 1usize << log_n;
        let coeffs = random::<F>(n, &mut r);
        for shift in [None, Some(F::from_u64(7))] {
            let evals = naive_dft(&coeffs, shift.unwrap_or_else(F::one));
            for input in ORDERS {
                for output in ORDERS {
                    let arrange = |v: &[F], o: Order| match o {
                        Order::Natural => v.to_vec(),
                        Order::BitReversed => bitrev_perm(v),
                    };
                    let mut cfg = NttConfig::forward().orders(input, output);
                    cfg.coset = shift;
                    let mut data = arrange(&coeffs, input);
                    ntt::ntt(&mut data, &cfg).unwrap();
                    assert_eq!(
                        data,
                        arrange(&evals, output),
                        "{} fwd n={n} {input:?}->{output:?} {shift:?}",
                        F::NAME
                    );

                    cfg.direction = Direction::Inverse;
                    let mut back = arrange(&evals, input);
                    ntt::ntt(&mut back, &cfg).unwrap();
                    assert_eq!(
                        back,
                        arrange(&coeffs, output),
                        "{} inv n={n} {input:?}->{output:?}",
                        F::NAME
                    );
                }
            }
        }
    }
}

#[test]
fn naive_dft_all_fields_all_orders() {
    check_against_naive::<Bn>(1);
    check_against_naive::<Bls>(2);
    check_against_naive::<Bb>(3);
    check_against_naive::<Gl>(4);
}

fn check_round_trip<F: NttField>(log_n: u32, seed: u64) {
    let mut r = rng(seed);
    let coeffs = random::<F>(1 << log_n, &mut r);
    let g = F::from_u64(r.gen_range(2..1000));
    for shift in [None, Some(g)] {
        for (i, o) in [
            (Order::Natural, Order::BitReversed),
            (Order::Natural, Order::Natural),
        ] {
            let mut fwd = NttConfig::forward().orders(i, o);
            fwd.coset = shift;
            let mut inv = NttConfig::inverse().orders(o, i);
            inv.coset = shift;
            let mut v = coeffs.clone();
            ntt::ntt(&mut v, &fwd).unwrap();
            assert_ne!(v, coeffs);
            ntt::ntt(&mut v, &inv).unwrap();
            assert_eq!(v, coeffs, "{} round trip 2^{log_n}", F::NAME);
        }
    }
}

#[test]
fn round_trips_past_the_cache_block() {
    check_round_trip::<Bn>(16, 5);
    check_round_trip::<Bls>(15, 6);
    check_round_trip::<Bb>(18, 7);
    check_round_trip::<Gl>(17, 8);
}

fn check_ark<F: NttField + ark_ff::FftField>(log_n: u32, seed: u64) {
    let mut r = rng(seed);
    let n = 1usize << log_n;
    let coeffs = random::<F>(n, &mut r);
    let d = Radix2EvaluationDomain::<F>::new(n).unwrap();
    assert_eq!(Domain::<F>::new(log_n).unwrap().root(), d.group_gen);

    let mut ours = coeffs.clone();
    ntt::ntt(&mut ours, &NttConfig::forward()).unwrap();
    assert_eq!(ours, d.fft(&coeffs), "{} fft 2^{log_n}", F::NAME);
    let mut back = ours.clone();
    ntt::ntt(&mut back, &NttConfig::inverse()).unwrap();
    assert_eq!(back, d.ifft(&ours));

    let g = F::GENERATOR;
    let coset = d.get_coset(g).unwrap();
    let mut ours = coeffs.clone();
    ntt::ntt(&mut ours, &NttConfig::forward().coset(g)).unwrap();
    assert_eq!(ours, coset.fft(&coeffs), "{} coset fft 2^{log_n}", F::NAME);
    let mut back = ours.clone();
    ntt::ntt(&mut back, &NttConfig::inverse().coset(g)).unwrap();
    assert_eq!(back, coset.ifft(&ours));
    assert_eq!(back, coeffs);
}

#[test]
fn equals_ark_poly() {
    for log_n in [1, 10, 14, 17] {
        check_ark::<Bn>(log_n, 9 + log_n as u64);
    }
    check_ark::<Bls>(15, 30);
}

fn check_p3<F: NttField + p3_field::TwoAdicField>(log_n: u32, seed: u64) {
    let mut r = rng(seed);
    let n = 1usize << log_n;
    let coeffs = random::<F>(n, &mut r);
    let dft = Radix2Dit::<F>::default();
    let mut ours = coeffs.clone();
    ntt::ntt(&mut ours, &NttConfig::forward()).unwrap();
    assert_eq!(
        ours,
        dft.dft_batch(RowMajorMatrix::new_col(coeffs.clone()))
            .values,
        "{} dft",
        F::NAME
    );
    let mut back = ours.clone();
    ntt::ntt(&mut back, &NttConfig::inverse()).unwrap();
    assert_eq!(back, coeffs);

    let g = F::GENERATOR;
    let mut ours = coeffs.clone();
    ntt::ntt(&mut ours, &NttConfig::forward().coset(g)).unwrap();
    let theirs = dft.coset_dft_batch(RowMajorMatrix::new_col(coeffs.clone()), g);
    assert_eq!(ours, theirs.values, "{} coset dft", F::NAME);
    let mut back = ours.clone();
    ntt::ntt(&mut back, &NttConfig::inverse().coset(g)).unwrap();
    let theirs = dft.coset_idft_batch(RowMajorMatrix::new_col(ours), g);
    assert_eq!(back, theirs.values);
}

#[test]
fn equals_plonky3() {
    for log_n in [0, 3, 12, 16] {
        check_p3::<Bb>(log_n, 40 + log_n as u64);
        check_p3::<Gl>(log_n, 60 + log_n as u64);
    }
}

#[test]
fn batches_equal_single_columns() {
    let mut r = rng(80);
    let n = 1 << 10;
    let cols = 5;
    let data = random::<Bb>(n * cols, &mut r);
    let cfg = NttConfig::forward()
        .coset(Bb::from_u64(3))
        .orders(Order::BitReversed, Order::Natural);
    let mut batch = data.clone();
    Domain::<Bb>::new(10)
        .unwrap()
        .ntt_batch(&mut batch, &cfg)
        .unwrap();
    for c in 0..cols {
        let mut one = data[c * n..(c + 1) * n].to_vec();
        ntt::ntt(&mut one, &cfg).unwrap();
        assert_eq!(one, batch[c * n..(c + 1) * n]);
    }
}

#[test]
fn bad_shapes_are_errors() {
    let mut v = vec![Bn::from_u64(1); 12];
    assert_eq!(
        ntt::ntt(&mut v, &NttConfig::forward()),
        Err(NttError::NotPowerOfTwo { len: 12 })
    );
    let mut empty: Vec<Bn> = vec![];
    assert_eq!(
        ntt::ntt(&mut empty, &NttConfig::forward()),
        Err(NttError::NotPowerOfTwo { len: 0 })
    );
    let d = Domain::<Bn>::new(4).unwrap();
    let mut v = vec![Bn::from_u64(1); 8];
    assert_eq!(
        d.ntt(&mut v, &NttConfig::forward()),
        Err(NttError::LengthMismatch { len: 8, size: 16 })
    );
    let mut v = vec![Bn::from_u64(1); 24];
    assert!(d.ntt_batch(&mut v, &NttConfig::forward()).is_err());
    let mut v = vec![Bn::from_u64(1); 16];
    assert_eq!(
        d.ntt(&mut v, &NttConfig::forward().coset(Bn::from_u64(0))),
        Err(NttError::ZeroShift)
    );

    // Largest domains exist; one past the two-adicity is an error.
    fn edge<F: NttField>(expect: u32) {
        assert_eq!(F::TWO_ADICITY, expect, "{}", F::NAME);
        assert!(Domain::<F>::new(expect).is_ok());
        assert_eq!(
            Domain::<F>::new(expect + 1).unwrap_err(),
            NttError::TooLarge {
                field: F::NAME,
                log_n: expect + 1,
                max: expect
            }
        );
        // The largest root has exact order 2^s.
        let w = F::root_of_unity(expect);
        let mut x = w;
        for _ in 1..expect {
            x = x * x;
        }
        assert_ne!(x, F::one());
        assert_eq!(x * x, F::one());
    }
    edge::<Bn>(28);
    edge::<Bls>(32);
    edge::<Bb>(27);
    edge::<Gl>(32);
}

#[test]
fn four_step_equals_radix2() {
    // The four-step path directly, on sizes where radix-2 is the reference, every field.
    use offload_engine::ntt::four_step;
    fn check<F: NttField>(seed: u64) {
        let mut r = rng(seed);
        for log_n in [10u32, 11, 14] {
            let coeffs = random::<F>(1 << log_n, &mut r);
            for inverse in [false, true] {
                let mut ours = coeffs.clone();
                four_step::natural(&mut ours, inverse, &Cancel::never()).unwrap();
                let mut reference = coeffs.clone();
                let cfg = if inverse {
                    NttConfig::inverse()
                } else {
                    NttConfig::forward()
                };
                ntt::ntt(&mut reference, &cfg).unwrap();
                if inverse {
                    // The four-step leaves the 1/n to its caller.
                    let n = F::from_u64(1 << log_n);
                    ours.iter_mut().for_each(|x| *x = *x * n.inv());
                }
                assert_eq!(ours, reference, "{} 2^{log_n} inverse={inverse}", F::NAME);
            }
        }
    }
    check::<Bn>(90);
    check::<Bls>(91);
    check::<Bb>(92);
    check::<Gl>(93);
}

#[test]
fn four_step_sizes_through_the_public_api() {
    // 2^25 BabyBear (128 MiB) takes the four-step path: compare with Plonky3, every ordering
    // round-trips, and a coset round-trips.
    let log_n = offload_engine::ntt::four_step::MIN_LOG;
    let mut r = rng(94);
    let coeffs = random::<Bb>(1 << log_n, &mut r);
    let mut ours = coeffs.clone();
    ntt::ntt(&mut ours, &NttConfig::forward()).unwrap();
    let dft = p3_monty_31::dft::RecursiveDft::<Bb>::new(1 << log_n);
    let theirs = dft.dft_batch(RowMajorMatrix::new_col(coeffs.clone()));
    use p3_matrix::Matrix;
    assert_eq!(ours, theirs.to_row_major_matrix().values);
    for (i, o) in [
        (Order::Natural, Order::BitReversed),
        (Order::BitReversed, Order::Natural),
    ] {
        let mut v = coeffs.clone();
        ntt::ntt(
            &mut v,
            &NttConfig::forward().orders(i, o).coset(Bb::from_u64(5)),
        )
        .unwrap();
        ntt::ntt(
            &mut v,
            &NttConfig::inverse().orders(o, i).coset(Bb::from_u64(5)),
        )
        .unwrap();
        assert_eq!(v, coeffs);
    }
}

#[test]
fn a_raised_cancel_stops_a_batch() {
    let mut r = rng(43);
    let cols = random::<p3_goldilocks::Goldilocks>(16 << 10, &mut r);
    let d = Domain::<p3_goldilocks::Goldilocks>::new(10).unwrap();
    let cfg = NttConfig::forward();
    let live = Cancel::new();
    let mut want = cols.clone();
    d.ntt_batch(&mut want, &cfg).unwrap();
    let mut got = cols.clone();
    d.ntt_batch_cancellable(&mut got, &cfg, &live).unwrap();
    assert_eq!(got, want);
    live.cancel();
    let mut got = cols.clone();
    assert_eq!(
        d.ntt_batch_cancellable(&mut got, &cfg, &live),
        Err(NttError::Cancelled)
    );
    // A four-step column stops between its passes.
    let mut one = cols[..1 << 12].to_vec();
    assert!(ntt::four_step::natural(&mut one, false, &live).is_err());
}

/// Each field's whole-column networks (`NttField::dif`/`dit`: for BN254 and BLS12-381 the
/// AVX-512 IFMA path where the CPU has one) against the portable butterfly kernels, themselves
/// held to ark-poly and the naive DFT above: every size from below two vectors to past the
/// radix-4 sweeps, both networks and directions, random columns and columns of 0, 1 and p − 1
/// (the values where a lazy reduction that leaves something at or above p would show).
#[test]
fn whole_column_networks_equal_the_portable_kernels() {
    use offload_engine::ntt::{kernels, twiddles};
    fn check<F: NttField>(seed: u64) {
        let mut r = rng(seed);
        let edges = [F::zero(), F::one(), F::zero() - F::one()];
        for log_n in 0..=17u32 {
            let n = 1usize << log_n;
            let tw = twiddles::twiddles::<F>(log_n);
            let random = random::<F>(n, &mut r);
            let edge: Vec<F> = (0..n).map(|_| edges[r.gen_range(0..3)]).collect();
            let top = vec![F::zero() - F::one(); n];
            for (what, input) in [("random", random), ("edges", edge), ("p-1", top)] {
                type Net<F> = fn(&mut [F], &twiddles::Twiddles<F>, bool);
                let nets: [(&str, Net<F>, Net<F>); 2] = [
                    ("dif", F::dif, kernels::dif::<F>),
                    ("dit", F::dit, kernels::dit::<F>),
                ];
                for (net, field_path, portable_path) in nets {
                    for inverse in [false, true] {
                        let (mut ours, mut portable) = (input.clone(), input.clone());
                        field_path(&mut ours, &tw, inverse);
                        portable_path(&mut portable, &tw, inverse);
                        assert!(
                            ours == portable,
                            "{} {net} 2^{log_n} {what} inverse={inverse}",
                            F::NAME
                        );
                    }
                }
            }
        }
    }
    check::<Bn>(91);
    check::<Bls>(92);
    check::<Bb>(93);
}

/// The tiled bit reversal against the definition, at every size to 2^18 and element sizes 4,
/// 8 and 32 bytes (tiles of different shapes; sizes below two tiles take the plain loop).
#[test]
fn bit_reversal_is_the_permutation() {
    fn check<T: Copy + Send + Sync + PartialEq + std::fmt::Debug>(make: impl Fn(usize) -> T) {
        for log_n in 0..=18u32 {
            let v: Vec<T> = (0..1usize << log_n).map(&make).collect();
            let mut ours = v.clone();
            offload_engine::ntt::kernels::bit_reverse(&mut ours);
            assert!(
                ours == bitrev_perm(&v),
                "2^{log_n}, {} bytes",
                std::mem::size_of::<T>()
            );
        }
    }
    check(|i| i as u32);
    check(|i| i as u64);
    check(|i| [i as u64, 1, 2, 3]);
}
