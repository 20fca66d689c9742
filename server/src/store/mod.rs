//! Storage: the `Store` trait, in the domain's terms, and its engines.
//!
//! Everything the server keeps durably goes through `Store`: the records it owns
//! (communes, hamlets, people, assignments, devices, enrolment codes, sessions, the
//! audit log), each hamlet log, its materialised coverage and day series, and the
//! per-(device, hamlet) sync states. An engine owns how a hamlet log is laid out (chunk
//! numbering, when to compact into one snapshot) and keeps the indexes its scoped
//! queries need (a hamlet's people, a commune's people, a person's devices, a commune's
//! audit events by time); callers never see either. Every method is blocking: async
//! callers run them on a blocking thread.
//!
//! `sled` is the embedded default (`open`); `postgres` is for several instances on a
//! replicated database (`connect`). Both implement the same trait and pass the same
//! tests; nothing above this module names an engine.
//!
//! The guarantees every engine gives: `commit_sync` and `commit_review` are one
//! transaction each, durable before they return, and a refused one writes nothing; a
//! log write made on a version of the log that is no longer the stored one is refused
//! (`StoreError::Stale`), so an instance whose cached log is behind never overwrites
//! another's work with figures that miss it; a
//! device record changes one field at a time (`revoke_device`, the `last_sync_at` of
//! `commit_sync`), so a revocation and a sync finishing together cannot undo each other.
//!
//! Each hamlet's household keys (client-core `sealed`) are loaded with its log
//! (`HamletLog::keys`), stored with the log write that brings them (`LogWrite`'s
//! `new_keys`), and deleted by `erase_household` in one transaction with a numbered
//! tombstone, the audit event and a move of the log's version (so every instance
//! reloads the keyring). An engine keeps keys where deleting one really removes its
//! bytes from live files once `compact_erased` has run: the sled engine in one file
//! per hamlet replaced whole (client-core `keyfile`), PostgreSQL in a table that
//! `VACUUM FULL` rewrites.

mod postgres;
mod sled;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tungnha_client_core::coverage::{DayWork, to_cover};
use tungnha_client_core::sealed::HouseholdKey;
use tungnha_client_core::{
    ChangeHash, CommuneId, Coverage, DeviceId, HamletId, HamletLog, History, HouseholdId, ProvinceId, TeamId,
    UserId,
};

use crate::records::{
    ApiToken, AuditEvent, Campaign, Commune, Device, EnrolCode, FilingLevel, FilingMonth, Hamlet, Province,
    Team, User,
};

/// Chunks a hamlet log may gather before a write compacts it into one snapshot (every
/// engine lays logs out this way).
pub const COMPACT_AFTER: u64 = 256;

/// What can go wrong with storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (a running server) holds the data directory.
    #[error(
        "the data directory {0} is in use by another process (is the server running on it?); stop it first"
    )]
    InUse(String),
    /// The engine failed (disk, I/O); the cause is kept.
    #[error("storage failed: {0}")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record does not read.
    #[error("a stored {what} record is damaged: {reason}")]
    Damaged {
        /// Which kind of record.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A sync would list more households than the user may list in a day: checked
    /// inside the sync's transaction, so two phones of one person cannot both slip
    /// under the allowance.
    #[error("you have listed {already} households today; at most {limit} a day may be added in the field")]
    TooManyListed {
        /// Listed already today.
        already: u64,
        /// The day's allowance.
        limit: u64,
    },
    /// A log write was merged on a version of the log that is no longer the stored one
    /// (another server instance wrote it meanwhile): nothing was written; reload the
    /// log and merge again.
    #[error("hamlet {0}'s log moved on meanwhile; merge again")]
    Stale(String),
}

/// SHA-256 of a secret, hex. Tokens, session tokens and enrolment codes are stored
/// only this way, by every engine.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A commune's figures summed over its hamlets, kept up to date in the same
/// transaction as each hamlet's own (so a province dashboard reads one record per
/// commune, whatever the number of hamlets or visits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommuneTotals {
    /// The sums of the hamlets' headline figures (no day series, no per-volunteer).
    pub coverage: Coverage,
    /// Hamlets.
    pub hamlets: u64,
    /// Sum of the hamlets' targets.
    pub target: u64,
    /// Sum of the hamlets' households to cover (`coverage::to_cover`).
    pub to_cover: u64,
}

