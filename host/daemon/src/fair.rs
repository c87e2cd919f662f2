//! A lane's queue, fair across tenants: start-time fair queuing over estimated seconds.
//!
//! Each tenant (a flow) gets a virtual finish tag that grows by the estimated cost of every job
//! it queues; a job's start tag is the later of the queue's virtual time and its tenant's finish
//! tag, and the job with the smallest start tag runs next. So a tenant with 64 connections
//! queuing work gets the same share of the lane as one calling now and then: the occasional
//! caller's job starts behind at most one job of each other tenant, not behind their whole
//! backlog. A tenant that has been idle starts at the current virtual time (no banked credit),
//! and one that used more than its share recently keeps its later tag until virtual time passes
//! it. Within a tenant, latency-class jobs (signature batches) still go ahead of its bulk ones.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

struct Queued<T> {
    start: f64,
    cost: f64,
    item: T,
}

#[derive(Default)]
struct Flow<T> {
    latency: VecDeque<Queued<T>>,
    bulk: VecDeque<Queued<T>>,
    finish: f64,
}

impl<T> Flow<T> {
    fn len(&self) -> usize {
        self.latency.len() + self.bulk.len()
    }

    /// The smallest start tag this flow offers a worker that may (or may not) take bulk work.
    fn head(&self, bulk_ok: bool) -> Option<f64> {
        let l = self.latency.front().map(|q| q.start);
        let b = self.bulk.front().filter(|_| bulk_ok).map(|q| q.start);
        match (l, b) {
            (Some(l), Some(b)) => Some(l.min(b)),
            (l, b) => l.or(b),
        }
    }
}

pub struct FairQueue<T> {
    flows: HashMap<Arc<str>, Flow<T>>,
    /// The start tag of the last job taken.
    vtime: f64,
    len: usize,
    /// Estimated seconds queued, per class.
    latency_cost: f64,
    bulk_cost: f64,
}

impl<T> Default for FairQueue<T> {
    fn default() -> Self {
        Self {
            flows: HashMap::new(),
            vtime: 0.0,
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

    /// Queue `item`; `front` puts it ahead of everything (a job handed back by a failed device,
    /// already paid for) without charging its tenant again.
    pub fn push(&mut self, tenant: &Arc<str>, latency: bool, cost: f64, item: T, front: bool) {
        let vtime = self.vtime;
        let flow = self.flows.entry(tenant.clone()).or_insert_with(|| Flow {
            latency: VecDeque::new(),
            bulk: VecDeque::new(),
            finish: vtime,
        });
        let cost = if cost.is_finite() { cost.max(0.0) } else { 0.0 };
        let q = if latency {
            &mut flow.latency
        } else {
            &mut flow.bulk
        };
        if front {
            q.push_front(Queued {
                start: f64::NEG_INFINITY,
                cost,
                item,
            });
        } else {
            let start = vtime.max(flow.finish);
            flow.finish = start + cost;
            q.push_back(Queued { start, cost, item });
        }
        if latency {
            self.latency_cost += cost;
        } else {
            self.bulk_cost += cost;
        }
        self.len += 1;
    }

    /// The next job for a worker that may take bulk work (`bulk_ok`) or only latency-class
    /// work, with its tenant.
    pub fn pop(&mut self, bulk_ok: bool) -> Option<(Arc<str>, T)> {
        let (tenant, _) = self
            .flows
            .iter()
            .filter_map(|(t, f)| f.head(bulk_ok).map(|h| (t, h)))
            // Ties go to the name, so the order never depends on the map's.
            .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))?;
        let tenant = tenant.clone();
        let flow = self.flows.get_mut(&tenant)?;
        let (q, latency) = match flow.latency.front() {
            Some(_) => (flow.latency.pop_front()?, true),
            None => (flow.bulk.pop_front()?, false),
        };
        self.vtime = self.vtime.max(q.start);
        if latency {
            self.latency_cost = (self.latency_cost - q.cost).max(0.0);
        } else {
            self.bulk_cost = (self.bulk_cost - q.cost).max(0.0);
        }
        self.len -= 1;
        // An idle tenant's flow is forgotten once virtual time has passed its finish tag: it
        // would start at virtual time again anyway.
        let vtime = self.vtime;
        self.flows.retain(|_, f| f.len() > 0 || f.finish > vtime);
        Some((tenant, q.item))
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
        assert!(at(1000) <= 2, "{order:?}");
    }

    #[test]
    fn tenants_share_by_estimated_cost() {
        let mut q = FairQueue::default();
        let (big, small) = (t("big"), t("small"));
        for i in 0..10 {
            q.push(&big, false, 4.0, i, false);
        }
        for i in 100..140 {
            q.push(&small, false, 1.0, i, false);
        }
        // Over the first 20 jobs, about four small ones run per big one.
        let first: Vec<_> = drain(&mut q, true).into_iter().take(20).collect();
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
    fn a_handed_back_job_goes_first_without_a_second_charge() {
        let mut q = FairQueue::default();
        let (a, b) = (t("a"), t("b"));
        q.push(&b, false, 1.0, 1, false);
        q.push(&a, false, 5.0, 2, true);
        assert_eq!(q.pop(true).map(|x| x.1), Some(2));
        // `a` was not charged for it: its next job still competes from virtual time.
        q.push(&a, false, 1.0, 3, false);
        let order: Vec<u32> = drain(&mut q, true).into_iter().map(|x| x.1).collect();
        assert_eq!(order, vec![3, 1]);
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
