//! Compiled PTX on disk, keyed by the expanded source's hash and the architecture, so a
//! daemon restart does not pay NVRTC again (seconds for the multiprecision kernels).

use crate::compile::{compile_ptx, CompileError};
use crate::source;
use std::path::{Path, PathBuf};

/// `$OFFLOAD_KERNEL_CACHE`, else `$XDG_CACHE_HOME/offload/kernels`, else
/// `~/.cache/offload/kernels`, else a folder under the temporary directory.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("OFFLOAD_KERNEL_CACHE") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("offload/kernels");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache/offload/kernels");
    }
    std::env::temp_dir().join("offload-kernels")
}

/// Whether the PTX came from the cache or was compiled now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Cached,
    Compiled,
}

/// The PTX of `name` for `arch`, from `dir` if there, else compiled and stored. A cache that
/// cannot be written costs only the next start's compile.
pub fn ptx(dir: &Path, name: &str, arch: &'static str) -> Result<(String, Origin), CompileError> {
    let key = source::digest(&source::expand(name)?);
    let path = dir.join(format!("{}-{arch}-{key}.ptx", name.replace('.', "_")));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok((text, Origin::Cached));
    }
    let text = compile_ptx(name, arch)?;
    let tmp = path.with_extension("tmp");
    let stored = std::fs::create_dir_all(dir)
        .and_then(|_| std::fs::write(&tmp, &text))
        .and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = stored {
        tracing::warn!(path = %path.display(), error = %e, "kernel cache not written");
    }
    Ok((text, Origin::Compiled))
}
