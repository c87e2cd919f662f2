//! The proto's curve and field enums and the API's names for them (offload-wire), both ways,
//! in one place: the daemon, the client and the CLI all convert here.

use crate::v1 as pb;
use offload_wire::ids::{CurveId, FieldId};
use offload_wire::point::PointEncoding;

impl From<PointEncoding> for pb::PointEncoding {
    fn from(e: PointEncoding) -> Self {
        match e {
            PointEncoding::ArkCompressed => pb::PointEncoding::ArkCompressed,
            PointEncoding::ArkUncompressed => pb::PointEncoding::ArkUncompressed,
            PointEncoding::Eip196 => pb::PointEncoding::Eip196,
            PointEncoding::Eip2537 => pb::PointEncoding::Eip2537,
        }
    }
}

impl From<CurveId> for pb::Curve {
    fn from(c: CurveId) -> Self {
        match c {
            CurveId::Bn254 => pb::Curve::Bn254,
            CurveId::Bls12_381 => pb::Curve::Bls12381,
            CurveId::Bn254G2 => pb::Curve::Bn254G2,
            CurveId::Bls12_381G2 => pb::Curve::Bls12381G2,
        }
    }
}

/// `Unspecified` names no curve.
impl TryFrom<pb::Curve> for CurveId {
    type Error = pb::Curve;
    fn try_from(c: pb::Curve) -> Result<Self, pb::Curve> {
        match c {
            pb::Curve::Bn254 => Ok(CurveId::Bn254),
            pb::Curve::Bls12381 => Ok(CurveId::Bls12_381),
            pb::Curve::Bn254G2 => Ok(CurveId::Bn254G2),
            pb::Curve::Bls12381G2 => Ok(CurveId::Bls12_381G2),
            pb::Curve::Unspecified => Err(c),
        }
    }
}

impl From<FieldId> for pb::NttField {
    fn from(f: FieldId) -> Self {
        match f {
            FieldId::Bn254 => pb::NttField::Bn254Fr,
            FieldId::Bls12_381 => pb::NttField::Bls12381Fr,
            FieldId::BabyBear => pb::NttField::Babybear,
            FieldId::Goldilocks => pb::NttField::Goldilocks,
        }
    }
}

/// `Unspecified` names no field.
impl TryFrom<pb::NttField> for FieldId {
    type Error = pb::NttField;
    fn try_from(f: pb::NttField) -> Result<Self, pb::NttField> {
        match f {
            pb::NttField::Bn254Fr => Ok(FieldId::Bn254),
            pb::NttField::Bls12381Fr => Ok(FieldId::Bls12_381),
            pb::NttField::Babybear => Ok(FieldId::BabyBear),
            pb::NttField::Goldilocks => Ok(FieldId::Goldilocks),
            pb::NttField::Unspecified => Err(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_curve_and_field_round_trips() {
        for c in CurveId::ALL {
            assert_eq!(CurveId::try_from(pb::Curve::from(c)), Ok(c));
        }
        for f in FieldId::ALL {
            assert_eq!(FieldId::try_from(pb::NttField::from(f)), Ok(f));
        }
        assert!(CurveId::try_from(pb::Curve::Unspecified).is_err());
        assert!(FieldId::try_from(pb::NttField::Unspecified).is_err());
    }
}
