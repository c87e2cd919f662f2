//! Cache-aware transforms: the layers of a transform larger than `BLOCK` run as parallel
//! sweeps over the whole array, two layers per sweep (radix 4) while the size allows, and once
//! a sub-transform fits in cache it finishes there on one thread, while sibling
//! sub-transforms run on the others.

use super::field::NttField;
use super::twiddles::Twiddles;
use rayon::prelude::*;

/// Sub-transforms at most this long run serially (32 KiB to 256 KiB: L2-resident).
pub(crate) const BLOCK: usize = 1 << 13;
/// Butterflies per parallel work item in a whole-array pass.
pub(crate) const PAR_CHUNK: usize = 1 << 11;

/// Natural-order input to bit-reversed output (decimation in frequency).
pub fn dif<F: NttField>(a: &mut [F], tw: &Twiddles<F>, inverse: bool) {
    let n = a.len();
    if n <= BLOCK {
        let mut h = n / 2;
        while h >= 1 {
            F::dif_layer(a, h, tw.layer(h, inverse));
            h /= 2;
        }
        return;
    }
    if n >= 4 * BLOCK {
        // Radix 4: the two top layers in one sweep over memory. Each work item holds a chunk of
        // all four quarters, so the second layer finds its operands in cache.
        let (q0, q1, q2, q3, wa_lo, wa_hi, wb) = quarters(a, tw, inverse);
        q0.par_chunks_mut(PAR_CHUNK)
            .zip(q1.par_chunks_mut(PAR_CHUNK))
            .zip(q2.par_chunks_mut(PAR_CHUNK))
            .zip(q3.par_chunks_mut(PAR_CHUNK))
            .zip(wa_lo.par_chunks(PAR_CHUNK))
            .zip(wa_hi.par_chunks(PAR_CHUNK))
            .zip(wb.par_chunks(PAR_CHUNK))
            .for_each(|((((((a0, a1), a2), a3), wl), wh), wq)| {
                F::dif_butterflies(a0, a2, wl);
                F::dif_butterflies(a1, a3, wh);
                F::dif_butterflies(a0, a1, wq);
                F::dif_butterflies(a2, a3, wq);
            });
        rayon::join(
            || rayon::join(|| dif(q0, tw, inverse), || dif(q1, tw, inverse)),
            || rayon::join(|| dif(q2, tw, inverse), || dif(q3, tw, inverse)),
        );
        return;
    }
    let h = n / 2;
    let (lo, hi) = a.split_at_mut(h);
    let w = tw.layer(h, inverse);
    lo.par_chunks_mut(PAR_CHUNK)
        .zip(hi.par_chunks_mut(PAR_CHUNK))
        .zip(w.par_chunks(PAR_CHUNK))
        .for_each(|((l, h), w)| F::dif_butterflies(l, h, w));
    rayon::join(|| dif(lo, tw, inverse), || dif(hi, tw, inverse));
}

/// Bit-reversed input to natural-order output (decimation in time).
pub fn dit<F: NttField>(a: &mut [F], tw: &Twiddles<F>, inverse: bool) {
    let n = a.len();
    if n <= BLOCK {
        let mut h = 1;
        while h < n {
            F::dit_layer(a, h, tw.layer(h, inverse));
            h *= 2;
        }
        return;
    }
    if n >= 4 * BLOCK {
        // Radix 4, mirrored: the quarters first, then both top layers in one sweep.
        let (q0, q1, q2, q3, wa_lo, wa_hi, wb) = quarters(a, tw, inverse);
        rayon::join(
            || rayon::join(|| dit(q0, tw, inverse), || dit(q1, tw, inverse)),
            || rayon::join(|| dit(q2, tw, inverse), || dit(q3, tw, inverse)),
        );
        q0.par_chunks_mut(PAR_CHUNK)
            .zip(q1.par_chunks_mut(PAR_CHUNK))
            .zip(q2.par_chunks_mut(PAR_CHUNK))
            .zip(q3.par_chunks_mut(PAR_CHUNK))
            .zip(wa_lo.par_chunks(PAR_CHUNK))
            .zip(wa_hi.par_chunks(PAR_CHUNK))
            .zip(wb.par_chunks(PAR_CHUNK))
            .for_each(|((((((a0, a1), a2), a3), wl), wh), wq)| {
                F::dit_butterflies(a0, a1, wq);
                F::dit_butterflies(a2, a3, wq);
                F::dit_butterflies(a0, a2, wl);
                F::dit_butterflies(a1, a3, wh);
            });
        return;
    }
    let h = n / 2;
    let (lo, hi) = a.split_at_mut(h);
    rayon::join(|| dit(lo, tw, inverse), || dit(hi, tw, inverse));
    let w = tw.layer(h, inverse);
    lo.par_chunks_mut(PAR_CHUNK)
        .zip(hi.par_chunks_mut(PAR_CHUNK))
        .zip(w.par_chunks(PAR_CHUNK))
        .for_each(|((l, h), w)| F::dit_butterflies(l, h, w));
}

type Quarters<'a, F> = (
    &'a mut [F],
    &'a mut [F],
    &'a mut [F],
    &'a mut [F],
    &'a [F],
    &'a [F],
    &'a [F],
);

