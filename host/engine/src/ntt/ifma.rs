//! BN254 and BLS12-381 scalar-field transforms eight butterflies at a time on AVX-512 IFMA,
//! sharing the MSM's radix-2^52 Montgomery lanes ([`crate::msm::ifma`]).
//!
//! Elements stay in arkworks' Montgomery form (a·R, R = 2^256) in memory. Loaded, the same
//! integer is re-cut into five 52-bit limbs, eight elements limb-major. The lanes' product
//! divides by R' = 2^260, so twiddles are kept as w·R' in a table of their own (converted once):
//! a·R times w·R' over R' is a·w·R, arkworks' form again, so data needs no conversion multiply
//! either way. Values stay below 2p while in registers or in a block's scratch and are made
//! canonical only on the way back to memory, where arkworks expects them below p.
//!
//! The shape follows [`super::kernels`]: whole-array sweeps two layers at a time past the
//! cache block, then each block in cache on one thread, held limb-major in a scratch buffer
//! from its first layer to its last, the three layers closer than a vector done in registers
//! by interleaving pairs of vectors.

// Limb and lane loops index several arrays in step; iterator chains would hide the arithmetic.
#![allow(clippy::needless_range_loop)]

use super::kernels::{BLOCK, PAR_CHUNK};
use super::twiddles::{self, Twiddles};
use crate::msm::ifma::{available, pack, Convert, Lanes, Vec8};
use ark_ff::{Fp, FpConfig};
use rayon::prelude::*;
use std::arch::x86_64::*;
use std::cell::RefCell;
use std::sync::Arc;

/// Limbs of 52 bits for a 254- or 255-bit field: R' = 2^260 > 4p.
const L: usize = 5;
/// Words of an arkworks element.
const W: usize = 4;
type V = Vec8<L>;

/// A field's lanes and the conversion of its twiddles.
pub struct Ifma<P: FpConfig<W>> {
    lanes: Lanes<L>,
    conv: Convert<P, W, L>,
}

impl<P: FpConfig<W>> Ifma<P> {
    /// `None` without AVX-512 IFMA, or if arkworks' element were not its four words in order
    /// (the loads read the slice as words).
    pub fn new() -> Option<Self> {
        if !available() || std::mem::size_of::<Fp<P, W>>() != 8 * W {
            return None;
        }
        let probe = Fp::<P, W>::from(0x0123_4567_89ab_cdefu64);
        // SAFETY: the sizes were checked equal just above; both types are plain words.
        let raw: [u64; W] = unsafe { std::mem::transmute_copy(&probe) };
        if raw != probe.0 .0 {
            return None;
        }
        let conv = Convert::<P, W, L>::new();
        // SAFETY: `available()` checked AVX-512F.
        let lanes = unsafe { Lanes::new(conv.params()) };
        Some(Self { lanes, conv })
    }
}

/// The fields with an IFMA path: each keeps its context in a static of its own.
pub trait IfmaField<P: FpConfig<W>>: Sized {
    fn ifma() -> Option<&'static Ifma<P>>;
}

/// Twiddles as w·R', limb-major: layers with h ≥ 8 as h/8 vectors at offset h/8 − 1, the
/// layers h = 4 and 2 as one vector each in the lane order of [`small_layer`].
struct LaneTwiddles {
    log_max: u32,
    fwd: Vec<V>,
    inv: Vec<V>,
    small_fwd: [V; 2],
    small_inv: [V; 2],
}

// SAFETY: register-sized plain values, read-only once built.
unsafe impl Send for LaneTwiddles {}
unsafe impl Sync for LaneTwiddles {}

impl LaneTwiddles {
    fn build<P: FpConfig<W>>(ctx: &Ifma<P>, tw: &Twiddles<Fp<P, W>>) -> Self
    where
        Fp<P, W>: super::NttField,
    {
        let log_max = tw.log_max();
        let table = |inverse: bool| -> (Vec<V>, [V; 2]) {
            let mut layers = Vec::new();
            let mut h = 8;
            while h < 1usize << log_max {
                let w = tw.layer(h, inverse);
                layers.par_extend(w.par_chunks_exact(8).map(|g| {
                    let limbs: [[u64; L]; 8] = std::array::from_fn(|l| ctx.conv.from_ark(&g[l]));
                    pack(&limbs)
                }));
                h *= 2;
            }
            // Tables start at 2^12 (twiddles::MIN_LOG), so both small layers are there.
            let small = [4usize, 2].map(|h| {
                let w = tw.layer(h, inverse);
                let limbs: [[u64; L]; 8] = std::array::from_fn(|l| ctx.conv.from_ark(&w[l % h]));
                pack(&limbs)
            });
            (layers, small)
        };
        let (fwd, small_fwd) = table(false);
        let (inv, small_inv) = table(true);
        Self {
            log_max,
            fwd,
            inv,
            small_fwd,
            small_inv,
        }
    }

