//! The fields the NTT engine serves, and what it needs of each.
//!
//! Roots of unity: the size-2^k transform uses ω_k = g^(2^(s−k)), where g is the field's fixed
//! primitive 2^s-th root of unity (s = two-adicity). For BN254 and BLS12-381 g is arkworks'
//! `FftField::TWO_ADIC_ROOT_OF_UNITY`, so ω_k is `get_root_of_unity(2^k)`, the generator of
//! `Radix2EvaluationDomain`; for BabyBear and Goldilocks ω_k is Plonky3's
//! `TwoAdicField::two_adic_generator(k)`. The forward transform is y_i = Σ_j a_j·ω^{ij} in both
//! libraries, so outputs match theirs element for element.

use super::kernels;
use super::twiddles::Twiddles;
use p3_field::{
    Field as P3Field, PackedFieldPow2, PackedValue, PrimeCharacteristicRing, TwoAdicField,
};
use std::fmt::Debug;
use std::ops::{Add, Mul, Sub};

/// Field arithmetic the transform needs, with the butterfly loops as overridable hooks so a
/// field with SIMD packing can run them many lanes at a time.
pub trait NttField:
    Copy
    + Send
    + Sync
    + PartialEq
    + Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + 'static
{
    /// Wire and report name, e.g. `bn254`.
    const NAME: &'static str;
    const TWO_ADICITY: u32;

    fn zero() -> Self;
    fn one() -> Self;
    fn from_u64(v: u64) -> Self;
    /// Multiplicative inverse; callers never pass zero.
    fn inv(&self) -> Self;
    fn is_zero(&self) -> bool {
        *self == Self::zero()
    }
    /// The primitive 2^log_n-th root of unity that defines the size-2^log_n transform.
    fn root_of_unity(log_n: u32) -> Self;

    fn pow(&self, mut e: u64) -> Self {
        let (mut base, mut acc) = (*self, Self::one());
        while e > 0 {
            if e & 1 == 1 {
                acc = acc * base;
            }
            base = base * base;
            e >>= 1;
        }
        acc
    }

    /// A whole column, natural order in, bit-reversed out; a field with a faster whole-column
    /// path than its butterfly hooks (one that keeps its own representation across layers)
    /// overrides this.
    fn dif(a: &mut [Self], tw: &Twiddles<Self>, inverse: bool) {
        kernels::dif(a, tw, inverse)
    }

    /// A whole column, bit-reversed order in, natural out.
    fn dit(a: &mut [Self], tw: &Twiddles<Self>, inverse: bool) {
        kernels::dit(a, tw, inverse)
    }

    /// (lo[i], hi[i]) ← (lo[i] + hi[i], (lo[i] − hi[i])·tw[i]): decimation in frequency.
    #[inline]
    fn dif_butterflies(lo: &mut [Self], hi: &mut [Self], tw: &[Self]) {
        for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(tw) {
            let (x, y) = (*a, *b);
            *a = x + y;
            *b = (x - y) * *w;
        }
    }

    /// (lo[i], hi[i]) ← (lo[i] + hi[i]·tw[i], lo[i] − hi[i]·tw[i]): decimation in time.
    #[inline]
    fn dit_butterflies(lo: &mut [Self], hi: &mut [Self], tw: &[Self]) {
        for ((a, b), w) in lo.iter_mut().zip(hi.iter_mut()).zip(tw) {
            let t = *b * *w;
            let x = *a;
            *a = x + t;
            *b = x - t;
        }
    }

    /// (lo[i], hi[i]) ← (lo[i] + hi[i]·t, lo[i] − hi[i]·t), one twiddle for the whole run: a
    /// Cooley–Tukey butterfly between two runs of rows of a matrix.
    #[inline]
    fn ct_run(lo: &mut [Self], hi: &mut [Self], t: Self) {
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let (x, y) = (*a, *b * t);
            *a = x + y;
            *b = x - y;
        }
    }

    /// (lo[i], hi[i]) ← (lo[i] + hi[i], (lo[i] − hi[i])·t): a Gentleman–Sande butterfly
    /// between two runs of rows.
    #[inline]
    fn gs_run(lo: &mut [Self], hi: &mut [Self], t: Self) {
        for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
            let (x, y) = (*a, *b);
            *a = x + y;
            *b = (x - y) * t;
        }
    }

    /// One decimation-in-frequency layer of half-size `h` over `a` (blocks of 2h), `w` the
    /// layer's h factors.
    #[inline]
    fn dif_layer(a: &mut [Self], h: usize, w: &[Self]) {
        for block in a.chunks_exact_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            Self::dif_butterflies(lo, hi, w);
        }
    }

    /// One decimation-in-time layer of half-size `h` over `a`.
    #[inline]
    fn dit_layer(a: &mut [Self], h: usize, w: &[Self]) {
        for block in a.chunks_exact_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            Self::dit_butterflies(lo, hi, w);
        }
    }

    /// data[i] ← data[i]·c.
    #[inline]
    fn scale(data: &mut [Self], c: Self) {
        data.iter_mut().for_each(|x| *x = *x * c);
    }

    /// data[i] ← data[i]·start·w^i.
    #[inline]
    fn mul_by_powers(data: &mut [Self], start: Self, w: Self) {
        let mut p = start;
        for x in data.iter_mut() {
            *x = *x * p;
            p = p * w;
        }
    }
}

