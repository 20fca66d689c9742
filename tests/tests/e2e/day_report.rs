//! The day's report as leaders, officials and province officers read it: a phone logs
//! visits with accounts and dossiers filed online over two days and syncs; each
//! report's figures for a day equal the commune dashboard's for that same day, its
//! running totals stop at the end of the day, its text says the same, its card is a
//! PNG, and a day that is not one is refused with a reason.

use std::collections::BTreeMap;

use tungnha_client_core::device::Device;
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{Outcome, VisitForm};
use tungnha_tests::{COMMUNE, PASSWORD, TEAM, TestServer, WebSession, cells, code, commune};

const DAY: i64 = 86_400_000;

/// The one figure `name` of a report page.
fn figure(html: &str, name: &str) -> u64 {
    let found = cells(html, "figure", name);
    assert_eq!(found.len(), 1, "{name} once on the page");
    found[0]
}

/// The text of the report (the textarea), unescaped enough to read.
fn report_text(html: &str) -> String {
    let start = html.find("id=\"report-text\"").expect("the text");
    let start = start + html[start..].find('>').expect("tag") + 1;
    let end = start + html[start..].find("</textarea>").expect("end");
    html[start..end].replace("&amp;", "&")
}

#[test]
fn the_days_report_equals_the_dashboards_day_for_a_team_a_commune_and_a_province() {
    let mut hamlets = Vec::new();
    let mut c = String::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 4, 2);
        tungnha_tests::province(db, "t-test");
        c = code(db, "tnv1");
    });
    let home = tempfile::tempdir().expect("home");
    let mut phone = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    let now = tungnha_server::now_ms();
    let (today, yesterday) = (vn_day(now), vn_day(now - DAY));
    let list: Vec<_> = phone.log(&hamlets[0]).expect("held").households().ok.into_keys().collect();
    let guided = |accounts: &[(&str, u32)], filed| VisitForm {
        topics: vec!["vneid".into()],
        accounts: accounts.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect::<BTreeMap<_, _>>(),
        people: 2,
        filed,
        note: None,
    };
    // Yesterday: two households guided, one dossier filed.
    phone
        .log_visit(&list[0], Outcome::Guided, &guided(&[("vneid_l1", 2)], 1), now - DAY, now)
        .expect("visit");
    phone
        .log_visit(&list[1], Outcome::Guided, &guided(&[("vneid_l1", 1)], 0), now - DAY, now)
        .expect("visit");
    // Today: one more guided with a public-service account and two dossiers, one
    // household nobody was home at, and a return to a household covered yesterday.
    phone.log_visit(&list[2], Outcome::Guided, &guided(&[("dvc", 1)], 2), now, now).expect("visit");
    phone.log_visit(&list[3], Outcome::NotHome, &VisitForm::default(), now, now).expect("visit");
    phone.log_visit(&list[0], Outcome::Guided, &guided(&[("vneid_l2", 1)], 1), now, now).expect("visit");
    phone.sync().expect("sync");

    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    let commune_day =
        |session: &mut WebSession, day: &str| session.get(&format!("/communes/{COMMUNE}/day?day={day}"));
    let page = commune_day(&mut official, &today);
    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    assert_eq!(figure(html, "day_visits"), 3);
    assert_eq!(figure(html, "day_guided"), 2);
    assert_eq!(figure(html, "day_people"), 4);
    assert_eq!(figure(html, "day_accounts"), 2);
    assert_eq!(figure(html, "day_filed"), 3);
    assert_eq!(figure(html, "day_covered"), 1);
    assert_eq!(figure(html, "covered_to_date"), 3);
    let text = report_text(html);
    assert!(text.contains("- Lượt đến hộ: 3 (trong đó hướng dẫn: 2)"), "{text}");
    assert!(text.contains("- Hồ sơ nộp trực tuyến: 3"), "{text}");
    assert!(text.contains("VNeID mức 2: 1"), "{text}");
    // The dashboard, asked for the same day, says the same.
    for day in [&today, &yesterday] {
        let report = commune_day(&mut official, day);
        let dashboard = official.get(&format!("/communes/{COMMUNE}?from={day}&to={day}"));
        let visits: u64 = cells(&dashboard.html, "figure", "period_visits").iter().sum();
        let covered: u64 = cells(&dashboard.html, "figure", "period_covered").iter().sum();
        assert_eq!(figure(&report.html, "day_visits"), visits, "{day}");
        assert_eq!(figure(&report.html, "day_covered"), covered, "{day}");
    }
    // Yesterday's running totals stop at its end.
    let before = commune_day(&mut official, &yesterday).html;
    assert_eq!(figure(&before, "day_visits"), 2);
    assert_eq!(figure(&before, "day_filed"), 1);
    assert_eq!(figure(&before, "covered_to_date"), 2);
    assert!(report_text(&before).contains("3 tài khoản, 1 hồ sơ trực tuyến."), "{}", report_text(&before));
    // The leader's team covers every hamlet here, and the province is this commune:
    // the same day, the same figures.
    let mut leader = WebSession::sign_in(&server, "totruong", PASSWORD);
    let team = leader.get(&format!("/communes/{COMMUNE}/teams/{TEAM}/day?day={today}"));
    assert_eq!(team.status, 200, "{}", team.html);
    let mut officer = WebSession::sign_in(&server, "canbotinh", PASSWORD);
    let province = officer.get(&format!("/provinces/t-test/day?day={today}"));
    assert_eq!(province.status, 200, "{}", province.html);
    for name in [
        "day_visits",
        "day_guided",
        "day_people",
        "day_accounts",
        "day_filed",
        "day_covered",
        "covered_to_date",
        "to_cover",
    ] {
        assert_eq!(figure(&team.html, name), figure(html, name), "team {name}");
        assert_eq!(figure(&province.html, name), figure(html, name), "province {name}");
    }
    assert!(leader.get("/team").html.contains(&format!("/communes/{COMMUNE}/teams/{TEAM}/day")));
    // The card is a PNG; a day that is not one is refused and says why.
    let card = official.download(&format!("/communes/{COMMUNE}/day.png?day={today}"));
    assert_eq!(card.status, 200);
    assert!(card.body.starts_with(b"\x89PNG"));
    let bad = commune_day(&mut official, "2026-02-30");
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("Ngày"), "{}", bad.html);
    // Officials of the commune only: the leader reads the team's day, not the commune's.
    assert_eq!(commune_day(&mut leader, &today).status, 403);
}
