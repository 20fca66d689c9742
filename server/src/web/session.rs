//! Signing in and out, the language switch, and the throttle on failed sign-ins.
//!
//! - A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when the
//!   server is reached over TLS); sled keeps only its hash, with the user, the CSRF
//!   token of its forms and its end.
//! - The sign-in form has no session yet, so it carries a double-submit token: a
//!   random value in a short cookie that the form must repeat.
//! - After `MAX_FAILURES` failed sign-ins for one username within `WINDOW_MS`, that
//!   username is refused until the window ends, even with the right password.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use tungnha_client_core::ids::random_base32;
use tungnha_client_core::{Role, UserId};
use tungnha_web::Lang;
use tungnha_web::auth::LoginPage;

use super::{PageError, Viewer, blocking, see_other};
use crate::AppState;
use crate::db::Session;
use crate::records::User;

/// The session cookie.
pub const SESSION_COOKIE: &str = "tn_session";
/// The language cookie.
pub const LANG_COOKIE: &str = "lang";
/// The sign-in form's double-submit cookie.
pub const LOGIN_COOKIE: &str = "tn_login";
/// How long a session lasts: a week, since leaders sign in on their own phones.
pub const SESSION_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Failed sign-ins allowed per username within the window.
pub const MAX_FAILURES: u32 = 5;
/// The throttle's window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Failed sign-ins per username, in memory: a restart forgets them, which costs an
/// attacker a restart per five guesses.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, i64)>>,
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, i64)>> {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `username` may try now.
    pub fn allows(&self, username: &str, now: i64) -> bool {
        match self.lock().get(username) {
            Some((n, since)) => *n < MAX_FAILURES || now - since >= WINDOW_MS,
            None => true,
        }
    }

    /// Records a failure.
    pub fn failed(&self, username: &str, now: i64) {
        let mut map = self.lock();
        // Forget old windows so the map does not grow with every name ever tried.
        map.retain(|_, (_, since)| now - *since < WINDOW_MS);
        let entry = map.entry(username.to_owned()).or_insert((0, now));
        entry.0 += 1;
    }

    /// Forgets the failures of a username after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(username);
    }
}

/// The session and its active user behind a cookie's token, if any.
pub fn signed_in(state: &AppState, token: &str) -> Option<(Session, User)> {
    let session = state.db.session(token, crate::now_ms()).ok().flatten()?;
    let user = state.db.user(&session.user).ok().flatten().filter(|u| u.active)?;
    Some((session, user))
}

fn cookie(state: &AppState, name: &'static str, value: String, max_age_s: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .max_age(time_duration(max_age_s))
        .build()
}

fn time_duration(seconds: i64) -> time::Duration {
    time::Duration::seconds(seconds)
}

/// Where a `next` parameter may send someone: only a path on this server.
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')).then_some(next)
}

/// Where a user starts.
pub fn home_of(user: &User) -> String {
    match (user.role, &user.commune) {
        (Role::Official, Some(c)) => format!("/communes/{}", tungnha_web::layout::url_part(c.as_str())),
        (Role::Leader, _) => "/team".into(),
        (Role::Admin, _) => "/admin".into(),
        _ => "/app".into(),
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
    let view = LoginPage { next: q.next, demo: state.config.demo, ..LoginPage::default() };
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
    Welcome(Box<User>),
    Wrong,
    Throttled,
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
    let username = form.username.trim().to_lowercase();
    let st = state.clone();
    let name = username.clone();
    let outcome = tokio::task::spawn_blocking(move || -> Result<Outcome, PageError> {
        let now = crate::now_ms();
        if !st.throttle.allows(&name, now) {
            return Ok(Outcome::Throttled);
        }
        let user = UserId::parse(&name).ok().and_then(|id| st.db.user(&id).ok().flatten());
        let ok =
            user.as_ref().is_some_and(|u| u.active && password_matches(&u.password_hash, &form.password));
        match user {
            Some(u) if ok => {
                st.throttle.succeeded(&name);
                Ok(Outcome::Welcome(Box::new(u)))
            }
            _ => {
                st.throttle.failed(&name, now);
                Ok(Outcome::Wrong)
            }
        }
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()));
    let t = viewer.lang.texts();
    let user = match outcome.and_then(|o| o) {
        Ok(Outcome::Welcome(user)) => user,
        Ok(refused) => {
            let error =
                if matches!(refused, Outcome::Throttled) { t.login_throttled } else { t.login_failed };
            tracing::warn!(username = %username, "failed sign-in");
            let view = LoginPage { username, error: Some(error), next: form.next, demo: state.config.demo };
            let mut response = render_login(&state, &viewer, jar, view);
            *response.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            return response;
        }
        Err(e) => return viewer.respond(Err(e)),
    };
    let token = format!("s{}", random_base32(40));
    let session =
        Session { user: user.id.clone(), csrf: random_base32(32), expires_at: crate::now_ms() + SESSION_MS };
    let st = state.clone();
    let tok = token.clone();
    let stored = blocking(move || {
        st.db.put_session(&tok, &session)?;
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

/// Whether a password matches a stored argon2 hash. Accounts without a web password
/// (imported volunteers) have a hash no password matches.
fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
            st.db.remove_session(&token)?;
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
    fn five_failures_close_the_window_for_that_name_only() {
        let t = LoginThrottle::default();
        for i in 0..MAX_FAILURES {
            assert!(t.allows("lan", 1000 + i64::from(i)));
            t.failed("lan", 1000 + i64::from(i));
        }
        assert!(!t.allows("lan", 2000));
        assert!(t.allows("bao", 2000));
        assert!(t.allows("lan", 1000 + WINDOW_MS));
        t.succeeded("lan");
        assert!(t.allows("lan", 2000));
    }

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next("/communes/x"), Some("/communes/x"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next(""), None);
    }

    #[test]
    fn accounts_without_a_password_never_sign_in() {
        assert!(!password_matches(crate::admin::NO_PASSWORD, ""));
        assert!(!password_matches(crate::admin::NO_PASSWORD, "!"));
        let hash = crate::admin::hash_password("mật khẩu dài").expect("hash");
        assert!(password_matches(&hash, "mật khẩu dài"));
        assert!(!password_matches(&hash, "mật khẩu dai"));
    }
}
