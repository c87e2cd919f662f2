//! Multi-scalar multiplication on G1 of BN254 and BLS12-381: Σ kᵢ·Pᵢ.
//!
//! The bucket method (Pippenger) with: the GLV endomorphism, which turns n full-width scalars
//! into 2n half-width ones; signed-digit windows, which halve the bucket count; batch-affine
//! bucket accumulation ([`bucket`]); a window width chosen from n and the thread count
//! ([`window`]); and rayon across windows (and across point ranges when windows are fewer than
//! threads). [`FixedBaseTable`] precomputes window shifts of bases that are used again.

pub mod bucket;
pub mod curve;
pub mod glv;
#[cfg(target_arch = "x86_64")]
pub mod ifma;
pub mod repr;
pub mod secp256k1;
pub mod window;

pub use curve::MsmCurve;
pub use repr::{ArkRepr, Repr};

use crate::cancel::{Cancel, Cancelled};
use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{scalar_mul::glv::GLVConfig, AdditiveGroup, CurveGroup};
use ark_ff::{BigInt, PrimeField, Zero};
use bucket::{entry_id, Scratch, SKIP};
use glv::{signed_digit, HalfScalar};
use rayon::prelude::*;
use std::marker::PhantomData;

/// Fewest entries worth giving a thread its own bucket set.
const MIN_CHUNK: usize = 1 << 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsmError {
    #[error("scalar vector {set} has {scalars} scalars but there are {bases} bases")]
    LengthMismatch {
        set: usize,
        bases: usize,
        scalars: usize,
    },
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for MsmError {
    fn from(_: Cancelled) -> Self {
        MsmError::Cancelled
    }
}

/// A scalar as the MSM reads it: its canonical value in four little-endian 64-bit limbs. Field
/// elements convert out of Montgomery form; [`Canonical`] scalars are already there.
pub trait ScalarLimbs: Sync {
    fn limbs(&self) -> [u64; 4];
}

impl<F: PrimeField<BigInt = BigInt<4>>> ScalarLimbs for F {
    fn limbs(&self) -> [u64; 4] {
        self.into_bigint().0
    }
}

/// A scalar of `F` held as its canonical integer, checked below the modulus when made. A
/// service that receives canonical bytes hands them to the MSM this way, skipping the round
/// trip through Montgomery form.
#[derive(Debug)]
pub struct Canonical<F> {
    limbs: [u64; 4],
    _field: PhantomData<F>,
}

impl<F> Clone for Canonical<F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<F> Copy for Canonical<F> {}

impl<F> PartialEq for Canonical<F> {
    fn eq(&self, other: &Self) -> bool {
        self.limbs == other.limbs
    }
}

impl<F: PrimeField<BigInt = BigInt<4>>> Canonical<F> {
    /// `None` unless `limbs` (little-endian) is below the modulus of `F`.
    pub fn new(limbs: [u64; 4]) -> Option<Self> {
        (BigInt(limbs) < F::MODULUS).then_some(Self {
            limbs,
            _field: PhantomData,
        })
    }

    pub fn from_field(f: &F) -> Self {
        Self {
            limbs: f.into_bigint().0,
            _field: PhantomData,
        }
    }

    pub fn to_field(&self) -> F {
        F::from_bigint(BigInt(self.limbs)).unwrap_or_default()
    }
}

impl<F: Sync> ScalarLimbs for Canonical<F> {
    fn limbs(&self) -> [u64; 4] {
        self.limbs
    }
}

/// Σ scalars[i]·bases[i]. `n = 0` gives the identity; lengths must match.
pub fn msm<C: MsmCurve>(
    bases: &[Affine<C>],
    scalars: &[C::ScalarField],
) -> Result<Projective<C>, MsmError> {
    Ok(msm_batch(bases, &[scalars])?
        .into_iter()
        .next()
        .unwrap_or_default())
}

/// Which field arithmetic runs the bucket additions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Arithmetic {
    /// The fastest this CPU has (AVX-512 IFMA where present).
    #[default]
    Fastest,
    /// arkworks' scalar arithmetic, on every CPU.
    Portable,
}

/// One MSM per scalar vector, all over the same bases, sharing the endomorphism images and
/// the thread pool.
pub fn msm_batch<C: MsmCurve, K: ScalarLimbs, S: AsRef<[K]> + Sync>(
    bases: &[Affine<C>],
    sets: &[S],
) -> Result<Vec<Projective<C>>, MsmError> {
    msm_batch_using(Arithmetic::Fastest, bases, sets)
}

/// [`msm_batch`] with a chosen arithmetic (the tests run both and compare).
pub fn msm_batch_using<C: MsmCurve, K: ScalarLimbs, S: AsRef<[K]> + Sync>(
    arithmetic: Arithmetic,
    bases: &[Affine<C>],
    sets: &[S],
) -> Result<Vec<Projective<C>>, MsmError> {
    msm_batch_cancellable(arithmetic, bases, sets, &Cancel::never())
}

