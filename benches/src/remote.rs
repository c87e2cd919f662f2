//! The same cases through a running offloadd: what a client sees, transfer and encoding
//! included. Each timed run encodes the inputs as a client must (and, with shared memory,
//! writes them to the shared file), calls the daemon and waits for the answer. Base sets are
//! uploaded once, before timing: resident bases are the point of the daemon.

use crate::{convert, sig, Case, Curve, Field, Runner, Scheme};
use ark_ec::short_weierstrass::Projective;
use offload_client::v1 as pb;
use offload_client::{Client, ClientCurve};
use offload_core::wire::{self, PointEncoding, WireField};
use offload_engine::ntt::NttField;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the daemon is and how to reach it.
#[derive(Clone, Debug)]
pub struct Target {
    /// `http://host:port` or `unix:/path`.
    pub addr: String,
    /// Send MSM scalars through this shared-memory directory instead of in the message.
    pub shm_dir: Option<PathBuf>,
    /// TLS material and token.
    pub options: offload_client::ConnectOptions,
}

pub struct Remote {
    rt: Arc<tokio::runtime::Runtime>,
    client: Client,
    call: Call,
    name: String,
    out: Vec<u8>,
}

enum Call {
    Msm {
        curve: Curve,
        handle: String,
        scalars: ScalarsOf,
        shm: Option<PathBuf>,
    },
    Ntt {
        field: Field,
        column: Vec<u8>,
    },
    Verify {
        scheme: pb::Scheme,
        policy: pb::Policy,
        items: Vec<pb::VerifyItem>,
    },
}

/// The case's scalars, encoded at each run as a client would.
type ScalarsOf = Box<dyn Fn() -> Vec<u8> + Send>;

fn elements(source: pb::elements::Source) -> pb::Elements {
    pb::Elements {
        source: Some(source),
    }
}

impl Runner for Remote {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn run(&mut self) {
        let client = &mut self.client;
        let out = self.rt.block_on(async {
            match &self.call {
                Call::Msm {
                    curve,
                    handle,
                    scalars,
                    shm,
                } => {
                    let bytes = scalars();
                    let source = match shm {
                        Some(path) => {
                            std::fs::write(path, &bytes).expect("writing shared memory");
                            pb::elements::Source::Shared(pb::SharedMemory {
                                path: path.display().to_string(),
                                offset: 0,
                                length: bytes.len() as u64,
                            })
                        }
                        None => pb::elements::Source::Packed(bytes),
                    };
                    let req = pb::MsmRequest {
                        curve: pb::Curve::from(*curve) as i32,
                        bases: Some(pb::msm_request::Bases::Handle(handle.clone())),
                        scalars: vec![elements(source)],
                        result_encoding: pb::PointEncoding::ArkUncompressed as i32,
                    };
                    let r = client.raw().msm(req).await.expect("daemon MSM");
                    r.into_inner().results.concat()
                }
                Call::Ntt { field, column } => {
                    let req = pb::NttRequest {
                        field: pb::NttField::from(*field) as i32,
                        direction: pb::NttDirection::Forward as i32,
                        input_order: 0,
                        output_order: 0,
                        coset: Vec::new(),
                        columns: vec![elements(pb::elements::Source::Packed(column.clone()))],
                    };
                    let r = client.raw().ntt(req).await.expect("daemon NTT");
                    r.into_inner().columns.concat()
                }
                Call::Verify {
                    scheme,
                    policy,
                    items,
                } => {
                    let r = client
                        .verify(*scheme, *policy, items.clone())
                        .await
                        .expect("daemon verify");
                    r.verdicts
                        .iter()
                        .map(|v| u8::from(v.outcome == pb::Outcome::Valid as i32))
                        .collect()
                }
            }
        });
        self.out = out;
    }

