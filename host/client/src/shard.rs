//! Work split across the daemons of a [`Pool`]. An MSM is linear in its points, so a base set
//! is cut into contiguous shards, each resident on `replicas` daemons, and the partial sums
//! of one call are added here; NTT batches split by column and signature batches by item,
//! with answers put back in order.
//!
//! Failover: a shard's call goes to its least loaded holder, and to the next holder when that
//! one fails (a replica costs memory on a second daemon and nothing at call time); when every
//! holder is gone, the shard is uploaded again from the client's copy of the points to the
//! best other member (resumable, so a second failure mid-upload loses only what was in
//! flight), and the call runs there. A background task restores each shard's replicas on
//! healthy members after a holder goes down, so a second loss costs no upload at call time.

use crate::pool::{lock, Member, Pool};
use crate::{retryable, ClientCurve, ClientError, ClientField};
use ark_ec::short_weierstrass::{Affine, Projective};
use offload_proto::v1 as pb;
use offload_wire::ntt::NttConfig;
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How a base set is spread.
#[derive(Clone, Debug)]
pub struct ShardOptions {
    /// Shards; 0: one per member.
    pub shards: usize,
    /// Daemons holding each shard (at most the members there are).
    pub replicas: usize,
    /// Keep the points here, to upload a shard again when all its holders are gone, and to
    /// restore its replicas.
    pub keep_copy: bool,
    /// Stream attempts per shard upload on one daemon (the upload resumes where it broke).
    pub upload_attempts: usize,
    /// How often a background task restores `replicas` healthy holders for every shard (a
    /// holder down or gone costs one shard upload to another member); None: only when
    /// [`ShardedBases::repair`] is called. Needs `keep_copy`.
    pub repair_every: Option<Duration>,
}

impl Default for ShardOptions {
    fn default() -> Self {
        Self {
            shards: 0,
            replicas: 2,
            keep_copy: true,
            upload_attempts: 4,
            repair_every: Some(Duration::from_secs(10)),
        }
    }
}

struct Shard {
    range: Range<usize>,
    handle: String,
    /// The members holding it, in upload order. One that is down stays listed (it may come
    /// back with its volume); one that answers NOT_FOUND is dropped.
    holders: Mutex<Vec<String>>,
}

/// A base set spread across a pool. The handle of a shard is the same on every daemon (it is
/// the hash of the points), so holders are interchangeable. Dropping it stops its repair
/// task; the sets stay on the daemons (remove them by handle).
pub struct ShardedBases<C: ClientCurve> {
    set: Arc<Set<C>>,
}

/// What the calls and the repair task share.
struct Set<C: ClientCurve> {
    pool: Pool,
    shards: Vec<Shard>,
    len: usize,
    label: String,
    points: Option<Arc<Vec<Affine<C>>>>,
    attempts: usize,
    replicas: usize,
}

/// Contiguous ranges of `n` items in `k` parts, sizes differing by at most one.
pub fn split(n: usize, k: usize) -> Vec<Range<usize>> {
    let k = k.clamp(1, n.max(1));
    (0..k).map(|i| i * n / k..(i + 1) * n / k).collect()
}

/// An id for one shard's upload: unique to this upload, valid as an upload_id.
fn upload_id(shard: usize) -> String {
    format!("shard{shard}-{:016x}", rand::random::<u64>())
}

impl<C: ClientCurve> ShardedBases<C> {
    /// Spread `points` over `pool`: shard i on members i, i+1, … (in address order).
    pub async fn upload(
        pool: &Pool,
        points: Vec<Affine<C>>,
        label: &str,
        opts: &ShardOptions,
    ) -> Result<Self, ClientError> {
        let members = pool.members();
        if members.is_empty() || points.is_empty() {
            return Err(ClientError::Address(
                "a sharded upload needs members and points".into(),
            ));
        }
        let shards = match opts.shards {
            0 => members.len(),
            k => k,
        };
        let replicas = opts.replicas.clamp(1, members.len());
        let points = Arc::new(points);
        let ranges = split(points.len(), shards);
        let jobs = ranges.iter().enumerate().map(|(i, r)| {
            let want: Vec<String> = (0..replicas)
                .map(|j| members[(i + j) % members.len()].addr.clone())
                .collect();
            let pts = &points[r.clone()];
            async move { place(pool, pts, label, i, &want, opts.upload_attempts).await }
        });
        let placed = futures::future::try_join_all(jobs).await?;
        let shards = ranges
            .into_iter()
            .zip(placed)
            .map(|(range, (handle, holders))| Shard {
                range,
                handle,
                holders: Mutex::new(holders),
            })
            .collect();
        let set = Arc::new(Set {
            pool: pool.clone(),
            shards,
            len: points.len(),
            label: label.into(),
            points: opts.keep_copy.then_some(points),
            attempts: opts.upload_attempts,
            replicas,
        });
        if let (Some(every), true) = (opts.repair_every, opts.keep_copy) {
            tokio::spawn(keep_replicated(Arc::downgrade(&set), every));
        }
        Ok(Self { set })
    }

