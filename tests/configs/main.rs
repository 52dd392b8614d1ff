//! Configs through the `opsdeck` command line: layers with provenance,
//! schema checks that refuse bad saves (nothing stored), environment
//! variables typed by the schema, history and byte-identical rollback.

use std::path::Path;
use std::process::{Output, Stdio};

use opsdeck_tests::http_server::{Scripted, ScriptedServer};
use opsdeck_tests::opsdeck_command;
use serde_json::Value;

const PASSPHRASE: &str = "config test passphrase";

struct Cli<'a> {
    dir: &'a Path,
    env: Vec<(&'a str, &'a str)>,
}

impl Cli<'_> {
    fn run(&self, args: &[&str]) -> Output {
        opsdeck_command()
            .arg("--data-dir")
            .arg(self.dir)
            .args(args)
            .env("OPSDECK_PASSPHRASE", PASSPHRASE)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let output = self.run(&[&["--json"], args].concat());
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "db": {
      "type": "object",
      "required": ["host"],
      "properties": {
        "host": {"type": "string"},
        "pool": {"type": "object", "properties": {
          "size": {"type": "integer", "minimum": 1, "default": 5},
          "timeout": {"type": "integer", "default": 30}
        }}
      }
    },
    "debug": {"type": "boolean"},
    "log": {"type": "string", "enum": ["debug", "info", "warn"]}
  }
}"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn layers_explain_where_each_value_came_from_and_env_vars_take_the_schemas_types() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let committed = "base: &base\n  host: db.internal\n  pool:\n    size: 10\ndb:\n  <<: *base\nlog: info\n";
    let imported = cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "shop.yaml", committed)]);
    assert_eq!(imported["version"], 1);
    cli.ok(&[
        "config",
        "import",
        "shop",
        "prod",
        &write(dir.path(), "local.toml", "[db.pool]\nsize = 12\n"),
        "--layer",
        "local",
    ]);

    let with_env = Cli { dir: dir.path(), env: vec![("SHOP_DEBUG", "yes"), ("SHOP_LOG", "debug")] };
    let explained = with_env.ok(&["config", "explain", "shop", "prod"]);
    let entry =
        |key: &str| explained.as_array().unwrap().iter().find(|entry| entry["key"] == key).unwrap().clone();
    let size = entry("db.pool.size");
    assert_eq!(
        (size["value"].clone(), size["layer"].clone()),
        (serde_json::json!(12), serde_json::json!("local"))
    );
    assert_eq!(size["overridden"], serde_json::json!([["defaults", 5], ["committed", 10]]));
    assert_eq!(entry("db.pool.timeout")["layer"], "defaults");
    assert_eq!(entry("db.host")["line"], 2, "the anchor's line: {}", entry("db.host"));
    assert_eq!(entry("debug")["value"], true, "typed by the schema");
    assert_eq!(entry("log")["layer"], "env");

    // The CLI contract's `config get` shape.
    let got = cli.ok(&["config", "get", "shop", "prod", "db.pool.size"]);
    assert_eq!(got, serde_json::json!({ "key": "db.pool.size", "value": 12, "layer": "local" }));
    let bad_env = Cli { dir: dir.path(), env: vec![("SHOP_DB__POOL__SIZE", "lots")] };
    let error = bad_env.fails(&["config", "get", "shop", "prod", "db.pool.size"], 2);
    assert!(error.contains("SHOP_DB__POOL__SIZE") && error.contains("integer"), "{error}");
    assert!(cli.fails(&["config", "get", "shop", "prod", "db.nope"], 2).contains("no key db.nope"));
}

