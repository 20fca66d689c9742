//! The demo province, Tỉnh Hòa An: Phường Hòa Bình with six khu phố, their
//! households, an official, two teams (two leaders, eight volunteers, two of whom also
//! help in the other team's khu phố) and two weeks of simulated visits, so a first run
//! shows something alive; beside it two smaller xã (one of thôn, one of ấp) with a
//! team each, and a province officer. Built with the same admin functions an operator
//! uses, from a fixed random seed. Every demo user's password is `DEMO_PASSWORD`.

use std::fmt::Write as _;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungnha_client_core::domain::{CommuneKind, Outcome};
use tungnha_client_core::{
    Author, CommuneId, HamletId, HamletLog, HouseholdForm, HouseholdId, LogError, ProvinceId, Role, UserId,
    VisitForm, WalkInForm,
};

use crate::records::{FilingLevel, FilingMonth};
use crate::service::ServiceError;
use crate::service::audit::CLI;
use crate::service::{accounts, enrolment, imports, organisation, teams};
use crate::store::Store;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "tungnha-demo";
/// The demo commune's code.
pub const COMMUNE: &str = "p-hoa-binh";

const HAMLETS: &[(&str, &str)] = &[
    ("kp-binh-minh", "Khu phố Bình Minh"),
    ("kp-tan-an", "Khu phố Tân An"),
    ("kp-phu-loi", "Khu phố Phú Lợi"),
    ("kp-hoa-lan", "Khu phố Hòa Lân"),
    ("kp-trung-thang", "Khu phố Trung Thắng"),
    ("kp-an-phu", "Khu phố An Phú"),
];

const PEOPLE: &[(&str, &str, Role)] = &[
    ("canbo", "Lê Thị Thu", Role::Official),
    ("totruong1", "Nguyễn Văn Hải", Role::Leader),
    ("totruong2", "Phạm Minh Tuấn", Role::Leader),
    ("tnv1", "Trần Thị Lan", Role::Volunteer),
    ("tnv2", "Võ Quốc Bảo", Role::Volunteer),
    ("tnv3", "Đặng Thị Mai", Role::Volunteer),
    ("tnv4", "Bùi Đức Thắng", Role::Volunteer),
    ("tnv5", "Hoàng Thị Hoa", Role::Volunteer),
    ("tnv6", "Lý Văn Minh", Role::Volunteer),
    ("tnv7", "Ngô Thị Hằng", Role::Volunteer),
    ("tnv8", "Đỗ Thành Nam", Role::Volunteer),
];

const STREETS: &[&str] = &["Nguyễn Trãi", "Lê Lợi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt"];
const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"];
const GIVEN: &[&str] = &["Văn Hùng", "Thị Lan", "Văn Minh", "Thị Hoa", "Quốc Bảo", "Thị Mai", "Đức Thắng"];
const DAY: i64 = 24 * 60 * 60 * 1000;

/// The demo at start-up, when asked for: seeded into an empty store, or a fresh code
/// for one seeded before. Returns what to tell the person who started the server.
pub fn at_start(store: &dyn Store) -> Result<Option<String>, ServiceError> {
    if store.is_empty()? { seed(store).map(Some) } else { fresh_code(store) }
}

fn log_error(e: LogError) -> ServiceError {
    ServiceError::Internal(format!("the demo's visits: {e}"))
}

