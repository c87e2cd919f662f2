//! A lane's queue, fair across tenants: each tenant is charged the seconds its jobs actually
//! ran, and the next job comes from the tenant charged least.
//!
//! So a tenant with 64 connections queuing work gets the same share of the lane as one calling
//! now and then: the occasional caller's job starts behind what is running and at most about
//! one job of each other tenant, not behind their whole backlog. The charge is the measured run
//! time, not the estimate, so a wrong estimate cannot buy a tenant more than its share. A
//! tenant that comes back after being idle starts from the charge of the tenant served last
//! (no banked credit). Within a tenant, latency-class jobs (signature batches) still go
//! ahead of its bulk ones, and jobs of one class keep their order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

struct Queued<T> {
    /// Arrival order, to break ties between tenants charged alike.
    seq: u64,
    /// Estimated seconds, for the lane's backlog.
    cost: f64,
    item: T,
}

struct Flow<T> {
    latency: VecDeque<Queued<T>>,
    bulk: VecDeque<Queued<T>>,
    /// Seconds of run time charged.
    used: f64,
}

impl<T> Flow<T> {
    fn len(&self) -> usize {
        self.latency.len() + self.bulk.len()
    }

    /// The arrival of the job this flow would hand a worker that may (or may not) take bulk
    /// work.
    fn head(&self, bulk_ok: bool) -> Option<u64> {
        match self.latency.front() {
            Some(q) => Some(q.seq),
            None => self.bulk.front().filter(|_| bulk_ok).map(|q| q.seq),
        }
    }
}

/// What a job is charged at least, in seconds, when it starts: a tenant sending jobs that
/// finish in no time still takes turns.
const MIN_CHARGE: f64 = 1e-4;

pub struct FairQueue<T> {
    flows: HashMap<Arc<str>, Flow<T>>,
    /// The charge of the tenant whose job started last: where a tenant back from idle starts.
    clock: f64,
    seq: u64,
    len: usize,
    /// Estimated seconds queued, per class.
    latency_cost: f64,
    bulk_cost: f64,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        Self {
            flows: HashMap::new(),
            clock: 0.0,
            seq: 0,
            len: 0,
            latency_cost: 0.0,
            bulk_cost: 0.0,
        }
    }
}

