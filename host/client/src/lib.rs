//! A typed client for offloadd. A prover swaps its MSM call for ours in one line:
//!
//! ```no_run
//! # async fn demo(
//! #     bases: Vec<ark_bn254::G1Affine>,
//! #     scalars: Vec<ark_bn254::Fr>,
//! # ) -> Result<(), offload_client::ClientError> {
//! let mut c = offload_client::Client::connect("http://127.0.0.1:50051").await?;
//! let handle = c.upload_bases::<ark_bn254::g1::Config>(&bases, "srs").await?;
//! let r: ark_bn254::G1Projective = c.msm(&handle, &scalars).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Addresses are `http://host:port` for TCP or `unix:/path/to/socket` for a Unix socket.
//! Many daemons together: [`pool::Pool`] (endpoints kept healthy, calls retried elsewhere)
//! and [`shard`] (MSMs, NTT batches and signature batches split across them).

pub mod pool;
pub mod shard;

use ark_ec::short_weierstrass::{Affine, Projective};
use offload_proto::v1 as pb;
use offload_proto::v1::offload_client::OffloadClient;
use offload_wire::ntt::{Direction, NttConfig, Order};
use offload_wire::{self as wire, CurveId, PointEncoding, WireCurve, WireField};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Uri};

pub use offload_proto::v1;
pub use offload_wire;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {addr}: {source}")]
    Connect {
        addr: String,
        source: tonic::transport::Error,
    },
    #[error("{0}")]
    Address(String),
    /// The daemon's answer, with its code and message.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] tonic::Status),
    #[error("the daemon sent a result that does not decode: {0}")]
    Decode(String),
    #[error("staging a payload in the shared-memory directory {dir}: {source}")]
    Shared {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
}

enum Target {
    Unix(Endpoint, String),
    Tcp(Endpoint),
}

fn unix_connector(
    path: String,
) -> impl tower::Service<
    Uri,
    Response = hyper_util::rt::TokioIo<tokio::net::UnixStream>,
    Error = std::io::Error,
    Future = impl Send,
> + Clone
       + Send {
    tower::service_fn(move |_: Uri| {
        let path = path.clone();
        async move {
            let s = tokio::net::UnixStream::connect(path).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
        }
    })
}

/// Where `addr` points, with the TLS `opts` give.
fn endpoint(addr: &str, opts: &ConnectOptions) -> Result<Target, ClientError> {
    if let Some(path) = addr.strip_prefix("unix:") {
        let ep = Endpoint::try_from("http://[::1]:50051")
            .map_err(|e| ClientError::Address(e.to_string()))?;
        return Ok(Target::Unix(ep, path.to_string()));
    }
    let mut ep = Endpoint::from_shared(addr.to_string())
        .map_err(|e| ClientError::Address(format!("{addr:?}: {e}")))?;
    if addr.starts_with("https://") {
        let ca = opts.tls_ca.as_ref().ok_or_else(|| {
            ClientError::Address(format!(
                "{addr}: TLS needs the CA that signed the daemon's certificate \
                 (--tls-ca, OFFLOAD_TLS_CA)"
            ))
        })?;
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert, key)) = &opts.tls_identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        if let Some(d) = &opts.tls_domain {
            tls = tls.domain_name(d.clone());
        }
        ep = ep.tls_config(tls).map_err(|source| ClientError::Connect {
            addr: addr.into(),
            source,
        })?;
    } else if opts.tls_ca.is_some() || opts.tls_identity.is_some() {
        return Err(ClientError::Address(format!(
            "{addr}: TLS material given for a plaintext address; use https://"
        )));
    }
    Ok(Target::Tcp(ep))
}

/// Points travel uncompressed: the daemon then checks each without a square root.
const UPLOAD_ENCODING: PointEncoding = PointEncoding::ArkUncompressed;
/// Bytes per upload chunk: under any message limit a daemon is likely to set (tonic's default
/// is 4 MiB), and large enough that per-message costs vanish.
const CHUNK: usize = 1 << 19;
/// Scalar payloads larger than this go by `MsmStream`.
pub const STREAM_ABOVE: usize = 4 << 20;

