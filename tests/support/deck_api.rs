//! A deck for the HTTP API and MCP tests: the CLI on a data dir with its
//! passphrase, and `opsdeck serve --api` on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs `opsdeck --data-dir DIR --json ARGS` (with `stdin` if given) and
/// returns its JSON output; panics with its stderr when it fails.
pub fn cli_json(dir: &Path, passphrase: &str, args: &[&str], stdin: Option<&str>) -> Value {
    let mut command = crate::opsdeck_command();
    command
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("OPSDECK_PASSPHRASE", passphrase)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run opsdeck");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("wait for opsdeck");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// A vault `prod` on `dir` holding `prod/db` with `value`.
pub fn vault_with_one_secret(dir: &Path, passphrase: &str, value: &str) {
    cli_json(dir, passphrase, &["vault", "init", "prod", "--no-keychain"], None);
    cli_json(
        dir,
        passphrase,
        &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
        Some(value),
    );
}

/// A new API token (`opsdeck api token create ARGS`), its value.
pub fn api_token(dir: &Path, passphrase: &str, args: &[&str]) -> String {
    let made = cli_json(dir, passphrase, &[&["api", "token", "create"], args].concat(), None);
    made["token"].as_str().expect("a token in the answer").to_owned()
}

/// `opsdeck serve --api` on `dir`, listening on a free loopback port.
pub struct ApiServer {
    /// `127.0.0.1:PORT`.
    pub address: String,
    guard: Child,
    log: PathBuf,
}

impl ApiServer {
    /// Starts the test build's `opsdeck` and waits until it listens (at most 60 s).
    pub fn start(dir: &Path, passphrase: &str) -> ApiServer {
        ApiServer::start_binary(&crate::opsdeck_binary(), dir, passphrase)
    }

    /// The same with another build of `opsdeck` (the benchmarks' release one).
    pub fn start_binary(binary: &Path, dir: &Path, passphrase: &str) -> ApiServer {
        let address = format!("127.0.0.1:{}", crate::process::free_port());
        let log = dir.join("serve.log");
        let data_dir = dir.display().to_string();
        let guard = crate::process::spawn_logged(
            &binary.display().to_string(),
            &[
                "--data-dir",
                &data_dir,
                "serve",
                "--otlp-grpc",
                "off",
                "--otlp-http",
                "off",
                "--api",
                &address,
            ],
            &[("OPSDECK_PASSPHRASE", passphrase), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
            &log,
        );
        let server = ApiServer { address, guard, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(&server.address).is_err() {
            assert!(Instant::now() < deadline, "the API never listened: {}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// What the server wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it and waits for it.
    pub fn stop(&mut self) {
        crate::process::stop(&mut self.guard);
    }
}
