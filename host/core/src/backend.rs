//! The one trait every compute backend implements. Only the scheduler calls it; the service
//! never names a device.

pub use crate::caps::{Capability, OpSupport};
pub use crate::job::OpKind;
use crate::job::{AnyBases, Job, Output};
pub use offload_engine::cancel::Cancel;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy(String),
}

/// Why a backend did not finish a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Nobody wanted the result any more (the client went).
    Cancelled,
    /// The job's deadline passed before it finished.
    Deadline,
    /// The device failed; repeated, it makes the backend unhealthy.
    Device,
    /// The job is not one this backend runs (a scheduling mistake, not a fault).
    Unsupported,
    /// The backend panicked; the scheduler caught it.
    Panicked,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Cancelled => "cancelled",
            FailureKind::Deadline => "deadline passed",
            FailureKind::Device => "device failure",
            FailureKind::Unsupported => "unsupported",
            FailureKind::Panicked => "panicked",
        })
    }
}

/// A job a backend could not finish. A device hands the job back so the scheduler can run it
/// on the CPU; `job` is `None` only where the input was consumed.
pub struct Failure {
    pub kind: FailureKind,
    /// Boxed: the error carries the job back whole, and stays small beside it.
    pub reason: Box<str>,
    pub job: Option<Job>,
}

impl Failure {
    /// The job stopped because `cancel` was raised: `Deadline` where its deadline passed,
    /// `Cancelled` where the caller gave up.
    pub fn stopped(cancel: &Cancel, job: Option<Job>) -> Self {
        let kind = if cancel.expired() {
            FailureKind::Deadline
        } else {
            FailureKind::Cancelled
        };
        Self {
            kind,
            reason: kind.to_string().into(),
            job,
        }
    }

    pub fn device(reason: impl Into<String>, job: Option<Job>) -> Self {
        Self {
            kind: FailureKind::Device,
            reason: reason.into().into(),
            job,
        }
    }

    pub fn unsupported(reason: impl Into<String>, job: Job) -> Self {
        Self {
            kind: FailureKind::Unsupported,
            reason: reason.into().into(),
            job: Some(job),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Failure")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .field("job", &self.job.as_ref().map(|j| j.kind().to_string()))
            .finish()
    }
}

/// Device failures in a row after which a device backend reports itself unhealthy.
pub const FAILURES_BEFORE_UNHEALTHY: u32 = 3;

/// A device's health from its recent runs: a success clears the run of failures, a device
/// failure extends it, a cancellation, a passed deadline or a refusal says nothing about the
/// device.
#[derive(Debug, Default)]
pub struct Strikes {
    run: AtomicU32,
}

impl Strikes {
    pub fn record<T>(&self, result: &Result<T, Failure>) {
        match result {
            Ok(_) => self.run.store(0, Ordering::Relaxed),
            Err(f) if f.kind == FailureKind::Device => {
                self.run.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    /// Forget the run of failures (the device passed its probe again).
    pub fn clear(&self) {
        self.run.store(0, Ordering::Relaxed);
    }

    pub fn health(&self) -> Health {
        let f = self.run.load(Ordering::Relaxed);
        if f >= FAILURES_BEFORE_UNHEALTHY {
            Health::Unhealthy(format!("{f} device failures in a row"))
        } else {
            Health::Healthy
        }
    }
}

/// What a backend keeps for an uploaded base set to make its MSMs faster (the CPU's
/// fixed-base table, a device's copy of the points).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preparation {
    Building,
    Ready {
        bytes: usize,
    },
    /// No room within the backend's budget for it.
    Refused,
}

impl Preparation {
    /// Its name in `ListBases`: "building", "ready" or "refused".
    pub fn name(&self) -> &'static str {
        match self {
            Preparation::Building => "building",
            Preparation::Ready { .. } => "ready",
            Preparation::Refused => "refused",
        }
    }

    pub fn bytes(&self) -> usize {
        match self {
            Preparation::Ready { bytes } => *bytes,
            _ => 0,
        }
    }
}

/// Whether a backend runs a job: derived from its capabilities for every backend alike (not a
/// trait method a backend could answer differently).
pub trait Accepts {
    /// Whether `job` (its kind, size and shape) is within the capabilities.
    fn accepts(&self, job: &Job) -> bool;
}

impl<B: Backend + ?Sized> Accepts for B {
    fn accepts(&self, job: &Job) -> bool {
        crate::caps::admits(&self.capabilities(), job)
    }
}

pub trait Backend: Send + Sync {
    /// Short name in reports and metrics, e.g. "cpu".
    fn name(&self) -> &str;
    /// The device in words, e.g. "AMD EPYC, 2 threads".
    fn device(&self) -> String;
    /// What this backend runs; [`Accepts::accepts`] and `GetInfo` both derive from it, and
    /// nothing else says what it runs.
    fn capabilities(&self) -> Vec<Capability>;
    /// A prior estimate of the run time, before the scheduler has calibrated or observed it.
    fn estimate(&self, job: &Job) -> Duration;
    /// Run a job to completion on the calling thread (compute may fan out to the backend's own
    /// threads or device). Once `cancel` is raised nobody wants the result: stop early where
    /// the work allows and return [`Failure::stopped`] (cancelled, or deadline passed).
    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure>;
    fn health(&self) -> Health {
        Health::Healthy
    }
    /// Check an unhealthy device again (the probe it passed when it opened); once it passes,
    /// its failures are forgotten and it takes jobs again. Blocking.
    fn recover(&self) -> Result<(), String> {
        Err(format!("{} cannot check itself again", self.name()))
    }
    /// How many jobs may run at once.
    fn slots(&self) -> usize {
        1
    }
    /// An uploaded set is in memory and MSMs will name it: start preparing for them (off the
    /// caller's thread). Handles name one content forever, so what is kept is keyed by them.
    fn bases_resident(&self, _set: &AnyBases) {}
    /// The set left memory (evicted or deleted): free what was kept for it.
    fn bases_released(&self, _handle: &str) {}
    /// What this backend keeps for the set `handle`, if anything.
    fn prepared(&self, _handle: &str) -> Option<Preparation> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strikes_count_device_failures_in_a_row_only() {
        let s = Strikes::default();
        let device = || Err::<(), _>(Failure::device("lost", None));
        for _ in 0..FAILURES_BEFORE_UNHEALTHY - 1 {
            s.record(&device());
        }
        s.record(&Err::<(), _>(Failure::stopped(&Cancel::new(), None)));
        let late = Cancel::new();
        late.expire();
        let f = Failure::stopped(&late, None);
        assert_eq!(f.kind, FailureKind::Deadline);
        s.record(&Err::<(), _>(f));
        assert_eq!(
            s.health(),
            Health::Healthy,
            "a cancellation or a passed deadline is no strike"
        );
        s.record(&Ok::<(), Failure>(()));
        for _ in 0..FAILURES_BEFORE_UNHEALTHY - 1 {
            s.record(&device());
        }
        assert_eq!(s.health(), Health::Healthy, "a success clears the run");
        s.record(&device());
        assert!(matches!(s.health(), Health::Unhealthy(w) if w.contains("3 device failures")));
    }
}
