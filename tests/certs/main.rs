//! Certificates through the `opsdeck` command line against real servers:
//! Debian's pebble as the ACME CA (HTTP-01 through our responder, DNS-01
//! through a script hook into pebble's DNS server), openssl's TLS server for
//! probes, and a webhook receiver for expiry warnings. The one stand-in is
//! named so: a small ACME directory that adds a `renewalInfo` endpoint
//! (pebble 2.4 has no ARI), in front of the real pebble.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use opsdeck_tests::http_server::{Scripted, ScriptedServer};
use opsdeck_tests::opsdeck_command;
use opsdeck_tests::pebble::Pebble;
use opsdeck_tests::process::{free_port, spawn_tied_to_this_process, stop, wait_until};
use opsdeck_tests::testpki::{self, now_ms as chrono_now_ms};
use serde_json::Value;

const PASSPHRASE: &str = "certificate test passphrase";
const DAY: i64 = 86_400_000;

struct Cli<'a> {
    dir: &'a Path,
    database_url: Option<String>,
}

impl<'a> Cli<'a> {
    fn new(dir: &'a Path) -> Cli<'a> {
        Cli { dir, database_url: None }
    }

    fn run(&self, args: &[&str]) -> Output {
        opsdeck_command()
            .arg("--data-dir")
            .arg(self.dir)
            .args(args)
            .env("OPSDECK_DATABASE_URL", self.database_url.as_deref().unwrap_or(""))
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let output = self.run(&[&["--json"], args].concat());
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    /// `opsdeck serve` on this data dir (stop it with [`stop`]).
    fn serve(&self) -> std::process::Child {
        let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
        let data_dir = self.dir.display().to_string();
        let database_url = self.database_url.clone().unwrap_or_default();
        spawn_tied_to_this_process(
            &binary,
            &["--data-dir", &data_dir, "serve"],
            &[
                ("OPSDECK_PASSPHRASE", PASSPHRASE),
                ("OPSDECK_DATABASE_URL", &database_url),
                ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
            ],
            "TERM",
            None,
        )
    }

    /// Waits (up to a minute) until certificate `id` has a serial other than
    /// `old_serial` and is active again; returns its detail.
    fn wait_for_renewal(&self, id: &str, old_serial: &Value, what: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let detail = self.ok(&["cert", "show", id]);
            if detail["certificate"]["serial"] != *old_serial && detail["certificate"]["state"] == "active" {
                return detail;
            }
            assert!(Instant::now() < deadline, "{what}: {detail}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Stores `value` as secret `reference` (through stdin, as a user would).
    fn set_secret(&self, reference: &str, secret_type: &str, value: &str) {
        let mut child = opsdeck_command()
            .arg("--data-dir")
            .arg(self.dir)
            .args(["secret", "set", reference, "--type", secret_type, "--value-stdin"])
            .env("OPSDECK_DATABASE_URL", self.database_url.as_deref().unwrap_or(""))
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(value.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success(), "secret set {reference}");
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {}", stderr(&output));
        stderr(&output)
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn with_vault(dir: &Path) -> Cli<'_> {
    let cli = Cli::new(dir);
    cli.ok(&["vault", "init", "tls", "--no-keychain"]);
    cli
}

/// `cert issue` arguments for pebble with the given names and challenge.
fn issue_args<'a>(
    pebble: &'a Pebble,
    bundle: &'a str,
    http_port: &'a str,
    domains: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "cert",
        "issue",
        "--acme-directory",
        &pebble.directory_url,
        "--email",
        "ops@example.test",
        "--ca-bundle",
        bundle,
        "--vault",
        "tls",
        "--http-port",
        http_port,
    ];
    for domain in domains {
        args.extend(["--domain", domain]);
    }
    args
}

fn history_states(cli: &Cli<'_>, id: &str) -> Vec<String> {
    let detail = cli.ok(&["cert", "show", id]);
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["state"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn issues_a_two_name_certificate_over_http01_with_the_key_sealed_then_renews_and_revokes_it() {
    let pebble = Pebble::start(&[]);
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let out = dir.path().join("deployed");
    let (fullchain, key) = (out.join("fullchain.pem"), out.join("key.pem"));
    let port = pebble.http_port.to_string();
    let mut args = issue_args(&pebble, &bundle, &port, &["a.example.test", "b.example.test"]);
    let (fullchain_text, key_text) = (fullchain.display().to_string(), key.display().to_string());
    args.extend([
        "--deploy-fullchain",
        &fullchain_text,
        "--deploy-key",
        &key_text,
        "--deploy-command",
        "test -s \"$OPSDECK_FULLCHAIN_PATH\" && touch \"$OPSDECK_KEY_PATH.reloaded\"",
    ]);
    let issued = cli.ok(&args);
    let id = issued["id"].as_str().unwrap().to_owned();
    assert_eq!(issued["state"], "active", "{issued}");
    assert_eq!(issued["sans"], serde_json::json!(["a.example.test", "b.example.test"]));
    assert_eq!(issued["chain_status"], "valid", "{issued}");
    assert_eq!(issued["key_type"], "ECDSA P-256");
    assert!(issued["days_left"].as_i64().unwrap() > 1000, "pebble issues 5-year certificates: {issued}");
    // Renewal is due when a third of the lifetime remains (less up to a day of jitter).
    let (not_before, not_after) =
        (issued["not_before"].as_i64().unwrap(), issued["not_after"].as_i64().unwrap());
    let expected = not_after - (not_after - not_before) / 3;
    let next = issued["next_renewal_at"].as_i64().unwrap();
    assert!(next <= expected + 1000 && next >= expected - DAY, "{next} vs {expected}");

    // The key lives in the vault; the deploy hook wrote it 0600 and ran the command.
    let sealed = cli.ok(&["secret", "get", &format!("tls/tls-key-{id}")]);
    assert!(sealed["value"].as_str().unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), sealed["value"].as_str().unwrap());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&fullchain).unwrap().matches("BEGIN CERTIFICATE").count() >= 2);
    assert!(out.join("key.pem.reloaded").exists(), "the deploy command ran");

    // The CLI contract's list shape.
    let list = cli.ok(&["cert", "list"]);
    for field in ["id", "subject", "sans", "issuer", "not_after", "days_left", "state", "source"] {
        assert!(list[0].get(field).is_some(), "cert list lacks {field}: {list}");
    }
    assert_eq!(list[0]["source"], "acme");

    // Renew: a new certificate and a new key version; history shows the way.
    let renewed = cli.ok(&["cert", "renew", &id]);
    assert_ne!(renewed["serial"], issued["serial"]);
    assert_eq!(renewed["state"], "active");
    assert_eq!(cli.ok(&["secret", "show", &format!("tls/tls-key-{id}")])["version"], 2);
    let states = history_states(&cli, &id);
    assert_eq!(states.first().map(String::as_str), Some("requested"));
    for state in ["issuing", "issued", "active", "renewing"] {
        assert!(states.iter().any(|seen| seen == state), "{state} missing from {states:?}");
    }

    // Renewal at half the lifetime; the deploy hook removed (renewals write nothing more).
    let configured = cli.ok(&["cert", "configure", &id, "--renew-remaining", "0.5", "--no-deploy"]);
    let (not_before, not_after) =
        (configured["not_before"].as_i64().unwrap(), configured["not_after"].as_i64().unwrap());
    let half = not_after - (not_after - not_before) / 2;
    let next = configured["next_renewal_at"].as_i64().unwrap();
    assert!(next <= half + 1000 && next >= half - DAY, "{next} vs {half}");
    assert!(configured["managed"]["deploy"]["fullchain_path"].is_null(), "{configured}");
    assert!(cli.fails(&["cert", "configure", &id, "--renew-remaining", "1.5"], 2).contains("fraction"));
    assert!(cli
        .fails(&["cert", "configure", &id, "--deploy-key", "relative/key.pem"], 2)
        .contains("absolute"));

    // Revoke at the CA; a second revoke and a renewal are refused clearly.
    let revoked = cli.ok(&["cert", "revoke", &id, "--reason", "superseded"]);
    assert_eq!(revoked["state"], "revoked");
    assert!(cli.fails(&["cert", "revoke", &id], 2).contains("already revoked"));
    assert!(cli.fails(&["cert", "renew", &id], 2).contains("revoked"));
    // An unknown reason is refused by the flag, which lists the reasons.
    let refused = cli.fails(&["cert", "revoke", &id, "--reason", "bored"], 2);
    assert!(refused.contains("'bored'") && refused.contains("key-compromise"), "{refused}");
}

#[test]
fn issues_a_wildcard_over_dns01_through_a_script_hook_with_an_rsa_key() {
    let pebble = Pebble::start(&[("PEBBLE_AUTHZREUSE", "0")]);
    let bundle = pebble.trust_bundle().display().to_string();
    let hook = pebble.dns_hook().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let port = pebble.http_port.to_string();
    // A wildcard over http-01 is refused before anything is sent.
    let refused = cli.fails(&issue_args(&pebble, &bundle, &port, &["*.wild.example.test"]), 2);
    assert!(refused.contains("dns-01"), "{refused}");

    let mut args = issue_args(&pebble, &bundle, &port, &["*.wild.example.test", "wild.example.test"]);
    args.extend(["--challenge", "dns-01", "--dns-hook", &hook, "--key", "rsa2048"]);
    let issued = cli.ok(&args);
    assert_eq!(issued["sans"], serde_json::json!(["*.wild.example.test", "wild.example.test"]));
    assert_eq!(issued["key_type"], "RSA 2048");
    assert_eq!(issued["state"], "active");

    // A hook that fails is reported with its own words, and no key is kept.
    let mut args = issue_args(&pebble, &bundle, &port, &["*.other.example.test"]);
    args.extend(["--challenge", "dns-01", "--dns-hook", "echo 'zone is read-only' >&2; exit 3"]);
    let error = cli.fails(&args, 1);
    assert!(error.contains("zone is read-only") && error.contains("code 3"), "{error}");
}

#[test]
fn issuance_gets_through_rejected_nonces_and_a_failed_validation_leaves_a_clear_error_and_no_key() {
    let pebble = Pebble::start(&[("PEBBLE_WFE_NONCEREJECT", "40")]);
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let port = pebble.http_port.to_string();
    for round in 0..3 {
        let name = format!("n{round}.example.test");
        let issued = cli.ok(&issue_args(&pebble, &bundle, &port, &[&name, "www.example.test"]));
        assert_eq!(issued["state"], "active", "{issued}");
    }

    // Our responder listens where pebble does not look: validation fails,
    // and the failure goes to the notification targets.
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    cli.ok(&["notify", "add", "ops", "--url", &receiver.url("/hook")]);
    let wrong_port = opsdeck_tests::process::free_ports(2)
        .into_iter()
        .find(|port| *port != pebble.http_port)
        .unwrap()
        .to_string();
    let error = cli.fails(&issue_args(&pebble, &bundle, &wrong_port, &["lost.example.test"]), 1);
    assert!(error.contains("validation failed") && error.contains("lost.example.test"), "{error}");
    assert!(error.contains("urn:ietf:params:acme:error"), "the CA's error type is kept: {error}");
    let list = cli.ok(&["cert", "list"]);
    let failed: Vec<&Value> =
        list.as_array().unwrap().iter().filter(|cert| cert["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{list}");
    let id = failed[0]["id"].as_str().unwrap();
    let detail = cli.ok(&["cert", "show", id]);
    assert!(detail["certificate"]["last_error"].as_str().unwrap().contains("connection"), "{detail}");
    let secrets = cli.ok(&["secret", "list", "tls"]);
    let keys =
        secrets.as_array().unwrap().iter().filter(|secret| secret["name"] == format!("tls-key-{id}")).count();
    assert_eq!(keys, 0, "no orphaned key for a failed order: {secrets}");
    let failures: Vec<Value> = receiver
        .received()
        .into_iter()
        .filter_map(|request| serde_json::from_slice::<Value>(&request.body).ok())
        .filter(|body| body["event"] == "cert.failed")
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["data"]["id"], id);
    assert!(failures[0]["data"]["error"].as_str().unwrap().contains("lost.example.test"));

    // Retrying with the right port succeeds for the same certificate.
    let retried = Cli::new(dir.path());
    let output = retried.run(&["--json", "cert", "renew", id]);
    assert_eq!(output.status.code(), Some(1), "still the wrong port: {}", stderr(&output));
}

#[test]
fn the_scheduler_renews_a_due_certificate_on_its_own() {
    let pebble = Pebble::start(&[]);
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let port = pebble.http_port.to_string();
    // Renew when all of the lifetime remains: due at once (pebble's are 5-year certificates).
    let mut args = issue_args(&pebble, &bundle, &port, &["auto.example.test"]);
    args.extend(["--renew-remaining", "1"]);
    let issued = cli.ok(&args);
    let id = issued["id"].as_str().unwrap().to_owned();
    assert!(issued["next_renewal_at"].as_i64().unwrap() <= issued["not_before"].as_i64().unwrap());

    let mut serve = cli.serve();
    let renewed = cli.wait_for_renewal(&id, &issued["serial"], "the scheduler did not renew");
    stop(&mut serve);
    let renewing: Vec<&Value> =
        renewed["history"].as_array().unwrap().iter().filter(|event| event["state"] == "renewing").collect();
    assert!(!renewing.is_empty() && renewing[0]["actor"] == "scheduler", "{renewed}");
    let runs = cli.ok(&["jobs", "runs", &format!("cert-renew:{id}")]);
    assert!(runs.as_array().unwrap().iter().any(|run| run["outcome"] == "ok"), "{runs}");
}

#[test]
fn the_cas_renewal_information_sets_the_renewal_time_through_an_ari_stand_in() {
    let pebble = Pebble::start(&[]);
    let bundle = pebble.trust_bundle().display().to_string();
    // The stand-in: pebble's directory plus `renewalInfo`, answered with a
    // window 10–11 days from now and a Retry-After, as RFC 9773 describes.
    let mut directory: Value = serde_json::from_str(&pebble.fetch(&pebble.directory_url)).unwrap();
    let stand_in_port = free_port();
    directory["renewalInfo"] = Value::String(format!("http://127.0.0.1:{stand_in_port}/renewal-info"));
    let directory_path = pebble.dir().join("ari-directory.json");
    std::fs::write(&directory_path, directory.to_string()).unwrap();
    // The window, in days from now; the test moves it later.
    let offsets = pebble.dir().join("ari-window.json");
    std::fs::write(&offsets, "[10, 11]").unwrap();
    let script = format!(
        r#"
import http.server, json, datetime
def window():
    start, end = json.load(open({offsets:?}))
    now = datetime.datetime.now(datetime.timezone.utc)
    day = lambda offset: (now + datetime.timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {{"suggestedWindow": {{"start": day(start), "end": day(end)}}}}
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/dir":
            body = open({path:?}).read().encode()
        elif self.path.startswith("/renewal-info/"):
            body = json.dumps(window()).encode()
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "21600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", {stand_in_port}), Handler).serve_forever()
"#,
        path = directory_path.display().to_string(),
        offsets = offsets.display().to_string()
    );
    let mut stand_in = spawn_tied_to_this_process("python3", &["-c", &script], &[], "TERM", None);
    wait_until(Duration::from_secs(10), "the ARI stand-in", || {
        std::net::TcpStream::connect(("127.0.0.1", stand_in_port)).is_ok()
    });

    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let stand_in_directory = format!("http://127.0.0.1:{stand_in_port}/dir");
    let port = pebble.http_port.to_string();
    let issued = cli.ok(&[
        "cert",
        "issue",
        "--acme-directory",
        &stand_in_directory,
        "--email",
        "ops@example.test",
        "--ca-bundle",
        &bundle,
        "--vault",
        "tls",
        "--http-port",
        &port,
        "--domain",
        "ari.example.test",
    ]);
    let now = chrono_now_ms();
    let next = issued["next_renewal_at"].as_i64().unwrap();
    assert!(
        next >= now + 10 * DAY - 60_000 && next <= now + 11 * DAY + 60_000,
        "inside the CA's window: {issued}"
    );
    let detail = cli.ok(&["cert", "show", issued["id"].as_str().unwrap()]);
    let last = detail["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["message"].as_str().unwrap().contains("suggested window"), "{last}");

    // The CA now wants it renewed at once (as after a mass revocation): the
    // renewal job's next check sees the new window and renews.
    std::fs::write(&offsets, "[-2, -1]").unwrap();
    let id = issued["id"].as_str().unwrap().to_owned();
    let mut serve = cli.serve();
    cli.ok(&["jobs", "run", &format!("cert-renew:{id}")]);
    let renewed =
        cli.wait_for_renewal(&id, &issued["serial"], "the CA's new window did not lead to a renewal");
    stop(&mut serve);
    let messages: Vec<&str> = renewed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|message| message.contains("renewal information moved")), "{messages:?}");
    stop(&mut stand_in);
}

