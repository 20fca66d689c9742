//! Enrolment codes with their QR (leaders, for their team), the devices a person
//! manages and revoking one (leaders, officials, administrators).

use super::*;
use crate::service::access;

#[derive(Debug, Deserialize)]
pub(crate) struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

/// The origin devices reach this server at: the configured public URL, else as the
/// browser reached it.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.public_url() {
        return url.to_owned();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.config().secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Draws a QR code of `text` as SVG.
fn qr_svg(text: &str) -> Result<String, PageError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(PageError::internal)?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).quiet_zone(true).build())
}

pub(crate) async fn enrol(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<EnrolForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let leader = v.with_role(&[Role::Leader])?;
            let member = access::members_led_by(state.store(), &leader.id)?
                .into_iter()
                .find(|u| u.id.as_str() == form.user.trim());
            let Some(member) = member else {
                let t = v.lang.texts();
                let mut view = team_page(&state, &leader.id, None)?;
                view.errors.insert(
                    "user",
                    if form.user.trim().is_empty() { t.err_choose_member } else { t.err_unknown_person },
                );
                return Ok(unprocessable(tungnha_web::dashboard::team(&v.chrome(), &view)));
            };
            let code = enrolment::team_code(state.store(), leader, &member, ENROL_CODE_TTL_MS)?;
            let link = format!("{}/app/enrol?code={code}", origin(&state, &headers));
            let view = EnrolCodePage {
                member: member.name,
                qr_svg: qr_svg(&link)?,
                code,
                link,
                expires_at: crate::now_ms() + ENROL_CODE_TTL_MS,
            };
            // The code is a secret until used: never cached.
            Ok(([(header::CACHE_CONTROL, "no-store")], tungnha_web::manage::enrol_code(&v.chrome(), &view))
                .into_response())
        })
        .await
}

/// The users whose devices the viewer manages, by id.
fn device_owners(state: &AppState, user: &User) -> Result<BTreeMap<UserId, String>, PageError> {
    let users = access::device_owners(state.store(), user)?.ok_or(PageError::Forbidden)?;
    Ok(users.into_iter().map(|u| (u.id, u.name)).collect())
}

pub(crate) async fn devices(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<SavedQuery>,
) -> Response {
    viewer
        .run(move |v| {
            let user = v.user()?;
            let owners = device_owners(&state, user)?;
            let mut lines: Vec<DeviceLine> = Vec::new();
            for (owner, name) in &owners {
                lines.extend(state.store.devices_of(owner)?.into_iter().map(|d| DeviceLine {
                    id: d.id.to_string(),
                    name: d.name,
                    owner: name.clone(),
                    enrolled_at: d.enrolled_at,
                    last_sync_at: d.last_sync_at,
                    revoked_at: d.revoked_at,
                    final_upload_until: d.final_upload_until,
                }));
            }
            lines.sort_by(|a, b| {
                a.revoked_at
                    .is_some()
                    .cmp(&b.revoked_at.is_some())
                    .then_with(|| collate::compare(&a.owner, &b.owner))
                    .then_with(|| a.enrolled_at.cmp(&b.enrolled_at))
            });
            Ok(tungnha_web::manage::devices(&v.chrome(), &lines, q.notice(v)).into_response())
        })
        .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevokeForm {
    #[serde(default)]
    csrf: String,
    /// Ticked: the phone is lost or stolen, so it may not send its unsent work.
    #[serde(default)]
    lost: Option<String>,
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    viewer
        .run(move |v| {
            v.check_csrf(&form.csrf)?;
            let user = v.user()?;
            let id = DeviceId::parse(&id).map_err(|_| PageError::NotFound)?;
            crate::service::enrolment::revoke_device(state.store(), user, &id, form.lost.is_some())?;
            Ok(see_other("/devices?saved=1"))
        })
        .await
}
