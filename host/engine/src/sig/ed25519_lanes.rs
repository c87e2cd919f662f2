//! Ed25519's ZIP-215 batch eight field operations at a time: point decompression and the batch
//! equation's multi-scalar multiplication over p = 2^255 − 19 in radix 2^52, Montgomery form
//! with R = 2^260 (> 4p), the MSM's lanes on AVX-512 IFMA.
//!
//! Decompression runs eight encodings side by side through one fixed exponentiation. The MSM is
//! Pippenger's with signed 8-bit digits (32 windows, buckets 1..=128), arranged so that the
//! eight lanes never touch the same bucket: every (window, bucket) list of points is one
//! contiguous run in exactly one lane's stream, so a lane accumulates a bucket in registers and
//! writes it out once, when its run ends. Windows are dealt to lanes longest first, which
//! balances the 128-bit coefficients of R against the full-width ones of A. The running sums
//! take eight windows at a time, one per lane.
//!
//! The twisted Edwards formulas (a = −1, Hisil–Wong–Carter–Dawson, extended coordinates) are
//! complete on this curve, so identity, doubling and small-order inputs need no special case.
//!
//! The algorithms are written once over [`Arith`], eight lanes of the field: [`Ifma`] is the
//! AVX-512 IFMA implementation; the tests also run them on a scalar model of the same
//! arithmetic, so that they are checked against curve25519-dalek on any CPU.

// Limb and lane loops index several arrays in step.
#![allow(clippy::needless_range_loop)]

use crate::msm::ifma::{self, Lanes, Params, Vec8};
use num_bigint::BigUint;
use std::arch::x86_64::*;
use std::sync::OnceLock;

/// An affine point as (y + x, y − x, 2d·x·y) in Montgomery limbs, one point per row.
pub(super) type Niels = [u64; 15];
/// An extended point (X, Y, Z, T), one per row.
type ExtRow = [u64; 20];

const MASK52: u64 = (1 << 52) - 1;
const WINDOWS: usize = 32;
const BUCKETS: usize = 128;
/// (window, bucket) keys: w·129 + b.
const KEYS: usize = WINDOWS * (BUCKETS + 1);
const PAD: u16 = u16::MAX;
const SIGN: u32 = 1 << 31;

