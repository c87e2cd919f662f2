//! Fast GLV scalar decomposition: k = k1 + λ·k2 (mod r) with |k1|, |k2| ≈ √r.
//!
//! arkworks' `GLVConfig::scalar_decomposition` computes Babai rounding with heap-allocated
//! big integers (about a microsecond per scalar, tens of milliseconds for a 2^16 MSM). Here the
//! rounding β = round(k·n / r) is replaced by a multiplication with the precomputed constant
//! g = ⌊2^256·|n| / r⌋ and a shift, in fixed-width limbs. The identity k = k1 + λ·k2 holds for any
//! β, so the approximation (off by at most one) only loosens the size bound, which
//! [`GlvParams::max_bits`] accounts for.

use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ff::PrimeField;
use num_bigint::BigUint;

/// A half-size scalar: magnitude (little-endian limbs) and whether it is negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HalfScalar {
    pub neg: bool,
    pub mag: [u64; 3],
}

impl HalfScalar {
    pub fn bits(&self) -> u32 {
        for i in (0..3).rev() {
            if self.mag[i] != 0 {
                return 64 * i as u32 + (64 - self.mag[i].leading_zeros());
            }
        }
        0
    }
}

/// Per-curve constants of the decomposition, derived once from arkworks' lattice basis.
#[derive(Debug)]
pub struct GlvParams {
    /// Lattice basis [[n11, n12], [n21, n22]] as (negative?, magnitude).
    n: [(bool, [u64; 3]); 4],
    /// ⌊2^256·|n22| / r⌋ and ⌊2^256·|n12| / r⌋.
    g1: [u64; 3],
    g2: [u64; 3],
    /// Upper bound on the bit length of |k1| and |k2|.
    pub max_bits: u32,
}

fn to_limbs3(v: &BigUint) -> [u64; 3] {
    let digits = v.to_u64_digits();
    assert!(digits.len() <= 3, "GLV constant wider than 192 bits");
    let mut out = [0u64; 3];
    out[..digits.len()].copy_from_slice(&digits);
    out
}

impl GlvParams {
    pub fn new<C: GLVConfig>() -> Self {
        let r: BigUint = C::ScalarField::MODULUS.into();
        let n = C::SCALAR_DECOMP_COEFFS.map(|(pos, v)| {
            let v: BigUint = v.into();
            (!pos, to_limbs3(&v))
        });
        let abs = |i: usize| -> BigUint {
            let v: BigUint = C::SCALAR_DECOMP_COEFFS[i].1.into();
            v
        };
        let shift = BigUint::from(1u8) << 256;
        let g1 = to_limbs3(&(&shift * abs(3) / &r));
        let g2 = to_limbs3(&(&shift * abs(1) / &r));
        // |k1| ≤ |β1 n11| ... bounded by (|n11| + |n21|) once β is within one of the exact
        // quotient; likewise |k2| ≤ |n12| + |n22|. One more bit of margin for the rounding slack.
        let b1 = abs(0) + abs(2);
        let b2 = abs(1) + abs(3);
        let max_bits = b1.bits().max(b2.bits()) as u32 + 1;
        Self {
            n,
            g1,
            g2,
            max_bits,
        }
    }

    /// Decompose `k` (canonical, < r) into (k1, k2) with k ≡ k1 + λ·k2 (mod r).
    pub fn decompose<F: PrimeField>(&self, k: &F) -> (HalfScalar, HalfScalar) {
        let kb = k.into_bigint();
        let limbs = kb.as_ref();
        let mut k4 = [0u64; 4];
        k4[..limbs.len().min(4)].copy_from_slice(&limbs[..limbs.len().min(4)]);
        self.decompose_limbs(k4)
    }

    /// [`GlvParams::decompose`] of a canonical value given as little-endian limbs (< r).
    pub fn decompose_limbs(&self, k4: [u64; 4]) -> (HalfScalar, HalfScalar) {
        // β1 = round(k·n22 / r), β2 = round(−k·n12 / r), each as a signed value.
        let beta1 = I320::from_mag(self.n[3].0, &mul_shift256(&k4, &self.g1));
        let beta2 = I320::from_mag(!self.n[1].0, &mul_shift256(&k4, &self.g2));
        let n11 = I320::from_mag(self.n[0].0, &self.n[0].1);
        let n12 = I320::from_mag(self.n[1].0, &self.n[1].1);
        let n21 = I320::from_mag(self.n[2].0, &self.n[2].1);
        let n22 = I320::from_mag(self.n[3].0, &self.n[3].1);

        let b1 = beta1.mul(&n11).add(&beta2.mul(&n21));
        let b2 = beta1.mul(&n12).add(&beta2.mul(&n22));
        let k1 = I320::from_mag(false, &k4).sub(&b1);
        let k2 = I320::zero().sub(&b2);
        (k1.to_half(), k2.to_half())
    }
}

