//! Syncs queued on one hamlet's log are merged and committed together (issue:
//! campaigns, the hot path): many devices of one hamlet sync at once while a stolen
//! phone keeps sending a request that is refused only after its changes were applied
//! (a visit before the commune's first day). Every honest visit is kept and counted
//! once, the refused requests keep nothing, and the stored figures verify.

use std::sync::Barrier;

use tungnha_client_core::device::Device;
use tungnha_client_core::sync::Envelope;
use tungnha_client_core::{Author, Outcome, Role, UserId, VisitForm};
use tungnha_server::service::{audit, organisation, verify};
use tungnha_tests::{TestServer, code, commune, post};

const HONEST: usize = 8;
const VISITS: usize = 4;
const DAY: i64 = 86_400_000;

#[test]
fn a_refused_sync_in_a_batch_keeps_nothing_and_the_others_are_committed() {
    let mut hamlets = Vec::new();
    let mut codes = Vec::new();
    let now = tungnha_server::now_ms();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 40, HONEST + 1);
        codes = (1..=HONEST + 1).map(|i| code(db, &format!("tnv{i}"))).collect();
        let commune = "p-test".parse().expect("id");
        organisation::set_visits_from(db, audit::CLI, &commune, Some(now - 3 * DAY)).expect("first day");
    });
    let hamlet = hamlets[0].clone();
    let homes: Vec<tempfile::TempDir> = codes.iter().map(|_| tempfile::tempdir().expect("home")).collect();
    let mut devices: Vec<Device> = codes
        .iter()
        .zip(&homes)
        .map(|(c, home)| Device::enrol(home.path(), &server.base(), c, "máy").expect("enrolled"))
        .collect();
    for d in &mut devices {
        d.sync().expect("first sync");
    }
    let thief = devices.pop().expect("the stolen phone");

    // The stolen phone's request: one visit in its own name, one before the first day.
    let forged = {
        let mut log = thief.log(&hamlet).expect("held").clone();
        let shared = log.heads();
        log.set_actor(thief.identity().actor.clone());
        let author =
            Author { user: UserId::parse(&format!("tnv{}", HONEST + 1)).expect("id"), role: Role::Volunteer };
        let households: Vec<_> = log.households().ok.into_keys().collect();
        let form = VisitForm { people: 1, ..VisitForm::default() };
        log.log_visit(&author, &households[0], Outcome::Guided, &form, now - 1_000, now).expect("visit");
        log.log_visit(&author, &households[1], Outcome::Guided, &form, now - 10 * DAY, now)
            .expect("backdated");
        let msg = tungnha_client_core::sync::outgoing(&hamlet, &log, &shared);
        Envelope { docs: vec![msg], ..Envelope::default() }.encode()
    };

    // Each volunteer logs visits offline, to households of their own stretch.
    for (i, d) in devices.iter_mut().enumerate() {
        let households: Vec<_> = d.log(&hamlet).expect("held").households().ok.into_keys().collect();
        for k in 0..VISITS {
            let h = &households[(i * VISITS + k) % households.len()];
            d.log_visit(h, Outcome::NotHome, &VisitForm::default(), now - 5_000 + k as i64, now)
                .expect("visit");
        }
    }

    // All at once, three times over for the thief.
    let start = Barrier::new(HONEST + 1);
    let url = server.url("/api/v1/sync");
    let token = thief.identity().token.clone();
    let (honest, refused) = std::thread::scope(|s| {
        let thief = s.spawn(|| {
            start.wait();
            (0..3)
                .map(|_| post(&url, Some(&token), "application/octet-stream", &forged))
                .map(|a| (a.status, a.code()))
                .collect::<Vec<_>>()
        });
        let honest: Vec<_> = devices
            .iter_mut()
            .map(|d| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    d.sync().map(|r| r.sent_changes).map_err(|e| e.to_string())
                })
            })
            .collect();
        let honest: Vec<_> = honest.into_iter().map(|h| h.join().expect("an honest device")).collect();
        (honest, thief.join().expect("the thief"))
    });
    for r in &honest {
        assert!(r.is_ok(), "every honest sync is taken: {honest:?}");
    }
    assert!(refused.iter().all(|(status, code)| *status == 422 && code == "rule_violation"), "{refused:?}");

    // Every honest visit, once; nothing of the thief's.
    let coverage = server.state.store.coverage(&hamlet).expect("coverage");
    assert_eq!(coverage.visits, (HONEST * VISITS) as u64);
    let thief_actor = thief.identity().actor.to_hex_string();
    let entry = server.state.logs.get(server.state.store(), &hamlet).expect("load").expect("log");
    let actors: Vec<String> = tungnha_server::cache::lock(&entry)
        .log
        .doc()
        .get_changes(&[])
        .iter()
        .map(|c| c.actor_id().to_hex_string())
        .collect();
    assert!(!actors.contains(&thief_actor), "no change of the stolen phone's was kept");
    drop(entry);
    // What is stored loads back to the same figures.
    let (checked, differences) = verify::verify(server.state.store()).expect("verify");
    assert!(checked == 1 && differences.is_empty(), "{differences:?}");
    for d in &mut devices {
        d.sync().expect("converge");
    }
    let heads = tungnha_tests::heads_text(&tungnha_tests::server_heads(&server.state, &hamlet));
    for d in &devices {
        assert_eq!(tungnha_tests::heads_text(&d.log(&hamlet).expect("held").heads()), heads);
    }
}
