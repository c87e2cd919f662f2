//! Work split across the daemons of a [`Pool`]. An MSM is linear in its points, so a base set
//! is cut into contiguous shards, each resident on `replicas` daemons, and the partial sums
//! of one call are added here; NTT batches split by column and signature batches by item,
//! with answers put back in order.
//!
//! Failover: a shard's call goes to its least loaded holder, and to the next holder when that
//! one fails (a replica costs memory on a second daemon and nothing at call time); when every
//! holder is gone, the shard is uploaded again from the client's copy of the points to the
//! best other member (resumable, so a second failure mid-upload loses only what was in
//! flight), and the call runs there.

use crate::pool::{lock, Member, Pool};
use crate::{retryable, ClientCurve, ClientError, ClientField};
use ark_ec::short_weierstrass::{Affine, Projective};
use offload_proto::v1 as pb;
use offload_wire::ntt::NttConfig;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// How a base set is spread.
#[derive(Clone, Debug)]
pub struct ShardOptions {
    /// Shards; 0: one per member.
    pub shards: usize,
    /// Daemons holding each shard (at most the members there are).
    pub replicas: usize,
    /// Keep the points here, to upload a shard again when all its holders are gone.
    pub keep_copy: bool,
    /// Stream attempts per shard upload on one daemon (the upload resumes where it broke).
    pub upload_attempts: usize,
}

impl Default for ShardOptions {
    fn default() -> Self {
        Self {
            shards: 0,
            replicas: 2,
            keep_copy: true,
            upload_attempts: 4,
        }
    }
}

struct Shard {
    range: Range<usize>,
    handle: String,
    /// The members holding it, in upload order.
    holders: Mutex<Vec<String>>,
}

/// A base set spread across a pool. The handle of a shard is the same on every daemon (it is
/// the hash of the points), so holders are interchangeable.
pub struct ShardedBases<C: ClientCurve> {
    pool: Pool,
    shards: Vec<Shard>,
    len: usize,
    label: String,
    points: Option<Arc<Vec<Affine<C>>>>,
    attempts: usize,
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
        Ok(Self {
            pool: pool.clone(),
            shards,
            len: points.len(),
            label: label.into(),
            points: opts.keep_copy.then_some(points),
            attempts: opts.upload_attempts,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// (points, handle, holders) of each shard.
    pub fn layout(&self) -> Vec<(Range<usize>, String, Vec<String>)> {
        (self.shards.iter())
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
        if let Some(v) = vectors.iter().find(|v| v.len() != self.len) {
            return Err(ClientError::Address(format!(
                "a scalar vector of {} for a sharded set of {} points",
                v.len(),
                self.len
            )));
        }
        let parts = self.shards.iter().enumerate().map(|(i, s)| {
            let slices: Vec<&[C::ScalarField]> =
                vectors.iter().map(|v| &v[s.range.clone()]).collect();
            async move { self.shard_msm(i, &slices).await }
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
        for m in self.by_load(&holders) {
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
        let Some(points) = &self.points else {
            return Err(last
                .unwrap_or_else(|| ClientError::Address(format!("shard {i}: no holder is left"))));
        };
        // Every holder failed: place the shard on another member and run it there.
        let pts = &points[shard.range.clone()];
        let skip = lock(&shard.holders).clone();
        for m in self.pool.ranked(&skip) {
            let placed = self.upload_to(&m, pts, i).await;
            match placed {
                Ok(h) if h == shard.handle => {}
                Ok(h) => {
                    return Err(ClientError::Decode(format!(
                        "shard {i} uploaded again has handle {h}, not {}",
                        shard.handle
                    )))
                }
                Err(e) if retryable(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            }
            lock(&shard.holders).push(m.addr.clone());
            match self.pool.try_on(&m, deadline, &run).await {
                Ok(v) => return Ok(v),
                Err(e) if retryable(&e) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Address(format!("shard {i}: no member is left"))))
    }

    async fn upload_to(
        &self,
        m: &Member,
        pts: &[Affine<C>],
        i: usize,
    ) -> Result<String, ClientError> {
        let mut c = m.client(None);
        c.upload_bases_resumable(pts, &self.label, &upload_id(i), self.attempts)
            .await
    }

    /// The members among `addrs`, healthy and least loaded first.
    fn by_load(&self, addrs: &[String]) -> Vec<Arc<Member>> {
        let others: Vec<String> = (self.pool.members().iter())
            .map(|m| m.addr.clone())
            .filter(|a| !addrs.contains(a))
            .collect();
        self.pool.ranked(&others)
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
