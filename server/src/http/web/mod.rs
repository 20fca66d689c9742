//! The web side: handlers that check who may see what, build view-models from the
//! database and render them with `tungnha_web`.
//!
//! - `Viewer` is extracted from every page request: the language (cookie `lang`), the
//!   session (cookie `tn_session`, stored hashed by the store) and its user, who must still
//!   be active.
//! - Every handler runs its work through `Viewer::respond`, which turns a `PageError`
//!   into a 403/404/500 page in the viewer's language, or into a redirect to sign in.
//! - Every state-changing form is a POST carrying the session's CSRF token, checked by
//!   `Viewer::check_csrf` before anything else.
//!
//! Modules: `session` (sign-in, sign-out, language, throttling), `pages` (dashboards
//! and coverage pages), `manage` (assignments, teams, people, catalogue, audit, devices,
//! enrolment, administration) and `export` (Excel and CSV).

mod day;
mod erasure;
mod export;
mod manage;
mod pages;
mod review;
pub mod session;

use crate::http::routes::Routes;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use tungnha_client_core::{CommuneId, Role};
use tungnha_web::auth::ErrorKind;
use tungnha_web::{Chrome, Lang, SignedIn};

use crate::AppState;
use crate::records::{Hamlet, User};
use crate::service::error::Field;
use crate::service::{Invalid, ServiceError};
use crate::store::{Session, StoreError};

/// Largest web form accepted, in bytes: the longest form (the catalogue) is a few
/// kilobytes; the sync endpoint keeps the server's larger limit.
pub const FORM_LIMIT: usize = 64 * 1024;

pub(crate) fn router() -> Routes {
    Routes::new()
        .route("/", get(pages::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang/{code}", get(session::set_lang))
        .route("/static/app.css", get(stylesheet))
        .route("/static/web.js", get(script))
        .route("/static/icon.svg", get(icon))
        .route("/provinces/{id}", get(pages::province))
        .route("/provinces/{id}/export.xlsx", get(export::province_xlsx))
        .route("/provinces/{id}/export.csv", get(export::province_csv))
        .route("/provinces/{id}/day", get(day::province::<false>))
        .route("/provinces/{id}/day.png", get(day::province::<true>))
        .route("/provinces/{id}/filing", get(manage::province_filing).post(manage::record_province_month))
        .route("/provinces/{id}/filing/import", post(manage::import_province_months))
        .route("/communes/{id}", get(pages::commune))
        .route("/communes/{id}/day", get(day::commune::<false>))
        .route("/communes/{id}/day.png", get(day::commune::<true>))
        .route("/communes/{id}/filing", get(manage::commune_filing).post(manage::record_commune_month))
        .route("/communes/{id}/filing/import", post(manage::import_commune_months))
        .route("/communes/{id}/teams/{team}/day", get(day::team::<false>))
        .route("/communes/{id}/teams/{team}/day.png", get(day::team::<true>))
        .route("/communes/{id}/export.xlsx", get(export::commune_xlsx))
        .route("/communes/{id}/export.csv", get(export::commune_csv))
        .route("/communes/{id}/assignments", get(manage::assignments).post(manage::assign))
        .route("/communes/{id}/teams", get(manage::teams).post(manage::add_team))
        .route("/communes/{id}/teams/{team}", get(manage::team).post(manage::change_team))
        .route("/communes/{id}/targets", post(manage::set_target))
        .route("/communes/{id}/counters", post(manage::add_counter))
        .route("/communes/{id}/people", get(manage::people).post(manage::add_person))
        .route("/communes/{id}/people/{user}/password", post(manage::reset_password))
        .route("/communes/{id}/people/{user}/active", post(manage::set_active))
        .route("/communes/{id}/catalogue", get(manage::catalogue).post(manage::save_catalogue))
        .route("/communes/{id}/campaigns", get(manage::campaigns_page).post(manage::open_campaign))
        .route("/communes/{id}/campaigns/{number}/close", post(manage::close_campaign))
        .route("/communes/{id}/visits-from", post(manage::save_visits_from))
        .route("/communes/{id}/retention", post(manage::save_retention))
        .route("/communes/{id}/audit", get(manage::audit))
        .route("/hamlets/{id}", get(pages::hamlet))
        .route("/hamlets/{id}/export.xlsx", get(export::hamlet_xlsx))
        .route("/hamlets/{id}/export.csv", get(export::hamlet_csv))
        .route("/hamlets/{id}/households/{household}", get(pages::household))
        .route("/hamlets/{id}/review", get(review::page).post(review::decide))
        .route("/hamlets/{id}/households/{household}/merge", post(review::merge))
        .route("/hamlets/{id}/households/{household}/erase", post(erasure::erase))
        .route("/hamlets/{id}/rollover", post(manage::roll_over_hamlet))
        .route("/hamlets/{id}/households/{household}/export.json", get(erasure::export))
        .route("/team", get(pages::team))
        .route("/team/follow-ups/print", get(pages::team_follow_ups_print))
        .route("/team/enrol", post(manage::enrol))
        .route("/devices", get(manage::devices))
        .route("/devices/{id}/revoke", post(manage::revoke))
        .route("/admin", get(manage::admin))
        .route("/admin/provinces", post(manage::add_province))
        .route("/admin/communes", post(manage::add_commune))
        .route("/admin/communes/attach", post(manage::attach_commune))
        .route("/admin/api-tokens", post(manage::issue_api_token))
        .route("/admin/api-tokens/{id}/revoke", post(manage::revoke_api_token))
        .route("/admin/officials", post(manage::add_official))
        .route("/admin/province-officers", post(manage::add_province_officer))
        .map(|r| r.layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT)))
}

