//! The GPU backend with its launches emulated on the host, where it differs from other
//! backends: failures handed back with the job, unhealthy after three, the probe refusing a
//! device that computes wrong answers, tables and bases resident, chunking, streaming. Its
//! answers are checked with every backend's in the conformance suite (offload-backends).

use offload_core::backend::{Accepts, Backend, Cancel, Health};
use offload_core::job::{Job, Ntt, NttJob, Output};
use offload_engine::ntt::NttConfig;
use offload_gpu::backend::{GpuBackend, OpenError};
use offload_gpu::exec::{ExecError, Executor, Host};
use offload_gpu::plan::Plan;
use p3_field::PrimeCharacteristicRing;

fn babybear_job(log_n: u32, columns: usize, cfg: NttConfig<p3_baby_bear::BabyBear>) -> Job {
    let data = (0..(columns << log_n) as u32)
        .map(|i| p3_baby_bear::BabyBear::from_u32(i.wrapping_mul(2654435761) % 0x7800_0001))
        .collect();
    Job::Ntt(NttJob::BabyBear(Ntt::new(cfg, columns, data).unwrap()))
}

/// What the emulated device claims: every field to its size, with cosets, and both curves.
/// Its answers against independent oracles are the conformance suite's
/// (`host/backends/tests/conformance.rs`).
#[test]
fn the_emulated_device_claims_every_field_and_curve() {
    let b = GpuBackend::host_emulation(12).unwrap();
    let ops = offload_core::caps::summarize(&b.capabilities(), |_| u64::MAX);
    let ntt_op = ops.iter().find(|o| o.op == "ntt").unwrap();
    assert!(ntt_op.kinds.len() == 4 && ntt_op.max_size == 1 << 12 && ntt_op.coset);
    assert!(ops.iter().any(|o| o.op == "msm" && o.kinds.len() == 2));
    let coset = NttConfig {
        coset: Some(p3_baby_bear::BabyBear::from_u32(5)),
        ..NttConfig::inverse()
    };
    assert!(b.accepts(&babybear_job(9, 4, coset)));
    assert!(!b.accepts(&babybear_job(13, 1, NttConfig::default())));
}

/// A prover's repeated transforms upload the data and nothing else: the twiddles and the coset
/// table are made once and stay on the device; a new coset adds its table only.
#[test]
fn ntt_tables_are_uploaded_once() {
    let b = GpuBackend::host_emulation(12).unwrap();
    let coset = |g: u32| NttConfig {
        coset: Some(p3_baby_bear::BabyBear::from_u32(g)),
        ..NttConfig::default()
    };
    let uploads = || b.resident().uploads;
    let run = |cfg| {
        let job = babybear_job(11, 2, cfg);
        assert!(matches!(b.run(job, &Cancel::never()), Ok(Output::Ntt(_))));
    };
    let start = uploads();
    run(coset(3));
    assert_eq!(uploads() - start, 2, "twiddles and the coset powers");
    run(coset(3));
    run(coset(3));
    assert_eq!(uploads() - start, 2);
    run(coset(11));
    assert_eq!(uploads() - start, 3, "the new coset's powers only");
}

struct Broken;
impl Executor for Broken {
    fn execute(&mut self, _: &mut Plan) -> Result<(), ExecError> {
        Err(ExecError::Cuda(
            "CUDA_ERROR_ILLEGAL_ADDRESS (injected)".into(),
        ))
    }
}

/// The host executor, failing every plan while `broken` is set.
struct Flaky {
    host: Host,
    broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
}
impl Executor for Flaky {
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        if self.broken.load(std::sync::atomic::Ordering::Relaxed) {
            return Broken.execute(plan);
        }
        self.host.execute(plan)
    }
}

#[test]
fn an_unhealthy_device_takes_jobs_again_once_it_passes_its_probe() {
    use std::sync::atomic::Ordering;
    let broken = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let exec = Flaky {
        host: Host::default(),
        broken: broken.clone(),
    };
    let b = GpuBackend::with("cuda", "test".into(), Box::new(exec), 12, 1e-9, 0.0);
    let job = || babybear_job(4, 1, NttConfig::default());
    for _ in 0..3 {
        assert!(b.run(job(), &Cancel::never()).is_err());
    }
    assert!(matches!(b.health(), Health::Unhealthy(_)));
    let why = b.recover().unwrap_err();
    assert!(why.contains("ILLEGAL_ADDRESS"), "{why}");
    assert!(matches!(b.health(), Health::Unhealthy(_)), "still failing");
    broken.store(false, Ordering::Relaxed);
    b.recover().unwrap();
    assert_eq!(b.health(), Health::Healthy);
    assert!(b.run(job(), &Cancel::never()).is_ok());
}