/// [`msm_batch_using`] that gives up with [`MsmError::Cancelled`] soon after `cancel` is raised
/// (each bucket task looks at it before it starts).
pub fn msm_batch_cancellable<C: MsmCurve, K: ScalarLimbs, S: AsRef<[K]> + Sync>(
    arithmetic: Arithmetic,
    bases: &[Affine<C>],
    sets: &[S],
    cancel: &Cancel,
) -> Result<Vec<Projective<C>>, MsmError> {
    check_lengths(bases.len(), sets)?;
    if bases.is_empty() || sets.is_empty() {
        return Ok(vec![Projective::zero(); sets.len()]);
    }
    Ok(match (arithmetic, C::fast()) {
        (Arithmetic::Fastest, Some(fast)) => variable_base(fast, bases, sets, cancel)?,
        _ => variable_base(&ArkRepr, bases, sets, cancel)?,
    })
}

fn variable_base<C: MsmCurve, R: Repr<C>, K: ScalarLimbs, S: AsRef<[K]> + Sync>(
    repr: &R,
    bases: &[Affine<C>],
    sets: &[S],
    cancel: &Cancel,
) -> Result<Vec<Projective<C>>, Cancelled> {
    let points = expand_glv(repr, bases);
    let halves: Vec<(Vec<HalfScalar>, u32)> =
        sets.iter().map(|s| decompose::<C, K>(s.as_ref())).collect();
    let threads = rayon::current_num_threads();

    // One task per (set, window, point chunk).
    struct Task {
        set: usize,
        window: u32,
        range: (usize, usize),
    }
    let plans: Vec<window::Plan> = halves
        .iter()
        .map(|(_, bits)| window::plan(points.len(), *bits, threads))
        .collect();
    let windows_total: usize = plans.iter().map(|p| p.windows as usize).sum();
    let chunks = threads
        .div_ceil(windows_total)
        .min(points.len().div_ceil(MIN_CHUNK))
        .max(1);
    let chunk_len = points.len().div_ceil(chunks);
    let mut tasks = Vec::new();
    for (set, plan) in plans.iter().enumerate() {
        for window in 0..plan.windows {
            for lo in (0..points.len()).step_by(chunk_len) {
                tasks.push(Task {
                    set,
                    window,
                    range: (lo, (lo + chunk_len).min(points.len())),
                });
            }
        }
    }

    let sums: Vec<Projective<C>> = tasks
        .par_iter()
        .map_init(Scratch::<C, R>::default, |scratch, t| {
            if cancel.is_cancelled() {
                return Projective::zero();
            }
            let c = plans[t.set].c;
            let ks = &halves[t.set].0[t.range.0..t.range.1];
            let pts = &points[t.range.0..t.range.1];
            scratch.bucket_sum(
                repr,
                1 << (c - 1),
                ks.len(),
                |i| digit_id(&ks[i], t.window, c),
                |i| &pts[i],
            )
        })
        .collect();
    cancel.check()?;

    // Fold chunks into window sums, then windows into the result (Horner, top window first).
    let mut out = vec![Projective::<C>::zero(); sets.len()];
    let mut per_window = vec![Vec::<Projective<C>>::new(); sets.len()];
    for (t, s) in tasks.iter().zip(sums) {
        let w = &mut per_window[t.set];
        if w.len() <= t.window as usize {
            w.resize(t.window as usize + 1, Projective::zero());
        }
        w[t.window as usize] += s;
    }
    for (set, windows) in per_window.into_iter().enumerate() {
        out[set] = horner(&windows, plans[set].c);
    }
    Ok(out)
}

fn check_lengths<F, S: AsRef<[F]>>(bases: usize, sets: &[S]) -> Result<(), MsmError> {
    for (set, s) in sets.iter().enumerate() {
        let scalars = s.as_ref().len();
        if scalars != bases {
            return Err(MsmError::LengthMismatch {
                set,
                bases,
                scalars,
            });
        }
    }
    Ok(())
}

/// Σ_j 2^{c·j}·sums[j].
fn horner<C: MsmCurve>(sums: &[Projective<C>], shift: u32) -> Projective<C> {
    let mut acc = Projective::<C>::zero();
    for s in sums.iter().rev() {
        for _ in 0..shift {
            acc.double_in_place();
        }
        acc += s;
    }
    acc
}

#[inline(always)]
fn digit_id(k: &HalfScalar, window: u32, c: u32) -> u32 {
    let d = signed_digit(&k.mag, window, c);
    if d == 0 {
        SKIP
    } else {
        entry_id(d.unsigned_abs() - 1, (d < 0) ^ k.neg)
    }
}

