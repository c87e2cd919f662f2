//! The tables NTT plans read (twiddles; coset powers, with 1/n for the inverse), kept resident
//! on the device: a prover runs the same sizes over and over, and uploading a table the size
//! of the data with every transform would cost as much transfer as the data itself. A table is
//! named by what it holds, so a plan finds the executor's copy by name; coset generators come
//! from clients, and the executor's least-recently-used limit bounds what they can make it keep.

use crate::field::DeviceField;
use crate::plan::Resident;
use std::fmt::Write as _;
use std::sync::Arc;

fn words<F: DeviceField>(x: F) -> Vec<u32> {
    let mut w = Vec::with_capacity(F::WORDS);
    x.push_words(&mut w);
    w
}

pub(crate) fn rev(i: usize, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        i.reverse_bits() >> (usize::BITS - bits)
    }
}

/// The words of scale·base^idx(pos), pos < count.
pub fn powers<F: DeviceField>(base: F, scale: F, count: usize, rev_bits: Option<u32>) -> Vec<u32> {
    let mut p = Vec::with_capacity(count);
    let mut acc = scale;
    for _ in 0..count {
        p.push(acc);
        acc = acc * base;
    }
    let mut out = Vec::with_capacity(count * F::WORDS);
    for pos in 0..count {
        let idx = rev_bits.map_or(pos, |b| rev(pos, b));
        p[idx].push_words(&mut out);
    }
    out
}

/// Buffer `buffer` of a plan as the resident table [`powers`] describes.
pub fn resident<F: DeviceField>(
    buffer: usize,
    base: F,
    scale: F,
    count: usize,
    rev_bits: Option<u32>,
) -> Resident {
    // Base-set handles are hex digests, so no table's name can be one.
    let mut name = format!("ntt-table/{}/{count}/{rev_bits:?}/", F::SUFFIX);
    for w in words(base).iter().chain(&words(scale)) {
        let _ = write!(name, "{w:08x}");
    }
    Resident {
        buffer,
        key: (name.into(), 0..count * F::WORDS),
        fill: Arc::new(move || powers(base, scale, count, rev_bits)),
    }
}
