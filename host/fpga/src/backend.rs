//! The FPGA behind the scheduler's `Backend` trait: NTTs of the engine's field (BabyBear or
//! Goldilocks, as INFO says) up to its size, one job at a time, every failure handed back for
//! the CPU to re-run.

use crate::bus::{DeviceError, RegisterBus};
use crate::driver::{self, EngineInfo};
use offload_core::backend::{Backend, Cancel, Capability, Failure, Health, Strikes};
use offload_core::job::{FieldId, Job, Ntt, NttJob, Output};
use offload_engine::ntt::{natural_to_bit_reversed, Direction, NttField, Order};
use offload_hdl::ntt::compute_cycles;
use p3_baby_bear::BabyBear;
use p3_field::{PrimeCharacteristicRing, PrimeField64};
use p3_goldilocks::Goldilocks;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    strikes: Strikes,
}

/// The probe's column: edge values and a ramp, 16 elements (or the engine's largest size).
fn probe_input(n: usize, p: u64) -> Vec<u64> {
    (0..n as u64)
        .map(|i| match i {
            0 => 0,
            1 => p - 1,
            _ => i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % p,
        })
        .collect()
}

fn direction(inverse: bool) -> Direction {
    if inverse {
        Direction::Inverse
    } else {
        Direction::Forward
    }
}

/// The CPU engine's answer in the engine's order.
fn cpu(info: &EngineInfo, data: &[u64], inverse: bool) -> Vec<u64> {
    if info.wide() {
        natural_to_bit_reversed::<Goldilocks>(data, direction(inverse))
    } else {
        natural_to_bit_reversed::<BabyBear>(data, direction(inverse))
    }
    // The probe's sizes are valid domains.
    .unwrap_or_default()
}

fn modulus(info: &EngineInfo) -> u64 {
    if info.wide() {
        Goldilocks::ORDER_U64
    } else {
        BabyBear::ORDER_U64
    }
}

fn bit_reverse<T: Copy>(v: &[T]) -> Vec<T> {
    let bits = v.len().trailing_zeros();
    (0..v.len())
        .map(|i| v[i.reverse_bits() >> (usize::BITS - bits)])
        .collect()
}

/// A forward and an inverse transform on the engine, compared with the CPU engine's.
fn probe(bus: &mut dyn RegisterBus, info: &EngineInfo) -> Result<(), DeviceError> {
    let log_n = info.max_log.min(4.max(info.min_log()));
    let data = probe_input(1 << log_n, modulus(info));
    let deadline = Instant::now() + Duration::from_secs(30);
    for inverse in [false, true] {
        let run = driver::transform(bus, info.wide(), &data, inverse, deadline, &Cancel::never())?;
        if run.output != cpu(info, &data, inverse) {
            return Err(DeviceError::Unsupported(format!(
                "the probe's 2^{log_n} {} transform differs from the CPU engine's",
                if inverse { "inverse" } else { "forward" }
            )));
        }
    }
    Ok(())
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
        let (t0, c0) = (Instant::now(), bus.cycles());
        probe(bus.as_mut(), &info)?;
        let secs_per_cycle = match (bus.cycles(), c0) {
            (Some(c1), Some(c0)) if c1 > c0 => t0.elapsed().as_secs_f64() / (c1 - c0) as f64,
            _ => 1e-6 / clock_mhz.max(1.0),
        };
        let described = format!(
            "{}; {}, {} lane(s), butterfly latency {}",
            bus.describe(),
            info.field_name(),
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
            strikes: Strikes::default(),
        })
    }

    /// Bus cycles one column costs: the engine's compute cycles, one write per element in,
    /// a status read and a data read per element out (twice the data for 64-bit elements),
    /// and a few register accesses.
    fn column_cycles(&self, log_n: u32, inverse: bool) -> f64 {
        let n = (1u64 << log_n) as f64;
        let per_element = if self.info.wide() { 5.0 } else { 3.0 };
        compute_cycles(
            log_n,
            inverse,
            self.info.lanes as u64,
            self.info.latency as usize,
        ) as f64
            + per_element * n
            + 16.0
    }

    pub fn info(&self) -> EngineInfo {
        self.info
    }

    /// Every column of `n` through the engine, in the orders the job asks for; on a failure
    /// the job comes back untouched with the error.
    fn run_columns<F: NttField + PrimeField64>(
        &self,
        mut n: Ntt<F>,
        cancel: &Cancel,
    ) -> Result<Ntt<F>, (DeviceError, Ntt<F>)> {
        let inverse = n.cfg.direction == Direction::Inverse;
        let len = 1usize << n.log_n();
        let per_column = Duration::from_secs_f64(
            20.0 * self.column_cycles(n.log_n(), inverse) * self.secs_per_cycle,
        )
        .max(self.timeout_floor);
        let mut bus = self.bus.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(n.data.len());
        for col in n.data.chunks(len) {
            let mut x: Vec<u64> = col.iter().map(|v| v.as_canonical_u64()).collect();
            if n.cfg.input == Order::BitReversed {
                x = bit_reverse(&x);
            }
            let deadline = Instant::now() + per_column;
            match driver::transform(
                bus.as_mut(),
                self.info.wide(),
                &x,
                inverse,
                deadline,
                cancel,
            ) {
                Ok(run) => {
                    let y = if n.cfg.output == Order::Natural {
                        bit_reverse(&run.output)
                    } else {
                        run.output
                    };
                    out.extend(
                        y.into_iter()
                            .map(|v| <F as PrimeCharacteristicRing>::from_u64(v)),
                    );
                }
                Err(e) => {
                    drop(bus);
                    return Err((e, n));
                }
            }
        }
        n.data = out;
        Ok(n)
    }
}

