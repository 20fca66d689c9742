//! End-to-end tests of Từng Nhà live in `tests/` beside this file; this library holds
//! their shared fixtures.

use std::net::SocketAddr;

use tokio::sync::oneshot;

/// A real server on 127.0.0.1:0 with its own data directory, stopped when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The data directory, removed when the server is dropped.
    pub data: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server; `demo` seeds the demo commune.
    pub async fn start(demo: bool) -> Self {
        let data = tempfile::tempdir().expect("temporary data directory");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let config =
            tungnha_server::Config { demo, ..tungnha_server::Config::new(data.path().to_path_buf()) };
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = tungnha_server::run(config, listener, shutdown).await {
                eprintln!("test server failed: {e}");
            }
        });
        Self { addr, stop: Some(stop), task: Some(task), data }
    }

    /// The base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and waits until it has let go of its database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
