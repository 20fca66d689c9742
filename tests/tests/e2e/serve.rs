//! The server answers on loopback: health, metrics, and the demo's dashboard behind
//! the sign-in page.

use tungnha_tests::{TestServer, WebSession, get};

#[test]
fn a_demo_server_shows_its_dashboard_to_the_demo_official() {
    let server = TestServer::start(true, |_| {});
    let health = get(&server.url("/healthz"), None);
    assert_eq!((health.status, health.body.as_slice()), (200, b"ok".as_slice()));
    // Anyone else is sent to sign in, where the demo accounts are named.
    let login = get(&server.url("/"), None);
    let html = String::from_utf8(login.body).expect("UTF-8");
    assert!(html.contains("action=\"/login\"") && html.contains("tungnha-demo"), "{html}");

    let mut official = WebSession::sign_in(&server, "canbo", tungnha_server::service::demo::DEMO_PASSWORD);
    let page = official.get("/communes/p-hoa-binh");
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Khu phố Bình Minh"), "the demo hamlets are listed");
    assert_eq!(page.html.matches("<tr data-hamlet=").count(), 6, "six hamlets");
    let metrics = String::from_utf8(get(&server.url("/metrics"), None).body).expect("UTF-8");
    assert!(metrics.contains("tungnha_requests_total"), "{metrics}");
}

#[test]
fn an_official_of_a_commune_without_hamlets_is_told_so() {
    let server = TestServer::start(false, |db| {
        use tungnha_server::service::{accounts, audit, organisation};
        organisation::commune_add(
            db,
            audit::CLI,
            "x-moi",
            "Xã Mới",
            tungnha_client_core::domain::CommuneKind::Xa,
        )
        .expect("commune");
        accounts::user_add(
            db,
            audit::CLI,
            "canbo",
            tungnha_client_core::Role::Official,
            Some("x-moi"),
            None,
            Some("mat-khau-dai"),
        )
        .expect("official");
    });
    let mut official = WebSession::sign_in(&server, "canbo", "mat-khau-dai");
    assert!(official.get("/communes/x-moi").html.contains("Chưa có thôn, khu phố nào."));
}