/// A curve the client can send and receive: G1 or G2 of BN254 or BLS12-381.
pub trait ClientCurve: WireCurve<ScalarField: WireField> {
    fn wire() -> pb::Curve {
        Self::ID.into()
    }
}

impl<C: WireCurve<ScalarField: WireField>> ClientCurve for C {}

/// A field the client can transform.
pub trait ClientField: WireField {
    fn wire() -> pb::NttField;
}

macro_rules! client_field {
    ($f:ty, $v:ident) => {
        impl ClientField for $f {
            fn wire() -> pb::NttField {
                pb::NttField::$v
            }
        }
    };
}
client_field!(ark_bn254::Fr, Bn254Fr);
client_field!(ark_bls12_381::Fr, Bls12381Fr);
client_field!(p3_baby_bear::BabyBear, Babybear);
client_field!(p3_goldilocks::Goldilocks, Goldilocks);

/// How to reach a daemon beyond its address: TLS material and an API token.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// CA certificates (PEM) the daemon's certificate must chain to; required for `https://`.
    pub tls_ca: Option<Vec<u8>>,
    /// Client certificate chain and private key (PEM), for a daemon that identifies tenants
    /// by certificate.
    pub tls_identity: Option<(Vec<u8>, Vec<u8>)>,
    /// The name to check the daemon's certificate against, when not the address's host.
    pub tls_domain: Option<String>,
    /// An API token (`offloadd token`), sent as "authorization: Bearer <token>".
    pub token: Option<String>,
    /// The daemon's shared-memory directory (its `shm_dir`), for a client on the same host
    /// over a Unix socket: MSM scalars and NTT columns are then written to a file there and
    /// the daemon reads them, instead of receiving them inside messages.
    pub shm_dir: Option<std::path::PathBuf>,
}

impl ConnectOptions {
    /// From the environment: OFFLOAD_TLS_CA, OFFLOAD_TLS_CLIENT_CERT and
    /// OFFLOAD_TLS_CLIENT_KEY (file paths), OFFLOAD_TLS_DOMAIN, OFFLOAD_TOKEN and
    /// OFFLOAD_SHM_DIR.
    pub fn from_env() -> Result<Self, ClientError> {
        let file = |var: &str| -> Result<Option<Vec<u8>>, ClientError> {
            match std::env::var_os(var) {
                Some(p) if !p.is_empty() => std::fs::read(&p)
                    .map(Some)
                    .map_err(|e| ClientError::Address(format!("{var}={p:?}: {e}"))),
                _ => Ok(None),
            }
        };
        let identity = match (
            file("OFFLOAD_TLS_CLIENT_CERT")?,
            file("OFFLOAD_TLS_CLIENT_KEY")?,
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ClientError::Address(
                    "OFFLOAD_TLS_CLIENT_CERT and OFFLOAD_TLS_CLIENT_KEY go together".into(),
                ))
            }
        };
        let text = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
        Ok(Self {
            tls_ca: file("OFFLOAD_TLS_CA")?,
            tls_identity: identity,
            tls_domain: text("OFFLOAD_TLS_DOMAIN"),
            token: text("OFFLOAD_TOKEN"),
            shm_dir: text("OFFLOAD_SHM_DIR").map(Into::into),
        })
    }
}

/// Adds the bearer token, if any, to every call.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// The generated client over a channel that carries the token.
pub type RawClient = OffloadClient<InterceptedService<Channel, Bearer>>;

#[derive(Clone)]
pub struct Client {
    inner: RawClient,
    /// The same channel, for the health service.
    channel: Channel,
    shm_dir: Option<std::path::PathBuf>,
    /// Sent with every call as its grpc-timeout: the daemon stops the job when it passes.
    timeout: Option<std::time::Duration>,
}

/// Payloads written to the shared-memory directory for one call, removed after it.
struct Staged(Vec<std::path::PathBuf>);

impl Staged {
    async fn remove(self) {
        // Off the async threads: a file system call can block.
        let _ = tokio::task::spawn_blocking(move || {
            for p in self.0 {
                let _ = std::fs::remove_file(p);
            }
        })
        .await;
    }
}