    /// The same digest the in-process runner of the case computes.
    fn digest(&self) -> Vec<u8> {
        fn point<C: ClientCurve>(b: &[u8]) -> Vec<u8> {
            let p = wire::decode_point::<C>(PointEncoding::ArkUncompressed, b)
                .expect("the daemon's point decodes");
            convert::ark_point_digest(&Projective::from(p))
        }
        fn field<F: NttField + WireField>(b: &[u8], digest: fn(&[F]) -> Vec<u8>) -> Vec<u8> {
            digest(&wire::decode_elements::<F>(b).expect("the daemon's elements decode"))
        }
        match &self.call {
            Call::Msm { curve, .. } => offload_wire::with_curve!(curve, C => point::<C>(&self.out)),
            Call::Ntt { field: f, .. } => match f {
                Field::Bn254 => field(&self.out, convert::ark_fields_fingerprint::<ark_bn254::Fr>),
                Field::Bls12_381 => field(
                    &self.out,
                    convert::ark_fields_fingerprint::<ark_bls12_381::Fr>,
                ),
                Field::BabyBear => {
                    field(&self.out, crate::ntt::p3_digest::<p3_baby_bear::BabyBear>)
                }
                Field::Goldilocks => field(
                    &self.out,
                    crate::ntt::p3_digest::<p3_goldilocks::Goldilocks>,
                ),
            },
            Call::Verify { .. } => sig::digest(self.out.iter().map(|&v| v == 1)),
        }
    }
}

