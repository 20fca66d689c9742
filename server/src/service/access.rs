//! Who may see or change what, answered in one place.
//!
//! The predicates (`may_see_commune`, `may_see_hamlet`, `may_manage_person`,
//! `may_revoke`) and what a person reaches (`hamlets_of`: their own assignments and
//! their teams' hamlets; `led_reach`: what a leader reaches of a member; and
//! `Device::scope` for what a device holds) are what every service and handler asks;
//! none decides on its own. The table of every route with who may use it is
//! `http::routes::ROUTES`, and the authorization test walks it.

use std::collections::{BTreeMap, BTreeSet};

use tungnha_client_core::{CommuneId, HamletId, ProvinceId, Role, TeamId, UserId};

use crate::records::{Commune, Device, Hamlet, User};
use crate::store::{Store, StoreError};

/// Where a person's access to a hamlet comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// An official assigned them to it, on its own (help across teams).
    Own,
    /// A team they are a member of covers it (its id and name).
    Team(TeamId, String),
}

/// Every hamlet `user` reaches, with where each access comes from.
pub fn reach(store: &dyn Store, user: &UserId) -> Result<BTreeMap<HamletId, Vec<Source>>, StoreError> {
    let mut out: BTreeMap<HamletId, Vec<Source>> = BTreeMap::new();
    for h in store.assignments_of(user)? {
        out.entry(h).or_default().push(Source::Own);
    }
    for t in store.teams_of_user(user)? {
        for h in &t.hamlets {
            out.entry(h.clone()).or_default().push(Source::Team(t.id.clone(), t.name.clone()));
        }
    }
    Ok(out)
}

/// The hamlets `user` holds: their own assignments and their teams' hamlets. What
/// their devices replicate (narrowed by `Device::scope`).
pub fn hamlets_of(store: &dyn Store, user: &UserId) -> Result<Vec<HamletId>, StoreError> {
    Ok(reach(store, user)?.into_keys().collect())
}

/// What `leader` reaches of `member`: the hamlets of the teams the leader leads that
/// the member belongs to, and nothing the member has another way (a leader never
/// obtains another team's hamlet through a member of both).
pub fn led_reach(store: &dyn Store, leader: &UserId, member: &UserId) -> Result<Vec<HamletId>, StoreError> {
    let mut out = BTreeSet::new();
    for t in store.teams_of_user(member)? {
        if t.is_led_by(leader) {
            out.extend(t.hamlets);
        }
    }
    Ok(out.into_iter().collect())
}

/// The active volunteers and leaders of the teams `leader` leads, the leader included.
pub fn members_led_by(store: &dyn Store, leader: &UserId) -> Result<Vec<User>, StoreError> {
    let mut ids = BTreeSet::new();
    for t in store.teams_of_user(leader)? {
        if t.is_led_by(leader) {
            ids.extend(t.members);
        }
    }
    let mut out = Vec::new();
    for id in ids {
        if let Some(u) = store.user(&id)?
            && u.active
            && matches!(u.role, Role::Volunteer | Role::Leader)
        {
            out.push(u);
        }
    }
    Ok(out)
}

/// Whether `user` may see and manage `commune`'s dashboards, people, assignments,
/// catalogue, audit and exports: its officials, and administrators.
pub fn may_see_commune(user: &User, commune: &CommuneId) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Official => user.commune.as_ref() == Some(commune),
        Role::ProvinceOfficer | Role::Leader | Role::Volunteer => false,
    }
}

/// Whether `user` may erase a household's personal data in `hamlet`, or export
/// everything stored about it: the officials of its commune, and administrators
/// (leaders see households, but these are the commune's decisions as data
/// controller).
pub fn may_erase_household(user: &User, hamlet: &Hamlet) -> bool {
    may_see_commune(user, &hamlet.commune)
}

/// Whether `user` may open and close `commune`'s campaigns (which rolls every hamlet's
/// log over): its officials, and administrators.
pub fn may_run_campaigns(user: &User, commune: &CommuneId) -> bool {
    may_see_commune(user, commune)
}

/// Whether `user` may read `commune`'s figures (its dashboard, read-only): those who
/// manage it, and the officers of its province.
pub fn may_read_commune(user: &User, commune: &Commune) -> bool {
    match user.role {
        Role::ProvinceOfficer => user.province.is_some() && user.province == commune.province,
        _ => may_see_commune(user, &commune.id),
    }
}

