//! The gRPC service: each handler validates, builds a checked job, awaits the scheduler and
//! encodes the answer. Decoding and encoding of large payloads run on rayon, never on tokio's
//! threads.

use crate::bases::{AnyBases, BaseStore};
use crate::config::Config;
use crate::convert::{self, status};
use crate::metrics::Metrics;
use crate::scheduler::{Report, Scheduler};
use crate::shm;
use ark_ec::short_weierstrass::Affine;
use ark_ec::CurveGroup;
use futures::{Stream, StreamExt};
use offload_core::job::{
    BaseSet, Bls12_381, Bn254, FieldId, Msm, MsmJob, MsmOutput, Ntt, NttJob, SigItem, VerifyJob,
};
use offload_core::wire::{self, CurveId, PointEncoding, WireCurve, WireField};
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

fn report(r: &Report) -> pb::JobReport {
    pb::JobReport {
        backend: r.backend.clone(),
        queue_ms: r.queued.as_secs_f64() * 1e3,
        run_ms: r.ran.as_secs_f64() * 1e3,
        fallback: r.fallback,
    }
}

/// The bytes of an `Elements`: inline, or a mapped shared-memory region.
enum Payload {
    Inline(Vec<u8>),
    Shared(shm::Region),
}

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Payload::Inline(v) => v,
            Payload::Shared(r) => r,
        }
    }
}

