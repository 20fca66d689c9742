//! The in-memory cache of hamlet logs, each behind its own lock, under an LRU bound.
//!
//! An entry holds the log, its coverage ledger (rebuilt from the log on load, so the
//! ledger is never stored), its latest saved snapshot and the raw bytes of the changes
//! merged into it lately. How the log is laid out in storage is the store's affair. Loading and merging big logs is
//! blocking work: callers hold these locks only on blocking threads. An entry that is
//! in use is never evicted, so two copies of one log can never be live at once. Logs
//! nobody has asked for in a while are evicted too (`evict_idle`), so a server that
//! served a morning's burst gives its memory back in the quiet afternoon.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lru::LruCache;
use tungnha_client_core::{ChangeHash, CoverageLedger, HamletId, HamletLog, History, WithHistory};

use crate::store::{Store, StoreError};

/// One cached hamlet log.
#[derive(Debug)]
pub struct CachedLog {
    /// The log.
    pub log: HamletLog,
    /// The visits and walk-ins of the hamlet's earlier logs (rolled over at the end of
    /// campaigns): counted in its all-time figures beside the live log's.
    pub history: History,
    /// Its coverage, all time (the live log with its history), kept incrementally.
    pub ledger: CoverageLedger,
    /// The saved log as of its current heads, for devices that start holding it:
    /// saving a big log takes long, and a morning's enrolments all ask for the same.
    pub snapshot: Option<(Vec<ChangeHash>, Arc<Vec<u8>>)>,
    /// The raw bytes of changes merged since the log was loaded, to answer devices
    /// with (see `KeptChanges`).
    pub kept: KeptChanges,
    /// The version of the stored log this copy is (`Store::load_log_versioned`).
    pub version: u64,
}

/// The raw bytes of the changes most recently merged into one log, bounded in bytes
/// (oldest out first). In a busy hamlet each device's answer is mostly the changes its
/// teammates sent minutes before; sending those bytes as they arrived costs a lookup,
/// where rebuilding them from the log walks its ops (a quarter of the server's CPU in
/// the province burst before this was kept).
#[derive(Debug, Default)]
pub struct KeptChanges {
    order: VecDeque<ChangeHash>,
    bytes: HashMap<ChangeHash, Vec<u8>>,
    total: usize,
}

impl KeptChanges {
    /// The most bytes kept per log: a hamlet's busiest day fits many times over.
    pub const MAX_BYTES: usize = 256 * 1024;

    /// Keeps a change; the oldest go when the bound is passed.
    pub fn keep(&mut self, hash: ChangeHash, bytes: Vec<u8>) {
        if bytes.len() > Self::MAX_BYTES || self.bytes.contains_key(&hash) {
            return;
        }
        self.total += bytes.len();
        self.order.push_back(hash);
        self.bytes.insert(hash, bytes);
        while self.total > Self::MAX_BYTES {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(b) = self.bytes.remove(&old) {
                self.total -= b.len();
            }
        }
    }

    /// A kept change's raw bytes.
    pub fn get(&self, hash: &ChangeHash) -> Option<Vec<u8>> {
        self.bytes.get(hash).cloned()
    }

    /// Bytes kept.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl CachedLog {
    /// Catches up with the stored log when it moved on since this copy was loaded
    /// (another server instance on the same database wrote it): loads it again, with
    /// its ledger and version. Returns whether it had to. A single instance never
    /// does: every write of its logs goes through this cache.
    pub fn catch_up(&mut self, store: &dyn Store, hamlet: &HamletId) -> Result<bool, StoreError> {
        if store.log_version(hamlet)? == self.version {
            return Ok(false);
        }
        let Some((log, version)) = store.load_log_versioned(hamlet)? else { return Ok(false) };
        self.replace(store.history(hamlet)?, log, version);
        metrics::counter!("tungnha_logs_caught_up_total").increment(1);
        Ok(true)
    }

    /// Loads the stored log again, with its ledger and version, whatever this copy
    /// holds: what a refused or failed in-place merge left in it is thrown away.
    pub fn reload(&mut self, store: &dyn Store, hamlet: &HamletId) -> Result<(), StoreError> {
        let (log, version) = store
            .load_log_versioned(hamlet)?
            .ok_or_else(|| StoreError::Damaged { what: "hamlet log", reason: format!("{hamlet} is gone") })?;
        self.replace(store.history(hamlet)?, log, version);
        metrics::counter!("tungnha_logs_restored_total").increment(1);
        Ok(())
    }

    /// A cached log as loaded: its history, the log, its ledger built from both.
    fn loaded(history: History, log: HamletLog, version: u64) -> Self {
        let ledger = CoverageLedger::from_log(&WithHistory { history: &history, live: &log });
        Self::with_ledger(history, log, ledger, version)
    }

