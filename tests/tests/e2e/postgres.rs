//! What only the PostgreSQL engine has (the rest of the end-to-end suite runs on it
//! too, with `TUNGNHA_TEST_STORE=postgres`): its migrations, applied at start-up,
//! forward only, and a database written by a newer server refused.

use tungnha_server::service::{audit, organisation};
use tungnha_tests::pg;

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