async fn stylesheet() -> Response {
    static_asset("text/css; charset=utf-8", tungnha_web::STYLESHEET)
}

async fn script() -> Response {
    static_asset("text/javascript; charset=utf-8", tungnha_web::SCRIPT)
}

async fn icon() -> Response {
    static_asset("image/svg+xml", tungnha_web::ICON_SVG)
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}

/// A form body, like axum's `Form`, except that a name or value that is not UTF-8 once
/// percent-decoded is refused with 422 instead of being silently replaced (which
/// would store text nobody typed).
#[derive(Debug)]
pub(crate) struct Form<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            axum::body::Bytes::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        let unreadable = || {
            let text = "Biểu mẫu có ký tự không đọc được (không phải UTF-8); không có gì được lưu.\n\
                        The form holds text that is not UTF-8; nothing was saved.\n";
            (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text)
                .into_response()
        };
        for pair in bytes.split(|b| *b == b'&') {
            let decoded: Vec<u8> = percent_encoding::percent_decode(pair).collect();
            if std::str::from_utf8(&decoded).is_err() {
                return Err(unreadable());
            }
        }
        serde_urlencoded::from_bytes(&bytes).map(Form).map_err(|_| unreadable())
    }
}

/// Why a page cannot be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Nobody is signed in: go to the sign-in page, then come back.
    SignIn,
    /// Signed in, but not theirs.
    Forbidden,
    /// No such page or record.
    NotFound,
    /// A POST without the session's CSRF token.
    BadForm,
    /// A write the rules refuse (a merge into an entry that left the list): 422.
    Refused,
    /// A field that forms check could not (it changed meanwhile, say): 422, naming it.
    Invalid(Invalid),
    /// Something broke; logged, and a generic page shown.
    Internal(ServiceError),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.into())
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Forbidden(_) => PageError::Forbidden,
            ServiceError::NotFound(_) | ServiceError::BadRequest(_) => PageError::NotFound,
            ServiceError::RuleViolation { .. } => PageError::Refused,
            ServiceError::Invalid(invalid) => PageError::Invalid(invalid),
            other => PageError::Internal(other),
        }
    }
}

impl PageError {
    /// Something outside the services broke (a QR code, a spreadsheet writer).
    pub(crate) fn internal(e: impl std::fmt::Display) -> Self {
        PageError::Internal(ServiceError::Internal(e.to_string()))
    }
}

/// A field's label in the viewer's language.
fn field_label(t: &tungnha_web::Texts, field: Field) -> &'static str {
    match field {
        Field::Code => t.code,
        Field::Name => t.full_name,
        Field::Username | Field::User => t.username,
        Field::Password => t.password,
        Field::Commune => t.commune,
        Field::Province => t.nav_province,
        Field::Hamlet => t.hamlet,
        Field::Team => t.nav_teams,
        Field::Target => t.target,
        Field::Day => t.field_day,
        Field::Month => t.field_month,
        Field::Dossiers => t.fl_received,
        Field::Duration => t.nav_devices,
        Field::File => t.nav_admin,
        Field::Catalogue => t.nav_catalogue,
        Field::Reason => t.erase_reason,
        Field::Household => t.household,
        Field::Campaign => t.nav_campaigns,
    }
}

/// `?done=…`: what a form just did, for the page it sent the viewer back to.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub(crate) done: String,
}

/// What a page handler produces.
pub(crate) type PageResult = Result<Response, PageError>;

/// Who is asking, in which language, from which page.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub lang: Lang,
    pub path: String,
    pub session: Option<(Session, User)>,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = jar.get(session::LANG_COOKIE).map(|c| Lang::from_code(c.value())).unwrap_or_default();
        let path = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let token = jar.get(session::SESSION_COOKIE).map(|c| c.value().to_owned());
        let session = match token {
            Some(token) => {
                let state = state.clone();
                tokio::task::spawn_blocking(move || session::signed_in(&state, &token)).await.ok().flatten()
            }
            None => None,
        };
        Ok(Viewer { lang, path, session })
    }
}

