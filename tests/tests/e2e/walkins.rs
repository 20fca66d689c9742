//! Help at the one-stop counter as a commune runs it: the official adds the counter
//! and puts a volunteer on duty through the web; only that volunteer's phone holds the
//! counter's log; walk-ins logged offline on the phone reach the server, and count in
//! the dashboard, the day's report and the export as their own line, never in the
//! households' coverage.

use serde_json::json;
use tungnha_client_core::HamletId;
use tungnha_client_core::device::Device;
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, browser_script, cells, code, commune};

#[test]
fn walk_ins_at_the_counter_are_their_own_line_everywhere() {
    let mut codes = Vec::new();
    let server = TestServer::start(false, |db| {
        commune(db, 1, 3, 2);
        tungnha_tests::province(db, "t-test");
        codes = vec![code(db, "tnv1"), code(db, "tnv2")];
    });
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    let path = format!("/communes/{COMMUNE}/assignments");
    official.get(&path);
    let csrf = official.csrf.clone();
    let counters = format!("/communes/{COMMUNE}/counters");
    let refused = official.post(&counters, &[("csrf", &csrf), ("name", "  ")]);
    assert_eq!(refused.status, 422, "a counter needs a name");
    let added = official.post(&counters, &[("csrf", &csrf), ("name", "Bộ phận một cửa")]);
    assert_eq!(added.status, 303, "{}", added.html);
    let counter = format!("{COMMUNE}.quay-bo-phan-mot-cua");
    let assigned =
        official.post(&path, &[("csrf", &csrf), ("op", "assign"), ("hamlet", &counter), ("user", "tnv1")]);
    assert_eq!(assigned.status, 303, "{}", assigned.html);
    let page = official.get(&path);
    assert!(page.html.contains("Người trực quầy"), "the counter's people are on duty there");

    // Only the volunteer on duty holds the counter's log.
    let home = tempfile::tempdir().expect("home");
    let mut other = Device::enrol(home.path(), &server.base(), &codes[1], "CLI").expect("enrolled");
    other.sync().expect("sync");
    let counter_id = HamletId::parse(&counter).expect("id");
    assert!(!other.hamlets().iter().any(|(h, _)| *h == counter_id), "tnv2 is not on duty");

    // tnv1's phone, offline at the counter.
    let profile = tempfile::tempdir().expect("profile");
    let phone = browser_script(
        "app.mjs",
        "counter",
        &server.base(),
        &json!({ "code": codes[0], "profile": profile.path(), "counter": counter }),
    );
    assert!(phone["day"].as_str().is_some_and(|d| d.contains("Tại quầy: 2 lượt")), "{phone}");
    let stored = server.state.store.coverage(&counter_id).expect("coverage");
    assert_eq!((stored.walkins.count, stored.walkins.people, stored.walkins.filed), (2, 3, 1));
    assert_eq!((stored.registered, stored.visits), (0, 0), "no household, no visit");

    // The dashboard: the counter apart from the hamlets, its walk-ins their own cards.
    let dashboard = official.get(&format!("/communes/{COMMUNE}"));
    assert_eq!(cells(&dashboard.html, "total", "walkins"), [2]);
    assert_eq!(cells(&dashboard.html, "total", "walkin_people"), [3]);
    assert_eq!(cells(&dashboard.html, "total", "visits"), [0], "walk-ins are no visits");
    assert!(!dashboard.html.contains(&format!("data-hamlet=\"{counter}\"")), "not in the hamlets' table");
    assert!(dashboard.html.contains(&format!("data-counter=\"{counter}\"")));
    // The day's report has the counter's line; the export its rows.
    let day = official.get(&format!("/communes/{COMMUNE}/day"));
    assert_eq!(cells(&day.html, "figure", "day_walkins"), [2]);
    assert!(
        day.html.contains("- Tại quầy: 2 lượt, 3 người, 1 tài khoản, 1 hồ sơ trực tuyến"),
        "{}",
        day.html
    );
    let csv = official.download(&format!("/communes/{COMMUNE}/export.csv"));
    let text = String::from_utf8(csv.body).expect("UTF-8");
    assert!(!text.contains("quay-bo-phan-mot-cua"), "the hamlets' sheet has no counter: {text}");
    // The counter's page lists its walk-ins, the note with them.
    let page = official.get(&format!("/hamlets/{counter}"));
    assert_eq!(page.status, 200);
    assert_eq!(page.html.matches("<tr data-walkin>").count(), 2, "{}", page.html);
    assert!(page.html.contains("Nộp hồ sơ khai sinh"));
    // The province: the commune's walk-ins in its row and the province's card.
    let mut officer = WebSession::sign_in(&server, "canbotinh", PASSWORD);
    let province = officer.get("/provinces/t-test");
    assert_eq!(cells(&province.html, "figure", "walkins"), [2]);
    assert_eq!(cells(&province.html, "total", "walkins"), [2]);
    let (_, differences) = tungnha_server::service::verify::verify(server.state.store()).expect("verify");
    assert!(differences.is_empty(), "{differences:?}");

    // The counter's log rolled over (a campaign closed): its walk-ins leave the log on
    // duty phones and stay on the counter's page and in every figure.
    let now = tungnha_server::now_ms();
    let rolled =
        tungnha_server::service::rollover::roll_over(&server.state, "canbo", &counter_id, "đợt 1", None, now)
            .expect("rolled over")
            .expect("it held walk-ins");
    assert_eq!((rolled.walkins, rolled.visits), (2, 0));
    let page = official.get(&format!("/hamlets/{counter}"));
    assert_eq!(page.html.matches("<tr data-walkin>").count(), 2, "from the history: {}", page.html);
    assert!(page.html.contains("Nộp hồ sơ khai sinh"), "a walk-in's note is in clear, and kept");
    let dashboard = official.get(&format!("/communes/{COMMUNE}"));
    assert_eq!(cells(&dashboard.html, "total", "walkins"), [2]);
    let (_, differences) = tungnha_server::service::verify::verify(server.state.store()).expect("verify");
    assert!(differences.is_empty(), "{differences:?}");
}
