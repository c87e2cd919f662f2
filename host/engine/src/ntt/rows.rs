//! Matrices stored row by row (a row per point, a column per polynomial: Plonky3's
//! `RowMajorMatrix`), every column transformed in place, with no transposes.
//!
//! The networks are the ones whose twiddle is constant over a whole block of rows: Cooley–Tukey
//! from natural order to bit-reversed (block b of the level with m blocks multiplies by
//! ω_{2m}^{rev(b)}), and Gentleman–Sande back. Each butterfly is then one twiddle applied to
//! two contiguous runs of rows, which the field's packing takes many elements per instruction
//! however narrow the matrix. The top levels run as parallel sweeps, two levels per sweep;
//! once a block fits in cache it finishes there on one thread.
//!
//! For `log_n` rows: CT(σ) maps natural order to bit-reversed and GS(σ) bit-reversed to
//! natural, both computing y_k = Σ_j a_j σ^{jk}; σ is ω, or ω⁻¹ for the inverse.

use super::kernels::mul_powers;
use super::twiddles::{twiddles, Twiddles};
use super::{Direction, Domain, NttConfig, NttError, NttField, Order};
use crate::cancel::Cancel;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// A block up to this many bytes finishes serially, level by level (cache-resident).
const BLOCK_BYTES: usize = 1 << 17;
/// Elements per parallel work item in a sweep over a block past the cache.
const PAR_CHUNK: usize = 1 << 12;

impl<F: NttField> Domain<F> {
    /// Transform every column of `data`, a matrix of [`Self::size`] rows of `width` elements
    /// stored row by row, as [`Self::ntt_batch`] would transform the columns one by one.
    /// Gives up with [`NttError::Cancelled`] soon after `cancel` is raised (between passes),
    /// leaving `data` partly transformed.
    pub fn ntt_rows(
        &self,
        data: &mut [F],
        width: usize,
        cfg: &NttConfig<F>,
        cancel: &Cancel,
    ) -> Result<(), NttError> {
        let n = self.size();
        check_shape(data.len(), n, width)?;
        if matches!(cfg.coset, Some(g) if g.is_zero()) {
            return Err(NttError::ZeroShift);
        }
        if width == 0 {
            return Ok(());
        }
        let inverse = cfg.direction == Direction::Inverse;
        let tw = twiddles::<F>(self.log_size());
        // Every ordering is CT (natural → bit-reversed) or GS (bit-reversed → natural), with
        // the rows bit-reversed before or after where the orders ask for it.
        let gs = (cfg.input, cfg.output) == (Order::BitReversed, Order::Natural);
        if (cfg.input, cfg.output) == (Order::BitReversed, Order::BitReversed) {
            bit_reverse_rows(data, width);
        }
        cancel.check()?;
        if let (false, Some(g)) = (inverse, cfg.coset) {
            // Coefficient j is scaled by g^j, in the row that holds it.
            scale_rows(data, width, &powers(n, g, F::one(), gs));
        }
        if gs {
            gs_rows(data, width, &tw, inverse, (1, 0), 1);
        } else {
            ct_rows(data, width, &tw, inverse, 1, 0);
        }
        cancel.check()?;
        let natural_out = gs || (cfg.input, cfg.output) == (Order::Natural, Order::Natural);
        if natural_out && !gs {
            bit_reverse_rows(data, width);
        }
        if inverse {
            let n_inv = F::from_u64(n as u64).inv();
            match cfg.coset {
                None => data
                    .par_chunks_mut(PAR_CHUNK)
                    .for_each(|c| F::scale(c, n_inv)),
                // Coefficient j is scaled by g^{−j}/n, in the row that holds it.
                Some(g) => scale_rows(data, width, &powers(n, g.inv(), n_inv, !natural_out)),
            }
        }
        Ok(())
    }
}

