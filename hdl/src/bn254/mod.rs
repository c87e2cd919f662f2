//! BN254's base field Fq (p < 2^254): the arithmetic a later MSM engine builds on.

pub mod mont;
pub mod pins;

/// The modulus, little-endian 64-bit limbs.
pub const P: [u64; 4] = [
    0x3c20_8c16_d87c_fd47,
    0x9781_6a91_6871_ca8d,
    0xb850_45b6_8181_585d,
    0x3064_4e72_e131_a029,
];
