//! Entry points for coverage-guided fuzzing (the afl targets in `host/daemon/fuzz`) and for
//! replaying their corpus in the ordinary tests. [`Harness::call`] takes a client's bytes
//! through the codec and into the service's handlers, exactly as a connection would hand them
//! over (tenants, quotas and shared memory configured, small limits so each call is quick);
//! [`decoders`] feeds the decoders beneath directly, where far more executions per second fit.
//!
//! Beyond "no panic, no hang", each answer is judged: INTERNAL or UNKNOWN means the daemon
//! blamed itself for a client's bytes, and an error message longer than [`MAX_ERROR_BYTES`]
//! echoes client data without bound. Either panics, which afl records as a crash.
//!
//! Input layout, service target: byte 0 picks the call ([`Call`]), byte 1 the caller (bits 0-1:
//! tenant A's token, tenant B's, none, a wrong one; bit 2: over the Unix socket, where shared
//! memory is allowed), the rest is the request: one message for a unary call, and for a client
//! stream messages each preceded by its length (two bytes, little-endian).

use crate::auth::TenantSpec;
use crate::net::{Activity, Peer, Transport};
use crate::service::Service;
use crate::Config;
use futures::StreamExt;
use offload_core::job::{Bls12_381, Bn254};
use offload_core::wire::{self, PointEncoding};
use offload_proto::codec::{self, GuardedDecoder, WireCaps};
use offload_proto::v1 as pb;
use offload_proto::v1::offload_server::Offload;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;
use tonic::{Code, Request, Status, Streaming};

/// The longest error message a client's bytes may produce.
pub const MAX_ERROR_BYTES: usize = 1024;

/// Tokens of the two tenants the harness configures (tenant A may publish shared sets).
pub const TOKENS: [&str; 2] = ["offload_fuzz_tenant_a", "offload_fuzz_tenant_b"];

/// Files in the shared-memory directory: a readable one and one the client may not read.
pub const SHM_FILES: [&str; 2] = ["open.bin", "private.bin"];

/// The service calls, by the first byte of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    GetInfo,
    ListBases,
    DeleteBases,
    Msm,
    Ntt,
    Verify,
    UploadBases,
    MsmStream,
    VerifyStream,
    UploadProgress,
}

impl Call {
    pub const ALL: [Call; 10] = [
        Call::GetInfo,
        Call::ListBases,
        Call::DeleteBases,
        Call::Msm,
        Call::Ntt,
        Call::Verify,
        Call::UploadBases,
        Call::MsmStream,
        Call::VerifyStream,
        Call::UploadProgress,
    ];

    pub fn byte(self) -> u8 {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0) as u8
    }

    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Call::UploadBases | Call::MsmStream | Call::VerifyStream
        )
    }
}

/// One input for the service target: `call`, `caller` and the encoded messages.
pub fn input(call: Call, caller: u8, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![call.byte(), caller];
    if call.is_stream() {
        for m in messages {
            let len = u16::try_from(m.len()).expect("a seed message under 64 KiB");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(m);
        }
    } else if let Some(m) = messages.first() {
        out.extend_from_slice(m);
    }
    out
}

/// The daemon's service, in process, with a configuration sized for fuzzing and the base sets
/// of [`INITIAL_SETS`] uploaded.
pub struct Harness {
    rt: tokio::runtime::Runtime,
    svc: Service,
    /// The handle of each initial set.
    handles: Vec<String>,
    _running: crate::Running,
}

fn hash(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// The configuration the harness serves with, its files under `dir`.
pub fn config(dir: &Path) -> Config {
    let tenant = |name: &str, token: &str, publish: bool| TenantSpec {
        name: name.into(),
        tokens: vec![hash(token)],
        publish,
        max_sets: Some(16),
        max_stored_bytes: Some(1 << 20),
        max_resident_bytes: Some(1 << 20),
        max_jobs: Some(4),
        max_inflight_bytes: Some(4 << 20),
        ..Default::default()
    };
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("data"),
        shm_dir: Some(dir.join("shm")),
        metrics_listen: String::new(),
        skip_calibration: true,
        cuda: false,
        max_message_bytes: 1 << 20,
        max_inflight_bytes: 8 << 20,
        max_scalar_vectors: 4,
        max_ntt_columns: 4,
        max_ntt_log_n: 10,
        max_verify_items: 16,
        max_base_points: 256,
        stream_idle_secs: 1,
        verify_stream_idle_secs: 1,
        queue_capacity: 16,
        table_budget_bytes: 1 << 20,
        resident_budget_bytes: 2 << 20,
        tenants: vec![tenant("a", TOKENS[0], true), tenant("b", TOKENS[1], false)],
        ..Config::default()
    }
}

