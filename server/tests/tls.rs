//! The real `tungnha-server` binary serving https with its own certificate
//! (`--tls-cert`, `--tls-key`): the API and the pages answer over TLS, cookies are
//! marked Secure, and enrolment links use https. Phones need this secure context for
//! the app's service worker and storage.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

#[test]
fn the_server_serves_https_with_its_own_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, key.cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.signing_key.serialize_pem()).expect("write key");

    let mut child = Command::new(env!("CARGO_BIN_EXE_tungnha-server"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find("https://") {
                let _ = tx.send(line[at + "https://".len()..].trim().to_owned());
            }
            kept.lock().expect("log").push(line);
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("the server says where it serves https");
    let port = addr.rsplit(':').next().expect("a port").to_owned();

    let roots = RootCerts::Specific(Arc::new(vec![Certificate::from_der(key.cert.der()).to_owned()]));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let base = format!("https://localhost:{port}");
    let mut health = agent.get(format!("{base}/healthz")).call().expect("https answers");
    assert_eq!(health.body_mut().read_to_string().expect("body"), "ok");
    let login = agent.get(format!("{base}/login")).call().expect("the sign-in page");
    let cookie = login.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    let app = agent.get(format!("{base}/app/")).call().expect("the phone app");
    assert_eq!(app.status(), 200);
    // Plain http on the same port is not served.
    assert!(ureq::get(format!("http://localhost:{port}/healthz")).call().is_err());
    let _ = child.kill();
    let _ = child.wait();
    // Written to a pipe (a log file, a journal), the log carries no colour codes.
    let log = log.lock().expect("log");
    assert!(log.iter().any(|l| l.contains("INFO")), "the server logged: {log:?}");
    assert!(log.iter().all(|l| !l.contains('\u{1b}')), "ANSI codes in a log that is not a terminal: {log:?}");
}