/// Whether `user` may read a team's figures (its day's report): those who may read its
/// commune's, and the team's own leaders.
pub fn may_read_team(user: &User, team: &crate::records::Team, commune: &Commune) -> bool {
    may_read_commune(user, commune) || (user.role == Role::Leader && team.is_led_by(&user.id))
}

/// Whether `user` may record a level's monthly dossier statistics: a commune's
/// officials theirs, a province's officers their agencies' and their communes' (the
/// portal's statistics come province-wide), administrators any.
pub fn may_record_filing(
    store: &dyn Store,
    user: &User,
    level: &crate::records::FilingLevel,
) -> Result<bool, StoreError> {
    use crate::records::FilingLevel;
    Ok(match level {
        FilingLevel::Province(p) => may_see_province(user, p),
        FilingLevel::Commune(c) if may_see_commune(user, c) => true,
        FilingLevel::Commune(c) => {
            user.role == Role::ProvinceOfficer
                && store.commune(c)?.is_some_and(|c| may_read_commune(user, &c))
        }
    })
}

/// Whether `user` may read `province`'s figures: its officers, and administrators.
pub fn may_see_province(user: &User, province: &ProvinceId) -> bool {
    match user.role {
        Role::Admin => true,
        Role::ProvinceOfficer => user.province.as_ref() == Some(province),
        Role::Official | Role::Leader | Role::Volunteer => false,
    }
}

/// Whether an API token may read `province`'s figures: an unrevoked one issued for it.
pub fn token_may_read_province(token: &crate::records::ApiToken, province: &ProvinceId) -> bool {
    token.revoked_at.is_none() && &token.province == province
}

/// Whether `user` may see `hamlet`'s figures and households: a leader the hamlets they
/// hold (their teams' and their own), an official their commune's, an administrator
/// every one.
pub fn may_see_hamlet(store: &dyn Store, user: &User, hamlet: &Hamlet) -> Result<bool, StoreError> {
    Ok(match user.role {
        Role::Admin => true,
        Role::Official => user.commune.as_ref() == Some(&hamlet.commune),
        Role::Leader => hamlets_of(store, &user.id)?.contains(&hamlet.id),
        // Households are not the province's to see: it reads figures.
        Role::ProvinceOfficer | Role::Volunteer => false,
    })
}

/// Whether `manager` may reset the password of, or lock, `target`. An administrator
/// may manage anyone. An official manages the volunteers and leaders of their own
/// commune, and neither other officials (administrators do that) nor any
/// administrator, whatever commune an administrator's record may name.
pub fn may_manage_person(manager: &User, target: &User) -> bool {
    match manager.role {
        Role::Admin => true,
        Role::Official => {
            manager.commune.is_some()
                && target.commune == manager.commune
                && matches!(target.role, Role::Volunteer | Role::Leader)
        }
        Role::ProvinceOfficer | Role::Leader | Role::Volunteer => false,
    }
}

/// Whether `by` may revoke `device` of `owner`: an official of the owner's commune, an
/// administrator, or a leader of the owner's team when everything the device reaches
/// comes through teams that leader leads (a phone that also holds another team's
/// hamlets is that team's leader's or the official's to revoke).
pub fn may_revoke(store: &dyn Store, by: &User, owner: &User, device: &Device) -> Result<bool, StoreError> {
    Ok(match by.role {
        Role::Admin => true,
        Role::Official => by.commune.is_some() && by.commune == owner.commune,
        Role::Leader => {
            let led: BTreeSet<HamletId> = led_reach(store, &by.id, &owner.id)?.into_iter().collect();
            !led.is_empty() && device.scope(hamlets_of(store, &owner.id)?).iter().all(|h| led.contains(h))
        }
        Role::ProvinceOfficer | Role::Volunteer => false,
    })
}

/// The people whose devices `user` manages: a leader's teams' members, an official's
/// commune, everyone for an administrator; `None` for anyone else.
pub fn device_owners(
    store: &dyn Store,
    user: &User,
) -> Result<Option<Vec<User>>, crate::service::ServiceError> {
    Ok(Some(match (user.role, &user.commune) {
        (Role::Admin, _) => store.all_users()?,
        (Role::Official, Some(c)) => store.users_of(c)?,
        (Role::Leader, _) => members_led_by(store, &user.id)?,
        _ => return Ok(None),
    }))
}
