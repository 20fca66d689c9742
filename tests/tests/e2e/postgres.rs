//! What only the PostgreSQL engine has (the rest of the end-to-end suite runs on it
//! too, with `TUNGNHA_TEST_STORE=postgres`): its migrations, applied at start-up,
//! forward only, and a database written by a newer server refused; two server
//! instances on one database, each with its own cache of hamlet logs.

use tungnha_client_core::device::Device;
use tungnha_client_core::{Author, Coverage, Outcome, Role, UserId, VisitForm};
use tungnha_server::service::{api_tokens, audit, enrolment, imports, moving, organisation, verify};
use tungnha_tests::{PASSWORD, TestServer, WebSession, code, commune, pg};

#[test]
fn the_schema_is_migrated_once_and_a_newer_database_is_refused() {
    let url = pg::database();
    {
        let db = tungnha_server::store::connect(&url).expect("an empty database is migrated");
        organisation::province_add(db.as_ref(), audit::CLI, "t-thu", "Tỉnh Thử").expect("written");
    }
    // Connecting again migrates nothing and keeps what is there.
    let db = tungnha_server::store::connect(&url).expect("connects again");
    assert_eq!(db.all_provinces().expect("read").len(), 1);
    drop(db);

    // A newer server added a migration this one does not know: refused, untouched.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (999, 'later', '2026-12-01T00:00:00Z', '0')",
            &[],
        )
        .expect("a later migration recorded");
    let refused = tungnha_server::store::connect(&url).expect_err("a newer database is refused");
    assert!(refused.to_string().contains("schema"), "{refused}");
    let provinces: i64 = client.query_one("SELECT count(*) FROM provinces", &[]).expect("count").get(0);
    assert_eq!(provinces, 1, "nothing was changed");
}

#[test]
fn two_instances_on_one_database_serve_one_hamlet_and_nothing_is_lost() {
    let url = pg::database();
    let (hamlets, codes) = {
        let db = tungnha_server::store::connect(&url).expect("the database");
        let hamlets = commune(db.as_ref(), 1, 12, 4);
        let codes: Vec<String> = (1..=4).map(|i| code(db.as_ref(), &format!("tnv{i}"))).collect();
        (hamlets, codes)
    };
    let servers = [TestServer::serve_database(&url), TestServer::serve_database(&url)];
    // tnv1 and tnv2 reach the first instance, tnv3 and tnv4 the second; all four work
    // on the same households of one khu phố.
    let homes: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().expect("home")).collect();
    let mut phones: Vec<Device> = homes
        .iter()
        .zip(&codes)
        .enumerate()
        .map(|(i, (home, code))| {
            Device::enrol(home.path(), &servers[i / 2].base(), code, "phone").expect("enrolled")
        })
        .collect();
    let households: Vec<_> = phones[0].log(&hamlets[0]).expect("held").households().ok.into_keys().collect();
    let now = tungnha_server::now_ms();
    let mut logged = 0;
    for round in 0..3 {
        for (i, phone) in phones.iter_mut().enumerate() {
            for h in households.iter().skip(i).step_by(4).take(2) {
                let form = VisitForm { people: 1, ..VisitForm::default() };
                let at = now - 60_000 * (round * 10 + i as i64);
                phone.log_visit(h, Outcome::AlreadyDone, &form, at, now).expect("logged offline");
                logged += 1;
            }
        }
        // Each syncs through its own instance, one after the other, so every instance's
        // cached log falls behind the other's writes.
        for phone in &mut phones {
            phone.sync().expect("acknowledged");
        }
    }
    for phone in &mut phones {
        phone.sync().expect("again, to receive the others' visits");
    }
    let db = tungnha_server::store::connect(&url).expect("the database");
    let stored: Coverage = db.coverage(&hamlets[0]).expect("coverage");
    assert_eq!(stored.visits, logged, "every acknowledged visit is there, once");
    for phone in &phones {
        assert_eq!(phone.coverage(&hamlets[0]).map(|c| c.visits), Some(logged), "the phones converged");
    }
    let (_, differences) = verify::verify(db.as_ref()).expect("verify");
    assert!(differences.is_empty(), "stored figures equal a full recompute: {differences:?}");
}

