//! The demo commune: one phường with six khu phố, their households, and two weeks of
//! simulated visits, so that a first run shows something alive. Seeded from a fixed
//! random seed, so every demo looks the same.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tungnha_client_core::{
    ActorId, Author, HamletId, HamletLog, HouseholdForm, Outcome, Role, UserId, VisitForm,
};

use crate::{AppState, HamletRecord, ServerError};

const HAMLETS: &[(&str, &str)] = &[
    ("kp-binh-minh", "Khu phố Bình Minh"),
    ("kp-tan-an", "Khu phố Tân An"),
    ("kp-phu-loi", "Khu phố Phú Lợi"),
    ("kp-hoa-lan", "Khu phố Hòa Lân"),
    ("kp-trung-thang", "Khu phố Trung Thắng"),
    ("kp-an-phu", "Khu phố An Phú"),
];

const STREETS: &[&str] = &["Nguyễn Trãi", "Lê Lợi", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt"];
const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"];
const GIVEN: &[&str] = &["Văn Hùng", "Thị Lan", "Văn Minh", "Thị Hoa", "Quốc Bảo", "Thị Mai", "Đức Thắng"];

fn id<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.parse().ok()
}

/// Seeds the demo into `state`.
pub fn seed(state: &AppState) -> Result<(), ServerError> {
    let mut rng = StdRng::seed_from_u64(2026);
    let now = chrono_now_ms();
    let official: Option<UserId> = id("u-official");
    let Some(official) = official else { return Ok(()) };
    let lister = Author { user: official, role: Role::Official };
    for (i, (code, name)) in HAMLETS.iter().enumerate() {
        let Some(hamlet) = id::<HamletId>(code) else { continue };
        let mut log = HamletLog::genesis(&hamlet);
        log.set_actor(ActorId::random());
        let count = rng.random_range(250..=400);
        let mut households = Vec::with_capacity(count);
        for n in 0..count {
            let form = HouseholdForm {
                label: format!("Số {}, hẻm {}, {}", n % 40 + 1, n / 40 + 1, STREETS[n % STREETS.len()]),
                head: Some(format!(
                    "{} {}",
                    FAMILY[rng.random_range(0..FAMILY.len())],
                    GIVEN[rng.random_range(0..GIVEN.len())]
                )),
                members: Some(rng.random_range(1..=7)),
            };
            if let Ok(h) = log.add_household(&lister, &form, now - 15 * DAY) {
                households.push(h);
            }
        }
        // Two volunteers per khu phố, numbered across the phường.
        let volunteers: Vec<Author> = [2 * i % 8 + 1, (2 * i + 1) % 8 + 1]
            .iter()
            .filter_map(|v| id::<UserId>(&format!("u-vol-{v}")))
            .map(|user| Author { user, role: Role::Volunteer })
            .collect();
        for h in &households {
            if !rng.random_bool(0.55) {
                continue;
            }
            let who = &volunteers[rng.random_range(0..volunteers.len())];
            let at = now - rng.random_range(0..14 * DAY);
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
                form.people = rng.random_range(1..=4);
            }
            let _ = log.log_visit(who, h, outcome, &form, at, now);
        }
        let record = HamletRecord { id: hamlet, name: (*name).to_owned(), target_households: 400 };
        state.put_hamlet(&record, &log)?;
    }
    Ok(())
}

const DAY: i64 = 24 * 60 * 60 * 1000;

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
