//! Shared-memory input for a client on the same host: a region of a file under the configured
//! directory, read into memory the daemon owns.
//!
//! The client controls the directory's contents while we read, so: the name is resolved one
//! component at a time from a descriptor of the directory opened at start, with no symbolic
//! link followed and no `..` (a swapped-in link cannot lead outside); the file is opened
//! non-blocking (a swapped-in FIFO cannot wedge a thread) and checked through that descriptor
//! (a regular file the client's uid may read), and its path is never used again. The region is
//! copied with `pread`: a mapping would let a client that truncates the file kill the daemon
//! with SIGBUS, and a copy of a few hundred MiB from page cache costs far less than the MSM or
//! NTT it feeds. Everything here blocks: callers run it off the async threads.

use offload_core::JobError;
use rustix::fs::{fstat, openat, FileType, Mode, OFlags};
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

/// The shared-memory directory, held open.
pub struct ShmDir {
    root: OwnedFd,
    path: PathBuf,
}

fn unreadable(field: &str) -> JobError {
    // The same words whether the name is absent, a link, outside, or someone else's: the
    // answer tells a client nothing about files it may not read.
    JobError::invalid(
        field,
        "no regular file by that name that this client may read in the shared-memory directory",
    )
}

impl ShmDir {
    /// Create (if need be) and open `path`. Blocking.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        let root = openat(
            rustix::fs::CWD,
            path,
            OFlags::DIRECTORY | OFlags::PATH | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self {
            root,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name's components below the directory: a relative path, or an absolute one that
    /// starts with the directory's path as configured. Only plain names.
    fn components<'a>(&self, name: &'a str) -> Option<Vec<&'a std::ffi::OsStr>> {
        let p = Path::new(name);
        let rel = if p.is_absolute() {
            p.strip_prefix(&self.path).ok()?
        } else {
            p
        };
        let parts: Vec<_> = rel
            .components()
            .map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect::<Option<_>>()?;
        (!parts.is_empty()).then_some(parts)
    }

    /// Copy `length` bytes at `offset` of the file `name`, for the client `ids` (uid, gid).
    /// `field` names the request field in errors. Blocking.
    pub fn read(
        &self,
        field: &str,
        ids: (u32, u32),
        name: &str,
        offset: u64,
        length: u64,
    ) -> Result<Vec<u8>, JobError> {
        if length == 0 {
            return Err(JobError::invalid(field, "length is zero"));
        }
        let parts = self.components(name).ok_or_else(|| unreadable(field))?;
        let (last, dirs) = parts.split_last().ok_or_else(|| unreadable(field))?;
        let mut dir: Option<OwnedFd> = None;
        for d in dirs {
            let at = dir.as_ref().unwrap_or(&self.root);
            let next = openat(
                at,
                *d,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|_| unreadable(field))?;
            dir = Some(next);
        }
        let file = openat(
            dir.as_ref().unwrap_or(&self.root),
            *last,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|_| unreadable(field))?;
        let st = fstat(&file).map_err(|_| unreadable(field))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile
            || !may_read(ids, st.st_uid, st.st_gid, st.st_mode)
        {
            return Err(unreadable(field));
        }
        let size = u64::try_from(st.st_size).unwrap_or(0);
        if offset.checked_add(length).is_none_or(|end| end > size) {
            return Err(JobError::invalid(
                field,
                format!(
                    "offset {offset} + length {length} passes the end of the file ({size} bytes)"
                ),
            ));
        }
        let len = usize::try_from(length)
            .map_err(|_| JobError::invalid(field, "length does not fit in memory"))?;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match rustix::io::pread(&file, &mut buf[done..], offset + done as u64) {
                Ok(0) => {
                    return Err(JobError::invalid(
                        field,
                        format!(
                            "the file ended at byte {} while it was read (truncated meanwhile)",
                            offset + done as u64
                        ),
                    ))
                }
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                Err(e) => {
                    return Err(JobError::invalid(field, format!("reading the file: {e}")));
                }
            }
        }
        Ok(buf)
    }
}

/// Unix permission to read, judged for the client rather than for the daemon.
fn may_read((uid, gid): (u32, u32), owner: u32, group: u32, mode: u32) -> bool {
    let bit = if uid == 0 {
        return true;
    } else if uid == owner {
        0o400
    } else if gid == group {
        0o040
    } else {
        0o004
    };
    mode & bit != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> (u32, u32) {
        (
            rustix::process::getuid().as_raw(),
            rustix::process::getgid().as_raw(),
        )
    }

    #[test]
    fn reads_plain_files_beneath_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shm");
        let shm = ShmDir::open(&dir).unwrap();
        std::fs::write(dir.join("a.bin"), b"0123456789").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/b.bin"), b"abcdef").unwrap();
        std::fs::write(tmp.path().join("secret"), b"secret").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), dir.join("link")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dir.join("up")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();

        assert_eq!(shm.read("f", me(), "a.bin", 2, 3).unwrap(), b"234");
        let abs = dir.join("sub/b.bin").display().to_string();
        assert_eq!(shm.read("f", me(), &abs, 0, 6).unwrap(), b"abcdef");
        for bad in [
            "link",
            "up/secret",
            "../secret",
            "sub/../a.bin",
            "./a.bin",
            "fifo",
            "sub",
            "missing",
            "",
            "/etc/passwd",
        ] {
            let e = shm.read("f", me(), bad, 0, 1).unwrap_err().to_string();
            assert!(e.starts_with("f: no regular file"), "{bad}: {e}");
            assert!(!e.contains(bad) || bad.is_empty(), "{bad} echoed: {e}");
        }
        let e = shm.read("f", me(), "a.bin", 8, 3).unwrap_err().to_string();
        assert!(e.contains("passes the end of the file (10 bytes)"), "{e}");
        assert!(shm.read("f", me(), "a.bin", 0, 0).is_err());
        assert!(shm.read("f", me(), "a.bin", u64::MAX, 2).is_err());
    }

    #[test]
    fn another_users_file_is_refused_unless_others_may_read_it() {
        let (uid, gid) = (1_000_001, 1_000_001);
        assert!(may_read((uid, gid), uid, 5, 0o400));
        assert!(!may_read((uid, gid), uid, 5, 0o044));
        assert!(may_read((uid, gid), 7, gid, 0o040));
        assert!(!may_read((uid, gid), 7, 9, 0o640));
        assert!(may_read((uid, gid), 7, 9, 0o644));
        assert!(may_read((0, 0), 7, 9, 0o000));
        // Through the directory: a file only its owner may read.
        let tmp = tempfile::tempdir().unwrap();
        let shm = ShmDir::open(tmp.path()).unwrap();
        let f = tmp.path().join("private");
        std::fs::write(&f, b"x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = shm.read("f", (uid, gid), "private", 0, 1).unwrap_err();
        assert!(e.to_string().contains("no regular file"), "{e}");
    }
}
