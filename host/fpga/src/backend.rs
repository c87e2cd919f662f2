//! The FPGA behind the scheduler's `Backend` trait: BabyBear NTTs up to the engine's size, one
//! job at a time, every failure handed back for the CPU to re-run.

use crate::bus::{DeviceError, RegisterBus};
use crate::driver::{self, EngineInfo};
use offload_core::backend::{Backend, Cancel, Failure, Health, OpSupport};
use offload_core::job::{Job, NttJob, Output};
use offload_engine::ntt::{Direction, NttConfig, Order};
use offload_hdl::babybear::ntt::compute_cycles;
use p3_baby_bear::BabyBear;
use p3_field::{PrimeCharacteristicRing, PrimeField32};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive device failures after which the backend reports itself unhealthy.
const FAILURES_BEFORE_UNHEALTHY: u32 = 3;

pub struct FpgaBackend {
    name: String,
    bus: Mutex<Box<dyn RegisterBus>>,
    info: EngineInfo,
    described: String,
    /// Wall-clock seconds per bus cycle, measured by the probe (a simulation is slow) or
    /// 1 / clock for a board.
    secs_per_cycle: f64,
    /// The shortest time limit for one column.
    timeout_floor: Duration,
    failures: AtomicU32,
}

/// The probe's column: edge values and a ramp, 16 elements (or the engine's largest size).
fn probe_input(n: usize) -> Vec<u32> {
    (0..n as u32)
        .map(|i| match i {
            0 => 0,
            1 => BabyBear::ORDER_U32 - 1,
            _ => i.wrapping_mul(0x9e37_79b9) % BabyBear::ORDER_U32,
        })
        .collect()
}

/// The CPU engine's answer in the engine's order (natural in, bit-reversed out).
fn cpu(data: &[u32], inverse: bool) -> Vec<u32> {
    let mut v: Vec<BabyBear> = data.iter().map(|&x| BabyBear::from_u32(x)).collect();
    let cfg = NttConfig {
        direction: if inverse {
            Direction::Inverse
        } else {
            Direction::Forward
        },
        ..NttConfig::default()
    }
    .orders(Order::Natural, Order::BitReversed);
    // The probe's sizes are valid domains.
    if offload_engine::ntt::ntt(&mut v, &cfg).is_err() {
        return Vec::new();
    }
    v.iter().map(|x| x.as_canonical_u32()).collect()
}

fn bit_reverse<T: Copy>(v: &[T]) -> Vec<T> {
    let bits = v.len().trailing_zeros();
    (0..v.len())
        .map(|i| v[i.reverse_bits() >> (usize::BITS - bits)])
        .collect()
}

impl FpgaBackend {
    /// Open an engine: read INFO, run a forward and an inverse transform and compare them with
    /// the CPU engine. `clock_mhz` is the board's clock; for a simulation the probe measures
    /// how long a cycle takes. Errors say why the device cannot be used.
    pub fn open(
        name: &str,
        mut bus: Box<dyn RegisterBus>,
        clock_mhz: f64,
    ) -> Result<Self, DeviceError> {
        let info = driver::info(bus.as_mut())?;
        let log_n = info.max_log.min(4.max(info.min_log()));
        let data = probe_input(1 << log_n);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (t0, c0) = (Instant::now(), bus.cycles());
        for inverse in [false, true] {
            let run = driver::transform(bus.as_mut(), &data, inverse, deadline, &Cancel::never())?;
            let want = cpu(&data, inverse);
            if run.output != want {
                return Err(DeviceError::Unsupported(format!(
                    "the probe's 2^{log_n} {} transform differs from the CPU engine's",
                    if inverse { "inverse" } else { "forward" }
                )));
            }
        }
        let secs_per_cycle = match (bus.cycles(), c0) {
            (Some(c1), Some(c0)) if c1 > c0 => t0.elapsed().as_secs_f64() / (c1 - c0) as f64,
            _ => 1e-6 / clock_mhz.max(1.0),
        };
        let described = format!(
            "{}; {} lane(s), butterfly latency {}",
            bus.describe(),
            info.lanes,
            info.latency
        );
        tracing::info!(backend = name, device = %described, secs_per_cycle, "FPGA engine passed its probe");
        Ok(Self {
            name: name.into(),
            bus: Mutex::new(bus),
            info,
            described,
            secs_per_cycle,
            timeout_floor: Duration::from_secs(5),
            failures: AtomicU32::new(0),
        })
    }