    #[inline]
    fn layer(&self, h: usize, inverse: bool) -> &[V] {
        let t = if inverse { &self.inv } else { &self.fwd };
        &t[h / 8 - 1..h / 4 - 1]
    }

    #[inline]
    fn small(&self, h: usize, inverse: bool) -> &V {
        let s = if inverse {
            &self.small_inv
        } else {
            &self.small_fwd
        };
        &s[if h == 4 { 0 } else { 1 }]
    }
}

/// Natural order in, bit-reversed out, as [`super::kernels::dif`]; false (nothing done) where
/// this CPU or size has no IFMA path.
pub fn dif<P: FpConfig<W>>(a: &mut [Fp<P, W>], tw: &Twiddles<Fp<P, W>>, inverse: bool) -> bool
where
    Fp<P, W>: super::NttField + IfmaField<P>,
{
    let Some((ctx, ltw)) = prepare(a.len(), tw) else {
        return false;
    };
    network(ctx, words(a), &ltw, inverse, false);
    true
}

/// Bit-reversed order in, natural out, as [`super::kernels::dit`]; false where unavailable.
pub fn dit<P: FpConfig<W>>(a: &mut [Fp<P, W>], tw: &Twiddles<Fp<P, W>>, inverse: bool) -> bool
where
    Fp<P, W>: super::NttField + IfmaField<P>,
{
    let Some((ctx, ltw)) = prepare(a.len(), tw) else {
        return false;
    };
    network(ctx, words(a), &ltw, inverse, true);
    true
}

