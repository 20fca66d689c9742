//! Who may see or change what, answered in one place.
//!
//! The predicates (`may_see_commune`, `may_see_hamlet`, `may_manage_person`,
//! `may_revoke`, and `Device::scope` for what a device holds) are what every service
//! and handler asks; none decides on its own. The table of every route with who may
//! use it is `http::routes::ROUTES`, and the authorization test walks it.

use std::collections::BTreeSet;

use tungnha_client_core::{CommuneId, HamletId, ProvinceId, Role};

use crate::records::{Commune, Hamlet, User};
use crate::store::{Store, StoreError};

/// Whether `user` may see and manage `commune`'s dashboards, people, assignments,
/// catalogue, audit and exports: its officials, and administrators.
pub fn may_see_commune(user: &User, commune: &CommuneId) -> bool {
    match user.role {
        Role::Admin => true,
        Role::Official => user.commune.as_ref() == Some(commune),
        Role::ProvinceOfficer | Role::Leader | Role::Volunteer => false,
    }
}

/// Whether `user` may read `commune`'s figures (its dashboard, read-only): those who
/// manage it, and the officers of its province.
pub fn may_read_commune(user: &User, commune: &Commune) -> bool {
    match user.role {
        Role::ProvinceOfficer => user.province.is_some() && user.province == commune.province,
        _ => may_see_commune(user, &commune.id),
    }
}

/// Whether `user` may read `province`'s figures: its officers, and administrators.
pub fn may_see_province(user: &User, province: &ProvinceId) -> bool {
    match user.role {
        Role::Admin => true,
        Role::ProvinceOfficer => user.province.as_ref() == Some(province),
        Role::Official | Role::Leader | Role::Volunteer => false,
    }
}

/// Whether `user` may see `hamlet`'s figures and households: a leader their hamlets,
/// an official their commune's, an administrator every one.
pub fn may_see_hamlet(store: &dyn Store, user: &User, hamlet: &Hamlet) -> Result<bool, StoreError> {
    Ok(match user.role {
        Role::Admin => true,
        Role::Official => user.commune.as_ref() == Some(&hamlet.commune),
        Role::Leader => store.assignments_of(&user.id)?.contains(&hamlet.id),
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

/// Whether `by` may revoke a device of `owner`: an official of the owner's commune, an
/// administrator, or a leader who shares a hamlet with the owner (their team).
pub fn may_revoke(store: &dyn Store, by: &User, owner: &User) -> Result<bool, StoreError> {
    Ok(match by.role {
        Role::Admin => true,
        Role::Official => by.commune.is_some() && by.commune == owner.commune,
        Role::Leader => {
            let mine: BTreeSet<HamletId> = store.assignments_of(&by.id)?.into_iter().collect();
            store.assignments_of(&owner.id)?.iter().any(|h| mine.contains(h))
        }
        Role::ProvinceOfficer | Role::Volunteer => false,
    })
}

/// The people whose devices `user` manages: a leader's team, an official's commune,
/// everyone for an administrator; `None` for anyone else.
pub fn device_owners(
    store: &dyn Store,
    user: &User,
) -> Result<Option<Vec<User>>, crate::service::ServiceError> {
    Ok(Some(match (user.role, &user.commune) {
        (Role::Admin, _) => store.all_users()?,
        (Role::Official, Some(c)) => store.users_of(c)?,
        (Role::Leader, _) => crate::service::organisation::team_of(store, &user.id)?,
        _ => return Ok(None),
    }))
}
