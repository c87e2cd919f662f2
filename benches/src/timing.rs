//! The timing loop. Each contender warms up until two runs in a row agree (a first run pays
//! for tables, page faults and a cold cache; a shared machine's neighbours can stretch a few
//! more), then contenders compared with each other take turns run by run, so a slow spell of a
//! shared machine falls on all of them alike, and rounds are added past the asked-for count
//! until every contender's median is pinned down (or a cap is reached). Medians are what we
//! quote, with the quartiles beside them as the spread.

use crate::Runner;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// First and third quartiles: the spread of the middle half.
    pub q1_ms: f64,
    pub q3_ms: f64,
    /// Half the width of the median's 95 % confidence interval, over the median.
    pub median_error: f64,
    pub reps: usize,
}

/// How many runs: at least `reps` rounds; from 5 rounds on, more (up to `max_reps`) while any
/// contender's median is known no better than `target_error`.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub reps: usize,
    pub max_reps: usize,
    pub target_error: f64,
}

impl Plan {
    /// `reps` rounds, extended up to three times as many for a median within 2 %.
    pub fn new(reps: usize) -> Self {
        let reps = reps.max(1);
        Self {
            reps,
            max_reps: 3 * reps,
            target_error: 0.02,
        }
    }

    /// Exactly `reps` rounds.
    pub fn fixed(reps: usize) -> Self {
        let reps = reps.max(1);
        Self {
            reps,
            max_reps: reps,
            target_error: f64::INFINITY,
        }
    }
}

/// Runs this short are settled after one warm-up: the timer's own noise is their spread.
const SETTLE_FLOOR_MS: f64 = 1.0;
/// Two warm-ups within this fraction of each other: settled.
const SETTLE_WITHIN: f64 = 0.10;
const MAX_WARMUPS: usize = 6;
/// Below this many samples no interval is computed and none is asked for.
const MIN_FOR_ERROR: usize = 5;

fn timed(r: &mut dyn Runner) -> f64 {
    r.prepare();
    let t = Instant::now();
    r.run();
    t.elapsed().as_secs_f64() * 1e3
}

/// Warm-up runs until two in a row agree within 10 % (at most six); how many it took.
fn warm_up(r: &mut dyn Runner) -> usize {
    let mut last = timed(r);
    let mut n = 1;
    while n < MAX_WARMUPS && last >= SETTLE_FLOOR_MS {
        let t = timed(r);
        n += 1;
        if settled(last, t) {
            break;
        }
        last = t;
    }
    n
}

fn settled(a: f64, b: f64) -> bool {
    (a - b).abs() <= SETTLE_WITHIN * a.max(b)
}

pub fn measure(r: &mut dyn Runner, reps: usize) -> Stats {
    warm_up(r);
    let times: Vec<f64> = (0..reps.max(1)).map(|_| timed(r)).collect();
    summarize(times)
}

/// [`measure`] for several contenders at once under `plan`: each warms up, then every round
/// runs each of them once, the first of a round rotating so that none always goes first.
pub fn measure_interleaved(runners: &mut [Box<dyn Runner>], plan: Plan) -> Vec<Stats> {
    for r in runners.iter_mut() {
        warm_up(r.as_mut());
    }
    let k = runners.len();
    let mut times = vec![Vec::with_capacity(plan.reps); k];
    let mut round = 0;
    loop {
        let enough = round >= plan.reps
            && (round >= plan.max_reps
                || times
                    .iter()
                    .all(|t| median_error(t).is_none_or(|e| e <= plan.target_error)));
        if enough {
            break;
        }
        for j in 0..k {
            let i = (round + j) % k;
            times[i].push(timed(runners[i].as_mut()));
        }
        round += 1;
    }
    times.into_iter().map(summarize).collect()
}

/// Half the width of the median's distribution-free 95 % interval, relative to the median;
/// `None` below five samples.
pub fn median_error(times: &[f64]) -> Option<f64> {
    let n = times.len();
    if n < MIN_FOR_ERROR {
        return None;
    }
    let mut t = times.to_vec();
    t.sort_by(|a, b| a.total_cmp(b));
    // 1-based ranks ⌈n/2 − 0.98√n⌉ and ⌊n/2 + 1 + 0.98√n⌋ (the binomial's normal
    // approximation), made 0-based and kept inside the samples.
    let (half, mid) = (0.98 * (n as f64).sqrt(), n as f64 / 2.0);
    let lo = ((mid - half).ceil().max(1.0) as usize) - 1;
    let hi = ((mid + 1.0 + half).floor() as usize).clamp(1, n) - 1;
    let med = median_sorted(&t);
    (med > 0.0).then(|| (t[hi] - t[lo]) / (2.0 * med))
}

