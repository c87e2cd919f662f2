//! Eight-lane Montgomery arithmetic on AVX-512 IFMA, radix 2^52, for the batch-affine chord
//! additions that dominate an MSM: the additions of one round are independent, so eight run
//! side by side, one per 64-bit lane.
//!
//! An element is N limbs of 52 bits in Montgomery form with R = 2^(52·N): N = 5 for BN254's base
//! field, 8 for BLS12-381's. Since R > 4p, the product of two values below 2p reduces to below
//! 2p with no final subtraction; values stay in [0, 2p) between operations and are made
//! canonical only when stored, so that equal points have equal limbs.

// Limb loops index several arrays in step; iterator chains would hide the arithmetic.
#![allow(clippy::needless_range_loop)]

use ark_ff::{BigInt, Field, Fp, FpConfig, One, PrimeField};
use num_bigint::BigUint;
use std::arch::x86_64::*;

const MASK52: u64 = (1 << 52) - 1;

/// Whether this CPU runs the IFMA path.
pub fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
}

/// Constants of one prime field in radix 2^52.
#[derive(Debug)]
pub struct Params<const N: usize> {
    pub p: [u64; N],
    p2: [u64; N],
    /// −p⁻¹ mod 2^52.
    pinv: u64,
}

fn to_radix52<const N: usize>(v: &BigUint) -> [u64; N] {
    let mut out = [0u64; N];
    let mut x = v.clone();
    let mask = BigUint::from(MASK52);
    for limb in out.iter_mut() {
        *limb = (&x & &mask).iter_u64_digits().next().unwrap_or(0);
        x >>= 52;
    }
    assert!(
        x == BigUint::from(0u8),
        "value wider than {N} limbs of 52 bits"
    );
    out
}

impl<const N: usize> Params<N> {
    pub fn new<F: PrimeField>() -> Self {
        Self::from_modulus(&F::MODULUS.into())
    }

    /// The constants of the odd prime `p` (below 2^(52N − 2)).
    pub fn from_modulus(p: &BigUint) -> Self {
        let p = p.clone();
        assert!(p.bits() + 2 <= 52 * N as u64, "R = 2^(52N) must exceed 4p");
        let p52 = to_radix52::<N>(&p);
        // Newton's iteration doubles the correct low bits of p⁻¹ mod 2^64 each step.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(p52[0].wrapping_mul(inv)));
        }
        Self {
            p: p52,
            p2: to_radix52::<N>(&(&p * 2u8)),
            pinv: inv.wrapping_neg() & MASK52,
        }
    }
}

/// Conversions between arkworks' Montgomery form (R = 2^(64·M)) and ours (R = 2^(52·N)).
pub struct Convert<P: FpConfig<M>, const M: usize, const N: usize> {
    /// 2^(52N − 64M): multiplying an arkworks element by it makes its internal limbs ours.
    to_ours: Fp<P, M>,
    to_ark: Fp<P, M>,
    params: Params<N>,
}

impl<P: FpConfig<M>, const M: usize, const N: usize> Convert<P, M, N> {
    pub fn new() -> Self {
        let shift = (52 * N - 64 * M) as u64;
        let k = Fp::<P, M>::from(2u64).pow([shift]);
        Self {
            to_ours: k,
            to_ark: k.inverse().expect("a power of two is invertible"),
            params: Params::new::<Fp<P, M>>(),
        }
    }

    pub fn params(&self) -> &Params<N> {
        &self.params
    }

    /// Our canonical limbs for an arkworks element.
    pub fn from_ark(&self, f: &Fp<P, M>) -> [u64; N] {
        let v = *f * self.to_ours;
        let limbs = v.0 .0;
        let mut out = [0u64; N];
        let mut acc: u128 = 0;
        let mut bits = 0;
        let mut k = 0;
        for &l in limbs.iter() {
            acc |= (l as u128) << bits;
            bits += 64;
            while bits >= 52 && k < N {
                out[k] = (acc as u64) & MASK52;
                acc >>= 52;
                bits -= 52;
                k += 1;
            }
        }
        if k < N {
            out[k] = acc as u64 & MASK52;
        }
        out
    }

