//! The embedded engine: `Store` on sled, in one data directory.
//!
//! Trees: `provinces`, `communes`, `hamlets`, `users` (JSON by id); `province_communes`
//! (`province 0 commune`); `commune_totals` (commune → JSON of its hamlets' summed
//! headline figures, target and households to cover) and `commune_days` (`commune 0
//! day` → the day's summed figures), moved with every write of one of its hamlets,
//! and `province_days` (`province 0 day`) likewise for its province; `assignments` (`user 0 hamlet`)
//! and its reverse `hamlet_users` (`hamlet 0 user`); `commune_users` (`commune 0
//! user`); `devices` (JSON by id), `user_devices` (`user 0 device`), `device_tokens`
//! (token hash → device id), `actors` (actor hex → device id); `enrol_codes` (code
//! hash → JSON); `audit` (u64 BE, in the order written → JSON) and `commune_audit`
//! (`commune 0 u64 BE` → nothing); `logs` (`hamlet 0 seq` → a snapshot at seq 0 or
//! raw changes after, compacted into one snapshot once a log has `COMPACT_AFTER`
//! chunks; `hamlet 1` → the log's version, u64 BE); `coverage` (hamlet → JSON of the headline figures) and `coverage_days`
//! (`hamlet 0 day` → that day's figures), kept apart so a dashboard reads a hamlet's
//! figures and only the days it draws; `sync_states` (`device 0 hamlet` → JSON);
//! `sessions` (session-token hash → JSON); `listed` (`user 0 day` → households listed
//! through sync that day, u64 BE); `reviewed` (`hamlet 0 household` → JSON); `teams`
//! (JSON by id, `<commune>.<slug>`, so a commune's teams are one prefix), `user_teams`
//! (`user 0 team`), `commune_members` (commune → JSON of its teams and their distinct
//! members, written with every team), `last_syncs` (`commune 0 user` → ms of the
//! person's last sync, i64 BE); `api_tokens` (JSON by id) and `api_token_hashes`
//! (token hash → id); `filings` (`c:commune 0 month` or `p:province 0 month` → JSON of
//! a month's dossier statistics); `sign_ins` (user → attempts u32 BE and the window's start i64
//! BE); `meta` (`index_version`: the indexes above were built
//! from their records).

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use tungnha_client_core::coverage::to_cover;
use tungnha_client_core::keyfile::KeyFiles;
use tungnha_client_core::sealed::Keyring;
use tungnha_client_core::{
    CommuneId, Coverage, DeviceId, HamletId, HamletLog, History, HouseholdId, ProvinceId, TeamId, UserId,
};

use super::{
    COMPACT_AFTER, CommuneMembers, CommuneTotals, DayFigures, DaysOf, Erasure, LogWrite, Review,
    ReviewCommit, Rollover, Session, Store, StoreError, SyncCommit, SyncState, add_day_to, contribution,
    day_changes, days_of, headline, members_of, move_day, move_totals, secret_hash,
};
use crate::records::{
    ApiToken, AuditEvent, Campaign, Commune, Device, EnrolCode, FilingLevel, FilingMonth, Hamlet, Province,
    Team, User,
};

/// sled's page cache, in bytes.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The version of the indexes `open` builds from their records.
const INDEX_VERSION: u64 = 5;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

/// A key file's failure, as the engine's.
fn engine(e: std::io::Error) -> StoreError {
    StoreError::Engine(Box::new(e))
}

fn pair(a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len() + 1);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}

fn prefix(a: &str) -> Vec<u8> {
    pair(a, "")
}

fn chunk_key(hamlet: &HamletId, seq: u64) -> Vec<u8> {
    let mut k = prefix(hamlet.as_str());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Where a hamlet log's version is kept in the `logs` tree: just past its chunks'
/// prefix (`hamlet 1`, where chunks are `hamlet 0 seq`), so no scan of its chunks sees it.
fn version_key(hamlet: &HamletId) -> Vec<u8> {
    let mut k = hamlet.as_str().as_bytes().to_vec();
    k.push(1);
    k
}

/// A stored version's bytes as a number (0 when absent).
fn version_of(bytes: Option<&[u8]>) -> u64 {
    bytes.and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_be_bytes)
}

/// Writes an audit event, and its commune's index entry, inside a transaction.
fn audit_in(
    audit: &sled::transaction::TransactionalTree,
    commune_audit: &sled::transaction::TransactionalTree,
    id: u64,
    event: &AuditEvent,
) -> Result<(), sled::transaction::UnabortableTransactionError> {
    audit.insert(&id.to_be_bytes(), json(event))?;
    if let Some(commune) = &event.commune {
        commune_audit.insert(commune_audit_key(commune, id), &[])?;
    }
    Ok(())
}

fn commune_audit_key(commune: &CommuneId, id: u64) -> Vec<u8> {
    let mut k = prefix(commune.as_str());
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// The ids an index keeps under `owner` (`owner 0 id`), in key order; keys that do not
/// end in an id are passed over.
fn ids_under<T>(
    index: &sled::Tree,
    owner: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    let p = prefix(owner);
    let mut out = Vec::new();
    for k in index.scan_prefix(&p).keys() {
        out.extend(suffix_id(&k?, &p, &parse));
    }
    Ok(out)
}

/// The part of a key after `prefix`, as an id.
fn suffix_id<T>(key: &[u8], prefix: &[u8], parse: &impl Fn(&str) -> Option<T>) -> Option<T> {
    key.get(prefix.len()..).and_then(|s| std::str::from_utf8(s).ok()).and_then(parse)
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Our records serialize infallibly (no maps with non-string keys, no floats NaN).
    serde_json::to_vec(value).unwrap_or_default()
}

fn parse<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Damaged { what, reason: e.to_string() })
}

/// The figures stored under `key`, or none yet (zeros).
fn or_default<T: DeserializeOwned + Default>(
    tree: &sled::Tree,
    key: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    Ok(tree.get(key)?.map(|v| parse(what, &v)).transpose()?.unwrap_or_default())
}

/// The day records of `owner` (a hamlet, a commune or a province) from `from` on,
/// oldest first, each read by `read`.
fn days_read(
    tree: &sled::Tree,
    owner: &str,
    from: &str,
    read: fn(&[u8]) -> Result<DayFigures, StoreError>,
) -> Result<Vec<(String, DayFigures)>, StoreError> {
    let p = prefix(owner);
    let mut end = p.clone();
    end.push(0xff);
    let mut out = Vec::new();
    for item in tree.range(pair(owner, from)..end) {
        let (k, v) = item?;
        out.push((String::from_utf8_lossy(&k[p.len()..]).into_owned(), read(&v)?));
    }
    Ok(out)
}

/// The whole day records of `owner` from `from` on.
fn day_range(tree: &sled::Tree, owner: &str, from: &str) -> Result<Vec<(String, DayFigures)>, StoreError> {
    days_read(tree, owner, from, |v| parse("day", v))
}

/// A day record's visits and first coverings, read without its work (serde skips it
/// without building its maps): what dashboards draw, and what finding a last day asks.
#[derive(Deserialize)]
struct DayCounts {
    visits: u64,
    covered: u64,
}

/// `day_range` with the counts only.
fn day_counts(tree: &sled::Tree, owner: &str, from: &str) -> Result<Vec<(String, DayFigures)>, StoreError> {
    days_read(tree, owner, from, |v| {
        let c: DayCounts = parse("day", v)?;
        Ok(DayFigures { visits: c.visits, covered: c.covered, work: Default::default() })
    })
}

/// The last day of `owner` (a hamlet or a commune) with a visit, reading back.
fn last_day(tree: &sled::Tree, owner: &str) -> Result<Option<String>, StoreError> {
    let p = prefix(owner);
    for item in tree.scan_prefix(&p).rev() {
        let (k, v) = item?;
        if parse::<DayCounts>("coverage day", &v)?.visits > 0 {
            return Ok(Some(String::from_utf8_lossy(&k[p.len()..]).into_owned()));
        }
    }
    Ok(None)
}

/// How one log write lands in the `logs` tree.
enum Content {
    /// These raw changes as chunk `seq`.
    Append { seq: u64, bytes: Vec<u8> },
    /// One snapshot replacing every chunk; `remove` lists the others.
    Snapshot { bytes: Vec<u8>, remove: Vec<u64> },
}

/// A log write made ready outside the transaction: where its bytes go and which day
/// records change.
struct Prepared<'a> {
    w: &'a LogWrite<'a>,
    content: Content,
    days: Vec<(String, Option<DayFigures>)>,
    /// The hamlet's coverage before the write.
    before: Coverage,
    /// The hamlet's commune, its target, and the commune's province, whose totals and
    /// days move with it.
    commune: Option<(CommuneId, u64, Option<ProvinceId>)>,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn tx_error(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Storage(e) => e.into(),
        TransactionError::Abort(e) => e,
    }
}

