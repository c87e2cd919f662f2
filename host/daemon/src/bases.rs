//! Uploaded base sets: content-addressed, persisted in the data directory, decoded once and kept
//! resident under a memory budget (least recently used sets leave memory first, never disk).
//!
//! On disk a set is `<handle>.bin` (the points in arkworks' uncompressed form, as checked at
//! upload) and `<handle>.toml` (curve, count, label), written to temporary names and renamed,
//! the metadata last, so a set is either complete or absent after a crash. The handle is
//! SHA-256 over a domain tag, the curve and the canonical points: the same set uploaded twice, in
//! any encoding, gets the same handle.

use ark_ec::short_weierstrass::Affine;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use offload_core::job::{BaseSet, Bls12_381, Bn254, TableBudget};
use offload_core::wire::{self, CurveId, PointEncoding, WireCurve};
use offload_core::JobError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const TAG: &[u8] = b"offload bases v1\0";

/// A resident set of either curve.
#[derive(Clone, Debug)]
pub enum AnyBases {
    Bn254(Arc<BaseSet<Bn254>>),
    Bls12_381(Arc<BaseSet<Bls12_381>>),
}

impl AnyBases {
    fn bytes(&self) -> usize {
        match self {
            AnyBases::Bn254(b) => std::mem::size_of_val(b.points.as_slice()),
            AnyBases::Bls12_381(b) => std::mem::size_of_val(b.points.as_slice()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub curve: String,
    pub count: u64,
    pub label: String,
}

impl Meta {
    pub fn curve_id(&self) -> Option<CurveId> {
        match self.curve.as_str() {
            "bn254" => Some(CurveId::Bn254),
            "bls12-381" => Some(CurveId::Bls12_381),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Inner {
    index: BTreeMap<String, Meta>,
    /// Resident sets, least recently used first.
    resident: Vec<(String, AnyBases)>,
    resident_bytes: usize,
}

pub struct BaseStore {
    dir: PathBuf,
    max_points: u64,
    resident_budget: usize,
    table_budget: Arc<TableBudget>,
    inner: Mutex<Inner>,
}

fn io_error(what: &str, e: impl std::fmt::Display) -> JobError {
    JobError::Internal(format!("{what}: {e}"))
}

fn valid_handle(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl BaseStore {
    /// Open (creating) `<data_dir>/bases` and index the complete sets found there.
    pub fn open(
        data_dir: &Path,
        max_points: u64,
        resident_budget: usize,
        table_budget: usize,
    ) -> std::io::Result<Self> {
        let dir = data_dir.join("bases");
        std::fs::create_dir_all(&dir)?;
        let mut index = BTreeMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            let Some(handle) = name.strip_suffix(".toml") else {
                continue;
            };
            let meta: Option<Meta> = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| toml::from_str(&t).ok());
            match meta {
                Some(m) if valid_handle(handle) && dir.join(format!("{handle}.bin")).exists() => {
                    index.insert(handle.to_string(), m);
                }
                _ => tracing::warn!(path = %path.display(), "ignoring an unreadable base set"),
            }
        }
        tracing::info!(sets = index.len(), dir = %dir.display(), "base sets found");
        Ok(Self {
            dir,
            max_points,
            resident_budget,
            table_budget: TableBudget::new(table_budget),
            inner: Mutex::new(Inner {
                index,
                ..Inner::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn max_points(&self) -> u64 {
        self.max_points
    }

    pub fn list(&self) -> Vec<(String, Meta)> {
        self.lock()
            .index
            .iter()
            .map(|(h, m)| (h.clone(), m.clone()))
            .collect()
    }

    /// The table status of a resident set ("not resident" when it is only on disk).
    pub fn table_status(&self, handle: &str) -> (&'static str, usize) {
        let inner = self.lock();
        match inner.resident.iter().find(|(h, _)| h == handle) {
            Some((_, AnyBases::Bn254(s))) => s.table_status(),
            Some((_, AnyBases::Bls12_381(s))) => s.table_status(),
            None => ("not resident", 0),
        }
    }

    pub fn meta(&self, handle: &str) -> Option<Meta> {
        self.lock().index.get(handle).cloned()
    }

    pub fn delete(&self, handle: &str) -> Result<bool, JobError> {
        let mut inner = self.lock();
        if inner.index.remove(handle).is_none() {
            return Ok(false);
        }
        if let Some(pos) = inner.resident.iter().position(|(h, _)| h == handle) {
            let (_, set) = inner.resident.remove(pos);
            inner.resident_bytes -= set.bytes();
        }
        drop(inner);
        for ext in ["toml", "bin"] {
            let p = self.dir.join(format!("{handle}.{ext}"));
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(io_error("deleting a base set", e));
                }
            }
        }
        Ok(true)
    }

    /// The resident set for `handle`, loading it from disk if it has left memory. Blocking.
    pub fn get(&self, handle: &str) -> Result<AnyBases, JobError> {
        let meta =
            {
                let mut inner = self.lock();
                if let Some(pos) = inner.resident.iter().position(|(h, _)| h == handle) {
                    let hit = inner.resident.remove(pos);
                    let set = hit.1.clone();
                    inner.resident.push(hit);
                    return Ok(set);
                }
                inner.index.get(handle).cloned().ok_or_else(|| {
                    JobError::NotFound(format!("no base set with handle {handle:?}"))
                })?
            };
        let set = match meta.curve_id() {
            Some(CurveId::Bn254) => AnyBases::Bn254(Arc::new(self.load::<Bn254>(handle, &meta)?)),
            Some(CurveId::Bls12_381) => {
                AnyBases::Bls12_381(Arc::new(self.load::<Bls12_381>(handle, &meta)?))
            }
            None => return Err(io_error("base set metadata", &meta.curve)),
        };
        self.make_resident(handle, set.clone());
        Ok(set)
    }

    fn make_resident(&self, handle: &str, set: AnyBases) {
        match &set {
            AnyBases::Bn254(s) => s.build_table_in_background(),
            AnyBases::Bls12_381(s) => s.build_table_in_background(),
        }
        let mut inner = self.lock();
        if inner.resident.iter().any(|(h, _)| h == handle) {
            return;
        }
        inner.resident_bytes += set.bytes();
        inner.resident.push((handle.to_string(), set));
        // The newest set stays even if it alone passes the budget.
        while inner.resident_bytes > self.resident_budget && inner.resident.len() > 1 {
            let (h, old) = inner.resident.remove(0);
            inner.resident_bytes -= old.bytes();
            tracing::info!(handle = %h, "base set left memory (still on disk)");
        }
    }

    fn load<C: WireCurve>(&self, handle: &str, meta: &Meta) -> Result<BaseSet<C>, JobError> {
        let path = self.dir.join(format!("{handle}.bin"));
        let file = std::fs::File::open(&path).map_err(|e| io_error("opening a base set", e))?;
        // SAFETY: the daemon owns the data directory and never writes a .bin after its rename;
        // the mapping is read-only.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| io_error("mapping", e))?;
        let len = wire::point_len::<C>(PointEncoding::ArkUncompressed)
            .map_err(|e| io_error("point size", e))?;
        if map.len() as u64 != meta.count * len as u64 {
            return Err(io_error(
                "base set file",
                "wrong length; the file is damaged",
            ));
        }
        // Checked at upload; the hash check below catches damage on disk.
        let points: Vec<Affine<C>> = map
            .par_chunks(len)
            .map(Affine::<C>::deserialize_uncompressed_unchecked)
            .collect::<Result<_, _>>()
            .map_err(|e| io_error("decoding a base set", e))?;
        let mut h = content_hasher::<C>();
        h.update(&map[..]);
        if hex::encode(h.finalize()) != handle {
            return Err(io_error(
                "base set file",
                "content does not match its handle",
            ));
        }
        Ok(BaseSet::resident(
            points,
            handle.to_string(),
            self.table_budget.clone(),
        ))
    }

    /// Start an upload of `count` points.
    pub fn begin_upload(
        &self,
        curve: CurveId,
        encoding: PointEncoding,
        count: u64,
        label: String,
    ) -> Result<Upload, JobError> {
        if count == 0 {
            return Err(JobError::invalid(
                "header.count",
                "a base set needs at least one point",
            ));
        }
        if count > self.max_points {
            return Err(JobError::invalid(
                "header.count",
                format!(
                    "{count} points exceed this daemon's limit of {}",
                    self.max_points
                ),
            ));
        }
        let point_len = match curve {
            CurveId::Bn254 => wire::point_len::<Bn254>(encoding),
            CurveId::Bls12_381 => wire::point_len::<Bls12_381>(encoding),
        }
        .map_err(|e| JobError::invalid("header.encoding", e))?;
        let tmp = tempfile_in(&self.dir)?;
        let points = match curve {
            CurveId::Bn254 => UploadPoints::Bn254(Vec::new(), content_hasher::<Bn254>()),
            CurveId::Bls12_381 => {
                UploadPoints::Bls12_381(Vec::new(), content_hasher::<Bls12_381>())
            }
        };
        Ok(Upload {
            curve,
            encoding,
            count,
            label,
            point_len,
            carry: Vec::new(),
            points,
            tmp,
        })
    }

    /// Store a finished upload (or find it already stored) and make it resident.
    pub fn finish_upload(&self, up: Upload) -> Result<(String, Meta), JobError> {
        let received = up.received();
        if received != up.count || !up.carry.is_empty() {
            return Err(JobError::invalid(
                "points",
                format!(
                    "the header announced {} points; {received} whole points{} arrived",
                    up.count,
                    if up.carry.is_empty() {
                        String::new()
                    } else {
                        format!(" and {} stray bytes", up.carry.len())
                    }
                ),
            ));
        }
        let Upload {
            curve,
            label,
            points,
            tmp,
            ..
        } = up;
        let (handle, set) = match points {
            UploadPoints::Bn254(p, h) => {
                let handle = hex::encode(h.finalize());
                let set = BaseSet::resident(p, handle.clone(), self.table_budget.clone());
                (handle, AnyBases::Bn254(Arc::new(set)))
            }
            UploadPoints::Bls12_381(p, h) => {
                let handle = hex::encode(h.finalize());
                let set = BaseSet::resident(p, handle.clone(), self.table_budget.clone());
                (handle, AnyBases::Bls12_381(Arc::new(set)))
            }
        };
        let meta = Meta {
            curve: curve.to_string(),
            count: received,
            label,
        };
        if let Some(existing) = self.meta(&handle) {
            drop(tmp);
            return Ok((handle, existing));
        }
        let (mut file, tmp_path) = tmp.into_parts();
        file.flush()
            .map_err(|e| io_error("writing a base set", e))?;
        file.sync_all()
            .map_err(|e| io_error("syncing a base set", e))?;
        let bin = self.dir.join(format!("{handle}.bin"));
        std::fs::rename(&tmp_path, &bin).map_err(|e| io_error("storing a base set", e))?;
        let text = toml::to_string(&meta).map_err(|e| io_error("base set metadata", e))?;
        let meta_tmp = self.dir.join(format!("{handle}.toml.tmp"));
        std::fs::write(&meta_tmp, text).map_err(|e| io_error("base set metadata", e))?;
        std::fs::rename(&meta_tmp, self.dir.join(format!("{handle}.toml")))
            .map_err(|e| io_error("base set metadata", e))?;
        self.lock().index.insert(handle.clone(), meta.clone());
        self.make_resident(&handle, set);
        Ok((handle, meta))
    }
}

fn content_hasher<C: WireCurve>() -> Sha256 {
    let mut h = Sha256::new();
    h.update(TAG);
    h.update(C::ID.to_string().as_bytes());
    h.update([0u8]);
    h
}

/// A temporary file in the store's directory, removed unless renamed.
pub struct TempFile {
    file: Option<std::fs::File>,
    path: PathBuf,
}

impl TempFile {
    fn into_parts(mut self) -> (std::fs::File, PathBuf) {
        let file = self.file.take().expect("taken once");
        (file, std::mem::take(&mut self.path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn tempfile_in(dir: &Path) -> Result<TempFile, JobError> {
    use rand::Rng;
    let name = format!("upload-{:016x}.tmp", rand::thread_rng().gen::<u64>());
    let path = dir.join(name);
    let file = std::fs::File::create_new(&path).map_err(|e| io_error("creating an upload", e))?;
    Ok(TempFile {
        file: Some(file),
        path,
    })
}

enum UploadPoints {
    Bn254(Vec<Affine<Bn254>>, Sha256),
    Bls12_381(Vec<Affine<Bls12_381>>, Sha256),
}

/// An upload in progress: chunks are checked as they arrive and written in canonical form.
pub struct Upload {
    curve: CurveId,
    encoding: PointEncoding,
    count: u64,
    label: String,
    point_len: usize,
    /// Bytes of a point split across chunks.
    carry: Vec<u8>,
    points: UploadPoints,
    tmp: TempFile,
}

impl Upload {
    pub fn received(&self) -> u64 {
        match &self.points {
            UploadPoints::Bn254(p, _) => p.len() as u64,
            UploadPoints::Bls12_381(p, _) => p.len() as u64,
        }
    }

    /// Take a chunk; errors name the point's index in the whole set.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JobError> {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(chunk);
        let whole = buf.len() / self.point_len * self.point_len;
        self.carry = buf[whole..].to_vec();
        let first = self.received();
        if first + (whole / self.point_len) as u64 > self.count {
            return Err(JobError::invalid(
                "points",
                format!("more than the {} points the header announced", self.count),
            ));
        }
        let file = self.tmp.file.as_mut().expect("open until finished");
        let enc = self.encoding;
        match &mut self.points {
            UploadPoints::Bn254(p, h) => append::<Bn254>(enc, &buf[..whole], first, p, h, file),
            UploadPoints::Bls12_381(p, h) => {
                append::<Bls12_381>(enc, &buf[..whole], first, p, h, file)
            }
        }
    }
}

fn append<C: WireCurve>(
    enc: PointEncoding,
    bytes: &[u8],
    first: u64,
    points: &mut Vec<Affine<C>>,
    hasher: &mut Sha256,
    file: &mut std::fs::File,
) -> Result<(), JobError> {
    let new = wire::decode_points::<C>(enc, bytes)
        .map_err(|(i, e)| JobError::invalid(format!("points[{}]", first + i as u64), e))?;
    let mut canonical = Vec::with_capacity(new.len() * 2 * 48);
    for p in &new {
        // Writing into a Vec cannot fail.
        let _ = p.serialize_uncompressed(&mut canonical);
    }
    hasher.update(&canonical);
    file.write_all(&canonical)
        .map_err(|e| io_error("writing an upload", e))?;
    points.extend(new);
    Ok(())
}
