//! Finding exactly the bad items of a set whose batch equation failed.
//!
//! Measured for Ed25519 (the `fallback` example in offload-benches, docs/PERFORMANCE.md):
//! halving wins for one or two bad items and checking every item wins for 17, so a set whose
//! halves both fail (two or more bad items) is settled item by item. The equations are linear
//! in the items with fixed coefficients, so a failed set always has a failing half.

use rayon::prelude::*;

/// What a scheme with a batch equation offers the search.
pub(crate) trait BatchCheck<T>: Sync {
    /// The batch equation over `set`.
    fn holds(&self, set: &[T]) -> bool;
    /// Single verification of one item.
    fn single(&self, item: &T) -> bool;
}

/// Below this many items a failed set is settled one by one rather than split again.
const SINGLE_BELOW: usize = 4;

/// The items of `set` whose single check fails.
pub(crate) fn find_bad<'a, T: Sync>(check: &impl BatchCheck<T>, set: &'a [T]) -> Vec<&'a T> {
    if set.is_empty() || check.holds(set) {
        return Vec::new();
    }
    bisect_failed(check, set)
}

/// The bad items of a set whose equation is known to fail.
pub(crate) fn bisect_failed<'a, T: Sync>(check: &impl BatchCheck<T>, set: &'a [T]) -> Vec<&'a T> {
    if set.len() < SINGLE_BELOW {
        return singles(check, set);
    }
    let (l, r) = set.split_at(set.len() / 2);
    match rayon::join(|| check.holds(l), || check.holds(r)) {
        (true, true) => Vec::new(), // impossible for a linear equation; nothing to name
        (false, true) => bisect_failed(check, l),
        (true, false) => bisect_failed(check, r),
        (false, false) => singles(check, set),
    }
}

/// Every item checked singly, in parallel.
pub(crate) fn singles<'a, T: Sync>(check: &impl BatchCheck<T>, set: &'a [T]) -> Vec<&'a T> {
    set.par_iter().filter(|t| !check.single(t)).collect()
}
