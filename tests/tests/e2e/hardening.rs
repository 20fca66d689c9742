//! Holes a security review found, each tried the way the attacker tried it, over real
//! HTTP against a real server: an official reaching an administrator's account, a
//! leader's enrolment code reaching beyond the leader's hamlets, sign-in spending
//! memory and hashing on anyone's behalf, and `next` leaving the site.

use std::time::Duration;

use tungnha_client_core::device::Device;
use tungnha_client_core::{HamletId, Role, UserId};
use tungnha_server::records::User;
use tungnha_server::service::{accounts, audit, verify};
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, code, commune, get, post};

/// The test commune; `tolo` leads only its second hamlet, while `tnv1` works in both.
/// `quantri` is an administrator whose record names the commune (as `--role admin
/// --commune` once allowed), and `canbo2` a second official of the commune.
fn server() -> (TestServer, Vec<HamletId>) {
    let mut hamlets = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 5, 2);
        accounts::user_add(
            db,
            audit::CLI,
            "tolo",
            Role::Leader,
            Some(COMMUNE),
            Some("Tổ Lộ"),
            Some(PASSWORD),
        )
        .expect("leader");
        // tolo's team takes over the second hamlet; tnv1 works in both teams.
        tungnha_tests::take_from_team(db, &hamlets[1]);
        tungnha_tests::team(db, "Tổ Lộ", &hamlets[1..], "tolo", &["tnv1"]);
        accounts::user_add(db, audit::CLI, "canbo2", Role::Official, Some(COMMUNE), None, Some(PASSWORD))
            .expect("official");
        let admin_user =
            accounts::user_add(db, audit::CLI, "quantri", Role::Admin, None, None, Some(PASSWORD))
                .expect("admin");
        db.put_user(&User {
            commune: Some(tungnha_client_core::CommuneId::parse(COMMUNE).expect("id")),
            ..admin_user
        })
        .expect("stored");
    });
    (server, hamlets)
}

#[test]
fn an_administrator_belongs_to_no_commune() {
    let (server, _) = server();
    let r = accounts::user_add(
        server.state.store(),
        audit::CLI,
        "quantri2",
        Role::Admin,
        Some(COMMUNE),
        None,
        None,
    );
    assert!(r.is_err(), "{r:?}");
    assert!(server.state.store.user(&UserId::parse("quantri2").expect("id")).expect("read").is_none());
}

#[test]
fn an_official_cannot_take_over_an_administrator_or_another_official() {
    let (server, _) = server();
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    official.get(&format!("/communes/{COMMUNE}/people"));
    let csrf = official.csrf.clone();
    for target in ["quantri", "canbo2"] {
        let page = official.post(
            &format!("/communes/{COMMUNE}/people/{target}/password"),
            &[("csrf", &csrf), ("password", "mat-khau-cua-ke-gian")],
        );
        assert_eq!(page.status, 403, "reset {target}'s password");
        let page = official.post(
            &format!("/communes/{COMMUNE}/people/{target}/active"),
            &[("csrf", &csrf), ("active", "false")],
        );
        assert_eq!(page.status, 403, "lock {target} out");
        // Untouched: the old password still signs in.
        let (_, answer) = WebSession::try_sign_in(&server, target, PASSWORD);
        assert_eq!(answer.status, 303, "{target} still signs in");
    }
    // A volunteer of the commune is the official's to manage.
    let page = official.post(
        &format!("/communes/{COMMUNE}/people/tnv2/password"),
        &[("csrf", &csrf), ("password", "mat-khau-moi-1")],
    );
    assert_eq!(page.status, 303);
    WebSession::sign_in(&server, "tnv2", "mat-khau-moi-1");
}

