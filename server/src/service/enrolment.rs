//! Devices: single-use enrolment codes (made by administrators, officials and leaders;
//! a leader's reaches only the leader's hamlets), enrolling a device with one, telling
//! a device who it is (`authenticate`, `me`), and revoking one (handed back: one final
//! upload; lost: none).

use std::time::Duration;

use tungnha_client_core::api::{CatalogueView, Enrolled, HamletView, Me, OutcomeView, PersonView};
use tungnha_client_core::catalogue::{Catalogue, outcome_label};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{ActorId, DeviceId, HamletId, Outcome, UserId};

use crate::records::{Device, EnrolCode, User};
use crate::service::ServiceError;
use crate::service::access;
use crate::service::audit::{CLI, audit};
use crate::service::error::{Field, invalid};
use crate::store::{Store, secret_hash};

/// The alphabet of enrolment codes: no 0/O, 1/I, so they can be read out and typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Makes a single-use enrolment code for a user, valid for `ttl_ms`, from the command
/// line: the device it enrols may hold all the user's hamlets.
pub fn enrol_code(store: &dyn Store, user: &str, ttl_ms: i64) -> Result<String, ServiceError> {
    mint_code(store, CLI, user, ttl_ms, None)
}

/// Makes a single-use enrolment code for a user, valid for `ttl_ms`, on behalf of `by`
/// (audited). With `within`, the device it enrols may only ever hold those hamlets of
/// its user's: a leader's code reaches no hamlet outside the leader's own.
pub fn mint_code(
    store: &dyn Store,
    by: &str,
    user: &str,
    ttl_ms: i64,
    within: Option<Vec<HamletId>>,
) -> Result<String, ServiceError> {
    use rand::Rng;
    let uid = UserId::parse(user).map_err(|e| invalid(Field::User, e.to_string()))?;
    let user = store.user(&uid)?.ok_or_else(|| invalid(Field::User, format!("user {uid} does not exist")))?;
    if !user.active {
        return Err(invalid(Field::User, format!("user {uid} is deactivated")));
    }
    let mut rng = rand::rng();
    let code: String =
        (0..10).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect();
    let expires_at = crate::now_ms().saturating_add(ttl_ms);
    store.put_enrol_code(&code, &EnrolCode { user: uid.clone(), expires_at, within })?;
    audit(store, by, user.commune.as_ref(), "enrol_code", uid.to_string())?;
    Ok(code)
}

/// A leader's code for a member of a team they lead: the device it enrols reaches
/// only that team's hamlets (`access::led_reach`), whatever else the member holds.
pub fn team_code(
    store: &dyn Store,
    leader: &User,
    member: &User,
    ttl_ms: i64,
) -> Result<String, ServiceError> {
    let within = access::led_reach(store, &leader.id, &member.id)?;
    if within.is_empty() {
        return Err(invalid(Field::User, format!("{} is not a member of a team you lead", member.id)));
    }
    mint_code(store, leader.id.as_str(), member.id.as_str(), ttl_ms, Some(within))
}

/// The longest an enrolment code may stay valid.
pub const MAX_CODE_TTL_MS: i64 = 30 * 86_400_000;

/// Parses a duration like `24h`, `30m`, `7d` or `90s` into milliseconds.
pub fn parse_ttl(text: &str) -> Result<i64, ServiceError> {
    let text = text.trim();
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| invalid(Field::Duration, format!("“{text}” is not a duration like 24h, 30m or 7d")))?;
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" | "" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(invalid(Field::Duration, format!("“{text}” is not a duration like 24h, 30m or 7d"))),
    };
    // The duration is bounded, not the number typed: 720h and 30d are the same limit.
    match n.checked_mul(ms) {
        Some(total) if total > 0 && total <= MAX_CODE_TTL_MS => Ok(total),
        _ => Err(invalid(Field::Duration, "the duration must be positive and at most 30 days")),
    }
}

/// How long a wrong enrolment code holds its turn before it is answered.
pub const WRONG_CODE_DELAY: Duration = Duration::from_secs(1);
/// The longest name a device may be given.
pub const MAX_DEVICE_NAME_CHARS: usize = 80;

