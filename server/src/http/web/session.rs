//! Signing in and out, the language switch, and the throttle on failed sign-ins.
//!
//! - A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when the
//!   server is reached over TLS); the store keeps only its hash, with the user, the CSRF
//!   token of its forms and its end.
//! - The sign-in form has no session yet, so it carries a double-submit token: a
//!   random value in a short cookie that the form must repeat.
//! - After `throttle::MAX_FAILURES` failed sign-ins for one username within
//!   `throttle::WINDOW_MS`, that username is refused until the window ends, even with
//!   the right password (`state::throttle::LoginThrottle`).

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use tungnha_client_core::Role;
use tungnha_client_core::ids::random_base32;
use tungnha_web::Lang;
use tungnha_web::auth::LoginPage;

use super::{Form, PageError, Viewer, blocking, see_other};
use crate::AppState;
use crate::records::User;
use crate::service::accounts;
use crate::store::Session;

/// The session cookie.
pub const SESSION_COOKIE: &str = "tn_session";
/// The language cookie.
pub const LANG_COOKIE: &str = "lang";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "tn_login";
/// How long a session lasts: a week, since leaders sign in on their own phones.
pub const SESSION_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Longest username or password the sign-in form reads; anything longer is refused
/// before it is hashed, stored as a throttle key, logged or echoed.
pub const MAX_CREDENTIAL_LEN: usize = 128;
/// The session and its active user behind a cookie's token, if any. A storage failure
/// is logged and reads as signed out: the page then asks to sign in again.
pub fn signed_in(state: &AppState, token: &str) -> Option<(Session, User)> {
    accounts::signed_in(state.store(), token, crate::now_ms())
        .inspect_err(|e| tracing::error!(error = %e, "could not read a session"))
        .ok()
        .flatten()
}

fn cookie(state: &AppState, name: &'static str, value: String, max_age_s: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config().secure_cookies)
        .max_age(time_duration(max_age_s))
        .build()
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}

/// Where a `next` parameter may send someone: only a path on this server. One leading
/// `/`, then anything but `/` or `\`; no backslash, control character or white space
/// anywhere (browsers drop tabs and newlines, so `/\t/evil.example` would leave).
pub fn safe_next(next: &str) -> Option<&str> {
    let mut chars = next.chars();
    let local = chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !next.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    local.then_some(next)
}