/// The four quarters of `a`, and the twiddles of the top layer (for the pairs q0/q2 and q1/q3)
/// and of the next (for q0/q1 and q2/q3).
fn quarters<'a, F: NttField>(
    a: &'a mut [F],
    tw: &'a Twiddles<F>,
    inverse: bool,
) -> Quarters<'a, F> {
    let q = a.len() / 4;
    let (wa_lo, wa_hi) = tw.layer(2 * q, inverse).split_at(q);
    let (h0, h1) = a.split_at_mut(2 * q);
    let (q0, q1) = h0.split_at_mut(q);
    let (q2, q3) = h1.split_at_mut(q);
    (q0, q1, q2, q3, wa_lo, wa_hi, tw.layer(q, inverse))
}

struct SendPtr<T>(*mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// In-place bit-reversal permutation of a power-of-two-length slice.
///
/// Tiled: with i = (x, m, y) split into b high bits, the middle bits and b low bits, rev(i) =
/// (rev y, rev m, rev x), so the 2^b × 2^b tile of middle index m swaps, transposed, with the
/// tile of rev(m). Each tile is 2^b runs of 2^b contiguous elements (a few cache lines, b chosen
/// for that), moved through a small buffer because the runs of a tile are a power-of-two stride
/// apart (one cache set), and the tiles of different m are disjoint, so threads never write one
/// line: the
/// element-by-element swap this replaced spread every thread's writes over the whole slice and
/// cost more than the transform it followed (BabyBear 2^16: 0.33 ms against 0.11).
pub fn bit_reverse<F: Copy + Send + Sync>(a: &mut [F]) {
    let n = a.len();
    if n <= 2 {
        return;
    }
    let k = n.trailing_zeros();
    // Runs of at least 128 bytes.
    let size = std::mem::size_of::<F>().max(1);
    let b = (128usize.div_ceil(size).next_power_of_two().trailing_zeros()).max(1);
    let ptr = SendPtr(a.as_mut_ptr());
    if k < 2 * b {
        for i in 0..n {
            let j = i.reverse_bits() >> (usize::BITS - k);
            if i < j {
                a.swap(i, j);
            }
        }
        return;
    }
    let mid = k - 2 * b;
    let tiles = 1usize << mid;
    let side = 1usize << b;
    let rev = |v: usize, bits: u32| {
        if bits == 0 {
            0
        } else {
            v.reverse_bits() >> (usize::BITS - bits)
        }
    };
    // At least 2^14 elements a task, so small slices stay on one thread.
    let per_task = ((1usize << 14) >> (2 * b)).max(1);
    let area = side * side;
    (0..tiles)
        .into_par_iter()
        .with_min_len(per_task)
        .for_each_init(
            || Vec::with_capacity(2 * area),
            |buf: &mut Vec<F>, m| {
                let mr = rev(m, mid);
                if m > mr {
                    return;
                }
                let p = &ptr;
                let row = |x: usize, t: usize| (x << (k - b)) | (t << b);
                // Both tiles into the buffer run by run (the runs are 2^(k−b) apart, a stride
                // that maps them all to one cache set, so each is read once, in order), then
                // written back run by run from the buffer read transposed.
                buf.clear();
                for t in [m, mr] {
                    for x in 0..side {
                        // SAFETY: the run lies inside the slice (row(x, t) + side ≤ n) and only
                        // this task touches tiles m and rev(m) (the smaller index takes both).
                        let run = unsafe { std::slice::from_raw_parts(p.0.add(row(x, t)), side) };
                        buf.extend_from_slice(run);
                    }
                }
                let (tile_m, tile_r) = buf.split_at(area);
                for (t, from) in [(m, tile_r), (mr, tile_m)] {
                    for x in 0..side {
                        // SAFETY: as above; the run is written only by this task.
                        let run =
                            unsafe { std::slice::from_raw_parts_mut(p.0.add(row(x, t)), side) };
                        // Element (x, t, y) takes (rev y, t', rev x) of the partner tile t'.
                        let rx = rev(x, b);
                        for (y, out) in run.iter_mut().enumerate() {
                            *out = from[rev(y, b) * side + rx];
                        }
                    }
                }
            },
        );
}

/// a[i] ← a[i]·c, in parallel chunks.
pub fn scale<F: NttField>(a: &mut [F], c: F) {
    a.par_chunks_mut(1 << 12).for_each(|x| F::scale(x, c));
}

/// a[p] ← a[p]·c·g^{idx(p)}, idx(p) = p in natural order or its bit reversal.
pub fn mul_powers<F: NttField>(a: &mut [F], g: F, c: F, bit_reversed: bool) {
    const CHUNK: usize = 1 << 12;
    if !bit_reversed {
        a.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(k, out)| F::mul_by_powers(out, c * g.pow((k * CHUNK) as u64), g));
        return;
    }
    let n = a.len();
    let mut pw = vec![F::zero(); n];
    pw.par_chunks_mut(CHUNK).enumerate().for_each(|(k, out)| {
        let mut w = c * g.pow((k * CHUNK) as u64);
        for x in out {
            *x = w;
            w = w * g;
        }
    });
    bit_reverse(&mut pw);
    a.par_iter_mut()
        .zip(pw.par_iter())
        .for_each(|(x, w)| *x = *x * *w);
}
