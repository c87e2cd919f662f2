//! Resumable uploads. A prover uploading a multi-gigabyte base set over a network that drops
//! it halfway (or a client that restarts) should not send the first half again: an upload
//! that names an id is parked when its stream ends or breaks, whole points kept (with their
//! memory still charged to the budget and the tenant), until the same tenant continues it at
//! the offset `UploadProgress` reports, or until `upload_resume_secs` pass.
//!
//! Parking happens in a guard's `Drop`, because a client that goes away makes tonic drop the
//! handler's future: no code after the failed read runs.

use crate::bases::Upload;
use crate::budget::Charge;
use offload_core::JobError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest upload id, in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// What an upload holds between chunks: the points so far and the memory they take.
pub struct Partial {
    pub up: Upload,
    pub charge: Charge,
}

/// The partial upload, shared between the handler (which may be dropped at any await) and
/// the rayon task decoding a chunk. `None` once finished or dropped for bad input.
pub type Slot = Arc<Mutex<Option<Partial>>>;

/// What a resumed upload must declare again, unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared {
    pub curve: i32,
    pub encoding: i32,
    pub count: u64,
    pub shared: bool,
}

struct Entry {
    declared: Declared,
    slot: Slot,
    /// Whole points held, readable without taking the slot's lock (a chunk may be decoding).
    received: Arc<AtomicU64>,
    active: bool,
    parked_at: Instant,
}

/// The parked and active resumable uploads of every tenant.
pub struct Resumable {
    entries: Mutex<HashMap<(String, String), Entry>>,
    keep: Duration,
    per_tenant: usize,
}

/// An upload's claim on its id while a stream sends it; parks the upload when dropped, unless
/// it was finished or refused.
pub struct Claim {
    owner: Option<(Arc<Resumable>, (String, String))>,
    pub slot: Slot,
    pub received: Arc<AtomicU64>,
    done: bool,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drop a partial upload off the async threads: its temporary file is removed.
fn discard(slot: Slot) {
    let go = move || drop(lock(&slot).take());
    match tokio::runtime::Handle::try_current() {
        Ok(h) => drop(h.spawn_blocking(go)),
        Err(_) => go(),
    }
}

fn check_id(field: &str, id: &str) -> Result<(), JobError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(JobError::invalid(
            field,
            format!("1 to {MAX_ID_BYTES} bytes of [A-Za-z0-9._-]"),
        ))
    }
}

impl Claim {
    /// An upload without an id: nothing is parked when it ends.
    pub fn unnamed() -> Self {
        Self {
            owner: None,
            slot: Arc::new(Mutex::new(None)),
            received: Arc::new(AtomicU64::new(0)),
            done: false,
        }
    }

    /// Whether the upload has an id (and is parked when its stream breaks).
    pub fn named(&self) -> bool {
        self.owner.is_some()
    }

    /// The upload finished or was refused: nothing to park.
    pub fn done(&mut self) {
        self.done = true;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let Some((r, key)) = self.owner.take() else {
            return;
        };
        let mut entries = lock(&r.entries);
        if self.done {
            entries.remove(&key);
            return;
        }
        if let Some(e) = entries.get_mut(&key) {
            e.active = false;
            e.parked_at = Instant::now();
            tracing::debug!(
                tenant = %key.0,
                upload_id = %key.1,
                received = e.received.load(Ordering::Relaxed),
                "upload parked for resumption"
            );
        }
    }
}

impl Resumable {
    /// Parked uploads are kept for `keep`; a tenant has at most `per_tenant` (parked and
    /// active together).
    pub fn new(keep: Duration, per_tenant: usize) -> Arc<Self> {
        Arc::new(Self {
            entries: Mutex::new(HashMap::new()),
            keep,
            per_tenant,
        })
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        !e.active && now.duration_since(e.parked_at) >= self.keep
    }

