//! How the server runs: `Config`, with every default in one place.

use std::path::PathBuf;
use std::time::Duration;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded store lives.
    pub data_dir: PathBuf,
    /// A PostgreSQL connection string: when given, the server's state lives there
    /// instead of in `data_dir`.
    pub database: Option<String>,
    /// Seed a demo commune into an empty store.
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
            database: None,
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