/// A commune's teams and their people, kept in one record with every team write (so a
/// province dashboard row reads it once, whatever the number of teams).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommuneMembers {
    /// Teams.
    pub teams: u64,
    /// The distinct members of its teams, sorted.
    pub members: Vec<UserId>,
}

/// What one device last told the server about one hamlet log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The device's heads, hex.
    pub heads: Vec<String>,
    /// When, ms since epoch.
    pub at: i64,
}

/// A signed-in web session, stored under the hash of its cookie's token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Who.
    pub user: UserId,
    /// The token every state-changing form must carry.
    pub csrf: String,
    /// When it ends, ms since epoch.
    pub expires_at: i64,
}

/// A household listed in the field that a leader or official confirmed as real.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// Who confirmed it.
    pub by: UserId,
    /// When, ms since epoch.
    pub at: i64,
}

/// One day of one hamlet (or, summed, of a commune or province): visits, households
/// first covered that day, and the rest of the day's work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Non-voided visits.
    pub visits: u64,
    /// Households whose first covering visit was that day.
    pub covered: u64,
    /// Guided, people, dossiers filed online and accounts (absent in records written
    /// before the day's report: zero).
    #[serde(default, skip_serializing_if = "DayWork::is_zero")]
    pub work: DayWork,
}

impl DayFigures {
    /// Adds another part's figures (a commune's day is the sum of its hamlets').
    pub fn add(&mut self, other: &DayFigures) {
        self.visits += other.visits;
        self.covered += other.covered;
        self.work.add(&other.work, 1);
    }
}

/// Whose day records: a hamlet's, a commune's or a province's.
#[derive(Debug, Clone, Copy)]
pub enum DaysOf<'a> {
    /// A hamlet's (or counter's).
    Hamlet(&'a HamletId),
    /// A commune's, summed over its hamlets.
    Commune(&'a CommuneId),
    /// A province's, summed over its communes.
    Province(&'a ProvinceId),
}

/// One hamlet log's new state, to be written with its coverage.
#[derive(Debug)]
pub struct LogWrite<'a> {
    /// The hamlet.
    pub hamlet: &'a HamletId,
    /// The log as it now is.
    pub log: &'a HamletLog,
    /// `Some`: the raw changes a merge added to the stored log, as they arrived (the
    /// engine appends them, or compacts the log into one snapshot when it has gathered
    /// enough pieces). `None`: the log was rewritten whole (an import, the demo), and
    /// replaces what is stored.
    pub changes: Option<Vec<u8>>,
    /// The hamlet's coverage after.
    pub coverage: Coverage,
    /// Its coverage before, when known (a sync's ledger); otherwise the engine reads
    /// the stored days to find what changed.
    pub before: Option<Coverage>,
    /// The version of the stored log the write was made on (`load_log_versioned`): the
    /// engine refuses the write (`StoreError::Stale`) unless it is still the stored
    /// one, and the log's version becomes `base + 1`.
    pub base: u64,
    /// Household keys to store with it, each with its event number (`log`'s keyring
    /// holds them too).
    pub new_keys: Vec<(HouseholdId, HouseholdKey, u64)>,
    /// Households erased to record with it (only when a whole store is moved).
    pub erased: Vec<(HouseholdId, u64)>,
}

/// One household's personal data erased: its key deleted and a tombstone numbered
/// `seq` kept, the audit event written, and the log's version moved, in one
/// transaction.
#[derive(Debug)]
pub struct Erasure<'a> {
    /// The hamlet.
    pub hamlet: &'a HamletId,
    /// The household.
    pub household: &'a HouseholdId,
    /// The key event number of the erasure.
    pub seq: u64,
    /// The hamlet's keyring after the erasure.
    pub keys: &'a tungnha_client_core::sealed::Keyring,
    /// The log version it was decided on (`StoreError::Stale` otherwise).
    pub base: u64,
    /// Who erased it and why.
    pub event: &'a AuditEvent,
}

