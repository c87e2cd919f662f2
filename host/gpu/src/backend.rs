//! The GPU behind the daemon's `Backend` trait: NTT jobs of every field, order and coset, and
//! G1 MSMs of BN254 and BLS12-381, run as [`plan`]s on an [`Executor`]. Any failure (a CUDA
//! error, or an MSM result that is not a curve point) hands the job back for the CPU
//! fallback, and three in a row mark the backend unhealthy. Ed25519 batches of at least
//! `verify_min_batch` signatures run one thread per signature, in chunks. MSMs longer than
//! the device holds run in chunks. The points of an uploaded (handled) base set stay on the
//! device between jobs while the set lives, within a quarter of device memory; inline bases
//! travel with their job.

use crate::curve::DeviceCurve;
use crate::exec::{Cuda, ExecError, Executor, Host};
use crate::field::DeviceField;
use crate::plan;
use crate::resident::ResidentStats;
use crate::sig;
use ark_ec::short_weierstrass::Projective;
use ark_ec::AffineRepr as _;
use offload_core::backend::{Backend, Cancel, Capability, Failure, Health, Strikes};
use offload_core::job::{
    FieldId, Job, JobCurve, JobField, Msm, MsmJob, Ntt, NttJob, Output, SchemeId, SigItem,
    SigScheme,
};
use offload_core::wire::{Curve, CurveId};
use offload_engine::msm::ScalarLimbs;
use offload_engine::ntt::{Direction, NttConfig, Order};
use offload_engine::sig::ed25519::{self, Policy};
use offload_engine::sig::Verdict;
use offload_kernels::probe::GpuInfo;
use std::sync::Mutex;
use std::time::Duration;

pub struct GpuBackend {
    name: String,
    device: String,
    exec: Mutex<Box<dyn Executor>>,
    max_log: u32,
    /// Points per MSM run on the device; longer MSMs run in chunks whose results are added.
    msm_chunk: usize,
    /// Seconds per element per stage, and per byte moved, for the prior estimate.
    per_butterfly: f64,
    per_byte: f64,
    verify: VerifyTuning,
    strikes: Strikes,
    /// Sets released while the executor was busy, freed when it is next taken.
    released: Mutex<Vec<String>>,
}

/// Where signature batches go to the device and what they are expected to cost there.
#[derive(Clone, Copy, Debug)]
pub struct VerifyTuning {
    /// Smaller batches stay on the CPU: below this, launch and transfer latency outweigh the
    /// device's throughput.
    pub min_batch: usize,
    /// Signatures per device run; longer batches run in chunks (cancellable between them).
    pub chunk: usize,
    /// Prior seconds per signature and per device run (launch, transfers, synchronisation),
    /// until the scheduler's calibration and observations replace them.
    pub per_signature: f64,
    pub per_run: f64,
}

impl VerifyTuning {
    /// Priors for a datacenter GPU, not yet measured on one (docs/PERFORMANCE.md): the
    /// issue's target of 5 M signatures/s and a launch-plus-transfer latency of 100 µs. The
    /// scheduler places a batch on the earliest expected finish, so the crossover with the CPU
    /// follows from these and the CPU's calibrated cost; `min_batch` only keeps single
    /// signatures off the device.
    pub const GPU: Self = Self {
        min_batch: 64,
        chunk: 1 << 20,
        per_signature: 2e-7,
        per_run: 1e-4,
    };
    /// The host executor: one thread, about a millisecond a signature.
    pub const EMULATED: Self = Self {
        min_batch: 1,
        chunk: 1 << 10,
        per_signature: 1e-3,
        per_run: 0.0,
    };
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("the probe NTT ({0}) differs from the CPU engine's")]
    Probe(&'static str),
}

