//! The gRPC service: each handler validates, builds a checked job, awaits the scheduler and
//! encodes the answer. Decoding and encoding of large payloads run on rayon, never on tokio's
//! threads.

use crate::auth::{Auth, Tenant};
use crate::bases::BaseStore;
use crate::budget::{Budget, Charge};
use crate::config::Config;
use crate::convert::{self, status};
use crate::metrics::Metrics;
use crate::net::Peer;
use crate::scheduler::{Report, Scheduler};
use crate::shm::ShmDir;
use ark_ec::short_weierstrass::Affine;
use ark_ec::CurveGroup;
use futures::{Stream, StreamExt};
use offload_core::job::{
    BaseSet, Bls12_381, Bn254, FieldId, JobCurve, Msm, Ntt, NttJob, SigItem, VerifyJob,
};
use offload_core::wire::{self, CurveId, PointEncoding, WireField};
use offload_core::{Job, JobError, Output};
use offload_engine::ntt::{NttConfig, NttField};
use offload_proto::v1 as pb;
use offload_proto::v1::offload_server::Offload;
use std::pin::Pin;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};

pub struct State {
    pub config: Config,
    pub scheduler: Arc<Scheduler>,
    pub store: Arc<BaseStore>,
    pub metrics: Arc<Metrics>,
    /// Backends configured but not registered, with the reason (GetInfo lists them).
    pub absent: Vec<(String, String)>,
    /// The shared-memory directory, when enabled and opened.
    pub shm: Option<Arc<ShmDir>>,
    /// Memory in flight, all requests together.
    pub budget: Arc<Budget>,
    /// Uploads in progress.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// The tenants, and who each call comes from.
    pub auth: Arc<Auth>,
}

/// Who a call comes from: its tenant, and the connection it arrived on.
#[derive(Clone)]
pub struct Caller {
    pub tenant: Tenant,
    pub peer: Option<Peer>,
    /// When the client stops waiting (its `grpc-timeout`): jobs still queued or running then
    /// are stopped and answered DEADLINE_EXCEEDED.
    pub deadline: Option<std::time::Instant>,
}

impl Caller {
    /// An empty charge against the daemon's memory budget and the tenant's quota.
    fn charge(&self, st: &State) -> Charge {
        st.budget.charge_with(self.tenant.quota.budget.as_ref())
    }
}

#[derive(Clone)]
pub struct Service {
    st: Arc<State>,
}

impl Service {
    pub fn new(st: Arc<State>) -> Self {
        Self { st }
    }
}

/// Run `f` on rayon's pool and await it from async code.
pub async fn on_rayon<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JobError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let _ = tx.send(f());
    });
    rx.await
        .map_err(|_| JobError::Internal("a decoding task panicked".into()))
}

/// The report of an empty batch, answered at once: no backend ran it.
fn nothing_ran() -> pb::JobReport {
    pb::JobReport::default()
}

fn report(r: &Report) -> pb::JobReport {
    pb::JobReport {
        backend: r.backend.clone(),
        queue_ms: r.queued.as_secs_f64() * 1e3,
        run_ms: r.ran.as_secs_f64() * 1e3,
        fallback: r.fallback,
    }
}

/// Where an `Elements`' bytes are, before any is read.
enum Source {
    Inline(Vec<u8>),
    Shared(pb::SharedMemory),
}

impl Source {
    /// The length the client declared.
    fn len(&self) -> u64 {
        match self {
            Source::Inline(b) => b.len() as u64,
            Source::Shared(s) => s.length,
        }
    }
}

fn source(e: pb::Elements) -> Source {
    match e.source {
        Some(pb::elements::Source::Packed(b)) => Source::Inline(b),
        Some(pb::elements::Source::Shared(s)) => Source::Shared(s),
        None => Source::Inline(Vec::new()),
    }
}

