//! The province over real HTTP: a province officer reads every commune's figures of
//! their province, summed from each commune's materialised totals, filters them, opens
//! a commune's dashboard read-only, and reaches no household's data anywhere.

use tungnha_client_core::device::Device;
use tungnha_client_core::{HamletId, Outcome, Role, VisitForm};
use tungnha_server::service::{accounts, api_tokens, audit, imports, organisation, verify};
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, cells, code, commune};

/// The test commune (2 hamlets of 12 households) and a second, quiet xã, both in
/// province `t-thu`, with its officer `canbotinh`.
fn server() -> (TestServer, Vec<HamletId>) {
    let mut hamlets = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 12, 1);
        organisation::commune_add(
            db,
            audit::CLI,
            "x-yen",
            "Xã Yên Tĩnh",
            tungnha_client_core::domain::CommuneKind::Xa,
        )
        .expect("commune");
        imports::hamlets_import(
            db,
            audit::CLI,
            "x-yen",
            b"code,name,kind,target_households\nthon-1,Thon 1,thon,40\n",
        )
        .expect("hamlet");
        imports::households_import(
            db,
            audit::CLI,
            "x-yen.thon-1",
            "label,head\nNhà Bí Mật,Ông Kín\n".as_bytes(),
        )
        .expect("households");
        organisation::province_add(db, audit::CLI, "t-thu", "Tỉnh Thử").expect("province");
        for c in [COMMUNE, "x-yen"] {
            organisation::attach_commune(db, audit::CLI, c, "t-thu").expect("attached");
        }
        accounts::province_officer_add(
            db,
            audit::CLI,
            "canbotinh",
            "t-thu",
            Some("Cán Bộ Tỉnh"),
            Some(PASSWORD),
        )
        .expect("officer");
        // A province officer is made with their province, never as a plain user.
        assert!(
            accounts::user_add(db, audit::CLI, "sai", Role::ProvinceOfficer, None, None, Some(PASSWORD))
                .is_err()
        );
    });
    (server, hamlets)
}