fn prepare<P: FpConfig<W>>(
    n: usize,
    tw: &Twiddles<Fp<P, W>>,
) -> Option<(&'static Ifma<P>, Arc<LaneTwiddles>)>
where
    Fp<P, W>: super::NttField + IfmaField<P>,
{
    // Fewer than two vectors: the portable path.
    if n < 16 {
        return None;
    }
    let ctx = <Fp<P, W> as IfmaField<P>>::ifma()?;
    let log_max = tw.log_max();
    let ltw = twiddles::shared::<(P, LaneTwiddles), LaneTwiddles>(
        |t| t.log_max,
        log_max,
        || LaneTwiddles::build(ctx, tw),
    );
    Some((ctx, ltw))
}

/// The column as words, four to an element.
fn words<P: FpConfig<W>>(a: &mut [Fp<P, W>]) -> &mut [u64] {
    // SAFETY: `Ifma::new` (the only way to reach here) checked that an element is exactly its
    // four words in order; the length is scaled to match and the borrow carried over.
    unsafe { std::slice::from_raw_parts_mut(a.as_mut_ptr().cast::<u64>(), a.len() * W) }
}

/// The network over `a`: DIF runs each sweep before the sub-transforms it feeds, DIT (its
/// mirror) after them.
fn network<P: FpConfig<W>>(
    ctx: &Ifma<P>,
    a: &mut [u64],
    tw: &LaneTwiddles,
    inverse: bool,
    dit: bool,
) {
    let n = a.len() / W;
    if n <= BLOCK {
        // SAFETY: a context exists only where IFMA is available.
        unsafe {
            if dit {
                dit_block(&ctx.lanes, a, tw, inverse)
            } else {
                dif_block(&ctx.lanes, a, tw, inverse)
            }
        };
        return;
    }
    let lanes = &ctx.lanes;
    let recurse = |part: &mut [u64]| network(ctx, part, tw, inverse, dit);
    if n >= 4 * BLOCK {
        let q = n / 4;
        let (wa, wb) = (tw.layer(2 * q, inverse), tw.layer(q, inverse));
        let (wl, wh) = wa.split_at(q / 8);
        let (h0, h1) = a.split_at_mut(2 * q * W);
        let (q0, q1) = h0.split_at_mut(q * W);
        let (q2, q3) = h1.split_at_mut(q * W);
        let sweep = |q0: &mut [u64], q1: &mut [u64], q2: &mut [u64], q3: &mut [u64]| {
            q0.par_chunks_mut(PAR_CHUNK * W)
                .zip(q1.par_chunks_mut(PAR_CHUNK * W))
                .zip(q2.par_chunks_mut(PAR_CHUNK * W))
                .zip(q3.par_chunks_mut(PAR_CHUNK * W))
                .zip(wl.par_chunks(PAR_CHUNK / 8))
                .zip(wh.par_chunks(PAR_CHUNK / 8))
                .zip(wb.par_chunks(PAR_CHUNK / 8))
                .for_each(|((((((a0, a1), a2), a3), wl), wh), wq)| {
                    // SAFETY: IFMA is available (a context exists); the runs are equally long.
                    unsafe { quad(lanes, [a0, a1, a2, a3], wl, wh, wq, dit) }
                });
        };
        if !dit {
            sweep(q0, q1, q2, q3);
        }
        rayon::join(
            || rayon::join(|| recurse(q0), || recurse(q1)),
            || rayon::join(|| recurse(q2), || recurse(q3)),
        );
        if dit {
            sweep(q0, q1, q2, q3);
        }
        return;
    }
    let h = n / 2;
    let (lo, hi) = a.split_at_mut(h * W);
    if !dit {
        pair_sweep(lanes, lo, hi, tw.layer(h, inverse), false);
    }
    rayon::join(|| recurse(lo), || recurse(hi));
    if dit {
        pair_sweep(lanes, lo, hi, tw.layer(h, inverse), true);
    }
}

/// One layer between two halves, in parallel chunks.
fn pair_sweep(lanes: &Lanes<L>, lo: &mut [u64], hi: &mut [u64], w: &[V], dit: bool) {
    lo.par_chunks_mut(PAR_CHUNK * W)
        .zip(hi.par_chunks_mut(PAR_CHUNK * W))
        .zip(w.par_chunks(PAR_CHUNK / 8))
        // SAFETY: IFMA is available (the caller holds a context); the runs are equally long.
        .for_each(|((l, h), w)| unsafe { pair(lanes, l, h, w, dit) });
}

thread_local! {
    /// A block's elements limb-major while its layers run: one allocation per thread, reused.
    static SCRATCH: RefCell<Vec<V>> = const { RefCell::new(Vec::new()) };
}

/// A whole in-cache transform, natural in, bit-reversed out.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn dif_block(lanes: &Lanes<L>, a: &mut [u64], tw: &LaneTwiddles, inverse: bool) {
    let n = a.len() / W;
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        for g in a.chunks_exact(8 * W) {
            buf.push(load(g));
        }
        let mut h = n / 2;
        while h >= 8 {
            let hv = h / 8;
            let w = tw.layer(h, inverse);
            for block in buf.chunks_exact_mut(2 * hv) {
                let (lo, hi) = block.split_at_mut(hv);
                for j in 0..hv {
                    (lo[j], hi[j]) = dif_bf(lanes, &lo[j], &hi[j], Some(&w[j]));
                }
            }
            h /= 2;
        }
        for (pair, out) in buf.chunks_exact(2).zip(a.chunks_exact_mut(16 * W)) {
            let (mut x, mut y) = (pair[0], pair[1]);
            for (k, h) in [(0, 4), (1, 2), (2, 1)] {
                let w = if h > 1 {
                    Some(tw.small(h, inverse))
                } else {
                    None
                };
                (x, y) = small_layer(lanes, &x, &y, k, w, false);
            }
            let (o0, o1) = out.split_at_mut(8 * W);
            store(o0, &lanes.canonical(&x));
            store(o1, &lanes.canonical(&y));
        }
    });
}

/// A whole in-cache transform, bit-reversed in, natural out.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn dit_block(lanes: &Lanes<L>, a: &mut [u64], tw: &LaneTwiddles, inverse: bool) {
    let n = a.len() / W;
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        for g in a.chunks_exact(16 * W) {
            let (mut x, mut y) = (load(&g[..8 * W]), load(&g[8 * W..]));
            for (k, h) in [(2, 1), (1, 2), (0, 4)] {
                let w = if h > 1 {
                    Some(tw.small(h, inverse))
                } else {
                    None
                };
                (x, y) = small_layer(lanes, &x, &y, k, w, true);
            }
            buf.push(x);
            buf.push(y);
        }
        let mut h = 8;
        while h < n {
            let hv = h / 8;
            let w = tw.layer(h, inverse);
            for block in buf.chunks_exact_mut(2 * hv) {
                let (lo, hi) = block.split_at_mut(hv);
                for j in 0..hv {
                    (lo[j], hi[j]) = dit_bf(lanes, &lo[j], &hi[j], Some(&w[j]));
                }
            }
            h *= 2;
        }
        for (v, out) in buf.iter().zip(a.chunks_exact_mut(8 * W)) {
            store(out, &lanes.canonical(v));
        }
    });
}