/// The low-degree extension of every column of `data` (`width` elements a row, row by row):
/// interpolate each column over the subgroup of the matrix's height, then evaluate it on
/// `shift` times the subgroup `2^added_bits` times larger, the rows in `output` order (a FRI
/// prover commits to them bit-reversed). Plonky3's `coset_lde_batch`, row for row. Gives up
/// with [`NttError::Cancelled`] soon after `cancel` is raised.
pub fn lde_rows<F: NttField>(
    data: &[F],
    width: usize,
    added_bits: u32,
    shift: F,
    output: Order,
    cancel: &Cancel,
) -> Result<Vec<F>, NttError> {
    if shift.is_zero() {
        return Err(NttError::ZeroShift);
    }
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let height = data.len().checked_div(width).unwrap_or(0);
    let small = Domain::<F>::for_len(height.max(1))?;
    check_shape(data.len(), small.size(), width)?;
    let large = Domain::<F>::new(small.log_size() + added_bits)?;
    let n = small.size();
    let tw = twiddles::<F>(large.log_size());

    // The extension is built in the one allocation it is returned in (a second matrix would
    // cost its page faults too): first the interpolation in its first block, n·c_{rev(i)} in
    // row i.
    let (block, rows) = (n * width, n << added_bits);
    let mut out: Vec<F> = Vec::with_capacity(rows * width);
    copy_uninit(&mut out.spare_capacity_mut()[..block], data);
    // SAFETY: the first `block` elements were all written just above.
    unsafe { out.set_len(block) };
    ct_rows(&mut out, width, &tw, true, 1, 0);
    cancel.check()?;
    if output == Order::BitReversed {
        // Evaluation is CT on the padded coefficients c_j·shift^j in natural order, whose
        // top `added_bits` levels only copy (their upper halves are zero and the first
        // twiddle of each level is 1): 2^k copies of the coefficients, each then block c of
        // the level with 2^k blocks.
        bit_reverse_rows(&mut out, width);
        scale_rows(
            &mut out,
            width,
            &powers(n, shift, F::from_u64(n as u64).inv(), false),
        );
        replicate(&mut out, rows * width);
        cancel.check()?;
        let copies = 1usize << added_bits;
        out.par_chunks_mut(block)
            .enumerate()
            .for_each(|(c, blk)| ct_rows(blk, width, &tw, false, copies, c));
        return Ok(out);
    }
    // Evaluation is GS on the padded coefficients d_j = c_j·shift^j in bit-reversed order,
    // where d_{rev(i)} sits in row i·2^k and the rows between are zero. GS's k lowest levels
    // on a block [x, 0, …, 0] of 2^k rows give row s of the block x times the twiddles of
    // the levels whose bit is set in s: they are done while spreading the rows out.
    spread(&mut out, width, added_bits, &tw, shift);
    cancel.check()?;
    gs_rows(&mut out, width, &tw, false, (1, 0), 1 << added_bits);
    Ok(out)
}

