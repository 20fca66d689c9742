//! The hostile-input catalogue: one table of named cases across HTTP, sync envelopes,
//! Automerge changes, web forms, CSV imports and command-line input. Each case is sent
//! to one real server on loopback, and each asserts its status and error code, that
//! nothing stored changed (every hamlet log's heads and coverage, users, devices,
//! assignments, the audit log), and that the server still answers.

use std::io::Write;

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ROOT, ReadDoc};
use tungnha_client_core::device::Device;
use tungnha_client_core::sync::{BodyCompression, DocMessage, Envelope, Payload};
use tungnha_client_core::{ChangeHash, Coverage, HamletId, HamletLog, Outcome, Role, VisitForm};
use tungnha_server::service::{ServiceError, accounts, audit, enrolment, imports, organisation};
use tungnha_tests::{COMMUNE, PASSWORD, TestServer, WebSession, code, commune};

struct World {
    server: TestServer,
    hamlets: Vec<HamletId>,
    device: Device,
    /// A visit tnv1 logged and synced before the cases run.
    visit: String,
    /// An unused enrolment code for tnv2.
    spare_code: String,
    _home: tempfile::TempDir,
}

/// What came back: the status, and the error code (JSON `code`) or the body's text.
struct Got {
    status: u16,
    text: String,
}

/// Everything stored that a refused input must leave as it was.
#[derive(Debug, PartialEq)]
struct Stored {
    heads: Vec<Vec<ChangeHash>>,
    coverage: Vec<Coverage>,
    users: String,
    devices: String,
    assignments: String,
    audit: usize,
}

fn stored(w: &World) -> Stored {
    let db = w.server.state.store();
    let hamlets = db.all_hamlets().expect("hamlets");
    Stored {
        heads: hamlets.iter().map(|h| tungnha_tests::server_heads(&w.server.state, &h.id)).collect(),
        coverage: hamlets.iter().map(|h| db.coverage(&h.id).expect("coverage")).collect(),
        users: format!("{:?}", db.all_users().expect("users")),
        devices: format!("{:?}", db.all_devices().expect("devices")),
        assignments: format!(
            "{:?}",
            hamlets.iter().map(|h| db.people_of(&h.id).expect("assignments")).collect::<Vec<_>>()
        ),
        audit: db.audit_events(100_000).expect("audit").len(),
    }
}

fn world() -> World {
    let (mut hamlets, mut c, mut spare_code) = (Vec::new(), String::new(), String::new());
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 2, 5, 2);
        c = code(db, "tnv1");
        spare_code = code(db, "tnv2");
        accounts::user_add(db, audit::CLI, "canbo9", Role::Official, Some(COMMUNE), None, Some(PASSWORD))
            .expect("a second official");
    });
    let home = tempfile::tempdir().expect("home");
    let mut device = Device::enrol(home.path(), &server.base(), &c, "phone").expect("enrolled");
    let household = device.log(&hamlets[0]).expect("held").households().ok.into_keys().next().expect("one");
    let now = tungnha_server::now_ms();
    let form = VisitForm { people: 1, topics: vec!["vneid".into()], ..VisitForm::default() };
    let visit = device.log_visit(&household, Outcome::Guided, &form, now, now).expect("logged");
    device.sync().expect("synced");
    World { server, hamlets, device, visit: visit.to_string(), spare_code, _home: home }
}

fn answer(mut r: ureq::http::Response<ureq::Body>) -> Got {
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    let text = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|j| j["rule"].as_str().or(j["code"].as_str()).map(str::to_owned))
        .unwrap_or(body);
    Got { status, text }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent()
}

/// POSTs bytes to the API with the device's token (or `token`).
fn api(w: &World, path: &str, token: Option<&str>, content_type: &str, body: &[u8]) -> Got {
    let mut r = agent().post(w.server.url(path)).header("Content-Type", content_type);
    let own = w.device.identity().token.clone();
    match token {
        Some("") => {}
        Some(t) => r = r.header("Authorization", &format!("Bearer {t}")),
        None => r = r.header("Authorization", &format!("Bearer {own}")),
    }
    answer(r.send(body).expect("the server answers"))
}