/// Eight elements of GF(2^255 − 19), each stored in a row as five 64-bit words of the
/// implementation's own form (Montgomery radix 2^52 for [`Ifma`] and the tests' model).
/// Every method is inlined into its caller, which enables the CPU features the intrinsics
/// need.
pub(super) trait Arith: Sync + Send {
    type Fe: Copy;
    /// The row words of the canonical integer `v` (below p).
    fn encode(&self, v: &BigUint) -> [u64; 5];
    /// The y of eight encodings (the sign bit dropped, 2^255 > y ≥ p taken mod p).
    fn y_of(&self, enc: &[[u8; 32]; 8]) -> Self::Fe;
    fn mul(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe;
    fn add(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe;
    fn sub(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe;
    /// Lanes where a ≡ b (mod p).
    fn eq(&self, a: &Self::Fe, b: &Self::Fe) -> u8;
    /// b where `m` is set, a elsewhere.
    fn select(&self, m: u8, a: &Self::Fe, b: &Self::Fe) -> Self::Fe;
    /// Lanes whose canonical value is odd.
    fn odd(&self, a: &Self::Fe) -> u8;
    fn pack(&self, rows: &[[u64; 5]; 8]) -> Self::Fe;
    fn unpack(&self, a: &Self::Fe) -> [[u64; 5]; 8];
    /// The five words from `first` of the row at each lane's word offset in `base`.
    ///
    /// # Safety
    /// Every offset + first + 5 is within `base`.
    unsafe fn gather(&self, base: &[u64], offsets: &[u32; 8], first: usize) -> Self::Fe;
    fn splat(&self, v: &[u64; 5]) -> Self::Fe {
        self.pack(&[*v; 8])
    }
    /// The integer (mod p) of stored row words.
    #[cfg(test)]
    fn integer(&self, words: &[u64; 5]) -> BigUint;
}

/// The integer of Montgomery radix-2^52 words.
#[cfg(test)]
fn mont_integer(words: &[u64; 5]) -> BigUint {
    let p = modulus();
    let rinv = (BigUint::from(1u8) << 260u32).modpow(&(&p - 2u8), &p);
    let v = (0..5)
        .rev()
        .fold(BigUint::from(0u8), |v, j| (v << 52u32) + words[j]);
    v * rinv % p
}

/// The curve over one [`Arith`]: constants in lanes and the algorithms.
pub(super) struct Curve<A: Arith> {
    a: A,
    zero: A::Fe,
    one: A::Fe,
    d: A::Fe,
    d2: A::Fe,
    sqrt_m1: A::Fe,
    /// The base point B.
    base: Niels,
}

// SAFETY: lanes of constants, read-only after construction.
unsafe impl<A: Arith> Sync for Curve<A> {}
unsafe impl<A: Arith> Send for Curve<A> {}

/// What the batch code needs of a lanes engine.
pub(super) trait Engine: Sync {
    /// Eight encodings decompressed as curve25519-dalek's `CompressedEdwardsY::decompress`
    /// does; the mask of lanes that are points, and each lane's point.
    fn decompress(&self, enc: &[[u8; 32]; 8]) -> (u8, [Niels; 8]);
    /// Whether Σ sᵢ·Pᵢ has order dividing 8, for scalars as little-endian bytes below 2^253.
    fn msm_is_small_order(&self, points: &[Niels], scalars: &[[u8; 32]]) -> bool;
    /// The base point.
    fn base(&self) -> &Niels;
    /// The integer (mod p) of a stored element.
    #[cfg(test)]
    fn integer(&self, words: &[u64; 5]) -> BigUint;
}

/// AVX-512 IFMA lanes (the MSM's [`Lanes`]): Montgomery form, R = 2^260.
pub(super) struct Ifma {
    l: Lanes<5>,
    /// R² mod p: a product with it enters Montgomery form.
    r2: Vec8<5>,
    /// 1 as a plain integer: a product with it leaves Montgomery form.
    raw_one: Vec8<5>,
}

/// R² mod p and 1, in radix 2^52, for the Montgomery implementations.
fn mont_constants() -> ([u64; 5], [u64; 5]) {
    let p = modulus();
    let r = (BigUint::from(1u8) << 260u32) % &p;
    (radix52(&(&r * &r % &p)), [1, 0, 0, 0, 0])
}

fn mont_encode(v: &BigUint) -> [u64; 5] {
    let p = modulus();
    radix52(&((v << 260u32) % &p))
}

/// The IFMA engine, or `None` on a CPU without AVX-512 IFMA (or, never yet seen, one where
/// the lanes disagree with the scalar model on the known answers of [`self_test`]).
pub(super) fn ifma() -> Option<&'static Curve<Ifma>> {
    static CTX: OnceLock<Option<Curve<Ifma>>> = OnceLock::new();
    CTX.get_or_init(|| {
        if !ifma::available() {
            return None;
        }
        // SAFETY: `available()` checked AVX-512F and IFMA.
        let l = unsafe { Lanes::new(&Params::<5>::from_modulus(&modulus())) };
        let (r2, raw_one) = mont_constants();
        let c = Curve::new(Ifma {
            l,
            r2: ifma::pack(&[r2; 8]),
            raw_one: ifma::pack(&[raw_one; 8]),
        });
        if let Err(e) = self_test(&c) {
            eprintln!("offload: Ed25519 on AVX-512 IFMA failed its self-test ({e}); verifying on the portable path");
            return None;
        }
        Some(c)
    })
    .as_ref()
}

/// Known answers from curve25519-dalek, checked once per process before an engine's first
/// use: which edge encodings are points, and batch equations over decompressed points that
/// hold and one that does not. A signature verdict is consensus: a CPU whose vector unit
/// computes otherwise must not decide one.
fn self_test(c: &dyn Engine) -> Result<(), String> {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::scalar::Scalar;
    let mut encs: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|t| t.compress().to_bytes())
        .collect();
    let mut y = [0xffu8; 32];
    encs.push(y); // y = 2^255 − 1 ≥ p, sign set
    y[0] = 0xed;
    y[31] = 0x7f;
    encs.push(y); // y = p
                  // P_k = k·c·B for k = 1..=6.
    encs.extend((1..7u64).map(|k| {
        (B * Scalar::from(k * 0x1234_5678_9abc))
            .compress()
            .to_bytes()
    }));
    let mut rows = Vec::new();
    for (g, chunk) in encs.chunks(8).enumerate() {
        let mut e = [chunk[0]; 8];
        e[..chunk.len()].copy_from_slice(chunk);
        let (ok, got) = c.decompress(&e);
        for (l, enc) in chunk.iter().enumerate() {
            if (ok >> l & 1 == 1) != CompressedEdwardsY(*enc).decompress().is_some() {
                return Err(format!("decompression validity, group {g} lane {l}"));
            }
        }
        rows.extend_from_slice(&got[..chunk.len()]);
    }
    let p = &rows[rows.len() - 6..];
    let relations: [([i8; 6], bool); 5] = [
        ([6, 0, 0, 0, 0, -1], true),
        ([1, 1, -1, 0, 0, 0], true),
        ([0, 1, 0, 1, 0, -1], true),
        ([1, 0, 0, 1, -1, 0], true),
        ([6, 0, 0, 0, 0, 1], false),
    ];
    for (k, (coefs, want)) in relations.iter().enumerate() {
        let s: Vec<[u8; 32]> = coefs
            .iter()
            .map(|&x| {
                let v = Scalar::from(x.unsigned_abs());
                if x < 0 { -v } else { v }.to_bytes()
            })
            .collect();
        if c.msm_is_small_order(p, &s) != *want {
            return Err(format!("batch equation {k}, expected {want}"));
        }
    }
    Ok(())
}

fn modulus() -> BigUint {
    (BigUint::from(1u8) << 255u32) - 19u8
}

fn limbs_of(v: [u64; 4]) -> [u64; 5] {
    [
        v[0] & MASK52,
        (v[0] >> 52 | v[1] << 12) & MASK52,
        (v[1] >> 40 | v[2] << 24) & MASK52,
        (v[2] >> 28 | v[3] << 36) & MASK52,
        v[3] >> 16,
    ]
}

fn radix52(v: &BigUint) -> [u64; 5] {
    let digits = v.to_u64_digits();
    let w = |i: usize| digits.get(i).copied().unwrap_or(0);
    limbs_of([w(0), w(1), w(2), w(3)])
}

/// The 255-bit integer of an encoding (the sign bit dropped) as four words, not reduced: a
/// y ≥ p is accepted, as ZIP-215 and dalek accept it.
fn y_limbs_raw(b: &[u8; 32]) -> [u64; 4] {
    let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    [w(0), w(1), w(2), w(3) & (u64::MAX >> 1)]
}

/// [`y_limbs_raw`] in radix 2^52.
fn y_limbs(b: &[u8; 32]) -> [u64; 5] {
    limbs_of(y_limbs_raw(b))
}

impl<A: Arith> Curve<A> {
    fn new(a: A) -> Self {
        let p = modulus();
        let inv = |v: &BigUint| v.modpow(&(&p - 2u8), &p);
        // d = −121665/121666.
        let d = (&p - 121665u32) * inv(&BigUint::from(121666u32)) % &p;
        let sqrt_m1 = BigUint::from(2u8).modpow(&((&p - 1u8) >> 2u32), &p);
        let c = |v: &BigUint| a.splat(&a.encode(v));
        let mut c = Self {
            zero: c(&BigUint::from(0u8)),
            one: c(&BigUint::from(1u8)),
            d: c(&d),
            d2: c(&(&d * 2u8 % &p)),
            sqrt_m1: c(&sqrt_m1),
            base: [0; 15],
            a,
        };
        let b = curve25519_dalek::constants::ED25519_BASEPOINT_COMPRESSED.to_bytes();
        let (ok, pts) = c.decompress_any(&[b; 8]);
        assert_eq!(ok, 0xff, "the base point decompresses");
        c.base = pts[0];
        c
    }