impl GpuBackend {
    /// The GPU `gpu` describes, after a probe NTT per field equals the CPU engine's.
    pub fn cuda(gpu: &GpuInfo) -> Result<Self, OpenError> {
        // A quarter of the device for resident base sets; plans use at most half.
        let exec = Cuda::new(gpu.ordinal, gpu.arch(), gpu.total_mem / 4)?;
        // Data, twiddles (n/2) and the table (n), in the widest field (8 words), within half
        // of the device's memory.
        let max_elems = (gpu.total_mem / 2 / (32 * 5 / 2)).max(1);
        let max_log = (usize::BITS - 1 - max_elems.leading_zeros()).min(28);
        let b = Self::with(
            "cuda",
            format!(
                "{} (compute {}.{}, {} MiB)",
                gpu.name,
                gpu.compute_capability.0,
                gpu.compute_capability.1,
                gpu.total_mem >> 20
            ),
            Box::new(exec),
            max_log,
            1e-11,
            1.0 / 20e9,
        )
        .with_verify(VerifyTuning::GPU)
        // An MSM point costs about 400 bytes of device memory (base, scalar, three entries
        // per window, its share of the buckets); use at most half of the device.
        .with_msm_chunk((gpu.total_mem / 2 / 400).max(1 << 10));
        b.probe()?;
        Ok(b)
    }

    pub fn with_verify(mut self, tuning: VerifyTuning) -> Self {
        self.verify = VerifyTuning {
            chunk: tuning.chunk.max(1),
            ..tuning
        };
        self
    }

    /// What the executor keeps on the device between jobs.
    pub fn resident(&self) -> ResidentStats {
        self.executor().resident()
    }

    /// MSMs run on the device in chunks of at most `points`.
    pub fn with_msm_chunk(mut self, points: usize) -> Self {
        self.msm_chunk = points.max(1);
        self
    }

    /// The same plans run by the host executor: the whole backend on a machine with no GPU,
    /// for tests and bring-up. Slow (one thread).
    pub fn host_emulation(max_log: u32) -> Result<Self, OpenError> {
        let b = Self::with(
            "cuda-emulated",
            "CUDA kernels emulated on the host".into(),
            Box::new(Host::default()),
            max_log,
            5e-8,
            0.0,
        )
        .with_verify(VerifyTuning::EMULATED);
        b.probe()?;
        Ok(b)
    }

    /// Any executor, registered only if its probe NTTs equal the CPU engine's.
    pub fn with_probe(
        name: &str,
        device: String,
        exec: Box<dyn Executor>,
        max_log: u32,
    ) -> Result<Self, OpenError> {
        let b = Self::with(name, device, exec, max_log, 1e-9, 0.0);
        b.probe()?;
        Ok(b)
    }

    /// Any executor, unprobed (tests inject failing ones).
    pub fn with(
        name: &str,
        device: String,
        exec: Box<dyn Executor>,
        max_log: u32,
        per_butterfly: f64,
        per_byte: f64,
    ) -> Self {
        Self {
            name: name.into(),
            device,
            exec: Mutex::new(exec),
            max_log,
            msm_chunk: 1 << max_log,
            per_butterfly,
            per_byte,
            verify: VerifyTuning::GPU,
            strikes: Strikes::default(),
            released: Mutex::new(Vec::new()),
        }
    }

