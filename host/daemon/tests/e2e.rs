//! offloadd end to end: a daemon on an ephemeral loopback port and a Unix socket, every RPC
//! against the in-process engines, bad input of each kind answered precisely while the daemon
//! keeps serving, concurrency, cancellation (queued and running), a full queue, and a restart
//! that keeps base sets.

use ark_ec::short_weierstrass::{Affine, Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::{BigInteger, PrimeField};
use ark_std::UniformRand;
use ed25519_dalek::Signer;
use offload_client::v1 as pb;
use offload_client::Client;
use offload_core::job::{Bls12_381, Bls12_381G2, Bn254, Bn254G2};
use offload_core::wire::{self, PointEncoding};
use offload_daemon::{Config, Running};
use offload_engine::msm;
use offload_engine::ntt::{Direction, NttConfig, Order};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::Path;
use tonic::Code;

struct Daemon {
    running: Running,
    dir: tempfile::TempDir,
}

fn config(dir: &Path) -> Config {
    Config {
        uds: Some(dir.join("offload.sock")),
        metrics_listen: "127.0.0.1:0".into(),
        shm_dir: Some(dir.join("shm")),
        max_message_bytes: 64 << 20,
        ..Config::ephemeral(dir)
    }
}

async fn start_with(f: impl FnOnce(&mut Config)) -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = config(dir.path());
    f(&mut c);
    let running = offload_daemon::serve(c).await.expect("daemon starts");
    Daemon { running, dir }
}

async fn start() -> Daemon {
    start_with(|_| {}).await
}

impl Daemon {
    fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }
    async fn client(&self) -> Client {
        Client::connect(&self.url()).await.expect("connects")
    }
}

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn points<C: ark_ec::short_weierstrass::SWCurveConfig>(
    n: usize,
    r: &mut ChaCha20Rng,
) -> Vec<Affine<C>>
where
    C::ScalarField: UniformRand,
{
    let g = Projective::<C>::generator();
    let v: Vec<Projective<C>> = (0..n).map(|_| g * C::ScalarField::rand(r)).collect();
    Projective::normalize_batch(&v)
}

fn scalars<F: UniformRand>(n: usize, r: &mut ChaCha20Rng) -> Vec<F> {
    (0..n).map(|_| F::rand(r)).collect()
}

/// Random elements of any NTT field (below 2^64: the transforms are linear, the outputs full).
fn elements<F: offload_engine::ntt::NttField>(n: usize, r: &mut ChaCha20Rng) -> Vec<F> {
    use rand::Rng;
    (0..n).map(|_| F::from_u64(r.gen())).collect()
}

fn code<T: std::fmt::Debug>(r: Result<T, offload_client::ClientError>) -> (Code, String) {
    match r {
        Err(offload_client::ClientError::Status(s)) => (s.code(), s.message().to_string()),
        other => panic!("expected a status, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_bases_and_msm_match_the_engine() {
    let d = start().await;
    let mut c = d.client().await;
    let info = c.info().await.unwrap();
    assert!(!info.version.is_empty());
    let cpu = info
        .backends
        .iter()
        .find(|b| b.name == "cpu")
        .expect("cpu backend");
    assert!(cpu.healthy);
    // Every kind, each with the largest size this daemon takes: its limits, or the field's
    // two-adicity below them.
    let limits = info.limits.unwrap();
    let op = |name: &str, kind: &str| {
        cpu.ops
            .iter()
            .find(|o| o.op == name && o.kinds.iter().any(|k| k == kind))
            .unwrap_or_else(|| panic!("{name} {kind} missing: {:?}", cpu.ops))
            .clone()
    };
    let kinds: usize = cpu.ops.iter().map(|o| o.kinds.len()).sum();
    assert_eq!(kinds, 4 + 4 + 4, "{:?}", cpu.ops);
    for curve in ["bn254", "bls12-381", "bn254-g2", "bls12-381-g2"] {
        assert_eq!(op("msm", curve).max_size, limits.max_base_set_points);
    }
    for field in ["bn254", "bls12-381", "goldilocks"] {
        assert_eq!(op("ntt", field).max_size, 1 << limits.max_ntt_log_n);
        assert!(op("ntt", field).coset);
    }
    assert_eq!(op("ntt", "babybear").max_size, 1 << 27);
    for scheme in ["ed25519", "ecdsa-secp256k1", "bip340", "bls12-381-eth"] {
        assert_eq!(
            op("verify", scheme).max_size,
            limits.max_verify_items as u64
        );
    }
    // Without a GPU (or its driver) the probe's finding is listed, never a crash at start.
    let cuda = info
        .backends
        .iter()
        .find(|b| b.name == "cuda")
        .expect("cuda listed");
    assert!(!cuda.healthy && !cuda.status.is_empty(), "{cuda:?}");
    health_and_reflection(&d.url()).await;

    let mut r = rng(1);
    let bases = points::<Bn254>(1000, &mut r);
    let h1 = c.upload_bases::<Bn254>(&bases, "srs").await.unwrap();
    assert_eq!(h1.len(), 64);
    // The same points in another encoding give the same handle.
    let mut compressed = Vec::new();
    for p in &bases {
        wire::encode_point::<Bn254>(PointEncoding::ArkCompressed, p, &mut compressed).unwrap();
    }
    let h2 = upload_raw(
        &mut c,
        pb::Curve::Bn254,
        pb::PointEncoding::ArkCompressed,
        1000,
        &compressed,
        777,
    )
    .await
    .unwrap();
    assert_eq!(h1, h2.handle);
    let listed = c.list_bases().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].count, listed[0].label.as_str()), (1000, "srs"));
    // Its fixed-base table is built in the background; MSMs before and after agree.
    let s0: Vec<ark_bn254::Fr> = scalars(1000, &mut r);
    let early = c.msm::<Bn254>(&h1, &s0).await.unwrap();
    let mut table = String::new();
    for _ in 0..1000 {
        let l = c.list_bases().await.unwrap();
        table = l[0].table.clone();
        if table != "building" {
            assert!(l[0].table_bytes > 0, "{l:?}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(table, "ready");
    assert_eq!(c.msm::<Bn254>(&h1, &s0).await.unwrap(), early);

    // Several uses: the second and later may run on the fixed-base table; all equal the engine.
    for round in 0..3 {
        let s1: Vec<ark_bn254::Fr> = scalars(1000, &mut r);
        let s2: Vec<ark_bn254::Fr> = scalars(1000, &mut r);
        let got = c.msm_batch::<Bn254>(&h1, &[&s1, &s2]).await.unwrap();
        let want = msm::msm_batch(&bases, &[&s1, &s2]).unwrap();
        assert_eq!(got, want, "round {round}");
    }

    // BLS12-381, inline bases.
    let bls = points::<Bls12_381>(300, &mut r);
    let s: Vec<ark_bls12_381::Fr> = scalars(300, &mut r);
    let got = c.msm_inline::<Bls12_381>(&bls, &s).await.unwrap();
    assert_eq!(got, msm::msm(&bls, &s).unwrap());

    assert!(c.delete_bases(&h1).await.unwrap());
    assert!(!c.delete_bases(&h1).await.unwrap());
    let (code_, msg) = code(
        c.msm::<Bn254>(&h1, &scalars::<ark_bn254::Fr>(1000, &mut r))
            .await,
    );
    assert_eq!(code_, Code::NotFound, "{msg}");
    d.running.stop().await.unwrap();
}

async fn upload_raw(
    c: &mut Client,
    curve: pb::Curve,
    enc: pb::PointEncoding,
    count: u64,
    bytes: &[u8],
    chunk: usize,
) -> Result<pb::BaseSetInfo, offload_client::ClientError> {
    let msgs: Vec<pb::UploadBasesRequest> = std::iter::once(pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Header(pb::UploadHeader {
            curve: curve as i32,
            encoding: enc as i32,
            count,
            label: String::new(),
            shared: false,
            ..Default::default()
        })),
    })
    .chain(bytes.chunks(chunk).map(|b| pb::UploadBasesRequest {
        part: Some(pb::upload_bases_request::Part::Points(b.to_vec())),
    }))
    .collect();
    Ok(c.raw()
        .upload_bases(tokio_stream::iter(msgs))
        .await?
        .into_inner())
}