/// [P₀, φ(P₀), P₁, φ(P₁), …]: interleaved so an entry and its image share a cache line run.
fn expand_glv<C: MsmCurve, R: Repr<C>>(repr: &R, bases: &[Affine<C>]) -> Vec<R::Point> {
    let mut out = vec![repr.identity(); 2 * bases.len()];
    out.par_chunks_mut(2)
        .zip(bases.par_iter())
        .for_each(|(o, p)| {
            o[0] = repr.encode(p);
            o[1] = repr.encode(&C::endomorphism_affine(p));
        });
    out
}

/// Interleaved half scalars (k1 for P, k2 for φ(P)) and the widest bit length among them.
fn decompose<C: MsmCurve, K: ScalarLimbs>(scalars: &[K]) -> (Vec<HalfScalar>, u32) {
    let params = C::glv_params();
    let mut out = vec![HalfScalar::default(); 2 * scalars.len()];
    out.par_chunks_mut(2)
        .zip(scalars.par_iter())
        .for_each(|(o, k)| {
            let (k1, k2) = params.decompose_limbs(k.limbs());
            o[0] = k1;
            o[1] = k2;
        });
    let bits = out.par_iter().map(HalfScalar::bits).max().unwrap_or(0);
    (out, bits)
}

/// Bases prepared for repeated MSMs: for each base P and its image φ(P), the shifts 2^{c·t}·P
/// for as many windows t as the memory budget allows. With every window stored, an MSM is one
/// bucket pass and one reduction instead of one per window, with no doublings between.
pub struct FixedBaseTable<C: MsmCurve> {
    bases: usize,
    plan: window::FixedPlan,
    /// `plan.shifts` blocks of 2·bases points; block t holds 2^{c·t}·[P₀, φ(P₀), …].
    table: Table<C>,
}

enum Table<C: MsmCurve> {
    Portable(Vec<Affine<C>>),
    Fast(&'static C::Fast, Vec<<C::Fast as Repr<C>>::Point>),
}

impl<C: MsmCurve> FixedBaseTable<C> {
    /// Build a table within `memory_budget` bytes. The GLV-expanded bases themselves (one shift)
    /// are always stored, even past the budget; each further shift is one more such block.
    pub fn new(bases: &[Affine<C>], memory_budget: usize) -> Self {
        Self::new_using(Arithmetic::Fastest, bases, memory_budget)
    }

    /// [`FixedBaseTable::new`] with a chosen arithmetic.
    pub fn new_using(arithmetic: Arithmetic, bases: &[Affine<C>], memory_budget: usize) -> Self {
        let fast = C::fast().filter(|_| arithmetic == Arithmetic::Fastest);
        let point_size = match fast {
            Some(_) => std::mem::size_of::<<C::Fast as Repr<C>>::Point>(),
            None => std::mem::size_of::<Affine<C>>(),
        };
        let n2 = 2 * bases.len();
        let block = (n2 * point_size).max(1);
        let max_shifts = (memory_budget / block).clamp(1, u32::MAX as usize) as u32;
        let threads = rayon::current_num_threads();
        let plan = window::fixed_plan(n2, C::glv_params().max_bits, threads, max_shifts);
        let table = match fast {
            Some(r) => Table::Fast(r, build_table(r, bases, plan)),
            None => Table::Portable(build_table(&ArkRepr, bases, plan)),
        };
        Self {
            bases: bases.len(),
            plan,
            table,
        }
    }

    pub fn len(&self) -> usize {
        self.bases
    }

    pub fn is_empty(&self) -> bool {
        self.bases == 0
    }

    /// Bytes held by the precomputed points.
    pub fn memory_bytes(&self) -> usize {
        match &self.table {
            Table::Portable(t) => std::mem::size_of_val(t.as_slice()),
            Table::Fast(_, t) => std::mem::size_of_val(t.as_slice()),
        }
    }

    /// Window width, window count and stored shifts chosen for this table.
    pub fn shape(&self) -> (u32, u32, u32) {
        (self.plan.c, self.plan.windows, self.plan.shifts)
    }

    pub fn msm(&self, scalars: &[C::ScalarField]) -> Result<Projective<C>, MsmError> {
        Ok(self
            .msm_batch(&[scalars])?
            .into_iter()
            .next()
            .unwrap_or_default())
    }

    pub fn msm_batch<K: ScalarLimbs, S: AsRef<[K]> + Sync>(
        &self,
        sets: &[S],
    ) -> Result<Vec<Projective<C>>, MsmError> {
        self.msm_batch_cancellable(sets, &Cancel::never())
    }