/// The server's sled database.
#[derive(Debug, Clone)]
pub struct SledStore {
    db: sled::Db,
    provinces: sled::Tree,
    province_communes: sled::Tree,
    communes: sled::Tree,
    commune_totals: sled::Tree,
    commune_days: sled::Tree,
    province_days: sled::Tree,
    hamlets: sled::Tree,
    users: sled::Tree,
    commune_users: sled::Tree,
    assignments: sled::Tree,
    hamlet_users: sled::Tree,
    devices: sled::Tree,
    user_devices: sled::Tree,
    device_tokens: sled::Tree,
    actors: sled::Tree,
    enrol_codes: sled::Tree,
    audit: sled::Tree,
    commune_audit: sled::Tree,
    logs: sled::Tree,
    coverage: sled::Tree,
    coverage_days: sled::Tree,
    sync_states: sled::Tree,
    sessions: sled::Tree,
    /// Households each user listed through sync, per Asia/Ho_Chi_Minh day of receipt.
    listed: sled::Tree,
    /// Households listed in the field that a leader or official confirmed.
    reviewed: sled::Tree,
    teams: sled::Tree,
    user_teams: sled::Tree,
    commune_members: sled::Tree,
    last_syncs: sled::Tree,
    api_tokens: sled::Tree,
    api_token_hashes: sled::Tree,
    filings: sled::Tree,
    sign_ins: sled::Tree,
    meta: sled::Tree,
    /// Households erased, per hamlet (`hamlet 0 household` → event number): the commit
    /// point of an erasure, beside its audit event.
    erased: sled::Tree,
    /// Campaigns, by commune (`commune 0 number`).
    campaigns: sled::Tree,
    /// Hamlet logs rolled over: each old log saved whole (`hamlet 0 generation`), and
    /// each hamlet's history, the visits and walk-ins of its old logs (`hamlet 1`).
    archive: sled::Tree,
    /// Each hamlet's household keys, a file each (client-core `keyfile`): a key
    /// deleted from a sled tree would stay in sled's segment files.
    keyfiles: KeyFiles,
    /// Held while a team is written: a commune's `CommuneMembers` is worked out from
    /// its other teams, which must not change meanwhile.
    team_writes: std::sync::Arc<std::sync::Mutex<()>>,
}

impl SledStore {
    /// A hamlet's keyring: its file, less the households erased since it was written.
    fn keyring(&self, hamlet: &HamletId) -> Result<Keyring, StoreError> {
        let mut ring = self.keyfiles.load(hamlet).map_err(engine)?;
        let p = prefix(hamlet.as_str());
        for item in self.erased.scan_prefix(&p) {
            let (k, v) = item?;
            let household = std::str::from_utf8(&k[p.len()..]).ok().and_then(|h| HouseholdId::parse(h).ok());
            if let Some(household) = household {
                ring.erase(household, version_of(Some(&v)));
            }
        }
        Ok(ring)
    }

    /// Saves a log write's keys before its transaction (a crash between leaves a key
    /// with no household, never a household with no key).
    fn save_keys(&self, w: &LogWrite<'_>) -> Result<(), StoreError> {
        if w.new_keys.is_empty() && w.erased.is_empty() {
            return Ok(());
        }
        self.keyfiles.save(w.hamlet, w.log.keys()).map_err(engine)
    }