/// Seeds the demo into an empty store; returns what to tell the person who ran it.
pub fn seed(store: &dyn Store) -> Result<String, ServiceError> {
    let mut rng = StdRng::seed_from_u64(2026);
    let now = crate::now_ms();
    organisation::commune_add(store, CLI, COMMUNE, "Phường Hòa Bình", CommuneKind::Phuong)?;
    let mut csv = String::from("code,name,kind,target_households\n");
    for (code, name) in HAMLETS {
        let _ = writeln!(csv, "{code},{name},khu_pho,{}", rng.random_range(30..=42) * 10);
    }
    let hamlets = imports::hamlets_import(store, CLI, COMMUNE, csv.as_bytes())?;
    for (username, name, role) in PEOPLE {
        accounts::user_add(store, CLI, username, *role, Some(COMMUNE), Some(name), Some(DEMO_PASSWORD))?;
    }
    let ids: Vec<HamletId> = hamlets.iter().map(|h| h.id.clone()).collect();
    demo_team(
        store,
        COMMUNE,
        "Tổ CNSCĐ khu phố Bình Minh",
        &ids[..3],
        "totruong1",
        &["tnv1", "tnv2", "tnv3", "tnv7", "tnv8"],
    )?;
    demo_team(store, COMMUNE, "Tổ CNSCĐ khu phố Hòa Lân", &ids[3..], "totruong2", &["tnv4", "tnv5", "tnv6"])?;
    // Two of the first team also help in the second team's khu phố, on their own.
    organisation::assign(store, CLI, "tnv2", ids[3].as_str())?;
    organisation::assign(store, CLI, "tnv3", ids[4].as_str())?;
    for (i, hamlet) in hamlets.iter().enumerate() {
        let mut households = String::from("label,head,members\n");
        for n in 0..rng.random_range(250..=400) {
            let _ = writeln!(
                households,
                "\"Số {}, hẻm {}, {}\",{} {},{}",
                n % 40 + 1,
                n / 40 + 1,
                STREETS[n % STREETS.len()],
                FAMILY[rng.random_range(0..FAMILY.len())],
                GIVEN[rng.random_range(0..GIVEN.len())],
                rng.random_range(1..=7)
            );
        }
        imports::households_import(store, CLI, hamlet.id.as_str(), households.as_bytes())?;
        let volunteers: Vec<Author> = [i % 8 + 1, (i + 6) % 8 + 1]
            .iter()
            .filter_map(|v| UserId::parse(&format!("tnv{v}")).ok())
            .map(|user| Author { user, role: Role::Volunteer })
            .collect();
        imports::rewrite_log(store, &hamlet.id, |log| {
            walk(log, &volunteers, &mut rng, now)?;
            // Houses the official's list lacked, found on the walk: they wait for the
            // leader's review.
            if i < 2 {
                for n in 1..=2 {
                    let form = HouseholdForm {
                        label: format!("Nhà mới {n}, hẻm {}", i + 7),
                        ..HouseholdForm::default()
                    };
                    log.add_household(&volunteers[0], &form, now - DAY).map_err(log_error)?;
                }
            }
            Ok(())
        })?;
    }
    demo_counter(store, &mut rng, now)?;
    // The province: the phường above, and two smaller xã.
    organisation::province_add(store, CLI, PROVINCE, "Tỉnh Hòa An")?;
    organisation::attach_commune(store, CLI, COMMUNE, PROVINCE)?;
    for other in OTHERS {
        seed_other(store, other, now)?;
    }
    let (officer, name) = PROVINCE_OFFICER;
    accounts::province_officer_add(store, CLI, officer, PROVINCE, Some(name), Some(DEMO_PASSWORD))?;
    demo_filings(store, now)?;
    Ok(format!("{}{}", logins(), fresh_codes(store)?))
}

/// The phường's one-stop counter, with tnv1 and tnv4 on duty and two weeks of walk-ins.
fn demo_counter(store: &dyn Store, rng: &mut StdRng, now: i64) -> Result<(), ServiceError> {
    let commune = CommuneId::parse(COMMUNE).map_err(internal)?;
    let counter = organisation::counter_add(store, CLI, &commune, "Bộ phận một cửa phường")?;
    for user in ["tnv1", "tnv4"] {
        organisation::assign(store, CLI, user, counter.id.as_str())?;
    }
    let on_duty: Vec<Author> = ["tnv1", "tnv4"]
        .iter()
        .filter_map(|u| UserId::parse(u).ok())
        .map(|user| Author { user, role: Role::Volunteer })
        .collect();
    imports::rewrite_log(store, &counter.id, |log| {
        for day in 0..14 {
            for _ in 0..rng.random_range(1..=4) {
                let mut form = WalkInForm { people: rng.random_range(1..=2), ..WalkInForm::default() };
                form.topics = vec!["dvc".into()];
                if rng.random_bool(0.6) {
                    form.accounts.insert("dvc".into(), 1);
                    form.filed = 1;
                }
                let at = now - day * DAY - rng.random_range(0..6) * 3_600_000;
                log.log_walkin(&on_duty[rng.random_range(0..on_duty.len())], &form, at, now)
                    .map_err(log_error)?;
            }
        }
        Ok(())
    })
}