    /// Bus cycles one column costs: the engine's compute cycles, one write per element in,
    /// a status read and a data read per element out, and a few register accesses.
    fn column_cycles(&self, log_n: u32, inverse: bool) -> f64 {
        let n = (1u64 << log_n) as f64;
        compute_cycles(log_n, inverse, self.info.lanes as u64) as f64 + 3.0 * n + 16.0
    }

    pub fn info(&self) -> EngineInfo {
        self.info
    }
}

impl Backend for FpgaBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn device(&self) -> String {
        self.described.clone()
    }

    fn supports(&self) -> Vec<OpSupport> {
        vec![OpSupport {
            op: "ntt",
            kinds: vec!["babybear".into()],
            max_size: 1 << self.info.max_log,
        }]
    }

    fn accepts(&self, job: &Job) -> bool {
        match job {
            Job::Ntt(NttJob::BabyBear(n)) => {
                (self.info.min_log()..=self.info.max_log).contains(&n.log_n())
                    && n.cfg.coset.is_none()
            }
            _ => false,
        }
    }

    fn estimate(&self, job: &Job) -> Duration {
        let Job::Ntt(NttJob::BabyBear(n)) = job else {
            return Duration::MAX;
        };
        let inverse = n.cfg.direction == Direction::Inverse;
        let secs =
            self.column_cycles(n.log_n(), inverse) * self.secs_per_cycle * n.columns() as f64;
        Duration::from_secs_f64(secs)
    }

    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
        let Job::Ntt(NttJob::BabyBear(mut n)) = job else {
            return Err(Failure {
                reason: "the FPGA engine runs BabyBear NTTs only".into(),
                job: Some(job),
            });
        };
        let inverse = n.cfg.direction == Direction::Inverse;
        let len = 1usize << n.log_n();
        let per_column = Duration::from_secs_f64(
            20.0 * self.column_cycles(n.log_n(), inverse) * self.secs_per_cycle,
        )
        .max(self.timeout_floor);
        let mut bus = self.bus.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(n.data.len());
        let mut failed = None;
        for col in n.data.chunks(len) {
            let mut x: Vec<u32> = col.iter().map(|v| v.as_canonical_u32()).collect();
            if n.cfg.input == Order::BitReversed {
                x = bit_reverse(&x);
            }
            match driver::transform(
                bus.as_mut(),
                &x,
                inverse,
                Instant::now() + per_column,
                cancel,
            ) {
                Ok(run) => {
                    let y = if n.cfg.output == Order::Natural {
                        bit_reverse(&run.output)
                    } else {
                        run.output
                    };
                    out.extend(y.into_iter().map(BabyBear::from_u32));
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        drop(bus);
        match failed {
            None => {
                self.failures.store(0, Ordering::Relaxed);
                n.data = out;
                Ok(Output::Ntt(NttJob::BabyBear(n)))
            }
            Some(e) => {
                if e != DeviceError::Cancelled {
                    self.failures.fetch_add(1, Ordering::Relaxed);
                }
                Err(Failure {
                    reason: e.to_string(),
                    job: Some(Job::Ntt(NttJob::BabyBear(n))),
                })
            }
        }
    }

    fn health(&self) -> Health {
        let f = self.failures.load(Ordering::Relaxed);
        if f >= FAILURES_BEFORE_UNHEALTHY {
            Health::Unhealthy(format!("{f} device failures in a row"))
        } else {
            Health::Healthy
        }
    }
}
