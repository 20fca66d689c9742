//! Erasure that reaches every replica and the history (issue: household personal data
//! under per-household keys). A CLI device, a phone in Chromium and an offline device
//! hold a hamlet; an official erases a household on the web; after their syncs none of
//! them, nor the server, can show its label, head or notes; the key's bytes are in no
//! live file of the server's store or the device's home, and the label's text never
//! was; the phone's IndexedDB no longer holds the key; a device assigned afterwards
//! never receives it. The official's export, the audit log and retention are checked
//! too.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tungnha_client_core::device::Device;
use tungnha_client_core::{HamletId, Outcome, VisitForm};
use tungnha_server::service::{accounts, audit, erasure, organisation};
use tungnha_tests::{PASSWORD, TestServer, WebSession, browser_script, code, commune, pg};

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_holding(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            out.push(path);
        }
    }
    out
}

/// Where the server keeps household keys on disk: its data directory (sled), or the
/// files of PostgreSQL's `household_keys` table once written out.
fn server_key_files(server: &TestServer) -> Vec<PathBuf> {
    match &server.database {
        None => vec![server.data.path().to_path_buf()],
        Some(url) => {
            let mut db = postgres::Client::connect(url, postgres::NoTls).expect("connect");
            // Written out of shared buffers, so the files say what the table holds.
            db.batch_execute("CHECKPOINT").expect("checkpoint");
            let path: String =
                db.query_one("SELECT pg_relation_filepath('household_keys')", &[]).expect("path").get(0);
            vec![pg::data_dir().join(path)]
        }
    }
}

fn held_anywhere(places: &[PathBuf], needle: &[u8]) -> Vec<PathBuf> {
    places
        .iter()
        .flat_map(|p| if p.is_dir() { files_holding(p, needle) } else { files_holding_file(p, needle) })
        .collect()
}

fn files_holding_file(path: &Path, needle: &[u8]) -> Vec<PathBuf> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.windows(needle.len()).any(|w| w == needle) => vec![path.to_path_buf()],
        _ => Vec::new(),
    }
}

fn phone(base: &str, arg: Value) -> Value {
    browser_script("app.mjs", "household", base, &arg)
}