impl State {
    fn payload(&self, field: &str, e: pb::Elements) -> Result<Payload, JobError> {
        match e.source {
            Some(pb::elements::Source::Packed(b)) => Ok(Payload::Inline(b)),
            Some(pb::elements::Source::Shared(s)) => Ok(Payload::Shared(shm::map(
                self.config.shm_dir.as_deref(),
                field,
                &s.path,
                s.offset,
                s.length,
            )?)),
            None => Ok(Payload::Inline(Vec::new())),
        }
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

/// Per-curve glue between the generic handlers and the closed job enums.
trait ApiCurve: WireCurve<ScalarField: WireField> {
    fn job(m: Msm<Self>) -> MsmJob;
    fn results(o: MsmOutput) -> Option<Vec<ark_ec::short_weierstrass::Projective<Self>>>;
    fn set(b: AnyBases) -> Option<Arc<BaseSet<Self>>>;
}

impl ApiCurve for Bn254 {
    fn job(m: Msm<Self>) -> MsmJob {
        MsmJob::Bn254(m)
    }
    fn results(o: MsmOutput) -> Option<Vec<ark_ec::short_weierstrass::Projective<Self>>> {
        match o {
            MsmOutput::Bn254(v) => Some(v),
            _ => None,
        }
    }
    fn set(b: AnyBases) -> Option<Arc<BaseSet<Self>>> {
        match b {
            AnyBases::Bn254(s) => Some(s),
            _ => None,
        }
    }
}

impl ApiCurve for Bls12_381 {
    fn job(m: Msm<Self>) -> MsmJob {
        MsmJob::Bls12_381(m)
    }
    fn results(o: MsmOutput) -> Option<Vec<ark_ec::short_weierstrass::Projective<Self>>> {
        match o {
            MsmOutput::Bls12_381(v) => Some(v),
            _ => None,
        }
    }
    fn set(b: AnyBases) -> Option<Arc<BaseSet<Self>>> {
        match b {
            AnyBases::Bls12_381(s) => Some(s),
            _ => None,
        }
    }
}

async fn msm_for<C: ApiCurve>(
    st: Arc<State>,
    req: pb::MsmRequest,
) -> Result<pb::MsmResponse, JobError> {
    let result_enc = convert::encoding("result_encoding", req.result_encoding)?;
    wire::point_len::<C>(result_enc).map_err(|e| JobError::invalid("result_encoding", e))?;
    let bases: Arc<BaseSet<C>> = match req.bases {
        Some(pb::msm_request::Bases::Handle(h)) => {
            let store = st.store.clone();
            let set = on_rayon(move || store.get(&h)).await??;
            C::set(set).ok_or_else(|| {
                JobError::invalid("handle", format!("the set is not a {} set", C::ID))
            })?
        }
        Some(pb::msm_request::Bases::Inline(b)) => {
            let enc = convert::encoding("inline.encoding", b.encoding)?;
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
    let payloads: Vec<Payload> = req
        .scalars
        .into_iter()
        .enumerate()
        .map(|(v, e)| st.payload(&format!("scalars[{v}]"), e))
        .collect::<Result<_, _>>()?;
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
    let job = Job::Msm(C::job(Msm::new(bases, scalars)?));
    let (out, rep) = st.scheduler.submit(job).await?;
    let Output::Msm(out) = out else {
        return Err(JobError::Internal(
            "an MSM job returned another output".into(),
        ));
    };
    let points = C::results(out)
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

async fn msm(st: Arc<State>, req: pb::MsmRequest) -> Result<pb::MsmResponse, JobError> {
    match convert::curve(req.curve)? {
        CurveId::Bn254 => msm_for::<Bn254>(st, req).await,
        CurveId::Bls12_381 => msm_for::<Bls12_381>(st, req).await,
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
        cfg.coset = Some(
            F::decode(&req.coset)
                .ok_or_else(|| JobError::invalid("coset", "not below the field modulus"))?,
        );
    }
    if req.columns.is_empty() {
        return Err(JobError::invalid("columns", "no columns"));
    }
    let payloads: Vec<Payload> = req
        .columns
        .into_iter()
        .enumerate()
        .map(|(c, e)| st.payload(&format!("columns[{c}]"), e))
        .collect::<Result<_, _>>()?;
    let first = payloads[0].len();
    for (c, p) in payloads.iter().enumerate() {
        if p.len() != first {
            return Err(JobError::invalid(
                format!("columns[{c}]"),
                format!("{} bytes where columns[0] has {first}", p.len()),
            ));
        }
    }
    let columns = payloads.len();
    let data = on_rayon(move || {
        let mut data = Vec::with_capacity(first / F::BYTES * columns);
        for (c, p) in payloads.iter().enumerate() {
            data.extend(decode_vector::<F>(&format!("columns[{c}]"), p)?);
        }
        Ok::<_, JobError>(data)
    })
    .await??;
    let job = Job::Ntt(F::job(Ntt::new(cfg, columns, data)?));
    let (out, rep) = st.scheduler.submit(job).await?;
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

async fn ntt(st: Arc<State>, req: pb::NttRequest) -> Result<pb::NttResponse, JobError> {
    match convert::field(req.field)? {
        FieldId::Bn254 => ntt_for::<ark_bn254::Fr>(st, req).await,
        FieldId::Bls12_381 => ntt_for::<ark_bls12_381::Fr>(st, req).await,
        FieldId::BabyBear => ntt_for::<p3_baby_bear::BabyBear>(st, req).await,
        FieldId::Goldilocks => ntt_for::<p3_goldilocks::Goldilocks>(st, req).await,
    }
}

async fn verify(st: Arc<State>, req: pb::VerifyRequest) -> Result<pb::VerifyResponse, JobError> {
    let scheme = convert::scheme(req.scheme, req.policy)?;
    let items = req
        .items
        .into_iter()
        .map(|i| SigItem {
            public_key: i.public_key,
            signature: i.signature,
            message: i.message,
        })
        .collect();
    let (out, rep) = st
        .scheduler
        .submit(Job::Verify(VerifyJob { scheme, items }))
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

/// Groups of a verify stream in flight at once: one running, one forming.
const STREAM_IN_FLIGHT: usize = 2;
/// A stream's requests that have already arrived are verified together, up to this many
/// signatures: one larger batch equation costs less per signature than several small ones, and
/// each request still gets exactly its own verdicts.
const STREAM_MERGE_ITEMS: usize = 4096;

/// Verify several requests of one scheme and policy as one job; one response per request.
async fn verify_group(
    st: Arc<State>,
    group: Vec<pb::VerifyRequest>,
) -> Vec<Result<pb::VerifyResponse, Status>> {
    let first = &group[0];
    let scheme = match convert::scheme(first.scheme, first.policy) {
        Ok(s) => s,
        Err(e) => return vec![Err(status(e))],
    };
    let sizes: Vec<(u64, usize)> = group.iter().map(|r| (r.tag, r.items.len())).collect();
    let items: Vec<SigItem> = group
        .into_iter()
        .flat_map(|r| r.items)
        .map(|i| SigItem {
            public_key: i.public_key,
            signature: i.signature,
            message: i.message,
        })
        .collect();
    let res = st
        .scheduler
        .submit(Job::Verify(VerifyJob { scheme, items }))
        .await;
    let (verdicts, rep) = match res {
        Ok((Output::Verify(v), rep)) => (v, rep),
        Ok(_) => {
            return vec![Err(Status::internal(
                "a verify job returned another output",
            ))]
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
    mut requests: Streaming<pb::VerifyRequest>,
) -> impl Stream<Item = Result<pb::VerifyResponse, Status>> {
    use futures::FutureExt;
    let (tx, rx) = tokio::sync::mpsc::channel::<
        tokio::task::JoinHandle<Vec<Result<pb::VerifyResponse, Status>>>,
    >(STREAM_IN_FLIGHT);
    tokio::spawn(async move {
        let mut held: Option<pb::VerifyRequest> = None;
        loop {
            let first = match held.take() {
                Some(r) => r,
                None => match requests.next().await {
                    Some(Ok(r)) => r,
                    Some(Err(e)) => {
                        let _ = tx.send(tokio::spawn(async move { vec![Err(e)] })).await;
                        return;
                    }
                    None => return,
                },
            };
            st.metrics
                .rpc_bytes("VerifyStream", prost::Message::encoded_len(&first));
            let mut items = first.items.len();
            let mut group = vec![first];
            while items < STREAM_MERGE_ITEMS {
                match requests.next().now_or_never() {
                    Some(Some(Ok(r))) => {
                        st.metrics
                            .rpc_bytes("VerifyStream", prost::Message::encoded_len(&r));
                        if (r.scheme, r.policy) == (group[0].scheme, group[0].policy) {
                            items += r.items.len();
                            group.push(r);
                        } else {
                            held = Some(r);
                            break;
                        }
                    }
                    _ => break,
                }
            }
            let job = tokio::spawn(verify_group(st.clone(), group));
            if tx.send(job).await.is_err() {
                return; // the client went away
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
        .then(|h| async move {
            h.await
                .unwrap_or_else(|_| vec![Err(Status::internal("a verify task panicked"))])
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

fn set_info(store: &BaseStore, handle: String, meta: crate::bases::Meta) -> pb::BaseSetInfo {
    let (table, table_bytes) = store.table_status(&handle);
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
        label: meta.label,
        bytes,
        table: table.into(),
        table_bytes: table_bytes as u64,
    }
}

#[tonic::async_trait]
impl Offload for Service {
    async fn get_info(
        &self,
        _req: Request<pb::GetInfoRequest>,
    ) -> Result<Response<pb::GetInfoResponse>, Status> {
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
                    ops: l
                        .backend
                        .supports()
                        .into_iter()
                        .map(|o| pb::OpSupport {
                            op: o.op.into(),
                            kinds: o.kinds,
                            max_size: o.max_size,
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
                shared_memory: c.shm_dir.is_some(),
            }),
        }))
    }

    async fn upload_bases(
        &self,
        req: Request<Streaming<pb::UploadBasesRequest>>,
    ) -> Result<Response<pb::BaseSetInfo>, Status> {
        let st = self.st.clone();
        let mut stream = req.into_inner();
        let r = async {
            let header = match stream.message().await.map_err(|s| {
                JobError::invalid("stream", format!("reading the upload: {}", s.message()))
            })? {
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
            let mut up = st
                .store
                .begin_upload(curve, enc, header.count, header.label)?;
            while let Some(msg) = stream.message().await.map_err(|s| {
                JobError::invalid("stream", format!("reading the upload: {}", s.message()))
            })? {
                match msg.part {
                    Some(pb::upload_bases_request::Part::Points(b)) => {
                        st.metrics.rpc_bytes("UploadBases", b.len());
                        up = on_rayon(move || up.push(&b).map(|()| up)).await??;
                    }
                    _ => return Err(JobError::invalid("header", "a second header")),
                }
            }
            let store = st.store.clone();
            let (handle, meta) = on_rayon(move || store.finish_upload(up)).await??;
            tracing::info!(%handle, count = meta.count, "base set stored");
            Ok(set_info(&st.store, handle, meta))
        }
        .await;
        self.checked("UploadBases", r)
    }

    async fn list_bases(
        &self,
        _req: Request<pb::ListBasesRequest>,
    ) -> Result<Response<pb::ListBasesResponse>, Status> {
        let sets = self
            .st
            .store
            .list()
            .into_iter()
            .map(|(h, m)| set_info(&self.st.store, h, m))
            .collect();
        Ok(Response::new(pb::ListBasesResponse { sets }))
    }

    async fn delete_bases(
        &self,
        req: Request<pb::DeleteBasesRequest>,
    ) -> Result<Response<pb::DeleteBasesResponse>, Status> {
        let handle = req.into_inner().handle;
        let store = self.st.store.clone();
        let r = on_rayon(move || store.delete(&handle))
            .await
            .and_then(|r| r)
            .map(|deleted| pb::DeleteBasesResponse { deleted });
        self.checked("DeleteBases", r)
    }

    async fn msm(&self, req: Request<pb::MsmRequest>) -> Result<Response<pb::MsmResponse>, Status> {
        let req = req.into_inner();
        self.st
            .metrics
            .rpc_bytes("Msm", prost::Message::encoded_len(&req));
        let r = msm(self.st.clone(), req).await;
        self.checked("Msm", r)
    }

    async fn msm_stream(
        &self,
        req: Request<Streaming<pb::MsmStreamRequest>>,
    ) -> Result<Response<pb::MsmResponse>, Status> {
        let st = self.st.clone();
        let mut stream = req.into_inner();
        let r = async {
            let read = |s: Status| {
                JobError::invalid("stream", format!("reading the request: {}", s.message()))
            };
            let mut header = match stream.message().await.map_err(read)? {
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
            let limit = st.config.max_base_points as usize * 32;
            while let Some(msg) = stream.message().await.map_err(read)? {
                let Some(pb::msm_stream_request::Part::Chunk(c)) = msg.part else {
                    return Err(JobError::invalid("header", "a second header"));
                };
                st.metrics.rpc_bytes("MsmStream", c.packed.len());
                let v = c.vector as usize;
                if v >= 1024 {
                    return Err(JobError::invalid("chunk.vector", "at most 1024 vectors"));
                }
                if vectors.len() <= v {
                    vectors.resize(v + 1, Vec::new());
                }
                if vectors[v].len() + c.packed.len() > limit {
                    return Err(JobError::invalid(
                        format!("scalars[{v}]"),
                        "longer than the largest base set this daemon takes",
                    ));
                }
                vectors[v].extend_from_slice(&c.packed);
            }
            header.scalars = vectors
                .into_iter()
                .map(|b| pb::Elements {
                    source: Some(pb::elements::Source::Packed(b)),
                })
                .collect();
            msm(st, header).await
        }
        .await;
        self.checked("MsmStream", r)
    }

    async fn ntt(&self, req: Request<pb::NttRequest>) -> Result<Response<pb::NttResponse>, Status> {
        let req = req.into_inner();
        self.st
            .metrics
            .rpc_bytes("Ntt", prost::Message::encoded_len(&req));
        let r = ntt(self.st.clone(), req).await;
        self.checked("Ntt", r)
    }

    async fn verify(
        &self,
        req: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        let req = req.into_inner();
        self.st
            .metrics
            .rpc_bytes("Verify", prost::Message::encoded_len(&req));
        let r = verify(self.st.clone(), req).await;
        self.checked("Verify", r)
    }

    type VerifyStreamStream = VerifyStream;

    async fn verify_stream(
        &self,
        req: Request<Streaming<pb::VerifyRequest>>,
    ) -> Result<Response<VerifyStream>, Status> {
        Ok(Response::new(Box::pin(verify_stream_task(
            self.st.clone(),
            req.into_inner(),
        ))))
    }
}