#[test]
fn saves_that_break_the_schema_or_the_syntax_are_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    cli.ok(&["config", "import", "shop", "dev", &write(dir.path(), "ok.yaml", "db:\n  host: a\n")]);

    // Valid YAML, but it breaks the schema: the key, file and line are named.
    let error = cli.fails(
        &[
            "config",
            "import",
            "shop",
            "dev",
            &write(dir.path(), "bad.yaml", "db:\n  host: a\n  pool:\n    size: 0\n"),
        ],
        2,
    );
    assert!(error.contains("db.pool.size (committed (") && error.contains("bad.yaml), line 4)"), "{error}");
    // A repeated key, a TOML error, an unknown format, a broken schema.
    let error = cli.fails(
        &["config", "import", "shop", "dev", &write(dir.path(), "twice.yaml", "db:\n  host: a\n  host: b\n")],
        2,
    );
    assert!(error.contains("twice.yaml:3") && error.contains("appears twice"), "{error}");
    let error = cli
        .fails(&["config", "import", "shop", "dev", &write(dir.path(), "broken.toml", "[db\nhost = 1\n")], 2);
    assert!(error.contains("broken.toml:1"), "{error}");
    assert!(cli
        .fails(&["config", "import", "shop", "dev", &write(dir.path(), "x.ini", "a=1")], 2)
        .contains(".yaml"));
    let error =
        cli.fails(&["config", "schema", "shop", &write(dir.path(), "broken.json", r#"{"type": 7}"#)], 2);
    assert!(error.contains("not a valid JSON Schema"), "{error}");
    // A schema the stored config breaks is refused too.
    let strict = r#"{"type": "object", "required": ["owner"]}"#;
    assert!(cli
        .fails(&["config", "schema", "shop", &write(dir.path(), "strict.json", strict)], 2)
        .contains("owner"));

    let history = cli.ok(&["config", "history", "shop", "dev"]);
    assert_eq!(history.as_array().unwrap().len(), 1, "nothing stored: {history}");
    assert_eq!(cli.ok(&["config", "validate", "shop", "dev"])["ok"], true);
}

#[test]
fn rollback_restores_each_layer_byte_for_byte_as_new_versions() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    let first = "# the team's file\ndb:\n  host: \"db.internal\"   # primary\n  pool: { size: 10 }\n";
    let v1 = cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "a.yaml", first)]);
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "b.yaml", "db:\n  host: other\n")]);
    cli.ok(&[
        "config",
        "import",
        "shop",
        "prod",
        &write(dir.path(), "c.json", "{\"log\": \"warn\"}"),
        "--layer",
        "local",
    ]);
    let restored = cli.ok(&["config", "rollback", "shop", "prod", "--to", "1"]);
    let restored: Vec<&Value> = restored.as_array().unwrap().iter().collect();
    assert_eq!(restored.len(), 2, "the committed text back, the local layer emptied: {restored:?}");
    let committed = restored.iter().find(|version| version["layer"] == "committed").unwrap();
    assert_eq!(committed["content_hash"], v1["content_hash"], "byte-identical content");
    assert_eq!(cli.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "db.internal");
    assert!(cli.fails(&["config", "get", "shop", "prod", "log"], 2).contains("no key log"));
    let history = cli.ok(&["config", "history", "shop", "prod"]);
    assert_eq!(history.as_array().unwrap().len(), 5);
    // Export writes the layers as stored: the committed text is the first file again, comments and all.
    let exported = dir.path().join("export");
    cli.ok(&["config", "export", "shop", exported.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(exported.join("prod/committed.yaml")).unwrap(), first);
    assert_eq!(std::fs::read_to_string(exported.join("prod/local.json")).unwrap(), "{}");
    assert!(cli.fails(&["config", "rollback", "shop", "prod", "--to", "42"], 2).contains("no version 42"));
    assert!(cli.fails(&["config", "history", "nope", "prod"], 2).contains("no config project nope"));
    let audit = cli.ok(&["audit", "log", "--action", "config.rollback"]);
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

#[test]
fn promotion_shows_the_diff_and_refuses_a_result_that_breaks_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    cli.ok(&[
        "config",
        "import",
        "shop",
        "staging",
        &write(dir.path(), "s1.yaml", "db:\n  host: stage-db\n  pool: {size: 4}\n"),
    ]);
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p1.yaml", "db:\n  host: prod-db\n")]);
    let before = cli.ok(&["config", "history", "shop", "prod"]);

    // A dry run shows the same changes and the text, and stores nothing.
    let preview = cli.ok(&["config", "promote", "shop", "staging", "prod", "--dry-run"]);
    assert_eq!(preview["violations"], serde_json::json!([]), "{preview}");
    assert_eq!(preview["unchanged"], false);
    let unified = preview["text"][0]["unified"].as_str().unwrap();
    assert!(unified.contains("-  host: prod-db\n+  host: stage-db\n"), "{unified}");
    assert_eq!(cli.ok(&["config", "history", "shop", "prod"]), before, "a dry run stores nothing");

    let promoted = cli.ok(&["config", "promote", "shop", "staging", "prod", "-m", "pool size from staging"]);
    assert_eq!(promoted["changes"], preview["changes"]);
    assert_eq!(promoted["version"]["version"], 2);
    let changes = promoted["changes"].as_array().unwrap();
    assert!(changes.iter().any(|change| change["key"] == "db.host"
        && change["kind"] == "changed"
        && change["after"] == "stage-db"));
    assert!(changes.iter().any(|change| change["key"] == "db.pool.size" && change["kind"] == "added"));
    let diff = cli.ok(&["config", "diff", "shop", "prod", "1", "2"]);
    assert_eq!(diff, promoted["changes"]);
    let text = cli.ok(&["config", "diff", "shop", "prod", "1", "2", "--text"]);
    assert_eq!(text["changes"], diff);
    assert_eq!(text["text"][0]["layer"], "committed");
    assert_eq!(text["text"][0]["before"], "db:\n  host: prod-db\n");
    let shown = cli.run(&["config", "diff", "shop", "prod", "1", "2", "--text"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("--- a/committed\n+++ b/committed\n"), "{shown}");
    let again = cli.ok(&["config", "promote", "shop", "staging", "prod"]);
    assert!(again["version"].is_null(), "nothing to promote twice: {again}");

    // Staging's committed layer leans on staging's local layer for db.host;
    // in prod nothing gives it, so promoting it there is refused and prod is unchanged.
    let staging_local = write(dir.path(), "s-local.yaml", "db:\n  host: stage-db-2\n");
    cli.ok(&["config", "import", "shop", "staging", &staging_local, "--layer", "local"]);
    cli.ok(&[
        "config",
        "import",
        "shop",
        "staging",
        &write(dir.path(), "s2.yaml", "db:\n  pool: {size: 8}\n"),
    ]);
    let prod_before = cli.ok(&["config", "explain", "shop", "prod"]);
    let history_before = cli.ok(&["config", "history", "shop", "prod"]);
    let refused = cli.run(&["--json", "config", "promote", "shop", "staging", "prod", "--dry-run"]);
    assert_eq!(refused.status.code(), Some(1), "a dry run that would be refused exits 1");
    let refused: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(refused["violations"][0]["path"], "db", "{refused}");
    let error = cli.fails(&["config", "promote", "shop", "staging", "prod"], 2);
    assert!(error.contains("\"host\" is a required property"), "{error}");
    assert_eq!(cli.ok(&["config", "explain", "shop", "prod"]), prod_before, "prod unchanged");
    assert_eq!(cli.ok(&["config", "history", "shop", "prod"]), history_before, "no version written");
    assert_eq!(before.as_array().unwrap().len() + 1, history_before.as_array().unwrap().len());
    let audit = cli.ok(&["audit", "log", "--action", "config.promote"]);
    let outcomes: Vec<&str> =
        audit.as_array().unwrap().iter().map(|entry| entry["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["failed", "ok", "ok"], "newest first: {audit}");
    assert!(cli.fails(&["config", "promote", "shop", "nowhere", "prod"], 2).contains("no committed layer"));
}

#[test]
fn secret_references_stay_references_until_render_resolves_them() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["vault", "init", "prod", "--no-keychain"]);
    let mut child = opsdeck_command()
        .arg("--data-dir")
        .arg(dir.path())
        .args(["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"])
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"s3cr3t pass").unwrap();
    assert!(child.wait().unwrap().success());
    let text = "db:\n  host: db.internal\n  password: opsdeck://prod/db\n  pool:\n    size: 10\n";
    cli.ok(&["config", "import", "shop-api", "prod", &write(dir.path(), "shop.yaml", text)]);

    // Stored, explained and diffed as the reference.
    assert_eq!(cli.ok(&["config", "get", "shop-api", "prod", "db.password"])["value"], "opsdeck://prod/db");
    // Rendered with the value, in each format.
    let rendered = cli.run(&["config", "render", "shop-api", "prod", "--format", "env"]);
    let rendered = String::from_utf8_lossy(&rendered.stdout).into_owned();
    assert!(rendered.contains("SHOP_API_DB__PASSWORD='s3cr3t pass'"), "{rendered}");
    assert!(rendered.contains("SHOP_API_DB__POOL__SIZE=10"), "{rendered}");
    let out = dir.path().join("rendered.json");
    cli.ok(&["config", "render", "shop-api", "prod", "--format", "json", "-o", out.to_str().unwrap()]);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["db"]["password"], "s3cr3t pass");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let yaml = cli.run(&["config", "render", "shop-api", "prod"]);
    assert!(String::from_utf8_lossy(&yaml.stdout).contains("password: \"s3cr3t pass\""));
    // Each reveal is audited; a reference to a missing secret is named.
    let reveals = cli.ok(&["audit", "log", "--action", "secret.reveal"]);
    assert_eq!(reveals.as_array().unwrap().len(), 3);
    let missing = "db:\n  host: h\n  password: opsdeck://prod/nope\n";
    cli.ok(&["config", "import", "shop-api", "dev", &write(dir.path(), "dev.yaml", missing)]);
    let error = cli.fails(&["config", "render", "shop-api", "dev"], 2);
    assert!(error.contains("nope"), "{error}");
    assert!(cli.fails(&["config", "render", "shop-api", "prod", "--format", "ini"], 2).contains("ini"));

    // `opsdeck run --config` hands a process the same variables, resolved only for it;
    // `--env` wins over the config.
    let output = cli.run(&[
        "run",
        "--config",
        "shop-api/prod",
        "--env",
        "SHOP_API_DB__HOST=override",
        "--",
        "sh",
        "-c",
        "printf '%s|%s|%s' \"$SHOP_API_DB__PASSWORD\" \"$SHOP_API_DB__POOL__SIZE\" \"$SHOP_API_DB__HOST\"",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "s3cr3t pass|10|override");
    let error = cli.fails(&["run", "--config", "shop-api/dev", "--", "true"], 2);
    assert!(error.contains("nope"), "a missing secret stops the command before it starts: {error}");
    assert!(cli.fails(&["run", "--config", "shop-api", "--", "true"], 2).contains("PROJECT/ENV"));
}