    /// Opens (or creates) the database in `dir`, refusing clearly if another process
    /// holds it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // sled's page cache defaults to 1 GiB; a province's server lives in far less,
        // and hamlet logs have their own cache above this one.
        let config = sled::Config::new().path(dir).cache_capacity(CACHE_BYTES);
        let opened = || {
            tungnha_client_core::sled_open::open(&config, dir).map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock || io.raw_os_error() == Some(11) =>
                {
                    StoreError::InUse(dir.display().to_string())
                }
                sled::Error::Io(io) if io.to_string().contains("lock") => {
                    StoreError::InUse(dir.display().to_string())
                }
                other => other.into(),
            })
        };
        // sled lets go of its lock from a background thread once the last handle is
        // dropped: reopening in the same process right after closing (a restart, an
        // upgrade step, a test) can find it still held for a moment. Another process
        // holding it is still refused, a second later.
        let mut db = opened();
        for _ in 0..10 {
            if !matches!(db, Err(StoreError::InUse(_))) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            db = opened();
        }
        let db = db?;
        let this = Self {
            provinces: db.open_tree("provinces")?,
            province_communes: db.open_tree("province_communes")?,
            communes: db.open_tree("communes")?,
            commune_totals: db.open_tree("commune_totals")?,
            commune_days: db.open_tree("commune_days")?,
            province_days: db.open_tree("province_days")?,
            hamlets: db.open_tree("hamlets")?,
            users: db.open_tree("users")?,
            commune_users: db.open_tree("commune_users")?,
            assignments: db.open_tree("assignments")?,
            hamlet_users: db.open_tree("hamlet_users")?,
            devices: db.open_tree("devices")?,
            user_devices: db.open_tree("user_devices")?,
            device_tokens: db.open_tree("device_tokens")?,
            actors: db.open_tree("actors")?,
            enrol_codes: db.open_tree("enrol_codes")?,
            audit: db.open_tree("audit")?,
            commune_audit: db.open_tree("commune_audit")?,
            logs: db.open_tree("logs")?,
            coverage: db.open_tree("coverage")?,
            coverage_days: db.open_tree("coverage_days")?,
            sync_states: db.open_tree("sync_states")?,
            sessions: db.open_tree("sessions")?,
            listed: db.open_tree("listed")?,
            reviewed: db.open_tree("reviewed")?,
            teams: db.open_tree("teams")?,
            user_teams: db.open_tree("user_teams")?,
            commune_members: db.open_tree("commune_members")?,
            last_syncs: db.open_tree("last_syncs")?,
            api_tokens: db.open_tree("api_tokens")?,
            filings: db.open_tree("filings")?,
            api_token_hashes: db.open_tree("api_token_hashes")?,
            sign_ins: db.open_tree("sign_ins")?,
            meta: db.open_tree("meta")?,
            erased: db.open_tree("erased")?,
            archive: db.open_tree("archive")?,
            campaigns: db.open_tree("campaigns")?,
            keyfiles: KeyFiles::open(dir).map_err(engine)?,
            team_writes: Default::default(),
            db,
        };
        this.split_day_series()?;
        this.build_indexes()?;
        // An erasure committed just before a crash may have left its key in its file.
        this.compact_erased()?;
        Ok(this)
    }

    /// Data written before the day series were kept apart holds them inside each
    /// hamlet's coverage record: move them to `coverage_days`, once.
    fn split_day_series(&self) -> Result<(), StoreError> {
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
                self.coverage_days.insert(pair(hamlet.as_str(), day), json(&f))?;
            }
            self.coverage.insert(k, json(&headline(&c)))?;
        }
        self.flush()
    }

    /// Data written before the indexes existed: build them from their records, once.
    fn build_indexes(&self) -> Result<(), StoreError> {
        let built = self.meta.get("index_version")?.and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok());
        if built.map(u64::from_be_bytes) >= Some(INDEX_VERSION) {
            return Ok(());
        }
        for v in self.users.iter().values() {
            let u: User = parse("user", &v?)?;
            if let Some(c) = &u.commune {
                self.commune_users.insert(pair(c.as_str(), u.id.as_str()), &[])?;
            }
        }
        for k in self.assignments.iter().keys() {
            let k = k?;
            if let Some((u, h)) = std::str::from_utf8(&k).ok().and_then(|t| t.split_once('\0')) {
                self.hamlet_users.insert(pair(h, u), &[])?;
            }
        }
        for v in self.devices.iter().values() {
            let d: Device = parse("device", &v?)?;
            self.user_devices.insert(pair(d.user.as_str(), d.id.as_str()), &[])?;
        }
        for item in self.audit.iter() {
            let (k, v) = item?;
            let e: AuditEvent = parse("audit event", &v)?;
            if let (Some(c), Ok(id)) = (&e.commune, <[u8; 8]>::try_from(k.as_ref())) {
                self.commune_audit.insert(commune_audit_key(c, u64::from_be_bytes(id)), &[])?;
            }
        }
        // Version 5: each hamlet's days recomputed from its log, for the day's work
        // (guided, people, dossiers, accounts) that older day records lack.
        if built.map(u64::from_be_bytes).is_some_and(|v| v < 5) {
            for v in self.hamlets.iter().values() {
                let h: Hamlet = parse("hamlet", &v?)?;
                let Some(log) = self.load_log(&h.id)? else { continue };
                let c = Coverage::compute(&log);
                for k in self.coverage_days.scan_prefix(prefix(h.id.as_str())).keys() {
                    self.coverage_days.remove(k?)?;
                }
                for (day, f) in days_of(&c) {
                    self.coverage_days.insert(pair(h.id.as_str(), day), json(&f))?;
                }
                self.coverage.insert(h.id.as_str(), json(&headline(&c)))?;
            }
        }
        // Version 2: provinces' communes, and each commune's totals and days summed
        // from its hamlets.
        self.commune_totals.clear()?;
        self.commune_days.clear()?;
        for v in self.communes.iter().values() {
            let c: Commune = parse("commune", &v?)?;
            if let Some(p) = &c.province {
                self.province_communes.insert(pair(p.as_str(), c.id.as_str()), &[])?;
            }
        }
        let mut totals: BTreeMap<CommuneId, CommuneTotals> = BTreeMap::new();
        let mut days: BTreeMap<(CommuneId, String), DayFigures> = BTreeMap::new();
        for v in self.hamlets.iter().values() {
            let h: Hamlet = parse("hamlet", &v?)?;
            let c = self.coverage(&h.id)?;
            let t = totals.entry(h.commune.clone()).or_default();
            t.coverage.absorb(&contribution(&c));
            t.hamlets += u64::from(!h.is_counter());
            t.target += h.target_households;
            t.to_cover += to_cover(h.target_households, c.registered);
            for (day, f) in days_of(&c) {
                days.entry((h.commune.clone(), day.to_owned())).or_default().add(&f);
            }
        }
        for (commune, t) in &totals {
            self.commune_totals.insert(commune.as_str(), json(t))?;
        }
        for ((commune, day), f) in &days {
            self.commune_days.insert(pair(commune.as_str(), day), json(f))?;
        }
        // Version 3: each province's days, summed from its communes'.
        self.province_days.clear()?;
        let mut by_province: BTreeMap<(ProvinceId, String), DayFigures> = BTreeMap::new();
        for v in self.communes.iter().values() {
            let c: Commune = parse("commune", &v?)?;
            let Some(p) = c.province else { continue };
            for ((commune, day), f) in days.range((c.id.clone(), String::new())..) {
                if *commune != c.id {
                    break;
                }
                by_province.entry((p.clone(), day.clone())).or_default().add(f);
            }
        }
        for ((province, day), f) in &by_province {
            self.province_days.insert(pair(province.as_str(), day), json(f))?;
        }
        // Version 4: teams' members, each commune's members, and everyone's last sync.
        let mut members: BTreeMap<CommuneId, Vec<Team>> = BTreeMap::new();
        for v in self.teams.iter().values() {
            let t: Team = parse("team", &v?)?;
            for m in &t.members {
                self.user_teams.insert(pair(m.as_str(), t.id.as_str()), &[])?;
            }
            members.entry(t.commune.clone()).or_default().push(t);
        }
        for (commune, teams) in &members {
            self.commune_members.insert(commune.as_str(), json(&members_of(teams.iter())))?;
        }
        for v in self.devices.iter().values() {
            let d: Device = parse("device", &v?)?;
            let (Some(at), Some(user)) = (d.last_sync_at, self.user(&d.user)?) else { continue };
            let Some(commune) = user.commune else { continue };
            let key = pair(commune.as_str(), user.id.as_str());
            let known = self.last_syncs.get(&key)?.and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok());
            if known.map(i64::from_be_bytes) < Some(at) {
                self.last_syncs.insert(key, &at.to_be_bytes())?;
            }
        }
        self.meta.insert("index_version", &INDEX_VERSION.to_be_bytes())?;
        self.flush()
    }

    /// Waits until everything written is on disk.
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Changes one device record atomically (compare-and-swap), so that a revocation
    /// and a sync finishing at the same moment cannot undo each other. Returns the
    /// record as changed. Not flushed: callers flush, once for everything they wrote.
    fn update_device(
        &self,
        id: &DeviceId,
        change: impl Fn(&mut Device),
    ) -> Result<Option<Device>, StoreError> {
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

    /// Writes (`Some`) or removes (`None`) team `id` of `commune`, with its members'
    /// index and the commune's members, in one transaction.
    fn write_team(&self, id: &TeamId, commune: &CommuneId, team: Option<&Team>) -> Result<(), StoreError> {
        let _one_at_a_time = self.team_writes.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.team(id)?;
        let others: Vec<Team> = self.teams_of(commune)?.into_iter().filter(|t| &t.id != id).collect();
        let members = members_of(others.iter().chain(team));
        let leaving: Vec<&UserId> =
            old.iter().flat_map(|o| &o.members).filter(|m| !team.is_some_and(|t| t.has_member(m))).collect();
        (&self.teams, &self.user_teams, &self.commune_members)
            .transaction(|(tt, ut, mt)| {
                match team {
                    Some(t) => {
                        tt.insert(id.as_str(), json(t))?;
                        for m in &t.members {
                            ut.insert(pair(m.as_str(), id.as_str()), &[])?;
                        }
                    }
                    None => {
                        tt.remove(id.as_str())?;
                    }
                }
                for m in &leaving {
                    ut.remove(pair(m.as_str(), id.as_str()))?;
                }
                mt.insert(commune.as_str(), json(&members))?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    /// The next free chunk number of a hamlet's log.
    fn next_chunk(&self, hamlet: &HamletId) -> Result<u64, StoreError> {
        let p = prefix(hamlet.as_str());
        Ok(match self.logs.scan_prefix(&p).keys().next_back() {
            Some(k) => {
                let k = k?;
                k.get(p.len()..).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, u64::from_be_bytes) + 1
            }
            None => 0,
        })
    }

    /// Where a write's bytes go, and which day records it changes: worked out before
    /// the transaction (a compaction saves the whole log, which takes a while).
    fn prepare<'a>(&self, w: &'a LogWrite<'a>) -> Result<Prepared<'a>, StoreError> {
        let next = self.next_chunk(w.hamlet)?;
        let content = match &w.changes {
            Some(bytes) if next > 0 && next < COMPACT_AFTER => {
                Content::Append { seq: next, bytes: bytes.clone() }
            }
            _ => Content::Snapshot { bytes: w.log.save(), remove: (1..next).collect() },
        };
        let before = match &w.before {
            Some(before) => before.clone(),
            None => self.coverage(w.hamlet)?,
        };
        let days = day_changes(&before, &w.coverage);
        let commune = match self.hamlet(w.hamlet)? {
            Some(h) => {
                let province = self.commune(&h.commune)?.and_then(|c| c.province);
                Some((h.commune, h.target_households, province))
            }
            None => None,
        };
        Ok(Prepared { w, content, days, before, commune })
    }
}

/// The trees a log write touches.
struct LogTrees<'t> {
    logs: &'t TransactionalTree,
    coverage: &'t TransactionalTree,
    days: &'t TransactionalTree,
    commune_totals: &'t TransactionalTree,
    commune_days: &'t TransactionalTree,
    province_days: &'t TransactionalTree,
}

impl<'t> LogTrees<'t> {
    /// The trees, in the order every log-writing transaction names them.
    fn new(
        logs: &'t TransactionalTree,
        coverage: &'t TransactionalTree,
        days: &'t TransactionalTree,
        commune_totals: &'t TransactionalTree,
        commune_days: &'t TransactionalTree,
        province_days: &'t TransactionalTree,
    ) -> Self {
        Self { logs, coverage, days, commune_totals, commune_days, province_days }
    }
}

/// Moves a commune's stored totals (`move_totals`) within a transaction.
fn move_stored_totals(
    tt: &TransactionalTree,
    commune: &CommuneId,
    figures: (&Coverage, &Coverage),
    targets: (u64, u64),
    hamlets: u64,
) -> TxResult<()> {
    // Derived data: a record that does not read is rebuilt from the hamlets when the
    // store opens with `meta` cleared, and `admin verify` compares it.
    let mut totals: CommuneTotals =
        tt.get(commune.as_str())?.and_then(|v| serde_json::from_slice(&v).ok()).unwrap_or_default();
    move_totals(&mut totals, figures, targets, hamlets);
    tt.insert(commune.as_str(), json(&totals))?;
    Ok(())
}

fn write_prepared(t: &LogTrees<'_>, p: &Prepared<'_>) -> TxResult<()> {
    let (lt, ct, dt) = (t.logs, t.coverage, t.days);
    let hamlet = p.w.hamlet;
    let stored = version_of(lt.get(version_key(hamlet))?.as_deref());
    if stored != p.w.base {
        return Err(ConflictableTransactionError::Abort(StoreError::Stale(hamlet.to_string())));
    }
    lt.insert(version_key(hamlet), &(p.w.base + 1).to_be_bytes())?;
    match &p.content {
        Content::Append { seq, bytes } => {
            lt.insert(chunk_key(hamlet, *seq), bytes.as_slice())?;
        }
        Content::Snapshot { bytes, remove } => {
            for seq in remove {
                lt.remove(chunk_key(hamlet, *seq))?;
            }
            lt.insert(chunk_key(hamlet, 0), bytes.as_slice())?;
        }
    }
    ct.insert(hamlet.as_str(), json(&headline(&p.w.coverage)))?;
    for (day, figures) in &p.days {
        let key = pair(hamlet.as_str(), day);
        match figures {
            Some(f) => dt.insert(key, json(f))?,
            None => dt.remove(key)?,
        };
    }
    if let Some((commune, target, province)) = &p.commune {
        move_stored_totals(t.commune_totals, commune, (&p.before, &p.w.coverage), (*target, *target), 0)?;
        let old = days_of(&p.before);
        for (day, figures) in &p.days {
            let was = old.get(day.as_str()).cloned().unwrap_or_default();
            let now = figures.clone().unwrap_or_default();
            move_stored_day(t.commune_days, commune.as_str(), day, &was, &now)?;
            if let Some(province) = province {
                move_stored_day(t.province_days, province.as_str(), day, &was, &now)?;
            }
        }
    }
    Ok(())
}

/// Moves one stored day record of `owner` (a commune or a province) from a part
/// `was` to a part `now` (`move_day`); a record that reaches zero goes.
fn move_stored_day(
    tree: &TransactionalTree,
    owner: &str,
    day: &str,
    was: &DayFigures,
    now: &DayFigures,
) -> TxResult<()> {
    let key = pair(owner, day);
    let mut sum: DayFigures =
        tree.get(&key)?.and_then(|v| serde_json::from_slice(&v).ok()).unwrap_or_default();
    move_day(&mut sum, was, now);
    if sum == DayFigures::default() {
        tree.remove(key)?;
    } else {
        tree.insert(key, json(&sum))?;
    }
    Ok(())
}

impl Store for SledStore {
    fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.communes.is_empty() && self.users.is_empty())
    }

    // ---- communes and hamlets ----

    fn commune(&self, id: &CommuneId) -> Result<Option<Commune>, StoreError> {
        self.communes.get(id.as_str())?.map(|v| parse("commune", &v)).transpose()
    }

    fn put_commune(&self, c: &Commune) -> Result<(), StoreError> {
        // A commune that changes province takes its days with it (an administrator's
        // step, taken before the field work it reports on).
        let old_province = self.commune(&c.id)?.and_then(|o| o.province);
        let moved = old_province != c.province;
        let days = if moved { day_range(&self.commune_days, c.id.as_str(), "")? } else { Vec::new() };
        (&self.communes, &self.province_communes, &self.province_days)
            .transaction(|(ct, pt, pdt)| {
                ct.insert(c.id.as_str(), json(c))?;
                if let Some(p) = old_province.as_ref().filter(|_| moved) {
                    pt.remove(pair(p.as_str(), c.id.as_str()))?;
                    for (day, f) in &days {
                        move_stored_day(pdt, p.as_str(), day, f, &DayFigures::default())?;
                    }
                }
                if let Some(p) = &c.province {
                    pt.insert(pair(p.as_str(), c.id.as_str()), &[])?;
                    if moved {
                        for (day, f) in &days {
                            move_stored_day(pdt, p.as_str(), day, &DayFigures::default(), f)?;
                        }
                    }
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn province_days_from(
        &self,
        province: &ProvinceId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        day_range(&self.province_days, province.as_str(), from)
    }

    fn province(&self, id: &ProvinceId) -> Result<Option<Province>, StoreError> {
        self.provinces.get(id.as_str())?.map(|v| parse("province", &v)).transpose()
    }

    fn put_province(&self, p: &Province) -> Result<(), StoreError> {
        self.provinces.insert(p.id.as_str(), json(p))?;
        self.flush()
    }

    fn all_provinces(&self) -> Result<Vec<Province>, StoreError> {
        self.provinces.iter().values().map(|v| parse("province", &v?)).collect()
    }

    fn communes_of(&self, province: &ProvinceId) -> Result<Vec<Commune>, StoreError> {
        let mut out = Vec::new();
        for id in ids_under(&self.province_communes, province.as_str(), |s| CommuneId::parse(s).ok())? {
            out.extend(self.commune(&id)?.filter(|c| c.province.as_ref() == Some(province)));
        }
        Ok(out)
    }

    fn commune_totals(&self, commune: &CommuneId) -> Result<CommuneTotals, StoreError> {
        or_default(&self.commune_totals, commune.as_str(), "commune totals")
    }

    fn commune_days_from(
        &self,
        commune: &CommuneId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        day_range(&self.commune_days, commune.as_str(), from)
    }

    fn day_counts_from(&self, of: DaysOf<'_>, from: &str) -> Result<Vec<(String, DayFigures)>, StoreError> {
        match of {
            DaysOf::Hamlet(h) => day_counts(&self.coverage_days, h.as_str(), from),
            DaysOf::Commune(c) => day_counts(&self.commune_days, c.as_str(), from),
            DaysOf::Province(p) => day_counts(&self.province_days, p.as_str(), from),
        }
    }

    fn all_communes(&self) -> Result<Vec<Commune>, StoreError> {
        self.communes.iter().values().map(|v| parse("commune", &v?)).collect()
    }

    fn hamlet(&self, id: &HamletId) -> Result<Option<Hamlet>, StoreError> {
        self.hamlets.get(id.as_str())?.map(|v| parse("hamlet", &v)).transpose()
    }

    fn hamlets_of(&self, commune: &CommuneId) -> Result<Vec<Hamlet>, StoreError> {
        let prefix = format!("{}.", commune.as_str());
        self.hamlets.scan_prefix(prefix.as_bytes()).values().map(|v| parse("hamlet", &v?)).collect()
    }

    fn all_hamlets(&self) -> Result<Vec<Hamlet>, StoreError> {
        self.hamlets.iter().values().map(|v| parse("hamlet", &v?)).collect()
    }

    fn put_hamlets(&self, hamlets: &[Hamlet]) -> Result<(), StoreError> {
        // Each hamlet with its genesis log if it is new, and its record and figures as
        // stored.
        type Row = (Hamlet, Option<Vec<u8>>, Option<Hamlet>, Coverage);
        let mut rows: Vec<Row> = Vec::new();
        for h in hamlets {
            let fresh = !self.logs.contains_key(chunk_key(&h.id, 0))?;
            rows.push((
                h.clone(),
                fresh.then(|| HamletLog::genesis_of(&h.id, h.is_counter()).save()),
                self.hamlet(&h.id)?,
                self.coverage_headline(&h.id)?,
            ));
        }
        (&self.hamlets, &self.logs, &self.coverage, &self.commune_totals)
            .transaction(|(ht, lt, ct, tt)| {
                for (h, genesis, old, figures) in &rows {
                    ht.insert(h.id.as_str(), json(h))?;
                    if let Some(bytes) = genesis {
                        lt.insert(chunk_key(&h.id, 0), bytes.as_slice())?;
                        ct.insert(h.id.as_str(), json(&Coverage::default()))?;
                    }
                    match old {
                        Some(old) if old.commune == h.commune => {
                            move_stored_totals(
                                tt,
                                &h.commune,
                                (figures, figures),
                                (old.target_households, h.target_households),
                                0,
                            )?;
                        }
                        // A hamlet never changes commune (its id names it); a record
                        // written before its commune's totals counts as new.
                        _ => move_stored_totals(
                            tt,
                            &h.commune,
                            (&Coverage::default(), figures),
                            (0, h.target_households),
                            // A counter is no hamlet: it adds its walk-ins, not to the count.
                            u64::from(!h.is_counter()),
                        )?,
                    }
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    // ---- people and assignments ----

    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.users.get(id.as_str())?.map(|v| parse("user", &v)).transpose()
    }

    fn put_users(&self, users: &[User]) -> Result<(), StoreError> {
        (&self.users, &self.commune_users)
            .transaction(|(ut, ct)| {
                for u in users {
                    let old = ut.insert(u.id.as_str(), json(u))?;
                    let old_commune =
                        old.and_then(|v| serde_json::from_slice::<User>(&v).ok()).and_then(|o| o.commune);
                    if let Some(c) = old_commune.filter(|c| Some(c) != u.commune.as_ref()) {
                        ct.remove(pair(c.as_str(), u.id.as_str()))?;
                    }
                    if let Some(c) = &u.commune {
                        ct.insert(pair(c.as_str(), u.id.as_str()), &[])?;
                    }
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn users_of(&self, commune: &CommuneId) -> Result<Vec<User>, StoreError> {
        let mut out = Vec::new();
        for id in ids_under(&self.commune_users, commune.as_str(), |s| UserId::parse(s).ok())? {
            // The index follows the record; a record that moved away is not listed.
            out.extend(self.user(&id)?.filter(|u| u.commune.as_ref() == Some(commune)));
        }
        Ok(out)
    }

    fn all_users(&self) -> Result<Vec<User>, StoreError> {
        self.users.iter().values().map(|v| parse("user", &v?)).collect()
    }

    fn assign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError> {
        (&self.assignments, &self.hamlet_users)
            .transaction(|(at, ht)| {
                at.insert(pair(user.as_str(), hamlet.as_str()), &[])?;
                ht.insert(pair(hamlet.as_str(), user.as_str()), &[])?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn unassign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError> {
        (&self.assignments, &self.hamlet_users)
            .transaction(|(at, ht)| {
                at.remove(pair(user.as_str(), hamlet.as_str()))?;
                ht.remove(pair(hamlet.as_str(), user.as_str()))?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn assignments_of(&self, user: &UserId) -> Result<Vec<HamletId>, StoreError> {
        ids_under(&self.assignments, user.as_str(), |s| HamletId::parse(s).ok())
    }

    fn people_of(&self, hamlet: &HamletId) -> Result<Vec<UserId>, StoreError> {
        ids_under(&self.hamlet_users, hamlet.as_str(), |s| UserId::parse(s).ok())
    }

    // ---- teams ----

    fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError> {
        self.teams.get(id.as_str())?.map(|v| parse("team", &v)).transpose()
    }

    fn put_team(&self, team: &Team) -> Result<(), StoreError> {
        self.write_team(&team.id, &team.commune, Some(team))
    }

    fn remove_team(&self, id: &TeamId) -> Result<(), StoreError> {
        match self.team(id)? {
            Some(t) => self.write_team(id, &t.commune, None),
            None => Ok(()),
        }
    }

    fn teams_of(&self, commune: &CommuneId) -> Result<Vec<Team>, StoreError> {
        let prefix = format!("{}.", commune.as_str());
        self.teams.scan_prefix(prefix.as_bytes()).values().map(|v| parse("team", &v?)).collect()
    }

    fn teams_of_user(&self, user: &UserId) -> Result<Vec<Team>, StoreError> {
        let mut out = Vec::new();
        for id in ids_under(&self.user_teams, user.as_str(), |s| TeamId::parse(s).ok())? {
            // The index follows the record; a member who left is not listed.
            out.extend(self.team(&id)?.filter(|t| t.has_member(user)));
        }
        Ok(out)
    }

    fn commune_members(&self, commune: &CommuneId) -> Result<CommuneMembers, StoreError> {
        or_default(&self.commune_members, commune.as_str(), "commune members")
    }

    fn last_syncs(&self, commune: &CommuneId) -> Result<BTreeMap<UserId, i64>, StoreError> {
        let p = prefix(commune.as_str());
        let mut out = BTreeMap::new();
        for item in self.last_syncs.scan_prefix(&p) {
            let (k, v) = item?;
            let at = <[u8; 8]>::try_from(v.as_ref()).map(i64::from_be_bytes).ok();
            if let (Some(user), Some(at)) = (suffix_id(&k, &p, &|s| UserId::parse(s).ok()), at) {
                out.insert(user, at);
            }
        }
        Ok(out)
    }

    // ---- enrolment and devices ----

    fn put_enrol_code(&self, code: &str, record: &EnrolCode) -> Result<(), StoreError> {
        self.enrol_codes.insert(secret_hash(code), json(record))?;
        self.flush()
    }

    fn take_enrol_code(&self, code: &str) -> Result<Option<EnrolCode>, StoreError> {
        self.enrol_codes.remove(secret_hash(code))?.map(|v| parse("enrolment code", &v)).transpose()
    }

    fn put_new_device(&self, d: &Device) -> Result<(), StoreError> {
        (&self.devices, &self.device_tokens, &self.actors, &self.user_devices)
            .transaction(|(dt, tt, at, ut)| {
                dt.insert(d.id.as_str(), json(d))?;
                tt.insert(d.token_hash.as_str(), d.id.as_str())?;
                at.insert(d.actor.as_str(), d.id.as_str())?;
                ut.insert(pair(d.user.as_str(), d.id.as_str()), &[])?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn actor_taken(&self, actor_hex: &str) -> Result<bool, StoreError> {
        Ok(self.actors.contains_key(actor_hex)?)
    }

    fn revoke_device(
        &self,
        id: &DeviceId,
        now: i64,
        final_upload_until: Option<i64>,
    ) -> Result<Option<Device>, StoreError> {
        let revoked = self.update_device(id, |d| {
            if d.revoked_at.is_none() {
                d.revoked_at = Some(now);
                d.final_upload_until = final_upload_until;
            }
        })?;
        self.flush()?;
        Ok(revoked)
    }

    fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        self.devices.get(id.as_str())?.map(|v| parse("device", &v)).transpose()
    }

    fn device_by_token(&self, token: &str) -> Result<Option<Device>, StoreError> {
        let Some(id) = self.device_tokens.get(secret_hash(token))? else { return Ok(None) };
        let Some(id) = std::str::from_utf8(&id).ok().and_then(|s| DeviceId::parse(s).ok()) else {
            return Ok(None);
        };
        self.device(&id)
    }

    fn devices_of(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        let mut out = Vec::new();
        for id in ids_under(&self.user_devices, user.as_str(), |s| DeviceId::parse(s).ok())? {
            out.extend(self.device(&id)?);
        }
        Ok(out)
    }

    fn all_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.devices.iter().values().map(|v| parse("device", &v?)).collect()
    }

    // ---- API tokens ----

    fn put_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        (&self.api_tokens, &self.api_token_hashes)
            .transaction(|(tt, ht)| {
                tt.insert(token.id.as_str(), json(token))?;
                ht.insert(token.token_hash.as_str(), token.id.as_str())?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn api_token_by_token(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        let Some(id) = self.api_token_hashes.get(secret_hash(token))? else { return Ok(None) };
        self.api_tokens.get(id)?.map(|v| parse("api token", &v)).transpose()
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.api_tokens.iter().values().map(|v| parse("api token", &v?)).collect()
    }

    // ---- monthly dossier statistics ----

    fn put_filings(&self, months: &[FilingMonth]) -> Result<(), StoreError> {
        self.filings
            .transaction(|ft| {
                for m in months {
                    ft.insert(pair(&m.level.key(), &m.month), json(m))?;
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn filings(&self, level: &FilingLevel) -> Result<Vec<FilingMonth>, StoreError> {
        self.filings.scan_prefix(prefix(&level.key())).values().map(|v| parse("filing month", &v?)).collect()
    }

    // ---- sign-in attempts ----

    fn reserve_sign_in(&self, user: &UserId, now: i64, window_ms: i64, max: u32) -> Result<bool, StoreError> {
        let granted = std::cell::Cell::new(false);
        self.sign_ins.update_and_fetch(user.as_str(), |old| {
            let (mut n, mut since) = old
                .and_then(|b| {
                    Some((<[u8; 4]>::try_from(b.get(..4)?).ok()?, <[u8; 8]>::try_from(b.get(4..)?).ok()?))
                })
                .map_or((0, now), |(n, s)| (u32::from_be_bytes(n), i64::from_be_bytes(s)));
            if now - since >= window_ms {
                (n, since) = (0, now);
            }
            granted.set(n < max);
            if n < max {
                n += 1;
            }
            let mut out = n.to_be_bytes().to_vec();
            out.extend_from_slice(&since.to_be_bytes());
            Some(out)
        })?;
        Ok(granted.get())
    }

    fn clear_sign_ins(&self, user: &UserId) -> Result<(), StoreError> {
        self.sign_ins.remove(user.as_str())?;
        Ok(())
    }

    // ---- web sessions ----

    fn put_session(&self, token: &str, session: &Session) -> Result<(), StoreError> {
        self.sessions.insert(secret_hash(token), json(session))?;
        self.flush()
    }

    fn session(&self, token: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let key = secret_hash(token);
        let Some(v) = self.sessions.get(&key)? else { return Ok(None) };
        let session: Session = parse("session", &v)?;
        if session.expires_at <= now {
            self.sessions.remove(key)?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    fn remove_session(&self, token: &str) -> Result<(), StoreError> {
        self.sessions.remove(secret_hash(token))?;
        self.flush()
    }

    fn remove_sessions_of(&self, user: &UserId) -> Result<(), StoreError> {
        for item in self.sessions.iter() {
            let (k, v) = item?;
            if parse::<Session>("session", &v).is_ok_and(|s| &s.user == user) {
                self.sessions.remove(k)?;
            }
        }
        self.flush()
    }

    // ---- audit ----

    fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let id = self.db.generate_id()?;
        (&self.audit, &self.commune_audit)
            .transaction(|(at, ct)| {
                at.insert(&id.to_be_bytes(), json(event))?;
                if let Some(c) = &event.commune {
                    ct.insert(commune_audit_key(c, id), &[])?;
                }
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        self.audit.iter().values().rev().take(limit).map(|v| parse("audit event", &v?)).collect()
    }

    fn audit_events_of(&self, commune: &CommuneId, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        let p = prefix(commune.as_str());
        let mut out = Vec::new();
        for k in self.commune_audit.scan_prefix(&p).keys().rev() {
            if out.len() >= limit {
                break;
            }
            let k = k?;
            let Some(id) = k.get(p.len()..).and_then(|s| <[u8; 8]>::try_from(s).ok()) else { continue };
            if let Some(v) = self.audit.get(id)? {
                out.push(parse("audit event", &v)?);
            }
        }
        Ok(out)
    }

    // ---- hamlet logs, coverage, sync states ----

    fn load_log_versioned(&self, hamlet: &HamletId) -> Result<Option<(HamletLog, u64)>, StoreError> {
        // One process holds a sled directory and writes a log only under its cache
        // lock, so the chunks and the version read here belong together.
        let version = self.log_version(hamlet)?;
        let chunks: Vec<sled::IVec> =
            self.logs.scan_prefix(prefix(hamlet.as_str())).values().collect::<Result<_, _>>()?;
        if chunks.is_empty() {
            return Ok(None);
        }
        let log = HamletLog::load_chunks(chunks.iter().map(|c| c.as_ref()))
            .map_err(|e| StoreError::Damaged { what: "hamlet log", reason: format!("{hamlet}: {e}") })?;
        Ok(Some((log.with_keys(self.keyring(hamlet)?), version)))
    }

    fn log_version(&self, hamlet: &HamletId) -> Result<u64, StoreError> {
        Ok(version_of(self.logs.get(version_key(hamlet))?.as_deref()))
    }

    fn put_campaign(&self, campaign: &Campaign) -> Result<(), StoreError> {
        let mut key = prefix(campaign.commune.as_str());
        key.extend_from_slice(&campaign.number.to_be_bytes());
        self.campaigns.insert(key, json(campaign))?;
        self.flush()
    }

    fn campaigns_of(&self, commune: &CommuneId) -> Result<Vec<Campaign>, StoreError> {
        self.campaigns
            .scan_prefix(prefix(commune.as_str()))
            .values()
            .map(|v| parse("campaign", &v?))
            .collect()
    }

    fn roll_over(&self, r: &Rollover<'_>) -> Result<(), StoreError> {
        let hamlet = r.write.hamlet;
        let prepared = self.prepare(&r.write)?;
        let audit_id = self.db.generate_id()?;
        let history = json(r.history);
        (
            &self.logs,
            &self.coverage,
            &self.coverage_days,
            &self.commune_totals,
            &self.commune_days,
            &self.province_days,
            &self.archive,
            &self.audit,
            &self.commune_audit,
        )
            .transaction(|(lt, ct, dt, tt, cdt, pdt, art, at, cat)| {
                let trees = LogTrees::new(lt, ct, dt, tt, cdt, pdt);
                write_prepared(&trees, &prepared)?;
                art.insert(chunk_key(hamlet, r.generation), r.archived)?;
                art.insert(version_key(hamlet), history.as_slice())?;
                audit_in(at, cat, audit_id, r.event)?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn history(&self, hamlet: &HamletId) -> Result<History, StoreError> {
        match self.archive.get(version_key(hamlet))? {
            Some(bytes) => parse("hamlet history", &bytes),
            None => Ok(History::default()),
        }
    }

    fn archived_generations(&self, hamlet: &HamletId) -> Result<Vec<u64>, StoreError> {
        let at = prefix(hamlet.as_str()).len();
        self.archive
            .scan_prefix(prefix(hamlet.as_str()))
            .keys()
            .map(|k| Ok(k?.get(at..).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_be_bytes)))
            .collect()
    }

    fn archived_log(&self, hamlet: &HamletId, generation: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.archive.get(chunk_key(hamlet, generation))?.map(|b| b.to_vec()))
    }

    fn put_archive(
        &self,
        hamlet: &HamletId,
        archived: &[(u64, Vec<u8>)],
        history: &History,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (generation, bytes) in archived {
            batch.insert(chunk_key(hamlet, *generation), bytes.as_slice());
        }
        batch.insert(version_key(hamlet), json(history));
        self.archive.apply_batch(batch)?;
        self.flush()
    }

    fn erase_household(&self, e: &Erasure<'_>) -> Result<(), StoreError> {
        let audit_id = self.db.generate_id()?;
        (&self.logs, &self.erased, &self.audit, &self.commune_audit)
            .transaction(|(lt, et, at, cat)| {
                let stored = version_of(lt.get(version_key(e.hamlet))?.as_deref());
                if stored != e.base {
                    return Err(ConflictableTransactionError::Abort(StoreError::Stale(e.hamlet.to_string())));
                }
                lt.insert(version_key(e.hamlet), &(e.base + 1).to_be_bytes())?;
                et.insert(pair(e.hamlet.as_str(), e.household.as_str()), &e.seq.to_be_bytes())?;
                audit_in(at, cat, audit_id, e.event)?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()?;
        // Committed: now the key leaves its file (a crash before this is mended by
        // `compact_erased` at the next start).
        self.keyfiles.save(e.hamlet, e.keys).map_err(engine)
    }

    fn compact_erased(&self) -> Result<(), StoreError> {
        for hamlet in self.keyfiles.hamlets().map_err(engine)? {
            let ring = self.keyring(&hamlet)?;
            self.keyfiles.save(&hamlet, &ring).map_err(engine)?;
        }
        Ok(())
    }

    fn commit_sync(&self, c: &SyncCommit<'_>) -> Result<(), StoreError> {
        let states: Vec<(Vec<u8>, Vec<u8>)> = c
            .syncs
            .iter()
            .flat_map(|d| {
                d.states.iter().map(|(h, heads)| {
                    let s = SyncState { heads: heads.iter().map(|x| x.to_string()).collect(), at: c.now };
                    (pair(d.device.as_str(), h.as_str()), json(&s))
                })
            })
            .collect();
        let prepared = c.logs.iter().map(|w| self.prepare(w)).collect::<Result<Vec<_>, _>>()?;
        for w in c.logs {
            self.save_keys(w)?;
        }
        let committed = (
            &self.logs,
            &self.coverage,
            &self.coverage_days,
            &self.commune_totals,
            &self.commune_days,
            &self.province_days,
            &self.sync_states,
            &self.listed,
        )
            .transaction(|(lt, ct, dt, tt, cdt, pdt, st, ls)| {
                for l in c.syncs.iter().filter_map(|d| d.listing) {
                    let key = pair(l.user.as_str(), &l.day);
                    let already =
                        ls.get(&key)?.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes);
                    if already + l.count > l.limit {
                        let over = StoreError::TooManyListed { already, limit: l.limit };
                        return Err(ConflictableTransactionError::Abort(over));
                    }
                    ls.insert(key, &(already + l.count).to_be_bytes())?;
                }
                let trees = LogTrees::new(lt, ct, dt, tt, cdt, pdt);
                for p in &prepared {
                    write_prepared(&trees, p)?;
                }
                for (k, v) in &states {
                    st.insert(k.as_slice(), v.as_slice())?;
                }
                TxResult::Ok(())
            });
        committed.map_err(tx_error)?;
        for d in c.syncs {
            // The record is changed apart, atomically, so a revocation meanwhile
            // stands; one flush then makes all of it durable.
            self.update_device(d.device, |r| {
                r.last_sync_at = Some(c.now);
                // A revoked device's final upload is spent.
                if r.revoked_at.is_some() {
                    r.final_upload_until = None;
                }
            })?;
            if let Some(commune) = d.commune {
                self.last_syncs.insert(pair(commune.as_str(), d.user.as_str()), &c.now.to_be_bytes())?;
            }
        }
        self.flush()
    }

    fn commit_review(&self, c: &ReviewCommit<'_>) -> Result<(), StoreError> {
        let prepared = c.log.map(|w| self.prepare(w)).transpose()?;
        if let Some(w) = c.log {
            self.save_keys(w)?;
        }
        let audit_id = self.db.generate_id()?;
        (
            &self.logs,
            &self.coverage,
            &self.coverage_days,
            &self.commune_totals,
            &self.commune_days,
            &self.province_days,
            &self.reviewed,
            &self.audit,
            &self.commune_audit,
        )
            .transaction(|(lt, ct, dt, tt, cdt, pdt, rt, at, cat)| {
                if let Some(p) = &prepared {
                    let trees = LogTrees::new(lt, ct, dt, tt, cdt, pdt);
                    write_prepared(&trees, p)?;
                }
                for id in c.confirmed {
                    rt.insert(pair(c.hamlet.as_str(), id.as_str()), json(c.review))?;
                }
                audit_in(at, cat, audit_id, c.event)?;
                TxResult::Ok(())
            })
            .map_err(tx_error)?;
        self.flush()
    }

    fn commit_log(&self, w: &LogWrite<'_>) -> Result<(), StoreError> {
        let p = self.prepare(w)?;
        self.save_keys(w)?;
        (
            &self.logs,
            &self.coverage,
            &self.coverage_days,
            &self.commune_totals,
            &self.commune_days,
            &self.province_days,
        )
            .transaction(|(lt, ct, dt, tt, cdt, pdt)| {
                write_prepared(&LogTrees::new(lt, ct, dt, tt, cdt, pdt), &p)
            })
            .map_err(tx_error)?;
        // Only a whole store being moved brings erasures with a log.
        for (household, seq) in &w.erased {
            self.erased.insert(pair(w.hamlet.as_str(), household.as_str()), &seq.to_be_bytes())?;
        }
        self.flush()
    }

    fn coverage(&self, hamlet: &HamletId) -> Result<Coverage, StoreError> {
        let mut c = self.coverage_headline(hamlet)?;
        let p = prefix(hamlet.as_str());
        for item in self.coverage_days.scan_prefix(&p) {
            let (k, v) = item?;
            let day = String::from_utf8_lossy(&k[p.len()..]).into_owned();
            add_day_to(&mut c, day, parse("coverage day", &v)?);
        }
        Ok(c)
    }

    fn coverage_headline(&self, hamlet: &HamletId) -> Result<Coverage, StoreError> {
        or_default(&self.coverage, hamlet.as_str(), "coverage")
    }

    fn last_visit_day(&self, hamlet: &HamletId) -> Result<Option<String>, StoreError> {
        last_day(&self.coverage_days, hamlet.as_str())
    }

    fn commune_last_day(&self, commune: &CommuneId) -> Result<Option<String>, StoreError> {
        last_day(&self.commune_days, commune.as_str())
    }

    fn coverage_days_from(
        &self,
        hamlet: &HamletId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        day_range(&self.coverage_days, hamlet.as_str(), from)
    }

    fn listed(&self, user: &UserId, day: &str) -> Result<u64, StoreError> {
        Ok(self
            .listed
            .get(pair(user.as_str(), day))?
            .and_then(|v| v.as_ref().try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    fn reviewed(&self, hamlet: &HamletId) -> Result<BTreeMap<HouseholdId, Review>, StoreError> {
        let p = prefix(hamlet.as_str());
        let mut out = BTreeMap::new();
        for item in self.reviewed.scan_prefix(&p) {
            let (k, v) = item?;
            let Some(id) = suffix_id(&k, &p, &|s| HouseholdId::parse(s).ok()) else { continue };
            out.insert(id, parse("review", &v)?);
        }
        Ok(out)
    }

    // ---- moving a whole store ----

    fn put_reviews(
        &self,
        hamlet: &HamletId,
        reviews: &BTreeMap<HouseholdId, Review>,
    ) -> Result<(), StoreError> {
        for (id, review) in reviews {
            self.reviewed.insert(pair(hamlet.as_str(), id.as_str()), json(review))?;
        }
        self.flush()
    }

    fn put_last_sync(&self, commune: &CommuneId, user: &UserId, at: i64) -> Result<(), StoreError> {
        self.last_syncs.insert(pair(commune.as_str(), user.as_str()), &at.to_be_bytes())?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hamlet_record(id: &str) -> Hamlet {
        Hamlet {
            id: HamletId::parse(id).expect("id"),
            code: id.split('.').nth(1).unwrap_or(id).into(),
            name: "Thôn".into(),
            kind: tungnha_client_core::domain::HamletKind::Thon,
            commune: CommuneId::parse(id.split('.').next().unwrap_or(id)).expect("id"),
            target_households: 10,
        }
    }

    #[test]
    fn day_series_are_kept_apart_and_read_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = hamlet_record("x.a");
        let hamlet = record.id.clone();
        let log = HamletLog::genesis(&hamlet);
        let mut c = Coverage { registered: 5, covered: 2, attempted: 3, visits: 3, ..Coverage::default() };
        c.per_day.insert("2026-11-28".into(), 1);
        c.per_day.insert("2026-11-29".into(), 2);
        c.covered_per_day.insert("2026-11-29".into(), 2);
        let write = |db: &SledStore, coverage: &Coverage, before: Option<Coverage>| {
            let w = LogWrite {
                new_keys: Vec::new(),
                erased: Vec::new(),
                hamlet: &hamlet,
                log: &log,
                changes: Some(Vec::new()),
                coverage: coverage.clone(),
                before,
                base: db.log_version(&hamlet).expect("version"),
            };
            db.commit_log(&w).expect("written");
        };
        {
            let db = SledStore::open(dir.path()).expect("open");
            db.put_hamlets(std::slice::from_ref(&record)).expect("hamlet");
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
        let db = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(db.coverage(&hamlet).expect("read"), c, "the day series were moved, not lost");
        assert!(db.coverage_headline(&hamlet).expect("read").per_day.is_empty());
    }

    #[test]
    fn a_log_is_appended_in_chunks_and_compacted_into_one_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SledStore::open(dir.path()).expect("open");
        let record = hamlet_record("x.a");
        db.put_hamlets(std::slice::from_ref(&record)).expect("hamlet");
        let mut log = db.load_log(&record.id).expect("load").expect("genesis");
        let author = tungnha_client_core::Author {
            user: UserId::parse("import").expect("id"),
            role: tungnha_client_core::Role::Admin,
        };
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis();
        let now = i64::try_from(now).expect("a time");
        for n in 0..COMPACT_AFTER + 3 {
            let before = log.heads();
            let form =
                tungnha_client_core::HouseholdForm { label: format!("Số {n}"), ..Default::default() };
            log.add_household(&author, &form, now).expect("added");
            let bytes: Vec<u8> =
                log.doc().get_changes(&before).iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
            let w = LogWrite {
                new_keys: Vec::new(),
                erased: Vec::new(),
                hamlet: &record.id,
                log: &log,
                changes: Some(bytes),
                coverage: Coverage::compute(&log),
                before: None,
                base: n,
            };
            db.commit_log(&w).expect("written");
            let chunks = db.next_chunk(&record.id).expect("chunks");
            assert!((1..=COMPACT_AFTER).contains(&chunks), "chunk numbers stay bounded: {chunks}");
        }
        assert_eq!(db.log_version(&record.id).expect("version"), COMPACT_AFTER + 3, "one version per write");
        // A write made on an older version is refused, and nothing moves.
        let mut behind = log.clone();
        behind
            .add_household(
                &author,
                &tungnha_client_core::HouseholdForm { label: "Muộn".into(), ..Default::default() },
                now,
            )
            .expect("added");
        let stale = LogWrite {
            new_keys: Vec::new(),
            erased: Vec::new(),
            hamlet: &record.id,
            log: &behind,
            changes: None,
            coverage: Coverage::compute(&behind),
            before: None,
            base: 2,
        };
        assert!(matches!(db.commit_log(&stale), Err(StoreError::Stale(_))));
        assert_eq!(db.load_log(&record.id).expect("load").expect("log").heads(), log.heads());
        let read = db.load_log(&record.id).expect("load").expect("log");
        assert_eq!(read.heads(), log.heads(), "every change was kept across the compaction");
        assert_eq!(db.next_chunk(&record.id).expect("chunks"), 4, "a snapshot and three chunks after it");
    }

    #[test]
    fn the_indexes_follow_their_records_and_are_built_for_old_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (c1, c2) = (CommuneId::parse("c1").expect("id"), CommuneId::parse("c2").expect("id"));
        let user = |id: &str, commune: &CommuneId| User {
            id: UserId::parse(id).expect("id"),
            name: id.into(),
            role: tungnha_client_core::Role::Volunteer,
            commune: Some(commune.clone()),
            province: None,
            password_hash: "!".into(),
            active: true,
        };
        let h = HamletId::parse("c1.a").expect("id");
        let event = |commune: &CommuneId| AuditEvent {
            at: 1,
            by: "x".into(),
            commune: Some(commune.clone()),
            action: "assign".into(),
            detail: String::new(),
        };
        {
            let db = SledStore::open(dir.path()).expect("open");
            db.put_users(&[user("lan", &c1), user("minh", &c1)]).expect("users");
            db.put_user(&user("minh", &c2)).expect("moved");
            db.assign(&UserId::parse("lan").expect("id"), &h).expect("assigned");
            db.audit(&event(&c1)).expect("audit");
            db.audit(&event(&c2)).expect("audit");
            let names = |v: Vec<User>| v.into_iter().map(|u| u.id.to_string()).collect::<Vec<_>>();
            assert_eq!(names(db.users_of(&c1).expect("users")), ["lan"]);
            assert_eq!(names(db.users_of(&c2).expect("users")), ["minh"]);
            assert_eq!(db.people_of(&h).expect("people").len(), 1);
            assert_eq!(db.audit_events_of(&c1, 10).expect("audit").len(), 1);
            db.unassign(&UserId::parse("lan").expect("id"), &h).expect("unassigned");
            assert!(db.people_of(&h).expect("people").is_empty());
            db.assign(&UserId::parse("lan").expect("id"), &h).expect("assigned");
            // A data directory from before the indexes: only the records.
            for tree in [&db.commune_users, &db.hamlet_users, &db.commune_audit, &db.meta] {
                tree.clear().expect("clear");
            }
            db.flush().expect("flush");
        }
        let db = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(db.users_of(&c1).expect("users").len(), 1);
        assert_eq!(db.people_of(&h).expect("people").len(), 1);
        assert_eq!(db.audit_events_of(&c2, 10).expect("audit").len(), 1);
    }

    #[test]
    fn a_communes_team_members_follow_its_teams_and_are_rebuilt_for_old_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = CommuneId::parse("c1").expect("id");
        let id = |s: &str| UserId::parse(s).expect("id");
        let team = |t: &str, members: &[&str]| Team {
            id: TeamId::parse(&format!("c1.{t}")).expect("id"),
            commune: c.clone(),
            name: t.into(),
            leaders: Vec::new(),
            members: members.iter().map(|m| id(m)).collect(),
            hamlets: Vec::new(),
        };
        {
            let db = SledStore::open(dir.path()).expect("open");
            db.put_team(&team("a", &["lan", "minh"])).expect("team");
            db.put_team(&team("b", &["minh", "hoa"])).expect("team");
            let m = db.commune_members(&c).expect("read");
            assert_eq!((m.teams, m.members), (2, vec![id("hoa"), id("lan"), id("minh")]));
            // Lan leaves team a: her teams index and the commune's record follow.
            db.put_team(&team("a", &["minh"])).expect("team");
            assert!(db.teams_of_user(&id("lan")).expect("read").is_empty());
            assert_eq!(db.teams_of_user(&id("minh")).expect("read").len(), 2);
            db.remove_team(&TeamId::parse("c1.b").expect("id")).expect("dissolved");
            assert_eq!(db.commune_members(&c).expect("read").members, [id("minh")]);
            // A data directory from before the indexes: only the records.
            for tree in [&db.user_teams, &db.commune_members, &db.meta] {
                tree.clear().expect("clear");
            }
            db.flush().expect("flush");
        }
        let db = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(db.commune_members(&c).expect("read").members, [id("minh")]);
        assert_eq!(db.teams_of_user(&id("minh")).expect("read").len(), 1);
    }

    #[test]
    fn a_sync_finishing_after_a_revocation_does_not_undo_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = SledStore::open(dir.path()).expect("open");
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
        assert_eq!(db.devices_of(&device.user).expect("devices").len(), 1);
        // The sync read the record before the revocation and commits after it.
        db.revoke_device(&device.id, 5, None).expect("revoked");
        let sync = crate::store::DeviceSync {
            device: &device.id,
            user: &device.user,
            commune: None,
            states: &[],
            listing: None,
        };
        let commit = SyncCommit { logs: &[], syncs: std::slice::from_ref(&sync), now: 7 };
        db.commit_sync(&commit).expect("committed");
        let now = db.device(&device.id).expect("read").expect("there");
        assert_eq!((now.revoked_at, now.last_sync_at), (Some(5), Some(7)));
        // Revoking again keeps the first time.
        db.revoke_device(&device.id, 9, None).expect("revoked");
        assert_eq!(db.device(&device.id).expect("read").expect("there").revoked_at, Some(5));
    }

    #[test]
    fn a_communes_totals_move_with_its_hamlets_and_are_rebuilt_for_old_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (hamlet_record("x.a"), hamlet_record("x.b"));
        let commune = a.commune.clone();
        let log = HamletLog::genesis(&a.id);
        let figures = |registered: u64, covered: u64, day: &str| {
            let mut c = Coverage { registered, covered, visits: covered, ..Coverage::default() };
            c.per_day.insert(day.into(), covered);
            c.covered_per_day.insert(day.into(), covered);
            c
        };
        let write = |db: &SledStore, h: &Hamlet, c: Coverage| {
            db.commit_log(&LogWrite {
                new_keys: Vec::new(),
                erased: Vec::new(),
                hamlet: &h.id,
                log: &log,
                changes: Some(Vec::new()),
                coverage: c,
                before: None,
                base: db.log_version(&h.id).expect("version"),
            })
            .expect("written");
        };
        let expected = {
            let db = SledStore::open(dir.path()).expect("open");
            db.put_hamlets(&[a.clone(), b.clone()]).expect("hamlets");
            write(&db, &a, figures(12, 4, "2026-11-29"));
            write(&db, &b, figures(3, 1, "2026-11-29"));
            write(&db, &a, figures(12, 5, "2026-11-30"));
            let mut taller = b.clone();
            taller.target_households = 40;
            db.put_hamlets(&[taller]).expect("target");
            let totals = db.commune_totals(&commune).expect("totals");
            // a: 12 listed, target 10 → 12 to cover; b: 3 listed, target 40 → 40.
            assert_eq!((totals.hamlets, totals.target, totals.to_cover), (2, 50, 52));
            assert_eq!((totals.coverage.registered, totals.coverage.covered), (15, 6));
            assert!(totals.coverage.per_day.is_empty(), "no day series in the record itself");
            let days = db.commune_days_from(&commune, "").expect("days");
            // The counts a dashboard reads are the whole records' counts.
            let counts = db.day_counts_from(DaysOf::Commune(&commune), "").expect("counts");
            let whole: Vec<(String, u64, u64)> =
                days.iter().map(|(d, f)| (d.clone(), f.visits, f.covered)).collect();
            assert_eq!(counts.into_iter().map(|(d, f)| (d, f.visits, f.covered)).collect::<Vec<_>>(), whole);
            let visits: Vec<(&str, u64)> = days.iter().map(|(d, f)| (d.as_str(), f.visits)).collect();
            assert_eq!(visits, [("2026-11-29", 1), ("2026-11-30", 5)], "a's day moved, b's stayed");
            // Attached to a province, the commune takes its days there; moved, it
            // takes them along.
            let (p1, p2) = (ProvinceId::parse("t1").expect("id"), ProvinceId::parse("t2").expect("id"));
            let mut record = Commune {
                erase_after_days: None,
                id: commune.clone(),
                name: "Xã".into(),
                kind: tungnha_client_core::domain::CommuneKind::Xa,
                catalogue: Default::default(),
                visits_from: None,
                province: Some(p1.clone()),
            };
            db.put_commune(&record).expect("attached");
            assert_eq!(db.province_days_from(&p1, "").expect("days"), days);
            write(&db, &b, figures(3, 2, "2026-11-29"));
            assert_eq!(
                db.province_days_from(&p1, "2026-11-29").expect("days")[0].1.visits,
                2,
                "writes reach it"
            );
            record.province = Some(p2.clone());
            db.put_commune(&record).expect("moved");
            assert!(db.province_days_from(&p1, "").expect("days").is_empty());
            assert_eq!(
                db.province_days_from(&p2, "").expect("days"),
                db.commune_days_from(&commune, "").expect("days")
            );
            // A data directory from before the totals: only the hamlets' own records.
            let totals = db.commune_totals(&commune).expect("totals");
            let province_days = db.province_days_from(&p2, "").expect("days");
            for tree in [&db.commune_totals, &db.commune_days, &db.province_days, &db.meta] {
                tree.clear().expect("clear");
            }
            db.flush().expect("flush");
            (totals, province_days, p2)
        };
        let (expected, province_days, p2) = expected;
        let db = SledStore::open(dir.path()).expect("reopen");
        assert_eq!(db.commune_totals(&commune).expect("totals"), expected);
        assert_eq!(db.commune_days_from(&commune, "").expect("days").len(), 2);
        assert_eq!(db.province_days_from(&p2, "").expect("days"), province_days, "rebuilt from the communes");
    }

    #[test]
    fn a_snapshot_torn_by_a_kill_does_not_keep_the_server_down() {
        let dir = tempfile::tempdir().expect("tempdir");
        let record = hamlet_record("x.a");
        {
            let db = SledStore::open(dir.path()).expect("open");
            db.put_hamlets(std::slice::from_ref(&record)).expect("hamlet");
        }
        std::fs::write(dir.path().join("snap.7FFFFFFFFFFFFFFF.generating"), b"half of a snapshot")
            .expect("torn snapshot");
        let db = SledStore::open(dir.path()).expect("the store opens all the same");
        assert!(db.hamlet(&record.id).expect("read").is_some());
    }
}