#[test]
fn a_province_officer_reads_every_communes_figures_and_no_household() {
    let (server, hamlets) = server();
    let home = tempfile::tempdir().expect("home");
    let mut phone = Device::enrol(home.path(), &server.base(), &code(server.state.store(), "tnv1"), "phone")
        .expect("enrolled");
    let now = tungnha_server::now_ms();
    for h in &hamlets {
        let list: Vec<_> = phone.log(h).expect("held").households().ok.into_keys().collect();
        for id in &list[..5] {
            phone
                .log_visit(id, Outcome::Guided, &VisitForm { people: 2, ..Default::default() }, now, now)
                .expect("visit");
        }
    }
    phone.sync().expect("sync");

    let mut officer = WebSession::sign_in(&server, "canbotinh", PASSWORD);
    let home_page = officer.get("/");
    assert_eq!(home_page.location.as_deref(), Some("/provinces/t-thu"), "sent home to the province");
    let page = officer.get("/provinces/t-thu");
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Phường Thử Nghiệm") && page.html.contains("Xã Yên Tĩnh"));
    // The totals are the communes' sums: 10 covered; to cover, two khu phố of target
    // 22 (listing 12) and a thôn of target 40.
    assert_eq!(cells(&page.html, "total", "covered"), [10]);
    assert_eq!(cells(&page.html, "total", "to_cover"), [2 * 22 + 40]);
    assert_eq!(cells(&page.html, "figure", "covered").iter().sum::<u64>(), 10);
    assert_eq!(cells(&page.html, "figure", "period_visits"), [10, 0], "the last 7 days per commune");
    assert_eq!(cells(&page.html, "total", "visits_7d"), [10]);
    // Teams and their people: the phường's one team (its leader and tnv1, who synced),
    // none in the quiet xã.
    assert_eq!(cells(&page.html, "total", "teams"), [1]);
    assert_eq!(cells(&page.html, "total", "members"), [2]);
    assert_eq!(cells(&page.html, "total", "active_members"), [1]);
    assert_eq!(cells(&page.html, "figure", "teams"), [1, 0]);
    assert_eq!(cells(&page.html, "figure", "active"), [1, 0]);
    // Filters: the quiet xã alone has had no visit in 7 days; nobody is at 80 %.
    let idle = officer.get("/provinces/t-thu?idle=1");
    assert!(
        idle.html.contains("Xã Yên Tĩnh") && !idle.html.contains("data-commune=\"p-test\""),
        "{}",
        idle.html
    );
    let high = officer.get("/provinces/t-thu?band=high");
    assert!(!high.html.contains("data-commune="), "no commune at 80 % or more");
    let phuong = officer.get("/provinces/t-thu?kind=phuong");
    assert!(
        phuong.html.contains("data-commune=\"p-test\"") && !phuong.html.contains("data-commune=\"x-yen\"")
    );

    // A commune's dashboard, read-only: figures, no exports, no way into households.
    let dashboard = officer.get(&format!("/communes/{COMMUNE}"));
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.html.contains("figures-only") && !dashboard.html.contains("export.xlsx"));
    assert!(!dashboard.html.contains("href=\"/hamlets/"), "no link into a hamlet's households");
    assert!(dashboard.html.contains("data-team=\"p-test.to-cong-nghe-so\""), "the teams' figures");
    assert!(!dashboard.html.contains("/teams/"), "no way into managing a team");
    for path in [
        format!("/hamlets/{}", hamlets[0]),
        format!("/hamlets/{}/export.csv", hamlets[0]),
        format!("/communes/{COMMUNE}/export.xlsx"),
        format!("/communes/{COMMUNE}/people"),
        "/hamlets/x-yen.thon-1".to_owned(),
        "/devices".to_owned(),
        "/team".to_owned(),
    ] {
        assert_eq!(officer.get(&path).status, 403, "{path}");
    }
    // No household's label or head on any page the officer reached.
    for html in [&page.html, &idle.html, &phuong.html, &dashboard.html] {
        assert!(!html.contains("Nhà Bí Mật") && !html.contains("Ông Kín") && !html.contains("hẻm 2"));
    }
    // Another province's page is not theirs.
    organisation::province_add(server.state.store(), audit::CLI, "t-khac", "Tỉnh Khác").expect("province");
    assert_eq!(officer.get("/provinces/t-khac").status, 403);
    // The official of the commune does not read the province.
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    assert_eq!(official.get("/provinces/t-thu").status, 403);
    // The province report, audited like every export, and the same figures by API.
    let csv = officer.download("/provinces/t-thu/export.csv");
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body.clone()).expect("utf-8");
    assert!(
        text.contains("Xã Yên Tĩnh") && text.contains("Phường Thử Nghiệm") && !text.contains("Nhà Bí Mật")
    );
    assert_eq!(officer.download("/provinces/t-thu/export.xlsx").status, 200);
    let audit = server.state.store.audit_events(2).expect("audit");
    assert!(audit.iter().all(|e| e.action == "export" && e.by == "canbotinh"), "{audit:?}");
    let home = tempfile::tempdir().expect("home");
    let device =
        Device::enrol(home.path(), &server.base(), &code(server.state.store(), "canbotinh"), "máy tỉnh")
            .expect("enrolled");
    let token = device.identity().token.clone();
    let report = tungnha_tests::get(&server.url("/api/v1/provinces/t-thu/coverage"), Some(&token));
    assert_eq!(report.status, 200);
    let json = report.json();
    assert_eq!(json["totals"]["covered"], 10);
    assert_eq!(json["to_cover"], 2 * 22 + 40);
    assert_eq!(json["communes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (json["teams"].as_u64(), json["members"].as_u64(), json["active_members"].as_u64()),
        (Some(1), Some(2), Some(1))
    );
    assert_eq!(json["communes"][0]["teams"], 1, "{json}");
    assert!(!String::from_utf8_lossy(&report.body).contains("Nhà Bí Mật"));
    // Every commune's totals are still its hamlets' sum.
    let (_, differences) = verify::verify(server.state.store()).expect("verify");
    assert!(differences.is_empty(), "{differences:?}");
}