#[test]
fn a_device_error_hands_the_job_back_and_three_make_it_unhealthy() {
    let b = GpuBackend::with("cuda", "test".into(), Box::new(Broken), 12, 1e-9, 0.0);
    for i in 0..3 {
        assert_eq!(b.health(), Health::Healthy, "after {i} failures");
        let f = b
            .run(babybear_job(4, 1, NttConfig::default()), &Cancel::never())
            .err()
            .unwrap();
        assert!(f.reason.contains("ILLEGAL_ADDRESS"), "{}", f.reason);
        assert!(
            matches!(f.job, Some(Job::Ntt(NttJob::BabyBear(_)))),
            "the job comes back"
        );
    }
    assert!(matches!(b.health(), Health::Unhealthy(_)));
    // A cancelled job is handed back too, and is not the device's fault.
    let b = GpuBackend::with(
        "cuda",
        "test".into(),
        Box::new(Host::default()),
        12,
        1e-9,
        0.0,
    );
    let cancel = Cancel::new();
    cancel.cancel();
    for _ in 0..3 {
        assert!(b
            .run(babybear_job(4, 1, NttConfig::default()), &cancel)
            .is_err());
    }
    assert_eq!(b.health(), Health::Healthy);
}

/// Gets every answer wrong by one element.
struct Wrong;
impl Executor for Wrong {
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        Host::default().execute(plan)?;
        plan.buffers[0][0] ^= 1;
        Ok(())
    }
}

#[test]
fn a_device_that_computes_wrong_answers_is_not_registered() {
    assert!(matches!(
        GpuBackend::with_probe("cuda", "test".into(), Box::new(Wrong), 12),
        Err(OpenError::Probe(_))
    ));
    assert!(GpuBackend::with_probe("cuda", "test".into(), Box::new(Host::default()), 12).is_ok());
}

#[test]
fn msms_longer_than_the_device_holds_run_in_chunks() {
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use offload_core::job::{BaseSet, Msm, MsmJob, MsmOutput};
    use offload_engine::msm::Canonical;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(91);
    let points: Vec<ark_bn254::G1Affine> = (0..300)
        .map(|_| ark_bn254::G1Projective::rand(&mut rng).into_affine())
        .collect();
    let s: Vec<ark_bn254::Fr> = (0..300).map(|_| ark_bn254::Fr::rand(&mut rng)).collect();
    let b = GpuBackend::host_emulation(12).unwrap().with_msm_chunk(64);
    let bases = std::sync::Arc::new(BaseSet::inline(points.clone()));
    let job = Msm::new(bases, vec![s.iter().map(Canonical::from_field).collect()]).unwrap();
    let Ok(Output::Msm(MsmOutput::Bn254(r))) =
        b.run(Job::Msm(MsmJob::Bn254(job)), &Cancel::never())
    else {
        panic!("the emulated backend failed")
    };
    assert_eq!(r[0], ark_bn254::G1Projective::msm(&points, &s).unwrap());
}

