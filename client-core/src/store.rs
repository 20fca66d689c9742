//! The device's durable local store, on sled (feature `store`).
//!
//! Layout, in three trees:
//! - `chunks`: per hamlet, `<hamlet> 0x00 <seq: u64 BE>` → bytes. Chunk 0 is a saved
//!   document (snapshot); later chunks hold the changes made or received since, as raw
//!   change chunks. Loading concatenates them through Automerge's incremental loader.
//! - `docmeta`: per hamlet, `<hamlet> 0x00 <name>` → heads (32-byte hashes, packed):
//!   `stored` (what the chunks add up to), `sealed`, and `shared <peer>`.
//! - `identity`: the enrolled device's credentials and a few device-wide values.
//!
//! Beside them, each held hamlet's household keys are a file of their own
//! (`keyfile`), replaced whole, so that an erased key leaves no bytes behind in a
//! live file; a hamlet's keys are saved before its log, so a stored household always
//! has its key.
//!
//! Every write is one sled transaction followed by a flush: when `persist` returns, the
//! data survives a crash or a pulled battery. A document is compacted back into one
//! snapshot when its chunks grow past `COMPACT_AFTER`, or when squashing has rewritten
//! changes that were stored (they are then no longer part of the document).

use std::collections::BTreeMap;
use std::path::Path;

use automerge::{Automerge, ChangeHash, ReadDoc};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::ids::HamletId;
use crate::keyfile::KeyFiles;
use crate::log::{HamletLog, LogError};
use crate::sync::{PeerId, Replica};

/// Chunks a document may gather before it is compacted into one snapshot.
pub const COMPACT_AFTER: u64 = 64;

/// What can go wrong with the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (disk full, permissions, a damaged database file).
    #[error("the local store could not be used: {0}")]
    Sled(#[from] sled::Error),
    /// The store's directory could not be made or kept private.
    #[error("the local store's folder could not be made private: {0}")]
    Folder(#[from] std::io::Error),
    /// A hamlet's household keys could not be read or written.
    #[error("the household keys of the local store could not be used: {0}")]
    Keys(std::io::Error),
    /// A hamlet's stored chunks do not load.
    #[error("the stored log of hamlet {hamlet} is damaged (chunk {chunk}): {reason}")]
    Corrupt {
        /// The hamlet.
        hamlet: String,
        /// Which chunk failed.
        chunk: u64,
        /// Why.
        reason: String,
    },
    /// The stored document is not a hamlet log.
    #[error("the stored log of hamlet {hamlet} is not a hamlet log: {source}")]
    NotALog {
        /// The hamlet.
        hamlet: String,
        /// Why.
        source: LogError,
    },
}

/// The local store of one device.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    chunks: sled::Tree,
    docmeta: sled::Tree,
    identity: sled::Tree,
    keys: KeyFiles,
}