    /// The arkworks element for our limbs (any value below 2p).
    pub fn to_ark(&self, limbs: &[u64; N]) -> Fp<P, M> {
        let c = canonical_scalar(limbs, &self.params.p);
        let mut out = [0u64; M];
        let mut acc: u128 = 0;
        let mut bits = 0;
        let mut k = 0;
        for &l in c.iter() {
            acc |= (l as u128) << bits;
            bits += 52;
            if bits >= 64 && k < M {
                out[k] = acc as u64;
                acc >>= 64;
                bits -= 64;
                k += 1;
            }
        }
        if k < M {
            out[k] = acc as u64;
        }
        Fp::<P, M>(BigInt(out), std::marker::PhantomData) * self.to_ark
    }
}

impl<P: FpConfig<M>, const M: usize, const N: usize> Default for Convert<P, M, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// x mod p for x < 2p, on one element.
pub fn canonical_scalar<const N: usize>(x: &[u64; N], p: &[u64; N]) -> [u64; N] {
    let mut d = [0u64; N];
    let mut borrow = 0i64;
    for j in 0..N {
        let v = x[j] as i64 - p[j] as i64 + borrow;
        d[j] = (v as u64) & MASK52;
        borrow = v >> 52;
    }
    if borrow < 0 {
        *x
    } else {
        d
    }
}

/// −y mod p for canonical y, on one element.
pub fn neg_scalar<const N: usize>(y: &[u64; N], p: &[u64; N]) -> [u64; N] {
    if y.iter().all(|&l| l == 0) {
        return *y;
    }
    let mut d = [0u64; N];
    let mut borrow = 0i64;
    for j in 0..N {
        let v = p[j] as i64 - y[j] as i64 + borrow;
        d[j] = (v as u64) & MASK52;
        borrow = v >> 52;
    }
    d
}

/// Eight field elements, limb-major: `v[j]` holds limb j of each lane.
pub type Vec8<const N: usize> = [__m512i; N];

/// The field constants broadcast to all lanes.
#[derive(Clone, Copy)]
pub struct Lanes<const N: usize> {
    p: Vec8<N>,
    p2: Vec8<N>,
    pinv: __m512i,
    mask: __m512i,
}

impl<const N: usize> Lanes<N> {
    /// # Safety
    /// The CPU must support AVX-512F ([`available`]).
    #[target_feature(enable = "avx512f")]
    pub unsafe fn new(prm: &Params<N>) -> Self {
        Self {
            p: prm.p.map(|l| _mm512_set1_epi64(l as i64)),
            p2: prm.p2.map(|l| _mm512_set1_epi64(l as i64)),
            pinv: _mm512_set1_epi64(prm.pinv as i64),
            mask: _mm512_set1_epi64(MASK52 as i64),
        }
    }

