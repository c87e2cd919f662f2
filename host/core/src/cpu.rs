//! The CPU backend: the engines on rayon. It runs every job kind at every size memory allows,
//! and is the reference every other backend is checked against and falls back to.

use crate::backend::{Backend, Cancel, Capability, Failure};
use crate::job::{
    FieldId, Job, Msm, MsmJob, MsmOutput, Ntt, NttJob, Output, SchemeId, SigItem, SigScheme,
};
use crate::wire::{Curve, CurveId};
use ark_ec::short_weierstrass::Projective;
use offload_engine::msm;
use offload_engine::ntt::{Domain, NttField};
use offload_engine::sig::{bls, ed25519, secp256k1, Verdict};
use std::time::Duration;

#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBackend {
    arithmetic: msm::Arithmetic,
}

impl CpuBackend {
    /// The fastest arithmetic this CPU has (AVX-512 IFMA where present).
    pub fn new() -> Self {
        Self::default()
    }

    /// Variable-base MSMs in arkworks' portable arithmetic: what every CPU runs, and the
    /// reference the IFMA path is checked against.
    pub fn portable() -> Self {
        Self {
            arithmetic: msm::Arithmetic::Portable,
        }
    }
}

/// Signatures verified between looks at the cancel flag: large enough that batch equations
/// keep their per-thread chunk sizes, small enough to stop within a fraction of a second.
const VERIFY_SLICE: usize = 1 << 14;

fn run_msm<C: Curve>(
    arithmetic: msm::Arithmetic,
    m: &Msm<C>,
    cancel: &Cancel,
) -> Result<Vec<Projective<C>>, String> {
    let res = match m.bases().table() {
        Some(t) => t.msm_batch_cancellable(m.scalars(), cancel),
        None => msm::msm_batch_cancellable(arithmetic, &m.bases().points, m.scalars(), cancel),
    };
    res.map_err(|e| e.to_string())
}

fn run_ntt<F: NttField>(n: &mut Ntt<F>, cancel: &Cancel) -> Result<(), String> {
    let cfg = n.cfg;
    Domain::<F>::new(n.log_n())
        .and_then(|d| d.ntt_batch_cancellable(&mut n.data, &cfg, cancel))
        .map_err(|e| e.to_string())
}

/// Verdicts do not depend on how a batch is split (each equals single verification), so a
/// long batch runs in slices with a look at `cancel` between them.
fn verify_cancellable(
    scheme: SigScheme,
    items: &[SigItem],
    cancel: &Cancel,
) -> Result<Vec<Verdict>, String> {
    let mut out = Vec::with_capacity(items.len());
    for slice in items.chunks(VERIFY_SLICE) {
        cancel.check().map_err(|e| e.to_string())?;
        out.extend(verify(scheme, slice));
    }
    Ok(out)
}

fn verify(scheme: SigScheme, items: &[SigItem]) -> Vec<Verdict> {
    macro_rules! items {
        ($($t:ident)::+) => {
            items
                .iter()
                .map(|i| $($t)::+ {
                    public_key: &i.public_key,
                    signature: &i.signature,
                    message: &i.message,
                })
                .collect::<Vec<_>>()
        };
    }
    match scheme {
        SigScheme::Ed25519(policy) => ed25519::verify_batch(policy, &items!(ed25519::Item)),
        SigScheme::Bip340 => secp256k1::verify_schnorr_batch(&items!(secp256k1::SchnorrItem)),
        SigScheme::BlsEth => bls::verify_batch(&items!(bls::Item)),
        SigScheme::Ecdsa(cfg) => {
            let v: Vec<secp256k1::EcdsaItem> = items
                .iter()
                .map(|i| secp256k1::EcdsaItem {
                    public_key: &i.public_key,
                    signature: &i.signature,
                    digest: &i.message,
                })
                .collect();
            secp256k1::verify_ecdsa_batch(cfg, &v)
        }
    }
}

impl Backend for CpuBackend {
    fn name(&self) -> &str {
        "cpu"
    }

    fn device(&self) -> String {
        format!("CPU, {} threads", rayon::current_num_threads())
    }

    fn capabilities(&self) -> Vec<Capability> {
        // Everything a valid job can be: the CPU is the fallback that always runs.
        let msm = CurveId::ALL.map(|curve| Capability::Msm {
            curve,
            max_points: u64::MAX,
        });
        let ntt = FieldId::ALL.map(|field| Capability::Ntt {
            field,
            log_n: 0..=field.two_adicity(),
            coset: true,
        });
        let verify = SchemeId::ALL.map(|scheme| Capability::Verify {
            scheme,
            batch: 0..=u64::MAX,
        });
        msm.into_iter().chain(ntt).chain(verify).collect()
    }

    fn estimate(&self, job: &Job) -> Duration {
        // Rough priors for a 2-core machine (docs/PERFORMANCE.md); the scheduler calibrates.
        let per_unit_ns = match job {
            Job::Msm(_) => 20_000.0,
            Job::Ntt(_) => 3.0,
            Job::Verify(_) => 25_000.0,
        };
        Duration::from_nanos((job.work() * per_unit_ns) as u64 + 20_000)
    }

    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
        // The engines stop early only when cancelled; anything else is a fault, reported as such.
        let fail = |reason: String| {
            if cancel.is_cancelled() {
                Failure::stopped(cancel, None)
            } else {
                Failure::device(reason, None)
            }
        };
        match job {
            Job::Msm(MsmJob::Bn254(m)) => run_msm(self.arithmetic, &m, cancel)
                .map(|r| Output::Msm(MsmOutput::Bn254(r)))
                .map_err(fail),
            Job::Msm(MsmJob::Bls12_381(m)) => run_msm(self.arithmetic, &m, cancel)
                .map(|r| Output::Msm(MsmOutput::Bls12_381(r)))
                .map_err(fail),
            Job::Ntt(mut n) => {
                let r = match &mut n {
                    NttJob::Bn254(x) => run_ntt(x, cancel),
                    NttJob::Bls12_381(x) => run_ntt(x, cancel),
                    NttJob::BabyBear(x) => run_ntt(x, cancel),
                    NttJob::Goldilocks(x) => run_ntt(x, cancel),
                };
                r.map(|()| Output::Ntt(n)).map_err(fail)
            }
            Job::Verify(v) => verify_cancellable(v.scheme, &v.items, cancel)
                .map(Output::Verify)
                .map_err(fail),
        }
    }

    fn slots(&self) -> usize {
        // One bulk job and one latency-class job side by side on the shared rayon pool.
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::VerifyJob;
    use offload_engine::sig::ed25519::Policy;

    #[test]
    fn long_batches_run_in_slices_and_stop_when_cancelled() {
        // One slice and a bit: malformed items (empty keys) are quick and each gets a verdict.
        let job = || {
            Job::Verify(VerifyJob {
                scheme: SigScheme::Ed25519(Policy::Zip215),
                items: vec![SigItem::default(); VERIFY_SLICE + 3],
            })
        };
        let Ok(Output::Verify(v)) = CpuBackend::new().run(job(), &Cancel::new()) else {
            panic!("a live job failed");
        };
        assert_eq!(v.len(), VERIFY_SLICE + 3);
        assert!(v.iter().all(|v| !v.is_valid()));
        let cancel = Cancel::new();
        cancel.cancel();
        let Err(f) = CpuBackend::new().run(job(), &cancel) else {
            panic!("a cancelled job ran");
        };
        assert_eq!(f.kind, crate::backend::FailureKind::Cancelled);
    }
}
