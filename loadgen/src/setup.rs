//! Setting up a data directory for a workload, through the same admin functions an
//! operator runs: a commune, its hamlets and households, one volunteer per simulated
//! device (imported in bulk), an official, assignments and enrolment codes. For the
//! long campaign, one hamlet log is grown to its starting size first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::{Author, HamletId, HouseholdId, Outcome, Role, UserId, VisitForm};
use tungnha_server::service::{ServiceError, accounts, audit, enrolment, imports, organisation};
use tungnha_server::store::Store;

/// The official `canbo`'s web password.
pub const OFFICIAL_PASSWORD: &str = "tai-thu-dashboard";

/// The commune every workload uses.
pub const COMMUNE: &str = "p-load";

/// What to set up.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Hamlets in the commune.
    pub hamlets: usize,
    /// Households listed per hamlet.
    pub households: usize,
    /// Simulated devices, one volunteer each, spread over the hamlets.
    pub devices: usize,
    /// Visits already in the logs before the devices start.
    pub seed_visits: usize,
    /// Spread the seeded visits over every hamlet (else all go to the first).
    pub seed_everywhere: bool,
    /// Roll the seeded logs over to their successors once seeded (a campaign closed).
    pub rollover: bool,
}

/// A device-to-be: its user, hamlet and enrolment code.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The volunteer.
    pub user: UserId,
    /// Their hamlet.
    pub hamlet: HamletId,
    /// Their code.
    pub code: String,
}

