//! secp256k1 with its endomorphism, for the BIP340 batch equation.
//!
//! ark-secp256k1 0.5 gives the fields and the curve but no GLV configuration, and a foreign
//! trait cannot be added to its config from here, so this config re-states the curve over the
//! same fields and adds the endomorphism (x, y) ↦ (βx, y) = λ·(x, y) with the lattice basis
//! from Gallant–Lambert–Vanstone (the constants libsecp256k1 uses).

use ark_ec::{
    models::CurveConfig,
    scalar_mul::glv::GLVConfig,
    short_weierstrass::{self as sw, SWCurveConfig},
};
use ark_ff::{AdditiveGroup, BigInt, Field, MontFp, PrimeField};
use ark_secp256k1::{Fq, Fr};

pub type Affine = sw::Affine<Config>;
pub type Projective = sw::Projective<Config>;

#[derive(Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct Config;

impl CurveConfig for Config {
    type BaseField = Fq;
    type ScalarField = Fr;
    const COFACTOR: &'static [u64] = &[0x1];
    const COFACTOR_INV: Fr = Fr::ONE;
}

impl SWCurveConfig for Config {
    const COEFF_A: Fq = Fq::ZERO;
    const COEFF_B: Fq = MontFp!("7");
    const GENERATOR: Affine =
        Affine::new_unchecked(ark_secp256k1::G_GENERATOR_X, ark_secp256k1::G_GENERATOR_Y);

    #[inline(always)]
    fn mul_by_a(_: Fq) -> Fq {
        Fq::ZERO
    }
}

impl GLVConfig for Config {
    /// β, a cube root of unity in Fq.
    const ENDO_COEFFS: &'static [Fq] = &[MontFp!(
        "55594575648329892869085402983802832744385952214688224221778511981742606582254"
    )];

    /// λ, the cube root of unity in Fr with λ·(x, y) = (βx, y).
    const LAMBDA: Fr =
        MontFp!("37718080363155996902926221483475020450927657555482586988616620542887997980018");

    /// Rows (n11, n12), (n21, n22) with n_i1 + λ·n_i2 ≡ 0 (mod r) and determinant r; the flag
    /// says whether the entry is positive.
    const SCALAR_DECOMP_COEFFS: [(bool, <Fr as PrimeField>::BigInt); 4] = [
        (true, BigInt!("64502973549206556628585045361533709077")),
        (false, BigInt!("303414439467246543595250775667605759171")),
        (true, BigInt!("367917413016453100223835821029139468248")),
        (true, BigInt!("64502973549206556628585045361533709077")),
    ];

    fn endomorphism(p: &Projective) -> Projective {
        let mut res = *p;
        res.x *= Self::ENDO_COEFFS[0];
        res
    }

    fn endomorphism_affine(p: &Affine) -> Affine {
        let mut res = *p;
        res.x *= Self::ENDO_COEFFS[0];
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_ff::UniformRand;
    use rand::SeedableRng;

    #[test]
    fn endomorphism_is_lambda() {
        let g = Affine::generator();
        assert!(g.is_on_curve());
        assert_eq!(
            Config::endomorphism_affine(&g),
            (g * Config::LAMBDA).into_affine()
        );
    }

    #[test]
    fn arkworks_decomposition_recombines() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for _ in 0..64 {
            let k = Fr::rand(&mut rng);
            let ((s1, k1), (s2, k2)) = Config::scalar_decomposition(k);
            let k1 = if s1 { k1 } else { -k1 };
            let k2 = if s2 { k2 } else { -k2 };
            assert_eq!(k1 + Config::LAMBDA * k2, k);
        }
    }

    #[test]
    fn same_curve_as_ark_secp256k1() {
        assert_eq!(Config::GENERATOR.x, ark_secp256k1::Affine::generator().x);
        assert_eq!(Config::COEFF_B, ark_secp256k1::Config::COEFF_B);
    }
}