#[test]
fn set_changes_one_key_keeping_the_files_comments_where_the_format_allows() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let yaml = "# team file\ndb:\n  host: db.internal   # primary\n  pool:\n    size: 10\n";
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "shop.yaml", yaml)]);
    cli.ok(&["config", "set", "shop", "prod", "db.pool.size", "20", "-m", "more connections"]);
    cli.ok(&["config", "set", "shop", "prod", "db.host", "db2.internal"]);
    let exported = dir.path().join("out");
    cli.ok(&["config", "export", "shop", exported.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(exported.join("prod/committed.yaml")).unwrap(),
        "# team file\ndb:\n  host: \"db2.internal\"   # primary\n  pool:\n    size: 20\n"
    );
    assert_eq!(cli.ok(&["config", "get", "shop", "prod", "db.pool.size"])["value"], 20);
    let history = cli.ok(&["config", "history", "shop", "prod"]);
    assert_eq!(history[1]["message"], "more connections");

    // TOML keeps its comments and gains the new table.
    cli.ok(&[
        "config",
        "import",
        "shop",
        "dev",
        &write(dir.path(), "dev.toml", "# dev\n[db]\nhost = \"x\" # local db\n"),
    ]);
    cli.ok(&["config", "set", "shop", "dev", "db.pool.size", "3"]);
    cli.ok(&["config", "export", "shop", exported.to_str().unwrap()]);
    let toml = std::fs::read_to_string(exported.join("dev/committed.toml")).unwrap();
    assert!(
        toml.starts_with("# dev\n[db]\nhost = \"x\" # local db\n") && toml.contains("size = 3"),
        "{toml}"
    );

    // A value the schema refuses is not stored.
    let error = cli.fails(&["config", "set", "shop", "prod", "db.pool.size", "0"], 2);
    assert!(error.contains("minimum"), "{error}");
    assert_eq!(cli.ok(&["config", "get", "shop", "prod", "db.pool.size"])["value"], 20);
    assert!(cli.fails(&["config", "set", "shop", "prod", "db..size", "1"], 2).contains("dotted key"));
}

