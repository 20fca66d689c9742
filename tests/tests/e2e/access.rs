//! The authorization matrix: every row of the server's route table
//! (`tungnha_server::http::routes::ROUTES`) tried by every kind of principal, on resources
//! of their own commune and of another, over real HTTP. Every cell the table denies
//! must be denied, and every cell it allows must get past authorization. A served
//! path with no row fails `access::tests` in the server; a method served on a path
//! without a row of its own fails here (it must answer 405).

use tungnha_client_core::{HamletId, Role, UserId};
use tungnha_server::http::routes::{ROUTES, Who};
use tungnha_server::service::{accounts, api_tokens, audit, imports, organisation, teams};
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, code, commune, post};

/// Whose the resources in a path are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The test commune's (the leader's and the official's own).
    Own,
    /// Another commune's.
    Other,
}

/// The kinds of principal the matrix tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anonymous,
    Volunteer,
    Leader,
    Official,
    OtherOfficial,
    /// An officer of the test commune's province.
    ProvinceOfficer,
    Admin,
    Deactivated,
    Revoked,
    /// A read-only API token of the test commune's province (its operations centre).
    ApiClient,
}

struct Principal {
    kind: Kind,
    cookie: String,
    csrf: String,
    token: Option<String>,
}

/// The ids a path's parameters take in one scope.
struct Ids {
    province: String,
    commune: String,
    hamlet: String,
    household: String,
    person: String,
    device: String,
    team: String,
    /// An API token's id (for the administrators' revoke form).
    api_token: String,
}

/// Whether the table lets `kind` use a route of rule `who` in `scope`.
fn allowed(who: Who, kind: Kind, scope: Scope) -> bool {
    use Kind::*;
    let own = scope == Scope::Own;
    let active = matches!(kind, Volunteer | Leader | Official | OtherOfficial | ProvinceOfficer | Admin);
    match who {
        Who::Anyone => true,
        Who::SignedIn | Who::Device => active,
        Who::ProvinceReader => match kind {
            ProvinceOfficer => own,
            Admin => true,
            _ => false,
        },
        Who::DeviceProvinceReader => match kind {
            ProvinceOfficer | ApiClient => own,
            Admin => true,
            _ => false,
        },
        Who::CommuneReader => match kind {
            Official | ProvinceOfficer => own,
            OtherOfficial => !own,
            Admin => true,
            _ => false,
        },
        Who::CommuneOfficial | Who::PersonManager | Who::DeviceCommuneOfficial | Who::HamletOfficial => {
            match kind {
                Official => own,
                OtherOfficial => !own,
                Admin => true,
                _ => false,
            }
        }
        Who::HamletReader | Who::DeviceHamletReader | Who::Revoker | Who::DeviceRevoker => match kind {
            Official | Leader => own,
            OtherOfficial => !own,
            Admin => true,
            _ => false,
        },
        Who::TeamReader => match kind {
            Official | ProvinceOfficer | Leader => own,
            OtherOfficial => !own,
            Admin => true,
            _ => false,
        },
        Who::Leader => kind == Leader,
        Who::DeviceManager => matches!(kind, Leader | Official | OtherOfficial | Admin),
        Who::Admin => kind == Admin,
    }
}

fn enrol(server: &TestServer, code: &str) -> (String, String) {
    let body = serde_json::json!({"code": code, "device_name": "máy"}).to_string();
    let answer = post(&server.url("/api/v1/enrol"), None, "application/json", body.as_bytes());
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    let json = answer.json();
    (
        json["token"].as_str().unwrap_or_default().to_owned(),
        json["device_id"].as_str().unwrap_or_default().to_owned(),
    )
}

struct World {
    server: TestServer,
    principals: Vec<Principal>,
    own: Ids,
    other: Ids,
}

