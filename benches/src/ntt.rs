//! NTT contenders: our engine, ark-poly, halo2curves (BN254), Plonky3's DFTs (BabyBear,
//! Goldilocks). Each runs a forward transform, natural order in and out, on one column.

use crate::convert;
use crate::{Field, Runner};
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
use offload_engine::ntt::{self, NttConfig, NttField};
use offload_prover::stark::OffloadDft;
use offload_prover::{Offload, ProverField};
use p3_dft::{Radix2Bowers, Radix2DFTSmallBatch, Radix2DitParallel, TwoAdicSubgroupDft};
use p3_field::{PrimeField64, TwoAdicField};
use p3_matrix::bitrev::BitReversibleMatrix;
use p3_matrix::dense::RowMajorMatrix;
use p3_matrix::Matrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;

pub fn inputs<F: NttField>(n: usize, seed: u64) -> Vec<F> {
    let mut r = ChaCha20Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| F::from_u64(r.gen()) * F::from_u64(r.gen()) + F::from_u64(r.gen()))
        .collect()
}

type Transform<T> = Box<dyn FnMut(&mut Vec<T>)>;

/// An in-place transform over a vector of `T`, restored from `input` before each run.
struct InPlace<T, D> {
    name: String,
    input: Vec<T>,
    data: Vec<T>,
    run: Transform<T>,
    digest: D,
}

impl<T: Clone, D: Fn(&[T]) -> Vec<u8>> Runner for InPlace<T, D> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn prepare(&mut self) {
        self.data.clone_from(&self.input);
    }
    fn run(&mut self) {
        (self.run)(&mut self.data);
    }
    fn digest(&self) -> Vec<u8> {
        (self.digest)(&self.data)
    }
}

fn boxed<T: Clone + 'static, D: Fn(&[T]) -> Vec<u8> + 'static>(
    name: &str,
    input: Vec<T>,
    run: impl FnMut(&mut Vec<T>) + 'static,
    digest: D,
) -> Box<dyn Runner> {
    Box::new(InPlace {
        name: name.into(),
        data: input.clone(),
        input,
        run: Box::new(run),
        digest,
    })
}

fn ours<F: NttField>(input: Vec<F>, digest: impl Fn(&[F]) -> Vec<u8> + 'static) -> Box<dyn Runner> {
    boxed(
        "cpu",
        input,
        |d: &mut Vec<F>| ntt::ntt(d, &NttConfig::forward()).expect("power-of-two size"),
        digest,
    )
}

pub(crate) fn p3_digest<F: PrimeField64>(v: &[F]) -> Vec<u8> {
    let bytes: Vec<[u8; 8]> = v
        .iter()
        .map(|x| x.as_canonical_u64().to_le_bytes())
        .collect();
    convert::fingerprint(bytes.iter().map(|b| b.as_slice()))
}

/// A Plonky3 DFT as a contender; the matrix API returns a new matrix per call.
fn p3_runner<F, D>(name: &str, dft: D, input: Vec<F>) -> Box<dyn Runner>
where
    F: TwoAdicField + PrimeField64,
    D: TwoAdicSubgroupDft<F> + 'static,
{
    boxed(
        name,
        input,
        move |d: &mut Vec<F>| {
            let m = RowMajorMatrix::new_col(std::mem::take(d));
            *d = dft.dft_batch(m).to_row_major_matrix().values;
        },
        p3_digest::<F>,
    )
}

fn ark_runners<F: NttField + ark_ff::FftField + ark_ff::PrimeField>(
    n: usize,
    input: Vec<F>,
    compare: bool,
) -> Vec<Box<dyn Runner>> {
    let mut v = vec![ours(input.clone(), convert::ark_fields_fingerprint::<F>)];
    if compare {
        let domain = Radix2EvaluationDomain::<F>::new(n).expect("two-adic size");
        v.push(boxed(
            "peer:ark-poly",
            input,
            move |d: &mut Vec<F>| domain.fft_in_place(d),
            convert::ark_fields_fingerprint::<F>,
        ));
    }
    v
}

pub fn runners(field: Field, log_n: u32, compare: bool) -> Vec<Box<dyn Runner>> {
    let n = 1usize << log_n;
    let seed = 0x0ff1_0ad1 + log_n as u64;
    match field {
        Field::Bn254 => {
            let input = inputs::<ark_bn254::Fr>(n, seed);
            let mut v = ark_runners(n, input.clone(), compare);
            if compare {
                let omega = convert::h2_fr(&ark_bn254::Fr::root_of_unity(log_n));
                let h2: Vec<_> = input.iter().map(convert::h2_fr).collect();
                v.push(boxed(
                    "peer:halo2curves",
                    h2,
                    move |d: &mut Vec<halo2curves::bn256::Fr>| {
                        halo2curves::fft::best_fft(d, omega, log_n)
                    },
                    |v: &[halo2curves::bn256::Fr]| {
                        use halo2curves::ff::PrimeField as _;
                        let reprs: Vec<_> = v.iter().map(|x| x.to_repr()).collect();
                        convert::fingerprint(reprs.iter().map(|r| r.as_ref()))
                    },
                ));
            }
            v
        }
        Field::Bls12_381 => ark_runners(n, inputs::<ark_bls12_381::Fr>(n, seed), compare),
        Field::BabyBear => {
            type F = p3_baby_bear::BabyBear;
            let input = inputs::<F>(n, seed);
            let mut v = vec![ours(input.clone(), p3_digest::<F>)];
            if compare {
                let rec = p3_monty_31::dft::RecursiveDft::<F>::new(n);
                v.push(p3_runner("peer:plonky3-recursive-dft", rec, input.clone()));
                v.push(p3_runner(
                    "peer:plonky3-radix2-small-batch",
                    Radix2DFTSmallBatch::<F>::new(n),
                    input.clone(),
                ));
                v.push(p3_runner(
                    "peer:plonky3-radix2-dit-parallel",
                    Radix2DitParallel::<F>::default(),
                    input,
                ));
            }
            v
        }
        Field::Goldilocks => {
            type F = p3_goldilocks::Goldilocks;
            let input = inputs::<F>(n, seed);
            let mut v = vec![ours(input.clone(), p3_digest::<F>)];
            if compare {
                v.push(p3_runner(
                    "peer:plonky3-radix2-small-batch",
                    Radix2DFTSmallBatch::<F>::new(n),
                    input.clone(),
                ));
                v.push(p3_runner(
                    "peer:plonky3-radix2-dit-parallel",
                    Radix2DitParallel::<F>::default(),
                    input.clone(),
                ));
                v.push(p3_runner("peer:plonky3-radix2-bowers", Radix2Bowers, input));
            }
            v
        }
    }
}

