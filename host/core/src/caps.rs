//! What a backend runs, typed once. The scheduler admits a job by these capabilities and
//! `GetInfo` reports them, so the two cannot disagree.

use crate::job::{FieldId, Job, NttJob, SchemeId};
use crate::wire::CurveId;
use std::ops::RangeInclusive;

/// One operation over one curve, field or scheme, with the sizes a backend takes. Every
/// backend takes both orderings on input and output (a device that cannot reorders on the
/// host), so orderings are not a capability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capability {
    /// MSMs on G1 of `curve` of up to `max_points` bases (a device that holds fewer runs
    /// chunks).
    Msm { curve: CurveId, max_points: u64 },
    /// Columns of 2^log_n elements of `field`, log_n within `log_n`; `coset`: shifted
    /// domains too.
    Ntt {
        field: FieldId,
        log_n: RangeInclusive<u32>,
        coset: bool,
    },
    /// Batches of `scheme` signatures under every policy, sized within `batch`.
    Verify {
        scheme: SchemeId,
        batch: RangeInclusive<u64>,
    },
}

impl Capability {
    /// Whether this capability covers `job` (its kind, size and shape).
    pub fn admits(&self, job: &Job) -> bool {
        let size = job.size() as u64;
        match (self, job) {
            (Capability::Msm { curve, max_points }, Job::Msm(m)) => {
                m.curve() == *curve && size <= *max_points
            }
            (
                Capability::Ntt {
                    field,
                    log_n,
                    coset,
                },
                Job::Ntt(n),
            ) => {
                let (f, l, shifted) = match n {
                    NttJob::Bn254(x) => (FieldId::Bn254, x.log_n(), x.cfg.coset.is_some()),
                    NttJob::Bls12_381(x) => (FieldId::Bls12_381, x.log_n(), x.cfg.coset.is_some()),
                    NttJob::BabyBear(x) => (FieldId::BabyBear, x.log_n(), x.cfg.coset.is_some()),
                    NttJob::Goldilocks(x) => {
                        (FieldId::Goldilocks, x.log_n(), x.cfg.coset.is_some())
                    }
                };
                f == *field && log_n.contains(&l) && (*coset || !shifted)
            }
            (Capability::Verify { scheme, batch }, Job::Verify(v)) => {
                v.scheme.id() == *scheme && batch.contains(&size)
            }
            _ => false,
        }
    }

    /// "msm", "ntt" or "verify".
    pub fn op(&self) -> &'static str {
        match self {
            Capability::Msm { .. } => "msm",
            Capability::Ntt { .. } => "ntt",
            Capability::Verify { .. } => "verify",
        }
    }

    /// The curve, field or scheme, by its name in the API's reports.
    pub fn kind(&self) -> String {
        match self {
            Capability::Msm { curve, .. } => curve.to_string(),
            Capability::Ntt { field, .. } => field.to_string(),
            Capability::Verify { scheme, .. } => scheme.to_string(),
        }
    }

    /// MSM length, NTT length or batch size.
    pub fn sizes(&self) -> RangeInclusive<u64> {
        match self {
            Capability::Msm { max_points, .. } => 1..=*max_points,
            Capability::Ntt { log_n, .. } => {
                let at = |l: u32| 1u64.checked_shl(l).unwrap_or(u64::MAX);
                at(*log_n.start())..=at(*log_n.end())
            }
            Capability::Verify { batch, .. } => batch.clone(),
        }
    }

    /// Shifted NTT domains (false for other operations).
    pub fn coset(&self) -> bool {
        matches!(self, Capability::Ntt { coset: true, .. })
    }
}

/// Whether any of `caps` takes MSMs over `points` bases of `curve`.
pub fn admits_msm(caps: &[Capability], curve: CurveId, points: u64) -> bool {
    caps.iter().any(|c| {
        matches!(c, Capability::Msm { curve: k, max_points } if *k == curve && points <= *max_points)
    })
}

/// Whether any of `caps` covers `job`.
pub fn admits(caps: &[Capability], job: &Job) -> bool {
    caps.iter().any(|c| c.admits(job))
}

/// Whether `caps` cover every job the API can build: each curve, field (cosets too) and
/// scheme at every size. A backend with such capabilities can be the fallback.
pub fn covers_everything(caps: &[Capability]) -> bool {
    let msm = CurveId::ALL.iter().all(|c| {
        caps.iter().any(|x| {
            matches!(x, Capability::Msm { curve, max_points } if curve == c && *max_points == u64::MAX)
        })
    });
    let ntt = FieldId::ALL.iter().all(|f| {
        caps.iter().any(|x| {
            matches!(x, Capability::Ntt { field, log_n, coset: true }
                if field == f && *log_n.start() == 0 && *log_n.end() >= f.two_adicity())
        })
    });
    let verify = SchemeId::ALL.iter().all(|s| {
        caps.iter().any(|x| {
            matches!(x, Capability::Verify { scheme, batch }
                if scheme == s && *batch.start() == 0 && *batch.end() == u64::MAX)
        })
    });
    msm && ntt && verify
}

/// Capabilities as `GetInfo` reports them: one entry per operation and shape, naming every
/// kind that shares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSupport {
    pub op: &'static str,
    pub kinds: Vec<String>,
    pub min_size: u64,
    pub max_size: u64,
    pub coset: bool,
}

