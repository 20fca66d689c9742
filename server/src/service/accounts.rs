//! People's accounts: usernames (never a phone number), passwords (argon2id, at least
//! `MIN_PASSWORD_CHARS`), creating people, resetting passwords and deactivating, and
//! checking a password at sign-in (after the web has reserved an attempt with
//! `state::throttle::LoginThrottle` and holds a hashing turn).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use tungnha_client_core::ids::random_base32;
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, ProvinceId, Role, UserId};

use crate::records::User;
use crate::service::ServiceError;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::state::throttle::LoginThrottle;
use crate::store::{Session, Store};

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Checks a username: 2–32 of `a–z 0–9 . _ -`, with a letter (so never a phone number).
pub fn check_username(username: &str) -> Result<UserId, ServiceError> {
    let ok_chars =
        username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if !(2..=32).contains(&username.len()) || !ok_chars || !username.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(invalid(
            Field::Username,
            "a username is 2 to 32 of a–z, 0–9, '.', '_' and '-', with at least one letter (never a phone number)",
        ));
    }
    UserId::parse(username).map_err(|e| invalid(Field::Username, e.to_string()))
}

/// Hashes a password with argon2id.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid(
            Field::Password,
            format!("the password must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .map(|h| h.to_string())
        .map_err(|e| invalid(Field::Password, format!("the password could not be hashed: {e}")))
}

/// Creates a user; with no password, one who cannot sign in on the web. Province
/// officers are made by `province_officer_add`.
pub fn user_add(
    store: &dyn Store,
    by: &str,
    username: &str,
    role: Role,
    commune: Option<&str>,
    name: Option<&str>,
    password: Option<&str>,
) -> Result<User, ServiceError> {
    if role == Role::ProvinceOfficer {
        return Err(invalid(Field::Province, "a province officer belongs to a province: give --province"));
    }
    add(store, by, username, role, commune, None, name, password)
}

/// Creates a province officer of `province`, who reads its figures and nothing else.
pub fn province_officer_add(
    store: &dyn Store,
    by: &str,
    username: &str,
    province: &str,
    name: Option<&str>,
    password: Option<&str>,
) -> Result<User, ServiceError> {
    let province = ProvinceId::parse(province).map_err(|e| invalid(Field::Province, e.to_string()))?;
    store
        .province(&province)?
        .ok_or_else(|| invalid(Field::Province, format!("province {province} does not exist")))?;
    add(store, by, username, Role::ProvinceOfficer, None, Some(province), name, password)
}

#[allow(clippy::too_many_arguments)]
fn add(
    store: &dyn Store,
    by: &str,
    username: &str,
    role: Role,
    commune: Option<&str>,
    province: Option<ProvinceId>,
    name: Option<&str>,
    password: Option<&str>,
) -> Result<User, ServiceError> {
    let id = check_username(username)?;
    if store.user(&id)?.is_some() {
        return Err(invalid(Field::Username, format!("user {id} exists already")));
    }
    let commune = match commune {
        Some(c) => {
            let c = CommuneId::parse(c).map_err(|e| invalid(Field::Commune, e.to_string()))?;
            store
                .commune(&c)?
                .ok_or_else(|| invalid(Field::Commune, format!("commune {c} does not exist")))?;
            Some(c)
        }
        None if matches!(role, Role::Admin | Role::ProvinceOfficer) => None,
        None => {
            return Err(invalid(
                Field::Commune,
                "volunteers, leaders and officials belong to a commune: give --commune",
            ));
        }
    };
    if matches!(role, Role::Admin | Role::ProvinceOfficer) && commune.is_some() {
        return Err(invalid(
            Field::Commune,
            "an administrator or a province officer belongs to no commune: leave out --commune",
        ));
    }
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(username);
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the name {fault}")));
    }
    let user = User {
        id,
        name: name.to_owned(),
        role,
        commune,
        province,
        // No password: the account only syncs from enrolled devices.
        password_hash: password.map(hash_password).transpose()?.unwrap_or_else(|| NO_PASSWORD.into()),
        active: true,
    };
    store.put_user(&user)?;
    audit(store, by, user.commune.as_ref(), "user_add", format!("{} ({})", user.id, user.role))?;
    Ok(user)
}

