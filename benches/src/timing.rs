//! The timing loop: one untimed warm-up, then `reps` timed runs; medians are what we quote.
//! Contenders compared with each other take turns run by run, so a slow spell of a shared
//! machine falls on all of them alike.

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

/// [`measure`] for several contenders at once: each warms up once, then every round runs each
/// of them once, the first of a round rotating so that none always goes first.
pub fn measure_interleaved(runners: &mut [Box<dyn Runner>], reps: usize) -> Vec<Stats> {
    let reps = reps.max(1);
    for r in runners.iter_mut() {
        r.prepare();
        r.run();
    }
    let k = runners.len();
    let mut times = vec![Vec::with_capacity(reps); k];
    for round in 0..reps {
        for j in 0..k {
            let i = (round + j) % k;
            let r = &mut runners[i];
            r.prepare();
            let t = Instant::now();
            r.run();
            times[i].push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.into_iter().map(summarize).collect()
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
        let stats = measure_interleaved(&mut rs, 3);
        assert!(stats.iter().all(|s| s.reps == 3));
        // One warm-up each, then rounds starting at 0, 1, 2.
        assert_eq!(*log.lock().unwrap(), [0, 1, 2, 0, 1, 2, 1, 2, 0, 2, 0, 1]);
    }
}