#[test]
fn a_project_directory_round_trips_and_a_bad_directory_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let committed = "# prod\ndb:\n  host: prod-db\n";
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p.yaml", committed)]);
    cli.ok(&["config", "import", "shop", "dev", &write(dir.path(), "d.toml", "[db]\nhost = \"dev-db\"\n")]);
    cli.ok(&[
        "config",
        "import",
        "shop",
        "dev",
        &write(dir.path(), "l.json", "{\"log\": \"debug\"}"),
        "--layer",
        "local",
    ]);
    let exported = dir.path().join("export");
    cli.ok(&["config", "export", "shop", exported.to_str().unwrap()]);

    // Into a second store: the same layers byte for byte, the same effective config.
    let other = tempfile::tempdir().unwrap();
    let fresh = Cli { dir: other.path(), env: Vec::new() };
    let written = fresh.ok(&["config", "import-dir", "shop", exported.to_str().unwrap(), "-m", "from git"]);
    assert_eq!(written.as_array().unwrap().len(), 3, "{written}");
    // Sources name versions, which match too (each layer is its environment's first version).
    for env in ["dev", "prod"] {
        assert_eq!(
            fresh.ok(&["config", "explain", "shop", env]),
            cli.ok(&["config", "explain", "shop", env])
        );
    }
    let again = fresh.ok(&["config", "import-dir", "shop", exported.to_str().unwrap()]);
    assert_eq!(again, serde_json::json!([]), "re-importing the same directory writes nothing");

    // A directory whose dev file breaks the schema: refused, naming file and line; nothing stored.
    std::fs::write(exported.join("dev/committed.toml"), "[db]\nhost = 42\n").unwrap();
    std::fs::write(exported.join("prod/committed.yaml"), "# prod\ndb:\n  host: new-prod-db\n").unwrap();
    let history_before = fresh.ok(&["config", "history", "shop", "prod"]);
    let error = fresh.fails(&["config", "import-dir", "shop", exported.to_str().unwrap()], 2);
    assert!(
        error.contains("db.host") && error.contains("line 2") && error.contains("nothing was stored"),
        "{error}"
    );
    assert_eq!(fresh.ok(&["config", "history", "shop", "prod"]), history_before, "prod untouched");
    // A stray file and a broken file are named.
    std::fs::write(exported.join("dev/committed.toml"), "[db\n").unwrap();
    let error = fresh.fails(&["config", "import-dir", "shop", exported.to_str().unwrap()], 2);
    assert!(error.contains("committed.toml:1"), "{error}");
    std::fs::write(exported.join("dev/committed.toml"), "[db]\nhost = \"x\"\n").unwrap();
    std::fs::write(exported.join("dev/notes.yaml"), "a: 1\n").unwrap();
    let error = fresh.fails(&["config", "import-dir", "shop", exported.to_str().unwrap()], 2);
    assert!(error.contains("notes.yaml") && error.contains("committed.EXT"), "{error}");
    assert_eq!(fresh.ok(&["config", "history", "shop", "prod"]), history_before);
}

#[test]
fn each_change_signals_the_service_by_command_and_signed_webhook_and_a_failing_signal_keeps_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    let receiver = ScriptedServer::start(vec![Scripted::status(200)]);
    let added = cli.ok(&["notify", "add", "shop-hook", "--url", &receiver.url("/reload")]);
    let secret = added["secret"].as_str().unwrap().to_owned();
    let seen = dir.path().join("reloaded.txt");
    let command = format!(
        "echo \"$OPSDECK_CONFIG_PROJECT $OPSDECK_CONFIG_ENV $OPSDECK_CONFIG_VERSION $OPSDECK_CONFIG_HASH\" >> {}",
        seen.display()
    );
    assert!(cli
        .fails(&["config", "reload", "shop", "prod", "--command", "true"], 2)
        .contains("no config project shop"));
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p.yaml", "db:\n  host: a\n")]);
    assert!(cli
        .fails(&["config", "reload", "shop", "prod", "--webhook", "nope"], 2)
        .contains("no webhook target nope"));
    let hook = cli.ok(&["config", "reload", "shop", "prod", "--command", &command, "--webhook", "shop-hook"]);
    assert_eq!(hook["webhook"], "shop-hook");

    // A change runs the command with the change's facts and sends a signed event.
    let set = cli.ok(&["config", "set", "shop", "prod", "db.host", "b"]);
    assert_eq!(set["reload"]["ok"], true, "{set}");
    let hash = set["content_hash"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), format!("shop prod 2 {hash}\n"));
    let events: Vec<_> =
        receiver.received().into_iter().filter(|request| request.path == "/reload").collect();
    assert_eq!(events.len(), 1);
    let body: Value = serde_json::from_slice(&events[0].body).unwrap();
    assert_eq!(body["event"], "config.changed");
    assert_eq!(
        (&body["data"]["project"], &body["data"]["env"], &body["data"]["version"]),
        (&"shop".into(), &"prod".into(), &2.into())
    );
    let signature = events[0].headers["opsdeck-signature"].clone();
    let mut verify = std::process::Command::new("python3")
        .arg(opsdeck_tests::workspace_root().join("contrib/verify_webhook.py"))
        .args([&secret, &signature])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut verify.stdin.take().unwrap(), &events[0].body).unwrap();
    assert!(verify.wait().unwrap().success(), "the event is signed with the target's secret");

    // A rollback signals once; other environments signal nothing.
    let rolled = cli.ok(&["config", "rollback", "shop", "prod", "--to", "1"]);
    assert_eq!(rolled[0]["reload"]["ok"], true, "{rolled}");
    cli.ok(&["config", "import", "shop", "dev", &write(dir.path(), "d.yaml", "db:\n  host: d\n")]);
    assert_eq!(std::fs::read_to_string(&seen).unwrap().lines().count(), 2);

    // A failing command: the change is stored, the user is told why, the audit says failed.
    cli.ok(&["config", "reload", "shop", "prod", "--clear"]);
    cli.ok(&["config", "reload", "shop", "prod", "--command", "echo service not running >&2; exit 3"]);
    let output = cli.run(&["config", "set", "shop", "prod", "db.host", "c"]);
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("the change is stored")
            && said.contains("code 3")
            && said.contains("service not running"),
        "{said}"
    );
    assert_eq!(cli.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "c");
    // (`--action` matches by prefix: keep the signals, not the hook settings.)
    let audit = cli.ok(&["audit", "log", "--action", "config.reload"]);
    let outcomes: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "config.reload")
        .map(|entry| entry["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failed", "ok", "ok"], "newest first: {audit}");
    let cleared = cli.ok(&["config", "reload", "shop", "prod", "--clear"]);
    assert_eq!(cleared, serde_json::json!({"command": null, "webhook": null}));
}