/// A hamlet log rolled over to its successor (the end of a campaign): the old log is
/// archived under its generation, the hamlet's history takes its visits and walk-ins,
/// and the successor replaces it (`write`, with `changes: None`), with the audit event.
#[derive(Debug)]
pub struct Rollover<'a> {
    /// The old log's generation, under which it is archived.
    pub generation: u64,
    /// The old log, saved whole.
    pub archived: &'a [u8],
    /// The hamlet's history with the old log's visits and walk-ins added.
    pub history: &'a History,
    /// The successor, written in the old log's place (its version moves by one).
    pub write: LogWrite<'a>,
    /// Who rolled it over, and why.
    pub event: &'a AuditEvent,
}

/// Households one user's sync lists, charged against their day's allowance in the
/// sync's own transaction.
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

/// The durable part of one sync.
#[derive(Debug)]
pub struct SyncCommit<'a> {
    /// The logs that moved.
    pub logs: &'a [LogWrite<'a>],
    /// Each device whose sync this commits: one, or every request of a batch merged
    /// into one hamlet together.
    pub syncs: &'a [DeviceSync<'a>],
    /// When.
    pub now: i64,
}

/// One device's part of a sync commit.
#[derive(Debug)]
pub struct DeviceSync<'a> {
    /// The device that synced (its `last_sync_at` becomes the commit's `now`).
    pub device: &'a DeviceId,
    /// Its owner, whose last sync under their commune (for "active in the last 7
    /// days") becomes `now`.
    pub user: &'a UserId,
    /// The owner's commune, if they have one.
    pub commune: Option<&'a CommuneId>,
    /// The heads the device announced, per hamlet.
    pub states: &'a [(HamletId, Vec<ChangeHash>)],
    /// Households it listed, if any.
    pub listing: Option<&'a Listing>,
}

/// A leader's or official's review of one hamlet's field-added households.
#[derive(Debug)]
pub struct ReviewCommit<'a> {
    /// The hamlet.
    pub hamlet: &'a HamletId,
    /// Households confirmed.
    pub confirmed: &'a [HouseholdId],
    /// Who confirmed them, when.
    pub review: &'a Review,
    /// The log write retiring others (judged already), if any.
    pub log: Option<&'a LogWrite<'a>>,
    /// The audit event.
    pub event: &'a AuditEvent,
}