impl<T> FairQueue<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Estimated seconds of queued latency-class work, and of all queued work.
    pub fn cost(&self, latency_only: bool) -> f64 {
        if latency_only {
            self.latency_cost
        } else {
            self.latency_cost + self.bulk_cost
        }
    }

    /// Jobs `tenant` has queued here.
    pub fn queued_by(&self, tenant: &str) -> usize {
        self.flows.get(tenant).map_or(0, Flow::len)
    }

    /// Whether a job from `tenant` may join a queue meant to hold `capacity`: always while there
    /// is room; when full, still if the tenant holds less than its equal share of `capacity`
    /// among the tenants queuing, so one tenant filling the queue cannot lock the others out.
    /// The queue never holds more than twice `capacity`.
    pub fn admits(&self, tenant: &str, capacity: usize) -> bool {
        if self.len < capacity {
            return true;
        }
        let mine = self.queued_by(tenant);
        let others = self
            .flows
            .iter()
            .filter(|(t, f)| f.len() > 0 && &***t != tenant)
            .count();
        self.len < 2 * capacity && mine < capacity / (others + 1)
    }

    /// Queue `item` (`cost`: its estimated seconds); `front` puts it ahead of everything of its
    /// tenant and class (a job handed back by a failed device).
    pub fn push(&mut self, tenant: &Arc<str>, latency: bool, cost: f64, item: T, front: bool) {
        let clock = self.clock;
        let flow = self.flows.entry(tenant.clone()).or_insert_with(|| Flow {
            latency: VecDeque::new(),
            bulk: VecDeque::new(),
            used: clock,
        });
        if flow.len() == 0 {
            // Back from idle: no credit for the time away.
            flow.used = flow.used.max(clock);
        }
        let cost = if cost.is_finite() { cost.max(0.0) } else { 0.0 };
        self.seq += 1;
        let q = Queued {
            seq: if front { 0 } else { self.seq },
            cost,
            item,
        };
        let class = if latency {
            &mut flow.latency
        } else {
            &mut flow.bulk
        };
        if front {
            class.push_front(q);
        } else {
            class.push_back(q);
        }
        if latency {
            self.latency_cost += cost;
        } else {
            self.bulk_cost += cost;
        }
        self.len += 1;
    }

    /// The next job for a worker that may take bulk work (`bulk_ok`) or only latency-class
    /// work, with its tenant: the tenant charged least first, then the earliest arrival.
    pub fn pop(&mut self, bulk_ok: bool) -> Option<(Arc<str>, T)> {
        let (tenant, _) = self
            .flows
            .iter()
            .filter_map(|(t, f)| f.head(bulk_ok).map(|seq| (t, (f.used, seq))))
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.1 .1.cmp(&b.1 .1)))?;
        let tenant = tenant.clone();
        let flow = self.flows.get_mut(&tenant)?;
        let (q, latency) = match flow.latency.pop_front() {
            Some(q) => (q, true),
            None => (flow.bulk.pop_front()?, false),
        };
        self.clock = self.clock.max(flow.used);
        flow.used += MIN_CHARGE;
        if latency {
            self.latency_cost = (self.latency_cost - q.cost).max(0.0);
        } else {
            self.bulk_cost = (self.bulk_cost - q.cost).max(0.0);
        }
        self.len -= 1;
        Some((tenant, q.item))
    }

    /// Charge `tenant` for `seconds` its job ran.
    pub fn charge(&mut self, tenant: &str, seconds: f64) {
        if let Some(f) = self.flows.get_mut(tenant) {
            if seconds.is_finite() && seconds > 0.0 {
                f.used += seconds;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    fn drain(q: &mut FairQueue<u32>, bulk_ok: bool) -> Vec<(String, u32)> {
        std::iter::from_fn(|| q.pop(bulk_ok))
            .map(|(t, i)| (t.to_string(), i))
            .collect()
    }

    #[test]
    fn one_tenant_keeps_its_order_with_signatures_first() {
        let mut q = FairQueue::default();
        let a = t("a");
        q.push(&a, false, 1.0, 1, false);
        q.push(&a, false, 1.0, 2, false);
        q.push(&a, true, 0.1, 3, false);
        q.push(&a, false, 1.0, 4, false);
        assert_eq!(q.len(), 4);
        assert!((q.cost(false) - 3.1).abs() < 1e-9);
        let order: Vec<u32> = drain(&mut q, true).into_iter().map(|x| x.1).collect();
        assert_eq!(order, vec![3, 1, 2, 4]);
        assert_eq!(q.cost(false), 0.0);
    }

    #[test]
    fn a_newcomer_goes_ahead_of_a_flooding_tenants_backlog() {
        let mut q = FairQueue::default();
        let (flood, quiet) = (t("flood"), t("quiet"));
        for i in 0..64 {
            q.push(&flood, false, 1.0, i, false);
        }
        // Two of the flood's jobs have started.
        q.pop(true);
        q.pop(true);
        q.push(&quiet, false, 1.0, 1000, false);
        q.push(&quiet, true, 0.01, 2000, false);
        let order = drain(&mut q, true);
        let at = |i| order.iter().position(|x| x.1 == i).unwrap();
        // At most one of the flood's jobs runs before each of the quiet tenant's.
        assert!(at(2000) <= 1, "{order:?}");
        assert!(at(1000) <= 3, "{order:?}");
    }

    #[test]
    fn tenants_share_by_the_time_their_jobs_ran() {
        let mut q = FairQueue::default();
        let (big, small) = (t("big"), t("small"));
        for i in 0..10 {
            // Estimates say nothing here: the charge is what ran.
            q.push(&big, false, 0.0, i, false);
        }
        for i in 100..140 {
            q.push(&small, false, 1000.0, i, false);
        }
        // Over the first 20 jobs, about four small ones (1 s each) run per big one (4 s).
        let mut first = Vec::new();
        for _ in 0..20 {
            let (who, i) = q.pop(true).unwrap();
            q.charge(&who, if &*who == "big" { 4.0 } else { 1.0 });
            first.push((who.to_string(), i));
        }
        let bigs = first.iter().filter(|x| x.0 == "big").count();
        assert!((3..=5).contains(&bigs), "{first:?}");
    }

    #[test]
    fn a_signature_flood_does_not_starve_another_tenants_bulk_work() {
        let mut q = FairQueue::default();
        let (flood, quiet) = (t("flood"), t("quiet"));
        for i in 0..50 {
            q.push(&flood, true, 0.01, i, false);
        }
        q.push(&quiet, false, 0.01, 1000, false);
        let order = drain(&mut q, true);
        let at = order.iter().position(|x| x.1 == 1000).unwrap();
        assert!(at <= 1, "{order:?}");
        // A worker that takes no bulk work never gets it.
        let mut q = FairQueue::default();
        q.push(&quiet, false, 0.01, 1, false);
        assert!(q.pop(false).is_none());
        assert_eq!(q.pop(true).map(|x| x.1), Some(1));
    }

    #[test]
    fn idle_time_banks_no_credit() {
        let mut q = FairQueue::default();
        let (a, b) = (t("a"), t("b"));
        // `a` runs alone for a while; `b` was idle all along.
        for i in 0..20 {
            q.push(&a, false, 1.0, i, false);
            q.pop(true);
        }
        for i in 0..5 {
            q.push(&b, false, 1.0, 100 + i, false);
        }
        for i in 20..25 {
            q.push(&a, false, 1.0, i, false);
        }
        // `b` does not get its 20 idle seconds back: the two alternate.
        let order: Vec<String> = drain(&mut q, true).into_iter().map(|x| x.0).collect();
        let runs = order.windows(2).filter(|w| w[0] == w[1]).count();
        assert!(runs <= 2, "{order:?}");
    }

    #[test]
    fn a_handed_back_job_goes_ahead_of_its_tenants_queue() {
        let mut q = FairQueue::default();
        let a = t("a");
        q.push(&a, false, 1.0, 1, false);
        q.push(&a, false, 1.0, 2, false);
        q.push(&a, false, 1.0, 3, true);
        let order: Vec<u32> = drain(&mut q, true).into_iter().map(|x| x.1).collect();
        assert_eq!(order, vec![3, 1, 2]);
    }

    #[test]
    fn estimates_of_zero_still_take_turns() {
        let mut q = FairQueue::default();
        let (flood, quiet) = (t("flood"), t("quiet"));
        for i in 0..50 {
            q.push(&flood, true, 0.0, i, false);
        }
        q.pop(true);
        q.push(&quiet, false, 0.0, 1000, false);
        // The flood keeps queuing as fast as its jobs leave.
        let mut order = Vec::new();
        for i in 50..60 {
            order.push(q.pop(true).unwrap().1);
            q.push(&flood, true, 0.0, i, false);
        }
        let at = order.iter().position(|&x| x == 1000);
        assert!(at.is_some_and(|a| a <= 1), "{order:?}");
    }

    #[test]
    fn a_full_queue_still_admits_a_tenant_below_its_share() {
        let mut q = FairQueue::default();
        let (flood, quiet) = (t("flood"), t("quiet"));
        for i in 0..8 {
            assert!(q.admits("flood", 8));
            q.push(&flood, false, 1.0, i, false);
        }
        assert!(!q.admits("flood", 8), "the flood is at capacity");
        assert!(q.admits("quiet", 8), "the quiet tenant holds nothing");
        for i in 0..4 {
            q.push(&quiet, false, 1.0, 100 + i, false);
        }
        assert!(!q.admits("quiet", 8), "its share of 8 between two is 4");
        assert!(!q.admits("flood", 8));
    }
}