    /// Drop parked uploads older than the keep time (their memory returns to the budget).
    pub fn sweep(&self) {
        let now = Instant::now();
        let expired: Vec<Slot> = {
            let mut entries = lock(&self.entries);
            let mut gone = Vec::new();
            entries.retain(|_, e| {
                let keep = !self.expired(e, now);
                if !keep {
                    gone.push(e.slot.clone());
                }
                keep
            });
            gone
        };
        // Outside the map's lock, and off the async threads: dropping an upload removes
        // its temporary file.
        for s in expired {
            discard(s);
        }
    }

    /// Claim `id` for a stream that starts at point `offset`: a new upload at offset 0, or
    /// the parked one continued where it stopped.
    pub fn claim(
        self: &Arc<Self>,
        tenant: &str,
        id: &str,
        declared: Declared,
        offset: u64,
    ) -> Result<Claim, JobError> {
        check_id("header.upload_id", id)?;
        let key = (tenant.to_string(), id.to_string());
        let mut entries = lock(&self.entries);
        let now = Instant::now();
        // A parked upload whose last chunk turned out bad (decoded after its stream was
        // gone) holds nothing to continue; nor does an expired one.
        let stale = entries.get(&key).is_some_and(|e| {
            self.expired(e, now) || (!e.active && e.slot.try_lock().is_ok_and(|p| p.is_none()))
        });
        if stale {
            if let Some(e) = entries.remove(&key) {
                discard(e.slot);
            }
        }
        if let Some(e) = entries.get_mut(&key) {
            if e.active || e.slot.try_lock().is_err() {
                return Err(JobError::Aborted(format!(
                    "header.upload_id: upload {id:?} is being sent on another stream; \
                     wait for it to end (UploadProgress.active) and continue it"
                )));
            }
            if e.declared != declared {
                return Err(JobError::invalid(
                    "header",
                    format!(
                        "upload {id:?} began as {:?}; a resumption declares the same curve, \
                         encoding, count and shared",
                        e.declared
                    ),
                ));
            }
            let held = e.received.load(Ordering::Relaxed);
            if offset != held {
                return Err(JobError::invalid(
                    "header.offset",
                    format!("{offset}: the daemon holds {held} points of upload {id:?}; continue from there"),
                ));
            }
            e.active = true;
            return Ok(Claim {
                owner: Some((self.clone(), key)),
                slot: e.slot.clone(),
                received: e.received.clone(),
                done: false,
            });
        }
        if offset != 0 {
            return Err(JobError::NotFound(format!(
                "header.offset: {offset}, but the daemon holds nothing of upload {id:?}; \
                 start again at offset 0"
            )));
        }
        let mine = (entries.iter())
            .filter(|((t, _), e)| t == tenant && !self.expired(e, now))
            .count();
        if mine >= self.per_tenant {
            return Err(JobError::ResourceExhausted(format!(
                "tenant {tenant} has {mine} resumable uploads open or parked, the most it may \
                 (max_uploads); finish them or let them expire"
            )));
        }
        let claim = Claim {
            owner: Some((self.clone(), key.clone())),
            slot: Arc::new(Mutex::new(None)),
            received: Arc::new(AtomicU64::new(0)),
            done: false,
        };
        entries.insert(
            key,
            Entry {
                declared,
                slot: claim.slot.clone(),
                received: claim.received.clone(),
                active: true,
                parked_at: Instant::now(),
            },
        );
        Ok(claim)
    }