fn world() -> World {
    let mut codes = std::collections::BTreeMap::new();
    let server = TestServer::start(false, |db| {
        commune(db, 2, 3, 2);
        organisation::commune_add(
            db,
            audit::CLI,
            "x-khac",
            "Xã Khác",
            tungnha_client_core::domain::CommuneKind::Xa,
        )
        .expect("commune");
        imports::hamlets_import(
            db,
            audit::CLI,
            "x-khac",
            b"code,name,kind,target_households\nthon-1,Thon 1,thon,5\n",
        )
        .expect("hamlet");
        imports::households_import(db, audit::CLI, "x-khac.thon-1", "label\nSố 1\n".as_bytes())
            .expect("households");
        accounts::user_add(db, audit::CLI, "canbokhac", Role::Official, Some("x-khac"), None, Some(PASSWORD))
            .expect("official");
        accounts::user_add(db, audit::CLI, "khac1", Role::Volunteer, Some("x-khac"), None, None)
            .expect("volunteer");
        organisation::assign(db, audit::CLI, "khac1", "x-khac.thon-1").expect("assign");
        let other = tungnha_client_core::CommuneId::parse("x-khac").expect("id");
        let team = teams::team_add(db, audit::CLI, &other, "Tổ khác").expect("team");
        assert_eq!(team.id.as_str(), "x-khac.to-khac");
        accounts::user_add(db, audit::CLI, "quantri", Role::Admin, None, None, Some(PASSWORD))
            .expect("admin");
        accounts::user_add(db, audit::CLI, "cu", Role::Official, Some(COMMUNE), None, Some(PASSWORD))
            .expect("old");
        for (province, commune) in [("t-own", COMMUNE), ("t-khac", "x-khac")] {
            organisation::province_add(db, audit::CLI, province, "Tỉnh").expect("province");
            organisation::attach_commune(db, audit::CLI, commune, province).expect("attached");
        }
        accounts::province_officer_add(db, audit::CLI, "canbotinh", "t-own", None, Some(PASSWORD))
            .expect("province officer");
        for user in ["tnv1", "totruong", "canbo", "canbokhac", "canbotinh", "quantri", "cu", "tnv2", "khac1"]
        {
            codes.insert(user, code(db, user));
        }
        codes.insert("tnv1-target", code(db, "tnv1"));
    });
    let token = |user: &str| enrol(&server, &codes[user]);
    let (own_target, other_target) = (token("tnv1-target").1, token("khac1").1);
    let mut principals =
        vec![Principal { kind: Kind::Anonymous, cookie: String::new(), csrf: String::new(), token: None }];
    for (kind, user) in [
        (Kind::Volunteer, "tnv1"),
        (Kind::Leader, "totruong"),
        (Kind::Official, "canbo"),
        (Kind::OtherOfficial, "canbokhac"),
        (Kind::ProvinceOfficer, "canbotinh"),
        (Kind::Admin, "quantri"),
        (Kind::Deactivated, "cu"),
    ] {
        let session = WebSession::sign_in(&server, user, PASSWORD);
        // The session's form token, as its pages carry it.
        let secret = session.cookie().trim_start_matches("tn_session=");
        let stored =
            server.state.store.session(secret, tungnha_server::now_ms()).expect("read").expect("a session");
        let csrf = stored.csrf;
        let (device_token, _) = token(user);
        principals.push(Principal {
            kind,
            cookie: session.cookie().to_owned(),
            csrf,
            token: Some(device_token),
        });
    }
    let (revoked_token, revoked_id) = token("tnv2");
    let db = server.state.store();
    accounts::set_active(db, audit::CLI, &UserId::parse("cu").expect("id"), false).expect("deactivated");
    db.revoke_device(&revoked_id.parse().expect("id"), tungnha_server::now_ms(), None).expect("revoked");
    principals.push(Principal {
        kind: Kind::Revoked,
        cookie: String::new(),
        csrf: String::new(),
        token: Some(revoked_token),
    });
    let (_, api_token) = api_tokens::issue(db, audit::CLI, "t-own", "IOC").expect("issued");
    // A second token, which the administrators' revoke row may revoke.
    let (target, _) = api_tokens::issue(db, audit::CLI, "t-own", "IOC thử").expect("issued");
    principals.push(Principal {
        kind: Kind::ApiClient,
        cookie: String::new(),
        csrf: String::new(),
        token: Some(api_token),
    });
    let household = |hamlet: &str| {
        let log = db.load_log(&HamletId::parse(hamlet).expect("id")).expect("load").expect("log");
        log.households().ok.keys().next().expect("a household").to_string()
    };
    let own = Ids {
        province: "t-own".into(),
        commune: COMMUNE.into(),
        hamlet: format!("{COMMUNE}.kp-1"),
        household: household(&format!("{COMMUNE}.kp-1")),
        person: "tnv2".into(),
        device: own_target,
        team: tungnha_tests::TEAM.into(),
        api_token: target.id.clone(),
    };
    let other = Ids {
        province: "t-khac".into(),
        commune: "x-khac".into(),
        hamlet: "x-khac.thon-1".into(),
        household: household("x-khac.thon-1"),
        person: "khac1".into(),
        device: other_target,
        team: "x-khac.to-khac".into(),
        api_token: target.id.clone(),
    };
    World { server, principals, own, other }
}

