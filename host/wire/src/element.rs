//! Field elements as offload.proto carries them: canonical little-endian integers of a fixed
//! width per field (32 bytes for the curves' scalar fields, 4 for BabyBear, 8 for Goldilocks),
//! packed back to back.

use ark_ff::{BigInteger, PrimeField};
use p3_field::integers::QuotientMap;
use p3_field::{PrimeField32, PrimeField64};

/// A field whose elements travel as canonical little-endian integers of a fixed width.
pub trait WireField: Sized + Copy + Send + Sync {
    const BYTES: usize;
    /// `None` when the value is not below the modulus.
    fn decode(le: &[u8]) -> Option<Self>;
    fn encode(&self, out: &mut Vec<u8>);
}

macro_rules! ark_wire_field {
    ($f:ty) => {
        impl WireField for $f {
            const BYTES: usize = 32;
            fn decode(le: &[u8]) -> Option<Self> {
                let mut limbs = [0u64; 4];
                for (limb, c) in limbs.iter_mut().zip(le.chunks_exact(8)) {
                    *limb = u64::from_le_bytes(std::array::from_fn(|i| c[i]));
                }
                <$f>::from_bigint(ark_ff::BigInt(limbs))
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.into_bigint().to_bytes_le());
            }
        }
    };
}
ark_wire_field!(ark_bn254::Fr);
ark_wire_field!(ark_bls12_381::Fr);

impl WireField for p3_baby_bear::BabyBear {
    const BYTES: usize = 4;
    fn decode(le: &[u8]) -> Option<Self> {
        Self::from_canonical_checked(u32::from_le_bytes(std::array::from_fn(|i| le[i])))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.as_canonical_u32().to_le_bytes());
    }
}

impl WireField for p3_goldilocks::Goldilocks {
    const BYTES: usize = 8;
    fn decode(le: &[u8]) -> Option<Self> {
        Self::from_canonical_checked(u64::from_le_bytes(std::array::from_fn(|i| le[i])))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.as_canonical_u64().to_le_bytes());
    }
}

/// Why a packed vector of field elements was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElementError {
    #[error("{len} bytes is not a whole number of {width}-byte elements")]
    Ragged { len: usize, width: usize },
    #[error("[{index}]: not below the field modulus")]
    NotCanonical { index: usize },
}

/// Elements packed back to back.
pub fn decode_elements<F: WireField>(packed: &[u8]) -> Result<Vec<F>, ElementError> {
    use rayon::prelude::*;
    if !packed.len().is_multiple_of(F::BYTES) {
        return Err(ElementError::Ragged {
            len: packed.len(),
            width: F::BYTES,
        });
    }
    packed
        .par_chunks(F::BYTES)
        .with_min_len(4096)
        .enumerate()
        .map(|(index, c)| F::decode(c).ok_or(ElementError::NotCanonical { index }))
        .collect()
}

pub fn encode_elements<F: WireField>(v: &[F]) -> Vec<u8> {
    use rayon::prelude::*;
    let mut out = vec![0u8; v.len() * F::BYTES];
    out.par_chunks_mut(F::BYTES * 1024)
        .zip(v.par_chunks(1024))
        .for_each(|(o, x)| {
            let mut buf = Vec::with_capacity(o.len());
            for e in x {
                e.encode(&mut buf);
            }
            o.copy_from_slice(&buf);
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, PrimeField};

    #[test]
    fn field_elements_must_be_canonical() {
        let p = ark_bn254::Fr::MODULUS.to_bytes_le();
        assert_eq!(
            decode_elements::<ark_bn254::Fr>(&[vec![0u8; 32], p].concat()),
            Err(ElementError::NotCanonical { index: 1 })
        );
        assert_eq!(
            decode_elements::<p3_goldilocks::Goldilocks>(&[0u8; 12]),
            Err(ElementError::Ragged { len: 12, width: 8 })
        );
        let order = 0xffff_ffff_0000_0001u64.to_le_bytes();
        assert!(decode_elements::<p3_goldilocks::Goldilocks>(&order).is_err());
        let bb = 0x7800_0001u32.to_le_bytes();
        assert!(decode_elements::<p3_baby_bear::BabyBear>(&bb).is_err());
        let v: Vec<p3_baby_bear::BabyBear> =
            decode_elements(&0x7800_0000u32.to_le_bytes()).unwrap();
        assert_eq!(encode_elements(&v), 0x7800_0000u32.to_le_bytes());
    }
}