#[test]
fn imports_name_each_files_problem_precisely_and_keep_what_is_good() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("certs");
    std::fs::create_dir(&files).unwrap();
    let pki = testpki::Pki::new();
    let now = chrono_now_ms();
    std::fs::write(files.join("root.pem"), pki.root_pem()).unwrap();
    std::fs::write(files.join("good.pem"), pki.leaf_chain("good.example.test", now - DAY, now + 60 * DAY))
        .unwrap();
    std::fs::write(files.join("expired.crt"), pki.leaf_chain("old.example.test", now - 90 * DAY, now - DAY))
        .unwrap();
    std::fs::write(
        files.join("future.pem"),
        pki.leaf_chain("soon.example.test", now + 5 * DAY, now + 90 * DAY),
    )
    .unwrap();
    std::fs::write(files.join("selfsigned.pem"), testpki::self_signed("self.example.test")).unwrap();
    std::fs::write(files.join("broken-chain.pem"), pki.leaf_only("orphan.example.test")).unwrap();
    std::fs::write(files.join("leaf.der"), pki.leaf_der("der.example.test")).unwrap();
    std::fs::write(files.join("garbage.pem"), b"this is not a certificate\n").unwrap();
    let whole = pki.leaf_chain("cut.example.test", now - DAY, now + DAY);
    std::fs::write(files.join("truncated.pem"), &whole[..whole.len() / 2]).unwrap();
    std::fs::write(files.join("notes.txt"), "skipped: not a certificate file name").unwrap();
    let (_, key) = pki.leaf_with_key("key.example.test", now, now + DAY);
    std::fs::write(files.join("server.key.pem"), key).unwrap();
    let bundle = files.join("root.pem").display().to_string();

    let cli = Cli::new(dir.path());
    let output = cli.run(&["--json", "cert", "import", files.to_str().unwrap(), "--ca-bundle", &bundle]);
    assert_eq!(output.status.code(), Some(2), "problems make exit code 2: {}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    let problem = |file: &str| {
        problems.iter().find(|problem| problem["path"].as_str().unwrap().ends_with(file)).unwrap()["error"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(problems.len(), 2, "{report}");
    assert_eq!(
        report["skipped"].as_array().unwrap().len(),
        1,
        "a key beside the certificates is passed over: {report}"
    );
    assert!(report["skipped"][0]["error"].as_str().unwrap().contains("private key"));
    assert!(problem("garbage.pem").contains("neither PEM nor a DER certificate"), "{report}");
    assert!(problem("truncated.pem").contains("truncated"), "{report}");

    let status_of = |name: &str| {
        let list = cli.ok(&["cert", "list"]);
        list.as_array()
            .unwrap()
            .iter()
            .find(|cert| cert["sans"].as_array().is_some_and(|sans| sans.iter().any(|san| san == name)))
            .unwrap_or_else(|| panic!("{name} not imported: {list}"))
            .clone()
    };
    assert_eq!(status_of("good.example.test")["chain_status"], "valid");
    assert_eq!(status_of("good.example.test")["state"], "active");
    assert_eq!(status_of("old.example.test")["chain_status"], "expired");
    assert_eq!(status_of("old.example.test")["state"], "expired");
    assert!(status_of("old.example.test")["days_left"].as_i64().unwrap() < 0);
    assert_eq!(status_of("soon.example.test")["chain_status"], "not_yet_valid");
    assert_eq!(status_of("self.example.test")["chain_status"], "self_signed");
    assert_eq!(status_of("orphan.example.test")["chain_status"], "untrusted");
    assert_eq!(status_of("der.example.test")["source"], "file");

    // Filters for scripts: what expires within 30 days (the expired included), by source.
    let soon = cli.ok(&["cert", "list", "--expiring-within", "30"]);
    let names: Vec<&str> =
        soon.as_array().unwrap().iter().map(|cert| cert["sans"][0].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"old.example.test"), "{soon}");
    assert!(!names.contains(&"good.example.test") && names.contains(&"orphan.example.test"), "{soon}");
    assert_eq!(cli.ok(&["cert", "list", "--state", "expired"]).as_array().unwrap().len(), 1);
    assert_eq!(cli.ok(&["cert", "list", "--source", "endpoint"]), serde_json::json!([]));

    // Named directly, a key file is an input error (it holds no certificate); so is a bad file.
    let key_file = files.join("server.key.pem").display().to_string();
    assert!(cli.fails(&["cert", "import", &key_file], 2).contains("a key or CSR alone"));
    // Importing again adds nothing new.
    let garbage = files.join("garbage.pem").display().to_string();
    assert!(cli.fails(&["cert", "import", &garbage], 2).contains("garbage.pem"));
    let before = cli.ok(&["cert", "list"]).as_array().unwrap().len();
    let good = files.join("good.pem").display().to_string();
    cli.ok(&["cert", "import", &good, "--ca-bundle", &bundle]);
    assert_eq!(cli.ok(&["cert", "list"]).as_array().unwrap().len(), before);
    assert!(cli.fails(&["cert", "import", "/no/such/file.pem"], 2).contains("/no/such/file.pem"));
}

