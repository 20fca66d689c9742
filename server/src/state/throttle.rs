//! The sign-in throttle of one server instance: attempts per username in memory
//! (bounded, for every name tried, known or not), and the turns of password hashing.
//! The attempts of a username that is someone's are also counted in the store
//! (`service::accounts::reserve_shared_attempt`), so that instances sharing one database, and
//! a restarted one, count the same attempts.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failed sign-ins allowed per username within the window.
pub const MAX_FAILURES: u32 = 5;
/// The throttle's window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Most usernames the throttle tracks at once. Beyond it (a spray of a hundred
/// thousand names within one window) names it does not track are refused until
/// windows end: memory stays bounded, at the price of a lockout during such a storm.
pub const MAX_TRACKED: usize = 100_000;
/// Password checks run at once: each argon2id check holds ~19 MiB for ~40 ms.
pub const HASHING_AT_ONCE: usize = 4;

/// Sign-in attempts per username, in this instance's memory (the store counts known
/// people's too). An attempt is reserved (counted as a failure)
/// *before* its password is checked, so concurrent guesses cannot all slip under the
/// limit; a success forgets the name's count.
#[derive(Debug)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<String, (u32, i64)>>,
    /// Bounds concurrent password hashing.
    hashing: tokio::sync::Semaphore,
    /// Password checks run so far (real or stand-in), for tests and metrics.
    checks: std::sync::atomic::AtomicU64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            attempts: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE),
            checks: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, i64)>> {
        self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves one attempt for `username`, or says it must wait.
    pub fn reserve(&self, username: &str, now: i64) -> bool {
        let mut map = self.lock();
        if let Some((n, since)) = map.get_mut(username) {
            if now - *since >= WINDOW_MS {
                *n = 0;
                *since = now;
            }
            if *n >= MAX_FAILURES {
                return false;
            }
            *n += 1;
            return true;
        }
        if map.len() >= MAX_TRACKED {
            // Forget ended windows only when full, so an attempt costs O(1) usually.
            map.retain(|_, (_, since)| now - *since < WINDOW_MS);
            if map.len() >= MAX_TRACKED {
                return false;
            }
        }
        map.insert(username.to_owned(), (1, now));
        true
    }

    /// Forgets the attempts of a username after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(username);
    }

    /// How many usernames are tracked.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    /// The turns of password checking (`HASHING_AT_ONCE` at once).
    pub fn hashing(&self) -> &tokio::sync::Semaphore {
        &self.hashing
    }

    /// Counts one password check (real or stand-in).
    pub fn count_check(&self) {
        self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many passwords have been checked against a hash.
    pub fn checks(&self) -> u64 {
        self.checks.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_attempts_close_the_window_for_that_name_only() {
        let t = LoginThrottle::default();
        for i in 0..MAX_FAILURES {
            assert!(t.reserve("lan", 1000 + i64::from(i)));
        }
        assert!(!t.reserve("lan", 2000));
        assert!(t.reserve("bao", 2000));
        assert!(t.reserve("lan", 1000 + WINDOW_MS));
        t.succeeded("lan");
        assert!(t.reserve("lan", 2000));
    }

    #[test]
    fn the_throttle_tracks_a_bounded_number_of_names() {
        let t = LoginThrottle::default();
        for i in 0..MAX_TRACKED {
            assert!(t.reserve(&format!("u{i}"), 1000));
        }
        assert!(!t.reserve("one-too-many", 1000), "a full throttle refuses names it does not track");
        assert!(t.reserve("u7", 1001), "tracked names go on being counted");
        assert_eq!(t.tracked(), MAX_TRACKED);
        assert!(t.reserve("later", 1000 + WINDOW_MS), "ended windows make room");
        assert_eq!(t.tracked(), 1);
    }
}