/// The server's durable state, in the domain's terms.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Whether nothing has been set up yet.
    fn is_empty(&self) -> Result<bool, StoreError>;

    // ---- provinces, communes and hamlets ----

    /// A province by id.
    fn province(&self, id: &ProvinceId) -> Result<Option<Province>, StoreError>;
    /// Creates or replaces a province.
    fn put_province(&self, p: &Province) -> Result<(), StoreError>;
    /// Every province.
    fn all_provinces(&self) -> Result<Vec<Province>, StoreError>;
    /// The communes of a province.
    fn communes_of(&self, province: &ProvinceId) -> Result<Vec<Commune>, StoreError>;

    /// A commune by id.
    fn commune(&self, id: &CommuneId) -> Result<Option<Commune>, StoreError>;
    /// Creates or replaces a commune.
    fn put_commune(&self, c: &Commune) -> Result<(), StoreError>;
    /// Every commune.
    fn all_communes(&self) -> Result<Vec<Commune>, StoreError>;
    /// A hamlet by id.
    fn hamlet(&self, id: &HamletId) -> Result<Option<Hamlet>, StoreError>;
    /// Every hamlet of a commune.
    fn hamlets_of(&self, commune: &CommuneId) -> Result<Vec<Hamlet>, StoreError>;
    /// Every hamlet.
    fn all_hamlets(&self) -> Result<Vec<Hamlet>, StoreError>;
    /// Creates or replaces hamlets in one durable write; a new one gets its genesis
    /// log and empty coverage.
    fn put_hamlets(&self, hamlets: &[Hamlet]) -> Result<(), StoreError>;

    // ---- people and assignments ----

    /// A user by id.
    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// Creates or replaces a user.
    fn put_user(&self, u: &User) -> Result<(), StoreError> {
        self.put_users(std::slice::from_ref(u))
    }
    /// Creates or replaces users in one durable write.
    fn put_users(&self, users: &[User]) -> Result<(), StoreError>;
    /// The people of a commune (its officials, leaders and volunteers).
    fn users_of(&self, commune: &CommuneId) -> Result<Vec<User>, StoreError>;
    /// Every user.
    fn all_users(&self) -> Result<Vec<User>, StoreError>;
    /// Assigns a user to a hamlet (idempotent).
    fn assign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError>;
    /// Removes an assignment (idempotent).
    fn unassign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError>;
    /// The hamlets a user is assigned to.
    fn assignments_of(&self, user: &UserId) -> Result<Vec<HamletId>, StoreError>;
    /// The people assigned to a hamlet.
    fn people_of(&self, hamlet: &HamletId) -> Result<Vec<UserId>, StoreError>;

    // ---- teams ----

    /// A team by id.
    fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError>;
    /// Creates or replaces a team, with the index of its members' teams and its
    /// commune's `CommuneMembers`, in one durable write.
    fn put_team(&self, team: &Team) -> Result<(), StoreError>;
    /// Dissolves a team, likewise.
    fn remove_team(&self, id: &TeamId) -> Result<(), StoreError>;
    /// The teams of a commune.
    fn teams_of(&self, commune: &CommuneId) -> Result<Vec<Team>, StoreError>;
    /// The teams a person is a member of.
    fn teams_of_user(&self, user: &UserId) -> Result<Vec<Team>, StoreError>;
    /// A commune's teams and members, read in one record.
    fn commune_members(&self, commune: &CommuneId) -> Result<CommuneMembers, StoreError>;
    /// When each person of a commune who ever synced last did (ms since epoch).
    fn last_syncs(&self, commune: &CommuneId) -> Result<BTreeMap<UserId, i64>, StoreError>;

    // ---- enrolment and devices ----

    /// Stores a fresh enrolment code (by its hash).
    fn put_enrol_code(&self, code: &str, record: &EnrolCode) -> Result<(), StoreError>;
    /// Takes an enrolment code: returns it and removes it, atomically, so it works once.
    fn take_enrol_code(&self, code: &str) -> Result<Option<EnrolCode>, StoreError>;
    /// Records a newly enrolled device, its token hash and its actor, in one write.
    fn put_new_device(&self, d: &Device) -> Result<(), StoreError>;
    /// Whether an actor id has been given out already.
    fn actor_taken(&self, actor_hex: &str) -> Result<bool, StoreError>;
    /// Revokes a device (once: a second revocation keeps the first time and window).
    fn revoke_device(
        &self,
        id: &DeviceId,
        now: i64,
        final_upload_until: Option<i64>,
    ) -> Result<Option<Device>, StoreError>;
    /// A device by id.
    fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError>;
    /// The device holding a token, if any.
    fn device_by_token(&self, token: &str) -> Result<Option<Device>, StoreError>;
    /// The devices of a person.
    fn devices_of(&self, user: &UserId) -> Result<Vec<Device>, StoreError>;
    /// Every device.
    fn all_devices(&self) -> Result<Vec<Device>, StoreError>;

    // ---- monthly dossier statistics ----

    /// Stores months of dossier statistics (new, or replacing the same level's same
    /// month) in one durable write.
    fn put_filings(&self, months: &[FilingMonth]) -> Result<(), StoreError>;
    /// Every month recorded for one level, oldest first.
    fn filings(&self, level: &FilingLevel) -> Result<Vec<FilingMonth>, StoreError>;

    // ---- API tokens ----

    /// Stores an API token's record (a new one, or one revoked), findable by its
    /// token's hash.
    fn put_api_token(&self, token: &ApiToken) -> Result<(), StoreError>;
    /// The record of a token, if it is one.
    fn api_token_by_token(&self, token: &str) -> Result<Option<ApiToken>, StoreError>;
    /// Every API token's record.
    fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    // ---- sign-in attempts ----

    /// Reserves one sign-in attempt for `user` in the window of `window_ms` that began
    /// with its first counted attempt: false when `max` are counted already. Kept in
    /// the store, so every server instance sharing it counts the same attempts.
    fn reserve_sign_in(&self, user: &UserId, now: i64, window_ms: i64, max: u32) -> Result<bool, StoreError>;
    /// Forgets `user`'s attempts (a successful sign-in).
    fn clear_sign_ins(&self, user: &UserId) -> Result<(), StoreError>;

    // ---- web sessions ----

    /// Stores a session under the hash of its token.
    fn put_session(&self, token: &str, session: &Session) -> Result<(), StoreError>;
    /// The session of a token, if it exists and has not expired by `now`.
    fn session(&self, token: &str, now: i64) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    fn remove_session(&self, token: &str) -> Result<(), StoreError>;
    /// Ends every session of a user (deactivation, password reset).
    fn remove_sessions_of(&self, user: &UserId) -> Result<(), StoreError>;

    // ---- audit ----

    /// Appends to the audit log.
    fn audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// The audit log, newest first, at most `limit` entries.
    fn audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError>;
    /// The events concerning one commune, newest first, at most `limit`.
    fn audit_events_of(&self, commune: &CommuneId, limit: usize) -> Result<Vec<AuditEvent>, StoreError>;

    // ---- hamlet logs, coverage, sync states ----

    /// Loads a hamlet's log.
    fn load_log(&self, hamlet: &HamletId) -> Result<Option<HamletLog>, StoreError> {
        Ok(self.load_log_versioned(hamlet)?.map(|(log, _)| log))
    }
    /// Loads a hamlet's log with its version, read together: the version moves with
    /// every write of the log, so several server instances sharing one database tell
    /// whether the log they hold is the stored one.
    fn load_log_versioned(&self, hamlet: &HamletId) -> Result<Option<(HamletLog, u64)>, StoreError>;
    /// The version of a hamlet's stored log (0 before its first write).
    fn log_version(&self, hamlet: &HamletId) -> Result<u64, StoreError>;
    /// The durable part of one sync: the merged logs, their coverage, the device's sync
    /// states and its `last_sync_at`, and the households it listed, in one transaction,
    /// durable before returning. Only then may the server answer.
    fn commit_sync(&self, commit: &SyncCommit<'_>) -> Result<(), StoreError>;
    /// A review in one durable write: households confirmed, the log write, the audit
    /// event.
    fn commit_review(&self, commit: &ReviewCommit<'_>) -> Result<(), StoreError>;
    /// Writes one hamlet log and its coverage outside a sync (imports, the demo).
    fn commit_log(&self, w: &LogWrite<'_>) -> Result<(), StoreError>;
    /// Stores a campaign (new, or closed).
    fn put_campaign(&self, campaign: &Campaign) -> Result<(), StoreError>;
    /// A commune's campaigns, oldest first.
    fn campaigns_of(&self, commune: &CommuneId) -> Result<Vec<Campaign>, StoreError>;
    /// Rolls a hamlet log over to its successor, durably, in one transaction
    /// (`StoreError::Stale` unless `write.base` is still the stored version).
    fn roll_over(&self, r: &Rollover<'_>) -> Result<(), StoreError>;
    /// The visits and walk-ins of a hamlet's earlier logs (empty if it never rolled
    /// over).
    fn history(&self, hamlet: &HamletId) -> Result<History, StoreError>;
    /// The generations of a hamlet's archived logs, oldest first.
    fn archived_generations(&self, hamlet: &HamletId) -> Result<Vec<u64>, StoreError>;
    /// One archived log, saved whole.
    fn archived_log(&self, hamlet: &HamletId, generation: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a hamlet's archived logs and history as they are (a whole store moved).
    fn put_archive(
        &self,
        hamlet: &HamletId,
        archived: &[(u64, Vec<u8>)],
        history: &History,
    ) -> Result<(), StoreError>;
    /// Erases one household's personal data (its key), durably, with its audit event.
    fn erase_household(&self, e: &Erasure<'_>) -> Result<(), StoreError>;
    /// Makes sure no live file holds an erased key any more (the sled engine rewrites
    /// any keyring file a crash left holding one; PostgreSQL rewrites its keys table).
    fn compact_erased(&self) -> Result<(), StoreError>;
    /// The stored coverage of a hamlet, with its day series.
    fn coverage(&self, hamlet: &HamletId) -> Result<Coverage, StoreError>;
    /// A commune's figures, summed over its hamlets as they are written: what a
    /// province dashboard row needs, read in one record.
    fn commune_totals(&self, commune: &CommuneId) -> Result<CommuneTotals, StoreError>;
    /// The days of a hamlet, a commune or a province from `from` on, oldest first, with
    /// their visits and first coverings only (`work` left empty): what dashboards draw,
    /// which an engine may read more cheaply than whole day records.
    fn day_counts_from(&self, of: DaysOf<'_>, from: &str) -> Result<Vec<(String, DayFigures)>, StoreError> {
        let days = match of {
            DaysOf::Hamlet(h) => self.coverage_days_from(h, from)?,
            DaysOf::Commune(c) => self.commune_days_from(c, from)?,
            DaysOf::Province(p) => self.province_days_from(p, from)?,
        };
        Ok(days.into_iter().map(|(d, f)| (d, DayFigures { work: DayWork::default(), ..f })).collect())
    }
    /// A commune's days from `from` on, summed over its hamlets, oldest first.
    fn commune_days_from(
        &self,
        commune: &CommuneId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError>;
    /// A province's days from `from` on, summed over its communes, oldest first.
    fn province_days_from(
        &self,
        province: &ProvinceId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError>;
    /// The last day any hamlet of a commune had a visit.
    fn commune_last_day(&self, commune: &CommuneId) -> Result<Option<String>, StoreError>;
    /// A hamlet's stored figures without the day series: what a dashboard row needs.
    fn coverage_headline(&self, hamlet: &HamletId) -> Result<Coverage, StoreError>;
    /// The last day a hamlet had a visit.
    fn last_visit_day(&self, hamlet: &HamletId) -> Result<Option<String>, StoreError>;
    /// A hamlet's days from `from` on ("YYYY-MM-DD", inclusive), oldest first.
    fn coverage_days_from(
        &self,
        hamlet: &HamletId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError>;
    /// Households `user` listed through sync on `day`.
    fn listed(&self, user: &UserId, day: &str) -> Result<u64, StoreError>;
    /// Households of `hamlet` listed in the field and confirmed since, with who did.
    fn reviewed(&self, hamlet: &HamletId) -> Result<BTreeMap<HouseholdId, Review>, StoreError>;

    // ---- moving a whole store (`admin move`) ----

    /// Records reviews as they were (a store moved from another engine).
    fn put_reviews(
        &self,
        hamlet: &HamletId,
        reviews: &BTreeMap<HouseholdId, Review>,
    ) -> Result<(), StoreError>;
    /// Records a person's last sync as it was.
    fn put_last_sync(&self, commune: &CommuneId, user: &UserId, at: i64) -> Result<(), StoreError>;
}

/// Opens (or creates) the embedded store in `dir`, refusing clearly if another process
/// holds it.
pub fn open(dir: &Path) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(sled::SledStore::open(dir)?))
}

/// Connects to a PostgreSQL database (`postgres://…`), migrating it forward, and
/// refusing one written by a newer server.
pub fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(postgres::PgStore::connect(url)?))
}

/// Where the server's state lives: the embedded default, or PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A sled data directory.
    Data(std::path::PathBuf),
    /// A PostgreSQL connection string.
    Database(String),
}

impl Location {
    /// Where `config` says the server's state lives.
    pub fn of(config: &crate::config::Config) -> Self {
        match &config.database {
            Some(url) => Location::Database(url.clone()),
            None => Location::Data(config.data_dir.clone()),
        }
    }

    /// Opens the store there.
    pub fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        match self {
            Location::Data(dir) => open(dir),
            Location::Database(url) => connect(url),
        }
    }
}

/// A coverage's day series, by day.
fn days_of(c: &Coverage) -> BTreeMap<&str, DayFigures> {
    let mut days: BTreeMap<&str, DayFigures> = BTreeMap::new();
    for (d, n) in &c.per_day {
        days.entry(d).or_default().visits = *n;
    }
    for (d, n) in &c.covered_per_day {
        days.entry(d).or_default().covered = *n;
    }
    for (d, w) in &c.work_per_day {
        days.entry(d).or_default().work = w.clone();
    }
    days
}

/// Puts a stored day record back into a coverage's day series (the inverse of
/// `days_of`, one day at a time).
pub fn add_day_to(c: &mut Coverage, day: String, f: DayFigures) {
    if f.visits > 0 {
        c.per_day.insert(day.clone(), f.visits);
    }
    if f.covered > 0 {
        c.covered_per_day.insert(day.clone(), f.covered);
    }
    if !f.work.is_zero() {
        c.work_per_day.insert(day, f.work);
    }
}

/// The day records to write (or remove, `None`) to go from `before` to `after`.
pub fn day_changes(before: &Coverage, after: &Coverage) -> Vec<(String, Option<DayFigures>)> {
    let (old, new) = (days_of(before), days_of(after));
    let mut out: Vec<(String, Option<DayFigures>)> = new
        .iter()
        .filter(|(d, f)| old.get(*d) != Some(f))
        .map(|(d, f)| ((*d).to_owned(), Some(f.clone())))
        .collect();
    out.extend(old.keys().filter(|d| !new.contains_key(*d)).map(|d| ((*d).to_owned(), None)));
    out
}

/// A coverage without its day series: what a hamlet's headline record keeps.
fn headline(c: &Coverage) -> Coverage {
    Coverage {
        per_day: Default::default(),
        covered_per_day: Default::default(),
        work_per_day: Default::default(),
        ..c.clone()
    }
}

/// What a hamlet adds to its commune's totals: its headline figures, without day
/// series or per-volunteer figures.
fn contribution(c: &Coverage) -> Coverage {
    Coverage {
        per_day: Default::default(),
        covered_per_day: Default::default(),
        work_per_day: Default::default(),
        per_volunteer: Default::default(),
        ..c.clone()
    }
}

/// Moves a commune's totals from one state of one of its hamlets to another: its
/// figures (`before` → `after`) and its target (`target_before` → `target_after`);
/// `hamlets` is 1 when the hamlet is new. Every engine moves them this way.
fn move_totals(
    totals: &mut CommuneTotals,
    (before, after): (&Coverage, &Coverage),
    (target_before, target_after): (u64, u64),
    hamlets: u64,
) {
    totals.coverage.withdraw(&contribution(before));
    totals.coverage.absorb(&contribution(after));
    totals.hamlets += hamlets;
    totals.target = totals.target.saturating_sub(target_before) + target_after;
    totals.to_cover = totals.to_cover.saturating_sub(to_cover(target_before, before.registered))
        + to_cover(target_after, after.registered);
}

/// Moves one day's sum (a commune's or a province's) from a part `was` to a part
/// `now`; a sum that reaches zero is to be removed.
fn move_day(sum: &mut DayFigures, was: &DayFigures, now: &DayFigures) {
    sum.add(now);
    sum.visits = sum.visits.saturating_sub(was.visits);
    sum.covered = sum.covered.saturating_sub(was.covered);
    sum.work.add(&was.work, -1);
}

/// A commune's `CommuneMembers` from its teams.
fn members_of<'t>(teams: impl Iterator<Item = &'t Team>) -> CommuneMembers {
    let mut out = CommuneMembers::default();
    let mut people = std::collections::BTreeSet::new();
    for t in teams {
        out.teams += 1;
        people.extend(t.members.iter().cloned());
    }
    out.members = people.into_iter().collect();
    out
}
