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
pub use offload_core::job::AnyBases;
use offload_core::job::{BaseSet, JobCurve};
use offload_core::wire::{self, Curve, CurveId, Named, PointEncoding};
use offload_core::JobError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

const TAG: &[u8] = b"offload bases v1\0";

/// Labels are cut to this when listed (uploads refuse longer ones).
const MAX_LABEL_BYTES: usize = crate::service::MAX_LABEL_BYTES;

/// Make renames and removals in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Told when a set enters memory (MSMs may name it) and when it leaves (evicted or deleted),
/// in that order for each set: the scheduler, which passes it to the backends that keep
/// something for a set.
pub trait Residency: Send + Sync {
    fn resident(&self, set: &AnyBases);
    fn released(&self, handle: &str);
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub curve: String,
    pub count: u64,
    /// The label of a set stored before tenants (owned by the default tenant).
    #[serde(default)]
    pub label: String,
    /// The tenants that uploaded this content, each with its own label. Identical content
    /// is stored once; each owner sees and deletes only its own ownership.
    #[serde(default)]
    pub owners: Vec<Owner>,
    /// Published read-only to every tenant by an owner allowed to publish.
    #[serde(default)]
    pub shared: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub tenant: String,
    pub label: String,
}

impl Meta {
    /// Whether `tenant` may list and use the set.
    pub fn visible_to(&self, tenant: &str) -> bool {
        self.shared || self.owned_by(tenant)
    }

    pub fn owned_by(&self, tenant: &str) -> bool {
        if self.owners.is_empty() {
            return tenant == crate::auth::DEFAULT_TENANT;
        }
        self.owners.iter().any(|o| o.tenant == tenant)
    }

    /// The label `tenant` sees: its own, else the first owner's (a shared set).
    pub fn label_for(&self, tenant: &str) -> &str {
        self.owners
            .iter()
            .find(|o| o.tenant == tenant)
            .or(self.owners.first())
            .map_or(&self.label, |o| &o.label)
    }

    pub fn curve_id(&self) -> Option<CurveId> {
        CurveId::parse(&self.curve)
    }
}

/// A set in memory, and the tenant whose `max_resident_bytes` it counts against (the one that
/// brought it in).
struct Resident {
    handle: String,
    set: AnyBases,
    tenant: String,
}

#[derive(Default)]
struct Inner {
    index: BTreeMap<String, Meta>,
    /// Resident sets, least recently used first.
    resident: Vec<Resident>,
    resident_bytes: usize,
    /// Tenants' `max_resident_bytes`.
    resident_quotas: HashMap<String, usize>,
}

pub struct BaseStore {
    dir: PathBuf,
    max_points: u64,
    resident_budget: usize,
    residency: Option<Arc<dyn Residency>>,
    inner: Mutex<Inner>,
    /// Held while metadata files are rewritten (uploads, deletions), one writer at a time.
    meta_writes: Mutex<()>,
}

fn io_error(what: &str, e: impl std::fmt::Display) -> JobError {
    JobError::Internal(format!("{what}: {e}"))
}

/// Bytes of one stored point (arkworks uncompressed).
pub fn stored_point_bytes(curve: Option<CurveId>) -> u64 {
    curve.map_or(0, |c| {
        wire::curve_point_len(c, PointEncoding::ArkUncompressed).map_or(0, |n| n as u64)
    })
}

fn not_found(handle: &str) -> JobError {
    JobError::NotFound(format!("no base set with handle {handle}"))
}

/// A handle is 64 lowercase hex digits; anything else is refused without being echoed.
fn check_handle(h: &str) -> Result<(), JobError> {
    if valid_handle(h) {
        Ok(())
    } else {
        Err(JobError::invalid(
            "handle",
            format!(
                "not a base-set handle ({} bytes; 64 lowercase hex digits)",
                h.len()
            ),
        ))
    }
}

