//! Teams (tổ công nghệ số cộng đồng): an official creates, renames and dissolves them,
//! chooses their leaders, adds and removes members (people of the commune) and gives
//! them hamlets; CSV import does the same for many at once, all or nothing; and each
//! team's figures (members, active members, visits, accounts, coverage of its
//! hamlets) are summed from its hamlets' materialised coverage.
//!
//! A team's hamlets reach its members' devices through `access::hamlets_of`, at their
//! next sync; taking a hamlet away, or a member out, makes their devices drop it
//! unless the person still holds it another way. Every write is audited.

use std::collections::{BTreeMap, BTreeSet};

use tungnha_client_core::collate;
use tungnha_client_core::coverage::to_cover;
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, Coverage, HamletId, Role, TeamId, UserId};

use crate::records::{Team, User};
use crate::service::ServiceError;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::service::imports::{RowError, cell, read_csv};
use crate::store::Store;

/// The most people a team may have.
pub const MAX_MEMBERS: usize = 300;
/// The most hamlets one row of a teams file may give a team.
pub const MAX_HAMLETS: usize = 1_000;
/// The most teams a commune may have.
pub const MAX_TEAMS: usize = 500;
/// "Active" means synced within this many days.
pub const ACTIVE_DAYS: i64 = 7;

/// The slug a team's (or a counter's) id is made from: its name without marks, lower
/// case, words joined by '-'.
pub(crate) fn slug(name: &str, budget: usize) -> String {
    let folded = collate::fold(name);
    let mut out = String::new();
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if out.len() + word.len() + 1 > budget {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word.to_ascii_lowercase());
    }
    if out.is_empty() { "to".to_owned() } else { out }
}

/// A fresh id for a team named `name` in `commune`, not taken by any of `teams`: the
/// slug fits an id's 64 bytes with the commune's code and a "-NNN" to tell apart.
fn fresh_id(commune: &CommuneId, name: &str, teams: &[Team]) -> Result<TeamId, ServiceError> {
    let budget = 64usize.saturating_sub(commune.as_str().len() + 1 + 4).clamp(2, 40);
    let base = format!("{commune}.{}", slug(name, budget));
    let mut n = 1;
    loop {
        let text = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let id = TeamId::parse(&text).map_err(|e| invalid(Field::Name, e.to_string()))?;
        if !teams.iter().any(|t| t.id == id) {
            return Ok(id);
        }
        n += 1;
    }
}

/// A team's name, checked, and not another team's of the same commune.
fn check_name(name: &str, teams: &[Team], except: Option<&TeamId>) -> Result<String, ServiceError> {
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the team's name {fault}")));
    }
    if let Some(t) = same_name(teams, name, except) {
        return Err(invalid(Field::Name, format!("team {} is already called “{}”", t.id, t.name)));
    }
    Ok(name.to_owned())
}

/// The team of `teams` (other than `except`) whose name is `name`, diacritics and case
/// aside.
pub fn same_name<'t>(teams: &'t [Team], name: &str, except: Option<&TeamId>) -> Option<&'t Team> {
    let folded = collate::fold(name.trim());
    teams.iter().find(|t| Some(&t.id) != except && collate::fold(&t.name) == folded)
}

/// The team of `commune` covering `hamlet`, if one does.
pub fn covering(
    store: &dyn Store,
    hamlet: &HamletId,
    commune: &CommuneId,
) -> Result<Option<Team>, ServiceError> {
    Ok(store.teams_of(commune)?.into_iter().find(|t| t.hamlets.contains(hamlet)))
}

/// A team by id, which must exist.
pub fn team(store: &dyn Store, id: &str) -> Result<Team, ServiceError> {
    let id = TeamId::parse(id.trim()).map_err(|e| invalid(Field::Team, e.to_string()))?;
    store.team(&id)?.ok_or_else(|| invalid(Field::Team, format!("team {id} does not exist")))
}