impl Client {
    /// Plaintext (`http://`, `unix:`) with no token; for TLS and tokens see [`Client::connect_with`].
    pub async fn connect(addr: &str) -> Result<Self, ClientError> {
        Self::connect_with(addr, &ConnectOptions::default()).await
    }

    /// `https://host:port` with TLS (the CA in `opts`), or `http://`, or `unix:/path`; the
    /// token, if any, on every call.
    pub async fn connect_with(addr: &str, opts: &ConnectOptions) -> Result<Self, ClientError> {
        let channel = match endpoint(addr, opts)? {
            Target::Unix(ep, path) => ep.connect_with_connector(unix_connector(path)).await,
            Target::Tcp(ep) => ep.connect().await,
        }
        .map_err(|source| ClientError::Connect {
            addr: addr.into(),
            source,
        })?;
        Self::over(channel, opts)
    }

    /// The same, connecting at the first call and reconnecting after a failure by itself: for
    /// a pool, whose members come and go.
    pub fn connect_lazy(addr: &str, opts: &ConnectOptions) -> Result<Self, ClientError> {
        let channel = match endpoint(addr, opts)? {
            Target::Unix(ep, path) => ep.connect_with_connector_lazy(unix_connector(path)),
            Target::Tcp(ep) => ep.connect_lazy(),
        };
        Self::over(channel, opts)
    }