#[test]
fn a_leaders_code_reaches_only_the_hamlets_the_leader_leads() {
    let (server, hamlets) = server();
    let mut leader = WebSession::sign_in(&server, "tolo", PASSWORD);
    leader.get("/team");
    let csrf = leader.csrf.clone();
    let page = leader.post("/team/enrol", &[("csrf", &csrf), ("user", "tnv1")]);
    assert_eq!(page.status, 200, "{}", page.html);
    let code = page
        .html
        .split("enrol?code=")
        .nth(1)
        .and_then(|s| s.get(..10))
        .expect("a code in the page")
        .to_owned();

    // Enrolled with the leader's code (by the leader, or anyone holding it), the device
    // sees and holds only the hamlet tnv1 shares with the leader.
    let home = tempfile::tempdir().expect("home");
    let mut device =
        Device::enrol(home.path(), &server.base(), &code, "máy của tổ trưởng").expect("enrolled");
    let me = get(&server.url("/api/v1/me"), Some(&device.identity().token));
    let listed: Vec<String> = me.json()["hamlets"]
        .as_array()
        .expect("hamlets")
        .iter()
        .map(|h| h["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(listed, vec![hamlets[1].to_string()]);
    device.sync().expect("synced");
    assert!(device.log(&hamlets[1]).is_some());
    assert!(device.log(&hamlets[0]).is_none(), "the other hamlet's log never reached the device");
    // The code's making is in the audit log, under the leader's name.
    let audit = server.state.store.audit_events(1000).expect("audit");
    assert!(
        audit.iter().any(|e| e.action == "enrol_code" && e.by == "tolo" && e.detail == "tnv1"),
        "{audit:?}"
    );
}

#[test]
fn sign_in_spends_nothing_on_an_overlong_username() {
    let (server, _) = server();
    let huge = "a".repeat(20_000);
    let tracked = server.state.throttle.tracked();
    let checks = server.state.throttle.checks();
    let (_, answer) = WebSession::try_sign_in(&server, &huge, "x");
    assert_eq!(answer.status, 401);
    assert!(answer.html.len() < 100_000, "the name is not echoed back");
    assert_eq!(server.state.throttle.tracked(), tracked, "not kept as a throttle key");
    assert_eq!(server.state.throttle.checks(), checks, "not hashed");
    // A form bigger than any real one is not even read. (Just over the limit: the
    // server answers as soon as it has read too much, and a much larger body would race
    // that answer with the client still sending.)
    let (_, answer) =
        WebSession::try_sign_in(&server, &"a".repeat(tungnha_server::http::web::FORM_LIMIT), "x");
    assert_eq!(answer.status, 413);
    assert_eq!(server.state.throttle.tracked(), tracked);
    // A newline in a username cannot forge a log line either: it is not an account,
    // and is answered like any wrong name.
    let (_, answer) = WebSession::try_sign_in(&server, "canbo\nINFO signed in user=quantri", "x");
    assert_eq!(answer.status, 401);
}

#[test]
fn unknown_and_deactivated_accounts_cost_a_password_check_like_real_ones() {
    let (server, _) = server();
    accounts::set_active(server.state.store(), audit::CLI, &UserId::parse("tnv2").expect("id"), false)
        .expect("locked");
    for name in ["khong-co-ai", "tnv2", "canbo"] {
        let before = server.state.throttle.checks();
        let (_, answer) = WebSession::try_sign_in(&server, name, "sai-mat-khau");
        assert_eq!(answer.status, 401);
        assert_eq!(server.state.throttle.checks(), before + 1, "{name}: one check, as for any account");
    }
}

#[test]
fn concurrent_guesses_cannot_slip_a_right_password_past_the_limit() {
    let (server, _) = server();
    // Thirty wrong guesses at once, then the right password while they are in flight.
    std::thread::scope(|scope| {
        let wrong: Vec<_> = (0..30)
            .map(|_| scope.spawn(|| WebSession::try_sign_in(&server, "canbo", "sai-mat-khau").1.status))
            .collect();
        std::thread::sleep(Duration::from_millis(30));
        let right = scope.spawn(|| WebSession::try_sign_in(&server, "canbo", PASSWORD).1.status);
        assert_eq!(right.join().expect("joined"), 401, "the right password came after five guesses");
        for w in wrong {
            assert_eq!(w.join().expect("joined"), 401);
        }
    });
    assert!(server.state.throttle.checks() <= 5, "only the five reserved attempts were hashed");
}

#[test]
fn every_answer_carries_the_security_headers() {
    let (server, _) = server();
    for path in ["/login", "/app/", "/app/js/main.js", "/api/v1/me", "/healthz", "/no-such-page"] {
        let answer = ureq_head(&server.url(path));
        let header =
            |name: &str| answer.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let csp = header("content-security-policy");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(csp.contains("'sha256-"), "the app's import map is allowed by its hash: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("strict-transport-security"), "", "no HSTS over plain http");
    }
}

/// The headers of a GET, whatever its status, lower-cased.
fn ureq_head(url: &str) -> Vec<(String, String)> {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let response = agent.get(url).call().expect("answered");
    response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_lowercase(), v.to_str().unwrap_or_default().to_owned()))
        .collect()
}

#[test]
fn guessing_enrolment_codes_is_slowed_server_wide_without_locking_anyone_out() {
    let mut good = String::new();
    let server = TestServer::start(false, |db| {
        commune(db, 1, 3, 1);
        good = code(db, "tnv1");
    });
    let enrol = |code: &str| {
        let body = serde_json::json!({"code": code, "device_name": "máy"}).to_string();
        post(&server.url("/api/v1/enrol"), None, "application/json", body.as_bytes())
    };
    // Sixteen wrong codes at once: each holds one of the server's eight turns for a
    // second, so the last answer cannot come before two seconds.
    let started = std::time::Instant::now();
    let (wrong, right) = std::thread::scope(|s| {
        let wrong: Vec<_> = (0..16).map(|i| s.spawn(move || enrol(&format!("WRONG{i:05}")).code())).collect();
        std::thread::sleep(Duration::from_millis(100));
        let right = s.spawn(|| enrol(&good).status);
        (
            wrong.into_iter().map(|t| t.join().expect("joined")).collect::<Vec<_>>(),
            right.join().expect("joined"),
        )
    });
    assert!(wrong.iter().all(|c| c == "bad_enrol_code"), "{wrong:?}");
    let floor = tungnha_server::service::enrolment::WRONG_CODE_DELAY
        * (16 / tungnha_server::state::ENROL_CHECKS_AT_ONCE as u32);
    assert!(started.elapsed() >= floor, "16 wrong codes answered in {:?}", started.elapsed());
    assert_eq!(right, 201, "a real code still enrols while the guessing goes on");
}

#[test]
fn enrolment_links_use_the_configured_public_address() {
    let server = TestServer::start_with(
        |c| tungnha_server::Config { public_url: Some("https://tungnha.example.vn".into()), ..c },
        |db| {
            commune(db, 1, 3, 1);
        },
    );
    let mut leader = WebSession::sign_in(&server, "totruong", PASSWORD);
    leader.get("/team");
    let csrf = leader.csrf.clone();
    let page = leader.post("/team/enrol", &[("csrf", &csrf), ("user", "tnv1")]);
    assert!(page.html.contains("https://tungnha.example.vn/app/enrol?code="), "{}", page.html);
}

#[test]
fn a_form_field_that_is_not_utf8_is_refused_and_nothing_is_stored() {
    let (server, _) = server();
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    official.get(&format!("/communes/{COMMUNE}/people"));
    let body = format!("csrf={}&username=moi&name=Tr%E1%BA%A7n%FF&role=volunteer&password=", official.csrf);
    let page = official.post_raw(&format!("/communes/{COMMUNE}/people"), body.as_bytes());
    assert_eq!(page.status, 422);
    assert!(page.html.contains("UTF-8"), "{}", page.html);
    assert!(server.state.store.user(&UserId::parse("moi").expect("id")).expect("read").is_none());
    // The same form in good UTF-8 is taken.
    let body = format!("csrf={}&username=moi&name=Tr%E1%BA%A7n&role=volunteer&password=", official.csrf);
    let page = official.post_raw(&format!("/communes/{COMMUNE}/people"), body.as_bytes());
    assert_eq!(page.status, 303, "{}", page.html);
    let user = server.state.store.user(&UserId::parse("moi").expect("id")).expect("read").expect("stored");
    assert_eq!(user.name, "Trần");
}

/// `tnv1`'s phone (a CLI device in a fresh home), enrolled on `server`.
fn volunteer_phone(server: &TestServer) -> (tempfile::TempDir, Device) {
    let home = tempfile::tempdir().expect("home");
    let phone = Device::enrol(home.path(), &server.base(), &code(server.state.store(), "tnv1"), "test")
        .expect("enrolled");
    (home, phone)
}

/// Finding 9, the other half: households a volunteer lists in the field wait for a
/// leader, who confirms the real ones and removes the rest from the list in bulk; the
/// removal reaches the phones and the hamlet's figures.
#[test]
fn a_leader_reviews_households_listed_in_the_field() {
    let (server, hamlets) = server();
    let kp1 = &hamlets[0];
    let (_home, mut phone) = volunteer_phone(&server);
    let now = tungnha_server::now_ms();
    let added: Vec<_> = ["Nhà mới 1, hẻm 9", "Nhà mới 2, hẻm 9", "Nhà trùng số 3"]
        .iter()
        .map(|label| {
            let form = tungnha_client_core::HouseholdForm { label: (*label).into(), ..Default::default() };
            phone.add_household(kp1, &form, now).expect("listed in the field")
        })
        .collect();
    phone.sync().expect("sync");
    assert_eq!(server.state.store.coverage(kp1).expect("coverage").registered, 8);

    let mut leader = WebSession::sign_in(&server, "totruong", tungnha_tests::PASSWORD);
    let hamlet_page = leader.get(&format!("/hamlets/{kp1}"));
    assert!(hamlet_page.html.contains("3 hộ mới thêm cần xem lại"), "{}", hamlet_page.html);
    let review = leader.get(&format!("/hamlets/{kp1}/review"));
    assert_eq!(review.status, 200);
    for id in &added {
        assert!(review.html.contains(id.as_str()), "{id} awaits review");
    }
    assert!(!review.html.contains("Số 1, hẻm 2"), "households an import listed are not reviewed");
    let path = format!("/hamlets/{kp1}/review");
    let csrf = leader.csrf.clone();
    let stored = || {
        (
            tungnha_tests::server_heads(&server.state, kp1),
            server.state.store.reviewed(kp1).expect("reviewed").len(),
            server.state.store.audit_events(usize::MAX).expect("audit").len(),
        )
    };

    // Mistakes change nothing: nothing chosen, a household nobody listed in the field,
    // no action, no token.
    let before = stored();
    let none = leader.post(&path, &[("csrf", &csrf), ("action", "retire")]);
    assert_eq!(none.status, 422);
    assert!(none.html.contains("Hãy chọn ít nhất một hộ."));
    let imported = server.state.logs.get(server.state.store(), kp1).expect("read").expect("log");
    let imported = tungnha_server::cache::lock(&imported)
        .log
        .households()
        .ok
        .into_keys()
        .find(|id| !added.contains(id))
        .expect("an imported household");
    let wrong =
        leader.post(&path, &[("csrf", &csrf), ("action", "retire"), ("household", imported.as_str())]);
    assert_eq!(wrong.status, 422);
    assert!(wrong.html.contains("không còn chờ xem lại"));
    assert_eq!(leader.post(&path, &[("csrf", &csrf), ("household", added[0].as_str())]).status, 403);
    assert_eq!(leader.post(&path, &[("action", "confirm"), ("household", added[0].as_str())]).status, 403);
    assert_eq!(stored(), before, "refused reviews store nothing");

    // Confirm one, remove two.
    let confirmed =
        leader.post(&path, &[("csrf", &csrf), ("action", "confirm"), ("household", added[0].as_str())]);
    assert_eq!(confirmed.status, 303);
    let retired = leader.post(
        &path,
        &[
            ("csrf", &csrf),
            ("action", "retire"),
            ("household", added[1].as_str()),
            ("household", added[2].as_str()),
        ],
    );
    assert_eq!(retired.status, 303, "{}", retired.html);
    let after = leader.get(&retired.location.expect("back to the review"));
    assert!(after.html.contains("Đã bỏ các hộ đã chọn khỏi danh sách"));
    assert!(after.html.contains("Không có hộ nào cần xem lại."));
    assert_eq!(server.state.store.coverage(kp1).expect("coverage").registered, 6);
    let again =
        leader.post(&path, &[("csrf", &csrf), ("action", "confirm"), ("household", added[0].as_str())]);
    assert_eq!(again.status, 422, "a household is reviewed once");

    // Audited, and the phone receives the removal.
    let audit = server.state.store.audit_events(10).expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "households_retired" && e.by == "totruong" && e.detail.starts_with("2 · "))
    );
    assert!(audit.iter().any(|e| e.action == "households_confirmed" && e.detail.contains(added[0].as_str())));
    phone.sync().expect("sync");
    let held = phone.log(kp1).expect("held").households().ok;
    assert!(held[&added[1]].retired && held[&added[2]].retired && !held[&added[0]].retired);
    assert_eq!(phone.coverage(kp1).expect("held"), server.state.store.coverage(kp1).expect("coverage"));
    let (_, differences) = verify::verify(server.state.store()).expect("verify");
    assert!(differences.is_empty(), "{differences:?}");

    // A volunteer reviews nothing.
    let mut volunteer = WebSession::sign_in(&server, "tnv1", tungnha_tests::PASSWORD);
    assert_eq!(volunteer.get(&path).status, 403);
}

