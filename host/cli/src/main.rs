//! `offload`: the command line. `offload bench` measures the engines against peer libraries.

mod bench;
mod plot;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "offload",
    version,
    about = "Offload proof and signature appliance: tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure MSM and NTT per backend and size, optionally against peer libraries.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offload: {e:#}");
            ExitCode::FAILURE
        }
    }
}