/// Normalizes a typed code: case, spaces and dashes do not matter.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Checks the name a device asks for (empty: its owner's to fill in).
pub fn check_device_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.chars().count() > MAX_DEVICE_NAME_CHARS || text_fault(name, false).is_some() {
        return Err(ServiceError::BadRequest(format!(
            "device_name must be at most {MAX_DEVICE_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Enrols a device with a single-use code: the code is spent, and the device gets a
/// fresh token (kept only as its hash) and a fresh Automerge actor. Callers bound how
/// many codes are checked at once (`state::ENROL_CHECKS_AT_ONCE`) and make a wrong one wait
/// (`WRONG_CODE_DELAY`).
pub fn enrol(store: &dyn Store, code: &str, name: String, now: i64) -> Result<Enrolled, ServiceError> {
    let code = store.take_enrol_code(&normalize_code(code))?.ok_or(ServiceError::BadEnrolCode)?;
    if code.expires_at < now {
        return Err(ServiceError::BadEnrolCode);
    }
    let user = store.user(&code.user)?.filter(|u| u.active).ok_or(ServiceError::BadEnrolCode)?;
    let name = if name.is_empty() {
        format!("Điện thoại của {}", user.name).chars().take(MAX_DEVICE_NAME_CHARS).collect()
    } else {
        name
    };
    let actor = loop {
        let actor = ActorId::random();
        if !store.actor_taken(&actor.to_hex_string())? {
            break actor;
        }
    };
    let token = format!("tn{}", tungnha_client_core::ids::random_base32(40));
    let device = Device {
        id: DeviceId::parse(&tungnha_client_core::ids::fresh_server_id())
            .map_err(|e| ServiceError::Internal(e.to_string()))?,
        user: user.id.clone(),
        name,
        actor: actor.to_hex_string(),
        token_hash: secret_hash(&token),
        enrolled_at: now,
        revoked_at: None,
        final_upload_until: None,
        last_sync_at: None,
        within: code.within,
    };
    store.put_new_device(&device)?;
    tracing::info!(device = %device.id, user = %user.id, "device enrolled");
    Ok(Enrolled { device_id: device.id, token, actor_id: device.actor, user: user.view() })
}

/// How long a revoked device may still send its unsent work once (unless it was
/// revoked as lost or stolen).
pub const FINAL_UPLOAD_MS: i64 = 7 * 24 * 3_600_000;

/// Revokes a device, if `by` may (`access::may_revoke`), and records it in the audit
/// log. One handed back may still send its unsent work once, within
/// `FINAL_UPLOAD_MS`, before it wipes itself; one `lost` (or stolen) may not.
pub fn revoke_device(
    store: &dyn Store,
    by: &User,
    id: &DeviceId,
    lost: bool,
) -> Result<Device, ServiceError> {
    let device = store.device(id)?.ok_or_else(|| ServiceError::NotFound(format!("device {id}")))?;
    let owner =
        store.user(&device.user)?.ok_or_else(|| ServiceError::NotFound(format!("user {}", device.user)))?;
    if !access::may_revoke(store, by, &owner, &device)? {
        return Err(ServiceError::Forbidden(
            "only the owner’s team leader or commune official may revoke it".into(),
        ));
    }
    if device.revoked_at.is_some() {
        return Ok(device);
    }
    let now = crate::now_ms();
    let device = store
        .revoke_device(&device.id, now, (!lost).then_some(now + FINAL_UPLOAD_MS))?
        .ok_or_else(|| ServiceError::NotFound(format!("device {id}")))?;
    // Lost or stolen: no final upload, and the audit says so by its action.
    let action = if lost { "revoke_lost" } else { "revoke" };
    audit(
        store,
        by.id.as_str(),
        owner.commune.as_ref(),
        action,
        format!("{} ({}) · {}", device.id, device.name, device.user),
    )?;
    Ok(device)
}

/// The device and user behind a device token, whether or not the device is revoked.
pub fn authenticate(store: &dyn Store, token: Option<&str>) -> Result<(Device, User), ServiceError> {
    let token = token.ok_or(ServiceError::Unauthenticated)?;
    let device = store.device_by_token(token)?.ok_or(ServiceError::Unauthenticated)?;
    let user = store.user(&device.user)?.ok_or(ServiceError::Unauthenticated)?;
    Ok((device, user))
}

/// Like `authenticate`, refusing revoked devices and deactivated users.
pub fn active(store: &dyn Store, token: Option<&str>) -> Result<(Device, User), ServiceError> {
    let (device, user) = authenticate(store, token)?;
    if device.revoked_at.is_some() {
        return Err(ServiceError::Revoked);
    }
    if !user.active {
        return Err(ServiceError::Forbidden("this account is deactivated".into()));
    }
    Ok((device, user))
}

/// What an enrolled device is told about its user: the hamlets it holds (with the day
/// each commune started recording visits), the people who visited there (from the
/// materialised figures, never the logs), and the commune's catalogue.
pub fn me(store: &dyn Store, device: &Device, user: &User) -> Result<Me, ServiceError> {
    let mut hamlets = Vec::new();
    let mut visitors = std::collections::BTreeSet::new();
    for id in device.scope(access::hamlets_of(store, &user.id)?) {
        visitors.extend(store.coverage_headline(&id)?.per_volunteer.into_keys());
        if let Some(h) = store.hamlet(&id)? {
            let visits_from = store.commune(&h.commune)?.and_then(|c| c.visits_from);
            hamlets.push(HamletView {
                counter: h.is_counter(),
                id: h.id,
                code: h.code,
                name: h.name,
                commune: h.commune,
                visits_from,
            });
        }
    }
    let catalogue = match &user.commune {
        Some(c) => store.commune(c)?.map(|c| c.catalogue).unwrap_or_default(),
        None => Catalogue::default(),
    };
    let outcomes = Outcome::ALL
        .iter()
        .map(|o| OutcomeView { code: o.code().into(), label: outcome_label(*o).into() })
        .collect();
    let mut people = Vec::new();
    for id in visitors {
        if let Some(u) = store.user(&id)? {
            people.push(PersonView { id: u.id, name: u.name });
        }
    }
    Ok(Me { user: user.view(), hamlets, people, catalogue: CatalogueView { catalogue, outcomes } })
}
