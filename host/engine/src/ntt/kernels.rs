//! Radix-2 transforms, cache-aware: the layers of a transform larger than `BLOCK` run as
//! parallel passes over the whole array, and once a sub-transform fits in cache it finishes
//! there on one thread, while sibling sub-transforms run on the others.

use super::field::NttField;
use super::twiddles::Twiddles;
use rayon::prelude::*;

/// Sub-transforms at most this long run serially (32 KiB to 256 KiB: L2-resident).
const BLOCK: usize = 1 << 13;
/// Butterflies per parallel work item in a whole-array pass.
const PAR_CHUNK: usize = 1 << 11;

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
    let h = n / 2;
    let (lo, hi) = a.split_at_mut(h);
    rayon::join(|| dit(lo, tw, inverse), || dit(hi, tw, inverse));
    let w = tw.layer(h, inverse);
    lo.par_chunks_mut(PAR_CHUNK)
        .zip(hi.par_chunks_mut(PAR_CHUNK))
        .zip(w.par_chunks(PAR_CHUNK))
        .for_each(|((l, h), w)| F::dit_butterflies(l, h, w));
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
pub fn bit_reverse<F: Send + Sync>(a: &mut [F]) {
    let n = a.len();
    if n <= 2 {
        return;
    }
    let shift = usize::BITS - n.trailing_zeros();
    let ptr = SendPtr(a.as_mut_ptr());
    (0..n).into_par_iter().with_min_len(1 << 12).for_each(|i| {
        let j = i.reverse_bits() >> shift;
        if i < j {
            let p = &ptr;
            // SAFETY: i, j < n, and the pair {i, j} is swapped only by the task holding the
            // smaller index, so no element is touched by two tasks.
            unsafe { std::ptr::swap(p.0.add(i), p.0.add(j)) };
        }
    });
}

/// a[p] ← a[p]·c·g^{idx(p)}, idx(p) = p in natural order or its bit reversal.
pub fn mul_powers<F: NttField>(a: &mut [F], g: F, c: F, bit_reversed: bool) {
    const CHUNK: usize = 1 << 12;
    if !bit_reversed {
        a.par_chunks_mut(CHUNK).enumerate().for_each(|(k, out)| {
            let mut w = c * g.pow((k * CHUNK) as u64);
            for x in out {
                *x = *x * w;
                w = w * g;
            }
        });
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