#[test]
fn failed_sign_ins_on_one_instance_count_on_every_instance() {
    let url = pg::database();
    {
        let db = tungnha_server::store::connect(&url).expect("the database");
        commune(db.as_ref(), 1, 2, 1);
    }
    let servers = [TestServer::serve_database(&url), TestServer::serve_database(&url)];
    for _ in 0..tungnha_server::state::throttle::MAX_FAILURES {
        let (_, page) = WebSession::try_sign_in(&servers[0], "canbo", "sai-mat-khau");
        assert_eq!(page.status, 401);
    }
    // The other instance has seen none of them in its memory, but the database has.
    let (_, page) = WebSession::try_sign_in(&servers[1], "canbo", PASSWORD);
    assert_eq!(page.status, 401, "the right password waits out the window too");
    assert!(page.html.contains("Đăng nhập sai quá nhiều lần"), "{}", page.html);
    // Someone else signs in on either instance as usual.
    WebSession::sign_in(&servers[1], "totruong", PASSWORD);
}

#[test]
fn a_data_directory_moves_into_postgres_with_every_figure_and_token() {
    let dir = tempfile::tempdir().expect("data directory");
    let sled = tungnha_server::store::open(dir.path()).expect("sled");
    let db = sled.as_ref();
    let hamlets = commune(db, 2, 6, 2);
    organisation::province_add(db, audit::CLI, "t-thu", "Tỉnh Thử").expect("province");
    organisation::attach_commune(db, audit::CLI, tungnha_tests::COMMUNE, "t-thu").expect("attached");
    let now = tungnha_server::now_ms();
    let phone = enrolment::enrol(db, &code(db, "tnv1"), "phone".into(), now).expect("enrolled");
    let author = Author { user: UserId::parse("tnv1").expect("id"), role: Role::Volunteer };
    imports::rewrite_log(db, &hamlets[0], |log| {
        let ids: Vec<_> = log.households().ok.into_keys().collect();
        for id in &ids[..4] {
            log.log_visit(&author, id, Outcome::AlreadyDone, &VisitForm::default(), now - 60_000, now)
                .map_err(|e| tungnha_server::service::ServiceError::Internal(e.to_string()))?;
        }
        Ok(())
    })
    .expect("visits");
    let (_, api_token) = api_tokens::issue(db, audit::CLI, "t-thu", "IOC").expect("issued");

    let url = pg::database();
    let pg_store = tungnha_server::store::connect(&url).expect("the database");
    let moved = moving::move_store(db, pg_store.as_ref()).expect("moved");
    assert_eq!((moved.communes, moved.hamlets, moved.users, moved.teams, moved.devices), (1, 2, 4, 1, 1));
    assert!(verify::verify(pg_store.as_ref()).expect("verify").1.is_empty());
    assert!(moving::differences(db, pg_store.as_ref()).expect("compare").is_empty(), "every figure is equal");
    assert_eq!(pg_store.coverage(&hamlets[0]).expect("coverage").visits, 4);
    // A database that holds something is not moved into.
    assert!(moving::move_store(db, pg_store.as_ref()).is_err());
    drop(pg_store);

    // Served from PostgreSQL, the phone's token and the operations centre's work.
    let server = TestServer::serve_database(&url);
    let me = tungnha_tests::get(&server.url("/api/v1/me"), Some(&phone.token));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["hamlets"].as_array().map(Vec::len), Some(2));
    let province = tungnha_tests::get(&server.url("/api/v1/provinces/t-thu/coverage"), Some(&api_token));
    assert_eq!(province.json()["totals"]["visits"], 4);
}