    fn over(channel: Channel, opts: &ConnectOptions) -> Result<Self, ClientError> {
        let bearer =
            match &opts.token {
                Some(t) => Some(format!("Bearer {t}").parse().map_err(|_| {
                    ClientError::Address("the token is not printable ASCII".into())
                })?),
                None => None,
            };
        Ok(Self {
            inner: OffloadClient::with_interceptor(channel.clone(), Bearer(bearer))
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX),
            channel,
            shm_dir: opts.shm_dir.clone(),
            timeout: None,
        })
    }

    /// This client with `timeout` sent as every call's deadline (none: the daemon's own
    /// limits only).
    pub fn with_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// `msg` as a request carrying this client's deadline.
    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        if let Some(t) = self.timeout {
            r.set_timeout(t);
        }
        r
    }

    /// The daemon's gRPC health (no token needed): whether it serves the Offload service now.
    pub async fn serving(&self) -> Result<bool, ClientError> {
        use tonic_health::pb::health_check_response::ServingStatus;
        let mut h = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        let r = h
            .check(self.request(tonic_health::pb::HealthCheckRequest {
                service: "offload.v1.Offload".into(),
            }))
            .await?
            .into_inner();
        Ok(r.status == ServingStatus::Serving as i32)
    }

    /// Each payload as a message part: inside the message, or, with a shared-memory
    /// directory, in a new file there (created exclusively, readable by this user only) that
    /// the daemon reads; the files are returned for removal once the call is answered.
    async fn sources(
        &self,
        payloads: Vec<Vec<u8>>,
    ) -> Result<(Vec<pb::Elements>, Staged), ClientError> {
        let Some(dir) = self.shm_dir.clone() else {
            let parts = payloads
                .into_iter()
                .map(|b| pb::Elements {
                    source: Some(pb::elements::Source::Packed(b)),
                })
                .collect();
            return Ok((parts, Staged(Vec::new())));
        };
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let mut out = Vec::new();
            let mut paths = Vec::new();
            for bytes in payloads {
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let path = dir.join(format!("offload-client-{}-{n}", std::process::id()));
                let written = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .and_then(|mut f| f.write_all(&bytes));
                if let Err(source) = written {
                    for p in paths.iter().chain([&path]) {
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(ClientError::Shared { dir, source });
                }
                out.push(pb::Elements {
                    source: Some(pb::elements::Source::Shared(pb::SharedMemory {
                        path: path.display().to_string(),
                        offset: 0,
                        length: bytes.len() as u64,
                    })),
                });
                paths.push(path);
            }
            Ok((out, Staged(paths)))
        })
        .await
        .map_err(|e| ClientError::Address(format!("staging shared memory: {e}")))??;
        Ok(written)
    }

    /// The generated client, for calls this wrapper does not cover.
    pub fn raw(&mut self) -> &mut RawClient {
        &mut self.inner
    }

    pub async fn info(&mut self) -> Result<pb::GetInfoResponse, ClientError> {
        let req = self.request(pb::GetInfoRequest {});
        Ok(self.inner.get_info(req).await?.into_inner())
    }

    /// Upload a base set; the handle names it in later calls (and is the same for the same
    /// points, however often uploaded).
    pub async fn upload_bases<C: ClientCurve>(
        &mut self,
        points: &[Affine<C>],
        label: &str,
    ) -> Result<String, ClientError> {
        self.upload(points, label, false).await
    }

    /// Upload a base set published read-only to every tenant (a public SRS); the daemon
    /// allows it only for tenants declared with `publish = true`.
    pub async fn publish_bases<C: ClientCurve>(
        &mut self,
        points: &[Affine<C>],
        label: &str,
    ) -> Result<String, ClientError> {
        self.upload(points, label, true).await
    }

    async fn upload<C: ClientCurve>(
        &mut self,
        points: &[Affine<C>],
        label: &str,
        shared: bool,
    ) -> Result<String, ClientError> {
        let bytes = encode_points(points)?;
        let header = pb::UploadHeader {
            curve: C::wire() as i32,
            encoding: pb::PointEncoding::ArkUncompressed as i32,
            count: points.len() as u64,
            label: label.into(),
            shared,
            ..Default::default()
        };
        self.send_upload(header, &bytes).await
    }

    /// Upload a header and `bytes` (whole points from the header's offset on).
    async fn send_upload(
        &mut self,
        header: pb::UploadHeader,
        bytes: &[u8],
    ) -> Result<String, ClientError> {
        let header = pb::UploadBasesRequest {
            part: Some(pb::upload_bases_request::Part::Header(header)),
        };
        let chunks: Vec<pb::UploadBasesRequest> = std::iter::once(header)
            .chain(bytes.chunks(CHUNK).map(|c| pb::UploadBasesRequest {
                part: Some(pb::upload_bases_request::Part::Points(c.to_vec())),
            }))
            .collect();
        let req = self.request(tokio_stream::iter(chunks));
        Ok(self.inner.upload_bases(req).await?.into_inner().handle)
    }

    /// Upload a base set under `upload_id` (1 to 64 bytes of [A-Za-z0-9._-], unique to this
    /// upload): when the stream breaks, the daemon keeps what arrived, and this continues
    /// from there, up to `attempts` streams in all. Errors that retrying cannot mend (a bad
    /// point, a quota) return at once.
    pub async fn upload_bases_resumable<C: ClientCurve>(
        &mut self,
        points: &[Affine<C>],
        label: &str,
        upload_id: &str,
        attempts: usize,
    ) -> Result<String, ClientError> {
        let bytes = encode_points(points)?;
        let point_len = bytes.len() / points.len().max(1);
        let mut last = None;
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(5))).await;
            }
            let offset = match self.upload_progress(upload_id).await {
                Ok(Some(p)) if p.active => {
                    // The broken stream has not been noticed yet.
                    last = Some(ClientError::Status(tonic::Status::aborted("upload active")));
                    continue;
                }
                Ok(Some(p)) => p.received,
                Ok(None) => 0,
                Err(e) if retryable(&e) => {
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let start = usize::try_from(offset)
                .ok()
                .and_then(|o| o.checked_mul(point_len))
                .filter(|&b| b <= bytes.len())
                .ok_or_else(|| {
                    ClientError::Decode(format!(
                        "the daemon holds {offset} points of {}",
                        points.len()
                    ))
                })?;
            let header = pb::UploadHeader {
                curve: C::wire() as i32,
                encoding: pb::PointEncoding::ArkUncompressed as i32,
                count: points.len() as u64,
                label: label.into(),
                upload_id: upload_id.into(),
                offset,
                ..Default::default()
            };
            match self.send_upload(header, &bytes[start..]).await {
                Ok(h) => return Ok(h),
                Err(e) if retryable(&e) || is_code(&e, tonic::Code::Aborted) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Address("no attempt was made".into())))
    }

    /// How much of resumable upload `upload_id` the daemon holds; None if nothing.
    pub async fn upload_progress(
        &mut self,
        upload_id: &str,
    ) -> Result<Option<pb::UploadProgressResponse>, ClientError> {
        let req = self.request(pb::UploadProgressRequest {
            upload_id: upload_id.into(),
        });
        match self.inner.upload_progress(req).await {
            Ok(r) => Ok(Some(r.into_inner())),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(s.into()),
        }
    }

    /// Every stored set, page by page.
    pub async fn list_bases(&mut self) -> Result<Vec<pb::BaseSetInfo>, ClientError> {
        let mut sets = Vec::new();
        let mut page_token = String::new();
        loop {
            let req = self.request(pb::ListBasesRequest {
                page_size: 1000,
                page_token,
            });
            let page = self.inner.list_bases(req).await?.into_inner();
            sets.extend(page.sets);
            if page.next_page_token.is_empty() {
                return Ok(sets);
            }
            page_token = page.next_page_token;
        }
    }

    pub async fn delete_bases(&mut self, handle: &str) -> Result<bool, ClientError> {
        let req = self.request(pb::DeleteBasesRequest {
            handle: handle.into(),
        });
        Ok(self.inner.delete_bases(req).await?.into_inner().deleted)
    }

    /// Σ scalars[i]·bases[i] over an uploaded set.
    pub async fn msm<C: ClientCurve>(
        &mut self,
        handle: &str,
        scalars: &[C::ScalarField],
    ) -> Result<Projective<C>, ClientError> {
        let mut r = self.msm_batch::<C>(handle, &[scalars]).await?;
        r.pop()
            .ok_or_else(|| ClientError::Decode("no result".into()))
    }

    /// One MSM per scalar vector over an uploaded set. Scalars beyond [`STREAM_ABOVE`] bytes
    /// in all go by client streaming, in chunks, so no message passes the daemon's limit.
    pub async fn msm_batch<C: ClientCurve>(
        &mut self,
        handle: &str,
        scalars: &[&[C::ScalarField]],
    ) -> Result<Vec<Projective<C>>, ClientError> {
        let vectors: Vec<Vec<u8>> = scalars.iter().map(|s| wire::encode_elements(s)).collect();
        let header = pb::MsmRequest {
            curve: C::wire() as i32,
            bases: Some(pb::msm_request::Bases::Handle(handle.into())),
            scalars: Vec::new(),
            result_encoding: pb::PointEncoding::ArkUncompressed as i32,
        };
        let total: usize = vectors.iter().map(Vec::len).sum();
        // Through shared memory the message stays small at any size.
        let r = if total <= STREAM_ABOVE || self.shm_dir.is_some() {
            let (scalars, staged) = self.sources(vectors).await?;
            let req = pb::MsmRequest { scalars, ..header };
            let req = self.request(req);
            let r = self.inner.msm(req).await;
            staged.remove().await;
            r?.into_inner()
        } else {
            let mut msgs = vec![pb::MsmStreamRequest {
                part: Some(pb::msm_stream_request::Part::Header(header)),
            }];
            for (v, bytes) in vectors.iter().enumerate() {
                for c in bytes.chunks(CHUNK) {
                    msgs.push(pb::MsmStreamRequest {
                        part: Some(pb::msm_stream_request::Part::Chunk(pb::ScalarChunk {
                            vector: v as u32,
                            packed: c.to_vec(),
                        })),
                    });
                }
            }
            let req = self.request(tokio_stream::iter(msgs));
            self.inner.msm_stream(req).await?.into_inner()
        };
        decode_results::<C>(&r)
    }

    /// An MSM over bases sent with the request (small sets).
    pub async fn msm_inline<C: ClientCurve>(
        &mut self,
        bases: &[Affine<C>],
        scalars: &[C::ScalarField],
    ) -> Result<Projective<C>, ClientError> {
        let mut points = Vec::new();
        for p in bases {
            wire::encode_point::<C>(UPLOAD_ENCODING, p, &mut points)
                .map_err(|e| ClientError::Decode(e.to_string()))?;
        }
        let req = pb::MsmRequest {
            curve: C::wire() as i32,
            bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
                encoding: pb::PointEncoding::ArkUncompressed as i32,
                points,
            })),
            scalars: vec![pb::Elements {
                source: Some(pb::elements::Source::Packed(wire::encode_elements(scalars))),
            }],
            result_encoding: pb::PointEncoding::ArkUncompressed as i32,
        };
        let req = self.request(req);
        let r = self.inner.msm(req).await?.into_inner();
        decode_results::<C>(&r)?
            .pop()
            .ok_or_else(|| ClientError::Decode("no result".into()))
    }

    /// NTTs of equal-length columns, as offload.proto defines them.
    pub async fn ntt<F: ClientField>(
        &mut self,
        cfg: &NttConfig<F>,
        columns: &[&[F]],
    ) -> Result<Vec<Vec<F>>, ClientError> {
        let order = |o: Order| match o {
            Order::Natural => pb::Ordering::Natural as i32,
            Order::BitReversed => pb::Ordering::BitReversed as i32,
        };
        let mut coset = Vec::new();
        if let Some(g) = cfg.coset {
            g.encode(&mut coset);
        }
        let payloads = columns.iter().map(|c| wire::encode_elements(c)).collect();
        let (columns, staged) = self.sources(payloads).await?;
        let req = pb::NttRequest {
            field: F::wire() as i32,
            direction: match cfg.direction {
                Direction::Forward => pb::NttDirection::Forward,
                Direction::Inverse => pb::NttDirection::Inverse,
            } as i32,
            input_order: order(cfg.input),
            output_order: order(cfg.output),
            coset,
            columns,
        };
        let req = self.request(req);
        let r = self.inner.ntt(req).await;
        staged.remove().await;
        let r = r?.into_inner();
        r.columns
            .iter()
            .map(|c| wire::decode_elements::<F>(c).map_err(|e| ClientError::Decode(e.to_string())))
            .collect()
    }

    /// Signatures in, one verdict each.
    pub async fn verify(
        &mut self,
        scheme: pb::Scheme,
        policy: pb::Policy,
        items: Vec<pb::VerifyItem>,
    ) -> Result<pb::VerifyResponse, ClientError> {
        let req = self.request(pb::VerifyRequest {
            scheme: scheme as i32,
            policy: policy as i32,
            items,
            tag: 0,
        });
        Ok(self.inner.verify(req).await?.into_inner())
    }
}