#[test]
fn promotions_to_prod_wait_for_a_second_persons_approval() {
    let dir = tempfile::tempdir().unwrap();
    let ana = Cli { dir: dir.path(), env: vec![("OPSDECK_ACT_AS", "ana")] };
    let bob = Cli { dir: dir.path(), env: vec![("OPSDECK_ACT_AS", "bob")] };
    ana.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    ana.ok(&["config", "import", "shop", "staging", &write(dir.path(), "s.yaml", "db:\n  host: stage\n")]);
    ana.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p.yaml", "db:\n  host: prod\n")]);
    assert_eq!(ana.ok(&["config", "approvals", "shop", "--envs", "prod"]), serde_json::json!(["prod"]));
    let listed = ana.ok(&["config", "list"]);
    assert_eq!(listed[0]["approval_envs"], serde_json::json!(["prod"]), "{listed}");

    // Ana's promotion becomes a request; prod is unchanged.
    let prod_before = ana.ok(&["config", "history", "shop", "prod"]);
    let asked = ana.ok(&["config", "promote", "shop", "staging", "prod", "-m", "ship stage host"]);
    assert!(asked["version"].is_null(), "{asked}");
    let id = asked["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(asked["request"]["status"], "pending");
    assert_eq!(asked["changes"][0]["key"], "db.host");
    assert_eq!(ana.ok(&["config", "history", "shop", "prod"]), prod_before);
    let shown = ana.run(&["config", "promote", "shop", "staging", "prod"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("needs another person's approval") && shown.contains(&id),
        "asking again gives the same request: {shown}"
    );

    // Ana cannot approve her own request, through any interface.
    let error = ana.fails(&["config", "approve", &id], 2);
    assert!(error.contains("another person must approve"), "{error}");
    assert_eq!(ana.ok(&["config", "history", "shop", "prod"]), prod_before);

    // Bob approves: prod gets exactly the requested text, credited to Ana, approved by Bob.
    let approved = bob.ok(&["config", "approve", &id]);
    assert_eq!(approved["version"], 2);
    assert_eq!(ana.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "stage");
    let history = ana.ok(&["config", "history", "shop", "prod"]);
    assert_eq!(history[0]["author"], "cli:ana");
    assert!(history[0]["message"].as_str().unwrap().contains("approved by cli:bob"), "{history}");
    let again = bob.fails(&["config", "approve", &id], 2);
    assert!(again.contains("already approved by cli:bob"), "{again}");

    // A second request (the other one, still pending, is then rejected by Bob).
    ana.ok(&["config", "import", "shop", "staging", &write(dir.path(), "s2.yaml", "db:\n  host: stage-2\n")]);
    let second = ana.ok(&["config", "promote", "shop", "staging", "prod"]);
    let second_id = second["request"]["id"].as_str().unwrap().to_owned();
    let rejected = bob.ok(&["config", "reject", &second_id, "-m", "not this week"]);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(ana.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "stage");
    let requests = ana.ok(&["config", "requests", "shop"]);
    let statuses: Vec<&str> =
        requests.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["rejected", "approved"], "{requests}");
    assert_eq!(requests[0]["reason"], "not this week");

    // A request that would break the schema is refused at once: staging's
    // committed file leans on its local layer for the host, which prod lacks.
    let local = write(dir.path(), "sl.yaml", "db:\n  host: h\n");
    ana.ok(&["config", "import", "shop", "staging", &local, "--layer", "local"]);
    ana.ok(&[
        "config",
        "import",
        "shop",
        "staging",
        &write(dir.path(), "s3.yaml", "db:\n  pool: {size: 2}\n"),
    ]);
    let error = ana.fails(&["config", "promote", "shop", "staging", "prod"], 2);
    assert!(error.contains("\"host\" is a required property"), "{error}");
    assert_eq!(ana.ok(&["config", "requests", "shop"]).as_array().unwrap().len(), 2, "no request kept");
    assert!(bob.fails(&["config", "approve", "pr_nope"], 2).contains("no promotion request pr_nope"));
    let audit = ana.ok(&["audit", "log", "--action", "config.promote_"]);
    let actions: Vec<&str> =
        audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"config.promote_approved") && actions.contains(&"config.promote_rejected"),
        "{audit}"
    );
    assert_eq!(ana.ok(&["config", "approvals", "shop", "--none"]), serde_json::json!([]));
}

