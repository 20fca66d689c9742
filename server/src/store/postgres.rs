//! The PostgreSQL engine: `Store` on a PostgreSQL 15 database, for a province or a
//! nation that wants a replicated database and several server instances.
//!
//! Tables (`migrations/V1__initial.sql` and the migrations after it, applied at start-up by refinery, forward
//! only; a database that has a migration this binary does not know is refused) mirror
//! the sled engine's trees: records as JSON text beside the columns their scoped reads
//! need. Every write that must be one transaction is one; rows are locked where two
//! instances could race: a hamlet log's `log_heads` row (its next chunk number)
//! serialises work on one hamlet, a commune's `commune_totals` row its figures, its
//! `commune_members` row its teams, a device's row its record. Day sums of communes
//! and provinces move by `INSERT … ON CONFLICT DO UPDATE` arithmetic, so no two
//! instances ever insert the same new row. Connections come from an r2d2 pool.

use std::collections::BTreeMap;

use postgres::{GenericClient, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tungnha_client_core::coverage::DayWork;
use tungnha_client_core::sealed::{HouseholdKey, Keyring};
use tungnha_client_core::{
    CommuneId, Coverage, DeviceId, HamletId, HamletLog, History, HouseholdId, ProvinceId, TeamId, UserId,
};

use super::{
    COMPACT_AFTER, CommuneMembers, CommuneTotals, DayFigures, DaysOf, Erasure, LogWrite, Review,
    ReviewCommit, Rollover, Session, Store, StoreError, SyncCommit, SyncState, add_day_to, day_changes,
    days_of, headline, members_of, move_totals, secret_hash,
};
use crate::records::{
    ApiToken, AuditEvent, Campaign, Commune, Device, EnrolCode, FilingLevel, FilingMonth, Hamlet, Province,
    Team, User,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Connections kept open per server instance.
pub const POOL_SIZE: u32 = 16;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // The database's own words (its SQLSTATE and message) say what went wrong; the
        // driver's Display alone says only "db error".
        match e.as_db_error() {
            Some(db) => StoreError::Engine(format!("{} ({})", db.message(), db.code().code()).into()),
            None => StoreError::Engine(Box::new(e)),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

fn json<T: Serialize>(value: &T) -> String {
    // Our records serialize infallibly (no maps with non-string keys, no floats NaN).
    serde_json::to_string(value).unwrap_or_default()
}

fn parse<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Damaged { what, reason: e.to_string() })
}

/// The records in the first column of `rows`.
fn records<T: DeserializeOwned>(what: &'static str, rows: Vec<postgres::Row>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(|r| parse(what, r.get::<_, &str>(0))).collect()
}

/// A figure as PostgreSQL's BIGINT.
fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The day rows' columns beside `visits` and `covered` that hold a day's work, with
/// each one's value in a `DayWork` (the accounts per kind are the `accounts` JSONB).
const WORK: [&str; 7] =
    ["guided", "people", "filed", "walkins", "walkin_people", "walkin_accounts", "walkin_filed"];

fn work_values(w: &DayWork) -> [u64; 7] {
    [w.guided, w.people, w.filed, w.walkins, w.walkin_people, w.walkin_accounts, w.walkin_filed]
}

/// Day records of `owner` in `table` (`commune_days`, `province_days`, `coverage_days`,
/// keyed by `column`) from `from` on, oldest first, with their work.
fn days_in(
    db: &mut impl GenericClient,
    (table, column): (&str, &str),
    owner: &str,
    from: &str,
) -> Result<Vec<(String, DayFigures)>, StoreError> {
    let sql = format!(
        "SELECT day, visits, covered, {}, accounts::text FROM {table} WHERE {column} = $1 AND day >= $2 ORDER BY day",
        WORK.join(", ")
    );
    let n = |r: &postgres::Row, i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
    let mut out = Vec::new();
    for r in db.query(&sql, &[&owner, &from])? {
        let [guided, people, filed, walkins, walkin_people, walkin_accounts, walkin_filed] =
            std::array::from_fn(|i| n(&r, 3 + i));
        let work = DayWork {
            guided,
            people,
            filed,
            accounts: parse("day accounts", r.get::<_, &str>(3 + WORK.len()))?,
            walkins,
            walkin_people,
            walkin_accounts,
            walkin_filed,
        };
        out.push((r.get(0), DayFigures { visits: n(&r, 1), covered: n(&r, 2), work }));
    }
    Ok(out)
}

/// The server's PostgreSQL database.
pub struct PgStore {
    /// Always `Some` until dropped (see `Drop`).
    pool: Option<Pool>,
    /// A household was erased here since `household_keys` was last rewritten.
    erased_since_compaction: std::sync::atomic::AtomicBool,
}

impl Drop for PgStore {
    /// The synchronous driver closes a connection by blocking on its own runtime, which
    /// panics on a thread that drives async tasks (a server shutting down drops its
    /// state on one): the pool is dropped on a thread of its own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://…` or `host=… dbname=…`), applies the migrations
    /// this binary has and the database lacks, and refuses a database that has one
    /// this binary does not know (written by a newer server).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config: postgres::Config =
            url.parse().map_err(|e: postgres::Error| StoreError::Engine(Box::new(e)))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(manager)?;
        let mut conn = pool.get()?;
        embedded::migrations::runner()
            .set_abort_missing(true)
            .set_abort_divergent(true)
            .run(&mut *conn)
            .map_err(|e| StoreError::Engine(format!("the database's schema: {e}").into()))?;
        Ok(Self { pool: Some(pool), erased_since_compaction: Default::default() })
    }

    /// A pooled connection.
    fn connection(&self) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StoreError> {
        let pool = self.pool.as_ref().ok_or_else(|| StoreError::Engine("the store is closed".into()))?;
        Ok(pool.get()?)
    }

    /// Runs `f` in one transaction, committed when it returns `Ok`.
    fn tx<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.connection()?;
        let mut tx = conn.transaction()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs one statement's query on a pooled connection.
    fn query(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        Ok(self.connection()?.query(sql, params)?)
    }

    /// Runs one statement on a pooled connection.
    fn execute(&self, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<(), StoreError> {
        self.connection()?.execute(sql, params)?;
        Ok(())
    }

    /// The record in the first column of the one row `sql` finds, if any.
    fn one<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<T>, StoreError> {
        self.query(sql, params)?.first().map(|r| parse(what, r.get::<_, &str>(0))).transpose()
    }

    fn all<T: DeserializeOwned>(
        &self,
        what: &'static str,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<T>, StoreError> {
        records(what, self.query(sql, params)?)
    }

    /// Day records of `owner` in `table` (`commune_days`, `province_days`,
    /// `coverage_days`, keyed by `column`) from `from` on, oldest first.
    fn days(
        &self,
        table: &str,
        column: &str,
        owner: &str,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        days_in(&mut *self.connection()?, (table, column), owner, from)
    }

    /// Day rows of `owner` in `table` from `from` on, their counts only (not their work).
    fn day_counts(
        &self,
        table: &str,
        column: &str,
        owner: &str,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        let sql = format!(
            "SELECT day, visits, covered FROM {table} WHERE {column} = $1 AND day >= $2 ORDER BY day"
        );
        let count = |r: &postgres::Row, i| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
        Ok(self
            .query(&sql, &[&owner, &from])?
            .iter()
            .map(|r| {
                (r.get(0), DayFigures { visits: count(r, 1), covered: count(r, 2), work: DayWork::default() })
            })
            .collect())
    }

    fn last_day(&self, table: &str, column: &str, owner: &str) -> Result<Option<String>, StoreError> {
        let sql =
            format!("SELECT day FROM {table} WHERE {column} = $1 AND visits > 0 ORDER BY day DESC LIMIT 1");
        Ok(self.query(&sql, &[&owner])?.first().map(|r| r.get(0)))
    }
}

/// The stored headline figures of a hamlet, within a transaction.
fn headline_in(tx: &mut Transaction<'_>, hamlet: &str) -> Result<Coverage, StoreError> {
    match tx.query_opt("SELECT headline FROM coverage WHERE hamlet = $1", &[&hamlet])? {
        Some(r) => parse("coverage", r.get::<_, &str>(0)),
        None => Ok(Coverage::default()),
    }
}

/// A hamlet's coverage with its day series, within a transaction.
fn coverage_in(tx: &mut Transaction<'_>, hamlet: &str) -> Result<Coverage, StoreError> {
    let mut c = headline_in(tx, hamlet)?;
    for (day, f) in days_in(tx, ("coverage_days", "hamlet"), hamlet, "")? {
        add_day_to(&mut c, day, f);
    }
    Ok(c)
}

/// Moves a commune's totals (`move_totals`), its row locked for the transaction.
fn move_stored_totals(
    tx: &mut Transaction<'_>,
    commune: &str,
    figures: (&Coverage, &Coverage),
    targets: (u64, u64),
    hamlets: u64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO commune_totals (commune, totals) VALUES ($1, $2) ON CONFLICT (commune) DO NOTHING",
        &[&commune, &json(&CommuneTotals::default())],
    )?;
    let row = tx.query_one("SELECT totals FROM commune_totals WHERE commune = $1 FOR UPDATE", &[&commune])?;
    // Derived data: a record that does not read starts again from zero, and `admin
    // verify` names the commune.
    let mut totals: CommuneTotals = serde_json::from_str(row.get::<_, &str>(0)).unwrap_or_default();
    move_totals(&mut totals, figures, targets, hamlets);
    tx.execute("UPDATE commune_totals SET totals = $2 WHERE commune = $1", &[&commune, &json(&totals)])?;
    Ok(())
}