    pub fn len(&self) -> usize {
        self.set.len
    }

    pub fn is_empty(&self) -> bool {
        self.set.len == 0
    }

    /// (points, handle, holders) of each shard.
    pub fn layout(&self) -> Vec<(Range<usize>, String, Vec<String>)> {
        (self.set.shards.iter())
            .map(|s| (s.range.clone(), s.handle.clone(), lock(&s.holders).clone()))
            .collect()
    }

    /// Σ scalars[i]·points[i], each shard's part on one of its holders, added here.
    pub async fn msm(&self, scalars: &[C::ScalarField]) -> Result<Projective<C>, ClientError> {
        let mut r = self.msm_batch(&[scalars]).await?;
        r.pop()
            .ok_or_else(|| ClientError::Decode("no result".into()))
    }

    /// One MSM per scalar vector, the shards' calls in parallel.
    pub async fn msm_batch(
        &self,
        vectors: &[&[C::ScalarField]],
    ) -> Result<Vec<Projective<C>>, ClientError> {
        let set = &self.set;
        if let Some(v) = vectors.iter().find(|v| v.len() != set.len) {
            return Err(ClientError::Address(format!(
                "a scalar vector of {} for a sharded set of {} points",
                v.len(),
                set.len
            )));
        }
        let parts = set.shards.iter().enumerate().map(|(i, s)| {
            let slices: Vec<&[C::ScalarField]> =
                vectors.iter().map(|v| &v[s.range.clone()]).collect();
            async move { set.shard_msm(i, &slices).await }
        });
        let parts = futures::future::try_join_all(parts).await?;
        let mut sums = vec![Projective::<C>::default(); vectors.len()];
        for p in parts {
            for (s, x) in sums.iter_mut().zip(p) {
                *s += x;
            }
        }
        Ok(sums)
    }

    /// Bring every shard back to its replica count on healthy members, uploading it from the
    /// client's copy to the least loaded members that lack it; returns the uploads made. What
    /// the repair task runs; without a copy there is nothing to upload from (0).
    pub async fn repair(&self) -> Result<usize, ClientError> {
        self.set.repair().await
    }
}