/// Creates a team in `commune`.
pub fn team_add(store: &dyn Store, by: &str, commune: &CommuneId, name: &str) -> Result<Team, ServiceError> {
    store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    let teams = store.teams_of(commune)?;
    if teams.len() >= MAX_TEAMS {
        return Err(invalid(Field::Name, format!("a commune has at most {MAX_TEAMS} teams")));
    }
    let name = check_name(name, &teams, None)?;
    let team = Team {
        id: fresh_id(commune, &name, &teams)?,
        commune: commune.clone(),
        name,
        leaders: Vec::new(),
        members: Vec::new(),
        hamlets: Vec::new(),
    };
    store.put_team(&team)?;
    audit(store, by, Some(commune), "team_add", format!("{} · {}", team.id, team.name))?;
    Ok(team)
}

/// Renames a team (its id stays).
pub fn team_rename(store: &dyn Store, by: &str, team: &Team, name: &str) -> Result<Team, ServiceError> {
    let teams = store.teams_of(&team.commune)?;
    let name = check_name(name, &teams, Some(&team.id))?;
    let renamed = Team { name, ..team.clone() };
    store.put_team(&renamed)?;
    audit(
        store,
        by,
        Some(&team.commune),
        "team_rename",
        format!("{}: {} → {}", team.id, team.name, renamed.name),
    )?;
    Ok(renamed)
}

/// Dissolves a team: its members keep only what they hold another way.
pub fn team_dissolve(store: &dyn Store, by: &str, team: &Team) -> Result<(), ServiceError> {
    store.remove_team(&team.id)?;
    audit(store, by, Some(&team.commune), "team_dissolve", format!("{} · {}", team.id, team.name))
}

/// A person who may join `team`: of its commune, active, a volunteer or a leader (a
/// team's leader must have the leader role).
fn joiner(store: &dyn Store, team: &Team, user: &str, lead: bool) -> Result<User, ServiceError> {
    let id = UserId::parse(user.trim()).map_err(|e| invalid(Field::User, e.to_string()))?;
    let u = store.user(&id)?.ok_or_else(|| invalid(Field::User, format!("user {id} does not exist")))?;
    if u.commune.as_ref() != Some(&team.commune) {
        return Err(invalid(Field::User, format!("{id} is not a person of commune {}", team.commune)));
    }
    if !u.active {
        return Err(invalid(Field::User, format!("{id} is deactivated")));
    }
    match (u.role, lead) {
        (Role::Leader, _) | (Role::Volunteer, false) => Ok(u),
        (Role::Volunteer, true) => Err(invalid(
            Field::User,
            format!("{id} is a volunteer: only a person with the leader role may lead a team"),
        )),
        _ => Err(invalid(Field::User, format!("{id} is not a volunteer or a leader"))),
    }
}

/// Adds a member, as a leader of the team when `lead` (a member already is made a
/// leader, or no longer one).
pub fn member_add(
    store: &dyn Store,
    by: &str,
    team: &Team,
    user: &str,
    lead: bool,
) -> Result<Team, ServiceError> {
    let u = joiner(store, team, user, lead)?;
    let mut t = team.clone();
    if !t.has_member(&u.id) {
        if t.members.len() >= MAX_MEMBERS {
            return Err(invalid(Field::User, format!("a team has at most {MAX_MEMBERS} members")));
        }
        t.members.push(u.id.clone());
    }
    t.leaders.retain(|l| l != &u.id);
    if lead {
        t.leaders.push(u.id.clone());
    }
    store.put_team(&t)?;
    let role = if lead { "leader" } else { "member" };
    audit(store, by, Some(&t.commune), "team_member_add", format!("{} + {} ({role})", t.id, u.id))?;
    Ok(t)
}

