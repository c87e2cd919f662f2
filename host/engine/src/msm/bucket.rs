//! Bucket accumulation in batch-affine form, and the running-sum reduction of the buckets.
//!
//! Points bound for the same bucket are grouped by a counting sort, then summed pairwise in
//! rounds: every pair in a round is independent, so all their slopes share one field inversion
//! (Montgomery's trick) and each addition costs about six multiplications instead of the eleven
//! of a mixed projective addition. Pairwise rounds also handle a bucket that receives thousands
//! of copies of one point: equal pairs become doublings, opposite pairs vanish, and the depth is
//! logarithmic in the bucket's size.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{Field, One, Zero};

/// Marks an entry whose digit is zero in this window.
pub const SKIP: u32 = u32::MAX;

/// Encodes a bucket index and a sign into one entry id.
#[inline(always)]
pub fn entry_id(bucket: u32, negate: bool) -> u32 {
    (bucket << 1) | negate as u32
}

/// How many independent additions share one inversion. Large enough to amortise the inversion
/// (≈ 100 multiplications), small enough that a batch's operands stay in L1/L2.
const BATCH: usize = 1024;

/// Entries per sub-pass: their sorted points (≈ 5 MB on BLS12-381) stay in the caches.
const SUB_PASS: usize = 1 << 16;

/// Independent product chains in the batch inversion.
const LANES: usize = 4;

/// Reusable buffers for one worker: allocating and faulting in megabytes per window costs more
/// than the arithmetic at small sizes.
pub struct Scratch<C: SWCurveConfig> {
    /// Running bucket sums, carried from one sub-pass to the next.
    acc: Vec<Affine<C>>,
    ids: Vec<u32>,
    pts: Vec<Affine<C>>,
    start: Vec<u32>,
    len: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    den: Vec<C::BaseField>,
    prefix: Vec<C::BaseField>,
}

impl<C: SWCurveConfig> Default for Scratch<C> {
    fn default() -> Self {
        Self {
            acc: Vec::new(),
            ids: Vec::new(),
            pts: Vec::new(),
            start: Vec::new(),
            len: Vec::new(),
            pairs: Vec::with_capacity(BATCH),
            den: Vec::with_capacity(BATCH),
            prefix: Vec::with_capacity(BATCH),
        }
    }
}

