//! Every refusal has its error code and changes nothing: forged actor, unassigned
//! hamlet, rule violation, garbage and truncated envelopes, oversized bodies, expired
//! and reused enrolment codes.

use tungnha_client_core::device::Device;
use tungnha_client_core::sync::{Envelope, Payload};
use tungnha_client_core::{ActorId, Author, HamletId, Outcome, Role, UserId, VisitForm};
use tungnha_server::service::enrolment;
use tungnha_tests::{Answer, PASSWORD, TestServer, WebSession, code, commune, get, post};

struct Setup {
    server: TestServer,
    hamlets: Vec<HamletId>,
    device: Device,
    _home: tempfile::TempDir,
}

fn setup() -> Setup {
    let mut hamlets = Vec::new();
    let mut c = String::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 5, 2);
        c = code(db, "tnv1");
    });
    let home = tempfile::tempdir().expect("home");
    let device = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    Setup { server, hamlets, device, _home: home }
}

fn sync_raw(s: &Setup, body: &[u8]) -> Answer {
    post(&s.server.url("/api/v1/sync"), Some(&s.device.identity().token), "application/octet-stream", body)
}

/// The server's heads of every hamlet log, to show that nothing changed.
fn server_heads(s: &Setup) -> Vec<Vec<tungnha_client_core::ChangeHash>> {
    s.hamlets.iter().map(|h| tungnha_tests::server_heads(&s.server.state, h)).collect()
}

/// A request carrying one visit to hamlet `h`, written by `by` under `actor`.
fn forged(s: &Setup, h: &HamletId, actor: ActorId, by: &str) -> Vec<u8> {
    forged_at(s, h, actor, by, tungnha_server::now_ms())
}

/// `forged`, with the visit made at `at`.
fn forged_at(s: &Setup, h: &HamletId, actor: ActorId, by: &str, at: i64) -> Vec<u8> {
    let mut log = s.device.log(h).expect("held").clone();
    let shared = log.heads();
    log.set_actor(actor);
    let household = log.households().ok.into_keys().next().expect("a household");
    let author = Author { user: UserId::parse(by).expect("id"), role: Role::Volunteer };
    let now = tungnha_server::now_ms();
    log.log_visit(
        &author,
        &household,
        Outcome::Guided,
        &VisitForm { people: 1, ..VisitForm::default() },
        at,
        now,
    )
    .expect("written locally");
    let msg = tungnha_client_core::sync::outgoing(h, &log, &shared);
    Envelope { docs: vec![msg], ..Envelope::default() }.encode()
}

#[test]
fn a_change_under_another_actor_is_refused() {
    let s = setup();
    let before = server_heads(&s);
    let answer = sync_raw(&s, &forged(&s, &s.hamlets[0], ActorId::random(), "tnv1"));
    assert_eq!((answer.status, answer.code().as_str()), (403, "foreign_actor"));
    assert_eq!(server_heads(&s), before);
}

#[test]
fn a_visit_in_someone_elses_name_is_a_rule_violation() {
    let s = setup();
    let before = server_heads(&s);
    let actor = s.device.identity().actor.clone();
    let answer = sync_raw(&s, &forged(&s, &s.hamlets[0], actor, "tnv2"));
    assert_eq!((answer.status, answer.code().as_str()), (422, "rule_violation"));
    assert_eq!(answer.json()["rule"], "not_as_self");
    assert_eq!(server_heads(&s), before);
}

#[test]
fn a_rival_map_hidden_behind_the_genesis_one_is_refused_and_never_relayed() {
    use automerge::transaction::Transactable;
    let s = setup();
    let before = server_heads(&s);
    // Under the device's own actor, with no dependencies: its `households` map loses
    // the conflict with the genesis one, so nothing of it would ever be visible.
    let mut doc = automerge::Automerge::new().with_actor(s.device.identity().actor.clone());
    let mut tx = doc.transaction();
    let rival = tx.put_object(automerge::ROOT, "households", automerge::ObjType::Map).expect("put");
    tx.put(&rival, "payload", "<script>alert(1)</script>".repeat(1000)).expect("put");
    tx.commit();
    let chunks = doc.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect();
    let msg = tungnha_client_core::sync::DocMessage {
        keys: Default::default(),
        doc: s.hamlets[0].clone(),
        heads: s.device.log(&s.hamlets[0]).expect("held").heads(),
        payload: Payload::Changes(chunks),
    };
    let answer = sync_raw(&s, &Envelope { docs: vec![msg], ..Envelope::default() }.encode());
    assert_eq!((answer.status, answer.code().as_str()), (422, "rule_violation"));
    assert_eq!(answer.json()["rule"], "outside_schema");
    assert_eq!(server_heads(&s), before, "nothing of it was kept");
}

