//! NTT requests: columns inline or in shared memory, decoded on rayon, one job for all of them.

use super::decode::{decode_vector, source, Source};
use super::{nothing_ran, on_rayon, report, Caller, State};
use crate::budget::Charge;
use crate::convert;
use offload_core::job::{FieldId, JobField, Ntt};
use offload_core::wire::{self, WireField};
use offload_core::{Job, JobError, Output};
use offload_engine::ntt::NttConfig;
use offload_proto::v1 as pb;
use std::sync::Arc;

/// A field the API serves: its job arm (core's `JobField`) and elements on the wire.
trait ApiField: JobField + WireField {}

impl<F: JobField + WireField> ApiField for F {}

async fn ntt_for<F: ApiField>(
    st: Arc<State>,
    caller: Caller,
    mut charge: Charge,
    req: pb::NttRequest,
) -> Result<pb::NttResponse, JobError> {
    let mut cfg = NttConfig::<F> {
        direction: convert::direction(req.direction)?,
        input: convert::order("input_order", req.input_order)?,
        output: convert::order("output_order", req.output_order)?,
        coset: None,
    };
    if !req.coset.is_empty() {
        if req.coset.len() != F::BYTES {
            return Err(JobError::invalid(
                "coset",
                format!("{} bytes, expected {}", req.coset.len(), F::BYTES),
            ));
        }
        let g = F::decode(&req.coset)
            .ok_or_else(|| JobError::invalid("coset", "not below the field modulus"))?;
        if g.is_zero() {
            return Err(JobError::invalid("coset", "the shift must be nonzero"));
        }
        cfg.coset = Some(g);
    }
    let columns = req.columns.len();
    if columns == 0 {
        return Ok(pb::NttResponse {
            columns: Vec::new(),
            report: Some(nothing_ran()),
        });
    }
    if columns > st.config.max_ntt_columns {
        return Err(JobError::invalid(
            "columns",
            format!(
                "{columns} columns; this daemon takes at most {} (max_ntt_columns)",
                st.config.max_ntt_columns
            ),
        ));
    }
    // Every length is known before a byte is read or decoded.
    let sources: Vec<Source> = req.columns.into_iter().map(source).collect();
    let first = sources[0].len();
    let width = F::BYTES as u64;
    if !first.is_multiple_of(width) {
        return Err(JobError::invalid(
            "columns[0]",
            format!("{first} bytes is not a whole number of {width}-byte elements"),
        ));
    }
    let n = first / width;
    let max_log = F::TWO_ADICITY.min(st.config.max_ntt_log_n);
    if !n.is_power_of_two() {
        return Err(JobError::invalid(
            "columns",
            format!("columns must have one power-of-two length; {n} is not"),
        ));
    }
    if n.trailing_zeros() > max_log {
        return Err(JobError::invalid(
            "columns[0]",
            format!(
                "2^{} elements; this daemon transforms at most 2^{max_log} over {} \
                 (the field's two-adicity {}, max_ntt_log_n {})",
                n.trailing_zeros(),
                F::NAME,
                F::TWO_ADICITY,
                st.config.max_ntt_log_n
            ),
        ));
    }
    for (c, s) in sources.iter().enumerate() {
        if s.len() != first {
            return Err(JobError::invalid(
                format!("columns[{c}]"),
                format!("{} bytes where columns[0] has {first}", s.len()),
            ));
        }
    }
    // Shared-memory columns make a small request with a large answer: refused now, not by
    // the encoder after the work. Per column a tag and a length; the report is small.
    let answer = columns as u64 * (first + 11) + 1024;
    if answer > st.config.max_message_bytes as u64 {
        return Err(JobError::ResourceExhausted(format!(
            "the answer, {columns} columns of {first} bytes, would exceed max_message_bytes ({})",
            st.config.max_message_bytes
        )));
    }
    let shared = sources
        .iter()
        .filter(|s| matches!(s, Source::Shared(_)))
        .count() as u64;
    // Decoded data, the encoded answer, and what shared memory copies in.
    let bytes =
        columns as u64 * n * std::mem::size_of::<F>() as u64 + (columns as u64 + shared) * first;
    charge.add(
        "the transform's data and answer",
        usize::try_from(bytes).unwrap_or(usize::MAX),
    )?;
    let payloads = st
        .read(caller.peer.as_ref(), sources, |c| format!("columns[{c}]"))
        .await?;
    let data = on_rayon(move || {
        let mut data = Vec::with_capacity(n as usize * columns);
        for (c, p) in payloads.iter().enumerate() {
            data.extend(decode_vector::<F>(&format!("columns[{c}]"), p)?);
        }
        Ok::<_, JobError>(data)
    })
    .await??;
    let job = Job::Ntt(F::ntt_job(Ntt::new(cfg, columns, data)?));
    let (out, rep) = st
        .scheduler
        .submit_until(&caller.tenant.name, job, caller.deadline)
        .await?;
    let Output::Ntt(out) = out else {
        return Err(JobError::Internal(
            "an NTT job returned another output".into(),
        ));
    };
    let n = F::ntt_data(out)
        .ok_or_else(|| JobError::Internal("an NTT returned another field".into()))?;
    let columns = on_rayon(move || {
        let len = 1usize << n.log_n();
        n.data.chunks(len).map(wire::encode_elements).collect()
    })
    .await?;
    Ok(pb::NttResponse {
        columns,
        report: Some(report(&rep)),
    })
}

pub(super) async fn ntt(
    st: Arc<State>,
    caller: Caller,
    charge: Charge,
    req: pb::NttRequest,
) -> Result<pb::NttResponse, JobError> {
    match convert::field(req.field)? {
        FieldId::Bn254 => ntt_for::<ark_bn254::Fr>(st, caller, charge, req).await,
        FieldId::Bls12_381 => ntt_for::<ark_bls12_381::Fr>(st, caller, charge, req).await,
        FieldId::BabyBear => ntt_for::<p3_baby_bear::BabyBear>(st, caller, charge, req).await,
        FieldId::Goldilocks => ntt_for::<p3_goldilocks::Goldilocks>(st, caller, charge, req).await,
    }
}