#[test]
fn ed25519_batches_run_in_chunks_and_give_the_cpu_verdicts() {
    use ed25519_dalek::{Signer, SigningKey};
    use offload_core::job::{SigItem, SigScheme, VerifyJob};
    use offload_engine::sig::ed25519::{self, Policy};
    use offload_gpu::backend::VerifyTuning;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let mut items: Vec<SigItem> = (0..12u8)
        .map(|i| {
            let key = SigningKey::generate(&mut rng);
            let message = vec![i; i as usize * 9];
            SigItem {
                public_key: key.verifying_key().to_bytes().to_vec(),
                signature: key.sign(&message).to_bytes().to_vec(),
                message,
            }
        })
        .collect();
    items[3].message.push(1);
    items[7].signature.pop();
    items[10].public_key[0] ^= 0x40;
    let b = GpuBackend::host_emulation(8)
        .unwrap()
        .with_verify(VerifyTuning {
            chunk: 5,
            ..VerifyTuning::EMULATED
        });
    assert!(b.capabilities().iter().any(|o| o.op() == "verify"));
    for policy in ed25519::Policy::ALL {
        let job = Job::Verify(VerifyJob {
            scheme: SigScheme::Ed25519(policy),
            items: items.clone(),
            keys: None,
        });
        assert!(b.accepts(&job));
        let Ok(Output::Verify(got)) = b.run(job, &Cancel::never()) else {
            panic!("the emulated backend failed")
        };
        let want: Vec<_> = items
            .iter()
            .map(|it| {
                ed25519::verify(
                    policy,
                    &ed25519::Item {
                        public_key: &it.public_key,
                        signature: &it.signature,
                        message: &it.message,
                    },
                )
            })
            .collect();
        assert_eq!(got, want, "{policy:?}");
        assert_eq!(got.iter().filter(|v| v.is_valid()).count(), 9);
    }
    // Other schemes, and batches below the device's minimum, stay on the CPU.
    let bip = Job::Verify(VerifyJob {
        scheme: SigScheme::Bip340,
        items: items.clone(),
        keys: None,
    });
    assert!(!b.accepts(&bip));
    let gpu = GpuBackend::with(
        "cuda",
        "test".into(),
        Box::new(Host::default()),
        8,
        1e-9,
        0.0,
    )
    .with_verify(VerifyTuning::GPU);
    let small = Job::Verify(VerifyJob {
        scheme: SigScheme::Ed25519(Policy::Zip215),
        items,
        keys: None,
    });
    assert!(!gpu.accepts(&small));
}

#[test]
fn uploaded_bases_stay_on_the_device_until_their_set_is_released() {
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use offload_core::job::{BaseSet, Msm, MsmJob, MsmOutput};
    use offload_engine::msm::Canonical;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(92);
    let points: Vec<ark_bn254::G1Affine> = (0..100)
        .map(|_| ark_bn254::G1Projective::rand(&mut rng).into_affine())
        .collect();
    let run = |b: &GpuBackend, set: &std::sync::Arc<BaseSet<ark_bn254::g1::Config>>, seed| {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let s: Vec<ark_bn254::Fr> = (0..set.len())
            .map(|_| ark_bn254::Fr::rand(&mut rng))
            .collect();
        let job = Msm::new(
            set.clone(),
            vec![s.iter().map(Canonical::from_field).collect()],
        )
        .unwrap();
        let Ok(Output::Msm(MsmOutput::Bn254(r))) =
            b.run(Job::Msm(MsmJob::Bn254(job)), &Cancel::never())
        else {
            panic!("the emulated backend failed")
        };
        assert_eq!(r[0], ark_bn254::G1Projective::msm(&set.points, &s).unwrap());
    };
    let set = std::sync::Arc::new(BaseSet::resident(points.clone(), "h".into()));
    // Two chunks of 64 and 36 points, each uploaded once and then found on the device.
    let b = GpuBackend::host_emulation(12).unwrap().with_msm_chunk(64);
    let before = b.resident();
    run(&b, &set, 1);
    run(&b, &set, 2);
    run(&b, &set, 3);
    let s = b.resident();
    assert_eq!(s.uploads - before.uploads, 2);
    assert_eq!(s.hits - before.hits, 4);
    assert_eq!(s.uploaded_words - before.uploaded_words, 100 * 16);
    // (The start-up probe's NTT left its twiddle table resident: counts are relative.)
    assert_eq!(
        (s.buffers - before.buffers, s.words - before.words),
        (2, 100 * 16)
    );
    // Inline bases are never kept.
    let inline = std::sync::Arc::new(BaseSet::inline(points.clone()));
    run(&b, &inline, 4);
    assert_eq!(b.resident().uploads, s.uploads);
    // Another copy of the same content (the set reloaded from disk) finds the device's.
    let again = std::sync::Arc::new(BaseSet::resident(points.clone(), "h".into()));
    run(&b, &again, 5);
    assert_eq!(b.resident().uploads, s.uploads);
    // Releasing the set frees its copy at the next job.
    b.bases_released("h");
    run(&b, &inline, 5);
    let after = b.resident();
    assert_eq!(
        (after.buffers, after.words, after.freed - before.freed),
        (before.buffers, before.words, 2)
    );

    // A device with room for one chunk only: the two chunks take turns, results unchanged;
    // with room for none, the bases go with every run and nothing is kept.
    for (limit, kept) in [(64 * 16, 1), (10, 0)] {
        let set = std::sync::Arc::new(BaseSet::resident(points.clone(), "h".into()));
        let exec = Box::new(Host::with_resident_limit(limit));
        let b = GpuBackend::with("cuda", "test".into(), exec, 12, 1e-9, 0.0).with_msm_chunk(64);
        let before = b.resident();
        run(&b, &set, 6);
        run(&b, &set, 7);
        let s = b.resident();
        assert_eq!(s.buffers, kept, "limit {limit}");
        assert_eq!(s.uploads - before.uploads, 4, "limit {limit}");
        assert_eq!(s.evicted - before.evicted, if kept == 1 { 3 } else { 0 });
    }
}

