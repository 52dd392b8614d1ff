//! A real ACME CA on loopback: Debian's `pebble`, with `pebble-challtestsrv`
//! as its DNS server (every name resolves to 127.0.0.1; DNS-01 TXT records are
//! set through its management API). HTTP-01 answers come from the client's
//! own responder on [`Pebble::http_port`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::process::{free_ports, spawn_logged, wait_until};

/// A running pebble and its DNS test server, each with fresh ports.
pub struct Pebble {
    dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory_url: String,
    /// The port pebble validates HTTP-01 challenges on.
    pub http_port: u16,
    management_port: u16,
    challtestsrv_management: u16,
    guards: Vec<Child>,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output =
        Command::new("openssl").args(args).current_dir(dir).output().expect(
            "openssl is not installed: run `make setup` (it installs Debian's openssl, pebble and curl)",
        );
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Makes a throwaway CA and a server certificate for 127.0.0.1 in `dir`
/// (`ca.pem`, `srv.pem`, `srv.key`).
pub fn make_server_pki(dir: &Path) {
    make_pki_for(dir, "IP:127.0.0.1,DNS:localhost");
}

/// Makes a throwaway CA and a server certificate whose subject alternative
/// names are `names` (e.g. `DNS:localhost`) in `dir` (`ca.pem`, `srv.pem`, `srv.key`).
pub fn make_pki_for(dir: &Path, names: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=opsdeck test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("ext"), format!("subjectAltName={names}\n")).expect("write ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

impl Pebble {
    /// Starts pebble (sleeps off) with extra environment such as
    /// `PEBBLE_WFE_NONCEREJECT`; panics when it does not come up within 20 s.
    pub fn start(env: &[(&str, &str)]) -> Pebble {
        Self::start_resolving_through(env, None)
    }

    /// Like [`Pebble::start`], but pebble resolves names (and DNS-01 records)
    /// through `dns_server` (`127.0.0.1:PORT`) instead of its test DNS server.
    pub fn start_resolving_through(env: &[(&str, &str)], dns_server: Option<&str>) -> Pebble {
        Self::launch(env, dns_server, serde_json::json!({}))
    }

    /// Like [`Pebble::start`], with more settings for pebble's config (e.g.
    /// `externalAccountBindingRequired`).
    pub fn start_with_config(env: &[(&str, &str)], extra: serde_json::Value) -> Pebble {
        Self::launch(env, None, extra)
    }

    fn launch(env: &[(&str, &str)], dns_server: Option<&str>, extra: serde_json::Value) -> Pebble {
        assert!(
            Path::new("/usr/bin/pebble").exists(),
            "pebble is not installed: run `make setup` (it installs Debian's pebble)"
        );
        let dir = tempfile::Builder::new().prefix("opsdeck-pebble-").tempdir().expect("temp dir");
        make_server_pki(dir.path());
        let ports = free_ports(6);
        let (acme_port, management_port, http_port, tls_port) = (ports[0], ports[1], ports[2], ports[3]);
        let (dns_port, challtestsrv_management) = (ports[4], ports[5]);
        let mut config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{management_port}"),
            "certificate": dir.path().join("srv.pem"),
            "privateKey": dir.path().join("srv.key"),
            "httpPort": http_port,
            "tlsPort": tls_port,
        }});
        if let (Some(settings), Some(more)) = (config["pebble"].as_object_mut(), extra.as_object()) {
            settings.extend(more.clone());
        }
        std::fs::write(dir.path().join("pebble.json"), config.to_string()).expect("write pebble.json");

        let dns = format!("127.0.0.1:{dns_port}");
        let management = format!("127.0.0.1:{challtestsrv_management}");
        let challtestsrv = spawn_logged(
            "pebble-challtestsrv",
            &[
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-defaultIPv6",
                "",
                "-dns01",
                &dns,
                "-management",
                &management,
            ],
            &[],
            &dir.path().join("challtestsrv.log"),
        );
        let mut envs = vec![("PEBBLE_VA_NOSLEEP", "1")];
        envs.extend_from_slice(env);
        let config_path = dir.path().join("pebble.json").display().to_string();
        let resolver = dns_server.unwrap_or(&dns).to_owned();
        let pebble = spawn_logged(
            "pebble",
            &["-config", &config_path, "-dnsserver", &resolver],
            &envs,
            &dir.path().join("pebble.log"),
        );
        let pebble = Pebble {
            directory_url: format!("https://127.0.0.1:{acme_port}/dir"),
            http_port,
            management_port,
            challtestsrv_management,
            guards: vec![challtestsrv, pebble],
            dir,
        };
        wait_until(Duration::from_secs(20), "pebble", || {
            std::net::TcpStream::connect(("127.0.0.1", acme_port)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", challtestsrv_management)).is_ok()
        });
        pebble
    }

    /// The throwaway CA that signed pebble's own HTTPS certificate.
    pub fn tls_ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A bundle trusting both pebble's HTTPS and the root it issues under
    /// (so issued chains check as `valid`).
    pub fn trust_bundle(&self) -> PathBuf {
        let root = self.fetch(&format!("https://127.0.0.1:{}/roots/0", self.management_port));
        let mut bundle = std::fs::read_to_string(self.tls_ca()).expect("ca.pem");
        bundle.push_str(&root);
        let path = self.dir.path().join("bundle.pem");
        std::fs::write(&path, bundle).expect("write bundle");
        path
    }

    /// GETs `url` from pebble with curl, trusting its CA.
    pub fn fetch(&self, url: &str) -> String {
        let output = Command::new("curl")
            .args(["-sS", "--fail", "--cacert"])
            .arg(self.tls_ca())
            .arg(url)
            .output()
            .expect("curl is not installed: run `make setup`");
        assert!(output.status.success(), "GET {url}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A DNS-01 hook script that sets and clears TXT records in pebble's DNS server.
    pub fn dns_hook(&self) -> PathBuf {
        let path = self.dir.path().join("dns-hook.sh");
        let script = format!(
            "#!/bin/sh\nset -e\nbase=http://127.0.0.1:{port}\n\
             case \"$OPSDECK_DNS_ACTION\" in\n\
             set) curl -sSf -X POST -d \"{{\\\"host\\\":\\\"$OPSDECK_DNS_NAME\\\",\\\"value\\\":\\\"$OPSDECK_DNS_VALUE\\\"}}\" $base/set-txt ;;\n\
             remove) curl -sSf -X POST -d \"{{\\\"host\\\":\\\"$OPSDECK_DNS_NAME\\\"}}\" $base/clear-txt ;;\n\
             esac\n",
            port = self.challtestsrv_management
        );
        std::fs::write(&path, script).expect("write hook");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod hook");
        }
        path
    }

    /// The directory holding pebble's files (for a test's own extras).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for guard in &mut self.guards {
            let _ = Command::new("kill").arg("-TERM").arg(guard.id().to_string()).status();
            let _ = guard.wait();
        }
    }
}
