//! One conformance suite for every backend the registry opens. Given a backend, it checks each
//! operation, kind and size its capabilities claim against independent oracles (arkworks'
//! MSM, the NTT computed from its definition in the proto, single Ed25519 verification), that
//! `accepts()` follows the capabilities at their edges, and the contract: a cancelled job
//! comes back as `Cancelled` with the job (one past its deadline as `Deadline`), a device
//! stays healthy through both and serves the next job. Real CUDA runs where a GPU is present and prints why it skipped elsewhere.

use ark_ec::{CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_std::UniformRand;
use offload_backends::{open, DeviceSpec, SimFpga};
use offload_core::backend::{Accepts, Backend, Cancel, Capability, FailureKind, Health};
use offload_core::job::{
    BaseSet, FieldId, Job, JobCurve, Msm, Ntt, NttJob, Output, SchemeId, SigItem, SigScheme,
    VerifyJob,
};
use offload_core::wire::{Curve, CurveId};
use offload_engine::msm::Canonical;
use offload_engine::ntt::{Direction, NttConfig, NttField, Order};
use offload_engine::sig::ed25519::{self, Policy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;

/// Largest NTT checked against the definition (quadratic), and largest size run at all.
const DEFINITION_LOG: u32 = 8;
const LARGEST_LOG: u32 = 10;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn run(b: &dyn Backend, job: Job) -> Output {
    match b.run(job, &Cancel::never()) {
        Ok(o) => o,
        Err(f) => panic!("{}: {:?}", b.name(), f),
    }
}

// ---- NTT against its definition ----

fn rev(p: usize, log_n: u32) -> usize {
    if log_n == 0 {
        0
    } else {
        p.reverse_bits() >> (usize::BITS - log_n)
    }
}

/// The proto's definition: forward y_i = Σ_j a_j (g ω^i)^j; inverse a_j = g^-j n^-1 Σ_i y_i ω^-ij;
/// bit-reversed position p holds element rev(p).
fn by_definition<F: NttField>(input: &[F], log_n: u32, cfg: &NttConfig<F>) -> Vec<F> {
    let n = input.len();
    let natural: Vec<F> = match cfg.input {
        Order::Natural => input.to_vec(),
        Order::BitReversed => (0..n).map(|p| input[rev(p, log_n)]).collect(),
    };
    let w = F::root_of_unity(log_n);
    let g = cfg.coset.unwrap_or(F::one());
    let out: Vec<F> = match cfg.direction {
        Direction::Forward => (0..n)
            .map(|i| {
                let x = g * w.pow(i as u64);
                let mut acc = F::zero();
                let mut xp = F::one();
                for a in &natural {
                    acc = acc + *a * xp;
                    xp = xp * x;
                }
                acc
            })
            .collect(),
        Direction::Inverse => {
            let winv = w.inv();
            let ninv = F::from_u64(n as u64).inv();
            let ginv = g.inv();
            (0..n)
                .map(|j| {
                    let step = winv.pow(j as u64);
                    let mut acc = F::zero();
                    let mut xp = F::one();
                    for y in &natural {
                        acc = acc + *y * xp;
                        xp = xp * step;
                    }
                    acc * ninv * ginv.pow(j as u64)
                })
                .collect()
        }
    };
    match cfg.output {
        Order::Natural => out,
        Order::BitReversed => (0..n).map(|p| out[rev(p, log_n)]).collect(),
    }
}

macro_rules! ntt_job {
    ($field:expr, $log_n:expr, $cols:expr, $seed:expr, $dir:expr, $io:expr, $coset:expr) => {{
        fn make<F: NttField>(
            log_n: u32,
            cols: usize,
            seed: u64,
            dir: Direction,
            io: (Order, Order),
            coset: bool,
        ) -> Ntt<F> {
            let mut r = rng(seed);
            let data = (0..cols << log_n).map(|_| F::from_u64(r.gen())).collect();
            let cfg = NttConfig {
                direction: dir,
                input: io.0,
                output: io.1,
                coset: coset.then(|| F::from_u64(7)),
            };
            Ntt::new(cfg, cols, data).unwrap()
        }
        let (l, c, s, d, io, co) = ($log_n, $cols, $seed, $dir, $io, $coset);
        match $field {
            FieldId::Bn254 => NttJob::Bn254(make(l, c, s, d, io, co)),
            FieldId::Bls12_381 => NttJob::Bls12_381(make(l, c, s, d, io, co)),
            FieldId::BabyBear => NttJob::BabyBear(make(l, c, s, d, io, co)),
            FieldId::Goldilocks => NttJob::Goldilocks(make(l, c, s, d, io, co)),
        }
    }};
}

/// Each column of `job` by the definition, packed as the job's data.
fn ntt_expected(job: &NttJob) -> NttJob {
    fn each<F: NttField>(n: &Ntt<F>) -> Ntt<F> {
        let len = 1usize << n.log_n();
        let mut out = n.clone();
        out.data = n
            .data
            .chunks(len)
            .flat_map(|c| by_definition(c, n.log_n(), &n.cfg))
            .collect();
        out
    }
    match job {
        NttJob::Bn254(n) => NttJob::Bn254(each(n)),
        NttJob::Bls12_381(n) => NttJob::Bls12_381(each(n)),
        NttJob::BabyBear(n) => NttJob::BabyBear(each(n)),
        NttJob::Goldilocks(n) => NttJob::Goldilocks(each(n)),
    }
}

fn same_ntt(a: &NttJob, b: &NttJob) -> bool {
    match (a, b) {
        (NttJob::Bn254(x), NttJob::Bn254(y)) => x.data == y.data,
        (NttJob::Bls12_381(x), NttJob::Bls12_381(y)) => x.data == y.data,
        (NttJob::BabyBear(x), NttJob::BabyBear(y)) => x.data == y.data,
        (NttJob::Goldilocks(x), NttJob::Goldilocks(y)) => x.data == y.data,
        _ => false,
    }
}

fn check_ntt(b: &dyn Backend, field: FieldId, log_n: &std::ops::RangeInclusive<u32>, coset: bool) {
    let cpu = offload_core::cpu::CpuBackend::new();
    let lo = *log_n.start();
    let hi = (*log_n.end()).min(LARGEST_LOG);
    let orders = [Order::Natural, Order::BitReversed];
    let mut seed = 0;
    for log in [lo, lo + 1, hi]
        .into_iter()
        .filter(|l| log_n.contains(l) && *l <= hi)
    {
        for dir in [Direction::Forward, Direction::Inverse] {
            for input in orders {
                for output in orders {
                    for shifted in [false, coset] {
                        seed += 1;
                        let job = ntt_job!(field, log, 3, seed, dir, (input, output), shifted);
                        // Small sizes against the definition; larger ones against the CPU,
                        // itself checked against the definition below that size.
                        let want = if log <= DEFINITION_LOG {
                            ntt_expected(&job)
                        } else {
                            match run(&cpu, Job::Ntt(job.clone())) {
                                Output::Ntt(n) => n,
                                _ => unreachable!(),
                            }
                        };
                        let Output::Ntt(got) = run(b, Job::Ntt(job)) else {
                            panic!("{}: an NTT returned another output", b.name())
                        };
                        assert!(
                            same_ntt(&got, &want),
                            "{}: ntt {field} 2^{log} {dir:?} {input:?}->{output:?} coset {shifted}",
                            b.name()
                        );
                    }
                }
            }
        }
    }
    // The edges of the claim.
    let edge = |log: u32, shifted: bool| {
        Job::Ntt(ntt_job!(
            field,
            log,
            1,
            99,
            Direction::Forward,
            (Order::Natural, Order::Natural),
            shifted
        ))
    };
    if lo > 0 {
        assert!(
            !b.accepts(&edge(lo - 1, false)),
            "{}: below 2^{lo}",
            b.name()
        );
    }
    if *log_n.end() < field.two_adicity() && *log_n.end() < 20 {
        let over = *log_n.end() + 1;
        assert!(!b.accepts(&edge(over, false)), "{}: 2^{over}", b.name());
    }
    assert_eq!(b.accepts(&edge(lo, true)), coset, "{}: coset", b.name());
}

// ---- MSM against arkworks ----

fn msm_case<C: Curve>(
    n: usize,
    seed: u64,
) -> (Msm<C>, Vec<ark_ec::short_weierstrass::Projective<C>>)
where
    C::ScalarField: PrimeField<BigInt = ark_ff::BigInt<4>>,
{
    use ark_ec::short_weierstrass::Projective;
    let mut r = rng(seed);
    let g = Projective::<C>::generator();
    let mut pts: Vec<Projective<C>> = (0..n).map(|_| g * C::ScalarField::rand(&mut r)).collect();
    // The identity, and a point beside its negation.
    if n >= 3 {
        pts[0] = Projective::<C>::default();
        pts[2] = -pts[1];
    }
    let bases = Projective::normalize_batch(&pts);
    let random: Vec<C::ScalarField> = (0..n).map(|_| C::ScalarField::rand(&mut r)).collect();
    let one = C::ScalarField::from(1u64);
    let edges: Vec<C::ScalarField> = (0..n)
        .map(|i| match i % 4 {
            0 => C::ScalarField::from(0u64),
            1 => one,
            2 => -one,
            _ => C::ScalarField::rand(&mut r),
        })
        .collect();
    let zeros = vec![C::ScalarField::from(0u64); n];
    let vectors = [random, edges, zeros];
    let want = vectors
        .iter()
        .map(|s| Projective::<C>::msm(&bases, s).unwrap())
        .collect();
    let scalars = vectors
        .iter()
        .map(|v| v.iter().map(Canonical::from_field).collect())
        .collect();
    let m = Msm::new(Arc::new(BaseSet::inline(bases)), scalars).unwrap();
    (m, want)
}

fn check_msm(b: &dyn Backend, curve: CurveId, max_points: u64) {
    for (i, n) in [1usize, 3, 100, 1 << LARGEST_LOG].into_iter().enumerate() {
        if n as u64 > max_points {
            continue;
        }
        let seed = 1000 + i as u64;
        let ok = offload_core::with_curve!(curve, C => {
            let (m, want) = msm_case::<C>(n, seed);
            match run(b, Job::Msm(C::msm_job(m))) {
                Output::Msm(o) => C::msm_results(o) == Some(want),
                _ => false,
            }
        });
        assert!(ok, "{}: msm {curve} of {n}", b.name());
    }
}

// ---- Ed25519 against single verification ----

fn ed25519_items(n: usize, seed: u64) -> Vec<SigItem> {
    use ed25519_dalek::{Signer, SigningKey};
    let mut r = rng(seed);
    (0..n)
        .map(|i| {
            let key = SigningKey::from_bytes(&r.gen());
            let message = (0..r.gen_range(0..80))
                .map(|_| r.gen())
                .collect::<Vec<u8>>();
            let mut sig = key.sign(&message).to_bytes().to_vec();
            match i % 7 {
                3 => sig[5] ^= 1,                                       // a wrong R: INVALID
                5 => sig[63] |= 0xf0,                                   // S not below ℓ: MALFORMED
                6 if i % 2 == 0 => sig.pop().map(|_| ()).unwrap_or(()), // wrong length
                _ => {}
            }
            SigItem {
                public_key: key.verifying_key().to_bytes().to_vec(),
                signature: sig,
                message,
            }
        })
        .collect()
}

fn check_verify(b: &dyn Backend, scheme: SchemeId, batch: &std::ops::RangeInclusive<u64>) {
    if scheme != SchemeId::Ed25519 {
        // The other schemes run on the CPU only, and their engines are checked against
        // libsecp256k1 and blst in offload-engine's own tests.
        return;
    }
    let lo = (*batch.start()).max(1) as usize;
    for (i, n) in [lo, lo + 37].into_iter().enumerate() {
        if !batch.contains(&(n as u64)) {
            continue;
        }
        for policy in Policy::ALL {
            let items = ed25519_items(n, 2000 + i as u64);
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
            let job = Job::Verify(VerifyJob {
                scheme: SigScheme::Ed25519(policy),
                items,
                keys: None,
            });
            let Output::Verify(got) = run(b, job) else {
                panic!("{}: a verify job returned another output", b.name())
            };
            assert_eq!(got, want, "{}: ed25519 {policy:?} batch of {n}", b.name());
        }
    }
    if lo > 1 {
        let small = Job::Verify(VerifyJob {
            scheme: SigScheme::Ed25519(Policy::Zip215),
            items: ed25519_items(lo - 1, 7),
            keys: None,
        });
        assert!(!b.accepts(&small), "{}: a batch below {lo}", b.name());
    }
}

// ---- the contract ----

fn check_contract(b: &dyn Backend) {
    let caps = b.capabilities();
    assert!(!caps.is_empty(), "{}: claims nothing", b.name());
    // A job of the first claimed kind, cancelled before it starts: handed back, no strike.
    let job = match &caps[0] {
        Capability::Ntt { field, log_n, .. } => Job::Ntt(ntt_job!(
            *field,
            *log_n.start(),
            1,
            5,
            Direction::Forward,
            (Order::Natural, Order::Natural),
            false
        )),
        Capability::Msm { curve, .. } => {
            offload_core::with_curve!(*curve, C => Job::Msm(C::msm_job(msm_case::<C>(16, 5).0)))
        }
        Capability::Verify { batch, .. } => Job::Verify(VerifyJob {
            scheme: SigScheme::Ed25519(Policy::Zip215),
            items: ed25519_items((*batch.start()).max(1) as usize, 5),
            keys: None,
        }),
    };
    assert!(b.accepts(&job), "{}: its own first capability", b.name());
    // Raised before the run: nobody wants the result, so no work is done for it. A passed
    // deadline is told apart from a cancellation; neither is a strike.
    type Raise = fn(&Cancel);
    let raised: [(Raise, FailureKind); 2] = [
        (Cancel::cancel, FailureKind::Cancelled),
        (Cancel::expire, FailureKind::Deadline),
    ];
    for (raise, kind) in raised {
        for _ in 0..4 {
            let c = Cancel::new();
            raise(&c);
            match b.run(job.clone(), &c) {
                Err(f) => {
                    assert_eq!(f.kind, kind, "{}: {f:?}", b.name());
                    assert!(
                        f.job.is_some() || b.name() == "cpu",
                        "{}: a device hands the job back ({kind})",
                        b.name()
                    );
                }
                Ok(_) => panic!("{}: ran a job raised {kind} before it started", b.name()),
            }
        }
    }
    assert_eq!(
        b.health(),
        Health::Healthy,
        "{}: cancellations and passed deadlines are no strikes",
        b.name()
    );
    run(b, job);
    assert_eq!(b.health(), Health::Healthy);
}

/// The whole suite on one backend.
fn conform(b: &dyn Backend) {
    for cap in b.capabilities() {
        match &cap {
            Capability::Ntt {
                field,
                log_n,
                coset,
            } => check_ntt(b, *field, log_n, *coset),
            Capability::Msm { curve, max_points } => check_msm(b, *curve, *max_points),
            Capability::Verify { scheme, batch } => check_verify(b, *scheme, batch),
        }
    }
    check_contract(b);
}

fn opened(spec: DeviceSpec) -> Arc<dyn Backend> {
    match open(&spec) {
        Ok(b) => b,
        Err(a) => panic!("{spec}: {}", a.why),
    }
}

#[test]
fn the_cpu_conforms_in_both_arithmetics() {
    conform(&offload_core::cpu::CpuBackend::new());
    conform(&offload_core::cpu::CpuBackend::portable());
}

#[test]
fn the_emulated_gpu_conforms() {
    conform(&*opened(DeviceSpec::CudaEmulated {
        max_log: LARGEST_LOG,
    }));
}

#[test]
fn every_simulated_fpga_engine_conforms() {
    let engines = [
        (FieldId::BabyBear, 6, 1),
        (FieldId::BabyBear, 6, 2),
        (FieldId::BabyBear, 6, 4),
        (FieldId::Goldilocks, 6, 1),
        (FieldId::Goldilocks, 6, 2),
    ];
    for (field, max_log, lanes) in engines {
        let b = opened(DeviceSpec::FpgaSim {
            sim: SimFpga {
                field,
                max_log,
                lanes,
            },
            clock_mhz: 100.0,
        });
        conform(&*b);
    }
}

/// The real GPU, where there is one; elsewhere the reason, printed (this test then checks
/// only that the absence is explained). With OFFLOAD_REQUIRE_GPU=1 (scripts/gpu.sh on a lent
/// GPU) an absent GPU fails.
#[test]
fn a_real_gpu_conforms_where_there_is_one() {
    match open(&DeviceSpec::Cuda) {
        Ok(b) => {
            eprintln!("real-GPU conformance on {}", b.device());
            conform(&*b)
        }
        Err(a) if std::env::var_os("OFFLOAD_REQUIRE_GPU").is_some_and(|v| v == "1") => {
            panic!("OFFLOAD_REQUIRE_GPU=1 and no usable GPU: {}", a.why)
        }
        Err(a) => {
            assert!(!a.why.is_empty());
            eprintln!("SKIPPED the real-GPU conformance: {}", a.why);
        }
    }
}
