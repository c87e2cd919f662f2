//! The four-step split for transforms past the cache (Bailey): a size n = n1·n2 transform
//! becomes n1 transforms of size n2, a twiddle multiplication, and n2 transforms of size n1,
//! with cache-blocked transposes between. Each small transform runs in cache, and the twiddle
//! tables needed are those of sizes n1 and n2 (≈ √n), never of n itself.
//!
//! With j = j1 + n1·j2 and k = k2 + n2·k1:
//! y_k = Σ_{j1} ω_{n1}^{j1·k1} · ω_n^{j1·k2} · Σ_{j2} ω_{n2}^{j2·k2} · a_j.

use super::field::NttField;
use super::kernels;
use super::twiddles::twiddles;
use crate::cancel::{Cancel, Cancelled};
use rayon::prelude::*;

/// From this size up, transforms take the four-step path (measured: see docs/PERFORMANCE.md).
pub const MIN_LOG: u32 = 25;

/// Natural order in and out; `inverse` uses the inverse roots and leaves the 1/n to the caller.
/// Gives up between passes once `cancel` is raised.
pub fn natural<F: NttField>(a: &mut [F], inverse: bool, cancel: &Cancel) -> Result<(), Cancelled> {
    let n = a.len();
    let k = n.trailing_zeros();
    let k1 = k / 2;
    let (n1, n2) = (1usize << k1, n >> k1);
    let (tw1, tw2) = (twiddles::<F>(k1), twiddles::<F>(k - k1));
    let mut w = F::root_of_unity(k);
    if inverse {
        w = w.inv();
    }
    let mut b = vec![F::zero(); n];

    // a: n2 rows × n1 columns (row j2, column j1) → b: row j1 holds a_{j1 + n1·j2} over j2.
    transpose(a, &mut b, n2, n1);
    b.par_chunks_mut(n2).enumerate().for_each(|(j1, row)| {
        row_transform(row, &tw2, inverse);
        F::mul_by_powers(row, F::one(), w.pow(j1 as u64));
    });
    cancel.check()?;
    // → row k2 over j1, transformed to row k2 over k1, holding y_{k2 + n2·k1}.
    transpose(&b, a, n1, n2);
    a.par_chunks_mut(n1)
        .for_each(|row| row_transform(row, &tw1, inverse));
    cancel.check()?;
    // → row k1 over k2: position k1·n2 + k2, natural order.
    transpose(a, &mut b, n2, n1);
    a.copy_from_slice(&b);
    Ok(())
}

/// A cache-resident transform, natural order in and out.
fn row_transform<F: NttField>(row: &mut [F], tw: &super::twiddles::Twiddles<F>, inverse: bool) {
    F::dif(row, tw, inverse);
    kernels::bit_reverse(row);
}

/// dst (cols × rows) = srcᵀ for src (rows × cols), in tiles that stay in L1.
fn transpose<F: Copy + Send + Sync>(src: &[F], dst: &mut [F], rows: usize, cols: usize) {
    const T: usize = 16;
    dst.par_chunks_mut(T * rows)
        .enumerate()
        .for_each(|(cb, out)| {
            let c0 = cb * T;
            let cn = T.min(cols - c0);
            for r0 in (0..rows).step_by(T) {
                let rn = T.min(rows - r0);
                for c in 0..cn {
                    let o = &mut out[c * rows + r0..c * rows + r0 + rn];
                    for (r, x) in o.iter_mut().enumerate() {
                        *x = src[(r0 + r) * cols + c0 + c];
                    }
                }
            }
        });
}