    #[inline(always)]
    fn sqn(&self, a: &A::Fe, n: usize) -> A::Fe {
        let mut t = *a;
        for _ in 0..n {
            t = self.a.mul(&t, &t);
        }
        t
    }

    #[inline(always)]
    fn neg(&self, a: &A::Fe) -> A::Fe {
        self.a.sub(&self.zero, a)
    }

    /// z^((p − 5)/8) = z^(2^252 − 3).
    #[inline(always)]
    fn pow_p58(&self, z: &A::Fe) -> A::Fe {
        let a = &self.a;
        let t0 = a.mul(z, z); // 2
        let t1 = a.mul(z, &self.sqn(&t0, 2)); // 9
        let t0 = a.mul(&t0, &t1); // 11
        let t1 = a.mul(&t1, &a.mul(&t0, &t0)); // 2^5 − 1
        let t1 = a.mul(&self.sqn(&t1, 5), &t1); // 2^10 − 1
        let t2 = a.mul(&self.sqn(&t1, 10), &t1); // 2^20 − 1
        let t2 = a.mul(&self.sqn(&t2, 20), &t2); // 2^40 − 1
        let t1 = a.mul(&self.sqn(&t2, 10), &t1); // 2^50 − 1
        let t2 = a.mul(&self.sqn(&t1, 50), &t1); // 2^100 − 1
        let t2 = a.mul(&self.sqn(&t2, 100), &t2); // 2^200 − 1
        let t1 = a.mul(&self.sqn(&t2, 50), &t1); // 2^250 − 1
        a.mul(&self.sqn(&t1, 2), z) // 2^252 − 3
    }

    /// y taken mod p whatever its encoding; x = √((y² − 1)/(dy² + 1)), the root whose
    /// canonical value has the parity of the sign bit (a zero x stays zero).
    #[inline(always)]
    fn decompress_any(&self, enc: &[[u8; 32]; 8]) -> (u8, [Niels; 8]) {
        let a = &self.a;
        let y = a.y_of(enc);
        let sign = enc
            .iter()
            .enumerate()
            .fold(0u8, |m, (l, e)| m | (e[31] >> 7) << l);
        let yy = a.mul(&y, &y);
        let u = a.sub(&yy, &self.one);
        let v = a.add(&a.mul(&yy, &self.d), &self.one);
        let v3 = a.mul(&a.mul(&v, &v), &v);
        let v7 = a.mul(&a.mul(&v3, &v3), &v);
        // r = u·v³·(u·v⁷)^((p−5)/8): a root of u/v, or of −u/v, when either is a square.
        let r = a.mul(&a.mul(&u, &v3), &self.pow_p58(&a.mul(&u, &v7)));
        let check = a.mul(&v, &a.mul(&r, &r));
        let correct = a.eq(&check, &u);
        let flipped = a.eq(&check, &self.neg(&u));
        let r = a.select(flipped & !correct, &r, &a.mul(&r, &self.sqrt_m1));
        let odd = a.odd(&r);
        let x = a.select(odd ^ sign, &r, &self.neg(&r));
        let yp = a.unpack(&a.add(&y, &x));
        let ym = a.unpack(&a.sub(&y, &x));
        let t = a.unpack(&a.mul(&a.mul(&x, &y), &self.d2));
        let pts = std::array::from_fn(|l| {
            let mut n = [0u64; 15];
            n[..5].copy_from_slice(&yp[l]);
            n[5..10].copy_from_slice(&ym[l]);
            n[10..].copy_from_slice(&t[l]);
            n
        });
        (correct | flipped, pts)
    }

    #[inline(always)]
    fn identity(&self) -> [A::Fe; 4] {
        [self.zero, self.one, self.one, self.zero]
    }

    /// p + (y+x, y−x, 2dxy): seven products.
    #[inline(always)]
    fn add_niels(&self, p: &[A::Fe; 4], n: &[A::Fe; 3]) -> [A::Fe; 4] {
        let a = &self.a;
        let [x1, y1, z1, t1] = p;
        let pa = a.mul(&a.sub(y1, x1), &n[1]);
        let pb = a.mul(&a.add(y1, x1), &n[0]);
        let pc = a.mul(t1, &n[2]);
        let pd = a.add(z1, z1);
        self.finish(&pa, &pb, &pc, &pd)
    }