#[test]
fn envelopes_that_ask_for_unbounded_work_are_refused_at_once() {
    let s = setup();
    let before = server_heads(&s);
    // Millions of empty change chunks, a few kilobytes once deflated.
    let empties = Envelope {
        docs: vec![tungnha_client_core::sync::DocMessage {
            keys: Default::default(),
            doc: s.hamlets[0].clone(),
            heads: vec![],
            payload: Payload::Changes(vec![Vec::new(); 2_000_000]),
        }],
        ..Envelope::default()
    };
    let answer = sync_raw(&s, &empties.encode());
    assert_eq!((answer.status, answer.code().as_str()), (400, "bad_envelope"));
    // A change chunk that is an Automerge document, not a change.
    let document = Envelope {
        docs: vec![tungnha_client_core::sync::DocMessage {
            keys: Default::default(),
            doc: s.hamlets[0].clone(),
            heads: vec![],
            payload: Payload::Changes(vec![s.device.log(&s.hamlets[0]).expect("held").save()]),
        }],
        ..Envelope::default()
    };
    let answer = sync_raw(&s, &document.encode());
    assert_eq!((answer.status, answer.code().as_str()), (400, "bad_envelope"));
    assert_eq!(server_heads(&s), before);
}

#[test]
fn one_person_cannot_swamp_a_hamlet_with_households() {
    let s = setup();
    let h = &s.hamlets[0];
    let registered = || s.server.state.store.coverage(h).expect("coverage").registered;
    let before = (server_heads(&s), registered());
    let volunteer = Author { user: UserId::parse("tnv1").expect("id"), role: Role::Volunteer };
    let now = tungnha_server::now_ms();
    let forms = |n: usize, from: usize| -> Vec<tungnha_client_core::HouseholdForm> {
        (from..from + n)
            .map(|i| tungnha_client_core::HouseholdForm {
                label: format!("Nhà ảo {i}"),
                ..Default::default()
            })
            .collect()
    };
    // A phone that skips its own check lists one more than a volunteer's day allows.
    let mut log = s.device.log(h).expect("held").clone();
    let shared = log.heads();
    log.set_actor(s.device.identity().actor.clone());
    let limit = Role::Volunteer.households_per_day() as usize;
    let mut swamp = log.clone();
    swamp.import_households(&volunteer, &forms(limit + 1, 0), now).expect("written locally");
    let request = |log: &tungnha_client_core::HamletLog, shared: &[tungnha_client_core::ChangeHash]| {
        Envelope { docs: vec![tungnha_client_core::sync::outgoing(h, log, shared)], ..Envelope::default() }
            .encode()
    };
    let answer = sync_raw(&s, &request(&swamp, &shared));
    assert_eq!((answer.status, answer.code().as_str()), (422, "rule_violation"));
    assert_eq!(answer.json()["rule"], "too_many_households");
    assert_eq!((server_heads(&s), registered()), before, "nothing was kept");
    // A day's allowance is taken; one more the same day is not, whatever its date says.
    log.import_households(&volunteer, &forms(limit, 0), now).expect("written locally");
    assert_eq!(sync_raw(&s, &request(&log, &shared)).status, 200);
    assert_eq!(registered(), before.1 + limit as u64);
    let taken = log.heads();
    log.import_households(&volunteer, &forms(1, limit), now - 3 * 86_400_000).expect("written locally");
    let answer = sync_raw(&s, &request(&log, &taken));
    assert_eq!(answer.json()["rule"], "too_many_households");
    assert_eq!(registered(), before.1 + limit as u64);
}

