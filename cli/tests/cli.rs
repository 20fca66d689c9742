//! The `tungnha` binary as a volunteer uses it, against a real server on loopback:
//! enrol, list, log visits with the server down, fail to sync without losing anything,
//! sync once it is back, read coverage; and a revoked device wipes itself.

use std::path::Path;
use std::process::Command;

use tungnha_tests::{TestServer, code, commune, get};

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn tungnha(home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("the tungnha binary runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[test]
fn a_volunteer_logs_visits_offline_and_syncs_when_the_server_is_back() {
    let (mut hamlets, mut volunteer, mut leader) = (Vec::new(), String::new(), String::new());
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 12, 1);
        volunteer = code(db, "tnv1");
        leader = code(db, "totruong");
    });
    let home = tempfile::tempdir().expect("home");
    let lead_home = tempfile::tempdir().expect("home");
    let h = hamlets[0].as_str();

    let enrol = tungnha(home.path(), &["enrol", &server.base(), &volunteer, "--name", "Điện thoại Lan"]);
    assert!(enrol.ok, "{}", enrol.stderr);
    assert!(enrol.stdout.contains("Đã đăng ký"), "{}", enrol.stdout);
    let listed = json(&tungnha(home.path(), &["--json", "hamlets"]));
    assert_eq!(listed[0]["id"], h);
    assert_eq!(listed[0]["name"], "Khu phố 1");
    let households = json(&tungnha(home.path(), &["--json", "households", "--hamlet", h]));
    let first = households[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(households[0]["status"], "not_visited");

    // The server goes down; the volunteer keeps working.
    let paused = server.pause();
    let added = tungnha(
        home.path(),
        &["household", "add", "--hamlet", h, "--label", "Số 99, hẻm 7", "--members", "3"],
    );
    assert!(added.ok, "{}", added.stderr);
    // The same address typed again (without diacritics) is most often the same house.
    let again = ["household", "add", "--hamlet", h, "--label", "so 99 hem 7"];
    let twice = tungnha(home.path(), &again);
    assert!(!twice.ok && twice.stderr.contains("đã có trong danh sách"), "{}", twice.stderr);
    let other = tungnha(home.path(), &[&again[..], &["--again"]].concat());
    assert!(other.ok, "another house at the same address, said so: {}", other.stderr);
    let visit = tungnha(
        home.path(),
        &[
            "visit",
            "--household",
            &first,
            "--outcome",
            "guided",
            "--topic",
            "vneid",
            "--topic",
            "dvc",
            "--account",
            "vneid_l2=2",
            "--people",
            "3",
            "--note",
            "Hẹn chiều mai",
        ],
    );
    assert!(visit.ok, "{}", visit.stderr);
    let new_house = added.stdout.trim().to_owned();
    let second = tungnha(home.path(), &["visit", "--household", &new_house, "--outcome", "not_home"]);
    assert!(second.ok, "{}", second.stderr);

    // Bad input is refused before anything is written.
    for bad in [
        vec!["visit", "--household", &first, "--outcome", "guided", "--topic", "tiktok"],
        vec!["visit", "--household", &first, "--outcome", "guided", "--account", "vneid_l2=99"],
        vec!["visit", "--household", "qqqqqqqqqqqqqqqq", "--outcome", "guided"],
        vec!["visit", "--household", &first, "--outcome", "maybe"],
    ] {
        let r = tungnha(home.path(), &bad);
        assert!(!r.ok && r.stderr.contains("Lỗi"), "{bad:?} was accepted: {}", r.stdout);
        assert!(
            r.stderr.contains("không hợp lệ, chưa có gì được ghi"),
            "said in Vietnamese first: {}",
            r.stderr
        );
    }
    // A guided visit that names no topic and nobody helped is refused there too.
    let r = tungnha(home.path(), &["visit", "--household", &first, "--outcome", "guided"]);
    assert!(!r.ok && r.stderr.contains("a guided visit names"), "{}", r.stderr);
    let status = json(&tungnha(home.path(), &["--json", "status"]));
    let pending = status["pending_changes"].as_u64().expect("count");
    assert_eq!(pending, 4, "{status}");

    let failed = tungnha(home.path(), &["sync"]);
    assert!(!failed.ok);
    assert!(failed.stderr.contains("không kết nối được máy chủ"), "{}", failed.stderr);
    assert!(failed.stderr.contains("could not be reached"), "the English detail follows: {}", failed.stderr);
    // The attempt squashed the four changes into one before sending; still waiting.
    assert_eq!(json(&tungnha(home.path(), &["--json", "status"]))["pending_changes"], 1);
    let local = json(&tungnha(home.path(), &["--json", "coverage", "--hamlet", h]));
    assert_eq!(
        (local["registered"].as_u64(), local["visits"].as_u64(), local["covered"].as_u64()),
        (Some(14), Some(2), Some(1)),
        "nothing was lost"
    );

    // The server is back.
    let server = paused.resume();
    let synced = tungnha(home.path(), &["--json", "sync"]);
    assert!(synced.ok, "{}", synced.stderr);
    assert_eq!(json(&synced)["sent_changes"], 1, "four local changes left as one");
    assert_eq!(json(&tungnha(home.path(), &["--json", "status"]))["pending_changes"], 0);
    let lead = tungnha(lead_home.path(), &["--json", "enrol", &server.base(), &leader]);
    assert!(lead.ok, "{}", lead.stderr);
    let token = {
        let d = tungnha_client_core::device::Device::open(lead_home.path()).expect("leader device");
        d.identity().token.clone()
    };
    let remote = json(&tungnha(lead_home.path(), &["--json", "coverage", "--hamlet", h, "--remote"]));
    assert_eq!(remote, get(&server.url(&format!("/api/v1/hamlets/{h}/coverage")), Some(&token)).json());
    let refused = tungnha(home.path(), &["coverage", "--hamlet", h, "--remote"]);
    assert!(!refused.ok && refused.stderr.contains("forbidden"), "volunteers read coverage locally only");
    assert_eq!(remote["coverage"], local, "the server's figures equal the phone's");
    assert_eq!(remote["follow_ups"].as_array().map(Vec::len), Some(1));
    // Without --json, figures for people, and the follow-up by its address.
    let text = tungnha(lead_home.path(), &["coverage", "--hamlet", h, "--remote"]);
    assert!(text.ok && text.stdout.contains("Tỷ lệ bao phủ:"), "{}", text.stdout);
    assert!(text.stdout.contains("Cần quay lại (1):\n  Số "), "{}", text.stdout);

    // Revoked: the next sync wipes the device.
    let id =
        tungnha_client_core::device::Device::open(home.path()).expect("open").identity().device_id.clone();
    let revoke = tungnha_tests::post(
        &server.url(&format!("/api/v1/devices/{id}/revoke")),
        Some(&token),
        "application/json",
        b"",
    );
    assert_eq!(revoke.status, 200);
    let wiped = tungnha(home.path(), &["sync"]);
    assert!(wiped.ok && wiped.stdout.contains("thu hồi"), "{}", wiped.stdout);
    let after = tungnha(home.path(), &["status"]);
    assert!(!after.ok && after.stderr.contains("not enrolled"), "{}", after.stderr);
}