#[test]
fn a_linked_file_is_followed_edits_become_versions_bad_ones_are_held_and_changes_are_written_back() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let repo = tempfile::tempdir().unwrap();
    let file = repo.path().join("shop.prod.yaml");
    std::fs::write(&file, "# team file\ndb:\n  host: one\n").unwrap();
    let linked = cli.ok(&["config", "link", "shop", "prod", file.to_str().unwrap()]);
    assert_eq!(linked["version"]["version"], 1, "{linked}");
    assert_eq!(linked["link"]["path"], file.canonicalize().unwrap().display().to_string());
    // Linking a file that breaks the schema is refused; nothing is linked.
    let bad = write(repo.path(), "bad.yaml", "db:\n  pool: {size: 3}\n");
    assert!(cli
        .fails(&["config", "link", "shop", "dev", &bad], 2)
        .contains("\"host\" is a required property"));
    assert_eq!(cli.ok(&["config", "links"]).as_array().unwrap().len(), 1);

    let binary = opsdeck_tests::binaries::opsdeck_binary().display().to_string();
    let data_dir = dir.path().display().to_string();
    let mut serve = opsdeck_tests::process::spawn_tied_to_this_process(
        &binary,
        &["--data-dir", &data_dir, "serve"],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        "TERM",
        None,
    );
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    // An edit on disk becomes a version, as written.
    std::fs::write(&file, "# team file\ndb:\n  host: two   # moved\n").unwrap();
    wait("the edit to be stored", &|| {
        cli.ok(&["config", "get", "shop", "prod", "db.host"])["value"] == "two"
    });
    let history = cli.ok(&["config", "history", "shop", "prod"]);
    assert!(history[0]["message"].as_str().unwrap().starts_with("edited on disk"), "{history}");
    assert!(history[0]["author"].as_str().unwrap().starts_with("disk:"), "{history}");

    // A broken edit is held on the link with its line; the stored config stays.
    std::fs::write(&file, "db:\n  host: three\n  host: four\n").unwrap();
    wait("the problem to be recorded", &|| cli.ok(&["config", "links"])[0]["last_error"].is_string());
    let problem = cli.ok(&["config", "links"])[0]["last_error"].as_str().unwrap().to_owned();
    assert!(problem.contains(":3") && problem.contains("appears twice"), "{problem}");
    assert_eq!(cli.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "two");

    // A change made through OpsDeck is not written over that held edit: a
    // conflict is recorded, the file keeps the person's words.
    cli.ok(&["config", "rollback", "shop", "prod", "--to", "1"]);
    wait("the conflict to be recorded", &|| links(&cli).1[0]["conflict_since"].is_i64());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "db:\n  host: three\n  host: four\n");
    // Choosing the stored version writes it, keeping the file's text beside it.
    let resolved = cli.ok(&["config", "resolve", "shop", "prod", "--keep-stored"]);
    let copy = resolved["copy"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "db:\n  host: three\n  host: four\n");
    std::fs::remove_file(&copy).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# team file\ndb:\n  host: one\n");
    // From then on, changes made through OpsDeck reach the file (comments kept where set keeps them).
    cli.ok(&["config", "set", "shop", "prod", "db.host", "five"]);
    wait("the set to reach the file", &|| std::fs::read_to_string(&file).unwrap().contains("five"));
    let links = cli.ok(&["config", "links"]);
    assert!(links[0]["last_error"].is_null(), "{links}");
    opsdeck_tests::process::stop(&mut serve);

    // Without a running watcher, `config sync` looks once; a refused edit exits 1.
    std::fs::write(&file, "db:\n  host: 6\n").unwrap();
    let output = cli.run(&["config", "sync"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stdout).contains("not stored"));
    std::fs::write(&file, "db:\n  host: six\n").unwrap();
    let synced = cli.ok(&["config", "sync"]);
    assert_eq!(synced[0]["outcome"], "stored", "{synced}");
    cli.ok(&["config", "unlink", "shop", "prod"]);
    assert_eq!(cli.ok(&["config", "links"]), serde_json::json!([]));
    assert!(cli.fails(&["config", "unlink", "shop", "prod"], 2).contains("not linked"));
}