#[test]
fn probes_record_the_served_chain_and_check_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = testpki::Pki::new();
    let now = chrono_now_ms();
    let (leaf, key) = pki.leaf_with_key("localhost", now - DAY, now + 20 * DAY);
    std::fs::write(dir.path().join("leaf.pem"), leaf).unwrap();
    std::fs::write(dir.path().join("leaf.key"), key).unwrap();
    std::fs::write(dir.path().join("chain.pem"), pki.intermediate_pem()).unwrap();
    std::fs::write(dir.path().join("root.pem"), pki.root_pem()).unwrap();
    let port = free_port();
    let accept = format!("127.0.0.1:{port}");
    let server_dir = dir.path().display().to_string();
    let mut server = spawn_tied_to_this_process(
        "sh",
        &["-c", &format!(
            "cd {server_dir} && exec openssl s_server -quiet -www -accept {accept} -cert leaf.pem -key leaf.key -cert_chain chain.pem"
        )],
        &[],
        "TERM",
        None,
    );
    wait_until(Duration::from_secs(10), "openssl s_server", || std::net::TcpStream::connect(&accept).is_ok());
    let cli = Cli::new(dir.path());
    let endpoint = format!("localhost:{port}");
    let untrusted = cli.ok(&["cert", "probe", &endpoint]);
    assert_eq!(untrusted["chain_status"], "untrusted", "{untrusted}");
    let root = dir.path().join("root.pem").display().to_string();
    let trusted = cli.ok(&["cert", "probe", &endpoint, "--ca-bundle", &root, "--servername", "localhost"]);
    assert_eq!(trusted["chain_status"], "valid", "{trusted}");
    assert_eq!(trusted["id"], untrusted["id"], "the same certificate, seen again");
    assert_eq!(trusted["days_left"], 19);
    let detail = cli.ok(&["cert", "show", trusted["id"].as_str().unwrap()]);
    assert_eq!(detail["chain"].as_array().unwrap().len(), 2, "leaf and intermediate: {detail}");
    assert!(detail["certificate"]["locations"][0]["location"].as_str().unwrap().contains(&port.to_string()));

    let closed = format!("127.0.0.1:{}", free_port());
    let error = cli.fails(&["cert", "probe", &closed], 1);
    assert!(error.contains("cannot connect"), "{error}");
    assert!(cli.fails(&["cert", "probe", "no-port:http"], 2).contains("HOST:PORT"));
    stop(&mut server);
}