#[test]
fn every_visit_the_cli_reported_saved_survives_sigkill() {
    use std::io::Read;
    use std::process::Stdio;
    let (mut hamlets, mut volunteer) = (Vec::new(), String::new());
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 12, 1);
        volunteer = code(db, "tnv1");
    });
    let home = tempfile::tempdir().expect("home");
    let enrol = tungnha(home.path(), &["enrol", &server.base(), &volunteer, "--name", "máy"]);
    assert!(enrol.ok, "{}", enrol.stderr);
    let households = json(&tungnha(home.path(), &["--json", "households", "--hamlet", hamlets[0].as_str()]));
    let household = households[0]["id"].as_str().expect("id").to_owned();
    let mut reported = Vec::new();
    let mut refused = Vec::new();
    let mut killed = 0;
    for i in 0..40u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tungnha"))
            .arg("--home")
            .arg(home.path())
            .args(["--json", "visit", "--household", &household, "--outcome", "not_home"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("runs");
        // SIGKILL at a moment spread over the command's life: opening the store,
        // writing, flushing, printing.
        std::thread::sleep(std::time::Duration::from_millis(i * 7 % 90));
        if child.try_wait().expect("wait").is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let mut out = String::new();
        child.stdout.take().expect("piped").read_to_string(&mut out).expect("read");
        // Only an answer with the visit's id reports it saved; a run that answered with
        // an error (`{"code", "message"}`) reported nothing, and is kept to be shown.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&out) {
            match v["id"].as_str() {
                Some(id) => reported.push(id.to_owned()),
                None => refused.push(out.trim().to_owned()),
            }
        }
    }
    assert!(
        killed > 0 && !reported.is_empty(),
        "some runs were killed ({killed}), some finished ({}); refused: {refused:?}",
        reported.len()
    );
    if !refused.is_empty() {
        eprintln!("runs that answered with an error: {refused:?}");
    }
    let device = tungnha_client_core::device::Device::open(home.path()).expect("the store still opens");
    let visits = device.log(&hamlets[0]).expect("held").visits();
    assert!(visits.skipped.is_empty(), "{:?}", visits.skipped);
    for id in &reported {
        assert!(visits.ok.keys().any(|v| v.as_str() == id), "visit {id} was reported saved and is gone");
    }
}

