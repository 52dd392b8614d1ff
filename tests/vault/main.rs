//! Vaults through the `opsdeck` command line: the CLI contract journey, wrong
//! passphrases, tampering with every sealed byte, swapped ciphertexts, the
//! keychain slot against a real Secret Service, and reveals that stop when the
//! audit trail cannot be written.

use std::path::Path;
use std::process::{Output, Stdio};

use opsdeck_tests::keychain::SecretService;
use opsdeck_tests::opsdeck_command;
use serde_json::Value;

const PASSPHRASE: &str = "vault test passphrase";

struct Cli<'a> {
    dir: &'a Path,
    passphrase: Option<&'a str>,
    env: Vec<(&'static str, String)>,
}

impl Cli<'_> {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = opsdeck_command();
        command
            .arg("--data-dir")
            .arg(self.dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match self.passphrase {
            Some(passphrase) => command.env("OPSDECK_PASSPHRASE", passphrase),
            None => command.env_remove("OPSDECK_PASSPHRASE"),
        };
        command.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        command.envs(self.env.iter().map(|(name, value)| (*name, value.as_str())));
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Value {
        let output = self.run(&[&["--json"], args].concat(), stdin);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sqlite(dir: &Path, sql: &str) {
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c = sqlite3.connect('{}'); c.executescript(\"\"\"{sql}\"\"\"); c.commit()",
            dir.join("opsdeck.db").display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "{sql}");
}

/// Flips the lowest bit of byte `index` (negative: from the end) of secret `a`'s sealed column.
fn flip_bit(dir: &Path, column: &str, index: i64) {
    let script = format!(
        "import sqlite3\n\
         c = sqlite3.connect('{db}')\n\
         sid = c.execute(\"SELECT id FROM secrets WHERE name = 'a'\").fetchone()[0]\n\
         b = bytearray(c.execute('SELECT {column} FROM secret_versions WHERE secret_id = ?', (sid,)).fetchone()[0])\n\
         b[{index}] ^= 1\n\
         c.execute('UPDATE secret_versions SET {column} = ? WHERE secret_id = ?', (bytes(b), sid))\n\
         c.commit()\n",
        db = dir.join("opsdeck.db").display()
    );
    let status = std::process::Command::new("python3").arg("-c").arg(script).status().unwrap();
    assert!(status.success(), "flipping a bit of {column}");
}

#[test]
fn the_cli_journey_on_a_passphrase_only_vault() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    let vault = cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    assert_eq!(vault["slots"], serde_json::json!(["passphrase"]));
    cli.ok(
        &["secret", "set", "prod/db-password", "--type", "database_password", "--value-stdin"],
        Some("first value\n"),
    );
    let generated =
        cli.ok(&["secret", "set", "prod/api-key", "--type", "api_key", "--generate", "--length", "48"], None);
    assert_eq!(generated["version"], 1);

    let got = cli.ok(&["secret", "get", "prod/db-password"], None);
    assert_eq!(
        got,
        serde_json::json!({"vault": "prod", "name": "db-password", "version": 1, "type": "database_password", "value": "first value"})
    );
    let api = cli.ok(&["secret", "get", "prod/api-key"], None);
    assert_eq!(api["value"].as_str().unwrap().len(), 48);

    let list = cli.ok(&["secret", "list"], None);
    let names: Vec<_> =
        list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["api-key", "db-password"]);
    assert!(list.as_array().unwrap().iter().all(|s| s.get("value").is_none() && s["updated_at"].is_number()));

    cli.ok(
        &["secret", "set", "prod/db-password", "--type", "database_password", "--value-stdin"],
        Some("second value"),
    );
    let history = cli.ok(&["secret", "history", "prod/db-password"], None);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["current"], true);
    assert_eq!(
        cli.ok(&["secret", "get", "prod/db-password", "--version", "1"], None)["value"],
        "first value"
    );
    let rolled = cli.ok(&["secret", "rollback", "prod/db-password", "--to", "1"], None);
    assert_eq!(rolled["version"], 3);
    assert_eq!(cli.ok(&["secret", "get", "prod/db-password"], None)["value"], "first value");

    cli.ok(&["secret", "rm", "prod/api-key"], None);
    let gone = cli.run(&["secret", "get", "prod/api-key"], None);
    assert_eq!(gone.status.code(), Some(2));
    assert!(stderr(&gone).contains("there is no secret `prod/api-key`"));

    // Every change and reveal is in the audit trail, attributed to the CLI user.
    let audit = cli.ok(&["audit", "log", "--action", "secret."], None);
    let actions: Vec<_> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"secret.reveal")
            && actions.contains(&"secret.rollback")
            && actions.contains(&"secret.remove")
    );
    assert_eq!(cli.ok(&["audit", "verify"], None)["ok"], true);
}

