//! Teams as an official runs them, through the web, and what members' devices see: a
//! hamlet given to a team reaches every member at their next sync, and a member who
//! leaves drops it unless they hold it another way; a leader revokes only phones that
//! reach nothing beyond the teams they lead; team figures on the commune dashboard.

use tungnha_client_core::device::Device;
use tungnha_client_core::{HamletId, Outcome, VisitForm};
use tungnha_server::service::{audit, organisation};
use tungnha_tests::{COMMUNE, PASSWORD, TEAM, TestServer, WebSession, cells, code, commune, get};

/// The hamlets a device holds.
fn held(device: &Device) -> Vec<HamletId> {
    device.hamlets().into_iter().map(|(h, _)| h).collect()
}

/// An official's POST to the test team's page; it must be saved.
fn change_team(official: &mut WebSession, fields: &[(&str, &str)]) {
    let path = format!("/communes/{COMMUNE}/teams/{TEAM}");
    official.get(&path);
    let csrf = official.csrf.clone();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let page = official.post(&path, &form);
    assert_eq!(page.status, 303, "{fields:?}: {}", page.html);
}

#[test]
fn a_teams_hamlets_reach_its_members_devices_and_leave_with_them() {
    let mut hamlets = Vec::new();
    let mut c = String::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 3, 4, 2);
        tungnha_tests::take_from_team(db, &hamlets[2]);
        c = code(db, "tnv1");
    });
    let home = tempfile::tempdir().expect("home");
    let mut phone = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    phone.sync().expect("sync");
    assert_eq!(held(&phone), hamlets[..2]);

    // The official gives the third khu phố to the team: the phone receives it.
    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    change_team(&mut official, &[("op", "hamlet_add"), ("hamlet", hamlets[2].as_str())]);
    let report = phone.sync().expect("sync");
    assert_eq!(report.started, hamlets[2..]);
    assert_eq!(held(&phone), hamlets);

    // tnv1 also helps in the third on their own; taken out of the team, the phone keeps
    // only that one.
    organisation::assign(server.state.store(), audit::CLI, "tnv1", hamlets[2].as_str()).expect("assign");
    change_team(&mut official, &[("op", "member_remove"), ("user", "tnv1")]);
    let report = phone.sync().expect("sync");
    assert_eq!(report.dropped, hamlets[..2]);
    assert_eq!(held(&phone), hamlets[2..]);

    // Each change is audited under the official's name.
    let actions: Vec<String> = server
        .state
        .store
        .audit_events_of(&COMMUNE.parse().expect("id"), 10)
        .expect("audit")
        .into_iter()
        .filter(|e| e.by == "canbo")
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["team_member_remove", "team_hamlet_add"]);
}

#[test]
fn a_leader_revokes_only_phones_that_reach_nothing_beyond_their_teams() {
    let mut hamlets = Vec::new();
    let mut codes = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 4, 2);
        tungnha_server::service::accounts::user_add(
            db,
            audit::CLI,
            "tolo",
            tungnha_client_core::Role::Leader,
            Some(COMMUNE),
            None,
            Some(PASSWORD),
        )
        .expect("leader");
        // tolo's team takes the second khu phố; tnv1 works in both teams.
        tungnha_tests::take_from_team(db, &hamlets[1]);
        tungnha_tests::team(db, "Tổ Hai", &hamlets[1..], "tolo", &["tnv1"]);
        codes = vec![code(db, "tnv1"), code(db, "tnv2")];
    });
    let homes = [tempfile::tempdir().expect("home"), tempfile::tempdir().expect("home")];
    let both = Device::enrol(homes[0].path(), &server.base(), &codes[0], "tnv1").expect("enrolled");
    let one = Device::enrol(homes[1].path(), &server.base(), &codes[1], "tnv2").expect("enrolled");
    assert_eq!(held(&both), hamlets, "tnv1's phone holds both teams' khu phố");

    let revoke = |who: &str, device: &Device| {
        let mut leader = WebSession::sign_in(&server, who, PASSWORD);
        leader.get("/devices");
        let csrf = leader.csrf.clone();
        let path = format!("/devices/{}/revoke", device.identity().device_id);
        leader.post(&path, &[("csrf", &csrf)]).status
    };
    // Neither leader may cut the other team's work short.
    assert_eq!(revoke("totruong", &both), 403);
    assert_eq!(revoke("tolo", &both), 403);
    assert_eq!(revoke("tolo", &one), 403, "tnv2 is not tolo's member");
    assert!(
        server
            .state
            .store
            .device(&both.identity().device_id)
            .expect("read")
            .expect("device")
            .revoked_at
            .is_none()
    );
    // tnv2's phone reaches only totruong's team: theirs to revoke; tnv1's is the official's.
    assert_eq!(revoke("totruong", &one), 303);
    assert_eq!(revoke("canbo", &both), 303);
}

#[test]
fn the_commune_dashboard_shows_each_teams_figures() {
    let mut hamlets = Vec::new();
    let (mut c, mut official_code) = (String::new(), String::new());
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 4, 2);
        tungnha_tests::take_from_team(db, &hamlets[1]);
        c = code(db, "tnv1");
        official_code = code(db, "canbo");
    });
    let home = tempfile::tempdir().expect("home");
    let mut phone = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    let now = tungnha_server::now_ms();
    let households: Vec<_> = phone.log(&hamlets[0]).expect("held").households().ok.into_keys().collect();
    for h in &households[..3] {
        phone.log_visit(h, Outcome::AlreadyDone, &VisitForm::default(), now - 60_000, now).expect("logged");
    }
    phone.sync().expect("sync");

    let mut official = WebSession::sign_in(&server, "canbo", PASSWORD);
    let page = official.get(&format!("/communes/{COMMUNE}"));
    assert!(page.html.contains(&format!("data-team=\"{TEAM}\"")), "{}", page.html);
    // One team: three members, one of whom synced; its one khu phố's three visits.
    for (figure, value) in [("members", 3), ("active", 1), ("visits", 3), ("covered", 3), ("to_cover", 14)] {
        assert_eq!(cells(&page.html, "team-figure", figure), [value], "{figure}");
    }
    // The teams page shows the same row.
    let teams = official.get(&format!("/communes/{COMMUNE}/teams"));
    assert_eq!(cells(&teams.html, "team-figure", "visits"), [3]);

    // And so does the commune's coverage in API v1.
    let home = tempfile::tempdir().expect("home");
    let device = Device::enrol(home.path(), &server.base(), &official_code, "máy xã").expect("enrolled");
    let report =
        get(&server.url(&format!("/api/v1/communes/{COMMUNE}/coverage")), Some(&device.identity().token));
    assert_eq!(report.status, 200);
    let team = &report.json()["teams"][0];
    assert_eq!(team["id"], TEAM);
    assert_eq!((team["members"].as_u64(), team["active_members"].as_u64()), (Some(3), Some(1)));
    assert_eq!(team["totals"]["visits"], 3);
    assert_eq!(team["hamlets"], serde_json::json!([hamlets[0].as_str()]));
}
