//! The server answers on loopback: health, metrics, and the overview of the demo.

use tungnha_tests::{TestServer, get};

#[test]
fn a_demo_server_shows_its_hamlets() {
    let server = TestServer::start(true, |_| {});
    let health = get(&server.url("/healthz"), None);
    assert_eq!((health.status, health.body.as_slice()), (200, b"ok".as_slice()));
    let page = get(&server.url("/"), None);
    let html = String::from_utf8(page.body).expect("UTF-8");
    assert_eq!(page.status, 200);
    assert!(html.contains("Khu phố Bình Minh"), "the demo hamlets are listed");
    assert_eq!(html.matches("<tr>").count(), 7, "a header row and six hamlets");
    let metrics = String::from_utf8(get(&server.url("/metrics"), None).body).expect("UTF-8");
    assert!(metrics.contains("tungnha_requests_total"), "{metrics}");
}

#[test]
fn an_empty_server_says_it_has_no_hamlets() {
    let server = TestServer::start(false, |_| {});
    let html = String::from_utf8(get(&server.url("/"), None).body).expect("UTF-8");
    assert!(html.contains("Chưa có thôn, khu phố nào."));
}