#[test]
fn a_wrong_passphrase_is_refused_with_exit_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/token", "--type", "oauth_token", "--value-stdin"], Some("tok"));

    let wrong = Cli { dir: dir.path(), passphrase: Some("not it"), env: Vec::new() };
    for args in [
        &["secret", "get", "prod/token"][..],
        &["secret", "set", "prod/token", "--type", "oauth_token", "--value-stdin"],
    ] {
        let output = wrong.run(args, Some("overwritten?"));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("wrong passphrase"), "{}", stderr(&output));
        assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    }
    let none = Cli { dir: dir.path(), passphrase: None, env: Vec::new() };
    let locked = none.run(&["secret", "get", "prod/token"], None);
    assert_eq!(locked.status.code(), Some(2));
    assert!(stderr(&locked).contains("OPSDECK_PASSPHRASE"), "{}", stderr(&locked));

    let got = cli.ok(&["secret", "get", "prod/token"], None);
    assert_eq!((got["value"].as_str(), got["version"].as_i64()), (Some("tok"), Some(1)));
}

#[test]
fn every_changed_sealed_byte_and_every_swapped_ciphertext_is_an_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/a", "--type", "generic", "--value-stdin"], Some("value of a"));
    cli.ok(&["secret", "set", "prod/b", "--type", "generic", "--value-stdin"], Some("value of b"));
    let assert_integrity_error = |what: &str| {
        let output = cli.run(&["secret", "get", "prod/a"], None);
        assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(&output));
        assert!(stderr(&output).contains("failed its integrity check"), "{what}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"));
        assert!(output.stdout.is_empty(), "{what}: something was revealed");
    };
    let a = "(SELECT id FROM secrets WHERE name = 'a')";
    // Flip one bit of the nonce, of the first ciphertext byte and of the last (tag) byte,
    // each time restoring the original afterwards.
    for (what, column, index) in
        [("nonce", "nonce", 0_i64), ("ciphertext", "ciphertext", 0), ("tag", "ciphertext", -1)]
    {
        flip_bit(dir.path(), column, index);
        assert_integrity_error(what);
        flip_bit(dir.path(), column, index);
        assert_eq!(
            cli.ok(&["secret", "get", "prod/a"], None)["value"],
            "value of a",
            "restored after {what}"
        );
    }
    // The version the AAD binds.
    sqlite(dir.path(), &format!("UPDATE secret_versions SET version = 2 WHERE secret_id = {a}; UPDATE secrets SET current_version = 2 WHERE id = {a}"));
    assert_integrity_error("version");
    sqlite(dir.path(), &format!("UPDATE secret_versions SET version = 1 WHERE secret_id = {a}; UPDATE secrets SET current_version = 1 WHERE id = {a}"));
    assert_eq!(cli.ok(&["secret", "get", "prod/a"], None)["value"], "value of a");
    // Swapping two secrets' sealed rows is detected (the AAD binds the secret id).
    sqlite(
        dir.path(),
        &format!(
            "UPDATE secret_versions SET nonce = (SELECT nonce FROM secret_versions WHERE secret_id = (SELECT id FROM secrets WHERE name = 'b')), \
             ciphertext = (SELECT ciphertext FROM secret_versions WHERE secret_id = (SELECT id FROM secrets WHERE name = 'b')) WHERE secret_id = {a}"
        ),
    );
    assert_integrity_error("swapped ciphertext");
    // The failed reveal is evidence: it is in the audit trail.
    let audit = cli.ok(&["audit", "log", "--action", "secret.reveal"], None);
    assert!(audit.as_array().unwrap().iter().any(|e| e["outcome"] == "failed"));
}

