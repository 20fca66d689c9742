//! The Từng Nhà sync server as a library: `app(state)` builds the router and
//! `run(config, listener, shutdown)` serves it, so tests can bind port 0 and stop it.
//!
//! Today it holds hamlet logs in an embedded sled database and serves the overview
//! page and `/healthz`; the sync API, enrolment and dashboards come next (see
//! ARCHITECTURE.md). It depends on client-core's IO-free centre only.

pub mod demo;
mod routes;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tungnha_client_core::{HamletId, HamletLog};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the sled database lives.
    pub data_dir: PathBuf,
    /// Seed a demo commune into an empty database.
    pub demo: bool,
}

/// What can go wrong while starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or written.
    #[error("the database in the data directory could not be used: {0}")]
    Db(#[from] sled::Error),
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Shared state of the running server.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: sled::Db,
    hamlet_logs: sled::Tree,
    hamlets: sled::Tree,
}

/// A hamlet as the server records it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HamletRecord {
    /// Its id, which also names its log.
    pub id: HamletId,
    /// Its name as people say it.
    pub name: String,
    /// How many households the commune expects to reach.
    pub target_households: u64,
}

impl AppState {
    /// Opens the database in `config.data_dir`, seeding the demo if asked and empty.
    pub fn open(config: &Config) -> Result<Self, ServerError> {
        let db = sled::open(&config.data_dir)?;
        let state = Self {
            inner: Arc::new(Inner {
                hamlet_logs: db.open_tree("hamlet_logs")?,
                hamlets: db.open_tree("hamlets")?,
                db,
            }),
        };
        if config.demo && state.inner.hamlets.is_empty() {
            demo::seed(&state)?;
        }
        Ok(state)
    }

    /// Stores a hamlet and its log durably.
    pub fn put_hamlet(&self, record: &HamletRecord, log: &HamletLog) -> Result<(), ServerError> {
        let json = serde_json::to_vec(record).unwrap_or_default();
        self.inner.hamlets.insert(record.id.as_str(), json)?;
        self.inner.hamlet_logs.insert(record.id.as_str(), log.save())?;
        self.inner.db.flush()?;
        Ok(())
    }

    /// Every hamlet with its log. Records or logs that do not read are skipped and
    /// logged: one damaged entry must not take the overview down.
    pub fn hamlets(&self) -> Result<Vec<(HamletRecord, HamletLog)>, ServerError> {
        let mut out = Vec::new();
        for item in self.inner.hamlets.iter() {
            let (key, value) = item?;
            let Ok(record) = serde_json::from_slice::<HamletRecord>(&value) else {
                tracing::warn!(key = %String::from_utf8_lossy(&key), "unreadable hamlet record");
                continue;
            };
            let Some(bytes) = self.inner.hamlet_logs.get(&key)? else { continue };
            match HamletLog::load(&bytes) {
                Ok(log) => out.push((record, log)),
                Err(e) => tracing::warn!(hamlet = %record.id, error = %e, "unreadable hamlet log"),
            }
        }
        Ok(out)
    }
}

/// The application's router.
pub fn app(state: AppState) -> axum::Router {
    routes::router().with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    // Opening sled reads from disk: keep it off the async executor.
    let state = tokio::task::spawn_blocking(move || AppState::open(&config))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
