//! The Từng Nhà sync server as a library: `app(state)` builds the router and
//! `run(config, listener, shutdown)` serves it, so tests can bind port 0 and stop it.
//!
//! Modules: `db` (sled: records, hamlet-log chunks, coverage, sync states, sessions),
//! `docs` (the locked LRU cache of hamlet logs), `sync` (the validated, atomic sync),
//! `api` (HTTP API v1), `web` (the signed-in web pages, forms and exports), `app` (the
//! phone app's embedded files and service worker), `routes`
//! (health, metrics), `admin` (the admin commands), `demo` (the demo commune),
//! `records` and `error`. It depends on client-core's IO-free centre
//! only, and is the only crate that knows HTTP routes.

pub mod access;
pub mod admin;
pub mod api;
pub mod app;
pub mod db;
pub mod demo;
pub mod docs;
pub mod error;
pub mod failpoint;
mod memory;
pub mod records;
mod routes;
pub mod sync;
pub mod web;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::db::{Db, DbError};
use crate::docs::DocCache;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the sled database lives.
    pub data_dir: PathBuf,
    /// Seed a demo commune into an empty database.
    pub demo: bool,
    /// How many idle hamlet logs to keep in memory.
    pub cache_docs: usize,
    /// How long a hamlet log nobody asks for stays in memory.
    pub cache_idle: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Most requests served at once.
    pub concurrency: usize,
    /// Mark cookies `Secure` and build https links: the server is reached over TLS
    /// (its own, or a reverse proxy's).
    pub secure_cookies: bool,
    /// The address people reach the server at (`https://tungnha.example.vn`), for
    /// enrolment links. Without it, links use the address the browser asked for.
    pub public_url: Option<String>,
}

impl Config {
    /// A configuration with the defaults for everything but the data directory.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            demo: false,
            cache_docs: 256,
            cache_idle: Duration::from_secs(600),
            body_limit: 4 * 1024 * 1024,
            concurrency: 512,
            secure_cookies: false,
            public_url: None,
        }
    }
}

/// What can go wrong while starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database could not be opened or written.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Shared state of the running server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The hamlet logs in memory.
    pub docs: Arc<DocCache>,
    /// Failed web sign-ins, per username.
    pub throttle: Arc<web::session::LoginThrottle>,
    /// Turns to check an enrolment code, server-wide (`api::ENROL_CHECKS_AT_ONCE`).
    pub enrol_checks: Arc<tokio::sync::Semaphore>,
    config: Arc<Config>,
}

impl AppState {
    /// Opens the database in `config.data_dir`, seeding the demo if asked and empty.
    pub fn open(config: Config) -> Result<Self, ServerError> {
        let db = Db::open(&config.data_dir)?;
        let state = Self {
            docs: Arc::new(DocCache::new(config.cache_docs)),
            db,
            throttle: Arc::default(),
            enrol_checks: Arc::new(tokio::sync::Semaphore::new(api::ENROL_CHECKS_AT_ONCE)),
            config: Arc::new(config),
        };
        if state.config.demo && state.db.is_empty() {
            let demo = demo::seed(&state.db)?;
            println!("{demo}");
        } else if state.config.demo {
            // A fresh code each start, so the README's run command always enrols.
            if let Some(codes) = demo::fresh_code(&state.db)? {
                println!("{codes}");
            }
        }
        Ok(state)
    }
}

impl AppState {
    /// Whether the server is reached over TLS (its own, or a reverse proxy's).
    pub fn secure(&self) -> bool {
        self.config.secure_cookies
    }

    /// The configured public address, without a trailing slash.
    pub fn public_url(&self) -> Option<&str> {
        self.config.public_url.as_deref().map(|u| u.trim_end_matches('/'))
    }

    /// Starts the server's housekeeping: every 30 s, logs idle for `cache_idle` leave
    /// memory.
    pub fn spawn_housekeeping(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(
                Duration::from_secs(30).min(state.config.cache_idle.max(Duration::from_secs(1))),
            );
            loop {
                tick.tick().await;
                let s = state.clone();
                let evicted = tokio::task::spawn_blocking(move || {
                    let n = s.docs.evict_idle(s.config.cache_idle);
                    (n, n > 0 && memory::release_freed())
                })
                .await;
                if let Ok((n @ 1.., released)) = evicted {
                    tracing::info!(evicted = n, released, "idle hamlet logs left memory");
                }
            }
        });
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The process-wide Prometheus recorder (metrics macros report to one global recorder).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (tests run several servers).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The application's router, with its layers.
pub fn app(state: AppState) -> axum::Router {
    let config = state.config.clone();
    metrics_handle();
    // Sync envelopes are compressed already; compressing them again wastes CPU.
    let compress_when = DefaultPredicate::new().and(NotForContentType::new("application/octet-stream"));
    access::areas()
        .into_iter()
        .fold(axum::Router::new(), |router, area| router.merge(area.into_router()))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn(routes::count_requests))
        .layer(axum::middleware::from_fn_with_state(state.clone(), routes::security_headers))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(ConcurrencyLimitLayer::new(config.concurrency))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(60),
                ))
                .layer(RequestDecompressionLayer::new())
                .layer(CompressionLayer::new().compress_when(compress_when)),
        )
        .with_state(state)
}

/// The router type `app` builds.
pub type Router = axum::Router;

/// Serves an already-built router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // `into_make_service` turns every route into its final service once; handing
    // axum the router itself redoes that for each connection, which cost ~19 KB per
    // open connection with this many routes (heaptrack, province-burst).
    axum::serve(listener, app.into_make_service()).with_graceful_shutdown(shutdown).await
}

/// Serves an already-built router over TLS (rustls) on `addr` until `shutdown`
/// completes; `on_listening` learns the bound address (useful with port 0). The
/// certificate chain and private key are PEM files.
pub async fn serve_tls(
    addr: std::net::SocketAddr,
    app: Router,
    cert: &std::path::Path,
    key: &std::path::Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(std::net::SocketAddr) + Send + 'static,
) -> std::io::Result<()> {
    // One process-wide crypto provider; a second install (tests) is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("could not read the TLS certificate or key: {e}"))
    })?;
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let announcer = handle.clone();
    tokio::spawn(async move {
        if let Some(addr) = announcer.listening().await {
            on_listening(addr);
        }
    });
    axum_server::bind_rustls(addr, tls).handle(handle).serve(app.into_make_service()).await
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    // Opening sled reads from disk: keep it off the async executor.
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    state.spawn_housekeeping();
    serve(listener, app(state), shutdown).await?;
    Ok(())
}
