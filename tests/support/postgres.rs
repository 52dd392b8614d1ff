//! A throwaway PostgreSQL server from Debian's packages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::process::{free_port, spawn_tied_to_this_process, wait_until};

/// A PostgreSQL server in a temporary directory, on 127.0.0.1, trusting local
/// logins. Stopped when dropped or when the test process ends.
pub struct PostgresServer {
    port: u16,
    guard: Child,
}

/// The directory of the newest installed PostgreSQL's programs (initdb, psql, …).
pub fn postgres_bin_dir() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path().join("bin")).collect())
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|dir| dir.join("initdb").is_file())
        .expect("PostgreSQL is not installed: run `make setup` (it installs Debian's postgresql)")
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|out| out.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when this process is root
/// (initdb and postgres refuse to run as root). `setpriv` execs the tool in
/// place, so signals sent to the returned process reach PostgreSQL itself.
fn postgres_tool(bin: &Path, tool: &str) -> Vec<String> {
    let program = bin.join(tool).display().to_string();
    if running_as_root() {
        ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
            .into_iter()
            .map(String::from)
            .chain([program])
            .collect()
    } else {
        vec![program]
    }
}

impl PostgresServer {
    /// Initialises a new cluster and starts the server; panics with the reason
    /// when PostgreSQL is missing or does not come up within 30 s.
    pub fn start() -> PostgresServer {
        PostgresServer::start_with(None)
    }

    /// Like [`PostgresServer::start`], with `ssl=on` and the certificate
    /// `srv.pem` and key `srv.key` from `pki` (see `pebble::make_pki_for`).
    pub fn start_with_tls(pki: &Path) -> PostgresServer {
        PostgresServer::start_with(Some(pki))
    }

    fn start_with(pki: Option<&Path>) -> PostgresServer {
        let bin = postgres_bin_dir();
        // The guard removes the directory once PostgreSQL has stopped (a TempDir
        // would not be dropped for the shared server, which lives in a static).
        let dir = tempfile::Builder::new().prefix("opsdeck-pg-").tempdir().expect("temp dir").keep();
        if running_as_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status();
            assert!(status.map(|s| s.success()).unwrap_or(false), "could not chown the PostgreSQL dir");
        }
        let data = dir.join("data");
        let mut initdb = postgres_tool(&bin, "initdb");
        initdb.extend(["-N", "-A", "trust", "-U", "postgres", "-D"].map(String::from));
        initdb.push(data.display().to_string());
        let output = Command::new(&initdb[0]).args(&initdb[1..]).output().expect("run initdb");
        assert!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));

        let port = free_port();
        let mut server = postgres_tool(&bin, "postgres");
        let socket_dir = dir.display().to_string();
        server.extend([
            "-D".to_owned(),
            data.display().to_string(),
            "-c".to_owned(),
            "listen_addresses=127.0.0.1".to_owned(),
            "-c".to_owned(),
            format!("port={port}"),
            "-c".to_owned(),
            format!("unix_socket_directories={socket_dir}"),
            "-c".to_owned(),
            "fsync=off".to_owned(),
            "-c".to_owned(),
            "log_min_messages=fatal".to_owned(),
        ]);
        if let Some(pki) = pki {
            // PostgreSQL wants its key readable by its own user only.
            for file in ["srv.pem", "srv.key"] {
                std::fs::copy(pki.join(file), dir.join(file)).expect("copy the server's certificate");
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("srv.key"), std::fs::Permissions::from_mode(0o600))
                .expect("chmod the key");
            if running_as_root() {
                let status = Command::new("chown").arg("postgres:postgres").arg(dir.join("srv.key")).status();
                assert!(status.is_ok_and(|s| s.success()), "could not chown the key");
            }
            server.extend([
                "-c".to_owned(),
                "ssl=on".to_owned(),
                "-c".to_owned(),
                format!("ssl_cert_file={}", dir.join("srv.pem").display()),
                "-c".to_owned(),
                format!("ssl_key_file={}", dir.join("srv.key").display()),
            ]);
        }
        let args: Vec<&str> = server[1..].iter().map(String::as_str).collect();
        // SIGINT asks PostgreSQL for a fast shutdown.
        let guard = spawn_tied_to_this_process(&server[0], &args, &[], "INT", Some(&dir));
        // The port opens before start-up ends ("the database system is starting up"):
        // wait until the server says it accepts connections.
        let pg_isready = postgres_bin_dir().join("pg_isready");
        wait_until(Duration::from_secs(30), "PostgreSQL", || {
            Command::new(&pg_isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
                .status()
                .is_ok_and(|status| status.success())
        });
        PostgresServer { port, guard }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `database` as the `postgres` superuser.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new empty database with a unique name and returns its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("opsdeck_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let psql = postgres_bin_dir().join("psql");
        let output = Command::new(psql)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url(&name)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // The guard forwards TERM to PostgreSQL as a fast shutdown and waits for it.
        let _ = Command::new("kill").arg(self.guard.id().to_string()).status();
        let _ = self.guard.wait();
    }
}

/// One server shared by all tests of this test binary (each test takes its own
/// database with [`PostgresServer::fresh_database`]); it stops when the test
/// process exits.
pub fn shared() -> &'static PostgresServer {
    static SERVER: std::sync::OnceLock<PostgresServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(PostgresServer::start)
}
