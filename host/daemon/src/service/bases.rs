//! Base-set requests: uploads (streamed, checked chunk by chunk, within the tenant's quotas),
//! listing and deletion, each answered from the store.

use super::decode::next_message;
use super::{on_rayon, State};
use crate::auth::Tenant;
use crate::convert;
use crate::resume::{lock, Claim, Declared, Partial, Slot};
use offload_core::JobError;
use offload_proto::v1 as pb;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tonic::Streaming;

/// The longest base-set label, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// Store a streamed upload: the header, then chunks of points.
pub(super) async fn upload(
    st: Arc<State>,
    tenant: Tenant,
    mut stream: Streaming<pb::UploadBasesRequest>,
) -> Result<pb::BaseSetInfo, JobError> {
    let _slot = st.uploads.clone().try_acquire_owned().map_err(|_| {
        JobError::ResourceExhausted(format!(
            "{} uploads are in progress, the most this daemon takes at once \
             (max_uploads); try again later",
            st.config.max_uploads
        ))
    })?;
    let idle = std::time::Duration::from_secs(st.config.stream_idle_secs);
    let header = match next_message(&mut stream, idle, "stream_idle_secs").await? {
        Some(pb::UploadBasesRequest {
            part: Some(pb::upload_bases_request::Part::Header(h)),
        }) => h,
        _ => {
            return Err(JobError::invalid(
                "header",
                "an upload starts with its header",
            ))
        }
    };
    let curve = convert::curve(header.curve)?;
    let enc = convert::encoding("header.encoding", header.encoding)?;
    if header.label.len() > MAX_LABEL_BYTES {
        return Err(JobError::invalid(
            "header.label",
            format!(
                "{} bytes; a label has at most {MAX_LABEL_BYTES}",
                header.label.len()
            ),
        ));
    }
    if header.shared && !tenant.publish {
        return Err(JobError::PermissionDenied(format!(
            "header.shared: tenant {} may not publish shared sets",
            tenant.name
        )));
    }
    let declared = Declared {
        curve: header.curve,
        encoding: header.encoding,
        count: header.count,
        shared: header.shared,
    };
    let mut claim = if header.upload_id.is_empty() {
        if header.offset != 0 {
            return Err(JobError::invalid(
                "header.offset",
                "only a resumable upload (header.upload_id) continues past point 0",
            ));
        }
        Claim::unnamed()
    } else {
        (st.resumable).claim(&tenant.name, &header.upload_id, declared, header.offset)?
    };
    // A resumption continues at a whole point: bytes of a point cut off by the break go.
    let resumed = lock(&claim.slot)
        .as_mut()
        .map(|p| p.up.drop_carry())
        .is_some();
    if !resumed {
        let begun = begin(&st, &tenant, curve, enc, header);
        match begun {
            Ok(up) => {
                *lock(&claim.slot) = Some(Partial {
                    up,
                    charge: st.budget.charge_with(tenant.quota.budget.as_ref()),
                })
            }
            Err(e) => {
                claim.done();
                return Err(e);
            }
        }
    }
    // From here the points that arrive are kept if the stream breaks (a resumable upload);
    // a bad point drops the whole upload.
    while let Some(msg) = next_message(&mut stream, idle, "stream_idle_secs").await? {
        match msg.part {
            Some(pb::upload_bases_request::Part::Points(b)) => {
                st.metrics.rpc_bytes("UploadBases", b.len());
                let mut chunk = st.budget.charge_with(tenant.quota.budget.as_ref());
                chunk.add("an upload chunk", b.len())?;
                let (slot, received) = (claim.slot.clone(), claim.received.clone());
                let r = on_rayon(move || push(&slot, &received, &b)).await?;
                chunk.release();
                if let Err(e) = r {
                    if !matches!(e, JobError::ResourceExhausted(_)) {
                        claim.done();
                    }
                    return Err(e);
                }
            }
            _ => {
                claim.done();
                return Err(JobError::invalid("header", "a second header"));
            }
        }
    }
    let Some(Partial { mut up, charge }) = lock(&claim.slot).take() else {
        claim.done();
        return Err(JobError::Internal("an upload lost its points".into()));
    };
    if claim.named() && up.received() < up.count() {
        // Ended early on purpose (or by a proxy): keep it for the rest.
        up.drop_carry();
        let held = up.received();
        *lock(&claim.slot) = Some(Partial { up, charge });
        return Err(JobError::invalid(
            "points",
            format!(
                "the stream ended after {held} of the points announced; the upload is kept \
                 for upload_resume_secs: continue it at offset {held}"
            ),
        ));
    }
    claim.done();
    let store = st.store.clone();
    let (handle, meta) = on_rayon(move || store.finish_upload(up)).await??;
    drop(charge);
    tracing::info!(%handle, count = meta.count, "base set stored");
    Ok(set_info(&st, &tenant.name, handle, meta))
}