/// The password hash of an account that cannot log in on the web (it only syncs from
/// enrolled devices). No argon2 output ever equals it.
pub const NO_PASSWORD: &str = "!";

/// Sets a user's web password; their open web sessions end.
pub fn set_password(store: &dyn Store, by: &str, user: &UserId, password: &str) -> Result<(), ServiceError> {
    let mut u =
        store.user(user)?.ok_or_else(|| invalid(Field::User, format!("user {user} does not exist")))?;
    u.password_hash = hash_password(password)?;
    store.put_user(&u)?;
    store.remove_sessions_of(user)?;
    audit(store, by, u.commune.as_ref(), "password_reset", user.to_string())
}

/// Activates or deactivates a user. A deactivated user can neither sign in nor sync,
/// and their open web sessions end.
pub fn set_active(store: &dyn Store, by: &str, user: &UserId, active: bool) -> Result<(), ServiceError> {
    let mut u =
        store.user(user)?.ok_or_else(|| invalid(Field::User, format!("user {user} does not exist")))?;
    u.active = active;
    store.put_user(&u)?;
    if !active {
        store.remove_sessions_of(user)?;
    }
    audit(store, by, u.commune.as_ref(), if active { "reactivate" } else { "deactivate" }, user.to_string())
}

// ---- signing in ----

/// A hash of a random password, made once with the same parameters as real ones.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_base32(24)).unwrap_or_default())
}

/// Whether a password matches a parsed argon2 hash.
fn password_matches(hash: &PasswordHash<'_>, password: &str) -> bool {
    argon2::Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// Reserves one sign-in attempt for a username that is someone's in the store, so
/// that every server instance sharing one database counts the same attempts; the
/// caller has reserved it in this instance's memory first (`LoginThrottle::reserve`,
/// which bounds how many names a spray makes it track). False: the name must wait.
pub fn reserve_shared_attempt(store: &dyn Store, username: &str, now: i64) -> Result<bool, ServiceError> {
    use crate::state::throttle::{MAX_FAILURES, WINDOW_MS};
    let Ok(id) = UserId::parse(username) else { return Ok(true) };
    if store.user(&id)?.is_none() {
        return Ok(true);
    }
    Ok(store.reserve_sign_in(&id, now, WINDOW_MS, MAX_FAILURES)?)
}

/// Forgets the attempts of someone who just signed in, on every instance.
pub fn attempt_succeeded(
    store: &dyn Store,
    throttle: &LoginThrottle,
    user: &User,
) -> Result<(), ServiceError> {
    throttle.succeeded(user.id.as_str());
    Ok(store.clear_sign_ins(&user.id)?)
}

/// Checks a password for a username: the user, if it is theirs and they are active.
/// Unknown, deactivated and password-less accounts are checked against a stand-in
/// hash, so that every answer takes as long as a real check. Callers reserve an
/// attempt with the throttle first and hold a hashing turn.
pub fn check_password(
    store: &dyn Store,
    throttle: &LoginThrottle,
    username: &str,
    password: &str,
) -> Result<Option<User>, ServiceError> {
    throttle.count_check();
    let user = UserId::parse(username).ok().map(|id| store.user(&id)).transpose()?.flatten();
    let real = user.as_ref().filter(|u| u.active).and_then(|u| PasswordHash::new(&u.password_hash).ok());
    let matches = match &real {
        Some(hash) => password_matches(hash, password),
        None => {
            let _ = PasswordHash::new(stand_in_hash()).map(|h| password_matches(&h, password));
            false
        }
    };
    Ok(user.filter(|_| matches))
}

/// The session behind a token and its user, if the session has not ended and the
/// user is still active.
pub fn signed_in(store: &dyn Store, token: &str, now: i64) -> Result<Option<(Session, User)>, ServiceError> {
    let Some(session) = store.session(token, now)? else { return Ok(None) };
    Ok(store.user(&session.user)?.filter(|u| u.active).map(|user| (session, user)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_without_a_password_never_sign_in() {
        assert!(PasswordHash::new(NO_PASSWORD).is_err());
        let hash = hash_password("mật khẩu dài").expect("hash");
        let hash = PasswordHash::new(&hash).expect("parses");
        assert!(password_matches(&hash, "mật khẩu dài"));
        assert!(!password_matches(&hash, "mật khẩu dai"));
    }
}
