//! Real devices (client-core's `Device`: sled store, HTTP transport) against a real
//! server: offline logging, convergence, coverage, unassignment and revocation.

use std::collections::BTreeMap;

use tungnha_client_core::device::Device;
use tungnha_client_core::{Coverage, HamletId, HouseholdId, Outcome, VisitForm};
use tungnha_server::service::verify;
use tungnha_tests::{TestServer, code, commune, get};

fn now() -> i64 {
    tungnha_server::now_ms()
}

fn server_coverage(server: &TestServer, hamlet: &HamletId, token: &str) -> Coverage {
    let answer = get(&server.url(&format!("/api/v1/hamlets/{hamlet}/coverage")), Some(token));
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    serde_json::from_value(answer.json()["coverage"].clone()).expect("coverage JSON")
}

fn households(device: &Device, hamlet: &HamletId) -> Vec<HouseholdId> {
    device.log(hamlet).expect("held").households().ok.into_keys().collect()
}

#[test]
fn three_devices_log_offline_then_converge_with_the_server() {
    let mut hamlets = Vec::new();
    let mut codes = BTreeMap::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 40, 3);
        for u in ["tnv1", "tnv2", "tnv3", "totruong"] {
            codes.insert(u, code(db, u));
        }
    });
    let homes: Vec<_> = (0..4).map(|_| tempfile::tempdir().expect("home")).collect();
    let mut devices: Vec<Device> = ["tnv1", "tnv2", "tnv3"]
        .iter()
        .zip(&homes)
        .map(|(u, home)| Device::enrol(home.path(), &server.base(), &codes[u], "test").expect("enrolled"))
        .collect();
    let leader =
        Device::enrol(homes[3].path(), &server.base(), &codes["totruong"], "leader").expect("enrolled");
    let h = &hamlets[0];
    for d in &devices {
        assert_eq!(d.hamlets().len(), 2, "each device received both hamlet logs at enrolment");
    }

    // Offline: everyone works the same street; households 0..5 get visits from all.
    let list = households(&devices[0], h);
    for (i, d) in devices.iter_mut().enumerate() {
        for k in 0..8 {
            let target = &list[(k * (i + 1)) % 12];
            let outcome = Outcome::ALL[(i + k) % 5];
            let form = VisitForm { people: 1 + k as u32 % 3, ..VisitForm::default() };
            d.log_visit(target, outcome, &form, now() - 60_000 * (k as i64 + 1), now())
                .expect("logged offline");
        }
    }
    let form =
        tungnha_client_core::HouseholdForm { label: "Nhà mới, hẻm 9".into(), ..Default::default() };
    devices[1].add_household(h, &form, now()).expect("household added");

    // Sync in a varied order, twice round.
    for i in [2, 0, 1, 0, 2, 1] {
        devices[i].sync().expect("sync");
    }
    let server_heads = tungnha_tests::server_heads(&server.state, h);
    let token = leader.identity().token.clone();
    let from_server = server_coverage(&server, h, &token);
    assert_eq!(from_server.visits, 24);
    assert_eq!(from_server.registered, 41);
    for d in &devices {
        assert_eq!(
            d.log(h).expect("held").heads(),
            server_heads,
            "every replica holds the server's document"
        );
        assert_eq!(d.coverage(h).expect("held"), from_server);
        assert_eq!(d.status().pending_changes, 0);
    }
    let (checked, differences) = verify::verify(server.state.store()).expect("verify");
    assert_eq!((checked, differences.len()), (2, 0));
    // A reconnect with nothing new carries no changes either way.
    let again = devices[0].sync().expect("sync");
    assert_eq!((again.rounds, again.sent_changes, again.received_changes), (1, 0, 0));
    assert!(again.bytes_up + again.bytes_down < 1024, "{again:?}");
}