/// Keeps one plan in flight, as the GPU's two streams do: each plan is handed back only after
/// the next one has been taken.
#[derive(Default)]
struct Lagged(Host);
impl Executor for Lagged {
    fn execute(&mut self, plan: &mut Plan) -> Result<(), ExecError> {
        self.0.execute(plan)
    }
    fn execute_stream(
        &mut self,
        next: &mut dyn FnMut() -> Option<Plan>,
        done: &mut dyn FnMut(Plan) -> Result<(), ExecError>,
    ) -> Result<(), ExecError> {
        let mut held: Option<Plan> = None;
        while let Some(mut p) = next() {
            self.0.execute(&mut p)?;
            if let Some(prev) = held.replace(p) {
                done(prev)?;
            }
        }
        held.map_or(Ok(()), done)
    }
}

#[test]
fn streamed_chunks_come_back_in_order_with_plans_in_flight() {
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use offload_core::job::{BaseSet, Msm, MsmJob, MsmOutput, SigItem, SigScheme, VerifyJob};
    use offload_engine::msm::Canonical;
    use offload_engine::sig::ed25519::Policy;
    use offload_gpu::backend::VerifyTuning;
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(93);
    let points: Vec<ark_bn254::G1Affine> = (0..90)
        .map(|_| ark_bn254::G1Projective::rand(&mut rng).into_affine())
        .collect();
    let vectors: Vec<Vec<ark_bn254::Fr>> = (0..3)
        .map(|_| (0..90).map(|_| ark_bn254::Fr::rand(&mut rng)).collect())
        .collect();
    let b = GpuBackend::with(
        "cuda",
        "test".into(),
        Box::new(Lagged::default()),
        12,
        1e-9,
        0.0,
    )
    .with_msm_chunk(40)
    .with_verify(VerifyTuning {
        chunk: 3,
        ..VerifyTuning::EMULATED
    });
    let job = Msm::new(
        std::sync::Arc::new(BaseSet::inline(points.clone())),
        vectors
            .iter()
            .map(|v| v.iter().map(Canonical::from_field).collect())
            .collect(),
    )
    .unwrap();
    let Ok(Output::Msm(MsmOutput::Bn254(r))) =
        b.run(Job::Msm(MsmJob::Bn254(job)), &Cancel::never())
    else {
        panic!("the lagged executor failed")
    };
    assert_eq!(r.len(), 3);
    for (got, v) in r.iter().zip(&vectors) {
        assert_eq!(*got, ark_bn254::G1Projective::msm(&points, v).unwrap());
    }

    // Verdicts of 10 items in chunks of 3 land on their own items.
    let items: Vec<SigItem> = (0..10)
        .map(|i| SigItem {
            public_key: vec![0; if i % 4 == 1 { 31 } else { 32 }],
            signature: vec![0; if i % 4 == 2 { 63 } else { 64 }],
            message: vec![],
        })
        .collect();
    let job = Job::Verify(VerifyJob {
        scheme: SigScheme::Ed25519(Policy::Zip215),
        items: items.clone(),
        keys: None,
    });
    let Ok(Output::Verify(v)) = b.run(job, &Cancel::never()) else {
        panic!("the lagged executor failed")
    };
    for (i, (got, it)) in v.iter().zip(&items).enumerate() {
        let want = offload_engine::sig::ed25519::verify(
            Policy::Zip215,
            &offload_engine::sig::ed25519::Item {
                public_key: &it.public_key,
                signature: &it.signature,
                message: &it.message,
            },
        );
        assert_eq!(*got, want, "item {i}");
    }
}