#[test]
fn a_reveal_stops_when_the_audit_trail_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/key", "--type", "api_key", "--value-stdin"], Some("k"));
    let last = cli.ok(&["audit", "log", "--limit", "1"], None)[0]["seq"].as_i64().unwrap();
    sqlite(dir.path(), &format!("DELETE FROM audit_log WHERE seq = {last}"));
    let output = cli.run(&["secret", "get", "prod/key"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "the value was served without an audit entry");
    assert!(stderr(&output).contains("tampered"), "{}", stderr(&output));
}

#[test]
fn a_keychain_vault_opens_without_a_passphrase_and_its_passphrase_slot_survives_losing_the_keychain() {
    let keychain = SecretService::start();
    let dir = tempfile::tempdir().unwrap();
    let with_keychain = Cli { dir: dir.path(), passphrase: None, env: keychain.env() };
    let vault = with_keychain.ok(&["vault", "init", "local"], None);
    assert_eq!(vault["slots"], serde_json::json!(["keychain"]));
    with_keychain
        .ok(&["secret", "set", "local/token", "--type", "api_key", "--value-stdin"], Some("from keychain"));
    assert_eq!(with_keychain.ok(&["secret", "get", "local/token"], None)["value"], "from keychain");

    // A vault with both slots still opens from its passphrase when the keychain
    // is gone (on a deck whose audit key is under the passphrase, so reveals can be recorded).
    let dir = tempfile::tempdir().unwrap();
    let first = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    first.ok(&["audit", "verify"], None);
    let both = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: keychain.env() };
    let vault = both.ok(&["vault", "init", "shared"], None);
    assert_eq!(vault["slots"], serde_json::json!(["keychain", "passphrase"]));
    both.ok(&["secret", "set", "shared/db", "--type", "database_password", "--value-stdin"], Some("pw"));
    drop(keychain);
    let no_keychain = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    assert_eq!(no_keychain.ok(&["secret", "get", "shared/db"], None)["value"], "pw");
    let keychain_only = no_keychain.ok(&["vault", "init", "solo", "--no-keychain"], None);
    assert_eq!(keychain_only["slots"], serde_json::json!(["passphrase"]));
}

#[test]
fn run_puts_resolved_secrets_in_the_environment_and_passes_the_exit_code_through() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v1-value"));
    cli.ok(&["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v2-value"));
    let env_file = dir.path().join("app.env");
    std::fs::write(&env_file, "# settings\nexport OLD=\"opsdeck://prod/db#1\"\nPLAIN='kept as is'\n\n")
        .unwrap();

    let output = cli.run(
        &[
            "run",
            "--env",
            "DB=opsdeck://prod/db",
            "--env-file",
            env_file.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo \"$DB|$OLD|$PLAIN\"; exit 7",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(7), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "v2-value|v1-value|kept as is");

    // An unknown reference fails before the command starts, naming it.
    let marker = dir.path().join("started");
    let output =
        cli.run(&["run", "--env", "X=opsdeck://prod/nope", "--", "touch", marker.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("opsdeck://prod/nope"), "{}", stderr(&output));
    assert!(!marker.exists(), "the command ran although a reference was unknown");

    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, "GOOD=1\nthis line is wrong\n").unwrap();
    let output = cli.run(&["run", "--env-file", bad.to_str().unwrap(), "--", "true"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));
}