/// The remote contender for `case`, uploading its bases first; an error says why a case cannot
/// run remotely.
pub fn runner(case: Case, target: &Target) -> Result<Box<dyn Runner>, String> {
    // The provers bring their own client.
    match case {
        Case::Groth16 { curve, log_n } => return groth16_runner(curve, log_n, target),
        Case::Stark { field, log_n } => {
            let offload = offload_prover::Offload::connect(&target.addr, &target.options)
                .map_err(|e| e.to_string())?;
            let dft = crate::stark::OffloadDft::on(Arc::new(offload));
            return crate::stark::runners(field, log_n, ("remote", dft), false)
                .pop()
                .ok_or_else(|| format!("no STARK over {field}"));
        }
        Case::Rows {
            field,
            log_n,
            width,
            lde,
        } => {
            let offload = offload_prover::Offload::connect(&target.addr, &target.options)
                .map_err(|e| e.to_string())?;
            let ours = ("remote", Arc::new(offload));
            return crate::ntt::rows_runners(field, log_n, width, lde, ours, false)
                .pop()
                .ok_or_else(|| format!("no row-major transforms over {field}"));
        }
        _ => {}
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?,
    );
    let mut client = rt
        .block_on(Client::connect_with(&target.addr, &target.options))
        .map_err(|e| e.to_string())?;
    let call = match case {
        // The daemon builds a fixed-base table for a resident set on its second use (memory
        // permitting) whatever the case says; `--fixed-bases` makes the in-process runner do
        // the same, for a like-for-like comparison.
        Case::Msm { curve, log_n, .. } => {
            let n = 1usize << log_n;
            let seed = 0x0ff1_0ad0 + log_n as u64;
            let (handle, scalars): (_, ScalarsOf) = offload_wire::with_curve!(curve, C => {
                let (b, s) = crate::msm::inputs::<C>(n, seed);
                let h = rt.block_on(client.upload_bases::<C>(&b, "bench"));
                (h, Box::new(move || wire::encode_elements(&s)))
            });
            let handle = handle.map_err(|e| format!("uploading bases: {e}"))?;
            // The daemon builds the set's fixed-base table in the background; time the
            // steady state, not the build.
            for _ in 0..600 {
                let sets = rt
                    .block_on(client.list_bases())
                    .map_err(|e| e.to_string())?;
                if !sets
                    .iter()
                    .any(|s| s.handle == handle && s.table == "building")
                {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Call::Msm {
                curve,
                handle,
                scalars,
                shm: target
                    .shm_dir
                    .as_ref()
                    .map(|d| d.join(format!("bench-scalars-{}", std::process::id()))),
            }
        }
        Case::Ntt { field, log_n } => {
            let n = 1usize << log_n;
            let seed = 0x0ff1_0ad1 + log_n as u64;
            let column = match field {
                Field::Bn254 => {
                    wire::encode_elements(&crate::ntt::inputs::<ark_bn254::Fr>(n, seed))
                }
                Field::Bls12_381 => {
                    wire::encode_elements(&crate::ntt::inputs::<ark_bls12_381::Fr>(n, seed))
                }
                Field::BabyBear => {
                    wire::encode_elements(&crate::ntt::inputs::<p3_baby_bear::BabyBear>(n, seed))
                }
                Field::Goldilocks => {
                    wire::encode_elements(&crate::ntt::inputs::<p3_goldilocks::Goldilocks>(n, seed))
                }
            };
            Call::Ntt { field, column }
        }
        Case::Groth16 { .. } | Case::Stark { .. } | Case::Rows { .. } => {
            unreachable!("answered above")
        }
        Case::Verify {
            scheme: Scheme::Ed25519(policy),
            batch,
        } => {
            let items = sig::ed25519_inputs(batch, 0x0ff1_0ad2 + batch as u64)
                .into_iter()
                .map(|(k, s, m)| pb::VerifyItem {
                    public_key: k.to_bytes().to_vec(),
                    signature: s.to_bytes().to_vec(),
                    message: m,
                })
                .collect();
            use offload_engine::sig::ed25519::Policy;
            Call::Verify {
                scheme: pb::Scheme::Ed25519,
                policy: match policy {
                    Policy::Zip215 => pb::Policy::Ed25519Zip215,
                    Policy::Strict => pb::Policy::Ed25519Strict,
                    Policy::Rfc8032 => pb::Policy::Ed25519Rfc8032,
                },
                items,
            }
        }
        Case::Verify {
            scheme: Scheme::Schnorr,
            batch,
        } => Call::Verify {
            scheme: pb::Scheme::Bip340,
            policy: pb::Policy::Default,
            items: verify_items(crate::secp::schnorr_inputs(batch)),
        },
        Case::Verify {
            scheme: Scheme::Ecdsa { low_s },
            batch,
        } => Call::Verify {
            scheme: pb::Scheme::EcdsaSecp256k1,
            policy: if low_s {
                pb::Policy::EcdsaLowS
            } else {
                pb::Policy::EcdsaAnyS
            },
            items: verify_items(crate::secp::ecdsa_inputs(batch)),
        },
        Case::Verify {
            scheme: Scheme::Bls,
            batch,
        } => Call::Verify {
            scheme: pb::Scheme::Bls12381Eth,
            policy: pb::Policy::Default,
            items: verify_items(crate::bls::inputs(batch)),
        },
    };
    let name = match (&call, &target.shm_dir) {
        (Call::Msm { .. }, Some(_)) => format!("remote+shm:{}", target.addr),
        _ => format!("remote:{}", target.addr),
    };
    Ok(Box::new(Remote {
        rt,
        client,
        call,
        name,
        out: Vec::new(),
    }))
}

fn verify_items(v: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>) -> Vec<pb::VerifyItem> {
    v.into_iter()
        .map(|(k, s, m)| pb::VerifyItem {
            public_key: k,
            signature: s,
            message: m,
        })
        .collect()
}

/// Our Groth16 prover with every MSM and FFT on the daemon, the key's queries uploaded once.
fn groth16_runner(curve: Curve, log_n: u32, target: &Target) -> Result<Box<dyn Runner>, String> {
    fn on<E: offload_prover::groth16::ProverPairing>(
        curve: Curve,
        log_n: u32,
        target: &Target,
    ) -> Result<Box<dyn Runner>, String>
    where
        E::ScalarField: ark_crypto_primitives::sponge::Absorb,
    {
        let offload = offload_prover::Offload::connect(&target.addr, &target.options)
            .map_err(|e| e.to_string())?;
        let inst = crate::groth16::instance::<E>(curve, log_n);
        Ok(Box::new(crate::groth16::Ours::new(
            "remote", offload, inst,
        )?))
    }
    match curve {
        Curve::Bn254 | Curve::Bn254G2 => on::<ark_bn254::Bn254>(Curve::Bn254, log_n, target),
        Curve::Bls12_381 | Curve::Bls12_381G2 => {
            on::<ark_bls12_381::Bls12_381>(Curve::Bls12_381, log_n, target)
        }
    }
}