impl Viewer {
    /// The page shell's inputs.
    pub fn chrome(&self) -> Chrome {
        Chrome {
            lang: self.lang,
            csrf: self.session.as_ref().map(|(s, _)| s.csrf.clone()).unwrap_or_default(),
            path: self.path.clone(),
            user: self.session.as_ref().map(|(_, u)| SignedIn {
                name: u.name.clone(),
                role: u.role,
                commune: u.commune.as_ref().map(|c| c.to_string()),
                province: u.province.as_ref().map(|p| p.to_string()),
            }),
        }
    }

    /// The signed-in user, or the sign-in page.
    pub fn user(&self) -> Result<&User, PageError> {
        self.session.as_ref().map(|(_, u)| u).ok_or(PageError::SignIn)
    }

    /// The signed-in user if their role is one of `roles`.
    pub fn with_role(&self, roles: &[Role]) -> Result<&User, PageError> {
        let user = self.user()?;
        if roles.contains(&user.role) { Ok(user) } else { Err(PageError::Forbidden) }
    }

    /// The signed-in user if they may manage `commune`: its officials, or an admin.
    pub fn official_of(&self, commune: &CommuneId) -> Result<&User, PageError> {
        let user = self.user()?;
        if crate::service::access::may_see_commune(user, commune) {
            Ok(user)
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// Refuses a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        let (session, _) = self.session.as_ref().ok_or(PageError::SignIn)?;
        if !session.csrf.is_empty() && constant_time_eq(session.csrf.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::BadForm)
        }
    }

    /// Runs a page's blocking work (storage, Automerge) off the async executor and
    /// responds with its result.
    pub async fn run(self, work: impl FnOnce(&Viewer) -> PageResult + Send + 'static) -> Response {
        let viewer = self.clone();
        let result = blocking(move || work(&viewer)).await;
        self.respond(result)
    }

    /// Turns a handler's result into a response, rendering errors in the viewer's language.
    pub fn respond(&self, result: PageResult) -> Response {
        let (status, kind) = match result {
            Ok(response) => return response,
            Err(PageError::SignIn) => {
                let to = format!("/login?next={}", tungnha_web::layout::url_part(&self.path));
                return Redirect::to(&to).into_response();
            }
            Err(PageError::Forbidden) => (StatusCode::FORBIDDEN, ErrorKind::Forbidden),
            Err(PageError::NotFound) => (StatusCode::NOT_FOUND, ErrorKind::NotFound),
            Err(PageError::BadForm) => (StatusCode::FORBIDDEN, ErrorKind::BadForm),
            Err(PageError::Refused) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorKind::Refused),
            Err(PageError::Invalid(invalid)) => {
                tracing::info!(field = invalid.field.name(), reason = %invalid.reason, "a form was refused");
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorKind::Invalid(field_label(self.chrome().t(), invalid.field)),
                )
            }
            Err(PageError::Internal(e)) => {
                tracing::error!(error = %e, path = %self.path, "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::Server)
            }
        };
        (status, tungnha_web::auth::error(&self.chrome(), kind)).into_response()
    }
}

/// Compares two secrets in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Runs blocking page work (storage, Automerge) off the async executor.
pub(crate) async fn blocking(f: impl FnOnce() -> PageResult + Send + 'static) -> PageResult {
    super::blocking(f).await
}

/// A hamlet by the id in a path, or 404.
pub(crate) fn hamlet_of_path(state: &AppState, id: &str) -> Result<Hamlet, PageError> {
    let id = tungnha_client_core::HamletId::parse(id).map_err(|_| PageError::NotFound)?;
    state.store.hamlet(&id)?.ok_or(PageError::NotFound)
}

/// A hamlet the viewer may see (official of its commune, leader assigned, admin).
pub(crate) fn visible_hamlet(state: &AppState, viewer: &Viewer, id: &str) -> Result<Hamlet, PageError> {
    let user = viewer.user()?;
    let hamlet = hamlet_of_path(state, id)?;
    if crate::service::access::may_see_hamlet(state.store(), user, &hamlet)? {
        Ok(hamlet)
    } else {
        Err(PageError::Forbidden)
    }
}

/// A redirect after a successful POST (so reloading does not post again).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[cfg(test)]
mod tests {
    use tungnha_client_core::domain::MAX_TEXT_CHARS;
    use tungnha_web::Lang;

    use crate::service::accounts::MIN_PASSWORD_CHARS;

    #[test]
    fn the_pages_state_the_limits_the_services_apply() {
        for lang in [Lang::Vi, Lang::En] {
            let t = lang.texts();
            let (min, max) = (MIN_PASSWORD_CHARS.to_string(), MAX_TEXT_CHARS.to_string());
            assert!(t.new_password.contains(&min), "{lang:?}: {}", t.new_password);
            assert!(t.err_password_short.contains(&min), "{lang:?}: {}", t.err_password_short);
            assert!(t.err_too_long.contains(&max), "{lang:?}: {}", t.err_too_long);
        }
    }
}
