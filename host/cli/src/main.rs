//! `offload`: the command line. `offload bench` measures the engines (in process or through a
//! daemon) against peer libraries; `offload hw` runs the FPGA flow; the other commands are
//! clients of a running offloadd.

mod bench;
mod bench_fpga;
mod client;
mod hw;
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
    /// What the daemon runs: backends, operations, limits, queues.
    Info(client::Conn),
    /// Upload, list and delete base sets.
    Bases {
        #[command(flatten)]
        conn: client::Conn,
        #[command(subcommand)]
        cmd: client::Bases,
    },
    /// MSM through the daemon; prints one point per scalar file, hex.
    Msm {
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        args: client::MsmArgs,
    },
    /// NTT through the daemon.
    Ntt {
        #[command(flatten)]
        conn: client::Conn,
        #[command(flatten)]
        args: client::NttArgs,
    },
    /// Verify the signatures in a JSON file through the daemon; one verdict per line.
    Verify {
        #[command(flatten)]
        conn: client::Conn,
        file: std::path::PathBuf,
    },
    /// FPGA cores: the open flow to a bitstream, the catalogue, Verilog export.
    #[command(subcommand)]
    Hw(hw::Hw),
}

fn on_runtime(f: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(f)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::Info(conn) => on_runtime(client::info(&conn)),
        Command::Bases { conn, cmd } => on_runtime(client::bases(&conn, cmd)),
        Command::Msm { conn, args } => on_runtime(client::msm(&conn, args)),
        Command::Ntt { conn, args } => on_runtime(client::ntt(&conn, args)),
        Command::Verify { conn, file } => on_runtime(client::verify(&conn, file)),
        Command::Hw(cmd) => hw::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offload: {e:#}");
            ExitCode::FAILURE
        }
    }
}