/// A new upload, within the tenant's quotas.
fn begin(
    st: &State,
    tenant: &Tenant,
    curve: offload_core::wire::CurveId,
    enc: offload_core::wire::PointEncoding,
    header: pb::UploadHeader,
) -> Result<crate::bases::Upload, JobError> {
    let q = &tenant.quota;
    if q.max_sets.is_some() || q.max_stored_bytes.is_some() {
        let (sets, bytes) = st.store.owned(&tenant.name);
        let more = header
            .count
            .saturating_mul(crate::bases::stored_point_bytes(Some(curve)));
        if q.max_sets.is_some_and(|m| sets >= m) {
            return Err(JobError::ResourceExhausted(format!(
                "tenant {} owns {sets} base sets, its max_sets",
                tenant.name
            )));
        }
        if let Some(m) = q
            .max_stored_bytes
            .filter(|&m| bytes.saturating_add(more) > m)
        {
            return Err(JobError::ResourceExhausted(format!(
                "tenant {} stores {bytes} bytes of base sets; {more} more would pass \
                 its max_stored_bytes ({m})",
                tenant.name
            )));
        }
    }
    st.store.begin_upload(
        curve,
        enc,
        header.count,
        header.label,
        &tenant.name,
        header.shared,
    )
}

/// Decode and keep one chunk (on rayon). The decoded points stay charged until the set is
/// stored; a chunk that does not check out drops the upload, except for memory, which may be
/// free again when the client retries.
fn push(slot: &Slot, received: &AtomicU64, bytes: &[u8]) -> Result<(), JobError> {
    let mut g = lock(slot);
    let Some(p) = g.as_mut() else {
        return Err(JobError::Internal("an upload lost its points".into()));
    };
    let more = p.up.decoded_bytes(bytes.len());
    p.charge.add("the uploaded points", more)?;
    match p.up.push(bytes) {
        Ok(()) => {
            received.store(p.up.received(), Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            *g = None;
            Err(e)
        }
    }
}

/// A page of the sets `tenant` may see.
pub(super) fn list(st: &State, tenant: &str, req: pb::ListBasesRequest) -> pb::ListBasesResponse {
    let size = match req.page_size {
        0 => 100,
        n => n.min(1000) as usize,
    };
    let (page, more) = st.store.list_page(tenant, &req.page_token, size);
    let next_page_token = if more {
        page.last().map(|(h, _)| h.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let sets = page
        .into_iter()
        .map(|(h, m)| set_info(st, tenant, h, m))
        .collect();
    pb::ListBasesResponse {
        sets,
        next_page_token,
    }
}

fn set_info(st: &State, tenant: &str, handle: String, meta: crate::bases::Meta) -> pb::BaseSetInfo {
    let (table, table_bytes) = if st.store.is_resident(&handle) {
        st.scheduler
            .prepared(&handle)
            .map_or(("none", 0), |p| (p.name(), p.bytes()))
    } else {
        ("not resident", 0)
    };
    let curve = meta.curve_id();
    let bytes = crate::bases::stored_point_bytes(curve) * meta.count;
    pb::BaseSetInfo {
        handle,
        curve: curve.map(convert::curve_out).unwrap_or(0),
        count: meta.count,
        label: meta.label_for(tenant).to_string(),
        shared: meta.shared,
        bytes,
        table: table.into(),
        table_bytes: table_bytes as u64,
    }
}