#[test]
fn expiry_warnings_go_to_the_webhook_once_per_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let pki = testpki::Pki::new();
    let now = chrono_now_ms();
    let file = dir.path().join("soon.pem");
    std::fs::write(&file, pki.leaf_chain("soon.example.test", now - 80 * DAY, now + 5 * DAY + 3_600_000))
        .unwrap();
    let cli = Cli::new(dir.path());
    cli.ok(&["cert", "import", file.to_str().unwrap()]);
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    cli.ok(&["notify", "add", "ops", "--url", &receiver.url("/hook")]);
    cli.ok(&["cert", "alerts", "--days", "30,14,7"]);

    let mut serve = cli.serve();
    let warnings = || {
        receiver
            .received()
            .into_iter()
            .filter_map(|request| serde_json::from_slice::<Value>(&request.body).ok())
            .filter(|body| body["event"] == "cert.expiring")
            .collect::<Vec<Value>>()
    };
    wait_until(Duration::from_secs(30), "an expiry warning", || !warnings().is_empty());
    // Once that check has finished, run it again: the 7-day warning was already sent.
    let finished_runs = || {
        let runs = cli.ok(&["jobs", "runs", "cert-expiry-check"]);
        let finished =
            runs.as_array().unwrap().iter().filter(|run| !run["finished_at_unix_ms"].is_null()).count();
        (finished, runs)
    };
    wait_until(Duration::from_secs(30), "the first check to finish", || finished_runs().0 >= 1);
    cli.ok(&["jobs", "run", "cert-expiry-check"]);
    wait_until(Duration::from_secs(30), "the second check", || finished_runs().0 >= 2);
    let (_, runs) = finished_runs();
    assert!(runs[0]["message"].as_str().unwrap().starts_with("0 expiry warnings"), "{runs}");
    stop(&mut serve);
    let sent = warnings();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["data"]["threshold_days"], 7);
    assert_eq!(sent[0]["data"]["days_left"], 5);
}

