//! The names the API gives its curves, fields and signature schemes: one vocabulary for the
//! proto's enums, the capabilities a backend claims, reports and the CLI.

use std::fmt;

/// A closed set of names: each value's name in the API's words, and back.
pub trait Named: Sized + Copy + PartialEq + 'static {
    /// Every value, in the order the API lists them.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == s)
    }
    /// The names, for an error that says what would have been accepted.
    fn names() -> String {
        Self::ALL
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `Display` as the name.
macro_rules! display_as_name {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// A group the MSM runs in. The curve's name alone is its G1 (as the API has always named
/// it); G2 is named with its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CurveId {
    Bn254,
    Bls12_381,
    Bn254G2,
    Bls12_381G2,
}

impl CurveId {
    pub const ALL: [CurveId; 4] = [
        CurveId::Bn254,
        CurveId::Bls12_381,
        CurveId::Bn254G2,
        CurveId::Bls12_381G2,
    ];

    /// The field the group's scalars live in.
    pub fn scalar_field(self) -> FieldId {
        match self {
            CurveId::Bn254 | CurveId::Bn254G2 => FieldId::Bn254,
            CurveId::Bls12_381 | CurveId::Bls12_381G2 => FieldId::Bls12_381,
        }
    }

    pub fn is_g2(self) -> bool {
        matches!(self, CurveId::Bn254G2 | CurveId::Bls12_381G2)
    }
}

impl Named for CurveId {
    const ALL: &'static [CurveId] = &CurveId::ALL;
    fn name(self) -> &'static str {
        match self {
            CurveId::Bn254 => "bn254",
            CurveId::Bls12_381 => "bls12-381",
            CurveId::Bn254G2 => "bn254-g2",
            CurveId::Bls12_381G2 => "bls12-381-g2",
        }
    }
}

/// The arkworks configuration of each group the API names.
pub mod curves {
    pub type Bn254 = ark_bn254::g1::Config;
    pub type Bls12_381 = ark_bls12_381::g1::Config;
    pub type Bn254G2 = ark_bn254::g2::Config;
    pub type Bls12_381G2 = ark_bls12_381::g2::Config;
}

/// `with_curve!(id, C => expr)`: `expr` with `C` the arkworks configuration of the group `id`
/// names, so that code generic over the curve is called once instead of once per arm.
#[macro_export]
macro_rules! with_curve {
    ($id:expr, $c:ident => $body:expr) => {
        match $id {
            $crate::ids::CurveId::Bn254 => {
                type $c = $crate::ids::curves::Bn254;
                $body
            }
            $crate::ids::CurveId::Bls12_381 => {
                type $c = $crate::ids::curves::Bls12_381;
                $body
            }
            $crate::ids::CurveId::Bn254G2 => {
                type $c = $crate::ids::curves::Bn254G2;
                $body
            }
            $crate::ids::CurveId::Bls12_381G2 => {
                type $c = $crate::ids::curves::Bls12_381G2;
                $body
            }
        }
    };
}
display_as_name!(CurveId);

/// A field the NTT runs over: the scalar fields of the two curves, and the STARK fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldId {
    Bn254,
    Bls12_381,
    BabyBear,
    Goldilocks,
}

impl Named for FieldId {
    const ALL: &'static [FieldId] = &FieldId::ALL;
    fn name(self) -> &'static str {
        match self {
            FieldId::Bn254 => "bn254",
            FieldId::Bls12_381 => "bls12-381",
            FieldId::BabyBear => "babybear",
            FieldId::Goldilocks => "goldilocks",
        }
    }
}
display_as_name!(FieldId);

impl FieldId {
    /// Every field the API transforms over.
    pub const ALL: [FieldId; 4] = [
        FieldId::Bn254,
        FieldId::Bls12_381,
        FieldId::BabyBear,
        FieldId::Goldilocks,
    ];

    /// log2 of the longest transform the field has roots of unity for.
    pub fn two_adicity(self) -> u32 {
        use ark_ff::FftField;
        use p3_field::TwoAdicField;
        match self {
            FieldId::Bn254 => ark_bn254::Fr::TWO_ADICITY,
            FieldId::Bls12_381 => ark_bls12_381::Fr::TWO_ADICITY,
            FieldId::BabyBear => p3_baby_bear::BabyBear::TWO_ADICITY as u32,
            FieldId::Goldilocks => p3_goldilocks::Goldilocks::TWO_ADICITY as u32,
        }
    }
}

/// A signature scheme without its policy: what a backend's capabilities name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemeId {
    Ed25519,
    EcdsaSecp256k1,
    Bip340,
    BlsEth,
}

impl SchemeId {
    pub const ALL: [SchemeId; 4] = [
        SchemeId::Ed25519,
        SchemeId::EcdsaSecp256k1,
        SchemeId::Bip340,
        SchemeId::BlsEth,
    ];
}

impl Named for SchemeId {
    const ALL: &'static [SchemeId] = &SchemeId::ALL;
    fn name(self) -> &'static str {
        match self {
            SchemeId::Ed25519 => "ed25519",
            SchemeId::EcdsaSecp256k1 => "ecdsa-secp256k1",
            SchemeId::Bip340 => "bip340",
            SchemeId::BlsEth => "bls12-381-eth",
        }
    }
}
display_as_name!(SchemeId);

#[cfg(test)]
mod tests {
    use super::{CurveId, FieldId, Named, SchemeId};

    #[test]
    fn every_name_parses_back_and_nothing_else_does() {
        for c in CurveId::ALL {
            assert_eq!(CurveId::parse(c.name()), Some(c));
            assert_eq!(c.to_string(), c.name());
        }
        for f in FieldId::ALL {
            assert_eq!(FieldId::parse(&f.to_string()), Some(f));
        }
        for s in SchemeId::ALL {
            assert_eq!(SchemeId::parse(s.name()), Some(s));
        }
        assert_eq!(CurveId::parse("BN254"), None);
        assert_eq!(FieldId::parse("bls12_381"), None);
        assert_eq!(FieldId::names(), "bn254, bls12-381, babybear, goldilocks");
    }

    #[test]
    fn two_adicities_are_the_fields_own() {
        // BN254 Fr: r - 1 = 2^28 · odd; BLS12-381 Fr: 2^32; BabyBear 15·2^27 + 1; Goldilocks
        // 2^64 - 2^32 + 1.
        let got: Vec<u32> = FieldId::ALL.iter().map(|f| f.two_adicity()).collect();
        assert_eq!(got, [28, 32, 27, 32]);
    }
}
