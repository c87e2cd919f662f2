//! The encodings the API documents, from `offload-wire` (which clients link without the
//! engine), and what the daemon's side adds: curves the engine computes on, and scalars kept in
//! canonical form for the MSM.

pub use offload_wire::element::{decode_elements, encode_elements, ElementError, WireField};
pub use offload_wire::ids::{CurveId, Named};
pub use offload_wire::point::{
    curve_point_len, decode_point, decode_points, encode_point, point_len, PointEncoding,
    PointError, WireCurve,
};

use ark_ff::PrimeField;
use offload_engine::msm::MsmCurve;

/// A curve the API serves and the engine computes on: its wire forms and its MSM arithmetic.
pub trait Curve: WireCurve + MsmCurve {}

impl<C: WireCurve + MsmCurve> Curve for C {}

/// 32-byte scalars packed back to back, kept canonical (no conversion to Montgomery form).
pub fn decode_canonical<F: PrimeField<BigInt = ark_ff::BigInt<4>>>(
    packed: &[u8],
) -> Result<Vec<offload_engine::msm::Canonical<F>>, ElementError> {
    use rayon::prelude::*;
    if !packed.len().is_multiple_of(32) {
        return Err(ElementError::Ragged {
            len: packed.len(),
            width: 32,
        });
    }
    packed
        .par_chunks(32)
        .with_min_len(4096)
        .enumerate()
        .map(|(index, c)| {
            let limbs =
                std::array::from_fn(|k| u64::from_le_bytes(std::array::from_fn(|i| c[8 * k + i])));
            offload_engine::msm::Canonical::new(limbs).ok_or(ElementError::NotCanonical { index })
        })
        .collect()
}
