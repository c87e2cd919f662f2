//! MSM across several daemons (`--backend fleet --addr A,B,…`): what sharding buys and what
//! failover costs, as a client sees it. Contenders, on the same scalars:
//! - `fleet:k=K` for K = 1 … members: the set in K shards on the first K members, each MSM's
//!   shards run in parallel and their sums added here (K = 1 is one daemon, the baseline);
//! - `fleet:reupload-shard` (when there are two members or more): the upload of one shard of the
//!   largest split (n/members points) to a member, which is what a failover pays when every
//!   holder of a shard is gone (the daemon checks every point again even when it already
//!   holds them, so the dedup of a repeat upload saves only the disk write).
//!
//! The base sets are uploaded before timing. Daemons answer each call's report (queue and run
//! time); the per-shard compute and transfer the scale model in docs/PERFORMANCE.md takes come
//! from single-daemon runs of the shard sizes.

use crate::{convert, Curve, Runner};
use ark_ec::short_weierstrass::{Affine, Projective};
use offload_client::pool::{Pool, PoolConfig, Targets};
use offload_client::shard::{ShardOptions, ShardedBases};
use offload_client::{ClientCurve, ConnectOptions};
use std::sync::Arc;

type Rt = Arc<tokio::runtime::Runtime>;

struct Sharded<C: ClientCurve> {
    rt: Rt,
    set: ShardedBases<C>,
    scalars: Arc<Vec<C::ScalarField>>,
    k: usize,
    out: Projective<C>,
}

impl<C: ClientCurve> Runner for Sharded<C> {
    fn name(&self) -> String {
        format!("fleet:k={}", self.k)
    }

    fn run(&mut self) {
        self.out = (self.rt)
            .block_on(self.set.msm(&self.scalars))
            .expect("sharded MSM");
    }

    fn digest(&self) -> Vec<u8> {
        convert::ark_point_digest(&self.out)
    }
}

/// Times an upload of one shard; its digest is that of the answer every contender computes,
/// so that the ratio column compares times only.
struct Reupload<C: ClientCurve> {
    rt: Rt,
    pool: Pool,
    points: Vec<Affine<C>>,
    digest: Vec<u8>,
}

impl<C: ClientCurve> Runner for Reupload<C> {
    fn name(&self) -> String {
        format!("fleet:reupload-shard({})", self.points.len())
    }

    fn run(&mut self) {
        let m = self.pool.members()[0].clone();
        let mut c = m.client(None);
        let id = format!("bench-{:016x}", rand::random::<u64>());
        (self.rt)
            .block_on(c.upload_bases_resumable(&self.points, "bench-shard", &id, 1))
            .expect("shard upload");
    }

    fn digest(&self) -> Vec<u8> {
        self.digest.clone()
    }
}

/// The contenders for an MSM of 2^log_n over `addrs` (comma-separated).
pub fn runners(
    curve: Curve,
    log_n: u32,
    addrs: &str,
    options: &ConnectOptions,
) -> Result<Vec<Box<dyn Runner>>, String> {
    let rt: Rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?,
    );
    let targets = Targets::parse(addrs).map_err(|e| e.to_string())?;
    let pool = rt
        .block_on(Pool::new(targets, options.clone(), PoolConfig::default()))
        .map_err(|e| e.to_string())?;
    let n = 1usize << log_n;
    let seed = 0x0ff1_0ad0 + log_n as u64;
    offload_wire::with_curve!(curve, C => {
        let (bases, scalars) = crate::msm::inputs::<C>(n, seed);
        build::<C>(rt, pool, bases, scalars)
    })
}

fn build<C: ClientCurve>(
    rt: Rt,
    pool: Pool,
    bases: Vec<Affine<C>>,
    scalars: Vec<C::ScalarField>,
) -> Result<Vec<Box<dyn Runner>>, String> {
    let members = pool.members();
    if members.iter().any(|m| !m.healthy()) {
        return Err(format!("every daemon must be up: {:?}", pool.states()));
    }
    let scalars = Arc::new(scalars);
    let mut out: Vec<Box<dyn Runner>> = Vec::new();
    for k in 1..=members.len() {
        // The first k members only: a pool of those.
        let addrs: Vec<String> = members[..k].iter().map(|m| m.addr.clone()).collect();
        let sub = rt
            .block_on(Pool::new(
                Targets::List(addrs),
                ConnectOptions::default(),
                PoolConfig::default(),
            ))
            .map_err(|e| e.to_string())?;
        let opts = ShardOptions {
            shards: k,
            replicas: 1,
            keep_copy: false,
            upload_attempts: 2,
            repair_every: None,
        };
        let set = rt
            .block_on(ShardedBases::upload(&sub, bases.clone(), "bench", &opts))
            .map_err(|e| format!("uploading {k} shards: {e}"))?;
        out.push(Box::new(Sharded {
            rt: rt.clone(),
            set,
            scalars: scalars.clone(),
            k,
            out: Projective::default(),
        }));
    }
    if members.len() >= 2 {
        let part = offload_client::shard::split(bases.len(), members.len())[0].clone();
        let want = <Projective<C> as ark_ec::VariableBaseMSM>::msm(&bases, &scalars)
            .map_err(|e| format!("the reference MSM: {e}"))?;
        out.push(Box::new(Reupload {
            rt,
            pool,
            points: bases[part].to_vec(),
            digest: convert::ark_point_digest(&want),
        }));
    }
    Ok(out)
}
