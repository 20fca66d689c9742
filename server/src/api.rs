//! HTTP API v1 for devices: enrolment, `me`, sync, coverage and revocation. Each
//! handler authenticates, checks role and scope, and does its blocking work (sled,
//! Automerge) on a blocking thread.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tungnha_client_core::api::{
    CatalogueView, EnrolRequest, Enrolled, HamletView, Me, OutcomeView, PersonView, UserView,
};
use tungnha_client_core::catalogue::{Catalogue, outcome_label};
use tungnha_client_core::{ActorId, CommuneId, Coverage, DeviceId, HamletId, HouseholdId, Outcome};

use crate::AppState;
use crate::access::{self, Routes};
use crate::error::ApiError;
use crate::records::{AuditEvent, Device, Hamlet, User};

pub(crate) fn router() -> Routes {
    Routes::new()
        .route("/api/v1/enrol", post(enrol))
        .route("/api/v1/me", get(me))
        .route("/api/v1/sync", post(sync))
        .route("/api/v1/communes/{id}/coverage", get(commune_coverage))
        .route("/api/v1/hamlets/{id}/coverage", get(hamlet_coverage))
        .route("/api/v1/devices/{id}/revoke", post(revoke))
}

/// Runs blocking work off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))?
}

fn body(bytes: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    bytes.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::BadRequest(e.body_text()),
    })
}

fn json_body<T: for<'de> Deserialize<'de>>(bytes: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body(bytes)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid: {e}")))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// The device and user behind a bearer token, whether or not the device is revoked.
fn authenticate(state: &AppState, token: Option<String>) -> Result<(Device, User), ApiError> {
    let token = token.ok_or(ApiError::Unauthenticated)?;
    let device = state.db.device_by_token(&token)?.ok_or(ApiError::Unauthenticated)?;
    let user = state.db.user(&device.user)?.ok_or(ApiError::Unauthenticated)?;
    Ok((device, user))
}

/// Like `authenticate`, refusing revoked devices and deactivated users.
fn active(state: &AppState, token: Option<String>) -> Result<(Device, User), ApiError> {
    let (device, user) = authenticate(state, token)?;
    if device.revoked_at.is_some() {
        return Err(ApiError::Revoked);
    }
    if !user.active {
        return Err(ApiError::Forbidden("this account is deactivated".into()));
    }
    Ok((device, user))
}

fn user_view(u: &User) -> UserView {
    UserView { id: u.id.clone(), name: u.name.clone(), role: u.role }
}

/// Enrolment codes checked at once, server-wide.
pub const ENROL_CHECKS_AT_ONCE: usize = 8;
/// How long a wrong enrolment code holds its turn before it is answered.
pub const WRONG_CODE_DELAY: Duration = Duration::from_secs(1);

/// Normalizes a typed code: case, spaces and dashes do not matter.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

async fn enrol(
    State(state): State<AppState>,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: EnrolRequest = json_body(bytes)?;
    // An empty name is the owner's to fill in: the device is named after them below.
    let name = req.device_name.trim().to_owned();
    if name.chars().count() > 80 || tungnha_client_core::rules::text_fault(&name, false).is_some() {
        return Err(ApiError::BadRequest(
            "device_name must be at most 80 characters, without control characters".into(),
        ));
    }
    // Codes are 50 random bits; guessing is slowed all the same, without locking
    // anyone out: at most `ENROL_CHECKS_AT_ONCE` codes are checked at a time, and a
    // wrong one holds its turn for `WRONG_CODE_DELAY` before it is answered, so the
    // whole server tries at most a few codes a second, however many connections ask.
    let Ok(Ok(turn)) =
        tokio::time::timeout(Duration::from_secs(30), state.enrol_checks.clone().acquire_owned()).await
    else {
        return Err(ApiError::TooManyAttempts);
    };
    let enrolled = blocking(move || {
        let code = state.db.take_enrol_code(&normalize_code(&req.code))?.ok_or(ApiError::BadEnrolCode)?;
        let now = crate::now_ms();
        if code.expires_at < now {
            return Err(ApiError::BadEnrolCode);
        }
        let user = state.db.user(&code.user)?.filter(|u| u.active).ok_or(ApiError::BadEnrolCode)?;
        let name = if name.is_empty() {
            format!("Điện thoại của {}", user.name).chars().take(80).collect()
        } else {
            name
        };
        let actor = loop {
            let actor = ActorId::random();
            if !state.db.actor_taken(&actor.to_hex_string())? {
                break actor;
            }
        };
        let token = format!("tn{}", tungnha_client_core::ids::random_base32(40));
        let device = Device {
            id: DeviceId::parse(&tungnha_client_core::ids::fresh_server_id())
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            user: user.id.clone(),
            name,
            actor: actor.to_hex_string(),
            token_hash: crate::db::secret_hash(&token),
            enrolled_at: now,
            revoked_at: None,
            final_upload_until: None,
            last_sync_at: None,
            within: code.within,
        };
        state.db.put_new_device(&device)?;
        tracing::info!(device = %device.id, user = %user.id, "device enrolled");
        Ok(Enrolled { device_id: device.id, token, actor_id: device.actor, user: user_view(&user) })
    })
    .await;
    if let Err(ApiError::BadEnrolCode) = &enrolled {
        tokio::time::sleep(WRONG_CODE_DELAY).await;
    }
    drop(turn);
    Ok((StatusCode::CREATED, Json(enrolled?)).into_response())
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let token = bearer(&headers);
    let me = blocking(move || {
        let (device, user) = active(&state, token)?;
        let mut hamlets = Vec::new();
        let mut visitors = std::collections::BTreeSet::new();
        for id in device.scope(state.db.assignments_of(&user.id)?) {
            // Who visited, from the hamlet's materialized figures (never its log).
            visitors.extend(state.db.coverage_headline(&id)?.per_volunteer.into_keys());
            if let Some(h) = state.db.hamlet(&id)? {
                let visits_from = state.db.commune(&h.commune)?.and_then(|c| c.visits_from);
                hamlets.push(HamletView {
                    id: h.id,
                    code: h.code,
                    name: h.name,
                    commune: h.commune,
                    visits_from,
                });
            }
        }
        let catalogue = match &user.commune {
            Some(c) => state.db.commune(c)?.map(|c| c.catalogue).unwrap_or_default(),
            None => Catalogue::default(),
        };
        let outcomes = Outcome::ALL
            .iter()
            .map(|o| OutcomeView { code: o.code().into(), label: outcome_label(*o).into() })
            .collect();
        let mut people = Vec::new();
        for id in visitors {
            if let Some(u) = state.db.user(&id)? {
                people.push(PersonView { id: u.id, name: u.name });
            }
        }
        Ok(Me { user: user_view(&user), hamlets, people, catalogue: CatalogueView { catalogue, outcomes } })
    })
    .await?;
    Ok(Json(me))
}

async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let token = bearer(&headers);
    let bytes = body(bytes)?;
    let synced = blocking(move || {
        let (device, user) = authenticate(&state, token)?;
        crate::sync::run(&state, device, &user, &bytes, crate::now_ms())
    })
    .await?;
    metrics::counter!("tungnha_sync_rounds_total").increment(1);
    metrics::counter!("tungnha_changes_merged_total").increment(synced.merged as u64);
    Ok(([(CONTENT_TYPE, "application/octet-stream")], synced.reply).into_response())
}