    /// p + q, both extended: nine products.
    #[inline(always)]
    fn add_ext(&self, p: &[A::Fe; 4], q: &[A::Fe; 4]) -> [A::Fe; 4] {
        let a = &self.a;
        let [x1, y1, z1, t1] = p;
        let [x2, y2, z2, t2] = q;
        let pa = a.mul(&a.sub(y1, x1), &a.sub(y2, x2));
        let pb = a.mul(&a.add(y1, x1), &a.add(y2, x2));
        let pc = a.mul(&a.mul(t1, &self.d2), t2);
        let pd = a.mul(&a.add(z1, z1), z2);
        self.finish(&pa, &pb, &pc, &pd)
    }

    #[inline(always)]
    fn finish(&self, pa: &A::Fe, pb: &A::Fe, pc: &A::Fe, pd: &A::Fe) -> [A::Fe; 4] {
        let a = &self.a;
        let e = a.sub(pb, pa);
        let f = a.sub(pd, pc);
        let g = a.add(pd, pc);
        let h = a.add(pb, pa);
        [a.mul(&e, &f), a.mul(&g, &h), a.mul(&f, &g), a.mul(&e, &h)]
    }

    #[inline(always)]
    fn rows(&self, p: &[A::Fe; 4]) -> [ExtRow; 8] {
        let c = p.map(|f| self.a.unpack(&f));
        std::array::from_fn(|l| std::array::from_fn(|k| c[k / 5][l][k % 5]))
    }

    #[inline(always)]
    fn broadcast(&self, r: &ExtRow) -> [A::Fe; 4] {
        std::array::from_fn(|c| {
            self.a
                .splat(&r[c * 5..c * 5 + 5].try_into().expect("5 words"))
        })
    }

    /// # Safety
    /// Every offset in `stream` is that of a row of `points`.
    #[inline(always)]
    unsafe fn msm_any(&self, points: &[Niels], stream: &Stream) -> bool {
        let a = &self.a;
        let identity = self.identity();
        let mut sums: Vec<ExtRow> = vec![self.rows(&identity)[0]; KEYS];
        let flat = points.as_flattened();
        let mut acc = identity;
        let mut prev = [PAD; 8];
        for (ent, key) in stream.ents.iter().zip(&stream.keys) {
            let mut change = 0u8;
            let mut out = 0u8;
            for l in 0..8 {
                if key[l] != prev[l] {
                    change |= 1 << l;
                    out |= u8::from(prev[l] != PAD) << l;
                }
            }
            if change != 0 {
                if out != 0 {
                    let r = self.rows(&acc);
                    for l in 0..8 {
                        if out >> l & 1 == 1 {
                            sums[prev[l] as usize] = r[l];
                        }
                    }
                }
                for c in 0..4 {
                    acc[c] = a.select(change, &acc[c], &identity[c]);
                }
                prev = *key;
            }
            let mut neg = 0u8;
            let mut off = [0u32; 8];
            for l in 0..8 {
                neg |= u8::from(ent[l] & SIGN != 0) << l;
                off[l] = ent[l] & !SIGN;
            }
            let n = [
                a.gather(flat, &off, 0),
                a.gather(flat, &off, 5),
                a.gather(flat, &off, 10),
            ];
            // −(x, y) = (−x, y): swap y+x and y−x, negate 2dxy.
            let n = [
                a.select(neg, &n[0], &n[1]),
                a.select(neg, &n[1], &n[0]),
                a.select(neg, &n[2], &self.neg(&n[2])),
            ];
            acc = self.add_niels(&acc, &n);
        }
        let r = self.rows(&acc);
        for l in 0..8 {
            if prev[l] != PAD {
                sums[prev[l] as usize] = r[l];
            }
        }

        // Each window's Σ b·bucket_b by running sums, eight windows at a time.
        let mut windows = [[0u64; 20]; WINDOWS];
        let flat = sums.as_flattened();
        for g in 0..WINDOWS / 8 {
            let mut running = identity;
            let mut total = identity;
            for b in (1..=BUCKETS).rev() {
                let off: [u32; 8] =
                    std::array::from_fn(|l| (((8 * g + l) * (BUCKETS + 1) + b) * 20) as u32);
                let bucket: [A::Fe; 4] = std::array::from_fn(|c| a.gather(flat, &off, 5 * c));
                running = self.add_ext(&running, &bucket);
                total = self.add_ext(&total, &running);
            }
            windows[8 * g..8 * g + 8].copy_from_slice(&self.rows(&total));
        }
        // Σ 2^(8w)·S_w by Horner's rule, the same value in every lane; then [8].
        let mut acc = self.broadcast(&windows[WINDOWS - 1]);
        for w in (0..WINDOWS - 1).rev() {
            for _ in 0..8 {
                acc = self.add_ext(&acc, &acc);
            }
            acc = self.add_ext(&acc, &self.broadcast(&windows[w]));
        }
        for _ in 0..3 {
            acc = self.add_ext(&acc, &acc);
        }
        let [x, y, z, _] = acc;
        a.eq(&x, &self.zero) & a.eq(&y, &z) & 1 == 1
    }

