//! Window size and work split, from a cost model in units of one batch-affine addition.

/// A reduction step per bucket (two batch-affine additions in the segmented running sum,
/// plus its share of the inversions and the segment combination), in batch-affine additions.
const REDUCE_COST: f64 = 2.5;

/// One bucket pass over `entries` entries: the additions, the bucket sums carried into each
/// sub-pass, and the reduction.
fn window_cost(entries: usize, c: u32) -> f64 {
    let buckets = (1u64 << (c - 1)) as f64;
    let sub_passes = entries.div_ceil(super::bucket::SUB_PASS) as f64;
    entries as f64 + sub_passes * buckets + REDUCE_COST * buckets
}

/// The plan for a variable-base MSM over `points` entries with scalars of `bits` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub c: u32,
    pub windows: u32,
}

pub fn windows_for(bits: u32, c: u32) -> u32 {
    // Signed digits need bit W·c − 1 clear: W = ⌊bits / c⌋ + 1.
    bits / c + 1
}

/// Window width minimising the critical path when `windows` tasks are spread over `threads`.
pub fn plan(points: usize, bits: u32, threads: usize) -> Plan {
    let mut best = (
        f64::MAX,
        Plan {
            c: 1,
            windows: windows_for(bits, 1),
        },
    );
    for c in 1..=22u32 {
        let windows = windows_for(bits, c);
        let rounds = (windows as usize).div_ceil(threads.max(1)) as f64;
        let per_window = window_cost(points, c);
        let cost = rounds * per_window;
        if cost < best.0 {
            best = (cost, Plan { c, windows });
        }
    }
    best.1
}

/// The plan for a fixed-base table: `c`, the window count, and how many window shifts the
/// table stores (`shifts`) within `max_shifts` allowed by the memory budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPlan {
    pub c: u32,
    pub windows: u32,
    pub shifts: u32,
}

pub fn fixed_plan(points: usize, bits: u32, threads: usize, max_shifts: u32) -> FixedPlan {
    let mut best = (
        f64::MAX,
        FixedPlan {
            c: 1,
            windows: windows_for(bits, 1),
            shifts: 1,
        },
    );
    for c in 2..=22u32 {
        let windows = windows_for(bits, c);
        let shifts = windows.min(max_shifts.max(1));
        let passes = windows.div_ceil(shifts) as f64;
        // Each pass splits its entries over the threads; each thread reduces its own buckets.
        let per_pass = window_cost(shifts as usize * points / threads.max(1), c);
        let cost = passes * per_pass;
        if cost < best.0 {
            best = (cost, FixedPlan { c, windows, shifts });
        }
    }
    best.1
}
