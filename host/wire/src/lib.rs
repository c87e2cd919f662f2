//! Offload's API vocabulary and encodings, as offload/v1/offload.proto defines them: the names of
//! curves, fields and schemes; points and field elements on the wire; the NTT's direction and
//! orderings. It carries no engine and no device code, so a client (`offload-client`) links this
//! and the proto only, while the daemon's domain layer (`offload-core`) builds on the same
//! definitions.

pub mod element;
pub mod ids;
pub mod ntt;
pub mod point;

pub use element::{decode_elements, encode_elements, ElementError, WireField};
pub use ids::{CurveId, FieldId, SchemeId};
pub use point::{
    curve_point_len, decode_point, decode_points, encode_point, point_len, PointEncoding,
    PointError, WireCurve,
};