#[test]
fn changes_to_an_unassigned_hamlet_are_refused() {
    let s = setup();
    tungnha_tests::take_from_team(s.server.state.store(), &s.hamlets[1]);
    let before = server_heads(&s);
    let actor = s.device.identity().actor.clone();
    let answer = sync_raw(&s, &forged(&s, &s.hamlets[1], actor, "tnv1"));
    assert_eq!((answer.status, answer.code().as_str()), (403, "not_assigned"));
    assert_eq!(server_heads(&s), before);
}

#[test]
fn one_bad_hamlet_refuses_the_whole_request() {
    let s = setup();
    let before = server_heads(&s);
    let actor = s.device.identity().actor.clone();
    let good = Envelope::decode(&forged(&s, &s.hamlets[0], actor.clone(), "tnv1")).expect("decode");
    let bad = Envelope::decode(&forged(&s, &s.hamlets[1], actor, "tnv2")).expect("decode");
    let both = Envelope { docs: vec![good.docs[0].clone(), bad.docs[0].clone()], ..Envelope::default() };
    let answer = sync_raw(&s, &both.encode());
    assert_eq!(answer.code(), "rule_violation");
    assert_eq!(server_heads(&s), before, "the good hamlet's change was not kept either");
}

#[test]
fn garbage_truncated_and_oversized_envelopes_are_refused() {
    let s = setup();
    let before = server_heads(&s);
    let answer = sync_raw(&s, b"hello, server");
    assert_eq!((answer.status, answer.code().as_str()), (400, "bad_envelope"));
    let actor = s.device.identity().actor.clone();
    let real = forged(&s, &s.hamlets[0], actor, "tnv1");
    let answer = sync_raw(&s, &real[..real.len() / 2]);
    assert_eq!((answer.status, answer.code().as_str()), (400, "bad_envelope"));
    // A change chunk that is not Automerge.
    let junk = Envelope {
        docs: vec![tungnha_client_core::sync::DocMessage {
            keys: Default::default(),
            doc: s.hamlets[0].clone(),
            heads: vec![],
            payload: Payload::Changes(vec![b"not a change".to_vec()]),
        }],
        ..Envelope::default()
    };
    assert_eq!(sync_raw(&s, &junk.encode()).code(), "bad_envelope");
    // One byte over the limit: the server answers once it has read the last byte, so
    // the client has sent everything and reads the 413. (A body much larger races the
    // answer: the client may see its pipe closed while it is still sending.)
    let huge = vec![7u8; tungnha_server::Config::new("/unused".into()).body_limit + 1];
    let answer = sync_raw(&s, &huge);
    assert_eq!((answer.status, answer.code().as_str()), (413, "payload_too_large"));
    assert_eq!(server_heads(&s), before);
    let no_token = post(&s.server.url("/api/v1/sync"), None, "application/octet-stream", &real);
    assert_eq!((no_token.status, no_token.code().as_str()), (401, "unauthenticated"));
}

#[test]
fn enrolment_codes_work_once_and_expire() {
    let s = setup();
    let c = enrolment::enrol_code(s.server.state.store(), "tnv2", 86_400_000).expect("code");
    let enrol = |code: &str| {
        let body = serde_json::json!({"code": code, "device_name": "máy 2"}).to_string();
        post(&s.server.url("/api/v1/enrol"), None, "application/json", body.as_bytes())
    };
    let first = enrol(&c.to_lowercase());
    assert_eq!(first.status, 201, "codes are case-blind: {}", String::from_utf8_lossy(&first.body));
    assert_eq!(first.json()["user"]["id"], "tnv2");
    let again = enrol(&c);
    assert_eq!((again.status, again.code().as_str()), (403, "bad_enrol_code"));
    let expired = enrolment::enrol_code(s.server.state.store(), "tnv2", 1).expect("code");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(enrol(&expired).code(), "bad_enrol_code");
    assert_eq!(enrol("").code(), "bad_enrol_code");
    let garbage = post(&s.server.url("/api/v1/enrol"), None, "application/json", b"{");
    assert_eq!((garbage.status, garbage.code().as_str()), (400, "bad_request"));
}

