//! The server's sled database: every server-owned record, the hamlet logs as chunks,
//! the materialized coverage per hamlet, per-(device, hamlet) sync states and the audit
//! log. Every method is blocking; async callers run them on a blocking thread.
//!
//! Trees: `communes`, `hamlets`, `users` (JSON by id); `assignments` (`user 0 hamlet`;
//! a hamlet's people are found by scanning it: there is no reverse index); `devices` (JSON by id),
//! `device_tokens` (token hash → device id), `actors` (actor hex → device id);
//! `enrol_codes` (code hash → JSON); `audit` (u64 BE → JSON); `logs` (`hamlet 0 seq`
//! → a snapshot at seq 0 or raw changes after); `coverage` (hamlet → JSON of the
//! headline figures) and `coverage_days` (`hamlet 0 day` → that day's visits and newly
//! covered households), kept apart so a dashboard reads a hamlet's figures and only the
//! days it draws, whatever the length of the campaign;
//! `sync_states` (`device 0 hamlet` → JSON); `sessions` (session-token hash → JSON);
//! `listed` (`user 0 day` → households listed through sync that day, u64 BE);
//! `reviewed` (`hamlet 0 household` → JSON `Review`: field-added households confirmed).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use tungnha_client_core::{
    ChangeHash, CommuneId, Coverage, DeviceId, HamletId, HamletLog, HouseholdId, UserId,
};

use crate::records::{AuditEvent, Commune, Device, EnrolCode, Hamlet, User};

/// sled's page cache, in bytes.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Another process (a running server) holds the data directory.
    #[error(
        "the data directory {0} is in use by another process (is the server running on it?); stop it first"
    )]
    Locked(String),
    /// sled failed.
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    /// A stored record does not read.
    #[error("a stored {what} record is damaged: {reason}")]
    Damaged {
        /// Which kind of record.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A sync would list more households than the user may list in a day.
    #[error("you have listed {already} households today; at most {limit} a day may be added in the field")]
    TooManyListed {
        /// Listed already today.
        already: u64,
        /// The day's allowance.
        limit: u64,
    },
}

/// SHA-256 of a secret, hex. Tokens and codes are stored only this way.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn pair(a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len() + 1);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

fn chunk_key(hamlet: &HamletId, seq: u64) -> Vec<u8> {
    let mut k = hamlet.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn log_prefix(hamlet: &HamletId) -> Vec<u8> {
    let mut k = hamlet.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Our records serialize infallibly (no maps with non-string keys, no floats NaN).
    serde_json::to_vec(value).unwrap_or_default()
}

fn parse<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, DbError> {
    serde_json::from_slice(bytes).map_err(|e| DbError::Damaged { what, reason: e.to_string() })
}

/// What one device last told the server about one hamlet log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncState {
    /// The device's heads, hex.
    pub heads: Vec<String>,
    /// When, ms since epoch.
    pub at: i64,
}

/// A signed-in web session, stored under the hash of its cookie's token.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    /// Who.
    pub user: UserId,
    /// The token every state-changing form must carry.
    pub csrf: String,
    /// When it ends, ms since epoch.
    pub expires_at: i64,
}

/// A household listed in the field that a leader or official confirmed as real.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    /// Who confirmed it.
    pub by: UserId,
    /// When, ms since epoch.
    pub at: i64,
}

/// One hamlet log's part of a sync's durable write.
#[derive(Debug)]
pub struct LogWrite {
    /// The hamlet.
    pub hamlet: HamletId,
    /// New raw changes to append as the next chunk, or a snapshot replacing all chunks.
    pub content: LogContent,
    /// The hamlet's coverage after the merge.
    pub coverage: Coverage,
    /// Its coverage before, when known (a sync's ledger); otherwise the stored days are
    /// read to find what changed.
    pub before: Option<Coverage>,
}

/// One day of one hamlet: visits, and households first covered that day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DayFigures {
    /// Non-voided visits.
    pub visits: u64,
    /// Households whose first covering visit was that day.
    pub covered: u64,
}