    fn with_ledger(history: History, log: HamletLog, ledger: CoverageLedger, version: u64) -> Self {
        Self { log, history, ledger, snapshot: None, kept: KeptChanges::default(), version }
    }

    /// Takes another state of the stored log (loaded again), with its ledger rebuilt
    /// and nothing kept of the one before.
    pub fn replace(&mut self, history: History, log: HamletLog, version: u64) {
        *self = Self::loaded(history, log, version);
    }

    /// Takes the successor a rollover stored, with the ledger already built for it.
    pub fn roll_over(&mut self, history: History, log: HamletLog, ledger: CoverageLedger, version: u64) {
        *self = Self::with_ledger(history, log, ledger, version);
    }

    /// Rebuilds the ledger from the log and its history (after a failed write).
    pub fn rebuild_ledger(&mut self) {
        self.ledger = CoverageLedger::from_log(&self.view());
    }

    /// Moves the ledger forward for what a merge touched.
    pub fn apply_to_ledger(&mut self, touched: &tungnha_client_core::judge::Touched) {
        let view = WithHistory { history: &self.history, live: &self.log };
        self.ledger.apply(&view, touched);
    }

    /// The live log seen with its history: every visit of every campaign.
    pub fn view(&self) -> WithHistory<'_, HamletLog> {
        WithHistory { history: &self.history, live: &self.log }
    }

    /// Every visit of every campaign: the history's, and the live log's (which win).
    pub fn all_visits(
        &self,
    ) -> std::collections::BTreeMap<tungnha_client_core::VisitId, tungnha_client_core::Visit> {
        use tungnha_client_core::domain::LogView;
        self.view().all_visits()
    }

    /// Every walk-in of every campaign (a counter's log): the history's, and the live
    /// log's (which win).
    pub fn all_walkins(
        &self,
    ) -> std::collections::BTreeMap<tungnha_client_core::WalkInId, tungnha_client_core::WalkIn> {
        use tungnha_client_core::domain::LogView;
        self.view().all_walkins()
    }

    /// The saved log, from the cache when the log has not moved since.
    pub fn snapshot(&mut self) -> Arc<Vec<u8>> {
        let heads = self.log.heads();
        match &self.snapshot {
            Some((at, bytes)) if *at == heads => bytes.clone(),
            _ => {
                let bytes = Arc::new(self.log.save());
                self.snapshot = Some((heads, bytes.clone()));
                bytes
            }
        }
    }
}

/// Work waiting for hamlet logs: per hamlet, the requests that queued while its lock
/// was held, which whoever takes the lock next takes up together (`service::sync`
/// merges, judges and commits them as one batch). The work is the service's own type,
/// held here type-erased so that this layer names none.
#[derive(Debug, Default)]
pub struct Waiting {
    map: Mutex<HashMap<HamletId, Vec<Box<dyn std::any::Any + Send>>>>,
}

impl Waiting {
    /// Queues work for `hamlet`.
    pub fn push(&self, hamlet: &HamletId, work: Box<dyn std::any::Any + Send>) {
        lock(&self.map).entry(hamlet.clone()).or_default().push(work);
    }

    /// Takes all the work queued for `hamlet`, oldest first.
    pub fn take(&self, hamlet: &HamletId) -> Vec<Box<dyn std::any::Any + Send>> {
        lock(&self.map).remove(hamlet).unwrap_or_default()
    }
}

/// A shared, individually locked cache entry.
pub type SharedLog = Arc<Mutex<CachedLog>>;

/// The cache.
#[derive(Debug)]
pub struct LogCache {
    capacity: usize,
    map: Mutex<LruCache<HamletId, (SharedLog, Instant)>>,
    /// One lock per hamlet being loaded, so that a crowd asking for the same cold log
    /// loads it once instead of each loading its own copy.
    loading: Mutex<std::collections::HashMap<HamletId, Arc<Mutex<()>>>>,
}

