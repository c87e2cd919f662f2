//! G1 points as the MSM kernels store them: affine bases with arkworks' Montgomery limbs
//! ((0, 0) for infinity), results in XYZZ coordinates, converted back on the host.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ff::{BigInt, Field, PrimeField, Zero};

pub trait DeviceCurve: SWCurveConfig {
    /// The kernels' name suffix.
    const SUFFIX: &'static str;
    /// 32-bit words per base-field element.
    const BASE_WORDS: usize;
    /// Bits of the largest canonical scalar.
    const SCALAR_BITS: u32;
    fn push_affine(p: &Affine<Self>, out: &mut Vec<u32>);
    /// An XYZZ result; None when it is not a point of the curve (a faulty device).
    fn from_xyzz(w: &[u32]) -> Option<Projective<Self>>;
}

macro_rules! device_curve {
    ($config:ty, $fq:ty, $limbs:literal, $suffix:literal, $bits:literal) => {
        impl DeviceCurve for $config {
            const SUFFIX: &'static str = $suffix;
            const BASE_WORDS: usize = 2 * $limbs;
            const SCALAR_BITS: u32 = $bits;
            fn push_affine(p: &Affine<Self>, out: &mut Vec<u32>) {
                if p.infinity {
                    out.extend(std::iter::repeat_n(0, 2 * Self::BASE_WORDS));
                    return;
                }
                for l in p.x.0 .0.iter().chain(p.y.0 .0.iter()) {
                    out.push(*l as u32);
                    out.push((*l >> 32) as u32);
                }
            }
            fn from_xyzz(w: &[u32]) -> Option<Projective<Self>> {
                let n = Self::BASE_WORDS;
                let coord = |k: usize| {
                    let s = &w[k * n..(k + 1) * n];
                    let limbs: [u64; $limbs] =
                        std::array::from_fn(|i| s[2 * i] as u64 | (s[2 * i + 1] as u64) << 32);
                    let big = BigInt(limbs);
                    // A value at or above p is not a field element: a faulty device.
                    (big < <$fq as PrimeField>::MODULUS).then(|| <$fq>::new_unchecked(big))
                };
                let (x, y, zz, zzz) = (coord(0)?, coord(1)?, coord(2)?, coord(3)?);
                if zz.is_zero() {
                    return Some(Projective::zero());
                }
                let p = Affine::new_unchecked(x * zz.inverse()?, y * zzz.inverse()?);
                (p.is_on_curve() && zz * zz * zz == zzz * zzz).then(|| p.into())
            }
        }
    };
}

device_curve!(ark_bn254::g1::Config, ark_bn254::Fq, 4, "bn254", 254);
device_curve!(
    ark_bls12_381::g1::Config,
    ark_bls12_381::Fq,
    6,
    "bls12_381",
    255
);
