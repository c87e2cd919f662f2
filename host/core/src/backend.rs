//! The one trait every compute backend implements. Only the scheduler calls it; the service
//! never names a device.

pub use crate::job::OpKind;
use crate::job::{Job, Output};
pub use offload_engine::cancel::Cancel;
use std::time::Duration;

/// What a backend runs, as `GetInfo` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSupport {
    /// "msm", "ntt" or "verify".
    pub op: &'static str,
    /// Curves, fields or schemes.
    pub kinds: Vec<String>,
    /// Largest MSM length, NTT length or batch size.
    pub max_size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Unhealthy(String),
}

/// A job a backend could not finish. A device hands the job back so the scheduler can run it
/// on the CPU; `job` is `None` only where the input was consumed.
pub struct Failure {
    pub reason: String,
    pub job: Option<Job>,
}

pub trait Backend: Send + Sync {
    /// Short name in reports and metrics, e.g. "cpu".
    fn name(&self) -> &str;
    /// The device in words, e.g. "AMD EPYC, 2 threads".
    fn device(&self) -> String;
    fn supports(&self) -> Vec<OpSupport>;
    /// Whether this backend runs `job` (its kind and size).
    fn accepts(&self, job: &Job) -> bool;
    /// A prior estimate of the run time, before the scheduler has calibrated or observed it.
    fn estimate(&self, job: &Job) -> Duration;
    /// Run a job to completion on the calling thread (compute may fan out to the backend's own
    /// threads or device). Once `cancel` is raised nobody wants the result: stop early where
    /// the work allows and return a `Failure` (the scheduler counts it as cancelled).
    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure>;
    fn health(&self) -> Health {
        Health::Healthy
    }
    /// How many jobs may run at once.
    fn slots(&self) -> usize {
        1
    }
}
