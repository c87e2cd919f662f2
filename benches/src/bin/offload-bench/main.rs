//! `offload-bench` (also run as `offload bench`): MSM, NTT and signature verification per backend
//! and size, in process or through a daemon, against the peer libraries in the same run. A tool of
//! its own so that the user's `offload` command links none of the peers, the GPU or the FPGA.

mod bench;
mod bench_fpga;
mod plot;

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "offload bench",
    version,
    about = "Measure MSM, NTT and signature verification per backend and size, optionally against peer libraries"
)]
struct Cli {
    #[command(flatten)]
    args: bench::BenchArgs,
}

fn main() -> ExitCode {
    match bench::run(Cli::parse().args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offload bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