#[test]
fn an_erased_household_leaves_every_replica_and_every_live_file() {
    let mut hamlets = Vec::new();
    let mut codes = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 12, 3);
        codes = vec![code(db, "tnv1"), code(db, "tnv2"), code(db, "tnv3")];
    });
    let hamlet: HamletId = hamlets[0].clone();
    let now = tungnha_server::now_ms();

    // A CLI device, and one that will be offline during the erasure.
    let cli_home = tempfile::tempdir().expect("cli home");
    let mut cli = Device::enrol(cli_home.path(), &server.base(), &codes[0], "máy tnv1").expect("enrol");
    cli.sync().expect("sync");
    let offline_home = tempfile::tempdir().expect("offline home");
    let mut offline =
        Device::enrol(offline_home.path(), &server.base(), &codes[1], "máy tnv2").expect("enrol");
    offline.sync().expect("sync");

    // The household to erase, its label, and a visit with a note naming someone.
    let (household, label) = {
        let log = cli.log(&hamlet).expect("held");
        let (id, h) = log.households().ok.into_iter().next().expect("a household");
        (id, h.label)
    };
    assert!(label.starts_with("Số "), "{label}");
    let note = "Bà Nguyễn Thị Hoa hẹn chiều mai";
    cli.log_visit(
        &household,
        Outcome::Revisit,
        &VisitForm { note: Some(note.into()), ..VisitForm::default() },
        now - 60_000,
        now,
    )
    .expect("visit");
    cli.sync().expect("sync");
    offline.sync().expect("the offline device sees the note before it goes offline");
    let key =
        cli.log(&hamlet).expect("held").keys().key(&household).expect("the device holds the key").clone();

    // A phone holds the hamlet too and shows the household.
    let profile = tempfile::tempdir().expect("browser profile");
    let base = server.base();
    let arg = |code: Option<&str>| json!({"profile": profile.path(), "hamlet": hamlet.as_str(), "household": household.as_str(), "code": code, "sync": true});
    let before = phone(&base, arg(Some(&codes[2])));
    assert_eq!(before["erasedOnList"], json!(false), "{before}");
    assert!(before["listed"].as_str().unwrap_or_default().contains(&label), "{before}");
    assert!(
        before["screen"].as_str().unwrap_or_default().contains(note),
        "the phone opens the note: {before}"
    );
    assert_eq!(before["key"], json!(key.as_bytes().to_vec()), "the phone keeps the key in IndexedDB");

    // Where the key lives before: the server's store and the device's home hold its
    // bytes (so the search below can find them), and no file holds the label or the
    // note in plain text, ever.
    assert!(
        !held_anywhere(&server_key_files(&server), key.as_bytes()).is_empty(),
        "the server keeps the key"
    );
    assert!(!files_holding(cli_home.path(), key.as_bytes()).is_empty(), "the device keeps the key");
    for text in [label.as_bytes(), note.as_bytes()] {
        assert_eq!(
            files_holding(server.data.path(), text),
            Vec::<PathBuf>::new(),
            "plain text on the server"
        );
        assert_eq!(files_holding(cli_home.path(), text), Vec::<PathBuf>::new(), "plain text on the device");
    }

    // The official erases it on the web: a reason is required, and nothing is erased
    // without one.
    let mut web = WebSession::sign_in(&server, "canbo", PASSWORD);
    let page_path = format!("/hamlets/{hamlet}/households/{household}");
    let page = web.get(&page_path);
    assert!(page.html.contains(&label) && page.html.contains("Xóa thông tin cá nhân"), "{}", page.html);
    let csrf = web.csrf.clone();
    let refused = web.post(&format!("{page_path}/erase"), &[("csrf", &csrf), ("reason", "  ")]);
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("Hãy ghi lý do xóa"), "{}", refused.html);
    assert!(
        cli.sync().is_ok() && cli.log(&hamlet).expect("held").keys().key(&household).is_some(),
        "not erased"
    );
    let reason = "Chủ hộ yêu cầu xóa (đơn ngày 2/12)";
    let erased = web.post(&format!("{page_path}/erase"), &[("csrf", &csrf), ("reason", reason)]);
    assert_eq!(erased.status, 303, "{}", erased.html);
    let shown = web.get(erased.location.as_deref().expect("back to the household"));
    assert!(shown.html.contains("Hộ đã xóa thông tin") && !shown.html.contains(&label), "{}", shown.html);
    assert!(shown.html.contains("Đã xóa thông tin cá nhân của hộ."), "{}", shown.html);
    assert!(!shown.html.contains(note), "the note is gone from the page too");
    assert!(!shown.html.contains("/erase\""), "no erase form for an erased household");
    let twice = web.post(&format!("{page_path}/erase"), &[("csrf", &csrf), ("reason", reason)]);
    assert_eq!(twice.status, 422, "erasing twice is refused: {}", twice.html);
    let audit = web.get(&format!("/communes/{}/audit", tungnha_tests::COMMUNE));
    assert!(
        audit.html.contains(reason) && audit.html.contains("Xóa thông tin cá nhân của hộ"),
        "{}",
        audit.html
    );

    // The server: no page, export or file shows the label; the key is in no live file.
    let hamlet_page = web.get(&format!("/hamlets/{hamlet}"));
    assert!(!hamlet_page.html.contains(&label) && hamlet_page.html.contains("Hộ đã xóa thông tin"));
    let csv = web.download(&format!("/hamlets/{hamlet}/export.csv"));
    assert!(!String::from_utf8_lossy(&csv.body).contains(&label));
    assert_eq!(held_anywhere(&server_key_files(&server), key.as_bytes()), Vec::<PathBuf>::new());

    // The CLI device, at its next sync: erased, and the key's bytes leave its home.
    cli.sync().expect("sync");
    let log = cli.log(&hamlet).expect("held");
    let shown = log.household_at(&household, None).expect("still listed").expect("reads");
    assert!(shown.erased && shown.label.is_empty() && shown.head.is_none(), "{shown:?}");
    assert!(log.visits().ok.values().filter(|v| v.household == household).all(|v| v.note.is_none()));
    assert_eq!(
        files_holding(cli_home.path(), key.as_bytes()),
        Vec::<PathBuf>::new(),
        "the key left the device"
    );
    // Still counted: the visit and the household are in its coverage as before.
    let coverage = tungnha_client_core::Coverage::compute(log);
    assert_eq!(coverage.registered, 12);

    // The phone, at its next sync: erased on its list and screen, no note field, and
    // IndexedDB holds no key for it.
    let after = phone(&base, arg(None));
    assert_eq!(after["erasedOnList"], json!(true), "{after}");
    assert!(after["listed"].as_str().unwrap_or_default().contains("Hộ đã xóa thông tin"), "{after}");
    assert!(!after["screen"].as_str().unwrap_or_default().contains(&label), "{after}");
    assert!(!after["screen"].as_str().unwrap_or_default().contains(note), "{after}");
    assert_eq!(after["noteField"], json!(false), "no note can be written for it: {after}");
    assert_eq!(after["key"], Value::Null, "IndexedDB no longer holds the key: {after}");

    // The device offline during the erasure still shows it until its next sync.
    let still =
        offline.log(&hamlet).expect("held").household_at(&household, None).expect("listed").expect("reads");
    assert_eq!(still.label, label, "offline, the device still shows it");
    offline.sync().expect("sync");
    let gone =
        offline.log(&hamlet).expect("held").household_at(&household, None).expect("listed").expect("reads");
    assert!(gone.erased && gone.label.is_empty(), "{gone:?}");
    assert_eq!(files_holding(offline_home.path(), key.as_bytes()), Vec::<PathBuf>::new());

    // A volunteer assigned after the erasure never receives the key.
    let store = server.state.store();
    accounts::user_add(
        store,
        audit::CLI,
        "tnv9",
        tungnha_client_core::Role::Volunteer,
        Some(tungnha_tests::COMMUNE),
        None,
        None,
    )
    .expect("user");
    organisation::assign(store, audit::CLI, "tnv9", hamlet.as_str()).expect("assign");
    let late_home = tempfile::tempdir().expect("late home");
    let mut late =
        Device::enrol(late_home.path(), &server.base(), &code(store, "tnv9"), "máy mới").expect("enrol");
    late.sync().expect("sync");
    let keys = late.log(&hamlet).expect("held").keys();
    assert!(keys.key(&household).is_none() && keys.is_erased(&household));
    assert_eq!(keys.keys().count(), 11, "every other household's key arrived");
    assert_eq!(files_holding(late_home.path(), key.as_bytes()), Vec::<PathBuf>::new());

    // The right to know: the official's export of what is stored about it.
    let export = web.download(&format!("{page_path}/export.json"));
    assert_eq!(export.status, 200);
    let record: Value = serde_json::from_slice(&export.body).expect("json");
    assert_eq!(record["erased"], json!(true));
    assert_eq!(record["label"], Value::Null);
    assert_eq!(record["visits"].as_array().map(Vec::len), Some(1));
    assert_eq!(record["visits"][0]["note"], Value::Null);
    let events: Vec<&str> =
        record["audit"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert!(events.contains(&"household_erase"), "{record}");
    assert!(!String::from_utf8_lossy(&export.body).contains(&label));
}

