//! A real circuit of any size, built from arkworks' gadgets: a chain of Poseidon hashes
//! (ark-crypto-primitives' sponge gadget over ark-r1cs-std's field variables). The start and
//! the end of the chain are public; every link is a witness. About 250 constraints a link.

use ark_crypto_primitives::sponge::constraints::CryptographicSpongeVar;
use ark_crypto_primitives::sponge::poseidon::constraints::PoseidonSpongeVar;
use ark_crypto_primitives::sponge::poseidon::{
    find_poseidon_ark_and_mds, PoseidonConfig, PoseidonSponge,
};
use ark_crypto_primitives::sponge::{Absorb, CryptographicSponge};
use ark_ff::PrimeField;
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError,
};

/// Poseidon over a width-3 state (rate 2, capacity 1), x^5 S-boxes, 8 full and 57 partial
/// rounds: the usual choice for 255-bit fields; constants from the Grain LFSR.
pub fn poseidon_config<F: PrimeField>() -> PoseidonConfig<F> {
    let (ark, mds) = find_poseidon_ark_and_mds::<F>(F::MODULUS_BIT_SIZE as u64, 2, 8, 57, 0);
    PoseidonConfig::new(8, 57, 5, mds, ark, 2, 1)
}

/// x_{i+1} = Poseidon(x_i), `links` times; x_0 and x_links are the public inputs.
#[derive(Clone)]
pub struct PoseidonChain<F: PrimeField> {
    pub config: PoseidonConfig<F>,
    pub start: F,
    pub links: usize,
}

impl<F: PrimeField + Absorb> PoseidonChain<F> {
    pub fn new(start: F, links: usize) -> Self {
        Self {
            config: poseidon_config(),
            start,
            links,
        }
    }

    /// Enough links for about `constraints` constraints (at least one link).
    pub fn with_constraints(start: F, constraints: usize) -> Self {
        let per = constraints_per_link::<F>();
        Self::new(start, (constraints / per).max(1))
    }

    /// The chain's end, computed natively.
    pub fn end(&self) -> F {
        (0..self.links).fold(self.start, |x, _| hash(&self.config, x))
    }

    /// The public inputs, as the verifier takes them.
    pub fn public_inputs(&self) -> Vec<F> {
        vec![self.start, self.end()]
    }
}

fn hash<F: PrimeField + Absorb>(config: &PoseidonConfig<F>, x: F) -> F {
    let mut sponge = PoseidonSponge::new(config);
    sponge.absorb(&x);
    sponge.squeeze_field_elements::<F>(1)[0]
}

impl<F: PrimeField + Absorb> ConstraintSynthesizer<F> for PoseidonChain<F> {
    fn generate_constraints(self, cs: ConstraintSystemRef<F>) -> Result<(), SynthesisError> {
        let end = self.end();
        let mut x = FpVar::new_input(cs.clone(), || Ok(self.start))?;
        for _ in 0..self.links {
            let mut sponge = PoseidonSpongeVar::new(cs.clone(), &self.config);
            sponge.absorb(&x)?;
            x = sponge
                .squeeze_field_elements(1)?
                .pop()
                .ok_or(SynthesisError::Unsatisfiable)?;
        }
        let out = FpVar::new_input(cs, || Ok(end))?;
        x.enforce_equal(&out)
    }
}

/// Constraints one link adds (counted by synthesizing chains of one and two links).
pub fn constraints_per_link<F: PrimeField + Absorb>() -> usize {
    let count = |links| {
        let cs = ConstraintSystem::<F>::new_ref();
        PoseidonChain::new(F::one(), links)
            .generate_constraints(cs.clone())
            .map(|()| cs.num_constraints())
            .unwrap_or(0)
    };
    (count(2) - count(1)).max(1)
}