/// A coverage's day series, by day.
fn days_of(c: &Coverage) -> std::collections::BTreeMap<&str, DayFigures> {
    let mut days: std::collections::BTreeMap<&str, DayFigures> = std::collections::BTreeMap::new();
    for (d, n) in &c.per_day {
        days.entry(d).or_default().visits = *n;
    }
    for (d, n) in &c.covered_per_day {
        days.entry(d).or_default().covered = *n;
    }
    days
}

/// The day records to write (or remove, `None`) to go from `before` to `after`.
pub fn day_changes(before: &Coverage, after: &Coverage) -> Vec<(String, Option<DayFigures>)> {
    let (old, new) = (days_of(before), days_of(after));
    let mut out: Vec<(String, Option<DayFigures>)> = new
        .iter()
        .filter(|(d, f)| old.get(*d) != Some(f))
        .map(|(d, f)| ((*d).to_owned(), Some(*f)))
        .collect();
    out.extend(old.keys().filter(|d| !new.contains_key(*d)).map(|d| ((*d).to_owned(), None)));
    out
}

/// A coverage without its day series: what the `coverage` tree keeps.
fn headline(c: &Coverage) -> Coverage {
    Coverage { per_day: Default::default(), covered_per_day: Default::default(), ..c.clone() }
}

/// How a log's new state is written.
#[derive(Debug)]
pub enum LogContent {
    /// Append these bytes (raw changes) as chunk `seq`.
    Append {
        /// The chunk's sequence number.
        seq: u64,
        /// The raw changes.
        bytes: Vec<u8>,
    },
    /// Replace every chunk with this snapshot (compaction).
    Snapshot {
        /// The saved document.
        bytes: Vec<u8>,
        /// The chunk sequence numbers to remove (all but 0).
        remove: Vec<u64>,
    },
}

/// The server's database.
#[derive(Debug, Clone)]
pub struct Db {
    db: sled::Db,
    communes: sled::Tree,
    hamlets: sled::Tree,
    users: sled::Tree,
    assignments: sled::Tree,
    devices: sled::Tree,
    device_tokens: sled::Tree,
    actors: sled::Tree,
    enrol_codes: sled::Tree,
    audit: sled::Tree,
    logs: sled::Tree,
    coverage: sled::Tree,
    coverage_days: sled::Tree,
    sync_states: sled::Tree,
    sessions: sled::Tree,
    /// Households each user listed through sync, per Asia/Ho_Chi_Minh day of receipt.
    listed: sled::Tree,
    /// Households listed in the field that a leader or official confirmed.
    reviewed: sled::Tree,
}

/// Households one user's sync lists, charged against their day's allowance in the
/// sync's own transaction (two phones of one person syncing at once cannot both slip
/// under it).
#[derive(Debug, Clone)]
pub struct Listing {
    /// Who listed them.
    pub user: UserId,
    /// The day they arrived, `YYYY-MM-DD`.
    pub day: String,
    /// How many this sync lists.
    pub count: u64,
    /// The most the user may list that day.
    pub limit: u64,
}

type TxResult<T> = Result<T, ConflictableTransactionError<()>>;

fn tx_error(e: TransactionError<()>) -> DbError {
    match e {
        TransactionError::Storage(e) => DbError::Sled(e),
        TransactionError::Abort(()) => DbError::Sled(sled::Error::Unsupported("transaction aborted".into())),
    }
}