/// The sets every input meets: (caller, curve, encoding, points, shared).
pub const INITIAL_SETS: [(u8, pb::Curve, pb::PointEncoding, usize, bool); 3] = [
    (
        0,
        pb::Curve::Bn254,
        pb::PointEncoding::ArkCompressed,
        64,
        false,
    ),
    (0, pb::Curve::Bls12381, pb::PointEncoding::Eip2537, 32, true),
    (1, pb::Curve::Bn254, pb::PointEncoding::Eip196, 32, false),
];

/// `n` multiples of the generator (the identity first), encoded.
pub fn points(curve: pb::Curve, enc: pb::PointEncoding, n: usize) -> Vec<u8> {
    fn multiples<C: wire::Curve>(enc: PointEncoding, n: usize) -> Vec<u8> {
        use ark_ec::{CurveGroup, PrimeGroup};
        let g = ark_ec::short_weierstrass::Projective::<C>::generator();
        let mut acc = ark_ec::short_weierstrass::Projective::<C>::default();
        let mut out = Vec::new();
        for _ in 0..n {
            // Both encodings a set may use exist for its curve, so this cannot fail.
            let _ = wire::encode_point::<C>(enc, &acc.into_affine(), &mut out);
            acc += g;
        }
        out
    }
    let enc = crate::convert::encoding("encoding", enc as i32).unwrap_or_default();
    match curve {
        pb::Curve::Bls12381 => multiples::<Bls12_381>(enc, n),
        _ => multiples::<Bn254>(enc, n),
    }
}

/// The messages of an upload of `n` points, the points split into two chunks.
pub fn upload(curve: pb::Curve, enc: pb::PointEncoding, n: usize, shared: bool) -> Vec<Vec<u8>> {
    use pb::upload_bases_request::Part;
    use prost::Message;
    let header = pb::UploadBasesRequest {
        part: Some(Part::Header(pb::UploadHeader {
            curve: curve as i32,
            encoding: enc as i32,
            count: n as u64,
            label: format!("{n} points"),
            shared,
            ..Default::default()
        })),
    };
    let pts = points(curve, enc, n);
    let (first, second) = pts.split_at(pts.len() / 2);
    let mut out = vec![header.encode_to_vec()];
    for c in [first, second] {
        out.push(
            pb::UploadBasesRequest {
                part: Some(Part::Points(c.to_vec())),
            }
            .encode_to_vec(),
        );
    }
    out
}