/// Moves one day sum of `owner` in `table` from part `was` to part `now`, as one
/// statement (so two instances adding the same new day never collide): every count
/// by arithmetic, the accounts key by key; then removes a sum that reaches zero.
fn move_stored_day(
    tx: &mut Transaction<'_>,
    (table, column): (&str, &str),
    owner: &str,
    day: &str,
    was: &DayFigures,
    now: &DayFigures,
) -> Result<(), StoreError> {
    let mut counts = vec!["visits", "covered"];
    counts.extend(WORK);
    let mut nows = vec![big(now.visits), big(now.covered)];
    nows.extend(work_values(&now.work).map(big));
    let mut wases = vec![big(was.visits), big(was.covered)];
    wases.extend(work_values(&was.work).map(big));
    // The accounts' change, per kind.
    let mut accounts: BTreeMap<&str, i64> = BTreeMap::new();
    for (k, n) in &now.work.accounts {
        *accounts.entry(k).or_default() += big(*n);
    }
    for (k, n) in &was.work.accounts {
        *accounts.entry(k).or_default() -= big(*n);
    }
    accounts.retain(|_, d| *d != 0);
    let delta = json(&accounts);
    // $1 owner, $2 day, then each count's now and was, then the accounts' change.
    let (now_at, was_at) = (|i: usize| 3 + 2 * i, |i: usize| 4 + 2 * i);
    let delta_at = 3 + 2 * counts.len();
    let summed = |base: &str| {
        format!(
            "(SELECT COALESCE(jsonb_object_agg(k, n), '{{}}'::jsonb) FROM (SELECT k, SUM(n) AS n FROM \
             (SELECT key AS k, value::bigint AS n FROM jsonb_each_text({base}) UNION ALL \
             SELECT key, value::bigint FROM jsonb_each_text(${delta_at}::text::jsonb)) AS parts GROUP BY k HAVING SUM(n) > 0) AS sums)"
        )
    };
    let inserted: Vec<String> = (0..counts.len())
        .map(|i| format!("GREATEST(${}::BIGINT - ${}::BIGINT, 0)", now_at(i), was_at(i)))
        .collect();
    let updated: Vec<String> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!("{c} = GREATEST({table}.{c} + ${}::BIGINT - ${}::BIGINT, 0)", now_at(i), was_at(i))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({column}, day, {}, accounts) VALUES ($1, $2, {}, {}) \
         ON CONFLICT ({column}, day) DO UPDATE SET {}, accounts = {}",
        counts.join(", "),
        inserted.join(", "),
        summed("'{}'::jsonb"),
        updated.join(", "),
        summed(&format!("{table}.accounts")),
    );
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&owner, &day];
    for (n, w) in nows.iter().zip(&wases) {
        params.push(n);
        params.push(w);
    }
    params.push(&delta);
    tx.execute(&sql, &params)?;
    let zero: Vec<String> = counts.iter().map(|c| format!("{c} = 0")).collect();
    let sql = format!(
        "DELETE FROM {table} WHERE {column} = $1 AND day = $2 AND {} AND accounts = '{{}}'::jsonb",
        zero.join(" AND ")
    );
    tx.execute(&sql, &[&owner, &day])?;
    Ok(())
}

