//! The timing loop: one untimed warm-up, then `reps` timed runs; medians are what we quote.

use crate::Runner;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub reps: usize,
}

pub fn measure(r: &mut dyn Runner, reps: usize) -> Stats {
    let reps = reps.max(1);
    r.prepare();
    r.run();
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        r.prepare();
        let t = Instant::now();
        r.run();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    summarize(times)
}

pub fn summarize(mut times: Vec<f64>) -> Stats {
    times.sort_by(|a, b| a.total_cmp(b));
    let n = times.len();
    let median_ms = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    };
    Stats {
        median_ms,
        min_ms: times[0],
        max_ms: times[n - 1],
        reps: n,
    }
}