fn median_sorted(t: &[f64]) -> f64 {
    let n = t.len();
    if n % 2 == 1 {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2.0
    }
}

/// The value at fraction `q` of the sorted samples, interpolated between neighbours.
fn quantile_sorted(t: &[f64], q: f64) -> f64 {
    let x = q * (t.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x.fract());
    if i + 1 < t.len() {
        t[i] + f * (t[i + 1] - t[i])
    } else {
        t[i]
    }
}

pub fn summarize(mut times: Vec<f64>) -> Stats {
    let median_error = median_error(&times).unwrap_or(f64::NAN);
    times.sort_by(|a, b| a.total_cmp(b));
    let n = times.len();
    Stats {
        median_ms: median_sorted(&times),
        min_ms: times[0],
        max_ms: times[n - 1],
        q1_ms: quantile_sorted(&times, 0.25),
        q3_ms: quantile_sorted(&times, 0.75),
        median_error,
        reps: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Logged(usize, Arc<Mutex<Vec<usize>>>);

    impl Runner for Logged {
        fn name(&self) -> String {
            format!("r{}", self.0)
        }
        fn run(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
        fn digest(&self) -> Vec<u8> {
            Vec::new()
        }
    }

    #[test]
    fn contenders_take_turns_and_none_always_goes_first() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut rs: Vec<Box<dyn Runner>> = (0..3)
            .map(|i| Box::new(Logged(i, log.clone())) as Box<dyn Runner>)
            .collect();
        let stats = measure_interleaved(&mut rs, Plan::new(3));
        assert!(stats.iter().all(|s| s.reps == 3));
        // One warm-up each (runs this short settle at once), then rounds starting at 0, 1, 2.
        assert_eq!(*log.lock().unwrap(), [0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1]);
    }

    /// A runner whose run takes the next of a scripted list of durations (the last repeated).
    struct Scripted {
        times_ms: Vec<u64>,
        next: usize,
        runs: Arc<Mutex<usize>>,
    }

    impl Runner for Scripted {
        fn name(&self) -> String {
            "scripted".into()
        }
        fn run(&mut self) {
            let i = self.next.min(self.times_ms.len() - 1);
            self.next += 1;
            *self.runs.lock().unwrap() += 1;
            std::thread::sleep(std::time::Duration::from_millis(self.times_ms[i]));
        }
        fn digest(&self) -> Vec<u8> {
            Vec::new()
        }
    }

    #[test]
    fn warm_up_lasts_until_two_runs_agree() {
        let runs = Arc::new(Mutex::new(0));
        let mut r = Scripted {
            times_ms: vec![40, 20, 10, 10],
            next: 0,
            runs: runs.clone(),
        };
        // 40 → 20 → 10 → 10: the fourth run agrees with the third.
        assert_eq!(warm_up(&mut r), 4);
        assert!(!settled(20.0, 10.0) && settled(10.0, 10.5));
    }

    #[test]
    fn rounds_are_added_until_the_median_holds_and_no_further_than_the_cap() {
        // Alternating 2 ms and 12 ms never pins the median within 2 %: the cap stops it.
        let runs = Arc::new(Mutex::new(0));
        let noisy = Scripted {
            times_ms: [2u64, 12].repeat(40),
            next: 0,
            runs: runs.clone(),
        };
        let mut rs: Vec<Box<dyn Runner>> = vec![Box::new(noisy)];
        let plan = Plan {
            reps: 5,
            max_reps: 9,
            target_error: 0.02,
        };
        let s = measure_interleaved(&mut rs, plan);
        assert_eq!(s[0].reps, 9);
        assert!(s[0].median_error > 0.02);
        // A fixed plan takes exactly what it asks.
        assert_eq!(measure_interleaved(&mut rs, Plan::fixed(5))[0].reps, 5);
    }

    #[test]
    fn the_median_interval_narrows_with_agreeing_samples() {
        assert_eq!(median_error(&[1.0; 4]), None);
        assert_eq!(median_error(&[10.0; 9]), Some(0.0));
        let spread: Vec<f64> = (0..9).map(|i| 10.0 + i as f64).collect();
        let e = median_error(&spread).unwrap();
        // n = 9: ranks 1 and 7 (11 and 17 ms) around a median of 14 ms.
        assert!((e - 6.0 / 28.0).abs() < 1e-12, "{e}");
        let s = summarize(spread);
        assert_eq!((s.q1_ms, s.median_ms, s.q3_ms), (12.0, 14.0, 16.0));
    }
}
