//! A real authoritative DNS server accepting RFC 2136 dynamic updates:
//! Debian's BIND 9 (`named`), for one zone, with one HMAC-SHA256 TSIG key.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::process::{free_port, spawn_logged, wait_until};

/// `named` serving `zone` on 127.0.0.1 (UDP and TCP), updatable with the key.
pub struct BindServer {
    _dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// The TSIG key's name.
    pub key_name: String,
    /// The TSIG key's secret, base64.
    pub key_secret: String,
    guard: Child,
}

impl BindServer {
    /// Starts `named` for `zone`; panics when BIND is missing or does not start within 20 s.
    pub fn start(zone: &str) -> BindServer {
        assert!(
            Path::new("/usr/sbin/named").exists(),
            "BIND is not installed: run `make setup` (it installs Debian's bind9)"
        );
        let dir = tempfile::Builder::new().prefix("opsdeck-bind-").tempdir().expect("temp dir");
        let port = free_port();
        let mut secret = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut secret))
            .expect("random bytes");
        use base64::Engine;
        let key_secret = base64::engine::general_purpose::STANDARD.encode(secret);
        let key_name = "opsdeck-test-key".to_owned();
        let path = dir.path().display().to_string();
        let config = format!(
            "options {{ directory \"{path}\"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; \
             pid-file \"{path}/named.pid\"; recursion no; dnssec-validation no; }};\n\
             key \"{key_name}\" {{ algorithm hmac-sha256; secret \"{key_secret}\"; }};\n\
             zone \"{zone}\" {{ type master; file \"{path}/zone.db\"; allow-update {{ key \"{key_name}\"; }}; }};\n"
        );
        std::fs::write(dir.path().join("named.conf"), config).expect("write named.conf");
        let records = format!(
            "$TTL 60\n@ IN SOA ns.{zone}. admin.{zone}. 1 60 60 600 60\n@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n"
        );
        std::fs::write(dir.path().join("zone.db"), records).expect("write zone");
        let config_path = dir.path().join("named.conf").display().to_string();
        let log = dir.path().join("named.log");
        let guard = spawn_logged("/usr/sbin/named", &["-g", "-c", &config_path], &[], &log);
        wait_until(Duration::from_secs(20), "named", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        BindServer { _dir: dir, address: format!("127.0.0.1:{port}"), key_name, key_secret, guard }
    }
}

impl Drop for BindServer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.guard.id().to_string()).status();
        let _ = self.guard.wait();
    }
}