#[test]
fn an_official_exports_a_household_and_retention_erases_the_forgotten_ones() {
    let mut hamlets = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 4, 1);
    });
    let hamlet = hamlets[0].clone();
    let (household, label) = {
        let entry = server.state.logs.get(server.state.store(), &hamlet).expect("load").expect("a log");
        let guard = tungnha_server::cache::lock(&entry);
        let (id, h) = guard.log.households().ok.into_iter().next().expect("a household");
        (id, h.label)
    };

    // Before erasure the export holds the household's own data; only officials get it.
    let mut web = WebSession::sign_in(&server, "canbo", PASSWORD);
    let path = format!("/hamlets/{hamlet}/households/{household}/export.json");
    let export = web.download(&path);
    assert_eq!(export.status, 200);
    let record: Value = serde_json::from_slice(&export.body).expect("json");
    assert_eq!(record["label"], json!(label));
    assert_eq!(record["erased"], json!(false));
    let mut leader = WebSession::sign_in(&server, "totruong", PASSWORD);
    assert_eq!(leader.download(&path).status, 403, "a leader sees households but does not export them");
    let leader_page = leader.get(&format!("/hamlets/{hamlet}/households/{household}"));
    assert!(!leader_page.html.contains("/erase"), "nor is offered the erasure");

    // Retention: a bad period is refused and changes nothing; a real one is kept.
    let catalogue = format!("/communes/{}/catalogue", tungnha_tests::COMMUNE);
    web.get(&catalogue);
    let csrf = web.csrf.clone();
    let refused = web.post(
        &format!("/communes/{}/retention", tungnha_tests::COMMUNE),
        &[("csrf", &csrf), ("retention", "7")],
    );
    assert_eq!(refused.status, 422);
    let commune_id = tungnha_client_core::CommuneId::parse(tungnha_tests::COMMUNE).expect("id");
    assert_eq!(
        server.state.store.commune(&commune_id).expect("read").expect("commune").erase_after_days,
        None
    );
    let saved = web.post(
        &format!("/communes/{}/retention", tungnha_tests::COMMUNE),
        &[("csrf", &csrf), ("retention", "30")],
    );
    assert_eq!(saved.status, 303, "{}", saved.html);
    assert!(web.get(&catalogue).html.contains("value=\"30\""));
    assert_eq!(
        server.state.store.commune(&commune_id).expect("read").expect("commune").erase_after_days,
        Some(30)
    );

    // Housekeeping's pass, 31 days on: every household here was listed and never
    // visited since, so each is erased, audited under housekeeping.
    let later = tungnha_server::now_ms() + 31 * 86_400_000;
    let n = erasure::apply_retention(&server.state, later).expect("retention");
    assert_eq!(n, 4);
    assert_eq!(erasure::apply_retention(&server.state, later).expect("again"), 0, "erased once");
    let page = web.get(&format!("/hamlets/{hamlet}/households/{household}"));
    assert!(page.html.contains("Hộ đã xóa thông tin") && !page.html.contains(&label));
    let events = server.state.store.audit_events_of(&commune_id, 50).expect("audit");
    let by_housekeeping =
        events.iter().filter(|e| e.action == "household_erase" && e.by == erasure::HOUSEKEEPING);
    assert_eq!(by_housekeeping.count(), 4);
    // Coverage still counts them.
    let coverage = server.state.store.coverage_headline(&hamlet).expect("coverage");
    assert_eq!(coverage.registered, 4);
}
