//! A hamlet's log rolled over to a successor (issue: campaigns) while devices hold
//! unsent work on the old one: a CLI device and a phone in Chromium, both offline
//! across the rollover, switch to the successor at their next sync and carry their
//! work over with the same ids; nothing is lost and nothing counts twice, all-time
//! figures keep the old log's visits, the store verifies, and a device enrolled
//! afterwards downloads only the successor.

use serde_json::json;
use tungnha_client_core::device::Device;
use tungnha_client_core::{Coverage, HouseholdForm, Outcome, VisitForm};
use tungnha_server::service::{rollover, verify};
use tungnha_tests::{TestServer, browser_script, code, commune, heads_text, server_heads};

#[test]
fn devices_offline_across_a_rollover_carry_their_work_over_and_nothing_counts_twice() {
    let mut hamlets = Vec::new();
    let mut codes = Vec::new();
    let server = TestServer::start(false, |db| {
        hamlets = commune(db, 1, 30, 3);
        codes = vec![code(db, "tnv1"), code(db, "tnv2"), code(db, "tnv3")];
    });
    let hamlet = hamlets[0].clone();
    let now = tungnha_server::now_ms();
    let coverage = || -> Coverage { server.state.store.coverage(&hamlet).expect("coverage") };

    // The CLI volunteer's first three visits reach the server before the rollover.
    let cli_home = tempfile::tempdir().expect("cli home");
    let mut cli = Device::enrol(cli_home.path(), &server.base(), &codes[1], "máy tnv2").expect("enrol");
    cli.sync().expect("sync");
    // Households the phone will not visit (it walks the top of its list, Số 1 to Số 5),
    // so that its day's report counts its own newly covered households.
    let households: Vec<_> = cli
        .log(&hamlet)
        .expect("held")
        .households()
        .ok
        .into_iter()
        .filter(|(_, h)| {
            h.label.trim_start_matches("Số ").split(',').next().and_then(|n| n.parse::<u32>().ok())
                >= Some(20)
        })
        .map(|(id, _)| id)
        .collect();
    assert!(households.len() >= 5);
    for (i, h) in households.iter().take(3).enumerate() {
        cli.log_visit(
            h,
            Outcome::Guided,
            &VisitForm { people: 1, ..VisitForm::default() },
            now - 50_000 + i as i64,
            now,
        )
        .expect("visit");
    }
    cli.sync().expect("sync");
    assert_eq!(coverage().visits, 3);

    // Offline, it lists a household and logs three more visits (one to the new one).
    let form =
        HouseholdForm {
            label: "Số 77, hẻm 9".into(), head: Some("Lê Thị Thu".into()), members: Some(4)
        };
    let listed = cli.add_household(&hamlet, &form, now - 40_000).expect("household");
    let mut unsent = Vec::new();
    for (i, h) in [&households[3], &households[4], &listed].into_iter().enumerate() {
        unsent.push(
            cli.log_visit(h, Outcome::NotHome, &VisitForm::default(), now - 30_000 + i as i64, now)
                .expect("visit"),
        );
    }

    // A phone works offline too: five visits and a new household.
    let profile = tempfile::tempdir().expect("browser profile");
    let enrolled = browser_script(
        "app.mjs",
        "enrol",
        &server.base(),
        &json!({"code": codes[0], "profile": profile.path()}),
    );
    assert_eq!(enrolled["hamlet"], json!(hamlet.as_str()));

    // The official rolls the hamlet over (the end of a campaign).
    let before = coverage();
    let done = rollover::roll_over(&server.state, "canbo", &hamlet, "đợt 1 kết thúc", None, now)
        .expect("rolled over")
        .expect("it had visits");
    assert_eq!((done.generation, done.visits, done.households), (1, 3, 30));
    assert_eq!(coverage(), before, "all-time figures do not move: the visits went to the history");
    {
        let entry = server.state.logs.get(server.state.store(), &hamlet).expect("load").expect("log");
        let live = tungnha_server::cache::lock(&entry);
        assert_eq!(live.log.generation(), 1);
        assert!(live.log.visits().ok.is_empty(), "the live log starts with no visit");
        assert_eq!(live.log.households().ok.len(), 30, "every household carried over");
    }
    assert_eq!(server.state.store.archived_generations(&hamlet).expect("archive"), vec![0]);

    // The CLI device syncs: it takes the successor and carries its unsent work over.
    let report = cli.sync().expect("sync after the rollover");
    let log = cli.log(&hamlet).expect("held");
    assert_eq!(log.generation(), 1, "{report:?}");
    let visits = log.visits().ok;
    assert_eq!(visits.len(), 3, "its three unsent visits, and not the three the server had");
    assert!(unsent.iter().all(|v| visits.contains_key(v)), "same ids");
    assert!(log.households().ok.contains_key(&listed), "its household, same id");
    let c = coverage();
    assert_eq!((c.visits, c.registered), (6, 31), "each counted once: {c:?}");
    // What the device stored is the successor: reopened, it holds the same.
    let heads = cli.log(&hamlet).expect("held").heads();
    drop(cli);
    let mut cli = Device::open(cli_home.path()).expect("reopened");
    let log = cli.log(&hamlet).expect("held");
    assert_eq!((log.generation(), log.heads()), (1, heads), "the stored log is the successor");

    // The phone, reopened offline, still holds its work; online, it switches and sends it.
    let resumed = browser_script("app.mjs", "resume", &server.base(), &json!({"profile": profile.path()}));
    let c = coverage();
    assert_eq!((c.visits, c.registered), (11, 32), "the phone's five visits and household: {resumed}");
    assert_eq!(c.per_volunteer.get(&"tnv1".parse().expect("id")).map(|f| f.visits), Some(5));
    assert_eq!(c.per_volunteer.get(&"tnv2".parse().expect("id")).map(|f| f.visits), Some(6));

    // Everyone converges on the successor.
    cli.sync().expect("sync");
    let synced = browser_script("app.mjs", "sync", &server.base(), &json!({"profile": profile.path()}));
    let server_side = heads_text(&server_heads(&server.state, &hamlet));
    let cli_side = heads_text(&cli.log(&hamlet).expect("held").heads());
    let phone_side: Vec<String> =
        serde_json::from_value(synced["hamlets"][hamlet.as_str()]["heads"].clone()).expect("phone heads");
    assert_eq!(cli_side, server_side, "CLI and server converge");
    assert_eq!(phone_side, server_side, "phone and server converge");
    assert_eq!(
        synced["hamlets"][hamlet.as_str()]["visits"],
        json!(8),
        "the campaign's visits on the phone: {synced}"
    );

    // The stored figures are what the live log and its history add up to.
    let (checked, differences) = verify::verify(server.state.store()).expect("verify");
    assert!(checked >= 1 && differences.is_empty(), "{differences:?}");

    // A device enrolled now downloads the successor only: no visit of the last campaign.
    let late_home = tempfile::tempdir().expect("late home");
    let mut late = Device::enrol(late_home.path(), &server.base(), &codes[2], "máy tnv3").expect("enrol");
    let first = late.sync().expect("first sync");
    assert_eq!(late.log(&hamlet).expect("held").visits().ok.len(), 8);
    assert_eq!(late.log(&hamlet).expect("held").generation(), 1);
    assert!(first.bytes_down < 20_000, "first download {} B", first.bytes_down);
}