fn packed(b: Vec<u8>) -> pb::Elements {
    pb::Elements {
        source: Some(pb::elements::Source::Packed(b)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_encodings_round_trip() {
    let d = start().await;
    let mut c = d.client().await;
    let mut r = rng(2);
    // BN254 in EIP-196, with the point at infinity among the bases.
    let mut bases = points::<Bn254>(50, &mut r);
    bases[7] = Affine::identity();
    let s: Vec<ark_bn254::Fr> = scalars(50, &mut r);
    let mut enc = Vec::new();
    for p in &bases {
        wire::encode_point::<Bn254>(PointEncoding::Eip196, p, &mut enc).unwrap();
    }
    let resp = c
        .raw()
        .msm(pb::MsmRequest {
            curve: pb::Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
                encoding: pb::PointEncoding::Eip196 as i32,
                points: enc,
            })),
            scalars: vec![packed(wire::encode_elements(&s))],
            result_encoding: pb::PointEncoding::Eip196 as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let got = wire::decode_point::<Bn254>(PointEncoding::Eip196, &resp.results[0]).unwrap();
    assert_eq!(got, msm::msm(&bases, &s).unwrap().into_affine());
    assert_eq!(resp.report.unwrap().backend, "cpu");

    // BLS12-381 in EIP-2537; EIP-196 is refused for it.
    let bls = points::<Bls12_381>(20, &mut r);
    let s: Vec<ark_bls12_381::Fr> = scalars(20, &mut r);
    let mut enc = Vec::new();
    for p in &bls {
        wire::encode_point::<Bls12_381>(PointEncoding::Eip2537, p, &mut enc).unwrap();
    }
    let mut req = pb::MsmRequest {
        curve: pb::Curve::Bls12381 as i32,
        bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
            encoding: pb::PointEncoding::Eip2537 as i32,
            points: enc,
        })),
        scalars: vec![packed(wire::encode_elements(&s))],
        result_encoding: pb::PointEncoding::Eip2537 as i32,
    };
    let resp = c.raw().msm(req.clone()).await.unwrap().into_inner();
    let got = wire::decode_point::<Bls12_381>(PointEncoding::Eip2537, &resp.results[0]).unwrap();
    assert_eq!(got, msm::msm(&bls, &s).unwrap().into_affine());
    req.result_encoding = pb::PointEncoding::Eip196 as i32;
    let e = c.raw().msm(req).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("result_encoding"), "{}", e.message());
    d.running.stop().await.unwrap();
}

