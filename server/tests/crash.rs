//! The real `tungnha-server` binary, killed with SIGKILL right after it acknowledged a
//! sync, then started again: everything acknowledged is there, and `admin verify`
//! finds the stored coverage equal to a full recompute.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tungnha_client_core::device::Device;
use tungnha_client_core::{Outcome, VisitForm};
use tungnha_tests::{code, commune, get};

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn start(data: &Path, addr: SocketAddr) -> Child {
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_tungnha-server"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts")
    };
    let mut child = spawn();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        // sled may still hold the data directory's lock for a moment after the setup
        // (or the killed server) let go of it: the server then refuses and exits; retry.
        if child.try_wait().ok().flatten().is_some() {
            std::thread::sleep(Duration::from_millis(50));
            child = spawn();
            continue;
        }
        if std::net::TcpStream::connect(addr).is_ok()
            && get(&format!("http://{addr}/healthz"), None).status == 200
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not come up on {addr}");
}

#[test]
fn acknowledged_visits_survive_a_killed_server() {
    let data = tempfile::tempdir().expect("data");
    let (hamlets, volunteer, leader) = {
        let db = tungnha_server::store::open(data.path()).expect("open");
        let hamlets = commune(db.as_ref(), 1, 30, 1);
        (hamlets, code(db.as_ref(), "tnv1"), code(db.as_ref(), "totruong"))
    };
    let addr = free_port();
    let mut server = start(data.path(), addr);
    let base = format!("http://{addr}");
    let (home, lead_home) = (tempfile::tempdir().expect("home"), tempfile::tempdir().expect("home"));
    let mut phone = Device::enrol(home.path(), &base, &volunteer, "phone").expect("enrolled");
    let lead = Device::enrol(lead_home.path(), &base, &leader, "leader").expect("enrolled");
    let h = &hamlets[0];
    let households: Vec<_> = phone.log(h).expect("held").households().ok.into_keys().collect();
    let now = tungnha_server::now_ms();
    for (i, household) in households.iter().take(12).enumerate() {
        let form = VisitForm { people: 2, ..VisitForm::default() };
        phone.log_visit(household, Outcome::ALL[i % 5], &form, now - i as i64 * 1000, now).expect("logged");
    }
    let report = phone.sync().expect("acknowledged");
    assert_eq!(report.sent_changes, 1);

    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    let mut server = start(data.path(), addr);
    let answer = get(&format!("{base}/api/v1/hamlets/{h}/coverage"), Some(&lead.identity().token));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["coverage"]["visits"], 12, "every acknowledged visit is there");
    assert_eq!(
        serde_json::to_value(phone.coverage(h).expect("held")).expect("json"),
        answer.json()["coverage"]
    );
    // The phone carries on as if nothing happened.
    let again = phone.sync().expect("sync after restart");
    assert_eq!((again.sent_changes, again.received_changes), (0, 0));

    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    let verify = Command::new(env!("CARGO_BIN_EXE_tungnha-server"))
        .args(["admin", "--data"])
        .arg(data.path())
        .arg("verify")
        .output()
        .expect("verify runs");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("All 1 hamlets"));
}