impl Harness {
    /// Serve under `dir` (which must exist and be empty): the data directory, and the
    /// shared-memory directory with its two files; upload the initial sets.
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let shm = dir.join("shm");
        std::fs::create_dir_all(&shm)?;
        // Every eighth byte zero: canonical as 32-byte scalars and as Goldilocks elements.
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 * u8::from(i % 8 != 7))
            .collect();
        std::fs::write(shm.join(SHM_FILES[0]), &bytes)?;
        let private = shm.join(SHM_FILES[1]);
        std::fs::write(&private, &bytes)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let running = rt.block_on(crate::serve(config(dir)))?;
        let svc = running.service();
        let mut h = Self {
            rt,
            svc,
            handles: Vec::new(),
            _running: running,
        };
        for i in 0..INITIAL_SETS.len() {
            let handle = h.rt.block_on(h.restore(i))?;
            h.handles.push(handle);
        }
        Ok(h)
    }

    /// The handles of [`INITIAL_SETS`], in order.
    pub fn handles(&self) -> &[String] {
        &self.handles
    }

    /// Upload initial set `i` (again).
    async fn restore(&self, i: usize) -> anyhow::Result<String> {
        let (caller, curve, enc, n, shared) = INITIAL_SETS[i];
        let body = input(Call::UploadBases, caller, &upload(curve, enc, n, shared));
        let set = self
            .svc
            .upload_bases(request(caller, stream(&body[2..])))
            .await
            .map_err(|e| anyhow::anyhow!("uploading initial set {i}: {e}"))?;
        Ok(set.into_inner().handle)
    }

    /// Run one input through the service, and judge the answer (panics on a defect).
    pub fn call(&self, data: &[u8]) {
        if let Err(e) = self.answer(data) {
            let call = Call::ALL[usize::from(data[0]) % Call::ALL.len()];
            judge(call, &e);
        }
    }

    /// Run one input through the service: its answer, unjudged (an input too short to name a
    /// call and a caller is answered OK, as nothing ran).
    pub fn answer(&self, data: &[u8]) -> Result<(), Status> {
        let [call, caller, body @ ..] = data else {
            return Ok(());
        };
        let call = Call::ALL[usize::from(*call) % Call::ALL.len()];
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(20), self.dispatch(call, *caller, body))
                .await
                .unwrap_or_else(|_| panic!("{call:?} did not answer within 20 s"))
        })
    }

    async fn dispatch(&self, call: Call, caller: u8, body: &[u8]) -> Result<(), Status> {
        let svc = &self.svc;
        match call {
            Call::GetInfo => {
                svc.get_info(request(caller, unary(body)?)).await?;
            }
            Call::ListBases => {
                svc.list_bases(request(caller, unary(body)?)).await?;
            }
            Call::UploadProgress => {
                svc.upload_progress(request(caller, unary(body)?)).await?;
            }
            Call::DeleteBases => {
                let req: pb::DeleteBasesRequest = unary(body)?;
                let handle = req.handle.clone();
                let deleted = svc.delete_bases(request(caller, req)).await?;
                // The initial sets come back, so that every input meets the same daemon.
                if deleted.into_inner().deleted {
                    if let Some(i) = self.handles.iter().position(|h| *h == handle) {
                        self.restore(i)
                            .await
                            .unwrap_or_else(|e| panic!("restoring a deleted set: {e}"));
                    }
                }
            }
            Call::Msm => {
                svc.msm(request(caller, unary(body)?)).await?;
            }
            Call::Ntt => {
                svc.ntt(request(caller, unary(body)?)).await?;
            }
            Call::Verify => {
                svc.verify(request(caller, unary(body)?)).await?;
            }
            Call::UploadBases => {
                let set = svc.upload_bases(request(caller, stream(body))).await?;
                let handle = set.into_inner().handle;
                // A new set leaves again; one that was already there (an initial one) stays.
                if !self.handles.contains(&handle) {
                    let gone = svc
                        .delete_bases(request(caller, pb::DeleteBasesRequest { handle }))
                        .await?;
                    assert!(
                        gone.into_inner().deleted,
                        "a set just uploaded did not delete"
                    );
                }
            }
            Call::MsmStream => {
                svc.msm_stream(request(caller, stream(body))).await?;
            }
            Call::VerifyStream => {
                let mut answers = svc
                    .verify_stream(request(caller, stream(body)))
                    .await?
                    .into_inner();
                while let Some(a) = answers.next().await {
                    a?;
                }
            }
        }
        Ok(())
    }
}

fn judge(call: Call, e: &Status) {
    assert!(
        !matches!(e.code(), Code::Internal | Code::Unknown),
        "{call:?}: the daemon blamed itself for a client's bytes: {e}"
    );
    assert!(
        e.message().len() <= MAX_ERROR_BYTES,
        "{call:?}: a {}-byte error message: {:.200}",
        e.message().len(),
        e.message()
    );
}

/// The codec's decoding of one unary message: its counts checked, then prost.
fn unary<U: prost::Message + Default + WireCaps>(body: &[u8]) -> Result<U, Status> {
    codec::decode_guarded(body)
}

