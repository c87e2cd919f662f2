//! The CPU backend's fixed-base tables for uploaded base sets: keyed by handle, built in the
//! background on rayon, held within one memory budget for all sets, and freed when the set
//! leaves memory.

use crate::backend::Preparation;
use crate::job::BaseSet;
use crate::wire::Curve;
use offload_engine::msm::FixedBaseTable;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

enum State {
    Building,
    /// A `FixedBaseTable<C>` of the set's curve, and the bytes it holds.
    Ready(Arc<dyn Any + Send + Sync>, usize),
    /// The budget had no room when it was tried.
    Refused,
}

struct Slot {
    /// Which build this slot waits for: a set released and made resident again while its
    /// first build runs starts a second one, and the first one's result is dropped.
    build: u64,
    state: State,
}

struct Inner {
    slots: HashMap<String, Slot>,
    /// Bytes of the budget not held by a ready table.
    left: usize,
    builds: u64,
}

pub struct FixedTables {
    budget: usize,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for FixedTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("FixedTables")
            .field("budget", &self.budget)
            .field("left", &inner.left)
            .field("sets", &inner.slots.len())
            .finish()
    }
}

impl FixedTables {
    /// Tables within `budget` bytes, all sets together; none at all with 0.
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(Self {
            budget,
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                left: budget,
                builds: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes of the budget no table holds.
    pub fn left(&self) -> usize {
        self.lock().left
    }

    /// Start building `set`'s table unless it has one (or one is building, or was refused).
    /// The table gets at most half of what the budget has left, and is kept only if it fits.
    /// Inline sets (no handle) never get one.
    pub fn build<C: Curve>(self: &Arc<Self>, set: &Arc<BaseSet<C>>) {
        let Some(handle) = set.handle.clone() else {
            return;
        };
        if self.budget == 0 || set.is_empty() {
            return;
        }
        let (build, allowance) = {
            let mut inner = self.lock();
            if inner.slots.contains_key(&handle) {
                return;
            }
            inner.builds += 1;
            let build = inner.builds;
            inner.slots.insert(
                handle.clone(),
                Slot {
                    build,
                    state: State::Building,
                },
            );
            (build, inner.left / 2)
        };
        let (tables, set) = (self.clone(), set.clone());
        rayon::spawn(move || {
            let t = FixedBaseTable::new(&set.points, allowance);
            let bytes = t.memory_bytes();
            let mut inner = tables.lock();
            let Inner { slots, left, .. } = &mut *inner;
            let Some(slot) = slots.get_mut(&handle).filter(|s| s.build == build) else {
                return;
            };
            slot.state = if bytes <= allowance && bytes <= *left {
                *left -= bytes;
                State::Ready(Arc::new(t), bytes)
            } else {
                State::Refused
            };
        });
    }

    /// The table of the set `handle`, once built.
    pub fn get<C: Curve>(&self, handle: &str) -> Option<Arc<FixedBaseTable<C>>> {
        match &self.lock().slots.get(handle)?.state {
            State::Ready(t, _) => t.clone().downcast().ok(),
            _ => None,
        }
    }

    /// Where the set's table stands; `None` where none was tried.
    pub fn status(&self, handle: &str) -> Option<Preparation> {
        Some(match self.lock().slots.get(handle)?.state {
            State::Building => Preparation::Building,
            State::Ready(_, bytes) => Preparation::Ready { bytes },
            State::Refused => Preparation::Refused,
        })
    }

    /// Forget the set's table (a build under way is dropped when it ends); its bytes return
    /// to the budget. Jobs already running on it keep their copy.
    pub fn release(&self, handle: &str) {
        let mut inner = self.lock();
        if let Some(Slot {
            state: State::Ready(_, bytes),
            ..
        }) = inner.slots.remove(handle)
        {
            inner.left += bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Bn254;
    use ark_ec::{AffineRepr, CurveGroup};

    fn set(handle: &str, n: u64) -> Arc<BaseSet<Bn254>> {
        let g = ark_bn254::G1Affine::generator().into_group();
        let pts = (1..=n).map(|k| (g * ark_bn254::Fr::from(k)).into_affine());
        Arc::new(BaseSet::resident(pts.collect(), handle.into()))
    }

    fn settle(t: &FixedTables, h: &str) -> Option<Preparation> {
        for _ in 0..2000 {
            let s = t.status(h);
            if s != Some(Preparation::Building) {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the table of {h} never finished");
    }

    #[test]
    fn tables_are_kept_by_handle_within_the_budget_and_freed_on_release() {
        let t = FixedTables::new(64 << 20);
        let a = set("a", 300);
        t.build(&a);
        let Some(Preparation::Ready { bytes }) = settle(&t, "a") else {
            panic!("no table for a");
        };
        assert!(bytes > 0 && t.left() == (64 << 20) - bytes);
        // Found by handle from another copy of the same content; never under another curve.
        assert!(t.get::<Bn254>("a").is_some());
        assert!(t.get::<ark_bls12_381::g1::Config>("a").is_none());
        t.build(&set("a", 300));
        assert_eq!(t.left(), (64 << 20) - bytes, "built once");
        t.release("a");
        assert_eq!((t.status("a"), t.left()), (None, 64 << 20));
        assert!(t.get::<Bn254>("a").is_none());

        // Inline sets and a zero budget build nothing.
        t.build(&Arc::new(BaseSet::inline(a.points.clone())));
        let none = FixedTables::new(0);
        none.build(&a);
        assert_eq!(none.status("a"), None);

        // A budget too small for one table refuses it, and says so.
        let small = FixedTables::new(1024);
        small.build(&a);
        assert_eq!(settle(&small, "a"), Some(Preparation::Refused));
        assert_eq!(small.left(), 1024);
    }
}