#[test]
fn unassignment_drops_the_hamlet_and_revocation_wipes_the_device() {
    let mut hamlets = Vec::new();
    let (mut c1, mut c2) = (String::new(), String::new());
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 5, 1);
        c1 = code(db, "tnv1");
        c2 = code(db, "totruong");
    });
    let (home, home2) = (tempfile::tempdir().expect("home"), tempfile::tempdir().expect("home"));
    let mut device = Device::enrol(home.path(), &server.base(), &c1, "phone").expect("enrolled");
    let leader = Device::enrol(home2.path(), &server.base(), &c2, "leader").expect("enrolled");
    assert_eq!(device.hamlets().len(), 2);

    // The official takes the second hamlet away from tnv1's team.
    tungnha_tests::take_from_team(server.state.store(), &hamlets[1]);
    let report = device.sync().expect("sync");
    assert_eq!(report.dropped, vec![hamlets[1].clone()]);
    let held: Vec<HamletId> = device.hamlets().into_iter().map(|(h, _)| h).collect();
    assert_eq!(held, vec![hamlets[0].clone()]);
    drop(device);
    let device = Device::open(home.path()).expect("reopen");
    assert_eq!(device.hamlets().len(), 1, "the drop is durable");
    // The dropped hamlet's household keys went with it; the kept one's stay.
    let keyfile = |h: &HamletId| home.path().join("keys").join(format!("{h}.keys"));
    assert!(!keyfile(&hamlets[1]).exists() && keyfile(&hamlets[0]).exists());

    // The leader revokes the phone; its next sync wipes it.
    let id = device.identity().device_id.clone();
    let answer = tungnha_tests::post(
        &server.url(&format!("/api/v1/devices/{id}/revoke")),
        Some(&leader.identity().token),
        "application/json",
        b"",
    );
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let me = get(&server.url("/api/v1/me"), Some(&device.identity().token));
    assert_eq!((me.status, me.code().as_str()), (401, "revoked"));
    let mut device = device;
    let report = device.sync().expect("sync answers");
    assert!(report.wiped);
    drop(device);
    // sled lets go of the store's lock from a background thread: under load the
    // reopen may find it still held for a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let reopened = loop {
        match Device::open(home.path()) {
            Err(tungnha_client_core::device::DeviceError::NotEnrolled) => break None,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break Some(other.map(|_| "enrolled")),
        }
    };
    assert!(reopened.is_none(), "the wiped device is no longer enrolled: {reopened:?}");
    let keys_left = std::fs::read_dir(home.path().join("keys")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(keys_left, 0, "the wipe deleted every household key");
}

/// Issue: revoking a phone silently discarded its unsent visits. A device handed back
/// sends what it holds once before it wipes itself; one revoked as lost does not, and
/// says how much it could not send; so does one whose week has passed.
#[test]
fn a_revoked_device_sends_its_unsent_work_before_it_wipes_itself() {
    let mut hamlets = Vec::new();
    let mut codes = BTreeMap::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 10, 3);
        for u in ["tnv1", "tnv2", "tnv3"] {
            codes.insert(u, code(db, u));
        }
    });
    let homes: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("home")).collect();
    let mut devices: Vec<Device> = ["tnv1", "tnv2", "tnv3"]
        .iter()
        .zip(&homes)
        .map(|(u, home)| Device::enrol(home.path(), &server.base(), &codes[u], "phone").expect("enrolled"))
        .collect();
    let h = &hamlets[0];
    let list = households(&devices[0], h);
    let form = VisitForm { people: 1, ..VisitForm::default() };
    for (i, d) in devices.iter_mut().enumerate() {
        for household in &list[..=i] {
            d.log_visit(household, Outcome::Guided, &form, now(), now()).expect("logged offline");
        }
    }

    // The leader revokes the first as handed back and the second as lost, on the web.
    let mut leader = tungnha_tests::WebSession::sign_in(&server, "totruong", tungnha_tests::PASSWORD);
    leader.get("/devices");
    let csrf = leader.csrf.clone();
    let ids: Vec<String> = devices.iter().map(|d| d.identity().device_id.to_string()).collect();
    assert_eq!(leader.post(&format!("/devices/{}/revoke", ids[0]), &[("csrf", &csrf)]).status, 303);
    assert_eq!(
        leader.post(&format!("/devices/{}/revoke", ids[1]), &[("csrf", &csrf), ("lost", "1")]).status,
        303
    );
    let page = leader.get("/devices");
    assert_eq!(
        page.html.matches("Chờ máy gửi nốt dữ liệu chưa gửi").count(),
        1,
        "only the one handed back waits"
    );
    // The third was revoked eight days ago (from the command line), its week spent.
    let past = now() - 8 * 86_400_000;
    let third = ids[2].parse().expect("id");
    server
        .state
        .store
        .revoke_device(&third, past, Some(past + tungnha_server::service::enrolment::FINAL_UPLOAD_MS))
        .expect("revoked");

    let handed_back = devices[0].sync().expect("the server answers");
    assert!(handed_back.wiped && handed_back.kept, "{handed_back:?}");
    assert_eq!(handed_back.unsent_lost, 0);
    assert!(devices[0].hamlets().is_empty(), "wiped after the upload");
    assert_eq!(server.state.store.coverage(h).expect("coverage").visits, 1, "its visit reached the server");
    let record = server.state.store.device(&ids[0].parse().expect("id")).expect("read").expect("device");
    assert_eq!(record.final_upload_until, None, "the final upload is spent");

    for (i, d) in devices.iter_mut().enumerate().skip(1) {
        let report = d.sync().expect("the server answers");
        assert!(report.wiped && !report.kept, "{report:?}");
        assert_eq!(report.unsent_lost, 1, "device {i} says what it could not send");
    }
    assert_eq!(
        server.state.store.coverage(h).expect("coverage").visits,
        1,
        "nothing from the lost or late ones"
    );
    let audit = server.state.store.audit_events(5).expect("audit");
    assert!(audit.iter().any(|e| e.action == "revoke_lost"));
}