/// Takes a member out (their devices drop the team's hamlets at their next sync,
/// unless they hold them another way).
pub fn member_remove(store: &dyn Store, by: &str, team: &Team, user: &str) -> Result<Team, ServiceError> {
    let id = UserId::parse(user.trim()).map_err(|e| invalid(Field::User, e.to_string()))?;
    if !team.has_member(&id) {
        return Err(invalid(Field::User, format!("{id} is not a member of {}", team.id)));
    }
    let mut t = team.clone();
    t.members.retain(|m| m != &id);
    t.leaders.retain(|m| m != &id);
    store.put_team(&t)?;
    audit(store, by, Some(&t.commune), "team_member_remove", format!("{} − {id}", t.id))?;
    Ok(t)
}

/// Gives a team a hamlet of its commune that no other team covers.
pub fn hamlet_add(store: &dyn Store, by: &str, team: &Team, hamlet: &str) -> Result<Team, ServiceError> {
    let id = hamlet_of(store, team, hamlet)?;
    if let Some(other) =
        store.teams_of(&team.commune)?.into_iter().find(|o| o.id != team.id && o.hamlets.contains(&id))
    {
        return Err(invalid(
            Field::Hamlet,
            format!("hamlet {id} belongs to team “{}” already; take it away there first", other.name),
        ));
    }
    let mut t = team.clone();
    if !t.hamlets.contains(&id) {
        t.hamlets.push(id.clone());
    }
    store.put_team(&t)?;
    audit(store, by, Some(&t.commune), "team_hamlet_add", format!("{} + {id}", t.id))?;
    Ok(t)
}

/// Takes a hamlet away from a team.
pub fn hamlet_remove(store: &dyn Store, by: &str, team: &Team, hamlet: &str) -> Result<Team, ServiceError> {
    let id = hamlet_id(team, hamlet)?;
    if !team.hamlets.contains(&id) {
        return Err(invalid(Field::Hamlet, format!("hamlet {id} is not {}'s", team.id)));
    }
    let mut t = team.clone();
    t.hamlets.retain(|h| h != &id);
    store.put_team(&t)?;
    audit(store, by, Some(&t.commune), "team_hamlet_remove", format!("{} − {id}", t.id))?;
    Ok(t)
}

/// A hamlet's id from its id or its code within the team's commune.
fn hamlet_id(team: &Team, hamlet: &str) -> Result<HamletId, ServiceError> {
    let hamlet = hamlet.trim();
    let text = if hamlet.contains('.') { hamlet.to_owned() } else { format!("{}.{hamlet}", team.commune) };
    HamletId::parse(&text).map_err(|e| invalid(Field::Hamlet, e.to_string()))
}

/// A hamlet of the team's commune, by its id or its code within the commune.
fn hamlet_of(store: &dyn Store, team: &Team, hamlet: &str) -> Result<HamletId, ServiceError> {
    let id = hamlet_id(team, hamlet)?;
    match store.hamlet(&id)? {
        Some(h) if h.commune == team.commune => Ok(id),
        _ => Err(invalid(Field::Hamlet, format!("hamlet {id} is not a hamlet of commune {}", team.commune))),
    }
}