/// A prepared data directory.
pub struct Prepared {
    /// The directory.
    pub data: PathBuf,
    /// Keeps a temporary directory alive (removed on drop); `None` for one the
    /// operator named.
    _temp: Option<tempfile::TempDir>,
    /// One per simulated device.
    pub enrolments: Vec<Enrolment>,
    /// The official's code, for reading the commune's coverage.
    pub official_code: String,
    /// Visits seeded before the run.
    pub seeded_visits: u64,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sets up a fresh data directory for `plan`: `dir` if given (it must not hold a
/// database yet), else a temporary one; or the empty PostgreSQL `database`.
pub fn prepare(plan: &Plan, dir: Option<&Path>, database: Option<&str>) -> Result<Prepared, String> {
    let (data, temp) = match dir {
        Some(dir) => {
            if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
                return Err(format!("{} is not empty: prepare into a new directory", dir.display()));
            }
            (dir.to_path_buf(), None)
        }
        None => {
            let temp = tempfile::tempdir().map_err(err)?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    let db = match database {
        Some(url) => tungnha_server::store::connect(url).map_err(err)?,
        None => tungnha_server::store::open(&data).map_err(err)?,
    };
    if !db.is_empty().map_err(err)? {
        return Err("the database is not empty: load into a new one".into());
    }
    organisation::commune_add(db.as_ref(), audit::CLI, COMMUNE, "Xã Thử Tải", CommuneKind::Xa)
        .map_err(err)?;
    let mut csv = String::from("code,name,kind,target_households\n");
    for i in 0..plan.hamlets {
        let _ = writeln!(csv, "th-{i},Thôn {i},thon,{}", plan.households);
    }
    let hamlets: Vec<HamletId> = imports::hamlets_import(db.as_ref(), audit::CLI, COMMUNE, csv.as_bytes())
        .map_err(err)?
        .into_iter()
        .map(|h| h.id)
        .collect();
    for h in &hamlets {
        let mut rows = String::from("label,head,members\n");
        for n in 0..plan.households {
            let _ = writeln!(rows, "\"Số {}, ngõ {}\",,{}", n % 50 + 1, n / 50 + 1, n % 6 + 1);
        }
        imports::households_import(db.as_ref(), audit::CLI, h.as_str(), rows.as_bytes()).map_err(err)?;
    }
    let mut users = String::from("username,name,role\ncanbo,Cán bộ xã,official\nseed,Người gieo,volunteer\n");
    for i in 0..plan.devices {
        let _ = writeln!(users, "tnv{i},Tình nguyện viên {i},volunteer");
    }
    imports::users_import(db.as_ref(), audit::CLI, COMMUNE, users.as_bytes()).map_err(err)?;
    let mut enrolments = Vec::with_capacity(plan.devices);
    for i in 0..plan.devices {
        let user = format!("tnv{i}");
        let hamlet = hamlets[i % hamlets.len()].clone();
        organisation::assign(db.as_ref(), audit::CLI, &user, hamlet.as_str()).map_err(err)?;
        let code = enrolment::enrol_code(db.as_ref(), &user, 86_400_000).map_err(err)?;
        enrolments.push(Enrolment { user: UserId::parse(&user).map_err(err)?, hamlet, code });
    }
    let official_code = enrolment::enrol_code(db.as_ref(), "canbo", 86_400_000).map_err(err)?;
    // The official also signs in on the web, to time the commune dashboard page.
    accounts::set_password(db.as_ref(), audit::CLI, &UserId::parse("canbo").map_err(err)?, OFFICIAL_PASSWORD)
        .map_err(err)?;
    if plan.seed_visits > 0 && plan.seed_everywhere {
        for (i, h) in hamlets.iter().enumerate() {
            let share = plan.seed_visits / hamlets.len() + usize::from(i < plan.seed_visits % hamlets.len());
            seed(db.as_ref(), h, share)?;
        }
    } else if plan.seed_visits > 0 {
        seed(db.as_ref(), &hamlets[0], plan.seed_visits)?;
    }
    if plan.rollover {
        let state = tungnha_server::AppState::with_store(
            db.clone(),
            tungnha_server::config::Config::new(data.clone()),
        );
        for h in &hamlets {
            tungnha_server::service::rollover::roll_over(
                &state,
                audit::CLI,
                h,
                "loadgen",
                None,
                tungnha_server::now_ms(),
            )
            .map_err(err)?;
        }
    }
    Ok(Prepared { data, _temp: temp, enrolments, official_code, seeded_visits: plan.seed_visits as u64 })
}

/// The province `province_dashboard` sets up.
pub const PROVINCE: &str = "t-load";

/// Teams per commune in `prepare_province` (170 × 3 ≈ the 503 one province announced).
pub const TEAMS_PER_COMMUNE: usize = 3;
/// People per team: a leader and five volunteers (≈ 3,000 members in a province).
pub const TEAM_SIZE: usize = 6;

/// Sets up a province of `communes` communes holding `hamlets` hamlets between them,
/// `households` households each and `visits` visits spread over every hamlet; in each
/// commune `TEAMS_PER_COMMUNE` teams of `TEAM_SIZE` people sharing its hamlets, half of
/// whom synced today; and a province officer `canbotinh` (web password
/// `OFFICIAL_PASSWORD`). Returns the temporary data directory.
pub fn prepare_province(
    communes: usize,
    hamlets: usize,
    households: usize,
    visits: usize,
) -> Result<tempfile::TempDir, String> {
    let temp = tempfile::tempdir().map_err(err)?;
    let db = tungnha_server::store::open(temp.path()).map_err(err)?;
    let db = db.as_ref();
    organisation::province_add(db, audit::CLI, PROVINCE, "Tỉnh Thử Tải").map_err(err)?;
    let mut rows = String::from("label,head,members\n");
    for n in 0..households {
        let _ = writeln!(rows, "\"Số {}, ngõ {}\",,{}", n % 50 + 1, n / 50 + 1, n % 6 + 1);
    }
    let mut seeded = 0;
    let mut made = 0;
    for c in 0..communes {
        let code = format!("x-load-{c}");
        organisation::commune_add(db, audit::CLI, &code, &format!("Xã Thử {c}"), CommuneKind::Xa)
            .map_err(err)?;
        organisation::attach_commune(db, audit::CLI, &code, PROVINCE).map_err(err)?;
        let share = hamlets / communes + usize::from(c < hamlets % communes);
        let mut csv = String::from("code,name,kind,target_households\n");
        for i in 0..share {
            let _ = writeln!(csv, "th-{i},Thôn {i},thon,{households}");
        }
        let made_hamlets = imports::hamlets_import(db, audit::CLI, &code, csv.as_bytes()).map_err(err)?;
        for h in &made_hamlets {
            imports::households_import(db, audit::CLI, h.id.as_str(), rows.as_bytes()).map_err(err)?;
            let share = visits / hamlets + usize::from(made < visits % hamlets);
            seed(db, &h.id, share)?;
            seeded += share;
            made += 1;
        }
        teams(db, &code, c, &made_hamlets)?;
    }
    accounts::province_officer_add(db, audit::CLI, "canbotinh", PROVINCE, None, Some(OFFICIAL_PASSWORD))
        .map_err(err)?;
    if seeded != visits {
        return Err(format!("seeded {seeded} visits of {visits}"));
    }
    Ok(temp)
}

/// A commune's teams for `prepare_province`: people imported in bulk, teams imported
/// from CSV with the hamlets dealt out among them, and half the people's last sync.
fn teams(
    db: &dyn Store,
    commune: &str,
    c: usize,
    hamlets: &[tungnha_server::records::Hamlet],
) -> Result<(), String> {
    let mut people = String::from("username,name,role\n");
    let mut teams = String::from("name,hamlets,leaders,members\n");
    let mut synced = Vec::new();
    for t in 0..TEAMS_PER_COMMUNE {
        let user = |i: usize| format!("u{c}-{t}-{i}");
        for i in 0..TEAM_SIZE {
            let role = if i == 0 { "leader" } else { "volunteer" };
            let _ = writeln!(people, "{},Người {c} {t} {i},{role}", user(i));
            if i % 2 == 0 {
                synced.push(user(i));
            }
        }
        let mine: Vec<&str> =
            hamlets.iter().skip(t).step_by(TEAMS_PER_COMMUNE).map(|h| h.code.as_str()).collect();
        let members: Vec<String> = (1..TEAM_SIZE).map(user).collect();
        let _ = writeln!(teams, "Tổ {t},{},{},{}", mine.join(" "), user(0), members.join(" "));
    }
    imports::users_import(db, audit::CLI, commune, people.as_bytes()).map_err(err)?;
    let id = tungnha_client_core::CommuneId::parse(commune).map_err(err)?;
    tungnha_server::service::teams::teams_import(db, audit::CLI, &id, teams.as_bytes()).map_err(err)?;
    // A sync with nothing in it stamps the person's last sync, as a real one does.
    let now = tungnha_server::now_ms();
    for user in synced {
        let user = UserId::parse(&user).map_err(err)?;
        let device = tungnha_client_core::DeviceId::parse(&format!("d-{user}")).map_err(err)?;
        let sync = tungnha_server::store::DeviceSync {
            device: &device,
            user: &user,
            commune: Some(&id),
            states: &[],
            listing: None,
        };
        db.commit_sync(&tungnha_server::store::SyncCommit { logs: &[], syncs: &[sync], now }).map_err(err)?;
    }
    Ok(())
}

/// The file in a prepared directory that tells a later `--url` run what was set up.
pub const MANIFEST: &str = "loadgen.json";

impl Prepared {
    /// Writes the manifest a `--url` run reads: the enrolment codes, the official's
    /// code and the visits each device will log. Codes work once: one run per
    /// prepared directory.
    pub fn write_manifest(&self, visits: usize) -> Result<(), String> {
        let enrolments: Vec<serde_json::Value> = self
            .enrolments
            .iter()
            .map(|e| serde_json::json!({"user": e.user, "hamlet": e.hamlet, "code": e.code}))
            .collect();
        let manifest = serde_json::json!({
            "visits": visits,
            "seeded_visits": self.seeded_visits,
            "official_code": self.official_code,
            "enrolments": enrolments,
        });
        std::fs::write(self.data.join(MANIFEST), manifest.to_string())
            .map_err(|e| format!("could not write the manifest: {e}"))
    }

    /// Reads what `--prepare` set up in `dir`; returns it with the visits per device.
    pub fn read_manifest(dir: &Path) -> Result<(Self, usize), String> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!("{}: {e}; prepare the directory first with --prepare {}", path.display(), dir.display())
        })?;
        let bad = |what: &str| format!("{}: {what} is missing or malformed", path.display());
        let m: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let text_of = |v: &serde_json::Value, k: &str| v[k].as_str().map(str::to_owned).ok_or_else(|| bad(k));
        let mut enrolments = Vec::new();
        for e in m["enrolments"].as_array().ok_or_else(|| bad("enrolments"))? {
            enrolments.push(Enrolment {
                user: UserId::parse(&text_of(e, "user")?).map_err(|_| bad("a user"))?,
                hamlet: HamletId::parse(&text_of(e, "hamlet")?).map_err(|_| bad("a hamlet"))?,
                code: text_of(e, "code")?,
            });
        }
        let prepared = Prepared {
            data: dir.to_path_buf(),
            _temp: None,
            enrolments,
            official_code: text_of(&m, "official_code")?,
            seeded_visits: m["seeded_visits"].as_u64().ok_or_else(|| bad("seeded_visits"))?,
        };
        let visits = m["visits"].as_u64().ok_or_else(|| bad("visits"))? as usize;
        Ok((prepared, visits))
    }
}

/// Grows one hamlet log by `visits` visits of the `seed` volunteer over past months,
/// through the server's one offline rewrite of a log.
fn seed(db: &dyn Store, hamlet: &HamletId, visits: usize) -> Result<(), String> {
    let who = Author { user: UserId::parse("seed").map_err(err)?, role: Role::Volunteer };
    let now = tungnha_server::now_ms();
    imports::rewrite_log(db, hamlet, |log| {
        let households: Vec<HouseholdId> = log.households().ok.into_keys().collect();
        let mut rng = StdRng::seed_from_u64(50_000);
        for k in 0..visits {
            let h = &households[rng.random_range(0..households.len())];
            let outcome = Outcome::ALL[rng.random_range(0..Outcome::ALL.len())];
            let at = now - 60_000 - (k as i64 % 180) * 86_400_000;
            log.log_visit(&who, h, outcome, &VisitForm { people: 1, ..VisitForm::default() }, at, now)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
        }
        Ok(())
    })
    .map_err(err)
}
