//! How an NTT engine with L butterfly lanes keeps its memories conflict-free: the bank each
//! element lives in, and which butterflies one clock issues. Plain functions, shared by the
//! engines and checked exhaustively by the tests (and, as a behavioural model of the whole
//! transform, against the CPU engine in `hw-tests/tests/ntt_schedule.rs`).
//!
//! A stage of a size-2^m decimation-in-frequency transform pairs i with j = i + h (h = 2^x,
//! x = m − 1 − stage); butterfly k ∈ [0, n/2) has i = k with a 0 inserted at bit x. One clock
//! issues butterflies k = L·c + l for the L lanes l, so the 2L operands share every address bit
//! above bit log2(L) and take every value of the bits below and at it (bit x included: when
//! x ≤ log2 L, the inserted bit is among the low bits; otherwise the low bits are l and
//! bit x tells i from j). An element at address a lives in bank (parity(a), a mod L) of 2L
//! banks: a mod L separates lanes, and two operands that agree mod L differ in exactly one
//! more bit, so their parities differ. Within its bank the element sits at a >> log2(2L).
//!
//! With one lane this is the engine's two banks by parity; each bank then needs one read
//! and one write port per clock, as before, and the engine's L lanes read 2L words per clock.

/// The banks of an engine with `lanes` butterfly lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banks {
    lanes: usize,
    log_lanes: u32,
}

impl Banks {
    /// `lanes` must be a power of two.
    pub fn new(lanes: usize) -> Self {
        assert!(lanes.is_power_of_two(), "lanes must be a power of two");
        Self {
            lanes,
            log_lanes: lanes.trailing_zeros(),
        }
    }

    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// 2L banks per memory.
    pub fn count(&self) -> usize {
        2 * self.lanes
    }

    /// The bank of address `a`: parity(a)·L + (a mod L).
    pub fn bank(&self, a: usize) -> usize {
        (a.count_ones() as usize & 1) * self.lanes + (a & (self.lanes - 1))
    }

    /// The word within its bank.
    pub fn offset(&self, a: usize) -> usize {
        a >> (self.log_lanes + 1)
    }

    /// The smallest transform the lanes can share: every lane needs a butterfly of its own.
    pub fn min_log_n(&self) -> u32 {
        self.log_lanes + 1
    }
}

/// One butterfly: its operands' addresses and its twiddle's exponent t (the stage's ω^t).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Butterfly {
    pub i: usize,
    pub j: usize,
    pub t: usize,
}

/// Butterfly k of stage `stage` of a size-2^log_n transform.
pub fn butterfly(log_n: u32, stage: u32, k: usize) -> Butterfly {
    let x = log_n - 1 - stage;
    let low = k & ((1 << x) - 1);
    let i = ((k >> x) << (x + 1)) | low;
    Butterfly {
        i,
        j: i | 1 << x,
        t: low,
    }
}

/// The butterflies issued in clock `c` of a stage, one per lane: k = L·c + l.
pub fn issue(banks: &Banks, log_n: u32, stage: u32, c: usize) -> Vec<Butterfly> {
    (0..banks.lanes())
        .map(|l| butterfly(log_n, stage, banks.lanes() * c + l))
        .collect()
}

/// Clocks a stage issues for: n / 2L.
pub fn clocks_per_stage(banks: &Banks, log_n: u32) -> usize {
    (1usize << log_n) / banks.count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clock_of_every_stage_touches_each_bank_once() {
        for lanes in [1, 2, 4, 8, 16] {
            let b = Banks::new(lanes);
            for log_n in b.min_log_n()..=12 {
                for stage in 0..log_n {
                    let mut covered = vec![false; 1 << log_n];
                    for c in 0..clocks_per_stage(&b, log_n) {
                        let mut hit = vec![false; b.count()];
                        for bf in issue(&b, log_n, stage, c) {
                            assert_eq!(bf.j - bf.i, 1 << (log_n - 1 - stage));
                            for a in [bf.i, bf.j] {
                                assert!(!hit[b.bank(a)], "L={lanes} m={log_n} s={stage} c={c}");
                                hit[b.bank(a)] = true;
                                assert!(!covered[a], "address {a} twice in a stage");
                                covered[a] = true;
                            }
                        }
                    }
                    assert!(covered.iter().all(|&x| x), "every element once per stage");
                }
            }
        }
    }

    #[test]
    fn bank_and_offset_name_each_address_once() {
        for lanes in [1, 2, 4, 8] {
            let b = Banks::new(lanes);
            let n = 1 << 10;
            let mut seen = std::collections::HashSet::new();
            for a in 0..n {
                assert!(b.offset(a) < n / b.count());
                assert!(seen.insert((b.bank(a), b.offset(a))), "L={lanes} a={a}");
            }
        }
    }

    #[test]
    fn one_lane_is_the_parity_split() {
        let b = Banks::new(1);
        for a in 0..64usize {
            assert_eq!(b.bank(a), a.count_ones() as usize & 1);
            assert_eq!(b.offset(a), a >> 1);
        }
    }
}
