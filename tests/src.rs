//! Shared fixtures of the end-to-end tests (`tests/e2e/`): a real server on
//! 127.0.0.1:0 with its own sled data directory (or, with `TUNGNHA_TEST_STORE=postgres`,
//! its own database on a throwaway PostgreSQL cluster: `pg`), a commune set up through the same
//! admin functions an operator runs, and helpers to talk HTTP to it.

pub mod pg;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tokio::sync::oneshot;
use tungnha_client_core::HamletId;
use tungnha_server::service::{accounts, audit, enrolment, imports, organisation, teams};
use tungnha_server::store::Store;
use tungnha_server::{AppState, Config};

/// A real server on 127.0.0.1:0 on its own runtime thread, stopped when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for tests that change assignments or look at documents directly,
    /// as an official's web action would.
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The data directory, removed when the server is dropped.
    pub data: tempfile::TempDir,
    /// The PostgreSQL database it serves instead, when the tests run on PostgreSQL.
    pub database: Option<String>,
}

impl TestServer {
    /// Sets up a fresh data directory with `setup`, then serves it.
    pub fn start(demo: bool, setup: impl FnOnce(&dyn Store)) -> Self {
        Self::start_with(|c| Config { demo, ..c }, setup)
    }

    /// Like `start`, with the configuration changed by `configure`.
    pub fn start_with(configure: impl FnOnce(Config) -> Config, setup: impl FnOnce(&dyn Store)) -> Self {
        let data = tempfile::tempdir().expect("temporary data directory");
        let config =
            Config { database: pg::selected().then(pg::database), ..Config::new(data.path().to_path_buf()) };
        {
            let db = tungnha_server::store::Location::of(&config).open().expect("open the store");
            setup(db.as_ref());
        }
        Self::serve(configure(config), data)
    }

    /// Serves a PostgreSQL database another server (or a test's setup) serves too: one
    /// more instance behind the same load balancer.
    pub fn serve_database(url: &str) -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let config = Config { database: Some(url.to_owned()), ..Config::new(data.path().to_path_buf()) };
        Self::serve(config, data)
    }

    /// Serves a data directory set up elsewhere (by `tungnha-loadgen --prepare`, say).
    pub fn serve_existing(data: tempfile::TempDir) -> Self {
        Self::serve(Config::new(data.path().to_path_buf()), data)
    }

    /// Stops the server (clients now find nothing there), keeping its data and address.
    pub fn pause(mut self) -> Paused {
        self.shutdown();
        let placeholder = tempfile::TempDir::new().expect("placeholder directory");
        let data = std::mem::replace(&mut self.data, placeholder);
        Paused { addr: self.addr, data, database: self.database.take() }
    }

    /// Stops the server and serves the same data directory again on the same address.
    pub fn restart(self) -> Self {
        self.pause().resume()
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn serve(config: Config, data: tempfile::TempDir) -> Self {
        Self::serve_on(config, data, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    fn serve_on(config: Config, data: tempfile::TempDir, addr: SocketAddr) -> Self {
        // `RUST_LOG=error cargo test …` shows what the server logs (a 500's cause).
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        // sled releases its file lock from a background thread after the last handle
        // (the setup's, or the stopped server's) is dropped: wait for it, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let state = loop {
            match tungnha_server::http::start(config.clone()) {
                Err(tungnha_server::http::ServerError::Store(tungnha_server::store::StoreError::InUse(
                    _,
                ))) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.expect("server state opens"),
            }
        };
        let listener = std::net::TcpListener::bind(addr).expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let app = tungnha_server::http::app(state.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let shutdown = async {
                    let _ = stopped.await;
                };
                let _ = tungnha_server::http::serve(listener, app, shutdown).await;
            });
        });
        Self { addr, state, stop: Some(stop), thread: Some(thread), data, database: config.database.clone() }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A stopped server's data directory and address, ready to serve again.
pub struct Paused {
    addr: SocketAddr,
    data: tempfile::TempDir,
    database: Option<String>,
}

