//! HTTP: the router with its tower layers (`app`), and serving it, plain (`serve`,
//! `run`) or over TLS (`serve_tls`). Below it, each area registers its routes through
//! `routes::Routes`: `ops` (health, metrics, request counting, security headers),
//! `api` (API v1 for devices), `web` (the signed-in web pages, forms and exports) and
//! `assets` (the phone app's files). `error` turns a `ServiceError` into an answer.
//!
//! Handlers parse and bound what arrives, call a service on a blocking thread, and
//! render what it returns; they decide nothing about who may do what.

pub mod api;
pub mod assets;
pub mod error;
mod ops;
pub mod routes;
pub mod web;

use std::future::Future;
use std::sync::OnceLock;
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

use crate::config::Config;
use crate::service::ServiceError;
use crate::state::AppState;
use crate::store::StoreError;

/// Runs blocking work (storage, Automerge) off the async executor; a task that
/// panicked answers as an internal error.
pub(crate) async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<ServiceError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| E::from(ServiceError::Internal(e.to_string())))?
}

/// What can go wrong while starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The demo could not be seeded.
    #[error("the demo could not be set up: {0}")]
    Demo(#[from] ServiceError),
    /// Serving failed.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store for `config` and seeds the demo if asked for (printing its
/// accounts and codes): the state a server starts with. Blocking.
pub fn start(config: Config) -> Result<AppState, ServerError> {
    let demo = config.demo;
    let state = AppState::open(config)?;
    if demo && let Some(text) = crate::service::demo::at_start(state.store())? {
        println!("{text}");
    }
    Ok(state)
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
    let body_limit = state.config().body_limit;
    let concurrency = state.config().concurrency;
    metrics_handle();
    // Sync envelopes are compressed already; compressing them again wastes CPU.
    let compress_when = DefaultPredicate::new().and(NotForContentType::new("application/octet-stream"));
    routes::areas()
        .into_iter()
        .fold(axum::Router::new(), |router, area| router.merge(area.into_router()))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(ops::count_requests))
        .layer(axum::middleware::from_fn_with_state(state.clone(), ops::security_headers))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(ConcurrencyLimitLayer::new(concurrency))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(60),
                ))
                .layer(RequestDecompressionLayer::new())
                .layer(CompressionLayer::new().compress_when(compress_when)),
        )
        .with_state(state)
}

/// Serves an already-built router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
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
    app: axum::Router,
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

/// Where and how to serve.
#[derive(Debug)]
pub enum Listen {
    /// Plain HTTP on a bound listener (behind a reverse proxy that does TLS, or on
    /// loopback).
    Plain(TcpListener),
    /// HTTPS with rustls on an address, from PEM files.
    Tls {
        /// The address to bind.
        addr: std::net::SocketAddr,
        /// The certificate chain.
        cert: std::path::PathBuf,
        /// The private key.
        key: std::path::PathBuf,
    },
}

/// Starts the server (`start`, off the async executor: opening the store reads from
/// disk), its housekeeping, and serves it as `listen` says until `shutdown`
/// completes; `on_listening` learns the address and whether it is https.
pub async fn run(
    config: Config,
    listen: Listen,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_listening: impl FnOnce(std::net::SocketAddr, bool) + Send + 'static,
) -> Result<(), ServerError> {
    let state = tokio::task::spawn_blocking(move || start(config))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    state.spawn_housekeeping();
    spawn_retention(state.clone());
    match listen {
        Listen::Plain(listener) => {
            on_listening(listener.local_addr()?, false);
            serve(listener, app(state), shutdown).await?;
        }
        Listen::Tls { addr, cert, key } => {
            serve_tls(addr, app(state), &cert, &key, shutdown, move |addr| on_listening(addr, true)).await?;
        }
    }
    Ok(())
}

/// How often housekeeping erases the households whose commune's retention period
/// has passed since their last visit.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Housekeeping's retention pass (`service::erasure::apply_retention`): at start and
/// every hour after, each erasure audited under `housekeeping`.
fn spawn_retention(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETENTION_EVERY);
        loop {
            tick.tick().await;
            let s = state.clone();
            let done = tokio::task::spawn_blocking(move || {
                crate::service::erasure::apply_retention(&s, crate::now_ms())
            })
            .await;
            match done {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => {
                    tracing::info!(erased = n, "households past their commune's retention period were erased")
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the retention pass failed; it runs again within the hour")
                }
                Err(e) => tracing::warn!(error = %e, "the retention pass stopped"),
            }
        }
    });
}