fn encode_points<C: ClientCurve>(points: &[Affine<C>]) -> Result<Vec<u8>, ClientError> {
    let mut bytes = Vec::new();
    for p in points {
        wire::encode_point::<C>(UPLOAD_ENCODING, p, &mut bytes)
            .map_err(|e| ClientError::Decode(e.to_string()))?;
    }
    Ok(bytes)
}

fn is_code(e: &ClientError, code: tonic::Code) -> bool {
    matches!(e, ClientError::Status(s) if s.code() == code)
}

/// Whether another try (on this daemon later, or on another) may succeed: the daemon or the
/// path to it failed, or it was full; never for what the request itself got wrong.
pub fn retryable(e: &ClientError) -> bool {
    use tonic::Code;
    match e {
        ClientError::Connect { .. } => true,
        // A connection that died mid-call surfaces as UNAVAILABLE, UNKNOWN or INTERNAL
        // ("transport error", "h2 protocol error") depending on where it broke.
        ClientError::Status(s) => matches!(
            s.code(),
            Code::Unavailable | Code::ResourceExhausted | Code::Unknown | Code::Internal
        ),
        _ => false,
    }
}

fn decode_results<C: ClientCurve>(r: &pb::MsmResponse) -> Result<Vec<Projective<C>>, ClientError> {
    r.results
        .iter()
        .map(|b| {
            wire::decode_point::<C>(PointEncoding::ArkUncompressed, b)
                .map(Projective::from)
                .map_err(|e| ClientError::Decode(e.to_string()))
        })
        .collect()
}

/// Which curve a wire value names.
pub fn curve_of(v: i32) -> Option<CurveId> {
    CurveId::try_from(pb::Curve::try_from(v).ok()?).ok()
}