fn valid_handle(h: &str) -> bool {
    h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl BaseStore {
    /// Open (creating) `<data_dir>/bases` and index the complete sets found there.
    pub fn open(data_dir: &Path, max_points: u64, resident_budget: usize) -> std::io::Result<Self> {
        let dir = data_dir.join("bases");
        std::fs::create_dir_all(&dir)?;
        let mut index = BTreeMap::new();
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        let mut swept = 0;
        let mut sweep = |name: &str, why: &str| {
            tracing::warn!(file = name, "removing {why}");
            swept += 1;
            let _ = std::fs::remove_file(dir.join(name));
        };
        for name in &names {
            if name.ends_with(".tmp") {
                sweep(name, "an unfinished upload");
            } else if let Some(handle) = name.strip_suffix(".bin") {
                if !names.contains(&format!("{handle}.toml")) {
                    sweep(
                        name,
                        "a set's points without its metadata (a crash between the renames)",
                    );
                }
            } else if let Some(handle) = name.strip_suffix(".toml") {
                let meta: Option<Meta> = std::fs::read_to_string(dir.join(name))
                    .ok()
                    .and_then(|t| toml::from_str(&t).ok());
                match meta {
                    Some(mut m)
                        if valid_handle(handle) && names.contains(&format!("{handle}.bin")) =>
                    {
                        for label in std::iter::once(&mut m.label)
                            .chain(m.owners.iter_mut().map(|o| &mut o.label))
                        {
                            if label.len() > MAX_LABEL_BYTES {
                                let mut cut = MAX_LABEL_BYTES;
                                while !label.is_char_boundary(cut) {
                                    cut -= 1;
                                }
                                label.truncate(cut);
                            }
                        }
                        index.insert(handle.to_string(), m);
                    }
                    _ => sweep(name, "metadata without a readable set"),
                }
            }
        }
        if swept > 0 {
            sync_dir(&dir)?;
        }
        tracing::info!(sets = index.len(), dir = %dir.display(), "base sets found");
        Ok(Self {
            dir,
            max_points,
            resident_budget,
            residency: None,
            inner: Mutex::new(Inner {
                index,
                ..Inner::default()
            }),
            meta_writes: Mutex::new(()),
        })
    }

    /// Tell `r` of every set entering and leaving memory.
    pub fn with_residency(mut self, r: Arc<dyn Residency>) -> Self {
        self.residency = Some(r);
        self
    }

    /// Called with the lock held, so that each set's entries and exits reach `r` in order.
    fn entered(&self, set: &AnyBases) {
        if let Some(r) = &self.residency {
            r.resident(set);
        }
    }

    fn left(&self, handle: &str) {
        if let Some(r) = &self.residency {
            r.released(handle);
        }
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

    /// Up to `n` sets `tenant` may see with handles after `after` (all when empty), and
    /// whether more follow.
    pub fn list_page(&self, tenant: &str, after: &str, n: usize) -> (Vec<(String, Meta)>, bool) {
        use std::ops::Bound;
        let inner = self.lock();
        let start = if after.is_empty() {
            Bound::Unbounded
        } else {
            Bound::Excluded(after.to_string())
        };
        let mut it = inner
            .index
            .range((start, Bound::Unbounded))
            .filter(|(_, m)| m.visible_to(tenant));
        let page: Vec<_> = it
            .by_ref()
            .take(n)
            .map(|(h, m)| (h.clone(), m.clone()))
            .collect();
        (page, it.next().is_some())
    }

    /// How many sets `tenant` owns, and their bytes (points in uncompressed form).
    pub fn owned(&self, tenant: &str) -> (u64, u64) {
        let inner = self.lock();
        let mut sets = 0;
        let mut bytes = 0;
        for m in inner.index.values().filter(|m| m.owned_by(tenant)) {
            sets += 1;
            bytes += m.count * stored_point_bytes(m.curve_id());
        }
        (sets, bytes)
    }

    /// How many points the set `handle` has, if `tenant` may see it.
    pub fn count(&self, tenant: &str, handle: &str) -> Result<u64, JobError> {
        check_handle(handle)?;
        self.meta(handle)
            .filter(|m| m.visible_to(tenant))
            .map(|m| m.count)
            .ok_or_else(|| not_found(handle))
    }

    /// Whether the set is in memory (not only on disk).
    pub fn is_resident(&self, handle: &str) -> bool {
        self.lock().resident.iter().any(|r| r.handle == handle)
    }

    pub fn meta(&self, handle: &str) -> Option<Meta> {
        self.lock().index.get(handle).cloned()
    }

    /// Give up `tenant`'s ownership of `handle`; the set goes when its last owner does.
    /// False when the tenant owns no such set (another tenant's set reads as absent).
    pub fn delete(&self, tenant: &str, handle: &str) -> Result<bool, JobError> {
        check_handle(handle)?;
        let _writing = self.meta_writes.lock().unwrap_or_else(|e| e.into_inner());
        let mut inner = self.lock();
        let Some(meta) = inner.index.get(handle).cloned() else {
            return Ok(false);
        };
        if !meta.owned_by(tenant) {
            if meta.shared {
                return Err(JobError::PermissionDenied(format!(
                    "base set {handle} is shared read-only; only its owners may delete it"
                )));
            }
            return Ok(false);
        }
        let mut left = meta.clone();
        left.owners.retain(|o| o.tenant != tenant);
        if !left.owners.is_empty() {
            inner.index.insert(handle.to_string(), left.clone());
            drop(inner);
            self.write_meta(handle, &left)
                .map_err(|e| io_error("updating a base set's owners", e))?;
            return Ok(true);
        }
        inner.index.remove(handle);
        if let Some(pos) = inner.resident.iter().position(|r| r.handle == handle) {
            let gone = inner.resident.remove(pos);
            inner.resident_bytes -= gone.set.bytes();
            self.left(handle);
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
        sync_dir(&self.dir).map_err(|e| io_error("deleting a base set", e))?;
        Ok(true)
    }

    /// The resident set for `handle`, if `tenant` may use it, loading it from disk if it has
    /// left memory. Blocking.
    pub fn get(&self, tenant: &str, handle: &str) -> Result<AnyBases, JobError> {
        check_handle(handle)?;
        let meta = {
            let mut inner = self.lock();
            if !inner
                .index
                .get(handle)
                .is_some_and(|m| m.visible_to(tenant))
            {
                return Err(not_found(handle));
            }
            if let Some(pos) = inner.resident.iter().position(|r| r.handle == handle) {
                let hit = inner.resident.remove(pos);
                let set = hit.set.clone();
                inner.resident.push(hit);
                return Ok(set);
            }
            inner
                .index
                .get(handle)
                .cloned()
                .ok_or_else(|| not_found(handle))?
        };
        let loaded = match meta.curve_id() {
            Some(curve) => offload_core::with_curve!(curve, C => self
                .load::<C>(handle, &meta)
                .map(|s| C::any_bases(Arc::new(s)))),
            None => Err(Damage(format!("unknown curve {:?} in its metadata", meta.curve)).into()),
        };
        let set = match loaded {
            Ok(set) => set,
            Err(LoadError::Io(e)) => return Err(e),
            Err(LoadError::Damaged(Damage(why))) => return Err(self.quarantine(handle, &why)),
        };
        self.make_resident(tenant, handle, set.clone());
        Ok(set)
    }

    /// Write `<handle>.toml` durably: a temporary file, synced, renamed, the directory synced.
    /// Callers hold `meta_writes`, so the last snapshot taken is the last written.
    fn write_meta(&self, handle: &str, meta: &Meta) -> std::io::Result<()> {
        let text = toml::to_string(meta).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{handle}.toml.tmp"));
        let r = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, self.dir.join(format!("{handle}.toml")))?;
            sync_dir(&self.dir)
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }

    /// Take a damaged set out of the list and its files out of the way (kept for the operator
    /// under `<data_dir>/quarantine`), and say so.
    fn quarantine(&self, handle: &str, why: &str) -> JobError {
        self.lock().index.remove(handle);
        let q = self.dir.with_file_name("quarantine");
        let moved = std::fs::create_dir_all(&q).and_then(|()| {
            for ext in ["bin", "toml"] {
                let name = format!("{handle}.{ext}");
                std::fs::rename(self.dir.join(&name), q.join(&name))?;
            }
            sync_dir(&self.dir)
        });
        tracing::error!(%handle, moved = moved.is_ok(), "base set quarantined: {why}");
        JobError::DataLoss(format!(
            "base set {handle} failed its check ({why}); it was taken out of the list; upload it again"
        ))
    }

    /// Check every stored set's content against its handle (at start, off the serving path);
    /// damaged ones are quarantined. Returns how many were.
    pub fn verify_all(&self) -> usize {
        let mut bad = 0;
        for (handle, meta) in self.list() {
            let r = match meta.curve_id() {
                Some(curve) => {
                    offload_core::with_curve!(curve, C => self.load::<C>(&handle, &meta).map(drop))
                }
                None => Err(Damage(format!("unknown curve {:?}", meta.curve)).into()),
            };
            if let Err(LoadError::Damaged(Damage(why))) = r {
                self.quarantine(&handle, &why);
                bad += 1;
            }
        }
        bad
    }

    /// Limit the memory `tenant`'s resident sets take (`max_resident_bytes`): past it, that
    /// tenant's own least recently used sets leave memory, not another tenant's.
    pub fn set_resident_quota(&self, tenant: &str, bytes: usize) {
        self.lock()
            .resident_quotas
            .insert(tenant.to_string(), bytes);
    }

    /// Bytes of resident sets counted against `tenant`.
    pub fn resident_bytes(&self, tenant: &str) -> usize {
        let inner = self.lock();
        inner
            .resident
            .iter()
            .filter(|r| r.tenant == tenant)
            .map(|r| r.set.bytes())
            .sum()
    }

    fn make_resident(&self, tenant: &str, handle: &str, set: AnyBases) {
        let mut inner = self.lock();
        if inner.resident.iter().any(|r| r.handle == handle) {
            return;
        }
        self.entered(&set);
        let bytes = set.bytes();
        inner.resident_bytes += bytes;
        inner.resident.push(Resident {
            handle: handle.to_string(),
            set,
            tenant: tenant.to_string(),
        });
        // The newest set stays even if it alone passes a budget: it is in use.
        if let Some(&quota) = inner.resident_quotas.get(tenant) {
            let mut mine: usize = inner
                .resident
                .iter()
                .filter(|r| r.tenant == tenant)
                .map(|r| r.set.bytes())
                .sum();
            while mine > quota {
                let Some(pos) = inner.resident.iter().position(|r| r.tenant == tenant) else {
                    break;
                };
                if inner.resident[pos].handle == handle {
                    break;
                }
                let old = inner.resident.remove(pos);
                mine -= old.set.bytes();
                inner.resident_bytes -= old.set.bytes();
                self.left(&old.handle);
                tracing::info!(handle = %old.handle, %tenant, "base set left memory (tenant's max_resident_bytes; still on disk)");
            }
        }
        while inner.resident_bytes > self.resident_budget && inner.resident.len() > 1 {
            let old = inner.resident.remove(0);
            inner.resident_bytes -= old.set.bytes();
            self.left(&old.handle);
            tracing::info!(handle = %old.handle, "base set left memory (still on disk)");
        }
    }

    fn load<C: Curve>(&self, handle: &str, meta: &Meta) -> Result<BaseSet<C>, LoadError> {
        let path = self.dir.join(format!("{handle}.bin"));
        let file = std::fs::File::open(&path).map_err(|e| io_error("opening a base set", e))?;
        // Read, not mapped: a file damaged or cut short under a mapping would fault the daemon.
        let len = wire::point_len::<C>(PointEncoding::ArkUncompressed)
            .map_err(|e| io_error("point size", e))?;
        let size = file
            .metadata()
            .map_err(|e| io_error("reading a base set", e))?
            .len();
        if size != meta.count * len as u64 {
            return Err(Damage(format!(
                "{size} bytes on disk where {} points take {}",
                meta.count,
                meta.count * len as u64
            ))
            .into());
        }
        let mut bytes = Vec::with_capacity(size as usize);
        std::io::Read::read_to_end(&mut &file, &mut bytes)
            .map_err(|e| io_error("reading a base set", e))?;
        if bytes.len() as u64 != size {
            return Err(Damage("the file changed length while it was read".into()).into());
        }
        let mut h = content_hasher::<C>();
        h.update(&bytes);
        if hex::encode(h.finalize()) != handle {
            return Err(Damage("its content does not match its handle".into()).into());
        }
        // Checked at upload, and the content is the one hashed then.
        let points: Vec<Affine<C>> = bytes
            .par_chunks(len)
            .map(Affine::<C>::deserialize_uncompressed_unchecked)
            .collect::<Result<_, _>>()
            .map_err(|e| Damage(format!("a point does not decode: {e}")))?;
        Ok(BaseSet::resident(points, handle.to_string()))
    }

    /// Start an upload of `count` points.
    pub fn begin_upload(
        &self,
        curve: CurveId,
        encoding: PointEncoding,
        count: u64,
        label: String,
        owner: &str,
        shared: bool,
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
        let point_len = wire::curve_point_len(curve, encoding)
            .map_err(|e| JobError::invalid("header.encoding", e))?;
        let tmp = tempfile_in(&self.dir)?;
        let points: Box<dyn Received> = offload_core::with_curve!(curve, C => Box::new(
            ReceivedPoints::<C> {
                points: Vec::new(),
                hasher: content_hasher::<C>(),
            }
        ));
        Ok(Upload {
            curve,
            encoding,
            count,
            label,
            owner: owner.to_string(),
            shared,
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
            owner,
            shared,
            points,
            tmp,
            ..
        } = up;
        let (handle, set) = points.finish();
        let meta = Meta {
            curve: curve.to_string(),
            count: received,
            label: String::new(),
            owners: vec![Owner {
                tenant: owner.clone(),
                label: label.clone(),
            }],
            shared,
        };
        let writing = self.meta_writes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut existing) = self.meta(&handle) {
            // The content is stored already: this tenant becomes an owner too.
            drop(tmp);
            if existing.owners.is_empty() {
                existing.owners.push(Owner {
                    tenant: crate::auth::DEFAULT_TENANT.into(),
                    label: std::mem::take(&mut existing.label),
                });
            }
            // An owner's upload again keeps its label unless it gives a new one.
            match existing.owners.iter_mut().find(|o| o.tenant == owner) {
                Some(o) if !label.is_empty() => o.label = label,
                Some(_) => {}
                None => existing.owners.push(Owner {
                    tenant: owner,
                    label,
                }),
            }
            existing.shared |= shared;
            self.write_meta(&handle, &existing)
                .map_err(|e| io_error("updating a base set's owners", e))?;
            self.lock().index.insert(handle.clone(), existing.clone());
            return Ok((handle, existing));
        }
        let (mut file, tmp_path) = tmp.into_parts();
        file.flush()
            .map_err(|e| io_error("writing a base set", e))?;
        file.sync_all()
            .map_err(|e| io_error("syncing a base set", e))?;
        let bin = self.dir.join(format!("{handle}.bin"));
        std::fs::rename(&tmp_path, &bin).map_err(|e| io_error("storing a base set", e))?;
        // The points' rename is durable before the metadata names them.
        sync_dir(&self.dir).map_err(|e| io_error("storing a base set", e))?;
        self.write_meta(&handle, &meta)
            .map_err(|e| io_error("storing a base set's metadata", e))?;
        self.lock().index.insert(handle.clone(), meta.clone());
        drop(writing);
        self.make_resident(&meta.owners[0].tenant, &handle, set);
        Ok((handle, meta))
    }
}

/// A stored set that is not what was stored.
struct Damage(String);

enum LoadError {
    Io(JobError),
    Damaged(Damage),
}

impl From<JobError> for LoadError {
    fn from(e: JobError) -> Self {
        LoadError::Io(e)
    }
}

impl From<Damage> for LoadError {
    fn from(d: Damage) -> Self {
        LoadError::Damaged(d)
    }
}

fn content_hasher<C: Curve>() -> Sha256 {
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

/// The points of an upload so far, of whichever curve it declared.
trait Received: Send {
    /// Decode, check, write in canonical form and keep `bytes` (whole points, the first of
    /// them the set's `first`).
    fn append(
        &mut self,
        enc: PointEncoding,
        bytes: &[u8],
        first: u64,
        file: &mut std::fs::File,
    ) -> Result<(), JobError>;
    fn len(&self) -> u64;
    /// Memory of one decoded point.
    fn point_size(&self) -> usize;
    /// The handle (the content's hash) and the set.
    fn finish(self: Box<Self>) -> (String, AnyBases);
}

struct ReceivedPoints<C: Curve> {
    points: Vec<Affine<C>>,
    hasher: Sha256,
}

impl<C: JobCurve> Received for ReceivedPoints<C> {
    fn append(
        &mut self,
        enc: PointEncoding,
        bytes: &[u8],
        first: u64,
        file: &mut std::fs::File,
    ) -> Result<(), JobError> {
        let new = wire::decode_points::<C>(enc, bytes)
            .map_err(|(i, e)| JobError::invalid(format!("points[{}]", first + i as u64), e))?;
        let mut canonical =
            Vec::with_capacity(new.len() * Affine::<C>::identity().uncompressed_size());
        for p in &new {
            // Writing into a Vec cannot fail.
            let _ = p.serialize_uncompressed(&mut canonical);
        }
        self.hasher.update(&canonical);
        file.write_all(&canonical)
            .map_err(|e| io_error("writing an upload", e))?;
        self.points.extend(new);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.points.len() as u64
    }

    fn point_size(&self) -> usize {
        std::mem::size_of::<Affine<C>>()
    }

    fn finish(self: Box<Self>) -> (String, AnyBases) {
        let handle = hex::encode(self.hasher.finalize());
        let set = BaseSet::resident(self.points, handle.clone());
        (handle, C::any_bases(Arc::new(set)))
    }
}

/// An upload in progress: chunks are checked as they arrive and written in canonical form.
pub struct Upload {
    curve: CurveId,
    encoding: PointEncoding,
    count: u64,
    label: String,
    owner: String,
    shared: bool,
    point_len: usize,
    /// Bytes of a point split across chunks.
    carry: Vec<u8>,
    points: Box<dyn Received>,
    tmp: TempFile,
}

impl Upload {
    /// Memory the decoded points of a chunk of `len` bytes will take.
    pub fn decoded_bytes(&self, len: usize) -> usize {
        (self.carry.len() + len) / self.point_len * self.points.point_size()
    }

    pub fn received(&self) -> u64 {
        self.points.len()
    }

    /// The points the header announced.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Forget the bytes of a point cut off at the end of a broken stream: a resumption
    /// sends that point again, whole.
    pub fn drop_carry(&mut self) {
        self.carry.clear();
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
        self.points
            .append(self.encoding, &buf[..whole], first, file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};

    fn upload(store: &BaseStore, tenant: &str, seed: u64, n: u64) -> String {
        let g = ark_bn254::G1Affine::generator();
        let mut bytes = Vec::new();
        for i in 0..n {
            (g * ark_bn254::Fr::from(seed * 1000 + i + 1))
                .into_affine()
                .serialize_compressed(&mut bytes)
                .unwrap();
        }
        let mut up = store
            .begin_upload(
                CurveId::Bn254,
                PointEncoding::ArkCompressed,
                n,
                String::new(),
                tenant,
                false,
            )
            .unwrap();
        up.push(&bytes).unwrap();
        store.finish_upload(up).unwrap().0
    }

    fn resident(store: &BaseStore, handle: &str) -> bool {
        store.is_resident(handle)
    }

    /// The sets told resident and not yet released, as the backends would see them.
    #[derive(Default)]
    struct Told(Mutex<Vec<String>>);

    impl Residency for Told {
        fn resident(&self, set: &AnyBases) {
            let h = set
                .handle()
                .expect("only uploaded sets are told")
                .to_string();
            let mut v = self.0.lock().unwrap();
            assert!(!v.contains(&h), "{h} told resident twice");
            v.push(h);
        }
        fn released(&self, handle: &str) {
            let mut v = self.0.lock().unwrap();
            let at = v.iter().position(|h| h == handle);
            v.remove(at.expect("released without being resident"));
        }
    }

    #[test]
    fn a_tenant_past_its_resident_quota_makes_room_from_its_own_sets() {
        let dir = tempfile::tempdir().unwrap();
        let told = Arc::new(Told::default());
        let store = BaseStore::open(dir.path(), 1 << 20, 1 << 30)
            .unwrap()
            .with_residency(told.clone());
        let told_now = |h: &String| told.0.lock().unwrap().contains(h);
        let other = upload(&store, "b", 1, 16);
        let one = store.resident_bytes("b");
        assert!(one > 0);
        store.set_resident_quota("a", 2 * one);
        let a: Vec<String> = (2..6).map(|s| upload(&store, "a", s, 16)).collect();
        assert_eq!(store.resident_bytes("a"), 2 * one);
        let now: Vec<bool> = a.iter().map(|h| resident(&store, h)).collect();
        assert_eq!(now, vec![false, false, true, true]);
        // Used again, a set comes back from disk and the tenant's least recently used leaves.
        store.get("a", &a[0]).unwrap();
        let now: Vec<bool> = a.iter().map(|h| resident(&store, h)).collect();
        assert_eq!(now, vec![true, false, false, true]);
        // Another tenant's set never made room for them.
        assert!(resident(&store, &other));
        assert_eq!(store.resident_bytes("b"), one);
        // The backends were told of every entry and exit.
        for h in a.iter().chain([&other]) {
            assert_eq!(told_now(h), resident(&store, h), "{h}");
        }
        assert!(store.delete("a", &a[0]).unwrap());
        assert!(!told_now(&a[0]), "a deleted set is released");
        assert_eq!(told.0.lock().unwrap().len(), 2);
    }
}
