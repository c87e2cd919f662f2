//! The CPU backend: the engines on rayon. It runs every job kind at every size memory allows,
//! and is the reference every other backend is checked against and falls back to.

use crate::backend::{Backend, Failure, OpSupport};
use crate::job::{Job, Msm, MsmJob, MsmOutput, Ntt, NttJob, Output, SigItem, SigScheme};
use crate::wire::WireCurve;
use ark_ec::short_weierstrass::Projective;
use offload_engine::msm;
use offload_engine::ntt::{Domain, NttField};
use offload_engine::sig::{bls, ed25519, secp256k1, Verdict};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct CpuBackend;

impl CpuBackend {
    pub fn new() -> Self {
        Self
    }
}

fn run_msm<C: WireCurve>(m: &Msm<C>) -> Result<Vec<Projective<C>>, String> {
    let res = match m.bases().table() {
        Some(t) => t.msm_batch(m.scalars()),
        None => msm::msm_batch(&m.bases().points, m.scalars()),
    };
    res.map_err(|e| e.to_string())
}

fn run_ntt<F: NttField>(n: &mut Ntt<F>) -> Result<(), String> {
    let cfg = n.cfg;
    Domain::<F>::new(n.log_n())
        .and_then(|d| d.ntt_batch(&mut n.data, &cfg))
        .map_err(|e| e.to_string())
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

    fn supports(&self) -> Vec<OpSupport> {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        vec![
            OpSupport {
                op: "msm",
                kinds: s(&["bn254", "bls12-381"]),
                max_size: u32::MAX as u64,
            },
            OpSupport {
                op: "ntt",
                kinds: s(&["bn254", "bls12-381", "babybear", "goldilocks"]),
                max_size: 1 << 27,
            },
            OpSupport {
                op: "verify",
                kinds: s(&["ed25519", "ecdsa-secp256k1", "bip340", "bls12-381-eth"]),
                max_size: u32::MAX as u64,
            },
        ]
    }

    fn accepts(&self, _job: &Job) -> bool {
        true
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

    fn run(&self, job: Job) -> Result<Output, Failure> {
        let fail = |reason: String| Failure { reason, job: None };
        match job {
            Job::Msm(MsmJob::Bn254(m)) => run_msm(&m)
                .map(|r| Output::Msm(MsmOutput::Bn254(r)))
                .map_err(fail),
            Job::Msm(MsmJob::Bls12_381(m)) => run_msm(&m)
                .map(|r| Output::Msm(MsmOutput::Bls12_381(r)))
                .map_err(fail),
            Job::Ntt(mut n) => {
                let r = match &mut n {
                    NttJob::Bn254(x) => run_ntt(x),
                    NttJob::Bls12_381(x) => run_ntt(x),
                    NttJob::BabyBear(x) => run_ntt(x),
                    NttJob::Goldilocks(x) => run_ntt(x),
                };
                r.map(|()| Output::Ntt(n)).map_err(fail)
            }
            Job::Verify(v) => Ok(Output::Verify(verify(v.scheme, &v.items))),
        }
    }

    fn slots(&self) -> usize {
        // One bulk job and one latency-class job side by side on the shared rayon pool.
        2
    }
}
