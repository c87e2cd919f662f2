//! Provers through Offload. [`Offload`] runs arkworks-typed MSMs (G1 and G2) and FFTs (plain
//! and coset, many columns at once) on the in-process engine or on an offloadd, with base sets
//! loaded once and used by reference. [`groth16`] proves with ark-groth16's keys and returns
//! ark-groth16's proofs, every MSM and FFT of the proof through an [`Offload`]; [`circuits`]
//! holds the circuit the tests and benchmarks prove. [`stark::OffloadDft`] is Plonky3's DFT
//! trait on an [`Offload`]; [`airs`] holds the STARK the tests and benchmarks prove.

pub mod airs;
pub mod circuits;
pub mod groth16;
pub mod offload;
pub mod stark;

pub use offload::{Bases, Offload, ProverCurve, ProverField};

#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    #[error("the daemon: {0}")]
    Client(#[from] offload_client::ClientError),
    #[error("the engine: {0}")]
    Engine(String),
    #[error("starting the client's runtime: {0}")]
    Runtime(String),
    #[error("{what}: {got} where {want} were expected")]
    Length {
        what: &'static str,
        got: usize,
        want: usize,
    },
    #[error("a base set loaded on a daemon used with the in-process engine")]
    Elsewhere,
    #[error("the circuit: {0}")]
    Synthesis(#[from] ark_relations::r1cs::SynthesisError),
    #[error("the circuit has {inputs} inputs and {constraints} constraints; the key's matrices came from one with {key_inputs} and {key_constraints}")]
    Shape {
        inputs: usize,
        constraints: usize,
        key_inputs: usize,
        key_constraints: usize,
    },
}