/// Imports a commune's teams (`name,hamlets,leaders,members`: codes and usernames
/// separated by spaces, ';' or ','), all or nothing. A row names a team by its name:
/// an existing team of that name gets exactly the row's hamlets, leaders and members;
/// a new name makes a new team. Leaders are members without being listed twice.
pub fn teams_import(
    store: &dyn Store,
    by: &str,
    commune: &CommuneId,
    bytes: &[u8],
) -> Result<Vec<Team>, ServiceError> {
    store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    let csv = read_csv(bytes, &["name"], &["hamlets", "leaders", "members"]);
    let mut errors = csv.errors;
    let existing = store.teams_of(commune)?;
    let mut out: Vec<Team> = Vec::new();
    // Which row gave each hamlet and name, to report a second one.
    let mut hamlet_rows: BTreeMap<HamletId, u64> = BTreeMap::new();
    let mut names: BTreeMap<String, u64> = BTreeMap::new();
    for (line, cells) in &csv.rows {
        let line = *line;
        let mut fail = |column: &str, reason: String| {
            errors.push(RowError { line, column: column.into(), reason });
        };
        let name = cell(cells, "name").trim();
        if let Some(fault) = text_fault(name, true) {
            fail("name", format!("the team's name {fault}"));
            continue;
        }
        if let Some(first) = names.insert(collate::fold(name), line) {
            fail("name", format!("the same team is on line {first} already"));
            continue;
        }
        let mut team = match same_name(&existing, name, None) {
            Some(t) => t.clone(),
            None => {
                let taken: Vec<Team> = existing.iter().chain(&out).cloned().collect();
                match fresh_id(commune, name, &taken) {
                    Ok(id) => Team {
                        id,
                        commune: commune.clone(),
                        name: name.to_owned(),
                        leaders: Vec::new(),
                        members: Vec::new(),
                        hamlets: Vec::new(),
                    },
                    Err(e) => {
                        fail("name", e.to_string());
                        continue;
                    }
                }
            }
        };
        team.hamlets.clear();
        team.leaders.clear();
        team.members.clear();
        // Lists are bounded before any lookup; a row naming more is refused.
        let codes: Vec<&str> = list(cell(cells, "hamlets")).take(MAX_HAMLETS + 1).collect();
        if codes.len() > MAX_HAMLETS {
            fail("hamlets", format!("a row gives a team at most {MAX_HAMLETS} hamlets"));
            continue;
        }
        for code in codes {
            match hamlet_of(store, &team, code) {
                Ok(h) => match hamlet_rows.insert(h.clone(), line) {
                    Some(first) => fail("hamlets", format!("hamlet {h} is given on line {first} already")),
                    None => team.hamlets.push(h),
                },
                Err(e) => fail("hamlets", e.to_string()),
            }
        }
        let people = |column| list(cell(cells, column)).take(MAX_MEMBERS + 1).collect::<Vec<_>>();
        let (leaders, members) = (people("leaders"), people("members"));
        if leaders.len() + members.len() > MAX_MEMBERS {
            fail("members", format!("a team has at most {MAX_MEMBERS} members"));
            continue;
        }
        for (column, lead, users) in [("leaders", true, leaders), ("members", false, members)] {
            for user in users {
                match joiner(store, &team, user, lead) {
                    Ok(u) if team.has_member(&u.id) => {}
                    Ok(u) => {
                        if lead {
                            team.leaders.push(u.id.clone());
                        }
                        team.members.push(u.id);
                    }
                    Err(e) => fail(column, e.to_string()),
                }
            }
        }
        out.push(team);
    }
    // A hamlet the file gives to one team may not stay with another the file leaves be.
    let named: BTreeSet<&TeamId> = out.iter().map(|t| &t.id).collect();
    for other in existing.iter().filter(|t| !named.contains(&t.id)) {
        for h in &other.hamlets {
            if let Some(line) = hamlet_rows.get(h) {
                errors.push(RowError {
                    line: *line,
                    column: "hamlets".into(),
                    reason: format!(
                        "hamlet {h} belongs to team “{}”, which the file does not list",
                        other.name
                    ),
                });
            }
        }
    }
    if existing.len() + out.iter().filter(|t| !existing.iter().any(|e| e.id == t.id)).count() > MAX_TEAMS {
        errors.push(RowError {
            line: 1,
            column: String::new(),
            reason: format!("a commune has at most {MAX_TEAMS} teams"),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ServiceError::Import(errors));
    }
    // Teams losing a hamlet to another row are written first, so no moment has a
    // hamlet in two teams.
    out.sort_by_key(|t| !existing.iter().any(|e| e.id == t.id));
    for t in &out {
        store.put_team(t)?;
    }
    audit(store, by, Some(commune), "teams_import", format!("{} · {commune}", out.len()))?;
    Ok(out)
}

/// The items of a list cell: codes or usernames separated by spaces, ';' or ','.
fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ';' || c == ',').filter(|s| !s.is_empty())
}

