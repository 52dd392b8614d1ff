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