/// arkworks' own MSM: the oracle for G2, independent of our engine.
fn ark_msm<C: ark_ec::short_weierstrass::SWCurveConfig>(
    bases: &[Affine<C>],
    s: &[C::ScalarField],
) -> Affine<C> {
    use ark_ec::VariableBaseMSM;
    Projective::<C>::msm(bases, s).unwrap().into_affine()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_msms_by_handle_and_inline_in_every_encoding() {
    let d = start().await;
    let mut c = d.client().await;
    let mut r = rng(17);
    // BN254 G2 uploaded by the client (arkworks uncompressed), then the same points in
    // EIP-197's form: one content, one handle.
    let mut bases = points::<Bn254G2>(300, &mut r);
    bases[5] = Affine::identity();
    let h = c.upload_bases::<Bn254G2>(&bases, "g2").await.unwrap();
    let mut eth = Vec::new();
    for p in &bases {
        wire::encode_point::<Bn254G2>(PointEncoding::Eip196, p, &mut eth).unwrap();
    }
    assert_eq!(eth.len(), 300 * 128);
    let again = upload_raw(
        &mut c,
        pb::Curve::Bn254G2,
        pb::PointEncoding::Eip196,
        300,
        &eth,
        1000,
    )
    .await
    .unwrap();
    assert_eq!(again.handle, h);
    assert_eq!(again.curve, pb::Curve::Bn254G2 as i32);
    assert_eq!(again.bytes, 300 * 128);
    let s1: Vec<ark_bn254::Fr> = scalars(300, &mut r);
    let s2: Vec<ark_bn254::Fr> = scalars(300, &mut r);
    let got = c.msm_batch::<Bn254G2>(&h, &[&s1, &s2]).await.unwrap();
    let got: Vec<_> = got.iter().map(|p| p.into_affine()).collect();
    assert_eq!(got, [ark_msm(&bases, &s1), ark_msm(&bases, &s2)]);
    // The result in EIP-197's form.
    let resp = c
        .raw()
        .msm(pb::MsmRequest {
            curve: pb::Curve::Bn254G2 as i32,
            bases: Some(pb::msm_request::Bases::Handle(h.clone())),
            scalars: vec![packed(wire::encode_elements(&s1))],
            result_encoding: pb::PointEncoding::Eip196 as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.results[0].len(), 128);
    let p = wire::decode_point::<Bn254G2>(PointEncoding::Eip196, &resp.results[0]).unwrap();
    assert_eq!(p, ark_msm(&bases, &s1));
    // A G2 handle asked for as G1, and the reverse, name the mismatch.
    let (code_, msg) = code(c.msm::<Bn254>(&h, &s1).await);
    assert_eq!(code_, Code::InvalidArgument, "{msg}");
    assert!(msg.contains("handle") && msg.contains("bn254"), "{msg}");
    let g1 = points::<Bn254>(300, &mut r);
    let h1 = c.upload_bases::<Bn254>(&g1, "g1").await.unwrap();
    let (code_, msg) = code(c.msm::<Bn254G2>(&h1, &s1).await);
    assert_eq!(code_, Code::InvalidArgument, "{msg}");
    assert!(msg.contains("bn254-g2"), "{msg}");

    // BLS12-381 G2 inline in EIP-2537's form, the result in the same form; G1's width is
    // refused for G2 with the index of the first bad point.
    let bls = points::<Bls12_381G2>(40, &mut r);
    let s: Vec<ark_bls12_381::Fr> = scalars(40, &mut r);
    let mut enc = Vec::new();
    for p in &bls {
        wire::encode_point::<Bls12_381G2>(PointEncoding::Eip2537, p, &mut enc).unwrap();
    }
    let mut req = pb::MsmRequest {
        curve: pb::Curve::Bls12381G2 as i32,
        bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
            encoding: pb::PointEncoding::Eip2537 as i32,
            points: enc.clone(),
        })),
        scalars: vec![packed(wire::encode_elements(&s))],
        result_encoding: pb::PointEncoding::Eip2537 as i32,
    };
    let resp = c.raw().msm(req.clone()).await.unwrap().into_inner();
    let p = wire::decode_point::<Bls12_381G2>(PointEncoding::Eip2537, &resp.results[0]).unwrap();
    assert_eq!(p, ark_msm(&bls, &s));
    // A point outside the subgroup (the cofactor is large: the first point on the twist
    // for a random x almost surely is) is refused, named by index.
    let off = loop {
        let x = ark_bls12_381::Fq2::rand(&mut r);
        if let Some(p) = Affine::<Bls12_381G2>::get_point_from_x_unchecked(x, false) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                break p;
            }
        }
    };
    let mut bad = Vec::new();
    wire::encode_point::<Bls12_381G2>(PointEncoding::Eip2537, &off, &mut bad).unwrap();
    enc[256 * 3..256 * 4].copy_from_slice(&bad);
    req.bases = Some(pb::msm_request::Bases::Inline(pb::InlineBases {
        encoding: pb::PointEncoding::Eip2537 as i32,
        points: enc,
    }));
    let e = c.raw().msm(req).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("inline.points[3]") && e.message().contains("subgroup"),
        "{}",
        e.message()
    );
    // And the same check on upload.
    let (code_, msg) = code(
        upload_raw(
            &mut c,
            pb::Curve::Bls12381G2,
            pb::PointEncoding::Eip2537,
            1,
            &bad,
            256,
        )
        .await,
    );
    assert_eq!(code_, Code::InvalidArgument, "{msg}");
    assert!(msg.contains("points[0]"), "{msg}");
    d.running.stop().await.unwrap();
}

