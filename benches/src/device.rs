//! A device backend (anything behind `offload_core::Backend`, e.g. the GPU) as a contender:
//! the same seeded inputs as our CPU runner, run through `Backend::run`, digested the same
//! way, so `--compare` checks the device against the CPU and the peers.

use crate::{convert, msm, ntt, Case, Field, Runner, Scheme};
use offload_core::backend::{Accepts, Backend, Cancel};
use offload_core::job::{
    BaseSet, Job, JobCurve, Msm, Ntt, NttJob, Output, SigItem, SigScheme, VerifyJob,
};
use offload_engine::msm::Canonical;
use offload_engine::ntt::NttConfig;
use std::sync::Arc;

struct Device {
    backend: Arc<dyn Backend>,
    job: Job,
    out: Result<Vec<u8>, String>,
}

fn digest(out: &Output) -> Vec<u8> {
    match out {
        Output::Msm(m) => {
            offload_core::on_curve!(m, MsmOutput, r => convert::ark_point_digest(&r[0]))
        }
        Output::Ntt(NttJob::Bn254(n)) => convert::ark_fields_fingerprint(&n.data),
        Output::Ntt(NttJob::Bls12_381(n)) => convert::ark_fields_fingerprint(&n.data),
        Output::Ntt(NttJob::BabyBear(n)) => ntt::p3_digest(&n.data),
        Output::Ntt(NttJob::Goldilocks(n)) => ntt::p3_digest(&n.data),
        Output::Verify(v) => crate::sig::digest(v.iter().map(|x| x.is_valid())),
    }
}

impl Runner for Device {
    fn name(&self) -> String {
        self.backend.name().to_string()
    }
    fn run(&mut self) {
        self.out = match self.backend.run(self.job.clone(), &Cancel::never()) {
            Ok(o) => Ok(digest(&o)),
            Err(f) => Err(f.reason.into()),
        };
    }
    fn digest(&self) -> Vec<u8> {
        match &self.out {
            Ok(d) => d.clone(),
            // A failed run can never agree with a result.
            Err(reason) => format!("failed: {reason}").into_bytes(),
        }
    }
}

fn msm_job<C: JobCurve>(log_n: u32) -> Result<Msm<C>, String>
where
    C::ScalarField: ark_ff::PrimeField<BigInt = ark_ff::BigInt<4>>,
{
    let (b, s) = msm::inputs::<C>(1 << log_n, 0x0ff1_0ad0 + log_n as u64);
    let scalars = s.iter().map(Canonical::from_field).collect();
    Msm::new(Arc::new(BaseSet::inline(b)), vec![scalars]).map_err(|e| e.to_string())
}

fn ntt_job<F: offload_engine::ntt::NttField>(log_n: u32) -> Result<Ntt<F>, String> {
    let input = ntt::inputs::<F>(1 << log_n, 0x0ff1_0ad1 + log_n as u64);
    Ntt::new(NttConfig::forward(), 1, input).map_err(|e| e.to_string())
}

/// The case on `backend`, or why it cannot run there.
pub fn runner(case: Case, backend: Arc<dyn Backend>) -> Result<Box<dyn Runner>, String> {
    let job = match case {
        Case::Msm {
            fixed_bases: true, ..
        } => return Err("fixed-base tables are a CPU feature; drop --fixed-bases".into()),
        Case::Msm { curve, log_n, .. } => {
            offload_core::with_curve!(curve, C => Job::Msm(C::msm_job(msm_job::<C>(log_n)?)))
        }
        Case::Ntt { field, log_n } => match field {
            Field::Bn254 => Job::Ntt(NttJob::Bn254(ntt_job(log_n)?)),
            Field::Bls12_381 => Job::Ntt(NttJob::Bls12_381(ntt_job(log_n)?)),
            Field::BabyBear => Job::Ntt(NttJob::BabyBear(ntt_job(log_n)?)),
            Field::Goldilocks => Job::Ntt(NttJob::Goldilocks(ntt_job(log_n)?)),
        },
        Case::Verify {
            scheme: Scheme::Ed25519(policy),
            batch,
        } => {
            let items = crate::sig::ed25519_inputs(batch, crate::sig::ed25519_seed(batch))
                .into_iter()
                .map(|(k, s, m)| SigItem {
                    public_key: k.to_bytes().to_vec(),
                    signature: s.to_bytes().to_vec(),
                    message: m,
                })
                .collect();
            Job::Verify(VerifyJob {
                scheme: SigScheme::Ed25519(policy),
                items,
                keys: None,
            })
        }
        Case::Verify { .. } => return Err(format!("{} verifies only Ed25519", backend.name())),
        Case::Groth16 { .. } | Case::Stark { .. } => {
            return Err("provers run on the CPU or through a daemon (--backend cpu|remote)".into())
        }
        Case::Rows { .. } => {
            return Err(
                "row-major matrices run on the CPU or through a daemon (--backend cpu|remote)"
                    .into(),
            )
        }
    };
    if !backend.accepts(&job) {
        return Err(format!("{} does not take {case}", backend.name()));
    }
    Ok(Box::new(Device {
        backend,
        job,
        out: Err("not run".into()),
    }))
}