impl Db {
    /// Opens (or creates) the database in `dir`, refusing clearly if another process
    /// holds it.
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        // sled's page cache defaults to 1 GiB; a province's server lives in far less,
        // and hamlet logs have their own cache above this one.
        let db = sled::Config::new().path(dir).cache_capacity(CACHE_BYTES).open().map_err(|e| match e {
            sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock || io.raw_os_error() == Some(11) =>
            {
                DbError::Locked(dir.display().to_string())
            }
            sled::Error::Io(io) if io.to_string().contains("lock") => {
                DbError::Locked(dir.display().to_string())
            }
            other => DbError::Sled(other),
        })?;
        let this = Self {
            communes: db.open_tree("communes")?,
            hamlets: db.open_tree("hamlets")?,
            users: db.open_tree("users")?,
            assignments: db.open_tree("assignments")?,
            devices: db.open_tree("devices")?,
            device_tokens: db.open_tree("device_tokens")?,
            actors: db.open_tree("actors")?,
            enrol_codes: db.open_tree("enrol_codes")?,
            audit: db.open_tree("audit")?,
            logs: db.open_tree("logs")?,
            coverage: db.open_tree("coverage")?,
            coverage_days: db.open_tree("coverage_days")?,
            sync_states: db.open_tree("sync_states")?,
            sessions: db.open_tree("sessions")?,
            listed: db.open_tree("listed")?,
            reviewed: db.open_tree("reviewed")?,
            db,
        };
        this.split_day_series()?;
        Ok(this)
    }

    /// Data written before the day series were kept apart holds them inside each
    /// hamlet's coverage record: move them to `coverage_days`, once.
    fn split_day_series(&self) -> Result<(), DbError> {
        if !self.coverage_days.is_empty() {
            return Ok(());
        }
        for item in self.coverage.iter() {
            let (k, v) = item?;
            let c: Coverage = parse("coverage", &v)?;
            if c.per_day.is_empty() && c.covered_per_day.is_empty() {
                continue;
            }
            let Some(hamlet) = std::str::from_utf8(&k).ok().and_then(|h| HamletId::parse(h).ok()) else {
                continue;
            };
            for (day, f) in days_of(&c) {
                let mut key = log_prefix(&hamlet);
                key.extend_from_slice(day.as_bytes());
                self.coverage_days.insert(key, json(&f))?;
            }
            self.coverage.insert(k, json(&headline(&c)))?;
        }
        self.flush()
    }

    /// Waits until everything written is on disk.
    pub fn flush(&self) -> Result<(), DbError> {
        self.db.flush()?;
        Ok(())
    }

    /// Whether nothing has been set up yet.
    pub fn is_empty(&self) -> bool {
        self.communes.is_empty() && self.users.is_empty()
    }

    // ---- communes and hamlets ----

    /// A commune by id.
    pub fn commune(&self, id: &CommuneId) -> Result<Option<Commune>, DbError> {
        self.communes.get(id.as_str())?.map(|v| parse("commune", &v)).transpose()
    }

    /// Creates or replaces a commune.
    pub fn put_commune(&self, c: &Commune) -> Result<(), DbError> {
        self.communes.insert(c.id.as_str(), json(c))?;
        self.flush()
    }

    /// A hamlet by id.
    pub fn hamlet(&self, id: &HamletId) -> Result<Option<Hamlet>, DbError> {
        self.hamlets.get(id.as_str())?.map(|v| parse("hamlet", &v)).transpose()
    }

    /// Every hamlet of a commune.
    pub fn hamlets_of(&self, commune: &CommuneId) -> Result<Vec<Hamlet>, DbError> {
        let prefix = format!("{}.", commune.as_str());
        self.hamlets.scan_prefix(prefix.as_bytes()).values().map(|v| parse("hamlet", &v?)).collect()
    }

    /// Every commune.
    pub fn all_communes(&self) -> Result<Vec<Commune>, DbError> {
        self.communes.iter().values().map(|v| parse("commune", &v?)).collect()
    }

    /// Every hamlet.
    pub fn all_hamlets(&self) -> Result<Vec<Hamlet>, DbError> {
        self.hamlets.iter().values().map(|v| parse("hamlet", &v?)).collect()
    }

    /// Creates hamlets (with their genesis logs and empty coverage) in one durable write.
    pub fn put_hamlets(&self, hamlets: &[Hamlet]) -> Result<(), DbError> {
        let rows: Vec<(Hamlet, Option<Vec<u8>>)> = hamlets
            .iter()
            .map(|h| {
                let fresh = !self.logs.contains_key(chunk_key(&h.id, 0)).unwrap_or(false);
                (h.clone(), fresh.then(|| HamletLog::genesis(&h.id).save()))
            })
            .collect();
        (&self.hamlets, &self.logs, &self.coverage)
            .transaction(|(ht, lt, ct)| {
                for (h, genesis) in &rows {
                    ht.insert(h.id.as_str(), json(h))?;
                    if let Some(bytes) = genesis {
                        lt.insert(chunk_key(&h.id, 0), bytes.as_slice())?;
                        ct.insert(h.id.as_str(), json(&Coverage::default()))?;
                    }
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    // ---- users and assignments ----

    /// A user by id.
    pub fn user(&self, id: &UserId) -> Result<Option<User>, DbError> {
        self.users.get(id.as_str())?.map(|v| parse("user", &v)).transpose()
    }

    /// Creates or replaces a user.
    pub fn put_user(&self, u: &User) -> Result<(), DbError> {
        self.users.insert(u.id.as_str(), json(u))?;
        self.flush()
    }

    /// Every user.
    pub fn all_users(&self) -> Result<Vec<User>, DbError> {
        self.users.iter().values().map(|v| parse("user", &v?)).collect()
    }

    /// Creates users in one durable write.
    pub fn put_users(&self, users: &[User]) -> Result<(), DbError> {
        let mut batch = sled::Batch::default();
        for u in users {
            batch.insert(u.id.as_str(), json(u));
        }
        self.users.apply_batch(batch)?;
        self.flush()
    }

    /// Assigns a user to a hamlet (idempotent).
    pub fn assign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), DbError> {
        self.assignments.insert(pair(user.as_str(), hamlet.as_str()), &[])?;
        self.flush()
    }

    /// Removes an assignment (idempotent).
    pub fn unassign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), DbError> {
        self.assignments.remove(pair(user.as_str(), hamlet.as_str()))?;
        self.flush()
    }

    /// The hamlets a user is assigned to.
    pub fn assignments_of(&self, user: &UserId) -> Result<Vec<HamletId>, DbError> {
        let prefix = pair(user.as_str(), "");
        let mut out = Vec::new();
        for k in self.assignments.scan_prefix(&prefix).keys() {
            let k = k?;
            if let Some(id) =
                std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| HamletId::parse(s).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Every assignment, as (user, hamlet).
    pub fn all_assignments(&self) -> Result<Vec<(UserId, HamletId)>, DbError> {
        let mut out = Vec::new();
        for k in self.assignments.iter().keys() {
            let k = k?;
            let text = String::from_utf8_lossy(&k);
            if let Some((u, h)) = text.split_once('\0')
                && let (Ok(u), Ok(h)) = (UserId::parse(u), HamletId::parse(h))
            {
                out.push((u, h));
            }
        }
        Ok(out)
    }

    // ---- enrolment and devices ----

    /// Stores a fresh enrolment code (by its hash).
    pub fn put_enrol_code(&self, code: &str, record: &EnrolCode) -> Result<(), DbError> {
        self.enrol_codes.insert(secret_hash(code), json(record))?;
        self.flush()
    }

    /// Takes an enrolment code: returns it and removes it, atomically, so it works once.
    pub fn take_enrol_code(&self, code: &str) -> Result<Option<EnrolCode>, DbError> {
        self.enrol_codes.remove(secret_hash(code))?.map(|v| parse("enrolment code", &v)).transpose()
    }

    /// Records a newly enrolled device, its token hash and its actor, in one write.
    pub fn put_new_device(&self, d: &Device) -> Result<(), DbError> {
        (&self.devices, &self.device_tokens, &self.actors)
            .transaction(|(dt, tt, at)| {
                dt.insert(d.id.as_str(), json(d))?;
                tt.insert(d.token_hash.as_str(), d.id.as_str())?;
                at.insert(d.actor.as_str(), d.id.as_str())?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    /// Whether an actor id has been given out already.
    pub fn actor_taken(&self, actor_hex: &str) -> Result<bool, DbError> {
        Ok(self.actors.contains_key(actor_hex)?)
    }

    /// Changes one device record atomically (compare-and-swap), so that a revocation
    /// and a sync finishing at the same moment cannot undo each other. Returns the
    /// record as changed.
    /// Not flushed: callers flush, once for everything they wrote.
    fn update_device(&self, id: &DeviceId, change: impl Fn(&mut Device)) -> Result<Option<Device>, DbError> {
        let updated = self.devices.update_and_fetch(id.as_str(), |old| {
            let old = old?;
            match serde_json::from_slice::<Device>(old) {
                Ok(mut d) => {
                    change(&mut d);
                    Some(json(&d))
                }
                // A record that does not read is left as it is.
                Err(_) => Some(old.to_vec()),
            }
        })?;
        updated.map(|v| parse("device", &v)).transpose()
    }

    /// Revokes a device (once: a second revocation keeps the first time).
    pub fn revoke_device(
        &self,
        id: &DeviceId,
        now: i64,
        final_upload_until: Option<i64>,
    ) -> Result<Option<Device>, DbError> {
        let revoked = self.update_device(id, |d| {
            if d.revoked_at.is_none() {
                d.revoked_at = Some(now);
                d.final_upload_until = final_upload_until;
            }
        })?;
        self.flush()?;
        Ok(revoked)
    }

    /// A device by id.
    pub fn device(&self, id: &DeviceId) -> Result<Option<Device>, DbError> {
        self.devices.get(id.as_str())?.map(|v| parse("device", &v)).transpose()
    }

    /// The device holding a token, if any.
    pub fn device_by_token(&self, token: &str) -> Result<Option<Device>, DbError> {
        let Some(id) = self.device_tokens.get(secret_hash(token))? else { return Ok(None) };
        let Some(id) = std::str::from_utf8(&id).ok().and_then(|s| DeviceId::parse(s).ok()) else {
            return Ok(None);
        };
        self.device(&id)
    }

    /// Every device.
    pub fn all_devices(&self) -> Result<Vec<Device>, DbError> {
        self.devices.iter().values().map(|v| parse("device", &v?)).collect()
    }

    // ---- web sessions ----

    /// Stores a session under the hash of its token.
    pub fn put_session(&self, token: &str, session: &Session) -> Result<(), DbError> {
        self.sessions.insert(secret_hash(token), json(session))?;
        self.flush()
    }

    /// The session of a token, if it exists and has not expired by `now`.
    pub fn session(&self, token: &str, now: i64) -> Result<Option<Session>, DbError> {
        let key = secret_hash(token);
        let Some(v) = self.sessions.get(&key)? else { return Ok(None) };
        let session: Session = parse("session", &v)?;
        if session.expires_at <= now {
            self.sessions.remove(key)?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Ends a session.
    pub fn remove_session(&self, token: &str) -> Result<(), DbError> {
        self.sessions.remove(secret_hash(token))?;
        self.flush()
    }

    /// Ends every session of a user (deactivation, password reset).
    pub fn remove_sessions_of(&self, user: &UserId) -> Result<(), DbError> {
        for item in self.sessions.iter() {
            let (k, v) = item?;
            if parse::<Session>("session", &v).is_ok_and(|s| &s.user == user) {
                self.sessions.remove(k)?;
            }
        }
        self.flush()
    }

    // ---- audit ----

    /// Appends to the audit log.
    pub fn audit(&self, event: &AuditEvent) -> Result<(), DbError> {
        let id = self.db.generate_id()?;
        self.audit.insert(id.to_be_bytes(), json(event))?;
        self.flush()
    }

    /// The audit log, newest first, at most `limit` entries.
    pub fn audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, DbError> {
        self.audit.iter().values().rev().take(limit).map(|v| parse("audit event", &v?)).collect()
    }

    // ---- hamlet logs, coverage, sync states ----

    /// Loads a hamlet's log from its chunks, with the next free chunk number.
    pub fn load_log(&self, hamlet: &HamletId) -> Result<Option<(HamletLog, u64)>, DbError> {
        let mut chunks = Vec::new();
        let mut next = 0;
        for item in self.logs.scan_prefix(log_prefix(hamlet)) {
            let (k, v) = item?;
            let seq = k
                .len()
                .checked_sub(8)
                .and_then(|i| <[u8; 8]>::try_from(&k[i..]).ok())
                .map(u64::from_be_bytes);
            next = seq.unwrap_or(0) + 1;
            chunks.push(v);
        }
        if chunks.is_empty() {
            return Ok(None);
        }
        let log = HamletLog::load_chunks(chunks.iter().map(|c| c.as_ref()))
            .map_err(|e| DbError::Damaged { what: "hamlet log", reason: format!("{hamlet}: {e}") })?;
        Ok(Some((log, next)))
    }

    /// The stored coverage of a hamlet, with its day series.
    pub fn coverage(&self, hamlet: &HamletId) -> Result<Coverage, DbError> {
        let mut c = self.coverage_headline(hamlet)?;
        for item in self.coverage_days.scan_prefix(log_prefix(hamlet)) {
            let (k, v) = item?;
            let day = String::from_utf8_lossy(&k[log_prefix(hamlet).len()..]).into_owned();
            let f: DayFigures = parse("coverage day", &v)?;
            if f.visits > 0 {
                c.per_day.insert(day.clone(), f.visits);
            }
            if f.covered > 0 {
                c.covered_per_day.insert(day, f.covered);
            }
        }
        Ok(c)
    }

    /// A hamlet's stored figures without the day series: what a dashboard row needs.
    pub fn coverage_headline(&self, hamlet: &HamletId) -> Result<Coverage, DbError> {
        Ok(self
            .coverage
            .get(hamlet.as_str())?
            .map(|v| parse("coverage", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// The last day a hamlet had a visit, reading back from its latest day.
    pub fn last_visit_day(&self, hamlet: &HamletId) -> Result<Option<String>, DbError> {
        let prefix = log_prefix(hamlet);
        for item in self.coverage_days.scan_prefix(&prefix).rev() {
            let (k, v) = item?;
            if parse::<DayFigures>("coverage day", &v)?.visits > 0 {
                return Ok(Some(String::from_utf8_lossy(&k[prefix.len()..]).into_owned()));
            }
        }
        Ok(None)
    }

    /// A hamlet's days from `from` on ("YYYY-MM-DD", inclusive), oldest first.
    pub fn coverage_days_from(
        &self,
        hamlet: &HamletId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, DbError> {
        let prefix = log_prefix(hamlet);
        let mut start = prefix.clone();
        start.extend_from_slice(from.as_bytes());
        let mut end = prefix.clone();
        end.push(0xff);
        let mut out = Vec::new();
        for item in self.coverage_days.range(start..end) {
            let (k, v) = item?;
            out.push((String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), parse("coverage day", &v)?));
        }
        Ok(out)
    }

    /// The durable part of one sync: merged log chunks, coverage and the device's sync
    /// states, in one transaction, flushed before returning. Only then may the server
    /// answer.
    pub fn commit_sync(
        &self,
        logs: &[LogWrite],
        device: &Device,
        states: &[(HamletId, Vec<ChangeHash>)],
        listing: Option<&Listing>,
        now: i64,
    ) -> Result<(), DbError> {
        let states: Vec<(Vec<u8>, Vec<u8>)> = states
            .iter()
            .map(|(h, heads)| {
                let s = SyncState { heads: heads.iter().map(|x| x.to_string()).collect(), at: now };
                (pair(device.id.as_str(), h.as_str()), json(&s))
            })
            .collect();
        let days = logs.iter().map(|w| self.days_to_write(w)).collect::<Result<Vec<_>, _>>()?;
        let over = std::cell::Cell::new(None);
        let committed = (&self.logs, &self.coverage, &self.coverage_days, &self.sync_states, &self.listed)
            .transaction(|(lt, ct, dt, st, ls)| {
                over.set(None);
                if let Some(l) = listing {
                    let key = pair(l.user.as_str(), &l.day);
                    let already =
                        ls.get(&key)?.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes);
                    if already + l.count > l.limit {
                        over.set(Some(DbError::TooManyListed { already, limit: l.limit }));
                        return Err(ConflictableTransactionError::Abort(()));
                    }
                    ls.insert(key, &(already + l.count).to_be_bytes())?;
                }
                for (w, days) in logs.iter().zip(&days) {
                    write_log(lt, w)?;
                    write_coverage(ct, dt, w, days)?;
                }
                for (k, v) in &states {
                    st.insert(k.as_slice(), v.as_slice())?;
                }
                TxResult::Ok(())
            });
        if let Some(e) = over.take() {
            return Err(e);
        }
        committed.map_err(tx_error)?;
        // The record is changed apart, atomically, so a revocation meanwhile stands;
        // one flush then makes both durable.
        self.update_device(&device.id, |d| {
            d.last_sync_at = Some(now);
            // A revoked device's final upload is spent.
            if d.revoked_at.is_some() {
                d.final_upload_until = None;
            }
        })?;
        self.flush()
    }

    /// Households `user` listed through sync on `day`.
    pub fn listed(&self, user: &UserId, day: &str) -> Result<u64, DbError> {
        Ok(self
            .listed
            .get(pair(user.as_str(), day))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Households of `hamlet` listed in the field and confirmed since, with who did.
    pub fn reviewed(&self, hamlet: &HamletId) -> Result<BTreeMap<HouseholdId, Review>, DbError> {
        let prefix = log_prefix(hamlet);
        let mut out = BTreeMap::new();
        for item in self.reviewed.scan_prefix(&prefix) {
            let (k, v) = item?;
            let id = std::str::from_utf8(&k[prefix.len()..]).ok().and_then(|s| HouseholdId::parse(s).ok());
            let Some(id) = id else { continue };
            out.insert(id, parse("review", &v)?);
        }
        Ok(out)
    }

    /// A leader's or official's review, in one durable write: the households confirmed,
    /// the log write retiring others (judged already), and the audit event.
    pub fn commit_review(
        &self,
        hamlet: &HamletId,
        confirmed: &[HouseholdId],
        review: &Review,
        log: Option<&LogWrite>,
        event: &AuditEvent,
    ) -> Result<(), DbError> {
        let days = log.map(|w| self.days_to_write(w)).transpose()?;
        let audit_id = self.db.generate_id()?;
        (&self.logs, &self.coverage, &self.coverage_days, &self.reviewed, &self.audit)
            .transaction(|(lt, ct, dt, rt, at)| {
                if let (Some(w), Some(days)) = (log, &days) {
                    write_log(lt, w)?;
                    write_coverage(ct, dt, w, days)?;
                }
                for id in confirmed {
                    rt.insert(pair(hamlet.as_str(), id.as_str()), json(review))?;
                }
                at.insert(&audit_id.to_be_bytes(), json(event))?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    /// Writes one hamlet log's new content and coverage outside a sync (imports, demo).
    pub fn commit_log(&self, w: &LogWrite) -> Result<(), DbError> {
        let days = self.days_to_write(w)?;
        (&self.logs, &self.coverage, &self.coverage_days)
            .transaction(|(lt, ct, dt)| {
                write_log(lt, w)?;
                write_coverage(ct, dt, w, &days)?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    /// The day records a write changes: from the coverage before when the caller knows
    /// it, from what is stored otherwise.
    fn days_to_write(&self, w: &LogWrite) -> Result<Vec<(String, Option<DayFigures>)>, DbError> {
        Ok(match &w.before {
            Some(before) => day_changes(before, &w.coverage),
            None => day_changes(&self.coverage(&w.hamlet)?, &w.coverage),
        })
    }
}

fn write_coverage(
    ct: &TransactionalTree,
    dt: &TransactionalTree,
    w: &LogWrite,
    days: &[(String, Option<DayFigures>)],
) -> TxResult<()> {
    ct.insert(w.hamlet.as_str(), json(&headline(&w.coverage)))?;
    for (day, figures) in days {
        let mut key = log_prefix(&w.hamlet);
        key.extend_from_slice(day.as_bytes());
        match figures {
            Some(f) => dt.insert(key, json(f))?,
            None => dt.remove(key)?,
        };
    }
    Ok(())
}

fn write_log(lt: &TransactionalTree, w: &LogWrite) -> TxResult<()> {
    match &w.content {
        LogContent::Append { seq, bytes } => {
            lt.insert(chunk_key(&w.hamlet, *seq), bytes.as_slice())?;
        }
        LogContent::Snapshot { bytes, remove } => {
            for seq in remove {
                lt.remove(chunk_key(&w.hamlet, *seq))?;
            }
            lt.insert(chunk_key(&w.hamlet, 0), bytes.as_slice())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_series_are_kept_apart_and_read_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hamlet = HamletId::parse("x.a").expect("id");
        let mut c = Coverage { registered: 5, covered: 2, attempted: 3, visits: 3, ..Coverage::default() };
        c.per_day.insert("2026-11-28".into(), 1);
        c.per_day.insert("2026-11-29".into(), 2);
        c.covered_per_day.insert("2026-11-29".into(), 2);
        let write = |db: &Db, coverage: &Coverage, before: Option<Coverage>| {
            let content = LogContent::Append { seq: 1, bytes: Vec::new() };
            db.commit_log(&LogWrite { hamlet: hamlet.clone(), content, coverage: coverage.clone(), before })
                .expect("written");
        };
        {
            let db = Db::open(dir.path()).expect("open");
            write(&db, &c, None);
            assert_eq!(db.coverage(&hamlet).expect("read"), c);
            let headline = db.coverage_headline(&hamlet).expect("read");
            assert!(headline.per_day.is_empty() && headline.covered_per_day.is_empty());
            assert_eq!(headline.visits, 3);
            assert_eq!(db.coverage_days_from(&hamlet, "2026-11-29").expect("days").len(), 1);
            assert_eq!(db.last_visit_day(&hamlet).expect("day").as_deref(), Some("2026-11-29"));

            // The visit of the 28th is voided: that day's record goes.
            let mut after = c.clone();
            after.visits = 2;
            after.per_day.remove("2026-11-28");
            write(&db, &after, Some(c.clone()));
            assert_eq!(db.coverage(&hamlet).expect("read"), after);
            assert_eq!(db.coverage_days_from(&hamlet, "2026-01-01").expect("days").len(), 1);

            // Data from before the split: the whole coverage in one record.
            db.coverage_days.clear().expect("clear");
            db.coverage.insert(hamlet.as_str(), json(&c)).expect("legacy record");
            db.flush().expect("flush");
        }
        let db = Db::open(dir.path()).expect("reopen");
        assert_eq!(db.coverage(&hamlet).expect("read"), c, "the day series were moved, not lost");
        assert!(db.coverage_headline(&hamlet).expect("read").per_day.is_empty());
    }

    #[test]
    fn a_sync_finishing_after_a_revocation_does_not_undo_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path()).expect("open");
        let device = Device {
            id: DeviceId::parse("dev1").expect("id"),
            user: UserId::parse("lan").expect("id"),
            name: "phone".into(),
            actor: "00".repeat(16),
            token_hash: secret_hash("token"),
            enrolled_at: 1,
            revoked_at: None,
            final_upload_until: None,
            last_sync_at: None,
            within: None,
        };
        db.put_new_device(&device).expect("stored");
        // The sync read the record before the revocation and commits after it.
        let stale = device.clone();
        db.revoke_device(&device.id, 5, None).expect("revoked");
        db.commit_sync(&[], &stale, &[], None, 7).expect("committed");
        let now = db.device(&device.id).expect("read").expect("there");
        assert_eq!((now.revoked_at, now.last_sync_at), (Some(5), Some(7)));
        // Revoking again keeps the first time.
        db.revoke_device(&device.id, 9, None).expect("revoked");
        assert_eq!(db.device(&device.id).expect("read").expect("there").revoked_at, Some(5));
    }
}