/// `out` holds n rows (n·c_{rev(i)} in row i) within a capacity of n·2^k rows; leave row
/// i·2^k + s = row i · shift^{rev(i)}/n · Π_{levels ℓ ≤ k with bit ℓ−1 of s set} t_ℓ(i), where
/// t_ℓ(i) is the twiddle of the block of 2^ℓ rows starting at row i·2^k, on GS's level ℓ.
fn spread<F: NttField>(out: &mut Vec<F>, width: usize, k: u32, tw: &Twiddles<F>, shift: F) {
    let n = out.len() / width;
    let (fan, total) = (1usize << k, n << k);
    let first = powers(n, shift, F::from_u64(n as u64).inv(), true);
    if k == 0 {
        scale_rows(out, width, &first);
        return;
    }
    // ℓ counts from 1 (blocks of 2 rows): level ℓ has total/2^ℓ blocks.
    let factor = |i: usize, s: usize| {
        (1..=k).fold(first[i], |f, l| {
            if s >> (l - 1) & 1 == 1 {
                f * twiddle(tw, false, total >> l, i << (k - l))
            } else {
                f
            }
        })
    };
    let base = SendPtr(out.as_mut_ptr());
    // Row i goes to rows i·2^k…, all at or past row i: rows [n/2^k, n) go past the n rows
    // written, then [n/2^{2k}, n/2^k) into rows already read, and so on, each wave
    // parallel. Row 0, which lands on itself, goes last.
    let mut hi = n;
    while hi > 1 {
        let lo = (hi >> k).max(1);
        (lo..hi)
            .into_par_iter()
            .with_min_len(rows_per_chunk(width * fan))
            .for_each(|i| {
                let p = &base;
                for s in (0..fan).rev() {
                    let dst = (i * fan + s) * width;
                    // SAFETY: source row i (i ≥ 1) lies before every destination row of this
                    // wave's i, and no other task writes it in this wave (destinations of
                    // wave rows are ≥ lo·2^k ≥ hi, or rows < n already read in an earlier
                    // wave); destinations are within the capacity, disjoint between tasks;
                    // each is initialized by the copy before the slice is formed.
                    unsafe {
                        std::ptr::copy_nonoverlapping(p.0.add(i * width), p.0.add(dst), width);
                        let row = std::slice::from_raw_parts_mut(p.0.add(dst), width);
                        F::scale(row, factor(i, s));
                    }
                }
            });
        hi = lo;
    }
    let row0: Vec<F> = out[..width].to_vec();
    for s in (0..fan).rev() {
        let f = factor(0, s);
        // SAFETY: row s < 2^k ≤ total is within the capacity; `row0` is a separate copy.
        unsafe {
            let dst = base.0.add(s * width);
            std::ptr::copy_nonoverlapping(row0.as_ptr(), dst, width);
            F::scale(std::slice::from_raw_parts_mut(dst, width), f);
        }
    }
    // SAFETY: every row of the n·2^k was written above.
    unsafe { out.set_len(total * width) };
}

/// `out` (within a capacity of `total` elements, a multiple of its length) followed by copies
/// of itself up to `total`.
fn replicate<F: Copy + Send + Sync>(out: &mut Vec<F>, total: usize) {
    let block = out.len();
    if block == 0 || total <= block {
        return;
    }
    let base = out.as_mut_ptr();
    // SAFETY: the first block is initialized; the elements after it up to `total` are within
    // the capacity and disjoint from it; `MaybeUninit<F>` has `F`'s layout.
    let (src, dst) = unsafe {
        (
            std::slice::from_raw_parts(base, block),
            std::slice::from_raw_parts_mut(base.add(block).cast::<MaybeUninit<F>>(), total - block),
        )
    };
    dst.par_chunks_mut(block)
        .for_each(|copy| copy_uninit(copy, src));
    // SAFETY: every copy was written whole.
    unsafe { out.set_len(total) };
}

/// dst ← src (equal lengths), in parallel: first touches of a fresh allocation fault in
/// pages, which two threads do faster than one.
fn copy_uninit<F: Copy + Send + Sync>(dst: &mut [MaybeUninit<F>], src: &[F]) {
    dst.par_chunks_mut(PAR_CHUNK)
        .zip(src.par_chunks(PAR_CHUNK))
        .for_each(|(d, s)| {
            for (d, s) in d.iter_mut().zip(s) {
                d.write(*s);
            }
        });
}

fn check_shape(len: usize, height: usize, width: usize) -> Result<(), NttError> {
    if height.checked_mul(width) != Some(len) {
        return Err(NttError::Shape { len, height, width });
    }
    Ok(())
}

/// c·g^idx(i) for row i < n, idx(i) = i or its bit reversal.
fn powers<F: NttField>(n: usize, g: F, c: F, bit_reversed: bool) -> Vec<F> {
    let mut pw = vec![F::one(); n];
    mul_powers(&mut pw, g, c, bit_reversed);
    pw
}

/// Rows in a parallel work item of a pass over rows: about `PAR_CHUNK` elements.
fn rows_per_chunk(width: usize) -> usize {
    (PAR_CHUNK / width.max(1)).max(1)
}