#[test]
fn an_administrator_sets_up_a_province_on_the_web() {
    let (server, _) = server();
    accounts::user_add(server.state.store(), audit::CLI, "quantri", Role::Admin, None, None, Some(PASSWORD))
        .expect("admin");
    let mut admin = WebSession::sign_in(&server, "quantri", PASSWORD);
    let page = admin.get("/admin");
    assert!(page.html.contains("Tỉnh Thử") && page.html.contains("id=\"provinces\""));
    let csrf = admin.csrf.clone();
    let provinces = || server.state.store.all_provinces().expect("provinces").len();
    // A code taken, or one that is not a code: refused, nothing stored.
    for code in ["t-thu", "tỉnh mới", ""] {
        let refused =
            admin.post("/admin/provinces", &[("csrf", &csrf), ("code", code), ("name", "Tỉnh Mới")]);
        assert_eq!(refused.status, 422, "{code}");
    }
    assert_eq!(provinces(), 1);
    let added = admin.post("/admin/provinces", &[("csrf", &csrf), ("code", "t-moi"), ("name", "Tỉnh Mới")]);
    assert_eq!(added.status, 303);
    assert_eq!(provinces(), 2);
    // A commune in a province that does not exist is refused whole.
    let fields = |province: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("code", "x-moi".to_owned()),
            ("name", "Xã Mới".to_owned()),
            ("kind", "xa".to_owned()),
            ("province", province.to_owned()),
        ]
    };
    let post = |admin: &mut WebSession, f: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        admin.post("/admin/communes", &pairs)
    };
    assert_eq!(post(&mut admin, fields("t-khong-co")).status, 422);
    let x_moi = tungnha_client_core::CommuneId::parse("x-moi").expect("id");
    assert!(server.state.store.commune(&x_moi).expect("read").is_none(), "nothing was added");
    assert_eq!(post(&mut admin, fields("t-moi")).status, 303);
    let of = server.state.store.communes_of(&"t-moi".parse().expect("id")).expect("communes");
    assert_eq!(of.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["x-moi"]);
    assert!(admin.get("/admin").html.contains("Tỉnh Mới"));
    // A province officer, from the same page: an unknown province adds no one.
    let officer = |province: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("province", province.to_owned()),
            ("username", "canbomoi".to_owned()),
            ("name", "Cán Bộ Mới".to_owned()),
            ("password", PASSWORD.to_owned()),
        ]
    };
    let send = |admin: &mut WebSession, f: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        admin.post("/admin/province-officers", &pairs)
    };
    assert_eq!(send(&mut admin, officer("t-khong-co")).status, 422);
    let username = tungnha_client_core::UserId::parse("canbomoi").expect("id");
    assert!(server.state.store.user(&username).expect("read").is_none());
    assert_eq!(send(&mut admin, officer("t-moi")).status, 303);
    let added = server.state.store.user(&username).expect("read").expect("added");
    assert_eq!(
        (added.role, added.province.as_ref().map(|p| p.as_str())),
        (Role::ProvinceOfficer, Some("t-moi"))
    );
    let mut new_officer = WebSession::sign_in(&server, "canbomoi", PASSWORD);
    assert_eq!(new_officer.get("/provinces/t-moi").status, 200);
    assert_eq!(new_officer.get("/provinces/t-thu").status, 403);

    // An existing commune moves to the new province; an unknown one is refused.
    let refused = admin
        .post("/admin/communes/attach", &[("csrf", &csrf), ("commune", "x-khong-co"), ("province", "t-moi")]);
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("id=\"err-commune\""), "{}", refused.html);
    let moved =
        admin.post("/admin/communes/attach", &[("csrf", &csrf), ("commune", "x-yen"), ("province", "t-moi")]);
    assert_eq!(moved.status, 303);
    let yen = server.state.store.commune(&"x-yen".parse().expect("id")).expect("read").expect("commune");
    assert_eq!(yen.province.as_ref().map(|p| p.as_str()), Some("t-moi"));

    // A read-only API token for the province's operations centre: shown once, then
    // listed by name only; revoked from the same page.
    assert_eq!(
        admin.post("/admin/api-tokens", &[("csrf", &csrf), ("province", "t-moi"), ("name", "")]).status,
        422
    );
    assert!(server.state.store.api_tokens().expect("read").is_empty(), "nothing issued");
    let issued =
        admin.post("/admin/api-tokens", &[("csrf", &csrf), ("province", "t-moi"), ("name", "IOC Tỉnh Mới")]);
    assert_eq!(issued.status, 200, "{}", issued.html);
    let token = issued
        .html
        .split("id=\"api-token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the token")
        .to_owned();
    let read = tungnha_tests::get(&server.url("/api/v1/provinces/t-moi/coverage"), Some(&token));
    assert_eq!(read.status, 200);
    let ids: Vec<String> = read.json()["communes"]
        .as_array()
        .expect("communes")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["x-moi", "x-yen"], "the moved commune is read with the province");
    let listed = admin.get("/admin");
    assert!(listed.html.contains("IOC Tỉnh Mới") && !listed.html.contains(&token), "the token is shown once");
    let id = server.state.store.api_tokens().expect("read")[0].id.clone();
    let csrf = admin.csrf.clone();
    assert_eq!(admin.post(&format!("/admin/api-tokens/{id}/revoke"), &[("csrf", &csrf)]).status, 303);
    assert_eq!(tungnha_tests::get(&server.url("/api/v1/provinces/t-moi/coverage"), Some(&token)).status, 401);
}

