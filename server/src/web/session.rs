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
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use tungnha_client_core::ids::random_base32;
use tungnha_client_core::{Role, UserId};
use tungnha_web::Lang;
use tungnha_web::auth::LoginPage;

use super::{Form, PageError, Viewer, blocking, see_other};
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
/// Longest username or password the sign-in form reads; anything longer is refused
/// before it is hashed, stored as a throttle key, logged or echoed.
pub const MAX_CREDENTIAL_LEN: usize = 128;
/// Most usernames the throttle tracks at once. Beyond it (a spray of a hundred
/// thousand names within one window) names it does not track are refused until
/// windows end: memory stays bounded, at the price of a lockout during such a storm.
pub const MAX_TRACKED: usize = 100_000;
/// Password checks run at once: each argon2id check holds ~19 MiB for ~40 ms.
pub const HASHING_AT_ONCE: usize = 4;

/// Sign-in attempts per username, in memory: a restart forgets them, which costs an
/// attacker a restart per five guesses. An attempt is reserved (counted as a failure)
/// *before* its password is checked, so concurrent guesses cannot all slip under the
/// limit; a success forgets the name's count.
#[derive(Debug)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<String, (u32, i64)>>,
    /// Bounds concurrent password hashing.
    hashing: tokio::sync::Semaphore,
    /// Password checks run so far (real or stand-in), for tests and metrics.
    checks: std::sync::atomic::AtomicU64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            attempts: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(HASHING_AT_ONCE),
            checks: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, i64)>> {
        self.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserves one attempt for `username`, or says it must wait.
    pub fn reserve(&self, username: &str, now: i64) -> bool {
        let mut map = self.lock();
        if let Some((n, since)) = map.get_mut(username) {
            if now - *since >= WINDOW_MS {
                *n = 0;
                *since = now;
            }
            if *n >= MAX_FAILURES {
                return false;
            }
            *n += 1;
            return true;
        }
        if map.len() >= MAX_TRACKED {
            // Forget ended windows only when full, so an attempt costs O(1) usually.
            map.retain(|_, (_, since)| now - *since < WINDOW_MS);
            if map.len() >= MAX_TRACKED {
                return false;
            }
        }
        map.insert(username.to_owned(), (1, now));
        true
    }

    /// Forgets the attempts of a username after a successful sign-in.
    pub fn succeeded(&self, username: &str) {
        self.lock().remove(username);
    }

    /// How many usernames are tracked.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    /// How many passwords have been checked against a hash.
    pub fn checks(&self) -> u64 {
        self.checks.load(std::sync::atomic::Ordering::Relaxed)
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
    let t = viewer.lang.texts();
    let refuse = |outcome: Outcome, username: String, jar: CookieJar| {
        let error = if matches!(outcome, Outcome::Throttled) { t.login_throttled } else { t.login_failed };
        let view =
            LoginPage { username, error: Some(error), next: form.next.clone(), demo: state.config.demo };
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
    if !state.throttle.reserve(&username, crate::now_ms()) {
        tracing::warn!(username = %username.escape_debug(), "sign-in throttled");
        return refuse(Outcome::Throttled, username, jar);
    }
    let Ok(Ok(permit)) =
        tokio::time::timeout(Duration::from_secs(10), state.throttle.hashing.acquire()).await
    else {
        return refuse(Outcome::Throttled, username, jar);
    };
    let st = state.clone();
    let name = username.clone();
    let password = form.password.clone();
    let outcome = tokio::task::spawn_blocking(move || -> Result<Outcome, PageError> {
        st.throttle.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user = UserId::parse(&name).ok().map(|id| st.db.user(&id)).transpose()?.flatten();
        // Unknown, deactivated and password-less accounts are checked against a
        // stand-in hash, so that every answer takes as long as a real check.
        let real = user.as_ref().filter(|u| u.active).and_then(|u| PasswordHash::new(&u.password_hash).ok());
        let matches = match &real {
            Some(hash) => password_matches(hash, &password),
            None => {
                let _ = PasswordHash::new(stand_in_hash()).map(|h| password_matches(&h, &password));
                false
            }
        };
        Ok(match user {
            Some(u) if matches => Outcome::Welcome(Box::new(u)),
            _ => Outcome::Wrong,
        })
    })
    .await
    .map_err(|e| PageError::Internal(e.to_string()))
    .and_then(|o| o);
    drop(permit);
    let user = match outcome {
        Ok(Outcome::Welcome(user)) => user,
        Ok(refused) => {
            tracing::warn!(username = %username.escape_debug(), "failed sign-in");
            return refuse(refused, username, jar);
        }
        Err(e) => return viewer.respond(Err(e)),
    };
    state.throttle.succeeded(&username);
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

/// A hash of a random password, made once with the same parameters as real ones.
fn stand_in_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crate::admin::hash_password(&random_base32(24)).unwrap_or_default())
}

/// Whether a password matches a parsed argon2 hash.
fn password_matches(hash: &PasswordHash<'_>, password: &str) -> bool {
    argon2::Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
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
    fn five_attempts_close_the_window_for_that_name_only() {
        let t = LoginThrottle::default();
        for i in 0..MAX_FAILURES {
            assert!(t.reserve("lan", 1000 + i64::from(i)));
        }
        assert!(!t.reserve("lan", 2000));
        assert!(t.reserve("bao", 2000));
        assert!(t.reserve("lan", 1000 + WINDOW_MS));
        t.succeeded("lan");
        assert!(t.reserve("lan", 2000));
    }

    #[test]
    fn the_throttle_tracks_a_bounded_number_of_names() {
        let t = LoginThrottle::default();
        for i in 0..MAX_TRACKED {
            assert!(t.reserve(&format!("u{i}"), 1000));
        }
        assert!(!t.reserve("one-too-many", 1000), "a full throttle refuses names it does not track");
        assert!(t.reserve("u7", 1001), "tracked names go on being counted");
        assert_eq!(t.tracked(), MAX_TRACKED);
        assert!(t.reserve("later", 1000 + WINDOW_MS), "ended windows make room");
        assert_eq!(t.tracked(), 1);
    }

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

    #[test]
    fn accounts_without_a_password_never_sign_in() {
        assert!(PasswordHash::new(crate::admin::NO_PASSWORD).is_err());
        let hash = crate::admin::hash_password("mật khẩu dài").expect("hash");
        let hash = PasswordHash::new(&hash).expect("parses");
        assert!(password_matches(&hash, "mật khẩu dài"));
        assert!(!password_matches(&hash, "mật khẩu dai"));
    }
}