fn ntt_request(field: pb::NttField, dir: pb::NttDirection, cols: Vec<Vec<u8>>) -> pb::NttRequest {
    pb::NttRequest {
        field: field as i32,
        direction: dir as i32,
        input_order: pb::Ordering::Natural as i32,
        output_order: pb::Ordering::BitReversed as i32,
        coset: Vec::new(),
        columns: cols.into_iter().map(packed).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ntt_matches_the_engine_for_every_field() {
    use offload_core::wire::WireField;
    use offload_engine::ntt::NttField;
    async fn check<F: NttField + WireField>(c: &mut Client, field: pb::NttField, seed: u64) {
        let mut r = rng(seed);
        let cols: Vec<Vec<F>> = (0..3).map(|_| elements(1 << 10, &mut r)).collect();
        let shift = F::from_u64(7);
        let mut req = ntt_request(
            field,
            pb::NttDirection::Inverse,
            cols.iter().map(|c| wire::encode_elements(c)).collect(),
        );
        let mut g = Vec::new();
        shift.encode(&mut g);
        req.coset = g;
        let resp = c.raw().ntt(req).await.unwrap().into_inner();
        let cfg = NttConfig {
            direction: Direction::Inverse,
            input: Order::Natural,
            output: Order::BitReversed,
            coset: Some(shift),
        };
        for (col, got) in cols.iter().zip(&resp.columns) {
            let mut want = col.clone();
            offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
            assert_eq!(got, &wire::encode_elements(&want), "{field:?}");
        }
    }
    let d = start().await;
    let mut c = d.client().await;
    check::<ark_bn254::Fr>(&mut c, pb::NttField::Bn254Fr, 1).await;
    check::<ark_bls12_381::Fr>(&mut c, pb::NttField::Bls12381Fr, 2).await;
    check::<p3_baby_bear::BabyBear>(&mut c, pb::NttField::Babybear, 3).await;
    check::<p3_goldilocks::Goldilocks>(&mut c, pb::NttField::Goldilocks, 4).await;
    // The typed client call: forward then inverse on a coset is the identity.
    let mut r = rng(5);
    let cols: Vec<Vec<p3_baby_bear::BabyBear>> = (0..2).map(|_| elements(256, &mut r)).collect();
    let refs: Vec<&[p3_baby_bear::BabyBear]> = cols.iter().map(|c| c.as_slice()).collect();
    let shift = p3_baby_bear::BabyBear::from_u64(31);
    let fwd = c
        .ntt(&NttConfig::forward().coset(shift), &refs)
        .await
        .unwrap();
    let mut want = cols[1].clone();
    offload_engine::ntt::ntt(&mut want, &NttConfig::forward().coset(shift)).unwrap();
    assert_eq!(fwd[1], want);
    let refs: Vec<&[p3_baby_bear::BabyBear]> = fwd.iter().map(|c| c.as_slice()).collect();
    let back = c
        .ntt(&NttConfig::inverse().coset(shift), &refs)
        .await
        .unwrap();
    assert_eq!(back, cols);
    d.running.stop().await.unwrap();
}

fn ed25519_items(n: usize, bad: &[usize]) -> Vec<pb::VerifyItem> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    (0..n)
        .map(|i| {
            let message = format!("message {i}").into_bytes();
            let mut signature = key.sign(&message).to_bytes().to_vec();
            if bad.contains(&i) {
                signature[0] ^= 1;
            }
            pb::VerifyItem {
                public_key: key.verifying_key().to_bytes().to_vec(),
                signature,
                message,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_unary_and_stream() {
    let d = start().await;
    let mut c = d.client().await;
    let mut items = ed25519_items(100, &[3, 50]);
    items[70].signature.truncate(10);
    let r = c
        .verify(pb::Scheme::Ed25519, pb::Policy::Default, items)
        .await
        .unwrap();
    assert_eq!(r.verdicts.len(), 100);
    assert_eq!(r.valid, 97);
    for i in [3, 50] {
        assert_eq!(r.verdicts[i].outcome, pb::Outcome::Invalid as i32);
    }
    assert_eq!(r.verdicts[70].outcome, pb::Outcome::Malformed as i32);
    assert!(
        r.verdicts[70].reason.contains("signature"),
        "{}",
        r.verdicts[70].reason
    );

    // A policy that does not fit the scheme.
    let e = c
        .verify(
            pb::Scheme::Bip340,
            pb::Policy::Ed25519Strict,
            ed25519_items(1, &[]),
        )
        .await;
    let (k, msg) = code(e);
    assert_eq!(k, Code::InvalidArgument);
    assert!(msg.contains("policy"), "{msg}");

    // The stream form: answers in order, tags echoed.
    let reqs: Vec<pb::VerifyRequest> = (0..10u64)
        .map(|t| pb::VerifyRequest {
            scheme: pb::Scheme::Ed25519 as i32,
            policy: pb::Policy::Ed25519Zip215 as i32,
            items: ed25519_items(64, if t % 3 == 0 { &[5] } else { &[] }),
            tag: 1000 + t,
        })
        .collect();
    let mut out = c
        .raw()
        .verify_stream(tokio_stream::iter(reqs))
        .await
        .unwrap()
        .into_inner();
    let mut t = 0;
    while let Some(resp) = out.message().await.unwrap() {
        assert_eq!(resp.tag, 1000 + t);
        assert_eq!(resp.valid, if t % 3 == 0 { 63 } else { 64 });
        t += 1;
    }
    assert_eq!(t, 10);

    // Mixed policies stay apart (strict and zip215 differ on none of these, so compare
    // counts); a request with an unknown scheme ends the stream after the earlier answers.
    let mut reqs: Vec<pb::VerifyRequest> = (0..6u64)
        .map(|t| pb::VerifyRequest {
            scheme: pb::Scheme::Ed25519 as i32,
            policy: if t % 2 == 0 {
                pb::Policy::Ed25519Strict
            } else {
                pb::Policy::Ed25519Rfc8032
            } as i32,
            items: ed25519_items(8, &[t as usize]),
            tag: t,
        })
        .collect();
    reqs.push(pb::VerifyRequest {
        scheme: 42,
        policy: 0,
        items: Vec::new(),
        tag: 99,
    });
    let mut out = c
        .raw()
        .verify_stream(tokio_stream::iter(reqs))
        .await
        .unwrap()
        .into_inner();
    for t in 0..6u64 {
        let r = out.message().await.unwrap().unwrap();
        assert_eq!((r.tag, r.valid), (t, 7));
        // A flipped R byte: invalid, or malformed where R no longer decodes.
        assert_ne!(r.verdicts[t as usize].outcome, pb::Outcome::Valid as i32);
    }
    let e = out.message().await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().contains("scheme: unknown value 42"),
        "{}",
        e.message()
    );
    d.running.stop().await.unwrap();
}

/// One rule for empty batches: answered at once, empty, by no backend, once the rest of the
/// request holds; an empty set or column is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_batches_get_empty_answers_and_empty_sets_are_refused() {
    let d = start().await;
    let mut c = d.client().await;
    let mut r = rng(6);
    let mut enc = Vec::new();
    for p in &points::<Bn254>(4, &mut r) {
        wire::encode_point::<Bn254>(PointEncoding::ArkCompressed, p, &mut enc).unwrap();
    }
    let msm = |points: Vec<u8>| pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
            encoding: pb::PointEncoding::ArkCompressed as i32,
            points,
        })),
        scalars: Vec::new(),
        result_encoding: 0,
    };
    let m = c.raw().msm(msm(enc.clone())).await.unwrap().into_inner();
    assert!(m.results.is_empty());
    assert_eq!(m.report.unwrap().backend, "");
    // The rest of the request is still checked: a bad point, an unknown handle.
    let mut bad = enc.clone();
    bad[32..64].fill(0xff);
    let e = c.raw().msm(msm(bad)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());
    assert!(e.message().contains("inline.points[1]"), "{}", e.message());
    let mut unknown = msm(Vec::new());
    unknown.bases = Some(pb::msm_request::Bases::Handle("00".repeat(32)));
    assert_eq!(
        c.raw().msm(unknown).await.unwrap_err().code(),
        Code::NotFound
    );
    let e = c.raw().msm(msm(Vec::new())).await.unwrap_err();
    assert!(e.message().contains("inline.points"), "{}", e.message());

    let n = c
        .raw()
        .ntt(ntt_request(
            pb::NttField::Babybear,
            pb::NttDirection::Forward,
            Vec::new(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(n.columns.is_empty() && n.report.unwrap().backend.is_empty());
    let mut zero_shift = ntt_request(
        pb::NttField::Babybear,
        pb::NttDirection::Forward,
        Vec::new(),
    );
    zero_shift.coset = vec![0; 4];
    let e = c.raw().ntt(zero_shift).await.unwrap_err();
    assert!(e.message().contains("coset"), "{}", e.message());
    let e = c
        .raw()
        .ntt(ntt_request(
            pb::NttField::Babybear,
            pb::NttDirection::Forward,
            vec![Vec::new()],
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{}", e.message());

    let v = c
        .raw()
        .verify(pb::VerifyRequest {
            scheme: pb::Scheme::Ed25519 as i32,
            tag: 9,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(v.verdicts.is_empty() && v.valid == 0 && v.tag == 9);
    assert_eq!(v.report.unwrap().backend, "");
    let e = c
        .raw()
        .verify(pb::VerifyRequest::default())
        .await
        .unwrap_err();
    assert!(e.message().contains("scheme"), "{}", e.message());
    // Nothing was queued for any of them.
    let info = c.info().await.unwrap();
    assert!(info.backends.iter().all(|b| b.completed == 0), "{info:?}");
    d.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_named_and_the_daemon_keeps_serving() {
    let d = start().await;
    let mut c = d.client().await;
    let mut r = rng(5);
    let bases = points::<Bn254>(10, &mut r);
    let s: Vec<ark_bn254::Fr> = scalars(10, &mut r);
    let mut enc = Vec::new();
    for p in &bases {
        wire::encode_point::<Bn254>(PointEncoding::ArkUncompressed, p, &mut enc).unwrap();
    }
    let base_req = pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
            encoding: pb::PointEncoding::ArkUncompressed as i32,
            points: enc.clone(),
        })),
        scalars: vec![packed(wire::encode_elements(&s))],
        result_encoding: 0,
    };
    let expect = |e: tonic::Status, code: Code, needle: &str| {
        assert_eq!(e.code(), code, "{}", e.message());
        assert!(
            e.message().contains(needle),
            "{:?} lacks {needle:?}",
            e.message()
        );
    };
    // A scalar ≥ r.
    let mut bad = wire::encode_elements(&s);
    bad[3 * 32..4 * 32].copy_from_slice(&ark_bn254::Fr::MODULUS.to_bytes_le());
    let mut q = base_req.clone();
    q.scalars = vec![packed(wire::encode_elements(&s)), packed(bad)];
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "scalars[1][3]",
    );
    // A truncated scalar vector, and mismatched lengths.
    let mut q = base_req.clone();
    q.scalars = vec![packed(wire::encode_elements(&s)[..300].to_vec())];
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "scalars[0]",
    );
    let mut q = base_req.clone();
    q.scalars = vec![packed(wire::encode_elements(&s[..9]))];
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "9 scalars for 10 bases",
    );
    // A point off the curve.
    let mut off = enc.clone();
    off[2 * 64] ^= 1;
    let mut q = base_req.clone();
    q.bases = Some(pb::msm_request::Bases::Inline(pb::InlineBases {
        encoding: pb::PointEncoding::ArkUncompressed as i32,
        points: off,
    }));
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "inline.points[2]: not on the curve",
    );
    // A BLS12-381 point on the curve but outside the subgroup (x = 4 lifts to such a point).
    let outside = {
        let x = ark_bls12_381::Fq::from(4u64);
        let p = Affine::<Bls12_381>::get_point_from_x_unchecked(x, false).expect("on the curve");
        assert!(!p.is_in_correct_subgroup_assuming_on_curve());
        let mut b = Vec::new();
        wire::encode_point::<Bls12_381>(PointEncoding::Eip2537, &p, &mut b).unwrap();
        b
    };
    let e = upload_raw(
        &mut c,
        pb::Curve::Bls12381,
        pb::PointEncoding::Eip2537,
        1,
        &outside,
        64,
    )
    .await;
    let (k, msg) = code(e);
    assert_eq!(k, Code::InvalidArgument);
    assert!(
        msg.contains("points[0]: not in the prime-order subgroup"),
        "{msg}"
    );
    // An upload shorter than its header said.
    let e = upload_raw(
        &mut c,
        pb::Curve::Bn254,
        pb::PointEncoding::ArkUncompressed,
        11,
        &enc,
        100,
    )
    .await;
    let (k, msg) = code(e);
    assert_eq!(k, Code::InvalidArgument);
    assert!(
        msg.contains("announced 11 points; 10 whole points"),
        "{msg}"
    );
    // Unknown enum values and handles.
    let mut q = base_req.clone();
    q.curve = 9;
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "curve: unknown value 9",
    );
    let mut q = base_req.clone();
    q.bases = Some(pb::msm_request::Bases::Handle("ab".repeat(32)));
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::NotFound,
        "no base set",
    );
    let mut q = ntt_request(
        pb::NttField::Goldilocks,
        pb::NttDirection::Forward,
        vec![vec![0; 8 * 6]],
    );
    expect(
        c.raw().ntt(q.clone()).await.unwrap_err(),
        Code::InvalidArgument,
        "power-of-two",
    );
    q.direction = 0;
    expect(
        c.raw().ntt(q).await.unwrap_err(),
        Code::InvalidArgument,
        "direction",
    );
    // Shared memory over TCP (any path: it is never looked at).
    let mut q = base_req.clone();
    q.scalars = vec![pb::Elements {
        source: Some(pb::elements::Source::Shared(pb::SharedMemory {
            path: "/etc/passwd".into(),
            offset: 0,
            length: 320,
        })),
    }];
    expect(
        c.raw().msm(q).await.unwrap_err(),
        Code::InvalidArgument,
        "scalars[0]: shared memory is read only for clients on the daemon's Unix socket",
    );
    // An oversized message.
    let mut q = base_req.clone();
    q.scalars = vec![packed(vec![0u8; 65 << 20])];
    let e = c.raw().msm(q).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("max_message_bytes"), "{e:?}");

    // Still serving, and the good request is answered.
    let got = c.raw().msm(base_req).await.unwrap().into_inner();
    let want = msm::msm(&bases, &s).unwrap().into_affine();
    assert_eq!(
        wire::decode_point::<Bn254>(PointEncoding::ArkCompressed, &got.results[0]).unwrap(),
        want
    );
    d.running.stop().await.unwrap();
}