/// Row i ← row i · factors[i].
fn scale_rows<F: NttField>(a: &mut [F], width: usize, factors: &[F]) {
    let per = rows_per_chunk(width);
    a.par_chunks_mut(per * width)
        .zip(factors.par_chunks(per))
        .for_each(|(chunk, f)| {
            for (row, &c) in chunk.chunks_exact_mut(width).zip(f) {
                F::scale(row, c);
            }
        });
}

/// The twiddle of block `b` on the level with `m` blocks: ω_{2m}^{rev(b)} (or its inverse).
#[inline]
fn twiddle<F: NttField>(tw: &Twiddles<F>, inverse: bool, m: usize, b: usize) -> F {
    tw.layer(m, inverse)[rev(b, m.trailing_zeros())]
}

/// Cooley–Tukey on `a`, which is block `b` of the level with `m` blocks (the whole matrix:
/// `m = 1, b = 0`): natural order in, bit-reversed out.
fn ct_rows<F: NttField>(
    a: &mut [F],
    width: usize,
    tw: &Twiddles<F>,
    inverse: bool,
    m: usize,
    b: usize,
) {
    let rows = a.len() / width;
    if rows < 2 {
        return;
    }
    if rows < 4 || size_of_val(a) <= BLOCK_BYTES {
        ct_serial(a, width, tw, inverse, (m, b));
        return;
    }
    // Two levels in one sweep: each work item holds a chunk of all four quarters, so the
    // second level finds its operands in cache.
    let (t0, t1, t2) = (
        twiddle(tw, inverse, m, b),
        twiddle(tw, inverse, 2 * m, 2 * b),
        twiddle(tw, inverse, 2 * m, 2 * b + 1),
    );
    let q = a.len() / 4;
    let (h0, h1) = a.split_at_mut(2 * q);
    let (q0, q1) = h0.split_at_mut(q);
    let (q2, q3) = h1.split_at_mut(q);
    q0.par_chunks_mut(PAR_CHUNK)
        .zip(q1.par_chunks_mut(PAR_CHUNK))
        .zip(q2.par_chunks_mut(PAR_CHUNK))
        .zip(q3.par_chunks_mut(PAR_CHUNK))
        .for_each(|(((a0, a1), a2), a3)| {
            F::ct_run(a0, a2, t0);
            F::ct_run(a1, a3, t0);
            F::ct_run(a0, a1, t1);
            F::ct_run(a2, a3, t2);
        });
    let m4 = 4 * m;
    rayon::join(
        || {
            rayon::join(
                || ct_rows(q0, width, tw, inverse, m4, 4 * b),
                || ct_rows(q1, width, tw, inverse, m4, 4 * b + 1),
            )
        },
        || {
            rayon::join(
                || ct_rows(q2, width, tw, inverse, m4, 4 * b + 2),
                || ct_rows(q3, width, tw, inverse, m4, 4 * b + 3),
            )
        },
    );
}