#[test]
fn coverage_is_scoped_by_role() {
    let s = setup();
    let token = s.device.identity().token.clone();
    let volunteer = get(&s.server.url(&format!("/api/v1/hamlets/{}/coverage", s.hamlets[0])), Some(&token));
    assert_eq!((volunteer.status, volunteer.code().as_str()), (403, "forbidden"));
    let commune = get(&s.server.url("/api/v1/communes/p-test/coverage"), Some(&token));
    assert_eq!(commune.status, 403);
    let me = get(&s.server.url("/api/v1/me"), Some(&token));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["hamlets"].as_array().map(Vec::len), Some(2));
    assert_eq!(me.json()["catalogue"]["topics"][1]["label"], "Định danh điện tử VNeID");
    // A token that is not one of ours is unauthenticated.
    assert_eq!(get(&s.server.url("/api/v1/me"), Some("tn-forged")).code(), "unauthenticated");
}

/// Finding 10: visits could be backdated to 2020. An official sets the day the commune
/// started recording visits; the server refuses a visit before it (and the device,
/// which learns the day from `me`, refuses to log one).
#[test]
fn a_visit_before_the_communes_start_is_refused_by_the_server_and_the_device() {
    const DAY: i64 = 86_400_000;
    let mut s = setup();
    let now = tungnha_server::now_ms();
    let start = tungnha_client_core::domain::vn_day(now - 3 * DAY);
    let mut official = WebSession::sign_in(&s.server, "canbo", PASSWORD);
    let page = official.get("/communes/p-test/catalogue");
    assert!(page.html.contains("Ngày bắt đầu ghi nhận lượt thăm"));
    let csrf = official.csrf.clone();
    let commune = || {
        s.server
            .state
            .store
            .commune(&"p-test".parse().expect("id"))
            .expect("read")
            .expect("commune")
            .visits_from
    };
    let tomorrow = tungnha_client_core::domain::vn_day(now + DAY);
    for bad in ["2019-12-31", "ngày mai", "2026-02-30", tomorrow.as_str()] {
        let answer = official.post("/communes/p-test/visits-from", &[("csrf", &csrf), ("visits_from", bad)]);
        assert_eq!(answer.status, 422, "{bad}");
        assert!(answer.html.contains("Ngày phải từ 01/01/2020 đến hôm nay."), "{bad}");
        assert_eq!(commune(), None, "{bad} changed nothing");
    }
    let saved = official.post("/communes/p-test/visits-from", &[("csrf", &csrf), ("visits_from", &start)]);
    assert_eq!(saved.status, 303);
    assert_eq!(commune().map(tungnha_client_core::domain::vn_day), Some(start.clone()));

    // A crafted backdated visit is refused whole, with the day in the message.
    let h = s.hamlets[0].clone();
    let actor = s.device.identity().actor.clone();
    let before = server_heads(&s);
    let answer = sync_raw(&s, &forged_at(&s, &h, actor.clone(), "tnv1", now - 10 * DAY));
    assert_eq!((answer.status, answer.code().as_str()), (422, "rule_violation"));
    assert_eq!(answer.json()["rule"], "invalid_value");
    assert!(answer.json()["message"].as_str().unwrap_or("").contains(&start), "{:?}", answer.json());
    assert_eq!(server_heads(&s), before);

    // The device learns the day at its next sync and refuses to log before it.
    s.device.sync().expect("sync");
    let household = s.device.log(&h).expect("held").households().ok.into_keys().next().expect("household");
    let form = VisitForm { people: 1, ..VisitForm::default() };
    let err =
        s.device.log_visit(&household, Outcome::Guided, &form, now - 10 * DAY, now).expect_err("refused");
    assert!(err.to_string().contains(&start), "{err}");
    s.device.log_visit(&household, Outcome::Guided, &form, now - DAY, now).expect("after the start");
    s.device.sync().expect("accepted");
    assert_eq!(s.server.state.store.coverage(&h).expect("coverage").visits, 1);
    let audit = s.server.state.store.audit_events(5).expect("audit");
    assert!(audit.iter().any(|e| e.action == "visits_from" && e.by == "canbo" && e.detail.ends_with(&start)));
}
