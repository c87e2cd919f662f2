//! Places each job on the backend with the earliest expected finish and runs it there.
//!
//! Each backend has a lane: a bounded queue, fair across tenants ([`crate::fair`]), in two
//! classes (within a tenant, latency-class signature batches first, then bulk MSM and NTT work)
//! and `slots` worker threads. Expected finish = the lane's
//! backlog + this job's estimate, where an estimate is the backend's prior times a factor per
//! operation, calibrated by a self-benchmark at start-up and refined from every observed run.
//! A job whose client has gone is dropped when it reaches the front of its queue. A job a
//! backend fails is re-run on the fallback backend (one whose capabilities cover every job: the
//! CPU), counted and logged; so is a job a
//! device has not finished within its time limit (20 times its estimate, at least the floor),
//! from a copy taken before it went to the device.

use crate::bases::{AnyBases, Residency};
use crate::fair::FairQueue;
use crate::metrics::{BackendLabel, JobLabels, LatencyLabels, Metrics};
use offload_core::backend::{
    Backend, Cancel, Capability, Failure, FailureKind, Health, Preparation,
};
use offload_core::caps;
use offload_core::{Job, JobError, Output};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Where and how a job ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub backend: String,
    pub queued: Duration,
    pub ran: Duration,
    /// Re-run on the fallback backend after another backend failed.
    pub fallback: bool,
}

type Reply = oneshot::Sender<Result<(Output, Report), JobError>>;

struct Entry {
    tenant: Arc<str>,
    job: Job,
    est: f64,
    enqueued: Instant,
    cancelled: Cancel,
    reply: Reply,
    fallback: bool,
}

#[derive(Default)]
struct State {
    queue: FairQueue<Entry>,
    /// Start time and estimate of each running job.
    running: HashMap<u64, (Instant, f64)>,
    next_id: u64,
    shutdown: bool,
}

struct Lane {
    backend: Arc<dyn Backend>,
    state: Mutex<State>,
    wake: Condvar,
    /// Observed / prior run time, per operation.
    factors: Mutex<HashMap<&'static str, f64>>,
    completed: AtomicU64,
    /// The backend's capabilities, asked once: every admission reads them.
    caps: Vec<Capability>,
}

impl Lane {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked while holding the lock left consistent queues behind (the
        // panic is caught around the backend call, outside the lock).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn factor(&self, op: &'static str) -> f64 {
        let f = self.factors.lock().unwrap_or_else(|e| e.into_inner());
        f.get(op).copied().unwrap_or(1.0)
    }

    fn observe(&self, op: &'static str, prior: f64, observed: f64, weight: f64) {
        if prior <= 0.0 {
            return;
        }
        let mut f = self.factors.lock().unwrap_or_else(|e| e.into_inner());
        let ratio = observed / prior;
        let e = f.entry(op).or_insert(ratio);
        *e = (1.0 - weight) * *e + weight * ratio;
    }

    fn estimate(&self, job: &Job) -> f64 {
        self.backend.estimate(job).as_secs_f64() * self.factor(job.kind().op())
    }

    fn accepts(&self, job: &Job) -> bool {
        caps::admits(&self.caps, job)
    }

    /// Seconds of work ahead of a new job of this class, spread over the slots.
    fn backlog(&self, st: &State, latency: bool) -> f64 {
        let now = Instant::now();
        let running: f64 = st
            .running
            .values()
            .map(|(t, est)| (est - now.duration_since(*t).as_secs_f64()).max(0.0))
            .sum();
        (running + st.queue.cost(latency)) / self.backend.slots().max(1) as f64
    }
}

pub struct Scheduler {
    lanes: Vec<Arc<Lane>>,
    fallback: usize,
    /// The lane every job it accepts goes to, whatever the estimates (device bring-up).
    preferred: Mutex<Option<usize>>,
    capacity: usize,
    /// Shortest time limit for a job on a device lane, in milliseconds.
    timeout_floor_ms: AtomicU64,
    metrics: Arc<Metrics>,
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
    stopping: std::sync::atomic::AtomicBool,
}

/// Raises a job's flag when the future awaiting it is dropped: expired where the call's
/// deadline has passed, cancelled where the client went away.
struct CancelOnDrop(Cancel, Option<Instant>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.1.is_some_and(|d| Instant::now() >= d) {
            self.0.expire();
        } else {
            self.0.cancel();
        }
    }
}

/// A lane's state, as `GetInfo` reports it.
#[derive(Clone)]
pub struct LaneInfo {
    pub backend: Arc<dyn Backend>,
    /// The capabilities the lane admits jobs by.
    pub caps: Vec<Capability>,
    pub queued: usize,
    pub running: usize,
    pub completed: u64,
}