    /// a·b·R⁻¹ for a, b < 2p; the result is below 2p.
    ///
    /// # Safety
    /// Callers need AVX-512F and IFMA ([`available`]).
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    // The unrolled last round's carry into lo[N] is a dead branch the lint counts as a write.
    #[allow(unused_assignments)]
    pub fn mul(&self, a: &Vec8<N>, b: &Vec8<N>) -> Vec8<N> {
        // Product and reduction share one accumulator of 2N limbs, t[k] in lo[k] or hi[k − N],
        // indexed rather than shifted down each round, and both loops unrolled: with constant
        // indices every limb stays in a register. (Shifting the array, or indexing it in a
        // loop the compiler kept, sent it through the stack every round.)
        const { assert!(N <= 8, "unrolled for at most 8 limbs") };
        let zero = _mm512_setzero_si512();
        let mut lo = [zero; N];
        let mut hi = [zero; N];
        macro_rules! unroll {
            ($i:ident => $body:block) => {
                unroll!(@ $i, $body, 0 1 2 3 4 5 6 7)
            };
            (@ $i:ident, $body:block, $($k:literal)*) => {
                $(if $k < N {
                    let $i: usize = $k;
                    $body
                })*
            };
        }
        macro_rules! acc {
            ($k:expr, $op:ident, $x:expr, $y:expr) => {{
                let k = $k;
                if k < N {
                    lo[k] = $op(lo[k], $x, $y);
                } else {
                    hi[k - N] = $op(hi[k - N], $x, $y);
                }
            }};
        }
        unroll!(i => {
            let bi = b[i];
            unroll!(j => {
                acc!(i + j, _mm512_madd52lo_epu64, a[j], bi);
                acc!(i + j + 1, _mm512_madd52hi_epu64, a[j], bi);
            });
            // m makes limb i divisible by 2^52: m = t_i·(−p⁻¹) mod 2^52.
            let m = _mm512_madd52lo_epu64(zero, lo[i], self.pinv);
            unroll!(j => {
                acc!(i + j, _mm512_madd52lo_epu64, self.p[j], m);
                acc!(i + j + 1, _mm512_madd52hi_epu64, self.p[j], m);
            });
            let carry = _mm512_srli_epi64::<52>(lo[i]);
            if i + 1 < N {
                lo[i + 1] = _mm512_add_epi64(lo[i + 1], carry);
            } else {
                hi[0] = _mm512_add_epi64(hi[0], carry);
            }
        });
        self.carry_unsigned(hi)
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn carry_unsigned(&self, mut t: Vec8<N>) -> Vec8<N> {
        for j in 0..N - 1 {
            let c = _mm512_srli_epi64::<52>(t[j]);
            t[j] = _mm512_and_si512(t[j], self.mask);
            t[j + 1] = _mm512_add_epi64(t[j + 1], c);
        }
        t
    }

    /// Limbwise signed carries; the top limb keeps the sign.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn carry_signed(&self, mut t: Vec8<N>) -> Vec8<N> {
        for j in 0..N - 1 {
            let c = _mm512_srai_epi64::<52>(t[j]);
            t[j] = _mm512_and_si512(t[j], self.mask);
            t[j + 1] = _mm512_add_epi64(t[j + 1], c);
        }
        t
    }

    /// t − m if that is non-negative, else t (t, m below 2^(52N), limbs normalised).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn sub_if_fits(&self, t: &Vec8<N>, m: &Vec8<N>) -> Vec8<N> {
        let mut d = [_mm512_setzero_si512(); N];
        for j in 0..N {
            d[j] = _mm512_sub_epi64(t[j], m[j]);
        }
        let d = self.carry_signed(d);
        let keep = _mm512_cmplt_epi64_mask(d[N - 1], _mm512_setzero_si512());
        let mut out = d;
        for j in 0..N {
            out[j] = _mm512_mask_blend_epi64(keep, d[j], t[j]);
        }
        out
    }

    /// a − b mod p for a, b < 2p; the result is below 2p.
    ///
    /// # Safety
    /// Callers need AVX-512F and IFMA ([`available`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn sub(&self, a: &Vec8<N>, b: &Vec8<N>) -> Vec8<N> {
        let mut d = [_mm512_setzero_si512(); N];
        for j in 0..N {
            d[j] = _mm512_sub_epi64(a[j], b[j]);
        }
        let d = self.carry_signed(d);
        let neg = _mm512_cmplt_epi64_mask(d[N - 1], _mm512_setzero_si512());
        let mut e = d;
        for j in 0..N {
            e[j] = _mm512_mask_add_epi64(d[j], neg, d[j], self.p2[j]);
        }
        self.carry_signed(e)
    }

    /// a + b mod p for a, b < 2p; the result is below 2p.
    ///
    /// # Safety
    /// Callers need AVX-512F and IFMA ([`available`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn add(&self, a: &Vec8<N>, b: &Vec8<N>) -> Vec8<N> {
        let mut s = [_mm512_setzero_si512(); N];
        for j in 0..N {
            s[j] = _mm512_add_epi64(a[j], b[j]);
        }
        let s = self.carry_unsigned(s);
        self.sub_if_fits(&s, &self.p2)
    }

    /// The canonical representative (below p) of a value below 2p.
    ///
    /// # Safety
    /// Callers need AVX-512F and IFMA ([`available`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn canonical(&self, a: &Vec8<N>) -> Vec8<N> {
        self.sub_if_fits(a, &self.p)
    }
}

