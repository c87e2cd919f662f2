//! GetInfo: the backends with their capabilities and load, those configured but absent, and
//! every limit the daemon applies, the calling tenant's own included.

use super::bases::MAX_LABEL_BYTES;
use super::verify::most_items;
use super::{Caller, State};
use crate::config::Config;
use offload_proto::v1 as pb;

pub(super) fn info(st: &State, caller: &Caller) -> pb::GetInfoResponse {
    let backends = st
        .scheduler
        .lanes()
        .into_iter()
        .map(|l| {
            let (healthy, status) = match l.backend.health() {
                offload_core::Health::Healthy => (true, String::new()),
                offload_core::Health::Unhealthy(why) => (false, why),
            };
            pb::BackendInfo {
                name: l.backend.name().into(),
                device: l.backend.device(),
                healthy,
                status,
                ops: offload_core::caps::summarize(&l.caps, |c| largest(&st.config, c))
                    .into_iter()
                    .map(|o| pb::OpSupport {
                        op: o.op.into(),
                        kinds: o.kinds,
                        max_size: o.max_size,
                        min_size: o.min_size,
                        coset: o.coset,
                    })
                    .collect(),
                queue_depth: l.queued as u32,
                running: l.running as u32,
                completed: l.completed,
            }
        })
        .chain(st.absent.iter().map(|(name, why)| pb::BackendInfo {
            name: name.clone(),
            healthy: false,
            status: why.clone(),
            ..Default::default()
        }))
        .collect();
    let c = &st.config;
    pb::GetInfoResponse {
        version: env!("CARGO_PKG_VERSION").into(),
        backends,
        limits: Some(pb::Limits {
            max_message_bytes: c.max_message_bytes as u64,
            max_base_set_points: c.max_base_points,
            queue_capacity: st.scheduler.capacity() as u32,
            shared_memory: st.shm.is_some(),
            max_scalar_vectors: c.max_scalar_vectors as u32,
            max_ntt_columns: c.max_ntt_columns as u32,
            max_ntt_log_n: c.max_ntt_log_n,
            max_verify_items: most_items(c) as u32,
            max_verify_item_bytes: c.max_verify_item_bytes as u64,
            max_label_bytes: MAX_LABEL_BYTES as u32,
            max_inflight_bytes: c.max_inflight_bytes as u64,
            max_uploads: c.max_uploads as u32,
            stream_idle_secs: c.stream_idle_secs,
            verify_stream_idle_secs: c.verify_stream_idle_secs,
            upload_resume_secs: c.upload_resume_secs,
            connection_idle_secs: c.connection_idle_secs,
            max_connections: c.max_connections as u32,
            max_connections_per_source: c.max_connections_per_source as u32,
            max_streams_per_connection: c.max_streams_per_connection,
            quota: Some(quota(&caller.tenant)),
        }),
    }
}

/// The largest size of `c`'s operation this daemon takes in one request: what `GetInfo`
/// reports beside a backend's own bound.
fn largest(cfg: &Config, c: &offload_core::Capability) -> u64 {
    match c {
        offload_core::Capability::Msm { .. } => cfg.max_base_points,
        offload_core::Capability::Ntt { .. } => 1u64 << cfg.max_ntt_log_n.min(63),
        offload_core::Capability::Verify { .. } => most_items(cfg) as u64,
    }
}

/// The tenant's own quotas as GetInfo reports them (0: none of its own).
fn quota(t: &crate::auth::Tenant) -> pb::TenantQuota {
    let q = &t.quota;
    pb::TenantQuota {
        tenant: t.name.to_string(),
        max_sets: q.max_sets.unwrap_or(0),
        max_stored_bytes: q.max_stored_bytes.unwrap_or(0),
        max_resident_bytes: q.max_resident_bytes.unwrap_or(0) as u64,
        max_jobs: q.max_jobs.unwrap_or(0).min(u32::MAX as usize) as u32,
        max_inflight_bytes: q.budget.as_ref().map_or(0, |b| b.limit() as u64),
    }
}
