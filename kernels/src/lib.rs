//! Offload's CUDA kernels and what it takes to run them with no CUDA toolkit at build time:
//! the sources are embedded ([`source`]), compiled at run time by NVRTC for the GPU found
//! ([`compile`], cached on disk by [`cache`]), and the driver is loaded at run time through
//! cudarc ([`probe`]). A machine without `libcuda.so` or `libnvrtc.so` gets a clean
//! [`Unavailable`] with the reason, never a panic: cudarc panics when a library it needs
//! cannot be loaded, so every first touch goes through a presence check and `catch_unwind`.
//!
//! The field and NTT code is written for host and device alike (`cuda/*.cuh`); [`host`] is
//! that code compiled by the host C++ compiler, which the tests check against arkworks and
//! Plonky3 on machines without a GPU. This crate is a leaf: the GPU backend that plans jobs
//! onto these kernels is `offload-gpu` (`host/gpu`).

pub mod cache;
pub mod compile;
pub mod host;
pub mod probe;
pub mod source;

pub use compile::{compile_ptx, compile_text, CompileError};
pub use probe::{probe, GpuInfo, Unavailable};