/// Locks a mutex, recovering from a panic in another holder: the data is a cache of
/// what is durable, and every writer leaves it consistent before it can panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LogCache {
    /// A cache holding up to `capacity` idle logs.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            map: Mutex::new(LruCache::unbounded()),
            loading: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The entry of a hamlet's log, loading it if needed; `None` if it has no log.
    pub fn get(&self, store: &dyn Store, hamlet: &HamletId) -> Result<Option<SharedLog>, StoreError> {
        if let Some((entry, used)) = lock(&self.map).get_mut(hamlet) {
            *used = Instant::now();
            return Ok(Some(entry.clone()));
        }
        // Load outside the cache lock (it can take a while for a big log), but under
        // this hamlet's loading lock, so a crowd loads it once.
        let gate = lock(&self.loading).entry(hamlet.clone()).or_default().clone();
        let _loading = lock(&gate);
        let loaded = self.load(store, hamlet);
        // Only now that the log is cached (or known absent) may a newcomer skip the gate.
        lock(&self.loading).remove(hamlet);
        loaded
    }

    /// Loads a log into the cache, unless whoever held the gate before us did.
    fn load(&self, store: &dyn Store, hamlet: &HamletId) -> Result<Option<SharedLog>, StoreError> {
        if let Some((entry, _)) = lock(&self.map).get(hamlet) {
            return Ok(Some(entry.clone()));
        }
        let Some((log, version)) = store.load_log_versioned(hamlet)? else { return Ok(None) };
        let entry = Arc::new(Mutex::new(CachedLog::loaded(store.history(hamlet)?, log, version)));
        let mut map = lock(&self.map);
        map.put(hamlet.clone(), (entry.clone(), Instant::now()));
        while map.len() > self.capacity {
            let idle = map.iter().rev().find(|(_, (e, _))| Arc::strong_count(e) == 1).map(|(k, _)| k.clone());
            match idle {
                Some(k) => {
                    map.pop(&k);
                }
                None => break,
            }
        }
        metrics::gauge!("tungnha_docs_cached").set(map.len() as f64);
        Ok(Some(entry))
    }

    /// Drops the logs nobody has used for `idle` (and nobody holds now); returns how
    /// many. What is dropped is durable, and is loaded again when next asked for.
    pub fn evict_idle(&self, idle: Duration) -> usize {
        let mut map = lock(&self.map);
        let stale: Vec<HamletId> = map
            .iter()
            .filter(|(_, (e, used))| used.elapsed() >= idle && Arc::strong_count(e) == 1)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &stale {
            map.pop(k);
        }
        metrics::gauge!("tungnha_docs_cached").set(map.len() as f64);
        stale.len()
    }

    /// How many logs are in memory.
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }

    /// Whether no log is in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_changes_stay_within_their_bound_oldest_out_first() {
        let hash = |n: u8| ChangeHash([n; 32]);
        let mut kept = KeptChanges::default();
        let chunk = KeptChanges::MAX_BYTES / 4;
        for n in 0..4 {
            kept.keep(hash(n), vec![n; chunk]);
        }
        assert_eq!(kept.total(), KeptChanges::MAX_BYTES);
        assert_eq!(kept.get(&hash(0)), Some(vec![0; chunk]));
        kept.keep(hash(4), vec![4; 10]);
        assert!(kept.get(&hash(0)).is_none(), "the oldest went");
        assert!(kept.get(&hash(1)).is_some() && kept.get(&hash(4)).is_some());
        assert_eq!(kept.total(), 3 * chunk + 10);
        kept.keep(hash(4), vec![4; 10]);
        assert_eq!(kept.total(), 3 * chunk + 10, "a change is kept once");
        kept.keep(hash(5), vec![5; KeptChanges::MAX_BYTES + 1]);
        assert!(kept.get(&hash(5)).is_none(), "one change over the bound is not kept at all");
        assert!(kept.get(&hash(1)).is_some(), "and pushes nothing out");
    }

    #[test]
    fn idle_logs_are_evicted_but_never_one_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("open");
        let ids: Vec<HamletId> = ["x.a", "x.b"].iter().map(|h| HamletId::parse(h).expect("id")).collect();
        let hamlets: Vec<crate::records::Hamlet> = ids
            .iter()
            .map(|id| crate::records::Hamlet {
                id: id.clone(),
                code: id.as_str()[2..].into(),
                name: "Thôn".into(),
                kind: tungnha_client_core::domain::HamletKind::Thon,
                commune: tungnha_client_core::CommuneId::parse("x").expect("id"),
                target_households: 10,
            })
            .collect();
        db.put_hamlets(&hamlets).expect("hamlets");
        let cache = LogCache::new(8);
        let held = cache.get(db.as_ref(), &ids[0]).expect("load").expect("a log");
        cache.get(db.as_ref(), &ids[1]).expect("load").expect("a log");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.evict_idle(Duration::from_secs(3600)), 0, "nothing is idle yet");
        assert_eq!(cache.evict_idle(Duration::ZERO), 1, "the one in use stays");
        assert_eq!(cache.len(), 1);
        drop(held);
        assert_eq!(cache.evict_idle(Duration::ZERO), 1);
        assert!(cache.is_empty());
        assert!(cache.get(db.as_ref(), &ids[0]).expect("load").is_some(), "an evicted log loads again");
    }
}