    /// The executor, after freeing what sets released meanwhile held.
    fn executor(&self) -> std::sync::MutexGuard<'_, Box<dyn Executor>> {
        let mut exec = self.exec.lock().unwrap_or_else(|e| e.into_inner());
        let released =
            std::mem::take(&mut *self.released.lock().unwrap_or_else(|e| e.into_inner()));
        for handle in released {
            exec.release(&handle);
        }
        exec
    }

    fn probe(&self) -> Result<(), OpenError> {
        fn one<F: DeviceField>(
            b: &GpuBackend,
            cfg: NttConfig<F>,
            what: &'static str,
        ) -> Result<(), OpenError> {
            let data: Vec<F> = (0..32u64).map(|i| F::from_u64(i * i + 3)).collect();
            let mut want = data.clone();
            for col in want.chunks_mut(16) {
                offload_engine::ntt::ntt(col, &cfg).map_err(|_| OpenError::Probe(what))?;
            }
            let mut p = plan::ntt(&cfg, 4, 2, &data);
            b.executor().execute(&mut p)?;
            if plan::decode::<F>(&p) != want {
                return Err(OpenError::Probe(what));
            }
            Ok(())
        }
        fn inverse_coset<F>(g: F) -> NttConfig<F> {
            NttConfig {
                direction: Direction::Inverse,
                input: Order::BitReversed,
                output: Order::Natural,
                coset: Some(g),
            }
        }
        one::<p3_baby_bear::BabyBear>(self, NttConfig::default(), "babybear forward")?;
        one(
            self,
            inverse_coset(p3_goldilocks::Goldilocks::from_u64(7)),
            "goldilocks inverse on a coset",
        )?;
        one::<ark_bn254::Fr>(self, NttConfig::default(), "bn254 forward")?;
        // And one MSM: 16 multiples of the generator with small scalars.
        let g = ark_bn254::G1Affine::generator();
        let bases = vec![g; 16];
        let scalars: Vec<[u64; 4]> = (1..=16).map(|k| [k, 0, 0, 0]).collect();
        let mut p = plan::msm(&bases, &scalars, plan::window_bits(16));
        self.executor().execute(&mut p)?;
        let want = g * ark_bn254::Fr::from(136u64);
        if ark_bn254::g1::Config::from_xyzz(&p.buffers[p.result]) != Some(want) {
            return Err(OpenError::Probe("bn254 msm"));
        }
        one(
            self,
            inverse_coset(ark_bls12_381::Fr::from(7u64)),
            "bls12-381 inverse on a coset",
        )?;
        self.probe_ed25519()
    }

    /// RFC 8032's first test vector (empty message), as sent and with S tampered: the
    /// device's verdicts must be the CPU's, one valid and one not.
    fn probe_ed25519(&self) -> Result<(), OpenError> {
        fn unhex(s: &str) -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
                .collect()
        }
        let pk = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let good = unhex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155\
             5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        let mut bad = good.clone();
        bad[40] ^= 1;
        let items: Vec<ed25519::Item> = [&good, &bad]
            .iter()
            .map(|sig| ed25519::Item {
                public_key: &pk,
                signature: sig,
                message: &[],
            })
            .collect();
        let want: Vec<Verdict> = items
            .iter()
            .map(|it| ed25519::verify(Policy::Zip215, it))
            .collect();
        let (mut p, slots) =
            sig::ed25519(Policy::Zip215, &items).map_err(|_| OpenError::Probe("ed25519 verify"))?;
        self.executor().execute(&mut p)?;
        let got = slots
            .verdicts(&p)
            .map_err(|_| OpenError::Probe("ed25519 verify"))?;
        if got != want || want != [Verdict::Valid, Verdict::Invalid] {
            return Err(OpenError::Probe("ed25519 verify"));
        }
        Ok(())
    }

    fn run_msm<C: Curve + DeviceCurve>(
        &self,
        m: Msm<C>,
        cancel: &Cancel,
    ) -> Result<Vec<Projective<C>>, (String, Msm<C>)> {
        let bases = &m.bases().points;
        let handle: Option<std::sync::Arc<str>> = m.bases().handle.as_deref().map(Into::into);
        let chunk = self.msm_chunk.min(bases.len()).max(1);
        let c = plan::window_bits(chunk);
        // An empty MSM is one empty chunk (the identity), run like any other.
        let starts: Vec<usize> = if bases.is_empty() {
            vec![0]
        } else {
            (0..bases.len()).step_by(chunk).collect()
        };
        // Every (vector, chunk) pair in order, streamed so that the device overlaps one
        // chunk's transfers with the previous chunk's compute.
        let mut todo = m
            .scalars()
            .iter()
            .flat_map(|s| starts.iter().map(move |&start| (s, start)));
        let mut cancelled = false;
        let mut next = || {
            if cancel.is_cancelled() {
                cancelled = true;
                return None;
            }
            let (s, start) = todo.next()?;
            let end = (start + chunk).min(bases.len());
            let limbs: Vec<[u64; 4]> = s[start..end].iter().map(|x| x.limbs()).collect();
            Some(if let Some(h) = &handle {
                plan::msm_resident(m.bases(), h, start..end, &limbs, c)
            } else {
                plan::msm(&bases[start..end], &limbs, c)
            })
        };
        let mut out = Vec::with_capacity(m.scalars().len());
        let mut sum = Projective::<C>::default();
        let mut chunks_done = 0;
        let mut done = |p: plan::Plan| {
            let r = C::from_xyzz(&p.buffers[p.result]).ok_or_else(|| {
                ExecError::BadResult("the device returned a point not on the curve".into())
            })?;
            sum += r;
            chunks_done += 1;
            if chunks_done % starts.len() == 0 {
                out.push(std::mem::take(&mut sum));
            }
            Ok(())
        };
        let ran = self.executor().execute_stream(&mut next, &mut done);
        if let Err(e) = ran {
            return Err((e.to_string(), m));
        }
        if cancelled {
            return Err(("cancelled".into(), m));
        }
        Ok(out)
    }

    /// One verdict per item. Items are packed per chunk, so a batch never needs more device
    /// memory than a chunk of signatures and their messages.
    fn run_verify(
        &self,
        policy: Policy,
        items: &[SigItem],
        cancel: &Cancel,
    ) -> Result<Vec<Verdict>, String> {
        let mut chunks = items.chunks(self.verify.chunk);
        // Filled by `next`, emptied by `done`, in the same order.
        let pending = std::cell::RefCell::new(std::collections::VecDeque::new());
        let mut cancelled = false;
        let mut plan_error = None;
        let mut next = || {
            if cancel.is_cancelled() {
                cancelled = true;
                return None;
            }
            let its: Vec<ed25519::Item> = chunks
                .next()?
                .iter()
                .map(|it| ed25519::Item {
                    public_key: &it.public_key,
                    signature: &it.signature,
                    message: &it.message,
                })
                .collect();
            match sig::ed25519(policy, &its) {
                Ok((plan, slots)) => {
                    pending.borrow_mut().push_back(slots);
                    Some(plan)
                }
                Err(e) => {
                    plan_error = Some(e.to_string());
                    None
                }
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut done = |p: plan::Plan| {
            let slots = pending
                .borrow_mut()
                .pop_front()
                .ok_or_else(|| ExecError::BadResult("a plan came back twice".into()))?;
            out.extend(
                slots
                    .verdicts(&p)
                    .map_err(|e| ExecError::BadResult(e.to_string()))?,
            );
            Ok(())
        };
        self.executor()
            .execute_stream(&mut next, &mut done)
            .map_err(|e| e.to_string())?;
        if cancelled {
            return Err("cancelled".into());
        }
        if let Some(e) = plan_error {
            return Err(e);
        }
        Ok(out)
    }

    /// One arm of `run` for every field: the job handed back whole on failure.
    fn ntt_job<F: DeviceField + JobField>(
        &self,
        n: Ntt<F>,
        cancel: &Cancel,
    ) -> Result<Output, (String, Job)> {
        self.run_ntt(n, cancel)
            .map(|n| Output::Ntt(F::ntt_job(n)))
            .map_err(|(r, n)| (r, Job::Ntt(F::ntt_job(n))))
    }

    /// One arm of `run` for every curve.
    fn msm_job<C: DeviceCurve + JobCurve>(
        &self,
        m: Msm<C>,
        cancel: &Cancel,
    ) -> Result<Output, (String, Job)> {
        self.run_msm(m, cancel)
            .map(|r| Output::Msm(C::msm_output(r)))
            .map_err(|(r, m)| (r, Job::Msm(C::msm_job(m))))
    }

    fn run_ntt<F: DeviceField>(
        &self,
        mut n: Ntt<F>,
        cancel: &Cancel,
    ) -> Result<Ntt<F>, (String, Ntt<F>)> {
        if cancel.is_cancelled() {
            return Err(("cancelled".into(), n));
        }
        let mut p = plan::ntt(&n.cfg, n.log_n(), n.columns(), &n.data);
        let ran = self.executor().execute(&mut p);
        match ran {
            Ok(()) => {
                n.data = plan::decode(&p);
                Ok(n)
            }
            Err(e) => Err((e.to_string(), n)),
        }
    }
}

use offload_engine::ntt::NttField as _;

impl Backend for GpuBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn device(&self) -> String {
        self.device.clone()
    }

    fn capabilities(&self) -> Vec<Capability> {
        // Past what the device holds, MSMs run in chunks.
        let msm = [CurveId::Bn254, CurveId::Bls12_381].map(|curve| Capability::Msm {
            curve,
            max_points: u64::MAX,
        });
        let ntt = FieldId::ALL.map(|field| Capability::Ntt {
            field,
            log_n: 0..=self.max_log.min(field.two_adicity()),
            coset: true,
        });
        // Smaller Ed25519 batches are faster on the CPU than a launch.
        let verify = Capability::Verify {
            scheme: SchemeId::Ed25519,
            batch: self.verify.min_batch as u64..=u64::MAX,
        };
        msm.into_iter().chain(ntt).chain([verify]).collect()
    }

    fn estimate(&self, job: &Job) -> Duration {
        let (log_n, elems, words) = match job {
            Job::Ntt(NttJob::Bn254(n)) => (n.log_n(), n.data.len(), 8),
            Job::Ntt(NttJob::Bls12_381(n)) => (n.log_n(), n.data.len(), 8),
            Job::Ntt(NttJob::BabyBear(n)) => (n.log_n(), n.data.len(), 1),
            Job::Ntt(NttJob::Goldilocks(n)) => (n.log_n(), n.data.len(), 2),
            // A prior only (the scheduler's calibration replaces it): an MSM point costs
            // about as much field work as 30 butterflies of its width.
            Job::Msm(MsmJob::Bn254(m)) => (60, m.bases().len() * m.scalars().len(), 8),
            Job::Msm(MsmJob::Bls12_381(m)) => (60, m.bases().len() * m.scalars().len(), 12),
            Job::Verify(v) if matches!(v.scheme, SigScheme::Ed25519(_)) => {
                let t = &self.verify;
                let runs = v.items.len().div_ceil(t.chunk).max(1) as f64;
                let bytes: usize = v.items.iter().map(|i| 96 + i.message.len()).sum();
                return Duration::from_secs_f64(
                    runs * t.per_run
                        + v.items.len() as f64 * t.per_signature
                        + bytes as f64 * self.per_byte,
                );
            }
            _ => return Duration::MAX,
        };
        let butterflies = elems as f64 / 2.0 * log_n.max(1) as f64;
        let bytes = 2.0 * elems as f64 * words as f64 * 4.0;
        Duration::from_secs_f64(
            butterflies * self.per_butterfly * words as f64 + bytes * self.per_byte,
        )
    }

    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
        let ran = match job {
            Job::Ntt(NttJob::Bn254(n)) => self.ntt_job(n, cancel),
            Job::Ntt(NttJob::Bls12_381(n)) => self.ntt_job(n, cancel),
            Job::Ntt(NttJob::BabyBear(n)) => self.ntt_job(n, cancel),
            Job::Ntt(NttJob::Goldilocks(n)) => self.ntt_job(n, cancel),
            Job::Msm(MsmJob::Bn254(m)) => self.msm_job(m, cancel),
            Job::Msm(MsmJob::Bls12_381(m)) => self.msm_job(m, cancel),
            // G2 has no kernels yet; the capabilities never claim it, so only a caller that
            // skipped the scheduler's check gets here.
            Job::Msm(m) => {
                return Err(Failure::unsupported(
                    format!("the GPU backend has no MSM on {}", m.curve()),
                    Job::Msm(m),
                ))
            }
            Job::Verify(v) => {
                let SigScheme::Ed25519(policy) = v.scheme else {
                    return Err(Failure::unsupported(
                        format!("the GPU backend does not verify {}", v.scheme),
                        Job::Verify(v),
                    ));
                };
                let ran = self.run_verify(policy, &v.items, cancel);
                ran.map(Output::Verify).map_err(|r| (r, Job::Verify(v)))
            }
        };
        self.finish(ran, cancel)
    }

    fn health(&self) -> Health {
        self.strikes.health()
    }

    fn recover(&self) -> Result<(), String> {
        self.probe().map_err(|e| e.to_string())?;
        self.strikes.clear();
        Ok(())
    }

    // The device copy is made at the set's first MSM here (an upload needs the executor, which
    // a running job holds); it is freed at the next job after the set leaves memory.
    fn bases_released(&self, handle: &str) {
        self.released
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle.to_string());
    }
}

impl GpuBackend {
    /// Count the outcome: a success clears the failure run, a device failure (not a
    /// cancellation) extends it.
    fn finish(
        &self,
        ran: Result<Output, (String, Job)>,
        cancel: &Cancel,
    ) -> Result<Output, Failure> {
        let result = match ran {
            Ok(out) => Ok(out),
            Err((reason, job)) if cancel.is_cancelled() => Err(Failure {
                reason: reason.into(),
                ..Failure::stopped(cancel, Some(job))
            }),
            Err((reason, job)) => Err(Failure::device(reason, Some(job))),
        };
        self.strikes.record(&result);
        result
    }
}
