//! `offload-hw` (also run as `offload hw`): the FPGA cores' open flow (yosys, nextpnr-ecp5,
//! ecppack), their catalogue and Verilog export. A tool of its own so that the user's `offload`
//! command does not link rust-hdl.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use offload_hdl::{catalog, flow};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "offload hw",
    version,
    about = "FPGA cores: the open flow to a bitstream, the catalogue, Verilog export"
)]
struct Cli {
    #[command(subcommand)]
    command: Hw,
}

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offload hw: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Subcommand)]
enum Hw {
    /// Synthesise, place, route and pack a core; write the bitstream and a report.
    Build(BuildArgs),
    /// The cores and targets there are.
    List,
    /// Write a core's Verilog.
    Export {
        #[arg(long)]
        core: String,
        /// Output file; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct BuildArgs {
    /// Part and package, e.g. ecp5-85k (`offload hw list` names them).
    #[arg(long, default_value = "ecp5-85k")]
    target: String,
    /// The core, e.g. babybear-mul (`offload hw list` names them).
    #[arg(long)]
    core: String,
    /// Requested clock in MHz.
    #[arg(long, default_value_t = 100.0)]
    freq: f64,
    /// Write the bitstream even when the clock is missed.
    #[arg(long)]
    timing_allow_fail: bool,
    /// nextpnr router: router1 or router2.
    #[arg(long, default_value = "router1")]
    router: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder; the build goes in <out>/<core>-<target>/.
    #[arg(long, default_value = "target/hw")]
    out: PathBuf,
}

fn run(cmd: Hw) -> anyhow::Result<()> {
    match cmd {
        Hw::List => {
            println!("cores:");
            for c in catalog::CORES {
                println!("  {:<20} {}", c.name, c.about);
            }
            println!("targets:");
            for t in flow::TARGETS {
                println!("  {:<20} nextpnr-ecp5 {}", t.name, t.nextpnr.join(" "));
            }
            Ok(())
        }
        Hw::Export { core, out } => {
            let c = find(&core)?;
            match out {
                Some(p) => std::fs::write(&p, c.verilog())
                    .with_context(|| format!("writing {}", p.display()))?,
                None => print!("{}", c.verilog()),
            }
            Ok(())
        }
        Hw::Build(a) => {
            let c = find(&a.core)?;
            let Some(target) = flow::target(&a.target) else {
                bail!(
                    "unknown --target {:?}; `offload hw list` names them",
                    a.target
                );
            };
            if !a.freq.is_finite() || a.freq <= 0.0 {
                bail!("--freq must be a positive number of MHz");
            }
            let dir = a.out.join(format!("{}-{}", c.name, target.name));
            let opts = flow::Options {
                freq_mhz: a.freq,
                timing_allow_fail: a.timing_allow_fail,
                router: a.router,
                seed: a.seed,
            };
            let rep = flow::build(c.name, &c.verilog(), target, &opts, &dir)?;
            print!("{}", rep.markdown());
            println!("\nwritten under {}", dir.display());
            if rep.bitstream.is_none() {
                bail!("timing missed: {}", rep.outcome);
            }
            Ok(())
        }
    }
}

fn find(name: &str) -> anyhow::Result<&'static catalog::Core> {
    catalog::core(name).with_context(|| {
        let names: Vec<&str> = catalog::CORES.iter().map(|c| c.name).collect();
        format!("unknown core {name:?}; there are: {}", names.join(", "))
    })
}