#[test]
fn issues_a_wildcard_over_dns01_through_rfc2136_updates_to_a_real_bind_server() {
    let bind = opsdeck_tests::bind::BindServer::start("example.test");
    let pebble = Pebble::start_resolving_through(&[("PEBBLE_AUTHZREUSE", "0")], Some(&bind.address));
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    // The TSIG secret lives in the vault, like every other secret.
    cli.set_secret("tls/tsig", "encryption_key", &bind.key_secret);
    let port = pebble.http_port.to_string();
    let dns_args = |domain: &'static str| {
        let mut args = issue_args(&pebble, &bundle, &port, &[domain]);
        args.extend([
            "--challenge",
            "dns-01",
            "--dns-server",
            &bind.address,
            "--dns-zone",
            "example.test",
            "--tsig-key",
            &bind.key_name,
            "--tsig-secret",
            "tls/tsig",
        ]);
        args
    };
    let issued = cli.ok(&dns_args("*.rfc.example.test"));
    assert_eq!(issued["sans"], serde_json::json!(["*.rfc.example.test"]));
    assert_eq!(issued["state"], "active");

    // A wrong TSIG secret: BIND refuses the update and the error says why.
    cli.set_secret("tls/tsig", "encryption_key", "d3JvbmcgdHNpZyBzZWNyZXQgd3JvbmcgdHNpZyBzZWNyZXQ=");
    let error = cli.fails(&dns_args("*.other.example.test"), 1);
    assert!(error.contains("NOTAUTH"), "{error}");
}