macro_rules! ark_ntt_field {
    ($f:ty, $cfg:ty, $name:literal) => {
        #[cfg(target_arch = "x86_64")]
        impl super::ifma::IfmaField<$cfg> for $f {
            fn ifma() -> Option<&'static super::ifma::Ifma<$cfg>> {
                static CTX: std::sync::OnceLock<Option<super::ifma::Ifma<$cfg>>> =
                    std::sync::OnceLock::new();
                CTX.get_or_init(super::ifma::Ifma::new).as_ref()
            }
        }

        impl NttField for $f {
            #[cfg(target_arch = "x86_64")]
            fn dif(a: &mut [Self], tw: &Twiddles<Self>, inverse: bool) {
                if !super::ifma::dif(a, tw, inverse) {
                    kernels::dif(a, tw, inverse)
                }
            }

            #[cfg(target_arch = "x86_64")]
            fn dit(a: &mut [Self], tw: &Twiddles<Self>, inverse: bool) {
                if !super::ifma::dit(a, tw, inverse) {
                    kernels::dit(a, tw, inverse)
                }
            }

            #[cfg(target_arch = "x86_64")]
            fn scale(data: &mut [Self], c: Self) {
                if !super::ifma::scale(data, c) {
                    data.iter_mut().for_each(|x| *x *= c);
                }
            }

            #[cfg(target_arch = "x86_64")]
            fn mul_by_powers(data: &mut [Self], start: Self, w: Self) {
                if !super::ifma::mul_by_powers(data, start, w) {
                    let mut p = start;
                    for x in data.iter_mut() {
                        *x *= p;
                        p *= w;
                    }
                }
            }

            const NAME: &'static str = $name;
            const TWO_ADICITY: u32 = <$f as ark_ff::FftField>::TWO_ADICITY;
            fn zero() -> Self {
                <$f as ark_ff::Zero>::zero()
            }
            fn one() -> Self {
                <$f as ark_ff::One>::one()
            }
            fn from_u64(v: u64) -> Self {
                <$f>::from(v)
            }
            fn inv(&self) -> Self {
                ark_ff::Field::inverse(self).unwrap_or_else(<$f as ark_ff::Zero>::zero)
            }
            fn root_of_unity(log_n: u32) -> Self {
                let g = <$f as ark_ff::FftField>::TWO_ADIC_ROOT_OF_UNITY;
                let mut w = g;
                for _ in log_n..Self::TWO_ADICITY {
                    ark_ff::Field::square_in_place(&mut w);
                }
                w
            }
        }
    };
}

ark_ntt_field!(
    ark_bn254::Fr,
    ark_ff::MontBackend<ark_bn254::FrConfig, 4>,
    "bn254"
);
ark_ntt_field!(
    ark_bls12_381::Fr,
    ark_ff::MontBackend<ark_bls12_381::FrConfig, 4>,
    "bls12-381"
);