    /// (points held, points declared, a stream sending it now) for `tenant`'s upload `id`.
    pub fn progress(&self, tenant: &str, id: &str) -> Result<(u64, u64, bool), JobError> {
        check_id("upload_id", id)?;
        let entries = lock(&self.entries);
        let now = Instant::now();
        let e = entries
            .get(&(tenant.to_string(), id.to_string()))
            .filter(|e| !self.expired(e, now))
            .ok_or_else(|| {
                JobError::NotFound(format!(
                    "upload_id: the daemon holds nothing of upload {id:?}; start at offset 0"
                ))
            })?;
        Ok((
            e.received.load(Ordering::Relaxed),
            e.declared.count,
            e.active,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bases::BaseStore;
    use crate::budget::Budget;
    use offload_core::wire::{CurveId, PointEncoding};

    const DECLARED: Declared = Declared {
        curve: 1,
        encoding: 2,
        count: 10,
        shared: false,
    };

    /// Claim `id` for `tenant` and give it an upload holding `bytes` of the budget.
    fn begin(
        r: &Arc<Resumable>,
        store: &BaseStore,
        budget: &Arc<Budget>,
        tenant: &str,
        id: &str,
    ) -> Claim {
        let c = r.claim(tenant, id, DECLARED, 0).unwrap();
        let up = store
            .begin_upload(
                CurveId::Bn254,
                PointEncoding::ArkUncompressed,
                10,
                String::new(),
                tenant,
                false,
            )
            .unwrap();
        let mut charge = budget.charge();
        charge.add("test", 1000).unwrap();
        *lock(&c.slot) = Some(Partial { up, charge });
        c
    }

    #[test]
    fn parked_per_tenant_refused_while_active_and_expired_with_memory_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = BaseStore::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        let budget = Budget::new(1 << 20);
        let r = Resumable::new(Duration::from_secs(60), 2);

        let a = begin(&r, &store, &budget, "alpha", "up-1");
        // While a stream sends it, a second stream is refused; progress says it is active.
        let e = r.claim("alpha", "up-1", DECLARED, 0).err().unwrap();
        assert!(matches!(e, JobError::Aborted(_)), "{e:?}");
        assert_eq!(r.progress("alpha", "up-1").unwrap(), (0, 10, true));
        drop(a);
        assert_eq!(r.progress("alpha", "up-1").unwrap(), (0, 10, false));
        assert_eq!(
            budget.used(),
            1000,
            "a parked upload keeps its memory charged"
        );

        // Ids are the tenant's own: another tenant neither sees nor continues alpha's.
        assert!(matches!(
            r.progress("beta", "up-1"),
            Err(JobError::NotFound(_))
        ));
        let e = r.claim("beta", "up-1", DECLARED, 5).err().unwrap();
        assert!(matches!(e, JobError::NotFound(_)), "{e:?}");
        drop(begin(&r, &store, &budget, "beta", "up-1"));
        assert_eq!(r.progress("alpha", "up-1").unwrap(), (0, 10, false));

        // At most two per tenant, parked or active.
        drop(begin(&r, &store, &budget, "alpha", "up-2"));
        let e = r.claim("alpha", "up-3", DECLARED, 0).err().unwrap();
        assert!(matches!(e, JobError::ResourceExhausted(_)), "{e:?}");

        // Finished (or refused) uploads leave no trace.
        let mut c = r.claim("alpha", "up-2", DECLARED, 0).unwrap();
        c.done();
        drop(lock(&c.slot).take());
        drop(c);
        assert!(matches!(
            r.progress("alpha", "up-2"),
            Err(JobError::NotFound(_))
        ));

        // Past the keep time: gone, and the sweep returns the memory.
        let quick = Resumable::new(Duration::ZERO, 4);
        drop(begin(&quick, &store, &budget, "alpha", "up-9"));
        assert!(matches!(
            quick.progress("alpha", "up-9"),
            Err(JobError::NotFound(_))
        ));
        let before = budget.used();
        quick.sweep();
        assert_eq!(budget.used(), before - 1000);
        let uploads = || {
            std::fs::read_dir(dir.path().join("bases"))
                .map(|d| {
                    d.flatten()
                        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                        .count()
                })
                .unwrap_or(0)
        };
        assert_eq!(
            uploads(),
            2,
            "the parked uploads (alpha's and beta's up-1) hold files"
        );
        for id in ["a b", "", &"x".repeat(65)] {
            let e = r.claim("alpha", id, DECLARED, 0).err();
            assert!(
                matches!(e, Some(JobError::InvalidArgument { .. })),
                "{id:?}"
            );
        }
    }
}