/// Lane `l` of each limb.
pub fn extract<const N: usize>(v: &Vec8<N>, l: usize) -> [u64; N] {
    let mut out = [0u64; N];
    for (o, limb) in out.iter_mut().zip(v) {
        let mut lanes = [0u64; 8];
        // SAFETY: 64 bytes written into a 64-byte array; the register is already in hand.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), *limb) };
        *o = lanes[l];
    }
    out
}

/// Eight elements into limb-major lanes.
pub fn pack<const N: usize>(elems: &[[u64; N]; 8]) -> Vec8<N> {
    std::array::from_fn(|j| {
        let lanes: [u64; 8] = std::array::from_fn(|l| elems[l][j]);
        // SAFETY: reads exactly 64 bytes from a 64-byte array.
        unsafe { _mm512_loadu_si512(lanes.as_ptr().cast()) }
    })
}

/// The base field of a curve as D prime-field coordinates: Fq itself (D = 1), or Fq2 = Fq[u]/(u² + 1)
/// (D = 2, G2 of BN254 and BLS12-381, whose non-residue is −1).
pub trait Coords<P: FpConfig<M>, const M: usize, const D: usize>: Field {
    fn parts(&self) -> [Fp<P, M>; D];
    fn from_parts(parts: [Fp<P, M>; D]) -> Self;
    /// Whether the lanes' arithmetic for this field holds (Fq2's non-residue is −1).
    fn supported() -> bool {
        true
    }
}

impl<P: FpConfig<M>, const M: usize> Coords<P, M, 1> for Fp<P, M> {
    fn parts(&self) -> [Fp<P, M>; 1] {
        [*self]
    }
    fn from_parts(parts: [Fp<P, M>; 1]) -> Self {
        parts[0]
    }
}

impl<P: FpConfig<M>, Q: Fp2Config<Fp = Fp<P, M>>, const M: usize> Coords<P, M, 2> for Fp2<Q> {
    fn parts(&self) -> [Fp<P, M>; 2] {
        [self.c0, self.c1]
    }
    fn from_parts(parts: [Fp<P, M>; 2]) -> Self {
        Fp2::new(parts[0], parts[1])
    }
    fn supported() -> bool {
        Q::NONRESIDUE == -Fp::<P, M>::from(1u64)
    }
}

/// One coordinate in limbs: D prime-field elements.
type Limbs<const N: usize, const D: usize> = [[u64; N]; D];
/// Eight coordinates in lanes.
type Lanes8<const N: usize, const D: usize> = [Vec8<N>; D];

/// A point in our limbs; `x[0][0] == u64::MAX` (never a 52-bit limb) marks infinity.
/// `repr(C)` keeps x and y as 2·N·D consecutive words, which the gathers index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Pt<const N: usize, const D: usize> {
    x: Limbs<N, D>,
    y: Limbs<N, D>,
}

const INFINITY_MARK: u64 = u64::MAX;

/// Bucket points in radix 2^52 with chord additions eight at a time, over Fq (D = 1) or Fq2
/// (D = 2).
pub struct IfmaRepr<C, P: FpConfig<M>, const M: usize, const N: usize, const D: usize> {
    conv: Convert<P, M, N>,
    lanes: Lanes<N>,
    one: Limbs<N, D>,
    _curve: std::marker::PhantomData<fn() -> C>,
}

// SAFETY: the lanes are plain register constants, read-only after construction.
unsafe impl<C, P: FpConfig<M>, const M: usize, const N: usize, const D: usize> Sync
    for IfmaRepr<C, P, M, N, D>
{
}

pub struct IfmaWork<C: SWCurveConfig, const N: usize, const D: usize> {
    chords: Vec<(u32, u32)>,
    den: Vec<Lanes8<N, D>>,
    prefix: Vec<Lanes8<N, D>>,
    copies: Vec<(u32, Pt<N, D>)>,
    special_in: Vec<(Affine<C>, Affine<C>)>,
    special_dst: Vec<u32>,
}

impl<C: SWCurveConfig, const N: usize, const D: usize> Default for IfmaWork<C, N, D> {
    fn default() -> Self {
        Self {
            chords: Vec::new(),
            den: Vec::new(),
            prefix: Vec::new(),
            copies: Vec::new(),
            special_in: Vec::new(),
            special_dst: Vec::new(),
        }
    }
}