impl<C: ClientCurve> Set<C> {
    async fn shard_msm(
        &self,
        i: usize,
        vectors: &[&[C::ScalarField]],
    ) -> Result<Vec<Projective<C>>, ClientError> {
        let shard = &self.shards[i];
        let deadline = self.pool.deadline();
        let run = |mut c: crate::Client| {
            let handle = shard.handle.clone();
            async move { c.msm_batch::<C>(&handle, vectors).await }
        };
        let mut last = None;
        let holders = lock(&shard.holders).clone();
        for m in self.pool.ranked_among(&holders) {
            match self.pool.try_on(&m, deadline, &run).await {
                Ok(v) => return Ok(v),
                // A holder that lost the set (a pod back without its volume) is no holder.
                Err(e) if retryable(&e) || is_not_found(&e) => {
                    if is_not_found(&e) {
                        lock(&shard.holders).retain(|a| *a != m.addr);
                    }
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        if self.points.is_none() {
            return Err(last
                .unwrap_or_else(|| ClientError::Address(format!("shard {i}: no holder is left"))));
        }
        // Every holder failed: place the shard on another member and run it there.
        let skip = lock(&shard.holders).clone();
        for m in self.pool.ranked(&skip) {
            match self.place_on(&m, i).await {
                Ok(()) => {}
                Err(e) if retryable(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
            match self.pool.try_on(&m, deadline, &run).await {
                Ok(v) => return Ok(v),
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Address(format!("shard {i}: no member is left"))))
    }

    /// Upload shard `i` to `m` from the client's copy and count `m` among its holders.
    async fn place_on(&self, m: &Member, i: usize) -> Result<(), ClientError> {
        let shard = &self.shards[i];
        let Some(points) = &self.points else {
            return Err(ClientError::Address(format!(
                "shard {i}: no copy of its points to upload"
            )));
        };
        let mut c = m.client(None);
        let h = c
            .upload_bases_resumable(
                &points[shard.range.clone()],
                &self.label,
                &upload_id(i),
                self.attempts,
            )
            .await?;
        if h != shard.handle {
            return Err(ClientError::Decode(format!(
                "shard {i} uploaded again has handle {h}, not {}",
                shard.handle
            )));
        }
        let mut holders = lock(&shard.holders);
        if !holders.contains(&m.addr) {
            holders.push(m.addr.clone());
        }
        Ok(())
    }

    async fn repair(&self) -> Result<usize, ClientError> {
        if self.points.is_none() {
            return Ok(0);
        }
        let mut placed = 0;
        for (i, shard) in self.shards.iter().enumerate() {
            let holders = lock(&shard.holders).clone();
            let live = (holders.iter())
                .filter(|a| self.pool.member(a).is_some_and(|m| m.healthy()))
                .count();
            let mut missing = self.replicas.saturating_sub(live);
            for m in self.pool.ranked(&holders) {
                if missing == 0 || !m.healthy() {
                    break;
                }
                match self.place_on(&m, i).await {
                    Ok(()) => {
                        placed += 1;
                        missing -= 1;
                    }
                    // That member failed too: the next one.
                    Err(e) if retryable(&e) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(placed)
    }
}

/// The repair task: runs until its set is dropped.
async fn keep_replicated<C: ClientCurve>(set: Weak<Set<C>>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(set) = set.upgrade() else { return };
        match set.repair().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, label = %set.label, "shards re-replicated"),
            Err(e) => {
                tracing::warn!(error = %e, label = %set.label, "re-replicating shards failed")
            }
        }
    }
}

fn is_not_found(e: &ClientError) -> bool {
    matches!(e, ClientError::Status(s) if s.code() == tonic::Code::NotFound)
}

/// Upload one shard to `want` (members failing there are replaced by others), returning its
/// handle and the members that hold it.
async fn place<C: ClientCurve>(
    pool: &Pool,
    pts: &[Affine<C>],
    label: &str,
    i: usize,
    want: &[String],
    attempts: usize,
) -> Result<(String, Vec<String>), ClientError> {
    let one = |addr: String| async move {
        let mut tried = vec![];
        let mut target = pool.member(&addr);
        let mut last = None;
        while let Some(m) = target {
            tried.push(m.addr.clone());
            let mut c = m.client(None);
            match c
                .upload_bases_resumable(pts, label, &upload_id(i), attempts)
                .await
            {
                Ok(h) => return Ok((m.addr.clone(), h)),
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
            // That member is down: another that does not hold this shard yet.
            let skip: Vec<String> = want.iter().chain(&tried).cloned().collect();
            target = pool.ranked(&skip).into_iter().find(|m| m.healthy());
        }
        Err(last.unwrap_or_else(|| ClientError::Address(format!("shard {i}: nowhere to put it"))))
    };
    let results = futures::future::join_all(want.iter().cloned().map(one)).await;
    let mut holders = Vec::new();
    let mut handle: Option<String> = None;
    let mut last = None;
    for r in results {
        match r {
            Ok((addr, h)) => {
                if handle.as_ref().is_some_and(|x| *x != h) {
                    return Err(ClientError::Decode(format!(
                        "shard {i}: two daemons gave different handles"
                    )));
                }
                handle = Some(h);
                if !holders.contains(&addr) {
                    holders.push(addr);
                }
            }
            Err(e) => last = Some(e),
        }
    }
    match handle {
        Some(h) => Ok((h, holders)),
        None => Err(last.unwrap_or_else(|| ClientError::Address(format!("shard {i}: not placed")))),
    }
}

impl Pool {
    /// NTTs of many columns, split by column across the members (each part retried on
    /// another member after a failure); answers in the columns' order.
    pub async fn ntt_columns<F: ClientField>(
        &self,
        cfg: &NttConfig<F>,
        columns: &[&[F]],
    ) -> Result<Vec<Vec<F>>, ClientError> {
        let parts = split(columns.len(), self.members().len());
        let jobs = parts.into_iter().map(|r| {
            let cols = &columns[r];
            self.call(move |mut c| async move { c.ntt(cfg, cols).await })
        });
        let done = futures::future::try_join_all(jobs).await?;
        Ok(done.into_iter().flatten().collect())
    }

    /// A signature batch split by item across the members; one verdict per item, in order,
    /// exactly as one daemon would give them (each item's verdict is its own).
    pub async fn verify_items(
        &self,
        scheme: pb::Scheme,
        policy: pb::Policy,
        items: Vec<pb::VerifyItem>,
    ) -> Result<pb::VerifyResponse, ClientError> {
        let parts = split(items.len(), self.members().len());
        let jobs = parts.into_iter().map(|r| {
            let part = items[r].to_vec();
            self.call(move |mut c| {
                let part = part.clone();
                async move { c.verify(scheme, policy, part).await }
            })
        });
        let done = futures::future::try_join_all(jobs).await?;
        let mut out = pb::VerifyResponse::default();
        let mut backends: Vec<String> = Vec::new();
        let mut report = pb::JobReport::default();
        for r in done {
            out.valid += r.valid;
            out.verdicts.extend(r.verdicts);
            if let Some(p) = r.report {
                if !p.backend.is_empty() && !backends.contains(&p.backend) {
                    backends.push(p.backend);
                }
                report.queue_ms = report.queue_ms.max(p.queue_ms);
                report.run_ms = report.run_ms.max(p.run_ms);
                report.fallback |= p.fallback;
            }
        }
        report.backend = backends.join(",");
        out.report = Some(report);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_covers_in_order() {
        for (n, k) in [(10, 3), (3, 10), (0, 4), (1 << 18, 3), (7, 1)] {
            let r = split(n, k);
            assert_eq!(r.first().map(|x| x.start), Some(0));
            assert_eq!(r.last().map(|x| x.end), Some(n));
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
            let (lo, hi) = (
                r.iter().map(|x| x.len()).min(),
                r.iter().map(|x| x.len()).max(),
            );
            assert!(hi.unwrap() - lo.unwrap() <= 1, "{n} {k} {r:?}");
        }
    }
}