#[test]
fn a_volunteer_on_counter_duty_logs_walk_ins_offline() {
    use tungnha_server::service::{audit, organisation};
    let mut volunteer = String::new();
    let mut counter = String::new();
    let server = TestServer::start(false, |db| {
        commune(db, 1, 3, 1);
        let commune = tungnha_client_core::CommuneId::parse(tungnha_tests::COMMUNE).expect("id");
        let c = organisation::counter_add(db, audit::CLI, &commune, "Bộ phận một cửa").expect("counter");
        organisation::assign(db, audit::CLI, "tnv1", c.id.as_str()).expect("on duty");
        counter = c.id.to_string();
        volunteer = code(db, "tnv1");
    });
    let home = tempfile::tempdir().expect("home");
    assert!(tungnha(home.path(), &["enrol", &server.base(), &volunteer]).ok);
    let listed = json(&tungnha(home.path(), &["--json", "hamlets"]));
    let row =
        listed.as_array().expect("rows").iter().find(|r| r["id"] == counter.as_str()).expect("the counter");
    assert_eq!(row["counter"], true, "{listed}");
    // Offline: one walk-in logged, one refused with its reason.
    let paused = server.pause();
    let logged = tungnha(
        home.path(),
        &[
            "walkin",
            "--counter",
            &counter,
            "--people",
            "2",
            "--topic",
            "dvc",
            "--account",
            "dvc=1",
            "--filed",
            "1",
        ],
    );
    assert!(logged.ok, "{}", logged.stderr);
    let nobody = tungnha(home.path(), &["walkin", "--counter", &counter, "--people", "0"]);
    assert!(!nobody.ok && nobody.stderr.contains("one person at least"), "{}", nobody.stderr);
    let wrong = tungnha(home.path(), &["walkin", "--counter", &format!("{}.kp-1", tungnha_tests::COMMUNE)]);
    assert!(!wrong.ok && wrong.stderr.contains("counter"), "a hamlet is no counter: {}", wrong.stderr);
    let server = paused.resume();
    assert!(tungnha(home.path(), &["sync"]).ok);
    let totals =
        server.state.store.commune_totals(&tungnha_tests::COMMUNE.parse().expect("id")).expect("totals");
    assert_eq!(
        (totals.coverage.walkins.count, totals.coverage.walkins.people, totals.coverage.walkins.filed),
        (1, 2, 1)
    );
    assert_eq!(totals.coverage.visits, 0, "a walk-in is no visit");
    assert_eq!(totals.hamlets, 1, "and a counter no hamlet");
}
