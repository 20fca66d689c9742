//! The running server's shared state (`AppState`: the store, the log cache, the
//! configuration and the server-wide limiters: the sign-in `throttle` and the turns
//! of enrolment), its housekeeping, and the clock.

pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use self::throttle::LoginThrottle;
use crate::cache::LogCache;
use crate::config::Config;
use crate::store::{Store, StoreError};

/// Enrolment codes checked at once, server-wide.
pub const ENROL_CHECKS_AT_ONCE: usize = 8;

/// Shared state of the running server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Everything durable.
    pub store: Arc<dyn Store>,
    /// The hamlet logs in memory.
    pub logs: Arc<LogCache>,
    /// Syncs queued for a hamlet's log while its lock is held (merged as a batch).
    pub waiting: Arc<crate::cache::Waiting>,
    /// Failed web sign-ins, per username.
    pub throttle: Arc<LoginThrottle>,
    /// Turns to check an enrolment code, server-wide (`ENROL_CHECKS_AT_ONCE`).
    pub enrol_checks: Arc<tokio::sync::Semaphore>,
    config: Arc<Config>,
}

impl AppState {
    /// Opens the store where `config` says (a data directory, or PostgreSQL).
    pub fn open(config: Config) -> Result<Self, StoreError> {
        Ok(Self::with_store(crate::store::Location::of(&config).open()?, config))
    }

    /// Serves an opened store.
    pub fn with_store(store: Arc<dyn Store>, config: Config) -> Self {
        Self {
            logs: Arc::new(LogCache::new(config.cache_docs)),
            waiting: Arc::default(),
            store,
            throttle: Arc::default(),
            enrol_checks: Arc::new(tokio::sync::Semaphore::new(ENROL_CHECKS_AT_ONCE)),
            config: Arc::new(config),
        }
    }

    /// The store, borrowed.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// How the server runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

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
                    let n = s.logs.evict_idle(s.config.cache_idle);
                    (n, n > 0 && crate::memory::release_freed())
                })
                .await;
                if let Ok((n @ 1.., released)) = evicted {
                    tracing::info!(evicted = n, released, "idle hamlet logs left memory");
                }
            }
        });
    }
}

/// Milliseconds since the epoch, now (client-core's clock, the one every replica reads).
pub use tungnha_client_core::domain::now_ms;