impl Paused {
    /// Serves the same data directory on the same address again.
    pub fn resume(self) -> TestServer {
        let config = Config { database: self.database, ..Config::new(self.data.path().to_path_buf()) };
        TestServer::serve_on(config, self.data, self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The server's current heads of a hamlet log.
pub fn server_heads(state: &AppState, hamlet: &HamletId) -> Vec<tungnha_client_core::ChangeHash> {
    let entry = state.logs.get(state.store(), hamlet).expect("load").expect("the hamlet has a log");
    tungnha_server::cache::lock(&entry).log.heads()
}

/// Heads as sorted hex, as the phone reports them: for comparing replicas.
pub fn heads_text(heads: &[tungnha_client_core::ChangeHash]) -> Vec<String> {
    let mut out: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
    out.sort();
    out
}

/// The commune every test sets up: code `p-test`, with its hamlets.
pub const COMMUNE: &str = "p-test";
/// Every test user's password.
pub const PASSWORD: &str = "mat-khau-thu";

/// Puts the test commune in a province `code` ("Tỉnh Thử") whose officer is
/// `canbotinh`.
pub fn province(db: &dyn Store, code: &str) {
    use tungnha_server::service::{accounts, audit, organisation};
    organisation::province_add(db, audit::CLI, code, "Tỉnh Thử").expect("province");
    organisation::attach_commune(db, audit::CLI, COMMUNE, code).expect("attached");
    accounts::province_officer_add(db, audit::CLI, "canbotinh", code, None, Some(PASSWORD)).expect("officer");
}

/// The test commune's team.
pub const TEAM: &str = "p-test.to-cong-nghe-so";

/// Sets up a commune with `hamlets` khu phố of `households` households each, an
/// official `canbo`, and one team (`TEAM`) covering every hamlet, led by `totruong`,
/// with volunteers `tnv1`…`tnvN`. Returns the hamlet ids.
pub fn commune(db: &dyn Store, hamlets: usize, households: usize, volunteers: usize) -> Vec<HamletId> {
    organisation::commune_add(
        db,
        audit::CLI,
        COMMUNE,
        "Phường Thử Nghiệm",
        tungnha_client_core::domain::CommuneKind::Phuong,
    )
    .expect("commune");
    let mut csv = String::from("code,name,kind,target_households\n");
    for i in 1..=hamlets {
        csv.push_str(&format!("kp-{i},Khu phố {i},khu_pho,{}\n", households + 10));
    }
    let ids: Vec<HamletId> = imports::hamlets_import(db, audit::CLI, COMMUNE, csv.as_bytes())
        .expect("hamlets")
        .into_iter()
        .map(|h| h.id)
        .collect();
    for h in &ids {
        let mut rows = String::from("label,head,members\n");
        for n in 1..=households {
            rows.push_str(&format!("\"Số {n}, hẻm 2\",Nguyễn Văn {n},{}\n", n % 5 + 1));
        }
        imports::households_import(db, audit::CLI, h.as_str(), rows.as_bytes()).expect("households");
    }
    use tungnha_client_core::Role;
    let mut people = vec![("canbo".to_owned(), Role::Official), ("totruong".to_owned(), Role::Leader)];
    people.extend((1..=volunteers).map(|i| (format!("tnv{i}"), Role::Volunteer)));
    for (name, role) in &people {
        accounts::user_add(db, audit::CLI, name, *role, Some(COMMUNE), None, Some(PASSWORD)).expect("user");
    }
    let volunteers: Vec<&str> =
        people.iter().filter(|(_, r)| *r == Role::Volunteer).map(|(n, _)| n.as_str()).collect();
    let t = team(db, "Tổ công nghệ số", &ids, "totruong", &volunteers);
    assert_eq!(t.id.as_str(), TEAM);
    ids
}

/// A team of the test commune covering `hamlets`, led by `leader`, with `members`.
pub fn team(
    db: &dyn Store,
    name: &str,
    hamlets: &[HamletId],
    leader: &str,
    members: &[&str],
) -> tungnha_server::records::Team {
    let commune = tungnha_client_core::CommuneId::parse(COMMUNE).expect("id");
    let mut team = teams::team_add(db, audit::CLI, &commune, name).expect("team");
    for h in hamlets {
        team = teams::hamlet_add(db, audit::CLI, &team, h.as_str()).expect("hamlet");
    }
    team = teams::member_add(db, audit::CLI, &team, leader, true).expect("leader");
    for m in members {
        team = teams::member_add(db, audit::CLI, &team, m, false).expect("member");
    }
    team
}

/// Takes `hamlet` away from the test commune's team (its members' devices drop it).
pub fn take_from_team(db: &dyn Store, hamlet: &HamletId) {
    let team = teams::team(db, TEAM).expect("the team");
    teams::hamlet_remove(db, audit::CLI, &team, hamlet.as_str()).expect("taken away");
}

/// A fresh enrolment code for `user`, valid for a day.
pub fn code(db: &dyn Store, user: &str) -> String {
    enrolment::enrol_code(db, user, 86_400_000).expect("enrolment code")
}

/// An HTTP answer: status and body.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The error code of a JSON error answer.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the server answers");
    let status = r.status().as_u16();
    let body = r.body_mut().with_config().limit(512 * 1024 * 1024).read_to_vec().expect("body");
    Answer { status, body }
}

/// A GET, optionally with a bearer token.
pub fn get(url: &str, token: Option<&str>) -> Answer {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    finish(req.call())
}

/// A POST of raw bytes, optionally with a bearer token.
pub fn post(url: &str, token: Option<&str>, content_type: &str, body: &[u8]) -> Answer {
    let mut req = agent().post(url).header("Content-Type", content_type);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    finish(req.send(body))
}

/// A person signed in on the web, as a browser would be: the session cookie, and the
/// CSRF token of the page last read. Redirects are not followed, so tests see them.
pub struct WebSession {
    base: String,
    cookie: String,
    /// The CSRF token of the last page read.
    pub csrf: String,
}

/// A web answer: status, `Location` if a redirect, body as text.
pub struct Page {
    /// The status code.
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    /// The HTML.
    pub html: String,
}

fn web_agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

fn page_of(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (Page, Vec<String>) {
    let mut r = r.expect("the server answers");
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .collect();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let html = r.body_mut().read_to_string().unwrap_or_default();
    (Page { status: r.status().as_u16(), location, html }, cookies)
}

/// The value of the first hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

/// Encodes form pairs as `application/x-www-form-urlencoded`, as a browser does.
fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

impl WebSession {
    /// Signs in through the sign-in form. Panics unless the server redirects onwards.
    pub fn sign_in(server: &TestServer, username: &str, password: &str) -> Self {
        let s = Self::try_sign_in(server, username, password);
        assert_eq!(s.1.status, 303, "{username} signs in: {}", s.1.html);
        s.0
    }

    /// Tries to sign in; returns the session (empty cookie if refused) and the answer.
    pub fn try_sign_in(server: &TestServer, username: &str, password: &str) -> (Self, Page) {
        let (form, cookies) = page_of(web_agent().get(server.url("/login")).call());
        let login_cookie =
            cookies.iter().find(|c| c.starts_with("tn_login=")).cloned().expect("a sign-in cookie");
        let csrf = csrf_of(&form.html).expect("the sign-in form has a token");
        let body =
            form_body(&[("csrf", &csrf), ("username", username), ("password", password), ("next", "")]);
        let (answer, cookies) = page_of(
            web_agent()
                .post(server.url("/login"))
                .header("Cookie", &login_cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body.as_bytes()),
        );
        let cookie = cookies.into_iter().find(|c| c.starts_with("tn_session=")).unwrap_or_default();
        (Self { base: server.base(), cookie, csrf: String::new() }, answer)
    }

    /// GETs a page with the session, keeping its CSRF token.
    pub fn get(&mut self, path: &str) -> Page {
        let (page, _) =
            page_of(web_agent().get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).call());
        if let Some(csrf) = csrf_of(&page.html) {
            self.csrf = csrf;
        }
        page
    }

    /// POSTs a form with the session. The caller includes `csrf` or not.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        page_of(
            web_agent()
                .post(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(form_body(fields).as_bytes()),
        )
        .0
    }

    /// The session cookie (`tn_session=…`), empty if signing in failed.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// POSTs a form body exactly as given (bytes a browser would never send).
    pub fn post_raw(&mut self, path: &str, body: &[u8]) -> Page {
        page_of(
            web_agent()
                .post(format!("{}{path}", self.base))
                .header("Cookie", &self.cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body),
        )
        .0
    }

    /// GETs raw bytes (exports) with the session.
    pub fn download(&self, path: &str) -> Answer {
        finish(web_agent().get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).call())
    }
}