/// ⌊a·g / 2^256⌋ for a 256-bit `a` and a 192-bit `g`.
fn mul_shift256(a: &[u64; 4], g: &[u64; 3]) -> [u64; 3] {
    let mut prod = [0u64; 7];
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &gj) in g.iter().enumerate() {
            let t = prod[i + j] as u128 + (ai as u128) * (gj as u128) + carry;
            prod[i + j] = t as u64;
            carry = t >> 64;
        }
        prod[i + 3] = carry as u64;
    }
    [prod[4], prod[5], prod[6]]
}

/// Two's-complement integers modulo 2^320. The decomposition's intermediate values stay far
/// below 2^319 in magnitude, so wrapping arithmetic here is exact.
#[derive(Clone, Copy, Debug)]
struct I320([u64; 5]);

impl I320 {
    fn zero() -> Self {
        I320([0; 5])
    }

    fn from_mag(neg: bool, mag: &[u64]) -> Self {
        let mut v = [0u64; 5];
        v[..mag.len()].copy_from_slice(mag);
        let v = I320(v);
        if neg {
            I320::zero().sub(&v)
        } else {
            v
        }
    }

    fn add(&self, o: &Self) -> Self {
        let mut out = [0u64; 5];
        let mut carry = false;
        for (o_i, (a, b)) in out.iter_mut().zip(self.0.iter().zip(&o.0)) {
            let (s1, c1) = a.overflowing_add(*b);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            *o_i = s2;
            carry = c1 || c2;
        }
        I320(out)
    }

    fn sub(&self, o: &Self) -> Self {
        let mut out = [0u64; 5];
        let mut borrow = false;
        for (o_i, (a, b)) in out.iter_mut().zip(self.0.iter().zip(&o.0)) {
            let (s1, b1) = a.overflowing_sub(*b);
            let (s2, b2) = s1.overflowing_sub(borrow as u64);
            *o_i = s2;
            borrow = b1 || b2;
        }
        I320(out)
    }

    /// Product modulo 2^320.
    fn mul(&self, o: &Self) -> Self {
        let mut out = [0u64; 5];
        for i in 0..5 {
            let mut carry = 0u128;
            for j in 0..(5 - i) {
                let t = out[i + j] as u128 + (self.0[i] as u128) * (o.0[j] as u128) + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
        }
        I320(out)
    }

    fn is_negative(&self) -> bool {
        self.0[4] >> 63 == 1
    }

    fn to_half(self) -> HalfScalar {
        let neg = self.is_negative();
        let m = if neg { I320::zero().sub(&self) } else { self };
        debug_assert!(m.0[3] == 0 && m.0[4] == 0, "GLV half-scalar out of range");
        HalfScalar {
            neg,
            mag: [m.0[0], m.0[1], m.0[2]],
        }
    }
}

/// Bits `[start, start + len)` of a magnitude (len ≤ 32), zero past its end.
#[inline(always)]
pub fn bits_at(mag: &[u64; 3], start: u32, len: u32) -> u32 {
    let limb = (start / 64) as usize;
    let off = start % 64;
    if limb >= 3 {
        return 0;
    }
    let mut v = mag[limb] >> off;
    if off + len > 64 && limb + 1 < 3 {
        v |= mag[limb + 1] << (64 - off);
    }
    (v & ((1u64 << len) - 1)) as u32
}

/// The signed digit of window `j` (width `c`): d = w_j + b_{jc−1} − 2^c·b_{(j+1)c−1}, so that
/// Σ d_j·2^{jc} = k and |d_j| ≤ 2^{c−1}. Each window is computed on its own, no carry chain.
#[inline(always)]
pub fn signed_digit(mag: &[u64; 3], j: u32, c: u32) -> i32 {
    let start = j * c;
    let w = bits_at(mag, start, c) as i32;
    let below = if start == 0 {
        0
    } else {
        bits_at(mag, start - 1, 1) as i32
    };
    let top = (w >> (c - 1)) & 1;
    w + below - (top << c)
}