/// Writes one hamlet log and its figures within a transaction: the chunk (or a
/// snapshot once the log has `COMPACT_AFTER` chunks) under the hamlet's locked head,
/// its headline and changed days, and its commune's and province's sums.
fn write_log(tx: &mut Transaction<'_>, w: &LogWrite<'_>) -> Result<(), StoreError> {
    let hamlet = w.hamlet.as_str();
    tx.execute(
        "INSERT INTO log_heads (hamlet, next_seq) VALUES ($1, 0) ON CONFLICT (hamlet) DO NOTHING",
        &[&hamlet],
    )?;
    let head =
        tx.query_one("SELECT next_seq, version FROM log_heads WHERE hamlet = $1 FOR UPDATE", &[&hamlet])?;
    let (next, version): (i64, i64) = (head.get(0), head.get(1));
    // Another instance wrote the log since this one's copy was loaded: nothing is
    // written, and the caller merges again on the stored log.
    if version != big(w.base) {
        return Err(StoreError::Stale(hamlet.to_owned()));
    }
    tx.execute("UPDATE log_heads SET version = $2 WHERE hamlet = $1", &[&hamlet, &(version + 1)])?;
    for (household, key, seq) in &w.new_keys {
        tx.execute(
            "INSERT INTO household_keys (hamlet, household, key, seq) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hamlet, household) DO NOTHING",
            &[&hamlet, &household.as_str(), &key.as_bytes().as_slice(), &big(*seq)],
        )?;
    }
    for (household, seq) in &w.erased {
        tx.execute(
            "INSERT INTO erased_households (hamlet, household, seq) VALUES ($1, $2, $3) \
             ON CONFLICT (hamlet, household) DO NOTHING",
            &[&hamlet, &household.as_str(), &big(*seq)],
        )?;
    }
    match &w.changes {
        Some(bytes) if next > 0 && (next as u64) < COMPACT_AFTER => {
            tx.execute(
                "INSERT INTO logs (hamlet, seq, bytes) VALUES ($1, $2, $3)",
                &[&hamlet, &next, bytes],
            )?;
            tx.execute("UPDATE log_heads SET next_seq = $2 WHERE hamlet = $1", &[&hamlet, &(next + 1)])?;
        }
        _ => {
            tx.execute("DELETE FROM logs WHERE hamlet = $1", &[&hamlet])?;
            tx.execute(
                "INSERT INTO logs (hamlet, seq, bytes) VALUES ($1, 0, $2)",
                &[&hamlet, &w.log.save()],
            )?;
            tx.execute("UPDATE log_heads SET next_seq = 1 WHERE hamlet = $1", &[&hamlet])?;
        }
    }
    let before = match &w.before {
        Some(before) => before.clone(),
        None => coverage_in(tx, hamlet)?,
    };
    tx.execute(
        "INSERT INTO coverage (hamlet, headline) VALUES ($1, $2) ON CONFLICT (hamlet) DO UPDATE SET headline = EXCLUDED.headline",
        &[&hamlet, &json(&headline(&w.coverage))],
    )?;
    let days = day_changes(&before, &w.coverage);
    for (day, figures) in &days {
        match figures {
            Some(f) => {
                let [a, b, c, d, e, g, h] = work_values(&f.work).map(big);
                tx.execute(
                    "INSERT INTO coverage_days (hamlet, day, visits, covered, guided, people, filed, walkins, \
                     walkin_people, walkin_accounts, walkin_filed, accounts) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb) \
                     ON CONFLICT (hamlet, day) DO UPDATE SET visits = EXCLUDED.visits, covered = EXCLUDED.covered, \
                     guided = EXCLUDED.guided, people = EXCLUDED.people, filed = EXCLUDED.filed, \
                     walkins = EXCLUDED.walkins, walkin_people = EXCLUDED.walkin_people, \
                     walkin_accounts = EXCLUDED.walkin_accounts, walkin_filed = EXCLUDED.walkin_filed, \
                     accounts = EXCLUDED.accounts",
                    &[&hamlet, day, &big(f.visits), &big(f.covered), &a, &b, &c, &d, &e, &g, &h, &json(&f.work.accounts)],
                )?
            }
            None => {
                tx.execute("DELETE FROM coverage_days WHERE hamlet = $1 AND day = $2", &[&hamlet, day])?
            }
        };
    }
    let row = tx.query_opt(
        "SELECT h.record, c.province FROM hamlets h LEFT JOIN communes c ON c.id = h.commune WHERE h.id = $1",
        &[&hamlet],
    )?;
    if let Some(row) = row {
        let h: Hamlet = parse("hamlet", row.get::<_, &str>(0))?;
        let province: Option<String> = row.get(1);
        let target = h.target_households;
        move_stored_totals(tx, h.commune.as_str(), (&before, &w.coverage), (target, target), 0)?;
        let old = days_of(&before);
        for (day, figures) in &days {
            let was = old.get(day.as_str()).cloned().unwrap_or_default();
            let now = figures.clone().unwrap_or_default();
            move_stored_day(tx, ("commune_days", "commune"), h.commune.as_str(), day, &was, &now)?;
            if let Some(p) = &province {
                move_stored_day(tx, ("province_days", "province"), p, day, &was, &now)?;
            }
        }
    }
    Ok(())
}

