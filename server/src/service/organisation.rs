//! The organisation: provinces and their communes, hamlets' targets, who is assigned where, the
//! catalogue of topics and account kinds, and the day a commune starts recording
//! visits. Used by administrators (the command line, `/admin`) and officials (the
//! web); each write is audited.

use tungnha_client_core::catalogue::Catalogue;
use tungnha_client_core::domain::{CommuneKind, HamletKind};
use tungnha_client_core::rules::text_fault;
use tungnha_client_core::{CommuneId, HamletId, ProvinceId, UserId};

use crate::records::{Commune, Hamlet, Province, User};
use crate::service::ServiceError;
use crate::service::audit::audit;
use crate::service::error::{Field, invalid};
use crate::store::Store;

/// Creates a commune with the default catalogue.
pub fn commune_add(
    store: &dyn Store,
    by: &str,
    code: &str,
    name: &str,
    kind: CommuneKind,
) -> Result<Commune, ServiceError> {
    let id = CommuneId::parse(code).map_err(|e| invalid(Field::Code, e.to_string()))?;
    if code.contains('.') {
        return Err(invalid(Field::Code, "a commune code may not contain '.'"));
    }
    if store.commune(&id)?.is_some() {
        return Err(invalid(Field::Code, format!("commune {id} exists already")));
    }
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the commune's name {fault}")));
    }
    let commune = Commune {
        id,
        name: name.to_owned(),
        kind,
        catalogue: Catalogue::default(),
        visits_from: None,
        erase_after_days: None,
        province: None,
    };
    store.put_commune(&commune)?;
    audit(store, by, Some(&commune.id), "commune_add", format!("{} {}", commune.id, commune.name))?;
    Ok(commune)
}

/// Creates a province.
pub fn province_add(store: &dyn Store, by: &str, code: &str, name: &str) -> Result<Province, ServiceError> {
    let id = ProvinceId::parse(code).map_err(|e| invalid(Field::Code, e.to_string()))?;
    if code.contains('.') {
        return Err(invalid(Field::Code, "a province code may not contain '.'"));
    }
    if store.province(&id)?.is_some() {
        return Err(invalid(Field::Code, format!("province {id} exists already")));
    }
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, format!("the province's name {fault}")));
    }
    let province = Province { id, name: name.to_owned() };
    store.put_province(&province)?;
    audit(store, by, None, "province_add", format!("{} {}", province.id, province.name))?;
    Ok(province)
}