/// A client stream of the messages in `body` (each after its two-byte length), framed as gRPC
/// frames and decoded by the codec as a connection's would be.
fn stream<U>(body: &[u8]) -> Streaming<U>
where
    U: prost::Message + Default + WireCaps + Send + 'static,
{
    let mut frames = Vec::with_capacity(body.len() + 64);
    let mut rest = body;
    while !rest.is_empty() {
        let (len, tail) = match rest {
            [a, b, tail @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), tail),
            _ => (rest.len(), &rest[rest.len()..]),
        };
        let msg = &tail[..len.min(tail.len())];
        frames.push(0);
        frames.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        frames.extend_from_slice(msg);
        rest = &tail[msg.len()..];
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(frames));
    Streaming::new_request(GuardedDecoder::<U>::default(), body, None, Some(1 << 20))
}

/// A request from the caller `caller` selects.
fn request<T>(caller: u8, msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    let token = match caller & 3 {
        0 => Some(TOKENS[0]),
        1 => Some(TOKENS[1]),
        2 => None,
        _ => Some("offload_not_a_tenant"),
    };
    if let Some(t) = token {
        if let Ok(v) = format!("Bearer {t}").parse() {
            req.metadata_mut().insert("authorization", v);
        }
    }
    let transport = if caller & 4 != 0 {
        Transport::Unix {
            uid: Some(rustix::process::getuid().as_raw()),
            gid: Some(rustix::process::getgid().as_raw()),
        }
    } else {
        Transport::Tcp {
            remote: Some(([127, 0, 0, 1], 40000).into()),
            tls: false,
            client_names: Vec::new(),
        }
    };
    req.extensions_mut().insert(Peer {
        transport,
        activity: Activity::new(),
    });
    req
}

/// The decoders beneath the service, straight from bytes: byte 0 picks one, the rest is its
/// input. Judged like the service: an error is fine, a panic is not.
pub fn decoders(data: &[u8]) {
    let [which, rest @ ..] = data else {
        return;
    };
    let encodings = [
        PointEncoding::ArkCompressed,
        PointEncoding::ArkUncompressed,
        PointEncoding::Eip196,
        PointEncoding::Eip2537,
    ];
    match which % 13 {
        n @ 0..=3 => {
            let enc = encodings[usize::from(n)];
            round_trip::<Bn254>(enc, rest);
        }
        n @ 4..=7 => {
            let enc = encodings[usize::from(n - 4)];
            round_trip::<Bls12_381>(enc, rest);
        }
        8 => elements(rest),
        9 => {
            let _ = offload_engine::sig::bls::parse_key(rest);
            let _ = offload_engine::sig::bls::parse_signature(rest);
        }
        10 => {
            let _ = codec::decode_guarded::<pb::MsmStreamRequest>(rest);
            let _ = codec::decode_guarded::<pb::NttRequest>(rest);
            let _ = codec::decode_guarded::<pb::VerifyRequest>(rest);
        }
        11 => {
            let _ = codec::decode_guarded::<pb::UploadBasesRequest>(rest);
            let _ = codec::decode_guarded::<pb::MsmRequest>(rest);
        }
        _ => authority_rewriter(rest),
    }
}

