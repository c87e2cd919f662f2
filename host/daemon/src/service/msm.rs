//! MSM requests: bases by handle or inline, scalar vectors inline, in shared memory or
//! streamed in chunks, one job for all vectors.

use super::decode::{element_error, next_message, source, Source};
use super::{nothing_ran, on_rayon, report, Caller, State};
use crate::budget::Charge;
use crate::convert;
use ark_ec::short_weierstrass::Affine;
use ark_ec::CurveGroup;
use offload_core::job::{BaseSet, JobCurve, Msm};
use offload_core::wire::{self, WireField};
use offload_core::{Job, JobError, Output};
use offload_proto::v1 as pb;
use std::sync::Arc;
use tonic::Streaming;

/// A curve the API serves: its job arms (core's `JobCurve`) and scalars on the wire.
trait ApiCurve: JobCurve<ScalarField: WireField> {}

impl<C: JobCurve<ScalarField: WireField>> ApiCurve for C {}

async fn msm_for<C: ApiCurve>(
    st: Arc<State>,
    caller: Caller,
    mut charge: Charge,
    req: pb::MsmRequest,
) -> Result<pb::MsmResponse, JobError> {
    let result_enc = convert::encoding("result_encoding", req.result_encoding)?;
    wire::point_len::<C>(result_enc).map_err(|e| JobError::invalid("result_encoding", e))?;
    let vectors = req.scalars.len();
    if vectors > st.config.max_scalar_vectors {
        return Err(JobError::invalid(
            "scalars",
            format!(
                "{vectors} vectors; this daemon takes at most {} (max_scalar_vectors)",
                st.config.max_scalar_vectors
            ),
        ));
    }
    let bases: Arc<BaseSet<C>> = match req.bases {
        Some(pb::msm_request::Bases::Handle(h)) => {
            let store = st.store.clone();
            let tenant = caller.tenant.name.clone();
            let set = on_rayon(move || store.get(&tenant, &h)).await??;
            C::bases_of(set).ok_or_else(|| {
                JobError::invalid("handle", format!("the set is not a {} set", C::ID))
            })?
        }
        Some(pb::msm_request::Bases::Inline(b)) => {
            let enc = convert::encoding("inline.encoding", b.encoding)?;
            let len =
                wire::point_len::<C>(enc).map_err(|e| JobError::invalid("inline.encoding", e))?;
            if b.points.is_empty() {
                return Err(JobError::invalid(
                    "inline.points",
                    "a base set needs at least one point",
                ));
            }
            charge.add(
                "the inline bases",
                b.points.len() / len * std::mem::size_of::<Affine<C>>(),
            )?;
            let points = on_rayon(move || wire::decode_points::<C>(enc, &b.points))
                .await?
                .map_err(|(i, e)| JobError::invalid(format!("inline.points[{i}]"), e))?;
            Arc::new(BaseSet::inline(points))
        }
        None => {
            return Err(JobError::invalid(
                "bases",
                "neither a handle nor inline bases",
            ))
        }
    };
    if vectors == 0 {
        // An empty batch, once everything else in the request holds.
        return Ok(pb::MsmResponse {
            results: Vec::new(),
            report: Some(nothing_ran()),
        });
    }
    // Every length is known before a byte is read or decoded.
    let want = bases.len() as u64 * 32;
    let sources: Vec<Source> = req.scalars.into_iter().map(source).collect();
    for (v, s) in sources.iter().enumerate() {
        if s.len() != want {
            let why = if s.len() % 32 == 0 {
                format!("{} scalars for {} bases", s.len() / 32, bases.len())
            } else {
                format!("{} bytes is not a whole number of 32-byte scalars", s.len())
            };
            return Err(JobError::invalid(format!("scalars[{v}]"), why));
        }
    }
    let shared = sources
        .iter()
        .filter(|s| matches!(s, Source::Shared(_)))
        .count();
    charge.add(
        "the decoded scalars",
        // 32 bytes a scalar, decoded (Canonical) and, from shared memory, as read.
        (vectors + shared) * bases.len() * 32,
    )?;
    let payloads = st
        .read(caller.peer.as_ref(), sources, |v| format!("scalars[{v}]"))
        .await?;
    let scalars = on_rayon(move || {
        payloads
            .iter()
            .enumerate()
            .map(|(v, p)| {
                let field = format!("scalars[{v}]");
                wire::decode_canonical::<C::ScalarField>(p).map_err(|e| element_error(&field, e))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let job = Job::Msm(C::msm_job(Msm::new(bases, scalars)?));
    let (out, rep) = st
        .scheduler
        .submit_until(&caller.tenant.name, job, caller.deadline)
        .await?;
    let Output::Msm(out) = out else {
        return Err(JobError::Internal(
            "an MSM job returned another output".into(),
        ));
    };
    let points = C::msm_results(out)
        .ok_or_else(|| JobError::Internal("an MSM job returned another curve".into()))?;
    let results = on_rayon(move || {
        let affine = ark_ec::short_weierstrass::Projective::normalize_batch(&points);
        affine
            .iter()
            .map(|p: &Affine<C>| {
                let mut b = Vec::new();
                wire::encode_point::<C>(result_enc, p, &mut b).map(|()| b)
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?
    .map_err(|e| JobError::invalid("result_encoding", e))?;
    Ok(pb::MsmResponse {
        results,
        report: Some(report(&rep)),
    })
}

pub(super) async fn msm(
    st: Arc<State>,
    caller: Caller,
    charge: Charge,
    req: pb::MsmRequest,
) -> Result<pb::MsmResponse, JobError> {
    offload_core::with_curve!(convert::curve(req.curve)?, C => msm_for::<C>(st, caller, charge, req).await)
}

/// A streamed MSM: the header (bases, encodings, any scalars it already holds), then chunks of
/// packed scalars for any vector, each vector's length bounded by the set's before it grows.
pub(super) async fn msm_stream(
    st: Arc<State>,
    caller: Caller,
    mut stream: Streaming<pb::MsmStreamRequest>,
) -> Result<pb::MsmResponse, JobError> {
    let idle = std::time::Duration::from_secs(st.config.stream_idle_secs);
    let mut header = match next_message(&mut stream, idle, "stream_idle_secs").await? {
        Some(pb::MsmStreamRequest {
            part: Some(pb::msm_stream_request::Part::Header(h)),
        }) => h,
        _ => {
            return Err(JobError::invalid(
                "header",
                "the stream starts with its header",
            ))
        }
    };
    let _job = caller.tenant.begin_job()?;
    let mut charge = caller.charge(&st);
    charge.add("the header", prost::Message::encoded_len(&header))?;
    // Each vector is as long as the base set: known before the first chunk.
    let points = match &header.bases {
        Some(pb::msm_request::Bases::Handle(h)) => st.store.count(&caller.tenant.name, h)?,
        Some(pb::msm_request::Bases::Inline(b)) => {
            let enc = convert::encoding("inline.encoding", b.encoding)?;
            let len = wire::curve_point_len(convert::curve(header.curve)?, enc)
                .map_err(|e| JobError::invalid("inline.encoding", e))?;
            (b.points.len() / len) as u64
        }
        None => 0,
    };
    let limit = usize::try_from(points.saturating_mul(32)).unwrap_or(usize::MAX);
    let mut vectors: Vec<Vec<u8>> = Vec::new();
    for (v, e) in std::mem::take(&mut header.scalars).into_iter().enumerate() {
        match e.source {
            Some(pb::elements::Source::Packed(b)) => vectors.push(b),
            None => vectors.push(Vec::new()),
            Some(pb::elements::Source::Shared(_)) => {
                return Err(JobError::invalid(
                    format!("header.scalars[{v}]"),
                    "shared memory goes in a plain Msm call",
                ))
            }
        }
    }
    while let Some(msg) = next_message(&mut stream, idle, "stream_idle_secs").await? {
        let Some(pb::msm_stream_request::Part::Chunk(c)) = msg.part else {
            return Err(JobError::invalid("header", "a second header"));
        };
        st.metrics.rpc_bytes("MsmStream", c.packed.len());
        let v = c.vector as usize;
        if v >= st.config.max_scalar_vectors {
            return Err(JobError::invalid(
                "chunk.vector",
                format!(
                    "vector {v}; this daemon takes at most {} vectors (max_scalar_vectors)",
                    st.config.max_scalar_vectors
                ),
            ));
        }
        if vectors.len() <= v {
            vectors.resize(v + 1, Vec::new());
        }
        if vectors[v].len() + c.packed.len() > limit {
            return Err(JobError::invalid(
                format!("scalars[{v}]"),
                format!("more than {limit} bytes, 32 for each of the set's {points} bases"),
            ));
        }
        charge.add("the streamed scalars", c.packed.len())?;
        vectors[v].extend_from_slice(&c.packed);
    }
    header.scalars = vectors
        .into_iter()
        .map(|b| pb::Elements {
            source: Some(pb::elements::Source::Packed(b)),
        })
        .collect();
    msm(st, caller, charge, header).await
}