/// A trace as a STARK prover holds it: `2^log_n` rows of `width` columns, row by row.
pub fn matrix<F: NttField>(log_n: u32, width: usize) -> Vec<F> {
    inputs::<F>(width << log_n, 0x0ff1_0ad3 + log_n as u64 + width as u64)
}

/// The blowup of the `lde` case: Plonky3's FRI configurations extend by 2.
pub const LDE_ADDED_BITS: u32 = 1;

/// A row-major matrix transformed whole, as `dft_batch` (forward, natural order) or as the
/// PCS's `coset_lde_batch` (`lde`: interpolate, extend by 2, evaluate on the field's
/// generator's coset; the rows bit-reversed, as the FRI prover takes them): ours through
/// `OffloadDft` (`ours`: a name and where it runs, the engine in this process or a daemon),
/// then Plonky3's DFTs on the same matrix, each called the same way.
pub fn rows_runners(
    field: Field,
    log_n: u32,
    width: usize,
    lde: bool,
    ours: (&str, Arc<Offload>),
    compare: bool,
) -> Vec<Box<dyn Runner>> {
    match field {
        Field::BabyBear => {
            type F = p3_baby_bear::BabyBear;
            let input = matrix::<F>(log_n, width);
            let big = (1usize << log_n) << LDE_ADDED_BITS;
            let mut v = vec![rows_ours(ours, input.clone(), width, lde)];
            if compare {
                let rec = p3_monty_31::dft::RecursiveDft::<F>::new(big);
                v.push(rows_p3(
                    "peer:plonky3-recursive-dft",
                    rec,
                    &input,
                    width,
                    lde,
                ));
                let sb = Radix2DFTSmallBatch::<F>::new(big);
                v.push(rows_p3(
                    "peer:plonky3-radix2-small-batch",
                    sb,
                    &input,
                    width,
                    lde,
                ));
                let dp = Radix2DitParallel::<F>::default();
                v.push(rows_p3(
                    "peer:plonky3-radix2-dit-parallel",
                    dp,
                    &input,
                    width,
                    lde,
                ));
            }
            v
        }
        Field::Goldilocks => {
            type F = p3_goldilocks::Goldilocks;
            let input = matrix::<F>(log_n, width);
            let big = (1usize << log_n) << LDE_ADDED_BITS;
            let mut v = vec![rows_ours(ours, input.clone(), width, lde)];
            if compare {
                let sb = Radix2DFTSmallBatch::<F>::new(big);
                v.push(rows_p3(
                    "peer:plonky3-radix2-small-batch",
                    sb,
                    &input,
                    width,
                    lde,
                ));
                let dp = Radix2DitParallel::<F>::default();
                v.push(rows_p3(
                    "peer:plonky3-radix2-dit-parallel",
                    dp,
                    &input,
                    width,
                    lde,
                ));
                v.push(rows_p3(
                    "peer:plonky3-radix2-bowers",
                    Radix2Bowers,
                    &input,
                    width,
                    lde,
                ));
            }
            v
        }
        Field::Bn254 | Field::Bls12_381 => Vec::new(),
    }
}

fn rows_ours<F: ProverField + TwoAdicField + PrimeField64>(
    (name, offload): (&str, Arc<Offload>),
    input: Vec<F>,
    width: usize,
    lde: bool,
) -> Box<dyn Runner> {
    rows_p3(name, OffloadDft::on(offload), &input, width, lde)
}

fn rows_p3<F, D>(name: &str, dft: D, input: &[F], width: usize, lde: bool) -> Box<dyn Runner>
where
    F: TwoAdicField + PrimeField64,
    D: TwoAdicSubgroupDft<F> + 'static,
{
    boxed(
        name,
        input.to_vec(),
        move |d: &mut Vec<F>| {
            let m = RowMajorMatrix::new(std::mem::take(d), width);
            *d = if lde {
                // As the FRI prover takes it: the rows bit-reversed.
                dft.coset_lde_batch(m, LDE_ADDED_BITS as usize, F::GENERATOR)
                    .bit_reverse_rows()
                    .to_row_major_matrix()
                    .values
            } else {
                dft.dft_batch(m).to_row_major_matrix().values
            };
        },
        p3_digest::<F>,
    )
}