    /// [`Self::msm_batch`] that gives up with [`MsmError::Cancelled`] soon after `cancel` is
    /// raised.
    pub fn msm_batch_cancellable<K: ScalarLimbs, S: AsRef<[K]> + Sync>(
        &self,
        sets: &[S],
        cancel: &Cancel,
    ) -> Result<Vec<Projective<C>>, MsmError> {
        check_lengths(self.bases, sets)?;
        if self.bases == 0 || sets.is_empty() {
            return Ok(vec![Projective::zero(); sets.len()]);
        }
        Ok(match &self.table {
            Table::Portable(t) => fixed_base(&ArkRepr, t, self.bases, self.plan, sets, cancel)?,
            Table::Fast(r, t) => fixed_base(*r, t, self.bases, self.plan, sets, cancel)?,
        })
    }
}

/// The table's points: each thread walks its own bases through all the shifts, doubling c
/// times per block.
fn build_table<C: MsmCurve, R: Repr<C>>(
    repr: &R,
    bases: &[Affine<C>],
    plan: window::FixedPlan,
) -> Vec<R::Point> {
    let n2 = 2 * bases.len();
    let mut table = vec![repr.identity(); n2 * plan.shifts as usize];
    if bases.is_empty() {
        return table;
    }
    let threads = rayon::current_num_threads();
    let per = bases.len().div_ceil(threads * 4).max(1);
    let blocks: Vec<Vec<R::Point>> = bases
        .par_chunks(per)
        .map(|chunk| {
            let mut cur: Vec<Projective<C>> = chunk.iter().map(|p| (*p).into()).collect();
            let mut out = Vec::with_capacity(2 * chunk.len() * plan.shifts as usize);
            for t in 0..plan.shifts {
                if t > 0 {
                    cur.iter_mut().for_each(|p| {
                        for _ in 0..plan.c {
                            p.double_in_place();
                        }
                    });
                }
                for a in Projective::normalize_batch(&cur) {
                    out.push(repr.encode(&a));
                    out.push(repr.encode(&C::endomorphism_affine(&a)));
                }
            }
            out
        })
        .collect();
    let mut base = 0;
    for (chunk, data) in bases.chunks(per).zip(blocks) {
        let m = 2 * chunk.len();
        for t in 0..plan.shifts as usize {
            table[t * n2 + 2 * base..t * n2 + 2 * base + m]
                .copy_from_slice(&data[t * m..(t + 1) * m]);
        }
        base += chunk.len();
    }
    table
}

fn fixed_base<C: MsmCurve, R: Repr<C>, K: ScalarLimbs, S: AsRef<[K]> + Sync>(
    repr: &R,
    table: &[R::Point],
    bases: usize,
    plan: window::FixedPlan,
    sets: &[S],
    cancel: &Cancel,
) -> Result<Vec<Projective<C>>, Cancelled> {
    let halves: Vec<Vec<HalfScalar>> = sets
        .iter()
        .map(|s| decompose::<C, K>(s.as_ref()).0)
        .collect();
    let n2 = 2 * bases;
    let threads = rayon::current_num_threads();
    let passes = plan.windows.div_ceil(plan.shifts);

    struct Task {
        set: usize,
        pass: u32,
        range: (usize, usize),
    }
    let mut tasks = Vec::new();
    for set in 0..sets.len() {
        for pass in 0..passes {
            let shifts = plan.shifts.min(plan.windows - pass * plan.shifts) as usize;
            let entries = shifts * n2;
            let chunks = threads.min(entries.div_ceil(MIN_CHUNK)).max(1);
            let len = entries.div_ceil(chunks);
            for lo in (0..entries).step_by(len) {
                tasks.push(Task {
                    set,
                    pass,
                    range: (lo, (lo + len).min(entries)),
                });
            }
        }
    }
    let sums: Vec<Projective<C>> = tasks
        .par_iter()
        .map_init(Scratch::<C, R>::default, |scratch, t| {
            if cancel.is_cancelled() {
                return Projective::zero();
            }
            let ks = &halves[t.set];
            let (lo, hi) = t.range;
            let first_window = t.pass * plan.shifts;
            scratch.bucket_sum(
                repr,
                1 << (plan.c - 1),
                hi - lo,
                |e| {
                    let e = lo + e;
                    digit_id(&ks[e % n2], first_window + (e / n2) as u32, plan.c)
                },
                |e| &table[lo + e],
            )
        })
        .collect();
    cancel.check()?;
    let mut per_pass = vec![vec![Projective::<C>::zero(); passes as usize]; sets.len()];
    for (t, s) in tasks.iter().zip(sums) {
        per_pass[t.set][t.pass as usize] += s;
    }
    Ok(per_pass
        .iter()
        .map(|p| horner(p, plan.c * plan.shifts))
        .collect())
}

/// The endomorphism image, exposed for the tests' independent checks.
pub fn endomorphism<C: GLVConfig>(p: &Affine<C>) -> Affine<C> {
    C::endomorphism_affine(p)
}
