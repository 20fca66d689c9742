//! The web in a real headless Chromium (`tests/browser/web.mjs`, playwright-core and
//! Debian's chromium), against a real server on loopback, with a real client-core
//! device in between: the official assigns and sets a target, the leader makes an
//! enrolment code, the device enrols with it, logs visits while the server is down and
//! syncs; then the dashboards, the Excel export and the revocation are checked against
//! what the server stored. Screenshots are kept under `target/screenshots/`.

use calamine::{Data, DataType, Reader, Xlsx};
use serde_json::{Value, json};
use tungnha_client_core::device::Device;
use tungnha_client_core::{Coverage, HamletId, Outcome, Role, UserId, VisitForm};
use tungnha_server::service::{access, accounts, audit};
use tungnha_tests::{COMMUNE, TestServer, commune};

fn browser(phase: &str, base: &str, arg: &Value) -> Value {
    tungnha_tests::browser_script("web.mjs", phase, base, arg)
}

#[test]
fn an_official_a_leader_and_a_device_meet_in_the_browser() {
    let mut hamlets = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 20, 1);
        accounts::user_add(
            db,
            audit::CLI,
            "tnv9",
            Role::Volunteer,
            Some(COMMUNE),
            Some("Lâm Thị Chín"),
            None,
        )
        .expect("an unassigned volunteer");
        tungnha_tests::province(db, "t-thu");
    });
    let kp1 = hamlets[0].clone();

    // The official puts tnv9 in the team (now covering kp-1 only) and assigns them to
    // kp-2 on their own, and sets the target; the leader makes a code.
    let made = browser("setup", &server.base(), &Value::Null);
    let db = server.state.store();
    let tnv9 = UserId::parse("tnv9").expect("id");
    assert_eq!(db.assignments_of(&tnv9).expect("read"), vec![hamlets[1].clone()]);
    assert_eq!(access::hamlets_of(db, &tnv9).expect("read"), hamlets);
    assert_eq!(
        db.hamlet(&kp1).expect("read").expect("kp-1").target_households,
        123,
        "the forged POST changed nothing"
    );

    // The device enrols with the code from the page, then works offline.
    let home = tempfile::tempdir().expect("home");
    let code = made["code"].as_str().expect("a code");
    let mut device =
        Device::enrol(home.path(), &server.base(), code, "Điện thoại của Chín").expect("enrolled");
    let held: Vec<HamletId> = device.hamlets().into_iter().map(|(h, _)| h).collect();
    assert_eq!(held, hamlets[..1], "the leader's code reaches only the leader's team's hamlet");
    let paused = server.pause();
    let list: Vec<_> = device.log(&kp1).expect("held").households().ok.into_keys().collect();
    let now = tungnha_server::now_ms();
    let visits = [
        (Outcome::Guided, 3, 2),
        (Outcome::AlreadyDone, 1, 0),
        (Outcome::NotHome, 0, 0),
        (Outcome::Guided, 2, 1),
        (Outcome::Revisit, 1, 0),
    ];
    for (i, (outcome, people, accounts)) in visits.into_iter().enumerate() {
        let accounts =
            if accounts > 0 { [("vneid_l2".to_owned(), accounts)].into() } else { Default::default() };
        let form = VisitForm { people, accounts, ..VisitForm::default() };
        device
            .log_visit(&list[i], outcome, &form, now - 60_000 * (5 - i as i64), now)
            .expect("logged offline");
    }
    // And lists a house the official's list lacked, for the leader to review.
    let form =
        tungnha_client_core::HouseholdForm { label: "Nhà mới, hẻm 9".into(), ..Default::default() };
    let found = device.add_household(&kp1, &form, now).expect("listed offline");
    assert!(device.sync().is_err(), "the server is down");
    let server = paused.resume();
    device.sync().expect("synced once the server is back");
    let stored: Coverage = server.state.store.coverage(&kp1).expect("coverage");
    assert_eq!((stored.visits, stored.covered, stored.follow_ups, stored.people), (5, 3, 2, 7));

    // The browser sees exactly those figures, exports them, and the leader revokes.
    let shots = tungnha_tests::target_dir().join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let xlsx = tempfile::tempdir().expect("download directory");
    let xlsx_path = xlsx.path().join("commune.xlsx");
    let expected = json!({
        "covered": stored.covered,
        "visits": stored.visits,
        "accounts": stored.accounts.values().sum::<u64>(),
        "people": stored.people,
        "follow_ups": stored.follow_ups,
        "to_cover": 123,
        "xlsx": xlsx_path,
        "screenshots": shots,
    });
    browser("check", &server.base(), &expected);
    for shot in ["commune-dashboard.png", "hamlet.png"] {
        assert!(std::fs::metadata(shots.join(shot)).expect(shot).len() > 10_000, "{shot} has content");
    }

    // The workbook the official downloaded holds the same numbers.
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx_path).expect("the download is a workbook");
    let sheet = book.worksheet_range("Thôn, khu phố").expect("hamlets sheet");
    let row = sheet.rows().find(|r| r[0] == Data::String("kp-1".into())).expect("kp-1");
    let numbers: Vec<f64> = row[2..12].iter().map(|c| c.as_f64().expect("number")).collect();
    let ratio = stored.ratio(123);
    assert_eq!(
        numbers,
        [123.0, 21.0, 123.0, 3.0, 5.0, ratio, 5.0, 3.0, 7.0, 2.0],
        "target, listed, to cover, covered, reached, coverage, visits, accounts, people, follow-ups"
    );

    // The leader removed the house from the list on the review page.
    assert_eq!(server.state.store.coverage(&kp1).expect("coverage").registered, 20);
    let log = server.state.logs.get(server.state.store(), &kp1).expect("read").expect("log");
    assert!(tungnha_server::cache::lock(&log).log.households().ok[&found].retired);

    // The revocation reached the device: it wipes itself at its next sync.
    let report = device.sync().expect("the server answers a revoked device");
    assert!(report.wiped && device.hamlets().is_empty(), "a revoked device wipes its data");
    let actions: Vec<(String, String)> =
        server.state.store.audit_events(20).expect("audit").into_iter().map(|e| (e.by, e.action)).collect();
    for (by, action) in [
        ("canbo", "team_hamlet_remove"),
        ("canbo", "team_member_add"),
        ("canbo", "assign"),
        ("canbo", "target"),
        ("totruong", "enrol_code"),
        ("canbo", "export"),
        ("totruong", "revoke"),
        ("totruong", "households_retired"),
    ] {
        assert!(
            actions.contains(&(by.to_owned(), action.to_owned())),
            "audit has {by} {action}: {actions:?}"
        );
    }

    // The province officer reads the province, opens the commune read-only, exports.
    let province_xlsx = tungnha_tests::target_dir().join("screenshots").join("province.xlsx");
    let covered =
        server.state.store.commune_totals(&COMMUNE.parse().expect("id")).expect("totals").coverage.covered;
    browser(
        "province",
        &server.base(),
        &json!({ "screenshots": tungnha_tests::target_dir().join("screenshots"), "xlsx": province_xlsx, "covered": covered }),
    );
    let mut workbook: Xlsx<_> = calamine::open_workbook(&province_xlsx).expect("the province report opens");
    let sheets = workbook.sheet_names();
    assert_eq!(sheets.len(), 5, "summary, communes, teams, online filing, days: {sheets:?}");
    assert_eq!(sheets[3], "Tỷ lệ hồ sơ trực tuyến");
    let communes = workbook.worksheet_range(&sheets[1]).expect("communes sheet");
    assert!(communes.rows().any(|r| r.iter().any(|c| c.get_string() == Some("Phường Thử Nghiệm"))));
    // The team, its commune first, with its three members (tnv1, tnv9 and the leader).
    let teams = workbook.worksheet_range(&sheets[2]).expect("teams sheet");
    let row = teams.rows().nth(1).expect("the team's row");
    assert_eq!(row[0].get_string(), Some("Phường Thử Nghiệm"));
    assert_eq!(row[1].get_string(), Some("Tổ công nghệ số"));
    assert_eq!(row[3].as_f64(), Some(3.0), "{row:?}");
    let last = server.state.store.audit_events(1).expect("audit");
    assert_eq!((last[0].by.as_str(), last[0].action.as_str()), ("canbotinh", "export"));
}