/// The workspace's target directory, where screenshots are kept.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Runs one phase of a browser script in `tests/browser/` (playwright-core driving
/// Debian's chromium) and returns the JSON it printed last. Panics with the script's
/// output if it fails.
pub fn browser_script(script: &str, phase: &str, base: &str, arg: &serde_json::Value) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci --prefix tests/browser` (scripts/test.sh does)"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is missing: apt-get install chromium"
    );
    let out = Command::new("node")
        .arg(dir.join(script))
        .args([phase, base, &arg.to_string()])
        .current_dir(&dir)
        .output()
        .expect("node runs (apt-get install nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} {phase} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("the script prints JSON last")
}

/// The numbers in cells `data-<attr>="<name>"` of a page, in order ("1.234" → 1234).
pub fn cells(html: &str, attr: &str, name: &str) -> Vec<u64> {
    let mark = format!("data-{attr}=\"{name}\"");
    html.match_indices(&mark)
        .map(|(at, _)| {
            // The first text after the mark's tag, past any tags nested in it.
            let mut rest = &html[at..];
            let text = loop {
                rest = &rest[rest.find('>').expect("a tag ends") + 1..];
                let text = &rest[..rest.find('<').unwrap_or(rest.len())];
                if !text.trim().is_empty() {
                    break text.trim();
                }
            };
            text.replace('.', "").parse().unwrap_or_else(|_| panic!("{name}: “{text}” is not a number"))
        })
        .collect()
}
