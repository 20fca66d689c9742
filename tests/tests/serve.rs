//! The server answers on loopback: health check and the overview of the demo commune.

use tungnha_tests::TestServer;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request reaches the server");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
async fn a_demo_server_shows_its_hamlets() {
    let server = TestServer::start(true).await;
    // The listener is bound before the database opens, so this waits in the backlog.
    assert_eq!(get(&server.url("/healthz")).await, (200, "ok".to_owned()));
    let (status, html) = get(&server.url("/")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Khu phố Bình Minh"), "the demo hamlets are listed");
    assert_eq!(html.matches("<tr>").count(), 7, "a header row and six hamlets");
    server.stop().await;
}

#[tokio::test]
async fn an_empty_server_says_it_has_no_hamlets() {
    let server = TestServer::start(false).await;
    let (status, html) = get(&server.url("/")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Chưa có thôn, khu phố nào."));
    server.stop().await;
}