/// Two layers over four quarters' runs, each group of eight loaded and stored once: DIF's
/// (q0,q2)(q1,q3) then (q0,q1)(q2,q3), or DIT's mirror.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn quad(lanes: &Lanes<L>, q: [&mut [u64]; 4], wl: &[V], wh: &[V], wq: &[V], dit: bool) {
    let [q0, q1, q2, q3] = q;
    let groups = q0
        .chunks_exact_mut(8 * W)
        .zip(q1.chunks_exact_mut(8 * W))
        .zip(q2.chunks_exact_mut(8 * W))
        .zip(q3.chunks_exact_mut(8 * W));
    for (g, (((a0, a1), a2), a3)) in groups.enumerate() {
        let (mut x0, mut x1, mut x2, mut x3) = (load(a0), load(a1), load(a2), load(a3));
        if dit {
            (x0, x1) = dit_bf(lanes, &x0, &x1, Some(&wq[g]));
            (x2, x3) = dit_bf(lanes, &x2, &x3, Some(&wq[g]));
            (x0, x2) = dit_bf(lanes, &x0, &x2, Some(&wl[g]));
            (x1, x3) = dit_bf(lanes, &x1, &x3, Some(&wh[g]));
        } else {
            (x0, x2) = dif_bf(lanes, &x0, &x2, Some(&wl[g]));
            (x1, x3) = dif_bf(lanes, &x1, &x3, Some(&wh[g]));
            (x0, x1) = dif_bf(lanes, &x0, &x1, Some(&wq[g]));
            (x2, x3) = dif_bf(lanes, &x2, &x3, Some(&wq[g]));
        }
        store(a0, &lanes.canonical(&x0));
        store(a1, &lanes.canonical(&x1));
        store(a2, &lanes.canonical(&x2));
        store(a3, &lanes.canonical(&x3));
    }
}

/// One layer between two runs.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn pair(lanes: &Lanes<L>, lo: &mut [u64], hi: &mut [u64], w: &[V], dit: bool) {
    let groups = lo.chunks_exact_mut(8 * W).zip(hi.chunks_exact_mut(8 * W));
    for (g, (a, b)) in groups.enumerate() {
        let (x, y) = (load(a), load(b));
        let (x, y) = if dit {
            dit_bf(lanes, &x, &y, Some(&w[g]))
        } else {
            dif_bf(lanes, &x, &y, Some(&w[g]))
        };
        store(a, &lanes.canonical(&x));
        store(b, &lanes.canonical(&y));
    }
}

/// (x + y, (x − y)·w); no twiddle means w = 1.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn dif_bf(lanes: &Lanes<L>, x: &V, y: &V, w: Option<&V>) -> (V, V) {
    let d = lanes.sub(x, y);
    (lanes.add(x, y), w.map_or(d, |w| lanes.mul(&d, w)))
}

/// (x + y·w, x − y·w); no twiddle means w = 1.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn dit_bf(lanes: &Lanes<L>, x: &V, y: &V, w: Option<&V>) -> (V, V) {
    let t = w.map_or(*y, |w| lanes.mul(y, w));
    (lanes.add(x, &t), lanes.sub(x, &t))
}

/// Lane indices for the layer of half-size h = 4 >> k inside a pair of vectors (x, y): `split`
/// gathers every butterfly's low partner into one vector and its high partner into the other
/// (lane l's twiddle is then w[l mod h]), `join` puts the results back.
const fn small_indices(k: usize) -> SmallIndices {
    let h = 4 >> k;
    let (mut lo, mut hi, mut back0, mut back1) = ([0i64; 8], [0i64; 8], [0i64; 8], [0i64; 8]);
    let mut l = 0;
    while l < 8 {
        let (v, j) = (l / 4, l % 4);
        let e = (j / h) * 2 * h + j % h;
        lo[l] = (e + 8 * v) as i64;
        hi[l] = (e + h + 8 * v) as i64;
        l += 1;
    }
    let mut e = 0;
    while e < 8 {
        let (low, base) = if e % (2 * h) < h {
            (true, e)
        } else {
            (false, e - h)
        };
        let j = (base / (2 * h)) * h + base % h;
        let from = if low { 0 } else { 8 };
        back0[e] = (j + from) as i64;
        back1[e] = (j + 4 + from) as i64;
        e += 1;
    }
    (lo, hi, back0, back1)
}

