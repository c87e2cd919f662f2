//! The curves the MSM engine serves, and what it needs of each.

use super::glv::GlvParams;
use ark_ec::scalar_mul::glv::GLVConfig;
use std::sync::OnceLock;

/// A short-Weierstrass curve (a = 0) with an efficient endomorphism, as arkworks configures it.
/// Adding a curve is a few lines: name it and hand out its decomposition constants.
pub trait MsmCurve: GLVConfig {
    /// Wire and report name, e.g. `bn254`.
    const NAME: &'static str;
    fn glv_params() -> &'static GlvParams;
}

macro_rules! msm_curve {
    ($cfg:ty, $name:literal) => {
        impl MsmCurve for $cfg {
            const NAME: &'static str = $name;
            fn glv_params() -> &'static GlvParams {
                static P: OnceLock<GlvParams> = OnceLock::new();
                P.get_or_init(GlvParams::new::<$cfg>)
            }
        }
    };
}

msm_curve!(ark_bn254::g1::Config, "bn254");
msm_curve!(ark_bls12_381::g1::Config, "bls12-381");
