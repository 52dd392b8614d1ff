//! The local HTTP API, black-box: `opsdeck serve --api` on a free port,
//! tokens made with the CLI, and a client in another language (Python's
//! standard library) checking routes, roles, reveals, limits and errors.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use opsdeck_tests::opsdeck_command;
use serde_json::Value;

const PASSPHRASE: &str = "api-test-passphrase-3b9e";

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let mut command = opsdeck_command();
    command
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env("OPSDECK_PASSPHRASE", PASSPHRASE)
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
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

fn token(dir: &Path, args: &[&str]) -> String {
    ok(dir, &[&["api", "token", "create"], args].concat(), None)["token"].as_str().unwrap().to_owned()
}

#[test]
fn the_http_api_answers_a_client_in_another_language_with_tokens_roles_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    ok(path, &["vault", "init", "prod", "--no-keychain"], None);
    ok(
        path,
        &["secret", "set", "prod/db", "--type", "database_password", "--value-stdin"],
        Some("s3cret-db-password"),
    );
    let tokens = serde_json::json!({
        "viewer": token(path, &["--name", "viewer", "--role", "viewer"]),
        "operator": token(path, &["--name", "operator", "--role", "operator", "--vault", "prod"]),
        "reveal": token(path, &["--name", "reveal", "--role", "operator", "--vault", "prod", "--reveal"]),
        "admin": token(path, &["--name", "admin", "--role", "admin"]),
        "revoked": token(path, &["--name", "revoked", "--role", "viewer"]),
        "expired": token(path, &["--name", "expired", "--role", "viewer", "--expires", "1s"]),
    });
    ok(path, &["api", "token", "revoke", "revoked"], None);
    let listed = ok(path, &["api", "token", "list"], None);
    assert_eq!(listed.as_array().unwrap().len(), 6, "{listed}");
    assert!(!listed.to_string().contains("odk_"), "a token's value was listed: {listed}");

    let port = opsdeck_tests::process::free_port();
    let address = format!("127.0.0.1:{port}");
    let data_dir = path.display().to_string();
    let log = path.join("serve.log");
    let mut serve = opsdeck_tests::process::spawn_logged(
        &opsdeck_tests::binaries::opsdeck_binary().display().to_string(),
        &["--data-dir", &data_dir, "serve", "--otlp-grpc", "off", "--otlp-http", "off", "--api", &address],
        &[("OPSDECK_PASSPHRASE", PASSPHRASE), ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")],
        &log,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&address).is_err() {
        assert!(
            Instant::now() < deadline,
            "the API never listened: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1)); // the `expired` token is now past its second
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/blackbox.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .env("BASE", format!("http://{address}"))
        .env("TOKENS", tokens.to_string())
        .output()
        .unwrap();
    // The document validates as OpenAPI 3.1 (openapi-spec-validator from PyPI).
    let venv_python =
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join(".tools/mcp-venv/bin/python");
    assert!(venv_python.exists(), "openapi-spec-validator is not installed: run `make setup`");
    let validated = std::process::Command::new(venv_python)
        .arg("-c")
        .arg(
            "import json, sys, urllib.request\n\
             from openapi_spec_validator import validate\n\
             document = json.load(urllib.request.urlopen(sys.argv[1]))\n\
             validate(document)\n\
             print(len(document['paths']), 'paths valid')",
        )
        .arg(format!("http://{address}/openapi.json"))
        .output()
        .unwrap();
    opsdeck_tests::process::stop(&mut serve);
    assert!(
        validated.status.success(),
        "the OpenAPI document is invalid: {}",
        String::from_utf8_lossy(&validated.stderr)
    );
    assert!(
        output.status.success(),
        "{}\n{}\nserve log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
