//! Shared-memory input for a co-located client: a region of a file under the configured
//! directory, mapped read-only and decoded straight from the mapping.

use offload_core::JobError;
use std::path::Path;

/// A read-only view of part of a mapped file.
pub struct Region {
    map: memmap2::Mmap,
    len: usize,
}

impl std::ops::Deref for Region {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map[..self.len]
    }
}

/// Map `length` bytes at `offset` of `path`, which must resolve (symbolic links followed) to a
/// regular file inside `dir`. `field` names the request field in errors.
pub fn map(
    dir: Option<&Path>,
    field: &str,
    path: &str,
    offset: u64,
    length: u64,
) -> Result<Region, JobError> {
    let Some(dir) = dir else {
        return Err(JobError::invalid(
            field,
            "shared-memory input is not enabled on this daemon (shm_dir)",
        ));
    };
    let outside = || {
        JobError::invalid(
            field,
            format!("{path:?} is not a file inside the shared-memory directory"),
        )
    };
    let root = dir.canonicalize().map_err(|_| outside())?;
    let real = Path::new(path).canonicalize().map_err(|_| outside())?;
    if !real.starts_with(&root) || !real.is_file() {
        return Err(outside());
    }
    let file = std::fs::File::open(&real).map_err(|_| outside())?;
    let size = file.metadata().map_err(|_| outside())?.len();
    if offset.checked_add(length).is_none_or(|end| end > size) {
        let why = format!("offset {offset} + length {length} passes the end ({size} bytes)");
        return Err(JobError::invalid(field, why));
    }
    if length == 0 {
        return Err(JobError::invalid(field, "length is zero"));
    }
    // SAFETY: read-only mapping. A client that truncates the file while we read it can make
    // this process fault; the directory is configured for trusted co-located clients only.
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(length as usize)
            .map(&file)
    }
    .map_err(|e| JobError::invalid(field, format!("cannot map {path:?}: {e}")))?;
    Ok(Region {
        map,
        len: length as usize,
    })
}
