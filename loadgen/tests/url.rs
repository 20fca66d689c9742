//! The `--prepare` then `--url` path of `tungnha-loadgen`, as an operator runs it: set
//! up a directory, serve it (here a real server on loopback), load it, and check what
//! it refuses. The default path, where the load generator starts the server itself,
//! runs in `.ci/run` (it needs the server binary built in release or debug beside it).

use std::process::{Command, Output};

use tungnha_tests::TestServer;

fn loadgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tungnha-loadgen")).args(args).output().expect("the load generator runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_prepared_directory_is_loaded_once_through_url_with_no_visit_lost() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_str().expect("utf-8 path").to_owned();
    let small = ["--workload", "commune-day", "--hamlets", "2", "--devices", "4", "--visits", "5"];

    let prepared = loadgen(&[&small[..], &["--prepare", &dir]].concat());
    assert!(prepared.status.success(), "{}", text(&prepared));
    assert!(data.path().join("loadgen.json").exists(), "the manifest is written");
    let again = loadgen(&[&small[..], &["--prepare", &dir]].concat());
    assert!(!again.status.success() && text(&again).contains("not empty"), "{}", text(&again));

    let server = TestServer::serve_existing(data);
    let base = server.base();
    let run = loadgen(&["--url", &base, "--prepared", &dir, "--concurrency", "2"]);
    let out = text(&run);
    assert!(run.status.success(), "{out}");
    assert!(out.contains("server visits 20 of 20 expected: no visit lost"), "{out}");
    assert!(
        out.contains(&format!("server process {}", std::process::id())),
        "the server's process is found: {out}"
    );

    // The codes are spent: a second run says to prepare anew, and changes nothing.
    let spent = loadgen(&["--url", &base, "--prepared", &dir]);
    assert!(!spent.status.success() && text(&spent).contains("prepare a new one"), "{}", text(&spent));
    let mut visits = 0;
    for h in server.state.store.all_hamlets().expect("hamlets") {
        visits += server.state.store.coverage_headline(&h.id).expect("coverage").visits;
    }
    assert_eq!(visits, 20, "the refused run stored nothing");
    // Only loopback, and only with the manifest.
    let far = loadgen(&["--url", "http://192.0.2.7:8080", "--prepared", &dir]);
    assert!(!far.status.success() && text(&far).contains("on loopback"), "{}", text(&far));
    let bare = loadgen(&["--url", &base]);
    assert!(!bare.status.success() && text(&bare).contains("--prepared"), "{}", text(&bare));

    // What the server stored holds up to a full recompute.
    let (checked, differences) =
        tungnha_server::service::verify::verify(server.state.store()).expect("verify");
    assert_eq!((checked, differences.len()), (2, 0));
}
