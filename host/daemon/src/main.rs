//! offloadd: `offloadd` with no arguments serves the CPU backend on 127.0.0.1:50051.

use clap::Parser;
use offload_daemon::config::{Command, Config, Flags};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    if let Some(Command::Token { tenant }) = &flags.command {
        let (token, hash) = offload_daemon::auth::new_token();
        println!(
            "# API token for tenant {tenant:?}: give it to the client (OFFLOAD_TOKEN or --token);"
        );
        println!("# only its hash is kept, in the daemon's configuration:");
        println!("{token}");
        println!();
        println!("[[tenants]]");
        println!("name = {tenant:?}");
        println!("tokens = [{hash:?}]");
        return Ok(());
    }
    let config = Config::load(&flags)?;
    if let Some(Command::CheckConfig) = &flags.command {
        let summary = offload_daemon::server::preflight(&config)?;
        println!("configuration OK: {summary}");
        return Ok(());
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr, as the README says; stdout is left to commands such as `token`.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    let running = offload_daemon::serve(config).await?;
    wait_for_signal().await;
    tracing::info!("shutting down: finishing calls in flight");
    running.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
