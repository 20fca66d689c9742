//! Campaigns from the web (issue: campaigns): an official opens one, volunteers work,
//! the dashboard shows the campaign's coverage beside the all-time figures; closing it
//! rolls the hamlets that hold visits over; in the next campaign a household covered in
//! the last one is not covered until it is visited again, and the closed campaign's
//! figures stay as they were.

use tungnha_client_core::device::Device;
use tungnha_client_core::domain::vn_day;
use tungnha_client_core::{Outcome, VisitForm};
use tungnha_tests::{PASSWORD, TestServer, WebSession, code, commune};

/// The text of the element with `data-total="…"` or `data-figure="…"` = `key`, first one.
fn figure(html: &str, attr: &str, key: &str) -> String {
    let at = html.find(&format!("{attr}=\"{key}\"")).unwrap_or_else(|| panic!("no {attr}={key} in {html}"));
    let rest = &html[at..];
    let text: String = rest.split('>').skip(1).map(|s| s.split('<').next().unwrap_or_default()).collect();
    text.chars().take(200).collect()
}

#[test]
fn an_official_opens_and_closes_campaigns_and_each_counts_its_own_coverage() {
    let mut hamlets = Vec::new();
    let mut codes = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 20, 1);
        codes = vec![code(db, "tnv1")];
    });
    let page = "/communes/p-test/campaigns";
    let mut web = WebSession::sign_in(&server, "canbo", PASSWORD);
    let list = web.get(page);
    assert_eq!(list.status, 200);
    assert!(list.html.contains("Chưa có đợt nào"), "{}", list.html);
    let csrf = web.csrf.clone();

    // A campaign without a name, or ending before it starts, is refused; nothing opens.
    let today = vn_day(tungnha_server::now_ms());
    let refused = web.post(page, &[("csrf", &csrf), ("name", "  "), ("starts", &today)]);
    assert_eq!(refused.status, 422);
    assert!(refused.html.contains("err-name"), "{}", refused.html);
    let backwards =
        web.post(page, &[("csrf", &csrf), ("name", "Đợt 1"), ("starts", &today), ("ends", "2020-01-01")]);
    assert_eq!(backwards.status, 422);
    assert!(backwards.html.contains("value=\"Đợt 1\""), "what was typed stays: {}", backwards.html);
    for far in ["2099-01-01", "hôm nay", "2026-02-30"] {
        let refused = web.post(page, &[("csrf", &csrf), ("name", "Đợt 1"), ("starts", far)]);
        assert_eq!(refused.status, 422, "{far}");
    }
    // A topic the commune does not have, a target that is no number of households, a
    // name past its length: each refused beside its field.
    let long = "đ".repeat(121);
    for (field, value, error) in [
        ("topic", "khong-co", "err-catalogue"),
        ("target", "0", "err-target"),
        ("target", "99999999999999999999", "err-target"),
        ("name", long.as_str(), "err-name"),
    ] {
        let name = if field == "name" { value } else { "Đợt 1" };
        let refused = web.post(page, &[("csrf", &csrf), ("name", name), ("starts", &today), (field, value)]);
        assert_eq!(refused.status, 422, "{field}={value}");
        assert!(refused.html.contains(error), "{field}: {}", refused.html);
    }
    assert!(server.state.store.campaigns_of(&"p-test".parse().expect("id")).expect("read").is_empty());

    let opened = web.post(
        page,
        &[("csrf", &csrf), ("name", "Đợt VNeID"), ("starts", &today), ("topic", "vneid"), ("target", "30")],
    );
    assert_eq!(opened.status, 303, "{}", opened.html);
    let again = web.post(page, &[("csrf", &csrf), ("name", "Đợt hai"), ("starts", &today)]);
    assert_eq!(again.status, 422, "one campaign at a time");
    assert!(again.html.contains("Đang có một đợt chưa kết thúc"), "{}", again.html);

    // A volunteer covers five households of the first hamlet and misses one.
    let home = tempfile::tempdir().expect("home");
    let mut cli = Device::enrol(home.path(), &server.base(), &codes[0], "máy").expect("enrol");
    cli.sync().expect("sync");
    let households: Vec<_> = cli.log(&hamlets[0]).expect("held").households().ok.into_keys().collect();
    let now = tungnha_server::now_ms();
    let guided = VisitForm { people: 1, topics: vec!["vneid".into()], ..VisitForm::default() };
    for h in &households[..5] {
        cli.log_visit(h, Outcome::Guided, &guided, now - 1_000, now).expect("visit");
    }
    cli.log_visit(&households[5], Outcome::NotHome, &VisitForm::default(), now - 1_000, now).expect("visit");
    cli.sync().expect("sync");

    // The dashboard shows the campaign: 5 of its target of 30, and the hamlet's 5 of 30.
    let first = web.get("/communes/p-test?campaign=1");
    assert!(first.html.contains("id=\"campaign\""), "{}", first.html);
    assert!(figure(&first.html, "data-total", "campaign_covered").contains("5 / 30"), "{}", first.html);
    assert!(first.html.contains("Mọi thời gian"));

    // Closing it rolls over the hamlet that holds visits, not the one that holds none.
    let close = web.post(&format!("{page}/1/close"), &[("csrf", &csrf)]);
    assert_eq!(close.status, 303, "{}", close.html);
    let generation = |h: &tungnha_client_core::HamletId| {
        let entry = server.state.logs.get(server.state.store(), h).expect("load").expect("log");
        tungnha_server::cache::lock(&entry).log.generation()
    };
    assert_eq!((generation(&hamlets[0]), generation(&hamlets[1])), (1, 0));
    let twice = web.post(&format!("{page}/1/close"), &[("csrf", &csrf)]);
    assert_eq!(twice.status, 422, "closed already");
    let audit = web.get("/communes/p-test/audit");
    assert!(audit.html.contains("Kết thúc đợt") && audit.html.contains("Chuyển sổ thôn sang sổ mới"));

    // The next campaign, with no target: its households to cover are the hamlets' (2 × 30).
    // A household covered in the last one counts only when visited again.
    let opened = web.post(page, &[("csrf", &csrf), ("name", "Đợt dịch vụ công"), ("starts", &today)]);
    assert_eq!(opened.status, 303, "{}", opened.html);
    cli.sync().expect("the device takes the successor");
    assert_eq!(cli.log(&hamlets[0]).expect("held").visits().ok.len(), 0);
    let later = tungnha_server::now_ms();
    cli.log_visit(&households[0], Outcome::Guided, &guided, later, later).expect("visit again");
    cli.log_visit(&households[5], Outcome::AlreadyDone, &VisitForm::default(), later, later).expect("visit");
    // One logged late for two days ago: before this campaign, in none.
    let two_days_ago = later - 2 * 86_400_000;
    cli.log_visit(&households[7], Outcome::NotHome, &VisitForm::default(), two_days_ago, later)
        .expect("visit");
    cli.sync().expect("sync");
    let second = web.get("/communes/p-test?campaign=2");
    assert!(figure(&second.html, "data-total", "campaign_covered").contains("2 / 60"), "{}", second.html);
    let stored = server.state.store.coverage(&hamlets[0]).expect("coverage");
    assert_eq!((stored.covered, stored.visits), (6, 9), "all time: every campaign's visits");
    // The commune's day's report tells the campaign running that day.
    let report = web.get("/communes/p-test/day");
    assert!(report.html.contains("Đợt dịch vụ công: bao phủ trong đợt 2/60 hộ"), "{}", report.html);
    // A team's, of its own hamlets only.
    tungnha_tests::take_from_team(server.state.store(), &hamlets[1]);
    let team = web.get(&format!("/communes/p-test/teams/{}/day", tungnha_tests::TEAM));
    assert!(team.html.contains("Đợt dịch vụ công: bao phủ trong đợt 2/30 hộ"), "{}", team.html);

    // The closed campaign keeps its figures, read from the history.
    let first = web.get("/communes/p-test?campaign=1");
    assert!(figure(&first.html, "data-total", "campaign_covered").contains("5 / 30"), "{}", first.html);
    let list = web.get(page);
    assert!(list.html.contains("Đã kết thúc") && list.html.contains("Đang diễn ra"), "{}", list.html);

    // The export the dashboard links to carries the campaign's column; another
    // commune's campaign number is refused.
    assert!(first.html.contains("export.csv?campaign=1"), "{}", first.html);
    let csv = web.get("/communes/p-test/export.csv?campaign=1");
    assert_eq!(csv.status, 200);
    let header = csv.html.lines().next().unwrap_or_default();
    assert!(header.contains("Bao phủ trong đợt"), "{header}");
    let row = csv.html.lines().find(|l| l.starts_with("kp-1")).expect("the first hamlet's row");
    assert!(row.ends_with(";5"), "5 covered in the first campaign: {row}");
    assert_eq!(web.get("/communes/p-test/export.csv?campaign=9").status, 404);

    // A hamlet compacted by hand: one with no visit has nothing to roll over; the
    // first hamlet's visit from before the open campaign moves to the history, the
    // campaign's stay in the log its volunteers hold, and every figure stays.
    let second_hamlet = format!("/hamlets/{}", hamlets[1]);
    let nothing = web.post(&format!("{second_hamlet}/rollover"), &[("csrf", &csrf)]);
    assert_eq!(nothing.location.as_deref(), Some(format!("{second_hamlet}?done=nothing").as_str()));
    assert_eq!(generation(&hamlets[1]), 0);
    let first_hamlet = format!("/hamlets/{}", hamlets[0]);
    let page = web.get(&first_hamlet);
    assert!(page.html.contains("id=\"compact\""), "officials are offered it");
    let rolled = web.post(&format!("{first_hamlet}/rollover"), &[("csrf", &csrf)]);
    assert_eq!(rolled.location.as_deref(), Some(format!("{first_hamlet}?done=rolled").as_str()));
    assert_eq!(generation(&hamlets[0]), 2);
    assert!(web.get(&format!("{first_hamlet}?done=rolled")).html.contains("Đã chuyển sổ sang sổ mới"));
    let again = server.state.store.coverage(&hamlets[0]).expect("coverage");
    assert_eq!((again.covered, again.visits), (6, 9), "all time, unchanged");
    cli.sync().expect("the device takes the compacted log");
    let kept = cli.log(&hamlets[0]).expect("held").visits().ok;
    assert_eq!(kept.len(), 2, "the open campaign's visits stay on the device");
    assert!(kept.values().all(|v| v.at >= later));
    let second = web.get("/communes/p-test?campaign=2");
    assert!(figure(&second.html, "data-total", "campaign_covered").contains("2 / 60"), "{}", second.html);
    // A leader sees the hamlet but is not offered to roll it over.
    let mut leader = WebSession::sign_in(&server, "totruong", PASSWORD);
    let seen = leader.get(&first_hamlet);
    assert_eq!(seen.status, 200, "the leader's team covers it");
    assert!(!seen.html.contains("id=\"compact\""));
}
