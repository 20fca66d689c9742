//! A throwaway PostgreSQL cluster for the tests: `initdb` into a temporary directory
//! (as the `postgres` user when the tests run as root: initdb refuses root), the
//! server listening only on a Unix socket in that directory, and a fresh database per
//! test server. One cluster serves a whole test process; a watchdog shell stops it and
//! removes its directory when the process ends (its standard input closes).

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cluster of this test process.
struct Cluster {
    socket_dir: PathBuf,
    /// The cluster's data directory.
    data: PathBuf,
    /// Held open: when the test process ends, the watchdog reads end-of-file and stops
    /// the server.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The user every test database belongs to (initdb's superuser).
const USER: &str = "tungnha";

/// Debian's PostgreSQL programs (the newest version installed).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install postgresql; scripts/setup.sh does)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, as the `postgres` user when we are root.
fn as_owner(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn start() -> Cluster {
    let bin = bin_dir();
    let root = tempfile::Builder::new().prefix("tungnha-pg-").tempdir().expect("temporary directory").keep();
    let (data, socket_dir) = (root.join("data"), root.join("socket"));
    std::fs::create_dir_all(&socket_dir).expect("socket directory");
    if running_as_root() {
        let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&root).status();
        assert!(chown.is_ok_and(|s| s.success()), "chown the cluster's directory to postgres");
    }
    let init = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C"])
        .output()
        .expect("initdb runs");
    assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
    let script = format!(
        "{postgres} -D {data} -k {socket} -c listen_addresses= -c fsync=off -c max_connections=400 >{root}/log 2>&1 & pid=$!; read _; kill -INT $pid; wait $pid; rm -rf {root}",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        socket = socket_dir.display(),
        root = root.display(),
    );
    let mut child = as_owner(Path::new("/bin/sh"))
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .expect("the cluster's watchdog starts");
    let stdin = child.stdin.take().expect("watchdog stdin");
    let cluster = Cluster { socket_dir, data, _watchdog: Mutex::new((child, stdin)) };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls) {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("the test cluster did not start: {e}; see {}/log", root.display()),
        }
    }
    cluster
}

impl Cluster {
    fn url(&self, db: &str) -> String {
        format!("host={} port=5432 user={USER} dbname={db}", self.socket_dir.display())
    }
}

/// A fresh, empty database on this process's cluster (started on first use); its
/// connection string.
pub fn database() -> String {
    let cluster = CLUSTER.get_or_init(start);
    let name = format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let mut admin = postgres::Client::connect(&cluster.url("postgres"), postgres::NoTls).expect("connect");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
    cluster.url(&name)
}

/// The data directory of this process's cluster (its files, for tests that look at
/// what is on disk).
pub fn data_dir() -> PathBuf {
    CLUSTER.get_or_init(start).data.clone()
}

/// Whether the tests run on PostgreSQL (`TUNGNHA_TEST_STORE=postgres`) rather than the
/// embedded default.
pub fn selected() -> bool {
    std::env::var("TUNGNHA_TEST_STORE").is_ok_and(|v| v == "postgres")
}