/// Writes (`Some`) or removes (`None`) team `id` of `commune`, its members, and the
/// commune's `CommuneMembers` (its row locked, so team writes of one commune never
/// interleave), in one transaction.
fn write_team(
    tx: &mut Transaction<'_>,
    id: &str,
    commune: &str,
    team: Option<&Team>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO commune_members (commune, record) VALUES ($1, $2) ON CONFLICT (commune) DO NOTHING",
        &[&commune, &json(&CommuneMembers::default())],
    )?;
    tx.query_one("SELECT record FROM commune_members WHERE commune = $1 FOR UPDATE", &[&commune])?;
    tx.execute("DELETE FROM team_members WHERE team = $1", &[&id])?;
    match team {
        Some(t) => {
            tx.execute(
                "INSERT INTO teams (id, commune, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
                &[&id, &commune, &json(t)],
            )?;
            for m in &t.members {
                tx.execute("INSERT INTO team_members (user_id, team) VALUES ($1, $2)", &[&m.as_str(), &id])?;
            }
        }
        None => {
            tx.execute("DELETE FROM teams WHERE id = $1", &[&id])?;
        }
    }
    let teams: Vec<Team> =
        records("team", tx.query("SELECT record FROM teams WHERE commune = $1", &[&commune])?)?;
    tx.execute(
        "UPDATE commune_members SET record = $2 WHERE commune = $1",
        &[&commune, &json(&members_of(teams.iter()))],
    )?;
    Ok(())
}

impl Store for PgStore {
    fn is_empty(&self) -> Result<bool, StoreError> {
        let row =
            self.query("SELECT EXISTS (SELECT 1 FROM communes) OR EXISTS (SELECT 1 FROM users)", &[])?;
        Ok(!row[0].get::<_, bool>(0))
    }

    // ---- provinces, communes and hamlets ----

    fn province(&self, id: &ProvinceId) -> Result<Option<Province>, StoreError> {
        self.one("province", "SELECT record FROM provinces WHERE id = $1", &[&id.as_str()])
    }