#[test]
fn certificates_live_in_postgresql_as_well() {
    let pebble = Pebble::start(&[]);
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), database_url: Some(opsdeck_tests::postgres::shared().fresh_database()) };
    cli.ok(&["vault", "init", "tls", "--no-keychain"]);
    let port = pebble.http_port.to_string();
    let issued = cli.ok(&issue_args(&pebble, &bundle, &port, &["pg.example.test", "www.pg.example.test"]));
    let id = issued["id"].as_str().unwrap().to_owned();
    assert_eq!(issued["state"], "active");
    cli.ok(&["cert", "renew", &id]);
    let pki = testpki::Pki::new();
    let now = chrono_now_ms();
    let file = dir.path().join("old.pem");
    std::fs::write(&file, pki.leaf_chain("old.example.test", now - 90 * DAY, now - DAY)).unwrap();
    cli.ok(&["cert", "import", file.to_str().unwrap()]);
    let list = cli.ok(&["cert", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["state"], "expired", "soonest expiry first: {list}");
    assert!(history_states(&cli, &id).iter().any(|state| state == "renewing"));
    assert!(!dir.path().join("opsdeck.db").exists(), "nothing went to SQLite");
    cli.ok(&["cert", "rm", &id]);
    assert_eq!(cli.ok(&["cert", "list"]).as_array().unwrap().len(), 1);
}

