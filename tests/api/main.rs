//! The local HTTP API, black-box: `opsdeck serve --api` on a free port,
//! tokens made with the CLI, and a client in another language (Python's
//! standard library) checking routes, roles, reveals, limits and errors.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

const PASSPHRASE: &str = "api-test-passphrase-3b9e";

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    opsdeck_tests::deck_api::cli_json(dir, PASSPHRASE, args, stdin)
}

fn token(dir: &Path, args: &[&str]) -> String {
    opsdeck_tests::deck_api::api_token(dir, PASSPHRASE, args)
}

#[test]
fn the_http_api_answers_a_client_in_another_language_with_tokens_roles_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    opsdeck_tests::deck_api::vault_with_one_secret(path, PASSPHRASE, "s3cret-db-password");
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

    let mut serve = opsdeck_tests::deck_api::ApiServer::start(path, PASSPHRASE);
    let address = serve.address.clone();
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
    serve.stop();
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
        serve.log()
    );
}
