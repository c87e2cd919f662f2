//! The curves the MSM engine serves, and what it needs of each.

use super::glv::GlvParams;
use super::repr::Repr;
use ark_ec::scalar_mul::glv::GLVConfig;
use std::sync::OnceLock;

/// A short-Weierstrass curve (a = 0) with an efficient endomorphism, as arkworks configures it.
/// Adding a curve is a few lines: name it, hand out its decomposition constants, and say which
/// fast point representation it has.
/// Scalars are 256-bit (four limbs), as the GLV decomposition assumes.
pub trait MsmCurve:
    GLVConfig + ark_ec::CurveConfig<ScalarField: ark_ff::PrimeField<BigInt = ark_ff::BigInt<4>>>
{
    /// Wire and report name, e.g. `bn254`.
    const NAME: &'static str;
    /// The vectorised representation for CPUs that have it.
    type Fast: Repr<Self> + 'static;
    fn glv_params() -> &'static GlvParams;
    /// The fast representation, when this CPU runs it.
    fn fast() -> Option<&'static Self::Fast>;
}

macro_rules! msm_curve {
    ($cfg:ty, $name:literal, $fq:ty, $m:literal, $n:literal) => {
        msm_curve!($cfg, $name, $fq, $m, $n, 1);
    };
    ($cfg:ty, $name:literal, $fq:ty, $m:literal, $n:literal, $d:literal) => {
        impl MsmCurve for $cfg {
            const NAME: &'static str = $name;
            #[cfg(target_arch = "x86_64")]
            type Fast = super::ifma::IfmaRepr<$cfg, ark_ff::MontBackend<$fq, $m>, $m, $n, $d>;
            #[cfg(not(target_arch = "x86_64"))]
            type Fast = super::repr::ArkRepr;

            fn glv_params() -> &'static GlvParams {
                static P: OnceLock<GlvParams> = OnceLock::new();
                P.get_or_init(GlvParams::new::<$cfg>)
            }

            fn fast() -> Option<&'static Self::Fast> {
                #[cfg(target_arch = "x86_64")]
                {
                    static F: OnceLock<Option<<$cfg as MsmCurve>::Fast>> = OnceLock::new();
                    F.get_or_init(<$cfg as MsmCurve>::Fast::new).as_ref()
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    None
                }
            }
        }
    };
}

// Base fields: BN254's 254-bit p in 5 limbs of 52 bits, BLS12-381's 381-bit p in 8.
msm_curve!(ark_bn254::g1::Config, "bn254", ark_bn254::FqConfig, 4, 5);
msm_curve!(
    ark_bls12_381::g1::Config,
    "bls12-381",
    ark_bls12_381::FqConfig,
    6,
    8
);
// G2 over Fq2 = Fq[u]/(u² + 1), which Groth16's B term needs: the same lanes, two per
// coordinate, products by Karatsuba.
msm_curve!(
    ark_bn254::g2::Config,
    "bn254-g2",
    ark_bn254::FqConfig,
    4,
    5,
    2
);
msm_curve!(
    ark_bls12_381::g2::Config,
    "bls12-381-g2",
    ark_bls12_381::FqConfig,
    6,
    8,
    2
);

// secp256k1's 256-bit p also fits 5 limbs: 2^260 > 4p.
msm_curve!(
    super::secp256k1::Config,
    "secp256k1",
    ark_secp256k1::FqConfig,
    4,
    5
);