#[test]
fn issues_over_a_webroot_with_a_p384_key_and_renews_only_what_is_due() {
    let pebble = Pebble::start(&[("PEBBLE_AUTHZREUSE", "0")]);
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    // The user's own web server serves the document root on the port pebble validates.
    let root = dir.path().join("www");
    std::fs::create_dir(&root).unwrap();
    let root_text = root.display().to_string();
    let port = pebble.http_port.to_string();
    let mut web = spawn_tied_to_this_process(
        "python3",
        &["-m", "http.server", "--bind", "127.0.0.1", "--directory", &root_text, &port],
        &[],
        "TERM",
        None,
    );
    wait_until(Duration::from_secs(10), "the web server", || {
        std::net::TcpStream::connect(("127.0.0.1", pebble.http_port)).is_ok()
    });
    let mut args = issue_args(&pebble, &bundle, &port, &["web.example.test", "www.web.example.test"]);
    args.extend(["--webroot", &root_text, "--key", "ecdsa-p384"]);
    let kept = cli.ok(&args);
    assert_eq!(kept["key_type"], "ECDSA P-384");
    let leftovers = std::fs::read_dir(root.join(".well-known/acme-challenge")).unwrap().count();
    assert_eq!(leftovers, 0, "the challenge files are removed afterwards");
    stop(&mut web);

    // One certificate due at once, one not: `renew --due` renews only the first.
    let mut args = issue_args(&pebble, &bundle, &port, &["due.example.test"]);
    args.extend(["--renew-remaining", "1"]);
    let due = cli.ok(&args);
    let outcomes = cli.ok(&["cert", "renew", "--due"]);
    assert_eq!(outcomes.as_array().unwrap().len(), 1, "{outcomes}");
    assert_eq!(outcomes[0]["id"], due["id"]);
    assert_eq!(outcomes[0]["renewed"], true, "{outcomes}");
    let not_due = cli.ok(&["cert", "show", kept["id"].as_str().unwrap()]);
    assert_eq!(not_due["certificate"]["serial"], kept["serial"], "not due, not renewed");
}

