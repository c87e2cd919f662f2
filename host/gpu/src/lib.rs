//! The GPU backend: jobs as plans of kernel launches ([`plan`]), run by cudarc on the GPU or
//! by the host build of the same kernels ([`exec`]), behind the `Backend` trait
//! ([`backend`]). The kernels themselves, their compilation and the GPU probe are the leaf
//! crate `offload-kernels`.

pub mod backend;
pub mod curve;
pub mod exec;
pub mod field;
pub mod plan;
pub mod resident;
pub mod sig;
pub mod tables;

pub use offload_kernels::{probe, GpuInfo, Unavailable};
