//! The CPU backend: the engines on rayon. It runs every job kind at every size memory allows,
//! and is the reference every other backend is checked against and falls back to.

use crate::backend::{Backend, Cancel, Capability, Failure, Preparation};
use crate::job::{
    AnyBases, FieldId, Job, JobCurve, Msm, Ntt, NttJob, Output, SchemeId, SigItem, SigScheme,
};
use crate::tables::FixedTables;
use crate::wire::CurveId;
use offload_engine::msm;
use offload_engine::ntt::{Domain, NttField};
use offload_engine::sig::keys::Keys;
use offload_engine::sig::{bls, ed25519, secp256k1, Verdict};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct CpuBackend {
    arithmetic: msm::Arithmetic,
    tables: std::sync::Arc<FixedTables>,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self {
            arithmetic: msm::Arithmetic::default(),
            tables: FixedTables::new(0),
        }
    }
}

impl CpuBackend {
    /// The fastest arithmetic this CPU has (AVX-512 IFMA where present), no fixed-base tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Variable-base MSMs in arkworks' portable arithmetic: what every CPU runs, and the
    /// reference the IFMA path is checked against.
    pub fn portable() -> Self {
        Self {
            arithmetic: msm::Arithmetic::Portable,
            ..Self::default()
        }
    }

    /// Fixed-base tables for uploaded sets within `bytes`, all sets together.
    pub fn with_table_budget(self, bytes: usize) -> Self {
        Self {
            tables: FixedTables::new(bytes),
            ..self
        }
    }

    fn run_msm<C: JobCurve>(&self, m: &Msm<C>, cancel: &Cancel) -> Result<Output, String> {
        let set = m.bases();
        let table = set.handle.as_deref().and_then(|h| self.tables.get::<C>(h));
        let res = match table {
            Some(t) => t.msm_batch_cancellable(m.scalars(), cancel),
            None => {
                // A set used here that nobody told us about (another backend was preferred
                // when it arrived): its table starts now, for the next use.
                self.tables.build(set);
                msm::msm_batch_cancellable(self.arithmetic, &set.points, m.scalars(), cancel)
            }
        };
        res.map(|r| Output::Msm(C::msm_output(r)))
            .map_err(|e| e.to_string())
    }
}

/// Signatures verified between looks at the cancel flag: large enough that batch equations
/// keep their per-thread chunk sizes, small enough to stop within a fraction of a second.
const VERIFY_SLICE: usize = 1 << 14;

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
    keys: Option<&Keys>,
    cancel: &Cancel,
) -> Result<Vec<Verdict>, String> {
    let mut out = Vec::with_capacity(items.len());
    for slice in items.chunks(VERIFY_SLICE) {
        cancel.check().map_err(|e| e.to_string())?;
        out.extend(verify(scheme, slice, keys));
    }
    Ok(out)
}

fn verify(scheme: SigScheme, items: &[SigItem], keys: Option<&Keys>) -> Vec<Verdict> {
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
        SigScheme::Ed25519(policy) => match keys {
            Some(keys) => ed25519::verify_batch_cached(policy, &items!(ed25519::Item), keys),
            None => ed25519::verify_batch(policy, &items!(ed25519::Item)),
        },
        SigScheme::Bip340 => secp256k1::verify_schnorr_batch(&items!(secp256k1::SchnorrItem)),
        SigScheme::BlsEth => match keys {
            Some(keys) => bls::verify_batch_cached(&items!(bls::Item), keys),
            None => bls::verify_batch(&items!(bls::Item)),
        },
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
            Job::Msm(job) => {
                crate::on_curve!(job, MsmJob, m => self.run_msm(&m, cancel)).map_err(fail)
            }
            Job::Ntt(mut n) => {
                let r = match &mut n {
                    NttJob::Bn254(x) => run_ntt(x, cancel),
                    NttJob::Bls12_381(x) => run_ntt(x, cancel),
                    NttJob::BabyBear(x) => run_ntt(x, cancel),
                    NttJob::Goldilocks(x) => run_ntt(x, cancel),
                };
                r.map(|()| Output::Ntt(n)).map_err(fail)
            }
            Job::Verify(v) => verify_cancellable(v.scheme, &v.items, v.keys.as_deref(), cancel)
                .map(Output::Verify)
                .map_err(fail),
        }
    }

    fn slots(&self) -> usize {
        // One bulk job and one latency-class job side by side on the shared rayon pool.
        2
    }

    fn bases_resident(&self, set: &AnyBases) {
        crate::on_curve!(set, AnyBases, s => self.tables.build(s))
    }

    fn bases_released(&self, handle: &str) {
        self.tables.release(handle);
    }

    fn prepared(&self, handle: &str) -> Option<Preparation> {
        self.tables.status(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::VerifyJob;
    use offload_engine::sig::ed25519::Policy;

    fn table_at_first_use<C: JobCurve>() {
        use crate::job::BaseSet;
        use ark_ec::short_weierstrass::Projective;
        use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
        use offload_engine::msm::Canonical;
        let g = Projective::<C>::generator();
        let points: Vec<_> = (1..=200u64)
            .map(|k| (g * C::ScalarField::from(k * k + 1)).into_affine())
            .collect();
        let scalars: Vec<C::ScalarField> = (0..200u64)
            .map(|k| C::ScalarField::from(k * k * k * k * k) - C::ScalarField::from(3u64))
            .collect();
        let want = Projective::<C>::msm(&points, &scalars).unwrap();
        let set = std::sync::Arc::new(BaseSet::<C>::resident(points, "h".into()));
        let cpu = CpuBackend::new().with_table_budget(64 << 20);
        let run = || {
            let m = Msm::new(
                set.clone(),
                vec![scalars.iter().map(Canonical::from_field).collect()],
            )
            .unwrap();
            let out = match cpu.run(Job::Msm(C::msm_job(m)), &Cancel::new()) {
                Ok(Output::Msm(o)) => C::msm_results(o),
                _ => None,
            };
            out.expect("the CPU failed an MSM")[0]
        };
        assert_eq!(cpu.prepared("h"), None);
        assert_eq!(run(), want, "{}", C::ID);
        assert!(
            cpu.prepared("h").is_some(),
            "the first use starts the table"
        );
        while cpu.prepared("h") == Some(Preparation::Building) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(matches!(cpu.prepared("h"), Some(Preparation::Ready { .. })));
        assert_eq!(run(), want, "{} on the table", C::ID);
        cpu.bases_released("h");
        assert_eq!(cpu.prepared("h"), None);
    }

    #[test]
    fn an_uploaded_set_gets_its_table_at_first_use_and_msms_agree_with_and_without_it() {
        use crate::job::{Bls12_381G2, Bn254, Bn254G2};
        table_at_first_use::<Bn254>();
        table_at_first_use::<Bn254G2>();
        table_at_first_use::<Bls12_381G2>();
    }

    #[test]
    fn long_batches_run_in_slices_and_stop_when_cancelled() {
        // One slice and a bit: malformed items (empty keys) are quick and each gets a verdict.
        let job = || {
            Job::Verify(VerifyJob {
                scheme: SigScheme::Ed25519(Policy::Zip215),
                items: vec![SigItem::default(); VERIFY_SLICE + 3],
                keys: None,
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
