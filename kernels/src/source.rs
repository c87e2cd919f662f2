//! The CUDA sources, embedded in the binary, and their expansion into one translation unit for
//! NVRTC (which has no file system to search): each `#include "x"` of an embedded header is
//! replaced by the header, once.

use sha2::{Digest, Sha256};

/// Every embedded file, by the name the sources include it as.
pub const FILES: &[(&str, &str)] = &[
    ("common.cuh", include_str!("../cuda/common.cuh")),
    ("mont.cuh", include_str!("../cuda/mont.cuh")),
    ("fields.cuh", include_str!("../cuda/fields.cuh")),
    ("ntt.cuh", include_str!("../cuda/ntt.cuh")),
    ("curve.cuh", include_str!("../cuda/curve.cuh")),
    ("ntt.cu", include_str!("../cuda/ntt.cu")),
    ("msm.cuh", include_str!("../cuda/msm.cuh")),
    ("msm.cu", include_str!("../cuda/msm.cu")),
    ("sha512.cuh", include_str!("../cuda/sha512.cuh")),
    ("curve25519.cuh", include_str!("../cuda/curve25519.cuh")),
    ("ed25519.cuh", include_str!("../cuda/ed25519.cuh")),
    ("ed25519.cu", include_str!("../cuda/ed25519.cu")),
];

/// The translation units that hold kernels.
pub const KERNELS: &[&str] = &["ntt.cu", "msm.cu", "ed25519.cu"];

#[derive(Debug, thiserror::Error)]
#[error("no embedded CUDA source named {0:?}")]
pub struct UnknownSource(pub String);

fn file(name: &str) -> Result<&'static str, UnknownSource> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| UnknownSource(name.to_string()))
}

/// `name` with its embedded includes expanded, each header once.
pub fn expand(name: &str) -> Result<String, UnknownSource> {
    let mut seen = Vec::new();
    let mut out = String::new();
    expand_into(name, &mut seen, &mut out)?;
    Ok(out)
}

fn expand_into(name: &str, seen: &mut Vec<String>, out: &mut String) -> Result<(), UnknownSource> {
    if seen.iter().any(|s| s == name) {
        return Ok(());
    }
    seen.push(name.to_string());
    for line in file(name)?.lines() {
        let t = line.trim();
        if t == "#pragma once" {
            continue;
        }
        if let Some(inc) = t
            .strip_prefix("#include \"")
            .and_then(|r| r.strip_suffix('"'))
        {
            expand_into(inc, seen, out)?;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(())
}

/// A short hash of an expanded source, for cache keys.
pub fn digest(text: &str) -> String {
    let h = Sha256::digest(text.as_bytes());
    h.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_expand_once_and_unknown_names_are_errors() {
        let ntt = expand("ntt.cu").unwrap();
        assert!(!ntt.contains("#include \""));
        // common.cuh is included by mont.cuh and, through it, by everything else: once.
        assert_eq!(ntt.matches("namespace offload {").count(), 4);
        assert_eq!(ntt.matches("HD uint64_t mul_hi64").count(), 1);
        assert!(expand("nope.cu").is_err());
        assert_eq!(digest(&ntt).len(), 16);
        assert_ne!(digest(&ntt), digest("x"));
    }
}