impl Scheduler {
    /// `backends[fallback]` must run every job (the CPU backend).
    pub fn new(
        backends: Vec<Arc<dyn Backend>>,
        fallback: usize,
        capacity: usize,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let lanes: Vec<Arc<Lane>> = backends
            .into_iter()
            .map(|backend| {
                Arc::new(Lane {
                    caps: backend.capabilities(),
                    backend,
                    state: Mutex::new(State::default()),
                    wake: Condvar::new(),
                    factors: Mutex::new(HashMap::new()),
                    completed: AtomicU64::new(0),
                })
            })
            .collect();
        let s = Arc::new(Self {
            lanes,
            fallback,
            preferred: Mutex::new(None),
            capacity: capacity.max(1),
            timeout_floor_ms: AtomicU64::new(10_000),
            metrics,
            workers: Mutex::new(Vec::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        let mut workers = Vec::new();
        for (i, lane) in s.lanes.iter().enumerate() {
            for w in 0..lane.backend.slots().max(1) {
                let sched = Arc::downgrade(&s);
                let lane = lane.clone();
                let name = format!("offload-{}-{w}", lane.backend.name());
                let spawned = std::thread::Builder::new()
                    .name(name)
                    .spawn(move || worker(sched, lane, i, w));
                match spawned {
                    Ok(h) => workers.push(h),
                    Err(e) => tracing::error!("cannot start a worker thread: {e}"),
                }
            }
        }
        *s.workers.lock().unwrap_or_else(|e| e.into_inner()) = workers;
        s
    }

    /// The lanes MSMs over `set` are expected to run on: the preferred lane if it takes them,
    /// else every healthy device lane that does, else the fallback. (A lane not told prepares
    /// at its first use of the set, if it keeps anything for sets.)
    fn msm_lanes(&self, set: &AnyBases) -> Vec<&Lane> {
        let takes = |l: &Lane| {
            l.backend.health() == Health::Healthy
                && caps::admits_msm(&l.caps, set.curve(), set.len() as u64)
        };
        let preferred = *self.preferred.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = preferred.map(|p| &*self.lanes[p]).filter(|l| takes(l)) {
            return vec![l];
        }
        let devices: Vec<&Lane> = (self.lanes.iter().enumerate())
            .filter(|&(i, l)| i != self.fallback && takes(l))
            .map(|(_, l)| &**l)
            .collect();
        if devices.is_empty() {
            vec![&*self.lanes[self.fallback]]
        } else {
            devices
        }
    }

    /// Probe each device lane again every `every` while it is unhealthy; one that passes takes
    /// jobs again. One detached thread per lane: a device that hangs its probe holds only its
    /// own thread, and never holds up shutdown.
    pub fn start_rechecks(self: &Arc<Self>, every: Duration) {
        for (i, lane) in self.lanes.iter().enumerate() {
            if i == self.fallback {
                continue;
            }
            let (sched, lane) = (Arc::downgrade(self), lane.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("offload-{}-recheck", lane.backend.name()))
                .spawn(move || recheck(sched, &lane, every));
            if let Err(e) = spawned {
                tracing::error!("cannot start a device recheck thread: {e}");
            }
        }
    }

    /// What the backends keep for the set `handle` (the first that keeps anything).
    pub fn prepared(&self, handle: &str) -> Option<Preparation> {
        self.lanes.iter().find_map(|l| l.backend.prepared(handle))
    }

    pub fn lanes(&self) -> Vec<LaneInfo> {
        self.lanes
            .iter()
            .map(|l| {
                let st = l.lock();
                LaneInfo {
                    backend: l.backend.clone(),
                    caps: l.caps.clone(),
                    queued: st.queue.len(),
                    running: st.running.len(),
                    completed: l.completed.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Send every job the backend named `name` accepts to it; false if there is none.
    pub fn prefer(&self, name: &str) -> bool {
        let i = self.lanes.iter().position(|l| l.backend.name() == name);
        *self.preferred.lock().unwrap_or_else(|e| e.into_inner()) = i;
        i.is_some()
    }

    /// The shortest time a device lane gets before its job is re-run on the fallback lane.
    pub fn set_device_timeout_floor(&self, d: Duration) {
        self.timeout_floor_ms
            .store(d.as_millis() as u64, Ordering::Relaxed);
    }

    fn device_timeout(&self, est: f64) -> Duration {
        let floor = Duration::from_millis(self.timeout_floor_ms.load(Ordering::Relaxed));
        Duration::from_secs_f64((20.0 * est).min(1e6)).max(floor)
    }

    /// Run each job on every lane that accepts it, synchronously, and take the measured time
    /// over the prior as that operation's factor. Called once at start-up; each job runs twice
    /// and the second (warm: tables built, pages touched) run counts.
    pub fn calibrate(&self, make_jobs: impl Fn() -> Vec<Job>) {
        for lane in &self.lanes {
            for job in make_jobs().into_iter().chain(make_jobs()) {
                if !lane.accepts(&job) {
                    continue;
                }
                let op = job.kind().op();
                let prior = lane.backend.estimate(&job).as_secs_f64();
                let t = Instant::now();
                let ok = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    lane.backend.run(job, &Cancel::never())
                }))
                .is_ok_and(|r| r.is_ok());
                let took = t.elapsed().as_secs_f64();
                if ok {
                    lane.observe(op, prior, took, 1.0);
                    tracing::info!(
                        backend = lane.backend.name(),
                        op,
                        seconds = took,
                        factor = lane.factor(op),
                        "calibrated"
                    );
                }
            }
        }
    }

    /// Queue `tenant`'s job on the lane with the earliest expected finish and await its result.
    /// Dropping the returned future cancels the job if it has not started.
    pub async fn submit(&self, tenant: &Arc<str>, job: Job) -> Result<(Output, Report), JobError> {
        self.submit_until(tenant, job, None).await
    }

    /// [`Scheduler::submit`] for a call with a deadline: a job whose deadline has passed is
    /// not queued, and one still queued or running when it passes is stopped (its failure
    /// kind `Deadline`) and answered DEADLINE_EXCEEDED.
    pub async fn submit_until(
        &self,
        tenant: &Arc<str>,
        job: Job,
        deadline: Option<Instant>,
    ) -> Result<(Output, Report), JobError> {
        let Some(d) = deadline else {
            return self.queue_and_wait(tenant, job, None).await;
        };
        let kind = job.kind();
        if Instant::now() >= d {
            self.metrics
                .jobs
                .get_or_create(&JobLabels {
                    op: kind.op().into(),
                    kind: kind.to_string(),
                    backend: "none".into(),
                    outcome: "deadline".into(),
                })
                .inc();
            return Err(JobError::DeadlineExceeded(format!(
                "the call's deadline passed before its {kind} job was queued"
            )));
        }
        match tokio::time::timeout_at(d.into(), self.queue_and_wait(tenant, job, deadline)).await {
            Ok(r) => r,
            // The wait's guards raised the job's flag as expired when the wait was dropped.
            Err(_) => Err(JobError::DeadlineExceeded(format!(
                "the call's deadline passed before its {kind} job finished"
            ))),
        }
    }

    async fn queue_and_wait(
        &self,
        tenant: &Arc<str>,
        job: Job,
        deadline: Option<Instant>,
    ) -> Result<(Output, Report), JobError> {
        let kind = job.kind();
        let latency = job.latency_class();
        let mut best: Option<(usize, f64, f64)> = None;
        let mut full = false;
        for (i, lane) in self.lanes.iter().enumerate() {
            if !lane.accepts(&job) || lane.backend.health() != Health::Healthy {
                continue;
            }
            let est = lane.estimate(&job);
            let st = lane.lock();
            if !st.queue.admits(tenant, self.capacity) {
                full = true;
                continue;
            }
            let finish = lane.backlog(&st, latency) + est;
            if best.is_none_or(|b| finish < b.1) {
                best = Some((i, finish, est));
            }
        }
        let preferred = *self.preferred.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = preferred {
            let lane = &self.lanes[p];
            let room = { lane.lock().queue.admits(tenant, self.capacity) };
            if room && lane.accepts(&job) && lane.backend.health() == Health::Healthy {
                best = Some((p, 0.0, lane.estimate(&job)));
            }
        }
        let Some((i, _, est)) = best else {
            return Err(if full {
                JobError::ResourceExhausted(format!(
                    "every backend that runs {kind} has {} jobs waiting (tenant {tenant} holds its \
                     share of them); retry later",
                    self.capacity
                ))
            } else {
                JobError::Unsupported(kind.to_string())
            });
        };
        // A device may never hand a hung job back: keep a copy for the fallback lane.
        let spare = (i != self.fallback).then(|| job.clone());
        let (tx, rx) = oneshot::channel();
        let cancelled = Cancel::new();
        let _guard = CancelOnDrop(cancelled.clone(), deadline);
        let submitted = Instant::now();
        self.push(
            i,
            Entry {
                tenant: tenant.clone(),
                job,
                est,
                enqueued: submitted,
                cancelled: cancelled.clone(),
                reply: tx,
                fallback: false,
            },
            false,
        );
        let dropped = || JobError::Internal("the worker dropped the job".into());
        let res = match spare {
            None => rx.await.map_err(|_| dropped())?,
            Some(spare) => match tokio::time::timeout(self.device_timeout(est), rx).await {
                Ok(r) => r.map_err(|_| dropped())?,
                Err(_) => {
                    let lane = &self.lanes[i];
                    tracing::warn!(
                        backend = lane.backend.name(),
                        job = %kind,
                        "no result within the time limit; re-running on the fallback backend"
                    );
                    cancelled.cancel();
                    self.count(lane, &kind.to_string(), kind.op(), "timeout");
                    self.metrics
                        .fallbacks
                        .get_or_create(&BackendLabel {
                            backend: lane.backend.name().into(),
                        })
                        .inc();
                    let (tx, rx) = oneshot::channel();
                    let again = Cancel::new();
                    let _again_guard = CancelOnDrop(again.clone(), deadline);
                    let est = self.lanes[self.fallback].estimate(&spare);
                    self.push(
                        self.fallback,
                        Entry {
                            tenant: tenant.clone(),
                            job: spare,
                            est,
                            enqueued: submitted,
                            cancelled: again,
                            reply: tx,
                            fallback: true,
                        },
                        true,
                    );
                    rx.await.map_err(|_| dropped())?
                }
            },
        };
        if let Ok((_, report)) = &res {
            self.metrics
                .latency
                .get_or_create(&LatencyLabels {
                    op: kind.op().into(),
                    backend: report.backend.clone(),
                })
                .observe(submitted.elapsed().as_secs_f64());
        }
        res
    }

    fn push(&self, lane: usize, e: Entry, front: bool) {
        let l = &self.lanes[lane];
        let mut st = l.lock();
        let (tenant, latency, est) = (e.tenant.clone(), e.job.latency_class(), e.est);
        st.queue.push(&tenant, latency, est, e, front);
        let depth = st.queue.len();
        drop(st);
        self.gauge_depth(l, depth);
        l.wake.notify_all();
    }

    fn gauge_depth(&self, l: &Lane, depth: usize) {
        self.metrics
            .queue_depth
            .get_or_create(&BackendLabel {
                backend: l.backend.name().into(),
            })
            .set(depth as i64);
    }

    fn count(&self, l: &Lane, kind: &str, op: &str, outcome: &str) {
        self.metrics
            .jobs
            .get_or_create(&JobLabels {
                op: op.into(),
                kind: kind.into(),
                backend: l.backend.name().into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Stop the workers once their queues are empty.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        for l in &self.lanes {
            l.lock().shutdown = true;
            l.wake.notify_all();
        }
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            let _ = w.join();
        }
    }
}

/// Take the next entry worker `w` may run, fairly across tenants; only worker 0 (or the only
/// worker) takes bulk jobs, so the other slots stay free for signature batches.
impl Residency for Scheduler {
    fn resident(&self, set: &AnyBases) {
        for l in self.msm_lanes(set) {
            l.backend.bases_resident(set);
        }
    }

    fn released(&self, handle: &str) {
        for l in &self.lanes {
            l.backend.bases_released(handle);
        }
    }
}

fn recheck(sched: std::sync::Weak<Scheduler>, lane: &Lane, every: Duration) {
    let step = Duration::from_millis(50).min(every);
    let mut waited = Duration::ZERO;
    loop {
        std::thread::sleep(step);
        waited += step;
        let Some(s) = sched.upgrade() else { return };
        if s.stopping.load(Ordering::Relaxed) {
            return;
        }
        if waited < every {
            continue;
        }
        waited = Duration::ZERO;
        drop(s);
        let Health::Unhealthy(why) = lane.backend.health() else {
            continue;
        };
        let name = lane.backend.name();
        match lane.backend.recover() {
            Ok(()) => {
                tracing::info!(backend = name, was = %why, "device passed its probe again; it takes jobs again")
            }
            Err(e) => tracing::debug!(backend = name, "device still unhealthy: {e}"),
        }
    }
}

fn next(lane: &Lane, w: usize) -> Option<(Entry, u64)> {
    let mut st = lane.lock();
    loop {
        let bulk_ok = w == 0 || lane.backend.slots() <= 1;
        if let Some((_, e)) = st.queue.pop(bulk_ok) {
            let id = st.next_id;
            st.next_id += 1;
            st.running.insert(id, (Instant::now(), e.est));
            return Some((e, id));
        }
        if st.shutdown {
            return None;
        }
        st = lane.wake.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

fn worker(sched: std::sync::Weak<Scheduler>, lane: Arc<Lane>, index: usize, w: usize) {
    while let Some((e, id)) = next(&lane, w) {
        let Some(s) = sched.upgrade() else { return };
        let depth = lane.lock().queue.len();
        s.gauge_depth(&lane, depth);
        let kind = e.job.kind();
        let (op, kind_name) = (kind.op(), kind.to_string());
        if e.cancelled.is_cancelled() {
            lane.lock().running.remove(&id);
            s.count(&lane, &kind_name, op, stopped(&e.cancelled));
            continue;
        }
        // A clone: the family's lock guard must not be held across the run, or a lane creating
        // its label would wait for this job to finish.
        let running = s
            .metrics
            .running
            .get_or_create(&BackendLabel {
                backend: lane.backend.name().into(),
            })
            .clone();
        running.inc();
        let queued = e.enqueued.elapsed();
        let prior = lane.backend.estimate(&e.job).as_secs_f64();
        let started = Instant::now();
        let cancel = e.cancelled.clone();
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| lane.backend.run(e.job, &cancel)))
                .unwrap_or_else(|p| {
                    let why = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    Err(Failure {
                        kind: FailureKind::Panicked,
                        reason: format!("panicked: {why}").into(),
                        job: None,
                    })
                });
        let ran = started.elapsed();
        running.dec();
        {
            let mut st = lane.lock();
            st.running.remove(&id);
            st.queue.charge(&e.tenant, ran.as_secs_f64());
        }
        lane.completed.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(out) => {
                lane.observe(op, prior, ran.as_secs_f64(), 0.2);
                s.count(&lane, &kind_name, op, "ok");
                let _ = e.reply.send(Ok((
                    out,
                    Report {
                        backend: lane.backend.name().into(),
                        queued,
                        ran,
                        fallback: e.fallback,
                    },
                )));
            }
            // Nobody waits for it: the client went, or a timed-out device job already re-runs
            // on the fallback backend.
            Err(_) if cancel.is_cancelled() => {
                s.count(&lane, &kind_name, op, stopped(&cancel));
            }
            Err(Failure {
                kind,
                reason,
                job: Some(job),
            }) if index != s.fallback => {
                tracing::warn!(
                    backend = lane.backend.name(),
                    job = %kind_name,
                    %kind,
                    %reason,
                    "backend failed; re-running on the fallback backend"
                );
                s.count(&lane, &kind_name, op, "fallback");
                s.metrics
                    .fallbacks
                    .get_or_create(&BackendLabel {
                        backend: lane.backend.name().into(),
                    })
                    .inc();
                let est = s.lanes[s.fallback].estimate(&job);
                s.push(
                    s.fallback,
                    Entry {
                        tenant: e.tenant,
                        job,
                        est,
                        enqueued: e.enqueued,
                        cancelled: e.cancelled,
                        reply: e.reply,
                        fallback: true,
                    },
                    true,
                );
            }
            Err(Failure { kind, reason, .. }) => {
                tracing::error!(backend = lane.backend.name(), job = %kind_name, %kind, %reason, "job failed");
                s.count(&lane, &kind_name, op, "failed");
                let _ = e.reply.send(Err(JobError::Backend {
                    backend: lane.backend.name().into(),
                    reason: reason.into(),
                }));
            }
        }
    }
}

/// The outcome a stopped job is counted under.
fn stopped(c: &Cancel) -> &'static str {
    if c.expired() {
        "deadline"
    } else {
        "cancelled"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offload_core::cpu::CpuBackend;
    use offload_core::job::{Ntt, NttJob, SigItem, SigScheme, VerifyJob};
    use offload_engine::ntt::NttConfig;

    /// What a fake backend does with a job.
    #[derive(Clone, Copy)]
    enum Act {
        /// Run it on the CPU.
        Run,
        /// Fail, handing the job back.
        Fail,
        /// Panic.
        Panic,
        /// Sleep this long, then run it on the CPU.
        Sleep(Duration),
        /// Work until told to stop (at most ten seconds), then fail.
        UntilCancelled,
    }

    /// A backend for scheduler tests: it estimates every job at `estimate`, claims `caps`
    /// (the CPU's: everything), does `act`, and records the sizes of the jobs it started.
    struct Fake {
        name: &'static str,
        estimate: Duration,
        caps: Vec<Capability>,
        act: Act,
        started: Mutex<Vec<usize>>,
    }

    impl Fake {
        fn new(name: &'static str, estimate: Duration, act: Act) -> Arc<Self> {
            Arc::new(Self {
                name,
                estimate,
                caps: CpuBackend::new().capabilities(),
                act,
                started: Mutex::new(Vec::new()),
            })
        }
    }

    impl Backend for Fake {
        fn name(&self) -> &str {
            self.name
        }
        fn device(&self) -> String {
            "test".into()
        }
        fn capabilities(&self) -> Vec<Capability> {
            self.caps.clone()
        }
        fn estimate(&self, _: &Job) -> Duration {
            self.estimate
        }
        fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
            self.started.lock().unwrap().push(job.size());
            match self.act {
                Act::Run => CpuBackend::new().run(job, cancel),
                Act::Fail => Err(Failure::device("device lost", Some(job))),
                Act::Panic => panic!("kernel fault"),
                Act::Sleep(d) => {
                    std::thread::sleep(d);
                    CpuBackend::new().run(job, cancel)
                }
                Act::UntilCancelled => {
                    let t = Instant::now();
                    while !cancel.is_cancelled() && t.elapsed() < Duration::from_secs(10) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(Failure::stopped(cancel, Some(job)))
                }
            }
        }
    }

    /// A device lane that takes BN254 MSMs of up to `max` points and records what it hears of
    /// resident sets ("+handle", "-handle").
    struct Keeper {
        max: u64,
        told: Mutex<Vec<String>>,
    }

    impl Backend for Keeper {
        fn name(&self) -> &str {
            "keeper"
        }
        fn device(&self) -> String {
            "test".into()
        }
        fn capabilities(&self) -> Vec<Capability> {
            vec![Capability::Msm {
                curve: offload_core::wire::CurveId::Bn254,
                max_points: self.max,
            }]
        }
        fn estimate(&self, _: &Job) -> Duration {
            Duration::ZERO
        }
        fn run(&self, job: Job, _: &Cancel) -> Result<Output, Failure> {
            Err(Failure::device("not for running", Some(job)))
        }
        fn bases_resident(&self, set: &AnyBases) {
            let h = set.handle().unwrap_or_default();
            self.told.lock().unwrap().push(format!("+{h}"));
        }
        fn bases_released(&self, handle: &str) {
            self.told.lock().unwrap().push(format!("-{handle}"));
        }
    }

    fn bases(handle: &str, n: u64) -> AnyBases {
        use ark_ec::{AffineRepr, CurveGroup};
        let g = ark_bn254::G1Affine::generator().into_group();
        let points = (1..=n).map(|k| (g * ark_bn254::Fr::from(k)).into_affine());
        AnyBases::Bn254(Arc::new(offload_core::job::BaseSet::resident(
            points.collect(),
            handle.into(),
        )))
    }

    /// A device that fails every job while `sick`, and passes its probe once it is not.
    struct Sick {
        sick: std::sync::atomic::AtomicBool,
        strikes: offload_core::backend::Strikes,
        ran: AtomicU64,
    }

    impl Backend for Sick {
        fn name(&self) -> &str {
            "sick"
        }
        fn device(&self) -> String {
            "test".into()
        }
        fn capabilities(&self) -> Vec<Capability> {
            CpuBackend::new().capabilities()
        }
        fn estimate(&self, _: &Job) -> Duration {
            Duration::ZERO
        }
        fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
            self.ran.fetch_add(1, Ordering::Relaxed);
            let r = if self.sick.load(Ordering::Relaxed) {
                Err(Failure::device("sick", Some(job)))
            } else {
                CpuBackend::new().run(job, cancel)
            };
            self.strikes.record(&r);
            r
        }
        fn health(&self) -> Health {
            self.strikes.health()
        }
        fn recover(&self) -> Result<(), String> {
            if self.sick.load(Ordering::Relaxed) {
                return Err("still sick".into());
            }
            self.strikes.clear();
            Ok(())
        }
    }

    #[tokio::test]
    async fn an_unhealthy_device_is_probed_again_and_takes_jobs_once_it_passes() {
        let dev = Arc::new(Sick {
            sick: true.into(),
            strikes: Default::default(),
            ran: AtomicU64::new(0),
        });
        let s = Scheduler::new(
            vec![Arc::new(CpuBackend::new()), dev.clone()],
            0,
            8,
            Metrics::new(),
        );
        s.start_rechecks(Duration::from_millis(10));
        // Three failures (each job re-runs on the CPU and succeeds): the device is out.
        for _ in 0..3 {
            s.submit(&me(), ntt(4)).await.unwrap();
        }
        assert!(matches!(dev.health(), Health::Unhealthy(_)));
        let ran = dev.ran.load(Ordering::Relaxed);
        s.submit(&me(), ntt(4)).await.unwrap();
        assert_eq!(
            dev.ran.load(Ordering::Relaxed),
            ran,
            "no jobs while unhealthy"
        );
        // Rechecks fail while it is sick; once it is well, the next one brings it back.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(dev.health(), Health::Unhealthy(_)));
        dev.sick.store(false, Ordering::Relaxed);
        for _ in 0..200 {
            if dev.health() == Health::Healthy {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(dev.health(), Health::Healthy);
        let (_, report) = s.submit(&me(), ntt(4)).await.unwrap();
        assert_eq!(report.backend, "sick");
        s.shutdown();
    }

    #[test]
    fn resident_sets_are_prepared_where_their_msms_will_run() {
        let cpu = Arc::new(CpuBackend::new().with_table_budget(64 << 20));
        let dev = Arc::new(Keeper {
            max: 64,
            told: Mutex::new(Vec::new()),
        });
        let s = Scheduler::new(vec![cpu.clone(), dev.clone()], 0, 8, Metrics::new());
        let told = || dev.told.lock().unwrap().clone();
        let ready = |h: &str| {
            for _ in 0..2000 {
                match s.prepared(h) {
                    Some(Preparation::Building) => std::thread::sleep(Duration::from_millis(5)),
                    p => return p,
                }
            }
            panic!("the table of {h} never finished")
        };
        // The device takes this set's MSMs: it is told, the CPU builds nothing.
        s.resident(&bases("a", 32));
        assert_eq!(told(), ["+a"]);
        assert_eq!(cpu.prepared("a"), None);
        // Too large for the device: the CPU builds the fixed-base table.
        s.resident(&bases("b", 100));
        assert_eq!(told(), ["+a"]);
        assert!(matches!(ready("b"), Some(Preparation::Ready { bytes }) if bytes > 0));
        // The preferred lane is the one told, whatever else could run the set.
        assert!(s.prefer("cpu"));
        s.resident(&bases("c", 32));
        assert_eq!(told(), ["+a"]);
        assert!(matches!(ready("c"), Some(Preparation::Ready { .. })));
        // Every lane hears of a set leaving memory.
        s.released("a");
        s.released("b");
        assert_eq!(told(), ["+a", "-a", "-b"]);
        assert_eq!((s.prepared("b"), s.prepared("a")), (None, None));
        s.shutdown();
    }

    /// Claims every job as instant and fails it.
    fn flaky() -> Arc<Fake> {
        Fake::new("flaky", Duration::ZERO, Act::Fail)
    }

    /// Runs jobs one at a time, slowly.
    fn slow() -> Arc<Fake> {
        let d = Duration::from_millis(50);
        Fake::new("slow", d, Act::Sleep(d))
    }

    /// Wait until the first lane is in the state `pred` describes.
    async fn settle(s: &Scheduler, pred: fn(&LaneInfo) -> bool) {
        for _ in 0..2000 {
            if pred(&s.lanes()[0]) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the lane never settled");
    }

    fn me() -> Arc<str> {
        Arc::from("me")
    }

    fn ntt(log_n: u32) -> Job {
        let data = (0..1u64 << log_n)
            .map(p3_goldilocks::Goldilocks::new)
            .collect();
        Job::Ntt(NttJob::Goldilocks(
            Ntt::new(NttConfig::forward(), 1, data).unwrap(),
        ))
    }

    fn verify(n: usize) -> Job {
        Job::Verify(VerifyJob {
            scheme: SigScheme::Bip340,
            items: vec![SigItem::default(); n],
            keys: None,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_device_job_reruns_on_the_cpu() {
        let m = Metrics::new();
        let s = Scheduler::new(vec![Arc::new(CpuBackend::new()), flaky()], 0, 8, m.clone());
        let (out, report) = s.submit(&me(), verify(3)).await.unwrap();
        assert_eq!(report.backend, "cpu");
        assert!(report.fallback);
        let Output::Verify(v) = out else { panic!() };
        assert_eq!(v.len(), 3);
        assert!(m
            .render()
            .contains("offload_fallbacks_total{backend=\"flaky\"} 1"));
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_device_job_past_its_time_limit_reruns_on_the_cpu() {
        let m = Metrics::new();
        let s = Scheduler::new(
            vec![
                Arc::new(CpuBackend::new()),
                // Claims every job as instant and never finishes one in time.
                Fake::new(
                    "hangs",
                    Duration::ZERO,
                    Act::Sleep(Duration::from_millis(600)),
                ),
            ],
            0,
            8,
            m.clone(),
        );
        s.set_device_timeout_floor(Duration::from_millis(100));
        let t = Instant::now();
        let (out, report) = s.submit(&me(), ntt(4)).await.unwrap();
        assert_eq!((report.backend.as_str(), report.fallback), ("cpu", true));
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
        let Output::Ntt(offload_core::job::NttJob::Goldilocks(n)) = out else {
            panic!()
        };
        let mut want: Vec<p3_goldilocks::Goldilocks> =
            (0..16u64).map(p3_goldilocks::Goldilocks::new).collect();
        offload_engine::ntt::ntt(&mut want, &NttConfig::forward()).unwrap();
        assert_eq!(n.data, want);
        let text = m.render();
        assert!(text.contains("outcome=\"timeout\""), "{text}");
        assert!(
            text.contains("offload_fallbacks_total{backend=\"hangs\"} 1"),
            "{text}"
        );
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_running_job_is_told_to_stop_when_its_client_goes() {
        let m = Metrics::new();
        let busy = Fake::new("busy", Duration::ZERO, Act::UntilCancelled);
        let s = Scheduler::new(vec![busy], 0, 8, m.clone());
        let call = tokio::spawn({
            let s = s.clone();
            async move { s.submit(&me(), ntt(3)).await.map(|_| ()) }
        });
        settle(&s, |l| l.running == 1).await;
        // The client goes away: its future is dropped mid-run.
        call.abort();
        // Far sooner than the ten seconds the backend would otherwise take.
        settle(&s, |l| l.running == 0).await;
        let text = m.render();
        assert!(
            text.contains("backend=\"busy\",outcome=\"cancelled\"} 1"),
            "{text}"
        );
        // Handed back with the job, it was still not re-run anywhere.
        assert!(!text.contains("outcome=\"fallback\""), "{text}");
        assert_eq!(s.lanes()[0].completed, 1);
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_past_its_deadline_stops_and_says_so() {
        let m = Metrics::new();
        let busy = Fake::new("busy", Duration::ZERO, Act::UntilCancelled);
        let s = Scheduler::new(vec![busy.clone()], 0, 8, m.clone());
        // Running when the deadline passes: stopped long before the backend's ten seconds.
        let t = Instant::now();
        let deadline = Some(t + Duration::from_millis(200));
        let r = s.submit_until(&me(), ntt(3), deadline).await;
        assert!(
            matches!(r, Err(JobError::DeadlineExceeded(_))),
            "{:?}",
            r.err()
        );
        assert!(t.elapsed() < Duration::from_secs(5));
        settle(&s, |l| l.running == 0).await;
        let text = m.render();
        assert!(
            text.contains("backend=\"busy\",outcome=\"deadline\"} 1"),
            "{text}"
        );
        assert!(!text.contains("outcome=\"cancelled\""), "{text}");
        // Already past: refused before it is queued, and the backend never sees it.
        let r = s.submit_until(&me(), ntt(4), Some(Instant::now())).await;
        assert!(
            matches!(r, Err(JobError::DeadlineExceeded(_))),
            "{:?}",
            r.err()
        );
        assert_eq!(*busy.started.lock().unwrap(), vec![8]);
        s.shutdown();
        // With time to spare, a deadline changes nothing.
        let s = Scheduler::new(vec![Arc::new(CpuBackend::new())], 0, 8, m.clone());
        let far = Some(Instant::now() + Duration::from_secs(60));
        assert!(s.submit_until(&me(), ntt(4), far).await.is_ok());
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_backend_fails_the_job_not_the_daemon() {
        let s = Scheduler::new(
            vec![Fake::new("panics", Duration::ZERO, Act::Panic)],
            0,
            8,
            Metrics::new(),
        );
        for _ in 0..2 {
            match s.submit(&me(), ntt(3)).await {
                Err(JobError::Backend { reason, .. }) => assert!(reason.contains("kernel fault")),
                Err(e) => panic!("{e}"),
                Ok(_) => panic!("a panicking backend succeeded"),
            }
        }
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn signature_batches_go_ahead_of_bulk_work() {
        let slow = slow();
        let s = Scheduler::new(vec![slow.clone()], 0, 8, Metrics::new());
        let a = tokio::spawn({
            let s = s.clone();
            async move { s.submit(&me(), ntt(1)).await.map(|_| ()) }
        });
        settle(&s, |l| l.running == 1).await;
        let b = tokio::spawn({
            let s = s.clone();
            async move { s.submit(&me(), ntt(2)).await.map(|_| ()) }
        });
        settle(&s, |l| l.queued == 1).await;
        let c = tokio::spawn({
            let s = s.clone();
            async move { s.submit(&me(), verify(5)).await.map(|_| ()) }
        });
        for t in [a, b, c] {
            t.await.unwrap().unwrap();
        }
        // A ran first (it was alone); C, latency-class, overtook the queued B.
        assert_eq!(*slow.started.lock().unwrap(), vec![2, 5, 4]);
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_queues_refuse_and_unknown_work_is_unsupported() {
        let picky = Arc::new(Fake {
            caps: (CpuBackend::new().capabilities().into_iter())
                .filter(|c| c.op() == "ntt")
                .collect(),
            ..Arc::into_inner(Fake::new("picky", Duration::ZERO, Act::Run)).unwrap()
        });
        let s = Scheduler::new(vec![picky], 0, 1, Metrics::new());
        assert!(matches!(
            s.submit(&me(), verify(1)).await,
            Err(JobError::Unsupported(_))
        ));
        s.shutdown();
        // Slow enough that the steps below happen while the first job runs, on a loaded machine.
        let d = Duration::from_millis(500);
        let s = Scheduler::new(
            vec![Fake::new("slow", d, Act::Sleep(d))],
            0,
            1,
            Metrics::new(),
        );
        let spawn = |s: Arc<Scheduler>| {
            tokio::spawn(async move { s.submit(&me(), ntt(2)).await.map(|_| ()) })
        };
        let mut jobs = vec![spawn(s.clone())];
        // Let the first start running and a second wait; then two more arrive.
        settle(&s, |l| l.running == 1).await;
        jobs.push(spawn(s.clone()));
        settle(&s, |l| l.queued == 1).await;
        jobs.extend((0..2).map(|_| spawn(s.clone())));
        let mut refused = 0;
        for j in jobs {
            if let Err(JobError::ResourceExhausted(_)) = j.await.unwrap() {
                refused += 1;
            }
        }
        // One runs, one waits, the other two are refused.
        assert_eq!(refused, 2);
        s.shutdown();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_flooding_tenant_does_not_hold_back_another() {
        let d = Duration::from_millis(100);
        let slow = Fake::new("slow", d, Act::Sleep(d));
        let s = Scheduler::new(vec![slow.clone()], 0, 4, Metrics::new());
        let flood: Arc<str> = Arc::from("flood");
        let spawn = |s: Arc<Scheduler>, flood: Arc<str>| {
            tokio::spawn(async move { s.submit(&flood, ntt(1)).await.map(|_| ()) })
        };
        let mut jobs = vec![spawn(s.clone(), flood.clone())];
        settle(&s, |l| l.running == 1).await;
        jobs.extend((0..4).map(|_| spawn(s.clone(), flood.clone())));
        settle(&s, |l| l.running == 1 && l.queued == 4).await;
        // The queue is full for the flood, not for the quiet tenant.
        assert!(matches!(
            s.submit(&flood, ntt(1)).await,
            Err(JobError::ResourceExhausted(_))
        ));
        let quiet: Arc<str> = Arc::from("quiet");
        s.submit(&quiet, ntt(3)).await.unwrap();
        // The quiet tenant's job (size 8) started right after the one running and at most
        // one more of the flood's, not behind all four.
        let started = slow.started.lock().unwrap().clone();
        let at = started.iter().position(|&n| n == 8).unwrap();
        assert!(at <= 2, "{started:?}");
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        s.shutdown();
    }
}
