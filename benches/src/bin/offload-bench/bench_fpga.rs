//! `offload bench --backend fpga-sim`: the NTT engine in its cycle-accurate simulation. What a
//! simulation can measure honestly is cycles, so each row gives the engine's compute cycles
//! and the bus cycles of the whole job, the time those cycles take at a clock the open flow
//! reached (`--fmax-mhz`), and the in-process CPU engine's measured time for the same input.
//! The simulation's own wall time is reported too, and is no hardware figure.

use anyhow::{bail, Context, Result};
use offload_benches::{timing, Case, Field};
use offload_engine::cancel::Cancel;
use offload_engine::ntt::{NttConfig, NttField, Order};
use offload_fpga::{driver, sim};
use p3_baby_bear::BabyBear;
use p3_field::PrimeField64;
use p3_goldilocks::Goldilocks;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

/// The smallest simulated engine of the field on `lanes` lanes that takes 2^log_n.
fn engine(
    goldilocks: bool,
    log_n: u32,
    lanes: u32,
) -> Result<Box<dyn offload_fpga::bus::RegisterBus>> {
    let mut last = None;
    for max_log in log_n.max(4)..=16 {
        let made = if goldilocks {
            sim::goldilocks(max_log, lanes)
        } else {
            sim::babybear(max_log, lanes)
        };
        match made {
            Ok(bus) => return Ok(bus),
            Err(e) => last = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "no simulated engine takes 2^{log_n} on {lanes} lane(s): {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

pub fn run(cases: &[Case], reps: usize, fmax_mhz: f64, lanes: u32, table: bool) -> Result<()> {
    if !(fmax_mhz.is_finite() && fmax_mhz > 0.0) {
        bail!("--fmax-mhz must be a positive number");
    }
    if !lanes.is_power_of_two() {
        bail!("--lanes must be a power of two");
    }
    let mut out = std::io::stdout().lock();
    if table {
        writeln!(
            out,
            "{:<22} {:>14} {:>12} {:>14} {:>16} {:>12} {:>8} {:>9}",
            "case",
            "compute cyc",
            "bus cyc",
            "at fmax ms",
            "+ stream I/O ms",
            "cpu ms",
            "cpu/fpga",
            "sim s"
        )?;
    }
    let mut disagree = false;
    for &case in cases {
        let (goldilocks, log_n) = match case {
            Case::Ntt {
                field: Field::BabyBear,
                log_n,
            } => (false, log_n),
            Case::Ntt {
                field: Field::Goldilocks,
                log_n,
            } => (true, log_n),
            _ => bail!(
                "{case}: the FPGA engines run BabyBear and Goldilocks NTTs (--op ntt --field \
                 babybear|goldilocks)"
            ),
        };
        let min = (2 * lanes).trailing_zeros();
        if !(min..=16).contains(&log_n) {
            bail!("--log-n {log_n}: the simulated engine on {lanes} lane(s) takes sizes 2^{min} to 2^16");
        }
        let n = 1usize << log_n;
        let seed = 0x0ff1_0ad1 + log_n as u64;
        let (data, want) = if goldilocks {
            column::<Goldilocks>(n, seed)?
        } else {
            column::<BabyBear>(n, seed)?
        };
        let mut bus = engine(goldilocks, log_n, lanes)?;
        let started = Instant::now();
        let c0 = bus.cycles().unwrap_or(0);
        let run = driver::transform(
            bus.as_mut(),
            goldilocks,
            &data,
            false,
            Instant::now() + Duration::from_secs(3600),
            &Cancel::never(),
        )
        .context("running the simulated engine")?;
        let sim_s = started.elapsed().as_secs_f64();
        let bus_cycles = bus.cycles().unwrap_or(0) - c0;
        let agrees = want == run.output;
        disagree |= !agrees;
        let cpu = {
            let mut r = offload_benches::runners(case, false)
                .into_iter()
                .next()
                .context("no CPU runner")?;
            timing::measure(r.as_mut(), reps).median_ms
        };
        let compute_ms = run.cycles as f64 / (fmax_mhz * 1e3);
        // Streaming ports move one element per clock each way.
        let stream_ms = (run.cycles as f64 + 2.0 * n as f64) / (fmax_mhz * 1e3);
        if table {
            writeln!(
                out,
                "{:<22} {:>14} {:>12} {:>14.4} {:>16.4} {:>12.4} {:>8.2} {:>9.2}{}",
                if lanes > 1 {
                    format!("{case} x{lanes}")
                } else {
                    case.to_string()
                },
                run.cycles,
                bus_cycles,
                compute_ms,
                stream_ms,
                cpu,
                cpu / stream_ms,
                sim_s,
                if agrees { "" } else { "  DISAGREES" }
            )?;
        } else {
            writeln!(
                out,
                "{}",
                json!({
                    "op": "ntt", "field": if goldilocks { "goldilocks" } else { "babybear" }, "log_n": log_n, "n": n,
                    "backend": "fpga-sim", "lanes": lanes, "compute_cycles": run.cycles,
                    "bus_cycles": bus_cycles, "fmax_mhz": fmax_mhz,
                    "projected_compute_ms": compute_ms, "projected_streaming_ms": stream_ms,
                    "cpu_median_ms": cpu, "cpu_over_fpga": cpu / stream_ms,
                    "sim_seconds": sim_s, "agrees": agrees,
                })
            )?;
        }
        out.flush()?;
    }
    if disagree {
        bail!("the simulated engine's result differs from the CPU engine's");
    }
    Ok(())
}

/// A seeded column of the bench's inputs and the CPU engine's transform of it in the engine's
/// order (natural in, bit-reversed out), as canonical values.
fn column<F: NttField + PrimeField64>(n: usize, seed: u64) -> Result<(Vec<u64>, Vec<u64>)> {
    let input: Vec<F> = offload_benches::ntt::inputs(n, seed);
    let mut want = input.clone();
    offload_engine::ntt::ntt(
        &mut want,
        &NttConfig::forward().orders(Order::Natural, Order::BitReversed),
    )?;
    let canonical = |v: &[F]| v.iter().map(|x| x.as_canonical_u64()).collect();
    Ok((canonical(&input), canonical(&want)))
}
