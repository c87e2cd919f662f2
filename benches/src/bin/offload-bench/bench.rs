//! One JSON object (or table row) per backend, case and peer.

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use offload_benches::{timing, Case, Curve, Field, Named, Scheme};
use offload_engine::sig::ed25519::Policy;
use serde_json::{json, Map, Value};
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Op {
    Msm,
    Ntt,
    Ed25519,
    Ecdsa,
    Schnorr,
    Bls,
    /// A Groth16 proof (ours against ark-groth16) of a Poseidon chain of 2^log_n constraints.
    Groth16,
    /// A STARK proof (Plonky3's Keccak AIR; ours against Plonky3's DFTs in the PCS) of a trace
    /// of about 2^log_n rows, over --field goldilocks or babybear.
    Stark,
    /// A trace matrix (2^log_n rows of --width columns, row by row, --field goldilocks or
    /// babybear) transformed column by column, as Plonky3's `dft_batch`.
    NttRows,
    /// The same matrix's low-degree extension by 2 onto a coset, as a STARK prover's PCS
    /// takes it (Plonky3's `coset_lde_batch`).
    Lde,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Table,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Operation; without it, the default suite runs.
    #[arg(long, value_enum)]
    op: Option<Op>,
    /// Curve for MSM: bn254, bls12-381 (default: both).
    #[arg(long)]
    curve: Option<String>,
    /// Field for NTT: bn254, bls12-381, babybear, goldilocks (default: all).
    #[arg(long)]
    field: Option<String>,
    /// log2 of the size; a comma-separated list runs each.
    #[arg(long = "log-n", value_delimiter = ',')]
    log_n: Vec<u32>,
    /// Columns of the matrix for --op ntt-rows and lde; a comma-separated list runs each
    /// (default 8 and 256).
    #[arg(long, value_delimiter = ',')]
    width: Vec<usize>,
    /// Signatures per batch for signature ops; a comma-separated list runs each.
    #[arg(long, value_delimiter = ',')]
    batch: Vec<usize>,
    /// Policy: Ed25519 zip215, strict, rfc8032 (default zip215); ECDSA low-s, any-s (default
    /// low-s).
    #[arg(long)]
    policy: Option<String>,
    /// Backend to measure: cpu (in this process), remote (through a running offloadd at
    /// --addr; with --compare the in-process engine and peers run too, on the same inputs),
    /// fleet (MSM sharded over the daemons at --addr, one to all of them, and the upload of
    /// one shard: what a failover re-upload costs),
    /// fpga-sim (BabyBear NTT on the FPGA engine's cycle-accurate simulation: cycles, the
    /// time they take at --fmax-mhz, and the CPU's time), cuda (MSM, NTT and Ed25519 on the
    /// GPU found; a clear refusal where there is none), or cuda-emulated (the same kernels
    /// run on the host: slow, for checking results).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// With --backend fpga-sim: the clock the projection uses, MHz (the open flow reports
    /// the engine's Fmax: `offload hw build --core ntt-babybear-16k`).
    #[arg(long, default_value_t = 100.0)]
    fmax_mhz: f64,
    /// With --backend fpga-sim: butterfly lanes of the simulated engine (1, 2 or 4).
    #[arg(long, default_value_t = 1)]
    lanes: u32,
    /// The daemon for --backend remote: http://HOST:PORT or unix:/PATH; for --backend fleet,
    /// several, comma-separated (or dns:///NAME:PORT).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    addr: String,
    /// With --backend remote: send MSM scalars through this shared-memory directory (the
    /// daemon's shm_dir) instead of inside the message.
    #[arg(long)]
    shm_dir: Option<std::path::PathBuf>,
    /// Timed repetitions per contender (after warm-up runs until two agree within 10 %); from
    /// 5 on, more rounds are added while any contender's median is known no better than 2 %,
    /// up to --max-reps.
    #[arg(long, default_value_t = 7)]
    reps: usize,
    /// The most rounds a run is extended to (default three times --reps; equal to --reps
    /// for exactly that many).
    #[arg(long)]
    max_reps: Option<usize>,
    /// Also measure the peer libraries in this process, on the same inputs.
    #[arg(long)]
    compare: bool,
    /// MSM with bases precomputed into a fixed-base table (built before timing).
    #[arg(long)]
    fixed_bases: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Draw median time against size for each backend and peer into this SVG file.
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

/// The default suite: every op, curve and field at sizes that finish in minutes on 2 cores.
fn default_suite() -> Vec<Case> {
    let mut v = Vec::new();
    for curve in Curve::ALL {
        for log_n in [12, 16] {
            v.push(Case::Msm {
                curve,
                log_n,
                fixed_bases: false,
            });
        }
    }
    v.push(Case::Msm {
        curve: Curve::Bn254,
        log_n: 16,
        fixed_bases: true,
    });
    for field in Field::ALL {
        for log_n in [16, 20] {
            v.push(Case::Ntt { field, log_n });
        }
    }
    v
}

fn cases(a: &BenchArgs) -> Result<Vec<Case>> {
    let Some(op) = a.op else {
        if a.curve.is_some() || a.field.is_some() || !a.log_n.is_empty() || !a.batch.is_empty() {
            bail!("--curve, --field, --log-n and --batch need --op");
        }
        return Ok(default_suite());
    };
    if !a.width.is_empty() && !matches!(op, Op::NttRows | Op::Lde) {
        bail!("--width applies to --op ntt-rows and lde");
    }
    let signature_op = matches!(op, Op::Ed25519 | Op::Ecdsa | Op::Schnorr | Op::Bls);
    if !signature_op && (!a.batch.is_empty() || a.policy.is_some()) {
        bail!("--batch and --policy apply to signature ops (--op ed25519, ecdsa, schnorr, bls)");
    }
    if signature_op
        && (a.curve.is_some() || a.field.is_some() || a.fixed_bases || !a.log_n.is_empty())
    {
        bail!("signature ops take --batch and --policy");
    }
    let batches = if a.batch.is_empty() {
        vec![1024]
    } else {
        a.batch.clone()
    };
    if let Some(b) = batches.iter().find(|&&b| b == 0 || b > 1 << 20) {
        bail!("--batch {b}: batches of 1 to 2^20 signatures are supported");
    }
    let mut v = Vec::new();
    match op {
        Op::Ecdsa => {
            let low_s = match a.policy.as_deref() {
                None | Some("low-s") => true,
                Some("any-s") => false,
                Some(p) => bail!("unknown policy '{p}' for ecdsa (low-s, any-s)"),
            };
            for &batch in &batches {
                v.push(Case::Verify {
                    scheme: Scheme::Ecdsa { low_s },
                    batch,
                });
            }
        }
        Op::Bls => {
            if let Some(p) = a.policy.as_deref().filter(|p| *p != "eth-pop") {
                bail!("unknown policy '{p}' for bls (eth-pop)");
            }
            for &batch in &batches {
                v.push(Case::Verify {
                    scheme: Scheme::Bls,
                    batch,
                });
            }
        }
        Op::Schnorr => {
            if let Some(p) = a.policy.as_deref().filter(|p| *p != "bip340") {
                bail!("unknown policy '{p}' for schnorr (bip340)");
            }
            for &batch in &batches {
                v.push(Case::Verify {
                    scheme: Scheme::Schnorr,
                    batch,
                });
            }
        }
        Op::Ed25519 => {
            let policy = match &a.policy {
                Some(p) => Policy::parse(p)
                    .with_context(|| format!("unknown policy '{p}' (zip215, strict, rfc8032)"))?,
                None => Policy::Zip215,
            };
            let batches = if a.batch.is_empty() {
                vec![1024]
            } else {
                a.batch.clone()
            };
            for batch in batches {
                if batch == 0 || batch > 1 << 20 {
                    bail!("--batch {batch}: batches of 1 to 2^20 signatures are supported");
                }
                v.push(Case::Verify {
                    scheme: Scheme::Ed25519(policy),
                    batch,
                });
            }
        }
        Op::Msm => {
            if a.field.is_some() {
                bail!("--field applies to --op ntt; MSM takes --curve");
            }
            let curves = match &a.curve {
                Some(c) => vec![Curve::parse(c)
                    .with_context(|| format!("unknown curve '{c}' ({})", Curve::names()))?],
                None => Curve::ALL.to_vec(),
            };
            let sizes = if a.log_n.is_empty() {
                vec![16]
            } else {
                a.log_n.clone()
            };
            for curve in curves {
                for &log_n in &sizes {
                    if log_n > 26 {
                        bail!("--log-n {log_n}: MSM sizes up to 2^26 are supported by the bench");
                    }
                    v.push(Case::Msm {
                        curve,
                        log_n,
                        fixed_bases: a.fixed_bases,
                    });
                }
            }
        }
        Op::Groth16 => {
            if a.field.is_some() || a.fixed_bases {
                bail!("--op groth16 takes --curve (bn254, bls12-381) and --log-n");
            }
            let curves = match a.curve.as_deref() {
                None => vec![Curve::Bn254],
                Some(c) => match Curve::parse(c) {
                    Some(c @ (Curve::Bn254 | Curve::Bls12_381)) => vec![c],
                    _ => bail!("--op groth16: unknown curve '{c}' (bn254, bls12-381)"),
                },
            };
            let sizes = if a.log_n.is_empty() {
                vec![12]
            } else {
                a.log_n.clone()
            };
            for curve in curves {
                for &log_n in &sizes {
                    if !(8..=22).contains(&log_n) {
                        bail!("--log-n {log_n}: Groth16 circuits of 2^8 to 2^22 constraints are supported by the bench");
                    }
                    v.push(Case::Groth16 { curve, log_n });
                }
            }
        }
        Op::Stark => {
            if a.curve.is_some() || a.fixed_bases {
                bail!("--op stark takes --field (goldilocks, babybear) and --log-n");
            }
            let fields = match a.field.as_deref() {
                None => vec![Field::Goldilocks, Field::BabyBear],
                Some(f) => match Field::parse(f) {
                    Some(f @ (Field::Goldilocks | Field::BabyBear)) => vec![f],
                    _ => bail!("--op stark: unknown field '{f}' (goldilocks, babybear)"),
                },
            };
            let sizes = if a.log_n.is_empty() {
                vec![10]
            } else {
                a.log_n.clone()
            };
            for field in fields {
                for &log_n in &sizes {
                    if !(5..=18).contains(&log_n) {
                        bail!("--log-n {log_n}: STARK traces of 2^5 to 2^18 rows are supported by the bench");
                    }
                    v.push(Case::Stark { field, log_n });
                }
            }
        }
        Op::NttRows | Op::Lde => {
            let name = if op == Op::Lde { "lde" } else { "ntt-rows" };
            if a.curve.is_some() || a.fixed_bases {
                bail!("--op {name} takes --field (goldilocks, babybear), --log-n and --width");
            }
            let fields = match a.field.as_deref() {
                None => vec![Field::Goldilocks, Field::BabyBear],
                Some(f) => match Field::parse(f) {
                    Some(f @ (Field::Goldilocks | Field::BabyBear)) => vec![f],
                    _ => bail!("--op {name}: unknown field '{f}' (goldilocks, babybear)"),
                },
            };
            let sizes = if a.log_n.is_empty() {
                vec![16]
            } else {
                a.log_n.clone()
            };
            let widths = if a.width.is_empty() {
                vec![8, 256]
            } else {
                a.width.clone()
            };
            for field in fields {
                for &log_n in &sizes {
                    for &width in &widths {
                        // Bounded so that the matrix and its extension stay within a few GiB.
                        if !(1..=24).contains(&log_n) || width == 0 || (width << log_n) > 1 << 28 {
                            bail!("--op {name}: 2^1 to 2^24 rows of 1 or more columns, 2^28 elements at most");
                        }
                        v.push(Case::Rows {
                            field,
                            log_n,
                            width,
                            lde: op == Op::Lde,
                        });
                    }
                }
            }
        }
        Op::Ntt => {
            if a.curve.is_some() || a.fixed_bases {
                bail!("--curve and --fixed-bases apply to --op msm; NTT takes --field");
            }
            let fields = match &a.field {
                Some(f) => vec![Field::parse(f)
                    .with_context(|| format!("unknown field '{f}' ({})", Field::names()))?],
                None => Field::ALL.to_vec(),
            };
            let sizes = if a.log_n.is_empty() {
                vec![20]
            } else {
                a.log_n.clone()
            };
            for field in fields {
                for &log_n in &sizes {
                    if log_n > 26 {
                        bail!("--log-n {log_n}: NTT sizes up to 2^26 are supported by the bench");
                    }
                    v.push(Case::Ntt { field, log_n });
                }
            }
        }
    }
    Ok(v)
}

/// One measured line.
#[derive(Clone, Debug)]
pub struct Row {
    pub case: Case,
    pub backend: String,
    pub stats: timing::Stats,
    pub ratio: Option<f64>,
    pub agrees: bool,
}

impl Row {
    fn to_json(&self, threads: usize) -> Value {
        let mut m = Map::new();
        m.insert("op".into(), json!(self.case.op()));
        match self.case {
            Case::Msm {
                curve, fixed_bases, ..
            } => {
                m.insert("curve".into(), json!(curve.name()));
                m.insert("fixed_bases".into(), json!(fixed_bases));
            }
            Case::Ntt { field, .. } => {
                m.insert("field".into(), json!(field.name()));
            }
            Case::Groth16 { curve, .. } => {
                m.insert("curve".into(), json!(curve.name()));
            }
            Case::Stark { field, .. } => {
                m.insert("field".into(), json!(field.name()));
            }
            Case::Rows { field, width, .. } => {
                m.insert("field".into(), json!(field.name()));
                m.insert("width".into(), json!(width));
            }
            Case::Verify { scheme, batch } => {
                m.insert("policy".into(), json!(scheme.policy()));
                m.insert("batch".into(), json!(batch));
                m.insert(
                    "sigs_per_s".into(),
                    json!((batch as f64 / (self.stats.median_ms / 1e3)).round()),
                );
            }
        }
        m.insert("n".into(), json!(self.case.n()));
        if !matches!(self.case, Case::Verify { .. }) {
            m.insert("log_n".into(), json!(self.case.log_n()));
        }
        m.insert("backend".into(), json!(self.backend));
        m.insert("median_ms".into(), json!(round3(self.stats.median_ms)));
        m.insert("min_ms".into(), json!(round3(self.stats.min_ms)));
        m.insert("max_ms".into(), json!(round3(self.stats.max_ms)));
        m.insert("q1_ms".into(), json!(round3(self.stats.q1_ms)));
        m.insert("q3_ms".into(), json!(round3(self.stats.q3_ms)));
        if self.stats.median_error.is_finite() {
            m.insert(
                "median_error".into(),
                json!(round3(self.stats.median_error)),
            );
        }
        m.insert("reps".into(), json!(self.stats.reps));
        m.insert("threads".into(), json!(threads));
        if let Some(r) = self.ratio {
            m.insert("ratio".into(), json!(round3(r)));
            m.insert("agrees".into(), json!(self.agrees));
        }
        Value::Object(m)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn run(a: BenchArgs) -> Result<()> {
    let remote = match a.backend.as_str() {
        "cpu" => None,
        "remote" => Some(offload_benches::remote::Target {
            addr: a.addr.clone(),
            shm_dir: a.shm_dir.clone(),
            // TLS and token from OFFLOAD_TLS_CA, OFFLOAD_TLS_CLIENT_CERT/KEY, OFFLOAD_TOKEN;
            // the provers' calls (groth16, stark, ntt-rows, lde) stage their payloads in
            // --shm-dir (or OFFLOAD_SHM_DIR) too.
            options: {
                let mut o = offload_client::ConnectOptions::from_env()?;
                if a.shm_dir.is_some() {
                    o.shm_dir = a.shm_dir.clone();
                }
                o
            },
        }),
        "fpga-sim" | "cuda" | "cuda-emulated" | "fleet" => None,
        other => bail!(
            "backend '{other}' is not available in this build (cpu, remote, fleet, fpga-sim, \
             cuda, cuda-emulated)"
        ),
    };
    // Larger than the daemon's emulated GPU: a bench measures the plans at real sizes.
    let spec = match a.backend.as_str() {
        "cuda" => Some(offload_backends::DeviceSpec::Cuda),
        "cuda-emulated" => Some(offload_backends::DeviceSpec::CudaEmulated { max_log: 24 }),
        _ => None,
    };
    let device =
        match spec {
            Some(spec) => Some(offload_backends::open(&spec).map_err(|a| {
                anyhow::anyhow!("--backend {}: no usable GPU here: {}", a.name, a.why)
            })?),
            None => None,
        };
    if a.reps == 0 {
        bail!("--reps must be at least 1");
    }
    if a.backend == "fpga-sim" {
        if a.op.is_none() {
            bail!("--backend fpga-sim runs --op ntt --field babybear");
        }
        return crate::bench_fpga::run(
            &cases(&a)?,
            a.reps,
            a.fmax_mhz,
            a.lanes,
            a.format == Format::Table,
        );
    }
    if let Some(t) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .context("configuring the thread pool")?;
    }
    let threads = rayon::current_num_threads();
    let cases = cases(&a)?;
    let mut rows = Vec::new();
    let mut out = std::io::stdout().lock();
    if a.format == Format::Table {
        writeln!(
            out,
            "{:<32} {:<36} {:>11} {:>10} {:>10} {:>10} {:>10} {:>7} {:>5} {:>8}",
            "case",
            "backend",
            "median ms",
            "min ms",
            "q1 ms",
            "q3 ms",
            "max ms",
            "± med",
            "reps",
            "ratio"
        )?;
    }
    for case in cases {
        let mut ours: Option<(f64, Vec<u8>)> = None;
        let fleet = if a.backend == "fleet" {
            let Case::Msm { curve, log_n, .. } = case else {
                bail!("--backend fleet runs MSM cases only (--op msm)");
            };
            let o = offload_client::ConnectOptions::from_env()?;
            Some(
                offload_benches::fleet::runners(curve, log_n, &a.addr, &o)
                    .map_err(|e| anyhow::anyhow!("{case} across {}: {e}", a.addr))?,
            )
        } else {
            None
        };
        let runners = match (&remote, &device) {
            _ if fleet.is_some() => {
                let local = if a.compare {
                    offload_benches::runners(case, true)
                } else {
                    Vec::new()
                };
                fleet.into_iter().flatten().chain(local).collect()
            }
            (None, Some(d)) => {
                let r = offload_benches::device::runner(case, d.clone())
                    .map_err(|e| anyhow::anyhow!("{case}: {e}"))?;
                let local = if a.compare {
                    offload_benches::runners(case, true)
                } else {
                    Vec::new()
                };
                std::iter::once(r).chain(local).collect()
            }
            (None, None) => offload_benches::runners(case, a.compare),
            (Some(t), _) => {
                let r = offload_benches::remote::runner(case, t)
                    .map_err(|e| anyhow::anyhow!("{case} through {}: {e}", t.addr))?;
                let local = if a.compare {
                    offload_benches::runners(case, true)
                } else {
                    Vec::new()
                };
                std::iter::once(r).chain(local).collect()
            }
        };
        let mut runners = runners;
        let mut plan = timing::Plan::new(a.reps);
        if let Some(m) = a.max_reps {
            plan.max_reps = m.max(a.reps);
        }
        let measured = timing::measure_interleaved(&mut runners, plan);
        for (r, stats) in runners.into_iter().zip(measured) {
            let digest = r.digest();
            let (ratio, agrees) = match &ours {
                None => {
                    ours = Some((stats.median_ms, digest));
                    (None, true)
                }
                Some((m, d)) => (Some(stats.median_ms / m), *d == digest),
            };
            let row = Row {
                case,
                backend: r.name(),
                stats,
                ratio,
                agrees,
            };
            match a.format {
                Format::Json => writeln!(out, "{}", row.to_json(threads))?,
                Format::Table => writeln!(
                    out,
                    "{:<32} {:<36} {:>11.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>7} {:>5} {:>8}",
                    case.to_string(),
                    row.backend,
                    row.stats.median_ms,
                    row.stats.min_ms,
                    row.stats.q1_ms,
                    row.stats.q3_ms,
                    row.stats.max_ms,
                    if row.stats.median_error.is_finite() {
                        format!("{:.1}%", 100.0 * row.stats.median_error)
                    } else {
                        "-".into()
                    },
                    row.stats.reps,
                    row.ratio
                        .map(|r| format!("{r:.2}{}", if row.agrees { "" } else { "!" }))
                        .unwrap_or_default()
                )?,
            }
            out.flush()?;
            if !agrees {
                eprintln!(
                    "offload bench: {} disagrees with our result on {case}",
                    row.backend
                );
            }
            rows.push(row);
        }
    }
    if let Some(path) = &a.plot {
        crate::plot::draw(path, &rows).with_context(|| format!("drawing {}", path.display()))?;
    }
    if rows.iter().any(|r| !r.agrees) {
        bail!("a peer's result differs from ours (marked with '!' or \"agrees\": false)");
    }
    Ok(())
}