/// A household listed twice: the leader merges it into the entry that stays, on the
/// household's page; it leaves the list, its visits count towards the other, and the
/// phones receive the merge.
#[test]
fn a_leader_merges_a_household_listed_twice() {
    let (server, hamlets) = server();
    let kp1 = &hamlets[0];
    let (_home, mut phone) = volunteer_phone(&server);
    let now = tungnha_server::now_ms();
    let form = tungnha_client_core::HouseholdForm {
        label: "Số 1 hẻm 2 (ghi lại)".into(),
        ..Default::default()
    };
    let twice = phone.add_household(kp1, &form, now).expect("listed again");
    let guided = tungnha_client_core::VisitForm { people: 2, ..Default::default() };
    phone.log_visit(&twice, tungnha_client_core::Outcome::Guided, &guided, now, now).expect("visit");
    phone.sync().expect("sync");
    let kept = phone
        .log(kp1)
        .expect("held")
        .households()
        .ok
        .into_iter()
        .find(|(_, h)| h.label == "Số 1, hẻm 2")
        .expect("the entry that stays")
        .0;
    let before = server.state.store.coverage(kp1).expect("coverage");
    assert_eq!((before.registered, before.covered), (6, 1));

    let mut leader = WebSession::sign_in(&server, "totruong", tungnha_tests::PASSWORD);
    let page = leader.get(&format!("/hamlets/{kp1}/households/{twice}"));
    assert!(page.html.contains("Hộ này bị ghi trùng?") && page.html.contains(kept.as_str()));
    let csrf = leader.csrf.clone();
    let merged = leader.post(
        &format!("/hamlets/{kp1}/households/{twice}/merge"),
        &[("csrf", &csrf), ("into", kept.as_str())],
    );
    assert_eq!(merged.status, 303, "{}", merged.html);
    let after = server.state.store.coverage(kp1).expect("coverage");
    assert_eq!((after.registered, after.covered), (5, 1), "one entry fewer, the visit still counts");
    let kept_page = leader.get(&format!("/hamlets/{kp1}/households/{kept}"));
    assert!(kept_page.html.contains("Đã hướng dẫn"), "the duplicate's visit shows on the entry kept");
    let again = leader.post(
        &format!("/hamlets/{kp1}/households/{kept}/merge"),
        &[("csrf", &csrf), ("into", twice.as_str())],
    );
    assert_eq!(again.status, 422, "not into an entry that left the list: {}", again.status);

    phone.sync().expect("sync");
    assert_eq!(phone.coverage(kp1).expect("held"), after, "the phone counts it the same way");
    let audit = server.state.store.audit_events(5).expect("audit");
    assert!(audit.iter().any(|e| e.action == "household_merged" && e.by == "totruong"));
    let (_, differences) = verify::verify(server.state.store()).expect("verify");
    assert!(differences.is_empty(), "{differences:?}");
}