    fn put_province(&self, p: &Province) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO provinces (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
            &[&p.id.as_str(), &json(p)],
        )
    }

    fn all_provinces(&self) -> Result<Vec<Province>, StoreError> {
        self.all("province", "SELECT record FROM provinces ORDER BY id", &[])
    }

    fn communes_of(&self, province: &ProvinceId) -> Result<Vec<Commune>, StoreError> {
        self.all(
            "commune",
            "SELECT record FROM communes WHERE province = $1 ORDER BY id",
            &[&province.as_str()],
        )
    }

    fn commune(&self, id: &CommuneId) -> Result<Option<Commune>, StoreError> {
        self.one("commune", "SELECT record FROM communes WHERE id = $1", &[&id.as_str()])
    }

    fn put_commune(&self, c: &Commune) -> Result<(), StoreError> {
        self.tx(|tx| {
            let id = c.id.as_str();
            let old: Option<String> = tx
                .query_opt("SELECT province FROM communes WHERE id = $1 FOR UPDATE", &[&id])?
                .and_then(|r| r.get(0));
            let new = c.province.as_ref().map(|p| p.as_str().to_owned());
            tx.execute(
                "INSERT INTO communes (id, province, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET province = EXCLUDED.province, record = EXCLUDED.record",
                &[&id, &new, &json(c)],
            )?;
            // A commune that changes province takes its days with it.
            if old != new {
                let days = days_in(tx, ("commune_days", "commune"), id, "")?;
                let zero = DayFigures::default();
                for (day, f) in &days {
                    if let Some(p) = &old {
                        move_stored_day(tx, ("province_days", "province"), p, day, f, &zero)?;
                    }
                    if let Some(p) = &new {
                        move_stored_day(tx, ("province_days", "province"), p, day, &zero, f)?;
                    }
                }
            }
            Ok(())
        })
    }

    fn all_communes(&self) -> Result<Vec<Commune>, StoreError> {
        self.all("commune", "SELECT record FROM communes ORDER BY id", &[])
    }

    fn hamlet(&self, id: &HamletId) -> Result<Option<Hamlet>, StoreError> {
        self.one("hamlet", "SELECT record FROM hamlets WHERE id = $1", &[&id.as_str()])
    }

    fn hamlets_of(&self, commune: &CommuneId) -> Result<Vec<Hamlet>, StoreError> {
        self.all("hamlet", "SELECT record FROM hamlets WHERE commune = $1 ORDER BY id", &[&commune.as_str()])
    }

    fn all_hamlets(&self) -> Result<Vec<Hamlet>, StoreError> {
        self.all("hamlet", "SELECT record FROM hamlets ORDER BY id", &[])
    }

    fn put_hamlets(&self, hamlets: &[Hamlet]) -> Result<(), StoreError> {
        self.tx(|tx| {
            for h in hamlets {
                let id = h.id.as_str();
                let old: Option<Hamlet> = tx
                    .query_opt("SELECT record FROM hamlets WHERE id = $1 FOR UPDATE", &[&id])?
                    .map(|r| parse("hamlet", r.get::<_, &str>(0)))
                    .transpose()?;
                tx.execute(
                    "INSERT INTO hamlets (id, commune, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
                    &[&id, &h.commune.as_str(), &json(h)],
                )?;
                let fresh = tx
                    .execute("INSERT INTO log_heads (hamlet, next_seq) VALUES ($1, 1) ON CONFLICT (hamlet) DO NOTHING", &[&id])?
                    == 1;
                if fresh {
                    tx.execute("INSERT INTO logs (hamlet, seq, bytes) VALUES ($1, 0, $2)", &[&id, &HamletLog::genesis_of(&h.id, h.is_counter()).save()])?;
                    tx.execute(
                        "INSERT INTO coverage (hamlet, headline) VALUES ($1, $2) ON CONFLICT (hamlet) DO NOTHING",
                        &[&id, &json(&Coverage::default())],
                    )?;
                }
                let figures = headline_in(tx, id)?;
                let commune = h.commune.as_str();
                match old {
                    Some(old) if old.commune == h.commune => move_stored_totals(
                        tx,
                        commune,
                        (&figures, &figures),
                        (old.target_households, h.target_households),
                        0,
                    )?,
                    // A counter is no hamlet: it adds its walk-ins, not to the count.
                    _ => move_stored_totals(
                        tx,
                        commune,
                        (&Coverage::default(), &figures),
                        (0, h.target_households),
                        u64::from(!h.is_counter()),
                    )?,
                }
            }
            Ok(())
        })
    }

    // ---- people and assignments ----

    fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.one("user", "SELECT record FROM users WHERE id = $1", &[&id.as_str()])
    }

    fn put_users(&self, users: &[User]) -> Result<(), StoreError> {
        self.tx(|tx| {
            for u in users {
                tx.execute(
                    "INSERT INTO users (id, commune, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET commune = EXCLUDED.commune, record = EXCLUDED.record",
                    &[&u.id.as_str(), &u.commune.as_ref().map(|c| c.as_str()), &json(u)],
                )?;
            }
            Ok(())
        })
    }

    fn users_of(&self, commune: &CommuneId) -> Result<Vec<User>, StoreError> {
        self.all("user", "SELECT record FROM users WHERE commune = $1 ORDER BY id", &[&commune.as_str()])
    }

    fn all_users(&self) -> Result<Vec<User>, StoreError> {
        self.all("user", "SELECT record FROM users ORDER BY id", &[])
    }

    fn assign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO assignments (user_id, hamlet) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&user.as_str(), &hamlet.as_str()],
        )
    }

    fn unassign(&self, user: &UserId, hamlet: &HamletId) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM assignments WHERE user_id = $1 AND hamlet = $2",
            &[&user.as_str(), &hamlet.as_str()],
        )
    }

    fn assignments_of(&self, user: &UserId) -> Result<Vec<HamletId>, StoreError> {
        let rows = self
            .query("SELECT hamlet FROM assignments WHERE user_id = $1 ORDER BY hamlet", &[&user.as_str()])?;
        Ok(rows.iter().filter_map(|r| HamletId::parse(r.get::<_, &str>(0)).ok()).collect())
    }

    fn people_of(&self, hamlet: &HamletId) -> Result<Vec<UserId>, StoreError> {
        let rows = self.query(
            "SELECT user_id FROM assignments WHERE hamlet = $1 ORDER BY user_id",
            &[&hamlet.as_str()],
        )?;
        Ok(rows.iter().filter_map(|r| UserId::parse(r.get::<_, &str>(0)).ok()).collect())
    }

    // ---- teams ----

    fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError> {
        self.one("team", "SELECT record FROM teams WHERE id = $1", &[&id.as_str()])
    }

    fn put_team(&self, team: &Team) -> Result<(), StoreError> {
        self.tx(|tx| write_team(tx, team.id.as_str(), team.commune.as_str(), Some(team)))
    }

    fn remove_team(&self, id: &TeamId) -> Result<(), StoreError> {
        match self.team(id)? {
            Some(t) => self.tx(|tx| write_team(tx, id.as_str(), t.commune.as_str(), None)),
            None => Ok(()),
        }
    }

    fn teams_of(&self, commune: &CommuneId) -> Result<Vec<Team>, StoreError> {
        self.all("team", "SELECT record FROM teams WHERE commune = $1 ORDER BY id", &[&commune.as_str()])
    }

    fn teams_of_user(&self, user: &UserId) -> Result<Vec<Team>, StoreError> {
        self.all(
            "team",
            "SELECT t.record FROM team_members m JOIN teams t ON t.id = m.team WHERE m.user_id = $1 ORDER BY t.id",
            &[&user.as_str()],
        )
    }

    fn commune_members(&self, commune: &CommuneId) -> Result<CommuneMembers, StoreError> {
        Ok(self
            .one(
                "commune members",
                "SELECT record FROM commune_members WHERE commune = $1",
                &[&commune.as_str()],
            )?
            .unwrap_or_default())
    }

    fn last_syncs(&self, commune: &CommuneId) -> Result<BTreeMap<UserId, i64>, StoreError> {
        let rows =
            self.query("SELECT user_id, at FROM last_syncs WHERE commune = $1", &[&commune.as_str()])?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((UserId::parse(r.get::<_, &str>(0)).ok()?, r.get::<_, i64>(1))))
            .collect())
    }

    // ---- enrolment and devices ----

    fn put_enrol_code(&self, code: &str, record: &EnrolCode) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO enrol_codes (code_hash, record) VALUES ($1, $2) ON CONFLICT (code_hash) DO UPDATE SET record = EXCLUDED.record",
            &[&secret_hash(code), &json(record)],
        )
    }

    fn take_enrol_code(&self, code: &str) -> Result<Option<EnrolCode>, StoreError> {
        self.one(
            "enrolment code",
            "DELETE FROM enrol_codes WHERE code_hash = $1 RETURNING record",
            &[&secret_hash(code)],
        )
    }

    fn put_new_device(&self, d: &Device) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO devices (id, user_id, token_hash, actor, record) VALUES ($1, $2, $3, $4, $5)",
            &[&d.id.as_str(), &d.user.as_str(), &d.token_hash, &d.actor, &json(d)],
        )
    }

    fn actor_taken(&self, actor_hex: &str) -> Result<bool, StoreError> {
        Ok(!self.query("SELECT 1 FROM devices WHERE actor = $1", &[&actor_hex])?.is_empty())
    }

    fn revoke_device(
        &self,
        id: &DeviceId,
        now: i64,
        final_upload_until: Option<i64>,
    ) -> Result<Option<Device>, StoreError> {
        self.tx(|tx| {
            let Some(row) =
                tx.query_opt("SELECT record FROM devices WHERE id = $1 FOR UPDATE", &[&id.as_str()])?
            else {
                return Ok(None);
            };
            let mut d: Device = parse("device", row.get::<_, &str>(0))?;
            if d.revoked_at.is_none() {
                d.revoked_at = Some(now);
                d.final_upload_until = final_upload_until;
                tx.execute("UPDATE devices SET record = $2 WHERE id = $1", &[&id.as_str(), &json(&d)])?;
            }
            Ok(Some(d))
        })
    }

    fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        self.one("device", "SELECT record FROM devices WHERE id = $1", &[&id.as_str()])
    }

    fn device_by_token(&self, token: &str) -> Result<Option<Device>, StoreError> {
        self.one("device", "SELECT record FROM devices WHERE token_hash = $1", &[&secret_hash(token)])
    }

    fn devices_of(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        self.all("device", "SELECT record FROM devices WHERE user_id = $1 ORDER BY id", &[&user.as_str()])
    }

    fn all_devices(&self) -> Result<Vec<Device>, StoreError> {
        self.all("device", "SELECT record FROM devices ORDER BY id", &[])
    }

    // ---- API tokens ----

    fn put_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO api_tokens (id, token_hash, record) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
            &[&token.id, &token.token_hash, &json(token)],
        )
    }

    fn api_token_by_token(&self, token: &str) -> Result<Option<ApiToken>, StoreError> {
        self.one("api token", "SELECT record FROM api_tokens WHERE token_hash = $1", &[&secret_hash(token)])
    }

    fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.all("api token", "SELECT record FROM api_tokens ORDER BY id", &[])
    }

    // ---- monthly dossier statistics ----

    fn put_filings(&self, months: &[FilingMonth]) -> Result<(), StoreError> {
        self.tx(|tx| {
            for m in months {
                tx.execute(
                    "INSERT INTO filings (level, month, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (level, month) DO UPDATE SET record = EXCLUDED.record",
                    &[&m.level.key(), &m.month, &json(m)],
                )?;
            }
            Ok(())
        })
    }

    fn filings(&self, level: &FilingLevel) -> Result<Vec<FilingMonth>, StoreError> {
        self.all(
            "filing month",
            "SELECT record FROM filings WHERE level = $1 ORDER BY month",
            &[&level.key()],
        )
    }

    // ---- sign-in attempts ----

    fn reserve_sign_in(&self, user: &UserId, now: i64, window_ms: i64, max: u32) -> Result<bool, StoreError> {
        self.tx(|tx| {
            let id = user.as_str();
            tx.execute(
                "INSERT INTO sign_ins (user_id, count, since) VALUES ($1, 0, $2) ON CONFLICT (user_id) DO NOTHING",
                &[&id, &now],
            )?;
            let row = tx.query_one("SELECT count, since FROM sign_ins WHERE user_id = $1 FOR UPDATE", &[&id])?;
            let (mut count, mut since): (i32, i64) = (row.get(0), row.get(1));
            if now - since >= window_ms {
                (count, since) = (0, now);
            }
            let granted = u32::try_from(count).unwrap_or(u32::MAX) < max;
            let count = if granted { count + 1 } else { count };
            tx.execute("UPDATE sign_ins SET count = $2, since = $3 WHERE user_id = $1", &[&id, &count, &since])?;
            Ok(granted)
        })
    }

    fn clear_sign_ins(&self, user: &UserId) -> Result<(), StoreError> {
        self.execute("DELETE FROM sign_ins WHERE user_id = $1", &[&user.as_str()])
    }

    // ---- web sessions ----

    fn put_session(&self, token: &str, session: &Session) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO sessions (token_hash, user_id, record) VALUES ($1, $2, $3) \
             ON CONFLICT (token_hash) DO UPDATE SET record = EXCLUDED.record",
            &[&secret_hash(token), &session.user.as_str(), &json(session)],
        )
    }

    fn session(&self, token: &str, now: i64) -> Result<Option<Session>, StoreError> {
        let key = secret_hash(token);
        let Some(session) =
            self.one::<Session>("session", "SELECT record FROM sessions WHERE token_hash = $1", &[&key])?
        else {
            return Ok(None);
        };
        if session.expires_at <= now {
            self.execute("DELETE FROM sessions WHERE token_hash = $1", &[&key])?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    fn remove_session(&self, token: &str) -> Result<(), StoreError> {
        self.execute("DELETE FROM sessions WHERE token_hash = $1", &[&secret_hash(token)])
    }

    fn remove_sessions_of(&self, user: &UserId) -> Result<(), StoreError> {
        self.execute("DELETE FROM sessions WHERE user_id = $1", &[&user.as_str()])
    }

    // ---- audit ----

    fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO audit (commune, record) VALUES ($1, $2)",
            &[&event.commune.as_ref().map(|c| c.as_str()), &json(event)],
        )
    }

    fn audit_events(&self, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        self.all("audit event", "SELECT record FROM audit ORDER BY id DESC LIMIT $1", &[&big(limit as u64)])
    }

    fn audit_events_of(&self, commune: &CommuneId, limit: usize) -> Result<Vec<AuditEvent>, StoreError> {
        self.all(
            "audit event",
            "SELECT record FROM audit WHERE commune = $1 ORDER BY id DESC LIMIT $2",
            &[&commune.as_str(), &big(limit as u64)],
        )
    }

    // ---- hamlet logs, coverage, sync states ----

    fn load_log_versioned(&self, hamlet: &HamletId) -> Result<Option<(HamletLog, u64)>, StoreError> {
        // The version and the chunks from one snapshot of the database.
        let mut conn = self.connection()?;
        let mut tx =
            conn.build_transaction().isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
        let version = tx
            .query_opt("SELECT version FROM log_heads WHERE hamlet = $1", &[&hamlet.as_str()])?
            .map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0));
        let rows = tx.query("SELECT bytes FROM logs WHERE hamlet = $1 ORDER BY seq", &[&hamlet.as_str()])?;
        let keys = tx
            .query("SELECT household, key, seq FROM household_keys WHERE hamlet = $1", &[&hamlet.as_str()])?;
        let erased =
            tx.query("SELECT household, seq FROM erased_households WHERE hamlet = $1", &[&hamlet.as_str()])?;
        tx.commit()?;
        if rows.is_empty() {
            return Ok(None);
        }
        let chunks: Vec<&[u8]> = rows.iter().map(|r| r.get::<_, &[u8]>(0)).collect();
        let log = HamletLog::load_chunks(chunks)
            .map_err(|e| StoreError::Damaged { what: "hamlet log", reason: format!("{hamlet}: {e}") })?;
        let damaged = || StoreError::Damaged { what: "household key", reason: hamlet.to_string() };
        let seq = |r: &postgres::Row, i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
        let mut ring = Keyring::default();
        for r in &keys {
            let household = HouseholdId::parse(r.get::<_, &str>(0)).map_err(|_| damaged())?;
            let key = HouseholdKey::from_slice(r.get::<_, &[u8]>(1)).ok_or_else(damaged)?;
            ring.insert(household, key, seq(r, 2));
        }
        for r in &erased {
            let household = HouseholdId::parse(r.get::<_, &str>(0)).map_err(|_| damaged())?;
            ring.erase(household, seq(r, 1));
        }
        Ok(Some((log.with_keys(ring), version)))
    }

    fn log_version(&self, hamlet: &HamletId) -> Result<u64, StoreError> {
        let rows = self.query("SELECT version FROM log_heads WHERE hamlet = $1", &[&hamlet.as_str()])?;
        Ok(rows.first().map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn commit_sync(&self, c: &SyncCommit<'_>) -> Result<(), StoreError> {
        self.tx(|tx| {
            for l in c.syncs.iter().filter_map(|d| d.listing) {
                let (user, day) = (l.user.as_str(), l.day.as_str());
                tx.execute(
                    "INSERT INTO listed (user_id, day, count) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                    &[&user, &day],
                )?;
                let already: i64 = tx
                    .query_one(
                        "SELECT count FROM listed WHERE user_id = $1 AND day = $2 FOR UPDATE",
                        &[&user, &day],
                    )?
                    .get(0);
                let already = u64::try_from(already).unwrap_or(0);
                if already + l.count > l.limit {
                    return Err(StoreError::TooManyListed { already, limit: l.limit });
                }
                tx.execute(
                    "UPDATE listed SET count = $3 WHERE user_id = $1 AND day = $2",
                    &[&user, &day, &big(already + l.count)],
                )?;
            }
            for w in c.logs {
                write_log(tx, w)?;
            }
            for d in c.syncs {
                for (hamlet, heads) in d.states {
                    let state = SyncState { heads: heads.iter().map(|x| x.to_string()).collect(), at: c.now };
                    tx.execute(
                        "INSERT INTO sync_states (device, hamlet, state) VALUES ($1, $2, $3) \
                         ON CONFLICT (device, hamlet) DO UPDATE SET state = EXCLUDED.state",
                        &[&d.device.as_str(), &hamlet.as_str(), &json(&state)],
                    )?;
                }
                // The device's record, locked: a revocation meanwhile stands.
                if let Some(row) = tx
                    .query_opt("SELECT record FROM devices WHERE id = $1 FOR UPDATE", &[&d.device.as_str()])?
                {
                    let mut r: Device = parse("device", row.get::<_, &str>(0))?;
                    r.last_sync_at = Some(c.now);
                    // A revoked device's final upload is spent.
                    if r.revoked_at.is_some() {
                        r.final_upload_until = None;
                    }
                    tx.execute(
                        "UPDATE devices SET record = $2 WHERE id = $1",
                        &[&d.device.as_str(), &json(&r)],
                    )?;
                }
                if let Some(commune) = d.commune {
                    tx.execute(
                        "INSERT INTO last_syncs (commune, user_id, at) VALUES ($1, $2, $3) \
                         ON CONFLICT (commune, user_id) DO UPDATE SET at = EXCLUDED.at",
                        &[&commune.as_str(), &d.user.as_str(), &c.now],
                    )?;
                }
            }
            Ok(())
        })
    }

    fn commit_review(&self, c: &ReviewCommit<'_>) -> Result<(), StoreError> {
        self.tx(|tx| {
            if let Some(w) = c.log {
                write_log(tx, w)?;
            }
            for id in c.confirmed {
                tx.execute(
                    "INSERT INTO reviewed (hamlet, household, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (hamlet, household) DO UPDATE SET record = EXCLUDED.record",
                    &[&c.hamlet.as_str(), &id.as_str(), &json(c.review)],
                )?;
            }
            tx.execute(
                "INSERT INTO audit (commune, record) VALUES ($1, $2)",
                &[&c.event.commune.as_ref().map(|c| c.as_str()), &json(c.event)],
            )?;
            Ok(())
        })
    }

    fn commit_log(&self, w: &LogWrite<'_>) -> Result<(), StoreError> {
        self.tx(|tx| write_log(tx, w))
    }

    fn put_campaign(&self, campaign: &Campaign) -> Result<(), StoreError> {
        self.connection()?.execute(
            "INSERT INTO campaigns (commune, number, record) VALUES ($1, $2, $3) \
             ON CONFLICT (commune, number) DO UPDATE SET record = EXCLUDED.record",
            &[&campaign.commune.as_str(), &i64::from(campaign.number), &json(campaign)],
        )?;
        Ok(())
    }

    fn campaigns_of(&self, commune: &CommuneId) -> Result<Vec<Campaign>, StoreError> {
        let rows = self
            .connection()?
            .query("SELECT record FROM campaigns WHERE commune = $1 ORDER BY number", &[&commune.as_str()])?;
        records("campaign", rows)
    }

    fn roll_over(&self, r: &Rollover<'_>) -> Result<(), StoreError> {
        let hamlet = r.write.hamlet.as_str();
        self.tx(|tx| {
            write_log(tx, &r.write)?;
            tx.execute(
                "INSERT INTO archived_logs (hamlet, generation, bytes) VALUES ($1, $2, $3) \
                 ON CONFLICT (hamlet, generation) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[&hamlet, &big(r.generation), &r.archived],
            )?;
            tx.execute(
                "INSERT INTO hamlet_history (hamlet, history) VALUES ($1, $2) \
                 ON CONFLICT (hamlet) DO UPDATE SET history = EXCLUDED.history",
                &[&hamlet, &json(r.history)],
            )?;
            tx.execute(
                "INSERT INTO audit (commune, record) VALUES ($1, $2)",
                &[&r.event.commune.as_ref().map(|c| c.as_str()), &json(r.event)],
            )?;
            Ok(())
        })
    }

    fn history(&self, hamlet: &HamletId) -> Result<History, StoreError> {
        let row = self
            .connection()?
            .query_opt("SELECT history FROM hamlet_history WHERE hamlet = $1", &[&hamlet.as_str()])?;
        row.map_or_else(|| Ok(History::default()), |r| parse("hamlet history", r.get::<_, &str>(0)))
    }

    fn archived_generations(&self, hamlet: &HamletId) -> Result<Vec<u64>, StoreError> {
        let rows = self.connection()?.query(
            "SELECT generation FROM archived_logs WHERE hamlet = $1 ORDER BY generation",
            &[&hamlet.as_str()],
        )?;
        Ok(rows.iter().map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)).collect())
    }

    fn archived_log(&self, hamlet: &HamletId, generation: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self.connection()?.query_opt(
            "SELECT bytes FROM archived_logs WHERE hamlet = $1 AND generation = $2",
            &[&hamlet.as_str(), &big(generation)],
        )?;
        Ok(row.map(|r| r.get::<_, Vec<u8>>(0)))
    }

    fn put_archive(
        &self,
        hamlet: &HamletId,
        archived: &[(u64, Vec<u8>)],
        history: &History,
    ) -> Result<(), StoreError> {
        let hamlet = hamlet.as_str();
        self.tx(|tx| {
            for (generation, bytes) in archived {
                tx.execute(
                    "INSERT INTO archived_logs (hamlet, generation, bytes) VALUES ($1, $2, $3) \
                     ON CONFLICT (hamlet, generation) DO UPDATE SET bytes = EXCLUDED.bytes",
                    &[&hamlet, &big(*generation), bytes],
                )?;
            }
            tx.execute(
                "INSERT INTO hamlet_history (hamlet, history) VALUES ($1, $2) \
                 ON CONFLICT (hamlet) DO UPDATE SET history = EXCLUDED.history",
                &[&hamlet, &json(history)],
            )?;
            Ok(())
        })
    }

    fn erase_household(&self, e: &Erasure<'_>) -> Result<(), StoreError> {
        let hamlet = e.hamlet.as_str();
        self.tx(|tx| {
            let version: i64 = tx
                .query_opt("SELECT version FROM log_heads WHERE hamlet = $1 FOR UPDATE", &[&hamlet])?
                .map_or(0, |r| r.get(0));
            if version != big(e.base) {
                return Err(StoreError::Stale(hamlet.to_owned()));
            }
            tx.execute("UPDATE log_heads SET version = $2 WHERE hamlet = $1", &[&hamlet, &(version + 1)])?;
            tx.execute(
                "DELETE FROM household_keys WHERE hamlet = $1 AND household = $2",
                &[&hamlet, &e.household.as_str()],
            )?;
            tx.execute(
                "INSERT INTO erased_households (hamlet, household, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (hamlet, household) DO NOTHING",
                &[&hamlet, &e.household.as_str(), &big(e.seq)],
            )?;
            tx.execute(
                "INSERT INTO audit (commune, record) VALUES ($1, $2)",
                &[&e.event.commune.as_ref().map(|c| c.as_str()), &json(e.event)],
            )?;
            Ok(())
        })?;
        self.erased_since_compaction.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn compact_erased(&self) -> Result<(), StoreError> {
        if !self.erased_since_compaction.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        // The deleted rows' bytes leave the table's files only when it is rewritten.
        // (The write-ahead log keeps them until its segments are recycled.)
        if let Err(e) = self.connection()?.batch_execute("VACUUM FULL household_keys") {
            self.erased_since_compaction.store(true, std::sync::atomic::Ordering::SeqCst);
            return Err(e.into());
        }
        Ok(())
    }

    fn coverage(&self, hamlet: &HamletId) -> Result<Coverage, StoreError> {
        let mut conn = self.connection()?;
        let mut tx = conn.transaction()?;
        let c = coverage_in(&mut tx, hamlet.as_str())?;
        tx.commit()?;
        Ok(c)
    }

    fn commune_totals(&self, commune: &CommuneId) -> Result<CommuneTotals, StoreError> {
        Ok(self
            .one(
                "commune totals",
                "SELECT totals FROM commune_totals WHERE commune = $1",
                &[&commune.as_str()],
            )?
            .unwrap_or_default())
    }

    fn day_counts_from(&self, of: DaysOf<'_>, from: &str) -> Result<Vec<(String, DayFigures)>, StoreError> {
        match of {
            DaysOf::Hamlet(h) => self.day_counts("coverage_days", "hamlet", h.as_str(), from),
            DaysOf::Commune(c) => self.day_counts("commune_days", "commune", c.as_str(), from),
            DaysOf::Province(p) => self.day_counts("province_days", "province", p.as_str(), from),
        }
    }

    fn commune_days_from(
        &self,
        commune: &CommuneId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        self.days("commune_days", "commune", commune.as_str(), from)
    }

    fn province_days_from(
        &self,
        province: &ProvinceId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        self.days("province_days", "province", province.as_str(), from)
    }

    fn commune_last_day(&self, commune: &CommuneId) -> Result<Option<String>, StoreError> {
        self.last_day("commune_days", "commune", commune.as_str())
    }

    fn coverage_headline(&self, hamlet: &HamletId) -> Result<Coverage, StoreError> {
        Ok(self
            .one("coverage", "SELECT headline FROM coverage WHERE hamlet = $1", &[&hamlet.as_str()])?
            .unwrap_or_default())
    }

    fn last_visit_day(&self, hamlet: &HamletId) -> Result<Option<String>, StoreError> {
        self.last_day("coverage_days", "hamlet", hamlet.as_str())
    }

    fn coverage_days_from(
        &self,
        hamlet: &HamletId,
        from: &str,
    ) -> Result<Vec<(String, DayFigures)>, StoreError> {
        self.days("coverage_days", "hamlet", hamlet.as_str(), from)
    }

    fn listed(&self, user: &UserId, day: &str) -> Result<u64, StoreError> {
        let rows =
            self.query("SELECT count FROM listed WHERE user_id = $1 AND day = $2", &[&user.as_str(), &day])?;
        Ok(rows.first().map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn reviewed(&self, hamlet: &HamletId) -> Result<BTreeMap<HouseholdId, Review>, StoreError> {
        let rows =
            self.query("SELECT household, record FROM reviewed WHERE hamlet = $1", &[&hamlet.as_str()])?;
        let mut out = BTreeMap::new();
        for r in rows {
            if let Ok(id) = HouseholdId::parse(r.get::<_, &str>(0)) {
                out.insert(id, parse("review", r.get::<_, &str>(1))?);
            }
        }
        Ok(out)
    }

    // ---- moving a whole store ----

    fn put_reviews(
        &self,
        hamlet: &HamletId,
        reviews: &BTreeMap<HouseholdId, Review>,
    ) -> Result<(), StoreError> {
        self.tx(|tx| {
            for (id, review) in reviews {
                tx.execute(
                    "INSERT INTO reviewed (hamlet, household, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (hamlet, household) DO UPDATE SET record = EXCLUDED.record",
                    &[&hamlet.as_str(), &id.as_str(), &json(review)],
                )?;
            }
            Ok(())
        })
    }

    fn put_last_sync(&self, commune: &CommuneId, user: &UserId, at: i64) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO last_syncs (commune, user_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT (commune, user_id) DO UPDATE SET at = EXCLUDED.at",
            &[&commune.as_str(), &user.as_str(), &at],
        )
    }
}