/// The Unix socket's HTTP/2 rewriter on a client's bytes after the preface: the same result
/// fed at once and in small pieces.
fn authority_rewriter(b: &[u8]) {
    use crate::authority::Rewriter;
    let mut input = H2_PREFACE.to_vec();
    input.extend_from_slice(b);
    let (mut whole, mut a) = (Rewriter::default(), Vec::new());
    let at_once = whole.feed(&input, &mut a);
    let (mut parts, mut p) = (Rewriter::default(), Vec::new());
    let in_pieces = input.chunks(7).try_for_each(|c| parts.feed(c, &mut p));
    assert_eq!(at_once, in_pieces);
    if at_once.is_ok() {
        assert_eq!(a, p);
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Points decoded, encoded again and decoded to the same points.
fn round_trip<C: wire::Curve>(enc: PointEncoding, b: &[u8]) {
    if let Ok(v) = wire::decode_points::<C>(enc, b) {
        let mut again = Vec::with_capacity(b.len());
        for p in &v {
            assert!(wire::encode_point::<C>(enc, p, &mut again).is_ok());
        }
        assert_eq!(wire::decode_points::<C>(enc, &again).ok(), Some(v));
    }
}

/// Each field's element decoding, and its round trip.
fn elements(b: &[u8]) {
    fn one<F: wire::WireField + PartialEq + std::fmt::Debug>(b: &[u8]) {
        if let Ok(v) = wire::decode_elements::<F>(b) {
            assert_eq!(
                wire::decode_elements::<F>(&wire::encode_elements(&v)).ok(),
                Some(v)
            );
        }
    }
    one::<ark_bn254::Fr>(b);
    one::<ark_bls12_381::Fr>(b);
    one::<p3_baby_bear::BabyBear>(b);
    one::<p3_goldilocks::Goldilocks>(b);
}

/// Inputs that reach each call's work and each decoder, for the corpus: `(target, name,
/// bytes)`, target "service" or "decoders". Handles are those of `h`'s initial sets.
pub fn seeds(h: &Harness) -> Vec<(&'static str, String, Vec<u8>)> {
    use pb::{Curve, NttDirection, NttField, Ordering, PointEncoding as Enc, Policy, Scheme};
    use prost::Message;
    let mut out = Vec::new();
    let mut service = |name: &str, call: Call, caller: u8, msgs: Vec<Vec<u8>>| {
        out.push(("service", name.to_string(), input(call, caller, &msgs)));
    };
    let packed = |b: Vec<u8>| pb::Elements {
        source: Some(pb::elements::Source::Packed(b)),
    };
    let shared = |path: &str, offset: u64, length: u64| pb::Elements {
        source: Some(pb::elements::Source::Shared(pb::SharedMemory {
            path: path.into(),
            offset,
            length,
        })),
    };
    // Small integers as little-endian elements of `width` bytes.
    let ints = |n: usize, width: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut e = vec![0u8; width];
                e[..4].copy_from_slice(&(i as u32 * 7 + 1).to_le_bytes());
                e
            })
            .collect()
    };

    service("get-info", Call::GetInfo, 0, vec![Vec::new()]);
    for caller in 0..4 {
        let req = pb::ListBasesRequest {
            page_size: 2,
            page_token: String::new(),
        };
        service(
            &format!("list-{caller}"),
            Call::ListBases,
            caller,
            vec![req.encode_to_vec()],
        );
    }
    let other = pb::DeleteBasesRequest {
        handle: h.handles()[2].clone(),
    };
    service(
        "delete-other-tenants",
        Call::DeleteBases,
        0,
        vec![other.encode_to_vec()],
    );
    service(
        "delete-own",
        Call::DeleteBases,
        1,
        vec![other.encode_to_vec()],
    );

    // MSM: inline bases, each curve and encoding; resident sets; shared memory.
    for (curve, enc) in [
        (Curve::Bn254, Enc::ArkCompressed),
        (Curve::Bn254, Enc::Eip196),
        (Curve::Bls12381, Enc::ArkUncompressed),
        (Curve::Bls12381, Enc::Eip2537),
    ] {
        let req = pb::MsmRequest {
            curve: curve as i32,
            bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
                encoding: enc as i32,
                points: points(curve, enc, 5),
            })),
            scalars: vec![packed(ints(5, 32)), packed(ints(5, 32))],
            result_encoding: enc as i32,
        };
        let name = format!("msm-inline-{}-{}", curve.as_str_name(), enc.as_str_name());
        service(&name, Call::Msm, 0, vec![req.encode_to_vec()]);
    }
    for (i, (caller, curve, _, n, _)) in INITIAL_SETS.iter().enumerate() {
        let req = pb::MsmRequest {
            curve: *curve as i32,
            bases: Some(pb::msm_request::Bases::Handle(h.handles()[i].clone())),
            scalars: vec![packed(ints(*n, 32))],
            result_encoding: Enc::ArkUncompressed as i32,
        };
        service(
            &format!("msm-set-{i}"),
            Call::Msm,
            *caller,
            vec![req.encode_to_vec()],
        );
        // The same from the other tenant: its own or a shared set, or NOT_FOUND.
        service(
            &format!("msm-set-{i}-other"),
            Call::Msm,
            1 - caller,
            vec![req.encode_to_vec()],
        );
    }
    for file in SHM_FILES {
        let req = pb::MsmRequest {
            curve: Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Handle(h.handles()[0].clone())),
            scalars: vec![shared(file, 0, 64 * 32)],
            result_encoding: 0,
        };
        service(
            &format!("msm-shm-{file}"),
            Call::Msm,
            4,
            vec![req.encode_to_vec()],
        );
    }
    // MsmStream: the header names the set, scalars follow in chunks.
    let header = pb::MsmStreamRequest {
        part: Some(pb::msm_stream_request::Part::Header(pb::MsmRequest {
            curve: Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Handle(h.handles()[0].clone())),
            scalars: Vec::new(),
            result_encoding: 0,
        })),
    };
    let chunk = |vector: u32, b: Vec<u8>| {
        pb::MsmStreamRequest {
            part: Some(pb::msm_stream_request::Part::Chunk(pb::ScalarChunk {
                vector,
                packed: b,
            })),
        }
        .encode_to_vec()
    };
    let msgs = vec![
        header.encode_to_vec(),
        chunk(0, ints(32, 32)),
        chunk(0, ints(32, 32)),
        chunk(1, ints(64, 32)),
    ];
    service("msm-stream", Call::MsmStream, 0, msgs);

    // NTT: each field, both directions, both orders, a coset; shared memory.
    for (field, width) in [
        (NttField::Bn254Fr, 32),
        (NttField::Bls12381Fr, 32),
        (NttField::Babybear, 4),
        (NttField::Goldilocks, 8),
    ] {
        for (dir, coset) in [
            (NttDirection::Forward, false),
            (NttDirection::Inverse, true),
        ] {
            let req = pb::NttRequest {
                field: field as i32,
                direction: dir as i32,
                input_order: Ordering::Natural as i32,
                output_order: Ordering::BitReversed as i32,
                coset: if coset { ints(1, width) } else { Vec::new() },
                columns: vec![packed(ints(16, width)), packed(ints(16, width))],
            };
            let name = format!("ntt-{}-{}", field.as_str_name(), dir.as_str_name());
            service(&name, Call::Ntt, 1, vec![req.encode_to_vec()]);
        }
    }
    for file in SHM_FILES {
        let req = pb::NttRequest {
            field: NttField::Goldilocks as i32,
            direction: NttDirection::Forward as i32,
            columns: vec![shared(file, 64, 8 * 64)],
            ..Default::default()
        };
        service(
            &format!("ntt-shm-{file}"),
            Call::Ntt,
            4,
            vec![req.encode_to_vec()],
        );
    }

    // Verify: a valid Ed25519 signature and well-formed items of every scheme.
    let ed = {
        use ed25519_dalek::Signer;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let message = b"offload fuzz seed".to_vec();
        pb::VerifyItem {
            public_key: key.verifying_key().to_bytes().to_vec(),
            signature: key.sign(&message).to_bytes().to_vec(),
            message,
        }
    };
    let unhex = |s: &str| hex::decode(s).unwrap_or_default();
    let secp_x = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    let bls_g1 = "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb";
    let bls_g2 = "93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8";
    let item = |k: Vec<u8>, s: Vec<u8>, m: Vec<u8>| pb::VerifyItem {
        public_key: k,
        signature: s,
        message: m,
    };
    let der = unhex("3006020101020101");
    let cases: Vec<(Scheme, Policy, pb::VerifyItem)> = vec![
        (Scheme::Ed25519, Policy::Default, ed.clone()),
        (Scheme::Ed25519, Policy::Ed25519Strict, ed.clone()),
        (Scheme::Ed25519, Policy::Ed25519Rfc8032, ed.clone()),
        (
            Scheme::EcdsaSecp256k1,
            Policy::EcdsaLowS,
            item(unhex(&format!("02{secp_x}")), ints(2, 32), vec![9; 32]),
        ),
        (
            Scheme::EcdsaSecp256k1,
            Policy::EcdsaAnySDer,
            item(unhex(&format!("02{secp_x}")), der, vec![9; 32]),
        ),
        (
            Scheme::Bip340,
            Policy::Default,
            item(unhex(secp_x), ints(2, 32), vec![9; 32]),
        ),
        (
            Scheme::Bls12381Eth,
            Policy::Default,
            item(unhex(bls_g1), unhex(bls_g2), b"m".to_vec()),
        ),
    ];
    let mut stream_msgs = Vec::new();
    for (i, (scheme, policy, it)) in cases.into_iter().enumerate() {
        let mut bad = it.clone();
        if let Some(b) = bad.signature.first_mut() {
            *b ^= 1;
        }
        let req = pb::VerifyRequest {
            scheme: scheme as i32,
            policy: policy as i32,
            items: vec![it, bad],
            tag: i as u64,
        };
        let name = format!("verify-{}-{}", scheme.as_str_name(), policy.as_str_name());
        service(&name, Call::Verify, 0, vec![req.encode_to_vec()]);
        stream_msgs.push(req.encode_to_vec());
    }
    service("verify-stream", Call::VerifyStream, 1, stream_msgs);

    // Uploads: each curve and encoding; a shared set from a tenant that may not publish.
    for (i, (curve, enc, caller, shared)) in [
        (Curve::Bn254, Enc::ArkUncompressed, 0, false),
        (Curve::Bls12381, Enc::ArkCompressed, 1, false),
        (Curve::Bls12381, Enc::Eip2537, 1, true),
        (Curve::Bn254, Enc::Eip196, 0, true),
    ]
    .into_iter()
    .enumerate()
    {
        service(
            &format!("upload-{i}"),
            Call::UploadBases,
            caller,
            upload(curve, enc, 6, shared),
        );
    }

    // The decoders: points of each curve in each encoding, elements, BLS keys and messages.
    let mut decoder = |name: String, which: u8, b: Vec<u8>| {
        let mut v = vec![which];
        v.extend(b);
        out.push(("decoders", name, v));
    };
    let encs = [
        Enc::ArkCompressed,
        Enc::ArkUncompressed,
        Enc::Eip196,
        Enc::Eip2537,
    ];
    for (i, enc) in encs.iter().enumerate() {
        decoder(
            format!("bn254-{}", enc.as_str_name()),
            i as u8,
            points(Curve::Bn254, *enc, 3),
        );
        let bls = points(Curve::Bls12381, *enc, 3);
        decoder(format!("bls12-381-{}", enc.as_str_name()), 4 + i as u8, bls);
    }
    decoder("elements".into(), 8, ints(4, 32));
    decoder("bls-key".into(), 9, unhex(bls_g1));
    decoder("bls-signature".into(), 9, unhex(bls_g2));
    let ntt = pb::NttRequest {
        field: NttField::Babybear as i32,
        columns: vec![packed(ints(4, 4))],
        ..Default::default()
    };
    decoder("ntt-request".into(), 10, ntt.encode_to_vec());
    let upload_header = upload(Curve::Bn254, Enc::ArkCompressed, 2, false);
    decoder("upload-header".into(), 11, upload_header[0].clone());
    // A Unix-socket client as gRPC's C core writes it (after the preface): settings, a call
    // whose headers are indexed literals with the socket path as :authority, its message, then
    // a second call by table reference, split across HEADERS and CONTINUATION.
    let mut enc = loona_hpack::Encoder::new();
    let headers = |path: &'static str| {
        [
            (&b":method"[..], &b"POST"[..]),
            (b":scheme", b"http"),
            (b":path", path.as_bytes()),
            (b":authority", b"tmp%2Foffload.sock"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
        ]
    };
    let first = enc.encode(headers("/offload.v1.Offload/GetInfo"));
    let second = enc.encode(headers("/offload.v1.Offload/ListBases"));
    let frame = crate::authority::frame;
    let mut h2 = frame(0x4, 0, 0, &[0, 4, 0, 0x40, 0, 0]);
    h2.extend(frame(0x1, 0x4, 1, &first));
    h2.extend(frame(0x0, 0x1, 1, &[0, 0, 0, 0, 0]));
    let (a, b) = second.split_at(second.len() / 2);
    h2.extend(frame(0x1, 0x1, 3, a));
    h2.extend(frame(0x9, 0x4, 3, b));
    decoder("h2-unix-client".into(), 12, h2);
    out
}