/// Gentleman–Sande on `a`, block `b` of the level with `m` blocks: bit-reversed order in,
/// natural out. CT's levels in reverse, each butterfly inverted (up to a factor 2). Blocks of
/// at most `done` rows are taken as already transformed (1: none).
fn gs_rows<F: NttField>(
    a: &mut [F],
    width: usize,
    tw: &Twiddles<F>,
    inverse: bool,
    (m, b): (usize, usize),
    done: usize,
) {
    let rows = a.len() / width;
    if rows <= done {
        return;
    }
    if rows < 4 || rows <= 2 * done || size_of_val(a) <= BLOCK_BYTES {
        gs_serial(a, width, tw, inverse, (m, b), done);
        return;
    }
    let q = a.len() / 4;
    let m4 = 4 * m;
    {
        let (h0, h1) = a.split_at_mut(2 * q);
        let (q0, q1) = h0.split_at_mut(q);
        let (q2, q3) = h1.split_at_mut(q);
        rayon::join(
            || {
                rayon::join(
                    || gs_rows(q0, width, tw, inverse, (m4, 4 * b), done),
                    || gs_rows(q1, width, tw, inverse, (m4, 4 * b + 1), done),
                )
            },
            || {
                rayon::join(
                    || gs_rows(q2, width, tw, inverse, (m4, 4 * b + 2), done),
                    || gs_rows(q3, width, tw, inverse, (m4, 4 * b + 3), done),
                )
            },
        );
    }
    let (t0, t1, t2) = (
        twiddle(tw, inverse, m, b),
        twiddle(tw, inverse, 2 * m, 2 * b),
        twiddle(tw, inverse, 2 * m, 2 * b + 1),
    );
    let (h0, h1) = a.split_at_mut(2 * q);
    let (q0, q1) = h0.split_at_mut(q);
    let (q2, q3) = h1.split_at_mut(q);
    q0.par_chunks_mut(PAR_CHUNK)
        .zip(q1.par_chunks_mut(PAR_CHUNK))
        .zip(q2.par_chunks_mut(PAR_CHUNK))
        .zip(q3.par_chunks_mut(PAR_CHUNK))
        .for_each(|(((a0, a1), a2), a3)| {
            F::gs_run(a0, a1, t1);
            F::gs_run(a2, a3, t2);
            F::gs_run(a0, a2, t0);
            F::gs_run(a1, a3, t0);
        });
}

/// CT's levels over `a` (rows of `width`) once it fits in cache, largest blocks first.
fn ct_serial<F: NttField>(
    a: &mut [F],
    width: usize,
    tw: &Twiddles<F>,
    inverse: bool,
    (m, b): (usize, usize),
) {
    let mut s = 1;
    while a.len() / s >= 2 * width {
        let len = a.len() / s;
        for (j, blk) in a.chunks_exact_mut(len).enumerate() {
            let (lo, hi) = blk.split_at_mut(len / 2);
            F::ct_run(lo, hi, twiddle(tw, inverse, m * s, b * s + j));
        }
        s *= 2;
    }
}

/// GS's levels over `a` once it fits in cache, smallest blocks first, from blocks of more
/// than `done` rows.
fn gs_serial<F: NttField>(
    a: &mut [F],
    width: usize,
    tw: &Twiddles<F>,
    inverse: bool,
    (m, b): (usize, usize),
    done: usize,
) {
    let rows = a.len() / width;
    let mut s = rows / (2 * done);
    while s >= 1 {
        let len = a.len() / s;
        for (j, blk) in a.chunks_exact_mut(len).enumerate() {
            let (lo, hi) = blk.split_at_mut(len / 2);
            F::gs_run(lo, hi, twiddle(tw, inverse, m * s, b * s + j));
        }
        s /= 2;
    }
}

/// Index `i` of `log_n` bits, bits reversed.
#[inline]
fn rev(i: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - log_n)
    }
}

struct SendPtr<T>(*mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
// SAFETY: used by `bit_reverse_rows` and `spread`, whose tasks touch disjoint rows.
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// Rows permuted into bit-reversed order, in place.
fn bit_reverse_rows<F: Send + Sync>(a: &mut [F], width: usize) {
    let n = a.len() / width.max(1);
    if n <= 2 {
        return;
    }
    let log_n = n.trailing_zeros();
    let ptr = SendPtr(a.as_mut_ptr());
    (0..n)
        .into_par_iter()
        .with_min_len(rows_per_chunk(width))
        .for_each(|i| {
            let j = rev(i, log_n);
            if i < j {
                let p = &ptr;
                // SAFETY: rows i and j (i ≠ j) are within the n·width elements and do not
                // overlap; the pair is swapped only by the task holding the smaller index.
                unsafe {
                    std::ptr::swap_nonoverlapping(p.0.add(i * width), p.0.add(j * width), width)
                };
            }
        });
}