/// One hamlet's figures in the API.
#[derive(Debug, Serialize, Deserialize)]
pub struct HamletCoverage {
    /// Id.
    pub id: HamletId,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Target households.
    pub target_households: u64,
    /// covered / max(target, registered).
    pub ratio: f64,
    /// The figures.
    pub coverage: Coverage,
}

fn hamlet_row(h: &Hamlet, coverage: Coverage) -> HamletCoverage {
    HamletCoverage {
        id: h.id.clone(),
        code: h.code.clone(),
        name: h.name.clone(),
        target_households: h.target_households,
        ratio: coverage.ratio(h.target_households),
        coverage,
    }
}

/// `GET /api/v1/hamlets/{id}/coverage`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HamletReport {
    /// The hamlet and its figures (per volunteer and per day included).
    #[serde(flatten)]
    pub hamlet: HamletCoverage,
    /// Households whose latest visit asks for another.
    pub follow_ups: Vec<HouseholdId>,
}

/// `GET /api/v1/communes/{id}/coverage`.
#[derive(Debug, Serialize, Deserialize)]
pub struct CommuneReport {
    /// Id.
    pub id: CommuneId,
    /// Name.
    pub name: String,
    /// Sum of the hamlets' targets.
    pub target_households: u64,
    /// Sum of the hamlets' households to cover (`coverage::to_cover`).
    pub to_cover: u64,
    /// covered / to_cover, over the commune.
    pub ratio: f64,
    /// The sums over its hamlets (without day series: see each hamlet's report).
    pub totals: Coverage,
    /// One row per hamlet.
    pub hamlets: Vec<HamletCoverage>,
}