fn sync(w: &World, body: &[u8]) -> Got {
    api(w, "/api/v1/sync", None, "application/octet-stream", body)
}

/// A request carrying `chunks` for the first hamlet, from the device's heads.
fn carrying(w: &World, chunks: Vec<Vec<u8>>) -> Vec<u8> {
    carrying_keys(w, chunks, Vec::new())
}

/// `carrying`, with the keys of households the changes list.
fn carrying_keys(
    w: &World,
    chunks: Vec<Vec<u8>>,
    keys: Vec<tungnha_client_core::sealed::KeyEntry>,
) -> Vec<u8> {
    let heads = w.device.log(&w.hamlets[0]).expect("held").heads();
    let keys = tungnha_client_core::sync::KeyMessage { keys, ..Default::default() };
    let msg = DocMessage { keys, doc: w.hamlets[0].clone(), heads, payload: Payload::Changes(chunks) };
    Envelope { docs: vec![msg], ..Envelope::default() }.encode()
}

/// The device's volunteer, as the hostile writes name them.
fn volunteer() -> tungnha_client_core::Author {
    tungnha_client_core::Author {
        user: tungnha_client_core::UserId::parse("tnv1").expect("id"),
        role: Role::Volunteer,
    }
}

/// The device's log of the first hamlet, writing under the device's actor.
fn log(w: &World) -> HamletLog {
    let mut log = w.device.log(&w.hamlets[0]).expect("held").clone();
    log.set_actor(w.device.identity().actor.clone());
    log
}