/// Six months of the portal's dossier statistics, up to last month, for every commune
/// and the province's agencies, the online share climbing as the teams work.
fn demo_filings(store: &dyn Store, now: i64) -> Result<(), ServiceError> {
    let months = crate::service::filing::last_months(now, 7);
    let levels =
        std::iter::once((FilingLevel::Province(ProvinceId::parse(PROVINCE).map_err(internal)?), 900, 52))
            .chain(std::iter::once((
                FilingLevel::Commune(CommuneId::parse(COMMUNE).map_err(internal)?),
                420,
                38,
            )))
            .chain(
                OTHERS
                    .iter()
                    .filter_map(|o| Some((FilingLevel::Commune(CommuneId::parse(o.code).ok()?), 150, 31))),
            );
    let mut entries = Vec::new();
    for (level, received, percent) in levels {
        for (i, month) in months.iter().take(6).enumerate() {
            let received = received + 13 * i as u64;
            let online = received * (percent + 3 * i as u64) / 100;
            let at = now;
            entries.push(FilingMonth {
                level: level.clone(),
                month: month.clone(),
                received,
                online,
                by: CLI.into(),
                at,
            });
        }
    }
    store.put_filings(&entries)?;
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

/// A team of `commune` covering `hamlets`, led by `leader`, with `members`.
fn demo_team(
    store: &dyn Store,
    commune: &str,
    name: &str,
    hamlets: &[HamletId],
    leader: &str,
    members: &[&str],
) -> Result<(), ServiceError> {
    let commune = CommuneId::parse(commune).map_err(internal)?;
    let mut team = teams::team_add(store, CLI, &commune, name)?;
    for h in hamlets {
        team = teams::hamlet_add(store, CLI, &team, h.as_str())?;
    }
    team = teams::member_add(store, CLI, &team, leader, true)?;
    for m in members {
        team = teams::member_add(store, CLI, &team, m, false)?;
    }
    Ok(())
}

/// Two weeks of a team's walks through a hamlet: a visit to a little over half its
/// households, most of them guided.
fn walk(log: &mut HamletLog, volunteers: &[Author], rng: &mut StdRng, now: i64) -> Result<(), ServiceError> {
    let ids: Vec<HouseholdId> = log.households().ok.into_keys().collect();
    for h in &ids {
        if !rng.random_bool(0.55) {
            continue;
        }
        let who = &volunteers[rng.random_range(0..volunteers.len())];
        let at = working_hours(now, rng.random_range(0..14), rng.random_range(0..11 * 60 + 30));
        let outcome = match rng.random_range(0..100) {
            0..55 => Outcome::Guided,
            55..70 => Outcome::AlreadyDone,
            70..85 => Outcome::NotHome,
            85..93 => Outcome::Revisit,
            _ => Outcome::Declined,
        };
        let mut form = VisitForm::default();
        if outcome == Outcome::Guided {
            form.topics = vec!["vneid".into(), "dvc".into()];
            form.accounts.insert("vneid_l1".into(), rng.random_range(1..=3));
            if rng.random_bool(0.3) {
                form.accounts.insert("dvc".into(), 1);
            }
            form.people = rng.random_range(1..=4);
            // With a public-service account made, the first dossier is filed online.
            form.filed = u32::from(form.accounts.contains_key("dvc"));
        }
        log.log_visit(who, h, outcome, &form, at, now).map_err(log_error)?;
    }
    Ok(())
}

/// A smaller commune of the demo province.
struct Other {
    code: &'static str,
    name: &'static str,
    kind: CommuneKind,
    hamlet_kind: &'static str,
    hamlets: &'static [(&'static str, &'static str)],
    people: &'static [(&'static str, &'static str, Role)],
    /// Its one team, of everyone but the official, covering every hamlet.
    team: &'static str,
    seed: u64,
}

const OTHERS: &[Other] = &[
    Other {
        code: "x-tan-phu",
        name: "Xã Tân Phú",
        kind: CommuneKind::Xa,
        hamlet_kind: "thon",
        hamlets: &[
            ("thon-1", "Thôn 1"),
            ("thon-2", "Thôn 2"),
            ("thon-dong", "Thôn Đông"),
            ("thon-tay", "Thôn Tây"),
        ],
        people: &[
            ("canbotp", "Nguyễn Thị Hạnh", Role::Official),
            ("totruongtp", "Lê Văn Phúc", Role::Leader),
            ("tnvtp1", "Phan Thị Yến", Role::Volunteer),
            ("tnvtp2", "Trịnh Văn Long", Role::Volunteer),
            ("tnvtp3", "Đinh Thị Thảo", Role::Volunteer),
        ],
        team: "Tổ CNSCĐ xã Tân Phú",
        seed: 2027,
    },
    Other {
        code: "x-long-hoa",
        name: "Xã Long Hòa",
        kind: CommuneKind::Xa,
        hamlet_kind: "ap",
        hamlets: &[
            ("ap-1", "Ấp 1"),
            ("ap-2", "Ấp 2"),
            ("ap-long-an", "Ấp Long An"),
            ("ap-hoa-thuan", "Ấp Hòa Thuận"),
        ],
        people: &[
            ("canbolh", "Huỳnh Văn Tài", Role::Official),
            ("totruonglh", "Cao Thị Diễm", Role::Leader),
            ("tnvlh1", "Lâm Văn Sang", Role::Volunteer),
            ("tnvlh2", "Dương Thị Kiều", Role::Volunteer),
            ("tnvlh3", "Tạ Minh Luân", Role::Volunteer),
        ],
        team: "Tổ CNSCĐ xã Long Hòa",
        seed: 2028,
    },
];

/// The demo province's code.
pub const PROVINCE: &str = "t-hoa-an";
/// The demo province officer.
const PROVINCE_OFFICER: (&str, &str) = ("canbotinh", "Trương Minh Khoa");

/// Seeds one of the smaller communes: its hamlets, people, team, households and
/// two weeks of walks.
fn seed_other(store: &dyn Store, c: &Other, now: i64) -> Result<(), ServiceError> {
    let mut rng = StdRng::seed_from_u64(c.seed);
    organisation::commune_add(store, CLI, c.code, c.name, c.kind)?;
    organisation::attach_commune(store, CLI, c.code, PROVINCE)?;
    let mut csv = String::from("code,name,kind,target_households\n");
    for (code, name) in c.hamlets {
        let _ = writeln!(csv, "{code},{name},{},{}", c.hamlet_kind, rng.random_range(10..=16) * 10);
    }
    let hamlets = imports::hamlets_import(store, CLI, c.code, csv.as_bytes())?;
    for (username, name, role) in c.people {
        accounts::user_add(store, CLI, username, *role, Some(c.code), Some(name), Some(DEMO_PASSWORD))?;
    }
    let ids: Vec<HamletId> = hamlets.iter().map(|h| h.id.clone()).collect();
    let pick = |role: Role| c.people.iter().filter(move |p| p.2 == role).map(|p| p.0);
    let leader = pick(Role::Leader).next().unwrap_or_default();
    let members: Vec<&str> = pick(Role::Volunteer).collect();
    demo_team(store, c.code, c.team, &ids, leader, &members)?;
    for hamlet in &hamlets {
        let mut households = String::from("label,head,members\n");
        for n in 0..rng.random_range(80..=140) {
            let _ = writeln!(
                households,
                "\"Nhà {}, tổ {}\",{} {},{}",
                n % 30 + 1,
                n / 30 + 1,
                FAMILY[rng.random_range(0..FAMILY.len())],
                GIVEN[rng.random_range(0..GIVEN.len())],
                rng.random_range(1..=7)
            );
        }
        imports::households_import(store, CLI, hamlet.id.as_str(), households.as_bytes())?;
        let volunteers: Vec<Author> = c
            .people
            .iter()
            .filter(|p| p.2 == Role::Volunteer)
            .filter_map(|p| UserId::parse(p.0).ok())
            .map(|user| Author { user, role: Role::Volunteer })
            .collect();
        imports::rewrite_log(store, &hamlet.id, |log| walk(log, &volunteers, &mut rng, now))?;
    }
    Ok(())
}

/// A time `days` before today, `minutes` after 7:30 in Vietnam (so between 7:30 and
/// 19:00, when teams walk), and never in the future.
fn working_hours(now: i64, days: i64, minutes: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    let vn_midnight = (now + 7 * HOUR).div_euclid(DAY) * DAY - 7 * HOUR;
    let at = vn_midnight - days * DAY + 7 * HOUR + HOUR / 2 + minutes * 60_000;
    if at > now { at - DAY } else { at }
}

/// The demo's accounts, for people.
fn logins() -> String {
    let mut out = String::from(
        "Từng Nhà demo: Tỉnh Hòa An: Phường Hòa Bình (6 khu phố), Xã Tân Phú (4 thôn), Xã Long Hòa (4 ấp).\n",
    );
    let _ = writeln!(out, "Tài khoản (mật khẩu / password: {DEMO_PASSWORD}):");
    let (officer, name) = PROVINCE_OFFICER;
    let _ = writeln!(out, "  {officer:<10} {name} ({})", Role::ProvinceOfficer);
    for (username, name, role) in PEOPLE.iter().chain(OTHERS.iter().flat_map(|c| c.people.iter())) {
        let _ = writeln!(out, "  {username:<10} {name} ({role})");
    }
    out
}

/// The demo users who get a fresh enrolment code at every start.
const ENROL_AT_START: &[&str] = &["tnv1", "totruong1"];

/// Fresh single-use enrolment codes for the demo's volunteer and leader, one line
/// each, so that the README's walkthrough always has codes to use.
fn fresh_codes(store: &dyn Store) -> Result<String, ServiceError> {
    let mut out = String::new();
    for user in ENROL_AT_START {
        let code = enrolment::enrol_code(store, user, DAY)?;
        let _ = writeln!(
            out,
            "Mã đăng ký thiết bị (enrolment code) cho {user}: {code} (dùng một lần, hết hạn sau 24 giờ; single use, valid 24 h)"
        );
    }
    Ok(out.trim_end().to_owned())
}

/// The logins and fresh enrolment codes of a demo that is already seeded; `None` if
/// the data directory holds something else.
pub fn fresh_code(store: &dyn Store) -> Result<Option<String>, ServiceError> {
    let Ok(tnv1) = UserId::parse("tnv1") else { return Ok(None) };
    if store.user(&tnv1)?.is_none() {
        return Ok(None);
    }
    fresh_codes(store).map(|codes| Some(format!("{}{codes}", logins())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_start_prints_codes_that_say_how_long_they_last() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("db");
        let first = seed(db.as_ref()).expect("seeded");
        let again = fresh_code(db.as_ref()).expect("read").expect("the demo is there");
        for out in [first, again] {
            let codes: Vec<&str> = out.lines().filter(|l| l.starts_with("Mã đăng ký thiết bị")).collect();
            assert_eq!(codes.len(), ENROL_AT_START.len(), "{out}");
            assert!(codes.iter().all(|l| l.contains("hết hạn sau 24 giờ")), "{out}");
        }
    }

    #[test]
    fn every_demo_commune_has_teams_and_members_hold_their_teams_hamlets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("db");
        seed(db.as_ref()).expect("seeded");
        let db = db.as_ref();
        for (commune, teams) in [(COMMUNE, 2), ("x-tan-phu", 1), ("x-long-hoa", 1)] {
            let id = CommuneId::parse(commune).expect("id");
            assert_eq!(db.teams_of(&id).expect("teams").len(), teams, "{commune}");
        }
        let held = |user: &str| {
            crate::service::access::hamlets_of(db, &UserId::parse(user).expect("id"))
                .expect("read")
                .iter()
                .map(|h| h.as_str().trim_start_matches("p-hoa-binh.").to_owned())
                .collect::<Vec<_>>()
        };
        // tnv1 is also on duty at the phường's counter.
        assert_eq!(held("tnv1"), ["kp-binh-minh", "kp-phu-loi", "kp-tan-an", "quay-bo-phan-mot-cua-phuong"]);
        // tnv2 helps in a khu phố of the other team, on their own.
        assert_eq!(held("tnv2"), ["kp-binh-minh", "kp-hoa-lan", "kp-phu-loi", "kp-tan-an"]);
        assert_eq!(held("totruong2"), ["kp-an-phu", "kp-hoa-lan", "kp-trung-thang"]);
        assert!(crate::service::verify::verify(db).expect("verify").1.is_empty());
    }

    #[test]
    fn demo_visits_happen_when_teams_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::store::open(dir.path()).expect("db");
        seed(db.as_ref()).expect("seeded");
        let now = crate::now_ms();
        let mut visits = 0;
        for h in db.all_hamlets().expect("hamlets") {
            let log = db.load_log(&h.id).expect("read").expect("log");
            for v in log.visits().ok.values() {
                let minute = (v.at + 7 * 3_600_000).rem_euclid(DAY) / 60_000;
                assert!(
                    (7 * 60 + 30..19 * 60).contains(&minute),
                    "a visit at {}:{:02}",
                    minute / 60,
                    minute % 60
                );
                assert!(v.at <= now);
                visits += 1;
            }
        }
        assert!(visits > 100, "the demo has visits ({visits})");
    }
}
