//! Offload's CPU compute engine: MSM and NTT on rayon.
//!
//! This engine is the embedded default backend, the fallback when a device fails, and the
//! reference that every GPU and FPGA result is checked against, so exactness comes first.

pub mod cancel;
pub mod msm;
pub mod ntt;
pub mod sig;