#[test]
fn run_forwards_termination_to_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("got-term");
    let script = format!("trap 'echo term > {}; exit 3' TERM; sleep 30 & wait", marker.display());
    let mut command = opsdeck_command();
    command
        .arg("--data-dir")
        .arg(dir.path())
        .args(["run", "--", "sh", "-c", &script])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    let mut child = command.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "the command's own exit code");
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "term");
}

#[test]
fn inject_renders_references_into_a_private_file_and_writes_nothing_when_one_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("p@ss"));
    let template = dir.path().join("app.conf.tpl");
    std::fs::write(
        &template,
        "url = postgres://app:{{ opsdeck://prod/db }}@db/app\nliteral = {{ not_a_reference }}\n",
    )
    .unwrap();
    let out = dir.path().join("app.conf");
    let output = cli.run(&["inject", "-i", template.to_str().unwrap(), "-o", out.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "url = postgres://app:p@ss@db/app\nliteral = {{ not_a_reference }}\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);

    std::fs::write(&template, "a = {{ opsdeck://prod/db }}\nb = {{ opsdeck://prod/missing }}\n").unwrap();
    let output = cli.run(&["inject", "-i", template.to_str().unwrap(), "-o", out.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("opsdeck://prod/missing"), "{}", stderr(&output));
    assert!(
        std::fs::read_to_string(&out).unwrap().starts_with("url = "),
        "the earlier file is left as it was"
    );
}

#[test]
fn rotation_keeps_a_verified_value_and_restores_the_old_one_when_verification_fails() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(
        &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
        Some("old-password"),
    );

    // The verification sees both values and accepts.
    let check = "[ \"$OPSDECK_OLD_VALUE\" = old-password ] && [ ${#OPSDECK_NEW_VALUE} -eq 32 ]";
    let report = cli.ok(&["secret", "rotate", "prod/db", "--verify", check], None);
    assert_eq!((report["rotated"].as_bool(), report["version"].as_i64()), (Some(true), Some(2)));
    let rotated = cli.ok(&["secret", "get", "prod/db"], None)["value"].as_str().unwrap().to_owned();
    assert_eq!(rotated.len(), 32);
    assert_ne!(rotated, "old-password");

    // The verification refuses: the previous value is current again, and the reason is reported.
    let output = cli.run(
        &["--json", "secret", "rotate", "prod/db", "--verify", "echo 'db refused the login' >&2; exit 4"],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rotated"], false);
    assert_eq!(report["version"], 2);
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.contains("code 4") && reason.contains("db refused the login"), "{reason}");
    assert_eq!(cli.ok(&["secret", "get", "prod/db"], None)["value"], rotated);
    assert_eq!(cli.ok(&["secret", "history", "prod/db"], None).as_array().unwrap().len(), 2);
    let audit = cli.ok(&["audit", "log", "--action", "secret.rotate"], None);
    let outcomes: Vec<_> = audit.as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["failed", "ok"]);

    // An SSH key rotates to a new Ed25519 key pair; the public half is reported.
    cli.ok(
        &["secret", "set", "prod/deploy-key", "--type", "ssh_key", "--value-stdin"],
        Some("-----BEGIN OPENSSH PRIVATE KEY-----"),
    );
    let report = cli.ok(&["secret", "rotate", "prod/deploy-key"], None);
    assert!(report["public_key"].as_str().unwrap().starts_with("ssh-ed25519 "), "{report}");
    let key = cli.ok(&["secret", "get", "prod/deploy-key"], None);
    assert!(key["value"].as_str().unwrap().starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));

    // Types whose values come from elsewhere say so.
    cli.ok(
        &["secret", "set", "prod/tls", "--type", "tls_certificate", "--value-stdin"],
        Some("-----BEGIN CERTIFICATE-----"),
    );
    let output = cli.run(&["secret", "rotate", "prod/tls"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("secret set"), "{}", stderr(&output));
}