/// Split-low, split-high, join-first, join-second lane indices.
type SmallIndices = ([i64; 8], [i64; 8], [i64; 8], [i64; 8]);

const SMALL: [SmallIndices; 3] = [small_indices(0), small_indices(1), small_indices(2)];

/// The layer h = 4 >> k on the sixteen elements of (x, y), twiddles `w` in [`small_indices`]'
/// lane order.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn small_layer(lanes: &Lanes<L>, x: &V, y: &V, k: usize, w: Option<&V>, dit: bool) -> (V, V) {
    let (lo, hi, back0, back1) = &SMALL[k];
    let (lo, hi, back0, back1) = (idx(lo), idx(hi), idx(back0), idx(back1));
    let (mut a, mut b) = (*x, *y);
    for j in 0..L {
        a[j] = _mm512_permutex2var_epi64(x[j], lo, y[j]);
        b[j] = _mm512_permutex2var_epi64(x[j], hi, y[j]);
    }
    let (s, d) = if dit {
        dit_bf(lanes, &a, &b, w)
    } else {
        dif_bf(lanes, &a, &b, w)
    };
    for j in 0..L {
        a[j] = _mm512_permutex2var_epi64(s[j], back0, d[j]);
        b[j] = _mm512_permutex2var_epi64(s[j], back1, d[j]);
    }
    (a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn idx(i: &[i64; 8]) -> __m512i {
    // SAFETY: reads exactly the 64 bytes of the array.
    unsafe { _mm512_loadu_si512(i.as_ptr().cast()) }
}

const MASK52: i64 = (1 << 52) - 1;

/// Eight consecutive elements (32 words) into limb-major lanes.
#[inline]
#[target_feature(enable = "avx512f")]
fn load(g: &[u64]) -> V {
    assert!(g.len() >= 8 * W);
    // SAFETY: four 64-byte reads inside the 256 bytes just checked.
    let z: [__m512i; 4] =
        std::array::from_fn(|i| unsafe { _mm512_loadu_si512(g.as_ptr().add(8 * i).cast()) });
    // Word k of elements 0–3 (then 4–7) into one register: two rounds of two-source permutes.
    let even = idx(&[0, 4, 8, 12, 1, 5, 9, 13]);
    let odd = idx(&[2, 6, 10, 14, 3, 7, 11, 15]);
    let t0 = _mm512_permutex2var_epi64(z[0], even, z[1]);
    let t1 = _mm512_permutex2var_epi64(z[0], odd, z[1]);
    let t2 = _mm512_permutex2var_epi64(z[2], even, z[3]);
    let t3 = _mm512_permutex2var_epi64(z[2], odd, z[3]);
    let low = idx(&[0, 1, 2, 3, 8, 9, 10, 11]);
    let high = idx(&[4, 5, 6, 7, 12, 13, 14, 15]);
    let w0 = _mm512_permutex2var_epi64(t0, low, t2);
    let w1 = _mm512_permutex2var_epi64(t0, high, t2);
    let w2 = _mm512_permutex2var_epi64(t1, low, t3);
    let w3 = _mm512_permutex2var_epi64(t1, high, t3);
    let m = _mm512_set1_epi64(MASK52);
    let l1 = _mm512_or_si512(_mm512_srli_epi64::<52>(w0), _mm512_slli_epi64::<12>(w1));
    let l2 = _mm512_or_si512(_mm512_srli_epi64::<40>(w1), _mm512_slli_epi64::<24>(w2));
    let l3 = _mm512_or_si512(_mm512_srli_epi64::<28>(w2), _mm512_slli_epi64::<36>(w3));
    [
        _mm512_and_si512(w0, m),
        _mm512_and_si512(l1, m),
        _mm512_and_si512(l2, m),
        _mm512_and_si512(l3, m),
        _mm512_srli_epi64::<16>(w3),
    ]
}

/// Canonical limb-major lanes back to eight consecutive elements.
#[inline]
#[target_feature(enable = "avx512f")]
fn store(g: &mut [u64], v: &V) {
    assert!(g.len() >= 8 * W);
    let w0 = _mm512_or_si512(v[0], _mm512_slli_epi64::<52>(v[1]));
    let w1 = _mm512_or_si512(_mm512_srli_epi64::<12>(v[1]), _mm512_slli_epi64::<40>(v[2]));
    let w2 = _mm512_or_si512(_mm512_srli_epi64::<24>(v[2]), _mm512_slli_epi64::<28>(v[3]));
    let w3 = _mm512_or_si512(_mm512_srli_epi64::<36>(v[3]), _mm512_slli_epi64::<16>(v[4]));
    let pairs = idx(&[0, 8, 1, 9, 2, 10, 3, 11]);
    let pairs_hi = idx(&[4, 12, 5, 13, 6, 14, 7, 15]);
    let u0 = _mm512_permutex2var_epi64(w0, pairs, w1);
    let u1 = _mm512_permutex2var_epi64(w2, pairs, w3);
    let u2 = _mm512_permutex2var_epi64(w0, pairs_hi, w1);
    let u3 = _mm512_permutex2var_epi64(w2, pairs_hi, w3);
    let first = idx(&[0, 1, 8, 9, 2, 3, 10, 11]);
    let second = idx(&[4, 5, 12, 13, 6, 7, 14, 15]);
    let z = [
        _mm512_permutex2var_epi64(u0, first, u1),
        _mm512_permutex2var_epi64(u0, second, u1),
        _mm512_permutex2var_epi64(u2, first, u3),
        _mm512_permutex2var_epi64(u2, second, u3),
    ];
    for (i, zi) in z.iter().enumerate() {
        // SAFETY: four 64-byte writes inside the 256 bytes checked above.
        unsafe { _mm512_storeu_si512(g.as_mut_ptr().add(8 * i).cast(), *zi) };
    }
}

/// data[i] ← data[i]·start·w^i; false (nothing done) without IFMA.
pub fn mul_by_powers<P: FpConfig<W>>(data: &mut [Fp<P, W>], start: Fp<P, W>, w: Fp<P, W>) -> bool
where
    Fp<P, W>: super::NttField + IfmaField<P>,
{
    use super::NttField;
    let Some(ctx) = <Fp<P, W> as IfmaField<P>>::ifma() else {
        return false;
    };
    let whole = data.len() / 8 * 8;
    let (body, tail) = data.split_at_mut(whole);
    // Lane l starts at start·w^l and steps by w^8, all as multipliers in R' form.
    let mut first = [[0u64; L]; 8];
    let mut p = start;
    for f in first.iter_mut() {
        *f = ctx.conv.from_ark(&p);
        p *= w;
    }
    let step = ctx.conv.from_ark(&w.pow(8));
    // SAFETY: a context exists only where IFMA is available.
    unsafe {
        powers(
            &ctx.lanes,
            words(body),
            &pack(&first),
            Some(&pack(&[step; 8])),
        )
    };
    let mut p = start * w.pow(whole as u64);
    for x in tail {
        *x *= p;
        p *= w;
    }
    true
}

/// data[i] ← data[i]·c; false (nothing done) without IFMA.
pub fn scale<P: FpConfig<W>>(data: &mut [Fp<P, W>], c: Fp<P, W>) -> bool
where
    Fp<P, W>: super::NttField + IfmaField<P>,
{
    let Some(ctx) = <Fp<P, W> as IfmaField<P>>::ifma() else {
        return false;
    };
    let whole = data.len() / 8 * 8;
    let (body, tail) = data.split_at_mut(whole);
    let c_lanes = pack(&[ctx.conv.from_ark(&c); 8]);
    // SAFETY: a context exists only where IFMA is available.
    unsafe { powers(&ctx.lanes, words(body), &c_lanes, None) };
    for x in tail {
        *x *= c;
    }
    true
}

/// Group g of eight is multiplied by cur·step^g (cur and step in R' form; no step: 1).
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn powers(lanes: &Lanes<L>, a: &mut [u64], cur: &V, step: Option<&V>) {
    let mut cur = *cur;
    for g in a.chunks_exact_mut(8 * W) {
        let x = lanes.mul(&load(g), &cur);
        store(g, &lanes.canonical(&x));
        if let Some(step) = step {
            cur = lanes.mul(&cur, step);
        }
    }
}