    fn checked_stream(points: &[Niels], scalars: &[[u8; 32]]) -> Option<Stream> {
        assert_eq!(points.len(), scalars.len());
        assert!(scalars.iter().all(|s| s[31] < 0x20), "scalars below 2^253");
        assert!(points.len() < 1 << 26, "row offsets fit 31 bits");
        (!points.is_empty()).then(|| Stream::new(scalars))
    }
}

impl Engine for Curve<Ifma> {
    fn decompress(&self, enc: &[[u8; 32]; 8]) -> (u8, [Niels; 8]) {
        #[target_feature(enable = "avx512f,avx512ifma")]
        fn run(c: &Curve<Ifma>, enc: &[[u8; 32]; 8]) -> (u8, [Niels; 8]) {
            c.decompress_any(enc)
        }
        // SAFETY: a `Curve<Ifma>` exists only where `ifma()` found AVX-512 IFMA.
        unsafe { run(self, enc) }
    }

    fn msm_is_small_order(&self, points: &[Niels], scalars: &[[u8; 32]]) -> bool {
        #[target_feature(enable = "avx512f,avx512ifma")]
        unsafe fn run(c: &Curve<Ifma>, points: &[Niels], stream: &Stream) -> bool {
            c.msm_any(points, stream)
        }
        match Self::checked_stream(points, scalars) {
            // SAFETY: IFMA as above; the stream's offsets are rows of `points` (one per
            // scalar, and there are as many scalars as points).
            Some(stream) => unsafe { run(self, points, &stream) },
            None => true,
        }
    }

    fn base(&self) -> &Niels {
        &self.base
    }

    #[cfg(test)]
    fn integer(&self, words: &[u64; 5]) -> BigUint {
        self.a.integer(words)
    }
}

impl Arith for Ifma {
    type Fe = Vec8<5>;

    fn encode(&self, v: &BigUint) -> [u64; 5] {
        mont_encode(v)
    }

    #[cfg(test)]
    fn integer(&self, words: &[u64; 5]) -> BigUint {
        mont_integer(words)
    }

    #[inline(always)]
    fn y_of(&self, enc: &[[u8; 32]; 8]) -> Self::Fe {
        self.mul(&ifma::pack(&enc.map(|e| y_limbs(&e))), &self.r2)
    }

    #[inline(always)]
    fn mul(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
        // SAFETY: an `Ifma` is made only on a CPU with AVX-512 IFMA.
        unsafe { self.l.mul(a, b) }
    }

    #[inline(always)]
    fn add(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
        // SAFETY: as above.
        unsafe { self.l.add(a, b) }
    }

    #[inline(always)]
    fn sub(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
        // SAFETY: as above.
        unsafe { self.l.sub(a, b) }
    }

    #[inline(always)]
    fn eq(&self, a: &Self::Fe, b: &Self::Fe) -> u8 {
        // SAFETY: as above.
        unsafe { ifma_eq(&self.l, a, b) }
    }

    #[inline(always)]
    fn select(&self, m: u8, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
        // SAFETY: as above.
        unsafe { ifma_select(m, a, b) }
    }

    #[inline(always)]
    fn odd(&self, a: &Self::Fe) -> u8 {
        // SAFETY: as above.
        unsafe { ifma_odd(&self.l, a, &self.raw_one) }
    }

    #[inline(always)]
    fn pack(&self, rows: &[[u64; 5]; 8]) -> Self::Fe {
        ifma::pack(rows)
    }

    #[inline(always)]
    fn unpack(&self, a: &Self::Fe) -> [[u64; 5]; 8] {
        // SAFETY: as above.
        unsafe { ifma_unpack(a) }
    }

