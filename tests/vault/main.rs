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
    // The trail: each new version recorded as it was stored (verification
    // pending), the first one's check passed, the second's failed and was
    // taken back.
    let audit = cli.ok(&["audit", "log", "--action", "secret.rotate"], None);
    let steps: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["outcome"].as_str().unwrap(), e["details"]["verification"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [("failed", "failed"), ("ok", "pending"), ("ok", "passed"), ("ok", "pending")]);

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

/// A CLI acting as OS user `user` (roles are per OS user).
fn as_user<'a>(dir: &'a Path, user: &str) -> Cli<'a> {
    Cli { dir, passphrase: Some(PASSPHRASE), env: vec![("OPSDECK_ACT_AS", user.to_owned())] }
}

#[test]
fn roles_decide_who_reveals_changes_and_administers_and_refusals_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let alice = as_user(dir.path(), "alice");
    let bob = as_user(dir.path(), "bob");
    let carol = as_user(dir.path(), "carol");
    alice.ok(&["vault", "init", "prod", "--no-keychain"], None);
    alice.ok(&["secret", "set", "prod/api", "--type", "api_key", "--value-stdin"], Some("alice-value"));
    let members = alice.ok(&["vault", "member", "list", "prod"], None);
    assert_eq!(members[0]["member"], "alice");
    assert_eq!(members[0]["role"], "admin");

    // Not a member: nothing, and the refusal names what to do.
    let output = bob.run(&["secret", "get", "prod/api"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("bob is not a member of vault `prod`"), "{}", stderr(&output));
    assert!(stderr(&output).contains("opsdeck vault member set prod bob operator"), "{}", stderr(&output));
    assert_eq!(bob.ok(&["secret", "list"], None), serde_json::json!([]));

    // A viewer reads metadata and history, never values.
    alice.ok(&["vault", "member", "set", "prod", "bob", "viewer"], None);
    assert_eq!(bob.ok(&["secret", "list", "prod"], None)[0]["name"], "api");
    assert_eq!(bob.ok(&["secret", "history", "prod/api"], None).as_array().unwrap().len(), 1);
    for args in [
        &["secret", "get", "prod/api"][..],
        &["secret", "rotate", "prod/api"],
        &["run", "--env", "X=opsdeck://prod/api", "--", "true"],
    ] {
        let output = bob.run(args, None);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("bob is a viewer"), "{args:?}: {}", stderr(&output));
    }
    let output =
        bob.run(&["secret", "set", "prod/api", "--type", "api_key", "--value-stdin"], Some("bob-value"));
    assert_eq!(output.status.code(), Some(2));

    // An operator reveals and changes values but cannot manage members or remove secrets.
    alice.ok(&["vault", "member", "set", "prod", "bob", "operator"], None);
    assert_eq!(bob.ok(&["secret", "get", "prod/api"], None)["value"], "alice-value");
    bob.ok(&["secret", "set", "prod/api", "--type", "api_key", "--value-stdin"], Some("bob-value"));
    assert_eq!(bob.run(&["vault", "member", "set", "prod", "carol", "admin"], None).status.code(), Some(2));
    assert_eq!(bob.run(&["secret", "rm", "prod/api"], None).status.code(), Some(2));
    assert_eq!(carol.run(&["secret", "list", "prod"], None).status.code(), Some(2));

    // The last admin cannot be demoted or removed.
    let output = alice.run(&["vault", "member", "set", "prod", "alice", "viewer"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("last admin"), "{}", stderr(&output));
    assert_eq!(alice.run(&["vault", "member", "rm", "prod", "alice"], None).status.code(), Some(2));

    // Every refusal is in the audit trail with the actor.
    let denied = alice.ok(&["audit", "log", "--limit", "100"], None);
    let denied: Vec<(String, String)> = denied
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["outcome"] == "denied")
        .map(|entry| {
            (entry["actor"].as_str().unwrap().to_owned(), entry["action"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(denied.contains(&("cli:bob (assumed by root)".into(), "secret.reveal".into())), "{denied:?}");
    assert!(denied.contains(&("cli:bob (assumed by root)".into(), "secret.remove".into())), "{denied:?}");
    assert!(denied.contains(&("cli:carol (assumed by root)".into(), "secret.list".into())), "{denied:?}");
}

#[test]
fn changing_the_passphrase_keeps_every_secret_and_a_vault_never_loses_its_last_slot() {
    // The deck's own keys live in a real keychain; the vault is passphrase-only.
    let keychain = SecretService::start();
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: keychain.env() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"], Some("v1"));
    let ciphertext_before = std::fs::read(dir.path().join("opsdeck.db")).unwrap().len();
    let slots = cli.ok(&["vault", "slots", "prod"], None);
    assert_eq!(slots.as_array().unwrap().len(), 1);
    let only_slot = slots[0]["id"].as_str().unwrap().to_owned();
    let output = cli.run(&["vault", "slot", "rm", "prod", &only_slot], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("last key slot"), "{}", stderr(&output));

    // Too short a new passphrase is refused before anything changes.
    let output = cli.run(&["vault", "passphrase", "prod", "--new-passphrase-stdin"], Some("short\n"));
    assert_eq!(output.status.code(), Some(2));

    cli.ok(&["vault", "passphrase", "prod", "--new-passphrase-stdin"], Some("a brand new passphrase\n"));
    let old = cli.run(&["--json", "secret", "get", "prod/db"], None);
    assert_eq!(old.status.code(), Some(2), "the old passphrase must no longer open the vault");
    assert!(stderr(&old).contains("wrong passphrase"), "{}", stderr(&old));
    let new = Cli { dir: dir.path(), passphrase: Some("a brand new passphrase"), env: keychain.env() };
    assert_eq!(new.ok(&["secret", "get", "prod/db"], None)["value"], "v1");
    // No secret was re-encrypted: the same single version, readable.
    assert_eq!(new.ok(&["secret", "history", "prod/db"], None).as_array().unwrap().len(), 1);
    assert!(std::fs::read(dir.path().join("opsdeck.db")).unwrap().len() >= ciphertext_before / 2);

    // A second passphrase slot, then removing the first: the second still opens it.
    let other = new.ok(
        &["vault", "slot", "add", "prod", "--passphrase", "--new-passphrase-stdin"],
        Some("second passphrase!\n"),
    );
    let first = new.ok(&["vault", "slots", "prod"], None)[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(first, other["id"].as_str().unwrap());
    new.ok(&["vault", "slot", "rm", "prod", &first], None);
    let second = Cli { dir: dir.path(), passphrase: Some("second passphrase!"), env: keychain.env() };
    assert_eq!(second.ok(&["secret", "get", "prod/db"], None)["value"], "v1");
}

#[test]
fn metadata_rotation_policies_and_the_due_list() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    let set = cli.ok(
        &[
            "secret",
            "set",
            "prod/api",
            "--type",
            "api_key",
            "--generate",
            "--length",
            "48",
            "--alphabet",
            "hex",
            "--tag",
            "team:payments",
            "--tag",
            "prod",
            "--note",
            "Stripe live key",
            "--rotate-every",
            "30",
            "--expires",
            "2030-01-31",
        ],
        None,
    );
    assert_eq!(set["version"], 1);
    let value = cli.ok(&["secret", "get", "prod/api"], None)["value"].as_str().unwrap().to_owned();
    assert_eq!(value.len(), 48);
    assert!(value.chars().all(|c| c.is_ascii_hexdigit()));

    // Metadata is readable without the passphrase (while locked).
    let locked = Cli { dir: dir.path(), passphrase: None, env: Vec::new() };
    let info = locked.ok(&["secret", "show", "prod/api"], None);
    assert_eq!(info["tags"], serde_json::json!(["prod", "team:payments"]));
    assert_eq!(info["note"], "Stripe live key");
    assert_eq!(info["rotate_every_days"], 30);
    assert_eq!(info["expires_at"], 1_896_048_000_000_i64);
    assert_eq!(locked.ok(&["secret", "list", "--tag", "prod"], None).as_array().unwrap().len(), 1);

    // The policy is a scheduler job due 30 days after the value last changed.
    let jobs = cli.ok(&["jobs", "list"], None);
    let job =
        jobs.as_array().unwrap().iter().find(|job| job["name"] == "rotate:prod/api").expect("a rotation job");
    let due = info["rotation_due_at"].as_i64().unwrap();
    assert_eq!(job["next_run_at_unix_ms"].as_i64().unwrap(), due);
    assert_eq!(job["kind"], "secret.rotate");

    // Nothing is due yet; within 40 days it is.
    assert_eq!(cli.ok(&["secret", "due"], None), serde_json::json!([]));
    assert_eq!(cli.ok(&["secret", "due", "--within", "40"], None)[0]["name"], "api");

    // Turning the policy off removes the job; bad input names the flag.
    cli.ok(&["secret", "edit", "prod/api", "--rotate-every", "off"], None);
    let jobs = cli.ok(&["jobs", "list"], None);
    assert!(!jobs.as_array().unwrap().iter().any(|job| job["name"] == "rotate:prod/api"));
    for (flag, value) in [("--rotate-every", "soon"), ("--expires", "31/01/2030"), ("--tag", "bad tag")] {
        let output = cli.run(&["secret", "edit", "prod/api", flag, value], None);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(stderr(&output).contains(value), "{flag}: {}", stderr(&output));
    }
    assert_eq!(cli.ok(&["secret", "show", "prod/api"], None)["tags"], info["tags"]);
}

#[test]
fn a_due_rotation_policy_rotates_through_the_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(
        &["secret", "set", "prod/token", "--type", "oauth_token", "--value-stdin", "--rotate-every", "7"],
        Some("first"),
    );
    // Make it due now, as if seven days had passed, and let `serve` run it.
    cli.ok(&["jobs", "run", "rotate:prod/token"], None);
    let binary = opsdeck_tests::binaries::opsdeck_binary();
    let data_dir = dir.path().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary.display().to_string(),
        &["--data-dir", &data_dir, "serve"],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        "TERM",
        None,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let info = cli.ok(&["secret", "show", "prod/token"], None);
        if info["version"] == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the scheduler did not rotate the secret: {info}");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let _ = std::process::Command::new("kill").arg("-TERM").arg(serve.id().to_string()).status();
    let _ = serve.wait();
    assert_ne!(cli.ok(&["secret", "get", "prod/token"], None)["value"], "first");
    let runs = cli.ok(&["jobs", "runs", "rotate:prod/token"], None);
    assert_eq!(runs[0]["outcome"], "ok", "{runs}");
    // The scheduler rotates with the rights of whoever set the policy.
    let audit = cli.ok(&["audit", "log", "--action", "secret.rotate"], None);
    let setter = cli.ok(&["audit", "log", "--action", "secret.set"], None);
    assert_eq!(audit[0]["actor"], setter.as_array().unwrap().last().unwrap()["actor"]);
}

#[test]
fn imports_are_all_or_nothing_and_bundles_round_trip_only_with_their_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "dev", "--no-keychain"], None);
    let env_file = dir.path().join("app.env");
    std::fs::write(&env_file, "# app\nexport API_KEY=abc123\nDB_PASSWORD=\"p a s s\"\n").unwrap();
    let report = cli.ok(&["secret", "import", "dev", env_file.to_str().unwrap(), "--type", "api_key"], None);
    assert_eq!(report["imported"], serde_json::json!(["API_KEY", "DB_PASSWORD"]));
    assert_eq!(cli.ok(&["secret", "get", "dev/DB_PASSWORD"], None)["value"], "p a s s");

    // One bad line: the line is named and nothing is stored.
    std::fs::write(&env_file, "NEW_ONE=1\nnot an assignment\n").unwrap();
    let output = cli.run(&["secret", "import", "dev", env_file.to_str().unwrap()], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));
    assert_eq!(cli.ok(&["secret", "list", "dev"], None).as_array().unwrap().len(), 2);
    let json_file = dir.path().join("more.json");
    std::fs::write(&json_file, r#"{"WEBHOOK": "whsec_1", "API_KEY": "abc456"}"#).unwrap();
    cli.ok(&["secret", "import", "dev", json_file.to_str().unwrap()], None);
    assert_eq!(cli.ok(&["secret", "get", "dev/API_KEY"], None)["version"], 2);

    // Export: a 0600 file without any plaintext value.
    cli.ok(&["secret", "edit", "dev/API_KEY", "--tag", "exported"], None);
    let bundle = dir.path().join("dev.bundle");
    let exporter = Cli {
        dir: dir.path(),
        passphrase: Some(PASSPHRASE),
        env: vec![("OPSDECK_BUNDLE_PASSPHRASE", "bundle passphrase".to_owned())],
    };
    let output = exporter.run(&["vault", "export", "dev", "-o", bundle.to_str().unwrap()], None);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&bundle).unwrap();
    for value in ["abc456", "p a s s", "whsec_1"] {
        assert!(!text.contains(value));
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777, 0o600);

    // Into another data dir: wrong passphrase, truncated file, then the real thing.
    let other = tempfile::tempdir().unwrap();
    let target = Cli { dir: other.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    target.ok(&["vault", "init", "dev", "--no-keychain"], None);
    let output = target.run(
        &["vault", "import-bundle", bundle.to_str().unwrap(), "--bundle-passphrase-stdin"],
        Some("wrong one!\n"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("passphrase is wrong"), "{}", stderr(&output));
    let truncated = other.path().join("truncated.bundle");
    std::fs::write(&truncated, &text.as_bytes()[..text.len() - 40]).unwrap();
    let output = target.run(
        &["vault", "import-bundle", truncated.to_str().unwrap(), "--bundle-passphrase-stdin"],
        Some("bundle passphrase\n"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(target.ok(&["secret", "list"], None), serde_json::json!([]));
    let report = target.ok(
        &["vault", "import-bundle", bundle.to_str().unwrap(), "--bundle-passphrase-stdin"],
        Some("bundle passphrase\n"),
    );
    assert_eq!(report["imported"].as_array().unwrap().len(), 3);
    assert_eq!(target.ok(&["secret", "get", "dev/API_KEY"], None)["value"], "abc456");
    assert_eq!(target.ok(&["secret", "show", "dev/API_KEY"], None)["tags"], serde_json::json!(["exported"]));
}

/// SIGKILL a process storing versions in a loop, many times: afterwards the
/// vault opens, every acknowledged version reads back, and no partial version exists.
#[test]
fn killing_a_writer_mid_set_loses_no_acknowledged_version_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    let acknowledged = dir.path().join("acknowledged");
    let binary = opsdeck_tests::binaries::opsdeck_binary();
    // Each acknowledged value is appended only after `secret set` exited 0.
    let script = format!(
        "i=0; while true; do i=$((i+1)); v=\"value-$$-$i\"; \
         printf %s \"$v\" | '{bin}' --data-dir '{dir}' secret set prod/loop --type generic --value-stdin >/dev/null 2>&1 \
         && echo \"$v\" >> '{ack}'; done",
        bin = binary.display(),
        dir = dir.path().display(),
        ack = acknowledged.display()
    );
    opsdeck_tests::process::kill_writer_repeatedly(
        &script,
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        6,
    );
    let acknowledged = std::fs::read_to_string(&acknowledged).unwrap_or_default();
    let acknowledged: Vec<&str> = acknowledged.lines().collect();
    assert!(acknowledged.len() >= 3, "the writer should have stored some versions ({})", acknowledged.len());

    let history = cli.ok(&["secret", "history", "prod/loop"], None);
    let versions: Vec<i64> =
        history.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    // Versions are 1..=N without gaps: no partial or missing version.
    let newest = versions[0];
    assert_eq!(versions.len() as i64, newest, "{versions:?}");
    let mut values = Vec::new();
    for version in 1..=newest {
        let value = cli.ok(&["secret", "get", "prod/loop", "--version", &version.to_string()], None);
        values.push(value["value"].as_str().unwrap().to_owned());
    }
    for value in &acknowledged {
        assert!(values.iter().any(|stored| stored == value), "acknowledged {value} is missing");
    }
    // At most one version per killed round may exist unacknowledged (stored, then killed before the echo).
    assert!(
        values.len() <= acknowledged.len() + 6,
        "{} stored, {} acknowledged",
        values.len(),
        acknowledged.len()
    );
    let verify = cli.ok(&["audit", "verify"], None);
    assert_eq!(verify["ok"], true, "{verify}");
}

#[test]
fn a_deck_without_a_keychain_refuses_a_second_passphrase_rather_than_lock_its_user_out() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), passphrase: Some(PASSPHRASE), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"], None);
    cli.ok(&["secret", "set", "prod/db", "--type", "generic", "--value-stdin"], Some("v1"));
    let output =
        cli.run(&["vault", "passphrase", "prod", "--new-passphrase-stdin"], Some("another passphrase\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("vault slot add"), "{}", stderr(&output));
    assert_eq!(cli.ok(&["secret", "get", "prod/db"], None)["value"], "v1");
    assert_eq!(cli.ok(&["vault", "slots", "prod"], None).as_array().unwrap().len(), 1);
}
