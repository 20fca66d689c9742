//! The online-filing rate as officials keep it: an official records a month through
//! the form and imports the portal's statistics, mistakes are refused with reasons and
//! change nothing, the commune's page and dashboard show the share beside the dossiers
//! the teams helped file, and the province officer records the agencies' months and
//! reads every level.

use tungnha_client_core::device::Device;
use tungnha_client_core::{CommuneId, Outcome, VisitForm};
use tungnha_server::records::FilingLevel;
use tungnha_server::service::{audit, filing, organisation};
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, cells, code, commune};

/// The one cell `figure` of the row of `month` in the table `table`.
fn cell(html: &str, table: &str, month: &str, figure: &str) -> String {
    let table = &html[html.find(&format!("id=\"{table}\"")).unwrap_or_else(|| panic!("table {table}"))..];
    let row =
        &table[table.find(&format!("data-month=\"{month}\"")).unwrap_or_else(|| panic!("row {month}"))..];
    let at = row.find(&format!("data-figure=\"{figure}\"")).unwrap_or_else(|| panic!("{figure}"));
    let text = &row[at..];
    let text = &text[text.find('>').expect("tag") + 1..];
    text[..text.find('<').expect("end")].to_owned()
}

#[test]
fn officials_record_and_import_months_and_read_the_share_beside_the_teams_help() {
    let mut c = String::new();
    let server = TestServer::start(false, |db| {
        commune(db, 1, 3, 1);
        tungnha_tests::province(db, "t-test");
        organisation::commune_add(
            db,
            audit::CLI,
            "x-khac",
            "Xã Khác",
            tungnha_client_core::domain::CommuneKind::Xa,
        )
        .expect("another commune");
        c = code(db, "tnv1");
    });
    // This month a volunteer helps file two dossiers online.
    let home = tempfile::tempdir().expect("home");
    let mut phone = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    let hamlet = phone.hamlets()[0].0.clone();
    let household =
        phone.log(&hamlet).expect("held").households().ok.into_keys().next().expect("a household");
    let now = tungnha_server::now_ms();
    let form = VisitForm { people: 1, filed: 2, ..VisitForm::default() };
    phone.log_visit(&household, Outcome::Guided, &form, now, now).expect("visit");
    phone.sync().expect("sync");
    let months = filing::last_months(now, 2);
    let (last, this) = (months[0].clone(), months[1].clone());

    let path = format!("/communes/{COMMUNE}/filing");
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    let page = official.get(&path);
    assert_eq!(page.status, 200);
    assert_eq!(cell(&page.html, "filing-months", &this, "helped"), "2", "the teams' help this month");
    let csrf = official.csrf.clone();
    let post = |session: &mut WebSession, path: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        session.post(path, &form)
    };
    let saved = post(&mut official, &path, &[("month", &last), ("received", "1.200"), ("online", "588")]);
    assert_eq!(saved.status, 303, "{}", saved.html);
    let page = official.get(&path);
    assert_eq!(cell(&page.html, "filing-months", &last, "received"), "1.200");
    assert_eq!(cell(&page.html, "filing-months", &last, "rate"), "49,0%");
    let dashboard = official.get(&format!("/communes/{COMMUNE}"));
    assert!(dashboard.html.contains("49,0%"), "the dashboard's card shows the latest share");
    assert_eq!(cells(&dashboard.html, "total", "filed"), [2], "and the dossiers the teams helped file");

    // Mistakes are refused with a reason, and change nothing.
    let level = FilingLevel::Commune(CommuneId::parse(COMMUNE).expect("id"));
    let stored = || server.state.store.filings(&level).expect("read");
    let before = stored();
    let bad = post(&mut official, &path, &[("month", "2026-13"), ("received", "10"), ("online", "1")]);
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("Tháng chưa đúng"), "{}", bad.html);
    let bad = post(&mut official, &path, &[("month", &last), ("received", "10"), ("online", "11")]);
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("không nhiều hơn số tiếp nhận"), "{}", bad.html);
    let csv = format!(
        "month,commune,total,online\n{last},{COMMUNE},10,5\n{last},x-khac,10,5\n2031-01,{COMMUNE},1,1\n"
    );
    let refused = post(&mut official, &format!("{path}/import"), &[("csv", &csv)]);
    assert_eq!(refused.status, 422);
    assert!(
        refused.html.contains("Dòng 3, cột “commune”: “x-khac” is not yours to record"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("Dòng 4, cột “month”"), "{}", refused.html);
    assert!(refused.html.contains("x-khac,10,5"), "what was pasted comes back to be fixed");
    assert_eq!(stored(), before, "nothing was imported");

    // Pasted from Excel (tabs): two months at once.
    let earlier = filing::last_months(now, 3)[0].clone();
    let csv = format!(
        "month\tcommune\ttotal\tonline\n{earlier}\t{COMMUNE}\t1000\t400\n{last}\t{COMMUNE}\t1200\t600\n"
    );
    assert_eq!(post(&mut official, &format!("{path}/import"), &[("csv", &csv)]).status, 303);
    let months: Vec<(String, u64, u64)> =
        stored().into_iter().map(|f| (f.month, f.received, f.online)).collect();
    assert_eq!(months, [(earlier.clone(), 1000, 400), (last.clone(), 1200, 600)]);

    // The province officer records the agencies' month and reads every level.
    let mut officer = WebSession::sign_in(&server, "canbotinh", PASSWORD);
    officer.get("/provinces/t-test/filing");
    let csrf = officer.csrf.clone();
    let saved = officer.post(
        "/provinces/t-test/filing",
        &[("csrf", csrf.as_str()), ("month", &last), ("received", "800"), ("online", "600")],
    );
    assert_eq!(saved.status, 303, "{}", saved.html);
    let page = officer.get("/provinces/t-test/filing");
    assert_eq!(cell(&page.html, "filing-levels", &last, "rate_agencies"), "75,0%");
    assert_eq!(cell(&page.html, "filing-levels", &last, "rate_communes"), "50,0%");
    assert_eq!(cell(&page.html, "filing-levels", &last, "rate"), "60,0%", "1.200 of 2.000 over both levels");
    assert_eq!(cell(&page.html, "filing-levels", &this, "helped"), "2");
    assert!(officer.get("/provinces/t-test").html.contains("60,0%"), "the province dashboard's card");
    // The official records nothing for the province, nor for another commune.
    assert_eq!(official.get("/provinces/t-test/filing").status, 403);
    assert_eq!(official.get("/communes/x-khac/filing").status, 403);
    let events = server.state.store.audit_events(5).expect("audit");
    assert!(events.iter().any(|e| e.by == "canbotinh" && e.action == "filing"));
    assert!(events.iter().any(|e| e.by == "canbo" && e.action == "filing_import"));
}
