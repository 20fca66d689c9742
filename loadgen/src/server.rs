//! The server under load: the real `tungnha-server` binary started as a child process
//! on a loopback port, so that its memory can be read from /proc.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How to start the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Launch {
    /// How long idle logs stay in memory, in seconds.
    pub cache_idle_secs: Option<u64>,
    /// Abort right after this many durable syncs (`tungnha_server::failpoint`).
    pub failpoint: Option<u64>,
}

/// A running server process.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Finds `tungnha-server` beside this executable (cargo puts all binaries together).
pub fn server_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = me.with_file_name("tungnha-server");
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} is missing; build it first: cargo build --release -p tungnha-server", path.display()))
    }
}

impl ServerProcess {
    /// Starts the server on `data`, waiting until it answers `/healthz`;
    /// `cache_idle_secs` sets how long idle logs stay in memory.
    pub fn start(binary: &Path, data: &Path, cache_idle_secs: Option<u64>) -> Result<Self, String> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?;
        Self::start_on(binary, data, addr, &Launch { cache_idle_secs, failpoint: None })
    }

    /// Starts a server on a PostgreSQL database (one of several instances, maybe),
    /// waiting until it answers `/healthz`.
    pub fn start_database(binary: &Path, url: &str, cache_idle_secs: Option<u64>) -> Result<Self, String> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?;
        Self::start_on_database(binary, url, addr, &Launch { cache_idle_secs, failpoint: None })
    }

    /// Starts the server on `data` at `addr` (a restart keeps its address), waiting
    /// until it answers `/healthz`.
    pub fn start_on(binary: &Path, data: &Path, addr: SocketAddr, launch: &Launch) -> Result<Self, String> {
        Self::start_with(binary, data, None, addr, launch)
    }

    /// Starts a server on a PostgreSQL database at `addr` (a restart keeps its address).
    pub fn start_on_database(
        binary: &Path,
        url: &str,
        addr: SocketAddr,
        launch: &Launch,
    ) -> Result<Self, String> {
        Self::start_with(binary, &std::env::temp_dir(), Some(url), addr, launch)
    }

    fn start_with(
        binary: &Path,
        data: &Path,
        database: Option<&str>,
        addr: SocketAddr,
        launch: &Launch,
    ) -> Result<Self, String> {
        let mut command = Command::new(binary);
        command.arg("serve");
        match database {
            Some(url) => command.args(["--database", url]),
            None => command.arg("--data").arg(data),
        };
        command
            .args(["--listen", &addr.to_string()])
            .env("RUST_LOG", "warn")
            .env("TUNGNHA_CACHE_IDLE_SECS", launch.cache_idle_secs.unwrap_or(600).to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(n) = launch.failpoint {
            command.env(tungnha_server::failpoint::VARIABLE, format!("after-commit:{n}"));
        }
        let mut child = command.spawn().map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if agent.get(format!("http://{addr}/healthz")).call().is_ok_and(|r| r.status() == 200) {
                return Ok(Self { child, addr });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the server exited while starting: {status}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("the server did not come up on {addr}"))
    }

    /// Whether the process has ended by itself (an armed failpoint aborts it).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGKILL: every answer it gave was durable, so nothing may
    /// be lost, and `admin verify` afterwards proves it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One field of /proc/PID/status, as a number (kB fields in bytes).
fn status_field(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let mut words = line.split_whitespace().skip(1);
    let n: u64 = words.next()?.parse().ok()?;
    Some(if words.next() == Some("kB") { n * 1024 } else { n })
}

/// The resident set size of a process in bytes, from /proc.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS")
}

/// Where a process's resident memory is: (anonymous bytes, file-backed bytes such as
/// its own code, threads).
pub fn rss_breakdown(pid: u32) -> Option<(u64, u64, u64)> {
    Some((status_field(pid, "RssAnon")?, status_field(pid, "RssFile")?, status_field(pid, "Threads")?))
}

/// CPU time a process has used so far (user + system), from /proc.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU time used so far by every PostgreSQL server process on this machine (the
/// database under a `--database` run, on loopback).
pub fn postgres_cpu() -> Duration {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let is_postgres =
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres");
        if is_postgres {
            total += cpu_time(pid).unwrap_or_default();
        }
    }
    total
}

/// Samples a process's RSS every 20 ms in the background and keeps the peak.
pub struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(rss_bytes(pid).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = rss_bytes(pid) {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self { peak, stop, thread: Some(thread) }
    }

    /// Stops sampling; returns the peak.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// The process listening on a loopback TCP `port`, found through /proc (the socket's
/// inode in /proc/net/tcp*, then the process holding it); `None` if it is not ours to
/// see. Lets a `--url` run read the memory and CPU of a server it did not start.
pub fn pid_listening_on(port: u16) -> Option<u32> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 the inode.
            let listening = f.get(3) == Some(&"0A");
            let on_port =
                f.get(1).and_then(|a| a.rsplit_once(':')).and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                    == Some(port);
            if listening
                && on_port
                && let Some(inode) = f.get(9)
            {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| inodes.iter().any(|i| l.as_os_str() == i.as_str()))
            {
                return Some(pid);
            }
        }
    }
    None
}
