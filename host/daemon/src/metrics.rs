//! Prometheus metrics, served as text on their own HTTP port.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub op: String,
    pub kind: String,
    pub backend: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub op: String,
    pub backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BackendLabel {
    pub backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabel {
    pub rpc: String,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 30 minutes.
    Histogram::new(exponential_buckets(5e-5, 2.0, 26))
}

pub struct Metrics {
    registry: Registry,
    pub jobs: Family<JobLabels, Counter>,
    /// From submission to result, queueing included.
    pub latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    pub queue_depth: Family<BackendLabel, Gauge>,
    pub running: Family<BackendLabel, Gauge>,
    pub fallbacks: Family<BackendLabel, Counter>,
    pub bytes_in: Family<RpcLabel, Counter>,
    pub rejected: Family<RpcLabel, Counter>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("offload");
        let jobs = Family::<JobLabels, Counter>::default();
        let latency = Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let queue_depth = Family::<BackendLabel, Gauge>::default();
        let running = Family::<BackendLabel, Gauge>::default();
        let fallbacks = Family::<BackendLabel, Counter>::default();
        let bytes_in = Family::<RpcLabel, Counter>::default();
        let rejected = Family::<RpcLabel, Counter>::default();
        registry.register(
            "jobs",
            "Jobs by op, kind, backend and outcome",
            jobs.clone(),
        );
        registry.register(
            "job_seconds",
            "Job latency from submission to result, by op and backend",
            latency.clone(),
        );
        registry.register(
            "queue_depth",
            "Jobs waiting, by backend",
            queue_depth.clone(),
        );
        registry.register("running", "Jobs running, by backend", running.clone());
        registry.register(
            "fallbacks",
            "Jobs re-run on the CPU after a backend failed, by the backend that failed",
            fallbacks.clone(),
        );
        registry.register(
            "bytes_in",
            "Request payload bytes, by RPC",
            bytes_in.clone(),
        );
        registry.register(
            "rejected",
            "Requests refused before scheduling (bad input, full queues), by RPC",
            rejected.clone(),
        );
        Arc::new(Self {
            registry,
            jobs,
            latency,
            queue_depth,
            running,
            fallbacks,
            bytes_in,
            rejected,
        })
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }

    pub fn rpc_bytes(&self, rpc: &str, bytes: usize) {
        self.bytes_in
            .get_or_create(&RpcLabel { rpc: rpc.into() })
            .inc_by(bytes as u64);
    }

    pub fn rpc_rejected(&self, rpc: &str) {
        self.rejected
            .get_or_create(&RpcLabel { rpc: rpc.into() })
            .inc();
    }
}