impl Backend for FpgaBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn device(&self) -> String {
        self.described.clone()
    }

    fn capabilities(&self) -> Vec<Capability> {
        let field = if self.info.wide() {
            FieldId::Goldilocks
        } else {
            FieldId::BabyBear
        };
        // The engine computes no coset shift (its input is never pre-scaled).
        vec![Capability::Ntt {
            field,
            log_n: self.info.min_log()..=self.info.max_log,
            coset: false,
        }]
    }

    fn estimate(&self, job: &Job) -> Duration {
        let (log_n, inverse, columns) = match job {
            Job::Ntt(NttJob::BabyBear(n)) => (n.log_n(), n.cfg.direction, n.columns()),
            Job::Ntt(NttJob::Goldilocks(n)) => (n.log_n(), n.cfg.direction, n.columns()),
            _ => return Duration::MAX,
        };
        let inverse = inverse == Direction::Inverse;
        let secs = self.column_cycles(log_n, inverse) * self.secs_per_cycle * columns as f64;
        Duration::from_secs_f64(secs)
    }

    fn run(&self, job: Job, cancel: &Cancel) -> Result<Output, Failure> {
        let result = match job {
            Job::Ntt(NttJob::BabyBear(n)) if !self.info.wide() => self
                .run_columns(n, cancel)
                .map(|n| Output::Ntt(NttJob::BabyBear(n)))
                .map_err(|(e, n)| (e, Job::Ntt(NttJob::BabyBear(n)))),
            Job::Ntt(NttJob::Goldilocks(n)) if self.info.wide() => self
                .run_columns(n, cancel)
                .map(|n| Output::Ntt(NttJob::Goldilocks(n)))
                .map_err(|(e, n)| (e, Job::Ntt(NttJob::Goldilocks(n)))),
            job => {
                return Err(Failure::unsupported(
                    format!("the FPGA engine runs {} NTTs only", self.info.field_name()),
                    job,
                ))
            }
        };
        let result = result.map_err(|(e, job)| {
            if e == DeviceError::Cancelled {
                Failure::stopped(cancel, Some(job))
            } else {
                Failure::device(e.to_string(), Some(job))
            }
        });
        self.strikes.record(&result);
        result
    }

    fn health(&self) -> Health {
        self.strikes.health()
    }

    fn recover(&self) -> Result<(), String> {
        let mut bus = self.bus.lock().unwrap_or_else(|e| e.into_inner());
        probe(bus.as_mut(), &self.info).map_err(|e| e.to_string())?;
        self.strikes.clear();
        Ok(())
    }
}