impl<C: SWCurveConfig> Scratch<C> {
    /// Σ_b (b+1)·(sum of the points sent to bucket b), for `num_entries` entries whose ids
    /// (`entry_id` or `SKIP`) come from `id_of` and whose points come from `point`.
    pub fn bucket_sum<'a>(
        &mut self,
        num_buckets: usize,
        num_entries: usize,
        id_of: impl Fn(usize) -> u32,
        point: impl Fn(usize) -> &'a Affine<C>,
    ) -> Projective<C>
    where
        C: 'a,
    {
        self.acc.clear();
        self.acc.resize(num_buckets, Affine::identity());
        // Sub-passes keep the sorted points within the caches; each carries the bucket sums
        // so far as one more entry per bucket, so a sub-pass must be large against the buckets.
        let sub = SUB_PASS.max(8 * num_buckets);
        let mut lo = 0;
        while lo < num_entries {
            let hi = (lo + sub).min(num_entries);
            self.ids.clear();
            self.ids.extend((lo..hi).map(&id_of));
            self.sort_into_buckets(|i| point(lo + i));
            self.sum_buckets_pairwise();
            for (b, acc) in self.acc.iter_mut().enumerate() {
                *acc = if self.len[b] > 0 {
                    self.pts[self.start[b] as usize]
                } else {
                    Affine::identity()
                };
            }
            lo = hi;
        }
        self.reduce()
    }

    /// Group this sub-pass's entries, after each bucket's carried sum, by bucket.
    fn sort_into_buckets<'a>(&mut self, point: impl Fn(usize) -> &'a Affine<C>)
    where
        C: 'a,
    {
        self.len.clear();
        self.len
            .extend(self.acc.iter().map(|a| u32::from(!a.infinity)));
        for &id in &self.ids {
            if id != SKIP {
                self.len[(id >> 1) as usize] += 1;
            }
        }
        self.start.clear();
        let mut total = 0u32;
        for &l in &self.len {
            self.start.push(total);
            total += l;
        }
        self.pts.clear();
        self.pts.resize(total as usize, Affine::identity());
        // `len` doubles as the fill cursor, and ends as each bucket's length again.
        for (b, a) in self.acc.iter().enumerate() {
            self.len[b] = 0;
            if !a.infinity {
                self.pts[self.start[b] as usize] = *a;
                self.len[b] = 1;
            }
        }
        for (i, &id) in self.ids.iter().enumerate() {
            if id == SKIP {
                continue;
            }
            let b = (id >> 1) as usize;
            let p = point(i);
            let slot = (self.start[b] + self.len[b]) as usize;
            self.pts[slot] = if id & 1 == 1 { -*p } else { *p };
            self.len[b] += 1;
        }
    }

    /// Halve every bucket's list per round until each holds at most one point.
    fn sum_buckets_pairwise(&mut self) {
        loop {
            let mut any = false;
            let mut b = 0;
            while b < self.len.len() {
                let (s, l) = (self.start[b], self.len[b]);
                for k in 0..l / 2 {
                    self.pairs.push((s + 2 * k, s + k));
                    if self.pairs.len() == BATCH {
                        self.add_pairs();
                    }
                }
                any |= l >= 2;
                b += 1;
            }
            if !any {
                return;
            }
            self.add_pairs();
            // An odd bucket's last point moves down behind the pair sums.
            for (s, l) in self.start.iter().zip(self.len.iter_mut()) {
                if *l >= 2 {
                    if *l % 2 == 1 {
                        self.pts[(*s + *l / 2) as usize] = self.pts[(*s + *l - 1) as usize];
                    }
                    *l = l.div_ceil(2);
                }
            }
        }
    }

    /// pts[dst] = pts[src] + pts[src + 1] for every queued pair, with one shared inversion.
    /// Pairs are queued in increasing `src` order within a bucket and `dst ≤ src`, so writing
    /// results in queue order never overwrites an operand still to be read.
    fn add_pairs(&mut self) {
        if self.pairs.is_empty() {
            return;
        }
        self.den.clear();
        self.prefix.clear();
        // Four interleaved product chains: a multiplication's latency, not its throughput,
        // bounds a single chain, and the out-of-order core overlaps independent ones.
        let mut acc = [C::BaseField::one(); LANES];
        for (i, &(src, _)) in self.pairs.iter().enumerate() {
            let (a, b) = (&self.pts[src as usize], &self.pts[src as usize + 1]);
            let d = match classify(a, b) {
                Sum::Chord => b.x - a.x,
                Sum::Tangent => a.y.double(),
                Sum::Trivial => C::BaseField::one(),
            };
            let lane = &mut acc[i % LANES];
            self.prefix.push(*lane);
            *lane *= d;
            self.den.push(d);
        }
        // One inversion for all four chains. Products of nonzero denominators are nonzero:
        // chords have x1 ≠ x2, tangents y ≠ 0.
        let (p01, p23) = (acc[0] * acc[1], acc[2] * acc[3]);
        let all = (p01 * p23)
            .inverse()
            .expect("product of nonzero denominators");
        let (i01, i23) = (all * p23, all * p01);
        let mut inv = [i01 * acc[1], i01 * acc[0], i23 * acc[3], i23 * acc[2]];
        for i in (0..self.den.len()).rev() {
            let d = self.den[i];
            let lane = &mut inv[i % LANES];
            self.den[i] = *lane * self.prefix[i];
            *lane *= d;
        }
        for (&(src, dst), inv) in self.pairs.iter().zip(&self.den) {
            let (a, b) = (self.pts[src as usize], self.pts[src as usize + 1]);
            let sum = match classify(&a, &b) {
                Sum::Trivial => {
                    if a.infinity {
                        b
                    } else if b.infinity {
                        a
                    } else {
                        Affine::identity()
                    }
                }
                kind => {
                    let lambda = if kind == Sum::Chord {
                        (b.y - a.y) * inv
                    } else {
                        // Tangent slope 3x² / 2y (a = 0 on both curves).
                        let xx = a.x.square();
                        (xx.double() + xx) * inv
                    };
                    let x3 = lambda.square() - a.x - b.x;
                    let y3 = lambda * (a.x - x3) - a.y;
                    Affine::new_unchecked(x3, y3)
                }
            };
            self.pts[dst as usize] = sum;
        }
        self.pairs.clear();
    }

    /// Σ_b (b+1)·B_b as a running sum from the top bucket down.
    fn reduce(&self) -> Projective<C> {
        let mut running = Projective::<C>::zero();
        let mut total = Projective::<C>::zero();
        for a in self.acc.iter().rev() {
            if !a.infinity {
                running += a;
            }
            if !running.is_zero() {
                total += &running;
            }
        }
        total
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sum {
    /// Distinct x: the chord through both points.
    Chord,
    /// Equal points: the tangent (doubling).
    Tangent,
    /// An operand at infinity, or P + (−P): no slope, no inversion.
    Trivial,
}

#[inline(always)]
fn classify<C: SWCurveConfig>(a: &Affine<C>, b: &Affine<C>) -> Sum {
    if a.infinity || b.infinity {
        Sum::Trivial
    } else if a.x != b.x {
        Sum::Chord
    } else if a.y == b.y && !a.y.is_zero() {
        Sum::Tangent
    } else {
        Sum::Trivial
    }
}