impl State {
    /// The bytes of each source, shared-memory regions copied in off the async threads (their
    /// lengths were checked and their memory charged by the caller). `field(i)` names each.
    async fn read(
        &self,
        peer: Option<&Peer>,
        sources: Vec<Source>,
        field: impl Fn(usize) -> String + Send + 'static,
    ) -> Result<Vec<Vec<u8>>, JobError> {
        let shared = sources.iter().position(|s| matches!(s, Source::Shared(_)));
        let Some(first) = shared else {
            return Ok(sources
                .into_iter()
                .map(|s| match s {
                    Source::Inline(b) => b,
                    Source::Shared(_) => Vec::new(),
                })
                .collect());
        };
        let Some(dir) = self.shm.clone() else {
            return Err(JobError::invalid(
                field(first),
                "shared-memory input is not enabled on this daemon (shm_dir)",
            ));
        };
        let Some(ids) = peer.and_then(Peer::unix_ids) else {
            return Err(JobError::invalid(
                field(first),
                "shared memory is read only for clients on the daemon's Unix socket",
            ));
        };
        tokio::task::spawn_blocking(move || {
            sources
                .into_iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Source::Inline(b) => Ok(b),
                    Source::Shared(r) => dir.read(&field(i), ids, &r.path, r.offset, r.length),
                })
                .collect()
        })
        .await
        .map_err(|_| JobError::Internal("a shared-memory read panicked".into()))?
    }
}

fn element_error(field: &str, e: wire::ElementError) -> JobError {
    match e {
        wire::ElementError::NotCanonical { index } => {
            JobError::invalid(format!("{field}[{index}]"), "not below the field modulus")
        }
        e => JobError::invalid(field, e),
    }
}

fn decode_vector<F: WireField>(field: &str, bytes: &[u8]) -> Result<Vec<F>, JobError> {
    wire::decode_elements::<F>(bytes).map_err(|e| element_error(field, e))
}

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

async fn msm(
    st: Arc<State>,
    caller: Caller,
    charge: Charge,
    req: pb::MsmRequest,
) -> Result<pb::MsmResponse, JobError> {
    match convert::curve(req.curve)? {
        CurveId::Bn254 => msm_for::<Bn254>(st, caller, charge, req).await,
        CurveId::Bls12_381 => msm_for::<Bls12_381>(st, caller, charge, req).await,
    }
}

/// Per-field glue for the NTT handler.
trait ApiField: NttField + WireField {
    fn job(n: Ntt<Self>) -> NttJob;
    fn data(j: NttJob) -> Option<Ntt<Self>>;
}

macro_rules! api_field {
    ($f:ty, $v:ident) => {
        impl ApiField for $f {
            fn job(n: Ntt<Self>) -> NttJob {
                NttJob::$v(n)
            }
            fn data(j: NttJob) -> Option<Ntt<Self>> {
                match j {
                    NttJob::$v(n) => Some(n),
                    _ => None,
                }
            }
        }
    };
}
api_field!(ark_bn254::Fr, Bn254);
api_field!(ark_bls12_381::Fr, Bls12_381);
api_field!(p3_baby_bear::BabyBear, BabyBear);
api_field!(p3_goldilocks::Goldilocks, Goldilocks);

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
    let job = Job::Ntt(F::job(Ntt::new(cfg, columns, data)?));
    let (out, rep) = st
        .scheduler
        .submit_until(&caller.tenant.name, job, caller.deadline)
        .await?;
    let Output::Ntt(out) = out else {
        return Err(JobError::Internal(
            "an NTT job returned another output".into(),
        ));
    };
    let n =
        F::data(out).ok_or_else(|| JobError::Internal("an NTT returned another field".into()))?;
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