#[test]
fn configs_live_in_postgresql_as_well() {
    let dir = tempfile::tempdir().unwrap();
    let url = opsdeck_tests::postgres::shared().fresh_database();
    let ana = Cli { dir: dir.path(), env: vec![("OPSDECK_DATABASE_URL", &url), ("OPSDECK_ACT_AS", "ana")] };
    let bob = Cli { dir: dir.path(), env: vec![("OPSDECK_DATABASE_URL", &url), ("OPSDECK_ACT_AS", "bob")] };
    assert_eq!(ana.ok(&["status"])["store"], "postgres");
    ana.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let first = "# prod\ndb:\n  host: a   # primary\n";
    ana.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p.yaml", first)]);
    ana.ok(&["config", "import", "shop", "staging", &write(dir.path(), "s.toml", "[db]\nhost = \"s\"\n")]);
    ana.ok(&["config", "set", "shop", "prod", "db.pool.size", "9"]);
    let error = ana.fails(&["config", "set", "shop", "prod", "db.pool.size", "0"], 2);
    assert!(error.contains("nothing was stored"), "{error}");
    ana.ok(&["config", "rollback", "shop", "prod", "--to", "1"]);
    let exported = dir.path().join("export");
    ana.ok(&["config", "export", "shop", exported.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(exported.join("prod/committed.yaml")).unwrap(),
        first,
        "byte for byte"
    );
    let diff = ana.ok(&["config", "diff", "shop", "prod", "2", "3", "--text"]);
    assert_eq!(diff["changes"][0]["key"], "db.pool.size");

    // The approval step and links work the same on PostgreSQL.
    ana.ok(&["config", "approvals", "shop", "--envs", "prod"]);
    let asked = ana.ok(&["config", "promote", "shop", "staging", "prod"]);
    let id = asked["request"]["id"].as_str().unwrap().to_owned();
    assert!(ana.fails(&["config", "approve", &id], 2).contains("another person"));
    bob.ok(&["config", "approve", &id]);
    assert_eq!(ana.ok(&["config", "get", "shop", "prod", "db.host"])["value"], "s");
    let file = dir.path().join("dev.yaml");
    std::fs::write(&file, "db:\n  host: d\n").unwrap();
    ana.ok(&["config", "link", "shop", "dev", file.to_str().unwrap()]);
    std::fs::write(&file, "db:\n  host: d2\n").unwrap();
    assert_eq!(ana.ok(&["config", "sync"])[0]["outcome"], "stored");
    assert_eq!(ana.ok(&["config", "get", "shop", "dev", "db.host"])["value"], "d2");
    let projects = ana.ok(&["config", "list"]);
    assert_eq!(projects[0]["envs"], serde_json::json!(["dev", "staging", "prod"]), "{projects}");
}

/// SIGKILL a process saving config versions in a loop, many times: the store
/// opens, versions are 1..=N without gaps, each parses and its text matches its
/// hash, and every acknowledged save is there.
#[test]
fn killing_a_writer_mid_save_loses_no_acknowledged_version_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "import", "shop", "prod", &write(dir.path(), "p.yaml", "# prod\ncounter: 0\n")]);
    let acknowledged = dir.path().join("acknowledged");
    let binary = opsdeck_tests::binaries::opsdeck_binary();
    let script = format!(
        "i=$(( $(wc -l < '{ack}' 2>/dev/null || echo 0) * 1000 + $$ % 1000 )); while true; do i=$((i+1)); \
         '{bin}' --data-dir '{dir}' config set shop prod counter \"$i\" >/dev/null 2>&1 && echo \"$i\" >> '{ack}'; done",
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

    let history = cli.ok(&["config", "history", "shop", "prod"]);
    let versions: Vec<i64> =
        history.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    let newest = versions[0];
    assert_eq!(versions.len() as i64, newest, "versions 1..=N without gaps: {versions:?}");
    // Every version parses and holds the text its hash says; collect the values it held.
    let mut values = Vec::new();
    for version in 2..=newest {
        let step = cli.ok(&[
            "config",
            "diff",
            "shop",
            "prod",
            &(version - 1).to_string(),
            &version.to_string(),
            "--text",
        ]);
        let after = step["text"][0]["after"].as_str().unwrap_or_default().to_owned();
        let mut hasher = std::process::Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut hasher.stdin.take().unwrap(), after.as_bytes()).unwrap();
        let digest = String::from_utf8(hasher.wait_with_output().unwrap().stdout).unwrap();
        let stored = &history[(newest - version) as usize]["content_hash"];
        assert_eq!(
            digest.split_whitespace().next(),
            stored.as_str(),
            "version {version}'s text matches its hash"
        );
        values.push(step["changes"][0]["after"].to_string());
    }
    for value in &acknowledged {
        assert!(values.iter().any(|stored| stored == value), "acknowledged {value} is missing");
    }
    assert!(
        values.len() <= acknowledged.len() + 6,
        "{} stored, {} acknowledged",
        values.len(),
        acknowledged.len()
    );
    let verify = cli.ok(&["audit", "verify"]);
    assert_eq!(verify["ok"], true, "{verify}");
}

/// The links of the deck, as `config links --json` gives them (exit 1 while a conflict is open).
fn links(cli: &Cli) -> (Option<i32>, Value) {
    let output = cli.run(&["--json", "config", "links"]);
    (output.status.code(), serde_json::from_slice(&output.stdout).unwrap())
}

const GOOD: &str = "db:\n  host: db.internal\n  pool:\n    size: 4\n";

#[test]
fn a_stored_change_never_overwrites_an_edit_on_disk_that_was_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "schema", "shop", &write(dir.path(), "schema.json", SCHEMA)]);
    let file = write(dir.path(), "app.yaml", GOOD);
    cli.ok(&["config", "link", "shop", "dev", &file]);

    // A broken edit is looked at (as the app's watcher does) and refused: nothing stored.
    let broken = "db:\n  host: db.internal\n  pool:\n    size: zero   # my unsaved thoughts\n";
    std::fs::write(&file, broken).unwrap();
    let refused = cli.run(&["--json", "config", "sync"]);
    assert_eq!(refused.status.code(), Some(1));
    // Then someone sets a key through OpsDeck: it is stored, the file is not touched.
    let set = cli.ok(&["config", "set", "shop", "dev", "db.pool.size", "9"]);
    assert_eq!(set["version"], 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken, "the person's words were overwritten");
    let (code, listed) = links(&cli);
    assert_eq!(code, Some(1), "an open conflict makes `config links` exit 1");
    assert!(listed[0]["conflict_since"].is_i64(), "{listed}");
    assert_eq!(listed[0]["conflict_version"], 2);
    let text = cli.fails(&["config", "links"], 1);
    assert!(text.is_empty(), "{text}");
    let shown = String::from_utf8_lossy(&cli.run(&["config", "links"]).stdout).into_owned();
    assert!(shown.contains("conflict since") && shown.contains("config resolve shop dev"), "{shown}");
    // The watcher does not store the file over the waiting change, and says why.
    let synced = cli.run(&["--json", "config", "sync"]);
    assert_eq!(synced.status.code(), Some(1));
    let synced: Value = serde_json::from_slice(&synced.stdout).unwrap();
    assert_eq!(synced[0]["outcome"], "conflict", "{synced}");
    assert_eq!(cli.ok(&["config", "history", "shop", "dev"]).as_array().unwrap().len(), 2);
    // The conflict is audited once.
    let audit = cli.ok(&["audit", "log", "--limit", "50"]);
    let conflicts =
        audit.as_array().unwrap().iter().filter(|entry| entry["action"] == "config.link_conflict").count();
    assert_eq!(conflicts, 1, "{audit}");

    // Taking the file's text is refused while it breaks the schema; the conflict stays.
    let refused = cli.fails(&["config", "resolve", "shop", "dev", "--take-file"], 2);
    assert!(refused.contains("size"), "{refused}");
    assert_eq!(links(&cli).0, Some(1));
    // Fixed in the file, it is taken as version 3 and the conflict is over.
    let fixed = "db:\n  host: db.internal\n  pool:\n    size: 6   # my unsaved thoughts\n";
    std::fs::write(&file, fixed).unwrap();
    let resolved = cli.ok(&["config", "resolve", "shop", "dev", "--take-file"]);
    assert_eq!(resolved["version"]["version"], 3, "{resolved}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), fixed);
    assert_eq!(cli.ok(&["config", "get", "shop", "dev", "db.pool.size"])["value"], 6);
    let (code, listed) = links(&cli);
    assert_eq!(code, Some(0));
    assert!(listed[0]["conflict_since"].is_null(), "{listed}");
    // In step again: the next stored change is written to the file.
    cli.ok(&["config", "set", "shop", "dev", "db.pool.size", "7"]);
    assert!(std::fs::read_to_string(&file).unwrap().contains("size: 7"));
    let audit = cli.ok(&["audit", "log", "--limit", "50"]);
    assert!(
        audit.as_array().unwrap().iter().any(|entry| entry["action"] == "config.link_resolve"
            && entry["outcome"] == "ok"
            && entry["details"]["choice"] == "take_file"),
        "{audit}"
    );
}