/// The path with its parameters filled in from `ids`.
fn fill(path: &str, ids: &Ids) -> String {
    let id = if path.contains("/provinces/") {
        &ids.province
    } else if path.contains("/communes/") {
        &ids.commune
    } else if path.contains("/hamlets/") {
        &ids.hamlet
    } else if path.contains("/api-tokens/") {
        &ids.api_token
    } else {
        &ids.device
    };
    path.replace("{id}", id)
        .replace("{user}", &ids.person)
        .replace("{household}", &ids.household)
        .replace("{team}", &ids.team)
        .replace("{code}", "en")
        .replace("{number}", "1")
        .replace("{*path}", "js/main.js")
}

/// What came back: status, `Location`, body.
struct Answer {
    status: u16,
    location: String,
    body: Vec<u8>,
}

fn request(server: &TestServer, method: &str, path: &str, p: &Principal) -> Answer {
    let agent =
        ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent();
    let url = server.url(path);
    let auth = p.token.as_ref().map(|t| format!("Bearer {t}")).unwrap_or_default();
    let result = if method == "GET" {
        let mut r = agent.get(&url).header("Cookie", &p.cookie);
        if !auth.is_empty() {
            r = r.header("Authorization", &auth);
        }
        r.call()
    } else {
        let (content_type, body) = if path.starts_with("/api/") {
            ("application/json", b"{}".to_vec())
        } else {
            // The catalogue form names the list it edits; nothing else is filled in,
            // so every allowed form stops at validation and changes nothing.
            let list = if path.ends_with("/catalogue") { "&list=topics" } else { "" };
            ("application/x-www-form-urlencoded", format!("csrf={}{list}", p.csrf).into_bytes())
        };
        let mut r = agent.post(&url).header("Cookie", &p.cookie).header("Content-Type", content_type);
        if !auth.is_empty() {
            r = r.header("Authorization", &auth);
        }
        r.send(&body[..])
    };
    let mut response = result.expect("the server answers");
    let location =
        response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = response.body_mut().read_to_vec().unwrap_or_default();
    Answer { status: response.status().as_u16(), location, body }
}

/// Whether an answer is a refusal: unauthenticated, forbidden, hidden, sent to sign
/// in first (`/login?next=…`; signing out ends at `/login` itself), or (a revoked
/// device syncing) told to wipe itself.
fn denied(path: &str, a: &Answer) -> bool {
    if path == "/api/v1/sync" && a.status == 200 {
        return tungnha_client_core::sync::Envelope::decode(&a.body).is_ok_and(|e| e.wipe);
    }
    let to_sign_in = a.location.starts_with("/login?next=") || (a.location == "/login" && path != "/logout");
    matches!(a.status, 401 | 403 | 404) || (a.status == 303 && to_sign_in)
}

#[test]
fn every_route_allows_exactly_whom_the_table_says() {
    let w = world();
    let mut failures = Vec::new();
    let mut cells = 0;
    // Signing out ends the sessions the other rows need: it goes last.
    let mut rows: Vec<_> = ROUTES.iter().collect();
    rows.sort_by_key(|r| r.path == "/logout");
    for row in rows {
        let scoped = row.path.contains('{') && !row.path.contains("{code}") && !row.path.contains("{*path}");
        let scopes: &[Scope] = if scoped { &[Scope::Own, Scope::Other] } else { &[Scope::Own] };
        for &scope in scopes {
            let path = fill(row.path, if scope == Scope::Own { &w.own } else { &w.other });
            for p in &w.principals {
                cells += 1;
                let answer = request(&w.server, row.method, &path, p);
                if answer.status >= 500 {
                    failures.push(format!("{} {path} as {:?}: {}", row.method, p.kind, answer.status));
                    continue;
                }
                if row.who == Who::Anyone {
                    continue;
                }
                let expected = allowed(row.who, p.kind, scope);
                if expected == denied(&path, &answer) {
                    failures.push(format!(
                        "{} {path} as {:?} ({scope:?}): {} {}, expected {}",
                        row.method,
                        p.kind,
                        answer.status,
                        answer.location,
                        if expected { "allowed" } else { "denied" }
                    ));
                }
            }
        }
    }
    assert!(cells > 500, "{cells} cells");
    assert!(failures.is_empty(), "{} of {cells} cells are wrong:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_method_without_a_row_is_not_served() {
    let w = world();
    let admin = w.principals.iter().find(|p| p.kind == Kind::Admin).expect("admin");
    for path in tungnha_server::http::routes::served() {
        for method in ["GET", "POST"] {
            if ROUTES.iter().any(|r| r.path == path && r.method == method) {
                continue;
            }
            let answer = request(&w.server, method, &fill(path, &w.own), admin);
            assert_eq!(answer.status, 405, "{method} {path} is served without a row in the table");
        }
    }
}