/// Attaches a commune to its province (or moves it to another).
pub fn attach_commune(
    store: &dyn Store,
    by: &str,
    commune: &str,
    province: &str,
) -> Result<Commune, ServiceError> {
    let commune = CommuneId::parse(commune).map_err(|e| invalid(Field::Commune, e.to_string()))?;
    let province = ProvinceId::parse(province).map_err(|e| invalid(Field::Province, e.to_string()))?;
    let mut c = store
        .commune(&commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    store
        .province(&province)?
        .ok_or_else(|| invalid(Field::Province, format!("province {province} does not exist")))?;
    c.province = Some(province.clone());
    store.put_commune(&c)?;
    audit(store, by, Some(&commune), "commune_attach", format!("{commune} → {province}"))?;
    Ok(c)
}

fn user_and_hamlet(store: &dyn Store, user: &str, hamlet: &str) -> Result<(User, Hamlet), ServiceError> {
    let uid = UserId::parse(user).map_err(|e| invalid(Field::User, e.to_string()))?;
    let hid = HamletId::parse(hamlet).map_err(|e| invalid(Field::Hamlet, e.to_string()))?;
    let user = store.user(&uid)?.ok_or_else(|| invalid(Field::User, format!("user {uid} does not exist")))?;
    let hamlet =
        store.hamlet(&hid)?.ok_or_else(|| invalid(Field::Hamlet, format!("hamlet {hid} does not exist")))?;
    if user.commune.as_ref() != Some(&hamlet.commune) {
        return Err(invalid(
            Field::User,
            format!("user {} is not in the commune of hamlet {}", user.id, hamlet.id),
        ));
    }
    Ok((user, hamlet))
}

/// Assigns a user to a hamlet.
pub fn assign(store: &dyn Store, by: &str, user: &str, hamlet: &str) -> Result<(), ServiceError> {
    let (user, hamlet) = user_and_hamlet(store, user, hamlet)?;
    store.assign(&user.id, &hamlet.id)?;
    audit(store, by, Some(&hamlet.commune), "assign", format!("{} → {}", user.id, hamlet.id))
}

/// Removes a user from a hamlet.
pub fn unassign(store: &dyn Store, by: &str, user: &str, hamlet: &str) -> Result<(), ServiceError> {
    let (user, hamlet) = user_and_hamlet(store, user, hamlet)?;
    store.unassign(&user.id, &hamlet.id)?;
    audit(store, by, Some(&hamlet.commune), "unassign", format!("{} ✕ {}", user.id, hamlet.id))
}

/// Adds one of `commune`'s one-stop counters (a place of kind `HamletKind::Counter`,
/// whose log holds walk-ins), named `name`; its code is made from the name.
pub fn counter_add(
    store: &dyn Store,
    by: &str,
    commune: &CommuneId,
    name: &str,
) -> Result<Hamlet, ServiceError> {
    store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    let name = name.trim();
    if let Some(fault) = text_fault(name, true) {
        return Err(invalid(Field::Name, fault));
    }
    let budget = 64usize.saturating_sub(commune.as_str().len() + 1 + 5).clamp(2, 40);
    let code = format!("quay-{}", crate::service::teams::slug(name, budget));
    let id =
        HamletId::parse(&format!("{commune}.{code}")).map_err(|e| invalid(Field::Name, e.to_string()))?;
    if store.hamlet(&id)?.is_some() {
        return Err(invalid(
            Field::Name,
            format!("a place with the code {code} exists already; choose another name"),
        ));
    }
    let counter = Hamlet {
        id,
        code,
        name: name.to_owned(),
        kind: HamletKind::Counter,
        commune: commune.clone(),
        target_households: 0,
    };
    store.put_hamlets(std::slice::from_ref(&counter))?;
    audit(store, by, Some(commune), "counter_add", format!("{} ({})", counter.name, counter.id))?;
    Ok(counter)
}

/// The largest target a hamlet may have: no hamlet has a hundred thousand households.
pub const MAX_TARGET: u64 = 100_000;

/// Sets how many households a hamlet's team is expected to reach.
pub fn set_target(
    store: &dyn Store,
    by: &str,
    hamlet: &HamletId,
    target: u64,
) -> Result<Hamlet, ServiceError> {
    if target > MAX_TARGET {
        return Err(invalid(Field::Target, format!("a target is at most {MAX_TARGET} households")));
    }
    let mut h = store
        .hamlet(hamlet)?
        .ok_or_else(|| invalid(Field::Hamlet, format!("hamlet {hamlet} does not exist")))?;
    if h.is_counter() && target > 0 {
        return Err(invalid(Field::Target, "a counter has no households to cover"));
    }
    let before = h.target_households;
    h.target_households = target;
    store.put_hamlets(std::slice::from_ref(&h))?;
    audit(store, by, Some(&h.commune), "target", format!("{}: {before} → {target}", h.id))?;
    Ok(h)
}

/// them); labels may change and entries may be added.
pub fn set_catalogue(
    store: &dyn Store,
    by: &str,
    commune: &CommuneId,
    catalogue: Catalogue,
) -> Result<(), ServiceError> {
    let mut c = store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    for (old, new) in
        [(&c.catalogue.topics, &catalogue.topics), (&c.catalogue.account_kinds, &catalogue.account_kinds)]
    {
        if let Some(gone) = old.iter().find(|e| !new.iter().any(|n| n.code == e.code)) {
            return Err(invalid(Field::Catalogue, format!("code {} may not be removed", gone.code)));
        }
    }
    for e in catalogue.topics.iter().chain(&catalogue.account_kinds) {
        if !tungnha_client_core::catalogue::is_code(&e.code) {
            return Err(invalid(Field::Catalogue, format!("“{}” is not a code", e.code)));
        }
        if let Some(fault) = text_fault(&e.label, true) {
            return Err(invalid(Field::Catalogue, format!("the label of {} {fault}", e.code)));
        }
    }
    c.catalogue = catalogue;
    store.put_commune(&c)?;
    audit(store, by, Some(commune), "catalogue", commune.to_string())
}

/// Reads the day a commune starts recording visits (`YYYY-MM-DD`, empty for none) as
/// ms since epoch at midnight in Vietnam. It may not be before 2020 nor after today:
/// a start in the future would refuse every visit logged today.
pub fn visits_from_day(text: &str, now_ms: i64) -> Result<Option<i64>, ServiceError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        invalid(
            Field::Day,
            format!("“{}” is not a day (YYYY-MM-DD)", text.chars().take(20).collect::<String>()),
        )
    })?;
    let ms = tungnha_client_core::domain::vn_day_start(&day.to_string());
    let today = tungnha_client_core::domain::vn_day(now_ms);
    match ms {
        Some(ms) if ms >= tungnha_client_core::rules::MIN_TIME_MS && day.to_string() <= today => Ok(Some(ms)),
        _ => Err(invalid(Field::Day, format!("the day must be between 2020-01-01 and today ({today})"))),
    }
}

/// Sets (or clears) the day a commune starts recording visits; visits before it are
/// refused from then on.
pub fn set_visits_from(
    store: &dyn Store,
    by: &str,
    commune: &CommuneId,
    from: Option<i64>,
) -> Result<(), ServiceError> {
    let mut c = store
        .commune(commune)?
        .ok_or_else(|| invalid(Field::Commune, format!("commune {commune} does not exist")))?;
    c.visits_from = from;
    store.put_commune(&c)?;
    let what = from.map_or_else(|| "—".to_owned(), tungnha_client_core::domain::vn_day);
    audit(store, by, Some(commune), "visits_from", format!("{commune}: {what}"))
}
