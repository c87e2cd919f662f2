//! Cooperative cancellation. A job whose client has gone, or that a device took too long over,
//! should stop using the machine: long computations look at a shared flag between units of
//! work (an MSM bucket task, an NTT column or four-step pass, a slice of signatures) and give up
//! within one unit. Checking costs one relaxed atomic load per unit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag the caller may raise while the computation runs. `Cancel::never()` is never raised.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

impl Cancel {
    pub fn never() -> Self {
        Self(None)
    }

    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicBool::new(false))))
    }

    /// Share a flag the caller already raises (the scheduler's per-job flag).
    pub fn from_flag(flag: Arc<AtomicBool>) -> Self {
        Self(Some(flag))
    }

    pub fn cancel(&self) {
        if let Some(f) = &self.0 {
            f.store(true, Ordering::Release);
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
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
        Cancel::never().cancel();
        assert!(!Cancel::never().is_cancelled());
    }
}
