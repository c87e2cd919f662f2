//! Cooperative cancellation. A job whose client has gone, or that a device took too long over,
//! should stop using the machine: long computations look at a shared flag between units of
//! work (an MSM bucket task, an NTT column or four-step pass, a slice of signatures) and give up
//! within one unit. Checking costs one relaxed atomic load per unit.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const RUNNING: u8 = 0;
const CANCELLED: u8 = 1;
const EXPIRED: u8 = 2;

/// A flag the caller may raise while the computation runs, remembering why: the caller gave
/// up ([`Cancel::cancel`]) or the job's deadline passed ([`Cancel::expire`]); the first reason
/// raised stands. `Cancel::never()` is never raised.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<Arc<AtomicU8>>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

impl Cancel {
    pub fn never() -> Self {
        Self(None)
    }

    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicU8::new(RUNNING))))
    }

    fn raise(&self, why: u8) {
        if let Some(f) = &self.0 {
            let _ = f.compare_exchange(RUNNING, why, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Nobody wants the result any more.
    pub fn cancel(&self) {
        self.raise(CANCELLED)
    }

    /// The job's deadline passed.
    pub fn expire(&self) {
        self.raise(EXPIRED)
    }

    pub fn is_cancelled(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed) != RUNNING)
    }

    /// Raised because the deadline passed (not because the caller gave up).
    pub fn expired(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Acquire) == EXPIRED)
    }

    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let c = Cancel::new();
        let d = c.clone();
        assert!(d.check().is_ok());
        c.cancel();
        assert_eq!(d.check(), Err(Cancelled));
        assert!(!d.expired(), "cancelled, not expired");
        Cancel::never().cancel();
        assert!(!Cancel::never().is_cancelled());
    }

    #[test]
    fn the_first_reason_stands() {
        let c = Cancel::new();
        c.expire();
        c.cancel();
        assert!(c.is_cancelled() && c.expired());
        let d = Cancel::new();
        d.cancel();
        d.expire();
        assert!(d.is_cancelled() && !d.expired());
    }
}