#[test]
fn an_edit_made_while_no_opsdeck_ran_is_kept_and_the_stored_version_can_be_written_over_it_with_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    let file = write(dir.path(), "app.yaml", GOOD);
    cli.ok(&["config", "link", "shop", "prod", &file]);
    // Edited while nothing watched (a valid edit, never stored).
    let edited = "db:\n  host: db-new.internal\n  pool:\n    size: 4\n";
    std::fs::write(&file, edited).unwrap();
    cli.ok(&["config", "set", "shop", "prod", "db.pool.size", "12"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    assert_eq!(links(&cli).0, Some(1));

    // Keep the stored version: the file's text is kept beside it, then replaced.
    let resolved = cli.ok(&["config", "resolve", "shop", "prod", "--keep-stored"]);
    let copy = resolved["copy"].as_str().expect("a copy of the file was kept").to_owned();
    assert!(
        copy.starts_with(&format!(
            "{}.opsdeck-conflict-",
            Path::new(&file).canonicalize().unwrap().display()
        )),
        "{copy}"
    );
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), edited);
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.contains("size: 12") && now.contains("host: db.internal"), "{now}");
    assert_eq!(links(&cli).0, Some(0));
    assert_eq!(
        cli.ok(&["config", "history", "shop", "prod"]).as_array().unwrap().len(),
        2,
        "nothing new stored"
    );
    // Resolving again says there is nothing to resolve.
    let again = cli.fails(&["config", "resolve", "shop", "prod", "--keep-stored"], 2);
    assert!(again.contains("no conflict"), "{again}");
}

#[test]
fn a_linked_file_unchanged_since_it_was_written_still_gets_every_stored_change() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    let file = write(dir.path(), "app.yaml", GOOD);
    cli.ok(&["config", "link", "shop", "dev", &file]);
    for size in 5..9 {
        cli.ok(&["config", "set", "shop", "dev", "db.pool.size", &size.to_string()]);
        assert!(std::fs::read_to_string(&file).unwrap().contains(&format!("size: {size}")));
    }
    // A rollback is written too, and an edit on disk stored through sync keeps them in step.
    cli.ok(&["config", "rollback", "shop", "dev", "--to", "1"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), GOOD);
    std::fs::write(&file, GOOD.replace("size: 4", "size: 3")).unwrap();
    cli.ok(&["config", "sync"]);
    cli.ok(&["config", "set", "shop", "dev", "db.host", "db2.internal"]);
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.contains("size: 3") && now.contains("db2.internal"), "{now}");
    assert_eq!(links(&cli).0, Some(0));
}

#[test]
fn render_to_a_file_refuses_to_replace_words_opsdeck_did_not_write_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli { dir: dir.path(), env: Vec::new() };
    cli.ok(&["config", "set", "shop", "dev", "db.host", "db.internal"]);
    let out = dir.path().join("rendered.json");
    let out_text = out.to_str().unwrap();
    cli.ok(&["config", "render", "shop", "dev", "--format", "json", "-o", out_text]);
    // Unchanged since OpsDeck wrote it: replaced freely.
    cli.ok(&["config", "set", "shop", "dev", "db.host", "db2.internal"]);
    cli.ok(&["config", "render", "shop", "dev", "--format", "json", "-o", out_text]);
    assert!(std::fs::read_to_string(&out).unwrap().contains("db2.internal"));
    // Edited by a person: refused, the file untouched.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&out, "{\"db\": {\"host\": \"hand-edited\"}}\n").unwrap();
    let refused = cli.fails(&["config", "render", "shop", "dev", "--format", "json", "-o", out_text], 2);
    assert!(refused.contains("changed since OpsDeck wrote it") && refused.contains("--force"), "{refused}");
    assert!(std::fs::read_to_string(&out).unwrap().contains("hand-edited"));
    let json = cli.run(&["--json", "config", "render", "shop", "dev", "--format", "json", "-o", out_text]);
    let document: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(document["error"]["code"], "output_file_changed");
    // A file OpsDeck never wrote is not replaced either.
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, "mine").unwrap();
    let refused = cli.fails(&["config", "render", "shop", "dev", "-o", foreign.to_str().unwrap()], 2);
    assert!(refused.contains("was not written by OpsDeck"), "{refused}");
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "mine");
    // --force replaces it, and from then on it is OpsDeck's again.
    cli.ok(&["config", "render", "shop", "dev", "--format", "json", "-o", out_text, "--force"]);
    assert!(std::fs::read_to_string(&out).unwrap().contains("db2.internal"));
    cli.ok(&["config", "render", "shop", "dev", "--format", "json", "-o", out_text]);
}