/// A team with its figures.
#[derive(Debug, Clone)]
pub struct TeamFigures {
    /// The team.
    pub team: Team,
    /// Its members.
    pub members: u64,
    /// Those who synced in the last `ACTIVE_DAYS` days.
    pub active: u64,
    /// Its hamlets' summed headline figures.
    pub coverage: Coverage,
    /// Its hamlets' summed targets.
    pub target: u64,
    /// Its hamlets' summed households to cover.
    pub to_cover: u64,
}

/// How many of `members` synced since `now` − `ACTIVE_DAYS`, by `last_syncs`.
pub fn active_among<'a>(
    members: impl IntoIterator<Item = &'a UserId>,
    last_syncs: &BTreeMap<UserId, i64>,
    now: i64,
) -> u64 {
    let since = now - ACTIVE_DAYS * 86_400_000;
    members.into_iter().filter(|m| last_syncs.get(*m).is_some_and(|at| *at >= since)).count() as u64
}

/// Each team of a commune with its figures, in Vietnamese order of names: from the
/// hamlets' headline coverage (`hamlets`, as the commune's figures read it) and the
/// commune's last syncs, never a log.
pub fn team_figures(
    store: &dyn Store,
    commune: &CommuneId,
    hamlets: &[(crate::records::Hamlet, Coverage)],
    now: i64,
) -> Result<Vec<TeamFigures>, ServiceError> {
    let last_syncs = store.last_syncs(commune)?;
    let mut out: Vec<TeamFigures> = Vec::new();
    for team in store.teams_of(commune)? {
        let mut f = TeamFigures {
            members: team.members.len() as u64,
            active: active_among(&team.members, &last_syncs, now),
            coverage: Coverage::default(),
            target: 0,
            to_cover: 0,
            team,
        };
        for (h, c) in hamlets.iter().filter(|(h, _)| f.team.hamlets.contains(&h.id)) {
            f.coverage.absorb(c);
            f.target += h.target_households;
            f.to_cover += to_cover(h.target_households, c.registered);
        }
        out.push(f);
    }
    out.sort_by(|a, b| collate::compare(&a.team.name, &b.team.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tungnha_client_core::domain::CommuneKind;

    use super::*;
    use crate::service::access::{Source, hamlets_of, led_reach, reach};
    use crate::service::audit::CLI;
    use crate::service::{accounts, imports, organisation};

    #[test]
    fn a_teams_id_is_its_name_without_marks() {
        assert_eq!(slug("Tổ CNSCĐ khu phố Bình Minh", 40), "to-cnscd-khu-pho-binh-minh");
        assert_eq!(slug("  ###  ", 40), "to");
        assert!(slug(&"Tổ rất dài ".repeat(20), 40).len() <= 40);
        // A long commune code leaves the slug room to stay within an id's 64 bytes.
        let commune = CommuneId::parse(&"x".repeat(60)).expect("id");
        let id = fresh_id(&commune, "Tổ công nghệ số", &[]).expect("an id");
        assert!(id.as_str().len() <= 64, "{id}");
    }

    /// A commune `x-a` with hamlets t1…t3, leaders l1, l2, volunteers v1…v3, and
    /// another commune `x-b` with its volunteer w1.
    fn setup() -> (tempfile::TempDir, Arc<dyn Store>, CommuneId) {
        let dir = tempfile::tempdir().expect("dir");
        let store = crate::store::open(dir.path()).expect("store");
        let db = store.as_ref();
        for c in ["x-a", "x-b"] {
            organisation::commune_add(db, CLI, c, "Xã", CommuneKind::Xa).expect("commune");
        }
        imports::hamlets_import(
            db,
            CLI,
            "x-a",
            "code,name,kind,target_households\nt1,Thôn 1,thon,10\nt2,Thôn 2,thon,10\nt3,Thôn 3,thon,10\n"
                .as_bytes(),
        )
        .expect("hamlets");
        for (u, role, c) in [
            ("l1", Role::Leader, "x-a"),
            ("l2", Role::Leader, "x-a"),
            ("v1", Role::Volunteer, "x-a"),
            ("v2", Role::Volunteer, "x-a"),
            ("v3", Role::Volunteer, "x-a"),
            ("w1", Role::Volunteer, "x-b"),
        ] {
            accounts::user_add(db, CLI, u, role, Some(c), None, None).expect("user");
        }
        (dir, store, CommuneId::parse("x-a").expect("id"))
    }

    fn id(s: &str) -> UserId {
        UserId::parse(s).expect("id")
    }

    fn hamlets(store: &dyn Store, user: &str) -> Vec<String> {
        hamlets_of(store, &id(user)).expect("read").iter().map(ToString::to_string).collect()
    }

    #[test]
    fn members_hold_their_teams_hamlets_until_they_leave_or_the_hamlet_goes() {
        let (_dir, store, commune) = setup();
        let db = store.as_ref();
        let t = team_add(db, CLI, &commune, "Tổ Thôn 1").expect("team");
        let t = hamlet_add(db, CLI, &t, "t1").expect("by code");
        let t = hamlet_add(db, CLI, &t, "x-a.t2").expect("by id");
        let t = member_add(db, CLI, &t, "l1", true).expect("leader");
        let t = member_add(db, CLI, &t, "v1", false).expect("member");
        assert_eq!(hamlets(db, "v1"), ["x-a.t1", "x-a.t2"]);
        // v1 also helps in t2 on their own: taking t2 from the team leaves it with them.
        organisation::assign(db, CLI, "v1", "x-a.t2").expect("assign");
        let t = hamlet_remove(db, CLI, &t, "x-a.t2").expect("taken away");
        assert_eq!(hamlets(db, "v1"), ["x-a.t1", "x-a.t2"]);
        assert_eq!(hamlets(db, "l1"), ["x-a.t1"]);
        assert_eq!(
            reach(db, &id("v1")).expect("reach").get(&HamletId::parse("x-a.t1").expect("id")),
            Some(&vec![Source::Team(t.id.clone(), "Tổ Thôn 1".into())])
        );
        let t = member_remove(db, CLI, &t, "v1").expect("out");
        assert_eq!(hamlets(db, "v1"), ["x-a.t2"]);
        assert_eq!(store.commune_members(&commune).expect("read").members, [id("l1")]);
        team_dissolve(db, CLI, &t).expect("dissolved");
        assert!(hamlets(db, "l1").is_empty());
        assert_eq!(store.commune_members(&commune).expect("read").teams, 0);
    }

    #[test]
    fn a_leader_reaches_a_member_only_through_the_teams_they_lead() {
        let (_dir, store, commune) = setup();
        let db = store.as_ref();
        let a = team_add(db, CLI, &commune, "Tổ A").expect("team");
        let a = hamlet_add(db, CLI, &a, "t1").expect("hamlet");
        let a = member_add(db, CLI, &a, "l1", true).expect("leader");
        member_add(db, CLI, &a, "v1", false).expect("member");
        let b = team_add(db, CLI, &commune, "Tổ B").expect("team");
        let b = hamlet_add(db, CLI, &b, "t2").expect("hamlet");
        let b = member_add(db, CLI, &b, "l2", true).expect("leader");
        member_add(db, CLI, &b, "v1", false).expect("member of both");
        assert_eq!(hamlets(db, "v1"), ["x-a.t1", "x-a.t2"]);
        let through_l1 = led_reach(db, &id("l1"), &id("v1")).expect("read");
        assert_eq!(through_l1, [HamletId::parse("x-a.t1").expect("id")]);
        assert!(led_reach(db, &id("l1"), &id("l2")).expect("read").is_empty(), "l2 is not l1's member");
        // A hamlet covered by one team is not given to another.
        let err = hamlet_add(db, CLI, &b, "t1").expect_err("t1 is Tổ A's");
        assert!(err.to_string().contains("Tổ A"), "{err}");
    }

    #[test]
    fn only_people_of_the_commune_join_and_only_leaders_lead() {
        let (_dir, store, commune) = setup();
        let db = store.as_ref();
        let t = team_add(db, CLI, &commune, "Tổ A").expect("team");
        for (user, lead, why) in [
            ("w1", false, "not a person of commune x-a"),
            ("v1", true, "only a person with the leader role"),
            ("khong-co", false, "does not exist"),
        ] {
            let err = member_add(db, CLI, &t, user, lead).expect_err(user);
            assert!(err.to_string().contains(why), "{err}");
        }
        assert!(hamlet_add(db, CLI, &t, "x-b.t1").is_err(), "another commune's hamlet");
        let err = team_add(db, CLI, &commune, "tổ a").expect_err("the same name");
        assert!(err.to_string().contains("already called"), "{err}");
        assert_eq!(store.team(&t.id).expect("read"), Some(t), "nothing changed");
    }

    #[test]
    fn a_teams_file_is_taken_whole_or_not_at_all() {
        let (_dir, store, commune) = setup();
        let db = store.as_ref();
        let good = "name,hamlets,leaders,members\nTổ A,t1 t2,l1,v1;v2\nTổ B,t3,l2,\"v3, v1\"\n";
        let made = teams_import(db, CLI, &commune, good.as_bytes()).expect("imported");
        assert_eq!(made.len(), 2);
        assert_eq!(hamlets(db, "v1"), ["x-a.t1", "x-a.t2", "x-a.t3"]);
        assert_eq!(store.commune_members(&commune).expect("read").members.len(), 5);
        // Again, with t2 moved to Tổ B and v2 out: the same teams change.
        let again = "name,hamlets,leaders,members\nTổ A,t1,l1,v1\nTổ B,t2 t3,l2,v3\n";
        teams_import(db, CLI, &commune, again.as_bytes()).expect("imported again");
        assert_eq!(store.teams_of(&commune).expect("read").len(), 2);
        assert!(hamlets(db, "v2").is_empty());
        assert_eq!(hamlets(db, "v3"), ["x-a.t2", "x-a.t3"]);
        // A file with bad rows changes nothing and says every fault.
        let before = store.teams_of(&commune).expect("read");
        let bad = "name,hamlets,leaders,members\nTổ C,t9,v1,w1\nTổ A,t3,,\n";
        let Err(ServiceError::Import(errors)) = teams_import(db, CLI, &commune, bad.as_bytes()) else {
            panic!("refused")
        };
        let said: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(said, [(2, "hamlets"), (2, "leaders"), (2, "members"), (3, "hamlets")], "{errors:?}");
        assert_eq!(store.teams_of(&commune).expect("read"), before);
    }

    #[test]
    fn a_huge_row_is_refused_after_a_bounded_number_of_lookups() {
        let (_dir, store, commune) = setup();
        let db = store.as_ref();
        let people: Vec<String> = (0..5 * MAX_MEMBERS).map(|i| format!("u{i}")).collect();
        let codes: Vec<String> = (0..MAX_HAMLETS + 5).map(|i| format!("t{i}")).collect();
        for (hamlets, members) in [("t1", people.join(" ")), (codes.join(" ").as_str(), String::new())] {
            let file = format!("name,hamlets,members\nTổ A,{hamlets},\"{members}\"\n");
            let Err(ServiceError::Import(errors)) = teams_import(db, CLI, &commune, file.as_bytes()) else {
                panic!("refused")
            };
            assert!(
                errors.len() <= MAX_MEMBERS + 2,
                "{} row errors: the list was cut before its lookups",
                errors.len()
            );
            assert!(errors.iter().any(|e| e.reason.contains("at most")), "{errors:?}");
        }
        assert!(store.teams_of(&commune).expect("read").is_empty(), "nothing was written");
    }
}
