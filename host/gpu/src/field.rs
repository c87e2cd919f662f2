//! Elements as the kernels store them: arkworks' Montgomery limbs for the curve scalar fields
//! (the device's R is arkworks' R), BabyBear in Montgomery form with R = 2^32, Goldilocks
//! canonical.

use ark_ff::BigInt;
use offload_engine::ntt::NttField;
use p3_field::{PrimeCharacteristicRing, PrimeField32, PrimeField64};

pub trait DeviceField: NttField {
    /// The kernels' name suffix.
    const SUFFIX: &'static str;
    /// The field's index in the host emulation's dispatch.
    const HOST_ID: u32;
    /// 32-bit words per element.
    const WORDS: usize;
    fn push_words(&self, out: &mut Vec<u32>);
    fn from_words(w: &[u32]) -> Self;
}

fn push_limbs(limbs: &[u64], out: &mut Vec<u32>) {
    for l in limbs {
        out.push(*l as u32);
        out.push((*l >> 32) as u32);
    }
}

fn limbs<const N: usize>(w: &[u32]) -> [u64; N] {
    std::array::from_fn(|i| w[2 * i] as u64 | (w[2 * i + 1] as u64) << 32)
}

impl DeviceField for ark_bn254::Fr {
    const SUFFIX: &'static str = "bn254_fr";
    const HOST_ID: u32 = 0;
    const WORDS: usize = 8;
    fn push_words(&self, out: &mut Vec<u32>) {
        push_limbs(&self.0 .0, out);
    }
    fn from_words(w: &[u32]) -> Self {
        ark_bn254::Fr::new_unchecked(BigInt(limbs::<4>(w)))
    }
}

impl DeviceField for ark_bls12_381::Fr {
    const SUFFIX: &'static str = "bls12_381_fr";
    const HOST_ID: u32 = 1;
    const WORDS: usize = 8;
    fn push_words(&self, out: &mut Vec<u32>) {
        push_limbs(&self.0 .0, out);
    }
    fn from_words(w: &[u32]) -> Self {
        ark_bls12_381::Fr::new_unchecked(BigInt(limbs::<4>(w)))
    }
}

const BB_P: u64 = 0x7800_0001;
/// 2^32 mod p and 2^−32 mod p.
const BB_R: u64 = 0x0fff_fffe;
const BB_R_INV: u64 = 0x3840_0000;

impl DeviceField for p3_baby_bear::BabyBear {
    const SUFFIX: &'static str = "babybear";
    const HOST_ID: u32 = 2;
    const WORDS: usize = 1;
    fn push_words(&self, out: &mut Vec<u32>) {
        out.push((self.as_canonical_u32() as u64 * BB_R % BB_P) as u32);
    }
    fn from_words(w: &[u32]) -> Self {
        p3_baby_bear::BabyBear::from_u32((w[0] as u64 * BB_R_INV % BB_P) as u32)
    }
}

impl DeviceField for p3_goldilocks::Goldilocks {
    const SUFFIX: &'static str = "goldilocks";
    const HOST_ID: u32 = 3;
    const WORDS: usize = 2;
    fn push_words(&self, out: &mut Vec<u32>) {
        let v = self.as_canonical_u64();
        out.push(v as u32);
        out.push((v >> 32) as u32);
    }
    fn from_words(w: &[u32]) -> Self {
        <p3_goldilocks::Goldilocks as PrimeCharacteristicRing>::from_u64(
            w[0] as u64 | (w[1] as u64) << 32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<F: DeviceField>(xs: &[F]) {
        for &x in xs {
            let mut w = Vec::new();
            x.push_words(&mut w);
            assert_eq!(w.len(), F::WORDS);
            assert_eq!(F::from_words(&w), x);
        }
    }

    #[test]
    fn words_round_trip() {
        let v = |k: u64| k;
        round_trip(&[0, 1, 2, 12345].map(|k| ark_bn254::Fr::from(v(k))));
        round_trip(&[0, 1, 2, 12345].map(|k| ark_bls12_381::Fr::from(v(k))));
        round_trip(&[0, 1, 0x7800_0000].map(p3_baby_bear::BabyBear::from_u32));
        round_trip(
            &[0, 1, 0xffff_ffff_0000_0000]
                .map(<p3_goldilocks::Goldilocks as PrimeCharacteristicRing>::from_u64),
        );
        // BabyBear's device form is Montgomery: 1 is 2^32 mod p.
        let mut w = Vec::new();
        p3_baby_bear::BabyBear::ONE.push_words(&mut w);
        assert_eq!(w, vec![BB_R as u32]);
    }
}
