//! `tungnha-server`: the command line of the Từng Nhà server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tungnha_server::Config;

/// The Từng Nhà server: sync, coverage and dashboards for community digital teams.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve on an embedded database in a data directory.
    Serve {
        /// The data directory (created if missing).
        #[arg(long, env = "TUNGNHA_DATA", default_value = "./tungnha-data")]
        data: PathBuf,
        /// The address to listen on.
        #[arg(long, env = "TUNGNHA_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed a demo commune into an empty data directory.
        #[arg(long)]
        demo: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve { data, listen, demo } => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("could not listen on {listen}"))?;
            tracing::info!("Từng Nhà is serving on http://{}", listener.local_addr()?);
            tungnha_server::run(Config { data_dir: data, demo }, listener, shutdown_signal())
                .await
                .context("the server stopped with an error")?;
        }
    }
    Ok(())
}

/// Completes on SIGINT or SIGTERM, for a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