#[test]
fn a_ca_that_requires_external_account_binding_gets_it_from_the_vault() {
    // The HMAC key as CAs print it: base64url without padding.
    let hmac_key = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let pebble = Pebble::start_with_config(
        &[],
        serde_json::json!({
            "externalAccountBindingRequired": true,
            "externalAccountMACKeys": { "kid-opsdeck": hmac_key },
        }),
    );
    let bundle = pebble.trust_bundle().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let cli = with_vault(dir.path());
    let port = pebble.http_port.to_string();
    // Without the binding the CA refuses the account, in its own words.
    let error = cli.fails(&issue_args(&pebble, &bundle, &port, &["eab.example.test"]), 1);
    assert!(error.contains("externalAccountRequired") || error.contains("external account"), "{error}");

    cli.set_secret("tls/eab-hmac", "api_key", hmac_key);
    let mut args = issue_args(&pebble, &bundle, &port, &["eab.example.test"]);
    args.extend(["--eab-kid", "kid-opsdeck", "--eab-hmac-key", "tls/eab-hmac"]);
    let issued = cli.ok(&args);
    assert_eq!(issued["state"], "active");
    // A wrong key id is refused by the CA before any order.
    let mut args = issue_args(&pebble, &bundle, &port, &["eab2.example.test"]);
    let email = args.iter().position(|arg| *arg == "ops@example.test").unwrap();
    args[email] = "other@example.test";
    args.extend(["--eab-kid", "no-such-kid", "--eab-hmac-key", "tls/eab-hmac"]);
    let error = cli.fails(&args, 1);
    assert!(error.contains("ACME account failed"), "{error}");
}
