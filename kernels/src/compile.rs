//! NVRTC: an embedded translation unit to PTX for a virtual architecture (`compute_90`), with
//! no GPU needed. The driver JIT-compiles the PTX for the exact device when it loads it.

use crate::source::{self, UnknownSource};
use cudarc::nvrtc::{self, CompileOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("NVRTC is not available: {0}")]
    NoNvrtc(String),
    #[error(transparent)]
    Source(#[from] UnknownSource),
    #[error("NVRTC rejected {name} for {arch}:\n{log}")]
    Rejected {
        name: String,
        arch: String,
        log: String,
    },
    #[error("NVRTC failed on {name} for {arch}: {detail}")]
    Nvrtc {
        name: String,
        arch: String,
        detail: String,
    },
}

const HINT: &str = "libnvrtc.so not found: install the CUDA toolkit, or the pip wheel \
                    nvidia-cuda-nvrtc-cu12 and put its nvidia/cuda_nvrtc/lib on LD_LIBRARY_PATH";

/// Whether libnvrtc can be loaded, without letting cudarc panic if it cannot.
pub fn nvrtc_present() -> Result<(), String> {
    // SAFETY: the presence check only tries to open the library by its candidate names.
    match catch_unwind(|| unsafe { cudarc::nvrtc::sys::is_culib_present() }) {
        Ok(true) => Ok(()),
        Ok(false) => Err(HINT.to_string()),
        Err(_) => Err(format!("probing libnvrtc panicked; {HINT}")),
    }
}

/// The options every kernel is compiled with.
pub fn options(name: &str, arch: &'static str) -> CompileOptions {
    CompileOptions {
        arch: Some(arch),
        name: Some(name.to_string()),
        options: vec!["--std=c++17".into()],
        ..Default::default()
    }
}

/// Compile the embedded translation unit `name` to PTX text for `arch` (e.g. "compute_90").
pub fn compile_ptx(name: &str, arch: &'static str) -> Result<String, CompileError> {
    compile_text(name, &source::expand(name)?, arch)
}

/// Compile one self-contained translation unit (includes already expanded).
pub fn compile_text(name: &str, src: &str, arch: &'static str) -> Result<String, CompileError> {
    nvrtc_present().map_err(CompileError::NoNvrtc)?;
    let result = catch_unwind(AssertUnwindSafe(|| {
        nvrtc::compile_ptx_with_opts(src, options(name, arch))
    }))
    .map_err(|_| CompileError::NoNvrtc(format!("NVRTC panicked; {HINT}")))?;
    match result {
        Ok(ptx) => Ok(ptx.to_src()),
        Err(nvrtc::CompileError::CompileError { log, .. }) => Err(CompileError::Rejected {
            name: name.to_string(),
            arch: arch.to_string(),
            log: log.to_string_lossy().into_owned(),
        }),
        Err(e) => Err(CompileError::Nvrtc {
            name: name.to_string(),
            arch: arch.to_string(),
            detail: format!("{e:?}"),
        }),
    }
}