fn doc_prefix(hamlet: &HamletId) -> Vec<u8> {
    let mut k = hamlet.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

fn chunk_key(hamlet: &HamletId, seq: u64) -> Vec<u8> {
    let mut k = doc_prefix(hamlet);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn meta_key(hamlet: &HamletId, name: &str) -> Vec<u8> {
    let mut k = doc_prefix(hamlet);
    k.extend_from_slice(name.as_bytes());
    k
}

fn pack(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn unpack(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes.chunks_exact(32).filter_map(|c| <[u8; 32]>::try_from(c).ok()).map(ChangeHash).collect()
}

const SHARED: &str = "shared ";

/// A store that failed to load some hamlets still loads the others.
#[derive(Debug)]
pub struct Loaded {
    /// The replica with every log that loaded.
    pub replica: Replica,
    /// The hamlets that did not, and why.
    pub damaged: Vec<StoreError>,
}

/// Creates `dir` if needed and makes it (and the files sled keeps in it, by making
/// them unreachable to others) its owner's alone: mode 0700.
fn owner_only(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(StoreError::Folder)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(StoreError::Folder)?;
    }
    Ok(())
}

impl Store {
    /// Opens (or creates) the store in `dir`. The directory holds the device's token,
    /// so it is made (or set) readable by its owner only.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        owner_only(dir)?;
        let db = crate::sled_open::open(&sled::Config::new().path(dir), dir)?;
        Ok(Self {
            chunks: db.open_tree("chunks")?,
            docmeta: db.open_tree("docmeta")?,
            identity: db.open_tree("identity")?,
            keys: KeyFiles::open(dir).map_err(StoreError::Keys)?,
            db,
        })
    }

    /// A device-wide value (credentials, server address, last sync time).
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.identity.get(name)?.map(|v| v.to_vec()))
    }

    /// Sets device-wide values in one durable write.
    pub fn set(&self, values: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in values {
            batch.insert(*k, *v);
        }
        self.identity.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// The hamlets with stored logs.
    pub fn hamlets(&self) -> Result<Vec<HamletId>, StoreError> {
        let mut out = Vec::new();
        for item in self.docmeta.iter() {
            let (k, _) = item?;
            if let Some(end) = k.iter().position(|b| *b == 0)
                && &k[end + 1..] == b"stored"
                && let Some(id) = std::str::from_utf8(&k[..end]).ok().and_then(|s| HamletId::parse(s).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Loads every stored log into a replica writing under `actor`. A damaged log is
    /// reported and left out; the others load.
    pub fn load(&self, actor: automerge::ActorId) -> Result<Loaded, StoreError> {
        let mut replica = Replica::new(actor);
        let mut damaged = Vec::new();
        for hamlet in self.hamlets()? {
            let loaded = self
                .load_log(&hamlet)
                .and_then(|log| Ok(log.with_keys(self.keys.load(&hamlet).map_err(StoreError::Keys)?)));
            match loaded {
                Ok(log) => {
                    let sealed = unpack(&self.docmeta.get(meta_key(&hamlet, "sealed"))?.unwrap_or_default());
                    let mut shared = BTreeMap::new();
                    for item in self.docmeta.scan_prefix(meta_key(&hamlet, SHARED)) {
                        let (k, v) = item?;
                        let peer = String::from_utf8_lossy(&k[doc_prefix(&hamlet).len() + SHARED.len()..]);
                        shared.insert(PeerId::from(peer), unpack(&v));
                    }
                    replica.restore(hamlet, log, sealed, shared);
                }
                Err(e) => damaged.push(e),
            }
        }
        Ok(Loaded { replica, damaged })
    }

    fn load_log(&self, hamlet: &HamletId) -> Result<HamletLog, StoreError> {
        let mut doc = Automerge::new();
        for item in self.chunks.scan_prefix(doc_prefix(hamlet)) {
            let (k, v) = item?;
            let seq = k
                .len()
                .checked_sub(8)
                .and_then(|i| k[i..].try_into().ok())
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            let corrupt =
                |reason: String| StoreError::Corrupt { hamlet: hamlet.to_string(), chunk: seq, reason };
            // Every chunk was written because it added changes; Automerge's incremental
            // loader skips bytes it cannot read, so "added nothing" means damaged.
            let heads = doc.get_heads();
            doc.load_incremental(&v).map_err(|e| corrupt(e.to_string()))?;
            if doc.get_heads() == heads {
                return Err(corrupt("it holds no readable changes".into()));
            }
            if !doc.get_missing_deps(&[]).is_empty() {
                return Err(corrupt("it depends on changes that are not stored".into()));
            }
        }
        HamletLog::from_automerge(doc)
            .map_err(|source| StoreError::NotALog { hamlet: hamlet.to_string(), source })
    }

    /// Makes the replica's state of one hamlet durable: appends the changes since what
    /// is stored (or rewrites a snapshot when needed) and records its sync bookkeeping,
    /// in one transaction, then flushes. Call it before reporting a local change as
    /// saved, and before sending anything.
    pub fn persist(&self, replica: &Replica, hamlet: &HamletId) -> Result<(), StoreError> {
        self.persist_all(replica, std::slice::from_ref(hamlet))
    }

    /// `persist` for several hamlets, with one flush for all of them (a sync touches
    /// every held log, and a flush is the slow part).
    pub fn persist_all<'a>(
        &self,
        replica: &Replica,
        hamlets: impl IntoIterator<Item = &'a HamletId>,
    ) -> Result<(), StoreError> {
        for hamlet in hamlets {
            self.write(replica, hamlet)?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// One hamlet's part of `persist`, not flushed.
    fn write(&self, replica: &Replica, hamlet: &HamletId) -> Result<(), StoreError> {
        let (Some(log), Some((sealed, shared))) = (replica.log(hamlet), replica.bookkeeping(hamlet)) else {
            return self.remove_unflushed(hamlet);
        };
        let stored = unpack(&self.docmeta.get(meta_key(hamlet, "stored"))?.unwrap_or_default());
        let heads = log.heads();
        let doc = log.doc();
        let last_seq = self
            .chunks
            .scan_prefix(doc_prefix(hamlet))
            .keys()
            .next_back()
            .transpose()?
            .and_then(|k| k.len().checked_sub(8).and_then(|i| <[u8; 8]>::try_from(&k[i..]).ok()))
            .map(u64::from_be_bytes);
        // A stored head the document no longer has was squashed away: start afresh.
        let rewritten = stored.iter().any(|h| doc.get_change_meta_by_hash(h).is_none());
        let compact = rewritten || last_seq.is_none() || last_seq.is_some_and(|s| s + 1 >= COMPACT_AFTER);
        let old_keys: Vec<sled::IVec> = if compact {
            self.chunks.scan_prefix(doc_prefix(hamlet)).keys().collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let new_chunk = if compact {
            Some((chunk_key(hamlet, 0), log.save()))
        } else if stored != heads {
            let seq = last_seq.map_or(0, |s| s + 1);
            Some((chunk_key(hamlet, seq), doc.save_after(&stored)))
        } else {
            None
        };
        let peers: Vec<(Vec<u8>, Vec<u8>)> =
            shared.iter().map(|(p, h)| (meta_key(hamlet, &format!("{SHARED}{p}")), pack(h))).collect();
        let sealed = pack(sealed);
        // The keys first: a crash between leaves a key without its household, never
        // a household without its key.
        self.keys.save(hamlet, log.keys()).map_err(StoreError::Keys)?;
        (&self.chunks, &self.docmeta)
            .transaction(|(chunks, meta)| {
                for k in &old_keys {
                    chunks.remove(k)?;
                }
                if let Some((k, v)) = &new_chunk {
                    chunks.insert(k.as_slice(), v.as_slice())?;
                }
                meta.insert(meta_key(hamlet, "stored"), pack(&heads))?;
                meta.insert(meta_key(hamlet, "sealed"), sealed.as_slice())?;
                for (k, v) in &peers {
                    meta.insert(k.as_slice(), v.as_slice())?;
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(tx_error)?;
        Ok(())
    }

    /// Forgets one hamlet's log (its user was unassigned).
    pub fn remove(&self, hamlet: &HamletId) -> Result<(), StoreError> {
        self.remove_unflushed(hamlet)?;
        self.db.flush()?;
        Ok(())
    }

    fn remove_unflushed(&self, hamlet: &HamletId) -> Result<(), StoreError> {
        let chunk_keys: Vec<sled::IVec> =
            self.chunks.scan_prefix(doc_prefix(hamlet)).keys().collect::<Result<_, _>>()?;
        let meta_keys: Vec<sled::IVec> =
            self.docmeta.scan_prefix(doc_prefix(hamlet)).keys().collect::<Result<_, _>>()?;
        (&self.chunks, &self.docmeta)
            .transaction(|(chunks, meta)| {
                for k in &chunk_keys {
                    chunks.remove(k)?;
                }
                for k in &meta_keys {
                    meta.remove(k)?;
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(tx_error)?;
        self.keys.remove(hamlet).map_err(StoreError::Keys)?;
        Ok(())
    }

    /// Erases everything: logs, bookkeeping and credentials (the device was revoked).
    pub fn wipe(&self) -> Result<(), StoreError> {
        self.chunks.clear()?;
        self.docmeta.clear()?;
        self.identity.clear()?;
        self.db.flush()?;
        self.keys.remove_all().map_err(StoreError::Keys)?;
        Ok(())
    }
}

fn tx_error(e: TransactionError<()>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => {
            StoreError::Sled(sled::Error::Unsupported("transaction aborted".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_store_folder_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir(&home).expect("made");
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let store = Store::open(&home).expect("open");
        store.set(&[("token", b"tn-secret")]).expect("set");
        let mode = std::fs::metadata(&home).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
    use crate::domain::{Author, HouseholdForm, Outcome, Role, VisitForm};
    use crate::ids::UserId;
    use automerge::ActorId;

    const NOW: i64 = 1_796_007_600_000;

    fn volunteer() -> Author {
        Author { user: UserId::parse("u-lan").expect("id"), role: Role::Volunteer }
    }

    fn hamlet(name: &str) -> HamletId {
        HamletId::parse(name).expect("id")
    }

    fn actor() -> ActorId {
        ActorId::from(vec![9u8; 16])
    }

    /// Writes two hamlets with a household and `visits` visits each, persisting after
    /// every change as the CLI does.
    fn write_some(store: &Store, visits: usize) -> Replica {
        let mut replica = Replica::new(actor());
        for name in ["kp-1", "kp-2"] {
            replica.hold(hamlet(name), HamletLog::genesis(&hamlet(name)));
            store.persist(&replica, &hamlet(name)).expect("persist");
            let log = replica.log_mut(&hamlet(name)).expect("held");
            let form = HouseholdForm { label: "Số 1".into(), ..HouseholdForm::default() };
            let hh = log.add_household(&volunteer(), &form, NOW).expect("add");
            store.persist(&replica, &hamlet(name)).expect("persist");
            for i in 0..visits {
                let log = replica.log_mut(&hamlet(name)).expect("held");
                log.log_visit(
                    &volunteer(),
                    &hh,
                    Outcome::Guided,
                    &VisitForm { people: 1, ..VisitForm::default() },
                    NOW - i as i64,
                    NOW,
                )
                .expect("visit");
                store.persist(&replica, &hamlet(name)).expect("persist");
            }
        }
        replica
    }

    #[test]
    fn what_was_persisted_survives_a_crash() {
        // The child half of this test: write, then die without any clean shutdown.
        if let Ok(dir) = std::env::var("TUNGNHA_STORE_CRASH_DIR") {
            let store = Store::open(Path::new(&dir)).expect("open");
            write_some(&store, 70);
            std::process::abort();
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "store::tests::what_was_persisted_survives_a_crash", "--nocapture"])
            .env("TUNGNHA_STORE_CRASH_DIR", dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("child runs");
        assert!(!status.success(), "the child aborted");
        let store = Store::open(dir.path()).expect("reopen");
        let loaded = store.load(actor()).expect("load");
        assert!(loaded.damaged.is_empty(), "{:?}", loaded.damaged);
        for name in ["kp-1", "kp-2"] {
            let log = loaded.replica.log(&hamlet(name)).expect("hamlet survived");
            // 70 visits is past COMPACT_AFTER, so this also crossed a compaction.
            assert_eq!(log.visits().ok.len(), 70);
            assert_eq!(log.households().ok.len(), 1);
        }
    }

    #[test]
    fn a_squash_rewrites_the_stored_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let mut replica = write_some(&store, 5);
        let before = replica.log(&hamlet("kp-1")).expect("held").visits().ok;
        let _request = replica.request("server");
        store.persist(&replica, &hamlet("kp-1")).expect("persist");
        let reopened = store.load(actor()).expect("load").replica;
        let log = reopened.log(&hamlet("kp-1")).expect("held");
        assert_eq!(log.visits().ok, before);
        assert_eq!(log.doc().get_changes(&[]).len(), 2, "genesis and the one squashed change, nothing else");
        assert_eq!(log.heads(), replica.log(&hamlet("kp-1")).expect("held").heads());
        assert_eq!(reopened.bookkeeping(&hamlet("kp-1")).expect("kept").0, log.heads().as_slice());
    }

    #[test]
    fn a_corrupt_chunk_is_reported_and_the_rest_still_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        write_some(&store, 3);
        store
            .chunks
            .insert(chunk_key(&hamlet("kp-2"), 2), b"not an automerge chunk".as_slice())
            .expect("insert");
        let loaded = store.load(actor()).expect("load");
        assert_eq!(loaded.damaged.len(), 1);
        let message = loaded.damaged[0].to_string();
        assert!(message.contains("kp-2") && message.contains("chunk 2"), "{message}");
        assert_eq!(loaded.replica.log(&hamlet("kp-1")).expect("kp-1 still loads").visits().ok.len(), 3);
        assert!(loaded.replica.log(&hamlet("kp-2")).is_none());
    }

    #[test]
    fn wiping_and_removing_forget_the_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        write_some(&store, 1);
        store.set(&[("token", b"secret")]).expect("set");
        store.remove(&hamlet("kp-1")).expect("remove");
        assert_eq!(store.hamlets().expect("list"), vec![hamlet("kp-2")]);
        store.wipe().expect("wipe");
        assert!(store.hamlets().expect("list").is_empty());
        assert_eq!(store.get("token").expect("get"), None);
    }

    #[test]
    fn a_snapshot_torn_by_a_kill_does_not_lock_the_volunteer_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            store.set(&[("server", b"http://x".as_slice())]).expect("written");
        }
        // What a process killed while writing its next snapshot leaves behind.
        std::fs::write(dir.path().join("snap.7FFFFFFFFFFFFFFF.generating"), b"half of a snapshot")
            .expect("torn snapshot");
        let store = Store::open(dir.path()).expect("the store opens all the same");
        assert_eq!(store.get("server").expect("read").as_deref(), Some(b"http://x".as_slice()));
        assert!(!dir.path().join("snap.7FFFFFFFFFFFFFFF.generating").exists(), "the torn snapshot went");
    }
}