fn req_shm(handle: &str, path: &Path, offset: u64, length: u64) -> pb::MsmRequest {
    pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.into())),
        scalars: vec![pb::Elements {
            source: Some(pb::elements::Source::Shared(pb::SharedMemory {
                path: path.display().to_string(),
                offset,
                length,
            })),
        }],
        result_encoding: pb::PointEncoding::ArkUncompressed as i32,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_memory_unix_socket_and_restart() {
    let d = start().await;
    let mut r = rng(6);
    let bases = points::<Bn254>(500, &mut r);
    let s: Vec<ark_bn254::Fr> = scalars(500, &mut r);
    let want = msm::msm(&bases, &s).unwrap();
    let mut c = Client::connect(&format!(
        "unix:{}",
        d.dir.path().join("offload.sock").display()
    ))
    .await
    .unwrap();
    let handle = c.upload_bases::<Bn254>(&bases, "kept").await.unwrap();
    // Scalars in a shared-memory file, after 100 bytes of something else.
    let shm = d.dir.path().join("shm").join("scalars.bin");
    let mut file = vec![0xeeu8; 100];
    file.extend(wire::encode_elements(&s));
    std::fs::write(&shm, &file).unwrap();
    let req = pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
        scalars: vec![pb::Elements {
            source: Some(pb::elements::Source::Shared(pb::SharedMemory {
                path: shm.display().to_string(),
                offset: 100,
                length: 500 * 32,
            })),
        }],
        result_encoding: pb::PointEncoding::ArkUncompressed as i32,
    };
    let got = c.raw().msm(req).await.unwrap().into_inner();
    let got = wire::decode_point::<Bn254>(PointEncoding::ArkUncompressed, &got.results[0]).unwrap();
    assert_eq!(got, want.into_affine());
    // A region past the end of the file is refused, naming the field.
    let mut past = req_shm(&handle, &shm, 101, 500 * 32);
    past.curve = pb::Curve::Bn254 as i32;
    let e = c.raw().msm(past).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().starts_with("scalars[0]: offset 101"),
        "{}",
        e.message()
    );

    // Restart on the same data directory: the set is still there.
    let dir = d.dir;
    d.running.stop().await.unwrap();
    let running = offload_daemon::serve(config(dir.path())).await.unwrap();
    let mut c = Client::connect(&format!("http://{}", running.addr))
        .await
        .unwrap();
    let listed = c.list_bases().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].handle, handle);
    assert_eq!(c.msm::<Bn254>(&handle, &s).await.unwrap(), want);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_full_queues_and_cancellation() {
    let d = start_with(|c| c.queue_capacity = 2).await;
    // 64 concurrent clients, each verifying a batch.
    let url = d.url();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut c = Client::connect(&url).await.unwrap();
                loop {
                    let bad = [i % 16];
                    match c
                        .verify(
                            pb::Scheme::Ed25519,
                            pb::Policy::Default,
                            ed25519_items(16, &bad),
                        )
                        .await
                    {
                        Ok(r) => {
                            assert_eq!(r.valid, 15);
                            return;
                        }
                        // Two waiting jobs per backend: the rest are told to come back.
                        Err(offload_client::ClientError::Status(s))
                            if s.code() == Code::ResourceExhausted =>
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }

    // A long MSM occupies the bulk slot. Behind it: a request whose caller gives up (its
    // deadline passes while it waits), then twelve NTTs at once on a queue of two, so exactly
    // one more fits and eleven are refused; the abandoned job is dropped, never run.
    let mut r = rng(7);
    let mut c = d.client().await;
    // The twelve callers connect before the long job starts: on CI's two busy cores a
    // connection made while it runs could arrive after it ends, and find room.
    let mut callers = Vec::new();
    for _ in 0..12 {
        callers.push(Client::connect(&url).await.unwrap());
    }
    let bases = points::<Bn254>(1 << 15, &mut r);
    let handle = c.upload_bases::<Bn254>(&bases, "big").await.unwrap();
    let s: Vec<ark_bn254::Fr> = scalars(1 << 15, &mut r);
    let mut c1 = c.clone();
    let h = handle.clone();
    let s1 = s.clone();
    let long_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = long_done.clone();
    let long = tokio::spawn(async move {
        let scal: Vec<&[ark_bn254::Fr]> = (0..48).map(|_| s1.as_slice()).collect();
        let r = c1.msm_batch::<Bn254>(&h, &scal).await.map(|v| v.len());
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        r
    });
    let wait_for = |pred: fn(&pb::BackendInfo) -> bool| {
        let mut c = c.clone();
        async move {
            for _ in 0..1000 {
                let info = c.info().await.unwrap();
                if pred(&info.backends[0]) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            panic!("the daemon never reached the expected state");
        }
    };
    wait_for(|b| b.running > 0).await;
    let mut req = tonic::Request::new(pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
        scalars: vec![packed(wire::encode_elements(&s))],
        result_encoding: 0,
    });
    req.set_timeout(std::time::Duration::from_millis(400));
    let mut c2 = c.clone();
    let abandoned = tokio::spawn(async move { c2.raw().msm(req).await.map(|_| ()) });
    wait_for(|b| b.queue_depth > 0).await;

    let col: Vec<p3_goldilocks::Goldilocks> = elements(1 << 12, &mut r);
    let bytes = wire::encode_elements(&col);
    let calls: Vec<_> = callers
        .into_iter()
        .map(|mut c| {
            let bytes = bytes.clone();
            let long_done = long_done.clone();
            tokio::spawn(async move {
                let r = c
                    .raw()
                    .ntt(ntt_request(
                        pb::NttField::Goldilocks,
                        pb::NttDirection::Forward,
                        vec![bytes],
                    ))
                    .await
                    .map(|_| ())
                    .map_err(|s| s.code());
                (r, long_done.load(std::sync::atomic::Ordering::SeqCst))
            })
        })
        .collect();
    let (mut refused, mut late) = (0, 0);
    for t in calls {
        match t.await.unwrap() {
            (Ok(()), _) => {}
            (Err(Code::ResourceExhausted), after_long) => {
                refused += 1;
                late += after_long as i32;
            }
            (Err(c), _) => panic!("{c:?}"),
        }
    }
    // A refusal after the long job ended would mean the scenario itself did not hold.
    assert_eq!(
        late, 0,
        "the long MSM ended before {late} calls were refused: lengthen it"
    );
    assert_eq!(refused, 11);
    let e = abandoned.await.unwrap().unwrap_err();
    assert!(
        matches!(e.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{e:?}"
    );
    assert_eq!(long.await.unwrap().unwrap(), 48);
    // The worker drops the abandoned job when it reaches it, just after the long one; its
    // deadline (the call's grpc-timeout) had passed, so it counts as such, not as cancelled.
    let expired = |m: &str| {
        m.lines()
            .any(|l| l.starts_with("offload_jobs_total{") && l.contains("outcome=\"deadline\""))
    };
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = reqwest_metrics(d.running.metrics_addr.unwrap()).await;
        if expired(&metrics) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(expired(&metrics), "{metrics}");
    assert!(
        !metrics.contains("msm bn254\",backend=\"cpu\",outcome=\"ok\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("offload_job_seconds_bucket"), "{metrics}");

    // A client that leaves while its job runs: the job stops within one bucket task instead of
    // finishing its 24 vectors, and the engine says so (outcome "cancelled", not "ok").
    let mut c3 = c.clone();
    let leaving = tokio::spawn(async move {
        let scal: Vec<&[ark_bn254::Fr]> = (0..24).map(|_| s.as_slice()).collect();
        c3.msm_batch::<Bn254>(&handle, &scal).await.map(|v| v.len())
    });
    wait_for(|b| b.running > 0).await;
    leaving.abort();
    wait_for(|b| b.running == 0).await;
    // The abandoned job above counted as past its deadline: this is the first cancelled one.
    let stopped = |m: &str| {
        m.lines().any(|l| {
            l.starts_with("offload_jobs_total{op=\"msm\"")
                && l.contains("outcome=\"cancelled\"")
                && l.ends_with("} 1")
        })
    };
    for _ in 0..100 {
        metrics = reqwest_metrics(d.running.metrics_addr.unwrap()).await;
        if stopped(&metrics) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(stopped(&metrics), "{metrics}");
    d.running.stop().await.unwrap();
}

/// GET /metrics with a bare HTTP/1.0 request.
async fn reqwest_metrics(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

/// What grpcurl relies on: the health service says SERVING, reflection lists our service.
async fn health_and_reflection(url: &str) {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let ch = tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let h = HealthClient::new(ch.clone())
        .check(HealthCheckRequest {
            service: "offload.v1.Offload".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.status, 1, "SERVING");
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut out = ServerReflectionClient::new(ch)
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let resp = out.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(l)) = resp.message_response else {
        panic!("{resp:?}")
    };
    for want in ["offload.v1.Offload", "grpc.health.v1.Health"] {
        assert!(l.service.iter().any(|s| s.name == want), "{want}: {l:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msm_stream_carries_vectors_larger_than_a_message() {
    // A 1 MiB message limit; two vectors of 2^15 scalars (1 MiB each) arrive in 64 KiB chunks.
    let d = start_with(|c| c.max_message_bytes = 1 << 20).await;
    let mut c = d.client().await;
    let mut r = rng(8);
    let n = 1 << 15;
    let bases = points::<Bn254>(n, &mut r);
    let handle = c.upload_bases::<Bn254>(&bases, "").await.unwrap();
    let s0: Vec<ark_bn254::Fr> = scalars(n, &mut r);
    let s1: Vec<ark_bn254::Fr> = scalars(n, &mut r);
    let header = pb::MsmRequest {
        curve: pb::Curve::Bn254 as i32,
        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
        scalars: Vec::new(),
        result_encoding: pb::PointEncoding::ArkUncompressed as i32,
    };
    // Too big for one message.
    let mut whole = header.clone();
    whole.scalars = vec![packed(wire::encode_elements(&s0))];
    assert!(c.raw().msm(whole).await.is_err());
    let mut msgs = vec![pb::MsmStreamRequest {
        part: Some(pb::msm_stream_request::Part::Header(header)),
    }];
    for (v, s) in [&s0, &s1].into_iter().enumerate() {
        for chunk in wire::encode_elements(s).chunks(1 << 16) {
            msgs.push(pb::MsmStreamRequest {
                part: Some(pb::msm_stream_request::Part::Chunk(pb::ScalarChunk {
                    vector: v as u32,
                    packed: chunk.to_vec(),
                })),
            });
        }
    }
    let resp = c
        .raw()
        .msm_stream(tokio_stream::iter(msgs))
        .await
        .unwrap()
        .into_inner();
    let want = msm::msm_batch(&bases, &[&s0, &s1]).unwrap();
    for (got, want) in resp.results.iter().zip(&want) {
        let got = wire::decode_point::<Bn254>(PointEncoding::ArkUncompressed, got).unwrap();
        assert_eq!(got, want.into_affine());
    }
    // A stream that starts without its header is refused.
    let msgs = vec![pb::MsmStreamRequest {
        part: Some(pb::msm_stream_request::Part::Chunk(pb::ScalarChunk {
            vector: 0,
            packed: vec![0; 32],
        })),
    }];
    let e = c
        .raw()
        .msm_stream(tokio_stream::iter(msgs))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("header"), "{}", e.message());
    d.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_call_in_flight_finish() {
    let d = start().await;
    let mut c = d.client().await;
    let mut r = rng(9);
    let bases = points::<Bn254>(1 << 14, &mut r);
    let s: Vec<ark_bn254::Fr> = scalars(1 << 14, &mut r);
    let want = msm::msm_batch(&bases, &[&s, &s, &s, &s]).unwrap();
    let handle = c.upload_bases::<Bn254>(&bases, "").await.unwrap();
    let call = tokio::spawn(async move {
        let v: Vec<&[ark_bn254::Fr]> = vec![&s, &s, &s, &s];
        c.msm_batch::<Bn254>(&handle, &v).await
    });
    let mut watcher = d.client().await;
    while watcher.info().await.unwrap().backends[0].running == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    drop(watcher);
    d.running.stop().await.unwrap();
    assert_eq!(call.await.unwrap().unwrap(), want);
}

/// The daemon with the simulated FPGA preferred: BabyBear NTTs the engine takes run on the
/// cycle-accurate simulation and equal the CPU engine; everything else goes to the CPU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulated_fpga_runs_the_ntts_it_takes() {
    let d = start_with(|c| {
        c.fpga = Some("sim:6".into());
        c.prefer_backend = Some("fpga-sim".into());
    })
    .await;
    let mut c = d.client().await;
    let info = c.info().await.unwrap();
    let fpga = info
        .backends
        .iter()
        .find(|b| b.name == "fpga-sim")
        .expect("the FPGA backend is registered");
    assert!(
        fpga.healthy && fpga.device.contains("simulated"),
        "{fpga:?}"
    );
    assert_eq!(fpga.ops[0].kinds, vec!["babybear".to_string()]);
    assert_eq!(fpga.ops[0].max_size, 64);

    let mut r = rng(21);
    type Bb = p3_baby_bear::BabyBear;
    let orders = [pb::Ordering::Natural, pb::Ordering::BitReversed];
    for (k, (dir, input, output, log_n)) in [
        (pb::NttDirection::Forward, 0, 0, 6),
        (pb::NttDirection::Inverse, 1, 0, 5),
        (pb::NttDirection::Forward, 1, 1, 1),
        (pb::NttDirection::Inverse, 0, 1, 7),
    ]
    .into_iter()
    .enumerate()
    {
        let cols: Vec<Vec<Bb>> = (0..2).map(|_| elements(1 << log_n, &mut r)).collect();
        let mut req = ntt_request(
            pb::NttField::Babybear,
            dir,
            cols.iter().map(|c| wire::encode_elements(c)).collect(),
        );
        req.input_order = orders[input] as i32;
        req.output_order = orders[output] as i32;
        let resp = c.raw().ntt(req).await.unwrap().into_inner();
        let cfg = NttConfig {
            direction: if dir == pb::NttDirection::Inverse {
                Direction::Inverse
            } else {
                Direction::Forward
            },
            ..NttConfig::default()
        }
        .orders(
            [Order::Natural, Order::BitReversed][input],
            [Order::Natural, Order::BitReversed][output],
        );
        for (col, got) in cols.iter().zip(&resp.columns) {
            let mut want = col.clone();
            offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
            assert_eq!(&wire::encode_elements(&want), got, "case {k}");
        }
        let backend = resp.report.unwrap().backend;
        // 2^7 is past the simulated engine's 2^6: the CPU takes it.
        let want_backend = if log_n <= 6 { "fpga-sim" } else { "cpu" };
        assert_eq!(backend, want_backend, "case {k}");
    }
    // Another field goes to the CPU.
    let col: Vec<p3_goldilocks::Goldilocks> = elements(16, &mut r);
    let resp = c
        .raw()
        .ntt(ntt_request(
            pb::NttField::Goldilocks,
            pb::NttDirection::Forward,
            vec![wire::encode_elements(&col)],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.report.unwrap().backend, "cpu");
    d.running.stop().await.unwrap();

    // A simulated Goldilocks engine on two lanes takes Goldilocks, 64-bit elements and all.
    let d = start_with(|c| {
        c.fpga = Some("sim:goldilocks:6x2".into());
        c.prefer_backend = Some("fpga-sim".into());
    })
    .await;
    let mut c = d.client().await;
    let info = c.info().await.unwrap();
    let fpga = info.backends.iter().find(|b| b.name == "fpga-sim").unwrap();
    assert!(fpga.healthy, "{fpga:?}");
    assert_eq!(fpga.ops[0].kinds, vec!["goldilocks".to_string()]);
    let cols: Vec<Vec<p3_goldilocks::Goldilocks>> = (0..2).map(|_| elements(64, &mut r)).collect();
    let resp = c
        .raw()
        .ntt(ntt_request(
            pb::NttField::Goldilocks,
            pb::NttDirection::Inverse,
            cols.iter().map(|c| wire::encode_elements(c)).collect(),
        ))
        .await
        .unwrap()
        .into_inner();
    for (col, got) in cols.iter().zip(&resp.columns) {
        let mut want = col.clone();
        let cfg = NttConfig::inverse().orders(Order::Natural, Order::BitReversed);
        offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
        assert_eq!(&wire::encode_elements(&want), got);
    }
    assert_eq!(resp.report.unwrap().backend, "fpga-sim");
    d.running.stop().await.unwrap();

    // A board path that is no engine: the daemon serves on the CPU and says why.
    let d = start_with(|c| c.fpga = Some("/dev/null".into())).await;
    let info = d.client().await.info().await.unwrap();
    let fpga = info.backends.iter().find(|b| b.name == "fpga").unwrap();
    assert!(!fpga.healthy && !fpga.status.is_empty(), "{fpga:?}");
    d.running.stop().await.unwrap();
}

/// The GPU backend with its kernels emulated on the host, preferred: every field's NTT goes
/// through the GPU path (plans, launches, the backend contract) and equals the CPU engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulated_gpu_runs_ntts_msms_and_ed25519() {
    use offload_core::wire::WireField;
    use offload_engine::ntt::NttField;
    async fn check<F: NttField + WireField>(c: &mut Client, field: pb::NttField, seed: u64) {
        let mut r = rng(seed);
        let cols: Vec<Vec<F>> = (0..2).map(|_| elements(1 << 8, &mut r)).collect();
        let shift = F::from_u64(7);
        let mut req = ntt_request(
            field,
            pb::NttDirection::Inverse,
            cols.iter().map(|c| wire::encode_elements(c)).collect(),
        );
        let mut g = Vec::new();
        shift.encode(&mut g);
        req.coset = g;
        let resp = c.raw().ntt(req).await.unwrap().into_inner();
        let cfg = NttConfig {
            direction: Direction::Inverse,
            input: Order::Natural,
            output: Order::BitReversed,
            coset: Some(shift),
        };
        for (col, got) in cols.iter().zip(&resp.columns) {
            let mut want = col.clone();
            offload_engine::ntt::ntt(&mut want, &cfg).unwrap();
            assert_eq!(got, &wire::encode_elements(&want), "{field:?}");
        }
        assert_eq!(resp.report.unwrap().backend, "cuda-emulated", "{field:?}");
    }
    let d = start_with(|c| {
        c.cuda_emulate = true;
        c.prefer_backend = Some("cuda-emulated".into());
    })
    .await;
    let mut c = d.client().await;
    let info = c.info().await.unwrap();
    let gpu = info
        .backends
        .iter()
        .find(|b| b.name == "cuda-emulated")
        .expect("the emulated GPU backend is registered");
    assert!(gpu.healthy && gpu.ops.len() == 3, "{gpu:?}");
    check::<ark_bn254::Fr>(&mut c, pb::NttField::Bn254Fr, 71).await;
    check::<ark_bls12_381::Fr>(&mut c, pb::NttField::Bls12381Fr, 72).await;
    check::<p3_baby_bear::BabyBear>(&mut c, pb::NttField::Babybear, 73).await;
    check::<p3_goldilocks::Goldilocks>(&mut c, pb::NttField::Goldilocks, 74).await;

    // MSMs: BN254 with the point at infinity among the bases and two scalar vectors, and
    // BLS12-381.
    let mut r = rng(75);
    let mut bases = points::<Bn254>(60, &mut r);
    bases[9] = Affine::identity();
    let s1: Vec<ark_bn254::Fr> = scalars(60, &mut r);
    let s2: Vec<ark_bn254::Fr> = scalars(60, &mut r);
    let mut enc = Vec::new();
    for p in &bases {
        wire::encode_point::<Bn254>(PointEncoding::Eip196, p, &mut enc).unwrap();
    }
    let resp = c
        .raw()
        .msm(pb::MsmRequest {
            curve: pb::Curve::Bn254 as i32,
            bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
                encoding: pb::PointEncoding::Eip196 as i32,
                points: enc,
            })),
            scalars: vec![
                packed(wire::encode_elements(&s1)),
                packed(wire::encode_elements(&s2)),
            ],
            result_encoding: pb::PointEncoding::Eip196 as i32,
        })
        .await
        .unwrap()
        .into_inner();
    for (got, s) in resp.results.iter().zip([&s1, &s2]) {
        let got = wire::decode_point::<Bn254>(PointEncoding::Eip196, got).unwrap();
        assert_eq!(got, msm::msm(&bases, s).unwrap().into_affine());
    }
    assert_eq!(resp.report.unwrap().backend, "cuda-emulated");
    let bls = points::<Bls12_381>(30, &mut r);
    let s: Vec<ark_bls12_381::Fr> = scalars(30, &mut r);
    let mut enc = Vec::new();
    for p in &bls {
        wire::encode_point::<Bls12_381>(PointEncoding::Eip2537, p, &mut enc).unwrap();
    }
    let resp = c
        .raw()
        .msm(pb::MsmRequest {
            curve: pb::Curve::Bls12381 as i32,
            bases: Some(pb::msm_request::Bases::Inline(pb::InlineBases {
                encoding: pb::PointEncoding::Eip2537 as i32,
                points: enc,
            })),
            scalars: vec![packed(wire::encode_elements(&s))],
            result_encoding: pb::PointEncoding::Eip2537 as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let got = wire::decode_point::<Bls12_381>(PointEncoding::Eip2537, &resp.results[0]).unwrap();
    assert_eq!(got, msm::msm(&bls, &s).unwrap().into_affine());
    assert_eq!(resp.report.unwrap().backend, "cuda-emulated");

    // Ed25519 under the strict policy: a bad signature, a mis-sized one, the rest valid.
    let mut items = ed25519_items(12, &[4]);
    items[9].signature.truncate(63);
    let r = c
        .verify(pb::Scheme::Ed25519, pb::Policy::Ed25519Strict, items)
        .await
        .unwrap();
    assert_eq!(r.valid, 10);
    assert_eq!(r.verdicts[4].outcome, pb::Outcome::Invalid as i32);
    assert_eq!(r.verdicts[9].outcome, pb::Outcome::Malformed as i32);
    assert_eq!(r.report.unwrap().backend, "cuda-emulated");
    d.running.stop().await.unwrap();
}