async fn ntt(
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

/// The longest reason a MALFORMED verdict carries, with its framing: the answer's size is
/// bounded by this before any signature is checked.
const VERDICT_BYTES: usize = 160;

/// Item counts and sizes, checked before anything is converted.
/// The most signatures one request may carry: the setting, and an answer within
/// max_message_bytes.
fn most_items(c: &Config) -> usize {
    c.max_verify_items
        .min(c.max_message_bytes / VERDICT_BYTES)
        .max(1)
}

fn check_items(c: &Config, items: &[pb::VerifyItem]) -> Result<(), JobError> {
    let most = most_items(c);
    if items.len() > most {
        return Err(JobError::invalid(
            "items",
            format!(
                "{} signatures; this daemon takes at most {most} in one request \
                 (max_verify_items, and the answer within max_message_bytes)",
                items.len()
            ),
        ));
    }
    for (i, it) in items.iter().enumerate() {
        let n = it.public_key.len() + it.signature.len() + it.message.len();
        if n > c.max_verify_item_bytes {
            return Err(JobError::invalid(
                format!("items[{i}]"),
                format!(
                    "{n} bytes of key, signature and message; at most {} (max_verify_item_bytes)",
                    c.max_verify_item_bytes
                ),
            ));
        }
    }
    Ok(())
}

fn sig_items(items: Vec<pb::VerifyItem>) -> Vec<SigItem> {
    items
        .into_iter()
        .map(|i| SigItem {
            public_key: i.public_key,
            signature: i.signature,
            message: i.message,
        })
        .collect()
}

async fn verify(
    st: Arc<State>,
    caller: &Caller,
    mut charge: Charge,
    req: pb::VerifyRequest,
) -> Result<pb::VerifyResponse, JobError> {
    let scheme = convert::scheme(req.scheme, req.policy)?;
    check_items(&st.config, &req.items)?;
    if req.items.is_empty() {
        return Ok(pb::VerifyResponse {
            tag: req.tag,
            report: Some(nothing_ran()),
            ..Default::default()
        });
    }
    charge.add("the verdicts", req.items.len() * VERDICT_BYTES)?;
    let items = sig_items(req.items);
    let (out, rep) = st
        .scheduler
        .submit_until(
            &caller.tenant.name,
            Job::Verify(VerifyJob { scheme, items }),
            caller.deadline,
        )
        .await?;
    let Output::Verify(verdicts) = out else {
        return Err(JobError::Internal(
            "a verify job returned another output".into(),
        ));
    };
    Ok(pb::VerifyResponse {
        valid: verdicts.iter().filter(|v| v.is_valid()).count() as u32,
        verdicts: verdicts.iter().map(convert::verdict).collect(),
        tag: req.tag,
        report: Some(report(&rep)),
    })
}

/// The next message of a client stream, or DEADLINE_EXCEEDED when none comes within `idle`
/// (`knob` names the setting); a broken stream is the client's INVALID_ARGUMENT.
async fn next_message<T>(
    stream: &mut Streaming<T>,
    idle: std::time::Duration,
    knob: &str,
) -> Result<Option<T>, JobError> {
    match tokio::time::timeout(idle, stream.message()).await {
        Err(_) => Err(JobError::DeadlineExceeded(format!(
            "the stream sent nothing for {} s ({knob})",
            idle.as_secs()
        ))),
        Ok(Ok(m)) => Ok(m),
        Ok(Err(s)) if s.code() == tonic::Code::ResourceExhausted => {
            Err(JobError::ResourceExhausted(s.message().to_string()))
        }
        Ok(Err(s)) => Err(JobError::invalid(
            "stream",
            format!("reading the stream: {}", s.message()),
        )),
    }
}

/// The longest base-set label, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// Groups of a verify stream in flight at once: one running, one forming.
const STREAM_IN_FLIGHT: usize = 2;
/// A stream's requests that have already arrived are verified together, up to this many
/// signatures: one larger batch equation costs less per signature than several small ones, and
/// each request still gets exactly its own verdicts.
const STREAM_MERGE_ITEMS: usize = 4096;

/// Verify several requests of one scheme and policy as one job; one response per request.
async fn verify_group(
    st: Arc<State>,
    (tenant, deadline): (Arc<str>, Option<std::time::Instant>),
    group: Vec<pb::VerifyRequest>,
    held: (Charge, crate::auth::JobSlot),
) -> Vec<Result<pb::VerifyResponse, Status>> {
    let _held = held;
    let first = &group[0];
    let scheme = match convert::scheme(first.scheme, first.policy) {
        Ok(s) => s,
        Err(e) => return vec![Err(status(e))],
    };
    let sizes: Vec<(u64, usize)> = group.iter().map(|r| (r.tag, r.items.len())).collect();
    let items = sig_items(group.into_iter().flat_map(|r| r.items).collect());
    if items.is_empty() {
        return sizes
            .into_iter()
            .map(|(tag, _)| {
                Ok(pb::VerifyResponse {
                    tag,
                    report: Some(nothing_ran()),
                    ..Default::default()
                })
            })
            .collect();
    }
    let res = st
        .scheduler
        .submit_until(&tenant, Job::Verify(VerifyJob { scheme, items }), deadline)
        .await;
    let (verdicts, rep) = match res {
        Ok((Output::Verify(v), rep)) => (v, rep),
        Ok(_) => {
            return vec![Err(status(JobError::Internal(
                "a verify job returned another output".into(),
            )))]
        }
        Err(e) => return vec![Err(status(e))],
    };
    let mut at = 0;
    sizes
        .into_iter()
        .map(|(tag, n)| {
            let v = &verdicts[at..at + n];
            at += n;
            Ok(pb::VerifyResponse {
                valid: v.iter().filter(|v| v.is_valid()).count() as u32,
                verdicts: v.iter().map(convert::verdict).collect(),
                tag,
                report: Some(report(&rep)),
            })
        })
        .collect()
}

/// Read a verify stream, grouping the requests that have already arrived (same scheme and
/// policy) into one job each; answers go out in request order.
fn verify_stream_task(
    st: Arc<State>,
    caller: Caller,
    mut requests: Streaming<pb::VerifyRequest>,
) -> impl Stream<Item = Result<pb::VerifyResponse, Status>> {
    use futures::FutureExt;
    let (tx, rx) = tokio::sync::mpsc::channel::<
        tokio::task::JoinHandle<Vec<Result<pb::VerifyResponse, Status>>>,
    >(STREAM_IN_FLIGHT);
    let idle = std::time::Duration::from_secs(st.config.verify_stream_idle_secs);
    let failed = |e: Status| tokio::spawn(async move { vec![Err(e)] });
    tokio::spawn(async move {
        // A request's checks and memory, before it joins a group.
        let admit = |r: &pb::VerifyRequest, charge: &mut Charge| {
            st.metrics
                .rpc_bytes("VerifyStream", prost::Message::encoded_len(r));
            check_items(&st.config, &r.items)?;
            charge.add(
                "a verify request",
                prost::Message::encoded_len(r) + r.items.len() * VERDICT_BYTES,
            )
        };
        let mut held: Option<(pb::VerifyRequest, Charge)> = None;
        loop {
            let (first, mut charge) = match held.take() {
                Some(r) => r,
                None => match next_message(&mut requests, idle, "verify_stream_idle_secs").await {
                    Ok(Some(r)) => {
                        let mut charge = caller.charge(&st);
                        if let Err(e) = admit(&r, &mut charge) {
                            let _ = tx.send(failed(status(e))).await;
                            return;
                        }
                        (r, charge)
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(failed(status(e))).await;
                        return;
                    }
                },
            };
            let mut items = first.items.len();
            let mut group = vec![first];
            let mut refused = None;
            while items < STREAM_MERGE_ITEMS {
                match requests.next().now_or_never() {
                    Some(Some(Ok(r))) => {
                        let same = (r.scheme, r.policy) == (group[0].scheme, group[0].policy);
                        let mut own = caller.charge(&st);
                        let c = if same { &mut charge } else { &mut own };
                        if let Err(e) = admit(&r, c) {
                            refused = Some(status(e));
                            break;
                        }
                        if same {
                            items += r.items.len();
                            group.push(r);
                        } else {
                            held = Some((r, own));
                            break;
                        }
                    }
                    Some(Some(Err(e))) => {
                        refused = Some(e);
                        break;
                    }
                    _ => break,
                }
            }
            let slot = match caller.tenant.begin_job() {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(failed(status(e))).await;
                    return;
                }
            };
            let job = tokio::spawn(verify_group(
                st.clone(),
                (caller.tenant.name.clone(), caller.deadline),
                group,
                (charge, slot),
            ));
            if tx.send(job).await.is_err() {
                return; // the client went away
            }
            if let Some(e) = refused {
                let _ = tx.send(failed(e)).await;
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
        .then(|h| async move {
            h.await.unwrap_or_else(|_| {
                vec![Err(status(JobError::Internal(
                    "a verify task panicked".into(),
                )))]
            })
        })
        .flat_map(futures::stream::iter)
        .scan(false, |failed, r| {
            // After an error the stream ends.
            if *failed {
                return futures::future::ready(None);
            }
            *failed = r.is_err();
            futures::future::ready(Some(r))
        })
}

type VerifyStream = Pin<Box<dyn Stream<Item = Result<pb::VerifyResponse, Status>> + Send>>;

impl Service {
    /// Who `req` comes from, or UNAUTHENTICATED.
    fn caller<T>(&self, req: &Request<T>) -> Result<Caller, Status> {
        let peer = req.extensions().get::<Peer>().cloned();
        let tenant = self.st.auth.identify(req.metadata(), peer.as_ref())?;
        let deadline = crate::deadline::from_metadata(req.metadata());
        Ok(Caller {
            tenant,
            peer,
            deadline,
        })
    }

    /// The largest size of `c`'s operation this daemon takes in one request: what `GetInfo`
    /// reports beside a backend's own bound.
    fn largest(&self, c: &offload_core::Capability) -> u64 {
        let cfg = &self.st.config;
        match c {
            offload_core::Capability::Msm { .. } => cfg.max_base_points,
            offload_core::Capability::Ntt { .. } => 1u64 << cfg.max_ntt_log_n.min(63),
            offload_core::Capability::Verify { .. } => most_items(cfg) as u64,
        }
    }

    fn checked<T>(&self, rpc: &str, r: Result<T, JobError>) -> Result<Response<T>, Status> {
        match r {
            Ok(v) => Ok(Response::new(v)),
            Err(e) => {
                if matches!(
                    e,
                    JobError::InvalidArgument { .. } | JobError::ResourceExhausted(_)
                ) {
                    self.st.metrics.rpc_rejected(rpc);
                }
                tracing::debug!(rpc, error = %e, "request refused");
                Err(status(e))
            }
        }
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
    let bytes = match curve {
        Some(CurveId::Bn254) => wire::point_len::<Bn254>(PointEncoding::ArkUncompressed),
        Some(CurveId::Bls12_381) => wire::point_len::<Bls12_381>(PointEncoding::ArkUncompressed),
        None => Ok(0),
    }
    .unwrap_or(0) as u64
        * meta.count;
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

#[tonic::async_trait]
impl Offload for Service {
    async fn get_info(
        &self,
        req: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::GetInfoResponse>, Status> {
        let caller = self.caller(&req)?;
        let backends = self
            .st
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
                    ops: offload_core::caps::summarize(&l.backend.capabilities(), |c| {
                        self.largest(c)
                    })
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
            .chain(self.st.absent.iter().map(|(name, why)| pb::BackendInfo {
                name: name.clone(),
                healthy: false,
                status: why.clone(),
                ..Default::default()
            }))
            .collect();
        let c = &self.st.config;
        Ok(Response::new(pb::GetInfoResponse {
            version: env!("CARGO_PKG_VERSION").into(),
            backends,
            limits: Some(pb::Limits {
                max_message_bytes: c.max_message_bytes as u64,
                max_base_set_points: c.max_base_points,
                queue_capacity: self.st.scheduler.capacity() as u32,
                shared_memory: self.st.shm.is_some(),
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
                connection_idle_secs: c.connection_idle_secs,
                max_connections: c.max_connections as u32,
                max_connections_per_source: c.max_connections_per_source as u32,
                max_streams_per_connection: c.max_streams_per_connection,
                quota: Some(quota(&caller.tenant)),
            }),
        }))
    }

    async fn upload_bases(
        &self,
        req: Request<Streaming<pb::UploadBasesRequest>>,
    ) -> Result<Response<pb::BaseSetInfo>, Status> {
        let caller = self.caller(&req)?;
        let tenant = caller.tenant;
        let st = self.st.clone();
        let mut stream = req.into_inner();
        let r = async {
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
            let mut up = st.store.begin_upload(
                curve,
                enc,
                header.count,
                header.label,
                &tenant.name,
                header.shared,
            )?;
            // The decoded points stay in memory until the set is stored.
            let mut charge = st.budget.charge_with(tenant.quota.budget.as_ref());
            while let Some(msg) = next_message(&mut stream, idle, "stream_idle_secs").await? {
                match msg.part {
                    Some(pb::upload_bases_request::Part::Points(b)) => {
                        st.metrics.rpc_bytes("UploadBases", b.len());
                        charge.add("the uploaded points", up.decoded_bytes(b.len()))?;
                        let mut chunk = st.budget.charge_with(tenant.quota.budget.as_ref());
                        chunk.add("an upload chunk", b.len())?;
                        up = on_rayon(move || up.push(&b).map(|()| up)).await??;
                        chunk.release();
                    }
                    _ => return Err(JobError::invalid("header", "a second header")),
                }
            }
            let store = st.store.clone();
            let (handle, meta) = on_rayon(move || store.finish_upload(up)).await??;
            tracing::info!(%handle, count = meta.count, "base set stored");
            Ok(set_info(&st, &tenant.name, handle, meta))
        }
        .await;
        self.checked("UploadBases", r)
    }

    async fn list_bases(
        &self,
        req: Request<pb::ListBasesRequest>,
    ) -> Result<Response<pb::ListBasesResponse>, Status> {
        let tenant = self.caller(&req)?.tenant;
        let req = req.into_inner();
        let size = match req.page_size {
            0 => 100,
            n => n.min(1000) as usize,
        };
        let (page, more) = self.st.store.list_page(&tenant.name, &req.page_token, size);
        let next_page_token = if more {
            page.last().map(|(h, _)| h.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        let sets = page
            .into_iter()
            .map(|(h, m)| set_info(&self.st, &tenant.name, h, m))
            .collect();
        Ok(Response::new(pb::ListBasesResponse {
            sets,
            next_page_token,
        }))
    }

    async fn delete_bases(
        &self,
        req: Request<pb::DeleteBasesRequest>,
    ) -> Result<Response<pb::DeleteBasesResponse>, Status> {
        let tenant = self.caller(&req)?.tenant;
        let handle = req.into_inner().handle;
        let store = self.st.store.clone();
        let r = on_rayon(move || store.delete(&tenant.name, &handle))
            .await
            .and_then(|r| r)
            .map(|deleted| pb::DeleteBasesResponse { deleted });
        self.checked("DeleteBases", r)
    }

    async fn msm(&self, req: Request<pb::MsmRequest>) -> Result<Response<pb::MsmResponse>, Status> {
        let caller = self.caller(&req)?;
        let req = req.into_inner();
        let len = prost::Message::encoded_len(&req);
        self.st.metrics.rpc_bytes("Msm", len);
        let st = self.st.clone();
        let r = async {
            let _job = caller.tenant.begin_job()?;
            let mut charge = caller.charge(&st);
            charge.add("the request", len)?;
            msm(st, caller, charge, req).await
        }
        .await;
        self.checked("Msm", r)
    }

    async fn msm_stream(
        &self,
        req: Request<Streaming<pb::MsmStreamRequest>>,
    ) -> Result<Response<pb::MsmResponse>, Status> {
        let caller = self.caller(&req)?;
        let st = self.st.clone();
        let mut stream = req.into_inner();
        let r = async {
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
                Some(pb::msm_request::Bases::Handle(h)) => {
                    st.store.count(&caller.tenant.name, h)?
                }
                Some(pb::msm_request::Bases::Inline(b)) => {
                    let enc = convert::encoding("inline.encoding", b.encoding)?;
                    let len = match convert::curve(header.curve)? {
                        CurveId::Bn254 => wire::point_len::<Bn254>(enc),
                        CurveId::Bls12_381 => wire::point_len::<Bls12_381>(enc),
                    }
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
        .await;
        self.checked("MsmStream", r)
    }

    async fn ntt(&self, req: Request<pb::NttRequest>) -> Result<Response<pb::NttResponse>, Status> {
        let caller = self.caller(&req)?;
        let req = req.into_inner();
        let len = prost::Message::encoded_len(&req);
        self.st.metrics.rpc_bytes("Ntt", len);
        let st = self.st.clone();
        let r = async {
            let _job = caller.tenant.begin_job()?;
            let mut charge = caller.charge(&st);
            charge.add("the request", len)?;
            ntt(st, caller, charge, req).await
        }
        .await;
        self.checked("Ntt", r)
    }

    async fn verify(
        &self,
        req: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        let caller = self.caller(&req)?;
        let req = req.into_inner();
        let len = prost::Message::encoded_len(&req);
        self.st.metrics.rpc_bytes("Verify", len);
        let st = self.st.clone();
        let r = async {
            let _job = caller.tenant.begin_job()?;
            let mut charge = caller.charge(&st);
            charge.add("the request", len)?;
            verify(st, &caller, charge, req).await
        }
        .await;
        self.checked("Verify", r)
    }

    type VerifyStreamStream = VerifyStream;

    async fn verify_stream(
        &self,
        req: Request<Streaming<pb::VerifyRequest>>,
    ) -> Result<Response<VerifyStream>, Status> {
        let caller = self.caller(&req)?;
        Ok(Response::new(Box::pin(verify_stream_task(
            self.st.clone(),
            caller,
            req.into_inner(),
        ))))
    }
}