/// One change the device makes with raw operations on (households, visits).
fn raw(w: &World, write: impl FnOnce(&mut Transaction<'_>, &ObjId, &ObjId)) -> Vec<u8> {
    let log = log(w);
    let mut doc = log.doc().clone();
    let households = doc.get(ROOT, "households").expect("read").expect("map").1;
    let visits = doc.get(ROOT, "visits").expect("read").expect("map").1;
    let mut tx = doc.transaction();
    write(&mut tx, &households, &visits);
    tx.commit();
    let changes = doc.get_changes(&log.heads());
    carrying(w, changes.iter().map(|c| c.raw_bytes().to_vec()).collect())
}

/// A new visit by tnv1 to the first household, then `tweak` on its map.
fn visit_with(w: &World, tweak: impl FnOnce(&mut Transaction<'_>, &ObjId)) -> Vec<u8> {
    let household = log(w).households().ok.into_keys().next().expect("one").to_string();
    let now = tungnha_server::now_ms();
    raw(w, |tx, _, visits| {
        let v = tx.put_object(visits, "zzzzzzzzzzzzzzzz", ObjType::Map).expect("put");
        tx.put(&v, "household", household.as_str()).expect("put");
        tx.put(&v, "by", "tnv1").expect("put");
        tx.put(&v, "at", now).expect("put");
        tx.put(&v, "outcome", "guided").expect("put");
        tx.put(&v, "people", 1i64).expect("put");
        tx.put(&v, "voided", false).expect("put");
        tweak(tx, &v);
    })
}

fn deflated(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("to memory");
    enc.finish().expect("to memory")
}

fn web(w: &World, path: &str, body: &str) -> Got {
    let mut official = WebSession::sign_in(&w.server, "canbo", PASSWORD);
    official.get(&format!("/communes/{COMMUNE}/people"));
    let body = body.replace("{csrf}", &official.csrf);
    let page = official.post_raw(path, body.as_bytes());
    Got { status: page.status, text: page.html }
}

fn login(w: &World, username: &str, cookie: bool) -> Got {
    let first = agent().get(w.server.url("/login")).call().expect("answers");
    let set = first.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let login_cookie = set.split(';').next().unwrap_or_default().to_owned();
    let html = answer(first).text;
    let csrf = tungnha_tests::csrf_of(&html).unwrap_or_default();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf", csrf.as_str()), ("username", username), ("password", "x"), ("next", "")])
        .finish();
    let mut r =
        agent().post(w.server.url("/login")).header("Content-Type", "application/x-www-form-urlencoded");
    if cookie {
        r = r.header("Cookie", &login_cookie);
    }
    answer(r.send(body.as_bytes()).expect("answers"))
}

/// An in-process result of an admin command (what the command line runs).
fn cli<T>(r: Result<T, ServiceError>) -> Got {
    match r {
        Ok(_) => Got { status: 0, text: "accepted".into() },
        Err(e) => Got { status: 1, text: e.to_string() },
    }
}

type Send = Box<dyn Fn(&World) -> Got>;

/// Every case: its name, what it sends, the status and code (or text) expected.
fn cases() -> Vec<(&'static str, Send, u16, &'static str)> {
    let h = |n: &'static str| -> HamletId { HamletId::parse(n).expect("id") };
    vec![
        // ---- HTTP, before any envelope is read ----
        (
            "sync without a token",
            Box::new(|w| api(w, "/api/v1/sync", Some(""), "application/octet-stream", b"TN")),
            401,
            "unauthenticated",
        ),
        (
            "sync with a forged token",
            Box::new(|w| api(w, "/api/v1/sync", Some("tn-forged"), "application/octet-stream", b"TN")),
            401,
            "unauthenticated",
        ),
        (
            "sync body over the limit",
            Box::new(|w| sync(w, &vec![7u8; 4 * 1024 * 1024 + 1])),
            413,
            "payload_too_large",
        ),
        (
            "sync body gzip-bombed past the limit",
            Box::new(|w| {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                for _ in 0..64 {
                    gz.write_all(&[0u8; 1 << 20]).expect("to memory");
                }
                let bomb = gz.finish().expect("to memory");
                let token = format!("Bearer {}", w.device.identity().token);
                answer(
                    agent()
                        .post(w.server.url("/api/v1/sync"))
                        .header("Authorization", &token)
                        .header("Content-Encoding", "gzip")
                        .header("Content-Type", "application/octet-stream")
                        .send(&bomb[..])
                        .expect("answers"),
                )
            }),
            413,
            "payload_too_large",
        ),
        (
            "enrol with broken JSON",
            Box::new(|w| api(w, "/api/v1/enrol", Some(""), "application/json", b"{")),
            400,
            "bad_request",
        ),
        (
            "enrol with an unknown code",
            Box::new(|w| {
                api(
                    w,
                    "/api/v1/enrol",
                    Some(""),
                    "application/json",
                    br#"{"code":"ABCDEFGHJK","device_name":"x"}"#,
                )
            }),
            403,
            "bad_enrol_code",
        ),
        (
            "enrol with an 81-character device name",
            Box::new(|w| {
                let body =
                    serde_json::json!({"code": w.spare_code, "device_name": "m".repeat(81)}).to_string();
                api(w, "/api/v1/enrol", Some(""), "application/json", body.as_bytes())
            }),
            400,
            "bad_request",
        ),
        (
            "a volunteer's device asks for the commune's figures",
            Box::new(|w| {
                answer(
                    agent()
                        .get(w.server.url("/api/v1/communes/p-test/coverage"))
                        .header("Authorization", &format!("Bearer {}", w.device.identity().token))
                        .call()
                        .expect("answers"),
                )
            }),
            403,
            "forbidden",
        ),
        // ---- sync envelopes ----
        ("garbage instead of an envelope", Box::new(|w| sync(w, b"hello, server")), 400, "bad_envelope"),
        (
            "an envelope cut in half",
            Box::new(|w| {
                let b = carrying(w, vec![]);
                sync(w, &b[..b.len() / 2])
            }),
            400,
            "bad_envelope",
        ),
        (
            "an envelope of an unknown version",
            Box::new(|w| sync(w, b"TN\x09\x00\x00\x00\x00")),
            400,
            "bad_envelope",
        ),
        (
            "an envelope of an unknown compression",
            Box::new(|w| sync(w, b"TN\x01\x07\x00\x00\x00")),
            400,
            "bad_envelope",
        ),
        (
            "an envelope with unknown flags",
            Box::new(|w| sync(w, b"TN\x01\x00\x04\x00\x00")),
            400,
            "bad_envelope",
        ),
        (
            "bytes after the envelope's end",
            Box::new(|w| sync(w, b"TN\x01\x00\x00\x00\x00extra")),
            400,
            "bad_envelope",
        ),
        (
            "a deflate bomb past 64 MiB",
            Box::new(|w| {
                let mut body = b"TN\x01\x01".to_vec();
                body.extend(deflated(&vec![0u8; 65 * 1024 * 1024]));
                sync(w, &body)
            }),
            400,
            "bad_envelope",
        ),
        (
            "two million empty change chunks",
            Box::new(|w| sync(w, &carrying(w, vec![Vec::new(); 2_000_000]))),
            400,
            "bad_envelope",
        ),
        (
            "a hamlet listed twice",
            Box::new(|w| {
                let one = Envelope::decode(&carrying(w, vec![])).expect("env");
                sync(
                    w,
                    &Envelope { docs: vec![one.docs[0].clone(), one.docs[0].clone()], ..Envelope::default() }
                        .encode(),
                )
            }),
            400,
            "bad_envelope",
        ),
        (
            "a whole document sent by a device",
            Box::new(|w| {
                let msg = DocMessage {
                    keys: Default::default(),
                    doc: w.hamlets[0].clone(),
                    heads: vec![],
                    payload: Payload::Snapshot(log(w).save()),
                };
                sync(
                    w,
                    &Envelope { docs: vec![msg], ..Envelope::default() }.encode_with(BodyCompression::None),
                )
            }),
            400,
            "bad_envelope",
        ),
        (
            "a hamlet id with a slash",
            Box::new(|w| sync(w, b"TN\x01\x00\x00\x01\x05a/../\x00\x00\x00\x00")),
            400,
            "bad_envelope",
        ),
        // ---- Automerge changes ----
        (
            "a chunk that is not a change",
            Box::new(|w| sync(w, &carrying(w, vec![b"not a change at all".to_vec()]))),
            400,
            "bad_envelope",
        ),
        (
            "a saved document where a change belongs",
            Box::new(|w| sync(w, &carrying(w, vec![log(w).save()]))),
            400,
            "bad_envelope",
        ),
        (
            "a compressed change chunk",
            Box::new(|w| {
                let mut chunk = log(w).doc().get_changes(&[]).first().expect("genesis").raw_bytes().to_vec();
                chunk[8] = 2;
                sync(w, &carrying(w, vec![chunk]))
            }),
            400,
            "bad_envelope",
        ),
        (
            "a change under another actor",
            Box::new(|w| {
                let mut l = log(w);
                l.set_actor(tungnha_client_core::ActorId::random());
                let base = l.heads();
                let hh = l.households().ok.into_keys().next().expect("one");
                let lan = tungnha_client_core::Author {
                    user: tungnha_client_core::UserId::parse("tnv1").expect("id"),
                    role: Role::Volunteer,
                };
                let now = tungnha_server::now_ms();
                l.log_visit(&lan, &hh, Outcome::NotHome, &VisitForm::default(), now, now).expect("local");
                sync(
                    w,
                    &carrying(w, l.doc().get_changes(&base).iter().map(|c| c.raw_bytes().to_vec()).collect()),
                )
            }),
            403,
            "foreign_actor",
        ),
        (
            "a change for an unassigned hamlet",
            Box::new(move |w| {
                let mut env = Envelope::decode(&raw(w, |tx, _, v| {
                    tx.put(v, "x", 1i64).expect("put");
                }))
                .expect("env");
                env.docs[0].doc = h("p-test.kp-9");
                sync(w, &env.encode())
            }),
            403,
            "not_assigned",
        ),
        (
            "a rival households map that loses the conflict",
            Box::new(|w| {
                let mut doc = automerge::Automerge::new().with_actor(w.device.identity().actor.clone());
                let mut tx = doc.transaction();
                let m = tx.put_object(ROOT, "households", ObjType::Map).expect("put");
                tx.put(&m, "x", "<script>alert(1)</script>").expect("put");
                tx.commit();
                sync(w, &carrying(w, doc.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect()))
            }),
            422,
            "outside_schema",
        ),
        (
            "an empty change",
            Box::new(|w| {
                let l = log(w);
                let mut doc = l.doc().clone();
                doc.empty_commit(automerge::transaction::CommitOptions::default());
                let chunks = doc.get_changes(&l.heads()).iter().map(|c| c.raw_bytes().to_vec()).collect();
                sync(w, &carrying(w, chunks))
            }),
            422,
            "outside_schema",
        ),
        (
            "a new key on the root",
            Box::new(|w| {
                sync(
                    w,
                    &raw(w, |tx, _, _| {
                        tx.put(ROOT, "phone_numbers", "0912").expect("put");
                    }),
                )
            }),
            422,
            "outside_schema",
        ),
        (
            "a list inside a visit",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put_object(v, "photos", ObjType::List).expect("put");
                    }),
                )
            }),
            422,
            "outside_schema",
        ),
        (
            "text in place of a note",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        let t = tx.put_object(v, "note", ObjType::Text).expect("put");
                        tx.splice_text(&t, 0, 0, "chào").expect("splice");
                    }),
                )
            }),
            422,
            "outside_schema",
        ),
        (
            "a visit in someone else's name",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "by", "tnv2").expect("put");
                    }),
                )
            }),
            422,
            "not_as_self",
        ),
        (
            "a megabyte note",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "note", "a".repeat(1 << 20)).expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "a note that reorders itself (U+202E)",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "note", "Số 1\u{202e} 9").expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "a visit two days ahead",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "at", tungnha_server::now_ms() + 2 * 86_400_000).expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "a visit from 1999",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "at", 915_148_800_000i64).expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "a count of 51 people",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "people", 51i64).expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "an unknown outcome",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "outcome", "abducted").expect("put");
                    }),
                )
            }),
            422,
            "invalid_value",
        ),
        (
            "a visit to a household nobody listed",
            Box::new(|w| {
                sync(
                    w,
                    &visit_with(w, |tx, v| {
                        tx.put(v, "household", "qqqqqqqqqqqqqqqq").expect("put");
                    }),
                )
            }),
            422,
            "unknown_household",
        ),
        (
            "a visit deleted",
            Box::new(|w| {
                let id = w.visit.clone();
                sync(
                    w,
                    &raw(w, move |tx, _, v| {
                        tx.delete(v, id.as_str()).expect("delete");
                    }),
                )
            }),
            422,
            "deleted",
        ),
        (
            "a visit's author rewritten",
            Box::new(|w| {
                let id = w.visit.clone();
                sync(
                    w,
                    &raw(w, move |tx, _, v| {
                        let o = tx.get(v, id.as_str()).expect("read").expect("there").1;
                        tx.put(&o, "by", "tnv2").expect("put");
                    }),
                )
            }),
            422,
            "immutable",
        ),
        (
            "a hundred and one households in one day",
            Box::new(|w| {
                let mut l = log(w);
                let base = l.heads();
                let lan = tungnha_client_core::Author {
                    user: tungnha_client_core::UserId::parse("tnv1").expect("id"),
                    role: Role::Volunteer,
                };
                let forms: Vec<_> = (0..101)
                    .map(|i| tungnha_client_core::HouseholdForm {
                        label: format!("Nhà {i}"),
                        ..Default::default()
                    })
                    .collect();
                l.import_households(&lan, &forms, tungnha_server::now_ms()).expect("local");
                let changes = l.doc().get_changes(&base).iter().map(|c| c.raw_bytes().to_vec()).collect();
                sync(w, &carrying_keys(w, changes, l.keys().unsent()))
            }),
            422,
            "too_many_households",
        ),
        (
            "a household listed without its key",
            Box::new(|w| {
                let mut l = log(w);
                let base = l.heads();
                let form =
                    tungnha_client_core::HouseholdForm { label: "Số 5".into(), ..Default::default() };
                l.add_household(&volunteer(), &form, tungnha_server::now_ms()).expect("local");
                let changes = l.doc().get_changes(&base).iter().map(|c| c.raw_bytes().to_vec()).collect();
                sync(w, &carrying(w, changes))
            }),
            422,
            "invalid_value",
        ),
        (
            "a label sealed under another key than the one sent",
            Box::new(|w| {
                let mut l = log(w);
                let base = l.heads();
                let form =
                    tungnha_client_core::HouseholdForm { label: "Số 6".into(), ..Default::default() };
                let id = l.add_household(&volunteer(), &form, tungnha_server::now_ms()).expect("local");
                let changes = l.doc().get_changes(&base).iter().map(|c| c.raw_bytes().to_vec()).collect();
                let other = tungnha_client_core::sealed::HouseholdKey::fresh();
                sync(w, &carrying_keys(w, changes, vec![(id, other)]))
            }),
            422,
            "invalid_value",
        ),
        (
            "another key for a household the server holds one for",
            Box::new(|w| {
                let l = log(w);
                let listed = l.households().ok.into_keys().next().expect("a household");
                let other = tungnha_client_core::sealed::HouseholdKey::fresh();
                sync(w, &carrying_keys(w, Vec::new(), vec![(listed, other)]))
            }),
            422,
            "invalid_value",
        ),
        // ---- web forms ----
        (
            "sign-in with a 20 kB username",
            Box::new(|w| login(w, &"a".repeat(20_000), true)),
            401,
            "Tên đăng nhập hoặc mật khẩu không đúng",
        ),
        ("sign-in without its form cookie", Box::new(|w| login(w, "canbo", false)), 403, ""),
        (
            "a form over 64 KiB",
            Box::new(|w| {
                web(w, "/communes/p-test/people", &format!("csrf={{csrf}}&name={}", "a".repeat(70_000)))
            }),
            413,
            "",
        ),
        (
            "a form field that is not UTF-8",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/people",
                    "csrf={csrf}&username=moi&name=%FF&role=volunteer&password=",
                )
            }),
            422,
            "UTF-8",
        ),
        (
            "a form without its CSRF token",
            Box::new(|w| web(w, "/communes/p-test/people", "username=moi&name=Moi&role=volunteer&password=")),
            403,
            "",
        ),
        (
            "a person named with a control character",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/people",
                    "csrf={csrf}&username=moi&name=Tr%07n&role=volunteer&password=",
                )
            }),
            422,
            "Có ký tự không được phép",
        ),
        (
            "a person named with U+202E",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/people",
                    "csrf={csrf}&username=moi&name=Tr%E2%80%AEn&role=volunteer&password=",
                )
            }),
            422,
            "Có ký tự không được phép",
        ),
        (
            "a person named with a phone number",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/people",
                    "csrf={csrf}&username=0912345678&name=So&role=volunteer&password=",
                )
            }),
            422,
            "",
        ),
        (
            "an administrator made by an official",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/people",
                    "csrf={csrf}&username=moi&name=Moi&role=admin&password=mat-khau-dai",
                )
            }),
            422,
            "",
        ),
        (
            "a catalogue label with U+2067",
            Box::new(|w| {
                web(
                    w,
                    "/communes/p-test/catalogue",
                    "csrf={csrf}&list=topics&new_code=moi&new_label=M%E2%81%A7i",
                )
            }),
            422,
            "Có ký tự không được phép",
        ),
        (
            "a negative target",
            Box::new(|w| web(w, "/communes/p-test/targets", "csrf={csrf}&hamlet=p-test.kp-1&target=-5")),
            422,
            "",
        ),
        (
            "an assignment of nobody",
            Box::new(|w| {
                web(w, "/communes/p-test/assignments", "csrf={csrf}&hamlet=p-test.kp-1&user=khong-co")
            }),
            422,
            "",
        ),
        (
            "an official's reset of another official",
            Box::new(|w| {
                web(w, "/communes/p-test/people/canbo9/password", "csrf={csrf}&password=mat-khau-cua-ke-gian")
            }),
            403,
            "",
        ),
        // ---- CSV imports (what `tungnha-server admin … import` runs) ----
        (
            "an empty hamlets file",
            Box::new(|w| cli(imports::hamlets_import(w.server.state.store(), audit::CLI, COMMUNE, b""))),
            1,
            "the file is empty",
        ),
        (
            "a households file of a header alone",
            Box::new(|w| {
                cli(imports::households_import(
                    w.server.state.store(),
                    audit::CLI,
                    "p-test.kp-1",
                    b"label,head\n",
                ))
            }),
            1,
            "no rows",
        ),
        (
            "a hamlets file that is not UTF-8",
            Box::new(|w| {
                cli(imports::hamlets_import(
                    w.server.state.store(),
                    audit::CLI,
                    COMMUNE,
                    b"code,name,kind,target_households\nkp-7,Khu\xff,khu_pho,3\n",
                ))
            }),
            1,
            "UTF-8",
        ),
        (
            "a households file with a control character",
            Box::new(|w| {
                cli(imports::households_import(
                    w.server.state.store(),
                    audit::CLI,
                    "p-test.kp-1",
                    "label\nSố 1\u{7}\n".as_bytes(),
                ))
            }),
            1,
            "line 2",
        ),
        (
            "a households file with an unclosed quote",
            Box::new(|w| {
                cli(imports::households_import(
                    w.server.state.store(),
                    audit::CLI,
                    "p-test.kp-1",
                    b"label,head\n\"S\xc3\xb4 1,An\nS2,B\n",
                ))
            }),
            1,
            "",
        ),
        (
            "a users file with a phone number",
            Box::new(|w| {
                cli(imports::users_import(
                    w.server.state.store(),
                    audit::CLI,
                    COMMUNE,
                    b"username,name,role\n0912345678,So,volunteer\n",
                ))
            }),
            1,
            "never a phone number",
        ),
        (
            "a users file making an administrator",
            Box::new(|w| {
                cli(imports::users_import(
                    w.server.state.store(),
                    audit::CLI,
                    COMMUNE,
                    b"username,name,role\nquantri2,Q,admin\n",
                ))
            }),
            1,
            "not one of",
        ),
        // ---- command-line input ----
        ("a code lifetime of 31 days", Box::new(|_| cli(enrolment::parse_ttl("31d"))), 1, "at most 30 days"),
        (
            "a code lifetime of 99999999999999999 days",
            Box::new(|_| cli(enrolment::parse_ttl("99999999999999999d"))),
            1,
            "at most 30 days",
        ),
        (
            "an administrator given a commune",
            Box::new(|w| {
                cli(accounts::user_add(
                    w.server.state.store(),
                    audit::CLI,
                    "quantri3",
                    Role::Admin,
                    Some(COMMUNE),
                    None,
                    None,
                ))
            }),
            1,
            "belongs to no commune",
        ),
        (
            "a username that is a phone number",
            Box::new(|w| {
                cli(accounts::user_add(
                    w.server.state.store(),
                    audit::CLI,
                    "0987654321",
                    Role::Volunteer,
                    Some(COMMUNE),
                    None,
                    None,
                ))
            }),
            1,
            "never a phone number",
        ),
        (
            "a commune named with U+202E",
            Box::new(|w| {
                cli(organisation::commune_add(
                    w.server.state.store(),
                    audit::CLI,
                    "x-moi",
                    "Xã \u{202e}Mới",
                    tungnha_client_core::domain::CommuneKind::Xa,
                ))
            }),
            1,
            "reorder",
        ),
    ]
}

#[test]
fn every_hostile_input_is_refused_with_its_code_and_changes_nothing() {
    let w = world();
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (name, send, status, code) in &cases {
        let before = stored(&w);
        let got = send(&w);
        let after = stored(&w);
        if got.status != *status || !got.text.contains(code) {
            let text: String = got.text.chars().take(160).collect();
            failures.push(format!("{name}: got {} “{text}”, expected {status} “{code}”", got.status));
        }
        if before != after {
            failures.push(format!("{name}: something stored changed"));
        }
        let health = agent().get(w.server.url("/healthz")).call().map(|r| r.status().as_u16());
        assert_eq!(health.ok(), Some(200), "{name}: the server is still up");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
