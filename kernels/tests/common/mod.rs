//! Limbs as the device stores them, computed from arkworks' canonical values (not from its
//! internal representation, so a test cannot agree with the device by sharing a mistake).
#![allow(dead_code)]

use ark_ff::{BigInteger, PrimeField};

pub fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn r<F: PrimeField>() -> F {
    let limbs = F::MODULUS.as_ref().len() * 2;
    F::from(2u64).pow([32 * limbs as u64])
}

/// x·R mod p (R = 2^(32·limbs)), the Montgomery representation, as 32-bit words.
pub fn mont_words<F: PrimeField>(x: F) -> Vec<u32> {
    words(&(x * r::<F>()).into_bigint().to_bytes_le())
}

/// The element whose Montgomery representation is `w`.
pub fn from_mont_words<F: PrimeField>(w: &[u32]) -> F {
    let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    F::from_le_bytes_mod_order(&bytes) * r::<F>().inverse().expect("R is invertible")
}