/// Where a user starts.
pub fn home_of(user: &User) -> String {
    match (user.role, &user.commune) {
        (Role::Official, Some(c)) => format!("/communes/{}", tungnha_web::layout::url_part(c.as_str())),
        (Role::Leader, _) => "/team".into(),
        (Role::ProvinceOfficer, _) => match &user.province {
            Some(p) => format!("/provinces/{}", tungnha_web::layout::url_part(p.as_str())),
            None => "/".into(),
        },
        (Role::Admin, _) => "/admin".into(),
        _ => "/".into(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

fn render_login(state: &AppState, viewer: &Viewer, jar: CookieJar, view: LoginPage) -> Response {
    let token = random_base32(32);
    let jar = jar.add(cookie(state, LOGIN_COOKIE, token.clone(), 3600));
    let chrome = tungnha_web::Chrome { csrf: token, user: None, ..viewer.chrome() };
    (jar, tungnha_web::auth::login(&chrome, &view)).into_response()
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Some((_, user)) = &viewer.session {
        return see_other(safe_next(&q.next).map(str::to_owned).unwrap_or_else(|| home_of(user)).as_str());
    }
    let view = LoginPage { next: q.next, demo: state.config().demo, ..LoginPage::default() };
    render_login(&state, &viewer, jar, view)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

enum Outcome {
    Wrong,
    Throttled,
}

/// Runs a password check off the async executor.
async fn blocking_check<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::service::ServiceError> + Send + 'static,
) -> Result<T, PageError> {
    crate::http::blocking(move || f().map_err(PageError::from)).await
}

pub(crate) async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !super::constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return viewer.respond(Err(PageError::BadForm));
    }
    let t = viewer.lang.texts();
    let refuse = |outcome: Outcome, username: String, jar: CookieJar| {
        let error = if matches!(outcome, Outcome::Throttled) { t.login_throttled } else { t.login_failed };
        let view =
            LoginPage { username, error: Some(error), next: form.next.clone(), demo: state.config().demo };
        let mut response = render_login(&state, &viewer, jar, view);
        *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        response
    };
    // Overlong credentials are no one's: refused before they are hashed, tracked,
    // logged or shown again.
    if form.username.len() > MAX_CREDENTIAL_LEN || form.password.len() > MAX_CREDENTIAL_LEN {
        return refuse(Outcome::Wrong, String::new(), jar);
    }
    let username = form.username.trim().to_lowercase();
    // This instance's count first, as the request arrives (concurrent guesses are
    // counted in the order they come); then the count every instance shares.
    let now = crate::now_ms();
    let reserved = if state.throttle.reserve(&username, now) {
        let (st, name) = (state.clone(), username.clone());
        blocking_check(move || accounts::reserve_shared_attempt(st.store(), &name, now)).await
    } else {
        Ok(false)
    };
    match reserved {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(username = %username.escape_debug(), "sign-in throttled");
            return refuse(Outcome::Throttled, username, jar);
        }
        Err(e) => return viewer.respond(Err(e)),
    }
    let Ok(Ok(permit)) =
        tokio::time::timeout(Duration::from_secs(10), state.throttle.hashing().acquire()).await
    else {
        return refuse(Outcome::Throttled, username, jar);
    };
    let st = state.clone();
    let name = username.clone();
    let password = form.password.clone();
    let outcome =
        blocking_check(move || accounts::check_password(st.store(), &st.throttle, &name, &password)).await;
    drop(permit);
    let user = match outcome {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::warn!(username = %username.escape_debug(), "failed sign-in");
            return refuse(Outcome::Wrong, username, jar);
        }
        Err(e) => return viewer.respond(Err(e)),
    };
    let (st, who) = (state.clone(), user.clone());
    if let Err(e) = blocking_check(move || accounts::attempt_succeeded(st.store(), &st.throttle, &who)).await
    {
        return viewer.respond(Err(e));
    }
    let token = format!("s{}", random_base32(40));
    let session =
        Session { user: user.id.clone(), csrf: random_base32(32), expires_at: crate::now_ms() + SESSION_MS };
    let st = state.clone();
    let tok = token.clone();
    let stored = blocking(move || {
        st.store.put_session(&tok, &session)?;
        Ok(().into_response())
    })
    .await;
    if let Err(e) = stored {
        return viewer.respond(Err(e));
    }
    tracing::info!(user = %user.id, "signed in");
    let to = safe_next(&form.next).map(str::to_owned).unwrap_or_else(|| home_of(&user));
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/")).add(cookie(
        &state,
        SESSION_COOKIE,
        token,
        SESSION_MS / 1000,
    ));
    (jar, see_other(&to)).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf) {
        return viewer.respond(Err(e));
    }
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        let st = state.clone();
        if let Err(e) = blocking(move || {
            st.store.remove_session(&token)?;
            Ok(().into_response())
        })
        .await
        {
            return viewer.respond(Err(e));
        }
    }
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/")), see_other("/login")).into_response()
}

pub(crate) async fn set_lang(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(code): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = Lang::from_code(&code);
    let mut c = cookie(&state, LANG_COOKIE, lang.code().to_owned(), 365 * 24 * 3600);
    // Not a secret: scripts (the phone app) may read it too.
    c.set_http_only(false);
    (jar.add(c), see_other(safe_next(&q.next).unwrap_or("/"))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next("/communes/x"), Some("/communes/x"));
        assert_eq!(safe_next("/communes/x?from=%2F"), Some("/communes/x?from=%2F"));
        assert_eq!(safe_next("/\t/evil.example/phish"), None);
        assert_eq!(safe_next("/\n/evil.example"), None);
        assert_eq!(safe_next("/ /evil.example"), None);
        assert_eq!(safe_next("/a b"), None);
        assert_eq!(safe_next("/x\u{7f}"), None);
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next(""), None);
    }
}