    #[inline(always)]
    unsafe fn gather(&self, base: &[u64], offsets: &[u32; 8], first: usize) -> Self::Fe {
        ifma_gather(base, offsets, first)
    }
}

// The IFMA helpers enable the features themselves: an intrinsic is inlined only into code
// compiled with its feature, and a closure or a generic caller without it would call each one
// out of line.

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ifma_eq(l: &Lanes<5>, a: &Vec8<5>, b: &Vec8<5>) -> u8 {
    let (a, b) = (l.canonical(a), l.canonical(b));
    let mut m = 0xff;
    for j in 0..5 {
        m &= _mm512_cmpeq_epi64_mask(a[j], b[j]);
    }
    m
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ifma_select(m: u8, a: &Vec8<5>, b: &Vec8<5>) -> Vec8<5> {
    std::array::from_fn(|j| _mm512_mask_blend_epi64(m, a[j], b[j]))
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn ifma_odd(l: &Lanes<5>, a: &Vec8<5>, raw_one: &Vec8<5>) -> u8 {
    let plain = l.canonical(&l.mul(a, raw_one));
    _mm512_test_epi64_mask(plain[0], _mm512_set1_epi64(1))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn ifma_unpack(a: &Vec8<5>) -> [[u64; 5]; 8] {
    let mut words = [[0u64; 8]; 5];
    for j in 0..5 {
        // SAFETY: 64 bytes into a 64-byte row.
        unsafe { _mm512_storeu_si512(words[j].as_mut_ptr().cast(), a[j]) };
    }
    std::array::from_fn(|l| std::array::from_fn(|j| words[j][l]))
}

/// # Safety
/// AVX-512F present; every offset + first + 5 within `base`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn ifma_gather(base: &[u64], offsets: &[u32; 8], first: usize) -> Vec8<5> {
    let off = _mm512_add_epi64(
        _mm512_cvtepu32_epi64(_mm256_loadu_si256(offsets.as_ptr().cast())),
        _mm512_set1_epi64(first as i64),
    );
    let ptr = base.as_ptr() as *const i64;
    std::array::from_fn(|j| {
        let idx = _mm512_add_epi64(off, _mm512_set1_epi64(j as i64));
        _mm512_i64gather_epi64::<8>(idx, ptr)
    })
}

/// The MSM's work list: at step k, lane l adds the point at word offset `ents[k][l]` (with
/// [`SIGN`] set: its negation) to the bucket `keys[k][l]` = w·129 + b; [`PAD`] idles the lane.
struct Stream {
    ents: Vec<[u32; 8]>,
    keys: Vec<[u16; 8]>,
}

impl Stream {
    fn new(scalars: &[[u8; 32]]) -> Self {
        // Signed digits in [−127, 128]: byte + carry, less 256 above 128.
        let digits: Vec<[i16; WINDOWS]> = scalars
            .iter()
            .map(|s| {
                let mut d = [0i16; WINDOWS];
                let mut carry = 0i16;
                for w in 0..WINDOWS {
                    let v = s[w] as i16 + carry;
                    (d[w], carry) = if v > BUCKETS as i16 {
                        (v - 256, 1)
                    } else {
                        (v, 0)
                    };
                }
                debug_assert_eq!(carry, 0, "a scalar below 2^253 leaves no carry");
                d
            })
            .collect();
        let mut counts = vec![[0u32; BUCKETS + 1]; WINDOWS];
        for d in &digits {
            for w in 0..WINDOWS {
                counts[w][d[w].unsigned_abs() as usize] += 1;
            }
        }
        let len: Vec<usize> = counts
            .iter()
            .map(|c| c[1..].iter().map(|&n| n as usize).sum())
            .collect();
        // Longest window first, to the lane with the least work so far.
        let mut order: Vec<usize> = (0..WINDOWS).collect();
        order.sort_by_key(|&w| std::cmp::Reverse(len[w]));
        let mut load = [0usize; 8];
        let mut lane = [0usize; WINDOWS];
        // cursor[w][b]: where the next point of (w, b) goes in its lane's stream.
        let mut cursor = vec![[0usize; BUCKETS + 1]; WINDOWS];
        for w in order {
            let l = (0..8).min_by_key(|&l| load[l]).expect("eight lanes");
            lane[w] = l;
            let mut at = load[l];
            for b in 1..=BUCKETS {
                cursor[w][b] = at;
                at += counts[w][b] as usize;
            }
            load[l] = at;
        }
        let steps = load.iter().copied().max().unwrap_or(0);
        let mut ents = vec![[0u32; 8]; steps];
        let mut keys = vec![[PAD; 8]; steps];
        for (i, d) in digits.iter().enumerate() {
            let row = (i * 15) as u32;
            for w in 0..WINDOWS {
                let b = d[w].unsigned_abs() as usize;
                if b == 0 {
                    continue;
                }
                let at = cursor[w][b];
                cursor[w][b] += 1;
                ents[at][lane[w]] = row | if d[w] < 0 { SIGN } else { 0 };
                keys[at][lane[w]] = (w * (BUCKETS + 1) + b) as u16;
            }
        }
        Self { ents, keys }
    }
}

/// A scalar model of the IFMA lanes' arithmetic (Montgomery with R = 2^260 on 52-bit limbs,
/// values kept canonical), for the tests on any CPU.
#[cfg(test)]
pub(super) mod model {
    use super::*;

    pub(crate) struct Model {
        p: [u64; 5],
        pinv: u64,
        r2: [u64; 5],
    }

    /// The algorithms on the scalar model.
    pub(crate) fn engine() -> &'static Curve<Model> {
        static C: OnceLock<Curve<Model>> = OnceLock::new();
        C.get_or_init(|| {
            let p = radix52(&modulus());
            let mut inv: u64 = 1;
            for _ in 0..6 {
                inv = inv.wrapping_mul(2u64.wrapping_sub(p[0].wrapping_mul(inv)));
            }
            Curve::new(Model {
                p,
                pinv: inv.wrapping_neg() & MASK52,
                r2: mont_constants().0,
            })
        })
    }

    impl Model {
        fn ge_p(&self, v: &[u64; 5]) -> bool {
            for j in (0..5).rev() {
                if v[j] != self.p[j] {
                    return v[j] > self.p[j];
                }
            }
            true
        }

        /// v − p where v ≥ p, else v; limbs normalised.
        pub(crate) fn reduce(&self, mut v: [u64; 5]) -> [u64; 5] {
            while self.ge_p(&v) {
                let mut borrow = 0i64;
                for j in 0..5 {
                    let d = v[j] as i64 - self.p[j] as i64 + borrow;
                    v[j] = d as u64 & MASK52;
                    borrow = d >> 52;
                }
            }
            v
        }

        fn mul1(&self, a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
            let mut t = [0u128; 11];
            for i in 0..5 {
                for j in 0..5 {
                    t[i + j] += a[i] as u128 * b[j] as u128;
                }
            }
            for i in 0..5 {
                let m = (t[i] as u64 & MASK52).wrapping_mul(self.pinv) & MASK52;
                for j in 0..5 {
                    t[i + j] += m as u128 * self.p[j] as u128;
                }
                t[i + 1] += t[i] >> 52;
            }
            let mut out = [0u64; 5];
            let mut carry = 0u128;
            for k in 0..5 {
                let v = t[5 + k] + carry;
                out[k] = v as u64 & MASK52;
                carry = v >> 52;
            }
            out[4] |= (carry as u64) << 52;
            self.reduce(out)
        }

        fn add1(&self, a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
            let (a, b) = (self.reduce(*a), self.reduce(*b));
            let mut s = [0u64; 5];
            let mut carry = 0;
            for j in 0..5 {
                let v = a[j] + b[j] + carry;
                s[j] = v & MASK52;
                carry = v >> 52;
            }
            s[4] |= carry << 52;
            self.reduce(s)
        }

        fn sub1(&self, a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
            // a + p − b, never negative for canonical operands.
            let (a, b) = (self.reduce(*a), self.reduce(*b));
            let mut s = [0u64; 5];
            let mut carry = 0i64;
            for j in 0..5 {
                let v = a[j] as i64 + self.p[j] as i64 - b[j] as i64 + carry;
                s[j] = v as u64 & MASK52;
                carry = v >> 52;
            }
            s[4] |= (carry as u64) << 52;
            self.reduce(s)
        }
    }

    impl Arith for Model {
        type Fe = [[u64; 5]; 8];

        fn encode(&self, v: &BigUint) -> [u64; 5] {
            mont_encode(v)
        }
        fn integer(&self, words: &[u64; 5]) -> BigUint {
            mont_integer(words)
        }
        fn y_of(&self, enc: &[[u8; 32]; 8]) -> Self::Fe {
            std::array::from_fn(|l| self.mul1(&y_limbs(&enc[l]), &self.r2))
        }

        fn mul(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
            std::array::from_fn(|l| self.mul1(&a[l], &b[l]))
        }
        fn add(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
            std::array::from_fn(|l| self.add1(&a[l], &b[l]))
        }
        fn sub(&self, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
            std::array::from_fn(|l| self.sub1(&a[l], &b[l]))
        }
        fn eq(&self, a: &Self::Fe, b: &Self::Fe) -> u8 {
            (0..8).fold(0, |m, l| {
                m | u8::from(self.reduce(a[l]) == self.reduce(b[l])) << l
            })
        }
        fn select(&self, m: u8, a: &Self::Fe, b: &Self::Fe) -> Self::Fe {
            std::array::from_fn(|l| if m >> l & 1 == 1 { b[l] } else { a[l] })
        }
        fn odd(&self, a: &Self::Fe) -> u8 {
            let one = [1, 0, 0, 0, 0];
            (0..8).fold(0, |m, l| m | ((self.mul1(&a[l], &one)[0] & 1) as u8) << l)
        }
        fn pack(&self, rows: &[[u64; 5]; 8]) -> Self::Fe {
            *rows
        }
        fn unpack(&self, a: &Self::Fe) -> [[u64; 5]; 8] {
            *a
        }
        unsafe fn gather(&self, base: &[u64], offsets: &[u32; 8], first: usize) -> Self::Fe {
            std::array::from_fn(|l| {
                let o = offsets[l] as usize + first;
                base[o..o + 5].try_into().expect("5 words")
            })
        }
    }

    impl Engine for Curve<Model> {
        fn decompress(&self, enc: &[[u8; 32]; 8]) -> (u8, [Niels; 8]) {
            self.decompress_any(enc)
        }
        fn msm_is_small_order(&self, points: &[Niels], scalars: &[[u8; 32]]) -> bool {
            match Self::checked_stream(points, scalars) {
                // SAFETY: the model's gathers are bounds-checked.
                Some(stream) => unsafe { self.msm_any(points, &stream) },
                None => true,
            }
        }
        fn base(&self) -> &Niels {
            &self.base
        }
        fn integer(&self, words: &[u64; 5]) -> BigUint {
            self.a.integer(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The engines this CPU runs: the scalar model always, the IFMA lanes where present.
    fn engines() -> Vec<(&'static str, &'static dyn Engine)> {
        let mut v: Vec<(&str, &dyn Engine)> = vec![("model", model::engine())];
        match ifma() {
            Some(c) => v.push(("ifma", c)),
            None => eprintln!("no AVX-512 IFMA on this CPU: its lanes are not tested here"),
        }
        v
    }

    /// The canonical encoding of a lane point: (x, y) from y ± x, then x's sign on y.
    fn encode(e: &dyn Engine, n: &Niels) -> [u8; 32] {
        let p = modulus();
        let val = |k: usize| e.integer(n[5 * k..5 * k + 5].try_into().expect("5 words"));
        let (yp, ym) = (val(0), val(1));
        let half: BigUint = (&p + 1u8) >> 1u32;
        let y = (&yp + &ym) * &half % &p;
        let x = (&yp + &p - &ym) * &half % &p;
        let mut out = [0u8; 32];
        let b = y.to_bytes_le();
        out[..b.len()].copy_from_slice(&b);
        out[31] |= u8::from(x.bit(0)) << 7;
        out
    }

    fn edge_encodings() -> Vec<[u8; 32]> {
        let p: [u8; 32] = {
            let mut b = [0xffu8; 32];
            b[0] = 0xed;
            b[31] = 0x7f;
            b
        };
        let small = |y: u8| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        };
        // y = 0, 1, 2, p − 1 and every y in [p, 2^255), each with both sign bits.
        let mut ys = vec![small(0), small(1), small(2)];
        let mut pm1 = p;
        pm1[0] = 0xec;
        ys.push(pm1);
        for k in 0..19u8 {
            let mut b = p;
            b[0] = 0xed + k;
            ys.push(b);
        }
        let mut v = Vec::new();
        for y in ys {
            v.push(y);
            let mut s = y;
            s[31] |= 0x80;
            v.push(s);
        }
        for t in curve25519_dalek::constants::EIGHT_TORSION {
            v.push(t.compress().to_bytes());
        }
        v
    }

    #[test]
    fn the_self_test_passes_on_every_engine() {
        for (name, e) in engines() {
            assert_eq!(self_test(e), Ok(()), "{name}");
        }
    }

    #[test]
    fn decompression_matches_dalek() {
        let mut rng = ChaCha20Rng::seed_from_u64(25519);
        let mut encs = edge_encodings();
        for i in 0..400 {
            let mut b = [0u8; 32];
            if i % 2 == 0 {
                rng.fill_bytes(&mut b);
            } else {
                let s = Scalar::from(rng.gen::<u64>());
                b = EdwardsPoint::mul_base(&s).compress().to_bytes();
            }
            encs.push(b);
        }
        while !encs.len().is_multiple_of(8) {
            encs.push([0u8; 32]);
        }
        for (name, e) in engines() {
            let mut valid = 0;
            for chunk in encs.chunks(8) {
                let chunk: [[u8; 32]; 8] = chunk.try_into().expect("8 encodings");
                let (ok, pts) = e.decompress(&chunk);
                for l in 0..8 {
                    let want = CompressedEdwardsY(chunk[l]).decompress();
                    let enc = chunk[l];
                    assert_eq!(ok >> l & 1 == 1, want.is_some(), "{name} {enc:02x?}");
                    if let Some(want) = want {
                        valid += 1;
                        let got = encode(e, &pts[l]);
                        assert_eq!(got, want.compress().to_bytes(), "{name} {enc:02x?}");
                    }
                }
            }
            assert!(valid > 200, "{name}: {valid}");
        }
    }

    #[test]
    fn msm_is_small_order_matches_dalek() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let torsion = curve25519_dalek::constants::EIGHT_TORSION;
        for (name, e) in engines() {
            for n in [1usize, 2, 7, 9, 64, 300] {
                for case in 0..4 {
                    let pts: Vec<EdwardsPoint> = (0..n)
                        .map(|i| {
                            let p = EdwardsPoint::mul_base(&Scalar::from(rng.gen::<u64>() + 1));
                            // Small-order components on some points; one of small order.
                            if i == 4 {
                                torsion[3]
                            } else if i % 3 == 1 {
                                p + torsion[i % 8]
                            } else {
                                p
                            }
                        })
                        .collect();
                    let mut scalars: Vec<Scalar> = (0..n)
                        .map(|i| match i % 4 {
                            0 => Scalar::from(rng.gen::<u128>()),
                            1 => Scalar::ZERO,
                            2 => -Scalar::ONE,
                            _ => {
                                let mut b = [0u8; 64];
                                rng.fill_bytes(&mut b);
                                Scalar::from_bytes_mod_order_wide(&b)
                            }
                        })
                        .collect();
                    // Cases 0 and 1 end with minus their sum, cases 2 and 3 stay random.
                    let mut points = pts.clone();
                    if case < 2 {
                        let sum = EdwardsPoint::vartime_multiscalar_mul(&scalars, &pts);
                        points.push(-sum);
                        scalars.push(Scalar::ONE);
                    }
                    let want = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
                        .mul_by_cofactor()
                        .is_identity();
                    assert_eq!(want, case < 2, "the oracle on n {n} case {case}");
                    let rows: Vec<Niels> = points
                        .iter()
                        .map(|p| {
                            let (ok, d) = e.decompress(&[p.compress().to_bytes(); 8]);
                            assert_eq!(ok, 0xff);
                            d[0]
                        })
                        .collect();
                    let bytes: Vec<[u8; 32]> = scalars.iter().map(|s| s.to_bytes()).collect();
                    let got = e.msm_is_small_order(&rows, &bytes);
                    assert_eq!(got, want, "{name} n {n} case {case}");
                }
            }
        }
    }

    #[test]
    fn the_stream_visits_every_nonzero_digit_once_without_lane_conflicts() {
        use num_bigint::BigInt;
        use std::collections::{HashMap, HashSet};
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let scalars: Vec<[u8; 32]> = (0..500)
            .map(|i| match i % 3 {
                0 => Scalar::from(rng.gen::<u128>()).to_bytes(),
                1 => Scalar::from_bytes_mod_order(rng.gen()).to_bytes(),
                _ => (-Scalar::from(rng.gen::<u8>())).to_bytes(),
            })
            .collect();
        let s = Stream::new(&scalars);
        let mut digit: HashMap<(u32, usize), i64> = HashMap::new();
        let mut owner: HashMap<u16, usize> = HashMap::new();
        let mut done: [HashSet<u16>; 8] = Default::default();
        let mut prev = [PAD; 8];
        for (ent, key) in s.ents.iter().zip(&s.keys) {
            for l in 0..8 {
                if key[l] != prev[l] {
                    done[l].insert(prev[l]);
                    // Each bucket is one run in one lane: written out once, when it ends.
                    assert!(!done[l].contains(&key[l]) || key[l] == PAD, "lane {l}");
                    prev[l] = key[l];
                }
                if key[l] == PAD {
                    continue;
                }
                assert_eq!(*owner.entry(key[l]).or_insert(l), l);
                let (w, b) = (key[l] as usize / 129, (key[l] as usize % 129) as i64);
                assert!((1..=128).contains(&b));
                let d = if ent[l] & SIGN != 0 { -b } else { b };
                assert!(digit.insert((ent[l] & !SIGN, w), d).is_none());
            }
        }
        for (i, sc) in scalars.iter().enumerate() {
            let mut v = BigInt::from(0);
            for w in (0..WINDOWS).rev() {
                v = (v << 8u32) + digit.get(&((i * 15) as u32, w)).copied().unwrap_or(0);
            }
            assert_eq!(v, BigInt::from(BigUint::from_bytes_le(sc)), "scalar {i}");
        }
    }
}