async fn hamlet_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<HamletReport>, ApiError> {
    let token = bearer(&headers);
    let report = blocking(move || {
        let (_, user) = active(&state, token)?;
        let id = HamletId::parse(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let hamlet = state.db.hamlet(&id)?.ok_or_else(|| ApiError::NotFound(format!("hamlet {id}")))?;
        if !access::may_see_hamlet(&state, &user, &hamlet)? {
            return Err(ApiError::Forbidden("you may not see this hamlet’s figures".into()));
        }
        let follow_ups = match state.docs.get(&state.db, &id)? {
            Some(entry) => crate::docs::lock(&entry).ledger.follow_ups(),
            None => Vec::new(),
        };
        Ok(HamletReport { hamlet: hamlet_row(&hamlet, state.db.coverage(&id)?), follow_ups })
    })
    .await?;
    Ok(Json(report))
}

/// The commune report, from the materialized coverage: O(hamlets), never O(visits).
pub fn commune_report(state: &AppState, commune: &CommuneId) -> Result<CommuneReport, ApiError> {
    let c = state.db.commune(commune)?.ok_or_else(|| ApiError::NotFound(format!("commune {commune}")))?;
    let mut totals = Coverage::default();
    let (mut target, mut to_cover) = (0, 0);
    let mut hamlets = Vec::new();
    for h in state.db.hamlets_of(commune)? {
        // Headline figures only: day series are on each hamlet's own report, so the
        // cost of this answer follows the number of hamlets, not the campaign's days.
        let mut coverage = state.db.coverage_headline(&h.id)?;
        totals.absorb(&coverage);
        target += h.target_households;
        to_cover += tungnha_client_core::coverage::to_cover(h.target_households, coverage.registered);
        coverage.per_volunteer.clear();
        hamlets.push(hamlet_row(&h, coverage));
    }
    Ok(CommuneReport {
        id: c.id,
        name: c.name,
        target_households: target,
        to_cover,
        ratio: tungnha_client_core::coverage::share(totals.covered, to_cover),
        totals,
        hamlets,
    })
}

async fn commune_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<CommuneReport>, ApiError> {
    let token = bearer(&headers);
    let report = blocking(move || {
        let (_, user) = active(&state, token)?;
        let id = CommuneId::parse(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if !access::may_see_commune(&user, &id) {
            return Err(ApiError::Forbidden("only the commune’s officials may see its figures".into()));
        }
        commune_report(&state, &id)
    })
    .await?;
    Ok(Json(report))
}

/// Revokes a device and records it in the audit log.
/// How long a revoked device may still send its unsent work once (unless it was
/// revoked as lost or stolen).
pub const FINAL_UPLOAD_MS: i64 = 7 * 24 * 3_600_000;

/// Revokes a device. One handed back may still send its unsent work once, within
/// `FINAL_UPLOAD_MS`, before it wipes itself; one `lost` (or stolen) may not.
pub fn revoke_device(state: &AppState, by: &User, id: &DeviceId, lost: bool) -> Result<Device, ApiError> {
    let device = state.db.device(id)?.ok_or_else(|| ApiError::NotFound(format!("device {id}")))?;
    let owner =
        state.db.user(&device.user)?.ok_or_else(|| ApiError::NotFound(format!("user {}", device.user)))?;
    if !access::may_revoke(state, by, &owner)? {
        return Err(ApiError::Forbidden(
            "only the owner’s team leader or commune official may revoke it".into(),
        ));
    }
    if device.revoked_at.is_none() {
        let now = crate::now_ms();
        let device = state
            .db
            .revoke_device(&device.id, now, (!lost).then_some(now + FINAL_UPLOAD_MS))?
            .ok_or_else(|| ApiError::NotFound(format!("device {id}")))?;
        // Lost or stolen: no final upload, and the audit says so by its action.
        state.db.audit(&AuditEvent {
            at: now,
            by: by.id.to_string(),
            commune: owner.commune.clone(),
            action: if lost { "revoke_lost" } else { "revoke" }.into(),
            detail: format!("{} ({}) · {}", device.id, device.name, device.user),
        })?;
        return Ok(device);
    }
    Ok(device)
}

/// `POST /api/v1/devices/{id}/revoke` answer.
#[derive(Debug, Serialize)]
pub struct Revoked {
    /// The device.
    pub device_id: DeviceId,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// `?lost=true`: the device is lost or stolen, so it may not send its unsent work.
#[derive(Debug, Deserialize)]
struct RevokeQuery {
    #[serde(default)]
    lost: bool,
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RevokeQuery>,
) -> Result<Json<Revoked>, ApiError> {
    let token = bearer(&headers);
    let out = blocking(move || {
        let (_, user) = active(&state, token)?;
        let id = DeviceId::parse(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let device = revoke_device(&state, &user, &id, q.lost)?;
        Ok(Revoked { device_id: device.id, revoked_at: device.revoked_at })
    })
    .await?;
    Ok(Json(out))
}
