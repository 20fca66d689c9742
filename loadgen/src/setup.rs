//! Setting up a data directory for a workload, through the same admin functions an
//! operator runs: a commune, its hamlets and households, one volunteer per simulated
//! device (imported in bulk), an official, assignments and enrolment codes. For the
//! long campaign, one hamlet log is grown to its starting size first.

use std::fmt::Write as _;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungnha_client_core::domain::CommuneKind;
use tungnha_client_core::{
    ActorId, Author, Coverage, HamletId, HouseholdId, Outcome, Role, UserId, VisitForm,
};
use tungnha_server::admin;
use tungnha_server::db::{Db, LogContent, LogWrite};

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
    /// The directory (removed on drop).
    pub data: tempfile::TempDir,
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

/// Sets up a fresh data directory for `plan`.
pub fn prepare(plan: &Plan) -> Result<Prepared, String> {
    let data = tempfile::tempdir().map_err(err)?;
    let db = Db::open(data.path()).map_err(err)?;
    admin::commune_add(&db, admin::CLI, COMMUNE, "Xã Thử Tải", CommuneKind::Xa).map_err(err)?;
    let mut csv = String::from("code,name,kind,target_households\n");
    for i in 0..plan.hamlets {
        let _ = writeln!(csv, "th-{i},Thôn {i},thon,{}", plan.households);
    }
    let hamlets: Vec<HamletId> =
        admin::hamlets_import(&db, COMMUNE, csv.as_bytes()).map_err(err)?.into_iter().map(|h| h.id).collect();
    for h in &hamlets {
        let mut rows = String::from("label,head,members\n");
        for n in 0..plan.households {
            let _ = writeln!(rows, "\"Số {}, ngõ {}\",,{}", n % 50 + 1, n / 50 + 1, n % 6 + 1);
        }
        admin::households_import(&db, h.as_str(), rows.as_bytes()).map_err(err)?;
    }
    let mut users = String::from("username,name,role\ncanbo,Cán bộ xã,official\nseed,Người gieo,volunteer\n");
    for i in 0..plan.devices {
        let _ = writeln!(users, "tnv{i},Tình nguyện viên {i},volunteer");
    }
    admin::users_import(&db, COMMUNE, users.as_bytes()).map_err(err)?;
    let mut enrolments = Vec::with_capacity(plan.devices);
    for i in 0..plan.devices {
        let user = format!("tnv{i}");
        let hamlet = hamlets[i % hamlets.len()].clone();
        db.assign(&UserId::parse(&user).map_err(err)?, &hamlet).map_err(err)?;
        let code = admin::enrol_code(&db, &user, 86_400_000).map_err(err)?;
        enrolments.push(Enrolment { user: UserId::parse(&user).map_err(err)?, hamlet, code });
    }
    let official_code = admin::enrol_code(&db, "canbo", 86_400_000).map_err(err)?;
    // The official also signs in on the web, to time the commune dashboard page.
    admin::set_password(&db, admin::CLI, &UserId::parse("canbo").map_err(err)?, OFFICIAL_PASSWORD)
        .map_err(err)?;
    if plan.seed_visits > 0 && plan.seed_everywhere {
        for (i, h) in hamlets.iter().enumerate() {
            let share = plan.seed_visits / hamlets.len() + usize::from(i < plan.seed_visits % hamlets.len());
            seed(&db, h, share)?;
        }
    } else if plan.seed_visits > 0 {
        seed(&db, &hamlets[0], plan.seed_visits)?;
    }
    Ok(Prepared { data, enrolments, official_code, seeded_visits: plan.seed_visits as u64 })
}

/// Grows one hamlet log by `visits` visits of the `seed` volunteer over past months.
fn seed(db: &Db, hamlet: &HamletId, visits: usize) -> Result<(), String> {
    let (mut log, next) = db.load_log(hamlet).map_err(err)?.ok_or("no log")?;
    log.set_actor(ActorId::random());
    let who = Author { user: UserId::parse("seed").map_err(err)?, role: Role::Volunteer };
    let households: Vec<HouseholdId> = log.households().ok.into_keys().collect();
    let mut rng = StdRng::seed_from_u64(50_000);
    let now = tungnha_server::now_ms();
    for k in 0..visits {
        let h = &households[rng.random_range(0..households.len())];
        let outcome = Outcome::ALL[rng.random_range(0..Outcome::ALL.len())];
        let at = now - 60_000 - (k as i64 % 180) * 86_400_000;
        log.log_visit(&who, h, outcome, &VisitForm { people: 1, ..VisitForm::default() }, at, now)
            .map_err(err)?;
    }
    db.commit_log(&LogWrite {
        hamlet: hamlet.clone(),
        content: LogContent::Snapshot { bytes: log.save(), remove: (1..next).collect() },
        coverage: Coverage::compute(&log),
        before: None,
    })
    .map_err(err)
}