/// Group `caps` for reporting, in their order; `clamp` lowers each operation's largest size
/// to what the caller will take (the daemon's own limits).
pub fn summarize(caps: &[Capability], clamp: impl Fn(&Capability) -> u64) -> Vec<OpSupport> {
    let mut out: Vec<OpSupport> = Vec::new();
    for c in caps {
        let sizes = c.sizes();
        let max = (*sizes.end()).min(clamp(c));
        let min = *sizes.start();
        if min > max {
            continue;
        }
        match out.iter_mut().find(|o| {
            o.op == c.op() && o.min_size == min && o.max_size == max && o.coset == c.coset()
        }) {
            Some(o) => o.kinds.push(c.kind()),
            None => out.push(OpSupport {
                op: c.op(),
                kinds: vec![c.kind()],
                min_size: min,
                max_size: max,
                coset: c.coset(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Ntt, SigItem, SigScheme, VerifyJob};
    use offload_engine::ntt::NttConfig;
    use offload_engine::sig::ed25519::Policy;
    use p3_field::PrimeCharacteristicRing;

    fn babybear(log_n: u32, coset: bool) -> Job {
        let mut cfg = NttConfig::default();
        if coset {
            cfg.coset = Some(<p3_baby_bear::BabyBear as PrimeCharacteristicRing>::from_u64(7));
        }
        let data = vec![<p3_baby_bear::BabyBear as PrimeCharacteristicRing>::ONE; 1 << log_n];
        Job::Ntt(NttJob::BabyBear(Ntt::new(cfg, 1, data).unwrap()))
    }

    fn ed25519(n: usize) -> Job {
        Job::Verify(VerifyJob {
            scheme: SigScheme::Ed25519(Policy::Strict),
            items: vec![SigItem::default(); n],
            keys: None,
        })
    }

    #[test]
    fn admission_follows_kind_size_and_coset() {
        let ntt = Capability::Ntt {
            field: FieldId::BabyBear,
            log_n: 3..=5,
            coset: false,
        };
        assert!(ntt.admits(&babybear(3, false)) && ntt.admits(&babybear(5, false)));
        assert!(!ntt.admits(&babybear(2, false)), "below the range");
        assert!(!ntt.admits(&babybear(6, false)), "above the range");
        assert!(!ntt.admits(&babybear(4, true)), "coset");
        let shifted = Capability::Ntt {
            field: FieldId::BabyBear,
            log_n: 3..=5,
            coset: true,
        };
        assert!(shifted.admits(&babybear(4, true)));
        let gl = Capability::Ntt {
            field: FieldId::Goldilocks,
            log_n: 0..=32,
            coset: true,
        };
        assert!(!gl.admits(&babybear(4, false)), "another field");
        assert!(!ntt.admits(&ed25519(8)), "another op");
        let v = Capability::Verify {
            scheme: SchemeId::Ed25519,
            batch: 64..=u64::MAX,
        };
        assert!(v.admits(&ed25519(64)) && !v.admits(&ed25519(63)));
        let bip = Job::Verify(VerifyJob {
            scheme: SigScheme::Bip340,
            items: vec![SigItem::default(); 100],
            keys: None,
        });
        assert!(!v.admits(&bip) && !admits(&[ntt, v], &bip));
    }

    #[test]
    fn reports_group_kinds_by_shape_and_clamp() {
        let caps = [
            Capability::Msm {
                curve: CurveId::Bn254,
                max_points: u64::MAX,
            },
            Capability::Msm {
                curve: CurveId::Bls12_381,
                max_points: u64::MAX,
            },
            Capability::Ntt {
                field: FieldId::BabyBear,
                log_n: 0..=27,
                coset: true,
            },
            Capability::Ntt {
                field: FieldId::Goldilocks,
                log_n: 0..=32,
                coset: true,
            },
            Capability::Verify {
                scheme: SchemeId::Ed25519,
                batch: 64..=u64::MAX,
            },
        ];
        let got = summarize(&caps, |c| match c {
            Capability::Msm { .. } => 1 << 26,
            Capability::Ntt { .. } => 1 << 30,
            Capability::Verify { .. } => 10,
        });
        let kinds = |o: &OpSupport| o.kinds.join(",");
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(
            (got[0].op, kinds(&got[0]).as_str()),
            ("msm", "bn254,bls12-381")
        );
        assert_eq!((got[0].min_size, got[0].max_size), (1, 1 << 26));
        assert_eq!(kinds(&got[1]), "babybear");
        assert_eq!(got[1].max_size, 1 << 27);
        assert!(got[1].coset);
        assert_eq!(
            (kinds(&got[2]).as_str(), got[2].max_size),
            ("goldilocks", 1 << 30)
        );
        // A batch floor above the daemon's largest batch: nothing this daemon would send.
        assert!(got.iter().all(|o| o.op != "verify"));
    }

    #[test]
    fn only_a_backend_that_runs_everything_covers_everything() {
        use crate::backend::Backend;
        let cpu = crate::cpu::CpuBackend::new().capabilities();
        assert!(covers_everything(&cpu));
        for i in 0..cpu.len() {
            let mut less = cpu.clone();
            less.remove(i);
            assert!(!covers_everything(&less), "without {:?}", cpu[i]);
        }
        let mut no_coset = cpu.clone();
        for c in &mut no_coset {
            if let Capability::Ntt { coset, .. } = c {
                *coset = false;
            }
        }
        assert!(!covers_everything(&no_coset));
    }
}