macro_rules! p3_ntt_field {
    ($f:ty, $name:literal) => {
        impl NttField for $f {
            const NAME: &'static str = $name;
            const TWO_ADICITY: u32 = <$f as TwoAdicField>::TWO_ADICITY as u32;
            fn zero() -> Self {
                <$f>::ZERO
            }
            fn one() -> Self {
                <$f>::ONE
            }
            fn from_u64(v: u64) -> Self {
                <$f as PrimeCharacteristicRing>::from_u64(v)
            }
            fn inv(&self) -> Self {
                P3Field::try_inverse(self).unwrap_or(<$f>::ZERO)
            }
            fn root_of_unity(log_n: u32) -> Self {
                <$f as TwoAdicField>::two_adic_generator(log_n as usize)
            }

            #[inline]
            fn dif_butterflies(lo: &mut [Self], hi: &mut [Self], tw: &[Self]) {
                type P = <$f as P3Field>::Packing;
                let (lp, ls) = P::pack_slice_with_suffix_mut(lo);
                let (hp, hs) = P::pack_slice_with_suffix_mut(hi);
                let (tp, ts) = P::pack_slice_with_suffix(tw);
                for ((a, b), w) in lp.iter_mut().zip(hp.iter_mut()).zip(tp) {
                    let (x, y) = (*a, *b);
                    *a = x + y;
                    *b = (x - y) * *w;
                }
                for ((a, b), w) in ls.iter_mut().zip(hs.iter_mut()).zip(ts) {
                    let (x, y) = (*a, *b);
                    *a = x + y;
                    *b = (x - y) * *w;
                }
            }

            #[inline]
            fn dit_butterflies(lo: &mut [Self], hi: &mut [Self], tw: &[Self]) {
                type P = <$f as P3Field>::Packing;
                let (lp, ls) = P::pack_slice_with_suffix_mut(lo);
                let (hp, hs) = P::pack_slice_with_suffix_mut(hi);
                let (tp, ts) = P::pack_slice_with_suffix(tw);
                for ((a, b), w) in lp.iter_mut().zip(hp.iter_mut()).zip(tp) {
                    let t = *b * *w;
                    let x = *a;
                    *a = x + t;
                    *b = x - t;
                }
                for ((a, b), w) in ls.iter_mut().zip(hs.iter_mut()).zip(ts) {
                    let t = *b * *w;
                    let x = *a;
                    *a = x + t;
                    *b = x - t;
                }
            }

            #[inline]
            fn ct_run(lo: &mut [Self], hi: &mut [Self], t: Self) {
                type P = <$f as P3Field>::Packing;
                let (lp, ls) = P::pack_slice_with_suffix_mut(lo);
                let (hp, hs) = P::pack_slice_with_suffix_mut(hi);
                if t == <$f>::ONE {
                    for (a, b) in lp.iter_mut().zip(hp.iter_mut()) {
                        (*a, *b) = (*a + *b, *a - *b);
                    }
                } else {
                    let tp = P::from(t);
                    for (a, b) in lp.iter_mut().zip(hp.iter_mut()) {
                        let y = *b * tp;
                        (*a, *b) = (*a + y, *a - y);
                    }
                }
                for (a, b) in ls.iter_mut().zip(hs.iter_mut()) {
                    let y = *b * t;
                    (*a, *b) = (*a + y, *a - y);
                }
            }

            #[inline]
            fn gs_run(lo: &mut [Self], hi: &mut [Self], t: Self) {
                type P = <$f as P3Field>::Packing;
                let (lp, ls) = P::pack_slice_with_suffix_mut(lo);
                let (hp, hs) = P::pack_slice_with_suffix_mut(hi);
                if t == <$f>::ONE {
                    for (a, b) in lp.iter_mut().zip(hp.iter_mut()) {
                        (*a, *b) = (*a + *b, *a - *b);
                    }
                } else {
                    let tp = P::from(t);
                    for (a, b) in lp.iter_mut().zip(hp.iter_mut()) {
                        (*a, *b) = (*a + *b, (*a - *b) * tp);
                    }
                }
                for (a, b) in ls.iter_mut().zip(hs.iter_mut()) {
                    (*a, *b) = (*a + *b, (*a - *b) * t);
                }
            }

            #[inline]
            fn dif_layer(a: &mut [Self], h: usize, w: &[Self]) {
                type P = <$f as P3Field>::Packing;
                if h >= P::WIDTH || a.len() < 2 * P::WIDTH {
                    for block in a.chunks_exact_mut(2 * h) {
                        let (lo, hi) = block.split_at_mut(h);
                        Self::dif_butterflies(lo, hi, w);
                    }
                    return;
                }
                // Butterflies closer than a vector: interleave two vectors so partners share a
                // lane (x holds the low halves, y the high ones), then back.
                let t = P::from_fn(|i| w[i % h]);
                for pair in P::pack_slice_mut(a).chunks_exact_mut(2) {
                    let (x, y) = pair[0].interleave(pair[1], h);
                    let (s, d) = (x + y, (x - y) * t);
                    (pair[0], pair[1]) = s.interleave(d, h);
                }
            }

            #[inline]
            fn dit_layer(a: &mut [Self], h: usize, w: &[Self]) {
                type P = <$f as P3Field>::Packing;
                if h >= P::WIDTH || a.len() < 2 * P::WIDTH {
                    for block in a.chunks_exact_mut(2 * h) {
                        let (lo, hi) = block.split_at_mut(h);
                        Self::dit_butterflies(lo, hi, w);
                    }
                    return;
                }
                let t = P::from_fn(|i| w[i % h]);
                for pair in P::pack_slice_mut(a).chunks_exact_mut(2) {
                    let (x, y) = pair[0].interleave(pair[1], h);
                    let m = y * t;
                    (pair[0], pair[1]) = (x + m).interleave(x - m, h);
                }
            }

            #[inline]
            fn mul_by_powers(data: &mut [Self], start: Self, w: Self) {
                type P = <$f as P3Field>::Packing;
                let (dp, ds) = P::pack_slice_with_suffix_mut(data);
                // Lane l holds start·w^(i·WIDTH + l); one multiplication by w^WIDTH steps all.
                let mut cur = P::from_fn(|l| start * w.exp_u64(l as u64));
                let step = P::from(w.exp_u64(P::WIDTH as u64));
                for x in dp.iter_mut() {
                    *x *= cur;
                    cur *= step;
                }
                let mut p = start * w.exp_u64((dp.len() * P::WIDTH) as u64);
                for x in ds.iter_mut() {
                    *x *= p;
                    p *= w;
                }
            }

            #[inline]
            fn scale(data: &mut [Self], c: Self) {
                type P = <$f as P3Field>::Packing;
                let (dp, ds) = P::pack_slice_with_suffix_mut(data);
                let cp = P::from(c);
                dp.iter_mut().for_each(|x| *x *= cp);
                ds.iter_mut().for_each(|x| *x *= c);
            }
        }
    };
}

p3_ntt_field!(p3_baby_bear::BabyBear, "babybear");
p3_ntt_field!(p3_goldilocks::Goldilocks, "goldilocks");
