//! A crash on purpose, for crash testing: with `TUNGNHA_FAILPOINT=after-commit:N` in
//! its environment, the server aborts right after its Nth sync is durable and before
//! that sync is answered, the one window where a device's changes are kept but the
//! device was not told. The load generator's `crash-cycles` workload uses it to land
//! there on every other cycle instead of by chance. Without the variable this costs one
//! relaxed atomic load per sync.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the failpoint.
pub const VARIABLE: &str = "TUNGNHA_FAILPOINT";

fn armed() -> Option<u64> {
    static AT: OnceLock<Option<u64>> = OnceLock::new();
    *AT.get_or_init(|| {
        let value = std::env::var(VARIABLE).ok()?;
        let n = value.strip_prefix("after-commit:")?.parse().ok()?;
        tracing::warn!(%value, "failpoint armed: the server will abort after that many durable syncs");
        Some(n)
    })
}

/// Called after a sync's durable write, before its answer.
pub fn after_commit() {
    static COMMITS: AtomicU64 = AtomicU64::new(0);
    if let Some(n) = armed()
        && COMMITS.fetch_add(1, Ordering::Relaxed) + 1 >= n
    {
        std::process::abort();
    }
}