/// The province's operations centre pulls its figures with a read-only API token an
/// administrator issued, reads the API's description first, and reaches nothing else.
#[test]
fn an_operations_centre_reads_the_province_with_a_read_only_token() {
    let (server, _) = server();
    let db = server.state.store();
    let (record, token) = api_tokens::issue(db, audit::CLI, "t-thu", "IOC Tỉnh Thử").expect("issued");
    organisation::province_add(db, audit::CLI, "t-khac", "Tỉnh Khác").expect("province");

    // The description, open to anyone, names the call and its answer's shape.
    let doc = tungnha_tests::get(&server.url("/api/v1/openapi.json"), None);
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["paths"]["/api/v1/provinces/{id}/coverage"]["get"].is_object());
    assert!(doc["components"]["schemas"]["ProvinceReport"].is_object());

    let report = tungnha_tests::get(&server.url("/api/v1/provinces/t-thu/coverage"), Some(&token));
    assert_eq!(report.status, 200, "{}", String::from_utf8_lossy(&report.body));
    let json = report.json();
    assert_eq!(json["communes"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["teams"], 1);
    // Another province, a device's calls, a commune's figures: not this token's.
    for path in
        ["/api/v1/provinces/t-khac/coverage", &format!("/api/v1/communes/{COMMUNE}/coverage"), "/api/v1/me"]
    {
        let answer = tungnha_tests::get(&server.url(path), Some(&token));
        assert!(matches!(answer.status, 401 | 403), "{path}: {}", answer.status);
    }
    // Revoked, it reads nothing; the issue and the revocation are audited.
    api_tokens::revoke(db, "quantri", &record.id).expect("revoked");
    let answer = tungnha_tests::get(&server.url("/api/v1/provinces/t-thu/coverage"), Some(&token));
    assert_eq!((answer.status, answer.code().as_str()), (401, "unauthenticated"));
    let actions: Vec<String> = db.audit_events(2).expect("audit").into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["api_token_revoke", "province_add"]);
}