// SAFETY: vectors of plain register values and points; nothing shared.
unsafe impl<C: SWCurveConfig, const N: usize, const D: usize> Send for IfmaWork<C, N, D> {}

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::CurveGroup;
use ark_ff::{Fp2, Fp2Config};

impl<C, P, const M: usize, const N: usize, const D: usize> IfmaRepr<C, P, M, N, D>
where
    C: SWCurveConfig,
    C::BaseField: Coords<P, M, D>,
    P: FpConfig<M>,
{
    /// `None` when this CPU lacks AVX-512 IFMA (or the field is not one the lanes serve).
    pub fn new() -> Option<Self> {
        if !available() || !<C::BaseField as Coords<P, M, D>>::supported() || !(1..=2).contains(&D)
        {
            return None;
        }
        let conv = Convert::<P, M, N>::new();
        // SAFETY: `available()` checked AVX-512F.
        let lanes = unsafe { Lanes::new(conv.params()) };
        let one = std::array::from_fn(|d| {
            conv.from_ark(&Fp::<P, M>::from(if d == 0 { 1u64 } else { 0 }))
        });
        Some(Self {
            conv,
            lanes,
            one,
            _curve: std::marker::PhantomData,
        })
    }

    fn limbs(&self, v: &C::BaseField) -> Limbs<N, D> {
        v.parts().map(|f| self.conv.from_ark(&f))
    }

    fn element(&self, l: &Limbs<N, D>) -> C::BaseField {
        C::BaseField::from_parts(l.map(|f| self.conv.to_ark(&f)))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn sub(&self, a: &Lanes8<N, D>, b: &Lanes8<N, D>) -> Lanes8<N, D> {
        std::array::from_fn(|d| self.lanes.sub(&a[d], &b[d]))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn canonical(&self, a: &Lanes8<N, D>) -> Lanes8<N, D> {
        std::array::from_fn(|d| self.lanes.canonical(&a[d]))
    }

    /// The product in Fq, or in Fq2 with u² = −1 by Karatsuba's three products.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn mul(&self, a: &Lanes8<N, D>, b: &Lanes8<N, D>) -> Lanes8<N, D> {
        let l = &self.lanes;
        if D == 1 {
            return std::array::from_fn(|d| l.mul(&a[d], &b[d]));
        }
        let (a0, a1, b0, b1) = (&a[0], &a[1], &b[0], &b[1]);
        let v0 = l.mul(a0, b0);
        let v1 = l.mul(a1, b1);
        let s = l.mul(&l.add(a0, a1), &l.add(b0, b1));
        let c0 = l.sub(&v0, &v1);
        let c1 = l.sub(&l.sub(&s, &v0), &v1);
        std::array::from_fn(|d| if d == 0 { c0 } else { c1 })
    }

    /// Phase A: denominators x2 − x1 and their running products; then one inversion of the
    /// eight lane products; phase B: slopes and sums, stored canonical.
    ///
    /// # Safety
    /// AVX-512F and IFMA present (checked at construction); every index in `w.chords` is in
    /// bounds of `pts` (src + 1 and dst).
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn chords(&self, w: &mut IfmaWork<C, N, D>, pts: &mut [Pt<N, D>]) {
        let groups = w.chords.len().div_ceil(8);
        // Pad the last group with copies of the last pair: same inputs, same output.
        let last = w.chords[w.chords.len() - 1];
        w.chords.resize(groups * 8, last);
        let base = pts.as_mut_ptr() as *mut i64;
        let stride = (2 * N * D) as i64;
        let offsets = |g: usize, which: fn((u32, u32)) -> i64| -> __m512i {
            let o: [i64; 8] = std::array::from_fn(|k| which(w.chords[g * 8 + k]) * stride);
            _mm512_loadu_si512(o.as_ptr().cast())
        };
        // Coordinate `first` (0 for x, D for y) of the eight points at `off`.
        let gather = |off: __m512i, first: usize| -> Lanes8<N, D> {
            std::array::from_fn(|d| {
                std::array::from_fn(|j| {
                    let word = ((first + d) * N + j) as i64;
                    let idx = _mm512_add_epi64(off, _mm512_set1_epi64(word));
                    _mm512_i64gather_epi64::<8>(idx, base as *const i64)
                })
            })
        };
        let src = |c: (u32, u32)| c.0 as i64;
        let src2 = |c: (u32, u32)| c.0 as i64 + 1;
        let dst = |c: (u32, u32)| c.1 as i64;

        w.den.clear();
        w.prefix.clear();
        let mut acc: Lanes8<N, D> = self.one.map(|c| c.map(|v| _mm512_set1_epi64(v as i64)));
        for g in 0..groups {
            let x1 = gather(offsets(g, src), 0);
            let x2 = gather(offsets(g, src2), 0);
            let d = self.sub(&x2, &x1);
            w.prefix.push(acc);
            acc = self.mul(&acc, &d);
            w.den.push(d);
        }

        // Invert the eight lane products with one field inversion.
        let vals: [C::BaseField; 8] = std::array::from_fn(|k| {
            let l: Limbs<N, D> = std::array::from_fn(|d| extract(&acc[d], k));
            self.element(&l)
        });
        let mut pre = [C::BaseField::one(); 8];
        let mut run = C::BaseField::one();
        for k in 0..8 {
            pre[k] = run;
            run *= vals[k];
        }
        let mut inv_run = run.inverse().expect("chord denominators are nonzero");
        let mut invs = [[[0u64; N]; 8]; D];
        for k in (0..8).rev() {
            let l = self.limbs(&(inv_run * pre[k]));
            for d in 0..D {
                invs[d][k] = l[d];
            }
            inv_run *= vals[k];
        }
        let mut inv: Lanes8<N, D> = invs.map(|c| pack(&c));
        for g in (0..groups).rev() {
            let d = w.den[g];
            w.den[g] = self.mul(&inv, &w.prefix[g]);
            inv = self.mul(&inv, &d);
        }

        for g in 0..groups {
            let (o1, o2) = (offsets(g, src), offsets(g, src2));
            let (x1, y1) = (gather(o1, 0), gather(o1, D));
            let (x2, y2) = (gather(o2, 0), gather(o2, D));
            let lambda = self.mul(&self.sub(&y2, &y1), &w.den[g]);
            let x3 = self.sub(&self.sub(&self.mul(&lambda, &lambda), &x1), &x2);
            let y3 = self.sub(&self.mul(&lambda, &self.sub(&x1, &x3)), &y1);
            let (x3, y3) = (self.canonical(&x3), self.canonical(&y3));
            let od = offsets(g, dst);
            for d in 0..D {
                for j in 0..N {
                    let ix = _mm512_add_epi64(od, _mm512_set1_epi64((d * N + j) as i64));
                    _mm512_i64scatter_epi64::<8>(base, ix, x3[d][j]);
                    let iy = _mm512_add_epi64(od, _mm512_set1_epi64(((D + d) * N + j) as i64));
                    _mm512_i64scatter_epi64::<8>(base, iy, y3[d][j]);
                }
            }
        }
    }
}

impl<C, P, const M: usize, const N: usize, const D: usize> super::repr::Repr<C>
    for IfmaRepr<C, P, M, N, D>
where
    C: SWCurveConfig,
    C::BaseField: Coords<P, M, D>,
    P: FpConfig<M>,
{
    type Point = Pt<N, D>;
    type Work = IfmaWork<C, N, D>;

    fn identity(&self) -> Pt<N, D> {
        let mut x = [[0u64; N]; D];
        x[0][0] = INFINITY_MARK;
        Pt { x, y: [[0; N]; D] }
    }
    fn is_identity(&self, p: &Pt<N, D>) -> bool {
        p.x[0][0] == INFINITY_MARK
    }
    fn neg(&self, p: &Pt<N, D>) -> Pt<N, D> {
        if self.is_identity(p) {
            return *p;
        }
        Pt {
            x: p.x,
            y: p.y.map(|c| neg_scalar(&c, &self.conv.params().p)),
        }
    }
    fn encode(&self, a: &Affine<C>) -> Pt<N, D> {
        if a.infinity {
            return self.identity();
        }
        Pt {
            x: self.limbs(&a.x),
            y: self.limbs(&a.y),
        }
    }
    fn decode(&self, p: &Pt<N, D>) -> Affine<C> {
        if self.is_identity(p) {
            return Affine::identity();
        }
        Affine::new_unchecked(self.element(&p.x), self.element(&p.y))
    }

    fn add_pairs(&self, w: &mut Self::Work, pts: &mut [Pt<N, D>], pairs: &[(u32, u32)]) {
        w.chords.clear();
        w.copies.clear();
        w.special_in.clear();
        w.special_dst.clear();
        for &(src, dst) in pairs {
            let (a, b) = (&pts[src as usize], &pts[src as usize + 1]);
            if !self.is_identity(a) && !self.is_identity(b) && a.x != b.x {
                w.chords.push((src, dst));
            } else if self.is_identity(a) || self.is_identity(b) {
                // Written last, like every special result: a later chord may overwrite b.
                let other = if self.is_identity(a) { *b } else { *a };
                w.copies.push((dst, other));
            } else {
                // Doublings and cancellations are rare outside adversarial inputs: arkworks
                // computes them, from operands copied before any write.
                w.special_in.push((self.decode(a), self.decode(b)));
                w.special_dst.push(dst);
            }
        }
        assert!(pts.len() < (i64::MAX as usize) / (2 * N * D));
        if !w.chords.is_empty() {
            // SAFETY: IFMA was detected when `self` was built; chord indices come from
            // `pairs`, whose src + 1 and dst index `pts` (checked by the reads above).
            unsafe { self.chords(w, pts) };
        }
        for &(dst, p) in &w.copies {
            pts[dst as usize] = p;
        }
        if !w.special_dst.is_empty() {
            let sums: Vec<Projective<C>> = w.special_in.iter().map(|(a, b)| *a + *b).collect();
            for (dst, s) in w.special_dst.iter().zip(Projective::normalize_batch(&sums)) {
                pts[*dst as usize] = self.encode(&s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The lanes against arkworks, on random values and the edges 0, 1, p − 1, and on the
    //! unreduced range [p, 2p) that values occupy between operations.
    use super::*;
    use ark_ff::{One, UniformRand, Zero};
    use rand::SeedableRng;

    fn check<P: FpConfig<M>, const M: usize, const N: usize>() {
        if !available() {
            eprintln!("SKIPPED: this CPU has no AVX-512 IFMA; the portable path is tested instead");
            return;
        }
        let conv = Convert::<P, M, N>::new();
        let lanes = unsafe { Lanes::new(conv.params()) };
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let mut vals: Vec<Fp<P, M>> =
            vec![Fp::zero(), Fp::one(), -Fp::<P, M>::one(), Fp::from(2u64)];
        vals.extend((0..60).map(|_| Fp::<P, M>::rand(&mut r)));
        for (k, &v) in vals.iter().enumerate() {
            assert_eq!(conv.to_ark(&conv.from_ark(&v)), v, "round trip {k}");
        }
        // Values in [p, 2p): our limbs of v plus p, which must act as v.
        let plus_p = |l: &[u64; N]| -> [u64; N] {
            let mut out = [0u64; N];
            let mut carry = 0u64;
            for j in 0..N {
                let s = l[j] + conv.params().p[j] + carry;
                out[j] = s & MASK52;
                carry = s >> 52;
            }
            out
        };
        for chunk in vals.chunks_exact(16) {
            let (a, b) = chunk.split_at(8);
            let la: [[u64; N]; 8] = std::array::from_fn(|i| conv.from_ark(&a[i]));
            let lb: [[u64; N]; 8] = std::array::from_fn(|i| {
                let l = conv.from_ark(&b[i]);
                if i % 2 == 0 {
                    plus_p(&l)
                } else {
                    l
                }
            });
            let (va, vb) = (pack(&la), pack(&lb));
            let (m, s, d, c) = unsafe {
                (
                    lanes.mul(&va, &vb),
                    lanes.add(&va, &vb),
                    lanes.sub(&va, &vb),
                    lanes.canonical(&vb),
                )
            };
            for i in 0..8 {
                assert_eq!(conv.to_ark(&extract(&m, i)), a[i] * b[i], "mul lane {i}");
                assert_eq!(conv.to_ark(&extract(&s, i)), a[i] + b[i], "add lane {i}");
                assert_eq!(conv.to_ark(&extract(&d, i)), a[i] - b[i], "sub lane {i}");
                assert_eq!(extract(&c, i), conv.from_ark(&b[i]), "canonical lane {i}");
            }
        }
    }

    /// Fq2 products, differences and canonical forms in lanes against arkworks' Fq2, on edges
    /// (0, 1, −1, u, 1 + u, −1 − u) and random values, one operand's components lifted into
    /// [p, 2p) in every other lane.
    fn check_fq2<C, P: FpConfig<M>, const M: usize, const N: usize>()
    where
        C: SWCurveConfig,
        C::BaseField: Coords<P, M, 2> + UniformRand,
    {
        let Some(repr) = IfmaRepr::<C, P, M, N, 2>::new() else {
            eprintln!("SKIPPED: this CPU has no AVX-512 IFMA; the portable path is tested instead");
            return;
        };
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let f = |a: u64, b: i64| {
            let b = if b < 0 {
                -Fp::<P, M>::from(b.unsigned_abs())
            } else {
                Fp::from(b as u64)
            };
            C::BaseField::from_parts([Fp::from(a), b])
        };
        let mut vals = vec![f(0, 0), f(1, 0), -f(1, 0), f(0, 1), f(1, 1), -f(1, 1)];
        vals.extend((0..58).map(|_| C::BaseField::rand(&mut r)));
        let p = repr.conv.params().p;
        let lift = |l: [u64; N]| -> [u64; N] {
            let mut out = [0u64; N];
            let mut carry = 0u64;
            for j in 0..N {
                let s = l[j] + p[j] + carry;
                out[j] = s & MASK52;
                carry = s >> 52;
            }
            out
        };
        for chunk in vals.chunks_exact(16) {
            let (a, b) = chunk.split_at(8);
            let lanes_of = |v: &[C::BaseField], lifted: bool| -> Lanes8<N, 2> {
                std::array::from_fn(|d| {
                    let l: [[u64; N]; 8] = std::array::from_fn(|i| {
                        let limbs = repr.limbs(&v[i])[d];
                        if lifted && i % 2 == 0 {
                            lift(limbs)
                        } else {
                            limbs
                        }
                    });
                    pack(&l)
                })
            };
            let (va, vb) = (lanes_of(a, false), lanes_of(b, true));
            let (m, d, c) =
                unsafe { (repr.mul(&va, &vb), repr.sub(&va, &vb), repr.canonical(&vb)) };
            let get = |v: &Lanes8<N, 2>, i: usize| {
                repr.element(&std::array::from_fn(|k| extract(&v[k], i)))
            };
            for i in 0..8 {
                assert_eq!(get(&m, i), a[i] * b[i], "fq2 mul lane {i}");
                assert_eq!(get(&d, i), a[i] - b[i], "fq2 sub lane {i}");
                let canon: Limbs<N, 2> = std::array::from_fn(|k| extract(&c[k], i));
                assert_eq!(canon, repr.limbs(&b[i]), "fq2 canonical lane {i}");
            }
        }
    }

    #[test]
    fn fq2_lanes_match_arkworks() {
        check_fq2::<ark_bn254::g2::Config, ark_ff::MontBackend<ark_bn254::FqConfig, 4>, 4, 5>();
        check_fq2::<ark_bls12_381::g2::Config, ark_ff::MontBackend<ark_bls12_381::FqConfig, 6>, 6, 8>(
        );
    }

    #[test]
    fn bn254_lanes_match_arkworks() {
        check::<ark_ff::MontBackend<ark_bn254::FqConfig, 4>, 4, 5>();
    }

    #[test]
    fn bls12_381_lanes_match_arkworks() {
        check::<ark_ff::MontBackend<ark_bls12_381::FqConfig, 6>, 6, 8>();
    }

    #[test]
    fn secp256k1_lanes_match_arkworks() {
        check::<ark_ff::MontBackend<ark_secp256k1::FqConfig, 4>, 4, 5>();
    }
}
