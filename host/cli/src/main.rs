//! `offload`: the command line, a client of a running offloadd. Any other command NAME runs the
//! tool `offload-NAME` found beside this binary or on PATH, as git does: `offload bench` is
//! offload-bench (crate offload-benches: the peers, the GPU and the FPGA simulator) and `offload
//! hw` is offload-hw (crate offload-hdl: rust-hdl and the open flow), so this binary links none
//! of them.

mod client;
mod tools;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
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
    /// What the daemon runs: backends, operations, limits, queues.
    Info(client::Conn),
    /// gRPC health of the daemon: exits 0 while it serves, 1 otherwise (container probes).
    Health {
        #[command(flatten)]
        conn: client::Conn,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
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
    /// `offload bench` (offload-bench): measure MSM, NTT and verification per backend and size,
    /// against peer libraries. `offload hw` (offload-hw): the FPGA cores' open flow. Any NAME
    /// runs `offload-NAME`.
    #[command(external_subcommand)]
    Tool(Vec<OsString>),
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
        Command::Info(conn) => on_runtime(client::info(&conn)),
        Command::Health { conn, timeout } => on_runtime(client::health(&conn, timeout)),
        Command::Bases { conn, cmd } => on_runtime(client::bases(&conn, cmd)),
        Command::Msm { conn, args } => on_runtime(client::msm(&conn, args)),
        Command::Ntt { conn, args } => on_runtime(client::ntt(&conn, args)),
        Command::Verify { conn, file } => on_runtime(client::verify(&conn, file)),
        Command::Tool(args) => return tools::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("offload: {e:#}");
            ExitCode::FAILURE
        }
    }
}
